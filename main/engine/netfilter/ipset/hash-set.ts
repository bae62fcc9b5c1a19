// The four IPv4 hash set types (hash:ip, hash:net, hash:ip,port, hash:net,port) with the
// kernel's own data structure (net/netfilter/ipset/ip_set_hash_gen.h): jhash2 of the element
// words picks a bucket, a bucket is a small array that grows by 2 slots up to `bucketsize`,
// a full bucket doubles the table (resize), deleted slots are reused first, and memory is
// accounted per allocated bucket. Reproducing the structure makes the member order of
// `ipset list` and the "Size in memory" line identical to the kernel's for the same initval.
//
// Element words are the kernel's struct layout read as little-endian u32s (x86):
//   hash:ip        [ip]
//   hash:net       [ip, cidr<<24]                      (nomatch byte is cleared for hashing)
//   hash:ip,port   [ip, port(be16) | proto<<16]
//   hash:net,port  [ip, port(be16) | proto<<16 | (cidr-1)<<24]

import type { IPv4 } from '../../net/ipv4.ts';
import { maskOf } from '../../net/ipv4.ts';
import { bswap16, bswap32, jhash2 } from './jhash.ts';
import type { AdtAttrs, CreateAttrs, ElemExt, ExtFlags, HashTypeName, MemberView, Dir } from './types.ts';
import { IpsetErrno, clampTimeout, commentSize, elemLen, expired, remaining } from './types.ts';
import type { Packet } from '../types.ts';

const AHASH_INIT_SIZE = 2;
const AHASH_MAX_SIZE = 12; // 6 * AHASH_INIT_SIZE: default and largest bucketsize
const HBUCKET_SIZE = 32; // struct hbucket: rcu_head, used bitmap, size, pos
const HTABLE_SIZE = 24; // struct htable without the bucket pointers
const REGION_SIZE = 24; // struct ip_set_region
const HTABLE_REGION_BITS = 10;
const DEFAULT_HASHSIZE = 1024;
const MIN_HASHSIZE = 64;
const DEFAULT_MAXELEM = 65536;

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const PROTO_SCTP = 132;
const PROTO_UDPLITE = 136;

export function protoWithPorts(p: number): boolean {
  return p === PROTO_TCP || p === PROTO_UDP || p === PROTO_SCTP || p === PROTO_UDPLITE;
}

interface Kind {
  nets: boolean; // stores prefixes (cidr is part of the element)
  ports: boolean; // second dimension is proto:port
  /** sizeof(struct htype) of the IPv4 variant. */
  htype: number;
  /** sizeof the IPv4 element struct. */
  elem: number;
}

const KINDS: Readonly<Record<HashTypeName, Kind>> = {
  'hash:ip': { nets: false, ports: false, htype: 168, elem: 4 },
  'hash:net': { nets: true, ports: false, htype: 408, elem: 8 },
  'hash:ip,port': { nets: false, ports: true, htype: 168, elem: 8 },
  'hash:net,port': { nets: true, ports: true, htype: 408, elem: 8 },
};

/** An element's identity: what data_equal compares (ip and the second word) and HKEY
 *  hashes. A transient value; stored elements live in the set's Pool. */
interface Key {
  ip: IPv4;
  /** The second element word (0 for hash:ip, which hashes one word only). */
  w1: number;
  /** jhash2 of the element words with the set's initval. */
  h: number;
}

/** Extension values of an element; only sets created with extensions carry them. */
class ExtData implements ElemExt {
  expires = 0;
  packets = 0n;
  bytes = 0n;
  comment: string | undefined = undefined;
  skbmark = 0;
  skbmarkmask = 0;
  skbprio = 0;
  skbqueue = 0;
}

/** Element storage: parallel typed arrays indexed by element id, so that a set of 100k
 *  elements is a handful of arrays rather than 100k objects for the garbage collector. */
class Pool {
  ip = new Uint32Array(16);
  w1 = new Uint32Array(16);
  h = new Uint32Array(16);
  nomatch = new Uint8Array(16);
  ext: (ExtData | undefined)[] = [];
  private free: number[] = [];
  private top = 0;

