// OpenBSD netcat (Debian's netcat-openbsd 1.219), the `nc` of most debug images:
// `nc -zv HOST PORT[-PORT]` reports each port on stderr (without -v only the exit status
// tells); without -z it connects and relays stdin, printing what the peer sends back.
// With -u a "connection" is a connected UDP socket, which sends nothing by itself: only -v
// tests the port (udptest: an "X" datagram, a second, then one a second for -w seconds, 3 by
// default — a failed first write, or an ICMP port unreachable after it, fails the port,
// silently; no other error does); without -z, stdin goes out as one datagram. Checked
// against the real tool in test/kernel/netclients-format.test.ts and icmp-clients-compare
// (and its packets in test/engine/netclients).

import { portToService, serviceToPort } from '../../netfilter/services.ts';
import { fail, type CommandResult } from '../types.ts';
import { ERRNO_TEXT, isIPv4Literal, outcomeErrno, resolveHost, type ConnectOutcome, type HostsEntry, type NameResolution, type NetEnv } from './common.ts';

const USAGE =
  'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n' +
  '\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n' +
  '\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n' +
  '\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n' +
  '\t  [destination] [port]';

export interface NcRequest {
  host: string;
  ports: number[];
  zero: boolean;
  verbose: boolean;
  udp: boolean;
  numeric: boolean;
  /** -w SECONDS: connect (and idle) timeout. */
  timeoutSec?: number;
}

const NEEDS_ARG = new Set('IiMmOPpqsTVWwXx'.split(''));

export function parseNc(argv: string[]): NcRequest | CommandResult {
  const req: NcRequest = { host: '', ports: [], zero: false, verbose: false, udp: false, numeric: false };
  const rest: string[] = [];
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-' || rest.length) {
      rest.push(a);
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      if (NEEDS_ARG.has(c)) {
        const v = k + 1 < a.length ? a.slice(k + 1) : args[++i];
        if (v === undefined) return fail(`nc: option requires an argument -- '${c}'\n${USAGE}`, 1);
        if (c === 'w') {
          if (!/^\d+$/.test(v)) return fail(`nc: timeout invalid: ${v}`, 1);
          req.timeoutSec = Number(v);
        }
        break;
      }
      if (c === 'z') req.zero = true;
      else if (c === 'v') req.verbose = true;
      else if (c === 'u') req.udp = true;
      else if (c === 'n') req.numeric = true;
      else if (!'46CDdFhklNrStUZ'.includes(c)) return fail(`nc: invalid option -- '${c}'\n${USAGE}`, 1);
    }
  }
  if (!rest.length) return fail(USAGE, 1);
  if (rest.length < 2) return fail('nc: missing port number', 1);
  req.host = rest[0];
  for (const spec of rest.slice(1)) {
    const range = /^(\d+)-(\d+)$/.exec(spec);
    if (range) {
      const lo = Math.min(Number(range[1]), Number(range[2]));
      const hi = Math.max(Number(range[1]), Number(range[2]));
      if (lo < 1 || hi > 65535) return fail(`nc: port range not valid: ${spec}`, 1);
      for (let p = lo; p <= hi; p++) req.ports.push(p);
    } else if (/^\d+$/.test(spec)) {
      const p = Number(spec);
      if (p < 1 || p > 65535) return fail(`nc: port number invalid: ${spec}`, 1);
      req.ports.push(p);
    } else {
      // A service name (`http`) is looked up in /etc/services.
      const p = serviceToPort(spec, req.udp ? 'udp' : 'tcp');
      if (p === undefined) return fail(`nc: port number invalid: ${spec}`, 1);
      req.ports.push(p);
    }
  }
  if (req.numeric && !isIPv4Literal(req.host)) return fail(`nc: getaddrinfo for host "${req.host}" port ${rest[1]}: Name or service not known`, 1);
  return req;
}

export interface NcPortResult {
  port: number;
  /** One connect per address of the host, in order, until one connects. */
  attempts: ConnectOutcome[];
}

export interface NcResult {
  resolution: NameResolution;
  ports: NcPortResult[];
  /** What the peer sent back (mode without -z). */
  received?: string;
}

