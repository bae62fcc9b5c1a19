// kube-proxy's syncs on one node, kept incremental. Every service port's share of the rules
// (its lines in every chain, with their origins) depends only on that port's ServicePort and on
// the node, the KubeProxyConfiguration, the layout and large-cluster mode; it is recorded once
// per ServicePort object and replayed while those stay the same. A sync then hands back, per
// chain, the blocks that changed since the last one (a chain owned by one service port is
// compared line by line only when that port changed; a chain shared by all of them, such as
// KUBE-SERVICES, only when a port that writes to it came or went), as the restore text that
// brings the node to what a full sync writes, and the origins of the rewritten chains.
//
// The result on the node is the same as `iptables-restore --noflush` of generateKubeProxyRules'
// text: the same chains with the same rules (tests compare the two, full and partial).

import {
  CURRENT_OURS,
  currentContext,
  currentEpilogue,
  currentLargeClusterMode,
  currentPrologue,
  currentSetup,
  writeCurrentPort,
  type CurrentContext,
} from './current.ts';
import {
  LEGACY_OURS,
  legacyContext,
  legacyEpilogue,
  legacyLargeClusterMode,
  legacyPrologue,
  legacySetup,
  writeLegacyPort,
  type LegacyContext,
} from './legacy.ts';
import { normalizeServices, type PortInfo } from './normalize.ts';
import type { EndpointRole, EndpointSource, Origin, RuleSink } from './origin.ts';
import type { EnsuredChain, GenerateInput, ServicePort, StaticRule } from './model.ts';

type Table = 'filter' | 'nat';
const TABLES: readonly Table[] = ['filter', 'nat'];

/** One chain's rules as one writer wrote them: the `-A` lines (joined by newlines, one flat
 *  string: a few hundred thousand lines kept as strings of pieces would cost the garbage
 *  collector dearly) and, per line, its origin. */
export interface ChainLines {
  readonly text: string;
  readonly srcs: Array<Origin | EndpointSource>;
  readonly roles: Array<EndpointRole | ''>;
}

interface Building {
  lines: string[];
  srcs: Array<Origin | EndpointSource>;
  roles: Array<EndpointRole | ''>;
}

const EMPTY: ChainLines = { text: '', srcs: [], roles: [] };

/** A RuleSink that keeps each chain's lines apart (and the chains it declared). */
export class ChainRecorder implements RuleSink {
  readonly declared = new Set<string>();
  private readonly building = new Map<string, Building>();
  private done: Map<string, ChainLines> | null = null;

  declare(chain: string): void {
    this.declared.add(chain);
  }

  /** Per chain, its lines (once the writer is done). */
  get chains(): Map<string, ChainLines> {
    if (!this.done) {
      this.done = new Map();
      for (const [chain, b] of this.building) this.done.set(chain, { text: b.lines.join('\n'), srcs: b.srcs, roles: b.roles });
      this.building.clear();
    }
    return this.done;
  }

  private shared: Array<[string, ChainLines]> | null = null;

  private made: Plan | null = null;

  /**
   * The `table/chain` keys of its chains in `table` (always the same table for one recorder):
   * those it declares, in order, then those it shares. Made once: full syncs of 60,000 chains
   * would otherwise make and hash them again each time.
   */
  plan(table: Table): Plan {
    if (!this.made) {
      const owned: string[] = [];
      for (const chain of this.declared) owned.push(table + '/' + chain);
      const shared: string[] = [];
      for (const [chain] of this.sharedParts) shared.push(table + '/' + chain);
      this.made = { owned, shared };
    }
    return this.made;
  }

  /** The chains it writes to without declaring them (the shared ones), with its lines there. */
  get sharedParts(): Array<[string, ChainLines]> {
    if (!this.shared) {
      this.shared = [];
      for (const [chain, g] of this.chains) if (!this.declared.has(chain)) this.shared.push([chain, g]);
    }
    return this.shared;
  }

  private at(chain: string): Building {
    let g = this.building.get(chain);
    if (!g) this.building.set(chain, (g = { lines: [], srcs: [], roles: [] }));
    return g;
  }

