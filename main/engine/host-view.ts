// What the rules browser shows of one host, read without changing anything: its netfilter
// tables (chains with policies, policy counters and references, rules as `iptables -S` prints
// them with their counters), its ipsets (as `ipset list`) and its conntrack table (as
// `conntrack -L`). Plain JSON (shared/rules-view.ts). Big hosts are answered in part: at most
// `limit` rules, taken chain by chain (the other chains come with their counts only), so a
// node of 60,000 rules answers at once; the browser asks for a chain's rules when it opens it.
// Past the chain budget, the chains the built-in chains jump to are still listed (KUBE-SERVICES
// sorts after 20,000 KUBE-SEP-… chains).

import type { ChainRow, IpsetRow, RuleRow, RulesQuery, RulesView, TableRow } from '../../shared/rules-view.ts';
import type { Host } from './host.ts';
import { ruleSpec } from './netfilter/save.ts';
import { TARGETS } from './netfilter/targets/index.ts';
import { TABLE_NAMES, type Chain, type Rule, type Table } from './netfilter/types.ts';
import { formatSet, headerOptions } from './netfilter/ipset/format.ts';
import { formatLine } from './conntrack/format.ts';

export const RULES_LIMITS = {
  /** Rules in an answer when the query does not say. */
  rules: 5_000,
  /** Chains listed in an answer when the query does not say. */
  chains: 2_000,
  /** The most a query may ask for, of either. */
  max: 100_000,
  /** Members shown per set, and in all sets together. */
  setMembers: 2_000,
  allMembers: 20_000,
  /** conntrack -L lines. */
  conntrack: 5_000,
} as const;

/** Rules (of the table) that jump or go to each chain: `iptables -L`'s "(N references)". One
 *  pass over the table (TableState.references counts for one chain at a time). */
export function chainReferences(t: Table): Map<string, number> {
  const refs = new Map<string, number>();
  for (const c of t.chains.values()) {
    for (const r of c.rules) {
      const n = r.target?.name;
      if (n === undefined || TARGETS.has(n)) continue;
      refs.set(n, (refs.get(n) ?? 0) + 1);
    }
  }
  return refs;
}

/** A table's chains, their references and rule count, as of a netfilter generation (every
 *  change bumps it; counters are read live from the rules). User chains are put in order only
 *  as far as an answer needs: sorting the 40,000 chains of a 60,000-rule node takes longer than
 *  picking the first thousand. */
interface TableShape {
  generation: number;
  builtins: Chain[];
  /** User chains in creation order; `sorted` once all were needed in order, `prefix` the first
   *  ones in order (the longest asked for so far). */
  users: Chain[];
  sorted?: Chain[];
  prefix?: Chain[];
  refs: Map<string, number>;
  rules: number;
  /** User chains the built-in chains' rules jump or go to (the first 1,000 such rules): where a
   *  packet enters the table's own chains, listed even past the chain budget. */
  entries: Chain[];
}
const shapes = new WeakMap<Table, TableShape>();

function shapeOf(t: Table, generation: number): TableShape {
  const known = shapes.get(t);
  if (known && known.generation === generation) return known;
  let rules = 0;
  const builtins: Chain[] = [];
  const users: Chain[] = [];
  const entries = new Set<Chain>();
  for (const c of t.chains.values()) {
    rules += c.rules.length;
    if (!c.builtin) {
      users.push(c);
      continue;
    }
    builtins.push(c);
    for (const r of c.rules.slice(0, 1_000)) {
      const n = r.target?.name;
      if (n === undefined || TARGETS.has(n)) continue;
      const to = t.chains.get(n);
      if (to && !to.builtin) entries.add(to);
    }
  }
  const shape: TableShape = { generation, builtins, users, refs: chainReferences(t), rules, entries: sortByName([...entries]) };
  shapes.set(t, shape);
  return shape;
}