  alloc(k: Key): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.top++;
      if (id >= this.ip.length) this.grow();
    }
    this.ip[id] = k.ip;
    this.w1[id] = k.w1;
    this.h[id] = k.h;
    this.nomatch[id] = 0;
    this.ext[id] = undefined;
    return id;
  }

  release(id: number): void {
    this.ext[id] = undefined;
    this.free.push(id);
  }

  private grow(): void {
    const n = this.ip.length * 2;
    const up32 = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.ip = up32(this.ip);
    this.w1 = up32(this.w1);
    this.h = up32(this.h);
    const nm = new Uint8Array(n);
    nm.set(this.nomatch);
    this.nomatch = nm;
  }
}

/** A slot that was used and deleted (the kernel's cleared "used" bit). */
const DELETED = -1;

/** A bucket: `size` slots of which the first `pos` were used. The slot array is replaced
 *  when the bucket shrinks, like the kernel's (a set holds one per used bucket). */
class Bucket {
  size: number;
  pos = 0;
  /** Element ids; DELETED for a slot freed by a delete. */
  slots: number[];

  constructor(size = AHASH_INIT_SIZE) {
    this.size = size;
    this.slots = size === AHASH_INIT_SIZE ? [DELETED, DELETED] : new Array<number>(size).fill(DELETED);
  }

  grow(by: number): void {
    this.size += by;
    for (let i = 0; i < by; i++) this.slots.push(DELETED);
  }
}

interface Region {
  elements: number;
  extSize: number;
}

/** The bucket pointer array: a plain array for tables up to 2^20 buckets (fast and already
 *  in index order), a Map beyond (a huge `hashsize` must not allocate its full table). */
class Buckets {
  private readonly arr: (Bucket | undefined)[] | null;
  private readonly map: Map<number, Bucket> | null;

  constructor(bits: number) {
    // Filled, so V8 keeps a fast (not dictionary) array even for large tables.
    this.arr = bits <= 20 ? new Array<Bucket | undefined>(2 ** bits).fill(undefined) : null;
    this.map = this.arr ? null : new Map();
  }

  get(k: number): Bucket | undefined {
    return this.arr ? this.arr[k] : (this.map as Map<number, Bucket>).get(k);
  }

  set(k: number, b: Bucket): void {
    if (this.arr) this.arr[k] = b;
    else (this.map as Map<number, Bucket>).set(k, b);
  }

  delete(k: number): void {
    if (this.arr) this.arr[k] = undefined;
    else (this.map as Map<number, Bucket>).delete(k);
  }

  /** Every bucket by ascending index. */
  each(fn: (b: Bucket, index: number) => void): void {
    if (this.arr) {
      const a = this.arr;
      for (let i = 0; i < a.length; i++) {
        const b = a[i];
        if (b !== undefined) fn(b, i);
      }
      return;
    }
    for (const [k, b] of this.ordered()) fn(b, k);
  }

  /** [index, bucket] pairs by ascending index. */
  ordered(): [number, Bucket][] {
    const out: [number, Bucket][] = [];
    if (this.arr) {
      const a = this.arr;
      for (let i = 0; i < a.length; i++) {
        const b = a[i];
        if (b !== undefined) out.push([i, b]);
      }
      return out;
    }
    const m = this.map as Map<number, Bucket>;
    for (const k of [...m.keys()].sort((x, y) => x - y)) out.push([k, m.get(k) as Bucket]);
    return out;
  }
}

interface Table {
  bits: number;
  mask: number; // jhash_mask(bits)
  locks: number; // ahash_numof_locks(bits)
  buckets: Buckets;
  regions: Region[];
}

/** Options and extension data handed to an add. */
interface ExtIn {
  timeout: number; // seconds, 0: permanent
  packets?: bigint;
  bytes?: bigint;
  comment?: string;
  skbmark: number;
  skbmarkmask: number;
  skbprio: number;
  skbqueue: number;
}