  rule(chain: string, args: string, origin: Origin): void {
    const g = this.at(chain);
    g.lines.push('-A ' + chain + ' ' + args);
    g.srcs.push(origin);
    g.roles.push('');
  }

  ruleParts(chain: string, origin: Origin, a: string, b = '', c = '', d = '', e = '', f = '', g = '', h = '', i = ''): void {
    const x = this.at(chain);
    x.lines.push('-A ' + chain + ' ' + a + b + c + d + e + f + g + h + i);
    x.srcs.push(origin);
    x.roles.push('');
  }

  endpointRule(chain: string, ep: EndpointSource, role: EndpointRole, a: string, b = '', c = '', d = '', e = '', f = '', g = '', h = '', i = ''): void {
    const x = this.at(chain);
    x.lines.push('-A ' + chain + ' ' + a + b + c + d + e + f + g + h + i);
    x.srcs.push(ep);
    x.roles.push(role);
  }

  endpointLine(chain: string, head: string, ep: EndpointSource, role: EndpointRole, a: string, b = '', c = '', d = '', e = '', f = ''): void {
    const x = this.at(chain);
    x.lines.push(head + a + b + c + d + e + f);
    x.srcs.push(ep);
    x.roles.push(role);
  }
}

/** A recorder's keys: of the chains it declares, and of those it shares. */
interface Plan {
  readonly owned: readonly string[];
  readonly shared: readonly string[];
}

/** What one writer (a service port, or the rules of no port) wrote in both tables. */
interface Contribution {
  readonly filter: ChainRecorder;
  readonly nat: ChainRecorder;
}

/** A chain the sync rewrote: its rules are the lines of `parts`, in order. */
export interface RewrittenChain {
  table: Table;
  chain: string;
  parts: ChainLines[];
  /** The text refills the chain (false: the chain kept its rules; only their origins are new). */
  refill: boolean;
}

export interface ProxySync {
  /** The `iptables-restore --noflush` input; null: nothing to change. */
  text: string | null;
  /** The chains the text rewrites (declared, refilled or deleted) as `table/chain`; null: all. */
  chains: Set<string> | null;
  /** The chains whose rules' origins are (re)set: the chains the text refills, and chains of
   *  changed ports whose rules stayed the same. */
  rewritten: RewrittenChain[];
  ensureChains: EnsuredChain[];
  staticRules: StaticRule[];
}

/** The origins of a rewritten chain's rules, in order. */
export function chainOrigins(parts: readonly ChainLines[]): Origin[] {
  const out: Origin[] = [];
  for (const g of parts) {
    for (let i = 0; i < g.srcs.length; i++) {
      const role = g.roles[i];
      const o = g.srcs[i];
      out.push(role === '' ? (o as Origin) : { kind: 'endpoint', service: (o as EndpointSource).service, endpoint: o as EndpointSource, role });
    }
  }
  return out;
}

/** At most this many replaced ServicePorts take the short way (`fewChanged`). */
const FEW = 64;

interface LayoutImpl<C> {
  large(total: number): boolean;
  context(input: GenerateInput, largeClusterMode: boolean): C;
  prologue(input: GenerateInput, ctx: C, filter: RuleSink, nat: RuleSink): void;
  port(ctx: C, p: PortInfo, filter: RuleSink, nat: RuleSink, active: Set<string> | null): void;
  epilogue(input: GenerateInput, ctx: C, filter: RuleSink, nat: RuleSink): void;
  ours: readonly string[];
  setup(): { ensureChains: EnsuredChain[]; staticRules: StaticRule[] };
}

const CURRENT: LayoutImpl<CurrentContext> = {
  large: currentLargeClusterMode,
  context: currentContext,
  prologue: currentPrologue,
  port: writeCurrentPort,
  epilogue: currentEpilogue,
  ours: CURRENT_OURS,
  setup: currentSetup,
};

const LEGACY: LayoutImpl<LegacyContext> = {
  large: legacyLargeClusterMode,
  context: legacyContext,
  prologue: legacyPrologue,
  port: writeLegacyPort,
  epilogue: legacyEpilogue,
  ours: LEGACY_OURS,
  setup: legacySetup,
};

