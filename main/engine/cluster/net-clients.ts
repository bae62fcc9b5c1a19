// The client tools (curl, wget, nc, ping, nslookup, dig) on a lab host: every connection,
// echo request and DNS query they make is a packet the lab walks (kept: conntrack entries and
// counters stay, as after the real tool), and what came back decides what they print.

import { CoreDns } from '../kube/dns/coredns.ts';
import { decodeMessage, encodeMessage, type DnsMessage } from '../kube/dns/message.ts';
import type { KubeDnsData } from '../kube/dns/records.ts';
import { podResolvConf, type ResolvConf } from '../kube/dns/resolver.ts';
import type { KubeStore } from '../kube/objects/store.ts';
import { formatIPv4, parseIPv4, type IPv4 } from '../net/ipv4.ts';
import { PROTO, TCP, type Packet } from '../netfilter/types.ts';
import type { TraceRun } from '../datapath/trace.ts';
import { isIPv4Literal, type ConnectOutcome } from '../shell/netclients/common.ts';
import { curl, nginxResponse, type HttpResponse } from '../shell/netclients/curl.ts';
import { dig } from '../shell/netclients/dig.ts';
import { nc, type UdpSocket } from '../shell/netclients/nc.ts';
import { nslookup } from '../shell/netclients/nslookup.ts';
import { icmpErrorText, ping, type ProbeOutcome } from '../shell/netclients/ping.ts';
import { wget } from '../shell/netclients/wget.ts';
import type { CommandResult } from '../shell/types.ts';

/** What the tools need from the lab. */
export interface NetLab {
  /**
   * Walks one packet from the host (and its answer), keeping what it changes; with `close`, a
   * TCP connection that opened is then closed (FIN, FIN, ACK walked: conntrack ends in TIME_WAIT).
   */
  probe(host: string, pkt: Packet, opts?: { close?: boolean }): TraceRun;
  /** The hostname of the host a walk was delivered to (what its web server prints). */
  hostnameOf(host: string): string;
  random(): number;
  /** Lab clock in ms since the epoch. */
  nowMs(): number;
  /** The cluster's API, when there is one. */
  kube: KubeStore | null;
  /** Whether a host is a CoreDNS pod (it answers DNS on 53). */
  isDnsServer(host: string): boolean;
  /** The HTTP answer of a server other than nginx on a host's port (kube-proxy's health check on a node). */
  serverAnswer?(host: string, port: number): HttpResponse | undefined;
  /** The host's devices with their IPv4 addresses, primary first (`ping -I`). */
  interfaces?(host: string): { dev: string; addrs: string[] }[];
}

/** Linux gives up on a SYN after tcp_syn_retries=6: 1+2+4+8+16+32+64 s. */
const SYN_TIMEOUT_MS = 127_000;

function ephemeralPort(random: () => number): number {
  return 32768 + Math.floor(random() * (60999 - 32768));
}

function tcpSyn(dst: IPv4, dport: number, sport: number): Packet {
  return { src: 0, dst, proto: PROTO.tcp, sport, dport, tcpFlags: TCP.SYN, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0 };
}

/** How a connect() ended, read from the walk of its SYN and what came back. */
export function connectOutcome(run: TraceRun, from: string, ip: string, budgetMs: number): ConnectOutcome {
  const w = run.walk;
  if (w.outcome === 'unroutable' && w.endHost === from) {
    return w.reason.includes('ARP') ? { kind: 'unreachable', ip, errno: 'EHOSTUNREACH', elapsedMs: 3000 } : { kind: 'unreachable', ip, errno: 'ENETUNREACH', elapsedMs: 0 };
  }
  const r = run.reply;
  if (r && r.outcome === 'delivered' && r.endHost === from) {
    const p = r.final;
    if (p.proto === PROTO.tcp) return p.tcpFlags & TCP.RST ? { kind: 'refused', ip, elapsedMs: 1 } : { kind: 'connected', ip, elapsedMs: 1 };
    if (p.proto === PROTO.icmp && (p.icmpType === 3 || p.icmpType === 11)) return icmpConnectError(ip, p.icmpType, p.icmpCode);
  }
  return { kind: 'timeout', ip, elapsedMs: Math.min(budgetMs, SYN_TIMEOUT_MS) };
}

