// iputils `ping` (20221126, Debian 12): the PING line with the canonical name, one line per
// echo reply (the replying address named by a PTR lookup when the target was a name), and the
// statistics block. The lab passes each probe's fate and round-trip time; nothing here reads a
// clock. Checked against the real tool in test/kernel/netclients-format.test.ts.

import { makeQuery, TYPE_CODES } from '../../kube/dns/message.ts';
import { reverseName } from '../../kube/dns/records.ts';
import { fail, type CommandResult } from '../types.ts';
import { isIPv4Literal, randomId, resolveHost, type HostsEntry, type NameResolution, type NetEnv } from './common.ts';

export interface PingRequest {
  host: string;
  count?: number;
  /** -i seconds between probes (1). */
  interval: number;
  /** -W seconds to wait for a reply. */
  waitSec: number;
  /** -w deadline in seconds. */
  deadline?: number;
  /** -s data bytes (56). */
  size: number;
  numeric: boolean;
  quiet: boolean;
  ttl?: number;
  /** -I: the address (or device) given, and what it bound to. */
  iface?: string;
  source?: { addr: string; dev?: string };
}

function invalid(v: string, range?: string): CommandResult {
  return fail(`ping: invalid argument: '${v}'${range ? `: out of range: ${range}` : ''}`, 1);
}

export function parsePing(argv: string[]): PingRequest | CommandResult {
  const req: PingRequest = { host: '', interval: 1, waitSec: 10, size: 56, numeric: false, quiet: false };
  const args = argv.slice(1);
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      if ('ciWwstI'.includes(c)) {
        const v = k + 1 < a.length ? a.slice(k + 1) : args[++i];
        if (v === undefined) return fail(`ping: option requires an argument -- '${c}'\n${PING_USAGE}`, 2);
        const n = Number(v);
        if (c === 'c') {
          if (!/^\d+$/.test(v)) return invalid(v);
          if (n < 1) return invalid(v, '1 <= value <= 9223372036854775807');
          req.count = n;
        } else if (c === 'i') {
          if (!/^\d*\.?\d+$/.test(v)) return fail(`ping: bad timing interval: ${v}`, 1);
          req.interval = n;
        } else if (c === 'W') {
          if (!/^\d*\.?\d+$/.test(v)) return fail(`ping: bad linger time: ${v}`, 1);
          req.waitSec = n;
        } else if (c === 'w') {
          if (!/^\d+$/.test(v)) return invalid(v);
          req.deadline = n;
        } else if (c === 's') {
          if (!/^\d+$/.test(v)) return invalid(v);
          req.size = n;
        } else if (c === 'I') {
          req.iface = v;
        } else if (c === 't') {
          if (!/^\d+$/.test(v)) return invalid(v);
          if (n < 1 || n > 255) return invalid(v, '1 <= value <= 255');
          req.ttl = n;
        }
        break;
      }
      if (c === 'n') req.numeric = true;
      else if (c === 'q') req.quiet = true;
      else if (!'46AaBbDdfLOhRrUv'.includes(c)) return fail(`ping: invalid option -- '${c}'\n${PING_USAGE}`, 2);
    }
  }
  if (!rest.length) return fail('ping: usage error: Destination address required', 1);
  req.host = rest[rest.length - 1];
  return req;
}

const PING_USAGE = `
Usage
  ping [options] <destination>`;

/** What became of one echo request. */
export type ProbeOutcome =
  | { kind: 'reply'; from: string; ttl: number; rttUs: number }
  | { kind: 'lost' }
  /** An ICMP error came back (`From 10.0.0.1 icmp_seq=1 Destination Host Unreachable`). */
  | { kind: 'error'; from: string; message: string };

const UNREACH = [
  'Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable', 'Destination Port Unreachable',
  'Frag needed and DF set', 'Source Route Failed', 'Destination Net Unknown', 'Destination Host Unknown', 'Source Host Isolated',
  'Destination Net Prohibited', 'Destination Host Prohibited', 'Destination Net Unreachable for Type of Service',
  'Destination Host Unreachable for Type of Service', 'Packet filtered', 'Precedence Violation', 'Precedence Cutoff',
];

/** How ping names an ICMP error that came back for its echo request (iputils' pr_icmph;
 *  `Frag needed` also gives the MTU, which the lab's errors never carry). */
export function icmpErrorText(type: number, code: number): string {
  if (type === 3) return UNREACH[code] ?? `Dest Unreachable, Bad Code: ${code}`;
  if (type === 11) return code === 0 ? 'Time to live exceeded' : code === 1 ? 'Frag reassembly time exceeded' : `Time exceeded, Bad Code: ${code}`;
  return `Bad ICMP type: ${type}`;
}

export interface PingResult {
  resolution: NameResolution;
  probes: ProbeOutcome[];
  /** Wall time from the first probe to the end, ms (the statistics' `time`). */
  elapsedMs: number;
  /** Reverse names of replying addresses (the lab resolves them with PTR queries). */
  names?: Record<string, string | undefined>;
}

