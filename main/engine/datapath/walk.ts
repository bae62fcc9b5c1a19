// The packet walk: one packet followed through every host it crosses, hook by hook in the
// order Linux runs them (see the hook tables below), until a socket takes it, a rule or the
// stack drops or rejects it, or no route or neighbour exists. Every rule evaluated is a
// RuleStep (traverse.ts); everything else that happens (routing, conntrack, NAT, hops) is an
// event pointing at its place among the steps.

import { formatIPv4, parseIPv4, type IPv4 } from '../net/ipv4.ts';
import type { IndexCache } from '../netfilter/rule-index.ts';
import { PROTO, TCP, type CtView, type Hook, type NatRequest, type Packet, type Table, type TableName, type TargetCtx, type Tuple } from '../netfilter/types.ts';
import type { CtEntry } from '../conntrack/entry.ts';
import { formatLine } from '../conntrack/format.ts';
import { isIcmpError } from '../conntrack/tuple.ts';
import type { RouteHit, RouteResult } from '../net/netns.ts';
import type { NfPort, Topology, WalkHost } from './ports.ts';
import { copyPacket, samePacket, StepTape, traverse, type RuleStep, type Snapshot, type TableVerdict, type TraverseEnv } from './traverse.ts';

export type Outcome = 'delivered' | 'refused' | 'dropped' | 'rejected' | 'unroutable';

export type EventKind =
  | 'inject' | 'receive' | 'route' | 'conntrack' | 'nat' | 'deliver' | 'refuse' | 'drop' | 'reject'
  | 'transmit' | 'forward' | 'unroutable' | 'log' | 'ttl' | 'confirm';

export interface WalkEvent {
  host: string;
  kind: EventKind;
  hook?: Hook;
  readonly text: string;
  /** Number of steps recorded before this event (its place in the step list). */
  at: number;
  pkt: Packet;
  /** A conntrack event's entry as `conntrack -L` lists it then: the one a packet found, or the
   *  one it made, once confirmed into the table (recorded walks only). */
  entry?: string;
}

export interface Delivery {
  host: string;
  ip: string;
  port: number | null;
}

export interface PacketWalk {
  outcome: Outcome;
  delivered: Delivery | null;
  readonly steps: RuleStep[];
  events: WalkEvent[];
  /** Final destination after DNAT anywhere on the path ("IP:PORT"), null without DNAT. */
  dnat: string | null;
  /** Final source the receiver saw after SNAT anywhere on the path, null without SNAT. */
  snat: string | null;
  masquerade: boolean;
  /** The packet as it was when the walk ended, and where. */
  final: Packet;
  endHost: string;
  /** One line: why the walk ended as it did. */
  reason: string;
  /** The step that decided a drop or reject, if a rule did. */
  decidedBy: RuleStep | null;
  /** For a reject: what the rejecting host sends back. */
  reject: { with: string; tcpReset: boolean } | null;
  /** An ICMP error the host where the walk ended sends back (no route on a router). */
  icmpBack: { type: number; code: number } | null;
  /** The packet's conntrack entry on the host that rejected it or had no route for it (that
   *  host's own ICMP error about it is attached to this entry). */
  ct: CtRef | null;
}

/** A conntrack entry and the direction a packet travels in it. */
export interface CtRef {
  entry: CtEntry;
  dir: 'ORIGINAL' | 'REPLY';
}

/** Where the packet starts. `iif` set: it arrives on that interface; else it is sent locally. */
export interface Injection {
  host: string;
  iif?: string;
  pkt: Packet;
  /** A packet the host makes about another (an ICMP error): the conntrack entry it belongs to on
   *  that host, RELATED, without a lookup (nf_ct_attach: the entry may be unconfirmed). */
  ct?: CtRef;
}

export interface WalkOptions {
  now: number;
  maxHops?: number;
  maxSteps?: number;
  /** Addresses a virtual sender outside the lab answers ARP for (the `IP@HOST` source). */
  virtualPeers?: { host: string; dev: string; ip: IPv4 }[];
  /** The connected socket waiting for this packet (an answer to the trace's first packet). */
  socket?: SocketTuple;
  /** false: a probe whose effects the caller undoes (the connectivity matrix): no rule
   *  counters, of the steps only the one that decided a drop or reject, of the events only the
   *  first (its packet is the walk's first packet, which an answer's socket is matched on). */
  record?: boolean;
  /** Told as the walk enters each host, before it is looked up (hop 0: where it starts; then
   *  every host it is received on, an IPIP packet's own host again after decapsulation). */
  onHop?: (hop: number, host: string) => void;
}

/** A connected socket: packets to local:lport from remote:rport are its own. */
export interface SocketTuple {
  host: string;
  proto: number;
  local: IPv4;
  lport: number;
  remote: IPv4;
  rport: number;
}

// The order of (table, conntrack, nat) work at each hook, by priority as in the kernel:
// raw -300, conntrack -200, mangle -150, nat(dst) -100, filter 0, security 50, nat(src) 100,
// confirm last.
const PRE: readonly TableName[] = ['raw', 'mangle'];
const OUT_PRE: readonly TableName[] = ['raw', 'mangle'];
const OUT_POST: readonly TableName[] = ['filter', 'security'];
const IN_TABLES: readonly TableName[] = ['mangle', 'filter', 'security'];
const FWD_TABLES: readonly TableName[] = ['mangle', 'filter', 'security'];
// (raw, mangle) then conntrack at -200 sits between them: ctIn runs before mangle.

interface Flight {
  pkt: Packet;
  tape: StepTape;
  events: WalkEvent[];
  dnat: boolean;
  snat: boolean;
  masquerade: boolean;
  hops: number;
  virtualPeers: { host: string; dev: string; ip: IPv4 }[];
  socket?: SocketTuple;
  now: number;
  maxSteps: number;
  /** Packets inside IPIP tunnels, innermost last, while their outer packet travels. */
  inner: Packet[];
  record: boolean;
  /** The one traversal environment of this packet, set up for each table it crosses. */
  env: WalkEnv;
  /** The last copy of the packet an event got (events share it while the packet is unchanged). */
  copy: Packet | null;
  /** The entry the injected packet is attached to (Injection.ct), until its first host takes it. */
  attached: CtRef | undefined;
}

