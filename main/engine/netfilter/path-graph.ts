// The chain graph of one packet's possible paths (the rules browser's "Paths"): from the
// built-in chains of the hooks a packet passes (or a hook or chain to start from), an edge for
// every jump, goto and verdict whose rule could match the packet, with the rule's number and
// conditions, and the chains' ends (policy, return to the caller). The packet is described in
// part: what the query leaves open may be anything. Each rule is decided three ways from its
// data: cannot match (left out: `-d` excluding the destination, another protocol or port, an
// interface it does not use, an address not in a set), certainly matches, or maybe (state the
// graph does not know — conntrack, marks, statistic, recent, limits — or a field left open);
// maybe-edges say why. A rule that certainly matches and always decides (a verdict, a goto, a
// jump to a chain that never returns) ends its chain: the rules after it are left out.
// Pure: reads the tables and asks the host only for address types and set membership.

import type { PathEdge, PathGraph, PathHook, PathNode, PathQuery } from '../../../shared/rules-path.ts';
import { formatIPv4, maskOf, parseIPv4, type IPv4 } from '../net/ipv4.ts';
import type { Hook, HostEnv, IfaceSpec, MatchCtx, Packet, Rule, Table, TableName } from './types.ts';
import { MATCHES } from './matches/index.ts';
import { TARGETS } from './targets/index.ts';
import { ruleSpec, targetSpec } from './save.ts';
import { protoByName, protoName } from './services.ts';
import { ifaceNameMatches } from './iface-name.ts';
import type { PortRange } from './matches/portrange.ts';

export const PATH_LIMITS = {
  /** Edges in a graph: past it the graph is cut (`truncated`). */
  edges: 600,
} as const;

/** The tables each hook runs, in the kernel's priority order (raw -300, mangle -150,
 *  nat's DNAT -100, filter 0, security 50, nat's SNAT 100). */
const HOOK_TABLES: Readonly<Record<Hook, readonly TableName[]>> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};

/** Targets that end the packet's walk of the table (or, RETURN, of the chain). */
const TERMINAL = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'NFQUEUE', 'TPROXY', 'SYNPROXY']);
const STANDARD = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);

/** What a module's result depends on that a packet description cannot say. */
const STATE_WORD: Readonly<Record<string, string>> = { conntrack: 'ctstate', state: 'ctstate', connmark: 'connmark', mark: 'mark' };

/** What the host is asked: address types (`-m addrtype`), set membership (`-m set`), and
 *  whether an address is its own (which hooks a packet passes). */
export interface PathHost {
  tables: ReadonlyMap<TableName, Table>;
  env?: Pick<HostEnv, 'addrType' | 'ipsetTest'>;
  isLocal?(addr: IPv4): boolean;
}

/** The packet's known fields; `null` interface: the hook has none (OUTPUT's in, PREROUTING's out). */
interface Known {
  src?: IPv4;
  dst?: IPv4;
  proto?: number;
  sport?: number;
  dport?: number;
  in?: string | null;
  out?: string | null;
}

const NO = 0;
const YES = 1;

export class PathQueryError extends Error {}

function parseQuery(q: PathQuery): Known {
  const k: Known = {};
  for (const f of ['src', 'dst'] as const) {
    const v = q[f];
    if (v === undefined || v === '') continue;
    const a = parseIPv4(v);
    if (a === null) throw new PathQueryError(`${f}: "${v}" is not an address (A.B.C.D)`);
    k[f] = a;
  }
  if (q.proto !== undefined && q.proto !== '' && q.proto !== 'all') {
    const p = /^\d+$/.test(q.proto) ? Number(q.proto) : protoByName(q.proto.toLowerCase());
    if (p === undefined || p > 255) throw new PathQueryError(`proto: unknown protocol "${q.proto}"`);
    if (p !== 0) k.proto = p;
  }
  if (q.sport !== undefined) k.sport = q.sport;
  if (q.dport !== undefined) k.dport = q.dport;
  if (q.in) k.in = q.in;
  if (q.out) k.out = q.out;
  return k;
}

