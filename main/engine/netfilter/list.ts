// `iptables -L`: iptables 1.8.9's column layout (print_header / print_rule_details /
// print_ipv4_addresses), counters with K/M/G/T units unless -x, `anywhere` and service names
// unless -n (which also prints protocols as numbers), the match and target texts of each
// module, built-in chains then user chains sorted by name.

import type { Chain, Rule } from './types.ts';
import { MATCHES } from './matches/index.ts';
import { TARGETS } from './targets/index.ts';
import { protoName, withServiceProfile, type ServiceProfile } from './services.ts';
import { listAddress } from './addr.ts';
import { orderedChains } from './save.ts';
import type { TableState } from './ruleset.ts';

export interface ListOptions {
  chain?: string;
  rulenum?: number;
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  services?: ServiceProfile;
}

/** xtables_print_num in a table (`notable` false) or inline. */
export function printNum(n: number, exact: boolean, notable: boolean): string {
  if (exact) return notable ? `${n} ` : `${String(n).padStart(8)} `;
  if (n <= 99999) return notable ? `${n} ` : `${String(n).padStart(5)} `;
  const units = ['K', 'M', 'G', 'T'];
  let v = n;
  for (let i = 0; i < units.length; i++) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999 || i === units.length - 1) return notable ? `${v}${units[i]} ` : `${String(v).padStart(4)}${units[i]} `;
  }
  return `${n} `;
}

const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

function header(o: ListOptions): string {
  let s = '';
  if (o.lineNumbers) s += 'num  ';
  if (o.verbose) s += o.exact ? `${lpad('pkts', 8)} ${lpad('bytes', 10)} ` : ' pkts bytes ';
  s += 'target    ';
  s += ' prot opt';
  if (o.verbose) s += ' in     out    ';
  s += ` ${pad('source', 19)} `;
  s += ` ${pad('destination', 19)} `;
  return s;
}

function chainHeader(c: Chain, refs: number, o: ListOptions): string {
  if (!c.builtin) return `Chain ${c.name} (${refs} references)`;
  let s = `Chain ${c.name} (policy ${c.policy ?? 'ACCEPT'}`;
  if (o.verbose) s += ` ${printNum(c.packets, o.exact, true)}packets, ${printNum(c.bytes, o.exact, true)}bytes`;
  return s + ')';
}

function withSpace(s: string): string {
  return s === '' || s[0] === ' ' ? s : ' ' + s;
}

/** The target column: a chain or target name, or the name the kernel knows an alias by
 *  (NOTRACK is CT there, and -L reads the rule back from the kernel). */
function targetColumn(r: Rule): string {
  const t = r.target;
  if (!t) return '';
  return (!t.goto && TARGETS.get(t.name)?.listName) || t.name;
}

/** One rule line (no newline). */
export function ruleLine(r: Rule, num: number, o: ListOptions): string {
  let s = '';
  if (o.lineNumbers) s += pad(String(num), 4) + ' ';
  if (o.verbose) s += printNum(r.packets, o.exact, false) + printNum(r.bytes, o.exact, false);
  s += pad(targetColumn(r), 9) + ' ';
  const p = r.proto;
  s += p?.neg ? '!' : ' ';
  const pnum = p ? p.num : 0;
  const pname = o.numeric ? undefined : protoName(pnum, false);
  s += pad(pname ?? String(pnum), 4) + ' ';
  s += (r.fragment?.neg ? '!' : '-') + (r.fragment ? 'f' : '-') + ' ';
  if (o.verbose) {
    const any = o.numeric ? '*' : 'any';
    s += ` ${pad((r.inIface?.neg ? '!' : '') + (r.inIface?.name ?? any), 6)} `;
    s += `${pad((r.outIface?.neg ? '!' : '') + (r.outIface?.name ?? any), 6)} `;
  }
  s += (r.src?.neg ? '!' : ' ') + pad(listAddress(r.src?.addr ?? 0, r.src?.len ?? 0, o.numeric), 19) + ' ';
  s += (r.dst?.neg ? '!' : ' ') + pad(listAddress(r.dst?.addr ?? 0, r.dst?.len ?? 0, o.numeric), 19) + ' ';
  if (r.target?.goto) s += '[goto] ';
  for (const m of r.matches) {
    const mod = MATCHES.get(m.module);
    s += mod ? withSpace(mod.list(m.data as never, o.numeric)) : ` ${m.module}`;
  }
  if (r.target && !r.target.goto && r.target.data !== undefined) {
    const mod = TARGETS.get(r.target.name);
    if (mod) s += withSpace(mod.list(r.target.data as never, o.numeric));
  }
  return s;
}

/** A rule as `iptables -v` echoes it when adding/deleting (FMT_PRINT_RULE: numeric, untabled). */
export function ruleLineVerbose(r: Rule): string {
  let s = `${targetColumn(r)} `;
  s += r.proto?.neg ? '!' : ' ';
  const pnum = r.proto ? r.proto.num : 0;
  s += `${protoName(pnum, true) ?? pnum} `;
  s += 'opt ' + (r.fragment?.neg ? '!' : '-') + (r.fragment ? 'f' : '-') + ' ';
  s += `in ${r.inIface?.neg ? '!' : ''}${r.inIface?.name ?? '*'} `;
  s += `out ${r.outIface?.neg ? '!' : ''}${r.outIface?.name ?? '*'} `;
  s += (r.src?.neg ? '!' : ' ') + listAddress(r.src?.addr ?? 0, r.src?.len ?? 0, true) + ' ';
  s += (r.dst?.neg ? '!' : ' ') + '-> ' + listAddress(r.dst?.addr ?? 0, r.dst?.len ?? 0, true);
  s += '  ';
  if (r.target?.goto) s += '[goto] ';
  for (const m of r.matches) {
    const mod = MATCHES.get(m.module);
    s += mod ? withSpace(mod.list(m.data as never, true)) : ` ${m.module}`;
  }
  if (r.target && !r.target.goto && r.target.data !== undefined) {
    const mod = TARGETS.get(r.target.name);
    if (mod) s += withSpace(mod.list(r.target.data as never, true));
  }
  return s;
}

/** The -L text for one table (or one chain of it, or one rule). */
export function listChains(st: TableState, o: ListOptions): string {
  return withServiceProfile(o.services ?? 'current', () => {
    const chains = o.chain !== undefined ? [st.chain(o.chain)!] : orderedChains(st.table);
    const out: string[] = [];
    chains.forEach((c, i) => {
      if (o.rulenum === undefined) {
        if (i > 0) out.push('');
        out.push(chainHeader(c, c.builtin ? 0 : st.references(c.name), o), header(o));
      }
      c.rules.forEach((r, k) => {
        if (o.rulenum === undefined || o.rulenum === k + 1) out.push(ruleLine(r, k + 1, o));
      });
    });
    return out.length ? out.join('\n') + '\n' : '';
  });
}
