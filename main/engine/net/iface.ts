// Network devices of one namespace as the kernel keeps them: index, name, type, MAC, MTU,
// admin state, carrier, IPv4 addresses (in the kernel's list order) and the IPv6 link-local
// state that `ip addr` shows. Plain data, so a namespace serialises and clones as JSON.
//
// MAC addresses are deterministic: macFromSeed(seed) hashes a seed string (NetNs uses
// "<host>/<device>") with FNV-1a into six bytes, then sets the locally-administered bit and
// clears the multicast bit of the first byte, as random kernel MACs do.

import { formatIPv4, type IPv4 } from './ipv4.ts';

export type LinkKind = 'loopback' | 'veth' | 'dummy' | 'ipip';

/** Route/address scopes (rtnetlink numbers). */
export const SCOPE = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;

export function scopeName(scope: number): string {
  switch (scope) {
    case SCOPE.universe:
      return 'global';
    case SCOPE.site:
      return 'site';
    case SCOPE.link:
      return 'link';
    case SCOPE.host:
      return 'host';
    case SCOPE.nowhere:
      return 'nowhere';
    default:
      return String(scope);
  }
}

/** `scope` argument of ip: a name or a number 0..255; null when invalid. */
export function parseScope(s: string): number | null {
  const named: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
  if (s in named) return named[s];
  const n = parseUint(s);
  return n !== null && n <= 255 ? n : null;
}

/** strtoul-style unsigned parse (decimal, 0x hex, leading-0 octal); null when not a number. */
export function parseUint(s: string): number | null {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else if (/^[0-9]+$/.test(s)) v = Number(s);
  else return null;
  return v <= 0xffffffff ? v : null;
}

export interface IfAddr {
  local: IPv4;
  prefixlen: number;
  /** Explicit broadcast (`brd`), or null when none was given. */
  broadcast: IPv4 | null;
  scope: number;
  label: string;
  secondary: boolean;
  noprefixroute: boolean;
  /** `metric` of the prefix route (0: none). */
  metric: number;
}

export interface LinkStats {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  rxMissed: number;
  multicast: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  txCarrier: number;
  collisions: number;
}

export function zeroStats(): LinkStats {
  return {
    rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, rxMissed: 0, multicast: 0,
    txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0, txCarrier: 0, collisions: 0,
  };
}

/** The far end of a veth whose peer lives in another namespace (host or LAN). */
export interface RemotePeer {
  ifindex: number;
  netnsid: number;
  /** Whether that end is administratively up (gives this end its carrier). */
  up: boolean;
}

/** Where the topology cabled the device; opaque to the namespace itself. */
export interface Attachment {
  lan?: string;
  peer?: { host: string; dev: string };
}

export interface Iface {
  ifindex: number;
  name: string;
  kind: LinkKind;
  mac: string;
  mtu: number;
  txqlen: number;
  adminUp: boolean;
  /** Has been up once: the qdisc shows `noqueue` from then on instead of `noop`. */
  everUp: boolean;
  /** veth: ifindex of the peer in this namespace. */
  vethPeer?: number;
  /** veth: the peer in another namespace. */
  remote?: RemotePeer;
  attach?: Attachment;
  /** IPv4 addresses in the kernel's order (primaries by scope, secondaries last). */
  addrs: IfAddr[];
  /** IPv6 is on for the device and its link-local/loopback address is configured; `seq`
   *  orders the IPv6 routes the way the kernel added them. */
  v6: { seq: number } | null;
  /** The IPv6 address was flushed by hand: not configured again until the device goes down. */
  v6Flushed?: boolean;
  /** `ip link set D arp off`. */
  noarp?: boolean;
  /** Flags `ip link set` turned on (true) or off (false): PROMISC, ALLMULTI, MULTICAST,
   *  DYNAMIC, NOTRAILERS. Shown only: the lab's LANs deliver by address all the same. */
  userFlags?: Record<string, boolean>;
  stats: LinkStats;
}

// ---------------------------------------------------------------------------------------------
// MAC addresses

function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function macFromSeed(seed: string): string {
  const a = fnv1a(seed, 0x811c9dc5);
  const b = fnv1a(seed, a ^ 0x5bd1e995);
  const bytes = [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, b >>> 24, (b >>> 16) & 255];
  bytes[0] = (bytes[0] & 0xfc) | 0x02;
  return formatMac(bytes);
}