function describe(k: Known, q: PathQuery): string {
  const addr = (a: IPv4 | undefined, port: number | undefined) => `${a === undefined ? 'any' : formatIPv4(a)}${port === undefined ? '' : `:${port}`}`;
  const proto = k.proto === undefined ? 'any protocol' : (protoName(k.proto, false) ?? String(k.proto));
  let s = `${proto} ${addr(k.src, k.sport)} → ${addr(k.dst, k.dport)}`;
  if (k.in) s += `, in ${k.in}`;
  if (k.out) s += `, out ${k.out}`;
  if (q.chain) s += `, from ${q.table ?? 'filter'} ${q.chain}`;
  else if (q.hook) s += `, from ${q.hook}`;
  return s;
}

/** The interfaces as a hook sees them: none where it has none, the query's otherwise. */
function atHook(k: Known, hook: Hook | undefined, localOut: boolean): Known {
  if (!hook) return k;
  const noIn = hook === 'OUTPUT' || (hook === 'POSTROUTING' && localOut);
  const noOut = hook === 'PREROUTING' || hook === 'INPUT';
  return { ...k, in: noIn ? null : k.in, out: noOut ? null : k.out };
}

/** Three-valued: NO, YES, or the reasons it may match. */
type Tri = typeof NO | typeof YES | string[];

function and(a: Tri, b: Tri): Tri {
  if (a === NO || b === NO) return NO;
  if (a === YES) return b;
  if (b === YES) return a;
  return [...a, ...b.filter((w) => !a.includes(w))];
}
const maybe = (why: string): Tri => [why];
const yesIf = (v: boolean): Tri => (v ? YES : NO);

function addrMatch(spec: { addr: IPv4; len: number; neg: boolean } | undefined, a: IPv4 | undefined, what: string): Tri {
  if (!spec || (spec.len === 0 && !spec.neg)) return YES;
  if (a === undefined) return maybe(`${what}?`);
  const m = maskOf(spec.len);
  return yesIf((((a & m) >>> 0) === ((spec.addr & m) >>> 0)) !== spec.neg);
}

/** -i/-o on a device that may be left open (undefined: any): `+` alone matches every name. */
function ifaceMatch(spec: IfaceSpec | undefined, name: string | null | undefined, what: string): Tri {
  if (!spec) return YES;
  if (spec.name === '+') return yesIf(!spec.neg);
  if (name === undefined) return maybe(`${what}?`);
  return yesIf(ifaceNameMatches(spec.name, name ?? '') !== spec.neg);
}

function portMatch(r: PortRange | undefined, inv: boolean, p: number | undefined, what: string): Tri {
  if (r === undefined || (r[0] === 0 && r[1] === 0xffff)) return yesIf(!inv);
  if (p === undefined) return maybe(`${what}?`);
  return yesIf((p >= r[0] && p <= r[1]) !== inv);
}

interface MatchEnv {
  k: Known;
  hook: Hook;
  table: TableName;
  host: PathHost;
}

/** Fields a module's match reads that the query left open, or null when it needs none of
 *  those (then the module itself decides, on a packet made of the known fields). */
function missing(k: Known, fields: (keyof Known)[]): string[] {
  return fields.filter((f) => k[f] === undefined).map((f) => `${f}?`);
}

function moduleMatch(module: string, data: unknown, rule: Rule, e: MatchEnv): Tri {
  const { k } = e;
  const proto = (p: number): Tri => (k.proto === undefined ? maybe('proto?') : yesIf(k.proto === p));
  switch (module) {
    case 'comment':
      return YES;
    case 'tcp': {
      const d = data as { spts?: PortRange; sinv: boolean; dpts?: PortRange; dinv: boolean; flagMask: number; flagInv: boolean; option: number; optInv: boolean };
      let t = and(proto(6), and(portMatch(d.spts, d.sinv, k.sport, 'sport'), portMatch(d.dpts, d.dinv, k.dport, 'dport')));
      if (d.flagMask || d.flagInv) t = and(t, maybe('tcp flags'));
      if (d.option && !d.optInv) t = NO; // (the lab's packets carry no TCP options)
      return t;
    }
    case 'udp': {
      const d = data as { spts?: PortRange; sinv: boolean; dpts?: PortRange; dinv: boolean };
      return and(proto(17), and(portMatch(d.spts, d.sinv, k.sport, 'sport'), portMatch(d.dpts, d.dinv, k.dport, 'dport')));
    }
    case 'icmp': {
      const d = data as { type: number; inv: boolean };
      const p = proto(1);
      return d.type === 0xff && !d.inv ? p : and(p, maybe('icmp type'));
    }
    case 'multiport': {
      const d = data as { which: string };
      const need: (keyof Known)[] = d.which === 'sports' ? ['sport'] : d.which === 'dports' ? ['dport'] : ['sport', 'dport'];
      return viaModule(module, data, rule, e, need);
    }
    case 'iprange': {
      const d = data as { src?: unknown; dst?: unknown };
      return viaModule(module, data, rule, e, [...(d.src ? ['src' as const] : []), ...(d.dst ? ['dst' as const] : [])]);
    }
    case 'addrtype': {
      const d = data as { src: number; dst: number; limitIn: boolean; limitOut: boolean };
      if (!e.host.env) return maybe('addrtype');
      const need: (keyof Known)[] = [];
      if (d.src) need.push('src');
      if (d.dst) need.push('dst');
      if (d.limitIn) need.push('in');
      if (d.limitOut) need.push('out');
      return viaModule(module, data, rule, e, need);
    }
    case 'set': {
      const d = data as { name: string; dirs: ('src' | 'dst')[] };
      if (!e.host.env) return maybe(`set ${d.name}`);
      const need: (keyof Known)[] = [];
      d.dirs.forEach((dir, i) => {
        if (i === 0) need.push(dir);
        else need.push('proto', dir === 'src' ? 'sport' : 'dport');
      });
      const t = viaModule(module, data, rule, e, need);
      return Array.isArray(t) ? [`set ${d.name}`] : t;
    }
    default:
      return maybe(STATE_WORD[module] ?? module);
  }
}

