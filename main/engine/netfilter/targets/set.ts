// `-j SET --add-set NAME src|dst[,...] [--exist] [--timeout N] | --del-set NAME FLAGS`
// (revision 3 of libxt_SET): adds the packet's element to a set, or deletes it, and goes on
// with the next rule. As xt_set does it: the element is the set type's own (an address, a
// prefix as long as the set's most specific one, an address and port), an element added to a
// set with counters starts at this packet, a set without timeouts ignores --timeout, and what
// the set refuses (already there without --exist, not there, full) changes nothing. A list:set
// tries its members in order. --map-set is refused: the lab's sets carry no skb info to map.

import type { TargetModule } from '../types.ts';
import { setArg } from '../matches/set.ts';
import { xtFail, xtStrtoul } from '../xtables-parse.ts';

export interface SetRef {
  name: string;
  dirs: ('src' | 'dst')[];
}

export interface SetTargetData {
  add?: SetRef;
  del?: SetRef;
  map?: SetRef;
  exist: boolean;
  /** Seconds; undefined: the set's default. */
  timeout?: number;
}

const show = (d: SetTargetData, sep: string): string => {
  let s = '';
  if (d.add) s += ` ${sep}add-set ${d.add.name} ${d.add.dirs.join(',')}`;
  if (d.exist) s += ` ${sep}exist`;
  if (d.timeout !== undefined) s += ` ${sep}timeout ${d.timeout}`;
  if (d.del) s += ` ${sep}del-set ${d.del.name} ${d.del.dirs.join(',')}`;
  if (d.map) s += ` ${sep}map-set ${d.map.name} ${d.map.dirs.join(',')}`;
  return s;
};

export const setTarget: TargetModule<SetTargetData> = {
  kind: 'target',
  name: 'SET',
  options: { 'add-set': 2, 'del-set': 2, 'map-set': 2, exist: 0, timeout: 1, 'map-mark': 0, 'map-prio': 0, 'map-queue': 0 },
  // (libxt_SET takes a `!` before any of them, and ignores it)
  invertible: ['add-set', 'del-set', 'map-set', 'exist', 'timeout', 'map-mark', 'map-prio', 'map-queue'],
  create: () => ({ exist: false }),
  parse(d, opt, args, _invert, ctx) {
    switch (opt) {
      case 'add-set':
      case 'del-set':
      case 'map-set': {
        const key = opt === 'add-set' ? 'add' : opt === 'del-set' ? 'del' : 'map';
        if (d[key]) xtFail(`--${opt} can be specified only once`);
        d[key] = setArg(opt, args, ctx);
        return;
      }
      case 'exist':
        d.exist = true;
        return;
      case 'timeout': {
        const v = xtStrtoul(args[0], 0n, 4294967294n, true);
        if (v === null) xtFail('Invalid value for option --timeout or out of range 0-4294967294');
        d.timeout = Number(v.value);
        return;
      }
      default:
        // --map-mark, --map-prio, --map-queue: only with --map-set, which the kernel refuses here
        return;
    }
  },
  finish(d) {
    if (!d.add && !d.del && !d.map) xtFail("You must specify either `--add-set' or `--del-set' or `--map-set'");
    if (!d.add && d.exist) xtFail("Flag `--exist' can be used with `--add-set' only");
    if (!d.add && d.timeout !== undefined) xtFail("Option `--timeout' can be used with `--add-set' only");
  },
  kernelCheck: (d) => d.map === undefined,
  save: (d) => show(d, '--'),
  list: (d) => show(d, ''),
  // (up to three sets, each a reference)
  refs: (d) => [d.add, d.del, d.map].flatMap((s) => (s ? [{ kind: 'set' as const, name: s.name }] : [])),
  apply(d, ctx) {
    if (d.add) ctx.host.ipsetAdt?.('add', d.add.name, ctx.pkt, d.add.dirs, { exist: d.exist, timeout: d.timeout });
    if (d.del) ctx.host.ipsetAdt?.('del', d.del.name, ctx.pkt, d.del.dirs, { exist: false });
    return { kind: 'continue' };
  },
};