/** strcmp order (save.ts's byName); chain names are ASCII, where UTF-16 order is strcmp's. */
function sortByName(a: Chain[]): Chain[] {
  return a.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The first `k` user chains in listing order. */
function firstUsers(s: TableShape, k: number): Chain[] {
  if (k <= 0) return [];
  if (s.sorted) return s.sorted.slice(0, k);
  if (s.prefix && s.prefix.length >= k) return s.prefix.slice(0, k);
  if (k * 4 >= s.users.length) {
    s.sorted = sortByName(s.users.slice());
    return s.sorted.slice(0, k);
  }
  // Quickselect (Hoare partition) of the k smallest names, then a sort of those alone.
  const b = s.users.slice();
  let lo = 0;
  let hi = b.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const p = b[(lo + hi) >> 1].name;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (b[i].name < p) i++;
      while (b[j].name > p) j--;
      if (i <= j) {
        const x = b[i];
        b[i] = b[j];
        b[j] = x;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  s.prefix = sortByName(b.slice(0, k));
  return s.prefix.slice();
}

/** Two lists in name order merged, without repeats. */
function mergeByName(a: Chain[], b: Chain[]): Chain[] {
  const out: Chain[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].name < b[j].name)) out.push(a[i++]);
    else if (i >= a.length || b[j].name < a[i].name) out.push(b[j++]);
    else {
      out.push(a[i++]);
      j++;
    }
  }
  return out;
}

/** A rule's text never changes (match and target data are fixed once parsed; counters are not
 *  part of it): kept per rule, with its lower-case form for the filter. */
const texts = new WeakMap<Rule, string>();
const lowerTexts = new WeakMap<Rule, string>();

/** The rule text of `iptables -S` after `-A CHAIN ` (ruleSpec starts with a space). */
export function ruleText(r: Rule): string {
  let s = texts.get(r);
  if (s === undefined) texts.set(r, (s = ruleSpec(r).slice(1)));
  return s;
}

function lowerText(r: Rule): string {
  let s = lowerTexts.get(r);
  if (s === undefined) lowerTexts.set(r, (s = ruleText(r).toLowerCase()));
  return s;
}

function ruleRow(r: Rule, num: number, t: Table): RuleRow {
  const target = r.target?.name ?? null;
  return {
    num,
    spec: ruleText(r),
    packets: r.packets,
    bytes: r.bytes,
    target,
    goto: r.target?.goto === true,
    targetChain: target !== null && !TARGETS.has(target) && t.chains.has(target),
  };
}

const clamp = (n: number | undefined, dflt: number): number => Math.max(0, Math.min(n ?? dflt, RULES_LIMITS.max));

