// One conntrack entry (struct nf_conn): both tuples, status bits, mark, the protocol state
// and when it expires on the lab clock. Plain data, so clone() and the lab file are trivial.

import { PROTO } from '../netfilter/types.ts';
import type { CtStatusBit } from '../netfilter/types.ts';
import { newTcpTrack } from './tcp-state.ts';
import type { TcpTrack } from './tcp-state.ts';
import { copyTuple } from './tuple.ts';
import type { CtTuple, Dir } from './tuple.ts';

export interface CtCounters {
  packets: number;
  bytes: number;
}

export interface CtEntry {
  /** Deterministic id (a counter per table), shown by `-o id`. */
  id: number;
  orig: CtTuple;
  reply: CtTuple;
  status: Set<CtStatusBit>;
  mark: number;
  /** Relative timeout (seconds) set by the last packet; made absolute at confirm. */
  timeout: number;
  /** Lab time (seconds) at which a confirmed entry dies. */
  expires: number;
  /** Lab time of the first packet; UDP uses it to tell a stream from a single exchange. */
  created: number;
  tcp?: TcpTrack;
  /** Which NAT manips have been bound (IPS_SRC_NAT_DONE / IPS_DST_NAT_DONE). */
  natDone: { src: boolean; dst: boolean };
  /** Whether the entry has the kernel's acct extension (nf_ct_acct_ext_add): given when the
   *  entry is made and the namespace's net.netfilter.nf_conntrack_acct is on at that moment,
   *  never later. Only such entries show their counters (`packets= bytes=`). */
  acct: boolean;
  /** Packets and bytes (IP total length) seen in each direction. */
  counters: { ORIGINAL: CtCounters; REPLY: CtCounters };
}

export function newEntry(id: number, orig: CtTuple, reply: CtTuple, now: number, acct = false): CtEntry {
  return {
    id,
    orig: copyTuple(orig),
    reply: copyTuple(reply),
    status: new Set(),
    mark: 0,
    timeout: 0,
    expires: now,
    created: now,
    tcp: orig.proto === PROTO.tcp ? newTcpTrack() : undefined,
    natDone: { src: false, dst: false },
    acct,
    counters: { ORIGINAL: { packets: 0, bytes: 0 }, REPLY: { packets: 0, bytes: 0 } },
  };
}

export function tupleOfDir(e: CtEntry, dir: Dir): CtTuple {
  return dir === 'ORIGINAL' ? e.orig : e.reply;
}

export function cloneEntry(e: CtEntry): CtEntry {
  return {
    id: e.id,
    orig: copyTuple(e.orig),
    reply: copyTuple(e.reply),
    status: new Set(e.status),
    mark: e.mark,
    timeout: e.timeout,
    expires: e.expires,
    created: e.created,
    tcp: e.tcp ? { ...e.tcp, closeInit: { ...e.tcp.closeInit } } : undefined,
    natDone: { ...e.natDone },
    acct: e.acct,
    counters: { ORIGINAL: { ...e.counters.ORIGINAL }, REPLY: { ...e.counters.REPLY } },
  };
}

/** The JSON form of an entry (status as a sorted array). `acct` is missing in labs saved
 *  before entries had it (see entryFromJSON). */
export interface CtEntryJSON extends Omit<CtEntry, 'status' | 'acct'> {
  status: CtStatusBit[];
  acct?: boolean;
}

const STATUS_ORDER: readonly CtStatusBit[] = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'SNAT', 'DNAT'];

export function entryToJSON(e: CtEntry): CtEntryJSON {
  const c = cloneEntry(e);
  return { ...c, status: STATUS_ORDER.filter((b) => e.status.has(b)) };
}

/** `legacyAcct`: what an entry without `acct` gets (an old lab's table-wide setting). */
export function entryFromJSON(j: CtEntryJSON, legacyAcct = false): CtEntry {
  return cloneEntry({ ...j, status: new Set(j.status), acct: j.acct ?? legacyAcct });
}
