// The Kubernetes layer's speed table (issue 3): a cluster of 3 nodes with 10,000 Services and
// 50,000 endpoints (selector-less Services with their EndpointSlices, as the kube-proxy scale
// tests use), synced by kube-proxy and Felix on every node. Run by `npm run bench`, or alone
// with `node --expose-gc --import tsx test/bench/cluster.ts [SERVICES]`.

import { defaultCluster } from '../../shared/cluster.ts';
import { emptyLab } from '../../shared/lab.ts';
import { Lab } from '../../main/engine/lab.ts';
import { clusterObjects } from './gen-cluster.ts';

const SERVICES = Number(process.argv[2] ?? 10_000);
const PER = 5;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

const objects = clusterObjects(SERVICES);

const ms = (x: number) => `${x.toFixed(0)} ms`;
gc();
const heap0 = process.memoryUsage().heapUsed;
const doc = emptyLab('bench');
doc.cluster = { ...defaultCluster(), nodes: 3 };
const lab = Lab.fromDoc(doc);
// A client pod on minikube-m03, a server pod on minikube behind its Service.
lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: minikube-m03, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: server, labels: {app: server}}
spec: {nodeName: minikube, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: server}
spec: {selector: {app: server}, ports: [{port: 80}]}
`);

const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.items });
let t0 = performance.now();
const applied = lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], list);
const applyMs = performance.now() - t0;
if (applied.code !== 0) throw new Error(applied.stderr.slice(0, 500));
t0 = performance.now();
lab.cluster!.resync();
const fullSyncMs = performance.now() - t0;
// The same after a console command changed one of kube-proxy's chains on every node: it cannot
// trust what the nodes hold, and writes every chain again.
for (const node of ['minikube', 'minikube-m02', 'minikube-m03']) {
  const r = lab.exec(node, ['iptables', '-t', 'nat', '-I', 'KUBE-SERVICES', '1', '-s', '192.0.2.1', '-j', 'RETURN'], '');
  if (r.code !== 0) throw new Error(r.stderr);
}
t0 = performance.now();
lab.cluster!.resync();
const writtenSyncMs = performance.now() - t0;
const natRules = lab.host('minikube')!.nf.table('nat')!.chains;
let rules = 0;
for (const c of natRules.values()) rules += c.rules.length;

// One Service's endpoints change: apply its slice with one endpoint replaced.
const changes: number[] = [];
for (let k = 0; k < 5; k++) {
  const changed = JSON.stringify(objects.slice(17 + k, SERVICES * PER + k));
  t0 = performance.now();
  const r = lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], changed);
  changes.push(performance.now() - t0);
  if (r.code !== 0) throw new Error(r.stderr);
}

// A recorded request from the client pod to the server's Service on another node, with the reply:
// the first 300 (the JIT still compiling the walk), then 300 more after 2,000 others.
const traceOnce = (i: number): number => {
  t0 = performance.now();
  const t = lab.trace({ from: 'pod/default/client', to: 'server:80', proto: 'tcp', sport: 20000 + (i % 20000) });
  const us = (performance.now() - t0) * 1000;
  if (t.json.outcome !== 'delivered' || t.json.reply?.outcome !== 'delivered') throw new Error(`bench trace: ${t.json.reason}`);
  return us;
};
const walks: number[] = [];
for (let i = 0; i < 300; i++) walks.push(traceOnce(i));
for (let i = 300; i < 2300; i++) traceOnce(i);
const warmWalks: number[] = [];
for (let i = 2300; i < 2600; i++) warmWalks.push(traceOnce(i));
// The endpoint change again, each after a request was counted: the legacy proxier's sync
// writes every chain, so every rule's counter is looked at to set it back to zero.
const countedChanges: number[] = [];
for (let k = 0; k < 5; k++) {
  lab.trace({ from: 'pod/default/client', to: 'server:80', proto: 'tcp', sport: 30000 + k });
  const changed = JSON.stringify(objects.slice(40 + k, SERVICES * PER + 100 + k));
  t0 = performance.now();
  const r = lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], changed);
  countedChanges.push(performance.now() - t0);
  if (r.code !== 0) throw new Error(r.stderr);
}
gc();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;

const rows: [string, string, string][] = [
  [`kubectl apply of ${SERVICES.toLocaleString('en')} Services + ${(SERVICES * PER).toLocaleString('en')} endpoints (API writes, controllers, first sync of 3 nodes)`, ms(applyMs), ''],
  [`full resync of all 3 nodes (kube-proxy + Felix; ${rules.toLocaleString('en')} nat rules per node), the nodes untouched since the agents wrote them (the partial sync, then every other chain's counters set back to zero)`, ms(fullSyncMs), '< 1.5 s'],
  [`  the same after a console command on every node (every chain written again: ${rules.toLocaleString('en')} nat rules restored on each node)`, ms(writtenSyncMs), ''],
  ['one Service\'s endpoint change, applied and re-synced on 3 nodes (median of 5)', ms(median(changes)), '< 20 ms'],
  ['  the same, each after a request was counted (every counter of the chains the sync writes set back to zero; median of 5)', ms(median(countedChanges)), ''],
  // The target is a median: of requests once the JIT has compiled the walk, as the core table
  // measures its loads and walks after warm-up; the JIT-cold ones are shown beside it.
  ['recorded request pod → Service on another node, with the reply: median of 300 after 2,300 (the walk compiled by the JIT)', `${median(warmWalks).toFixed(0)} µs`, '< 200 µs'],
  ['  the same while the JIT still compiles the walk: median of the first 300 but 50', `${median(walks.slice(50)).toFixed(0)} µs`, '(reference)'],
  ['memory of the whole lab (heap)', `${heapMb.toFixed(0)} MB`, '< 1 GB'],
];
const w = [0, 1, 2].map((i) => Math.max(...[['cluster measure', 'engine', 'target'], ...rows].map((r) => r[i].length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
console.log('');
console.log(line(['cluster measure', 'engine', 'target']));
console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
