// An index over one chain that yields, in rule order, only the rules that can possibly match
// a packet: those requiring exactly its destination address (/32), those requiring exactly
// its protocol and destination port, and every rule the index cannot classify. It never
// changes which rule matches first: the candidates come out in ascending rule order and every
// rule left out provably fails a match (tests compare indexed and linear walks).

import { MATCHES } from './matches/index.ts';
import type { Chain, Packet, Rule } from './types.ts';

/** Chains shorter than this are walked linearly: the index would not pay for itself. */
export const INDEX_MIN_RULES = 16;

export class ChainIndex {
  private readonly byDst = new Map<number, number[]>();
  private readonly byPort = new Map<number, number[]>();
  private readonly wild: number[] = [];

  constructor(rules: readonly Rule[]) {
    // A loop with no object per rule: chains of kube-proxy's are indexed whole after a load.
    for (let i = 0; i < rules.length; i++) {
      const kind = classify(rules[i]);
      if (kind === NONE) this.wild.push(i);
      else {
        const map = kind === DST ? this.byDst : this.byPort;
        const list = map.get(classified);
        if (list) list.push(i);
        else map.set(classified, [i]);
      }
    }
  }

  /** Candidate rule positions (0-based, ascending) for `pkt` (not to be changed: a packet
   *  that no rule is indexed for gets the unindexed rules' own list). */
  candidates(pkt: Packet): readonly number[] {
    const a = this.byDst.get(pkt.dst >>> 0);
    const b = pkt.dport ? this.byPort.get(portKey(pkt.proto, pkt.dport)) : undefined;
    if (!a && !b) return this.wild;
    return merge3(a, b, this.wild);
  }
}

function portKey(proto: number, port: number): number {
  return proto * 65536 + port;
}

/** Matches that change state while matching: a rule is only indexed by a port if none of
 *  these comes before its port match (the kernel would run them before the port misses). */
const STATEFUL = new Set(['statistic', 'recent', 'limit', 'hashlimit', 'connlimit', 'quota']);

const NONE = 0;
const DST = 1;
const PORT = 2;
/** The key of the rule classify() last classified by DST or PORT. */
let classified = 0;

/** Whether a rule is indexed by its destination or its protocol and port (the key is left in
 *  `classified`), or not at all. */
function classify(r: Rule): typeof NONE | typeof DST | typeof PORT {
  // -d is a core field: the kernel tests it before any match module runs
  if (r.dst && !r.dst.neg && r.dst.len === 32) {
    classified = r.dst.addr >>> 0;
    return DST;
  }
  if (r.proto && !r.proto.neg && r.proto.num !== 0) {
    for (const m of r.matches) {
      const mod = MATCHES.get(m.module);
      const port = mod?.exactDport?.(m.data);
      if (port !== undefined) {
        classified = portKey(r.proto.num, port);
        return PORT;
      }
      if (STATEFUL.has(m.module)) return NONE;
    }
  }
  return NONE;
}

const EMPTY: readonly number[] = [];

function merge3(a: readonly number[] = EMPTY, b: readonly number[] = EMPTY, c: readonly number[] = EMPTY): number[] {
  const out: number[] = [];
  let i = 0, j = 0, k = 0;
  while (i < a.length || j < b.length || k < c.length) {
    const x = i < a.length ? a[i] : Infinity;
    const y = j < b.length ? b[j] : Infinity;
    const z = k < c.length ? c[k] : Infinity;
    if (x <= y && x <= z) {
      out.push(x);
      i++;
    } else if (y <= z) {
      out.push(y);
      j++;
    } else {
      out.push(z);
      k++;
    }
  }
  return out;
}

/** What the walk keeps of one chain for one ruleset generation: its index (null for a short
 *  chain, walked linearly) and per-rule data the walk makes on first use (compiled tests). */
export interface ChainPlan {
  index: ChainIndex | null;
  rules: unknown[];
}

/** Per-chain index cache, invalidated when the owning ruleset's generation changes. */
export class IndexCache {
  private gen = -1;
  private map = new WeakMap<Chain, ChainIndex>();
  private plans = new WeakMap<Chain, ChainPlan>();

  /** `minRules` = Infinity turns indexing off (the plain linear walk, for comparison). */
  constructor(private readonly minRules = INDEX_MIN_RULES) {}

  get(chain: Chain, generation: number): ChainIndex | null {
    if (chain.rules.length < this.minRules) return null;
    this.sync(generation);
    let idx = this.map.get(chain);
    if (!idx) {
      idx = new ChainIndex(chain.rules);
      this.map.set(chain, idx);
    }
    return idx;
  }

  /** The chain's plan for this generation (made on first use). */
  plan(chain: Chain, generation: number): ChainPlan {
    this.sync(generation);
    let p = this.plans.get(chain);
    if (!p) {
      // (sized: a long chain's plans are made out of order, and a sparse array would turn slow)
      p = { index: this.get(chain, generation), rules: new Array(chain.rules.length) };
      this.plans.set(chain, p);
    }
    return p;
  }

  private sync(generation: number): void {
    if (generation !== this.gen) {
      this.map = new WeakMap();
      this.plans = new WeakMap();
      this.gen = generation;
    }
  }

  /** Drop everything (used by tests and after bulk loads). */
  clear(): void {
    this.map = new WeakMap();
    this.plans = new WeakMap();
    this.gen = -1;
  }
}
