// `-m set [!] --match-set NAME src|dst[,...]`: membership of the packet's addresses/ports in
// an ipset (revision 4 of libxt_set, what iptables 1.8.9 loads). Calico writes it for every
// selector peer and named port; kube-proxy's ipset-free mode never does. The options act as
// xt_set makes them act (SetTestOptions): --return-nomatch, ! --update-counters,
// ! --update-subcounters, and the counter conditions, which only a set created with the
// `counters` option has counters for (elsewhere they pass).

import { formatIPv4 } from '../../net/ipv4.ts';
import type { MatchCtx, MatchModule, Packet, ParseCtx, SetTestOptions } from '../types.ts';
import { xtFail, xtStrtoul } from '../xtables-parse.ts';

type CounterOp = 'eq' | 'ne' | 'lt' | 'gt';

export interface SetMatchData {
  name: string; // '' until --match-set is seen
  dirs: ('src' | 'dst')[];
  invert: boolean;
  returnNomatch: boolean;
  skipCounterUpdate: boolean; // ! --update-counters
  skipSubcounterUpdate: boolean; // ! --update-subcounters
  packets?: { op: CounterOp; value: string }; // u64 in decimal
  bytes?: { op: CounterOp; value: string };
}

const IPSET_MAXNAMELEN = 32;
const IPSET_DIM_MAX = 6;

export function parseDirs(arg: string): ('src' | 'dst')[] {
  const parts = arg.split(',');
  const dirs: ('src' | 'dst')[] = [];
  for (const p of parts.slice(0, IPSET_DIM_MAX)) {
    // libxt_set compares only the first three characters
    if (p.startsWith('src')) dirs.push('src');
    else if (p.startsWith('dst')) dirs.push('dst');
    else xtFail("You must spefify (the comma separated list of) 'src' or 'dst'.");
  }
  if (parts.length > IPSET_DIM_MAX) xtFail(`Can't be more src/dst options than ${IPSET_DIM_MAX}.`);
  return dirs;
}

/** A set and its src/dst flags as libxt_set reads them (the name's length, that the set
 *  exists, then the flags), for `-m set` and `-j SET`. */
export function setArg(what: string, args: readonly string[], ctx: ParseCtx): { name: string; dirs: ('src' | 'dst')[] } {
  const [name, flags] = args;
  if (flags === undefined || flags.startsWith('-') || flags.startsWith('!')) xtFail(`--${what} requires two args.`);
  if (name.length > IPSET_MAXNAMELEN - 1) xtFail(`setname \`${name}' too long, max ${IPSET_MAXNAMELEN - 1} characters.`);
  if (ctx.setExists && !ctx.setExists(name)) xtFail(`Set ${name} doesn't exist.\n`);
  return { name, dirs: parseDirs(flags) };
}

function parseCounter(arg: string): string {
  const r = xtStrtoul(arg, 0n, (1n << 64n) - 1n, true);
  if (r === null) xtFail(`Cannot parse ${arg} as a counter value`);
  return r.value.toString();
}

const COMPARE: Record<CounterOp, (counter: bigint, value: bigint) => boolean> = {
  eq: (c, v) => c === v,
  ne: (c, v) => c !== v,
  lt: (c, v) => c < v,
  gt: (c, v) => c > v,
};

const testOptions = new WeakMap<SetMatchData, SetTestOptions>();

/** The rule's options as the set's test takes them (made once per rule). */
export function setTestOptions(d: SetMatchData): SetTestOptions {
  let o = testOptions.get(d);
  if (!o) {
    o = {};
    if (d.skipCounterUpdate) o.updateCounters = false;
    if (d.skipSubcounterUpdate) o.updateSubcounters = false;
    if (d.returnNomatch) o.returnNomatch = true;
    const p = d.packets && { test: COMPARE[d.packets.op], value: BigInt(d.packets.value) };
    const b = d.bytes && { test: COMPARE[d.bytes.op], value: BigInt(d.bytes.value) };
    // (ip_set_match_counter: both conditions, each true when not given)
    if (p || b) o.counters = (packets, bytes) => (!p || p.test(packets, p.value)) && (!b || b.test(bytes, b.value));
    testOptions.set(d, o);
  }
  return o;
}

