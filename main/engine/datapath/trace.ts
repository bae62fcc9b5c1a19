// A trace: the first packet of a connection, the answer it gets back (reply, RST or ICMP
// error) and, for TCP, the client's ACK that completes the handshake. With `allOutcomes`,
// every branch of `statistic --mode random` is explored and each distinct end is listed with
// its probability. A later packet of the connection (runLater) is walked after those, through
// the conntrack entries they left.

import { PROTO, TCP, type Packet } from '../netfilter/types.ts';
import type { Topology } from './ports.ts';
import { answerFor, walkPacket, type Injection, type PacketWalk, type WalkOptions } from './walk.ts';

export interface TraceRun {
  walk: PacketWalk;
  reply: PacketWalk | null;
  /** TCP: the client's ACK after a SYN-ACK came back. */
  ack: PacketWalk | null;
}

export interface Outcome extends TraceRun {
  probability: number;
}

export interface TraceResult extends TraceRun {
  outcomes: Outcome[] | null;
  /** A later packet of the connection: which (2 = the one after the first), and whether the
   *  connection opened (if not, the walks are the first packet's). */
  later?: { packet: number; opened: boolean };
}

export type TracePhase = 'packet' | 'reply' | 'ack';
/** Told as each walk of a run enters a host (see WalkOptions.onHop). */
export type HopWatch = (phase: TracePhase, hop: number, host: string) => void;

/** The walk options of one phase: the run's, told its hops when they are watched. */
function phaseOpts(opts: WalkOptions & { watch?: HopWatch }, phase: TracePhase): WalkOptions {
  const w = opts.watch;
  return w ? { ...opts, onHop: (hop, host) => w(phase, hop, host) } : opts;
}

/** How statistic matches decide: from the seeded generator, or from an enumeration script. */
export interface Decider {
  /** Replace the decision source; returns the previous one. */
  set(fn: ((p: number) => boolean) | null): void;
}

export interface TraceHooks {
  topo: Topology;
  decider: Decider;
  /** Saves the runtime (conntrack, counters, recent, nth, rng) and returns a restorer. */
  snapshot(): () => void;
}

/** The client's socket an answer to the trace's first packet is for (none for a packet from outside). */
export function clientSocket(inj: Injection, walk: PacketWalk): WalkOptions['socket'] {
  if (inj.iif) return undefined;
  const first = walk.events[0]?.pkt ?? inj.pkt;
  return { host: inj.host, proto: first.proto, local: first.src, lport: first.proto === PROTO.icmp ? 0 : first.sport, remote: first.dst, rport: first.proto === PROTO.icmp ? 0 : first.dport };
}

/** The client's packet after its SYN-ACK came back, with `flags`. */
function clientSegment(inj: Injection, reply: PacketWalk, flags: number): Packet {
  return { ...inj.pkt, src: reply.final.dst, sport: reply.final.dport, tcpFlags: flags, len: 52 };
}

function runOnce(h: TraceHooks, inj: Injection, opts: WalkOptions & { watch?: HopWatch }): TraceRun {
  const walk = walkPacket(h.topo, inj, phaseOpts(opts, 'packet'));
  const back = answerFor(walk, inj.pkt);
  let reply: PacketWalk | null = null;
  let ack: PacketWalk | null = null;
  if (back) {
    reply = walkPacket(h.topo, back, { ...phaseOpts(opts, 'reply'), virtualPeers: inj.iif ? opts.virtualPeers : undefined, socket: clientSocket(inj, walk) });
    // the client completes the handshake when its SYN-ACK arrived
    if (
      inj.pkt.proto === PROTO.tcp && walk.outcome === 'delivered' && reply.outcome === 'delivered' &&
      !inj.iif && reply.endHost === inj.host && (reply.final.tcpFlags & TCP.SYN) !== 0
    ) {
      ack = walkPacket(h.topo, { host: inj.host, pkt: clientSegment(inj, reply, TCP.ACK) }, phaseOpts(opts, 'ack'));
    }
  }
  return { walk, reply, ack };
}

/** Whether a run opened its connection: TCP's handshake completed, a UDP/SCTP/ICMP answer came
 *  back to the client. */
function opened(inj: Injection, r: TraceRun): boolean {
  if (inj.iif) return false; // (no socket on the sending side to answer)
  if (r.walk.outcome !== 'delivered' || r.reply?.outcome !== 'delivered' || r.reply.endHost !== inj.host) return false;
  return inj.pkt.proto === PROTO.tcp ? r.ack?.outcome === 'delivered' : true;
}