/** The traversal environment a packet's walk reuses from table to table (one object, so the
 *  steps' shared snapshot carries over while nothing changes). */
class WalkEnv implements TraverseEnv {
  host = '';
  hook: Hook = 'PREROUTING';
  table: Table = undefined as never;
  generation = 0;
  index: IndexCache = undefined as never;
  ctx: TargetCtx;
  tape: StepTape;
  maxSteps: number;
  nf: NfPort | undefined = undefined;
  record: boolean;
  snap?: Snapshot = undefined;
  /** The host pass of the table being walked (for NOTRACK and LOG). */
  pass: HostPass = undefined as never;

  constructor(readonly flight: Flight) {
    this.tape = flight.tape;
    this.maxSteps = flight.maxSteps;
    this.record = flight.record;
    this.ctx = { hook: 'PREROUTING', table: 'filter', inIface: undefined, outIface: undefined, pkt: flight.pkt, ct: null, host: undefined as never, rule: undefined as never, log: undefined as never };
  }

  /** LOG's line as an event, on the env of the table being walked (one function for every
   *  walk: binding one per walk cost more than most tables' walks). */
  readonly log = logEvent;

  onNotrack(): void {
    this.pass.untracked = true;
  }

  onTrace(): void {
    return undefined;
  }
}

/** Per-host conntrack state of the packet while it is inside that host. */
interface HostPass {
  host: WalkHost;
  entry: CtEntry | null;
  dir: 'ORIGINAL' | 'REPLY';
  isNew: boolean; // entry created by this packet here (nat tables are walked only then)
  /** A packet the host made about another and attached to that one's entry (nf_ct_attach): RELATED
   *  to it without a lookup, and not tracked. */
  related: boolean;
  untracked: boolean;
  invalid: boolean; // conntrack could not track it (state INVALID)
  iif?: string;
  oif?: string;
  /** The conntrack view the last table saw, reused while it still holds. */
  view: CtView | null;
}

type Stop = {
  outcome: Outcome;
  reason: string;
  decidedBy: RuleStep | null;
  delivered?: Delivery;
  reject?: { with: string; tcpReset: boolean };
  /** An ICMP error the stopping host sends back (a router without a route: ip_error). */
  icmp?: { type: number; code: number };
  /** The packet's conntrack entry on the stopping host (a reject or no route). */
  ct?: CtRef;
};

export function fmtAddrPort(ip: IPv4, port: number, proto: number): string {
  return proto === PROTO.tcp || proto === PROTO.udp || proto === PROTO.sctp ? `${formatIPv4(ip)}:${port}` : formatIPv4(ip);
}

/** An event's words, made from its parts when first read (most traces are looked at for
 *  their outcome alone, and addresses are slow to print). */
type Words = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => string;

class Event implements WalkEvent {
  private words: string | Words;
  entry: string | undefined = undefined;

  constructor(
    readonly host: string, readonly kind: EventKind, readonly hook: Hook | undefined, readonly at: number, public pkt: Packet,
    words: string | Words, private a?: unknown, private b?: unknown, private c?: unknown, private d?: unknown, private e?: unknown,
  ) {
    this.words = words;
  }

  get text(): string {
    const w = this.words;
    if (typeof w === 'string') return w;
    const t = (this.words = w(this.a, this.b, this.c, this.d, this.e));
    this.a = this.b = this.c = this.d = this.e = undefined;
    return t;
  }
}

function ev(f: Flight, host: string, kind: EventKind, text: string, hook?: Hook): void {
  if (f.record) f.events.push(new Event(host, kind, hook, f.tape.length, pktNow(f), text));
}

/** An event whose words `words(a, b, c, d, e)` says when read. */
function evw(f: Flight, host: string, kind: EventKind, hook: Hook | undefined, words: Words, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
  if (f.record) f.events.push(new Event(host, kind, hook, f.tape.length, pktNow(f), words, a, b, c, d, e));
}

/** A copy of the packet as it is now: the steps' or the last event's while it is the same. */
function pktNow(f: Flight): Packet {
  const s = f.env.snap;
  if (s && samePacket(s.pkt, f.pkt)) return s.pkt;
  const c = f.copy;
  if (c && samePacket(c, f.pkt)) return c;
  return (f.copy = copyPacket(f.pkt));
}

// The events' words.
const ip = (a: unknown) => formatIPv4(a as IPv4);
/** ADDR or ADDR:PORT (port < 0: none). */
const end = (a: unknown, port: unknown) => ((port as number) < 0 ? ip(a) : `${ip(a)}:${port as number}`);
function routeWords(prefix: unknown, dst: unknown, local: unknown, gw: unknown, dev: unknown): string {
  if (local) return `${prefix as string}${ip(dst)} is local`;
  return `${prefix as string}${ip(dst)} ${gw !== null ? `via ${ip(gw)} ` : ''}dev ${dev as string}`;
}
function natWords(what: unknown, from: unknown, fromPort: unknown, to: unknown, toPort: unknown): string {
  return `${what as string} ${end(from, fromPort)} -> ${end(to, toPort)}`;
}
function ctWords(state: unknown, what: unknown, id: unknown): string {
  return `${state as string} (${what as string}, entry ${id as number})`;
}
function confirmWords(id: unknown): string {
  return `conntrack entry ${id as number} confirmed`;
}
function outWords(dev: unknown, nexthop: unknown, peerHost: unknown, peerDev: unknown): string {
  return `out ${dev as string} to ${ip(nexthop)} (${peerHost as string} ${peerDev as string})`;
}
function inWords(iif: unknown): string {
  return `in ${iif as string}`;
}
function encapWords(dev: unknown, gw: unknown): string {
  return `encapsulated in IPIP on ${dev as string} to ${ip(gw)}`;
}
function decapWords(src: unknown, dst: unknown, dev: unknown): string {
  return `decapsulated from IPIP (outer ${ip(src)} -> ${ip(dst)}) on ${dev as string}`;
}
function localWords(dst: unknown): string {
  return `${ip(dst)} is local: INPUT`;
}
function deliverWords(who: unknown, dst: unknown, port: unknown): string {
  return `delivered to ${who as string} ${end(dst, port)}`;
}

