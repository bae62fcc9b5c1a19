// The connection tracking table of one host, driven by the packet walk the way the kernel
// drives nf_conntrack:
//   at PREROUTING/OUTPUT (after raw):  lookup() -> createUnconfirmed() if none -> update()
//                                      (or track(), which does those three, re-looking up when
//                                      a TCP reopen deletes the old entry)
//   at each NAT hook of a new connection: bindNat() once per manip (null request = the
//                                      kernel's implicit "null binding")
//   at POSTROUTING/INPUT:               confirm() - an entry of a dropped packet never gets here
//   for every packet of a known connection: natFor() tells how to rewrite it.
// Timeouts run on the lab clock (seconds): the walk passes `now`, expire(now) removes the dead.

import type { IPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import type { CtState, CtStatusBit, CtView, NatRequest, Packet, Tuple } from '../netfilter/types.ts';
import { emitCtEvent, ctEvents, type CtEventType } from './events.ts';
import { cloneEntry, entryFromJSON, entryToJSON, newEntry } from './entry.ts';
import type { CtEntry, CtEntryJSON } from './entry.ts';
import { manipOf, nullRange, rangeOf, uniqueTuple } from './nat.ts';
import type { Manip, NatCtx, NatEnv } from './nat.ts';
import { DEFAULT_TCP_TIMEOUTS, tcpNewState, tcpPacket } from './tcp-state.ts';
import type { TcpState, TcpTimeouts } from './tcp-state.ts';
import {
  ICMP_VALID_NEW, invertTuple, isIcmpError, toCtTuple, tupleEqual, tupleKey, tupleOf,
} from './tuple.ts';
import type { CtTuple, Dir } from './tuple.ts';

export type { CtEntry } from './entry.ts';
export type { CtTuple, Dir } from './tuple.ts';
export type { NatCtx, Manip } from './nat.ts';

export interface CtRef {
  entry: CtEntry;
  dir: Dir;
}

/** Per-protocol timeouts other than TCP's (seconds; the kernel's defaults). */
export const TIMEOUTS = {
  udpUnreplied: 30,
  udpStream: 120,
  icmp: 30,
  generic: 600,
  greUnreplied: 30,
  greStream: 180,
  sctpCookieWait: 3,
  sctpEstablished: 210,
} as const;

/** Every timeout a packet sets (seconds): the namespace's net.netfilter.nf_conntrack_*_timeout*. */
export interface ConntrackTimeouts {
  tcp: TcpTimeouts;
  udpUnreplied: number;
  udpStream: number;
  icmp: number;
  generic: number;
  greUnreplied: number;
  greStream: number;
  sctpCookieWait: number;
  sctpEstablished: number;
}

export const DEFAULT_TIMEOUTS: ConntrackTimeouts = { tcp: DEFAULT_TCP_TIMEOUTS, ...TIMEOUTS };

export interface ConntrackSettings {
  /** net.netfilter.nf_conntrack_tcp_loose: pick up connections from a mid-stream ACK. */
  tcpLoose: boolean;
  /** The timeouts as the namespace's sysctls say now (read at each packet, as the kernel
   *  does: a change applies from an entry's next packet). Default: the kernel's defaults. */
  timeouts?: ConntrackTimeouts;
  /** net.netfilter.nf_conntrack_acct as it is now: an entry made while it is on gets counters
   *  (CtEntry.acct) for its whole life; one made while it is off never does. */
  acct: boolean;
}

/** ctnetlink's per-CPU statistics (`conntrack -S`), for the one CPU of a lab host. */
export interface CtStats {
  found: number;
  invalid: number;
  insert: number;
  insert_failed: number;
  drop: number;
  early_drop: number;
  error: number;
  search_restart: number;
  clash_resolve: number;
  chaintoolong: number;
}

function zeroStats(): CtStats {
  return { found: 0, invalid: 0, insert: 0, insert_failed: 0, drop: 0, early_drop: 0, error: 0, search_restart: 0, clash_resolve: 0, chaintoolong: 0 };
}

export interface UpdateResult {
  /** accept: tracked; ignore: passes with its conntrack but changed nothing (kernel sIG);
   *  invalid: the packet loses its conntrack (state INVALID) and an unconfirmed entry is
   *  dropped; repeat: the entry was deleted (TCP reopen), look the packet up again. */
  verdict: 'accept' | 'ignore' | 'invalid' | 'repeat';
  reason?: string;
}

export type NatBindResult =
  | { ok: true; changed: boolean; tuple: CtTuple } // `tuple`: the original direction after NAT
  | { ok: false; reason: string };

/** How to rewrite a packet of a known connection: `dst` at PREROUTING/OUTPUT, `src` at
 *  POSTROUTING/INPUT (port = ICMP id for ICMP). */
export interface NatRewrite {
  src?: { addr: IPv4; port: number };
  dst?: { addr: IPv4; port: number };
}

export type TrackResult =
  | { kind: 'tracked'; entry: CtEntry; dir: Dir; state: CtState; isNew: boolean; verdict: 'accept' | 'ignore'; reason?: string }
  | { kind: 'invalid'; reason: string };

/** What `conntrack -L/-D` filter on; every field optional (all given must match). */
export interface CtFilter {
  proto?: number;
  origSrc?: { addr: IPv4; len: number };
  origDst?: { addr: IPv4; len: number };
  replySrc?: IPv4;
  replyDst?: IPv4;
  origSport?: number;
  origDport?: number;
  replySport?: number;
  replyDport?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  tcpState?: string;
  mark?: { value: number; mask: number };
  /** status bits that must be set / must be clear (UNREPLIED = SEEN_REPLY clear) */
  statusSet?: CtStatusBit[];
  statusClear?: CtStatusBit[];
  id?: number;
  /** -n / -g / -j as conntrack-tools checks them (address change / port change) */
  srcNat?: { addr?: IPv4; port?: number };
  dstNat?: { addr?: IPv4; port?: number };
  anyNat?: { addr?: IPv4; port?: number };
}

export interface ConntrackJSON {
  nextId: number;
  settings: ConntrackSettings;
  stats: CtStats;
  entries: CtEntryJSON[];
}

function maskBits(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * Conntrack changes made while a trace that must leave no trace runs (`depth` > 0), so a lab
 * puts back only what its walks changed instead of copying every table first. A table writes
 * its id counter and statistics once per segment (before its first change), and an entry it
 * changes, a copy of it once per segment; it notes the entries it adds and deletes. A segment
 * starts at each mark and after each undo (`segStart`: the log's length then).
 */
export const ctUndo: { depth: number; log: CtUndoRecord[]; seg: number; segStart: number } = { depth: 0, log: [], seg: 0, segStart: 0 };

type CtUndoRecord =
  | { kind: 'table'; table: ConntrackTable; nextId: number; stats: CtStats }
  | { kind: 'add'; table: ConntrackTable; entry: CtEntry }
  | { kind: 'change'; table: ConntrackTable; saved: CtEntry }
  | { kind: 'delete'; table: ConntrackTable; entry: CtEntry; order: number[]; refs: [string, CtRef][] };

/** Starts a segment of the journal at its end; returns the mark to undo to. */
export function markConntrack(): number {
  ctUndo.seg++;
  ctUndo.segStart = ctUndo.log.length;
  return ctUndo.log.length;
}

/** Puts every table back as it was when the journal had `mark` records. The entries a walk
 *  changed stay as the walk left them (a trace's record points at them): the tables get the
 *  copies made before the change, as if they had been copied whole before the walk. */
export function undoConntrack(mark: number): void {
  const log = ctUndo.log;
  for (let i = log.length - 1; i >= mark; i--) log[i].table.undo(log[i]);
  log.length = mark;
  markConntrack();
}

export class ConntrackTable {
  /** Confirmed entries with an UPDATE event waiting for the end of their packet's pass on this
   *  host (nf_ct_deliver_cached_events at confirm): one message for all the packet changed. */
  private cached = new Set<CtEntry>();

  settings: ConntrackSettings;
  stats: CtStats = zeroStats();
  /** Confirmed entries by id; Map order is creation order, which is how we list them. */
  private entries = new Map<number, CtEntry>();
  /** Both tuples of every confirmed entry (the kernel's hash table). */
  private index = new Map<string, CtRef>();
  private nextId = 1;
  /** The journal segment this table last wrote its id counter and statistics in. */
  private seg = -1;

  constructor(settings: Partial<ConntrackSettings> = {}) {
    this.settings = { tcpLoose: true, acct: false, ...settings };
  }

  // --- the undo journal (see ctUndo) -----------------------------------------------------------

  /** Called before any change while the journal runs. */
  private journal(): void {
    if (ctUndo.depth && this.seg !== ctUndo.seg) {
      ctUndo.log.push({ kind: 'table', table: this, nextId: this.nextId, stats: { ...this.stats } });
      this.seg = ctUndo.seg;
    }
  }

  /** Called before a confirmed entry of this table changes (a packet's update, a CONNMARK). */
  willChange(e: CtEntry): void {
    if (!ctUndo.depth || !this.has(e)) return;
    this.journal();
    const log = ctUndo.log;
    // once a segment; never for an entry this segment added (its undo removes it anyway)
    for (let i = log.length - 1; i >= ctUndo.segStart; i--) {
      const r = log[i];
      if (r.table === this && ((r.kind === 'change' && r.saved.id === e.id) || (r.kind === 'add' && r.entry === e))) return;
    }
    log.push({ kind: 'change', table: this, saved: cloneEntry(e) });
  }

  /** Reverts one journal record (undoConntrack runs them newest first). */
  undo(r: CtUndoRecord): void {
    switch (r.kind) {
      case 'table':
        this.nextId = r.nextId;
        this.stats = r.stats;
        this.seg = -1;
        return;
      case 'add':
        // (the table may hold a copy of the entry by now: the undo of a later change)
        this.entries.delete(r.entry.id);
        for (const t of [r.entry.orig, r.entry.reply]) {
          const k = tupleKey(t);
          if (this.index.get(k)?.entry.id === r.entry.id) this.index.delete(k);
        }
        return;
      case 'change': {
        // whichever object holds the entry now gives way to the copy from before the change
        const cur = this.entries.get(r.saved.id);
        if (!cur) return;
        this.entries.set(r.saved.id, r.saved);
        for (const t of [r.saved.orig, r.saved.reply]) {
          const k = tupleKey(t);
          const ref = this.index.get(k);
          if (ref?.entry === cur) this.index.set(k, { entry: r.saved, dir: ref.dir });
        }
        return;
      }
      case 'delete': {
        // back in its place: the table's order is creation order
        const now = this.entries;
        this.entries = new Map();
        for (const id of r.order) this.entries.set(id, id === r.entry.id ? r.entry : now.get(id)!);
        for (const [k, ref] of r.refs) this.index.set(k, ref);
        return;
      }
    }
  }

  // --- lookups ------------------------------------------------------------------------------

  lookupTuple(t: CtTuple): CtRef | undefined {
    return this.index.get(tupleKey(t));
  }

  /** The confirmed entry and direction a packet belongs to. */
  lookup(pkt: Packet): CtRef | undefined {
    const t = tupleOf(pkt);
    return t ? this.lookupTuple(t) : undefined;
  }

  /** An ICMP error is RELATED to the connection of the packet it quotes: `inner` is that
   *  packet's tuple (as it travelled, e.g. client -> server); the error travels the other way,
   *  so its direction is the one in which invert(inner) is found. For an ICMP inner packet
   *  pass its type (default echo request). */
  lookupRelated(_pkt: Packet, inner: Tuple, innerIcmpType = 8): CtRef | undefined {
    const inv = invertTuple(toCtTuple(inner, innerIcmpType));
    return inv ? this.lookupTuple(inv) : undefined;
  }

  has(entry: CtEntry): boolean {
    return this.entries.get(entry.id) === entry;
  }

  get(id: number): CtEntry | undefined {
    return this.entries.get(id);
  }

  // --- the life of a connection ---------------------------------------------------------------

  /** A new, unconfirmed entry for the first packet of a connection (orig = the packet,
   *  reply = its inverse); undefined when conntrack cannot key the packet. Call update() next:
   *  it decides whether the packet may create a connection at all. */
  createUnconfirmed(pkt: Packet, now: number): CtEntry | undefined {
    const orig = tupleOf(pkt);
    if (!orig) return undefined;
    const reply = invertTuple(orig);
    if (!reply) return undefined;
    this.journal();
    return newEntry(this.nextId++, orig, reply, now, this.settings.acct);
  }

  /** The protocol tracker for one packet of `entry` travelling in `dir` (the kernel's
   *  l4proto->packet plus the SEEN_REPLY bit that nf_conntrack_in sets afterwards). */
  update(entry: CtEntry, dir: Dir, pkt: Packet, now: number): UpdateResult {
    this.journal();
    this.willChange(entry);
    const confirmed = entry.status.has('CONFIRMED');
    const seenReply = entry.status.has('SEEN_REPLY');
    const wasAssured = entry.status.has('ASSURED');
    const wasState = entry.tcp?.state;
    const to = this.settings.timeouts ?? DEFAULT_TIMEOUTS;
    let timeout: number | undefined;
    let kill = false;

    switch (entry.orig.proto) {
      case PROTO.tcp: {
        if (!confirmed && entry.tcp && entry.tcp.state === 'NONE') {
          const ok = tcpNewState(pkt.tcpFlags, this.settings.tcpLoose);
          if (!ok.ok) return this.invalid(ok.reason);
        }
        const tcp = entry.tcp ?? (entry.tcp = { state: 'NONE', lastIndex: 'NONE', lastDir: 'ORIGINAL', closeInit: { ORIGINAL: false, REPLY: false }, simultaneousOpen: false });
        const out = tcpPacket(tcp, { dir, flags: pkt.tcpFlags, seenReply, assured: entry.status.has('ASSURED'), timeouts: to.tcp });
        if (out.kind === 'invalid') return this.invalid(out.reason);
        if (out.kind === 'repeat') {
          this.delete(entry, now);
          return { verdict: 'repeat', reason: out.reason };
        }
        if (out.kind === 'ignore') return { verdict: 'ignore', reason: out.reason };
        timeout = out.timeout;
        if (out.assure) entry.status.add('ASSURED');
        kill = out.kill;
        break;
      }
      case PROTO.udp:
      case 136: {
        // Both ways seen and still alive two seconds after the first packet: a stream.
        if (seenReply) {
          const stream = now - entry.created > 2;
          timeout = stream ? to.udpStream : to.udpUnreplied;
          if (stream) entry.status.add('ASSURED');
        } else {
          timeout = to.udpUnreplied;
        }
        break;
      }
      case PROTO.icmp: {
        if (!ICMP_VALID_NEW.has(entry.orig.icmpType)) return this.invalid(`icmp: can't create new conn with type ${entry.orig.icmpType}`);
        timeout = to.icmp;
        break;
      }
      case 47: {
        timeout = seenReply ? to.greStream : to.greUnreplied;
        if (seenReply) entry.status.add('ASSURED');
        break;
      }
      case PROTO.sctp: {
        // Chunk types are not modelled: INIT until answered, ESTABLISHED once answered.
        timeout = seenReply || dir === 'REPLY' ? to.sctpEstablished : to.sctpCookieWait;
        if (seenReply) entry.status.add('ASSURED');
        break;
      }
      default:
        timeout = to.generic;
    }

    if (timeout !== undefined) {
      entry.timeout = timeout;
      if (confirmed) entry.expires = now + timeout;
    }
    const c = entry.counters[dir];
    c.packets++;
    c.bytes += pkt.len;
    if (kill) {
      // Killed, but the packet itself still passes with its conntrack (nf_ct_kill_acct).
      if (confirmed) this.delete(entry, now);
      return { verdict: 'accept', reason: 'only reply is a RST: entry removed' };
    }
    if (dir === 'REPLY') entry.status.add('SEEN_REPLY');
    // IPCT_REPLY, IPCT_ASSURED, IPCT_PROTOINFO (a new TCP state)
    if (confirmed && this.reporting() && (entry.status.has('SEEN_REPLY') !== seenReply || entry.status.has('ASSURED') !== wasAssured || entry.tcp?.state !== wasState)) this.cached.add(entry);
    return { verdict: 'accept' };
  }

  private invalid(reason: string): UpdateResult {
    this.stats.invalid++;
    return { verdict: 'invalid', reason };
  }

  /** lookup + create + update for a packet at PREROUTING/OUTPUT. ICMP errors are matched to
   *  the connection they quote (`inner`) and come out RELATED, without a state change. */
  track(pkt: Packet, now: number, inner?: Tuple, innerIcmpType?: number): TrackResult {
    this.journal();
    if (isIcmpError(pkt)) {
      const ref = inner ? this.lookupRelated(pkt, inner, innerIcmpType) : undefined;
      if (!ref) {
        this.stats.error++;
        return { kind: 'invalid', reason: 'icmp error for no known connection' };
      }
      return { kind: 'tracked', entry: ref.entry, dir: ref.dir, state: 'RELATED', isNew: false, verdict: 'accept' };
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      let ref = this.lookup(pkt);
      if (ref && ref.entry.expires <= now) {
        this.delete(ref.entry, now); // the kernel reaps an expired entry it stumbles on
        ref = undefined;
      }
      const isNew = !ref;
      if (!ref) {
        const entry = this.createUnconfirmed(pkt, now);
        if (!entry) return { kind: 'invalid', reason: 'packet cannot be tracked' };
        ref = { entry, dir: 'ORIGINAL' };
      }
      const res = this.update(ref.entry, ref.dir, pkt, now);
      if (res.verdict === 'repeat') {
        this.stats.search_restart++;
        continue;
      }
      if (res.verdict === 'invalid') return { kind: 'invalid', reason: res.reason ?? 'invalid' };
      return { kind: 'tracked', entry: ref.entry, dir: ref.dir, state: this.state(ref.entry, ref.dir, pkt), isNew, verdict: res.verdict, reason: res.reason };
    }
    return { kind: 'invalid', reason: 'reopen loop' };
  }

  /** Bind a NAT request (or, with `req` null, the implicit null binding) for one manip of a
   *  new connection. Each manip is bound once; later calls for it change nothing. */
  bindNat(entry: CtEntry, manip: Manip, req: NatRequest | null, ctx: NatCtx & { now?: number }): NatBindResult {
    this.journal();
    this.willChange(entry);
    const curr = invertTuple(entry.reply);
    if (!curr) return { ok: false, reason: 'untranslatable tuple' };
    if (entry.natDone[manip]) return { ok: true, changed: false, tuple: curr };
    if (req && manipOf(req) !== manip) return { ok: false, reason: `${req.kind} is not a ${manip} manip` };
    const range = req ? rangeOf(req, ctx) : nullRange(curr, manip);
    if (!range) return { ok: false, reason: `${req?.kind ?? 'nat'}: no address to use` };
    const next = uniqueTuple(curr, range, manip, new BindEnv(this, entry, ctx));
    entry.natDone[manip] = true;
    const changed = !tupleEqual(next, curr);
    if (changed) {
      const reply = invertTuple(next);
      if (!reply) return { ok: false, reason: 'untranslatable tuple' };
      entry.reply = reply;
      entry.status.add(manip === 'src' ? 'SNAT' : 'DNAT');
    }
    return { ok: true, changed, tuple: next };
  }

  /** nf_nat_used_tuple: would a connection whose original direction looks like `t` clash
   *  with a confirmed one? (Its reply tuple invert(t) must not be in the table.) */
  tupleTaken(t: CtTuple, self: CtEntry, now?: number): boolean {
    const inv = invertTuple(t);
    if (!inv) return false;
    const hit = this.index.get(tupleKey(inv));
    if (!hit || hit.entry === self) return false;
    if (now !== undefined && hit.entry.expires <= now) return false;
    // The same flow racing itself (identical original tuples) is not a clash.
    if (hit.dir === 'REPLY' && tupleEqual(hit.entry.orig, self.orig)) return false;
    this.stats.found++;
    return true;
  }

  /** Source-NATed connections' tuples from the same source (see NatEnv.sameSource). */
  sameSource(t: CtTuple): CtTuple[] {
    const out: CtTuple[] = [];
    for (const e of [...this.entries.values()].reverse()) {
      if (!e.natDone.src || e.orig.proto !== t.proto || e.orig.src !== t.src || e.orig.sport !== t.sport) continue;
      const inv = invertTuple(e.reply);
      if (inv) out.push(inv);
    }
    return out;
  }

  /** Insert a new connection at the end of POSTROUTING/INPUT. Returns the entry the packet
   *  now belongs to: itself, or an identical one that won a race (clash resolved); undefined
   *  when another connection holds one of its tuples (the kernel drops the packet). */
  confirm(entry: CtEntry, now: number): CtEntry | undefined {
    if (this.has(entry)) return entry;
    this.journal();
    const origKey = tupleKey(entry.orig);
    const replyKey = tupleKey(entry.reply);
    for (const h of [this.index.get(origKey), this.index.get(replyKey)]) if (h && h.entry.expires <= now) this.delete(h.entry, now);
    const a = this.index.get(origKey);
    const b = this.index.get(replyKey);
    if (a || b) {
      if (a && b && a.entry === b.entry && a.dir === 'ORIGINAL' && tupleEqual(a.entry.reply, entry.reply)) {
        this.stats.clash_resolve++;
        return a.entry;
      }
      this.stats.insert_failed++;
      this.stats.drop++;
      return undefined;
    }
    entry.status.add('CONFIRMED');
    entry.expires = now + entry.timeout;
    if (ctUndo.depth) ctUndo.log.push({ kind: 'add', table: this, entry });
    this.entries.set(entry.id, entry);
    this.index.set(origKey, { entry, dir: 'ORIGINAL' });
    this.index.set(replyKey, { entry, dir: 'REPLY' });
    this.emit('NEW', entry, now);
    return entry;
  }

  /** Whether changes now make events: a console listens, and they are kept (not a walk that
   *  is undone). Nothing is noted for events otherwise (the walks of a trace pay nothing). */
  private reporting(): boolean {
    return ctEvents.sink !== null && ctUndo.depth === 0;
  }

  private emit(type: CtEventType, e: CtEntry, now: number): void {
    if (this.reporting()) emitCtEvent(this, type, e, now);
  }

  /** The end of a packet's pass on this host for a connection confirmed before: its cached
   *  UPDATE event, if the packet changed anything the event reports. */
  deliver(entry: CtEntry, now: number): void {
    if (!this.cached.delete(entry) || !this.has(entry)) return;
    this.emit('UPDATE', entry, now);
  }

  /** A confirmed entry userspace changed (`conntrack -U`): its UPDATE event. */
  updated(entry: CtEntry, now: number): void {
    if (this.has(entry)) this.emit('UPDATE', entry, now);
  }

  /** A confirmed entry's mark set to `v` (CONNMARK, ctmark): IPCT_MARK when it changes. */
  setMark(entry: CtEntry, v: number): void {
    this.willChange(entry);
    if (entry.mark !== v >>> 0 && this.reporting() && this.has(entry)) this.cached.add(entry);
    entry.mark = v >>> 0;
  }

  /** An entry made by hand (`conntrack -I`, ctnetlink): confirmed at once; undefined when one
   *  of its tuples is already in the table. */
  insert(orig: CtTuple, reply: CtTuple, now: number, o: { timeout: number; status?: CtStatusBit[]; mark?: number; tcpState?: TcpState }): CtEntry | undefined {
    if (this.index.has(tupleKey(orig)) || this.index.has(tupleKey(reply))) return undefined;
    this.journal();
    const e = newEntry(this.nextId++, orig, reply, now, this.settings.acct); // (ctnetlink_create_conntrack adds it too)
    for (const b of o.status ?? []) e.status.add(b);
    e.mark = (o.mark ?? 0) >>> 0;
    e.timeout = o.timeout;
    if (e.tcp) e.tcp.state = o.tcpState ?? 'NONE';
    return this.confirm(e, now);
  }

  // --- what the rules see ---------------------------------------------------------------------

  /** The ctstate of a packet of this entry (xt_conntrack / xt_state). */
  state(entry: CtEntry, dir: Dir, pkt?: Packet): CtState {
    if (pkt && isIcmpError(pkt)) return 'RELATED';
    if (dir === 'REPLY') return 'ESTABLISHED';
    if (entry.status.has('SEEN_REPLY')) return 'ESTABLISHED';
    if (entry.status.has('EXPECTED')) return 'RELATED';
    return 'NEW';
  }

  /** The CtView the matches and targets get; `mark` reads and writes the entry's mark. `prev`
   *  (the view the packet's last table saw) is given back when it still says the same. */
  view(entry: CtEntry, dir: Dir, pkt: Packet | undefined, now: number, prev?: CtView | null, related = false): CtView {
    const state = related ? 'RELATED' : this.state(entry, dir, pkt);
    const expires = entry.status.has('CONFIRMED') ? Math.max(0, Math.floor(entry.expires - now)) : entry.timeout;
    if (
      prev instanceof EntryView && prev.entry === entry && prev.dir === dir && prev.state === state && prev.expires === expires &&
      prev.orig === entry.orig && prev.reply === entry.reply && prev.status === entry.status
    )
      return prev;
    return new EntryView(this, entry, state, dir, expires);
  }

  /** How a packet of this connection travelling in `dir` is rewritten (nf_nat_packet): the
   *  original direction is made to look like invert(reply), the reply like invert(orig). */
  natFor(entry: CtEntry, dir: Dir): NatRewrite {
    const target = invertTuple(dir === 'ORIGINAL' ? entry.reply : entry.orig);
    if (!target) return {};
    const out: NatRewrite = {};
    // Original packets get the connection's own manips; replies the opposite ones.
    const srcBit: CtStatusBit = dir === 'ORIGINAL' ? 'SNAT' : 'DNAT';
    const dstBit: CtStatusBit = dir === 'ORIGINAL' ? 'DNAT' : 'SNAT';
    const icmp = target.proto === PROTO.icmp; // the id sits in both port fields
    if (entry.status.has(srcBit)) out.src = { addr: target.src, port: target.sport };
    if (entry.status.has(dstBit)) out.dst = { addr: target.dst, port: icmp ? target.sport : target.dport };
    return out;
  }

  // --- housekeeping ---------------------------------------------------------------------------

  /** Remove entries whose timeout ran out; returns them (oldest first). */
  expire(now: number): CtEntry[] {
    const dead = [...this.entries.values()].filter((e) => e.expires <= now);
    for (const e of dead) this.delete(e, now);
    return dead;
  }

  /** Delete one entry, or every entry matching a filter; returns the deleted entries. */
  delete(what: CtEntry | CtFilter, now?: number): CtEntry[] {
    const victims = 'id' in what && 'orig' in what ? (this.has(what) ? [what] : []) : this.list(what, now);
    if (victims.length) this.journal();
    for (const e of victims) {
      const order = ctUndo.depth ? [...this.entries.keys()] : null;
      const refs: [string, CtRef][] = [];
      this.entries.delete(e.id);
      for (const t of [e.orig, e.reply]) {
        const k = tupleKey(t);
        const ref = this.index.get(k);
        if (ref?.entry === e) {
          this.index.delete(k);
          refs.push([k, ref]);
        }
      }
      if (order) ctUndo.log.push({ kind: 'delete', table: this, entry: e, order, refs });
      this.cached.delete(e);
      if (now !== undefined) this.emit('DESTROY', e, now);
    }
    return victims;
  }

  /** Empties the table (`conntrack -F`); with `now`, each entry's DESTROY event goes out. */
  flush(now?: number): number {
    const n = this.entries.size;
    if (now !== undefined && this.reporting()) for (const e of this.entries.values()) this.emit('DESTROY', e, now);
    this.entries.clear();
    this.index.clear();
    this.cached.clear();
    return n;
  }

  /** Confirmed entries (alive at `now` when given) matching the filter, oldest first. */
  list(filter: CtFilter = {}, now?: number): CtEntry[] {
    return [...this.entries.values()].filter((e) => (now === undefined || e.expires > now) && entryMatches(e, filter));
  }

  count(now?: number): number {
    return now === undefined ? this.entries.size : this.list({}, now).length;
  }

  clone(): ConntrackTable {
    // Entry by entry, not through JSON: every trace saves the tables of the hosts it crosses.
    const t = new ConntrackTable(this.settings);
    t.stats = { ...this.stats };
    t.nextId = this.nextId;
    for (const [id, e] of this.entries) t.entries.set(id, cloneEntry(e));
    for (const [k, ref] of this.index) t.index.set(k, { entry: t.entries.get(ref.entry.id) as CtEntry, dir: ref.dir });
    return t;
  }

  toJSON(): ConntrackJSON {
    // (the timeouts are the namespace's sysctls, saved with them: not the table's)
    const settings = { tcpLoose: this.settings.tcpLoose, acct: this.settings.acct };
    return { nextId: this.nextId, settings, stats: { ...this.stats }, entries: [...this.entries.values()].map(entryToJSON) };
  }

  static fromJSON(j: ConntrackJSON): ConntrackTable {
    const t = new ConntrackTable(j.settings);
    t.stats = { ...zeroStats(), ...j.stats };
    t.nextId = j.nextId;
    // A lab saved before entries had `acct` showed every entry's counters when its table's
    // setting was on: its entries keep doing so.
    const legacyAcct = j.settings?.acct === true;
    for (const ej of j.entries) {
      const e = entryFromJSON(ej, legacyAcct);
      t.entries.set(e.id, e);
      t.index.set(tupleKey(e.orig), { entry: e, dir: 'ORIGINAL' });
      t.index.set(tupleKey(e.reply), { entry: e, dir: 'REPLY' });
    }
    return t;
  }
}

/** What uniqueTuple asks of the table while binding `self` (methods, not closures: see walk). */
class BindEnv implements NatEnv {
  readonly rng: () => number;

  constructor(private readonly table: ConntrackTable, private readonly self: CtEntry, private readonly ctx: NatCtx & { now?: number }) {
    this.rng = ctx.rng;
  }

  used(t: CtTuple): boolean {
    return this.table.tupleTaken(t, this.self, this.ctx.now);
  }

  sameSource(t: CtTuple): CtTuple[] {
    return this.table.sameSource(t);
  }
}

/** A CtView of an entry. The tuples and status are the entry's own (matches only read them):
 *  a view is made for every table a packet crosses, so it must be cheap. */
class EntryView implements CtView {
  readonly orig: CtTuple;
  readonly reply: CtTuple;
  readonly status: ReadonlySet<CtStatusBit>;

  constructor(private readonly table: ConntrackTable, readonly entry: CtEntry, readonly state: CtState, readonly dir: Dir, readonly expires: number) {
    this.orig = entry.orig;
    this.reply = entry.reply;
    this.status = entry.status;
  }

  get mark(): number {
    return this.entry.mark;
  }

  get counters(): CtEntry['counters'] | null {
    return this.entry.acct ? this.entry.counters : null;
  }

  set mark(v: number) {
    this.table.setMark(this.entry, v);
  }
}

/** Deep copy of an entry, e.g. for a trace record that must not change later. */
export function snapshot(e: CtEntry): CtEntry {
  return cloneEntry(e);
}

function natCheck(e: CtEntry, want: { addr?: IPv4; port?: number }, kind: 'src' | 'dst'): boolean {
  // conntrack-tools: SNAT = orig src != reply dst, SPAT = orig sport != reply dport (and the
  // mirror for DNAT); an address given must be the NAT address, a port the NAT port.
  const isNat = kind === 'src' ? e.orig.src !== e.reply.dst : e.orig.dst !== e.reply.src;
  const isPat = kind === 'src' ? e.orig.sport !== e.reply.dport : e.orig.dport !== e.reply.sport;
  const natAddr = kind === 'src' ? e.reply.dst : e.reply.src;
  const natPort = kind === 'src' ? e.reply.dport : e.reply.sport;
  let has = false;
  if (want.addr !== undefined) has = isNat && natAddr === want.addr;
  if (want.port !== undefined) {
    const portOk = isPat && natPort === want.port;
    if (want.addr !== undefined && has && !portOk) has = false;
    if (want.addr === undefined && portOk) has = true;
  }
  if (want.addr === undefined && want.port === undefined) has = isNat || isPat;
  return has;
}

/** Whether an entry passes a filter (`-L`'s, and `-E`'s for each event). */
export function entryMatches(e: CtEntry, f: CtFilter): boolean {
  const o = e.orig;
  const r = e.reply;
  if (f.proto !== undefined && o.proto !== f.proto) return false;
  if (f.origSrc && ((o.src & maskBits(f.origSrc.len)) >>> 0) !== ((f.origSrc.addr & maskBits(f.origSrc.len)) >>> 0)) return false;
  if (f.origDst && ((o.dst & maskBits(f.origDst.len)) >>> 0) !== ((f.origDst.addr & maskBits(f.origDst.len)) >>> 0)) return false;
  if (f.replySrc !== undefined && r.src !== f.replySrc) return false;
  if (f.replyDst !== undefined && r.dst !== f.replyDst) return false;
  if (f.origSport !== undefined && o.sport !== f.origSport) return false;
  if (f.origDport !== undefined && o.dport !== f.origDport) return false;
  if (f.replySport !== undefined && r.sport !== f.replySport) return false;
  if (f.replyDport !== undefined && r.dport !== f.replyDport) return false;
  if (f.icmpType !== undefined && o.icmpType !== f.icmpType) return false;
  if (f.icmpCode !== undefined && o.icmpCode !== f.icmpCode) return false;
  if (f.icmpId !== undefined && o.sport !== f.icmpId) return false;
  if (f.tcpState !== undefined && e.tcp?.state !== f.tcpState) return false;
  if (f.mark && ((e.mark & f.mark.mask) >>> 0) !== f.mark.value >>> 0) return false;
  if (f.statusSet && !f.statusSet.every((b) => e.status.has(b))) return false;
  if (f.statusClear && f.statusClear.some((b) => e.status.has(b))) return false;
  if (f.id !== undefined && e.id !== f.id) return false;
  if (f.anyNat && !(natCheck(e, f.anyNat, 'src') || natCheck(e, f.anyNat, 'dst'))) return false;
  if (f.srcNat && !natCheck(e, f.srcNat, 'src')) return false;
  if (f.dstNat && !natCheck(e, f.dstNat, 'dst')) return false;
  return true;
}
