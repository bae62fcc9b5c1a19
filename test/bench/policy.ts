// The NetworkPolicy speed table (issue 4): 500 pods in 20 namespaces on 4 nodes with 200
// NetworkPolicies, generated from a seed (the same objects every run), enforced by Felix's rules
// on every node. Measured: the re-sync after one pod's label change (Felix re-renders and
// reprograms every node), and the 500×500 connectivity matrix at TCP 80 (every cell a traced
// connection) — whole, and a 25×25 part of it alone. Run by `npm run bench`, alone with
// `npm run bench -- policy`.

import os from 'node:os';
import { defaultCluster } from '../../shared/cluster.ts';
import { emptyLab } from '../../shared/lab.ts';
import { Lab } from '../../main/engine/lab.ts';
import { Rng } from '../../main/engine/random.ts';
import { connectivityMatrix, matrixJson } from '../../main/engine/cluster/matrix.ts';
import { matrixThreads, threadedMatrix } from '../../main/service/matrix-threads.ts';
import { decodeObject } from '../../main/engine/kube/objects/decode.ts';

const NAMESPACES = 20;
const PODS = 500;
const POLICIES = 200;
const NODES = 4;
const SEED = 4242;

const APPS = ['web', 'api', 'db', 'cache', 'worker'];
const TIERS = ['front', 'back', 'data'];
const ENVS = ['prod', 'staging', 'dev'];
const nodeName = (i: number) => (i === 0 ? 'minikube' : `minikube-m0${i + 1}`);

/** Namespaces, pods (round-robin over the nodes and namespaces) and policies of every shape:
 *  podSelector {} / labels / matchExpressions, peers by pod, namespace, both, ipBlock with
 *  except, ports by number, name and range, Ingress, Egress or both, some deny-all. */
function scene(seed: number): { objects: object[]; pod: (i: number, extra?: Record<string, string>) => Record<string, unknown> } {
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const objects: object[] = [];
  for (let n = 0; n < NAMESPACES; n++) objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { team: `t${n % 5}`, env: ENVS[n % 3] } } });
  const podLabels: Record<string, string>[] = [];
  for (let i = 0; i < PODS; i++) podLabels.push({ app: APPS[i % APPS.length], tier: pick(TIERS), ...(rng.next() < 0.3 ? { canary: 'true' } : {}) });
  const pod = (i: number, extra: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: `ns${i % NAMESPACES}`, labels: { ...podLabels[i], ...extra } },
    spec: {
      nodeName: nodeName(i % NODES),
      containers: [{ name: 'c', image: 'agnhost', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 8080, name: 'metrics' }, { containerPort: 53, name: 'dns', protocol: 'UDP' }] }],
    },
  });
  for (let i = 0; i < PODS; i++) objects.push(pod(i));
  const sel = () => (rng.next() < 0.2 ? {} : rng.next() < 0.7 ? { matchLabels: { app: pick(APPS) } } : { matchExpressions: [{ key: 'tier', operator: pick(['In', 'NotIn']), values: [pick(TIERS)] }] });
  const peer = () => {
    const r = rng.next();
    if (r < 0.35) return { podSelector: sel() };
    if (r < 0.6) return { namespaceSelector: { matchLabels: { team: `t${Math.floor(rng.next() * 5)}` } } };
    if (r < 0.85) return { namespaceSelector: { matchLabels: { env: pick(ENVS) } }, podSelector: sel() };
    return { ipBlock: { cidr: '10.244.0.0/16', except: [`10.244.${Math.floor(rng.next() * 4)}.0/24`] } };
  };
  const ports = () => {
    const r = rng.next();
    if (r < 0.4) return undefined;
    if (r < 0.7) return [{ port: 80 }];
    if (r < 0.85) return [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }];
    return [{ port: 8000, endPort: 8100 }];
  };
  const rules = (dir: 'from' | 'to') =>
    Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => {
      const r: Record<string, unknown> = { [dir]: Array.from({ length: 1 + Math.floor(rng.next() * 2) }, peer) };
      const p = ports();
      if (p) r.ports = p;
      return r;
    });
  for (let k = 0; k < POLICIES; k++) {
    const r = rng.next();
    const types = r < 0.6 ? ['Ingress'] : r < 0.85 ? ['Ingress', 'Egress'] : ['Egress'];
    const spec: Record<string, unknown> = { podSelector: sel(), policyTypes: types };
    if (types.includes('Ingress')) spec.ingress = rng.next() < 0.05 ? [] : rules('from');
    if (types.includes('Egress')) spec.egress = rng.next() < 0.05 ? [] : rules('to');
    objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `pol${k}`, namespace: `ns${k % NAMESPACES}` }, spec });
  }
  return { objects, pod };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