/** One host's rules, sets and connections (see RulesView). Reads only. */
export function hostView(host: Host, now: number, q: RulesQuery = {}): RulesView {
  const limit = clamp(q.limit, RULES_LIMITS.rules);
  const chainLimit = clamp(q.chainLimit, RULES_LIMITS.chains);
  const needle = q.filter ? q.filter.toLowerCase() : '';
  let budget = limit;
  let chainBudget = chainLimit;
  let truncated = false;
  let totalRules = 0;
  const tables: TableRow[] = [];
  for (const name of TABLE_NAMES) {
    const t = host.nf.table(name);
    if (!t) continue;
    const shape = shapeOf(t, host.nf.generation);
    totalRules += shape.rules;
    const chains: ChainRow[] = [];
    tables.push({ name, chains, chainCount: t.chains.size, ruleCount: shape.rules });
    if (q.table !== undefined && q.table !== name) continue;
    const only = q.chain === undefined ? undefined : t.chains.get(q.chain);
    if (q.chain !== undefined && !only) continue;
    let list: Chain[];
    /** Rules of chains whose name does not contain the needle: the first that does, by chain. */
    const firstHit = new Map<Chain, number>();
    if (only) list = [only];
    else if (needle) {
      const hit = (c: Chain): boolean => {
        if (c.name.toLowerCase().includes(needle)) return true;
        const i = c.rules.findIndex((r) => lowerText(r).includes(needle));
        if (i >= 0) firstHit.set(c, i);
        return i >= 0;
      };
      list = shape.builtins.filter(hit).concat(sortByName(shape.users.filter(hit)));
    } else {
      // The chain budget, then the chains packets enter by (past it).
      const builtins = shape.builtins.slice(0, chainBudget);
      const users = firstUsers(shape, chainBudget - builtins.length);
      if (builtins.length < shape.builtins.length || users.length < shape.users.length) truncated = true;
      chainBudget -= builtins.length + users.length;
      list = builtins.concat(users.length === shape.users.length ? users : mergeByName(users, shape.entries));
    }
    for (const c of list) {
      const first = firstHit.get(c) ?? -1;
      if (needle && !only) {
        if (chainBudget === 0) {
          truncated = true;
          break;
        }
        chainBudget--;
      } else if (only) chainBudget = Math.max(0, chainBudget - 1);
      const byName = first < 0;
      const row = chainRow(c, shape.refs);
      chains.push(row);
      if (byName) {
        const from = only ? Math.min(q.offset ?? 0, c.rules.length) : 0;
        const n = Math.min(budget, c.rules.length - from);
        for (let i = from; i < from + n; i++) row.rules.push(ruleRow(c.rules[i], i + 1, t));
        budget -= n;
        if (from + n < c.rules.length || from > 0) row.partial = truncated = true;
        continue;
      }
      // Only the matching rules.
      for (let i = first; i < c.rules.length; i++) {
        if (!lowerText(c.rules[i]).includes(needle)) continue;
        if (budget === 0) {
          row.partial = truncated = true;
          break;
        }
        row.rules.push(ruleRow(c.rules[i], i + 1, t));
        budget--;
      }
    }
  }
  return {
    host: host.name,
    tables,
    ipsets: ipsetRows(host),
    ...conntrackLines(host, now),
    totalRules,
    carriedRules: limit - budget,
    limit,
    chainLimit,
    truncated,
  };
}

function chainRow(c: Chain, refs: Map<string, number>): ChainRow {
  const row: ChainRow = {
    name: c.name,
    builtin: c.builtin,
    packets: c.builtin ? c.packets : 0,
    bytes: c.builtin ? c.bytes : 0,
    references: c.builtin ? 0 : (refs.get(c.name) ?? 0),
    ruleCount: c.rules.length,
    rules: [],
    partial: false,
  };
  if (c.builtin) row.policy = c.policy ?? 'ACCEPT';
  return row;
}

/** The sets as `ipset list` prints them (dump order), members capped. The store's own dump
 *  would first drop expired members (a change): members(now) leaves them out without that. */
function ipsetRows(host: Host): IpsetRow[] {
  const store = host.ipsets;
  const now = store.now();
  let left: number = RULES_LIMITS.allMembers;
  const rows: IpsetRow[] = [];
  for (const name of store.names()) {
    const set = store.get(name);
    if (!set) continue;
    const header = store.header(name, set);
    const all = set.members(now);
    const members = all.slice(0, Math.min(left, RULES_LIMITS.setMembers));
    left -= members.length;
    const text = formatSet({ header, members }, { mode: 'plain', terse: false, names: false, sorted: false, resolve: false }, true);
    const body = text.slice(text.indexOf('Members:\n') + 'Members:\n'.length);
    rows.push({
      name,
      type: header.type,
      header: headerOptions(header).map(([k, v]) => (v === null ? k : `${k} ${v}`)).join(' '),
      references: header.references,
      elements: header.elements,
      members: body ? body.slice(0, -1).split('\n') : [],
    });
  }
  return rows;
}

function conntrackLines(host: Host, now: number): { conntrack: string[]; conntrackCount: number } {
  const entries = host.ct.list({}, now);
  return {
    conntrack: entries.slice(0, RULES_LIMITS.conntrack).map((e) => formatLine(e, now)),
    conntrackCount: entries.length,
  };
}
