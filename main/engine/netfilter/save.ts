// iptables-save text, and the rule text `-S` and rule comparison (-D/-C) use. The order is
// iptables 1.8.9 (nf_tables)'s: tables mangle, security, raw, filter, nat (only those that
// exist), built-in chains then user chains sorted by name, and in each rule -s -d -i -o -p -f,
// then the matches in the order given, then -j/-g.

import type { Chain, Rule, Table, TableName } from './types.ts';
import { MATCHES } from './matches/index.ts';
import { TARGETS } from './targets/index.ts';
import { protoName } from './services.ts';
import { XT_VERSION } from './errors.ts';

/** The order iptables-nft keeps its tables in (and prints them). */
export const SAVE_ORDER: readonly TableName[] = ['mangle', 'security', 'raw', 'filter', 'nat'];

/** "0".."255" and "/0".."/32": an address's text is four table reads and one concatenation. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
const PREFIX: readonly string[] = Array.from({ length: 33 }, (_, i) => `/${i}`);

function addrText(letter: string, a: { addr: number; len: number; neg: boolean } | undefined): string {
  if (!a || (a.len === 0 && !a.neg && a.addr === 0)) return '';
  const n = a.addr;
  const text = OCTET[n >>> 24] + '.' + OCTET[(n >>> 16) & 255] + '.' + OCTET[(n >>> 8) & 255] + '.' + OCTET[n & 255] +
    (PREFIX[a.len] ?? `/${a.len}`);
  return (a.neg ? ' ! -' : ' -') + letter + ' ' + text;
}

/** Rule texts already made. Rules are never changed in place (a change replaces the rule
 *  object), so a rule's text is made once: a 100,000-rule iptables-save is mostly this. */
const specs = new WeakMap<Rule, string>();

/** The rule's part after `-A CHAIN`; `counters` puts ` -c p b` where `-S -v` prints it
 *  (after the matches, before the target). */
export function ruleSpec(r: Rule, counters = false): string {
  if (!counters) {
    let s = specs.get(r);
    if (s === undefined) specs.set(r, (s = flat(makeSpec(r, false))));
    return s;
  }
  return makeSpec(r, true);
}

/** `s` made flat in place: a text built by `+` is a tree of pieces (a "cons string") that every
 *  later join walks again, and kept as one it is also several times smaller. Converting it to a
 *  number is the cheapest operation that makes V8 flatten it (the result is thrown away). */
function flat(s: string): string {
  void Number(s);
  return s;
}

/** The pieces are joined once (a join makes one flat string; `+` would make a tree of them). */
function makeSpec(r: Rule, counters: boolean): string {
  const p: string[] = [];
  if (r.src) p.push(addrText('s', r.src));
  if (r.dst) p.push(addrText('d', r.dst));
  if (r.inIface) p.push(r.inIface.neg ? ' ! -i ' : ' -i ', r.inIface.name);
  if (r.outIface) p.push(r.outIface.neg ? ' ! -o ' : ' -o ', r.outIface.name);
  if (r.proto && (r.proto.num !== 0 || r.proto.neg)) {
    p.push(r.proto.neg ? ' ! -p ' : ' -p ', protoName(r.proto.num, false) ?? String(r.proto.num));
  }
  if (r.fragment) p.push(r.fragment.neg ? ' ! -f' : ' -f');
  for (const m of r.matches) {
    const mod = MATCHES.get(m.module);
    p.push(' -m ', m.module, mod ? mod.save(m.data as never) : '');
  }
  if (counters) p.push(` -c ${r.packets} ${r.bytes}`);
  if (r.target) p.push(targetSpec(r));
  return p.join('');
}

/** The rule's `-j TARGET options` or `-g CHAIN` as iptables-save prints it (with its leading
 *  space), '' for a rule without a target. */
export function targetSpec(r: Rule): string {
  const t = r.target;
  if (!t) return '';
  if (t.goto) return ' -g ' + t.name;
  const mod = TARGETS.get(t.name);
  return ' -j ' + t.name + (mod && t.data !== undefined ? mod.save(t.data as never) : '');
}