/** The module's own match on a packet of the known fields, when it reads no open one. */
function viaModule(module: string, data: unknown, rule: Rule, e: MatchEnv, need: (keyof Known)[]): Tri {
  const open = missing(e.k, need);
  if (open.length) return open;
  const mod = MATCHES.get(module);
  if (!mod) return maybe(module);
  const k = e.k;
  const pkt: Packet = {
    src: k.src ?? 0, dst: k.dst ?? 0, proto: k.proto ?? 0, sport: k.sport ?? 0, dport: k.dport ?? 0,
    tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0,
  };
  const host = e.host.env as HostEnv | undefined;
  const ctx: MatchCtx = {
    hook: e.hook, table: e.table, pkt, ct: null, rule,
    host: host ?? ({ addrType: () => 'UNICAST', ipsetTest: () => undefined } as unknown as HostEnv),
    ...(k.in ? { inIface: k.in } : {}),
    ...(k.out ? { outIface: k.out } : {}),
  };
  try {
    return yesIf(mod.match(data as never, ctx));
  } catch {
    return maybe(module);
  }
}

function ruleMatch(r: Rule, e: MatchEnv): Tri {
  const { k } = e;
  let t: Tri = and(addrMatch(r.src, k.src, 'src'), addrMatch(r.dst, k.dst, 'dst'));
  if (t === NO) return NO;
  t = and(t, and(ifaceMatch(r.inIface, k.in, 'in'), ifaceMatch(r.outIface, k.out, 'out')));
  if (t === NO) return NO;
  if (r.proto && (r.proto.num !== 0 || r.proto.neg)) {
    t = and(t, k.proto === undefined ? maybe('proto?') : yesIf((k.proto === r.proto.num) !== r.proto.neg));
    if (t === NO) return NO;
  }
  if (r.fragment) t = and(t, yesIf(r.fragment.neg)); // the lab's packets are never fragments
  for (const m of r.matches) {
    if (t === NO) return NO;
    t = and(t, moduleMatch(m.module, m.data, r, e));
  }
  return t;
}

const COMMENT_RE = / -m comment --comment ("(?:[^"\\]|\\.)*"|\S+)/g;

/** A rule's conditions, short, and its comment and target text. */
function ruleText(r: Rule): { cond: string; comment?: string; target: string } {
  const full = ruleSpec(r);
  const tgt = r.target ? targetSpec(r) : '';
  let cond = full.endsWith(tgt) ? full.slice(0, full.length - tgt.length) : full;
  let comment: string | undefined;
  cond = cond.replace(COMMENT_RE, (_m, c: string) => {
    comment = c.startsWith('"') ? c.slice(1, -1).replace(/\\(.)/g, '$1') : c;
    return '';
  });
  cond = cond.replace(/ -m (tcp|udp|icmp)(?= |$)/g, '').trim();
  if (cond.length > 90) cond = cond.slice(0, 89) + '…';
  return { cond, ...(comment !== undefined ? { comment } : {}), target: tgt.replace(/^ -[jg] /, '') };
}

