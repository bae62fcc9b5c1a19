// One Linux network namespace: devices, IPv4 addresses, the FIB (tables local and main and
// any numbered table), neighbours and sysctls, changed through the same steps the kernel
// takes (fib_add_ifaddr/fib_del_ifaddr on address and link events, fib_create_info checks on
// `ip route add`, route flushes on link down), and queried the way the kernel routes:
// output and input route lookups, source address selection, the reverse-path filter,
// address types for `-m addrtype`, and whether an ARP request would be answered.
//
// Lookups use the merged local+main trie the kernel has while no `ip rule` exists: longest
// prefix first, local before main on equal prefixes. Numbered tables are kept and listed but
// only consulted through `lookupTable` (nothing routes through rules here).

import { formatIPv4, inPrefix, maskOf, networkOf, type IPv4 } from './ipv4.ts';
import { KernelError } from './errno.ts';
import {
  MTU,
  SCOPE,
  carrier,
  hasLinkLocal,
  macFromSeed,
  running,
  zeroStats,
  type Attachment,
  type IfAddr,
  type Iface,
  type LinkKind,
  type RemotePeer,
  type LinkStats,
} from './iface.ts';
import {
  PROTO,
  TABLE,
  TYPE_PROPS,
  checkKey,
  findForDelete,
  insertRoute,
  type InsertMode,
  type Route,
  type RouteSelector,
  type RouteType,
} from './route.ts';
import type { Neighbour, NudState, ProxyNeighbour } from './neigh.ts';
import { Sysctls, type SysctlState } from './sysctl.ts';
import type { AddrType } from '../netfilter/types.ts';

export interface NetNsOptions {
  /** Bring lo up at creation (the lab's hosts start so); default true. */
  loopbackUp?: boolean;
  /** IPv6 on (link-local addresses shown); default false, as the lab's kernel twin runs. */
  ipv6?: boolean;
  /** Sysctls written at creation, before any device but lo exists ("key" -> "value"). */
  sysctls?: Readonly<Record<string, string>>;
}

export interface NetNsState {
  host: string;
  nextIfindex: number;
  v6Seq: number;
  links: Iface[];
  routes: Route[];
  tables: number[];
  neigh: Neighbour[];
  proxies: ProxyNeighbour[];
  customLocal: boolean;
  sysctl: SysctlState;
}

export interface AddrSpec {
  local: IPv4;
  prefixlen: number;
  broadcast?: IPv4 | null;
  scope?: number;
  label?: string;
  noprefixroute?: boolean;
  metric?: number;
}

export interface RouteConfig {
  table: number;
  type: RouteType;
  dst: IPv4;
  plen: number;
  metric: number;
  proto: number;
  scope: number;
  prefsrc?: IPv4;
  gateway?: IPv4;
  dev?: string;
  onlink?: boolean;
}

export interface LinkSpec {
  name: string;
  kind: LinkKind;
  /** Default: macFromSeed("<host>/<name>"). */
  mac?: string;
  mtu?: number;
  txqlen?: number;
  remote?: RemotePeer;
  attach?: Attachment;
}

/** What a route lookup found (`ip route get`, the datapath). */
export interface RouteHit {
  ok: true;
  type: 'unicast' | 'local' | 'broadcast' | 'multicast';
  /** Output device (lo for local delivery). */
  dev: string;
  gateway: IPv4 | null;
  /** Source the kernel picked (output routes); the requested source for input routes. */
  prefsrc: IPv4;
  table: number | null;
  scope: number;
  input: boolean;
  /** RTCF flags as `ip route get` prints them after "cache". */
  flags: { local: boolean; brd: boolean; mc: boolean; redirect: boolean };
  route: Route | null;
}

export interface RouteMiss {
  ok: false;
  errno: 'ENETUNREACH' | 'EHOSTUNREACH' | 'EINVAL' | 'EACCES' | 'ENODEV';
  /** The lookup hit a blackhole route (its EINVAL is no martian: ip_error drops silently). */
  blackhole?: true;
}

export type RouteResult = RouteHit | RouteMiss;

export interface RouteQuery {
  dst: IPv4;
  src?: IPv4;
  /** Output device (output lookups). */
  oif?: string;
  /** Input device: makes this an input-path lookup (forwarding or local delivery). */
  iif?: string;
  mark?: number;
}

const LOOPBACK_NET = 0x7f000000;
const isLoopback = (a: IPv4): boolean => a >>> 24 === 127;
const isMulticast = (a: IPv4): boolean => a >>> 28 === 14;
const isLbcast = (a: IPv4): boolean => a === 0xffffffff;
const isZeronet = (a: IPv4): boolean => a >>> 24 === 0;
const isLocalMulticast = (a: IPv4): boolean => (a & 0xffffff00) >>> 0 === 0xe0000000;

export class NetNs {
  readonly host: string;
  private devs = new Map<number, Iface>();
  private nextIfindex = 1;
  private v6Seq = 0;
  /** Routes of every table, each table's list in dump order. */
  private fib = new Map<number, Route[]>();
  private neighList: Neighbour[] = [];
  private proxyList: ProxyNeighbour[] = [];
  private customLocal = false;
  readonly sysctl: Sysctls;
  // Derived lookups, rebuilt on first use after a change (every change to devices, addresses
  // or routes goes through this class and drops them): a walk routes several times per host,
  // and a node with hundreds of pods has hundreds of devices and routes.
  private fibIdx: FibIndex | null = null;
  private devIdx: DevIndex | null = null;
  /** Bumped by every change to devices, addresses, routes, neighbours or proxies (with the
   *  sysctls' own `gen`, it says whether `memo` still holds). */
  private gen = 0;
  /** Answers the walk asks for again and again (the route to a destination, whether a host
   *  answers ARP, a device's sysctls), kept while nothing changed: see `cached`. */
  private memo: Memo = newMemo(-1, -1);

  /** The routes changed: their index and every remembered answer are stale. */
  private fibChanged(): void {
    this.fibIdx = null;
    this.gen++;
  }

  /** The devices or their addresses changed: the same for the device index. */
  private devsChanged(): void {
    this.devIdx = null;
    this.gen++;
  }

  constructor(host: string, opts: NetNsOptions = {}, state?: NetNsState) {
    this.host = host;
    if (state) {
      this.nextIfindex = state.nextIfindex;
      this.v6Seq = state.v6Seq;
      for (const d of state.links) this.devs.set(d.ifindex, structuredCopy(d));
      for (const t of state.tables) this.fib.set(t, []);
      for (const r of state.routes) {
        if (!this.fib.has(r.table)) this.fib.set(r.table, []);
        (this.fib.get(r.table) as Route[]).push({ ...r });
      }
      this.neighList = state.neigh.map((n) => ({ ...n }));
      this.proxyList = state.proxies.map((p) => ({ ...p }));
      this.customLocal = state.customLocal;
      this.sysctl = new Sysctls(state.sysctl);
      return;
    }
    this.sysctl = new Sysctls();
    this.fib.set(TABLE.main, []);
    this.fib.set(TABLE.local, []);
    this.addLink({ name: 'lo', kind: 'loopback' });
    if (!opts.ipv6) {
      this.sysctl.write(['net', 'ipv6', 'conf', 'all', 'disable_ipv6'], '1');
      this.sysctl.write(['net', 'ipv6', 'conf', 'default', 'disable_ipv6'], '1');
    }
    for (const [k, v] of Object.entries(opts.sysctls ?? {})) this.writeSysctl(k.split('.'), v);
    if (opts.loopbackUp ?? true) this.setUp('lo', true);
  }

  // ---- serialisation ------------------------------------------------------------------------

  toJSON(): NetNsState {
    return {
      host: this.host,
      nextIfindex: this.nextIfindex,
      v6Seq: this.v6Seq,
      links: [...this.devs.values()].map(structuredCopy),
      routes: [...this.fib.values()].flat().map((r) => ({ ...r })),
      tables: [...this.fib.keys()],
      neigh: this.neighList.map((n) => ({ ...n })),
      proxies: this.proxyList.map((p) => ({ ...p })),
      customLocal: this.customLocal,
      sysctl: this.sysctl.toJSON(),
    };
  }

  static fromJSON(state: NetNsState): NetNs {
    return new NetNs(state.host, {}, state);
  }

  clone(): NetNs {
    return NetNs.fromJSON(this.toJSON());
  }

  // ---- devices --------------------------------------------------------------------------------