export function formatNc(req: NcRequest, res: NcResult): CommandResult {
  if (!res.resolution.ok) {
    return fail(`nc: getaddrinfo for host "${req.host}" port ${req.ports[0]}: ${res.resolution.message}`, 1);
  }
  let stderr = '';
  let ok = false;
  const proto = req.udp ? 'udp' : 'tcp';
  for (const p of res.ports) {
    for (const o of p.attempts) {
      const who = o.ip === req.host ? req.host : `${req.host} (${o.ip})`;
      if (o.kind === 'connected') {
        ok = true;
        if (req.verbose) stderr += `Connection to ${who} ${p.port} port [${proto}/${portToService(p.port, proto) ?? '*'}] succeeded!\n`;
        break;
      }
      // Failures are reported only with -v.
      if (!req.verbose) continue;
      // (-w: nc's poll gives up when the connect has not ended by then)
      if (o.kind === 'timeout' && req.timeoutSec !== undefined && o.elapsedMs >= req.timeoutSec * 1000) {
        stderr += `nc: connect to ${who} port ${p.port} (${proto}) timed out: ${ERRNO_TEXT.EINPROGRESS}\n`;
      } else {
        stderr += `nc: connect to ${who} port ${p.port} (${proto}) failed: ${ERRNO_TEXT[outcomeErrno(o) ?? 'ECONNREFUSED']}\n`;
      }
    }
  }
  return { stdout: ok && !req.zero ? (res.received ?? '') : '', stderr, code: ok ? 0 : 1, changed: false };
}

/** A connected UDP socket (-u): each send is one datagram of `bytes` payload bytes, from the
 *  same source port; its outcome says whether an ICMP error came back for it, or `denied`: the
 *  write itself failed (EPERM: the host's own rules dropped the datagram on its way out). */
export interface UdpSocket {
  send(bytes: number): ConnectOutcome | { kind: 'denied'; ip: string };
}

export interface NcEnv extends NetEnv {
  hosts?: HostsEntry[];
  connect: (ip: string, port: number, budgetMs: number) => ConnectOutcome;
  /** -u: a UDP socket connected to ip:port (connect() sends nothing), or the route error. */
  udp?: (ip: string, port: number) => UdpSocket | ConnectOutcome;
  /** Without -z: the peer's bytes in answer to stdin. */
  exchange?: (ip: string, port: number, stdin: string) => string;
}

export function nc(argv: string[], stdin: string, env: NcEnv): CommandResult {
  const req = parseNc(argv);
  if ('code' in req) return req;
  const resolution = resolveHost(req.host, env, { hosts: env.hosts });
  if (req.udp && env.udp && resolution.ok) return ncUdp(req, stdin, resolution.addresses, env.udp);
  const res: NcResult = { resolution, ports: [] };
  if (resolution.ok) {
    for (const port of req.ports) {
      const attempts: ConnectOutcome[] = [];
      for (const ip of resolution.addresses) {
        const o = env.connect(ip, port, (req.timeoutSec ?? 0) * 1000 || Infinity);
        attempts.push(o);
        if (o.kind === 'connected') {
          if (!req.zero) res.received = env.exchange?.(ip, port, stdin) ?? '';
          break;
        }
      }
      res.ports.push({ port, attempts });
      if (!req.zero && attempts.some((a) => a.kind === 'connected')) break;
    }
  }
  return formatNc(req, res);
}

/** -u: each port through a connected UDP socket (see the header). */
function ncUdp(req: NcRequest, stdin: string, addresses: readonly string[], udp: NonNullable<NcEnv['udp']>): CommandResult {
  let stderr = '';
  let ok = false;
  for (const port of req.ports) {
    let sock: UdpSocket | null = null;
    let ip = '';
    for (const a of addresses) {
      const s = udp(a, port);
      if ('send' in s) {
        sock = s;
        ip = a;
        break;
      }
      // (connect() of a UDP socket fails only without a route)
      if (req.verbose) stderr += `nc: connect to ${a === req.host ? req.host : `${req.host} (${a})`} port ${port} (udp) failed: ${ERRNO_TEXT[outcomeErrno(s) ?? 'ENETUNREACH']}\n`;
    }
    if (!sock) continue;
    if (req.verbose) {
      // udptest: a first write that fails fails the port; a port unreachable for it makes the
      // second write fail with ECONNREFUSED, which fails it too; then one X a second. The
      // socket's other errors (EHOSTUNREACH for a host prohibited, ...) fail writes that
      // udptest does not look at.
      const first = sock.send(1).kind;
      if (first === 'refused' || first === 'denied') continue;
      sock.send(1);
      for (let i = 0; i < (req.timeoutSec ?? 3); i++) sock.send(1);
      const who = ip === req.host ? req.host : `${req.host} (${ip})`;
      stderr += `Connection to ${who} ${port} port [udp/${portToService(port, 'udp') ?? '*'}] succeeded!\n`;
    }
    ok = true;
    if (!req.zero) {
      if (stdin) sock.send(new TextEncoder().encode(stdin).length);
      break;
    }
  }
  return { stdout: '', stderr, code: ok ? 0 : 1, changed: false };
}