const NO_EXT: ExtIn = { timeout: 0, skbmark: 0, skbmarkmask: 0, skbprio: 0, skbqueue: 0 };

function numLocks(bits: number): number {
  return bits < HTABLE_REGION_BITS ? 1 : 2 ** (bits - HTABLE_REGION_BITS);
}

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** htable_size() != 0: the table of 2^bits bucket pointers fits kvmalloc's INT_MAX. */
function tableFits(bits: number): boolean {
  if (bits > 31) return false;
  return Math.floor((0x7fffffff - HTABLE_SIZE) / 8) >= 2 ** bits;
}

export interface HashSetJSON {
  type: HashTypeName;
  maxelem: number;
  netmask: number;
  bitmask: number;
  timeout: number | null;
  ext: ExtFlags;
  forceadd: boolean;
  bucketsize: number;
  initval: number;
  commentExt: number;
  bits: number;
  regions: [number, number][];
  nets: [number, number][];
  buckets: [number, number, (SlotJSON | null)[]][];
}

type SlotJSON = [number, number, number, number, boolean, number, string, string, string | null, number, number, number, number];

export class HashSet {
  readonly type: HashTypeName;
  readonly kind: Kind;
  readonly maxelem: number;
  readonly netmask: number;
  /** The address mask elements are stored with (from netmask or bitmask). */
  readonly bitmask: number;
  /** Default element timeout; undefined when the set has no timeout support. */
  readonly timeout: number | undefined;
  readonly ext: ExtFlags;
  readonly forceadd: boolean;
  readonly bucketsize: number;
  readonly initval: number;
  readonly dsize: number;
  /** Whether elements carry extension data at all. */
  private readonly hasExt: boolean;
  private table: Table;
  private pool = new Pool();
  /** set->ext_size: memory of comment strings. */
  private commentExt = 0;
  /** hash:net types: prefix lengths present, longest first, with their element counts. */
  private nets: [number, number][] = [];
  /** No element expires before this lab time (lets gc skip the table walk). */
  private earliest = Infinity;

  constructor(type: HashTypeName, attrs: CreateAttrs, initval: number) {
    this.type = type;
    this.kind = KINDS[type];
    let hashsize = attrs.hashsize ?? DEFAULT_HASHSIZE;
    if (hashsize < MIN_HASHSIZE) hashsize = MIN_HASHSIZE;
    const bits = fls(hashsize - 1);
    if (!tableFits(bits)) throw new IpsetErrno('ENOMEM');
    this.maxelem = attrs.maxelem ?? DEFAULT_MAXELEM;
    this.netmask = attrs.netmask ?? 32;
    if (attrs.bitmask !== undefined && attrs.bitmask === 0) throw new IpsetErrno('INVALID_NETMASK');
    this.bitmask = attrs.bitmask !== undefined ? attrs.bitmask >>> 0 : maskOf(this.netmask);
    this.timeout = attrs.timeout === undefined ? undefined : clampTimeout(attrs.timeout);
    this.ext = {
      timeout: attrs.timeout !== undefined,
      counters: !!attrs.counters,
      comment: !!attrs.comment,
      skbinfo: !!attrs.skbinfo,
    };
    this.forceadd = !!attrs.forceadd;
    let bs = AHASH_MAX_SIZE;
    if (attrs.bucketsize !== undefined) {
      bs = attrs.bucketsize;
      if (bs < AHASH_INIT_SIZE) bs = AHASH_INIT_SIZE;
      else if (bs > AHASH_MAX_SIZE) bs = AHASH_MAX_SIZE;
      else if (bs % 2) bs += 1;
    }
    this.bucketsize = bs;
    this.initval = initval >>> 0;
    this.dsize = elemLen(this.kind.elem, 4, this.ext);
    this.hasExt = this.ext.timeout || this.ext.counters || this.ext.comment || this.ext.skbinfo;
    this.table = newTable(bits);
  }

  get hashsize(): number {
    return 2 ** this.table.bits;
  }

