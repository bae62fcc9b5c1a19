// A pod's stub resolver: the /etc/resolv.conf the kubelet gives it, and the order in which a
// resolver library walks the search list for a name. The lab sends each query of the walk as a
// UDP packet to the nameserver (the kube-dns VIP), so the order, and where the walk stops, is
// what a user sees in a trace:
//
//   glibc (Debian images: curl, ping, nc, wget)   fewer dots than ndots: every search domain,
//        then the name as is; otherwise the name as is first, then the search domains. It goes on
//        after NXDOMAIN, NODATA and SERVFAIL, and stops at a timeout (res_nsearch).
//   musl (Alpine images)   fewer dots than ndots: the search domains, then the name as is;
//        otherwise only the name. It goes on only after NXDOMAIN (name_from_dns_search).
//   bind (nslookup, dig +search)   like musl on the order; goes on only after NXDOMAIN
//        (dighost.c next_origin).
//
// A trailing dot makes the name absolute: one query, no search.

import { fqdn, makeQuery, RCODE, rrType, TYPE_CODES, type DnsMessage, type ResourceRecord } from './message.ts';
import { CoreDns, askCoreDns, type CoreDnsOptions } from './coredns.ts';
import type { KubeDnsData } from './records.ts';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** `options timeout:N` (seconds; glibc's default 5). */
  timeout: number;
  /** `options attempts:N` (glibc's default 2). */
  attempts: number;
  /** Other `options` words, kept in order. */
  options: string[];
}

export type DnsPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface PodDnsOptions {
  namespace: string;
  clusterDomain?: string;
  /** The kube-dns Service's ClusterIP (kubelet --cluster-dns). */
  clusterDNS?: string;
  /** The node's own resolv.conf (dnsPolicy Default, and the host search domains kubelet appends). */
  host?: ResolvConf;
  dnsPolicy?: DnsPolicy;
  hostNetwork?: boolean;
}

export const DEFAULT_CLUSTER_DNS = '10.96.0.10';

/**
 * The pod's resolv.conf as the kubelet builds it: for ClusterFirst the cluster DNS, the search
 * list `<ns>.svc.<domain> svc.<domain> <domain>` followed by the node's search domains, and
 * `options ndots:5`; a host-network pod with plain ClusterFirst, or dnsPolicy Default, gets
 * the node's file.
 */
export function podResolvConf(o: PodDnsOptions): ResolvConf {
  const host = o.host ?? { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, options: [] };
  const policy = o.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'Default' || (policy === 'ClusterFirst' && o.hostNetwork)) return { ...host, search: [...host.search], options: [...host.options] };
  if (policy === 'None') return { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, options: [] };
  const domain = (o.clusterDomain ?? 'cluster.local').replace(/\.$/, '');
  const search = [`${o.namespace}.svc.${domain}`, `svc.${domain}`, domain];
  for (const s of host.search) if (!search.includes(s)) search.push(s);
  // glibc reads at most 6 search domains (MAXDNSRCH); the kubelet warns and trims the rest.
  return { nameservers: [o.clusterDNS ?? DEFAULT_CLUSTER_DNS], search: search.slice(0, 6), ndots: 5, timeout: 5, attempts: 2, options: ['ndots:5'] };
}

/**
 * The file's text. The runtime writes it: containerd (and CRI-O) put `search` first, docker
 * (dockershim, the article's minikube) puts `nameserver` first.
 */
export function formatResolvConf(rc: ResolvConf, runtime: 'containerd' | 'docker' = 'containerd'): string {
  const ns = rc.nameservers.map((s) => `nameserver ${s}\n`).join('');
  const search = rc.search.length ? `search ${rc.search.join(' ')}\n` : '';
  const options = rc.options.length ? `options ${rc.options.join(' ')}\n` : '';
  return runtime === 'docker' ? ns + search + options : search + ns + options;
}

/** Parses resolv.conf text the way glibc does (last `search`/`domain` wins, up to 3 nameservers). */
export function parseResolvConf(text: string): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] && rc.nameservers.length < 3) rc.nameservers.push(rest[0]);
    else if (key === 'search') rc.search = rest.slice(0, 6);
    else if (key === 'domain' && rest[0]) rc.search = [rest[0]];
    else if (key === 'options') {
      for (const opt of rest) {
        rc.options.push(opt);
        const m = /^(ndots|timeout|attempts):(\d+)$/.exec(opt);
        if (m) {
          const v = Number(m[2]);
          if (m[1] === 'ndots') rc.ndots = Math.min(v, 15);
          else if (m[1] === 'timeout') rc.timeout = Math.min(Math.max(v, 1), 30);
          else rc.attempts = Math.min(Math.max(v, 1), 5);
        }
      }
    }
  }
  return rc;
}

export type StubFlavor = 'glibc' | 'musl' | 'bind';

function dots(name: string): number {
  return (name.match(/\./g) ?? []).length;
}

