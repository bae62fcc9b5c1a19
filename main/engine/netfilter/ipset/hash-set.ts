// The four IPv4 hash set types (hash:ip, hash:net, hash:ip,port, hash:net,port) on the
// kernel's hash table (hash-table.ts): how each type walks the ranges of an add/del/test
// (its uadt function: FROM-TO, IP/CIDR and port ranges in the kernel's order, a full bucket
// growing the table before the same element is tried again) and how it reads a packet
// (its kadt function, for `-m set`).

import { maskOf } from '../../net/ipv4.ts';
import type { Packet } from '../types.ts';
import { HashTable } from './hash-table.ts';
import type { ExtIn, HashSetJSON, Key } from './hash-table.ts';
import { NO_EXT } from './hash-table.ts';
import type { AdtAttrs, CreateAttrs, Dir, MatchExt } from './types.ts';
import { IpsetErrno, clampTimeout } from './types.ts';

export type { HashSetJSON } from './hash-table.ts';

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const PROTO_SCTP = 132;
const PROTO_UDPLITE = 136;

export function protoWithPorts(p: number): boolean {
  return p === PROTO_TCP || p === PROTO_UDP || p === PROTO_SCTP || p === PROTO_UDPLITE;
}

export class HashSet extends HashTable {
  // -------------------------------------------------------------------------------------
  // Userspace add/del/test (the types' uadt functions): ranges are walked in the
  // kernel's order, a full bucket grows the table and the same element is tried again.

  adt(cmd: 'add' | 'del' | 'test', a: AdtAttrs, exist: boolean, now: number): boolean {
    const ext = this.extIn(a);
    switch (this.type) {
      case 'hash:ip':
        return this.uadtIp(cmd, a, ext, exist, now);
      case 'hash:net':
        return this.uadtNet(cmd, a, ext, exist, now);
      case 'hash:ip,port':
        return this.uadtIpPort(cmd, a, ext, exist, now);
      case 'hash:net,port':
        return this.uadtNetPort(cmd, a, ext, exist, now);
    }
  }

  /** ip_set_get_extensions: extension attributes the set was not created for are refused. */
  private extIn(a: AdtAttrs): ExtIn {
    if (!this.hasExt && a.timeout === undefined && a.packets === undefined && a.bytes === undefined &&
        a.comment === undefined && a.skbmark === undefined && a.skbprio === undefined && a.skbqueue === undefined) {
      return NO_EXT;
    }
    if (a.timeout !== undefined && !this.ext.timeout) throw new IpsetErrno('TIMEOUT');
    if ((a.packets !== undefined || a.bytes !== undefined) && !this.ext.counters) throw new IpsetErrno('COUNTER');
    if (a.comment !== undefined && !this.ext.comment) throw new IpsetErrno('COMMENT');
    if ((a.skbmark !== undefined || a.skbprio !== undefined || a.skbqueue !== undefined) && !this.ext.skbinfo) {
      throw new IpsetErrno('SKBINFO');
    }
    return {
      timeout: a.timeout !== undefined ? clampTimeout(a.timeout) : (this.timeout ?? 0),
      packets: a.packets,
      bytes: a.bytes,
      comment: a.comment,
      skbmark: a.skbmark ?? 0,
      skbmarkmask: a.skbmarkmask ?? 0,
      skbprio: a.skbprio ?? 0,
      skbqueue: a.skbqueue ?? 0,
    };
  }

  /** One element of a walk; false stops the walk with the error (thrown). */
  private op(cmd: 'add' | 'del', d: Key, ext: ExtIn, exist: boolean, nomatch: boolean, now: number): void {
    try {
      if (cmd === 'del') {
        this.delOne(d, now);
        return;
      }
      while (this.addOne(d, ext, exist, nomatch, now) === 'again') this.resize(now);
    } catch (e) {
      // ip_set_eexist: -exist turns "already added" / "not added" into success.
      if (exist && e instanceof IpsetErrno && e.errno === 'EXIST') return;
      throw e;
    }
  }

  private test(ip: number, cidr: number, port: number, proto: number, nomatchFlag: boolean, now: number): boolean {
    const r = this.testOne(ip, cidr, port, proto, now);
    return r > 0 || (r < 0 && nomatchFlag);
  }