  /** Whether two sets agree where `create -exist` requires it (mtype_same_set). */
  sameSet(o: HashSet): boolean {
    return (
      this.type === o.type &&
      this.maxelem === o.maxelem &&
      this.timeout === o.timeout &&
      this.netmask === o.netmask &&
      this.bitmask === o.bitmask &&
      this.ext.counters === o.ext.counters &&
      this.ext.comment === o.ext.comment &&
      this.ext.skbinfo === o.ext.skbinfo &&
      this.forceadd === o.forceadd
    );
  }

  memsize(): number {
    let ext = 0;
    for (const r of this.table.regions) ext += r.extSize;
    return this.kind.htype + HTABLE_SIZE + REGION_SIZE * numLocks(this.table.bits) + ext + this.commentExt;
  }

  count(now: number): number {
    if (!this.ext.timeout) {
      let sum = 0;
      for (const r of this.table.regions) sum = (sum + r.elements) >>> 0;
      return sum;
    }
    let n = 0;
    this.table.buckets.each((b) => {
      for (let i = 0; i < b.pos; i++) {
        const id = b.slots[i];
        if (id !== DELETED && !this.isExpired(id, now)) n++;
      }
    });
    return n;
  }

  /** Members in the kernel's dump order: buckets by index, slots by position. */
  members(now: number): MemberView[] {
    const out: MemberView[] = [];
    this.table.buckets.each((b) => {
      for (let i = 0; i < b.pos; i++) {
        const id = b.slots[i];
        if (id === DELETED || this.isExpired(id, now)) continue;
        out.push(this.view(id, now));
      }
    });
    return out;
  }

  /** cidr, port and proto of an element, decoded from its second word. */
  private cidrOf(w1: number): number {
    if (this.type === 'hash:net') return w1 >>> 24;
    if (this.type === 'hash:net,port') return ((w1 >>> 24) & 0x7f) + 1;
    return 32;
  }

  private view(id: number, now: number): MemberView {
    const p = this.pool;
    const w1 = p.w1[id];
    const m: MemberView = { ip: p.ip[id] };
    if (this.kind.nets) m.cidr = this.cidrOf(w1);
    if (this.kind.ports) {
      m.port = bswap16(w1 & 0xffff);
      m.proto = (w1 >>> 16) & 0xff;
    }
    if (this.kind.nets && p.nomatch[id]) m.nomatch = true;
    const x = p.ext[id];
    if (!x) return m;
    if (this.ext.timeout) m.timeout = remaining(x.expires, now);
    if (this.ext.counters) {
      m.packets = x.packets;
      m.bytes = x.bytes;
    }
    if (this.ext.comment && x.comment) m.comment = x.comment;
    if (this.ext.skbinfo) {
      if (x.skbmark || x.skbmarkmask) {
        m.skbmark = x.skbmark;
        m.skbmarkmask = x.skbmarkmask;
      }
      if (x.skbprio) m.skbprio = x.skbprio;
      if (x.skbqueue) m.skbqueue = x.skbqueue;
    }
    return m;
  }

  private isExpired(id: number, now: number): boolean {
    if (!this.ext.timeout) return false;
    const x = this.pool.ext[id];
    return x !== undefined && expired(x.expires, now);
  }

  // -------------------------------------------------------------------------------------
  // Keys

  private key(ip: IPv4, cidr: number, port: number, proto: number): Key {
    const w0 = bswap32(ip);
    switch (this.type) {
      case 'hash:ip':
        return { ip, w1: 0, h: jhash2(w0, undefined, this.initval) };
      case 'hash:net': {
        const w1 = (cidr << 24) >>> 0;
        return { ip, w1, h: jhash2(w0, w1, this.initval) };
      }
      case 'hash:ip,port': {
        const w1 = (bswap16(port) | (proto << 16)) >>> 0;
        return { ip, w1, h: jhash2(w0, w1, this.initval) };
      }
      case 'hash:net,port': {
        const w1 = (bswap16(port) | (proto << 16) | (((cidr - 1) & 0x7f) << 24)) >>> 0;
        return { ip, w1, h: jhash2(w0, w1, this.initval) };
      }
    }
  }