function tupleOf(p: Packet): Tuple {
  return { src: p.src, dst: p.dst, proto: p.proto, sport: p.sport, dport: p.dport };
}

// ---------------------------------------------------------------------------------------------

const ACCEPTED: TableVerdict = { kind: 'accept' };

function runTable(f: Flight, hp: HostPass, hook: Hook, table: TableName): TableVerdict {
  const nf = hp.host.nf;
  const t = nf.hookedTable(table, hook);
  if (!t) return ACCEPTED;
  const env = f.env;
  const ctx = env.ctx;
  ctx.hook = hook;
  ctx.table = table;
  ctx.inIface = hp.iif;
  ctx.outIface = hp.oif;
  ctx.pkt = f.pkt;
  ctx.ct = ctView(f, hp);
  ctx.host = hp.host.env;
  env.host = hp.host.name;
  env.hook = hook;
  env.table = t;
  env.generation = nf.generation;
  env.index = hp.host.index;
  env.nf = nf;
  env.pass = hp;
  logTo = env;
  return traverse(env, hook);
}

/** The env of the table being walked, which LOG's lines go to (walks never nest inside a
 *  table's walk: a target runs to its end before the next one starts). */
let logTo: WalkEnv | null = null;

function logEvent(line: string): void {
  const env = logTo!;
  ev(env.flight, env.pass.host.name, 'log', line, env.hook);
}

/** What the matches see of the packet's conntrack: the entry's view, or a stand-in for an
 *  untracked or invalid packet; the last one while it is still the same. */
function ctView(f: Flight, hp: HostPass): CtView | null {
  if (hp.untracked) return (hp.view = pseudoView(f.pkt, 'UNTRACKED', hp.view));
  if (hp.entry) return (hp.view = hp.host.ct.view(hp.entry, hp.dir, f.pkt, f.now, hp.view, hp.related));
  if (hp.invalid) return (hp.view = pseudoView(f.pkt, 'INVALID', hp.view));
  return null;
}

/** What the matches see for a packet without a conntrack entry (UNTRACKED or INVALID); `prev`
 *  when it says the same (a CONNMARK may have written its mark: then a fresh one). */
function pseudoView(p: Packet, state: 'UNTRACKED' | 'INVALID', prev: CtView | null): CtView {
  const src = p.src, dst = p.dst, proto = p.proto, sport = p.sport, dport = p.dport;
  if (prev && prev.state === state && prev.mark === 0) {
    const o = prev.orig;
    if (o.src === src && o.dst === dst && o.proto === proto && o.sport === sport && o.dport === dport) return prev;
  }
  return {
    state,
    dir: 'ORIGINAL' as const,
    orig: { src, dst, proto, sport, dport },
    reply: { src: dst, dst: src, proto, sport: dport, dport: sport },
    status: new Set<never>(),
    mark: 0,
    expires: 0,
  };
}

function lastStep(f: Flight): RuleStep | null {
  return f.tape.last();
}

/** A table verdict that ends the walk here, or null to go on. */
function stopFor(f: Flight, hp: HostPass, v: TableVerdict, hook: Hook, table: TableName): Stop | null {
  if (v.kind === 'drop') {
    const s = lastStep(f);
    const why = s && s.rule === null ? `policy DROP of ${table} ${s.chain}` : `rule ${s?.rule} of ${table} ${s?.chain}`;
    if (f.record) ev(f, hp.host.name, 'drop', `dropped in ${table} ${hook} by ${why}`, hook);
    return { outcome: 'dropped', reason: `dropped by ${why} on ${hp.host.name}`, decidedBy: s };
  }
  if (v.kind === 'reject') {
    const s = lastStep(f);
    ev(f, hp.host.name, 'reject', `rejected (${v.with}) by rule ${s?.rule} of ${table} ${s?.chain}`, hook);
    return { outcome: 'rejected', reason: `rejected with ${v.with} by rule ${s?.rule} of ${table} ${s?.chain} on ${hp.host.name}`, decidedBy: s, reject: { with: v.with, tcpReset: v.tcpReset }, ct: ctRef(hp) };
  }
  return null;
}

/** The packet's entry on this host, if it has one. */
function ctRef(hp: HostPass): CtRef | undefined {
  return hp.entry && !hp.untracked ? { entry: hp.entry, dir: hp.dir } : undefined;
}

function ctIn(f: Flight, hp: HostPass, hook: Hook): void {
  if (!hp.host.tracking()) return; // nothing loaded conntrack in this namespace
  if (hp.untracked) {
    ev(f, hp.host.name, 'conntrack', 'untracked (NOTRACK)', hook);
    return;
  }
  const a = f.attached;
  if (a) {
    f.attached = undefined;
    hp.entry = a.entry;
    hp.dir = a.dir;
    hp.isNew = false;
    hp.related = true;
    evw(f, hp.host.name, 'conntrack', hook, ctWords, 'RELATED', a.dir === 'REPLY' ? 'reply direction, attached' : 'original direction, attached', a.entry.id);
    withEntry(f, a.entry);
    return;
  }
  const r = hp.host.ct.track(f.pkt, f.now, f.pkt.inner);
  if (r.kind === 'invalid') {
    hp.entry = null;
    hp.invalid = true;
    ev(f, hp.host.name, 'conntrack', `INVALID (${r.reason})`, hook);
    return;
  }
  hp.entry = r.entry;
  hp.dir = r.dir;
  hp.isNew = r.isNew;
  const what = r.isNew ? 'new connection' : r.dir === 'REPLY' ? 'reply direction' : 'original direction';
  evw(f, hp.host.name, 'conntrack', hook, ctWords, r.state, what, r.entry.id);
  // (a new entry is listed once confirmed: see confirm)
  if (!r.isNew) withEntry(f, r.entry);
}