  /** Devices in ifindex order. These are the live records: change them through the methods
   *  below, which keep routes, neighbours and sysctls consistent. */
  links(): Iface[] {
    return [...this.devIndex().sorted];
  }

  link(name: string): Iface | undefined {
    return this.devIndex().byName.get(name);
  }

  private devIndex(): DevIndex {
    if (this.devIdx) return this.devIdx;
    const sorted = [...this.devs.values()].sort((a, b) => a.ifindex - b.ifindex);
    const byName = new Map<string, Iface>();
    const owner = new Map<IPv4, Iface>();
    for (const d of sorted) {
      byName.set(d.name, d);
      for (const a of d.addrs) if (!owner.has(a.local)) owner.set(a.local, d);
    }
    return (this.devIdx = { sorted, byName, owner });
  }

  linkByIndex(ifindex: number): Iface | undefined {
    return this.devs.get(ifindex);
  }

  /** The device or ENODEV. */
  mustLink(name: string): Iface {
    const d = this.link(name);
    if (!d) throw new KernelError('ENODEV');
    return d;
  }

  readonly byIndex = (i: number): Iface | undefined => this.devs.get(i);

  carrier(name: string): boolean {
    const d = this.link(name);
    return d ? carrier(d, this.byIndex) : false;
  }

  addLink(spec: LinkSpec): Iface {
    this.gen++;
    if (this.link(spec.name)) throw new KernelError('EEXIST');
    const dev: Iface = {
      ifindex: this.nextIfindex++,
      name: spec.name,
      kind: spec.kind,
      mac: spec.kind === 'loopback' ? '00:00:00:00:00:00' : spec.mac ?? macFromSeed(`${this.host}/${spec.name}`),
      mtu: spec.mtu ?? MTU[spec.kind].def,
      txqlen: spec.txqlen ?? 1000,
      adminUp: false,
      everUp: false,
      addrs: [],
      v6: null,
      stats: zeroStats(),
    };
    if (spec.remote) dev.remote = { ...spec.remote };
    if (spec.attach) dev.attach = structuredCopy(spec.attach);
    this.devs.set(dev.ifindex, dev);
    this.devsChanged();
    this.sysctl.addDev(dev.name, dev.kind === 'loopback');
    return dev;
  }

  /** First free name of a kernel name template like "veth%d". */
  freeName(template: string): string {
    for (let i = 0; ; i++) {
      const n = template.replace('%d', String(i));
      if (!this.link(n)) return n;
    }
  }

  /** A veth pair inside this namespace; the peer is registered first, as the kernel does. */
  addVethPair(name: string | undefined, peerName: string | undefined, mac?: string, peerMac?: string): [Iface, Iface] {
    if (name !== undefined && this.link(name)) throw new KernelError('EEXIST');
    if (peerName !== undefined && (this.link(peerName) || peerName === name)) throw new KernelError('EEXIST');
    const pn = peerName ?? this.freeName('veth%d');
    const peer = this.addLink({ name: pn, kind: 'veth', mac: peerMac });
    const n = name ?? this.freeName('veth%d');
    const dev = this.addLink({ name: n, kind: 'veth', mac });
    dev.vethPeer = peer.ifindex;
    peer.vethPeer = dev.ifindex;
    return [dev, peer];
  }

