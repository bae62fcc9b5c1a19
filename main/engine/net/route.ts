// The IPv4 FIB of one namespace: routes per table in the order the kernel's trie dumps them,
// and the kernel's rules for inserting (add/append/prepend/replace/change) and deleting.
//
// Dump order inside a table: by destination key ascending, then prefix length descending
// (one trie leaf holds every length of a key, longest first), then TOS, then metric
// ascending; routes equal on all of that keep the order the flags gave them (append: last,
// add/prepend: first).

import { inPrefix, maskOf, type IPv4 } from './ipv4.ts';
import { KernelError } from './errno.ts';
import { SCOPE, parseUint } from './iface.ts';

export type RouteType =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'throw'
  | 'nat';

export const ROUTE_TYPES: readonly RouteType[] = [
  'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat',
];

/** Minimum scope of each type (fib_props[].scope) and the lookup error it stands for. */
export const TYPE_PROPS: Readonly<Record<RouteType, { scope: number; error?: 'EINVAL' | 'EHOSTUNREACH' | 'EACCES' | 'EAGAIN' }>> = {
  unicast: { scope: SCOPE.universe },
  local: { scope: SCOPE.host },
  broadcast: { scope: SCOPE.link },
  anycast: { scope: SCOPE.link },
  multicast: { scope: SCOPE.universe },
  blackhole: { scope: SCOPE.universe, error: 'EINVAL' },
  unreachable: { scope: SCOPE.universe, error: 'EHOSTUNREACH' },
  prohibit: { scope: SCOPE.universe, error: 'EACCES' },
  throw: { scope: SCOPE.universe, error: 'EAGAIN' },
  nat: { scope: SCOPE.nowhere, error: 'EINVAL' },
};

export const TABLE = { unspec: 0, default: 253, main: 254, local: 255 } as const;
export const PROTO = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4 } as const;

/** /etc/iproute2/rt_protos of this machine. */
const PROTO_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt',
  11: 'zebra', 12: 'bird', 13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 18: 'keepalived',
  42: 'babel', 99: 'openr', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
};

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? String(p);
}

export function parseProto(s: string): number | null {
  for (const [num, name] of Object.entries(PROTO_NAMES)) if (name === s) return Number(num);
  const n = parseUint(s);
  return n !== null && n <= 255 ? n : null;
}

export function tableName(t: number): string {
  switch (t) {
    case TABLE.local:
      return 'local';
    case TABLE.main:
      return 'main';
    case TABLE.default:
      return 'default';
    case TABLE.unspec:
      return 'unspec';
    default:
      return String(t);
  }
}

/** A table argument; 'all' is 0. */
export function parseTable(s: string): number | null {
  const named: Record<string, number> = { local: 255, main: 254, default: 253, unspec: 0, all: 0 };
  if (s in named) return named[s];
  const n = parseUint(s);
  return n;
}

export interface Route {
  table: number;
  type: RouteType;
  dst: IPv4; // host bits clear
  plen: number;
  metric: number;
  proto: number;
  scope: number;
  prefsrc: IPv4 | null;
  gateway: IPv4 | null;
  /** ifindex of the nexthop device; null for blackhole/unreachable/prohibit/throw. */
  dev: number | null;
  onlink: boolean;
  /** Scope of the nexthop as fib_check_nh sets it: nowhere for host-scope routes, host for
   *  device routes, and the scope of the route that resolved the gateway. */
  nhScope: number;
}

/** Same fib_info and type: the kernel's notion of an identical route. */
export function sameRoute(a: Route, b: Route): boolean {
  return (
    a.type === b.type &&
    a.metric === b.metric &&
    a.proto === b.proto &&
    a.scope === b.scope &&
    a.prefsrc === b.prefsrc &&
    a.gateway === b.gateway &&
    a.dev === b.dev &&
    a.onlink === b.onlink
  );
}

/** Position comparison of two route keys in a table dump (0: same group). */
function keyOrder(a: { dst: IPv4; plen: number }, b: { dst: IPv4; plen: number }): number {
  if (a.dst !== b.dst) return a.dst < b.dst ? -1 : 1;
  return b.plen - a.plen;
}

export type InsertMode = 'add' | 'append' | 'prepend' | 'replace' | 'change' | 'test' | 'kernel';

/**
 * Insert into one table's list following fib_table_insert. `kernel` is fib_magic's
 * CREATE|APPEND whose EEXIST the kernel ignores (returns false then); `test` is EXCL without
 * CREATE (`ip route test`): EEXIST when the route exists, else ENOENT.
 */
export function insertRoute(list: Route[], r: Route, mode: InsertMode): boolean {
  const excl = mode === 'add' || mode === 'test';
  const replace = mode === 'replace' || mode === 'change';
  const append = mode === 'append' || mode === 'kernel';
  const create = mode !== 'change' && mode !== 'test';

  let start = list.findIndex((x) => keyOrder(x, r) >= 0);
  if (start < 0) start = list.length;
  let end = start;
  while (end < list.length && keyOrder(list[end], r) === 0) end++;
  // First alias of the group with metric >= ours.
  let fa = start;
  while (fa < end && list[fa].metric < r.metric) fa++;

  let at = fa;
  if (fa < end && list[fa].metric === r.metric) {
    if (excl) throw new KernelError('EEXIST');
    let runEnd = fa;
    let match = -1;
    while (runEnd < end && list[runEnd].metric === r.metric) {
      if (match < 0 && sameRoute(list[runEnd], r)) match = runEnd;
      runEnd++;
    }
    if (replace) {
      if (match >= 0) {
        if (match === fa) return false;
        throw new KernelError('EEXIST');
      }
      list[fa] = r;
      return true;
    }
    if (match >= 0) {
      if (mode === 'kernel') return false;
      throw new KernelError('EEXIST');
    }
    at = append ? runEnd : fa;
  }
  if (!create) throw new KernelError('ENOENT');
  list.splice(at, 0, r);
  return true;
}

/** What `ip route del` (or fib_magic's delete) asks for; absent fields match anything. */
export interface RouteSelector {
  dst: IPv4;
  plen: number;
  type?: RouteType;
  scope?: number; // absent: RT_SCOPE_NOWHERE, any
  prefsrc?: IPv4;
  proto?: number;
  metric?: number;
  dev?: number;
  gateway?: IPv4;
}

/** Index of the route fib_table_delete would remove, or -1. */
export function findForDelete(list: readonly Route[], sel: RouteSelector): number {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x.dst !== sel.dst || x.plen !== sel.plen) continue;
    if (sel.type !== undefined && x.type !== sel.type) continue;
    if (sel.scope !== undefined && x.scope !== sel.scope) continue;
    if (sel.prefsrc !== undefined && x.prefsrc !== sel.prefsrc) continue;
    if (sel.proto !== undefined && x.proto !== sel.proto) continue;
    if (sel.metric !== undefined && sel.metric !== 0 && x.metric !== sel.metric) continue;
    if (sel.dev !== undefined && x.dev !== sel.dev) continue;
    if (sel.gateway !== undefined && x.gateway !== sel.gateway) continue;
    return i;
  }
  return -1;
}

/** fib_valid_key_len: host bits must be clear. */
export function checkKey(dst: IPv4, plen: number): void {
  if (plen > 32) throw new KernelError('EINVAL', 'Invalid prefix length');
  if (((dst & ~maskOf(plen)) >>> 0) !== 0) throw new KernelError('EINVAL', 'Invalid prefix for given prefix length');
}

export function routeCovers(r: Route, addr: IPv4): boolean {
  return inPrefix(addr, { addr: r.dst, len: r.plen });
}
