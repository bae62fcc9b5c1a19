// Packets and a miniature walk for the conntrack tests: track at PREROUTING, NAT bindings for
// a new connection, confirm at POSTROUTING, rewrite as natFor() says.

import { parseIPv4 } from '../../../main/engine/net/ipv4.ts';
import { PROTO, TCP } from '../../../main/engine/netfilter/types.ts';
import type { NatRequest, Packet } from '../../../main/engine/netfilter/types.ts';
import type { ConntrackTable, CtEntry, Dir } from '../../../main/engine/conntrack/table.ts';
import type { CtState } from '../../../main/engine/netfilter/types.ts';

export function ip(s: string): number {
  const v = parseIPv4(s);
  if (v === null) throw new Error(`bad ip ${s}`);
  return v;
}

export function tcp(src: string, sport: number, dst: string, dport: number, flags: number): Packet {
  return { src: ip(src), dst: ip(dst), proto: PROTO.tcp, sport, dport, tcpFlags: flags, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0 };
}

export function udp(src: string, sport: number, dst: string, dport: number): Packet {
  return { src: ip(src), dst: ip(dst), proto: PROTO.udp, sport, dport, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 40, mark: 0 };
}

export function icmp(src: string, dst: string, type: number, code: number, id: number): Packet {
  return { src: ip(src), dst: ip(dst), proto: PROTO.icmp, sport: 0, dport: 0, tcpFlags: 0, icmpType: type, icmpCode: code, icmpId: id, ttl: 64, len: 84, mark: 0 };
}

export const { SYN, ACK, FIN, RST, PSH } = TCP;

export interface Step {
  entry?: CtEntry;
  dir?: Dir;
  state: CtState | 'INVALID';
  out: Packet; // the packet after NAT
  isNew: boolean;
  dropped: boolean;
}

/** One packet through one host: conntrack, NAT (dnat at PREROUTING, snat at POSTROUTING,
 *  null bindings otherwise), confirm, rewrite. */
export function pass(t: ConntrackTable, p: Packet, now: number, nat: { dnat?: NatRequest; snat?: NatRequest; masqAddr?: number; rng?: () => number } = {}): Step {
  const r = t.track(p, now);
  if (r.kind === 'invalid') return { state: 'INVALID', out: { ...p }, isNew: false, dropped: false };
  const out = { ...p };
  const rng = nat.rng ?? (() => 0.5);
  if (r.isNew) {
    const d = t.bindNat(r.entry, 'dst', nat.dnat ?? null, { rng, now });
    if (!d.ok) throw new Error(d.reason);
  }
  let rw = t.natFor(r.entry, r.dir);
  if (rw.dst) Object.assign(out, { dst: rw.dst.addr, dport: p.proto === PROTO.icmp ? out.dport : rw.dst.port });
  if (r.isNew) {
    const s = t.bindNat(r.entry, 'src', nat.snat ?? null, { rng, now, addr: nat.masqAddr });
    if (!s.ok) return { entry: r.entry, dir: r.dir, state: r.state, out, isNew: true, dropped: true };
  }
  rw = t.natFor(r.entry, r.dir);
  if (rw.src) Object.assign(out, { src: rw.src.addr, sport: p.proto === PROTO.icmp ? out.sport : rw.src.port });
  if (p.proto === PROTO.icmp && (rw.src || rw.dst)) out.icmpId = (rw.src ?? rw.dst)?.port ?? out.icmpId;
  let dropped = false;
  if (r.isNew) dropped = t.confirm(r.entry, now) === undefined;
  return { entry: r.entry, dir: r.dir, state: r.state, out, isNew: r.isNew, dropped };
}

export const dnat = (to: string, port?: number, extra: Partial<NatRequest> = {}): NatRequest => ({
  kind: 'dnat', minIp: ip(to), maxIp: ip(to), minPort: port, maxPort: port, random: false, randomFully: false, persistent: false, ...extra,
});

export const snat = (from: string, to?: string, extra: Partial<NatRequest> = {}): NatRequest => ({
  kind: 'snat', minIp: ip(from), maxIp: ip(to ?? from), random: false, randomFully: false, persistent: false, ...extra,
});