  private equal(id: number, d: Key): boolean {
    return this.pool.ip[id] === d.ip && this.pool.w1[id] === d.w1;
  }

  private bucketKey(h: number, t: Table = this.table): number {
    return (h & t.mask) >>> 0;
  }

  // -------------------------------------------------------------------------------------
  // Kernel operations on one element (mtype_add / mtype_del / mtype_test)

  /** mtype_add. Returns 'again' when the bucket is full and the table must grow. */
  private addOne(d: Key, ext: ExtIn, exist: boolean, nomatch: boolean, now: number): 'ok' | 'again' {
    const t = this.table;
    const key = (d.h & t.mask) >>> 0;
    const locks = t.locks;
    const r = locks === 1 ? 0 : key % locks;
    let elements = t.regions[r].elements >>> 0;
    let maxelem = locks === 1 ? this.maxelem : Math.floor(this.maxelem / locks);
    let forceadd = false;
    if (elements >= maxelem) {
      if (this.ext.timeout) this.gc(now);
      maxelem = this.maxelem;
      elements = 0;
      for (const rg of t.regions) elements = (elements + rg.elements) >>> 0;
      if (elements >= maxelem && this.forceadd) forceadd = true;
    }
    let n = t.buckets.get(key);
    if (n === undefined) {
      if (forceadd || elements >= maxelem) throw new IpsetErrno('HASH_FULL');
      n = new Bucket();
      t.buckets.set(key, n);
      t.regions[r].extSize += this.extSize(AHASH_INIT_SIZE);
      return this.store(n, n.pos++, d, ext, nomatch, r, now);
    }
    let j = -1;
    let deleted = false;
    let reuse = false;
    for (let i = 0; i < n.pos; i++) {
      const id = n.slots[i];
      if (id === DELETED) {
        if (j === -1) {
          deleted = reuse = true;
          j = i;
        }
        continue;
      }
      if (this.equal(id, d)) {
        if (exist || this.isExpired(id, now)) {
          this.setExt(id, ext, nomatch, now);
          return 'ok';
        }
        throw new IpsetErrno('EXIST');
      }
      if (j === -1 && this.isExpired(id, now)) {
        j = i;
        reuse = true;
      }
    }
    if (reuse || forceadd) {
      if (j === -1) j = 0;
      const old = n.slots[j];
      if (!deleted && old !== DELETED) {
        if (this.kind.nets) this.delCidr(this.cidrOf(this.pool.w1[old]));
        this.destroyExt(old);
        this.pool.release(old);
        t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
      }
      return this.store(n, j, d, ext, nomatch, r, now);
    }
    if (elements >= maxelem) throw new IpsetErrno('HASH_FULL');
    if (n.pos >= n.size) {
      if (n.size >= this.bucketsize) return 'again';
      n.grow(AHASH_INIT_SIZE);
      t.regions[r].extSize += this.extSize(AHASH_INIT_SIZE);
    }
    return this.store(n, n.pos++, d, ext, nomatch, r, now);
  }

  private store(n: Bucket, j: number, d: Key, ext: ExtIn, nomatch: boolean, r: number, now: number): 'ok' {
    const regions = this.table.regions;
    regions[r].elements = (regions[r].elements + 1) >>> 0;
    if (this.kind.nets) this.addCidr(this.cidrOf(d.w1));
    const id = this.pool.alloc(d);
    n.slots[j] = id;
    this.setExt(id, ext, nomatch, now);
    return 'ok';
  }

  private setExt(id: number, ext: ExtIn, nomatch: boolean, now: number): void {
    if (this.kind.nets) this.pool.nomatch[id] = nomatch ? 1 : 0;
    if (!this.hasExt) return;
    let x = this.pool.ext[id];
    if (x === undefined) x = this.pool.ext[id] = new ExtData();
    if (this.ext.counters) {
      if (ext.bytes !== undefined) x.bytes = ext.bytes;
      if (ext.packets !== undefined) x.packets = ext.packets;
    }
    if (this.ext.comment) {
      if (x.comment !== undefined) this.commentExt -= commentSize(x.comment);
      x.comment = undefined;
      if (ext.comment) {
        x.comment = ext.comment;
        this.commentExt += commentSize(ext.comment);
      }
    }
    if (this.ext.skbinfo) {
      x.skbmark = ext.skbmark;
      x.skbmarkmask = ext.skbmarkmask;
      x.skbprio = ext.skbprio;
      x.skbqueue = ext.skbqueue;
    }
    if (this.ext.timeout) {
      x.expires = ext.timeout === 0 ? 0 : now + ext.timeout;
      if (x.expires !== 0 && x.expires < this.earliest) this.earliest = x.expires;
    }
  }

