// What changed between two revisions of a lab: the objects added, changed and removed (LANs,
// hosts, veths, journal commands, settings), and per host the rules that changed, as a unified
// diff of `iptables-save` run on each revision's rebuilt lab.

import type { JournalEntry, LabDoc } from '../../shared/lab.ts';
import { Lab } from '../engine/lab.ts';

export interface ObjectChange {
  change: 'added' | 'changed' | 'removed';
  /** 'lan', 'host', 'veth', 'command', 'setting', or a Kubernetes kind ('Service', 'Deployment', …). */
  kind: string;
  /** For Kubernetes objects NAMESPACE/NAME (NAME for cluster-wide kinds). */
  name: string;
}

export interface HostRulesDiff {
  host: string;
  /** Unified diff of `iptables-save` (comment lines left out), `---` the older revision. */
  diff: string;
}

export interface LabDiff {
  from: number;
  to: number;
  objects: ObjectChange[];
  hosts: HostRulesDiff[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function keyed<T>(items: T[] | undefined, key: (t: T) => string, kind: ObjectChange['kind'], a: T[] | undefined, out: ObjectChange[]): void {
  const before = new Map((a ?? []).map((t) => [key(t), t]));
  const after = new Map((items ?? []).map((t) => [key(t), t]));
  for (const [k, t] of after) {
    const o = before.get(k);
    if (o === undefined) out.push({ change: 'added', kind, name: k });
    else if (!same(o, t)) out.push({ change: 'changed', kind, name: k });
  }
  for (const k of before.keys()) if (!after.has(k)) out.push({ change: 'removed', kind, name: k });
}

export function commandText(e: JournalEntry): string {
  const input = e.stdin === undefined ? '' : ` < (${e.stdin.split('\n').filter(Boolean).length} lines of input)`;
  return `${e.host}: ${e.argv.map(shellQuote).join(' ')}${input}`;
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Objects added, changed and removed from `a` to `b`. */
export function objectChanges(a: LabDoc, b: LabDoc): ObjectChange[] {
  const out: ObjectChange[] = [];
  keyed(b.lans, (l) => l.name, 'lan', a.lans, out);
  keyed(b.hosts, (h) => h.name, 'host', a.hosts, out);
  keyed(b.veths, (v) => `${v.a.host}:${v.a.dev}-${v.b.host}:${v.b.dev}`, 'veth', a.veths, out);
  // The journal is append-mostly: what lies between the common start and the common end.
  const ja = a.journal, jb = b.journal;
  let pre = 0;
  while (pre < ja.length && pre < jb.length && same(ja[pre], jb[pre])) pre++;
  let suf = 0;
  while (suf < ja.length - pre && suf < jb.length - pre && same(ja[ja.length - 1 - suf], jb[jb.length - 1 - suf])) suf++;
  for (let i = pre; i < ja.length - suf; i++) out.push({ change: 'removed', kind: 'command', name: commandText(ja[i]) });
  for (let i = pre; i < jb.length - suf; i++) out.push({ change: 'added', kind: 'command', name: commandText(jb[i]) });
  const ra = a as unknown as Record<string, unknown>, rb = b as unknown as Record<string, unknown>;
  for (const k of ['seed', 'runtime', 'cluster', 'notes', 'walkthrough', 'exercises']) {
    if (ra[k] === undefined && rb[k] !== undefined) out.push({ change: 'added', kind: 'setting', name: k });
    else if (ra[k] !== undefined && rb[k] === undefined) out.push({ change: 'removed', kind: 'setting', name: k });
    else if (!same(ra[k], rb[k])) out.push({ change: 'changed', kind: 'setting', name: k });
  }
  return out;
}

/** Kubernetes kinds compared by a diff (the derived Endpoints and EndpointSlices are left out). */
const KUBE_KINDS = ['Namespace', 'Node', 'Deployment', 'ReplicaSet', 'Pod', 'Service', 'NetworkPolicy'] as const;

interface Rebuilt {
  /** Each host's `iptables-save` (without its comment lines), host by host. */
  rules: Map<string, string[]>;
  /** Kubernetes objects by "Kind NS/NAME": what the user declared (metadata labels, annotations, spec). */
  kube: Map<string, string>;
}

function rebuild(doc: LabDoc): Rebuilt {
  const lab = Lab.fromDoc(doc);
  const rules = new Map<string, string[]>();
  for (const name of [...lab.hosts.keys()].sort()) {
    const r = lab.exec(name, ['iptables-save'], '');
    rules.set(name, r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')));
  }
  const kube = new Map<string, string>();
  const store = lab.cluster?.store;
  if (store) {
    for (const kind of KUBE_KINDS) {
      for (const o of store.list(kind)) {
        const m = o.metadata as { name: string; namespace?: string; labels?: unknown; annotations?: Record<string, string> };
        const ann = { ...(m.annotations ?? {}) };
        delete ann['kubectl.kubernetes.io/last-applied-configuration'];
        const spec = (o as unknown as { spec?: unknown }).spec;
        kube.set(`${kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`, JSON.stringify({ labels: m.labels ?? {}, annotations: ann, spec: spec ?? null }));
      }
    }
  }
  return { rules, kube };
}

/** Each host's `iptables-save` (without its comment lines), host by host. */
export function rulesOf(doc: LabDoc): Map<string, string[]> {
  return rebuild(doc).rules;
}

function kubeChanges(a: Map<string, string>, b: Map<string, string>): ObjectChange[] {
  const out: ObjectChange[] = [];
  const split = (k: string) => ({ kind: k.slice(0, k.indexOf(' ')), name: k.slice(k.indexOf(' ') + 1) });
  for (const [k, v] of b) {
    const o = a.get(k);
    if (o === undefined) out.push({ change: 'added', ...split(k) });
    else if (o !== v) out.push({ change: 'changed', ...split(k) });
  }
  for (const k of a.keys()) if (!b.has(k)) out.push({ change: 'removed', ...split(k) });
  return out;
}

export function labDiff(from: number, a: LabDoc, to: number, b: LabDoc): LabDiff {
  const xa = rebuild(a), xb = rebuild(b);
  const ra = xa.rules, rb = xb.rules;
  const hosts: HostRulesDiff[] = [];
  for (const host of [...new Set([...ra.keys(), ...rb.keys()])].sort()) {
    const x = ra.get(host) ?? [], y = rb.get(host) ?? [];
    if (x.length === y.length && x.every((l, i) => l === y[i])) continue;
    hosts.push({ host, diff: unifiedDiff(x, y, `${host} (revision ${from})`, `${host} (revision ${to})`) });
  }
  return { from, to, objects: [...objectChanges(a, b), ...kubeChanges(xa.kube, xb.kube)], hosts };
}

type Op = ['=' | '-' | '+', string];

/** Line operations turning a into b: Myers' O(ND) on what lies between the common ends. */
function lineOps(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf), B = b.slice(pre, b.length - suf);
  const mid = myers(A, B);
  return [...a.slice(0, pre).map((l): Op => ['=', l]), ...mid, ...a.slice(a.length - suf).map((l): Op => ['=', l])];
}

const MAX_D = 4000;

function myers(a: string[], b: string[]): Op[] {
  const n = a.length, m = b.length;
  if (n === 0 || m === 0 || n + m > 200_000) return [...a.map((l): Op => ['-', l]), ...b.map((l): Op => ['+', l])];
  const max = Math.min(n + m, MAX_D);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, off, d);
    }
  }
  return [...a.map((l): Op => ['-', l]), ...b.map((l): Op => ['+', l])]; // too different: replace all
}