/** What a connected UDP socket learns of one datagram: its write refused (`denied`: the host's
 *  own rules dropped or rejected it, NF_DROP on the way out is EPERM), an ICMP error it takes
 *  (udpSocketError), or nothing (`timeout`: no error; the datagram may have arrived). */
function datagramOutcome(run: TraceRun, from: string, ip: string): ReturnType<UdpSocket['send']> {
  const w = run.walk;
  if ((w.outcome === 'dropped' || w.outcome === 'rejected') && w.endHost === from) return { kind: 'denied', ip };
  // (no route: send() fails at once; an ARP that goes unanswered is a host unreachable the
  // kernel reports to itself, a soft error)
  if (w.outcome === 'unroutable' && w.endHost === from) return w.reason.includes('ARP') ? { kind: 'timeout', ip, elapsedMs: 0 } : connectOutcome(run, from, ip, 0);
  const icmp = icmpBack(run, from);
  return (icmp && udpSocketError(ip, icmp.icmpType, icmp.icmpCode)) ?? { kind: 'timeout', ip, elapsedMs: 0 };
}

/** The ICMP packet that came back to `from` for a datagram, if one did. */
function icmpBack(run: TraceRun, from: string): Packet | null {
  const r = run.reply;
  return r && r.outcome === 'delivered' && r.endHost === from && r.final.proto === PROTO.icmp ? r.final : null;
}

/**
 * How connect() ends when an ICMP error answers its SYN (tcp_v4_err; seen on the kernel with
 * nc): port unreachable is a refusal; protocol unreachable ENOPROTOOPT; net unreachable and
 * net prohibited ENETUNREACH; the rest EHOSTUNREACH. All end it at once but two the kernel
 * takes as soft errors, a time exceeded and a packet filtered (admin prohibited): the SYN is
 * sent again, and the retransmission after the first 1 s timeout gives up with that error.
 */
function icmpConnectError(ip: string, type: number, code: number): ConnectOutcome {
  if (type === 3 && code === 3) return { kind: 'refused', ip, elapsedMs: 1 };
  const soft = type === 11 || code === 13;
  const errno = type === 3 && code === 2 ? 'ENOPROTOOPT' : type === 3 && (code === 0 || code === 6 || code === 9 || code === 11) ? 'ENETUNREACH' : 'EHOSTUNREACH';
  return { kind: 'unreachable', ip, errno, elapsedMs: soft ? 1020 : 1 };
}

/** Destination-unreachable codes whose error icmp_err_convert marks fatal. */
const FATAL_UNREACH = new Set([2, 3, 4, 6, 7, 8, 9, 10, 13, 14, 15]);

/**
 * What a connected UDP socket makes of an ICMP error quoting its datagram (__udp4_lib_err,
 * without IP_RECVERR): a fatal one fails the socket's next call (port unreachable as
 * ECONNREFUSED); a soft one (net or host unreachable, a time exceeded) is dropped: null, the
 * datagram looks sent. Seen on the kernel: a REJECT --reject-with icmp-net-unreachable leaves
 * `nc -u` and a UDP probe waiting, icmp-host-prohibited fails them.
 */
export function udpSocketError(ip: string, type: number, code: number): ConnectOutcome | null {
  if (type !== 3 || !FATAL_UNREACH.has(code)) return null;
  return icmpConnectError(ip, type, code);
}

