// calico-node's Felix on one node: renders the node's cali-* chains and ipsets from the
// cluster's objects and programs them the way Felix does — sets first, then the chains
// (declared, so flushed and refilled), its jumps in the kernel chains kept in place (checked
// with `iptables -C` like kube-proxy's), stale cali chains and sets removed afterwards.

import { defaultPool, ipsetUpdate, nodeInfo, podInfo, renderFelix, renderShare, type CalicoCluster, type FelixResult, type NamespaceInfo, type PodInfo, type RenderShare, type SetMembers } from '../kube/calico/index.ts';
import type { KubeStore } from '../kube/objects/store.ts';
import type { Namespace, NetworkPolicy, Node, Pod } from '../kube/objects/types.ts';
import type { Host } from '../host.ts';
import { runProgram } from '../shell/programs.ts';

export interface FelixState {
  key: string;
}

const TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;

// The clusters calicoCluster() made (snapshots of the store nobody changes): every node's render
// of one of them shares the endpoints, policies and selector sets (computed once per sync).
const shares = new WeakMap<CalicoCluster, RenderShare | null>();

/** Renders the node's dataplane. */
export function renderNode(cluster: CalicoCluster, node: string, flavor: 'v3.28' | 'article'): FelixResult {
  let share = shares.get(cluster);
  if (share === null) shares.set(cluster, (share = renderShare(cluster)));
  return renderFelix(cluster, node, { flavor }, share);
}

// The API server replaces an object on every write (new resourceVersion) and never changes it:
// the Calico view of an unchanged pod or namespace is the same (frozen) object sync after sync,
// so the renderer can keep what it derived from it (endpoints, IP set memberships).
const podInfos = new WeakMap<Pod, { rv: string; info: PodInfo }>();
const nsInfos = new WeakMap<Namespace, { rv: string; info: NamespaceInfo }>();

function frozenPod(p: Pod): PodInfo {
  const rv = p.metadata.resourceVersion ?? '';
  const hit = podInfos.get(p);
  if (hit && hit.rv === rv) return hit.info;
  const info = podInfo(p);
  Object.freeze(info.labels);
  for (const x of info.ports ?? []) Object.freeze(x);
  if (info.ports) Object.freeze(info.ports);
  Object.freeze(info);
  podInfos.set(p, { rv, info });
  return info;
}

function frozenNamespace(n: Namespace): NamespaceInfo {
  const rv = n.metadata.resourceVersion ?? '';
  const hit = nsInfos.get(n);
  if (hit && hit.rv === rv) return hit.info;
  const info: NamespaceInfo = Object.freeze({ name: n.metadata.name, labels: Object.freeze({ ...(n.metadata.labels ?? {}) }) });
  nsInfos.set(n, { rv, info });
  return info;
}

/** The cluster as Calico's datastore sees it (one IP pool: the pod CIDR); not to be changed
 *  afterwards (renderNode shares what it computes for one node with the others; its pods and
 *  namespaces are frozen). */
export function calicoCluster(store: KubeStore, opts: { podCIDR: string; ipip: boolean; tunnelIPs: Record<string, string> }): CalicoCluster {
  const c: CalicoCluster = {
    namespaces: (store.view('Namespace') as Namespace[]).map(frozenNamespace),
    pods: (store.view('Pod') as Pod[]).map(frozenPod),
    policies: store.view('NetworkPolicy') as NetworkPolicy[],
    pools: [defaultPool(opts.podCIDR, opts.ipip)],
    nodes: (store.view('Node') as Node[]).map((n) => nodeInfo(n, opts.tunnelIPs[n.metadata.name])),
  };
  shares.set(c, null);
  return c;
}

/** What Felix last programmed on a host, and the host's IP sets with their change count
 *  right after (whoever changes them later, Felix can tell). */
interface Programmed {
  r: FelixResult;
  nf: Host['nf'];
  ipsets: Host['ipsets'];
  setChanges: number;
}

/** Felix's IP sets on the host are as it last left them. */
export function setsAsProgrammed(host: Host): boolean {
  const p = programmed.get(host);
  return p !== undefined && p.ipsets === host.ipsets && p.setChanges === host.ipsets.changes;
}
const programmed = new WeakMap<Host, Programmed>();

/** Runs a command on the node as Felix does; a failure is noted in `errors` (Felix logs it). */
function runNoting(host: Host, now: number, errors: string[], argv: string[], stdin: string): ReturnType<typeof runProgram> {
  const res = runProgram(argv, stdin, { host, now });
  if (res.code !== 0) errors.push(`${argv.join(' ')}: ${res.stderr.trim()}`);
  return res;
}