/** A ServicePort as this node's kube-proxy sees it, and its share of the rules. */
interface PortEntry {
  /** null: kube-proxy writes nothing for it (headless, ExternalName, no usable cluster IP). */
  readonly info: PortInfo | null;
  /** The sort key of normalizeServices ("ns/name:port", then the protocol). */
  readonly sortKey: string;
  readonly endpoints: number;
  contrib: Contribution | null;
  /** The large-cluster mode `contrib` was written in. */
  large: boolean;
  /** The sync that last used this entry (one ServicePort object given twice gets two). */
  used: number;
}

/** A ServicePort's entry, normalized as kube-proxy does (nothing written for it yet). */
function portEntry(sp: GenerateInput['services'][number], input: GenerateInput, used: number): PortEntry {
  const info = normalizeServices([sp], input.node, input.layout)[0] ?? null;
  return { info, sortKey: info ? info.ref.servicePortName + '\0' + info.protocol : '', endpoints: info ? info.endpoints.length : 0, contrib: null, large: false, used };
}

/** A partial sync on a node a console changed: its nat chains as they are, and the chain
 *  name prefixes kube-proxy takes for its own. */
interface EditedNode {
  existing: () => readonly string[];
  ours: readonly string[];
}

interface LastSync {
  large: boolean;
  /** Sort keys of the proxied ports in input order, and the sorted order as input positions. */
  keys: string[];
  perm: number[];
  /** The ports' contributions in sort order. */
  sorted: Contribution[];
  /** `table/chain` → the lines of a chain one service port declared and owns. */
  owned: Map<string, ChainLines>;
  /** `table/chain` → the texts of the writers of a chain several share (KUBE-SERVICES, …). */
  shared: Map<string, string[]>;
  /** Chains the rules of no port declare (the shared chains kube-proxy always declares). */
  declaredShared: Set<string>;
  prologue: Contribution;
  epilogue: Contribution;
}

function recorder(): Contribution {
  return { filter: new ChainRecorder(), nat: new ChainRecorder() };
}

function comparePorts(a: PortEntry, b: PortEntry): number {
  const x = a.info!.ref.servicePortName;
  const y = b.info!.ref.servicePortName;
  if (x !== y) return x < y ? -1 : 1;
  const p = a.info!.protocol;
  const q = b.info!.protocol;
  return p < q ? -1 : p > q ? 1 : 0;
}

/**
 * One node's kube-proxy: `sync` returns what to restore so that the node holds the rules of a
 * full sync of `input`. With `partial`, the node is taken to hold exactly the last sync's rules
 * (no hand edit since), and only the chains that differ are rewritten; otherwise every chain is
 * written and stale service chains are found among `existingNatChains()`.
 */
export class KubeProxySyncer {
  private cache = new WeakMap<ServicePort, PortEntry>();
  /** The last sync's ServicePorts and their entries, by position: most ports are the same
   *  objects at the same place next time, found without a lookup in the cache. */
  private lastPorts: ServicePort[] = [];
  private lastEntries: PortEntry[] = [];
  /** The last sync's endpoints in all, and each input position's place in `last.sorted`
   *  (-1: not proxied). */
  private lastTotal = 0;
  private sortedAt: Int32Array | null = null;
  private globals = '';
  private last: LastSync | null = null;
  private generation = 0;

  /** Forgets the last sync (the next one writes everything); the per-port cache stays. */
  reset(): void {
    this.last = null;
  }

  /** Whether a sync was made (and what it wrote is known). */
  synced(): boolean {
    return this.last !== null;
  }

  /**
   * Whether a full sync now would declare (and so flush) `chain` of `table`: one of the last
   * sync's chains; with `topLevel`, one of the chains every sync declares (KUBE-SERVICES, …).
   * On a node that holds exactly the last sync's rules, writing such a chain again leaves its
   * rules as they are, counting from zero.
   */
  declares(table: string, chain: string, topLevel: boolean): boolean {
    const last = this.last;
    if (!last) return false;
    const key = table + '/' + chain;
    return last.declaredShared.has(key) || (!topLevel && last.owned.has(key));
  }

