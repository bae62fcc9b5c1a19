// kube-proxy's syncs on one node, kept incremental. Every service port's share of the rules
// (its lines in every chain, with their origins) depends only on that port's ServicePort and on
// the node, the KubeProxyConfiguration, the layout and large-cluster mode; it is recorded once
// per ServicePort object and replayed while those stay the same (most ports' rules are the same
// on every node: the other nodes take them from the first one's, see Template). A sync then
// hands back, per chain, the blocks that changed since the last one (a chain owned by one service port is
// compared line by line only when that port changed; a chain shared by all of them, such as
// KUBE-SERVICES, only when a port that writes to it came or went), as the restore text that
// brings the node to what a full sync writes, and the origins of the rewritten chains.
//
// The result on the node is the same as `iptables-restore --noflush` of generateKubeProxyRules'
// text: the same chains with the same rules (tests compare the two, full and partial).

import { layoutOf, type LayoutImpl } from './layout.ts';
import { normalizeServices, type PortInfo } from './normalize.ts';
import type { EndpointRef, EndpointRole, EndpointSource, Origin, RuleSink } from './origin.ts';
import type { EnsuredChain, GenerateInput, ServicePort, StaticRule } from './model.ts';

type Table = 'filter' | 'nat';
const TABLES: readonly Table[] = ['filter', 'nat'];

/** One chain's rules as one writer wrote them: the `-A` lines (joined by newlines, one flat
 *  string: a few hundred thousand lines kept as strings of pieces would cost the garbage
 *  collector dearly) and, per line, its origin. */
export interface ChainLines {
  readonly chain: string;
  readonly text: string;
  /** Made as the rules are written (the rules take them over: nothing makes them again). */
  readonly origins: Origin[];
}

/** A chain's lines while its writer runs; joined into `text` once it is done. A chain its
 *  writer declared is written whole by a full sync: it stands for its own rewrite then (no
 *  object more for each of the 60,000 chains). */
class Lines implements ChainLines, RewrittenChain {
  text = '';
  lines: string[] = [];
  origins: Origin[] = [];
  readonly refill = true;
  constructor(
    readonly table: Table,
    readonly chain: string,
  ) {}

  get parts(): ChainLines[] {
    return [this];
  }
}

const NO_LINES: string[] = [];
const NO_CHAINS: ReadonlySet<string> = new Set();
const NO_LINES_BY_CHAIN: ReadonlyMap<string, Lines> = new Map();
const NO_PARTS: readonly ChainLines[] = [];
const EMPTY: ChainLines = { chain: '', text: '', origins: [] };

function endpointOrigin(ep: EndpointSource, role: EndpointRole): Origin {
  return { kind: 'endpoint', service: ep.service, endpoint: ep, role };
}

/** A RuleSink that keeps each chain's lines apart (and the chains it declared). Most writers
 *  write nothing in filter: the set and the map are made on first use. */
export class ChainRecorder implements RuleSink {
  private decl: Set<string> | null = null;
  private byChain: Map<string, Lines> | null = null;
  private done = false;
  private shared: readonly ChainLines[] | null = null;

  constructor(private readonly table: Table) {}

  /** The chains it declared, in order. */
  get declared(): ReadonlySet<string> {
    return this.decl ?? NO_CHAINS;
  }

  declare(chain: string): void {
    (this.decl ??= new Set()).add(chain);
  }

  /** Per chain, its lines (once the writer is done). */
  get chains(): ReadonlyMap<string, Lines> {
    if (!this.byChain) return NO_LINES_BY_CHAIN;
    if (!this.done) {
      this.done = true;
      for (const g of this.byChain.values()) {
        g.text = g.lines.join('\n');
        g.lines = NO_LINES;
        // (kept for as long as the rules: without the room pushes left, most of it for two or three)
        g.origins = g.origins.slice();
      }
    }
    return this.byChain;
  }

  /** The chains it writes to without declaring them (the shared ones), with its lines there. */
  get sharedParts(): readonly ChainLines[] {
    if (!this.shared) {
      const parts: ChainLines[] = [];
      for (const g of this.chains.values()) if (!this.decl?.has(g.chain)) parts.push(g);
      this.shared = parts.length ? parts : NO_PARTS;
    }
    return this.shared;
  }

  /** Its chains as a template, endpoints by their place (`at`); null: an endpoint not there. */
  template(at: ReadonlyMap<EndpointRef, number>): TableTemplate | null {
    const chains: Array<TableTemplate['chains'][number]> = [];
    for (const g of this.chains.values()) {
      const origins: Array<Origin | number> = [];
      for (const o of g.origins) {
        if (o.kind !== 'endpoint') origins.push(o);
        else {
          const i = at.get(o.endpoint);
          if (i === undefined) return null;
          origins.push((i << 2) | ROLES.indexOf(o.role));
        }
      }
      chains.push({ chain: g.chain, text: g.text, origins });
    }
    return { declared: this.decl, chains };
  }