/**
 * Programs a rendering on the host; returns the errors met (the commands' stderr).
 *
 * Like Felix, which keeps the dataplane it wrote in mind and sends the kernel only the
 * differences: when the rendering differs from the last one, only the chains whose rules
 * changed are rewritten, and the IP sets get the `add`/`del` of the members that changed — hand
 * edits elsewhere stay until its refresh (refreshNode) repairs them. Otherwise — a fresh node,
 * the same rendering again (a restart), or an update the kernel refuses (a set or chain changed
 * by hand) — every cali chain is rewritten and every set flushed and refilled.
 */
export function programNode(host: Host, r: FelixResult, now: number, fresh: boolean): { errors: string[]; rewroteAll: boolean } {
  const errors: string[] = [];
  const run = (argv: string[], stdin = '') => runNoting(host, now, errors, argv, stdin).code;
  const last = programmed.get(host);
  const incremental = !fresh && last !== undefined && last.nf === host.nf && (last.r.restore !== r.restore || last.r.ipsetRestore !== r.ipsetRestore);
  let rewritten: Set<string> | null = null;
  // An update the kernel refuses (a set or chain changed by hand since) is not retried: the
  // whole rendering is written instead, as Felix resyncs after a failed update.
  let failed = false;
  const tryRun = (argv: string[], stdin: string) => {
    if (runProgram(argv, stdin, { host, now }).code !== 0) failed = true;
  };
  if (incremental) {
    // Sets: new ones created and filled, changed members added and deleted (destroys after the rules).
    const u = ipsetUpdate(last.r.ipsets, r.ipsets);
    if (u.before) tryRun(['ipset', 'restore'], u.before);
    // Only the chains whose rules changed (declared: flushed and refilled), table by table.
    const before = last.r.chainText;
    const after = r.chainText;
    rewritten = new Set<string>();
    if (before !== after) for (const [k, v] of after) if (before.get(k) !== v) rewritten.add(k);
    const text = chainsRestore(r, rewritten);
    if (text && !failed) tryRun(['iptables-restore', '--noflush'], text);
  }
  if (!incremental || failed) {
    rewritten = null;
    // Sets: existing ones are flushed and refilled, new ones created.
    const lines: string[] = [];
    for (const line of r.ipsetRestore.split('\n')) {
      const m = /^create (\S+)/.exec(line);
      if (m) lines.push(host.ipsets.exists(m[1]) ? `flush ${m[1]}` : line);
      else if (line) lines.push(line);
    }
    if (lines.length) run(['ipset', 'restore'], lines.join('\n') + '\n');
    // Chains, then Felix's rules in the kernel chains.
    if (fresh) run(['iptables-restore', '--noflush'], r.restore);
    else {
      run(['iptables-restore', '--noflush'], r.chainsText);
      ensureJumps(host, r, now, run);
    }
  }
  // Stale chains (a deleted policy's, a gone pod's), then stale sets.
  removeStaleChains(host, r, run);
  removeStaleSets(host, r, run);
  // Each rule remembers what made it (the rewritten chains only, when incremental).
  setOrigins(host, r, rewritten);
  programmed.set(host, { r, nf: host.nf, ipsets: host.ipsets, setChanges: host.ipsets.changes });
  return { errors, rewroteAll: rewritten === null };
}

type Run = (argv: string[], stdin?: string) => unknown;

/** `iptables-restore --noflush` input declaring (so flushing) and refilling the rendering's
 *  chains `keys` ("table chain"), table by table; '' for none. */
function chainsRestore(r: FelixResult, keys: Iterable<string>): string {
  const byTable = new Map<string, string[]>();
  for (const k of keys) {
    const sp = k.indexOf(' ');
    const t = k.slice(0, sp);
    const list = byTable.get(t);
    if (list) list.push(k.slice(sp + 1));
    else byTable.set(t, [k.slice(sp + 1)]);
  }
  const text: string[] = [];
  for (const t of TABLES) {
    const list = byTable.get(t);
    if (!list) continue;
    text.push(`*${t}`, ...list.map((c) => `:${c} - [0:0]`));
    for (const c of list) {
      const lines = r.chainText.get(`${t} ${c}`);
      if (lines) text.push(lines);
    }
    text.push('COMMIT');
  }
  return text.length ? text.join('\n') + '\n' : '';
}

/** Each rule of the rendering's chains `only` ("table chain"; null: all) remembers what made it. */
function setOrigins(host: Host, r: FelixResult, only: ReadonlySet<string> | null): void {
  for (const t of TABLES) {
    for (const [chain, origins] of r.origins[t] ?? []) {
      if (only && !only.has(`${t} ${chain}`)) continue;
      const c = host.nf.chain(t, chain);
      if (!c) continue;
      for (let i = 0; i < origins.length && i < c.rules.length; i++) c.rules[i].origin = origins[i];
    }
  }
}

