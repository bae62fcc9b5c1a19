// What the lab hands the client tools after executing their request: how a TCP connection
// attempt ended, how a name resolved, and the shared vocabulary the tools print from (errno
// texts, the clock). Everything here is plain data; the tools never touch the network.

import { TYPE_CODES } from '../../kube/dns/message.ts';
import { gaiError, stubResolve, type DnsAsk, type DnsExchange, type ResolvConf, type StubResult, type Verdict } from '../../kube/dns/resolver.ts';

/** The end of a connect(): what the SYN met on its way (traced by the lab). */
export type ConnectOutcome =
  | { kind: 'connected'; ip: string; elapsedMs?: number }
  /** A RST came back (nothing listens, or a REJECT --reject-with tcp-reset). */
  | { kind: 'refused'; ip: string; elapsedMs?: number }
  /** Nothing came back: the kernel gave up after its SYN retries (ETIMEDOUT) at elapsedMs. */
  | { kind: 'timeout'; ip: string; elapsedMs: number }
  /** An ICMP error came back, or no route: EHOSTUNREACH / ENETUNREACH (ENOPROTOOPT: an ICMP
   *  protocol unreachable). */
  | { kind: 'unreachable'; ip: string; errno: 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOPROTOOPT'; elapsedMs?: number };

export const ERRNO_TEXT = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOPROTOOPT: 'Protocol not available',
  EINPROGRESS: 'Operation now in progress',
} as const;

/** How BIND's tools (dig, nslookup) name a query's socket error (isc_result_totext). */
export function exchangeErrorText(ex: Exclude<DnsExchange, { kind: 'reply' }>): string {
  if (ex.kind === 'timeout') return 'timed out';
  if (ex.kind === 'refused') return 'connection refused';
  return ex.errno === 'EHOSTUNREACH' ? 'host unreachable' : ex.errno === 'ENETUNREACH' ? 'network unreachable' : 'invalid protocol';
}

export function outcomeErrno(o: ConnectOutcome): keyof typeof ERRNO_TEXT | null {
  switch (o.kind) {
    case 'connected':
      return null;
    case 'refused':
      return 'ECONNREFUSED';
    case 'timeout':
      return 'ETIMEDOUT';
    case 'unreachable':
      return o.errno;
  }
}

/** How getaddrinfo() answered for a host name (or a numeric address, which needs no DNS). */
export type NameResolution =
  | { ok: true; addresses: string[]; canonicalName: string; lookup?: StubResult }
  | { ok: false; code: 'EAI_NONAME' | 'EAI_NODATA' | 'EAI_AGAIN' | 'EAI_FAIL'; message: string; lookup?: StubResult };

/** The pod-side environment a client tool runs in. */
export interface NetEnv {
  resolvConf: ResolvConf;
  /** One DNS query to a server and what came back (the lab traces the UDP packet). */
  ask: DnsAsk;
  /** The lab clock, milliseconds since the epoch (dig's WHEN, GNU-style dates). */
  nowMs: number;
  /** A uniform [0, 1) source (DNS IDs, dig's cookie); seeded by the lab. */
  random: () => number;
}

export function isIPv4Literal(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

export function randomId(random: () => number): number {
  return Math.floor(random() * 65536) & 0xffff;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `%a %b %d %H:%M:%S UTC %Y` in UTC (pods run in UTC): dig's `;; WHEN:` line. */
export function ctimeUTC(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** RFC 7231 date (`Thu, 26 Nov 2026 14:32:28 GMT`), for HTTP headers. */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`;
}

/** /etc/hosts of the pod (the kubelet writes localhost and the pod's own name), consulted first. */
export interface HostsEntry {
  ip: string;
  names: string[];
}

export interface ResolveOptions {
  flavor?: 'glibc' | 'musl';
  /** AF_INET only (ping -4, busybox tools): no AAAA queries. */
  ipv4Only?: boolean;
  hosts?: HostsEntry[];
}

/** getaddrinfo() for a host: a numeric address as is, /etc/hosts, then DNS through the search list. */
export function resolveHost(host: string, env: NetEnv, opts: ResolveOptions = {}): NameResolution {
  if (isIPv4Literal(host)) return { ok: true, addresses: [host], canonicalName: host };
  const want = host.replace(/\.$/, '').toLowerCase();
  const fromFile = (opts.hosts ?? []).filter((h) => h.names.some((n) => n.toLowerCase() === want) && isIPv4Literal(h.ip));
  if (fromFile.length) return { ok: true, addresses: fromFile.map((h) => h.ip), canonicalName: fromFile[0].names[0] };
  const flavor = opts.flavor ?? 'glibc';
  const lookup = stubResolve(host, env.resolvConf, env.ask, {
    flavor,
    types: opts.ipv4Only ? [TYPE_CODES.A] : [TYPE_CODES.A, TYPE_CODES.AAAA],
    nextId: () => randomId(env.random),
  });
  if (lookup.verdict === 'answer') {
    const v4 = lookup.addresses.filter(isIPv4Literal);
    if (v4.length) return { ok: true, addresses: v4, canonicalName: (lookup.canonicalName ?? host).replace(/\.$/, ''), lookup };
    return { ok: false, ...gaiCode('nodata', flavor), lookup };
  }
  return { ok: false, ...gaiCode(lookup.verdict, flavor), lookup };
}

function gaiCode(v: Verdict, flavor: 'glibc' | 'musl'): { code: 'EAI_NONAME' | 'EAI_NODATA' | 'EAI_AGAIN' | 'EAI_FAIL'; message: string } {
  const e = gaiError(v, flavor);
  return { code: e.code as 'EAI_NONAME' | 'EAI_NODATA' | 'EAI_AGAIN' | 'EAI_FAIL', message: e.message };
}