  private uadtIp(cmd: 'add' | 'del' | 'test', a: AdtAttrs, ext: ExtIn, exist: boolean, now: number): boolean {
    let ip = ((a.ip ?? 0) & this.bitmask) >>> 0;
    if (ip === 0) throw new IpsetErrno('HASH_ELEM');
    if (cmd === 'test') return this.test(ip, 32, 0, 0, false, now);
    let ipTo = ip;
    if (a.ipTo !== undefined) {
      ipTo = a.ipTo;
      if (ip > ipTo) {
        if (ipTo === 0) throw new IpsetErrno('HASH_ELEM');
        [ip, ipTo] = [ipTo, ip];
      }
    } else if (a.cidr !== undefined) {
      if (!a.cidr || a.cidr > 32) throw new IpsetErrno('INVALID_CIDR');
      ip = (ip & maskOf(a.cidr)) >>> 0;
      ipTo = (ip | ~maskOf(a.cidr)) >>> 0;
    }
    const hosts = this.netmask === 32 ? 1 : 2 ** (32 - this.netmask);
    for (; ip <= ipTo; ) {
      this.op(cmd, this.key(ip, 32, 0, 0), ext, exist, false, now);
      ip += hosts;
      if (ip > 0xffffffff) break;
    }
    return true;
  }

  private uadtNet(cmd: 'add' | 'del' | 'test', a: AdtAttrs, ext: ExtIn, exist: boolean, now: number): boolean {
    let cidr = 32;
    if (a.cidr !== undefined) {
      cidr = a.cidr;
      if (!cidr || cidr > 32) throw new IpsetErrno('INVALID_CIDR');
    }
    let ip = a.ip ?? 0;
    const nomatch = !!a.nomatch;
    if (cmd === 'test' || a.ipTo === undefined) {
      const masked = (ip & maskOf(cidr)) >>> 0;
      if (cmd === 'test') return this.test(masked, cidr, 0, 0, nomatch, now);
      this.op(cmd, this.key(masked, cidr, 0, 0), ext, exist, nomatch, now);
      return true;
    }
    let ipTo = a.ipTo;
    if (ipTo < ip) [ip, ipTo] = [ipTo, ip];
    if (ip === 0 && ipTo === 0xffffffff) throw new IpsetErrno('HASH_RANGE');
    for (;;) {
      const [last, c] = rangeToCidr(ip, ipTo);
      this.op(cmd, this.key(ip, c, 0, 0), ext, exist, nomatch, now);
      if (last >= ipTo) break;
      ip = last + 1;
    }
    return true;
  }

  private protoPort(a: AdtAttrs): { port: number; proto: number; withPorts: boolean } {
    const proto = a.proto ?? 0;
    if (proto === 0) throw new IpsetErrno('INVALID_PROTO');
    const withPorts = protoWithPorts(proto);
    const port = withPorts || proto === PROTO_ICMP ? (a.port ?? 0) : 0;
    return { port, proto, withPorts };
  }

  private uadtIpPort(cmd: 'add' | 'del' | 'test', a: AdtAttrs, ext: ExtIn, exist: boolean, now: number): boolean {
    let ip = ((a.ip ?? 0) & this.bitmask) >>> 0;
    if (ip === 0) throw new IpsetErrno('EINVAL');
    const { port, proto, withPorts } = this.protoPort(a);
    if (cmd === 'test' || (a.ipTo === undefined && a.cidr === undefined && a.portTo === undefined)) {
      if (cmd === 'test') return this.test(ip, 32, port, proto, false, now);
      this.op(cmd, this.key(ip, 32, port, proto), ext, exist, false, now);
      return true;
    }
    let ipTo = ip;
    if (a.ipTo !== undefined) {
      ipTo = a.ipTo;
      if (ip > ipTo) [ip, ipTo] = [ipTo, ip];
    } else if (a.cidr !== undefined) {
      if (!a.cidr || a.cidr > 32) throw new IpsetErrno('INVALID_CIDR');
      ip = (ip & maskOf(a.cidr)) >>> 0;
      ipTo = (ip | ~maskOf(a.cidr)) >>> 0;
    }
    let p0 = port;
    let p1 = port;
    if (withPorts && a.portTo !== undefined) {
      p1 = a.portTo;
      if (p0 > p1) [p0, p1] = [p1, p0];
    }
    for (;;) {
      for (let p = p0; p <= p1; p++) this.op(cmd, this.key(ip, 32, p, proto), ext, exist, false, now);
      if (ip === ipTo) break;
      ip++;
    }
    return true;
  }