/** The resolver configuration of a host: a pod's is the kubelet's, a node's points at its gateway. */
export function resolvConfFor(kube: KubeStore | null, host: string, podNamespace: string | undefined, nodeGateway: string | null): ResolvConf {
  const dnsSvc = kube?.get('Service', 'kube-system', 'kube-dns');
  const nodeConf: ResolvConf = { nameservers: nodeGateway ? [nodeGateway] : [], search: [], ndots: 1, timeout: 5, attempts: 2, options: [] };
  if (podNamespace !== undefined && kube) {
    const pod = kube.get('Pod', podNamespace, host.slice(host.indexOf('/') + 1));
    return podResolvConf({
      namespace: podNamespace,
      clusterDNS: dnsSvc?.spec.clusterIP,
      host: nodeConf,
      dnsPolicy: (pod?.spec.dnsPolicy as 'ClusterFirst' | undefined) ?? 'ClusterFirst',
      hostNetwork: pod?.spec.hostNetwork === true,
    });
  }
  return nodeConf;
}

/** What CoreDNS serves, from the API objects it watches. */
export function dnsData(kube: KubeStore): KubeDnsData {
  const services = kube.list('Service').map((s) => ({
    namespace: s.metadata.namespace ?? 'default',
    name: s.metadata.name,
    type: s.spec.type,
    clusterIP: s.spec.clusterIP,
    clusterIPs: s.spec.clusterIPs,
    externalName: s.spec.externalName,
    ports: (s.spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    publishNotReadyAddresses: s.spec.publishNotReadyAddresses,
  }));
  const endpoints = kube.list('Endpoints').map((e) => ({
    namespace: e.metadata.namespace ?? 'default',
    name: e.metadata.name,
    addresses: (e.subsets ?? []).flatMap((ss) => [
      ...(ss.addresses ?? []).map((a) => ({ ip: a.ip, hostname: a.hostname, nodeName: a.nodeName, ready: true, targetRef: a.targetRef?.name ? { kind: a.targetRef.kind, name: a.targetRef.name, namespace: a.targetRef.namespace } : undefined })),
      ...(ss.notReadyAddresses ?? []).map((a) => ({ ip: a.ip, hostname: a.hostname, nodeName: a.nodeName, ready: false })),
    ]),
    ports: (e.subsets ?? []).flatMap((ss) => (ss.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }))),
  }));
  const pods = kube.list('Pod').flatMap((p) => (p.status?.podIP ? [{ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name, ip: p.status.podIP }] : []));
  return { services, endpoints, pods, namespaces: kube.list('Namespace').map((n) => n.metadata.name), zone: 'cluster.local', ttl: 30, podMode: 'insecure', serial: Math.floor(kube.now()) };
}