function backtrack(trace: Int32Array[], a: string[], b: string[], off: number, dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = a.length, y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? k + 1 : k - 1;
    const px = v[off + prevK], py = px - prevK;
    while (x > px && y > py) {
      ops.push(['=', a[--x]]);
      y--;
    }
    if (x === px) ops.push(['+', b[--y]]);
    else ops.push(['-', a[--x]]);
  }
  while (x > 0 && y > 0) {
    ops.push(['=', a[--x]]);
    y--;
  }
  return ops.reverse();
}

/** A unified diff (3 lines of context) as `diff -u` prints it. */
export function unifiedDiff(a: string[], b: string[], nameA: string, nameB: string, context = 3): string {
  const ops = lineOps(a, b);
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  let i = 0;
  // Positions (1-based) in a and b of each op.
  const posA: number[] = [], posB: number[] = [];
  let pa = 1, pb = 1;
  for (const [t] of ops) {
    posA.push(pa);
    posB.push(pb);
    if (t !== '+') pa++;
    if (t !== '-') pb++;
  }
  while (i < ops.length) {
    if (ops[i][0] === '=') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are closer than 2*context apart.
    for (;;) {
      while (end < ops.length && ops[end][0] !== '=') end++;
      let next = end;
      while (next < ops.length && ops[next][0] === '=') next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const la = hunk.filter(([t]) => t !== '+').length, lb = hunk.filter(([t]) => t !== '-').length;
    const sa = la === 0 ? posA[start] - 1 : posA[start], sb = lb === 0 ? posB[start] - 1 : posB[start];
    out.push(`@@ -${sa}${la === 1 ? '' : `,${la}`} +${sb}${lb === 1 ? '' : `,${lb}`} @@`);
    for (const [t, l] of hunk) out.push(`${t === '=' ? ' ' : t}${l}`);
    i = stop;
  }
  return out.join('\n') + '\n';
}
