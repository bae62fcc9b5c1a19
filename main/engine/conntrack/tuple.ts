// Conntrack tuples: how the kernel keys a packet (nf_conntrack_tuple). TCP, UDP and SCTP are
// keyed by ports; ICMP queries by id, type and code (the reply tuple carries the answering
// type: echo 8 <-> echo reply 0); every other protocol by addresses alone.

import type { IPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import type { Packet, Tuple } from '../netfilter/types.ts';

/** A Tuple as conntrack stores it. For ICMP `sport` and `dport` both hold the id (as the
 *  shared Tuple type says) and the type/code live here. */
export interface CtTuple extends Tuple {
  icmpType: number; // 0 unless proto is ICMP
  icmpCode: number;
}

export type Dir = 'ORIGINAL' | 'REPLY';

export function otherDir(d: Dir): Dir {
  return d === 'ORIGINAL' ? 'REPLY' : 'ORIGINAL';
}

/** Protocols whose tuples carry ports (nf_conntrack keys them by source/destination port). */
export function hasPorts(proto: number): boolean {
  return proto === PROTO.tcp || proto === PROTO.udp || proto === PROTO.sctp || proto === 136 /* udplite */ || proto === 33; /* dccp */
}

// ICMP query types conntrack can invert (icmp invmap): request <-> answer.
const ICMP_INVERSE: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };
/** Request types that may start an ICMP "connection" (valid_new in nf_conntrack_proto_icmp). */
export const ICMP_VALID_NEW: ReadonlySet<number> = new Set([8, 13, 15, 17]);
/** ICMP errors that carry an inner packet and are RELATED to its connection. */
export const ICMP_ERRORS: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);

export function isIcmpError(pkt: Pick<Packet, 'proto' | 'icmpType'>): boolean {
  return pkt.proto === PROTO.icmp && ICMP_ERRORS.has(pkt.icmpType);
}

/** The tuple of a packet, or undefined when conntrack cannot key it (an ICMP type that has no
 *  inverse, e.g. a router advertisement): such packets are left without a conntrack (INVALID). */
export function tupleOf(pkt: Packet): CtTuple | undefined {
  if (pkt.proto === PROTO.icmp) {
    if (ICMP_INVERSE[pkt.icmpType] === undefined) return undefined;
    const id = pkt.icmpId & 0xffff;
    return { src: pkt.src, dst: pkt.dst, proto: pkt.proto, sport: id, dport: id, icmpType: pkt.icmpType, icmpCode: pkt.icmpCode };
  }
  const ports = hasPorts(pkt.proto);
  return {
    src: pkt.src >>> 0,
    dst: pkt.dst >>> 0,
    proto: pkt.proto,
    sport: ports ? pkt.sport : 0,
    dport: ports ? pkt.dport : 0,
    icmpType: 0,
    icmpCode: 0,
  };
}

/** A plain Tuple (e.g. the inner packet of an ICMP error as the walk describes it) as a CtTuple.
 *  For ICMP the walk passes the inner echo's type in `icmpType` if it knows it; echo is assumed. */
export function toCtTuple(t: Tuple, icmpType = 8, icmpCode = 0): CtTuple {
  if (t.proto === PROTO.icmp) return { src: t.src, dst: t.dst, proto: t.proto, sport: t.sport, dport: t.sport, icmpType, icmpCode };
  const ports = hasPorts(t.proto);
  return { src: t.src, dst: t.dst, proto: t.proto, sport: ports ? t.sport : 0, dport: ports ? t.dport : 0, icmpType: 0, icmpCode: 0 };
}

/** nf_ct_invert_tuple: swap addresses and ports; ICMP answers with the inverse type. */
export function invertTuple(t: CtTuple): CtTuple | undefined {
  if (t.proto === PROTO.icmp) {
    const inv = ICMP_INVERSE[t.icmpType];
    if (inv === undefined) return undefined;
    return { src: t.dst, dst: t.src, proto: t.proto, sport: t.sport, dport: t.dport, icmpType: inv, icmpCode: t.icmpCode };
  }
  return { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport, icmpType: 0, icmpCode: 0 };
}

/** The table's key of a tuple: the fields that identify it (ICMP: id, type and code; others:
 *  both ports), as UTF-16 code units — cheaper to make than decimal text, and as distinct. */
export function tupleKey(t: CtTuple): string {
  const src = t.src >>> 0, dst = t.dst >>> 0;
  return t.proto === PROTO.icmp
    ? String.fromCharCode(t.proto, src >>> 16, src & 0xffff, dst >>> 16, dst & 0xffff, t.sport & 0xffff, t.icmpType & 0xff, t.icmpCode & 0xff)
    : String.fromCharCode(t.proto, src >>> 16, src & 0xffff, dst >>> 16, dst & 0xffff, t.sport & 0xffff, t.dport & 0xffff);
}

/** Whether two tuples are the same connection end (what tupleKey tells apart). */
export function tupleEqual(a: CtTuple, b: CtTuple): boolean {
  if (a.proto !== b.proto || a.src >>> 0 !== b.src >>> 0 || a.dst >>> 0 !== b.dst >>> 0 || a.sport !== b.sport) return false;
  return a.proto === PROTO.icmp ? a.icmpType === b.icmpType && a.icmpCode === b.icmpCode : a.dport === b.dport;
}

export function copyTuple(t: CtTuple): CtTuple {
  return { src: t.src, dst: t.dst, proto: t.proto, sport: t.sport, dport: t.dport, icmpType: t.icmpType, icmpCode: t.icmpCode };
}

/** Rewrite one side of a tuple (the NAT manip): `src` changes source address/port, `dst` the
 *  destination. ICMP keeps its id in both port fields. */
export function withManip(t: CtTuple, manip: 'src' | 'dst', addr: IPv4, port: number): CtTuple {
  const r = copyTuple(t);
  if (manip === 'src') r.src = addr >>> 0;
  else r.dst = addr >>> 0;
  if (t.proto === PROTO.icmp) {
    r.sport = port;
    r.dport = port;
  } else if (hasPorts(t.proto)) {
    if (manip === 'src') r.sport = port;
    else r.dport = port;
  }
  return r;
}

/** The port (or ICMP id) a manip of this side changes. */
export function manipPort(t: CtTuple, manip: 'src' | 'dst'): number {
  if (t.proto === PROTO.icmp) return t.sport;
  return manip === 'src' ? t.sport : t.dport;
}
