// calico-node's Felix on one node: renders the node's cali-* chains and ipsets from the
// cluster's objects and programs them the way Felix does — sets first, then the chains
// (declared, so flushed and refilled), its jumps in the kernel chains kept in place (checked
// with `iptables -C` like kube-proxy's), stale cali chains and sets removed afterwards.

import { defaultPool, fromKube, renderFelix, type CalicoCluster, type FelixResult } from '../kube/calico/index.ts';
import type { KubeStore } from '../kube/objects/store.ts';
import type { Namespace, NetworkPolicy, Node, Pod } from '../kube/objects/types.ts';
import type { Host } from '../host.ts';
import { runProgram } from '../shell/programs.ts';

export interface FelixState {
  key: string;
}

const TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;

/** Renders the node's dataplane; `tunnelIPs` by node name. */
export function renderNode(cluster: CalicoCluster, node: string, flavor: 'v3.28' | 'article'): FelixResult {
  return renderFelix(cluster, node, { flavor });
}

/** The cluster as Calico's datastore sees it (one IP pool: the pod CIDR). */
export function calicoCluster(store: KubeStore, opts: { podCIDR: string; ipip: boolean; tunnelIPs: Record<string, string> }): CalicoCluster {
  return fromKube({
    namespaces: store.view('Namespace') as Namespace[],
    pods: store.view('Pod') as Pod[],
    policies: store.view('NetworkPolicy') as NetworkPolicy[],
    nodes: store.view('Node') as Node[],
    pools: [defaultPool(opts.podCIDR, opts.ipip)],
    tunnelIPs: opts.tunnelIPs,
  });
}

/** Programs a rendering on the host; returns the errors met (the commands' stderr). */
export function programNode(host: Host, r: FelixResult, now: number, fresh: boolean): string[] {
  const errors: string[] = [];
  const run = (argv: string[], stdin = '') => {
    const res = runProgram(argv, stdin, { host, now });
    if (res.code !== 0) errors.push(`${argv.join(' ')}: ${res.stderr.trim()}`);
    return res.code;
  };
  // Sets: existing ones are flushed and refilled, new ones created.
  const want = new Set<string>();
  const lines: string[] = [];
  for (const line of r.ipsetRestore.split('\n')) {
    const m = /^create (\S+)/.exec(line);
    if (m) {
      want.add(m[1]);
      lines.push(host.ipsets.exists(m[1]) ? `flush ${m[1]}` : line);
    } else if (line) lines.push(line);
  }
  if (lines.length) run(['ipset', 'restore'], lines.join('\n') + '\n');
  // Chains, then Felix's rules in the kernel chains.
  if (fresh) run(['iptables-restore', '--noflush'], r.restore);
  else {
    run(['iptables-restore', '--noflush'], r.chainsText);
    for (const b of r.builtin) {
      const spec = splitSpec(b.spec);
      if (runProgram(['iptables', '-t', b.table, '-C', b.chain, ...spec], '', { host, now }).code === 0) continue;
      run(b.op === '-I' ? ['iptables', '-t', b.table, '-I', b.chain, '1', ...spec] : ['iptables', '-t', b.table, '-A', b.chain, ...spec]);
    }
  }
  // Stale chains (a deleted policy's, a gone pod's), then stale sets.
  const chains = new Set(r.rules.map((x) => `${x.table}/${x.chain}`));
  for (const t of TABLES) {
    for (const c of [...(host.nf.table(t)?.chains.keys() ?? [])]) {
      if (!c.startsWith('cali-') || chains.has(`${t}/${c}`) || declared(r, t, c)) continue;
      run(['iptables', '-t', t, '-F', c]);
    }
    for (const c of [...(host.nf.table(t)?.chains.keys() ?? [])]) {
      if (!c.startsWith('cali-') || chains.has(`${t}/${c}`) || declared(r, t, c)) continue;
      run(['iptables', '-t', t, '-X', c]);
    }
  }
  for (const s of host.ipsets.names()) if (s.startsWith('cali40') && !want.has(s)) run(['ipset', 'destroy', s]);
  // Each rule remembers what made it.
  for (const t of TABLES) {
    for (const [chain, origins] of r.origins[t] ?? []) {
      const c = host.nf.chain(t, chain);
      if (!c) continue;
      for (let i = 0; i < origins.length && i < c.rules.length; i++) c.rules[i].origin = origins[i];
    }
  }
  return errors;
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