/** Runs a client tool on `host`; null when `name` is not one of them. */
export function runNetClient(name: string, argv: string[], stdin: string, lab: NetLab, host: string, resolv: ResolvConf): CommandResult | null {
  let dns: CoreDns | null = null;
  const coreDns = () => (dns ??= new CoreDns(dnsData(lab.kube!), { hosts: [{ ip: '192.168.49.1', names: ['host.minikube.internal'] }] }));
  // Every connection is walked; the host it reached serves the HTTP answer (its name).
  let servedBy = '';
  let servedPort = 0;
  const connect = (ip: string, port: number, budgetMs: number): ConnectOutcome => {
    const dst = parseIPv4(ip);
    if (dst === null) return { kind: 'unreachable', ip, errno: 'ENETUNREACH', elapsedMs: 0 };
    // curl, wget and nc close the connection when done.
    const run = lab.probe(host, tcpSyn(dst, port, ephemeralPort(lab.random)), { close: true });
    if (run.walk.delivered) {
      servedBy = run.walk.delivered.host;
      servedPort = run.walk.delivered.port ?? 0;
    }
    return connectOutcome(run, host, ip, budgetMs);
  };
  // nc -u: datagrams from one source port, each walked; ICMP errors say refused or unreachable
  const udp = (ip: string, port: number): UdpSocket | ConnectOutcome => {
    const dst = parseIPv4(ip);
    if (dst === null) return { kind: 'unreachable', ip, errno: 'ENETUNREACH', elapsedMs: 0 };
    const sport = ephemeralPort(lab.random);
    return {
      send: (bytes) => {
        const pkt: Packet = { src: 0, dst, proto: PROTO.udp, sport, dport: port, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 28 + bytes, mark: 0 };
        return datagramOutcome(lab.probe(host, pkt), host, ip);
      },
    };
  };
  const ask = (server: string, query: DnsMessage, port = 53) => {
    const dst = parseIPv4(server);
    if (dst === null) return { kind: 'timeout' as const };
    const pkt: Packet = { src: 0, dst, proto: PROTO.udp, sport: ephemeralPort(lab.random), dport: port, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 28 + encodeMessage(query, true).length, mark: 0 };
    const run = lab.probe(host, pkt);
    const at = run.walk.delivered?.host;
    // (a port unreachable from the server's stack or a REJECT on the way: the socket's error)
    const icmp = icmpBack(run, host);
    const err = icmp && udpSocketError(server, icmp.icmpType, icmp.icmpCode);
    if (err?.kind === 'refused') return { kind: 'refused' as const };
    if (err?.kind === 'unreachable') return { kind: 'unreachable' as const, errno: err.errno };
    if (!at || !lab.kube || !lab.isDnsServer(at)) return { kind: 'timeout' as const };
    if (!run.reply || run.reply.outcome !== 'delivered' || run.reply.endHost !== host) return { kind: 'timeout' as const };
    const bytes = coreDns().serveBytes(encodeMessage(query, true));
    if (!bytes) return { kind: 'timeout' as const };
    return { kind: 'reply' as const, reply: decodeMessage(bytes), size: bytes.length, rttMs: 0 };
  };
  const base = { resolvConf: resolv, ask, nowMs: lab.nowMs(), random: () => lab.random() };
  const http = () => (servedBy ? (lab.serverAnswer?.(servedBy, servedPort) ?? nginxResponse(lab.hostnameOf(servedBy) + '\n', { dateMs: lab.nowMs(), version: '1.14.2' })) : undefined);
  switch (name) {
    case 'curl':
      return curl(argv, stdin, { ...base, connect, http });
    case 'wget':
      return wget(argv, stdin, { ...base, connect, http });
    case 'nc':
      return nc(argv, stdin, { ...base, connect, udp });
    case 'nslookup':
      return nslookup(argv, stdin, base);
    case 'dig':
      return dig(argv, stdin, base);
    case 'ping':
      return ping(argv, stdin, {
        ...base,
        bind: (spec) => {
          const ifaces = lab.interfaces?.(host) ?? [];
          if (isIPv4Literal(spec)) return ifaces.some((i) => i.addrs.includes(spec)) ? { addr: spec } : 'ping: bind: Cannot assign requested address';
          const dev = ifaces.find((i) => i.dev === spec);
          // (bound to a device, ping takes that device's address; the lab routes its probes as usual)
          return dev ? { addr: dev.addrs[0] ?? '0.0.0.0', dev: spec } : `ping: SO_BINDTODEVICE ${spec}: No such device`;
        },
        echo: (ip, seq, req): ProbeOutcome => {
          const dst = parseIPv4(ip);
          if (dst === null) return { kind: 'lost' };
          const src = req.source?.addr ? (parseIPv4(req.source.addr) ?? 0) : 0;
          const pkt: Packet = { src, dst, proto: PROTO.icmp, sport: 0, dport: 0, tcpFlags: 0, icmpType: 8, icmpCode: 0, icmpId: 1, ttl: req.ttl ?? 64, len: 28 + req.size, mark: 0 };
          const run = lab.probe(host, pkt);
          const r = run.reply;
          if (!r || r.outcome !== 'delivered' || r.endHost !== host) return { kind: 'lost' };
          if (r.final.icmpType === 0) return { kind: 'reply', from: ip, ttl: r.final.ttl, rttUs: 80 + seq };
          const from = formatIPv4(r.final.src);
          return { kind: 'error', from, message: icmpErrorText(r.final.icmpType, r.final.icmpCode) };
        },
      });
    default:
      return null;
  }
}

export const NET_CLIENTS = ['curl', 'wget', 'nc', 'ping', 'nslookup', 'dig'];
