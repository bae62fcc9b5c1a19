// The service's process (an Electron utilityProcess): opens the store and runs every API call
// off the main thread, so SQLite and long engine steps never freeze a window. Messages:
//   in  { id, method, params }          out { id, result } | { id, error }
//   out { event, data }                 (lab changes, for every window)

import { dirname } from 'node:path';
import { appDbPath, openLabApi, type ApiDispatcher } from '../service/lab-api.ts';

interface ParentPort {
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!port) throw new Error('worker.cjs runs inside an Electron utilityProcess');

let api: ApiDispatcher;
try {
  const db = appDbPath(process.env.KPL_DB);
  process.chdir(dirname(db));
  api = openLabApi({ db, onNotice: (m) => console.error(`Kube Packet Lab: ${m}`) });
} catch (e) {
  port.postMessage({ fatal: (e as Error).message });
  throw e;
}
api.subscribe((event, data) => port.postMessage({ event, data }));
port.on('message', (e) => {
  const m = e.data as { id?: unknown; method?: unknown; params?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.id !== 'number') return;
  void api.call(String(m.method), m.params).then((r) => port.postMessage({ id: m.id, ...r }));
});
// Open the store now (the service opens it lazily), so a broken native module or a foreign
// database file is reported at start, and `npm start` can fall back saying why.
void api.call('listLabs', []).then((r) => {
  if ('error' in r) {
    port.postMessage({ fatal: r.error.message });
    process.exit(1);
  }
  port.postMessage({ ready: true });
});