  /**
   * `handEdited` (with `partial`): the node may hold rules a console changed since the last
   * sync. The partial sync is then kube-proxy's own: the top-level chains are written whole
   * (whatever they hold now), the chains of changed ports as usual, and chains that look like a
   * service's but that no port owns are found among `existingNatChains()` and deleted; the
   * other ports' chains are left as they are, edits and all.
   */
  sync(input: GenerateInput, partial: boolean, existingNatChains: () => readonly string[], handEdited = false): ProxySync {
    const L: LayoutImpl<unknown> = (input.layout === 'legacy' ? LEGACY : CURRENT) as LayoutImpl<unknown>;
    const globals = JSON.stringify([input.layout, input.node, input.config, input.masqueradeMarkText ?? null]);
    if (globals !== this.globals) {
      this.globals = globals;
      this.cache = new WeakMap();
      this.lastPorts = [];
      this.lastEntries = [];
      this.last = null;
    }
    const edits: EditedNode | null = handEdited ? { existing: existingNatChains, ours: L.ours } : null;
    if (partial && this.last) {
      const r = this.fewChanged(L, input, existingNatChains, edits);
      if (r) return r;
    }
    const gen = ++this.generation;

    // The ports, normalized once per ServicePort object.
    const proxied: PortEntry[] = [];
    const entries: PortEntry[] = [];
    const proxiedAt: number[] = [];
    const lastPorts = this.lastPorts;
    let total = 0;
    for (let i = 0; i < input.services.length; i++) {
      const sp = input.services[i];
      let e = lastPorts[i] === sp ? this.lastEntries[i] : this.cache.get(sp);
      if (!e || e.used === gen) {
        const fresh = portEntry(sp, input, 0);
        if (!e) this.cache.set(sp, fresh);
        e = fresh;
      }
      e.used = gen;
      entries.push(e);
      if (!e.info) continue;
      proxied.push(e);
      proxiedAt.push(i);
      total += e.endpoints;
    }
    this.lastPorts = input.services.slice(); // the caller may reuse its array
    this.lastEntries = entries;
    // Sorted as normalizeServices sorts (stably): the last order when the keys did not move.
    const last = this.last;
    let perm: number[];
    if (last && last.keys.length === proxied.length && proxied.every((e, i) => e.sortKey === last.keys[i])) perm = last.perm;
    else {
      perm = proxied.map((_, i) => i);
      perm.sort((i, j) => comparePorts(proxied[i], proxied[j]) || i - j);
    }
    const sorted = perm.map((i) => proxied[i]);
    const sortedAt = new Int32Array(input.services.length).fill(-1);
    for (let k = 0; k < perm.length; k++) sortedAt[proxiedAt[perm[k]]] = k;
    this.sortedAt = sortedAt;
    this.lastTotal = total;

    const large = L.large(total);
    const ctx = L.context(input, large);
    for (const e of sorted) {
      if (e.contrib && e.large === large) continue;
      const c = recorder();
      L.port(ctx, e.info!, c.filter, c.nat, null);
      e.contrib = c;
      e.large = large;
    }
    const prologue = recorder();
    L.prologue(input, ctx, prologue.filter, prologue.nat);
    const epilogue = recorder();
    L.epilogue(input, ctx, epilogue.filter, epilogue.nat);
    const contribs = sorted.map((e) => e.contrib!);
    const setup = L.setup();
    const keys = proxied.map((e) => e.sortKey);

    if (partial && last && last.large === large) {
      const r = this.partialSync(last, contribs, prologue, epilogue, null, edits);
      if (r) {
        last.keys = keys;
        last.perm = perm;
        last.prologue = prologue;
        last.epilogue = epilogue;
        return { ...r, ...setup };
      }
    }
    return { ...this.fullSync(L, contribs, prologue, epilogue, large, keys, perm, existingNatChains), ...setup };
  }

