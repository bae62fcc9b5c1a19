// Browser mode's entry (bundled to dist/web/server.mjs): opens the store, serves the app on
// 127.0.0.1 and prints the URL with the run's token. `--port N` (default: a free one),
// `--db PATH` (default KPL_DB, then the per-user database).

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appDbPath, openLabApi } from '../service/lab-api.ts';
import { startWebServer } from './server.ts';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

export async function runBrowserMode(argv: string[], rendererDir: string): Promise<void> {
  const portText = option(argv, '--port');
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0-65535, got ${portText}`);
  const db = appDbPath(option(argv, '--db'));
  process.chdir(dirname(db));
  const api = openLabApi({ db, onNotice: (m) => console.error(`Kube Packet Lab: ${m}`) });
  const server = await startWebServer({ api, rendererDir, port });
  console.log(`Kube Packet Lab (browser mode): ${server.url}`);
  const stop = (): void => {
    void server.close().then(() => {
      api.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  runBrowserMode(process.argv.slice(2), join(dirname(self), '..', 'renderer')).catch((e: unknown) => {
    console.error(`Kube Packet Lab: ${(e as Error).message}`);
    process.exit(1);
  });
}