  private uadtNetPort(cmd: 'add' | 'del' | 'test', a: AdtAttrs, ext: ExtIn, exist: boolean, now: number): boolean {
    let ip = a.ip ?? 0;
    let cidr = 32;
    if (a.cidr !== undefined) {
      cidr = a.cidr;
      if (!cidr || cidr > 32) throw new IpsetErrno('INVALID_CIDR');
    }
    const { port, proto, withPorts } = this.protoPort(a);
    const nomatch = !!a.nomatch;
    const ranged = withPorts && a.portTo !== undefined;
    if (cmd === 'test' || !(ranged || a.ipTo !== undefined)) {
      const masked = (ip & maskOf(cidr)) >>> 0;
      if (cmd === 'test') return this.test(masked, cidr, port, proto, nomatch, now);
      this.op(cmd, this.key(masked, cidr, port, proto), ext, exist, nomatch, now);
      return true;
    }
    let p0 = port;
    let p1 = port;
    if (a.portTo !== undefined) {
      p1 = a.portTo;
      if (p1 < p0) [p0, p1] = [p1, p0];
    }
    let ipTo: number;
    if (a.ipTo !== undefined) {
      ipTo = a.ipTo;
      if (ipTo < ip) [ip, ipTo] = [ipTo, ip];
      if (ip === 0 && ipTo === 0xffffffff) throw new IpsetErrno('HASH_RANGE');
    } else {
      ip = (ip & maskOf(cidr)) >>> 0;
      ipTo = (ip | ~maskOf(cidr)) >>> 0;
    }
    for (;;) {
      const [last, c] = rangeToCidr(ip, ipTo);
      for (let p = p0; p <= p1; p++) this.op(cmd, this.key(ip, c, p, proto), ext, exist, nomatch, now);
      if (last >= ipTo) break;
      ip = last + 1;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------
  // Packet tests (the types' kadt functions with IPSET_TEST)

  testPacket(pkt: Packet, dirs: readonly Dir[], now: number, ext: MatchExt): number {
    const dim = this.kind.ports ? 2 : 1;
    if (dirs.length < dim) return 0;
    const addr = dirs[0] === 'src' ? pkt.src : pkt.dst;
    let port = 0;
    const proto = pkt.proto;
    if (this.kind.ports) {
      if (proto <= 0) return 0;
      if (protoWithPorts(proto)) port = dirs[1] === 'src' ? pkt.sport : pkt.dport;
      else if (proto === PROTO_ICMP) port = ((pkt.icmpType & 0xff) << 8) | (pkt.icmpCode & 0xff);
    }
    let ip: number;
    if (this.kind.nets) {
      if (this.nets.length === 0) return 0;
      ip = addr >>> 0;
    } else {
      ip = (addr & this.bitmask) >>> 0;
      if (ip === 0) return 0;
    }
    return this.testOne(ip, 32, port, proto, now, ext);
  }

  /**
   * `-j SET` (the types' kadt with IPSET_ADD / IPSET_DEL): the packet's element — its address
   * (masked as the set masks), a prefix as long as the set's most specific one (a hash:net's,
   * /32 while it has none), its port (ICMP: type and code; another protocol: 0) — added or
   * deleted. Added to a set with counters, it starts at this packet. false: the set refused
   * it (already there without `exist`, not there, full, an element it cannot hold).
   */
  kadtPacket(cmd: 'add' | 'del', pkt: Packet, dirs: readonly Dir[], exist: boolean, timeout: number | undefined, now: number): boolean {
    if (dirs.length < (this.kind.ports ? 2 : 1)) return false;
    const a: AdtAttrs = { ip: dirs[0] === 'src' ? pkt.src : pkt.dst };
    if (this.kind.nets) a.cidr = this.nets.length ? this.nets[0][0] : 32;
    if (this.kind.ports) {
      if (pkt.proto <= 0) return false;
      a.proto = pkt.proto;
      a.port = protoWithPorts(pkt.proto) ? (dirs[1] === 'src' ? pkt.sport : pkt.dport) : pkt.proto === PROTO_ICMP ? ((pkt.icmpType & 0xff) << 8) | (pkt.icmpCode & 0xff) : 0;
    }
    if (timeout !== undefined && this.ext.timeout) a.timeout = timeout;
    if (cmd === 'add' && this.ext.counters) {
      a.packets = 1n;
      a.bytes = BigInt(pkt.len);
    }
    try {
      return this.adt(cmd, a, exist, now);
    } catch (e) {
      if (e instanceof IpsetErrno) return false;
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------
  // Copies and the lab file

  static fromJSON(j: HashSetJSON): HashSet {
    const attrs: CreateAttrs = {
      maxelem: j.maxelem,
      netmask: j.netmask,
      bitmask: j.bitmask,
      counters: j.ext.counters,
      comment: j.ext.comment,
      skbinfo: j.ext.skbinfo,
      forceadd: j.forceadd,
      bucketsize: j.bucketsize,
    };
    if (j.timeout !== null) attrs.timeout = j.timeout;
    const s = new HashSet(j.type, attrs, j.initval);
    s.load(j);
    return s;
  }

  clone(): HashSet {
    return HashSet.fromJSON(this.toJSON());
  }
}

/** ip_set_range_to_cidr: the largest prefix starting at `from` that ends by `to`.
 *  Returns [last address of the block, its prefix length]. The kernel compares with
 *  after(), a signed 32-bit difference, and so do we. */
export function rangeToCidr(from: number, to: number): [number, number] {
  for (let i = 1; i < 32; i++) {
    const mask = maskOf(i);
    if (((from & mask) >>> 0) !== from) continue;
    const last = (from | ~mask) >>> 0;
    if (((to - last) | 0) >= 0) return [last, i];
  }
  return [from, 32];
}