/**
 * The connection's `n`th later packet (n ≥ 1): the first packet and its answer (TCP: the
 * handshake) are walked, then each later packet from the client — a TCP data segment (PSH,ACK),
 * or the same datagram or echo request again — with the server's answer (TCP: its ACK). The last
 * of them is returned, found in conntrack as ESTABLISHED; when the connection never opened, the
 * first run is, with `notOpened` saying so.
 */
export function runLater(h: TraceHooks, inj: Injection, opts: WalkOptions, n: number): TraceRun & { notOpened?: true } {
  const first = runOnce(h, inj, opts);
  if (!opened(inj, first)) return { ...first, notOpened: true };
  const rep = first.reply!;
  const tcp = inj.pkt.proto === PROTO.tcp;
  const socket = clientSocket(inj, first.walk);
  let last: TraceRun = first;
  for (let k = 0; k < n; k++) {
    // (from the client's own address and port, as its socket sends: what the answers came back to)
    const pkt: Packet = tcp ? { ...clientSegment(inj, rep, TCP.PSH | TCP.ACK), len: 52 + 100 } : { ...inj.pkt, src: rep.final.dst, sport: rep.final.dport };
    const walk = walkPacket(h.topo, { host: inj.host, pkt }, opts);
    let reply: PacketWalk | null = null;
    const back = answerFor(walk, pkt);
    if (back) {
      // TCP: the server acknowledges the data (answerFor answers a first packet, with SYN,ACK)
      if (tcp && walk.outcome === 'delivered') back.pkt = { ...back.pkt, tcpFlags: TCP.ACK, len: 52 };
      reply = walkPacket(h.topo, back, { ...opts, socket });
    }
    last = { walk, reply, ack: null };
    if (walk.outcome !== 'delivered') break;
  }
  return last;
}

/**
 * The client closes the connection a handshake opened, as curl or wget do when done: its FIN,
 * the server's FIN, its last ACK — each walked, so every conntrack on the way ends in TIME_WAIT
 * and the rules count the packets, as on a real node.
 */
export function closeTcp(h: TraceHooks, inj: Injection, run: TraceRun, opts: WalkOptions): void {
  if (!run.ack || run.ack.outcome !== 'delivered' || !run.reply) return;
  const back = answerFor(run.walk, inj.pkt);
  if (!back) return;
  const finAck = TCP.FIN | TCP.ACK;
  walkPacket(h.topo, { host: inj.host, pkt: clientSegment(inj, run.reply, finAck) }, opts);
  walkPacket(h.topo, { ...back, pkt: { ...back.pkt, tcpFlags: finAck, len: 52 } }, { ...opts, socket: clientSocket(inj, run.walk) });
  walkPacket(h.topo, { host: inj.host, pkt: clientSegment(inj, run.reply, TCP.ACK) }, opts);
}

/** Where a run ended, to merge branches that end the same way. */
function endKey(r: TraceRun): string {
  const w = r.walk;
  return [w.outcome, w.delivered?.host, w.delivered?.ip, w.delivered?.port, w.dnat, w.snat, r.reply?.outcome].join('|');
}

export function runTrace(h: TraceHooks, inj: Injection, opts: WalkOptions & { allOutcomes: boolean; maxOutcomes?: number; watch?: HopWatch }): TraceResult {
  if (!opts.allOutcomes) return { ...runOnce(h, inj, opts), outcomes: null };

  // Depth-first over decision sequences; each run starts from the same saved runtime.
  const restore = h.snapshot();
  const found = new Map<string, Outcome>();
  const order: string[] = [];
  const pending: boolean[][] = [[]];
  const limit = opts.maxOutcomes ?? 4096;
  let runs = 0;
  try {
    while (pending.length && runs < limit) {
      const script = pending.pop()!;
      let i = 0;
      let prob = 1;
      h.decider.set((p) => {
        if (p >= 1) return true;
        if (p <= 0) return false;
        let take: boolean;
        if (i < script.length) take = script[i];
        else {
          // a new branch point: take "match" now, and queue the other branch for later
          pending.push([...script.slice(0, i), false]);
          script.push(true);
          take = true;
        }
        i++;
        prob *= take ? p : 1 - p;
        return take;
      });
      const run = runOnce(h, inj, opts);
      runs++;
      restore();
      if (prob <= 0) continue;
      const key = endKey(run);
      const prev = found.get(key);
      if (prev) prev.probability += prob;
      else {
        found.set(key, { ...run, probability: prob });
        order.push(key);
      }
    }
  } finally {
    h.decider.set(null);
  }
  const outcomes = order.map((k) => found.get(k)!);
  // The top-level fields describe the walk the seed chooses.
  const chosen = runOnce(h, inj, opts);
  return { ...chosen, outcomes };
}
