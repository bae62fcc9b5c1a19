// The kernel's TCP connection tracker (net/netfilter/nf_conntrack_proto_tcp.c): the state
// transition table indexed by direction, the packet's flag class and the current state, the
// default timeouts, and what nf_conntrack_tcp_packet() does around the table (reopening a
// closed connection, ignoring SYNs inside a live one, killing an entry whose only answer is a
// RST, ASSURED after the handshake, short timeouts for unreplied pick-ups).
// Sequence/window tracking (tcp_in_window) is not modelled: a lab packet carries no sequence
// numbers, so every packet is taken as in-window.

import { TCP } from '../netfilter/types.ts';
import type { Dir } from './tuple.ts';

export const TCP_STATES = [
  'NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

/** nf_conntrack_tcp_timeout_* defaults, seconds. */
export const TCP_TIMEOUTS: Readonly<Record<TcpState, number>> = {
  NONE: 0,
  SYN_SENT: 120,
  SYN_RECV: 60,
  ESTABLISHED: 432000,
  FIN_WAIT: 120,
  CLOSE_WAIT: 60,
  LAST_ACK: 30,
  TIME_WAIT: 120,
  CLOSE: 10,
  SYN_SENT2: 120,
};
/** nf_conntrack_tcp_timeout_unacknowledged: caps ESTABLISHED while no reply was seen. */
export const TCP_TIMEOUT_UNACK = 300;

/** Flag classes, in get_conntrack_index() order. */
export type TcpIndex = 'SYN' | 'SYNACK' | 'FIN' | 'ACK' | 'RST' | 'NONE';

export function tcpIndex(flags: number): TcpIndex {
  if (flags & TCP.RST) return 'RST';
  if (flags & TCP.SYN) return flags & TCP.ACK ? 'SYNACK' : 'SYN';
  if (flags & TCP.FIN) return 'FIN';
  if (flags & TCP.ACK) return 'ACK';
  return 'NONE';
}

/** tcp_valid_flags: the flag combinations tcp_error() accepts (ECE, CWR and PSH ignored). */
export function tcpFlagsValid(flags: number): boolean {
  const f = flags & (TCP.FIN | TCP.SYN | TCP.RST | TCP.ACK | TCP.URG);
  const { SYN, ACK, RST, FIN, URG } = TCP;
  return [SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG].includes(f);
}

// Table cells: a state, 'IV' (invalid) or 'IG' (ignore). Columns in TCP_STATES order:
//                 sNO   sSS   sSR   sES   sFW   sCW   sLA   sTW   sCL   sS2
type Cell = TcpState | 'IV' | 'IG';
const ORIGINAL: Record<TcpIndex, readonly Cell[]> = {
  SYN: ['SYN_SENT', 'SYN_SENT', 'IG', 'IG', 'IG', 'IG', 'IG', 'SYN_SENT', 'SYN_SENT', 'SYN_SENT2'],
  SYNACK: ['IV', 'IV', 'SYN_RECV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'SYN_RECV'],
  FIN: ['IV', 'IV', 'FIN_WAIT', 'FIN_WAIT', 'LAST_ACK', 'LAST_ACK', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'IV'],
  ACK: ['ESTABLISHED', 'IV', 'ESTABLISHED', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSE_WAIT', 'TIME_WAIT', 'TIME_WAIT', 'CLOSE', 'IV'],
  RST: ['IV', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE'],
  NONE: ['IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV'],
};
const REPLY: Record<TcpIndex, readonly Cell[]> = {
  SYN: ['IV', 'SYN_SENT2', 'IV', 'IV', 'IV', 'IV', 'IV', 'SYN_SENT', 'IV', 'SYN_SENT2'],
  SYNACK: ['IV', 'SYN_RECV', 'IG', 'IG', 'IG', 'IG', 'IG', 'IG', 'IG', 'SYN_RECV'],
  FIN: ['IV', 'IV', 'FIN_WAIT', 'FIN_WAIT', 'LAST_ACK', 'LAST_ACK', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'IV'],
  ACK: ['IV', 'IG', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSE_WAIT', 'TIME_WAIT', 'TIME_WAIT', 'CLOSE', 'IG'],
  RST: ['IV', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE', 'CLOSE'],
  NONE: ['IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV', 'IV'],
};

export function tcpTransition(dir: Dir, index: TcpIndex, from: TcpState): Cell {
  return (dir === 'ORIGINAL' ? ORIGINAL : REPLY)[index][TCP_STATES.indexOf(from)];
}

/** The TCP part of a conntrack entry (ct->proto.tcp, without the window data). */
export interface TcpTrack {
  state: TcpState;
  lastIndex: TcpIndex;
  lastDir: Dir;
  /** IP_CT_TCP_FLAG_CLOSE_INIT per direction: that side sent the first FIN. */
  closeInit: { ORIGINAL: boolean; REPLY: boolean };
  simultaneousOpen: boolean;
}

export function newTcpTrack(): TcpTrack {
  return { state: 'NONE', lastIndex: 'NONE', lastDir: 'ORIGINAL', closeInit: { ORIGINAL: false, REPLY: false }, simultaneousOpen: false };
}

/** What tcp_new() says about the first packet of a connection: the state it opens, or why
 *  no entry may be created (only a SYN opens one; with nf_conntrack_tcp_loose=1 a plain ACK
 *  picks up a connection in the middle). */
export function tcpNewState(flags: number, loose: boolean): { ok: true } | { ok: false; reason: string } {
  if (!tcpFlagsValid(flags)) return { ok: false, reason: 'invalid tcp flag combination' };
  const next = tcpTransition('ORIGINAL', tcpIndex(flags), 'NONE');
  if (next === 'IV' || next === 'IG') return { ok: false, reason: 'invalid new' };
  if (next !== 'SYN_SENT' && !loose) return { ok: false, reason: 'invalid new (nf_conntrack_tcp_loose=0)' };
  return { ok: true };
}

export interface TcpInput {
  dir: Dir;
  flags: number;
  seenReply: boolean; // IPS_SEEN_REPLY before this packet
  assured: boolean;
  /** The namespace's nf_conntrack_tcp_timeout_* (default: the kernel's defaults). */
  timeouts?: TcpTimeouts;
}

/** The timeouts a TCP packet sets, per state, and the cap while unanswered. */
export interface TcpTimeouts {
  state: Readonly<Record<TcpState, number>>;
  unacknowledged: number;
}

export const DEFAULT_TCP_TIMEOUTS: TcpTimeouts = { state: TCP_TIMEOUTS, unacknowledged: TCP_TIMEOUT_UNACK };

export type TcpOutcome =
  /** In-window packet: new state, timeout to set (undefined: keep the current one), whether
   *  the entry becomes ASSURED, or must be removed at once (`kill`: RST as the only answer). */
  | { kind: 'accept'; timeout: number | undefined; assure: boolean; kill: boolean }
  /** NF_ACCEPT without touching the state (sIG) */
  | { kind: 'ignore'; reason: string }
  /** -NF_ACCEPT: the packet loses its conntrack and is INVALID */
  | { kind: 'invalid'; reason: string }
  /** the connection is being reopened: delete the entry and look the packet up again */
  | { kind: 'repeat'; reason: string };

/** nf_conntrack_tcp_packet() for one packet; mutates `t` as the kernel does. */
export function tcpPacket(t: TcpTrack, inp: TcpInput): TcpOutcome {
  if (!tcpFlagsValid(inp.flags)) return { kind: 'invalid', reason: 'invalid tcp flag combination' };
  const { dir } = inp;
  const to = inp.timeouts ?? DEFAULT_TCP_TIMEOUTS;
  const index = tcpIndex(inp.flags);
  const old = t.state;
  let next = tcpTransition(dir, index, old);

  if (next === 'SYN_SENT' && (old === 'TIME_WAIT' || old === 'CLOSE')) {
    // RFC 1122 reopen: a new SYN on a closed or aborted tuple replaces the old entry;
    // otherwise the kernel falls through to the "ignore" case.
    if (t.closeInit.ORIGINAL || t.closeInit.REPLY || (t.lastDir === dir && t.lastIndex === 'RST')) {
      return { kind: 'repeat', reason: 'reopening closed connection' };
    }
    next = 'IG';
  }
  if (next === 'IG') {
    // A SYN/ACK answering a SYN we ignored means both ends restarted: resync from it.
    if (index === 'SYNACK' && t.lastIndex === 'SYN' && t.lastDir !== dir) {
      t.state = 'SYN_RECV';
      t.lastIndex = index;
      t.lastDir = dir;
      t.closeInit = { ORIGINAL: false, REPLY: false };
      return { kind: 'accept', timeout: to.state.SYN_RECV, assure: false, kill: false };
    }
    t.lastIndex = index;
    t.lastDir = dir;
    return { kind: 'ignore', reason: `invalid packet ignored in state ${old}` };
  }
  if (next === 'IV') return { kind: 'invalid', reason: `invalid state ${old} for ${index} in ${dir} direction` };
  if (next === 'SYN_SENT2') t.simultaneousOpen = true;
  if (next === 'SYN_RECV' && dir === 'REPLY' && index === 'ACK' && t.simultaneousOpen) next = 'ESTABLISHED';

  t.lastIndex = index;
  t.lastDir = dir;
  t.state = next;
  if (old !== next && next === 'FIN_WAIT') t.closeInit[dir] = true;

  let timeout: number | undefined = index === 'RST' ? to.state.CLOSE : to.state[next];
  let assure = false;
  if (!inp.seenReply) {
    // Only answer is a RST: the connection never existed, drop the entry now.
    if (index === 'RST') return { kind: 'accept', timeout, assure: false, kill: true };
    // A retransmitted SYN must not keep an unanswered entry alive.
    if (index === 'SYN' && old === 'SYN_SENT') timeout = undefined;
    // A mid-connection pick-up gets no five-day timeout before it is answered.
    else if (next === 'ESTABLISHED' && timeout > to.unacknowledged) timeout = to.unacknowledged;
  } else if (!inp.assured && (old === 'SYN_RECV' || old === 'ESTABLISHED') && next === 'ESTABLISHED') {
    assure = true;
  }
  return { kind: 'accept', timeout, assure, kill: false };
}