/** Felix's rules in the kernel chains, checked with `iptables -C` and put back where missing. */
function ensureJumps(host: Host, r: FelixResult, now: number, run: Run): void {
  for (const b of r.builtin) {
    const spec = splitSpec(b.spec);
    if (runProgram(['iptables', '-t', b.table, '-C', b.chain, ...spec], '', { host, now }).code === 0) continue;
    run(b.op === '-I' ? ['iptables', '-t', b.table, '-I', b.chain, '1', ...spec] : ['iptables', '-t', b.table, '-A', b.chain, ...spec]);
  }
}

/** cali chains the rendering does not have (every chain it has, empty or not, is declared in
 *  its origins): flushed, then deleted. */
function removeStaleChains(host: Host, r: FelixResult, run: Run): void {
  for (const t of TABLES) {
    for (const c of [...(host.nf.table(t)?.chains.keys() ?? [])]) if (c.startsWith('cali-') && !declared(r, t, c)) run(['iptables', '-t', t, '-F', c]);
    for (const c of [...(host.nf.table(t)?.chains.keys() ?? [])]) if (c.startsWith('cali-') && !declared(r, t, c)) run(['iptables', '-t', t, '-X', c]);
  }
}

function removeStaleSets(host: Host, r: FelixResult, run: Run): void {
  const want = new Set(r.ipsets.map((x) => x.name));
  for (const s of host.ipsets.names()) if (s.startsWith('cali40') && !want.has(s)) run(['ipset', 'destroy', s]);
}

function declared(r: FelixResult, table: string, chain: string): boolean {
  return r.origins[table as (typeof TABLES)[number]]?.has(chain) ?? false;
}

/** A rule spec as iptables-save prints it, back into words (double quotes group). */
function splitSpec(spec: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(spec))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

/** What a periodic refresh of Felix's re-checks: its chains (every 90 s) or its IP sets (10 s). */
export interface FelixRefresh {
  chains: boolean;
  sets: boolean;
}

/**
 * Felix's periodic refresh on a node whose objects did not change: it reads the dataplane back
 * and repairs what differs from what it programmed. A chain is told apart by the `cali:` hash
 * comments of its rules, in order (a rule without one counts as a different rule): a chain
 * whose hashes differ is written again, the others keep their rules and counters; its rules in
 * the kernel chains are checked with `iptables -C`. A set gets the members it lacks and loses
 * the ones it should not have; a missing one is made again. Stale cali chains and sets go.
 */
export function refreshNode(host: Host, r: FelixResult, now: number, what: FelixRefresh): string[] {
  const errors: string[] = [];
  const run = (argv: string[], stdin = '') => runNoting(host, now, errors, argv, stdin);
  if (what.sets) {
    // The sets as `ipset save` shows them (those of the rendering: stale ones go below).
    const wanted = new Set(r.ipsets.map((x) => x.name));
    const have: { name: string; type: SetMembers['type']; members: { entry: string }[] }[] = [];
    for (const line of run(['ipset', 'save']).stdout.split('\n')) {
      const [op, name, arg] = line.split(' ');
      if (op === 'create' && wanted.has(name)) have.push({ name, type: arg as SetMembers['type'], members: [] });
      else if (op === 'add' && have.at(-1)?.name === name) have.at(-1)!.members.push({ entry: arg });
    }
    const u = ipsetUpdate(have, r.ipsets);
    if (u.before) run(['ipset', 'restore'], u.before);
  }
  if (what.chains) {
    // Felix's hashes of each chain's rules, in order, against those the dataplane's carry.
    const expected = new Map<string, string[]>();
    for (const x of r.rules) {
      const key = `${x.table} ${x.chain}`;
      const list = expected.get(key);
      if (list) list.push('cali:' + x.hash);
      else expected.set(key, ['cali:' + x.hash]);
    }
    const rewritten = new Set<string>();
    for (const key of r.chainText.keys()) {
      const sp = key.indexOf(' ');
      const c = host.nf.chain(key.slice(0, sp) as (typeof TABLES)[number], key.slice(sp + 1));
      if (!c || !sameHashes(c.rules.map(ruleHash), expected.get(key) ?? [])) rewritten.add(key);
    }
    const text = chainsRestore(r, rewritten);
    if (text) run(['iptables-restore', '--noflush'], text);
    ensureJumps(host, r, now, run);
    setOrigins(host, r, rewritten);
    removeStaleChains(host, r, run);
  }
  if (what.sets) removeStaleSets(host, r, run);
  // What Felix now holds is what it programmed (a later change is an update again).
  programmed.set(host, { r, nf: host.nf, ipsets: host.ipsets, setChanges: host.ipsets.changes });
  return errors;
}

/** The `cali:` hash a rule carries in its comment ('' without one). */
function ruleHash(rule: { matches: readonly { module: string; data: unknown }[] }): string {
  for (const m of rule.matches) {
    if (m.module !== 'comment') continue;
    const text = (m.data as { text: string }).text;
    if (text.startsWith('cali:')) return text;
  }
  return '';
}

function sameHashes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}