/** strcmp order, as the nft cache keeps user chains. */
export function byName(a: Chain, b: Chain): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A table's user chains in name order as last sorted, each with the name it was sorted under. */
interface Order {
  names: Map<Chain, string>;
  chains: Chain[];
}
const orders = new WeakMap<Table, Order>();

/** Built-in chains in hook order, then user chains sorted by name. The sorted order is kept
 *  per table and reused while the table has the same user chains under the same names (checked
 *  each time in the pass that finds the built-in chains: one lookup by chain object per chain),
 *  so only the first listing of a big table sorts. */
export function orderedChains(t: Table): Chain[] {
  const builtin: Chain[] = [];
  const kept = orders.get(t);
  let users = 0;
  let same = kept !== undefined;
  for (const c of t.chains.values()) {
    if (c.builtin) builtin.push(c);
    else {
      users++;
      if (same && kept!.names.get(c) !== c.name) same = false;
    }
  }
  if (same && kept!.chains.length === users) return builtin.concat(kept!.chains);
  let names: string[] = [];
  for (const c of t.chains.values()) if (!c.builtin) names.push(c.name);
  // Chain names are usually slices of the iptables-restore text they came from, which V8
  // compares about three times slower than strings of their own; a JSON round trip is the
  // cheapest way to get fresh copies of 60,000 names (measured: 0.35 s sorting to 0.12 s).
  if (names.length > 1000) names = JSON.parse(JSON.stringify(names)) as string[];
  // The default sort compares UTF-16 code units: strcmp's order for the ASCII names chains
  // have, and much faster than a comparator on 60,000 chains.
  names.sort();
  const chains: Chain[] = [];
  const byChain = new Map<Chain, string>();
  for (const n of names) {
    const c = t.chains.get(n) as Chain;
    chains.push(c);
    byChain.set(c, c.name);
  }
  orders.set(t, { names: byChain, chains });
  return builtin.concat(chains);
}

/** ctime(3) of a clock value in seconds (UTC): "Thu Nov 26 13:49:04 2026". */
export function ctime(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** One table's block, header and footer included. */
export function saveTable(t: Table, opts: { counters: boolean; clock: number }): string {
  const when = ctime(opts.clock);
  const chains = orderedChains(t);
  const lines: string[] = [`# Generated by iptables-save ${XT_VERSION} on ${when}`, `*${t.name}`];
  for (const c of chains) {
    lines.push(c.builtin ? `:${c.name} ${c.policy ?? 'ACCEPT'} [${c.packets}:${c.bytes}]` : `:${c.name} - [0:0]`);
  }
  // Pieces joined once (no string per line: a 100,000-rule save is mostly allocation).
  const parts: string[] = [lines.join('\n'), '\n'];
  for (const c of chains) {
    const head = `-A ${c.name}`;
    for (const r of c.rules) {
      if (opts.counters) parts.push(`[${r.packets}:${r.bytes}] `);
      parts.push(head, ruleSpec(r), '\n');
    }
  }
  parts.push('COMMIT\n# Completed on ', when, '\n');
  return parts.join('');
}

/** `-S [chain [n]]` lines. */
export function listRules(t: Table, opts: { chain?: Chain; rulenum?: number; counters: boolean }): string {
  const out: string[] = [];
  const chains = opts.chain ? [opts.chain] : orderedChains(t);
  if (opts.rulenum === undefined) {
    for (const c of chains) {
      if (c.builtin) out.push(`-P ${c.name} ${c.policy ?? 'ACCEPT'}${opts.counters ? ` -c ${c.packets} ${c.bytes}` : ''}`);
      else out.push(`-N ${c.name}`);
    }
  }
  for (const c of chains) {
    c.rules.forEach((r, i) => {
      if (opts.rulenum === undefined || opts.rulenum === i + 1) out.push(`-A ${c.name}${ruleSpec(r, opts.counters)}`);
    });
  }
  return out.length ? out.join('\n') + '\n' : '';
}