  private destroyExt(id: number): void {
    const x = this.pool.ext[id];
    if (x && x.comment !== undefined) {
      this.commentExt -= commentSize(x.comment);
      x.comment = undefined;
    }
  }

  private extSize(n: number): number {
    return HBUCKET_SIZE + n * this.dsize;
  }

  /** mtype_del. Throws EXIST when the element is not in the set. */
  private delOne(d: Key, now: number): void {
    const t = this.table;
    const key = this.bucketKey(d.h, t);
    const r = key % t.locks;
    const n = t.buckets.get(key);
    if (n === undefined) throw new IpsetErrno('EXIST');
    let k = 0;
    for (let i = 0; i < n.pos; i++) {
      const id = n.slots[i];
      if (id === DELETED) {
        k++;
        continue;
      }
      if (!this.equal(id, d)) continue;
      if (this.isExpired(id, now)) throw new IpsetErrno('EXIST');
      n.slots[i] = DELETED;
      if (i + 1 === n.pos) n.pos--;
      t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
      if (this.kind.nets) this.delCidr(this.cidrOf(d.w1));
      this.destroyExt(id);
      this.pool.release(id);
      for (; i < n.pos; i++) if (n.slots[i] === DELETED) k++;
      // Newer kernels free the bucket once no used slot is left below pos.
      if (k === n.pos) {
        t.regions[r].extSize -= this.extSize(n.size);
        t.buckets.delete(key);
      } else if (k >= AHASH_INIT_SIZE) {
        this.compact(n, n.size - AHASH_INIT_SIZE);
        t.regions[r].extSize -= this.extSize(AHASH_INIT_SIZE);
      }
      return;
    }
    throw new IpsetErrno('EXIST');
  }

  private compact(n: Bucket, size: number): void {
    const old = n.slots;
    const pos = n.pos;
    n.size = size;
    n.slots = new Array<number>(size).fill(DELETED);
    n.pos = 0;
    for (let i = 0; i < pos; i++) {
      const id = old[i];
      if (id !== DELETED) n.slots[n.pos++] = id;
    }
  }

  /** mtype_test / mtype_test_cidrs: 1 found, 0 not found, -1 found but nomatch. `cidr` is
   *  the prefix of the tested element; 32 tries every prefix length stored. */
  private testOne(ip: number, cidr: number, port: number, proto: number, now: number, counters?: { bytes: number }): number {
    if (this.kind.nets && cidr === 32) {
      for (const [c] of this.nets) {
        const ret = this.lookup(this.key((ip & maskOf(c)) >>> 0, c, port, proto), now, counters);
        if (ret !== 0) return ret;
      }
      return 0;
    }
    return this.lookup(this.key(ip, cidr, port, proto), now, counters);
  }

  private lookup(d: Key, now: number, counters?: { bytes: number }): number {
    const n = this.table.buckets.get(this.bucketKey(d.h));
    if (n === undefined) return 0;
    for (let i = 0; i < n.pos; i++) {
      const id = n.slots[i];
      if (id === DELETED || !this.equal(id, d)) continue;
      // ip_set_match_extensions: expired elements do not match; counters count the
      // packet before the nomatch flag is looked at.
      if (this.isExpired(id, now)) continue;
      const x = this.pool.ext[id];
      if (counters && this.ext.counters && x) {
        x.packets += 1n;
        x.bytes += BigInt(counters.bytes);
      }
      return this.kind.nets && this.pool.nomatch[id] ? -1 : 1;
    }
    return 0;
  }