/** Every name the resolver may ask, in order (it stops early on an answer or a fatal error). */
export function searchCandidates(name: string, rc: Pick<ResolvConf, 'search' | 'ndots'>, flavor: StubFlavor = 'glibc'): string[] {
  if (name.endsWith('.')) return [fqdn(name)];
  const expanded = rc.search.map((d) => fqdn(`${name}.${d.replace(/\.$/, '')}`));
  const asIs = fqdn(name);
  if (dots(name) >= rc.ndots) return flavor === 'glibc' ? [asIs, ...expanded] : [asIs];
  return [...expanded, asIs];
}

// ---- walking the search list ----------------------------------------------------------------

/** What came back for one query: a reply, or none (no answer within the timeout, an ICMP port
 *  unreachable, or another ICMP error the socket takes: see udpSocketError). */
export type DnsExchange =
  /** `size` is the reply's wire length (dig's MSG SIZE), `rttMs` the time it took (dig's Query time). */
  | { kind: 'reply'; reply: DnsMessage; size?: number; rttMs?: number }
  | { kind: 'timeout' }
  | { kind: 'refused' }
  | { kind: 'unreachable'; errno: 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOPROTOOPT' };

/** Sends one query to a server; the lab traces it as a UDP packet to `server`:`port` (53). */
export type DnsAsk = (server: string, query: DnsMessage, port?: number) => DnsExchange;

export interface QueryStep {
  server: string;
  name: string;
  type: number;
  id: number;
  outcome: DnsExchange;
}

export type Verdict = 'answer' | 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'refused' | 'error';

export interface StubResult {
  /** Every query sent, in order (A and AAAA of one name come as a pair). */
  queries: QueryStep[];
  verdict: Verdict;
  /** The name whose answer was used (the CNAME owner chain starts here). */
  name?: string;
  /** The name the answer's records end at after CNAMEs (getaddrinfo's ai_canonname). */
  canonicalName?: string;
  /** Address records of the answer, A before AAAA. */
  addresses: string[];
  /** The answer's records of the types asked, at the end of the CNAME chain. */
  records: ResourceRecord[];
  /** The reply of the successful (or last) query of each type asked. */
  replies: DnsMessage[];
}

export interface StubOptions {
  flavor?: StubFlavor;
  /** Types asked per name: getaddrinfo(AF_UNSPEC) sends A and AAAA; AF_INET only A. */
  types?: number[];
  /** DNS message IDs, one per query (a seeded generator in the lab). */
  nextId?: () => number;
}

function classify(ex: DnsExchange): Verdict {
  // (a socket error of another kind ends the query as a refusal does: the stub goes on)
  if (ex.kind === 'unreachable') return 'refused';
  if (ex.kind !== 'reply') return ex.kind;
  const r = ex.reply;
  if (r.rcode === RCODE.NXDOMAIN) return 'nxdomain';
  if (r.rcode === RCODE.SERVFAIL) return 'servfail';
  if (r.rcode !== RCODE.NOERROR) return 'error';
  return r.answer.length ? 'answer' : 'nodata';
}

/**
 * Follows CNAMEs in an answer from `name`: the final owner, its records of the asked type, and
 * the addresses among them.
 */
export function chaseAnswer(reply: DnsMessage, name: string, type?: number): { canonical: string; records: ResourceRecord[]; addresses: string[] } {
  let cur = fqdn(name).toLowerCase();
  let canonical = fqdn(name);
  for (let hops = 0; hops < 16; hops++) {
    const c = reply.answer.find((r) => r.data.type === 'CNAME' && fqdn(r.name).toLowerCase() === cur);
    if (!c || c.data.type !== 'CNAME') break;
    canonical = c.data.target;
    cur = c.data.target.toLowerCase();
  }
  const want = type ?? reply.question[0]?.type;
  const records = reply.answer.filter((r) => fqdn(r.name).toLowerCase() === cur && rrType(r) === want && r.data.type !== 'CNAME');
  const addresses: string[] = [];
  for (const r of records) if (r.data.type === 'A' || r.data.type === 'AAAA') addresses.push(r.data.address);
  return { canonical, records, addresses };
}

/**
 * One name through the stub resolver: asks each candidate (every type in `types`, against the
 * first nameserver; the lab has one) until one answers, following the flavor's stop rules.
 */
export function stubResolve(name: string, rc: ResolvConf, ask: DnsAsk, opts: StubOptions = {}): StubResult {
  const flavor = opts.flavor ?? 'glibc';
  const types = opts.types ?? [TYPE_CODES.A];
  let idState = 0x1234;
  const nextId = opts.nextId ?? (() => (idState = (idState * 1103515245 + 12345) & 0xffff));
  const server = rc.nameservers[0];
  const result: StubResult = { queries: [], verdict: 'error', addresses: [], records: [], replies: [] };
  if (!server) {
    result.verdict = 'refused';
    return result;
  }
  const candidates = searchCandidates(name, rc, flavor);
  const asIsFirst = !name.endsWith('.') && dots(name) >= rc.ndots;
  let gotNodata = false;
  let gotServfail = false;
  let savedAsIs: Verdict | undefined;
  let last: Verdict = 'nxdomain';
  // One name, every type (glibc and musl send them together on one socket).
  const askName = (cand: string): { v: Verdict; addresses: string[]; records: ResourceRecord[]; canonical: string; replies: DnsMessage[] } => {
    const verdicts: Verdict[] = [];
    const replies: DnsMessage[] = [];
    let addresses: string[] = [];
    let records: ResourceRecord[] = [];
    let canonical = cand;
    for (const type of types) {
      const id = nextId() & 0xffff;
      const outcome = ask(server, makeQuery(id, cand, type));
      result.queries.push({ server, name: cand, type, id, outcome });
      verdicts.push(classify(outcome));
      if (outcome.kind !== 'reply') continue;
      replies.push(outcome.reply);
      const chased = chaseAnswer(outcome.reply, cand, type);
      if (chased.records.length) {
        if (!records.length) canonical = chased.canonical;
        records = [...records, ...chased.records];
        addresses = [...addresses, ...chased.addresses];
      }
    }
    const v: Verdict = records.length
      ? 'answer'
      : verdicts.includes('timeout')
        ? 'timeout'
        : verdicts.includes('refused')
          ? 'refused'
          : verdicts.includes('servfail')
            ? 'servfail'
            : verdicts.every((x) => x === 'nxdomain')
              ? 'nxdomain'
              : verdicts.includes('error')
                ? 'error'
                : 'nodata';
    return { v, addresses, records, canonical, replies };
  };
  for (let i = 0; i < candidates.length; i++) {
    const cand = candidates[i];
    let r = askName(cand);
    // glibc takes SERVFAIL as "try the next server": with one server, it asks again until
    // `attempts` runs out (a timeout is not retried here: the lab reports it once).
    for (let n = 1; flavor === 'glibc' && r.v === 'servfail' && n < rc.attempts; n++) r = askName(cand);
    if (r.v === 'answer') {
      return { ...result, verdict: 'answer', name: cand, canonicalName: r.canonical, addresses: r.addresses, records: r.records, replies: r.replies };
    }
    // Records but none of the type asked (an ExternalName CNAME whose target did not resolve):
    // the query itself succeeded, so every resolver stops searching here, empty-handed.
    if (r.replies.some((m) => m.rcode === RCODE.NOERROR && m.answer.length)) {
      return { ...result, verdict: 'nodata', name: cand, canonicalName: r.canonical, replies: r.replies };
    }
    const v = r.v;
    last = v;
    result.replies = r.replies;
    if (flavor === 'glibc') {
      if (asIsFirst && i === 0) savedAsIs = v;
      if (v === 'nodata') gotNodata = true;
      else if (v === 'servfail') gotServfail = true;
      else if (v !== 'nxdomain') break;
    } else if (v !== 'nxdomain') break;
  }
  if (flavor === 'glibc' && (last === 'nxdomain' || last === 'nodata' || last === 'servfail')) {
    last = savedAsIs ?? (gotNodata ? 'nodata' : gotServfail ? 'servfail' : last);
  }
  result.verdict = last;
  return result;
}

/** getaddrinfo's error for a failed walk, as gai_strerror prints it. */
export function gaiError(v: Verdict, flavor: 'glibc' | 'musl' = 'glibc'): { code: string; message: string } {
  const glibc = flavor === 'glibc';
  switch (v) {
    case 'nxdomain':
      return { code: 'EAI_NONAME', message: glibc ? 'Name or service not known' : 'Name does not resolve' };
    case 'nodata':
      return glibc ? { code: 'EAI_NODATA', message: 'No address associated with hostname' } : { code: 'EAI_NODATA', message: 'Name has no usable address' };
    case 'error':
      return { code: 'EAI_FAIL', message: glibc ? 'Non-recoverable failure in name resolution' : 'Non-recoverable error' };
    default:
      return { code: 'EAI_AGAIN', message: glibc ? 'Temporary failure in name resolution' : 'Try again' };
  }
}

/**
 * `resolve(name, type)` for a pod of `namespace`: its resolv.conf, the cluster's CoreDNS, the
 * search walk of `flavor`. The queries and the answer, as a user's tool would get them.
 */
export function resolveInCluster(data: KubeDnsData, namespace: string, name: string, type: number, opts: { flavor?: StubFlavor; coredns?: CoreDnsOptions } = {}): StubResult {
  const rc = podResolvConf({ namespace, clusterDomain: data.zone });
  return stubResolve(name, rc, askCoreDns(new CoreDns(data, opts.coredns)), { flavor: opts.flavor, types: [type] });
}