/** The last event gets the entry's `conntrack -L` line as it is now (recorded walks only). */
function withEntry(f: Flight, e: CtEntry): void {
  if (!f.record) return;
  (f.events[f.events.length - 1] as Event).entry = formatLine(e, f.now);
}

/** nat at a hook: walk the nat table for a new connection and bind what it chose (or the
 *  null binding), then rewrite the packet from the entry as nf_nat_packet does. */
function natHook(f: Flight, hp: HostPass, hook: Hook): Stop | null {
  const manip: 'src' | 'dst' = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'dst' : 'src';
  if (!hp.entry || hp.untracked) return null;
  // (nf_nat_inet_fn: the nat table is walked for a connection's manip not set up yet — by its
  // first packet, or by a packet attached to it other than an ICMP error, such as REJECT's RST)
  if ((hp.isNew || (hp.related && !isIcmpError(f.pkt))) && !hp.entry.natDone[manip]) {
    const v = runTable(f, hp, hook, 'nat');
    const stop = stopFor(f, hp, v, hook, 'nat');
    if (stop) return stop;
    let req: NatRequest | null = null;
    let addr: IPv4 | undefined;
    if (v.kind === 'nat') {
      req = v.nat;
      addr = natAddress(f, hp, v.nat, hook);
      if ((req.kind === 'masquerade' || req.kind === 'redirect') && addr === undefined) {
        ev(f, hp.host.name, 'drop', `${v.target}: no address to use on ${hp.oif ?? hp.iif}`, hook);
        return { outcome: 'dropped', reason: `${v.target} found no address on ${hp.host.name}`, decidedBy: lastStep(f) };
      }
    }
    const res = hp.host.ct.bindNat(hp.entry, manip, req, { addr, rng: hp.host.rng, now: f.now });
    if (!res.ok) {
      ev(f, hp.host.name, 'drop', `NAT failed: ${res.reason}`, hook);
      return { outcome: 'dropped', reason: `NAT failed on ${hp.host.name}: ${res.reason}`, decidedBy: lastStep(f) };
    }
    if (req?.kind === 'masquerade') f.masquerade = true;
  }
  applyManip(f, hp, manip, hook);
  return null;
}

/** The address MASQUERADE (the out device's source towards the destination) or REDIRECT
 *  (the in device's primary address; 127.0.0.1 for locally generated packets) uses. */
function natAddress(f: Flight, hp: HostPass, nat: NatRequest, hook: Hook): IPv4 | undefined {
  if (nat.kind === 'masquerade') {
    // nf_nat_masquerade: inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE)
    if (!hp.oif) return undefined;
    const rt = hp.host.net.routeOutput({ dst: f.pkt.dst, oif: hp.oif });
    const nh = rt.ok && rt.gateway !== null ? rt.gateway : f.pkt.dst;
    return hp.host.net.selectSrc(hp.oif, nh, 0) || undefined;
  }
  if (nat.kind === 'redirect') {
    if (hook === 'OUTPUT') return parseIPv4('127.0.0.1')!;
    const a = hp.iif ? hp.host.net.addrs(hp.iif).find((x) => !x.secondary) : undefined;
    return a?.local;
  }
  return undefined;
}

/** Rewrite the packet from its conntrack entry, as nf_nat_packet does at each nat hook. */
function applyManip(f: Flight, hp: HostPass, manip: 'src' | 'dst', hook: Hook): void {
  const rw = hp.host.ct.natFor(hp.entry!, hp.dir)[manip];
  if (!rw) return;
  const before = copyPacket(f.pkt);
  const ports = hasPorts(f.pkt.proto);
  if (manip === 'dst') {
    f.pkt.dst = rw.addr;
    if (ports) f.pkt.dport = rw.port;
    else if (f.pkt.proto === PROTO.icmp) f.pkt.icmpId = rw.port;
    if (hp.dir === 'ORIGINAL') f.dnat = true;
  } else {
    f.pkt.src = rw.addr;
    if (ports) f.pkt.sport = rw.port;
    else if (f.pkt.proto === PROTO.icmp) f.pkt.icmpId = rw.port;
    if (hp.dir === 'ORIGINAL') f.snat = true;
  }
  const inner = f.pkt.inner;
  if (inner && isIcmpError(f.pkt)) {
    // nf_nat_icmp_reply_translation: the quoted packet travelled the other way, so it gets the
    // opposite manip, from the tuple of the other direction
    const t = hp.dir === 'REPLY' ? hp.entry!.orig : hp.entry!.reply;
    const qp = hasPorts(inner.proto);
    f.pkt.inner = manip === 'dst' ? { ...inner, src: t.src, sport: qp ? t.sport : inner.sport } : { ...inner, dst: t.dst, dport: qp ? t.dport : inner.dport };
  }
  if (before.src !== f.pkt.src || before.sport !== f.pkt.sport || before.dst !== f.pkt.dst || before.dport !== f.pkt.dport) {
    const what = hp.dir === 'REPLY' ? (manip === 'dst' ? 'un-SNAT destination' : 'un-DNAT source') : manip === 'dst' ? 'DNAT destination' : 'SNAT source';
    const bp = hasPorts(before.proto), ap = hasPorts(f.pkt.proto);
    if (manip === 'dst') evw(f, hp.host.name, 'nat', hook, natWords, what, before.dst, bp ? before.dport : -1, f.pkt.dst, ap ? f.pkt.dport : -1);
    else evw(f, hp.host.name, 'nat', hook, natWords, what, before.src, bp ? before.sport : -1, f.pkt.src, ap ? f.pkt.sport : -1);
  }
}