const fmt = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(0)} s` : x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(1)} ms`);

const load = os.loadavg()[0];
gc();
const heap0 = process.memoryUsage().heapUsed;
const doc = emptyLab('bench-policy');
doc.cluster = { ...defaultCluster(), proxy: 'current', nodes: NODES };
const lab = Lab.fromDoc(doc);
const cluster = lab.cluster!;
const { objects, pod } = scene(SEED);
let t0 = performance.now();
const applied = lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
const applyMs = performance.now() - t0;
if (applied.code !== 0) throw new Error(applied.stderr.slice(0, 500));
const running = cluster.store.view('Pod').filter((p) => p.status?.podIP && p.metadata.namespace?.startsWith('ns')).length;
if (running !== PODS) throw new Error(`${running} of ${PODS} pods have an address`);
const node0 = lab.host('minikube')!;
let filterRules = 0;
for (const c of node0.nf.table('filter')!.chains.values()) filterRules += c.rules.length;
const ipsets = node0.ipsets.names().filter((n) => n.startsWith('cali40')).length;

// One pod's label change: written to the API (controllers run), then the agents' re-sync timed
// alone — kube-proxy finds nothing to do, Felix re-renders and reprograms the 4 nodes.
const relabeled = (k: number) => {
  const i = (37 * k + 11) % PODS;
  return pod(i, { app: APPS[(i + 1 + (k % 4)) % APPS.length], canary: k % 2 ? 'true' : 'false' }); // another app than its own
};
const syncs: number[] = [];
const syncCpu: number[] = [];
for (let k = 0; k < 24; k++) {
  const d = decodeObject(relabeled(k), cluster.store.minor, 'bench');
  if (!d.ok) throw new Error(d.message);
  cluster.store.apply(d.obj);
  const ipset = node0.ipsets;
  t0 = performance.now();
  const c0 = process.cpuUsage();
  cluster.flush();
  const c1 = process.cpuUsage(c0);
  if (k >= 3) {
    // after 3 warm-up changes
    syncs.push(performance.now() - t0);
    syncCpu.push((c1.user + c1.system) / 1000);
  }
  if (node0.ipsets !== ipset) throw new Error('bench: the ipsets were replaced');
}
// The same change end to end: kubectl apply (API write, controllers) and the re-sync.
const applies: number[] = [];
for (let k = 24; k < 33; k++) {
  t0 = performance.now();
  const r = lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], JSON.stringify(relabeled(k)));
  applies.push(performance.now() - t0);
  if (r.code !== 0) throw new Error(r.stderr);
}