  private addCidr(c: number): void {
    let i = 0;
    for (; i < this.nets.length; i++) {
      if (this.nets[i][0] === c) {
        this.nets[i][1]++;
        return;
      }
      if (this.nets[i][0] < c) break;
    }
    this.nets.splice(i, 0, [c, 1]);
  }

  private delCidr(c: number): void {
    const i = this.nets.findIndex((n) => n[0] === c);
    if (i < 0) return;
    if (--this.nets[i][1] === 0) this.nets.splice(i, 1);
  }

  /** mtype_resize: double the table until every bucket fits, rehashing in bucket order. */
  private resize(now: number): void {
    const orig = this.table;
    const initExt = this.extSize(AHASH_INIT_SIZE);
    const timeouts = this.ext.timeout;
    const bucketsize = this.bucketsize;
    const hashes = this.pool.h;
    for (let bits = orig.bits + 1; ; bits++) {
      if (!tableFits(bits)) throw new IpsetErrno('HASH_FULL');
      const t = newTable(bits);
      const locks = t.locks;
      const mask = t.mask;
      const regions = t.regions;
      const buckets = t.buckets;
      let ok = true;
      orig.buckets.each((n) => {
        if (!ok) return;
        const slots = n.slots;
        for (let j = 0; j < n.pos; j++) {
          const id = slots[j];
          if (id === DELETED || (timeouts && this.isExpired(id, now))) continue;
          const key = (hashes[id] & mask) >>> 0;
          const nr = key % locks;
          let m = buckets.get(key);
          if (m === undefined) {
            m = new Bucket();
            buckets.set(key, m);
            regions[nr].extSize += initExt;
          } else if (m.pos >= m.size) {
            if (m.size >= bucketsize) {
              ok = false;
              return;
            }
            m.grow(AHASH_INIT_SIZE);
            regions[nr].extSize += initExt;
          }
          m.slots[m.pos++] = id;
          regions[nr].elements = (regions[nr].elements + 1) >>> 0;
        }
      });
      if (ok) {
        this.table = t;
        return;
      }
    }
  }

  /** mtype_gc_do over every region: drop expired elements, shrink or free buckets. */
  gc(now: number): void {
    if (!this.ext.timeout || now < this.earliest) return;
    const t = this.table;
    let earliest = Infinity;
    for (const [i, n] of t.buckets.ordered()) {
      const r = t.bits < HTABLE_REGION_BITS ? 0 : Math.floor(i / 2 ** HTABLE_REGION_BITS);
      let d = 0;
      for (let j = 0; j < n.pos; j++) {
        const id = n.slots[j];
        if (id === DELETED) {
          d++;
          continue;
        }
        const exp = this.pool.ext[id]?.expires ?? 0;
        if (!expired(exp, now)) {
          if (exp !== 0 && exp < earliest) earliest = exp;
          continue;
        }
        n.slots[j] = DELETED;
        if (this.kind.nets) this.delCidr(this.cidrOf(this.pool.w1[id]));
        t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
        this.destroyExt(id);
        this.pool.release(id);
        d++;
      }
      if (d >= AHASH_INIT_SIZE) {
        if (d >= n.size) {
          t.regions[r].extSize -= this.extSize(n.size);
          t.buckets.delete(i);
          continue;
        }
        this.compact(n, n.size - AHASH_INIT_SIZE);
        t.regions[r].extSize -= this.extSize(AHASH_INIT_SIZE);
      }
    }
    this.earliest = earliest;
  }

  flush(): void {
    this.table = newTable(this.table.bits);
    this.pool = new Pool();
    this.commentExt = 0;
    this.nets = [];
  }

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

