// `npm run bench`, the store's part, on two labs of 10,000 Services:
//  - a host lab: one node holding a 10,000-Service kube-proxy dump, imported with
//    `import-node` (the rules alone, 30,008 nat rules);
//  - a cluster lab: 3 nodes, 10,000 selector-less Services with 50,000 endpoints in their
//    EndpointSlices (the cluster bench's objects), synced by kube-proxy and Felix on every node.
// For each: one change saved, the lab opened (load + rebuild of the dataplane), exported and
// imported; and the database's growth over 1,000 small changes to the host lab. Prints a table
// in run.ts's format; it does not assert. `SERVICES` in the environment makes both smaller.

import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabService } from '../../main/service/lab-service.ts';
import { kubeNatDump } from './gen-kube.ts';
import { clusterObjects } from './gen-cluster.ts';
import { defaultCluster } from '../../shared/cluster.ts';

const SERVICES = Number(process.env.SERVICES ?? 10_000);
const ms = (x: number) => `${x.toFixed(1)} ms`;

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

/** Bytes the database really uses (pages minus free ones), after a checkpoint; and the files' size. */
function dbBytes(svc: LabService, path: string): { used: number; files: number } {
  const db = svc.store.db;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
  let files = 0;
  for (const f of [path, `${path}-wal`]) if (existsSync(f)) files += statSync(f).size;
  return { used: pages * (db.pragma('page_size', { simple: true }) as number), files };
}

const dir = mkdtempSync(join(tmpdir(), 'kpl-bench-store-'));
const db = join(dir, 'labs.db');
try {
  const dump = kubeNatDump(SERVICES);
  let svc = new LabService({ db });
  svc.create('big');
  svc.addLan('big', 'lan');
  svc.addHost('big', 'gw', []);
  svc.addLink('big', 'gw', 'lan', '10.0.0.1/24');
  svc.importNode('big', 'node', { iptables: dump.text });
  svc.addLink('big', 'node', 'lan', '10.0.0.2/24');

  // one change (a rule typed on the node's console), the lab already open as in the app
  let rule = 0;
  const change = () => svc.exec('big', 'node', ['iptables', '-A', 'INPUT', '-s', `192.168.${(rule >> 8) & 255}.${rule++ & 255}`, '-j', 'ACCEPT'], '');
  change();
  const saves: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 30; i++) saves.push(time(change)[1]);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / 30;

  // open: a fresh process's view — new connection, document rebuilt, journal replayed
  const opens: number[] = [];
  for (let i = 0; i < 3; i++) {
    svc.close();
    svc = new LabService({ db });
    const [lab, t] = time(() => svc.load('big'));
    if (!lab.host('node')) throw new Error('bench lab did not load');
    opens.push(t);
  }

  const exports: number[] = [];
  let text = '';
  for (let i = 0; i < 3; i++) {
    const [x, t] = time(() => svc.exportScenario('big'));
    text = x;
    exports.push(t);
  }
  const imports: number[] = [];
  for (let i = 0; i < 3; i++) imports.push(time(() => svc.importScenario(text, { name: `copy${i}` }))[1]);
  for (let i = 0; i < 3; i++) svc.remove(`copy${i}`);
  svc.emptyTrash();

  // The cluster lab: built by one kubectl apply (as `kpl apply` does), then the same measures.
  // Opening and importing it replay that apply: the API writes, the controllers and the first
  // sync of every node.
  const objects = clusterObjects(SERVICES);
  svc.create('cl', { cluster: { ...defaultCluster(), nodes: 3 } });
  const [, clusterApplyMs] = time(() => svc.apply('cl', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.items })));
  let shift = 0;
  const kubeChange = () => svc.apply('cl', JSON.stringify(objects.slice(17 + (shift % 100), SERVICES * 5 + shift++)));
  const nodeChange = () => svc.exec('cl', 'minikube', ['iptables', '-A', 'INPUT', '-s', `192.168.${(rule >> 8) & 255}.${rule++ & 255}`, '-j', 'ACCEPT'], '');
  kubeChange();
  nodeChange();
  const kubeSaves: number[] = [];
  const nodeSaves: number[] = [];
  for (let i = 0; i < 5; i++) {
    kubeSaves.push(time(kubeChange)[1]);
    nodeSaves.push(time(nodeChange)[1]);
  }
  svc.close();
  svc = new LabService({ db });
  // (the opened copy is let go before the next measures, as the app lets go of a lab it
  // closes: two copies of 600,000 rules held at once would slow every collection after it)
  const clusterOpenMs = ((): number => {
    const [lab, ms] = time(() => svc.load('cl'));
    if (!lab.host('minikube-m03')) throw new Error('bench cluster lab did not load');
    return ms;
  })();
  const [clusterText, clusterExportMs] = time(() => svc.exportScenario('cl'));
  const [, clusterImportMs] = time(() => svc.importScenario(clusterText, { name: 'cl-copy' }));
  svc.remove('cl-copy');
  svc.remove('cl');
  svc.emptyTrash();

  // growth: 1,000 small changes to the big lab, measured after a checkpoint
  const before = dbBytes(svc, db);
  const [, growMs] = time(() => {
    for (let i = 0; i < 1000; i++) change();
  });
  const after = dbBytes(svc, db);
  const grown = (after.used - before.used) / 1024 / 1024;
  svc.close();

  const rows: [string, string, string, string][] = [
    [`save one change to a lab with ${SERVICES.toLocaleString('en')} Services (${dump.rules.toLocaleString('en')} nat rules), median of 30`, ms(median(saves)), `CPU ${ms(cpuMs)} per change, max ${ms(Math.max(...saves))}`, '< 20 ms'],
    ['open that lab (new connection, load, rebuild the dataplane), median of 3', ms(median(opens)), '', '< 2 s'],
    [`export it (${(text.length / 1024 / 1024).toFixed(1)} MB .kpl)`, ms(median(exports)), '', '< 2 s'],
    ['import it (parse, schema, checks, replay, store)', ms(median(imports)), '', '< 2 s'],
    ['database growth after 1,000 small changes to it (pages in use)', `${grown.toFixed(2)} MB`, `${ms(growMs / 1000)} per change; file ${(after.files / 1024 / 1024).toFixed(1)} MB`, '< 5 MB'],
    [`a cluster lab of 3 nodes, ${SERVICES.toLocaleString('en')} Services and ${(SERVICES * 5).toLocaleString('en')} endpoints: save one Service's endpoint change (kubectl apply, re-sync, store), median of 5`, ms(median(kubeSaves)), `built by one kubectl apply in ${ms(clusterApplyMs)}`, '< 20 ms'],
    ['  save one iptables command typed on one of its nodes, median of 5', ms(median(nodeSaves)), '', '< 20 ms'],
    ['  open it (new connection, load, replay of the apply: API writes, controllers, first sync of every node)', ms(clusterOpenMs), 'one run', '< 2 s'],
    [`  export it (${(clusterText.length / 1024 / 1024).toFixed(1)} MB .kpl)`, ms(clusterExportMs), 'one run', '< 2 s'],
    ['  import it (parse, schema, checks, replay, store)', ms(clusterImportMs), 'one run', '< 2 s'],
  ];
  const head = ['store measure', 'result', 'note', 'target'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log('');
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
