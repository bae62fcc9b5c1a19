// Binding a NAT request to a connection the way nf_nat_core does it (get_unique_tuple):
//  1. SNAT keeps the packet's own source if it is in the range and its reply tuple is free, or
//     reuses the mapping an earlier connection from the same source address/port got;
//  2. the address comes from the range: the only one, or one chosen by a jhash of the
//     addresses (deterministic, so a client keeps its address across connections);
//  3. the port is kept when in range and free, else searched from a random offset (source
//     manips and --random/--random-fully) or from the bottom of the range (DNAT).
// "Free" means no other confirmed connection already uses the resulting reply tuple.

import type { IPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import type { NatRequest } from '../netfilter/types.ts';
import { copyTuple, hasPorts, invertTuple, manipPort, withManip } from './tuple.ts';
import type { CtTuple } from './tuple.ts';

export type Manip = 'src' | 'dst';

/** struct nf_nat_range2, host order. */
export interface NatRange {
  mapIps: boolean;
  minIp: IPv4;
  maxIp: IPv4;
  protoSpecified: boolean;
  minPort: number;
  maxPort: number;
  randomAll: boolean; // --random or --random-fully
  persistent: boolean;
}

/** What the walk knows when it binds: the address MASQUERADE/REDIRECT resolved (the outgoing
 *  interface's primary address, or the incoming one's / 127.0.0.1 for REDIRECT) and the lab's
 *  seeded generator, uniform in [0, 1). */
export interface NatCtx {
  addr?: IPv4;
  rng: () => number;
}

/** Which manip a request performs. */
export function manipOf(req: NatRequest): Manip {
  return req.kind === 'snat' || req.kind === 'masquerade' ? 'src' : 'dst';
}

/** The range the kernel hands to nf_nat_setup_info() for a request; undefined when
 *  MASQUERADE/REDIRECT has no address to use (the kernel drops the packet). */
export function rangeOf(req: NatRequest, ctx: NatCtx): NatRange | undefined {
  let mapIps = req.minIp !== undefined;
  let minIp = req.minIp ?? 0;
  let maxIp = req.maxIp ?? minIp;
  if (req.kind === 'masquerade' || req.kind === 'redirect') {
    if (ctx.addr === undefined) return undefined;
    mapIps = true;
    minIp = maxIp = ctx.addr;
  }
  const protoSpecified = req.minPort !== undefined;
  const minPort = req.minPort ?? 0;
  const maxPort = req.maxPort ?? minPort;
  return {
    mapIps,
    minIp: minIp >>> 0,
    maxIp: maxIp >>> 0,
    protoSpecified,
    minPort: Math.min(minPort, maxPort),
    maxPort: Math.max(minPort, maxPort),
    randomAll: req.random || req.randomFully,
    persistent: req.persistent,
  };
}

/** The null binding the kernel applies when no rule NATed a manip: keep the current address. */
export function nullRange(curr: CtTuple, manip: Manip): NatRange {
  const ip = manip === 'src' ? curr.src : curr.dst;
  return { mapIps: true, minIp: ip, maxIp: ip, protoSpecified: false, minPort: 0, maxPort: 0, randomAll: false, persistent: false };
}

/** What get_unique_tuple needs from the table. */
export interface NatEnv {
  /** nf_nat_used_tuple: some other confirmed connection already has invert(t) as a tuple. */
  used(t: CtTuple): boolean;
  /** Tuples (invert of their reply) of source-NATed connections with the same original source
   *  address, port and protocol as `t`, newest first (the nf_nat_bysource hash). */
  sameSource(t: CtTuple): CtTuple[];
  rng: () => number;
}

function l4InRange(t: CtTuple, manip: Manip, r: NatRange): boolean {
  if (t.proto !== PROTO.icmp && !hasPorts(t.proto)) return true;
  const p = manipPort(t, manip);
  return p >= r.minPort && p <= r.maxPort;
}

/** nf_in_range (used for source manips only). */
function inRange(t: CtTuple, r: NatRange): boolean {
  if (r.mapIps && ((t.src >>> 0) < r.minIp || (t.src >>> 0) > r.maxIp)) return false;
  return !r.protoSpecified || l4InRange(t, 'src', r);
}

// --- jhash2 (include/linux/jhash.h), 32-bit arithmetic --------------------------------------

const rol32 = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function jhash2(k: readonly number[], initval: number): number {
  let len = k.length;
  let a = (0xdeadbeef + (len << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  while (len > 3) {
    a = (a + k[i]) >>> 0;
    b = (b + k[i + 1]) >>> 0;
    c = (c + k[i + 2]) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
    len -= 3;
    i += 3;
  }
  if (len === 0) return c;
  if (len >= 3) c = (c + k[i + 2]) >>> 0;
  if (len >= 2) b = (b + k[i + 1]) >>> 0;
  a = (a + k[i]) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** An address as the kernel's u32 view of the __be32 in memory (x86 is little-endian). */
function memWord(ip: IPv4): number {
  return (((ip & 0xff) << 24) | (((ip >>> 8) & 0xff) << 16) | (((ip >>> 16) & 0xff) << 8) | (ip >>> 24)) >>> 0;
}

/** find_best_ips_proto: pick the address of the manip from the range. */
function pickAddress(t: CtTuple, r: NatRange, manip: Manip): CtTuple {
  if (!r.mapIps) return t;
  let ip = r.minIp;
  if (r.minIp !== r.maxIp) {
    // nf_inet_addr is four words; an IPv4 tuple has the address in the first, zeros after.
    const j = jhash2([memWord(t.src), 0, 0, 0], r.persistent ? 0 : memWord(t.dst));
    const dist = r.maxIp - r.minIp + 1;
    ip = (r.minIp + Math.floor((j * dist) / 2 ** 32)) >>> 0; // reciprocal_scale
  }
  return withManip(t, manip, ip, manipPort(t, manip));
}

const NF_NAT_MAX_ATTEMPTS = 128;

/** nf_nat_l4proto_unique_tuple: search a free port (or ICMP id) for the manip. */
function uniquePort(t: CtTuple, r: NatRange, manip: Manip, env: NatEnv): CtTuple {
  let min: number;
  let size: number;
  if (t.proto === PROTO.icmp) {
    min = r.protoSpecified ? r.minPort : 0;
    size = r.protoSpecified ? r.maxPort - r.minPort + 1 : 65536;
  } else if (hasPorts(t.proto)) {
    if (!r.protoSpecified) {
      if (manip === 'dst') return t; // a destination port is never changed unasked
      const p = manipPort(t, manip);
      if (p < 1024) {
        if (p < 512) [min, size] = [1, 511];
        else [min, size] = [600, 1023 - 600 + 1];
      } else [min, size] = [1024, 65535 - 1024 + 1];
    } else {
      min = r.minPort;
      size = r.maxPort - r.minPort + 1;
    }
  } else {
    return t;
  }
  const rand16 = (): number => Math.floor(env.rng() * 65536) & 0xffff;
  const addr = manip === 'src' ? t.src : t.dst;
  let off = r.randomAll || manip !== 'dst' ? rand16() : 0;
  let attempts = Math.min(size, NF_NAT_MAX_ATTEMPTS);
  let cand = t;
  for (;;) {
    for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
      cand = withManip(t, manip, addr, min + (off % size));
      if (!env.used(cand)) return cand;
    }
    // The kernel gives up after ever smaller windows from fresh random offsets.
    if (attempts >= size || attempts < 16) return cand;
    attempts = Math.floor(attempts / 2);
    off = rand16();
  }
}

/** get_unique_tuple: the tuple the original direction will have after this manip. */
export function uniqueTuple(orig: CtTuple, r: NatRange, manip: Manip, env: NatEnv): CtTuple {
  if (manip === 'src' && !r.randomAll) {
    if (inRange(orig, r)) {
      if (!env.used(orig)) return copyTuple(orig);
    } else {
      for (const prev of env.sameSource(orig)) {
        const cand: CtTuple = { ...prev, dst: orig.dst, dport: orig.dport, icmpType: orig.icmpType, icmpCode: orig.icmpCode };
        if (orig.proto === PROTO.icmp) cand.dport = cand.sport;
        if (inRange(cand, r)) {
          if (!env.used(cand)) return cand;
          break;
        }
      }
    }
  }
  const t = pickAddress(copyTuple(orig), r, manip);
  if (!r.randomAll) {
    if (r.protoSpecified) {
      if (l4InRange(t, manip, r) && (r.minPort === r.maxPort || !env.used(t))) return t;
    } else if (!env.used(t)) {
      return t;
    }
  }
  return uniquePort(t, r, manip, env);
}

/** The reply tuple a connection gets once its original direction looks like `t`. */
export function replyFor(t: CtTuple): CtTuple {
  return invertTuple(t) ?? copyTuple(t);
}