  testPacket(pkt: Packet, dirs: readonly Dir[], now: number, update: boolean): boolean {
    const dim = this.kind.ports ? 2 : 1;
    if (dirs.length < dim) return false;
    const addr = dirs[0] === 'src' ? pkt.src : pkt.dst;
    const counters = update ? { bytes: pkt.len } : undefined;
    let port = 0;
    const proto = pkt.proto;
    if (this.kind.ports) {
      if (proto <= 0) return false;
      if (protoWithPorts(proto)) port = dirs[1] === 'src' ? pkt.sport : pkt.dport;
      else if (proto === PROTO_ICMP) port = ((pkt.icmpType & 0xff) << 8) | (pkt.icmpCode & 0xff);
    }
    let ip: number;
    if (this.kind.nets) {
      if (this.nets.length === 0) return false;
      ip = addr >>> 0;
    } else {
      ip = (addr & this.bitmask) >>> 0;
      if (ip === 0) return false;
    }
    return this.testOne(ip, 32, port, proto, now, counters) > 0;
  }

  // -------------------------------------------------------------------------------------
  // Copies and the lab file

  toJSON(): HashSetJSON {
    const t = this.table;
    const buckets: HashSetJSON['buckets'] = [];
    for (const [k, b] of t.buckets.ordered()) {
      buckets.push([k, b.size, b.slots.slice(0, b.pos).map((id) => (id === DELETED ? null : this.slotJSON(id)))]);
    }
    return {
      type: this.type,
      maxelem: this.maxelem,
      netmask: this.netmask,
      bitmask: this.bitmask,
      timeout: this.timeout ?? null,
      ext: { ...this.ext },
      forceadd: this.forceadd,
      bucketsize: this.bucketsize,
      initval: this.initval,
      commentExt: this.commentExt,
      bits: t.bits,
      regions: t.regions.map((r) => [r.elements, r.extSize]),
      nets: this.nets.map((n) => [n[0], n[1]]),
      buckets,
    };
  }

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
    const t = newTable(j.bits);
    t.regions = j.regions.map(([elements, extSize]) => ({ elements, extSize }));
    for (const [k, size, slots] of j.buckets) {
      const b = new Bucket(size);
      b.pos = slots.length;
      slots.forEach((x, i) => (b.slots[i] = x ? s.slotFromJSON(x) : DELETED));
      t.buckets.set(k, b);
    }
    s.table = t;
    s.earliest = 0; // recomputed by the first gc
    s.commentExt = j.commentExt;
    s.nets = j.nets.map((n) => [n[0], n[1]]);
    return s;
  }

  private slotJSON(id: number): SlotJSON {
    const p = this.pool;
    const w1 = p.w1[id];
    const x = p.ext[id] ?? new ExtData();
    return [
      p.ip[id], this.cidrOf(w1), this.kind.ports ? bswap16(w1 & 0xffff) : 0, this.kind.ports ? (w1 >>> 16) & 0xff : 0,
      p.nomatch[id] === 1, x.expires, x.packets.toString(), x.bytes.toString(), x.comment ?? null,
      x.skbmark, x.skbmarkmask, x.skbprio, x.skbqueue,
    ];
  }

  private slotFromJSON(j: SlotJSON): number {
    const [ip, cidr, port, proto, nomatch, expires, packets, bytes, comment, skbmark, skbmarkmask, skbprio, skbqueue] = j;
    const id = this.pool.alloc(this.key(ip, cidr, port, proto));
    this.pool.nomatch[id] = nomatch ? 1 : 0;
    if (this.hasExt) {
      const x = (this.pool.ext[id] = new ExtData());
      x.expires = expires;
      x.packets = BigInt(packets);
      x.bytes = BigInt(bytes);
      x.comment = comment ?? undefined;
      x.skbmark = skbmark;
      x.skbmarkmask = skbmarkmask;
      x.skbprio = skbprio;
      x.skbqueue = skbqueue;
    }
    return id;
  }

  clone(): HashSet {
    return HashSet.fromJSON(this.toJSON());
  }
}

function newTable(bits: number): Table {
  const regions: Region[] = [];
  const locks = numLocks(bits);
  for (let i = 0; i < locks; i++) regions.push({ elements: 0, extSize: 0 });
  return { bits, mask: bits >= 32 ? 0xffffffff : 2 ** bits - 1, locks, buckets: new Buckets(bits), regions };
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
