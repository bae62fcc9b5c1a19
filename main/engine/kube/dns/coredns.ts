// The CoreDNS server behind the kube-dns VIP, as kubeadm and minikube configure it:
//
//   .:53 { errors; health; ready
//          kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }
//          forward . /etc/resolv.conf; cache 30; loop; reload; loadbalance }
//
// (minikube adds a `hosts` block for host.minikube.internal). A query message in, the reply
// message out, with what the server core adds around the plugin: the reply header (ID, RD and
// CD copied, AA from the plugin, RA only on forwarded answers), the client's OPT record echoed
// with its cookie (request.SizeAndDo), no name compression while the reply fits the client's
// buffer, then compression and truncation (request.Scrub).

import {
  decodeMessage,
  encodeMessage,
  EDNS_COOKIE,
  fqdn,
  RCODE,
  TYPE_CODES,
  type DnsMessage,
  type Edns,
  type Question,
  type ResourceRecord,
} from './message.ts';
import { KubeDns, type KubeDnsData } from './records.ts';
import type { DnsExchange } from './resolver.ts';

/** What the upstream resolver (`forward . /etc/resolv.conf`) answers for a name outside the cluster. */
export interface ForwardAnswer {
  rcode: number;
  answer: ResourceRecord[];
  authority?: ResourceRecord[];
  additional?: ResourceRecord[];
  /** Upstream recursive resolvers set RA; defaults to true. */
  ra?: boolean;
  aa?: boolean;
}

export interface CoreDnsOptions {
  /**
   * The upstream of `forward`; null means no upstream answered, which CoreDNS turns into
   * SERVFAIL. Without it, every outside name is NXDOMAIN.
   */
  forward?: (q: Question) => ForwardAnswer | null;
  /** minikube's `hosts { 192.168.49.1 host.minikube.internal; fallthrough }`. */
  hosts?: { ip: string; names: string[] }[];
  /** `loadbalance`: a uniform [0, 1) source that shuffles address records; absent keeps order. */
  random?: () => number;
}

// EDNS options request.SizeAndDo copies from the query into the reply (request/edns0.go).
const ECHOED_OPTIONS = new Set([3 /* NSID */, 9 /* EXPIRE */, EDNS_COOKIE, 11 /* TCP-KEEPALIVE */, 12 /* PADDING */]);

export class CoreDns {
  readonly kube: KubeDns;

  constructor(
    data: KubeDnsData,
    private readonly opts: CoreDnsOptions = {},
  ) {
    this.kube = new KubeDns(data, (name, type) => this.lookupSelf(name, type));
  }

  /** The plugin's upstream: CoreDNS resolving an ExternalName target through itself. */
  private lookupSelf(name: string, type: number): ResourceRecord[] {
    const r = this.resolve({ name: fqdn(name), type, class: 1 });
    return r.answer;
  }

  /** The plugin chain for one question: hosts, kubernetes, forward. */
  private resolve(q: Question): { rcode: number; aa: boolean; ra: boolean; answer: ResourceRecord[]; authority: ResourceRecord[]; additional: ResourceRecord[] } {
    const hosts = this.fromHosts(q);
    if (hosts) return { rcode: RCODE.NOERROR, aa: true, ra: false, answer: hosts, authority: [], additional: [] };
    const k = this.kube.answer(q.name, q.type);
    if (k) return { rcode: k.rcode === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR, aa: true, ra: false, answer: k.answer, authority: k.authority, additional: k.additional };
    // Without a configured upstream the lab's nodes know no outside names: NXDOMAIN, as an
    // upstream resolver would answer for a name that does not exist.
    const f = this.opts.forward ? this.opts.forward(q) : { rcode: RCODE.NXDOMAIN, answer: [] };
    if (!f) return { rcode: RCODE.SERVFAIL, aa: false, ra: false, answer: [], authority: [], additional: [] };
    return { rcode: f.rcode, aa: f.aa ?? false, ra: f.ra ?? true, answer: f.answer, authority: f.authority ?? [], additional: f.additional ?? [] };
  }

  private fromHosts(q: Question): ResourceRecord[] | null {
    const name = fqdn(q.name).toLowerCase();
    const hits = (this.opts.hosts ?? []).filter((h) => h.names.some((n) => fqdn(n).toLowerCase() === name));
    if (!hits.length) return null;
    const want = q.type === TYPE_CODES.AAAA ? 'AAAA' : 'A';
    if (q.type !== TYPE_CODES.A && q.type !== TYPE_CODES.AAAA) return null;
    const recs = hits.filter((h) => h.ip.includes(':') === (want === 'AAAA')).map((h) => ({ name: q.name, ttl: 3600, data: { type: want, address: h.ip } }) as ResourceRecord);
    return recs.length ? recs : null;
  }

