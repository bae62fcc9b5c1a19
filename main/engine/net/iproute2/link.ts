// `ip link`: show, set, add (veth, dummy, ipip), delete; and the device header lines that
// `ip addr` shares.

import { KernelError } from '../errno.ts';
import {
  MTU,
  linkAddresses,
  linkFlags,
  linkType,
  operState,
  formatMac,
  qdisc,
  type Iface,
  type LinkKind,
  type LinkStats,
} from '../iface.ts';
import type { NetNs } from '../netns.ts';
import {
  Args,
  IpExit,
  duparg2,
  fail,
  getUnsigned,
  invarg,
  kernelExit,
  llAddr,
  matches,
  noDevice,
  jsonText,
  type IpOptions,
  type Json,
} from './common.ts';
import { USAGE_LINK } from './usage.ts';

/** "name", "name@peer", "name@ifN" or "name@NONE" as ip prints the device. */
export function linkName(ns: NetNs, dev: Iface): string {
  if (dev.vethPeer !== undefined) return `${dev.name}@${ns.linkByIndex(dev.vethPeer)?.name ?? `if${dev.vethPeer}`}`;
  if (dev.remote) return `${dev.name}@if${dev.remote.ifindex}`;
  if (dev.kind === 'ipip') return `${dev.name}@NONE`;
  return dev.name;
}

export function flagsOf(ns: NetNs, dev: Iface): string[] {
  return linkFlags(dev, ns.byIndex);
}

export type HeaderMode = 'link' | 'addr' | 'addr4' | 'addr6';

/** The first line (and the link/... line) of a device in `ip link` / `ip addr`. */
export function linkHeaderText(ns: NetNs, dev: Iface, mode: HeaderMode, details = false): string {
  const state = operState(dev, ns.byIndex);
  const head = `${dev.ifindex}: ${linkName(ns, dev)}: <${flagsOf(ns, dev).join(',')}> mtu ${dev.mtu}`;
  if (mode === 'addr6') return `${head} state ${state} qlen ${dev.txqlen}\n`;
  let s = `${head} qdisc ${qdisc(dev)} state ${state} ${mode === 'link' ? 'mode DEFAULT ' : ''}group default qlen ${dev.txqlen}\n`;
  if (mode === 'addr4') return s;
  const { address, broadcast } = linkAddresses(dev);
  s += `    link/${linkType(dev)} ${address} brd ${broadcast}`;
  if (dev.remote) s += ` link-netnsid ${dev.remote.netnsid}`;
  if (details) s += detailsText(dev, mode === 'link');
  return `${s}\n`;
}

/**
 * `-d`: what the kernel reports of a device beyond the header, as iproute2 6.1 prints it (kernel
 * 6.x): its promiscuity and allmulti counts (1 while `ip link set` has the flag on), the MTU
 * bounds, the kind (a line of its own; lo has none), the IPv6 address generation mode (in
 * `ip link` only), queues and offload sizes. A veth gets a queue per CPU: the lab's hosts
 * have one. ipip's options are the fallback device's (tunl0: any remote, any local).
 */
function detailsText(dev: Iface, link: boolean): string {
  const d = deviceDetails(dev);
  let s = ` promiscuity ${d.promiscuity}  allmulti ${d.allmulti} minmtu ${d.minMtu} maxmtu ${d.maxMtu} `;
  if (dev.kind !== 'loopback') s += `\n    ${dev.kind === 'ipip' ? 'ipip any remote any local any ttl inherit nopmtudisc' : dev.kind} `;
  if (link) s += 'addrgenmode eui64 ';
  return `${s}numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 `;
}

function deviceDetails(dev: Iface): { promiscuity: number; allmulti: number; minMtu: number; maxMtu: number } {
  const bounds = dev.kind === 'veth' ? { minMtu: 68, maxMtu: 65535 } : dev.kind === 'ipip' ? { minMtu: 68, maxMtu: 65515 } : { minMtu: 0, maxMtu: 0 };
  return { promiscuity: dev.userFlags?.PROMISC ? 1 : 0, allmulti: dev.userFlags?.ALLMULTI ? 1 : 0, ...bounds };
}

/** `-d -j`: the same as JSON members. */
function detailsJson(dev: Iface, link: boolean): { [k: string]: Json } {
  const d = deviceDetails(dev);
  const o: { [k: string]: Json } = { promiscuity: d.promiscuity, allmulti: d.allmulti, min_mtu: d.minMtu, max_mtu: d.maxMtu };
  if (dev.kind !== 'loopback') o.linkinfo = { info_kind: dev.kind };
  if (link) o.inet6_addr_gen_mode = 'eui64';
  Object.assign(o, { num_tx_queues: 1, num_rx_queues: 1, gso_max_size: 65536, gso_max_segs: 65535, tso_max_size: 524280, tso_max_segs: 65535, gro_max_size: 65536 });
  return o;
}

