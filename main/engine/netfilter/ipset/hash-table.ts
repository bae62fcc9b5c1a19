// The kernel's hash table of the ipset hash types (net/netfilter/ipset/ip_set_hash_gen.h),
// shared by hash:ip, hash:net, hash:ip,port and hash:net,port (hash-set.ts): jhash2 of the element
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
import type { CreateAttrs, ElemExt, ExtFlags, HashTypeName, MatchExt, MemberView } from './types.ts';
import { IpsetErrno, clampTimeout, commentSize, elemLen, expired, remaining } from './types.ts';

const AHASH_INIT_SIZE = 2;
const AHASH_MAX_SIZE = 12; // 6 * AHASH_INIT_SIZE: default and largest bucketsize
const HBUCKET_SIZE = 32; // struct hbucket: rcu_head, used bitmap, size, pos
const HTABLE_SIZE = 24; // struct htable without the bucket pointers
const REGION_SIZE = 24; // struct ip_set_region
const HTABLE_REGION_BITS = 10;
const DEFAULT_HASHSIZE = 1024;
const MIN_HASHSIZE = 64;
const DEFAULT_MAXELEM = 65536;

export interface Kind {
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
export interface Key {
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

// Buckets live in one Int32Array slab per table, each in a region of
// [size, pos, slot0 .. slot11]: `size` slots of which the first `pos` were used, a slot
// holding an element id or DELETED. The kernel reallocates a bucket when it grows or
// shrinks; here a region has room for the largest bucket (AHASH_MAX_SIZE), so only the
// numbers change. No object per bucket: big sets stay cheap for the garbage collector.
const REGION_INTS = 2 + AHASH_MAX_SIZE;
const B_SIZE = 0;
const B_POS = 1;
const B_SLOTS = 2;

/** The bucket pointer array and the slab. Tables up to 2^20 buckets index a typed array
 *  (offset + 1, 0: no bucket); larger ones a Map (a huge `hashsize` must not allocate its
 *  full table). */
class Buckets {
  private readonly arr: Int32Array | null;
  private readonly map: Map<number, number> | null;
  slab = new Int32Array(REGION_INTS * 64);
  private top = 0;
  private freeRegions: number[] = [];

  constructor(bits: number) {
    this.arr = bits <= 20 ? new Int32Array(2 ** bits) : null;
    this.map = this.arr ? null : new Map();
  }

  /** Offset of bucket k in the slab, or -1. */
  get(k: number): number {
    if (this.arr) return this.arr[k] - 1;
    const o = (this.map as Map<number, number>).get(k);
    return o === undefined ? -1 : o;
  }

  /** A new empty bucket of AHASH_INIT_SIZE slots at index k (the slab may move). */
  create(k: number): number {
    let o = this.freeRegions.pop();
    if (o === undefined) {
      o = this.top;
      this.top += REGION_INTS;
      if (this.top > this.slab.length) {
        const bigger = new Int32Array(this.slab.length * 2);
        bigger.set(this.slab);
        this.slab = bigger;
      }
    }
    this.slab[o + B_SIZE] = AHASH_INIT_SIZE;
    this.slab[o + B_POS] = 0;
    if (this.arr) this.arr[k] = o + 1;
    else (this.map as Map<number, number>).set(k, o);
    return o;
  }

  delete(k: number): void {
    const o = this.get(k);
    if (o < 0) return;
    this.freeRegions.push(o);
    if (this.arr) this.arr[k] = 0;
    else (this.map as Map<number, number>).delete(k);
  }

