// The ipset vocabulary shared by the kernel-side set store (store.ts, hash-set.ts,
// list-set.ts), the text formats (format.ts) and the `ipset` console command. The split
// follows the real tool: the console parses text into attributes (what the netlink
// messages carry), the store applies them with the kernel's semantics and answers with
// the kernel's error codes, which the console turns into the tool's messages.

import type { IPv4 } from '../../net/ipv4.ts';

export type SetTypeName = 'hash:ip' | 'hash:net' | 'hash:ip,port' | 'hash:net,port' | 'list:set';
export type HashTypeName = Exclude<SetTypeName, 'list:set'>;

export const SET_TYPES: readonly SetTypeName[] = ['hash:ip', 'hash:net', 'hash:ip,port', 'hash:net,port', 'list:set'];

/** Kernel revision the tool on the reference machine (ipset v7.17) uses for each type. */
export const REVISION: Readonly<Record<SetTypeName, number>> = {
  'hash:ip': 6,
  'hash:net': 7,
  'hash:ip,port': 7,
  'hash:net,port': 8,
  'list:set': 3,
};

/** Kernel error codes the store answers with (IPSET_ERR_* and the errno values used). */
export type Errno =
  | 'ENOENT' // the set does not exist
  | 'EEXIST' // create: a set of that name exists
  | 'EXIST' // add: already added / del: not added / test: not in set
  | 'BUSY' // destroy: referenced
  | 'REFERENCED' // rename: referenced
  | 'EXIST_SETNAME2' // rename: new name taken / swap: second set missing
  | 'TYPE_MISMATCH' // swap
  | 'HASH_FULL'
  | 'HASH_ELEM' // null-valued element
  | 'HASH_RANGE' // range covers the whole address space
  | 'INVALID_CIDR'
  | 'INVALID_NETMASK'
  | 'INVALID_PROTO'
  | 'EINVAL'
  | 'ENOMEM'
  | 'TIMEOUT' // element extension used on a set without it
  | 'COUNTER'
  | 'COMMENT'
  | 'SKBINFO'
  | 'NAME' // list:set: member set does not exist
  | 'LOOP' // list:set: a list:set cannot be a member
  | 'NAMEREF' // list:set: before/after set does not exist
  | 'REF_EXIST' // list:set: before/after set is not a member
  | 'FAMILY'; // the lab keeps IPv4 sets only

/** Thrown by the store with a kernel error code (and the restore line it belongs to). */
export class IpsetErrno extends Error {
  readonly errno: Errno;
  constructor(errno: Errno) {
    super(errno);
    this.errno = errno;
  }
}

/** CREATE attributes (what `ipset create` sends after parsing). */
export interface CreateAttrs {
  family?: 'inet' | 'inet6';
  hashsize?: number;
  maxelem?: number;
  netmask?: number;
  /** hash:ip / hash:ip,port: any (also non-contiguous) address mask, instead of netmask. */
  bitmask?: number;
  timeout?: number;
  counters?: boolean;
  comment?: boolean;
  forceadd?: boolean;
  skbinfo?: boolean;
  bucketsize?: number;
  initval?: number;
  size?: number;
}

/** ADT (add/del/test) attributes of one element, as `ipset` parses them. */
export interface AdtAttrs {
  ip?: IPv4;
  ipTo?: IPv4;
  cidr?: number;
  port?: number;
  portTo?: number;
  proto?: number;
  nomatch?: boolean;
  /** list:set: the member set name, and the before/after reference. */
  name?: string;
  nameref?: string;
  before?: boolean;
  timeout?: number;
  packets?: bigint;
  bytes?: bigint;
  comment?: string;
  skbmark?: number;
  skbmarkmask?: number;
  skbprio?: number;
  skbqueue?: number;
}

/** Per-element extension values (what listings print after the element). */
export interface ElemExt {
  /** Lab time (seconds) the element expires at; 0: permanent. Only in sets with timeout. */
  expires: number;
  packets: bigint;
  bytes: bigint;
  comment?: string;
  skbmark: number;
  skbmarkmask: number;
  skbprio: number;
  skbqueue: number;
}

/** One member as listings see it (already decoded from the kernel element). */
export interface MemberView {
  ip?: IPv4;
  cidr?: number; // hash:net types: printed when not 32
  port?: number;
  proto?: number;
  nomatch?: boolean;
  name?: string; // list:set
  /** Remaining seconds, when the set has timeouts. */
  timeout?: number;
  packets?: bigint;
  bytes?: bigint;
  comment?: string;
  skbmark?: number;
  skbmarkmask?: number;
  skbprio?: number;
  skbqueue?: number;
}

/** A set's header as `ipset list` prints it. */
export interface HeaderView {
  name: string;
  type: SetTypeName;
  revision: number;
  family: 'inet';
  hashsize?: number;
  maxelem?: number;
  netmask?: number; // only when not 32
  bitmask?: number; // only when given instead of a netmask, and not all ones
  timeout?: number;
  counters: boolean;
  comment: boolean;
  skbinfo: boolean;
  bucketsize?: number;
  initval?: number;
  size?: number; // list:set
  memsize: number;
  references: number;
  elements: number;
}

export interface SetView {
  header: HeaderView;
  members: MemberView[];
}

/** What packet tests read from the packet (the kernel's ip4addrptr / ip_set_get_ip4_port). */
export type Dir = 'src' | 'dst';

/** Extension flags shared by all set types. */
export interface ExtFlags {
  timeout: boolean;
  counters: boolean;
  comment: boolean;
  skbinfo: boolean;
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The kernel's element size with extensions (ip_set_elem_len): counter, timeout, skbinfo,
 *  comment in that order, each aligned to its own alignment. */
export function elemLen(base: number, baseAlign: number, ext: ExtFlags): number {
  let len = base;
  let align = baseAlign;
  const addExt = (size: number, a: number): void => {
    len = alignUp(len, a) + size;
    if (a > align) align = a;
  };
  if (ext.counters) addExt(16, 8);
  if (ext.timeout) addExt(8, 8);
  if (ext.skbinfo) addExt(16, 4);
  if (ext.comment) addExt(8, 8);
  return alignUp(len, align);
}

/** Memory the kernel accounts for a comment string (struct ip_set_comment_rcu + text + NUL). */
export function commentSize(c: string): number {
  return 16 + utf8Length(c) + 1;
}

export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Remaining seconds of an element as the kernel reports it (ip_set_timeout_get): whole
 *  seconds left, at least 1 while not expired; 0 for permanent elements. */
export function remaining(expires: number, now: number): number {
  if (expires === 0) return 0;
  const t = Math.floor(expires - now);
  return t <= 0 ? 1 : t;
}

/** Whether an element with this expiry is gone at `now`. */
export function expired(expires: number, now: number): boolean {
  return expires !== 0 && now >= expires;
}

/** The kernel keeps element timeouts within UINT_MAX/1000 seconds (ip_set_timeout_uget). */
export function clampTimeout(t: number): number {
  const max = Math.floor(0xffffffff / 1000);
  return t > max ? max : t;
}

/** What a packet's test does to the element it finds (ip_set_match_extensions): counts the
 *  packet (`update`, `bytes` long), then asks the counter conditions (`pass`, null: none). */
export interface MatchExt {
  bytes: number;
  update: boolean;
  pass: ((packets: bigint, bytes: bigint) => boolean) | null;
}