function hasPorts(proto: number): boolean {
  return proto === PROTO.tcp || proto === PROTO.udp || proto === PROTO.sctp;
}

/** Insert a new connection into the table (after POSTROUTING / INPUT). A clash drops the
 *  packet, as __nf_conntrack_confirm does. */
function confirm(f: Flight, hp: HostPass): Stop | null {
  if (!hp.entry || hp.untracked) return null;
  if (!hp.isNew) {
    // (a connection confirmed before: the events this packet made go out now)
    hp.host.ct.deliver(hp.entry, f.now);
    return null;
  }
  const e = hp.host.ct.confirm(hp.entry, f.now);
  hp.isNew = false;
  if (!e) {
    ev(f, hp.host.name, 'drop', 'conntrack confirm clash: another connection holds this tuple');
    return { outcome: 'dropped', reason: `conntrack insert clash on ${hp.host.name}`, decidedBy: null };
  }
  hp.entry = e;
  evw(f, hp.host.name, 'confirm', undefined, confirmWords, e.id);
  withEntry(f, e);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Per-host paths

type HopResult = { next: { host: string; iif: string } } | { stop: Stop };

const ERRNO_TEXT: Record<string, string> = {
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EINVAL: 'Invalid argument',
  EACCES: 'Permission denied',
  ENODEV: 'No such device',
};

function unroutable(f: Flight, host: WalkHost, rt: RouteResult): HopResult {
  const what = rt.ok ? `${rt.type} route` : ERRNO_TEXT[rt.errno] ?? rt.errno;
  ev(f, host.name, 'unroutable', `${formatIPv4(f.pkt.dst)}: ${what}`);
  return { stop: { outcome: 'unroutable', reason: `${host.name}: ${formatIPv4(f.pkt.dst)}: ${what}`, decidedBy: null } };
}

/** The route lookup of a locally generated packet. Packets the stack makes on another's
 *  behalf (a REJECT's RST carries the original destination as its source) are routed as if
 *  from any address (FLOWI_FLAG_ANYSRC). */
function outputQuery(f: Flight, host: WalkHost) {
  return { dst: f.pkt.dst, src: f.pkt.src && host.net.isLocal(f.pkt.src) ? f.pkt.src : undefined, mark: f.pkt.mark || undefined };
}

/** Locally generated: routing, OUTPUT, reroute, POSTROUTING, transmit. */
function localOut(f: Flight, topo: Topology, host: WalkHost): HopResult {
  const hp: HostPass = { host, entry: null, dir: 'ORIGINAL', isNew: false, related: false, untracked: false, invalid: false, view: null };
  const firstEvent = f.events.length;
  let rt = host.net.routeOutput(outputQuery(f, host));
  if (!rt.ok) return unroutable(f, host, rt);
  if (f.pkt.src === 0) {
    // the socket's source address comes from the route; the packet starts with it
    f.pkt.src = rt.prefsrc;
    for (let i = Math.max(0, firstEvent - 1); i < f.events.length; i++) {
      const e = f.events[i];
      if (e.host === host.name && e.pkt.src === 0) (e as Event).pkt = { ...e.pkt, src: rt.prefsrc };
    }
  }
  hp.oif = rt.dev;
  evw(f, host.name, 'route', 'OUTPUT', routeWords, '', f.pkt.dst, rt.type === 'local', rt.gateway, rt.dev);

  const origDst = f.pkt.dst;
  const origMark = f.pkt.mark;
  for (const t of OUT_PRE) {
    if (t === 'mangle') ctIn(f, hp, 'OUTPUT');
    const v = runTable(f, hp, 'OUTPUT', t);
    const s = stopFor(f, hp, v, 'OUTPUT', t);
    if (s) return { stop: s };
  }
  const ns = natHook(f, hp, 'OUTPUT');
  if (ns) return { stop: ns };
  for (const t of OUT_POST) {
    const v = runTable(f, hp, 'OUTPUT', t);
    const s = stopFor(f, hp, v, 'OUTPUT', t);
    if (s) return { stop: s };
  }
  if (f.pkt.dst !== origDst || f.pkt.mark !== origMark) {
    // ip_route_me_harder: the destination or mark changed, route again
    rt = host.net.routeOutput(outputQuery(f, host));
    if (!rt.ok) return unroutable(f, host, rt);
    hp.oif = rt.dev;
    evw(f, host.name, 'route', 'OUTPUT', routeWords, 'rerouted: ', f.pkt.dst, rt.type === 'local', rt.gateway, rt.dev);
  }
  return postRouting(f, topo, hp, rt);
}

function postRouting(f: Flight, topo: Topology, hp: HostPass, rt: RouteHit): HopResult {
  const v = runTable(f, hp, 'POSTROUTING', 'mangle');
  const s = stopFor(f, hp, v, 'POSTROUTING', 'mangle');
  if (s) return { stop: s };
  const ns = natHook(f, hp, 'POSTROUTING');
  if (ns) return { stop: ns };
  const cs = confirm(f, hp);
  if (cs) return { stop: cs };
  return transmit(f, topo, hp, rt);
}

function transmit(f: Flight, topo: Topology, hp: HostPass, rt: RouteHit): HopResult {
  const host = hp.host;
  if (rt.type === 'local' || rt.dev === 'lo') {
    ev(f, host.name, 'transmit', 'loopback');
    return { next: { host: host.name, iif: 'lo' } };
  }
  if (host.net.link(rt.dev)?.kind === 'ipip') return encapsulate(f, topo, host, rt);
  const dev = rt.dev;
  const nexthop = rt.gateway ?? f.pkt.dst;
  for (const vp of f.virtualPeers) {
    if (vp.host === host.name && vp.dev === dev && vp.ip === nexthop) {
      ev(f, host.name, 'transmit', `out ${dev} to ${formatIPv4(nexthop)} (outside the lab)`);
      return { stop: { outcome: 'delivered', reason: `left ${host.name} on ${dev} towards ${formatIPv4(nexthop)}`, decidedBy: null, delivered: { host: '(outside)', ip: formatIPv4(f.pkt.dst), port: hasPorts(f.pkt.proto) ? f.pkt.dport : null } } };
    }
  }
  const sender = host.net.arpSender(dev, f.pkt.src, nexthop);
  for (const peer of topo.peers(host.name, dev)) {
    const ph = topo.host(peer.host);
    if (ph && ph.net.answersArp(nexthop, peer.dev, sender)) {
      evw(f, host.name, 'transmit', undefined, outWords, dev, nexthop, peer.host, peer.dev);
      return { next: { host: peer.host, iif: peer.dev } };
    }
  }
  ev(f, host.name, 'unroutable', `no neighbour answers ARP for ${formatIPv4(nexthop)} on ${dev}`);
  return { stop: { outcome: 'unroutable', reason: `${host.name}: no host answers ARP for ${formatIPv4(nexthop)} on ${dev}`, decidedBy: null } };
}

/**
 * Out of an IPIP device (Calico's tunl0): the packet is wrapped in an outer IP header (protocol
 * 4) to the route's gateway, and the outer packet leaves this host as a locally generated one
 * (ip_local_out: OUTPUT and POSTROUTING again, then the underlying device).
 */
function encapsulate(f: Flight, topo: Topology, host: WalkHost, rt: RouteHit): HopResult {
  if (rt.gateway === null) {
    ev(f, host.name, 'unroutable', `${rt.dev} has no remote endpoint for ${formatIPv4(f.pkt.dst)} (a route via a gateway is needed)`);
    return { stop: { outcome: 'unroutable', reason: `${host.name}: ${rt.dev} has no remote endpoint`, decidedBy: null } };
  }
  f.inner.push(copyPacket(f.pkt));
  const outer: Packet = {
    src: 0, dst: rt.gateway, proto: IPPROTO_IPIP, sport: 0, dport: 0, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0,
    ttl: 64, len: f.pkt.len + 20, mark: f.pkt.mark,
  };
  evw(f, host.name, 'transmit', undefined, encapWords, rt.dev, rt.gateway);
  f.pkt = outer;
  return localOut(f, topo, host);
}

/** An IPIP packet delivered locally on a host with an IPIP device up: the inner packet comes
 *  out of that device and is received again (ipip_rcv). */
function decapsulate(f: Flight, host: WalkHost): HopResult | null {
  if (f.pkt.proto !== IPPROTO_IPIP || !f.inner.length) return null;
  const dev = host.net.links().find((l) => l.kind === 'ipip' && l.adminUp);
  if (!dev) return null;
  const inner = f.inner.pop()!;
  evw(f, host.name, 'receive', undefined, decapWords, f.pkt.src, f.pkt.dst, dev.name);
  f.pkt = inner;
  return { next: { host: host.name, iif: dev.name } };
}

const IPPROTO_IPIP = 4;

/** A packet arriving on `iif`: PREROUTING, routing decision, then INPUT or FORWARD. */
function receive(f: Flight, topo: Topology, host: WalkHost, iif: string): HopResult {
  const hp: HostPass = { host, entry: null, dir: 'ORIGINAL', isNew: false, related: false, untracked: false, invalid: false, iif, view: null };
  evw(f, host.name, 'receive', 'PREROUTING', inWords, iif);
  for (const t of PRE) {
    if (t === 'mangle') ctIn(f, hp, 'PREROUTING');
    const v = runTable(f, hp, 'PREROUTING', t);
    const s = stopFor(f, hp, v, 'PREROUTING', t);
    if (s) return { stop: s };
  }
  const ns = natHook(f, hp, 'PREROUTING');
  if (ns) return { stop: ns };

  // the routing decision (ip_route_input): local delivery, forwarding, or an error
  const rt = iif === 'lo' ? host.net.routeOutput({ dst: f.pkt.dst }) : host.net.routeInput({ dst: f.pkt.dst, src: f.pkt.src, iif, mark: f.pkt.mark || undefined });
  if (!rt.ok) {
    if (rt.blackhole) {
      ev(f, host.name, 'drop', `${formatIPv4(f.pkt.dst)}: blackhole route (dropped without an ICMP error)`);
      return { stop: { outcome: 'dropped', reason: `${host.name}: blackhole route to ${formatIPv4(f.pkt.dst)}`, decidedBy: null } };
    }
    if (rt.errno === 'EINVAL') {
      const rp = host.net.rpFilter(iif);
      const why = rp > 0 ? `martian source or reverse-path filter (rp_filter=${rp}) on ${iif}` : `martian packet on ${iif}`;
      ev(f, host.name, 'drop', why);
      return { stop: { outcome: 'dropped', reason: `${host.name}: ${why}`, decidedBy: null } };
    }
    if (rt.errno === 'EHOSTUNREACH' && !host.net.forwarding(iif)) {
      ev(f, host.name, 'drop', `not for this host and forwarding is off on ${iif} (net.ipv4.ip_forward=0)`);
      return { stop: { outcome: 'dropped', reason: `${host.name} does not forward (net.ipv4.ip_forward=0)`, decidedBy: null } };
    }
    // a forwarding host without a route answers with an ICMP destination unreachable
    const r = unroutable(f, host, rt);
    if ('stop' in r) {
      r.stop.icmp = { type: 3, code: rt.errno === 'EHOSTUNREACH' ? 1 : rt.errno === 'EACCES' ? 13 : 0 };
      r.stop.ct = ctRef(hp);
    }
    return r;
  }
  if (rt.type === 'unicast' && iif !== 'lo') {
    evw(f, host.name, 'route', 'FORWARD', routeWords, 'forward: ', f.pkt.dst, false, rt.gateway, rt.dev);
    if (f.pkt.ttl <= 1) {
      // ip_forward: time exceeded in transit goes back to the sender (RELATED to the packet's entry)
      ev(f, host.name, 'ttl', 'TTL exceeded');
      return { stop: { outcome: 'dropped', reason: `TTL exceeded on ${host.name}`, decidedBy: null, icmp: { type: 11, code: 0 }, ct: ctRef(hp) } };
    }
    f.pkt.ttl--;
    hp.oif = rt.dev;
    for (const t of FWD_TABLES) {
      const v = runTable(f, hp, 'FORWARD', t);
      const s = stopFor(f, hp, v, 'FORWARD', t);
      if (s) return { stop: s };
    }
    return postRouting(f, topo, hp, rt);
  }

  evw(f, host.name, 'route', 'INPUT', localWords, f.pkt.dst);
  for (const t of IN_TABLES) {
    const v = runTable(f, hp, 'INPUT', t);
    const s = stopFor(f, hp, v, 'INPUT', t);
    if (s) return { stop: s };
  }
  const ns2 = natHook(f, hp, 'INPUT');
  if (ns2) return { stop: ns2 };
  const cs = confirm(f, hp);
  if (cs) return { stop: cs };
  return decapsulate(f, host) ?? { stop: socketDeliver(f, host) };
}

function socketDeliver(f: Flight, host: WalkHost): Stop {
  const p = f.pkt;
  const ip = formatIPv4(p.dst);
  if (p.proto === PROTO.icmp) {
    if (p.icmpType === 8) {
      ev(f, host.name, 'deliver', `echo request answered by ${host.name}`);
      return { outcome: 'delivered', reason: `${host.name} answers the echo request`, decidedBy: null, delivered: { host: host.name, ip, port: null } };
    }
    ev(f, host.name, 'deliver', `ICMP type ${p.icmpType} delivered`);
    return { outcome: 'delivered', reason: `ICMP delivered to ${host.name}`, decidedBy: null, delivered: { host: host.name, ip, port: null } };
  }
  // an answer to the trace's first packet is taken by the socket that sent it, if it matches
  const sk = f.socket;
  const isReply = !!sk && sk.host === host.name && sk.proto === p.proto && sk.local === p.dst && sk.lport === p.dport && sk.remote === p.src && sk.rport === p.sport;
  if (isReply || host.listens(p.proto, p.dport, p.dst)) {
    evw(f, host.name, 'deliver', undefined, deliverWords, isReply ? 'the connecting socket' : 'a listening socket', p.dst, hasPorts(p.proto) ? p.dport : -1);
    return { outcome: 'delivered', reason: `delivered to ${host.name} ${fmtAddrPort(p.dst, p.dport, p.proto)}`, decidedBy: null, delivered: { host: host.name, ip, port: p.dport } };
  }
  if (sk && sk.host === host.name && sk.proto === p.proto && sk.lport === p.dport) {
    const why = `the answer comes from ${fmtAddrPort(p.src, p.sport, p.proto)}, but the socket is connected to ${fmtAddrPort(sk.remote, sk.rport, p.proto)}`;
    ev(f, host.name, 'refuse', `${why}: ${p.proto === PROTO.tcp ? 'TCP RST' : 'dropped'}`);
    return { outcome: 'refused', reason: `${host.name}: ${why}`, decidedBy: null };
  }
  if (!hasPorts(p.proto)) {
    ev(f, host.name, 'refuse', `no handler for IP protocol ${p.proto}: ICMP protocol unreachable`);
    return { outcome: 'refused', reason: `${host.name} has no handler for IP protocol ${p.proto}`, decidedBy: null };
  }
  const how = p.proto === PROTO.tcp ? 'TCP RST' : 'ICMP port unreachable';
  ev(f, host.name, 'refuse', `nothing listens on ${fmtAddrPort(p.dst, p.dport, p.proto)}: ${how}`);
  return { outcome: 'refused', reason: `nothing listens on ${host.name} ${fmtAddrPort(p.dst, p.dport, p.proto)}`, decidedBy: null, delivered: undefined };
}

// ---------------------------------------------------------------------------------------------

export function walkPacket(topo: Topology, inj: Injection, opts: WalkOptions): PacketWalk {
  const f: Flight = {
    pkt: copyPacket(inj.pkt),
    tape: new StepTape(),
    events: [],
    dnat: false,
    snat: false,
    masquerade: false,
    hops: 0,
    virtualPeers: opts.virtualPeers ?? [],
    socket: opts.socket,
    inner: [],
    now: opts.now,
    maxSteps: opts.maxSteps ?? 1_000_000,
    record: opts.record !== false,
    env: undefined as never,
    copy: null,
    attached: inj.ct,
  };
  f.env = new WalkEnv(f);
  const origSrc = f.pkt.src;
  const origSport = f.pkt.sport;
  const maxHops = opts.maxHops ?? 64;
  opts.onHop?.(0, inj.host);
  const start = topo.host(inj.host);
  let stop: Stop;
  let endHost = inj.host;
  if (!start) {
    stop = { outcome: 'unroutable', reason: `no host ${inj.host}`, decidedBy: null };
  } else {
    // (kept without recording too: its packet, source filled in, is the walk's first packet)
    f.events.push(new Event(inj.host, 'inject', undefined, 0, pktNow(f), inj.iif ? `arrives on ${inj.iif}` : 'sent by a local socket'));
    let r: HopResult = inj.iif ? receive(f, topo, start, inj.iif) : localOut(f, topo, start);
    for (;;) {
      if ('stop' in r) {
        stop = r.stop;
        break;
      }
      endHost = r.next.host;
      if (++f.hops > maxHops) {
        stop = { outcome: 'dropped', reason: 'too many hops (routing loop)', decidedBy: null };
        break;
      }
      opts.onHop?.(f.hops, r.next.host);
      const h = topo.host(r.next.host)!;
      r = receive(f, topo, h, r.next.iif);
    }
  }
  const srcChanged = f.pkt.src !== origSrc || f.pkt.sport !== origSport;
  return new Walk(f, stop, endHost, srcChanged);
}

/** A walk's result; its steps are made from the tape when first read. */
class Walk implements PacketWalk {
  outcome: Outcome;
  delivered: Delivery | null;
  private made: RuleStep[] | null = null;
  events: WalkEvent[];
  dnat: string | null;
  snat: string | null;
  masquerade: boolean;
  final: Packet;
  endHost: string;
  reason: string;
  decidedBy: RuleStep | null;
  reject: { with: string; tcpReset: boolean } | null;
  icmpBack: { type: number; code: number } | null;
  ct: CtRef | null;

  constructor(private readonly f: Flight, stop: Stop, endHost: string, srcChanged: boolean) {
    this.outcome = stop.outcome;
    this.delivered = stop.delivered ?? null;
    this.events = f.events;
    this.dnat = f.dnat ? fmtAddrPort(f.pkt.dst, f.pkt.dport, f.pkt.proto) : null;
    this.snat = f.snat && srcChanged ? fmtAddrPort(f.pkt.src, f.pkt.sport, f.pkt.proto) : null;
    this.masquerade = f.masquerade;
    this.final = f.pkt;
    this.endHost = stop.delivered?.host && stop.delivered.host !== '(outside)' ? stop.delivered.host : endHost;
    this.reason = stop.reason;
    this.decidedBy = stop.decidedBy;
    this.reject = stop.reject ?? null;
    this.icmpBack = stop.icmp ?? null;
    this.ct = stop.ct ?? null;
  }

  get steps(): RuleStep[] {
    return (this.made ??= this.f.tape.steps());
  }
}

/** The answer a host sends back for a walk that ended at it (reply, RST, ICMP error). */
export function answerFor(w: PacketWalk, original: Packet): Injection | null {
  const p = w.final;
  if (w.outcome === 'delivered' && w.delivered && w.delivered.host !== '(outside)') {
    if (p.proto === PROTO.icmp) {
      if (p.icmpType !== 8) return null;
      return { host: w.endHost, pkt: { ...p, src: p.dst, dst: p.src, icmpType: 0, icmpCode: 0, ttl: 64, mark: 0 } };
    }
    let flags = 0;
    if (p.proto === PROTO.tcp) {
      // A listening socket answers a connection's first segment as tcp_rcv_state_process does
      // in LISTEN: a SYN with SYN,ACK; anything with ACK set with a RST; a RST, or a segment
      // with neither SYN nor ACK, with nothing.
      const f = p.tcpFlags;
      if (f & TCP.RST) return null;
      if (f & TCP.ACK) flags = TCP.RST;
      else if (f & TCP.SYN) flags = TCP.SYN | TCP.ACK;
      else return null;
    }
    return {
      host: w.endHost,
      pkt: { ...p, src: p.dst, dst: p.src, sport: p.dport, dport: p.sport, tcpFlags: flags, ttl: 64, mark: 0, ...(flags === TCP.RST ? { len: 40 } : {}) },
    };
  }
  if (w.outcome === 'refused') {
    // (tcp_v4_send_reset)
    if (p.proto === PROTO.tcp) return tcpReset(w.endHost, p);
    return icmpError(w.endHost, p, 3, hasPorts(p.proto) ? 3 : 2); // port / protocol unreachable
  }
  // (icmp_send answers anything but an ICMP error: an echo request too)
  if (isIcmpError(p)) return null;
  if (w.icmpBack) return icmpError(w.endHost, p, w.icmpBack.type, w.icmpBack.code, w.ct);
  if (w.outcome === 'rejected' && w.reject) {
    // (nf_send_reset: attached to the rejected segment's entry, RELATED in the other direction,
    // so NATed back)
    if (w.reject.tcpReset && p.proto === PROTO.tcp) return tcpReset(w.endHost, p, w.ct);
    return icmpError(w.endHost, p, 3, REJECT_CODES[w.reject.with] ?? 3, w.ct);
  }
  void original;
  return null;
}

const REJECT_CODES: Record<string, number> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

/** An ICMP error about packet `p`, sent back to its source by `host`: its IP and ICMP headers,
 *  then as much of `p` as fits in 576 bytes (icmp_send). `ct`: p's conntrack entry on `host`,
 *  which the error is attached to (RELATED in the other direction, even before the entry is
 *  confirmed: an error about a packet the host rejected or could not route is NATed back). */
export function icmpError(host: string, p: Packet, type: number, code: number, ct?: CtRef | null): Injection {
  const len = 20 + 8 + Math.min(p.len, 576 - 20 - 8);
  const inj: Injection = {
    host,
    pkt: { src: 0, dst: p.src, proto: PROTO.icmp, sport: 0, dport: 0, tcpFlags: 0, icmpType: type, icmpCode: code, icmpId: 0, ttl: 64, len, mark: 0, inner: tupleOf(p) },
  };
  if (ct) inj.ct = otherWay(ct);
  return inj;
}

/** The RST `host` answers TCP segment `p` with (40 bytes): none for a RST, a bare RST for a
 *  segment with ACK, else RST,ACK. `ct`: p's entry there, which it is attached to. */
function tcpReset(host: string, p: Packet, ct?: CtRef | null): Injection | null {
  if (p.tcpFlags & TCP.RST) return null;
  const rst: Injection = { host, pkt: { ...p, src: p.dst, dst: p.src, sport: p.dport, dport: p.sport, tcpFlags: p.tcpFlags & TCP.ACK ? TCP.RST : TCP.RST | TCP.ACK, ttl: 64, mark: 0, len: 40 } };
  if (ct) rst.ct = otherWay(ct);
  return rst;
}

/** The entry of a packet, for one the host sends back about it. */
function otherWay(ct: CtRef): CtRef {
  return { entry: ct.entry, dir: ct.dir === 'ORIGINAL' ? 'REPLY' : 'ORIGINAL' };
}
