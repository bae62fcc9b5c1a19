// Two hosts' rules side by side (the rules browser's Compare): their `iptables-save` texts,
// table by table and chain by chain, as the rules one has and the other lacks. Rules are
// compared as text (iptables-save's canonical form), as a multiset per chain: the same rule
// twice on one side and once on the other is one difference. Order within a chain is not
// compared; counters are not part of iptables-save without -c.

export interface ChainCompare {
  name: string;
  /** The built-in chain's policy on each side (undefined: a user chain, or absent). */
  policyA?: string;
  policyB?: string;
  /** Whether the chain exists on each side. */
  inA: boolean;
  inB: boolean;
  /** Rule specs (after `-A CHAIN `) only on A, only on B. */
  onlyA: string[];
  onlyB: string[];
  /** Rules on both. */
  same: number;
}

export interface TableCompare {
  name: string;
  /** Chains that differ (in rules, policy or existence), in A's order then B's new ones. */
  chains: ChainCompare[];
  /** Chains alike on both sides. */
  sameChains: number;
}

export interface RulesCompare {
  a: string;
  b: string;
  tables: TableCompare[];
  /** Rules only on A, only on B, on both (all tables). */
  onlyA: number;
  onlyB: number;
  same: number;
  /** Whether rule lists were cut at `maxLines` (the counts stay exact). */
  truncated: boolean;
}

interface SideTable {
  order: string[];
  chains: Map<string, { policy?: string; rules: string[] }>;
}

interface Side {
  order: string[];
  tables: Map<string, SideTable>;
}

function parseSave(text: string): Side {
  const side: Side = { order: [], tables: new Map() };
  let table: SideTable = { order: [], chains: new Map() };
  const chain = (name: string) => {
    let c = table.chains.get(name);
    if (!c) {
      c = { rules: [] };
      table.chains.set(name, c);
      table.order.push(name);
    }
    return c;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = side.tables.get(name) ?? { order: [], chains: new Map() };
      if (!side.tables.has(name)) {
        side.tables.set(name, table);
        side.order.push(name);
      }
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      const c = chain(name);
      if (policy && policy !== '-') c.policy = policy;
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      const name = sp < 0 ? line.slice(3) : line.slice(3, sp);
      chain(name).rules.push(sp < 0 ? '' : line.slice(sp + 1));
    }
  }
  return side;
}

/** The differences between two `iptables-save` texts; each rule list carries at most `maxLines`. */
export function compareSaves(a: string, b: string, names: { a: string; b: string }, maxLines = 2_000): RulesCompare {
  const A = parseSave(a);
  const B = parseSave(b);
  const out: RulesCompare = { a: names.a, b: names.b, tables: [], onlyA: 0, onlyB: 0, same: 0, truncated: false };
  let lines = 0;
  const keep = (list: string[], r: string): void => {
    if (lines < maxLines) {
      list.push(r);
      lines++;
    } else out.truncated = true;
  };
  const tableNames = [...A.order, ...B.order.filter((t) => !A.tables.has(t))];
  for (const tn of tableNames) {
    const ta = A.tables.get(tn);
    const tb = B.tables.get(tn);
    const tc: TableCompare = { name: tn, chains: [], sameChains: 0 };
    const chainNames = [...(ta?.order ?? []), ...(tb?.order ?? []).filter((c) => !ta?.chains.has(c))];
    for (const cn of chainNames) {
      const ca = ta?.chains.get(cn);
      const cb = tb?.chains.get(cn);
      const cc: ChainCompare = { name: cn, inA: !!ca, inB: !!cb, onlyA: [], onlyB: [], same: 0 };
      if (ca?.policy) cc.policyA = ca.policy;
      if (cb?.policy) cc.policyB = cb.policy;
      const count = new Map<string, number>();
      for (const r of cb?.rules ?? []) count.set(r, (count.get(r) ?? 0) + 1);
      let onlyA = 0;
      for (const r of ca?.rules ?? []) {
        const n = count.get(r) ?? 0;
        if (n > 0) {
          count.set(r, n - 1);
          cc.same++;
        } else {
          onlyA++;
          keep(cc.onlyA, r);
        }
      }
      let onlyB = 0;
      for (const r of cb?.rules ?? []) {
        const n = count.get(r) ?? 0;
        if (n > 0) {
          count.set(r, n - 1);
          onlyB++;
          keep(cc.onlyB, r);
        }
      }
      out.onlyA += onlyA;
      out.onlyB += onlyB;
      out.same += cc.same;
      if (onlyA || onlyB || cc.inA !== cc.inB || cc.policyA !== cc.policyB) tc.chains.push(cc);
      else tc.sameChains++;
    }
    out.tables.push(tc);
  }
  return out;
}