  /** Every bucket by ascending index: fn(offset, index). */
  each(fn: (o: number, index: number) => void): void {
    if (this.arr) {
      const a = this.arr;
      for (let i = 0; i < a.length; i++) if (a[i] !== 0) fn(a[i] - 1, i);
      return;
    }
    const m = this.map as Map<number, number>;
    for (const k of [...m.keys()].sort((x, y) => x - y)) fn(m.get(k) as number, k);
  }
}

interface Region {
  elements: number;
  extSize: number;
}

interface Table {
  bits: number;
  mask: number; // jhash_mask(bits)
  locks: number; // ahash_numof_locks(bits)
  buckets: Buckets;
  regions: Region[];
}

/** Options and extension data handed to an add. */
export interface ExtIn {
  timeout: number; // seconds, 0: permanent
  packets?: bigint;
  bytes?: bigint;
  comment?: string;
  skbmark: number;
  skbmarkmask: number;
  skbprio: number;
  skbqueue: number;
}

export const NO_EXT: ExtIn = { timeout: 0, skbmark: 0, skbmarkmask: 0, skbprio: 0, skbqueue: 0 };

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

/** The table, element storage and accounting of one hash set; the set types' own parsing
 *  of ranges and packets is in HashSet (hash-set.ts). */
export class HashTable {
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
  protected readonly hasExt: boolean;
  private table: Table;
  private pool = new Pool();
  /** set->ext_size: memory of comment strings. */
  private commentExt = 0;
  /** hash:net types: prefix lengths present, longest first, with their element counts. */
  protected nets: [number, number][] = [];
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
  sameSet(o: HashTable): boolean {
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
    const bk = this.table.buckets;
    bk.each((o) => {
      const slab = bk.slab;
      for (let i = 0; i < slab[o + B_POS]; i++) {
        const id = slab[o + B_SLOTS + i];
        if (id !== DELETED && !this.isExpired(id, now)) n++;
      }
    });
    return n;
  }

  /** Members in the kernel's dump order: buckets by index, slots by position. */
  members(now: number): MemberView[] {
    const out: MemberView[] = [];
    const bk = this.table.buckets;
    bk.each((o) => {
      const slab = bk.slab;
      for (let i = 0; i < slab[o + B_POS]; i++) {
        const id = slab[o + B_SLOTS + i];
        if (id === DELETED || this.isExpired(id, now)) continue;
        out.push(this.view(id, now));
      }
    });
    return out;
  }

