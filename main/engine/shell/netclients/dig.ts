// `dig [@server] NAME [TYPE] [+options]` in the format of BIND 9.18's dig (Debian 12's
// dnsutils, checked against the real tool in test/kernel/netclients-format.test.ts): the
// banner, the header and flags, the OPT pseudo-section with the echoed cookie CoreDNS sends
// back, the sections in master-file columns, and the statistics. The lab supplies what a clock
// and a network would: the query time, the WHEN date, the reply (whose wire size is MSG SIZE).

import { encodeMessage, EDNS_COOKIE, fqdn, makeQuery, rcodeName, rdataText, rrType, typeCode, typeName, TYPE_CODES, type DnsMessage, type ResourceRecord } from '../../kube/dns/message.ts';
import { reverseName } from '../../kube/dns/records.ts';
import type { DnsExchange } from '../../kube/dns/resolver.ts';
import { fail, type CommandResult } from '../types.ts';
import { bindCandidates } from './nslookup.ts';
import { ctimeUTC, exchangeErrorText, isIPv4Literal, randomId, type NetEnv } from './common.ts';

export const DIG_VERSION = '9.18.49-1~deb12u3-Debian';

export interface DigRequest {
  name: string;
  type: number;
  server?: string;
  port: number;
  short: boolean;
  search: boolean;
  recurse: boolean;
  cookie: boolean;
  edns: boolean;
  tcp: boolean;
  tries: number;
  time: number;
  cmd: boolean;
  comments: boolean;
  question: boolean;
  answer: boolean;
  authority: boolean;
  additional: boolean;
  stats: boolean;
  /** The arguments as typed, for the `; <<>> DiG ... <<>> ...` banner. */
  argsText: string;
}

const SECTION_FLAGS = ['comments', 'question', 'answer', 'authority', 'additional', 'stats', 'cmd'] as const;

/** Parses dig's command line; a bad option gives dig's own complaint and exit status 1. */
export function parseDig(argv: string[]): DigRequest | CommandResult {
  const req: DigRequest = {
    name: '',
    type: -1,
    port: 53,
    short: false,
    search: false,
    recurse: true,
    cookie: true,
    edns: true,
    tcp: false,
    tries: 3,
    time: 5,
    cmd: true,
    comments: true,
    question: true,
    answer: true,
    authority: true,
    additional: true,
    stats: true,
    argsText: argv.slice(1).join(' '),
  };
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('@')) req.server = a.slice(1);
    else if (a.startsWith('+')) {
      const opt = a.slice(1).toLowerCase();
      const no = opt.startsWith('no');
      const word = no ? opt.slice(2) : opt;
      const [key, value] = word.split('=');
      if (key === 'short') {
        req.short = !no;
        if (!no) for (const f of SECTION_FLAGS) req[f] = f === 'answer';
      } else if (key === 'all') for (const f of SECTION_FLAGS) req[f] = !no;
      else if ((SECTION_FLAGS as readonly string[]).includes(key)) req[key as (typeof SECTION_FLAGS)[number]] = !no;
      else if (key === 'search') req.search = !no;
      else if (key === 'recurse' || key === 'rec') req.recurse = !no;
      else if (key === 'cookie') req.cookie = !no;
      else if (key === 'edns') req.edns = !no;
      else if (key === 'tcp' || key === 'vc') req.tcp = !no;
      else if ((key === 'tries' || key === 'retry') && value !== undefined) req.tries = Math.max(1, Number(value) + (key === 'retry' ? 1 : 0));
      else if (key === 'time' && value !== undefined) req.time = Math.max(1, Number(value));
      else if (['ttlid', 'class', 'identify', 'multiline', 'trace', 'dnssec', 'adflag', 'cdflag', 'defname', 'ignore', 'fail', 'besteffort', 'nsid', 'ttlunits', 'rrcomments', 'crypto', 'showsearch', 'qr'].includes(key)) {
        /* accepted; no visible effect in the lab */
      } else return fail(`Invalid option: +${a.slice(1)}\nUsage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n            {global-d-opt} host [@local-server] {local-d-opt}\n            [ host [@local-server] {local-d-opt} [...]]\n\nUse "dig -h" (or "dig -h | more") for complete list of options`, 1);
    } else if (a === '-x') {
      const addr = args[++i];
      if (!addr || !isIPv4Literal(addr)) return fail(`Invalid IP address ${addr ?? ''}`, 1);
      req.name = reverseName(addr);
      req.type = TYPE_CODES.PTR;
    } else if (a === '-t') {
      const t = typeCode(args[++i] ?? '');
      if (t === undefined) return fail(`;; Warning, ignoring invalid type ${args[i] ?? ''}`, 1);
      req.type = t;
    } else if (a === '-p') req.port = Number(args[++i]) || 53;
    else if (a === '-q') req.name = args[++i] ?? '';
    else if (a === '-4' || a === '-6') {
      /* address family of the transport: the lab is IPv4 */
    } else if (a.startsWith('-')) return fail(`Invalid option: ${a}`, 1);
    else if (typeCode(a) !== undefined && req.type === -1 && !/^TYPE\d+$/i.test(a)) req.type = typeCode(a) as number;
    else if (/^(in|ch|hs)$/i.test(a)) {
      /* class IN is the only one the lab answers */
    } else req.name = a;
  }
  if (req.type === -1) req.type = req.name ? TYPE_CODES.A : TYPE_CODES.NS;
  if (!req.name) req.name = '.';
  return req;
}