  /** A recorder holding what `t` says, for a port of these endpoints. */
  static of(table: Table, t: TableTemplate, endpoints: readonly EndpointSource[]): ChainRecorder {
    const r = new ChainRecorder(table);
    r.decl = t.declared;
    if (t.chains.length) {
      const m = (r.byChain = new Map());
      for (const c of t.chains) {
        const g = new Lines(table, c.chain);
        g.text = c.text;
        g.lines = NO_LINES;
        g.origins = c.origins.map((o) => (typeof o === 'number' ? endpointOrigin(endpoints[o >> 2], ROLES[o & 3]) : o));
        m.set(c.chain, g);
      }
    }
    r.done = true;
    return r;
  }

  private at(chain: string): Lines {
    const m = (this.byChain ??= new Map());
    let g = m.get(chain);
    if (!g) m.set(chain, (g = new Lines(this.table, chain)));
    return g;
  }

  rule(chain: string, args: string, origin: Origin): void {
    const g = this.at(chain);
    g.lines.push('-A ' + chain + ' ' + args);
    g.origins.push(origin);
  }

  ruleParts(chain: string, origin: Origin, a: string, b = '', c = '', d = '', e = '', f = '', g = '', h = '', i = ''): void {
    const x = this.at(chain);
    x.lines.push('-A ' + chain + ' ' + a + b + c + d + e + f + g + h + i);
    x.origins.push(origin);
  }

  endpointRule(chain: string, ep: EndpointSource, role: EndpointRole, a: string, b = '', c = '', d = '', e = '', f = '', g = '', h = '', i = ''): void {
    const x = this.at(chain);
    x.lines.push('-A ' + chain + ' ' + a + b + c + d + e + f + g + h + i);
    x.origins.push(endpointOrigin(ep, role));
  }

  endpointLine(chain: string, head: string, ep: EndpointSource, role: EndpointRole, a: string, b = '', c = '', d = '', e = '', f = ''): void {
    const x = this.at(chain);
    x.lines.push(head + a + b + c + d + e + f);
    x.origins.push(endpointOrigin(ep, role));
  }
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

/** The origins of a rewritten chain's rules, in order (a chain of one writer: its own array,
 *  not to be changed). */
export function chainOrigins(parts: readonly ChainLines[]): Origin[] {
  if (parts.length === 1) return parts[0].origins;
  const out: Origin[] = [];
  for (const g of parts) for (const o of g.origins) out.push(o);
  return out;
}

/** At most this many replaced ServicePorts take the short way (`fewChanged`). */
const FEW = 64;

/** A ServicePort as this node's kube-proxy sees it, and its share of the rules. */
interface PortEntry {
  readonly sp: ServicePort;
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
  return { sp, info, sortKey: info ? info.ref.servicePortName + '\0' + info.protocol : '', endpoints: info ? info.endpoints.length : 0, contrib: null, large: false, used };
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
  /** Per table, chain → the lines of a chain one service port declared and owns. */
  owned: PerTable<Map<string, ChainLines>>;
  /** Per table, chain → the texts of the writers of a chain several share (KUBE-SERVICES, …). */
  shared: PerTable<Map<string, string[]>>;
  /** Per table, the chains the rules of no port declare (the shared chains kube-proxy always declares). */
  declaredShared: PerTable<Set<string>>;
  prologue: Contribution;
  epilogue: Contribution;
}

type PerTable<T> = Record<Table, T>;

function perTable<T>(make: () => T): PerTable<T> {
  return { filter: make(), nat: make() };
}

function recorder(): Contribution {
  return { filter: new ChainRecorder('filter'), nat: new ChainRecorder('nat') };
}

/**
 * What a port's writer wrote, left for the other nodes' kube-proxies when the port's rules are
 * the same on every node (most are: 3 nodes wrote and joined the same 200,000 lines each): per
 * table, its chains' texts and each rule's origin, an endpoint's as its place among the port's
 * endpoints and its role (every node has endpoint objects of its own). `key` is what else the
 * rules depend on (the layout's nodeFreeKey). ServicePort objects are not changed once made (the
 * syncers' caches assume it too); the port's chain names are checked all the same.
 */
interface Template {
  key: string;
  hash: string;
  /** The endpoints' KUBE-SEP chains, in order. */
  seps: readonly string[];
  tables: PerTable<TableTemplate>;
}

interface TableTemplate {
  /** The writer's own set, shared (never changed: a recorder declares nothing once its writer is done). */
  declared: Set<string> | null;
  chains: ReadonlyArray<{ chain: string; text: string; origins: ReadonlyArray<Origin | number> }>;
}

const ROLES: readonly EndpointRole[] = ['affinity', 'loadBalance', 'hairpinMasquerade', 'dnat'];

/** Per ServicePort object, the template its rules were last written to. */
const templates = new WeakMap<ServicePort, Template>();

/** A port's share of the rules: taken from its template when one fits, else written (and kept
 *  as its template when the rules are the same on every node). */
function contribution(L: LayoutImpl<unknown>, ctx: unknown, e: PortEntry): Contribution {
  const p = e.info!;
  const key = L.nodeFreeKey?.(ctx, p) ?? null;
  const t = key === null ? undefined : templates.get(e.sp);
  if (t && t.key === key && t.hash === p.hash && t.seps.length === p.endpoints.length && p.endpoints.every((ep, i) => ep.sep === t.seps[i])) {
    return { filter: ChainRecorder.of('filter', t.tables.filter, p.endpoints), nat: ChainRecorder.of('nat', t.tables.nat, p.endpoints) };
  }
  const c = recorder();
  L.port(ctx, p, c.filter, c.nat, null);
  if (key !== null) {
    const at = new Map<EndpointRef, number>();
    p.endpoints.forEach((ep, i) => at.set(ep, i));
    const filter = c.filter.template(at);
    const nat = c.nat.template(at);
    if (filter && nat) templates.set(e.sp, { key, hash: p.hash, seps: p.endpoints.map((ep) => ep.sep), tables: { filter, nat } });
  }
  return c;
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
  /** `texts`: shared by the kube-proxies of one cluster (see joinPieces). */
  constructor(private readonly texts: SharedText = { last: null }) {}

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
    if (!last || (table !== 'filter' && table !== 'nat')) return false;
    return last.declaredShared[table].has(chain) || (!topLevel && last.owned[table].has(chain));
  }