function counterOpt(d: SetMatchData, which: 'packets' | 'bytes', op: 'eq' | 'lt' | 'gt', arg: string, invert: boolean): void {
  if (d[which]) xtFail(`only one of the --${which}-[eq|lt|gt] is allowed`);
  if (invert && op !== 'eq') xtFail(`--${which}-${op} option cannot be inverted`);
  d[which] = { op: invert ? 'ne' : op, value: parseCounter(arg) };
}

function printCounter(c: SetMatchData['packets'], name: string, sep: string): string {
  if (!c) return '';
  if (c.op === 'ne') return ` ! ${sep}${name}-eq ${c.value}`;
  return ` ${sep}${name}-${c.op} ${c.value}`;
}

function show(d: SetMatchData, sep: string): string {
  let s = `${d.invert ? ' !' : ''} ${sep}match-set ${d.name} ${d.dirs.join(',')}`;
  if (d.returnNomatch) s += ` ${sep}return-nomatch`;
  if (d.skipCounterUpdate) s += ` ! ${sep}update-counters`;
  if (d.skipSubcounterUpdate) s += ` ! ${sep}update-subcounters`;
  return s + printCounter(d.packets, 'packets', sep) + printCounter(d.bytes, 'bytes', sep);
}

const PROTO_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** The set element the packet presents, as `ipset test` would spell it (10.0.0.5,tcp:80). */
export function setElement(pkt: Packet, dirs: readonly ('src' | 'dst')[]): string {
  return dirs
    .map((dir, i) => {
      if (i === 1) {
        const port = dir === 'src' ? pkt.sport : pkt.dport;
        return `${PROTO_NAMES[pkt.proto] ?? pkt.proto}:${port}`;
      }
      return formatIPv4(dir === 'src' ? pkt.src : pkt.dst);
    })
    .join(',');
}

export const setMatch: MatchModule<SetMatchData> = {
  kind: 'match',
  name: 'set',
  options: {
    'match-set': 2,
    set: 2, // deprecated spelling, same meaning
    'return-nomatch': 0,
    'update-counters': 0,
    'update-subcounters': 0,
    'packets-eq': 1,
    'packets-lt': 1,
    'packets-gt': 1,
    'bytes-eq': 1,
    'bytes-lt': 1,
    'bytes-gt': 1,
  },
  invertible: ['match-set', 'set', 'return-nomatch', 'update-counters', 'update-subcounters', 'packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt'],
  create: () => ({ name: '', dirs: [], invert: false, returnNomatch: false, skipCounterUpdate: false, skipSubcounterUpdate: false }),
  parse(d, opt, args, invert, ctx) {
    switch (opt) {
      case 'match-set':
      case 'set': {
        if (d.name !== '') xtFail('--match-set can be specified only once');
        if (invert) d.invert = true;
        const set = setArg('match-set', args, ctx);
        d.dirs = set.dirs;
        d.name = set.name;
        return;
      }
      case 'return-nomatch':
        if (invert) xtFail('--return-nomatch flag cannot be inverted');
        d.returnNomatch = true;
        return;
      case 'update-counters':
        if (invert) d.skipCounterUpdate = true;
        return;
      case 'update-subcounters':
        if (invert) d.skipSubcounterUpdate = true;
        return;
      default: {
        const [which, op] = opt.split('-') as ['packets' | 'bytes', 'eq' | 'lt' | 'gt'];
        counterOpt(d, which, op, args[0], invert);
      }
    }
  },
  finish(d) {
    if (d.name === '') xtFail("You must specify `--match-set' with proper arguments");
  },
  save: (d) => show(d, '--'),
  list: (d) => show(d, ''),
  refs: (d) => [{ kind: 'set', name: d.name }],
  match(d, ctx: MatchCtx) {
    const inSet = ctx.host.ipsetTest(d.name, ctx.pkt, d.dirs, setTestOptions(d)) === true;
    return inSet !== d.invert;
  },
  why(d, ctx) {
    const inSet = ctx.host.ipsetTest(d.name, ctx.pkt, d.dirs, { ...setTestOptions(d), updateCounters: false });
    const dirs = d.dirs.join(',');
    const el = setElement(ctx.pkt, d.dirs);
    if (inSet === undefined) return `set ${d.name} does not exist`;
    return inSet ? `${dirs} ${el} in set ${d.name}` : `${dirs} ${el} not in set ${d.name}`;
  },
};