  delLink(name: string): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (dev.kind === 'loopback') throw new KernelError('EOPNOTSUPP');
    const victims = [dev];
    if (dev.vethPeer !== undefined) {
      const p = this.devs.get(dev.vethPeer);
      if (p) victims.push(p);
    }
    for (const d of victims) {
      if (d.adminUp) this.setUp(d.name, false);
      // NETDEV_UNREGISTER: every route through it goes, local ones too.
      this.syncDownDev(d.ifindex, true);
      this.neighList = this.neighList.filter((n) => n.dev !== d.ifindex);
      this.proxyList = this.proxyList.filter((n) => n.dev !== d.ifindex);
      while (d.addrs.length) {
        const a = d.addrs.shift() as IfAddr;
        this.devsChanged();
        this.fibDelIfaddr(d, a, null);
      }
      this.devs.delete(d.ifindex);
      this.devsChanged();
      this.sysctl.delDev(d.name);
    }
    this.refreshCarriers();
  }

  setUp(name: string, up: boolean): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (dev.adminUp === up) return;
    const carriersBefore = this.carrierMap();
    if (up) {
      dev.adminUp = true;
      dev.everUp = true;
      if (dev.kind === 'loopback') {
        try {
          this.insertIfa(dev, { local: LOOPBACK_NET + 1, prefixlen: 8, broadcast: null, scope: SCOPE.host, label: dev.name, secondary: false, noprefixroute: false, metric: 0 });
        } catch {
          // already there
        }
      }
      for (const a of [...dev.addrs]) this.fibAddIfaddr(dev, a);
    } else {
      dev.adminUp = false;
      delete dev.v6Flushed;
      this.syncDownDev(dev.ifindex, false);
      this.neighList = this.neighList.filter((n) => n.dev !== dev.ifindex);
    }
    this.afterCarrierChange(carriersBefore, dev.ifindex);
  }

  /** The far end of a cross-namespace veth went up or down (the topology calls this). */
  setRemoteUp(name: string, up: boolean): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (!dev.remote) throw new KernelError('EINVAL');
    const before = this.carrierMap();
    dev.remote.up = up;
    this.afterCarrierChange(before, dev.ifindex);
  }

  setMtu(name: string, mtu: number): void {
    this.gen++;
    const dev = this.mustLink(name);
    const lim = MTU[dev.kind];
    if (mtu < lim.min) throw new KernelError('EINVAL', 'mtu less than device minimum');
    if (mtu > lim.max) throw new KernelError('EINVAL', 'mtu greater than device maximum');
    dev.mtu = mtu;
  }

  rename(name: string, to: string): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (name === to) return;
    if (this.link(to)) throw new KernelError('EEXIST');
    // inetdev_changename: the first address takes the new name, the others keep their
    // ":suffix" (or get ":<n>" when they had none).
    dev.addrs.forEach((a, i) => {
      if (i === 0) {
        a.label = to;
        return;
      }
      const colon = a.label.indexOf(':');
      const dot = colon >= 0 ? a.label.slice(colon) : `:${i + 1}`;
      a.label = to.length + dot.length < 16 ? to + dot : to.slice(0, 15 - dot.length) + dot;
    });
    dev.name = to;
    this.devsChanged();
    this.sysctl.renameDev(name, to);
  }

  setMac(name: string, mac: string): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (dev.kind === 'ipip') throw new KernelError('EOPNOTSUPP');
    dev.mac = mac;
  }

  setTxqlen(name: string, txqlen: number): void {
    this.gen++;
    this.mustLink(name).txqlen = txqlen;
  }

  /** `ip link set D arp on|off` (IFF_NOARP). */
  setArp(name: string, on: boolean): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (on) delete dev.noarp;
    else dev.noarp = true;
  }

  /** `ip link set D promisc|allmulticast|multicast|dynamic on|off`, `trailers on|off`. */
  setUserFlag(name: string, flag: string, on: boolean): void {
    this.gen++;
    const dev = this.mustLink(name);
    (dev.userFlags ??= {})[flag] = on;
  }

  setAttachment(name: string, attach: Attachment | undefined): void {
    this.gen++;
    const dev = this.mustLink(name);
    if (attach) dev.attach = structuredCopy(attach);
    else delete dev.attach;
  }

  /** Add packets/bytes to a device's counters (the datapath calls this). */
  count(name: string, dir: 'rx' | 'tx', bytes: number, packets = 1): void {
    const s: LinkStats | undefined = this.link(name)?.stats;
    if (!s) return;
    if (dir === 'rx') {
      s.rxBytes += bytes;
      s.rxPackets += packets;
    } else {
      s.txBytes += bytes;
      s.txPackets += packets;
    }
  }

  private carrierMap(): Map<number, boolean> {
    return new Map([...this.devs.values()].map((d) => [d.ifindex, running(d, this.byIndex)]));
  }

  /** Consequences of carriers that changed: ARP flush (arp_evict_nocarrier), IPv6 setup. */
  private afterCarrierChange(before: Map<number, boolean>, first: number): void {
    for (const d of this.devs.values()) {
      const was = before.get(d.ifindex) ?? false;
      const now = running(d, this.byIndex);
      if (was && !now && d.adminUp && this.sysctl.conf(d.name, 'arp_evict_nocarrier')) {
        this.neighList = this.neighList.filter((n) => n.dev !== d.ifindex || n.state === 'PERMANENT' || n.state === 'NOARP');
      }
    }
    // The device that changed gets IPv6 first, then the others it gave carrier to.
    const order = [first, ...[...this.devs.keys()].filter((i) => i !== first).sort((a, b) => a - b)];
    this.refreshIpv6(order);
  }

  private refreshCarriers(): void {
    this.refreshIpv6([...this.devs.keys()].sort((a, b) => a - b));
  }

  /** Configure or drop the IPv6 address of each device (addrconf), in `order`. */
  private refreshIpv6(order: number[]): void {
    for (const i of order) {
      const d = this.devs.get(i);
      if (!d) continue;
      const enabled = this.sysctl.conf6Value(d.name, 'disable_ipv6') === 0;
      if (!enabled || !d.adminUp || d.v6Flushed || !(d.kind === 'loopback' || hasLinkLocal(d.kind))) {
        d.v6 = null;
        continue;
      }
      if (d.v6) continue;
      if (d.kind === 'loopback' || carrier(d, this.byIndex)) d.v6 = { seq: ++this.v6Seq };
    }
  }

  /** `ip addr flush`/`del` of the device's IPv6 address. */
  flushIpv6(name: string): boolean {
    this.gen++;
    const d = this.mustLink(name);
    if (!d.v6) return false;
    d.v6 = null;
    d.v6Flushed = true;
    return true;
  }

  // ---- sysctls ----------------------------------------------------------------------------------

  /** Write a /proc/sys file (segments below /proc/sys) with its side effects on the model. */
  writeSysctl(segs: readonly string[], text: string): void {
    this.gen++;
    this.sysctl.write(segs, text);
    if (segs[1] === 'ipv6') this.refreshCarriers();
  }

  /** IN_DEV_RPFILTER: max(all, dev). */
  rpFilter(dev: string): number {
    return this.devConf(dev).rpFilter;
  }

  private orConf(dev: string, key: string): boolean {
    return this.sysctl.conf('all', key) !== 0 || this.sysctl.conf(dev, key) !== 0;
  }

  /** IN_DEV_FORWARD: the device's own forwarding flag. */
  forwarding(dev: string): boolean {
    return this.devConf(dev).forwarding;
  }

  proxyArp(dev: string): boolean {
    return this.devConf(dev).proxyArp;
  }

  routeLocalnet(dev: string): boolean {
    return this.devConf(dev).routeLocalnet;
  }

  // ---- addresses ------------------------------------------------------------------------------

  addrs(dev: string): readonly IfAddr[] {
    return this.mustLink(dev).addrs;
  }

  /** `ip addr add`: __inet_insert_ifa then fib_add_ifaddr. */
  addAddr(devName: string, spec: AddrSpec): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const ifa: IfAddr = {
      local: spec.local,
      prefixlen: spec.prefixlen,
      broadcast: spec.broadcast ?? null,
      scope: spec.scope ?? SCOPE.universe,
      label: spec.label ?? dev.name,
      secondary: false,
      noprefixroute: spec.noprefixroute ?? false,
      metric: spec.metric ?? 0,
    };
    if (ifa.local === 0) return; // the kernel silently ignores 0.0.0.0
    this.insertIfa(dev, ifa);
  }

  /** `ip addr replace`: update an existing address in place, else add it. */
  replaceAddr(devName: string, spec: AddrSpec): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const cur = dev.addrs.find((a) => a.local === spec.local && a.prefixlen === spec.prefixlen);
    if (!cur) return this.addAddr(devName, spec);
    const oldMetric = cur.metric;
    cur.metric = spec.metric ?? 0;
    if (spec.label !== undefined) cur.label = spec.label;
    if (oldMetric !== cur.metric && !cur.secondary && !cur.noprefixroute && dev.adminUp) {
      // The prefix route moves to the new metric.
      const prefix = networkOf({ addr: cur.local, len: cur.prefixlen });
      const list = this.table(TABLE.main);
      const i = findForDelete(list, { dst: prefix, plen: cur.prefixlen, type: 'unicast', proto: PROTO.kernel, dev: dev.ifindex, prefsrc: cur.local });
      if (i >= 0) {
        list.splice(i, 1);
        this.fibChanged();
        this.fibMagic('add', 'unicast', prefix, cur.prefixlen, dev, cur, cur.metric);
      }
    }
  }

  private insertIfa(dev: Iface, ifa: IfAddr): void {
    const mask = maskOf(ifa.prefixlen);
    let lastPrimary = 0;
    for (let i = 0; i < dev.addrs.length; i++) {
      const a = dev.addrs[i];
      if (!a.secondary && ifa.scope <= a.scope) lastPrimary = i + 1;
      if (a.prefixlen === ifa.prefixlen && ((a.local & mask) >>> 0) === ((ifa.local & mask) >>> 0)) {
        if (a.local === ifa.local) throw new KernelError('EEXIST', 'ipv4: Address already assigned');
        if (a.scope !== ifa.scope) throw new KernelError('EINVAL', 'ipv4: Invalid scope value');
        ifa.secondary = true;
      }
    }
    if (ifa.secondary) dev.addrs.push(ifa);
    else dev.addrs.splice(lastPrimary, 0, ifa);
    this.devsChanged();
    this.fibAddIfaddr(dev, ifa);
  }

  /**
   * `ip addr del`: the address with that local (and prefix length, when given; and label,
   * when given). Follows __inet_del_ifa: secondaries of a deleted primary go too unless
   * promote_secondaries is set, in which case the first one is promoted.
   */
  delAddr(devName: string, local: IPv4, prefixlen?: number, label?: string): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const idx = dev.addrs.findIndex(
      (a) => a.local === local && (prefixlen === undefined || a.prefixlen === prefixlen) && (label === undefined || a.label === label),
    );
    if (idx < 0) throw new KernelError('EADDRNOTAVAIL', 'ipv4: Address not found');
    const ifa1 = dev.addrs[idx];
    const promoteOn = this.orConf(dev.name, 'promote_secondaries');
    const sameSubnet = (a: IfAddr): boolean =>
      a.prefixlen === ifa1.prefixlen && inPrefix(a.local, { addr: ifa1.local, len: ifa1.prefixlen });

    let promote: IfAddr | null = null;
    let lastPrim: IfAddr | null = null;
    let prevProm: IfAddr | null = null;
    if (!ifa1.secondary) {
      for (let i = idx + 1; i < dev.addrs.length; ) {
        const a = dev.addrs[i];
        if (!a.secondary && ifa1.scope <= a.scope) lastPrim = a;
        if (!a.secondary || !sameSubnet(a)) {
          prevProm = a;
          i++;
          continue;
        }
        if (!promoteOn) {
          dev.addrs.splice(i, 1);
          this.devsChanged();
          this.fibDelIfaddr(dev, a, null);
          continue;
        }
        promote = a;
        break;
      }
    }
    if (promote) {
      const from = dev.addrs.indexOf(promote);
      for (const a of dev.addrs.slice(from)) if (sameSubnet(a)) this.fibDelIfaddr(dev, a, ifa1);
    }
    dev.addrs.splice(dev.addrs.indexOf(ifa1), 1);
    this.devsChanged();
    this.fibDelIfaddr(dev, ifa1, null);
    if (dev.addrs.length === 0) {
      // The last address went: fib_disable_ip(dev, force).
      this.syncDownDev(dev.ifindex, true);
      this.neighList = this.neighList.filter((n) => n.dev !== dev.ifindex);
    }
    if (promote) {
      const p = promote;
      if (prevProm) {
        dev.addrs.splice(dev.addrs.indexOf(p), 1);
        const at = lastPrim ? dev.addrs.indexOf(lastPrim) + 1 : 0;
        dev.addrs.splice(at, 0, p);
        this.devsChanged();
      }
      p.secondary = false;
      this.fibAddIfaddr(dev, p);
      for (const a of dev.addrs.slice(dev.addrs.indexOf(p) + 1)) if (sameSubnet(a)) this.fibAddIfaddr(dev, a);
    }
  }

  /** `ip addr flush dev D`: delete addresses one by one (primaries take their secondaries). */
  flushAddrs(devName: string, filter: (a: IfAddr) => boolean = () => true): number {
    this.gen++;
    const dev = this.mustLink(devName);
    let n = 0;
    for (;;) {
      const a = dev.addrs.find(filter);
      if (!a) return n;
      this.delAddr(devName, a.local, a.prefixlen);
      n++;
    }
  }

  /** The primary address of `dev` whose subnet holds `addr` (inet_ifa_byprefix). */
  private primaryFor(dev: Iface, prefix: IPv4, mask: number): IfAddr | undefined {
    return dev.addrs.find((a) => !a.secondary && maskOf(a.prefixlen) === mask && ((a.local & mask) >>> 0) === prefix);
  }

  private fibAddIfaddr(dev: Iface, ifa: IfAddr): void {
    const mask = maskOf(ifa.prefixlen);
    const prefix = (ifa.local & mask) >>> 0;
    let prim: IfAddr | undefined = ifa;
    if (ifa.secondary) {
      prim = this.primaryFor(dev, prefix, mask);
      if (!prim) return;
    }
    this.fibMagic('add', 'local', ifa.local, 32, dev, prim, 0);
    if (!dev.adminUp) return;
    if (ifa.broadcast !== null && ifa.broadcast !== 0 && ifa.broadcast !== 0xffffffff) {
      this.fibMagic('add', 'broadcast', ifa.broadcast, 32, dev, prim, 0);
    }
    if (!isZeronet(prefix) && !ifa.secondary && (prefix !== ifa.local || ifa.prefixlen < 32)) {
      if (!ifa.noprefixroute) {
        this.fibMagic('add', dev.kind === 'loopback' ? 'local' : 'unicast', prefix, ifa.prefixlen, dev, prim, ifa.metric);
      }
      if (ifa.prefixlen < 31) this.fibMagic('add', 'broadcast', (prefix | ~mask) >>> 0, 32, dev, prim, 0);
    }
  }

  /** fib_del_ifaddr: remove the kernel routes of `ifa` other addresses do not still need. */
  private fibDelIfaddr(dev: Iface, ifa: IfAddr, iprim: IfAddr | null): void {
    const mask = maskOf(ifa.prefixlen);
    const any = (ifa.local & mask) >>> 0;
    const brd = (any | ~mask) >>> 0;
    let prim: IfAddr | undefined = ifa;
    let subnet = false;
    if (ifa.secondary) {
      prim = this.primaryFor(dev, any, mask);
      if (!prim || (iprim && iprim !== prim)) return;
    } else if (!isZeronet(any) && (any !== ifa.local || ifa.prefixlen < 32)) {
      if (!ifa.noprefixroute) this.fibMagic('del', dev.kind === 'loopback' ? 'local' : 'unicast', any, ifa.prefixlen, dev, prim, 0);
      subnet = true;
    }
    const LOCAL_OK = 1;
    const BRD_OK = 2;
    const BRD0_OK = 4;
    const BRD1_OK = 8;
    let ok = 0;
    let gone = true;
    let samePrefsrc = false;
    let prim1: IfAddr | undefined;
    const ifaBrd = ifa.broadcast ?? 0;
    for (const ifa1 of dev.addrs) {
      if (ifa1 === ifa) {
        gone = false;
        continue;
      }
      if (iprim && ifa1.prefixlen === iprim.prefixlen && inPrefix(ifa1.local, { addr: iprim.local, len: iprim.prefixlen })) continue;
      if (ifa1.secondary) {
        if (ifa1.prefixlen === prim.prefixlen && inPrefix(ifa1.local, { addr: prim.local, len: prim.prefixlen })) {
          prim1 = prim;
        } else {
          if (!samePrefsrc) continue;
          if (!prim1 || ifa1.prefixlen !== prim1.prefixlen || !inPrefix(ifa1.local, { addr: prim1.local, len: prim1.prefixlen })) {
            const m1 = maskOf(ifa1.prefixlen);
            prim1 = this.primaryFor(dev, (ifa1.local & m1) >>> 0, m1);
          }
          if (!prim1 || prim1.local !== prim.local) continue;
        }
      } else {
        if (prim.local !== ifa1.local) continue;
        prim1 = ifa1;
        if (prim !== prim1) samePrefsrc = true;
      }
      const b1 = ifa1.broadcast ?? 0;
      if (ifa.local === ifa1.local) ok |= LOCAL_OK;
      if (ifaBrd === b1) ok |= BRD_OK;
      if (brd === b1) ok |= BRD1_OK;
      if (any === b1) ok |= BRD0_OK;
      if (prim1 === ifa1 && ifa1.prefixlen < 31) {
        const m1 = maskOf(ifa1.prefixlen);
        const any1 = (ifa1.local & m1) >>> 0;
        const brd1 = (any1 | ~m1) >>> 0;
        if (!isZeronet(any1)) {
          if (ifaBrd === brd1 || ifaBrd === any1) ok |= BRD_OK;
          if (brd === brd1 || brd === any1) ok |= BRD1_OK;
          if (any === brd1 || any === any1) ok |= BRD0_OK;
        }
      }
    }
    if (!(ok & BRD_OK)) this.fibMagic('del', 'broadcast', ifaBrd, 32, dev, prim, 0);
    if (subnet && ifa.prefixlen < 31) {
      if (!(ok & BRD1_OK)) this.fibMagic('del', 'broadcast', brd, 32, dev, prim, 0);
      if (!(ok & BRD0_OK)) this.fibMagic('del', 'broadcast', any, 32, dev, prim, 0);
    }
    if (!(ok & LOCAL_OK)) {
      this.fibMagic('del', 'local', ifa.local, 32, dev, prim, 0);
      if (gone && this.addrTypeDevTable(undefined, ifa.local) !== 'LOCAL') {
        // fib_sync_down_addr: routes preferring the vanished address die.
        for (const [t, list] of this.fib) this.fib.set(t, list.filter((r) => r.prefsrc !== ifa.local));
        this.fibChanged();
      }
    }
  }

  /** fib_magic: a kernel route for an address (proto kernel, table by type, append). */
  private fibMagic(cmd: 'add' | 'del', type: RouteType, dst: IPv4, plen: number, dev: Iface, prim: IfAddr, metric: number): void {
    const table = type === 'unicast' ? TABLE.main : TABLE.local;
    const scope = type === 'local' ? SCOPE.host : SCOPE.link;
    const list = this.table(table);
    if (cmd === 'del') {
      const i = findForDelete(list, { dst, plen, type, scope, prefsrc: prim.local, proto: PROTO.kernel, dev: dev.ifindex, metric });
      if (i >= 0) list.splice(i, 1);
      this.fibChanged();
      return;
    }
    const r: Route = {
      table, type, dst: (dst & maskOf(plen)) >>> 0, plen, metric, proto: PROTO.kernel, scope,
      prefsrc: prim.local, gateway: null, dev: dev.ifindex, onlink: false,
      nhScope: scope === SCOPE.host ? SCOPE.nowhere : SCOPE.host,
    };
    insertRoute(list, r, 'kernel');
    this.fibChanged();
  }

  /** fib_sync_down_dev + fib_flush: drop routes through `ifindex` (host-scope ones only when
   *  forced, i.e. the device or its last address goes away). */
  private syncDownDev(ifindex: number, force: boolean): void {
    for (const [t, list] of this.fib) {
      this.fib.set(t, list.filter((r) => !(r.dev === ifindex && (force || r.nhScope !== SCOPE.nowhere))));
    }
    this.fibChanged();
  }

  // ---- the FIB ---------------------------------------------------------------------------------

  /** The table's routes in dump order (created when missing). */
  private table(id: number): Route[] {
    let t = this.fib.get(id);
    if (!t) {
      t = [];
      this.fib.set(id, t);
    }
    return t;
  }

  hasTable(id: number): boolean {
    return this.fib.has(id);
  }

  /** Table ids in the order `ip route show table all` dumps them (hash bucket id & 255). */
  tableIds(): number[] {
    return [...this.fib.keys()].sort((a, b) => (a & 255) - (b & 255) || a - b);
  }

  routes(table: number): readonly Route[] {
    return this.fib.get(table) ?? [];
  }

  /** RTNH_F_LINKDOWN as the kernel shows it on a route now. */
  routeLinkdown(r: Route): boolean {
    if (r.dev === null || r.nhScope === SCOPE.nowhere) return false;
    const d = this.devs.get(r.dev);
    return !!d && !carrier(d, this.byIndex);
  }

  /** `ip route add/append/prepend/replace/change`: fib_create_info checks, then insert. */
  addRoute(cfg: RouteConfig, mode: InsertMode = 'add'): void {
    this.gen++;
    checkKey(cfg.dst, cfg.plen);
    const props = TYPE_PROPS[cfg.type];
    if (props.scope > cfg.scope) throw new KernelError('EINVAL', 'Invalid scope');
    const dev = cfg.dev !== undefined ? this.mustLink(cfg.dev) : undefined;
    const r: Route = {
      table: cfg.table, type: cfg.type, dst: cfg.dst, plen: cfg.plen, metric: cfg.metric, proto: cfg.proto,
      scope: cfg.scope, prefsrc: cfg.prefsrc ?? null, gateway: cfg.gateway ?? null, dev: dev?.ifindex ?? null,
      onlink: cfg.onlink ?? false, nhScope: SCOPE.nowhere,
    };
    if (props.error) {
      if (cfg.gateway !== undefined || dev) throw new KernelError('EINVAL', 'Gateway, device and multipath can not be specified for this route type');
      r.dev = null;
    } else {
      if (!['unicast', 'local', 'broadcast', 'anycast', 'multicast'].includes(cfg.type)) throw new KernelError('EINVAL', 'Invalid route type');
      if (cfg.scope > SCOPE.host) throw new KernelError('EINVAL', 'Invalid scope');
      if (cfg.scope === SCOPE.host) {
        if (cfg.gateway !== undefined) throw new KernelError('EINVAL', 'Route with host scope can not have a gateway');
        if (!dev) throw new KernelError('ENODEV');
        r.nhScope = SCOPE.nowhere;
      } else if (cfg.gateway !== undefined && cfg.gateway !== 0) {
        this.checkGateway(r, dev, cfg);
      } else {
        if (r.onlink) throw new KernelError('EINVAL', 'Invalid flags for nexthop - PERVASIVE and ONLINK can not be set');
        if (!dev) throw new KernelError('ENODEV');
        if (!dev.adminUp) throw new KernelError('ENETDOWN', 'Device for nexthop is not up');
        r.nhScope = SCOPE.host;
      }
      if (r.prefsrc !== null && !(cfg.type === 'local' && cfg.dst === r.prefsrc && cfg.plen === 32)) {
        // fib_valid_prefsrc: a local address of the route's table, else of table local.
        const tb = cfg.table === TABLE.main ? TABLE.local : cfg.table;
        if (this.addrTypeTable(r.prefsrc, tb) !== 'LOCAL' && this.addrTypeTable(r.prefsrc, TABLE.local) !== 'LOCAL') {
          throw new KernelError('EINVAL', 'Invalid prefsrc address');
        }
      }
    }
    insertRoute(this.table(cfg.table), r, mode);
    this.fibChanged();
    if (cfg.type === 'local') this.customLocal = true;
  }

  /** fib_check_nh_v4_gw: the gateway must be on-link (or `onlink` given on an up device). */
  private checkGateway(r: Route, dev: Iface | undefined, cfg: RouteConfig): void {
    const gw = cfg.gateway as IPv4;
    if (r.onlink) {
      if (cfg.scope >= SCOPE.link) throw new KernelError('EINVAL', 'Nexthop has invalid scope');
      if (!dev) throw new KernelError('ENODEV', 'Nexthop device required for onlink');
      if (!dev.adminUp) throw new KernelError('ENETDOWN', 'Nexthop device is not up');
      if (this.addrTypeDevTable(undefined, gw) !== 'UNICAST') throw new KernelError('EINVAL', 'Nexthop has invalid gateway');
      r.nhScope = SCOPE.link;
      return;
    }
    const scope = Math.max(cfg.scope + 1, SCOPE.link);
    let hit: Route | null = null;
    if (cfg.table !== TABLE.main && this.fib.has(cfg.table)) {
      const res = this.fibTableLookup(this.routes(cfg.table), gw, { scope, oif: dev?.ifindex, ignoreLinkstate: true });
      if (res && !('error' in res)) hit = res;
    }
    if (!hit) {
      const res = this.fibLookup(gw, { scope, oif: dev?.ifindex, ignoreLinkstate: true });
      if (!res || 'error' in res) throw new KernelError('EINVAL', 'Nexthop has invalid gateway');
      hit = res;
    }
    if (hit.type !== 'unicast' && hit.type !== 'local') throw new KernelError('EINVAL', 'Nexthop has invalid gateway');
    const out = hit.dev !== null ? this.devs.get(hit.dev) : undefined;
    if (!out) throw new KernelError('ENODEV', 'No egress device for nexthop gateway');
    if (!out.adminUp) throw new KernelError('ENETDOWN');
    r.nhScope = hit.scope;
    r.dev = out.ifindex;
  }

  /** `ip route del`: the first route of the table the selector matches. */
  delRoute(table: number, sel: RouteSelector): void {
    this.gen++;
    const list = this.fib.get(table);
    if (!list) throw new KernelError('ESRCH', 'FIB table does not exist');
    checkKey(sel.dst, sel.plen);
    const i = findForDelete(list, sel);
    if (i < 0) throw new KernelError('ESRCH');
    list.splice(i, 1);
    this.fibChanged();
  }

  /** Remove one exact route object (`ip route flush`). */
  removeRoute(r: Route): void {
    this.gen++;
    const list = this.fib.get(r.table);
    const i = list ? list.indexOf(r) : -1;
    if (list && i >= 0) list.splice(i, 1);
    this.fibChanged();
  }

  /** fib_table_lookup over one table's list (already in trie order per prefix). */
  private fibTableLookup(
    list: readonly Route[],
    dst: IPv4,
    flow: { scope: number; oif?: number; ignoreLinkstate?: boolean },
  ): Route | { error: string } | null {
    const cands = list.filter((r) => inPrefix(dst, { addr: r.dst, len: r.plen })).sort((a, b) => b.plen - a.plen);
    return this.pick(cands, flow);
  }

  private pick(cands: readonly Route[], flow: { scope: number; oif?: number; ignoreLinkstate?: boolean }): Route | { error: string } | null {
    for (const r of cands) {
      if (r.scope < flow.scope) continue;
      const err = TYPE_PROPS[r.type].error;
      if (err) return { error: err };
      if (r.dev !== null) {
        const d = this.devs.get(r.dev);
        if (!flow.ignoreLinkstate && d && this.routeLinkdown(r) && this.devConf(d.name).ignoreLinkdown) continue;
        if (flow.oif !== undefined && flow.oif !== 0 && flow.oif !== r.dev) continue;
      }
      return r;
    }
    return null;
  }

  /** fib_lookup without rules: the merged local+main trie. */
  private fibLookup(dst: IPv4, flow: { scope: number; oif?: number; ignoreLinkstate?: boolean }): Route | { error: string } | null {
    if (flow.scope !== SCOPE.universe || flow.oif || flow.ignoreLinkstate) return this.fibLookupSlow(dst, flow);
    const fib = this.cached().fib;
    const key = dst >>> 0;
    const hit = fib.get(key);
    if (hit !== undefined) return hit;
    const res = this.fibLookupSlow(dst, flow);
    if (fib.size >= MEMO_MAX) fib.clear();
    fib.set(key, res);
    return res;
  }

  /** The memo, emptied first when anything changed since it was filled. */
  private cached(): Memo {
    const m = this.memo;
    if (m.gen === this.gen && m.sysGen === this.sysctl.gen) return m;
    return (this.memo = newMemo(this.gen, this.sysctl.gen));
  }

  /** The sysctls the datapath reads of one device (all and the device's own combined as the
   *  kernel's IN_DEV_* macros do), read once per change. */
  private devConf(dev: string): DevConf {
    const confs = this.cached().conf;
    let c = confs.get(dev);
    if (!c) {
      const sc = this.sysctl;
      const or = (k: string) => sc.conf('all', k) !== 0 || sc.conf(dev, k) !== 0;
      c = {
        rpFilter: Math.max(sc.conf('all', 'rp_filter'), sc.conf(dev, 'rp_filter')),
        forwarding: sc.conf(dev, 'forwarding') !== 0,
        arpIgnore: Math.max(sc.conf('all', 'arp_ignore'), sc.conf(dev, 'arp_ignore')),
        arpAnnounce: Math.max(sc.conf('all', 'arp_announce'), sc.conf(dev, 'arp_announce')),
        proxyArp: or('proxy_arp'),
        routeLocalnet: or('route_localnet'),
        sendRedirects: or('send_redirects'),
        acceptLocal: or('accept_local'),
        ignoreLinkdown: or('ignore_routes_with_linkdown'),
      };
      confs.set(dev, c);
    }
    return c;
  }

  private fibLookupSlow(dst: IPv4, flow: { scope: number; oif?: number; ignoreLinkstate?: boolean }): Route | { error: string } | null {
    // Longest prefix first; on equal prefixes the local table's aliases come first.
    const idx = this.fibIdx ?? (this.fibIdx = buildFibIndex(this.routes(TABLE.local), this.routes(TABLE.main)));
    for (let i = 0; i < idx.plens.length; i++) {
      const cands = idx.buckets[i].get((dst & maskOf(idx.plens[i])) >>> 0);
      if (!cands) continue;
      const res = this.pick(cands, flow);
      if (!res) continue;
      if ('error' in res && res.error === 'EAGAIN') return null; // throw: next table, none
      return res;
    }
    return null;
  }

  /** Route type of `addr` in table `tb` (__inet_dev_addr_type without a device). */
  private addrTypeTable(addr: IPv4, tb: number): AddrType {
    if (isZeronet(addr) || isLbcast(addr)) return 'BROADCAST';
    if (isMulticast(addr)) return 'MULTICAST';
    if (!this.fib.has(tb)) return 'BROADCAST';
    const res = tb === TABLE.local || tb === TABLE.main ? this.fibLookup(addr, { scope: SCOPE.universe }) : this.fibTableLookup(this.routes(tb), addr, { scope: SCOPE.universe });
    if (!res || 'error' in res) return 'UNICAST';
    return res.type.toUpperCase() as AddrType;
  }

  /** __inet_dev_addr_type on the local table: with `dev` (inet_dev_addr_type, what
   *  --limit-iface asks) a route through another device counts as UNICAST; without it
   *  (inet_addr_type_dev_table, whose device only picks the table) any device's. */
  private addrTypeDevTable(dev: Iface | undefined, addr: IPv4): AddrType {
    if (isZeronet(addr) || isLbcast(addr)) return 'BROADCAST';
    if (isMulticast(addr)) return 'MULTICAST';
    const res = this.fibLookup(addr, { scope: SCOPE.universe });
    if (!res || 'error' in res) return 'UNICAST';
    if (dev && res.dev !== dev.ifindex) return 'UNICAST';
    return res.type.toUpperCase() as AddrType;
  }

  /**
   * The address type `-m addrtype` sees: BROADCAST for 0/8 and 255.255.255.255, MULTICAST for
   * 224/4, else the type of the local-table route (LOCAL, BROADCAST), else UNICAST. With
   * `iface` (--limit-iface-in/out) a route through another device gives UNICAST. Blackhole,
   * unreachable and prohibit routes are never reported: the kernel's lookup fails on them.
   */
  addrType(addr: IPv4, iface?: string): AddrType {
    const dev = iface !== undefined ? this.link(iface) : undefined;
    if (iface !== undefined && !dev) return 'UNICAST';
    return this.addrTypeDevTable(dev, addr);
  }

  isLocal(addr: IPv4): boolean {
    return this.addrType(addr) === 'LOCAL';
  }

  /** inet_select_addr: a source address of `dev` for reaching `dst` within `scope`. */
  selectSrc(devName: string, dst: IPv4, scope: number): IPv4 {
    const dev = this.link(devName);
    const localnetScope = dev && this.routeLocalnet(dev.name) ? SCOPE.link : SCOPE.host;
    if (dev) {
      let addr = 0;
      for (const a of dev.addrs) {
        if (a.secondary) continue;
        if (Math.min(a.scope, localnetScope) > scope) continue;
        if (!dst || inPrefix(dst, { addr: a.local, len: a.prefixlen })) return a.local;
        if (!addr) addr = a.local;
      }
      if (addr) return addr;
    }
    // Any device, lo first: a primary address that is not link-scoped.
    for (const d of this.devIndex().sorted) {
      for (const a of d.addrs) {
        if (a.secondary) continue;
        if (a.scope !== SCOPE.link && a.scope <= scope) return a.local;
      }
    }
    return 0;
  }

  private resultPrefsrc(r: Route): IPv4 {
    if (r.prefsrc !== null) return r.prefsrc;
    const dev = r.dev !== null ? this.devs.get(r.dev) : undefined;
    return dev ? this.selectSrc(dev.name, r.gateway ?? 0, r.scope) : 0;
  }

  /** Route lookup for `dst`: the input path when `opts.iif` is given (forwarding or local
   *  delivery of a packet from `opts.src`), else the output path of a locally sent packet. */
  lookup(dst: IPv4, opts: Omit<RouteQuery, 'dst'> = {}): RouteResult {
    const q = { ...opts, dst };
    return q.iif !== undefined ? this.routeInput(q) : this.routeOutput(q);
  }

  /** ip_route_output_key_hash_rcu + __mkroute_output. */
  routeOutput(q: RouteQuery): RouteResult {
    let saddr = q.src ?? 0;
    const dst = q.dst;
    let oif = 0;
    let devOut: Iface | undefined;
    const flags = { local: false, brd: false, mc: false, redirect: false };

    if (saddr) {
      if (isMulticast(saddr) || isLbcast(saddr) || isZeronet(saddr)) return miss('EINVAL');
      const owner = this.ipDevFind(saddr);
      if (!owner) return miss('ENETUNREACH');
      if (q.oif === undefined && (isMulticast(dst) || isLbcast(dst))) {
        // Multicast and limited broadcast leave through the device owning the source.
        return this.mkrouteOutput(null, dst, saddr, owner, flags, q);
      }
    }
    if (q.oif !== undefined) {
      devOut = this.link(q.oif);
      if (!devOut) return miss('ENODEV');
      if (!devOut.adminUp) return miss('ENETUNREACH');
      oif = devOut.ifindex;
      if (isLocalMulticast(dst) || isLbcast(dst)) {
        if (!saddr) saddr = this.selectSrc(devOut.name, 0, SCOPE.link);
        return this.mkrouteOutput(null, dst, saddr, devOut, flags, q);
      }
      if (!saddr) {
        if (isMulticast(dst)) saddr = this.selectSrc(devOut.name, 0, SCOPE.universe);
        else if (!dst) saddr = this.selectSrc(devOut.name, 0, SCOPE.host);
      }
    }
    if (!dst) {
      if (!saddr) saddr = LOOPBACK_NET + 1;
      const lo = this.link('lo') as Iface;
      flags.local = true;
      return { ok: true, type: 'local', dev: lo.name, gateway: null, prefsrc: saddr, table: null, scope: SCOPE.host, input: false, flags, route: null };
    }
    const found = this.fibLookup(dst, { scope: SCOPE.universe, oif: oif || undefined });
    if (!found || 'error' in found) {
      if (oif && devOut) {
        // "Routing tables are wrong": assume the destination is on link.
        if (!saddr) saddr = this.selectSrc(devOut.name, 0, SCOPE.link);
        return this.mkrouteOutput(null, dst, saddr, devOut, flags, q);
      }
      const err = found && 'error' in found ? found.error : 'ENETUNREACH';
      return miss(err === 'EAGAIN' ? 'ENETUNREACH' : (err as RouteMiss['errno']));
    }
    const res = found;
    if (res.type === 'local') {
      if (!saddr) saddr = res.prefsrc ?? dst;
      const lo = this.link('lo') as Iface;
      flags.local = true;
      return { ok: true, type: 'local', dev: lo.name, gateway: null, prefsrc: saddr, table: res.table, scope: res.scope, input: false, flags, route: res };
    }
    if (!saddr) saddr = this.resultPrefsrc(res);
    devOut = res.dev !== null ? this.devs.get(res.dev) : undefined;
    if (!devOut) return miss('EINVAL');
    const type = res.type === 'broadcast' ? 'broadcast' : res.type === 'multicast' ? 'multicast' : 'unicast';
    return this.mkrouteOutput(res, dst, saddr, devOut, flags, q, type);
  }

  private mkrouteOutput(
    res: Route | null,
    dst: IPv4,
    saddr: IPv4,
    devOut: Iface,
    flags: RouteHit['flags'],
    q: RouteQuery,
    resType: RouteHit['type'] = 'unicast',
  ): RouteResult {
    if (!this.routeLocalnet(devOut.name) && isLoopback(saddr) && devOut.kind !== 'loopback') return { ok: false, errno: 'EINVAL' };
    let type = resType;
    if (isLbcast(dst)) type = 'broadcast';
    else if (isMulticast(dst)) type = 'multicast';
    else if (isZeronet(dst)) return { ok: false, errno: 'EINVAL' };
    if (devOut.kind === 'loopback') flags.local = true;
    let fi: Route | null = res;
    if (type === 'broadcast') {
      flags.brd = true;
      flags.local = true;
      fi = null;
    } else if (type === 'multicast') {
      flags.mc = true;
      // Every device with IPv4 is in the all-hosts group.
      flags.local = dst === 0xe0000001;
      if (fi && fi.plen < 4) fi = null;
    }
    const gateway = fi && fi.gateway !== null && fi.nhScope === SCOPE.link ? fi.gateway : null;
    void q;
    return {
      ok: true, type, dev: devOut.name, gateway, prefsrc: saddr, table: res?.table ?? null,
      scope: res?.scope ?? SCOPE.link, input: false, flags, route: res,
    };
  }

  /** __ip_dev_find: the device holding local address `a` (any device), if any. */
  private ipDevFind(a: IPv4): Iface | undefined {
    const d = this.devIndex().owner.get(a);
    if (d) return d;
    return this.addrTypeDevTable(undefined, a) === 'LOCAL' ? this.link('lo') : undefined;
  }

  /** ip_route_input_slow: forwarding or local delivery of a packet arriving on `iif`. */
  routeInput(q: RouteQuery): RouteResult {
    const inDev = q.iif !== undefined ? this.link(q.iif) : undefined;
    if (!inDev) return miss('ENODEV');
    const saddr = q.src ?? 0;
    const daddr = q.dst;
    const flags = { local: false, brd: false, mc: false, redirect: false };
    if (isMulticast(daddr)) {
      // Multicast input is its own path (ip_route_input_mc); report it as local delivery.
      if (isMulticast(saddr) || isLbcast(saddr) || isZeronet(saddr)) return miss('EINVAL');
      flags.mc = true;
      return this.localInput('multicast', null, saddr, flags);
    }
    if (isMulticast(saddr) || isLbcast(saddr)) return miss('EINVAL');
    if (isLbcast(daddr) || (saddr === 0 && daddr === 0)) return this.brdInput(null, saddr, inDev, flags);
    if (isZeronet(saddr)) return miss('EINVAL');
    if (isZeronet(daddr)) return miss('EINVAL');
    const localnet = this.routeLocalnet(inDev.name);
    if (isLoopback(daddr)) {
      if (!localnet) return miss('EINVAL');
    } else if (isLoopback(saddr)) {
      if (!localnet) return miss('EINVAL');
    }
    const fwd = this.forwarding(inDev.name);
    const res = this.fibLookup(daddr, { scope: SCOPE.universe });
    if (!res || 'error' in res) {
      if (!fwd) return miss('EHOSTUNREACH');
      const err = res && 'error' in res ? res.error : 'ENETUNREACH';
      if (err === 'EINVAL') return { ok: false, errno: 'EINVAL', blackhole: true };
      return miss(err === 'EAGAIN' ? 'ENETUNREACH' : (err as RouteMiss['errno']));
    }
    if (res.type === 'broadcast') {
      if (this.sysctl.conf('all', 'bc_forwarding') && this.sysctl.conf(inDev.name, 'bc_forwarding')) return this.forwardInput(res, inDev, saddr, daddr, flags);
      return this.brdInput(res, saddr, inDev, flags);
    }
    if (res.type === 'local') {
      if (this.validateSource(saddr, daddr, 0, inDev) < 0) return miss('EINVAL');
      return this.localInput('local', res, saddr, flags);
    }
    if (!fwd) return miss('EHOSTUNREACH');
    if (res.type !== 'unicast') return miss('EINVAL');
    return this.forwardInput(res, inDev, saddr, daddr, flags);
  }

  /** Local delivery of an input route (through lo). */
  private localInput(type: RouteHit['type'], r: Route | null, saddr: IPv4, flags: RouteHit['flags']): RouteHit {
    flags.local = true;
    const lo = this.link('lo') as Iface;
    return { ok: true, type, dev: lo.name, gateway: null, prefsrc: saddr, table: r?.table ?? null, scope: r?.scope ?? SCOPE.host, input: true, flags, route: r };
  }

  /** ip_route_input_slow's brd_input. */
  private brdInput(r: Route | null, saddr: IPv4, inDev: Iface, flags: RouteHit['flags']): RouteResult {
    if (!isZeronet(saddr) && this.validateSource(saddr, 0, 0, inDev) < 0) return miss('EINVAL');
    flags.brd = true;
    return this.localInput('broadcast', r, saddr, flags);
  }

  private forwardInput(res: Route, inDev: Iface, saddr: IPv4, daddr: IPv4, flags: RouteHit['flags']): RouteResult {
    const outDev = res.dev !== null ? this.devs.get(res.dev) : undefined;
    if (!outDev) return { ok: false, errno: 'EINVAL' };
    const v = this.validateSource(saddr, daddr, outDev.ifindex, inDev);
    if (v < 0) return { ok: false, errno: 'EINVAL' };
    if (outDev === inDev && v > 0 && this.orConf(outDev.name, 'send_redirects')) {
      if (this.orConf(outDev.name, 'shared_media') || this.onLink(outDev, saddr, res.gateway ?? 0)) flags.redirect = true;
    }
    const gateway = res.gateway !== null && res.nhScope === SCOPE.link ? res.gateway : null;
    return {
      ok: true, type: 'unicast', dev: outDev.name, gateway, prefsrc: saddr, table: res.table, scope: res.scope,
      input: true, flags, route: res,
    };
  }

  /** inet_addr_onlink: `a` (and `b`, when set) inside a primary subnet of `dev`. */
  private onLink(dev: Iface, a: IPv4, b: IPv4): boolean {
    return dev.addrs.some(
      (x) => !x.secondary && inPrefix(a, { addr: x.local, len: x.prefixlen }) && (!b || inPrefix(b, { addr: x.local, len: x.prefixlen })),
    );
  }

  /**
   * fib_validate_source for a packet from `src` to `dst` arriving on `inDev` and leaving
   * through ifindex `oif` (0: local delivery). Returns <0 when the packet is a martian (bad
   * source, or the reverse-path filter rejects it), 1 when the source is directly on link,
   * else 0.
   */
  validateSource(src: IPv4, dst: IPv4, oif: number, inDev: Iface): number {
    const dc = this.devConf(inDev.name);
    const r = dc.rpFilter;
    if (!r && (inDev.ifindex !== oif || !dc.sendRedirects)) {
      if (dc.acceptLocal) return 0;
      // A source that is one of our addresses is a martian (inet_lookup_ifaddr_rcu).
      if (!this.customLocal) return this.devIndex().owner.has(src) ? -1 : 0;
    }
    const noAddr = inDev.addrs.length === 0;
    const res = this.fibLookup(src, { scope: SCOPE.universe });
    if (!res || 'error' in res) return r ? -1 : 0;
    if (res.type !== 'unicast') {
      if (res.type !== 'local' || !dc.acceptLocal) return -1;
    }
    const devMatch = res.dev === inDev.ifindex || (res.type === 'local' && inDev.kind === 'loopback');
    if (devMatch) return res.nhScope >= SCOPE.host ? 1 : 0;
    if (noAddr) return r ? -1 : 0;
    if (r === 1) return -1;
    const res2 = this.fibLookup(src, { scope: SCOPE.universe, oif: inDev.ifindex, ignoreLinkstate: true });
    if (res2 && !('error' in res2) && res2.type === 'unicast') return res2.nhScope >= SCOPE.host ? 1 : 0;
    return 0;
  }

  /** The reverse-path filter verdict for a packet from `src` arriving on `iif`. */
  rpCheck(src: IPv4, iif: string, dst = 0): boolean {
    const d = this.link(iif);
    return !!d && this.validateSource(src, dst, 0, d) >= 0;
  }

  // ---- ARP -------------------------------------------------------------------------------------

  /**
   * Whether this host answers an ARP request for `target` arriving on `onDev` (arp_process):
   * a local address (subject to arp_ignore), or, with forwarding on, proxy_arp set on the
   * device and the route to the target leaving through another device (how Calico answers
   * for 169.254.1.1), or a proxy entry. `sender` is the requester's address (0: a probe).
   */
  answersArp(target: IPv4, onDev: string, sender = 0): boolean {
    const memo = this.cached();
    let byTarget = memo.arp.get(onDev);
    if (!byTarget) memo.arp.set(onDev, (byTarget = new Map()));
    let bySender = byTarget.get(target);
    if (!bySender) {
      if (byTarget.size >= MEMO_MAX) byTarget.clear();
      byTarget.set(target, (bySender = new Map()));
    }
    const hit = bySender.get(sender);
    if (hit !== undefined) return hit;
    const res = this.answersArpSlow(target, onDev, sender);
    if (bySender.size >= MEMO_MAX) bySender.clear();
    bySender.set(sender, res);
    return res;
  }

  private answersArpSlow(target: IPv4, onDev: string, sender: IPv4): boolean {
    const dev = this.link(onDev);
    if (!dev || !dev.adminUp) return false;
    const arpIgnore = this.devConf(dev.name).arpIgnore;
    if (sender === 0) return this.addrTypeDevTable(undefined, target) === 'LOCAL' && !this.arpIgnored(arpIgnore, dev, target, sender);
    if (isMulticast(target)) return false;
    const rt = this.routeInput({ dst: target, src: sender, iif: dev.name });
    if (!rt.ok) return false;
    if (rt.type === 'local') return !this.arpIgnored(arpIgnore, dev, target, sender);
    if (!this.forwarding(dev.name) || rt.type !== 'unicast') return false;
    if (rt.dev !== dev.name && this.proxyArp(dev.name)) {
      const imi = this.sysctl.conf(dev.name, 'medium_id');
      if (imi === 0) return true;
      if (imi !== -1) {
        const omi = this.sysctl.conf(rt.dev, 'medium_id');
        if (omi !== imi && omi !== -1) return true;
      }
    }
    return rt.dev !== dev.name && this.proxyList.some((p) => p.ip === target && p.dev === dev.ifindex);
  }

  /**
   * arp_solicit: the sender address of the ARP request for `target` on `devName` that a
   * packet from `src` makes. arp_announce 0: the packet's source when it is a local address;
   * 1: only when it is also on the device's subnet of the target; 2 (or no such source): the
   * device's address for the target (inet_select_addr, link scope). So a forwarded packet's
   * request, or a SNATed one's, carries the sender's own address.
   */
  arpSender(devName: string, src: IPv4, target: IPv4): IPv4 {
    const announce = this.devConf(devName).arpAnnounce;
    if (src && announce <= 1 && this.isLocal(src)) {
      const dev = announce === 1 ? this.link(devName) : undefined;
      if (announce === 0 || dev?.addrs.some((a) => inPrefix(target, { addr: a.local, len: a.prefixlen }) && inPrefix(src, { addr: a.local, len: a.prefixlen }))) return src;
    }
    return this.selectSrc(devName, target, SCOPE.link);
  }

  /** arp_ignore: whether a request for local `target` on `dev` goes unanswered. */
  private arpIgnored(arpIgnore: number, dev: Iface, target: IPv4, sender: IPv4): boolean {
    switch (arpIgnore) {
      case 0:
        return false;
      case 1:
        return !dev.addrs.some((a) => a.local === target && a.scope <= SCOPE.host);
      case 2:
        return !dev.addrs.some((a) => a.local === target && inPrefix(sender, { addr: a.local, len: a.prefixlen }));
      case 3:
        return !this.devIndex().sorted.some((d) => d.addrs.some((a) => a.local === target && a.scope <= SCOPE.link));
      case 8:
        return true;
      default:
        return false;
    }
  }

  // ---- neighbours ------------------------------------------------------------------------------

  neighbours(): readonly Neighbour[] {
    return this.neighList;
  }

  proxies(): readonly ProxyNeighbour[] {
    return this.proxyList;
  }

  neighbour(ip: IPv4, dev: string): Neighbour | undefined {
    const d = this.link(dev);
    return d ? this.neighList.find((n) => n.ip === ip && n.dev === d.ifindex) : undefined;
  }

  /** `ip neigh add|replace|change`. */
  setNeighbour(ip: IPv4, devName: string, lladdr: string | null, state: NudState, mode: 'add' | 'replace' | 'change', router = false): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const cur = this.neighList.find((n) => n.ip === ip && n.dev === dev.ifindex);
    if (cur && mode === 'add') throw new KernelError('EEXIST');
    if (!cur && mode === 'change') throw new KernelError('ENOENT');
    if (lladdr === null && (state === 'PERMANENT' || state === 'NOARP' || state === 'REACHABLE' || state === 'STALE')) {
      if (!cur?.lladdr) throw new KernelError('EINVAL', 'No link layer address given');
    }
    const n: Neighbour = { ip, dev: dev.ifindex, lladdr: lladdr ?? cur?.lladdr ?? null, state, router };
    if (cur) Object.assign(cur, n);
    else this.neighList.unshift(n);
  }

  delNeighbour(ip: IPv4, devName: string): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const i = this.neighList.findIndex((n) => n.ip === ip && n.dev === dev.ifindex);
    if (i < 0) throw new KernelError('ENOENT');
    this.neighList.splice(i, 1);
  }

  /** Drop the entries `keep` rejects; returns how many went. */
  flushNeighbours(drop: (n: Neighbour) => boolean): number {
    this.gen++;
    const before = this.neighList.length;
    this.neighList = this.neighList.filter((n) => !drop(n));
    return before - this.neighList.length;
  }

  addProxy(ip: IPv4, devName: string): void {
    this.gen++;
    const dev = this.mustLink(devName);
    // pneigh_create finds an existing entry: adding twice is not an error.
    if (this.proxyList.some((p) => p.ip === ip && p.dev === dev.ifindex)) return;
    this.proxyList.push({ ip, dev: dev.ifindex });
  }

  delProxy(ip: IPv4, devName: string): void {
    this.gen++;
    const dev = this.mustLink(devName);
    const i = this.proxyList.findIndex((p) => p.ip === ip && p.dev === dev.ifindex);
    if (i < 0) throw new KernelError('ENOENT');
    this.proxyList.splice(i, 1);
  }

  /** A human-readable one-line summary (debugging aid). */
  describe(): string {
    return this.links()
      .map((d) => `${d.name}${d.adminUp ? '' : '(down)'} ${d.addrs.map((a) => `${formatIPv4(a.local)}/${a.prefixlen}`).join(' ')}`)
      .join('; ');
  }
}