  /**
   * `handEdited` (with `partial`): the node may hold rules a console changed since the last
   * sync. The partial sync is then kube-proxy's own: the top-level chains are written whole
   * (whatever they hold now), the chains of changed ports as usual, and chains that look like a
   * service's but that no port owns are found among `existingNatChains()` and deleted; the
   * other ports' chains are left as they are, edits and all.
   */
  sync(input: GenerateInput, partial: boolean, existingNatChains: () => readonly string[], handEdited = false): ProxySync {
    const L = layoutOf(input);
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
      // (the cluster hands the ports in order already: one look instead of a sort)
      let ordered = true;
      for (let i = 1; ordered && i < proxied.length; i++) ordered = comparePorts(proxied[i - 1], proxied[i]) <= 0;
      if (!ordered) perm.sort((i, j) => comparePorts(proxied[i], proxied[j]) || i - j);
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
      e.contrib = contribution(L, ctx, e);
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
      ctx ??= L.context(input, large);
      const c = contribution(L, ctx, e);
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
    const owned = perTable(() => new Map<string, ChainLines>());
    const sharedParts = perTable(() => new Map<string, RewrittenChain>());
    const rewritten: RewrittenChain[] = [];
    const declaredShared = perTable(() => new Set<string>());
    /** The chains declared (each once), in order. */
    const declared = perTable((): string[] => []);
    const addShared = (table: Table, g: ChainLines) => {
      let r = sharedParts[table].get(g.chain);
      if (!r) {
        sharedParts[table].set(g.chain, (r = { table, chain: g.chain, parts: [], refill: true }));
        rewritten.push(r);
      }
      r.parts.push(g);
    };
    const isDeclared = (t: Table, c: string) => owned[t].has(c) || declaredShared[t].has(c);
    const declareShared = (t: Table, rec: ChainRecorder) => {
      for (const c of rec.declared) {
        if (!isDeclared(t, c)) declared[t].push(c);
        declaredShared[t].add(c);
      }
    };
    for (const t of TABLES) {
      declareShared(t, prologue[t]);
      for (const g of prologue[t].chains.values()) addShared(t, g);
    }
    for (const contrib of contribs) {
      for (const t of TABLES) {
        const rec = contrib[t];
        const mine = owned[t];
        if (rec.declared.size) {
          const chains = rec.chains;
          for (const c of rec.declared) {
            const g = chains.get(c);
            // (declared before: by a port, which owns it, or by the rules of no port)
            const n = mine.size;
            mine.set(c, g ?? EMPTY);
            if (mine.size !== n && !declaredShared[t].has(c)) declared[t].push(c);
            if (g?.origins.length) rewritten.push(g);
          }
        }
        for (const g of rec.sharedParts) addShared(t, g);
      }
    }
    for (const t of TABLES) {
      declareShared(t, epilogue[t]);
      for (const g of epilogue[t].chains.values()) addShared(t, g);
    }
    // Stale service chains (kube-proxy finds them with iptables-save): flush, then delete.
    const stale: string[] = [];
    for (const chain of existingNatChains()) {
      if (owned.nat.has(chain) || !L.ours.some((pre) => chain.startsWith(pre))) continue;
      stale.push(chain);
    }
    stale.sort();

    // Pieces of the text, joined once (a line per chain declared would be 60,000 strings more).
    const out: string[] = [];
    for (const t of TABLES) {
      out.push('*', t, '\n');
      for (const c of declared[t]) out.push(':', c, ' - [0:0]\n');
      if (t === 'nat') for (const c of stale) if (!isDeclared('nat', c)) out.push(':', c, ' - [0:0]\n');
      for (const r of rewritten) {
        if (r.table !== t) continue;
        // (a declared chain's own lines: no parts array made for each of them)
        if (r instanceof Lines) {
          if (r.text !== '') out.push(r.text, '\n');
        } else for (const g of r.parts) if (g.text !== '') out.push(g.text, '\n');
      }
      if (t === 'nat') for (const c of stale) out.push('-X ', c, '\n');
      out.push('COMMIT\n');
    }
    const shared = perTable(() => new Map<string, string[]>());
    for (const t of TABLES) for (const [chain, r] of sharedParts[t]) shared[t].set(chain, r.parts.map((g) => g.text));
    this.last = { large, keys, perm, sorted: contribs, owned, shared, declaredShared, prologue, epilogue };
    return { text: joinPieces(this.texts, out), chains: null, rewritten };
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
        for (const g of was[t].sharedParts) dirty.add(t + '/' + g.chain);
        for (const g of now[t].sharedParts) dirty.add(t + '/' + g.chain);
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
      for (const list of [removed, added]) for (const c of list) for (const t of TABLES) for (const g of c[t].sharedParts) dirty.add(t + '/' + g.chain);
    }
    // The rules of no port depend on the node and settings only, which did not change; still,
    // a shared chain they write is compared like any other when they differ.
    for (const t of TABLES) {
      for (const g of prologue[t].chains.values()) if (g.text !== last.prologue[t].chains.get(g.chain)?.text) dirty.add(t + '/' + g.chain);
      for (const g of epilogue[t].chains.values()) if (g.text !== last.epilogue[t].chains.get(g.chain)?.text) dirty.add(t + '/' + g.chain);
    }
    // On a node edited by hand the top-level chains are written whatever they hold.
    if (edits) for (const t of TABLES) for (const chain of last.declaredShared[t]) dirty.add(t + '/' + chain);
    if (!removed.length && !added.length && !dirty.size) {
      last.sorted = contribs;
      return { text: null, chains: new Set(), rewritten: [] };
    }
    const before = new Map<string, ChainLines>();
    for (const c of removed) {
      for (const t of TABLES) {
        const rec = c[t];
        for (const chain of rec.declared) {
          const g = last.owned[t].get(chain);
          if (g) before.set(t + '/' + chain, g);
          last.owned[t].delete(chain);
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
          last.owned[t].set(chain, g);
          // The same rules keep their place (and counters); their origins are still renewed
          // (an endpoint that moved to another node keeps its rules but not its origin).
          if (prev && prev.text === g.text) {
            if (g.origins.length) rewritten.push({ table: t, chain, parts: [g], refill: false });
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
      for (const c of contribs) for (const g of c[t].sharedParts) if (g.chain === chain) parts.push(g);
      const p1 = epilogue[t].chains.get(chain);
      if (p1) parts.push(p1);
      const lines = parts.map((g) => g.text);
      if (!edits && sameText(lines, last.shared[t].get(chain) ?? [])) continue;
      // A built-in chain's rules cannot be refilled alone (nothing declares it).
      if (!last.declaredShared[t].has(chain)) return null;
      last.shared[t].set(chain, lines);
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
        if (gone.has(chain) || last.owned.nat.has(chain) || !edits.ours.some((pre) => chain.startsWith(pre))) continue;
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

/** The last full sync's text and the pieces it was joined from. */
export interface SharedText {
  last: { pieces: readonly string[]; text: string } | null;
}

/** `pieces` joined: on the nodes whose ports all took the first node's templates a full sync
 *  writes the very same pieces, and gets the very same string (15 MB not joined again, and a
 *  restore that compares it with its last input finds it equal at once). */
function joinPieces(shared: SharedText, pieces: readonly string[]): string {
  const last = shared.last;
  if (last && last.pieces.length === pieces.length) {
    let i = 0;
    while (i < pieces.length && pieces[i] === last.pieces[i]) i++;
    if (i === pieces.length) return last.text;
  }
  const text = pieces.join('');
  shared.last = { pieces, text };
  return text;
}

/** The same chains with the same lines, in the same order. */
function sameParts(a: readonly ChainLines[], b: readonly ChainLines[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].chain !== b[i].chain || a[i].text !== b[i].text) return false;
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