  /** cidr, port and proto of an element, decoded from its second word. */
  protected cidrOf(w1: number): number {
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

  protected isExpired(id: number, now: number): boolean {
    if (!this.ext.timeout) return false;
    const x = this.pool.ext[id];
    return x !== undefined && expired(x.expires, now);
  }

  // -------------------------------------------------------------------------------------
  // Keys

  protected key(ip: IPv4, cidr: number, port: number, proto: number): Key {
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
  protected addOne(d: Key, ext: ExtIn, exist: boolean, nomatch: boolean, now: number): 'ok' | 'again' {
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
    const bk = t.buckets;
    let o = bk.get(key);
    if (o < 0) {
      if (forceadd || elements >= maxelem) throw new IpsetErrno('HASH_FULL');
      o = bk.create(key);
      t.regions[r].extSize += this.extSize(AHASH_INIT_SIZE);
      return this.store(o, d, ext, nomatch, r, now);
    }
    const slab = bk.slab;
    const pos = slab[o + B_POS];
    let j = -1;
    let deleted = false;
    let reuse = false;
    for (let i = 0; i < pos; i++) {
      const id = slab[o + B_SLOTS + i];
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
      const old = slab[o + B_SLOTS + j];
      if (!deleted && old !== DELETED) {
        if (this.kind.nets) this.delCidr(this.cidrOf(this.pool.w1[old]));
        this.destroyExt(old);
        this.pool.release(old);
        t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
      }
      return this.put(slab, o, j, d, ext, nomatch, r, now);
    }
    if (elements >= maxelem) throw new IpsetErrno('HASH_FULL');
    if (pos >= slab[o + B_SIZE]) {
      if (slab[o + B_SIZE] >= this.bucketsize) return 'again';
      slab[o + B_SIZE] += AHASH_INIT_SIZE;
      t.regions[r].extSize += this.extSize(AHASH_INIT_SIZE);
    }
    return this.store(o, d, ext, nomatch, r, now);
  }

  /** The element into the next free slot of bucket `o`. */
  private store(o: number, d: Key, ext: ExtIn, nomatch: boolean, r: number, now: number): 'ok' {
    const slab = this.table.buckets.slab;
    return this.put(slab, o, slab[o + B_POS]++, d, ext, nomatch, r, now);
  }

  private put(slab: Int32Array, o: number, j: number, d: Key, ext: ExtIn, nomatch: boolean, r: number, now: number): 'ok' {
    const regions = this.table.regions;
    regions[r].elements = (regions[r].elements + 1) >>> 0;
    if (this.kind.nets) this.addCidr(this.cidrOf(d.w1));
    const id = this.pool.alloc(d);
    slab[o + B_SLOTS + j] = id;
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
  protected delOne(d: Key, now: number): void {
    const t = this.table;
    const key = this.bucketKey(d.h, t);
    const r = key % t.locks;
    const bk = t.buckets;
    const o = bk.get(key);
    if (o < 0) throw new IpsetErrno('EXIST');
    const slab = bk.slab;
    let k = 0;
    for (let i = 0; i < slab[o + B_POS]; i++) {
      const id = slab[o + B_SLOTS + i];
      if (id === DELETED) {
        k++;
        continue;
      }
      if (!this.equal(id, d)) continue;
      if (this.isExpired(id, now)) throw new IpsetErrno('EXIST');
      slab[o + B_SLOTS + i] = DELETED;
      if (i + 1 === slab[o + B_POS]) slab[o + B_POS]--;
      t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
      if (this.kind.nets) this.delCidr(this.cidrOf(d.w1));
      this.destroyExt(id);
      this.pool.release(id);
      const pos = slab[o + B_POS];
      for (; i < pos; i++) if (slab[o + B_SLOTS + i] === DELETED) k++;
      // Newer kernels free the bucket once no used slot is left below pos.
      if (k === pos) {
        t.regions[r].extSize -= this.extSize(slab[o + B_SIZE]);
        bk.delete(key);
      } else if (k >= AHASH_INIT_SIZE) {
        compact(slab, o);
        t.regions[r].extSize -= this.extSize(AHASH_INIT_SIZE);
      }
      return;
    }
    throw new IpsetErrno('EXIST');
  }

  /** mtype_test / mtype_test_cidrs: 1 found, 0 not found, -1 found but nomatch. `cidr` is
   *  the prefix of the tested element; 32 tries every prefix length stored. */
  protected testOne(ip: number, cidr: number, port: number, proto: number, now: number, ext?: MatchExt): number {
    if (this.kind.nets && cidr === 32) {
      for (const [c] of this.nets) {
        const ret = this.lookup(this.key((ip & maskOf(c)) >>> 0, c, port, proto), now, ext);
        if (ret !== 0) return ret;
      }
      return 0;
    }
    return this.lookup(this.key(ip, cidr, port, proto), now, ext);
  }

  /** 1: the element is there; -1: there with nomatch; 0: not there (or expired, or failing
   *  the counter conditions: a less specific prefix is looked at next). */
  private lookup(d: Key, now: number, ext?: MatchExt): number {
    const bk = this.table.buckets;
    const o = bk.get(this.bucketKey(d.h));
    if (o < 0) return 0;
    const slab = bk.slab;
    for (let i = 0; i < slab[o + B_POS]; i++) {
      const id = slab[o + B_SLOTS + i];
      if (id === DELETED || !this.equal(id, d)) continue;
      // ip_set_match_extensions: expired elements do not match; counters count the
      // packet, then the counter conditions are asked, before the nomatch flag is looked at.
      if (this.isExpired(id, now)) continue;
      const x = this.pool.ext[id];
      if (ext && this.ext.counters && x) {
        if (ext.update) {
          x.packets += 1n;
          x.bytes += BigInt(ext.bytes);
        }
        if (ext.pass && !ext.pass(x.packets, x.bytes)) return 0;
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
  protected resize(now: number): void {
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
      const from = orig.buckets.slab;
      orig.buckets.each((n) => {
        if (!ok) return;
        for (let j = 0; j < from[n + B_POS]; j++) {
          const id = from[n + B_SLOTS + j];
          if (id === DELETED || (timeouts && this.isExpired(id, now))) continue;
          const key = (hashes[id] & mask) >>> 0;
          const nr = key % locks;
          let m = buckets.get(key);
          if (m < 0) {
            m = buckets.create(key);
            regions[nr].extSize += initExt;
          } else if (buckets.slab[m + B_POS] >= buckets.slab[m + B_SIZE]) {
            if (buckets.slab[m + B_SIZE] >= bucketsize) {
              ok = false;
              return;
            }
            buckets.slab[m + B_SIZE] += AHASH_INIT_SIZE;
            regions[nr].extSize += initExt;
          }
          const to = buckets.slab;
          to[m + B_SLOTS + to[m + B_POS]++] = id;
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
    const bk = t.buckets;
    const gone: number[] = [];
    bk.each((o, i) => {
      const slab = bk.slab;
      const r = t.bits < HTABLE_REGION_BITS ? 0 : Math.floor(i / 2 ** HTABLE_REGION_BITS);
      let d = 0;
      for (let j = 0; j < slab[o + B_POS]; j++) {
        const id = slab[o + B_SLOTS + j];
        if (id === DELETED) {
          d++;
          continue;
        }
        const exp = this.pool.ext[id]?.expires ?? 0;
        if (!expired(exp, now)) {
          if (exp !== 0 && exp < earliest) earliest = exp;
          continue;
        }
        slab[o + B_SLOTS + j] = DELETED;
        if (this.kind.nets) this.delCidr(this.cidrOf(this.pool.w1[id]));
        t.regions[r].elements = (t.regions[r].elements - 1) >>> 0;
        this.destroyExt(id);
        this.pool.release(id);
        d++;
      }
      if (d >= AHASH_INIT_SIZE) {
        if (d >= slab[o + B_SIZE]) {
          t.regions[r].extSize -= this.extSize(slab[o + B_SIZE]);
          gone.push(i);
          return;
        }
        compact(slab, o);
        t.regions[r].extSize -= this.extSize(AHASH_INIT_SIZE);
      }
    });
    for (const i of gone) bk.delete(i);
    this.earliest = earliest;
  }

  flush(): void {
    this.table = newTable(this.table.bits);
    this.pool = new Pool();
    this.commentExt = 0;
    this.nets = [];
  }

  // -------------------------------------------------------------------------------------
  // Copies and the lab file

  toJSON(): HashSetJSON {
    const t = this.table;
    const buckets: HashSetJSON['buckets'] = [];
    const bk = t.buckets;
    bk.each((o, k) => {
      const slab = bk.slab;
      const slots: (SlotJSON | null)[] = [];
      for (let i = 0; i < slab[o + B_POS]; i++) {
        const id = slab[o + B_SLOTS + i];
        slots.push(id === DELETED ? null : this.slotJSON(id));
      }
      buckets.push([k, slab[o + B_SIZE], slots]);
    });
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

  /** Restore the table as toJSON() saved it (the set was created with the same options). */
  protected load(j: HashSetJSON): void {
    const t = newTable(j.bits);
    t.regions = j.regions.map(([elements, extSize]) => ({ elements, extSize }));
    for (const [k, size, slots] of j.buckets) {
      const o = t.buckets.create(k);
      const slab = t.buckets.slab;
      slab[o + B_SIZE] = size;
      slab[o + B_POS] = slots.length;
      slots.forEach((x, i) => (slab[o + B_SLOTS + i] = x ? this.slotFromJSON(x) : DELETED));
    }
    this.table = t;
    this.earliest = 0; // recomputed by the first gc
    this.commentExt = j.commentExt;
    this.nets = j.nets.map((n) => [n[0], n[1]]);
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
}

/** Shrink bucket `o` by AHASH_INIT_SIZE slots, packing the used ones at the front. */
function compact(slab: Int32Array, o: number): void {
  const pos = slab[o + B_POS];
  let n = 0;
  for (let i = 0; i < pos; i++) {
    const id = slab[o + B_SLOTS + i];
    if (id !== DELETED) slab[o + B_SLOTS + n++] = id;
  }
  slab[o + B_POS] = n;
  slab[o + B_SIZE] -= AHASH_INIT_SIZE;
}

function newTable(bits: number): Table {
  const regions: Region[] = [];
  const locks = numLocks(bits);
  for (let i = 0; i < locks; i++) regions.push({ elements: 0, extSize: 0 });
  return { bits, mask: bits >= 32 ? 0xffffffff : 2 ** bits - 1, locks, buckets: new Buckets(bits), regions };
}