export function linkHeaderJson(ns: NetNs, dev: Iface, mode: HeaderMode, details = false): { [k: string]: Json } {
  const o: { [k: string]: Json } = { ifindex: dev.ifindex };
  if (dev.vethPeer !== undefined) o.link = ns.linkByIndex(dev.vethPeer)?.name ?? null;
  else if (dev.remote) o.link_index = dev.remote.ifindex;
  else if (dev.kind === 'ipip') o.link = null;
  o.ifname = dev.name;
  o.flags = flagsOf(ns, dev);
  o.mtu = dev.mtu;
  if (mode !== 'addr6') o.qdisc = qdisc(dev);
  o.operstate = operState(dev, ns.byIndex);
  if (mode === 'link') o.linkmode = 'DEFAULT';
  if (mode !== 'addr6') o.group = 'default';
  o.txqlen = dev.txqlen;
  if (mode === 'link' || mode === 'addr') {
    const { address, broadcast } = linkAddresses(dev);
    o.link_type = linkType(dev);
    o.address = address;
    o.broadcast = broadcast;
    if (dev.remote) o.link_netnsid = dev.remote.netnsid;
    if (details) Object.assign(o, detailsJson(dev, mode === 'link'));
  }
  return o;
}

/** `-s` counters, with iproute2's column sizing. */
export function statsText(s: LinkStats): string {
  const cols = [10, 7, 6, 7, 7, 7, 10];
  const rx = [s.rxBytes, s.rxPackets, s.rxErrors, s.rxDropped, s.rxMissed, s.multicast];
  const tx = [s.txBytes, s.txPackets, s.txErrors, s.txDropped, s.txCarrier, s.collisions];
  for (const row of [rx, tx]) row.forEach((v, i) => (cols[i] = Math.max(cols[i], String(v).length)));
  const hdr = (what: string, names: string[]): string =>
    `    ${what}: ${'bytes'.padStart(cols[0] - 4)} ${names.map((n, i) => n.padStart(cols[i + 1])).join(' ')} ${''.padStart(cols[6])}\n`;
  const row = (vals: number[]): string => `    ${vals.map((v, i) => `${String(v).padStart(cols[i])} `).join('')}\n`;
  return (
    hdr('RX', ['packets', 'errors', 'dropped', 'missed', 'mcast']) +
    row(rx) +
    hdr('TX', ['packets', 'errors', 'dropped', 'carrier', 'collsns']) +
    row(tx)
  );
}

export function statsJson(s: LinkStats): Json {
  return {
    rx: { bytes: s.rxBytes, packets: s.rxPackets, errors: s.rxErrors, dropped: s.rxDropped, over_errors: s.rxMissed, multicast: s.multicast },
    tx: { bytes: s.txBytes, packets: s.txPackets, errors: s.txErrors, dropped: s.txDropped, carrier_errors: s.txCarrier, collisions: s.collisions },
  };
}

export function briefName(ns: NetNs, dev: Iface): string {
  return `${linkName(ns, dev).padEnd(16)} ${operState(dev, ns.byIndex).padEnd(14)} `;
}

export function briefJsonHead(ns: NetNs, dev: Iface): { [k: string]: Json } {
  const o: { [k: string]: Json } = {};
  if (dev.vethPeer !== undefined) o.link = ns.linkByIndex(dev.vethPeer)?.name ?? null;
  else if (dev.remote) o.link_index = dev.remote.ifindex;
  else if (dev.kind === 'ipip') o.link = null;
  o.ifname = dev.name;
  o.operstate = operState(dev, ns.byIndex);
  return o;
}


const KINDS: Readonly<Record<string, LinkKind>> = { veth: 'veth', dummy: 'dummy', ipip: 'ipip' };

/** The selection of `ip link show` / `ip addr show`: [dev] NAME, up, type T. */
export function selectLinks(ns: NetNs, args: Args, extra?: (word: string, args: Args) => boolean): Iface[] {
  let name: string | undefined;
  let up = false;
  let kind: string | undefined;
  while (!args.done) {
    const w = args.shift();
    if (w === 'dev') {
      const v = args.next();
      if (name !== undefined) duparg2('dev', v);
      name = v;
    } else if (w === 'up') up = true;
    else if (w === 'type') kind = args.next();
    else if (extra && extra(w, args)) continue;
    else {
      if (name !== undefined) duparg2('dev', w);
      name = w;
    }
  }
  let devs = ns.links();
  if (name !== undefined) {
    const d = ns.link(name);
    if (!d) fail(`Device "${name}" does not exist.`, 1);
    devs = [d];
  }
  if (up) devs = devs.filter((d) => d.adminUp);
  if (kind !== undefined) devs = devs.filter((d) => d.kind === kind);
  return devs;
}