/** What NetNs.memo keeps (see there). */
interface Memo {
  gen: number;
  sysGen: number;
  /** fibLookup at universe scope, any device, by destination. */
  fib: Map<number, Route | { error: string } | null>;
  /** answersArp by device, target and sender. */
  arp: Map<string, Map<IPv4, Map<IPv4, boolean>>>;
  conf: Map<string, DevConf>;
}

interface DevConf {
  rpFilter: number;
  forwarding: boolean;
  arpIgnore: number;
  proxyArp: boolean;
  arpAnnounce: number;
  routeLocalnet: boolean;
  sendRedirects: boolean;
  acceptLocal: boolean;
  ignoreLinkdown: boolean;
}

/** Entries a memo map holds before it starts over (a big matrix asks about every pod). */
const MEMO_MAX = 1 << 16;

function newMemo(gen: number, sysGen: number): Memo {
  return { gen, sysGen, fib: new Map(), arp: new Map(), conf: new Map() };
}

/** Deep copy of plain JSON data. */
function structuredCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}


function miss(errno: RouteMiss['errno']): RouteMiss {
  return { ok: false, errno };
}

/** The merged local+main trie as a lookup table: prefix lengths longest first, and per length
 *  the routes by masked destination, local table before main, each in dump order. */
interface FibIndex {
  plens: number[];
  buckets: Map<number, Route[]>[];
}

function buildFibIndex(local: readonly Route[], main: readonly Route[]): FibIndex {
  const byLen = new Map<number, Map<number, Route[]>>();
  for (const list of [local, main]) {
    for (const r of list) {
      let m = byLen.get(r.plen);
      if (!m) byLen.set(r.plen, (m = new Map()));
      const key = (r.dst & maskOf(r.plen)) >>> 0;
      const b = m.get(key);
      if (b) b.push(r);
      else m.set(key, [r]);
    }
  }
  const plens = [...byLen.keys()].sort((a, b) => b - a);
  return { plens, buckets: plens.map((l) => byLen.get(l) as Map<number, Route[]>) };
}

/** Devices in ifindex order, by name, and the first device holding each local address. */
interface DevIndex {
  sorted: Iface[];
  byName: Map<string, Iface>;
  owner: Map<IPv4, Iface>;
}
