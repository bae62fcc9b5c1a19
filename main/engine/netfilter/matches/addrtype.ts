// -m addrtype: the route type of the source/destination address (LOCAL, UNICAST, ...), as
// the host's routing tables say; --limit-iface-in/out restrict the lookup to the packet's
// interface. The kernel refuses --limit-iface-out in PREROUTING/INPUT and --limit-iface-in in
// OUTPUT/POSTROUTING.

import { IptablesError, type AddrType, type MatchCtx, type MatchModule } from '../types.ts';
import { formatIPv4 } from '../../net/ipv4.ts';
import { xterr } from '../xtopt.ts';

export interface AddrtypeData {
  src: number; // bit (1 << RTN_*) per type
  dst: number;
  srcInv: boolean;
  dstInv: boolean;
  limitIn: boolean;
  limitOut: boolean;
  seen: number;
}

/** In RTN_* order: bit i is 1 << i. */
export const ADDR_TYPES: readonly AddrType[] = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST',
  'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
];

function parseTypes(s: string): number {
  let bits = 0;
  for (const part of s.split(',')) {
    const i = ADDR_TYPES.indexOf(part.toUpperCase() as AddrType);
    if (i < 0) throw new IptablesError(`addrtype: bad type "${part}"`, 2);
    bits |= 1 << i;
  }
  return bits;
}

function typesText(bits: number): string {
  return ADDR_TYPES.filter((_, i) => bits & (1 << i)).join(',');
}

function typeOf(ctx: MatchCtx, addr: number, d: AddrtypeData): AddrType {
  const iface = d.limitIn ? ctx.inIface : d.limitOut ? ctx.outIface : undefined;
  return ctx.host.addrType(addr, iface);
}

function check(bits: number, inv: boolean, t: AddrType): boolean {
  return bits === 0 || ((bits & (1 << ADDR_TYPES.indexOf(t))) !== 0) !== inv;
}

export const addrtypeMatch: MatchModule<AddrtypeData> = {
  kind: 'match',
  name: 'addrtype',
  options: { 'src-type': 1, 'dst-type': 1, 'limit-iface-in': 0, 'limit-iface-out': 0 },
  invertible: ['src-type', 'dst-type'],
  create: () => ({ src: 0, dst: 0, srcInv: false, dstInv: false, limitIn: false, limitOut: false, seen: 0 }),
  parse(d, opt, args, invert) {
    const bit = { 'src-type': 1, 'dst-type': 2, 'limit-iface-in': 4, 'limit-iface-out': 8 }[opt] ?? 0;
    if (d.seen & bit) throw xterr.once('addrtype', opt);
    d.seen |= bit;
    if (opt === 'src-type') {
      d.src = parseTypes(args[0]);
      d.srcInv = invert;
    } else if (opt === 'dst-type') {
      d.dst = parseTypes(args[0]);
      d.dstInv = invert;
    } else if (opt === 'limit-iface-in') d.limitIn = true;
    else d.limitOut = true;
  },
  finish(d) {
    if (!(d.seen & 3)) throw new IptablesError('addrtype: you must specify --src-type or --dst-type', 2);
    if (d.limitIn && d.limitOut) throw xterr.excl('addrtype', 'limit-iface-in', 'limit-iface-out');
  },
  save(d) {
    let s = '';
    if (d.src) s += `${d.srcInv ? ' !' : ''} --src-type ${typesText(d.src)}`;
    if (d.dst) s += `${d.dstInv ? ' !' : ''} --dst-type ${typesText(d.dst)}`;
    if (d.limitIn) s += ' --limit-iface-in';
    if (d.limitOut) s += ' --limit-iface-out';
    return s;
  },
  list(d) {
    let s = ' ADDRTYPE match';
    if (d.src) s += ` src-type ${d.srcInv ? '!' : ''}${typesText(d.src)}`;
    if (d.dst) s += ` dst-type ${d.dstInv ? '!' : ''}${typesText(d.dst)}`;
    if (d.limitIn) s += ' limit-in';
    if (d.limitOut) s += ' limit-out';
    return s;
  },
  kernelCheck(d, ctx) {
    if (d.limitOut && (ctx.hook === 'PREROUTING' || ctx.hook === 'INPUT')) return false;
    if (d.limitIn && (ctx.hook === 'OUTPUT' || ctx.hook === 'POSTROUTING')) return false;
    return true;
  },
  match(d, ctx) {
    if (d.src && !check(d.src, d.srcInv, typeOf(ctx, ctx.pkt.src, d))) return false;
    if (d.dst && !check(d.dst, d.dstInv, typeOf(ctx, ctx.pkt.dst, d))) return false;
    return true;
  },
  why(d, ctx) {
    if (d.src) {
      const t = typeOf(ctx, ctx.pkt.src, d);
      if (!check(d.src, d.srcInv, t)) return `src ${formatIPv4(ctx.pkt.src)} is ${t}`;
    }
    const t = typeOf(ctx, ctx.pkt.dst, d);
    return `dst ${formatIPv4(ctx.pkt.dst)} is ${t}`;
  },
};