/** The chain graph of the packet `q` on a host's tables. */
export function pathGraph(host: PathHost, q: PathQuery, limits: { edges?: number } = {}): PathGraph {
  const k = parseQuery(q);
  const maxEdges = limits.edges ?? PATH_LIMITS.edges;
  const nodes = new Map<string, PathNode>();
  const edges = new Map<string, PathEdge>();
  let excluded = 0;
  let truncated = false;
  const hooks: PathHook[] = [];

  const node = (id: string, init: () => Omit<PathNode, 'id' | 'hooks' | 'depth'>, hook: Hook | undefined, depth: number): PathNode => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { id, ...init(), hooks: [], depth }));
    if (hook && !n.hooks.includes(hook)) n.hooks.push(hook);
    if (depth < n.depth) n.depth = depth;
    return n;
  };
  const chainNode = (table: TableName, name: string, hook: Hook | undefined, depth: number): PathNode => {
    const c = host.tables.get(table)?.chains.get(name);
    return node(`${table}/${name}`, () => ({
      kind: 'chain', table, chain: name, builtin: c?.builtin ?? false,
      ...(c?.builtin ? { policy: c.policy ?? 'ACCEPT' } : {}), rules: c?.rules.length ?? 0,
    }), hook, depth);
  };
  const verdictNode = (v: string, hook: Hook | undefined, depth: number): PathNode =>
    node(`verdict/${v}`, () => ({ kind: 'verdict', verdict: v }), hook, depth);
  const edge = (e: PathEdge): void => {
    const key = `${e.from}|${e.to}|${e.kind}|${e.rule ?? ''}`;
    const had = edges.get(key);
    if (had) {
      for (const w of e.maybe) if (!had.maybe.includes(w)) had.maybe.push(w);
      return;
    }
    if (edges.size >= maxEdges) {
      truncated = true;
      return;
    }
    edges.set(key, e);
  };

  // (table/chain@hook) explored: whether the chain can return to its caller; undefined while
  // being explored (a loop: assumed to return).
  const explored = new Map<string, boolean | undefined>();
  let localOut = false;

  const explore = (table: TableName, name: string, hook: Hook | undefined, depth: number): boolean => {
    const key = `${table}/${name}@${hook ?? ''}`;
    if (explored.has(key)) return explored.get(key) ?? true;
    explored.set(key, undefined);
    const from = chainNode(table, name, hook, depth).id;
    const c = host.tables.get(table)?.chains.get(name);
    if (!c) {
      explored.set(key, true);
      return true;
    }
    const e: MatchEnv = { k: atHook(k, hook, localOut), hook: hook ?? 'PREROUTING', table, host };
    let reach = true;
    let returns = false;
    const rules = c.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (!reach) {
        excluded += rules.length - i;
        break;
      }
      const t = ruleMatch(r, e);
      if (t === NO) {
        excluded++;
        continue;
      }
      const target = r.target;
      if (!target) continue;
      const certain = t === YES;
      const why = t === YES ? [] : t;
      const isChain = !TARGETS.has(target.name) && !STANDARD.has(target.name);
      if (isChain) {
        if (truncated) continue;
        const ret = explore(table, target.name, hook, depth + 1);
        const tx = ruleText(r);
        edge({ from, to: `${table}/${target.name}`, kind: target.goto ? 'goto' : 'jump', rule: i + 1, cond: tx.cond, ...(tx.comment !== undefined ? { comment: tx.comment } : {}), maybe: [...why] });
        if (target.goto && ret) returns = true;
        if (certain && (target.goto || !ret)) reach = false;
      } else if (TERMINAL.has(target.name)) {
        const ret = target.name === 'RETURN';
        const v = ret && c.builtin ? (c.policy ?? 'ACCEPT') : target.name;
        const tx = ruleText(r);
        edge({ from, to: verdictNode(v, hook, depth + 1).id, kind: ret && c.builtin ? 'policy' : 'verdict', rule: i + 1, cond: tx.cond, ...(tx.comment !== undefined ? { comment: tx.comment } : {}), ...(tx.target !== v ? { target: tx.target } : {}), maybe: [...why] });
        if (ret) returns = true;
        if (certain) reach = false;
      }
      // Other targets (MARK, LOG, CONNMARK, CT, …) change the packet and go on.
    }
    if (reach) {
      if (c.builtin) edge({ from, to: verdictNode(c.policy ?? 'ACCEPT', hook, depth + 1).id, kind: 'policy', cond: 'policy', maybe: [] });
      else {
        edge({ from, to: verdictNode('RETURN', hook, depth + 1).id, kind: 'end', cond: 'end of chain', maybe: [] });
        returns = true;
      }
    }
    explored.set(key, returns);
    return returns;
  };

  // Where the walk starts.
  if (q.chain) {
    const table = q.table ?? 'filter';
    const t = host.tables.get(table);
    if (!t?.chains.has(q.chain)) throw new PathQueryError(`no chain ${q.chain} in table ${table}`);
    if (q.hook) hooks.push(q.hook);
    explore(table, q.chain, q.hook, 0);
  } else {
    // Each route through the hooks: a list of hooks with the condition of going on from one to the next.
    const routes: { hooks: Hook[]; via: string[] }[] = [];
    if (q.hook) routes.push({ hooks: [q.hook], via: [] });
    else {
      const isLocal = (a: IPv4 | undefined): boolean | undefined => (a === undefined || !host.isLocal ? undefined : host.isLocal(a));
      const srcLocal = isLocal(k.src);
      const dstLocal = isLocal(k.dst);
      // Arriving: when it comes in by an interface, or from an address not the host's.
      const incoming = k.in !== undefined || srcLocal === false || srcLocal === undefined;
      // Made here: from one of its addresses, or when nothing says it arrives.
      const local = k.in === undefined && (srcLocal === true || srcLocal === undefined);
      if (incoming) {
        if (dstLocal !== false) routes.push({ hooks: ['PREROUTING', 'INPUT'], via: ['routed to this host'] });
        if (dstLocal !== true) routes.push({ hooks: ['PREROUTING', 'FORWARD', 'POSTROUTING'], via: ['routed on', 'out'] });
      }
      if (local) routes.push({ hooks: ['OUTPUT', 'POSTROUTING'], via: ['routed out'] });
    }
    for (const route of routes) {
      localOut = route.hooks[0] === 'OUTPUT';
      let prev: string | undefined;
      let depth = 0;
      route.hooks.forEach((hook, hi) => {
        if (!hooks.includes(hook)) hooks.push(hook);
        for (const table of HOOK_TABLES[hook]) {
          const t = host.tables.get(table);
          const c = t?.chains.get(hook);
          if (!c?.builtin) continue;
          const id = chainNode(table, hook, hook, depth).id;
          if (prev && prev !== id) {
            const first = HOOK_TABLES[hook].find((n) => host.tables.get(n)?.chains.get(hook)?.builtin) === table;
            const cond = first && hi > 0 ? route.via[hi - 1] ?? '' : '';
            edge({ from: prev, to: id, kind: 'next', cond, maybe: table === 'nat' ? ['first packet only'] : [] });
          }
          explore(table, hook, hook, depth);
          prev = id;
          depth++;
        }
      });
    }
  }

  // Depths of chains reached before their shortest route was known: one pass relaxing edges.
  const out = new Map<string, PathEdge[]>();
  for (const e of edges.values()) {
    let l = out.get(e.from);
    if (!l) out.set(e.from, (l = []));
    l.push(e);
  }
  const queue = [...nodes.values()].filter((n) => n.kind === 'chain').sort((a, b) => a.depth - b.depth);
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    for (const e of out.get(n.id) ?? []) {
      const m = nodes.get(e.to);
      if (m && m.depth > n.depth + 1) {
        m.depth = n.depth + 1;
        if (m.kind === 'chain') queue.push(m);
      }
    }
  }

  // Only nodes with an edge (or the start) are kept: a verdict made before the cap may have lost its edge.
  const used = new Set<string>();
  for (const e of edges.values()) {
    used.add(e.from);
    used.add(e.to);
  }
  const list = [...nodes.values()].filter((n) => used.has(n.id) || n.depth === 0);
  return { hooks, nodes: list, edges: [...edges.values()], excluded, truncated, packet: describe(k, q) };
}

/** The tables of a netfilter state, as pathGraph reads them. */
export function tablesOf(get: (t: TableName) => Table | undefined): Map<TableName, Table> {
  const m = new Map<TableName, Table>();
  for (const t of ['raw', 'mangle', 'nat', 'filter', 'security'] as const) {
    const table = get(t);
    if (table) m.set(t, table);
  }
  return m;
}