export function formatMac(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The bytes of a MAC the lab formatted (formatMac). */
export function macBytes(mac: string): number[] {
  return mac.split(':').map((p) => parseInt(p, 16));
}

// ---------------------------------------------------------------------------------------------
// IPv6 (display only: lo's ::1 and EUI-64 link-local addresses)

/** RFC 5952 text of 16 bytes. */
export function formatIPv6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function linkLocalBytes(mac: string): number[] {
  const m = macBytes(mac);
  return [0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
}

export const LOOPBACK6 = '::1';

/** Devices that get an EUI-64 link-local address when IPv6 is on. */
export function hasLinkLocal(kind: LinkKind): boolean {
  return kind === 'veth' || kind === 'dummy';
}

// ---------------------------------------------------------------------------------------------
// State as `ip link` shows it

export type Resolver = (ifindex: number) => Iface | undefined;

export function carrier(dev: Iface, byIndex: Resolver): boolean {
  switch (dev.kind) {
    case 'loopback':
    case 'dummy':
    case 'ipip':
      return true;
    case 'veth': {
      if (!dev.adminUp) return false;
      if (dev.vethPeer !== undefined) return byIndex(dev.vethPeer)?.adminUp ?? false;
      return dev.remote?.up ?? false;
    }
  }
}

/** IFF_RUNNING / LOWER_UP: up with carrier. */
export function running(dev: Iface, byIndex: Resolver): boolean {
  return dev.adminUp && carrier(dev, byIndex);
}

const BASE_FLAGS: Readonly<Record<LinkKind, readonly string[]>> = {
  loopback: ['LOOPBACK'],
  veth: ['BROADCAST', 'MULTICAST'],
  dummy: ['BROADCAST', 'NOARP'],
  ipip: ['NOARP'],
};

/** IFF_* names in the order iproute2 prints them. */
const FLAG_ORDER = ['LOOPBACK', 'BROADCAST', 'POINTOPOINT', 'MULTICAST', 'NOARP', 'ALLMULTI', 'PROMISC', 'DYNAMIC', 'NOTRAILERS', 'UP', 'LOWER_UP'];

/** The flag list inside `<...>`, in iproute2's order. */
export function linkFlags(dev: Iface, byIndex: Resolver): string[] {
  const set = new Set(BASE_FLAGS[dev.kind]);
  const run = running(dev, byIndex);
  if (dev.noarp) set.add('NOARP');
  for (const [f, on] of Object.entries(dev.userFlags ?? {})) {
    if (on) set.add(f);
    else set.delete(f);
  }
  if (dev.adminUp) set.add('UP');
  if (run) set.add('LOWER_UP');
  const out = FLAG_ORDER.filter((f) => set.has(f));
  if (dev.adminUp && !run) out.unshift('NO-CARRIER');
  // M-DOWN: the device this one is stacked on (a veth's peer here) is down.
  if (dev.vethPeer !== undefined && !(byIndex(dev.vethPeer)?.adminUp ?? false)) out.push('M-DOWN');
  return out;
}

/** RFC 2863 operstate as iproute2 prints it. */
export function operState(dev: Iface, byIndex: Resolver): string {
  if (!dev.adminUp) return 'DOWN';
  if (dev.kind !== 'veth') return 'UNKNOWN';
  if (carrier(dev, byIndex)) return 'UP';
  // No carrier: LOWERLAYERDOWN when the kernel finds the link's device (by index, in this
  // namespace), else DOWN.
  const link = dev.vethPeer ?? dev.remote?.ifindex;
  return link !== undefined && link !== dev.ifindex && byIndex(link) ? 'LOWERLAYERDOWN' : 'DOWN';
}

export function qdisc(dev: Iface): string {
  return dev.everUp ? 'noqueue' : 'noop';
}

export function linkType(dev: Iface): string {
  return dev.kind === 'loopback' ? 'loopback' : dev.kind === 'ipip' ? 'ipip' : 'ether';
}

/** The address and broadcast of the `link/...` line. */
export function linkAddresses(dev: Iface): { address: string; broadcast: string } {
  if (dev.kind === 'loopback') return { address: dev.mac, broadcast: '00:00:00:00:00:00' };
  if (dev.kind === 'ipip') return { address: '0.0.0.0', broadcast: '0.0.0.0' };
  return { address: dev.mac, broadcast: 'ff:ff:ff:ff:ff:ff' };
}

/** Default MTU and min/max of each kind (veth: 68..65535, lo: 0..any, ipip: 68..65515). */
export const MTU: Readonly<Record<LinkKind, { def: number; min: number; max: number }>> = {
  loopback: { def: 65536, min: 0, max: 0x7fffffff },
  veth: { def: 1500, min: 68, max: 65535 },
  dummy: { def: 1500, min: 0, max: 0x7fffffff },
  ipip: { def: 1480, min: 68, max: 65515 },
};

export function formatAddr(a: IfAddr): string {
  return `${formatIPv4(a.local)}/${a.prefixlen}`;
}