  /**
   * The common sync: the input is the last one with a few ServicePorts replaced by new objects
   * in place, each keeping its port's name and protocol (its place in the order) and whether
   * it is proxied, and large-cluster mode stays. Only those ports are looked at, instead of
   * every one. null: not that case (the general sync runs).
   */
  private fewChanged(L: LayoutImpl<unknown>, input: GenerateInput, existingNatChains: () => readonly string[], edits: EditedNode | null): ProxySync | null {
    const last = this.last!;
    const ports = input.services;
    const was = this.lastPorts;
    const sortedAt = this.sortedAt;
    if (!sortedAt || ports.length !== was.length || sortedAt.length !== ports.length) return null;
    const changed: number[] = [];
    for (let i = 0; i < ports.length; i++) {
      if (ports[i] === was[i]) continue;
      if (changed.length === FEW) return null;
      changed.push(i);
    }
    const fresh: PortEntry[] = [];
    let total = this.lastTotal;
    for (const i of changed) {
      const sp = ports[i];
      // An object seen before may stand at another place too: the general sync sorts that out.
      if (this.cache.has(sp)) return null;
      const old = this.lastEntries[i];
      const e = portEntry(sp, input, this.generation);
      if ((e.info === null) !== (old.info === null) || e.sortKey !== old.sortKey) return null;
      total += e.endpoints - old.endpoints;
      fresh.push(e);
    }
    const large = L.large(total);
    if (large !== last.large) return null;
    // The node, settings and layout are those of the last sync (the same globals), and so is
    // large-cluster mode: the context and the rules of no port are the last ones.
    let ctx: unknown = null;
    const known: Array<[Contribution, Contribution]> = [];
    for (let j = 0; j < changed.length; j++) {
      const i = changed[j];
      const e = fresh[j];
      this.cache.set(ports[i], e);
      this.lastPorts[i] = ports[i];
      this.lastEntries[i] = e;
      if (!e.info) continue;
      const c = recorder();
      ctx ??= L.context(input, large);
      L.port(ctx, e.info, c.filter, c.nat, null);
      e.contrib = c;
      e.large = large;
      const k = sortedAt[i];
      known.push([last.sorted[k], c]);
      last.sorted[k] = c;
    }
    this.lastTotal = total;
    const { prologue, epilogue } = last;
    const setup = L.setup();
    const contribs = last.sorted;
    const r = this.partialSync(last, contribs, prologue, epilogue, known, edits);
    if (r) return { ...r, ...setup };
    return { ...this.fullSync(L, contribs, prologue, epilogue, large, last.keys, last.perm, existingNatChains), ...setup };
  }

  private fullSync(
    L: LayoutImpl<unknown>,
    contribs: Contribution[],
    prologue: Contribution,
    epilogue: Contribution,
    large: boolean,
    keys: string[],
    perm: number[],
    existingNatChains: () => readonly string[],
  ): Omit<ProxySync, 'ensureChains' | 'staticRules'> {
    const owned = new Map<string, ChainLines>();
    const sharedParts = new Map<string, RewrittenChain>();
    const rewritten: RewrittenChain[] = [];
    const declared: Record<Table, Set<string>> = { filter: new Set(), nat: new Set() };
    /** Their `:chain` lines, in the same order. */
    const declLines: Record<Table, string[]> = { filter: [], nat: [] };
    const declaredShared = new Set<string>();
    const addShared = (table: Table, chain: string, g: ChainLines, key = table + '/' + chain) => {
      let r = sharedParts.get(key);
      if (!r) {
        sharedParts.set(key, (r = { table, chain, parts: [], refill: true }));
        rewritten.push(r);
      }
      r.parts.push(g);
    };
    const declare = (t: Table, c: string) => {
      if (declared[t].has(c)) return;
      declared[t].add(c);
      declLines[t].push(`:${c} - [0:0]`);
    };
    for (const t of TABLES) {
      for (const c of prologue[t].declared) {
        declare(t, c);
        declaredShared.add(t + '/' + c);
      }
      for (const [chain, g] of prologue[t].chains) addShared(t, chain, g);
    }
    for (const contrib of contribs) {
      for (const t of TABLES) {
        const rec = contrib[t];
        const plan = rec.plan(t);
        let i = 0;
        for (const c of rec.declared) {
          declare(t, c);
          const g = rec.chains.get(c) ?? EMPTY;
          owned.set(plan.owned[i++], g);
          if (g.srcs.length) rewritten.push({ table: t, chain: c, parts: [g], refill: true });
        }
        i = 0;
        for (const [chain, g] of rec.sharedParts) addShared(t, chain, g, plan.shared[i++]);
      }
    }
    for (const t of TABLES) {
      for (const c of epilogue[t].declared) {
        declare(t, c);
        declaredShared.add(t + '/' + c);
      }
      for (const [chain, g] of epilogue[t].chains) addShared(t, chain, g);
    }
    // Stale service chains (kube-proxy finds them with iptables-save): flush, then delete.
    const stale: string[] = [];
    for (const chain of existingNatChains()) {
      if (owned.has('nat/' + chain) || !L.ours.some((pre) => chain.startsWith(pre))) continue;
      stale.push(chain);
    }
    stale.sort();

    const out: string[] = [];
    for (const t of TABLES) {
      out.push(`*${t}`);
      for (const l of declLines[t]) out.push(l);
      if (t === 'nat') for (const c of stale) if (!declared.nat.has(c)) out.push(`:${c} - [0:0]`);
      for (const r of rewritten) if (r.table === t) for (const g of r.parts) if (g.text !== '') out.push(g.text);
      if (t === 'nat') for (const c of stale) out.push(`-X ${c}`);
      out.push('COMMIT');
    }
    const shared = new Map<string, string[]>();
    for (const [key, r] of sharedParts) shared.set(key, r.parts.map((g) => g.text));
    this.last = { large, keys, perm, sorted: contribs, owned, shared, declaredShared, prologue, epilogue };
    return { text: out.join('\n') + '\n', chains: null, rewritten };
  }