// C's printf("%g"): six significant digits, trailing zeros dropped.
function fmtG(x: number): string {
  if (x === 0) return '0';
  let s = x.toPrecision(6);
  if (s.includes('e')) return s;
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function ms3(us: number): string {
  return `${Math.floor(us / 1000)}.${String(Math.floor(us % 1000)).padStart(3, '0')}`;
}

// gather_statistics(): the precision shrinks as the time grows.
function tripTime(t: number): string {
  if (t >= 100000 - 50) return `${Math.floor((t + 500) / 1000)}`;
  if (t >= 10000 - 5) return `${Math.floor((t + 50) / 1000)}.${Math.floor(((t + 50) % 1000) / 100)}`;
  if (t >= 1000) return `${Math.floor((t + 5) / 1000)}.${String(Math.floor(((t + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
}

function isqrt(a: number): number {
  if (a <= 0) return 0;
  let prev = Number.MAX_SAFE_INTEGER;
  let x = a;
  while (x < prev) {
    prev = x;
    x = Math.floor((x + Math.floor(a / x)) / 2);
  }
  return x;
}

export function formatPing(req: PingRequest, res: PingResult): CommandResult {
  if (!res.resolution.ok) return fail(`ping: ${req.host}: ${res.resolution.message}`, 2);
  const ip = res.resolution.addresses[0];
  const display = res.resolution.canonicalName;
  const from = req.source ? `from ${req.source.addr} ${req.source.dev ?? ''}: ` : '';
  let out = `PING ${display} (${ip}) ${from}${req.size}(${req.size + 28}) bytes of data.\n`;
  const useNames = !req.numeric && !isIPv4Literal(req.host);
  const times: number[] = [];
  let received = 0;
  let errors = 0;
  res.probes.forEach((p, i) => {
    const seq = i + 1;
    if (p.kind === 'reply') {
      received++;
      const t = Math.max(0, Math.round(p.rttUs));
      times.push(t);
      const name = useNames ? res.names?.[p.from] : undefined;
      const from = name ? `${name} (${p.from})` : p.from;
      if (!req.quiet) out += `${req.size + 8} bytes from ${from}: icmp_seq=${seq} ttl=${p.ttl} time=${tripTime(t)} ms\n`;
    } else if (p.kind === 'error') {
      errors++;
      if (!req.quiet) out += `From ${p.from} icmp_seq=${seq} ${p.message}\n`;
    }
  });
  const sent = res.probes.length;
  out += `\n--- ${display} ping statistics ---\n`;
  out += `${sent} packets transmitted, ${received} received`;
  if (errors) out += `, +${errors} errors`;
  if (sent) out += `, ${fmtG(((sent - received) * 100) / sent)}% packet loss, time ${Math.round(res.elapsedMs)}ms`;
  out += '\n';
  if (received) {
    const sum = times.reduce((a, b) => a + b, 0);
    const sum2 = times.reduce((a, b) => a + b * b, 0);
    const avg = Math.floor(sum / received);
    const variance = Math.floor((sum2 - Math.floor((sum * sum) / received)) / received);
    out += `rtt min/avg/max/mdev = ${ms3(Math.min(...times))}/${ms3(avg)}/${ms3(Math.max(...times))}/${ms3(isqrt(variance))} ms`;
  }
  out += '\n';
  const code = received === 0 || (req.deadline !== undefined && req.count !== undefined && received < req.count) ? 1 : 0;
  return { stdout: out, stderr: '', code, changed: false };
}

export interface PingEnv extends NetEnv {
  hosts?: HostsEntry[];
  /** Sends echo request number `seq` (from 1) to ip and says what came of it. */
  echo: (ip: string, seq: number, req: PingRequest) => ProbeOutcome;
  /** The lab's count when -c is absent (a console command must end): 4. */
  defaultCount?: number;
  /** -I: binds to a local address or a device; a string is ping's error (exit 2). */
  bind?: (spec: string) => { addr: string; dev?: string } | string;
}

export function ping(argv: string[], _stdin: string, env: PingEnv): CommandResult {
  const req = parsePing(argv);
  if ('code' in req) return req;
  if (req.iface !== undefined && env.bind) {
    const b = env.bind(req.iface);
    if (typeof b === 'string') return fail(b, 2);
    req.source = b;
  }
  const resolution = resolveHost(req.host, env, { hosts: env.hosts });
  if (!resolution.ok) return formatPing(req, { resolution, probes: [], elapsedMs: 0 });
  const ip = resolution.addresses[0];
  const count = req.count ?? (req.deadline !== undefined ? Math.max(1, Math.floor(req.deadline / req.interval)) : (env.defaultCount ?? 4));
  const probes: ProbeOutcome[] = [];
  for (let seq = 1; seq <= count; seq++) probes.push(env.echo(ip, seq, req));
  // The reply addresses get one PTR lookup each (iputils caches the last name).
  const names: Record<string, string | undefined> = {};
  if (!req.numeric && !isIPv4Literal(req.host)) {
    for (const p of probes) {
      if (p.kind !== 'reply' || p.from in names) continue;
      names[p.from] = resolveReverse(p.from, env);
    }
  }
  const last = probes.length ? probes[probes.length - 1] : undefined;
  const lastRtt = last?.kind === 'reply' ? last.rttUs / 1000 : 0;
  const elapsedMs = (count - 1) * req.interval * 1000 + lastRtt;
  return formatPing(req, { resolution, probes, elapsedMs, names });
}

/** getnameinfo(): one PTR query for the address; the first name, without its trailing dot. */
export function resolveReverse(ip: string, env: NetEnv): string | undefined {
  const server = env.resolvConf.nameservers[0];
  if (!server) return undefined;
  const ex = env.ask(server, makeQuery(randomId(env.random), reverseName(ip), TYPE_CODES.PTR));
  if (ex.kind !== 'reply') return undefined;
  const ptr = ex.reply.answer.find((r) => r.data.type === 'PTR');
  return ptr && ptr.data.type === 'PTR' ? ptr.data.target.replace(/\.$/, '') : undefined;
}