  /** The reply to a query message, as the server writes it for `transport`. */
  serve(query: DnsMessage, transport: 'udp' | 'tcp' = 'udp'): DnsMessage {
    const reply: DnsMessage = {
      id: query.id,
      qr: true,
      opcode: query.opcode,
      aa: false,
      tc: false,
      rd: query.opcode === 0 ? query.rd : false,
      ra: false,
      ad: false,
      cd: query.opcode === 0 ? query.cd : false,
      rcode: RCODE.NOERROR,
      question: query.question.slice(0, 1),
      answer: [],
      authority: [],
      additional: [],
    };
    if (query.question.length !== 1) reply.rcode = RCODE.FORMERR;
    else if (query.opcode !== 0) reply.rcode = RCODE.NOTIMP;
    else {
      const r = this.resolve(query.question[0]);
      Object.assign(reply, { rcode: r.rcode, aa: r.aa, ra: r.ra, answer: this.loadbalance(r.answer), authority: r.authority, additional: r.additional });
    }
    if (query.edns) reply.edns = echoEdns(query.edns);
    return scrub(reply, query, transport);
  }

  /** Bytes in, bytes out: the UDP payload the lab's packet carries. Null for garbage (CoreDNS drops it). */
  serveBytes(bytes: Uint8Array, transport: 'udp' | 'tcp' = 'udp'): Uint8Array | null {
    let q: DnsMessage;
    try {
      q = decodeMessage(bytes);
    } catch {
      return null;
    }
    if (q.qr) return null;
    const reply = this.serve(q, transport);
    return encodeMessage(reply, replyCompressed(reply, q, transport));
  }

  // The loadbalance plugin shuffles A, AAAA and MX records, keeping everything else in place.
  private loadbalance(answer: ResourceRecord[]): ResourceRecord[] {
    const rnd = this.opts.random;
    if (!rnd) return answer;
    const isAddr = (r: ResourceRecord): boolean => r.data.type === 'A' || r.data.type === 'AAAA';
    const addrs = answer.filter(isAddr);
    for (let i = addrs.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [addrs[i], addrs[j]] = [addrs[j], addrs[i]];
    }
    let k = 0;
    return answer.map((r) => (isAddr(r) ? addrs[k++] : r));
  }
}

function echoEdns(q: Edns): Edns {
  return { udpSize: q.udpSize, version: 0, do: q.do, extendedRcode: 0, options: q.options.filter((o) => ECHOED_OPTIONS.has(o.code)) };
}

function bufferSize(query: DnsMessage, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return 65535;
  return Math.max(512, query.edns?.udpSize ?? 0);
}

/** Whether the server compresses this reply's names (request.Scrub). */
export function replyCompressed(reply: DnsMessage, query: DnsMessage, transport: 'udp' | 'tcp' = 'udp'): boolean {
  const plain = encodeMessage(reply, false).length;
  if (plain <= bufferSize(query, transport)) return transport === 'udp' && plain > 1480;
  return true;
}

// request.Scrub: fit the reply into the client's buffer, dropping additional records first,
// then answers (setting TC).
function scrub(reply: DnsMessage, query: DnsMessage, transport: 'udp' | 'tcp'): DnsMessage {
  const size = bufferSize(query, transport);
  if (encodeMessage(reply, false).length <= size) return reply;
  if (encodeMessage(reply, true).length <= size) return reply;
  const r = { ...reply, additional: [...reply.additional], answer: [...reply.answer] };
  while (r.additional.length && encodeMessage(r, true).length > size) r.additional.pop();
  if (encodeMessage(r, true).length <= size) return r;
  while (r.answer.length && encodeMessage(r, true).length > size) r.answer.pop();
  r.tc = true;
  return r;
}

/**
 * A DnsAsk (resolver.ts) answered by this server through the wire format, as a packet would
 * carry it: `reachable` says whether the query gets to the server (the lab's trace decides).
 */
export function askCoreDns(dns: CoreDns, reachable: (server: string) => boolean = () => true): (server: string, query: DnsMessage) => DnsExchange {
  return (server, query) => {
    if (!reachable(server)) return { kind: 'timeout' };
    const bytes = dns.serveBytes(encodeMessage(query, true));
    if (!bytes) return { kind: 'timeout' };
    return { kind: 'reply', reply: decodeMessage(bytes), size: bytes.length, rttMs: 0 };
  };
}