function showLinks(ns: NetNs, args: Args, opts: IpOptions): string {
  const devs = selectLinks(ns, args);
  if (opts.json) {
    const out: Json[] = devs.map((d) => {
      if (opts.brief) return { ...briefJsonHead(ns, d), address: linkAddresses(d).address, flags: flagsOf(ns, d) };
      const o = linkHeaderJson(ns, d, 'link', opts.details > 0);
      if (opts.stats) o.stats64 = statsJson(d.stats);
      return o;
    });
    return jsonText(out, opts.pretty);
  }
  if (opts.brief) return devs.map((d) => `${briefName(ns, d)}${linkAddresses(d).address} <${flagsOf(ns, d).join(',')}> \n`).join('');
  return devs.map((d) => linkHeaderText(ns, d, 'link', opts.details > 0) + (opts.stats ? statsText(d.stats) : '')).join('');
}

/** parse_on_off. */
function onOff(args: Args, what: string): boolean {
  const v = args.next();
  if (v === 'on') return true;
  if (v === 'off') return false;
  return fail(`Error: argument of "${what}" must be "on" or "off", not "${v}"`, 1);
}

/** The device flags `ip link set` turns on or off by keyword (`trailers on` clears NOTRAILERS). */
const FLAG_WORDS: Readonly<Record<string, string>> = { promisc: 'PROMISC', allmulticast: 'ALLMULTI', multicast: 'MULTICAST', dynamic: 'DYNAMIC', trailers: 'NOTRAILERS' };

interface LinkReq {
  name?: string;
  up?: boolean;
  mtu?: number;
  newName?: string;
  mac?: number[];
  txqlen?: number;
  arp?: boolean;
  flags?: Record<string, boolean>;
  kind?: string;
  peerName?: string;
  peerMac?: number[];
}

/** iplink_parse: the device options common to add and set. */
function parseLinkArgs(args: Args, forAdd: boolean): LinkReq {
  const req: LinkReq = {};
  while (!args.done) {
    const w = args.shift();
    if (w === 'up') req.up = true;
    else if (w === 'down') req.up = false;
    else if (w === 'name') req.newName = args.next();
    else if (matches(w, 'address')) req.mac = llAddr(args.next());
    else if (w === 'mtu') {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('Invalid "mtu" value\n', v);
      req.mtu = n;
    } else if (matches(w, 'txqueuelen') || w === 'qlen' || matches(w, 'txqlen')) {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('Invalid "txqueuelen" value\n', v);
      req.txqlen = n;
    } else if (w === 'arp') req.arp = onOff(args, 'arp');
    else if (w in FLAG_WORDS) {
      const on = onOff(args, w);
      (req.flags ??= {})[FLAG_WORDS[w]] = w === 'trailers' ? !on : on;
    }
    else if (w === 'type') {
      req.kind = args.next();
      if (forAdd && req.kind === 'veth') parseVethPeer(args, req);
      else if (!args.done) duparg2('type', args.peek() as string);
    } else if (w === 'dev') {
      const v = args.next();
      if (req.name !== undefined) duparg2('dev', v);
      req.name = v;
    } else {
      if (req.name !== undefined) duparg2('dev', w);
      req.name = w;
    }
  }
  return req;
}

function parseVethPeer(args: Args, req: LinkReq): void {
  if (args.done) return;
  const w = args.shift();
  if (w !== 'peer') duparg2('type', w);
  while (!args.done) {
    const x = args.shift();
    if (x === 'name') req.peerName = args.next();
    else if (matches(x, 'address')) req.peerMac = llAddr(args.next());
    else {
      if (req.peerName !== undefined) duparg2('dev', x);
      req.peerName = x;
    }
  }
}

/** The link-layer address length of a device (dev->addr_len): an ipip tunnel's is its IPv4
 *  address, every other kind here has an Ethernet one. */
const ADDR_LEN: Readonly<Record<LinkKind, number>> = { loopback: 6, veth: 6, dummy: 6, ipip: 4 };

/** The kernel's is_valid_ether_addr: neither multicast (the first byte odd) nor all zeros. */
function validEtherAddr(mac: readonly number[]): boolean {
  return (mac[0] & 1) === 0 && mac.some((b) => b !== 0);
}