  /** The chains that changed since `last` (updated in place); null: a full sync is needed. */
  private partialSync(
    last: LastSync,
    contribs: Contribution[],
    prologue: Contribution,
    epilogue: Contribution,
    known: Array<[Contribution, Contribution]> | null = null,
    edits: EditedNode | null = null,
  ): Omit<ProxySync, 'ensureChains' | 'staticRules'> | null {
    const removed: Contribution[] = [];
    const added: Contribution[] = [];
    const dirty = new Set<string>();
    // A port replaced in place: the shared chains its lines changed in are written again.
    const replaced = (was: Contribution, now: Contribution) => {
      removed.push(was);
      added.push(now);
      for (const t of TABLES) {
        if (sameParts(was[t].sharedParts, now[t].sharedParts)) continue;
        for (const [chain] of was[t].sharedParts) dirty.add(t + '/' + chain);
        for (const [chain] of now[t].sharedParts) dirty.add(t + '/' + chain);
      }
    };
    if (known) {
      // The caller knows the ports that changed (each was replaced in place).
      for (const [was, now] of known) replaced(was, now);
    } else if (last.sorted.length === contribs.length) {
      // As many ports as before (the common case: some changed): compared place by place. A
      // port whose lines in the shared chains are the very same as its predecessor's there
      // leaves those chains as they are.
      for (let i = 0; i < contribs.length; i++) if (last.sorted[i] !== contribs[i]) replaced(last.sorted[i], contribs[i]);
    } else {
      const now = new Set(contribs);
      const then = new Set(last.sorted);
      for (const c of last.sorted) if (!now.has(c)) removed.push(c);
      for (const c of contribs) if (!then.has(c)) added.push(c);
      for (const list of [removed, added]) for (const c of list) for (const t of TABLES) for (const [chain] of c[t].sharedParts) dirty.add(t + '/' + chain);
    }
    // The rules of no port depend on the node and settings only, which did not change; still,
    // a shared chain they write is compared like any other when they differ.
    for (const t of TABLES) {
      for (const [chain, g] of prologue[t].chains) if (g.text !== last.prologue[t].chains.get(chain)?.text) dirty.add(t + '/' + chain);
      for (const [chain, g] of epilogue[t].chains) if (g.text !== last.epilogue[t].chains.get(chain)?.text) dirty.add(t + '/' + chain);
    }
    // On a node edited by hand the top-level chains are written whatever they hold.
    if (edits) for (const key of last.declaredShared) dirty.add(key);
    if (!removed.length && !added.length && !dirty.size) {
      last.sorted = contribs;
      return { text: null, chains: new Set(), rewritten: [] };
    }
    const before = new Map<string, ChainLines>();
    for (const c of removed) {
      for (const t of TABLES) {
        const rec = c[t];
        for (const chain of rec.declared) {
          const key = t + '/' + chain;
          const g = last.owned.get(key);
          if (g) before.set(key, g);
          last.owned.delete(key);
        }
      }
    }
    const rewritten: RewrittenChain[] = [];
    const changed = new Set<string>();
    for (const c of added) {
      for (const t of TABLES) {
        const rec = c[t];
        for (const chain of rec.declared) {
          const key = t + '/' + chain;
          const g = rec.chains.get(chain) ?? EMPTY;
          const prev = before.get(key);
          before.delete(key);
          last.owned.set(key, g);
          // The same rules keep their place (and counters); their origins are still renewed
          // (an endpoint that moved to another node keeps its rules but not its origin).
          if (prev && prev.text === g.text) {
            if (g.srcs.length) rewritten.push({ table: t, chain, parts: [g], refill: false });
            continue;
          }
          changed.add(key);
          rewritten.push({ table: t, chain, parts: [g], refill: true });
        }
      }
    }
    for (const key of dirty) {
      const slash = key.indexOf('/');
      const t = key.slice(0, slash) as Table;
      const chain = key.slice(slash + 1);
      const parts: ChainLines[] = [];
      const p0 = prologue[t].chains.get(chain);
      if (p0) parts.push(p0);
      for (const c of contribs) for (const [name, g] of c[t].sharedParts) if (name === chain) parts.push(g);
      const p1 = epilogue[t].chains.get(chain);
      if (p1) parts.push(p1);
      const lines = parts.map((g) => g.text);
      if (!edits && sameText(lines, last.shared.get(key) ?? [])) continue;
      // A built-in chain's rules cannot be refilled alone (nothing declares it).
      if (!last.declaredShared.has(key)) return null;
      last.shared.set(key, lines);
      changed.add(key);
      rewritten.push({ table: t, chain, parts, refill: true });
    }
    // Chains of ports that are gone (or no longer written): flushed, then deleted.
    const stale: Record<Table, string[]> = { filter: [], nat: [] };
    for (const key of [...before.keys()].sort()) {
      const slash = key.indexOf('/');
      stale[key.slice(0, slash) as Table].push(key.slice(slash + 1));
      changed.add(key);
    }
    if (edits) {
      // kube-proxy's look at iptables-save: service-like chains no port owns go too.
      const gone = new Set(stale.nat);
      for (const chain of edits.existing()) {
        if (gone.has(chain) || last.owned.has('nat/' + chain) || !edits.ours.some((pre) => chain.startsWith(pre))) continue;
        stale.nat.push(chain);
        changed.add('nat/' + chain);
      }
      stale.nat.sort();
    }
    last.sorted = contribs;
    if (!changed.size) return { text: null, chains: changed, rewritten };
    const out: string[] = [];
    for (const t of TABLES) {
      const mine = rewritten.filter((r) => r.table === t && r.refill);
      if (!mine.length && !stale[t].length) continue;
      out.push(`*${t}`);
      for (const r of mine) out.push(`:${r.chain} - [0:0]`);
      for (const c of stale[t]) out.push(`:${c} - [0:0]`);
      for (const r of mine) for (const g of r.parts) if (g.text !== '') out.push(g.text);
      for (const c of stale[t]) out.push(`-X ${c}`);
      out.push('COMMIT');
    }
    return { text: out.join('\n') + '\n', chains: changed, rewritten };
  }
}

/** The same chains with the same lines, in the same order. */
function sameParts(a: ReadonlyArray<[string, ChainLines]>, b: ReadonlyArray<[string, ChainLines]>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1].text !== b[i][1].text) return false;
  return true;
}

/** The same lines, given as texts of one or more lines each (mostly the very same strings). */
function sameText(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === b.length) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    if (i === a.length) return true;
  }
  return a.join('\n') === b.join('\n');
}