// The matrix: one namespace's 25 pods (ns3, all on minikube-m04, where policies allow some
// cells and block others) through connectivityMatrix, each cell a traced connection; then the
// whole 500×500 matrix, as `kpl matrix` makes it (rows shared out among worker threads) and on
// this thread alone.
// The lab as saved: the label changes above were written to the API store directly, outside
// the journal, and the matrix's workers build their copies of the lab from its document. (The
// heap of the lab is taken first.)
gc();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;
const saved = Lab.fromDoc(lab.toDoc());
const PART = 'ns3';
const part = connectivityMatrix(saved, { port: 80, proto: 'tcp', namespaces: [PART] });
t0 = performance.now();
const m = connectivityMatrix(saved, { port: 80, proto: 'tcp', namespaces: [PART] });
const partMs = performance.now() - t0;
const n = m.pods.length;
if (n !== PODS / NAMESPACES || part.pods.length !== n) throw new Error(`bench: ${n} pods in ${PART}`);
let allowed = 0;
for (const f of m.pods) for (const t of m.pods) if (m.cells[f][t].allowed) allowed++;
const perCellMs = partMs / (n * n);
// The whole matrix, as `kpl matrix` makes it: the workers build their copies of the lab from
// its document inside the time measured.
const threads = matrixThreads(PODS * PODS);
t0 = performance.now();
const full = threadedMatrix(saved, { port: 80, proto: 'tcp' });
const fullMs = performance.now() - t0;
if (full.pods.length !== PODS) throw new Error(`bench: the full matrix has ${full.pods.length} pods`);
// The same on this thread alone (the part's time per cell is that of code the JIT has seen
// only 625 cells of); the two must agree cell by cell.
t0 = performance.now();
const single = connectivityMatrix(saved, { port: 80, proto: 'tcp' });
const singleMs = performance.now() - t0;
if (JSON.stringify(matrixJson(single)) !== JSON.stringify(matrixJson(full))) throw new Error('bench: the threaded matrix differs from the single-threaded one');
let fullAllowed = 0;
for (const f of full.pods) for (const t of full.pods) if (full.cells[f][t].allowed) fullAllowed++;
// For reference: the same connections as recorded traces (steps, events, counters, the client's
// ACK, a report) inside one snapshot of the lab (restored at the end). A matrix cell walks
// without recording and undoes its conntrack changes from the journal.
const restore = saved.snapshot();
const pods = saved.cluster!.store.view('Pod').filter((p) => p.metadata.namespace === PART);
t0 = performance.now();
for (const f of pods) for (const t of pods) saved.trace({ from: `${f.metadata.namespace}/${f.metadata.name}`, to: `${t.status!.podIP}:80`, proto: 'tcp', sport: 40000, keep: true });
const walkMs = performance.now() - t0;
restore();

const rows: [string, string, string][] = [
  [`kubectl apply of ${NAMESPACES} namespaces, ${PODS} pods, ${POLICIES} policies on ${NODES} nodes (first sync: ${filterRules.toLocaleString('en')} filter rules, ${ipsets} cali ipsets on minikube)`, fmt(applyMs), ''],
  [`one pod label change: the agents' re-sync (Felix re-renders and reprograms ${NODES} nodes), median of 21 after 3 warm-up`, `${fmt(median(syncs))} (CPU ${fmt(median(syncCpu))})`, '< 50 ms'],
  ['the same change end to end: kubectl apply (API write, controllers) + re-sync, median of 9', fmt(median(applies)), ''],
  [`${PODS}×${PODS} matrix at TCP 80, every cell (${fullAllowed.toLocaleString('en')} of ${(PODS * PODS).toLocaleString('en')} allowed), as kpl matrix makes it: this thread and ${threads} worker thread${threads === 1 ? '' : 's'} (${os.availableParallelism()} cores), each worker's copy of the lab built inside the time`, fmt(fullMs), '< 10 s'],
  [`  the same on one thread: ${((singleMs / (PODS * PODS)) * 1000).toFixed(0)} µs per cell`, fmt(singleMs), ''],
  [`  a ${n}×${n} part of it alone, after one warm-up (${PART}, ${allowed} of ${n * n} allowed): ${(perCellMs * 1000).toFixed(0)} µs per cell`, fmt(partMs), ''],
  [`  the same cells as recorded traces (lab.trace, kept inside one snapshot): ${((walkMs / (n * n)) * 1000).toFixed(0)} µs per cell`, fmt((walkMs / (n * n)) * PODS * PODS), '(reference)'],
  ['memory of the whole lab (heap)', `${heapMb.toFixed(0)} MB`, '< 1 GB'],
];
rows.push([`(load average when the table started: ${load.toFixed(1)} on ${os.cpus().length} CPUs)`, '', '']);
const w = [0, 1, 2].map((i) => Math.max(...[['policy measure', 'engine', 'target'], ...rows].map((r) => r[i].length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
console.log('');
console.log(line(['policy measure', 'engine', 'target']));
console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