function addLink(ns: NetNs, req: LinkReq): void {
  if (req.kind === undefined) fail('Not enough information: "type" argument is required', 1);
  const kind = KINDS[req.kind];
  if (!kind) throw new KernelError('EOPNOTSUPP', 'Unknown device type');
  const name = req.newName ?? req.name;
  for (const n of [name, req.peerName]) {
    if (n !== undefined && (n.length === 0 || n.length > 15)) throw new KernelError('EINVAL', 'Attribute failed policy validation');
  }
  // (veth_validate and dummy's eth_validate_addr: six bytes, a usable Ethernet address)
  for (const m of kind === 'ipip' ? [] : [req.mac, req.peerMac]) {
    if (m && m.length !== 6) throw new KernelError('EINVAL');
    if (m && !validEtherAddr(m)) throw new KernelError('EADDRNOTAVAIL');
  }
  const mac = req.mac ? formatMac(req.mac.slice(0, 6)) : undefined;
  let devs: Iface[];
  if (kind === 'veth') {
    const peerMac = req.peerMac ? formatMac(req.peerMac.slice(0, 6)) : undefined;
    devs = ns.addVethPair(name, req.peerName, mac, peerMac);
  } else {
    devs = [ns.addLink({ name: name ?? ns.freeName(`${req.kind}%d`), kind, mac })];
  }
  const dev = devs[0];
  if (req.mtu !== undefined) ns.setMtu(dev.name, req.mtu);
  if (req.txqlen !== undefined) ns.setTxqlen(dev.name, req.txqlen);
  if (req.arp !== undefined) ns.setArp(dev.name, req.arp);
  for (const [f, on] of Object.entries(req.flags ?? {})) ns.setUserFlag(dev.name, f, on);
  if (req.up) ns.setUp(dev.name, true);
}

function setLink(ns: NetNs, req: LinkReq): void {
  if (req.name === undefined) fail('Not enough information: "dev" argument is required.', 255);
  const dev = ns.link(req.name);
  if (!dev) noDevice(req.name);
  // Check everything first so a failing command changes nothing, then apply in
  // do_setlink's order: name, address, mtu, txqlen, then the flags.
  if (req.newName !== undefined) {
    if (req.newName.length === 0 || req.newName.length > 15) throw new KernelError('EINVAL', 'Attribute failed policy validation');
    if (req.newName !== dev.name && ns.link(req.newName)) throw new KernelError('EEXIST');
  }
  if (req.mac) {
    // (iproute2 compares the length with the device's before it asks the kernel)
    if (req.mac.length !== ADDR_LEN[dev.kind]) fail(`Invalid address length ${req.mac.length} - must be ${ADDR_LEN[dev.kind]} bytes`, 1);
    // (lo takes a new address too, even while up: eth_mac_addr, IFF_LIVE_ADDR_CHANGE)
    if (dev.kind === 'ipip') throw new KernelError('EOPNOTSUPP');
    if (!validEtherAddr(req.mac)) throw new KernelError('EADDRNOTAVAIL');
  }
  if (req.mtu !== undefined) {
    const lim = MTU[dev.kind];
    if (req.mtu < lim.min) throw new KernelError('EINVAL', 'mtu less than device minimum');
    if (req.mtu > lim.max) throw new KernelError('EINVAL', 'mtu greater than device maximum');
  }
  if (req.newName !== undefined) ns.rename(dev.name, req.newName);
  if (req.mac) ns.setMac(dev.name, formatMac(req.mac.slice(0, 6)));
  if (req.mtu !== undefined) ns.setMtu(dev.name, req.mtu);
  if (req.txqlen !== undefined) ns.setTxqlen(dev.name, req.txqlen);
  if (req.arp !== undefined) ns.setArp(dev.name, req.arp);
  for (const [f, on] of Object.entries(req.flags ?? {})) ns.setUserFlag(dev.name, f, on);
  if (req.up !== undefined) ns.setUp(dev.name, req.up);
}

export function ipLink(argv: readonly string[], ns: NetNs, opts: IpOptions): { stdout: string; changed: boolean } {
  const args = new Args(argv);
  if (args.done) return { stdout: showLinks(ns, args, opts), changed: false };
  const cmd = args.shift();
  try {
    if (matches(cmd, 'add')) {
      addLink(ns, parseLinkArgs(args, true));
      return { stdout: '', changed: true };
    }
    if (matches(cmd, 'set') || matches(cmd, 'change')) {
      setLink(ns, parseLinkArgs(args, false));
      return { stdout: '', changed: true };
    }
    if (matches(cmd, 'delete')) {
      const req = parseLinkArgs(args, false);
      if (req.name === undefined) fail('Not enough information: "dev" argument is required.', 255);
      if (!ns.link(req.name)) noDevice(req.name);
      ns.delLink(req.name);
      return { stdout: '', changed: true };
    }
  } catch (e) {
    if (e instanceof KernelError) throw kernelExit(e);
    throw e;
  }
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return { stdout: showLinks(ns, args, opts), changed: false };
  if (matches(cmd, 'help')) throw new IpExit(USAGE_LINK, 255);
  return fail(`Command "${cmd}" is unknown, try "ip link help".`, 255);
}