// ---- master-file columns (lib/dns/masterdump.c) -------------------------------------------

// indent(): tabs up to the column when there is room, else one space (or a tab that lands
// exactly on the next stop).
function indent(col: number, to: number): { text: string; col: number } {
  if (to < col + 1) to = col + 1;
  const ntabs = Math.floor(to / 8) - Math.floor(col / 8);
  const text = ntabs > 0 ? '\t'.repeat(ntabs) + ' '.repeat(to % 8) : ' '.repeat(to - col);
  return { text, col: to };
}

/** One record as dig prints it: name, TTL, class, type, data at columns 24/32/40/48. */
export function recordLine(rr: ResourceRecord): string {
  let s = rr.name;
  let col = s.length;
  let step = indent(col, 24);
  s += step.text + String(rr.ttl);
  col = step.col + String(rr.ttl).length;
  step = indent(col, 32);
  s += step.text + 'IN';
  col = step.col + 2;
  step = indent(col, 40);
  const t = typeName(rrType(rr));
  s += step.text + t;
  col = step.col + t.length;
  step = indent(col, 48);
  return s + step.text + rdataText(rr.data);
}

/** The question line: `;name.` then class at column 32 and type at 40. */
export function questionLine(name: string, type: number): string {
  // The `;` is printed before the name but not counted in the columns.
  let s = ';' + name;
  const step = indent(name.length, 32);
  s += step.text + 'IN';
  const t = indent(step.col + 2, 40);
  return s + t.text + typeName(type);
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

export interface DigEnv extends NetEnv {
  version?: string;
}

/** Runs dig: one lookup (or a search walk with +search) through env.ask. */
export function dig(argv: string[], _stdin: string, env: DigEnv): CommandResult {
  const parsed = parseDig(argv);
  if ('code' in parsed) return parsed;
  const req = parsed;
  const server = req.server ?? env.resolvConf.nameservers[0] ?? '127.0.0.1';
  if (!isIPv4Literal(server)) return fail(`dig: couldn't get address for '${server}': not found`, 10);
  const transport = req.tcp ? 'TCP' : 'UDP';
  let out = '';
  const banner = (): string =>
    req.cmd ? `\n; <<>> DiG ${env.version ?? DIG_VERSION} <<>> ${req.argsText}\n${req.server !== undefined ? '; (1 server found)\n' : ''};; global options: +cmd\n` : '';
  const cookie = Array.from({ length: 8 }, () => Math.floor(env.random() * 256));
  const names = req.search ? bindCandidates(req.name, env.resolvConf.search, env.resolvConf.ndots) : [fqdn(req.name)];
  let reply: DnsMessage | undefined;
  let exchange: Extract<DnsExchange, { kind: 'reply' }> | undefined;
  for (let i = 0; i < names.length; i++) {
    reply = undefined;
    for (let attempt = 0; attempt < req.tries && !reply; attempt++) {
      const q = makeQuery(randomId(env.random), names[i], req.type, {
        rd: req.recurse,
        edns: req.edns ? { udpSize: 1232, version: 0, do: false, extendedRcode: 0, options: req.cookie ? [{ code: EDNS_COOKIE, data: cookie }] : [] } : undefined,
      });
      q.ad = true;
      const ex = env.ask(server, q, req.port);
      if (ex.kind === 'reply') {
        reply = ex.reply;
        exchange = ex;
      } else out += `;; communications error to ${server}#${req.port}: ${exchangeErrorText(ex)}\n`;
    }
    if (!reply) {
      return { stdout: out + banner() + ';; no servers could be reached\n', stderr: '', code: 9, changed: false };
    }
    if (reply.rcode === 3 && i < names.length - 1) continue;
    break;
  }
  if (!reply || !exchange) return { stdout: out, stderr: '', code: 9, changed: false };
  if (req.short) {
    for (const rr of reply.answer) out += rdataText(rr.data) + '\n';
    return { stdout: out, stderr: '', code: 0, changed: false };
  }
  out += banner();
  if (req.comments) {
    out += ';; Got answer:\n';
    const qname = (reply.question[0]?.name ?? '').toLowerCase();
    if (qname === 'local.' || qname.endsWith('.local.')) {
      out += ';; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n';
    }
    const flags = [reply.qr && 'qr', reply.aa && 'aa', reply.tc && 'tc', reply.rd && 'rd', reply.ra && 'ra', reply.ad && 'ad', reply.cd && 'cd'].filter(Boolean).join(' ');
    out += `;; ->>HEADER<<- opcode: QUERY, status: ${rcodeName(reply.rcode & 0xf)}, id: ${reply.id}\n`;
    out += `;; flags: ${flags}; QUERY: ${reply.question.length}, ANSWER: ${reply.answer.length}, AUTHORITY: ${reply.authority.length}, ADDITIONAL: ${reply.additional.length + (reply.edns ? 1 : 0)}\n`;
    if (reply.rd && !reply.ra) out += ';; WARNING: recursion requested but not available\n';
    out += '\n';
    if (reply.edns) {
      out += ';; OPT PSEUDOSECTION:\n';
      out += `; EDNS: version: ${reply.edns.version}, flags:${reply.edns.do ? ' do' : ''}; udp: ${reply.edns.udpSize}\n`;
      for (const o of reply.edns.options) {
        if (o.code !== EDNS_COOKIE) continue;
        const mine = o.data.length >= 8 && o.data.slice(0, 8).every((b, k) => b === cookie[k]);
        out += `; COOKIE: ${hex(o.data)}${o.data.length === 8 && mine ? ' (echoed)' : mine ? ' (good)' : ''}\n`;
      }
    }
  }
  if (req.question) {
    if (req.comments) out += ';; QUESTION SECTION:\n';
    for (const q of reply.question) out += questionLine(q.name, q.type) + '\n';
    if (req.comments) out += '\n';
  }
  const section = (title: string, show: boolean, rrs: ResourceRecord[]): void => {
    if (!show || !rrs.length) return;
    if (req.comments) out += `;; ${title} SECTION:\n`;
    for (const rr of rrs) out += recordLine(rr) + '\n';
    if (req.comments) out += '\n';
  };
  section('ANSWER', req.answer, reply.answer);
  section('AUTHORITY', req.authority, reply.authority);
  section('ADDITIONAL', req.additional, reply.additional);
  if (req.stats) {
    const size = exchange.size ?? encodeMessage(reply, false).length;
    out += `;; Query time: ${Math.round(exchange.rttMs ?? 0)} msec\n`;
    out += `;; SERVER: ${server}#${req.port}(${req.server ?? server}) (${transport})\n`;
    out += `;; WHEN: ${ctimeUTC(env.nowMs)}\n`;
    out += `;; MSG SIZE  rcvd: ${size}\n\n`;
  }
  return { stdout: out, stderr: '', code: 0, changed: false };
}
