// `conntrack` (conntrack-tools 1.4.7): list, get, delete, update, flush, count and statistics
// of a host's connection tracking table, with the real tool's option parsing (getopt_long,
// protocol options only after -p), filters, output formats, messages and exit codes.
// Entries are listed oldest first (the kernel dumps in hash order, which is random per boot).

import type { IPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import type { CtStatusBit } from '../netfilter/types.ts';
import type { CtEntry } from '../conntrack/entry.ts';
import { XML_FOOTER, XML_HEADER, formatEvent, formatEventXml, formatLine, formatSave, formatXmlFlow } from '../conntrack/format.ts';
import { asUserspace, standInPortid, type CtEvent } from '../conntrack/events.ts';
import { entryMatches, type ConntrackTable, type CtFilter } from '../conntrack/table.ts';
import { TCP_STATES } from '../conntrack/tcp-state.ts';
import type { TcpState } from '../conntrack/tcp-state.ts';
import type { CtTuple } from '../conntrack/tuple.ts';
import type { CommandResult, Follow } from './types.ts';

const PROG = 'conntrack';
const VERSION = '1.4.7';
const PREFIX = `${PROG} v${VERSION} (conntrack-tools): `;
const PARAMETER_PROBLEM = 2;
const OTHER_PROBLEM = 1;

/** Thrown inside the parser; becomes the tool's error output. */
class Exit {
  constructor(readonly code: number, readonly stderr: string, readonly stdout = '') {}
}

function paramProblem(msg: string): Exit {
  return new Exit(PARAMETER_PROBLEM, `${PREFIX}${msg}\nTry \`${PROG} -h' or '${PROG} --help' for more information.\n`);
}

function otherProblem(msg: string): Exit {
  return new Exit(OTHER_PROBLEM, `${PREFIX}${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Options

type Cmd = 'L' | 'I' | 'U' | 'D' | 'G' | 'F' | 'E' | 'V' | 'h' | 'C' | 'S' | 'A';

/** getopt_str of conntrack.c: letter -> 0 none, 1 required, 2 optional argument. */
const SHORT: Readonly<Record<string, 0 | 1 | 2>> = {
  L: 2, I: 2, U: 2, D: 2, G: 2, E: 2, F: 2, A: 2, h: 0, V: 0, s: 1, d: 1, r: 1, q: 1, p: 1, t: 1, u: 1, e: 1, a: 1, z: 0,
  '[': 1, ']': 1, '{': 1, '}': 1, m: 1, i: 1, f: 1, o: 1, n: 2, g: 2, c: 1, b: 1, C: 2, S: 0, j: 2, w: 1, l: 1, '<': 1, '>': 2,
  '(': 1, ')': 1,
};

interface LongOpt {
  name: string;
  arg: 0 | 1 | 2;
  val: string;
}

const LONG: readonly LongOpt[] = [
  ['dump', 2, 'L'], ['create', 2, 'I'], ['add', 2, 'A'], ['delete', 2, 'D'], ['update', 2, 'U'], ['get', 2, 'G'],
  ['flush', 2, 'F'], ['event', 2, 'E'], ['counter', 2, 'C'], ['stats', 0, 'S'], ['version', 0, 'V'], ['help', 0, 'h'],
  ['orig-src', 1, 's'], ['src', 1, 's'], ['orig-dst', 1, 'd'], ['dst', 1, 'd'], ['reply-src', 1, 'r'], ['reply-dst', 1, 'q'],
  ['protonum', 1, 'p'], ['timeout', 1, 't'], ['status', 1, 'u'], ['zero', 0, 'z'], ['event-mask', 1, 'e'],
  ['tuple-src', 1, '['], ['tuple-dst', 1, ']'], ['mask-src', 1, '{'], ['mask-dst', 1, '}'], ['nat-range', 1, 'a'],
  ['mark', 1, 'm'], ['secmark', 1, 'c'], ['id', 2, 'i'], ['family', 1, 'f'], ['src-nat', 2, 'n'], ['dst-nat', 2, 'g'],
  ['output', 1, 'o'], ['buffer-size', 1, 'b'], ['any-nat', 2, 'j'], ['zone', 1, 'w'], ['label', 1, 'l'],
  ['label-add', 1, '<'], ['label-del', 2, '>'], ['orig-zone', 1, '('], ['reply-zone', 1, ')'],
].map(([name, arg, val]) => ({ name: name as string, arg: arg as 0 | 1 | 2, val: val as string }));

/** Option bits of conntrack.c (CT_OPT_*), in optflags order. */
const OPT_NAMES = [
  'src', 'dst', 'reply-src', 'reply-dst', 'protonum', 'timeout', 'status', 'zero', 'event-mask', 'tuple-src', 'tuple-dst',
  'mask-src', 'mask-dst', 'nat-range', 'mark', 'id', 'family', 'src-nat', 'dst-nat', 'output', 'secmark', 'buffer-size',
  'any-nat', 'zone', 'label', 'label-add', 'label-del', 'orig-zone', 'reply-zone',
] as const;
type OptName = (typeof OPT_NAMES)[number];

const OPT_OF_LETTER: Readonly<Record<string, OptName>> = {
  s: 'src', d: 'dst', r: 'reply-src', q: 'reply-dst', p: 'protonum', t: 'timeout', u: 'status', z: 'zero', e: 'event-mask',
  '[': 'tuple-src', ']': 'tuple-dst', '{': 'mask-src', '}': 'mask-dst', m: 'mark', i: 'id', f: 'family', n: 'src-nat',
  g: 'dst-nat', o: 'output', c: 'secmark', b: 'buffer-size', j: 'any-nat', w: 'zone', l: 'label', '<': 'label-add',
  '>': 'label-del', '(': 'orig-zone', ')': 'reply-zone',
};

// commands_v_options: 0 illegal, 1 required, 2 optional, 3 required as a src/dst couple.
const CMD_OPTS: Readonly<Record<string, string>> = {
  L: '22222022000220202222202220022',
  I: '33331120000002200220000202022',
  A: '33331120000002200220000202022',
  U: '22222220000220222222000022200',
  D: '22222220000220222222000220022',
  G: '33331000000000020002000020000',
  F: '00000000000000002000000000000',
  E: '22222000200220202222222220022',
  V: '00000000000000000000000000000',
  h: '00002000000000000000000000000',
  C: '00000000000000000000000000000',
  S: '00000000000000000000000000000',
  EXP_L: '00000000000000002002000000000',
};

const EXIT_MSG: Readonly<Record<string, string>> = {
  L: 'flow entries have been shown.', I: 'flow entries have been created.', U: 'flow entries have been updated.',
  D: 'flow entries have been deleted.', G: 'flow entries have been shown.', E: 'flow events have been shown.',
  A: 'flow entries have been added.', EXP_L: 'expectations have been shown.', EXP_E: 'expectation events have been shown.', EXP_D: 'expectations have been shown.',
};

// Protocol extensions: their long options appear once -p names them.
interface ProtoExt {
  name: string;
  num: number;
  opts: readonly string[];
}
const PORT_OPTS = ['orig-port-src', 'sport', 'orig-port-dst', 'dport', 'reply-port-src', 'reply-port-dst', 'mask-port-src', 'mask-port-dst', 'tuple-port-src', 'tuple-port-dst'];
const EXTS: readonly ProtoExt[] = [
  { name: 'tcp', num: PROTO.tcp, opts: [...PORT_OPTS, 'state'] },
  { name: 'udp', num: PROTO.udp, opts: PORT_OPTS },
  { name: 'udplite', num: 136, opts: PORT_OPTS },
  { name: 'sctp', num: PROTO.sctp, opts: [...PORT_OPTS, 'state', 'orig-vtag', 'reply-vtag'] },
  { name: 'dccp', num: 33, opts: [...PORT_OPTS, 'state', 'role'] },
  { name: 'icmp', num: PROTO.icmp, opts: ['icmp-type', 'icmp-code', 'icmp-id'] },
  { name: 'icmpv6', num: 58, opts: ['icmpv6-type', 'icmpv6-code', 'icmpv6-id'] },
  { name: 'gre', num: 47, opts: ['srckey', 'dstkey', 'tuple-srckey', 'tuple-dstkey'] },
];
/** /etc/protocols names getprotobyname() knows (for protocols without an extension). */
const PROTOCOLS: Readonly<Record<string, number>> = {
  ip: 0, hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12, udp: 17, hmp: 20,
  'xns-idp': 22, rdp: 27, 'iso-tp4': 29, dccp: 33, xtp: 36, ddp: 37, 'idpr-cmtp': 38, ipv6: 41, 'ipv6-route': 43,
  'ipv6-frag': 44, idrp: 45, rsvp: 46, gre: 47, esp: 50, ah: 51, skip: 57, 'ipv6-icmp': 58, 'ipv6-nonxt': 59,
  'ipv6-opts': 60, rspf: 73, vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103,
  ipcomp: 108, vrrp: 112, l2tp: 115, isis: 124, sctp: 132, fc: 133, 'mobility-header': 135, udplite: 136,
  'mpls-in-ip': 137, manet: 138, hip: 139, shim6: 140, wesp: 141, rohc: 142, ethernet: 143,
};

const TCP_STATE_NAMES: readonly string[] = TCP_STATES;
const SCTP_STATE_NAMES = ['NONE', 'CLOSED', 'COOKIE_WAIT', 'COOKIE_ECHOED', 'ESTABLISHED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECD', 'SHUTDOWN_ACK_SENT', 'HEARTBEAT_SENT', 'HEARTBEAT_ACKED'];

// Status bits as the kernel numbers them (for -u filters).
const IPS: Readonly<Record<string, number>> = {
  EXPECTED: 1, SEEN_REPLY: 2, ASSURED: 4, CONFIRMED: 8, SNAT: 16, DNAT: 32, FIXED_TIMEOUT: 1024, OFFLOAD: 1 << 14, HW_OFFLOAD: 1 << 15,
};
const STATUS_PARAMS: readonly [string, number][] = [
  ['ASSURED', IPS.ASSURED], ['SEEN_REPLY', IPS.SEEN_REPLY], ['UNSET', 0], ['FIXED_TIMEOUT', IPS.FIXED_TIMEOUT],
  ['EXPECTED', IPS.EXPECTED], ['OFFLOAD', IPS.OFFLOAD], ['HW_OFFLOAD', IPS.HW_OFFLOAD],
];
const OUTPUT_PARAMS: readonly [string, number][] = [
  ['xml', 1], ['extended', 2], ['timestamp', 4], ['id', 8], ['ktimestamp', 16], ['labels', 32], ['userspace', 0], ['save', 64],
];
const EVENT_PARAMS: readonly [string, number][] = [['ALL', 7], ['NEW', 1], ['UPDATES', 2], ['DESTROY', 4]];
const O_XML = 1;
const O_EXT = 2;
const O_ID = 8;
const O_SAVE = 64;
const O_TIMESTAMP = 4;

function statusBits(e: CtEntry): number {
  let v = 0;
  for (const b of e.status) v |= IPS[b] ?? 0;
  return v;
}

/** The status bits a --status mask names (statusBits the other way). */
function maskBits(mask: number): CtStatusBit[] {
  return (Object.keys(IPS) as CtStatusBit[]).filter((b) => mask & (IPS[b] ?? 0));
}

// ---------------------------------------------------------------------------------------------
// Value parsing as the C library does it

/** C atoi(): leading blanks, optional sign, digits; anything else stops (0 if none). */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** strtoul(s, &end, 0): returns the value and the rest. */
function strtoul(s: string): { v: number; rest: string } {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(s);
  if (!m) return { v: 0, rest: s };
  const body = m[2];
  let v = body.startsWith('0x') || body.startsWith('0X') ? parseInt(body.slice(2), 16) : body.length > 1 && body.startsWith('0') ? parseInt(body, 8) : Number(body);
  if (m[1] === '-') v = -v;
  return { v: v >>> 0, rest: s.slice(m[0].length) };
}

/** inet_aton(): a, a.b, a.b.c or a.b.c.d, each part decimal, octal or hex. */
function inetAton(s: string): IPv4 | null {
  const parts = s.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9]\d*)$/.test(p))) return null;
  const nums = parts.map((p) => (/^0[xX]/.test(p) ? parseInt(p.slice(2) || '0', 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : Number(p)));
  const last = nums[nums.length - 1];
  const lead = nums.slice(0, -1);
  if (lead.some((n) => n > 255)) return null;
  const lastBits = 32 - 8 * lead.length;
  if (last >= 2 ** lastBits) return null;
  let v = 0;
  for (const n of lead) v = v * 256 + n;
  return (v * 2 ** lastBits + last) >>> 0;
}

function looksIPv6(s: string): boolean {
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s) && (s.match(/::/g) ?? []).length <= 1;
}

interface AddrArg {
  family: 'ipv4' | 'ipv6';
  addr: IPv4;
  mask: number; // -1 none
}

function parseAddr(arg: string, opt: string, cidrOk: boolean): AddrArg {
  let a = arg.slice(0, 45);
  let mask = -1;
  const slash = a.indexOf('/');
  if (slash >= 0) {
    const m = /^(-?\d+)/.exec(a.slice(slash + 1));
    mask = m && m[1].length === a.length - slash - 1 ? Number(m[1]) : -2;
    if (mask < 0) mask = -2;
    a = a.slice(0, slash);
  }
  let family: 'ipv4' | 'ipv6';
  let addr = 0;
  const v4 = inetAton(a);
  if (v4 !== null) {
    family = 'ipv4';
    addr = v4;
    if (mask > 32) mask = -2;
  } else if (looksIPv6(a)) {
    family = 'ipv6';
    if (mask > 128) mask = -2;
  } else {
    throw paramProblem(`Invalid IP address \`${arg}'`);
  }
  if (mask !== -1 && !cidrOk) throw paramProblem(`CIDR notation unavailable for \`--${opt}'`);
  if (mask === -2) throw paramProblem('Invalid netmask');
  return { family, addr, mask };
}

/** do_parse_parameter/parse_parameter: comma list, each item a case-insensitive prefix. */
function parseParams(arg: string, table: readonly [string, number][], stderr: string[], bad: (rest: string) => Exit): number {
  let v = 0;
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    const tok = comma < 0 ? rest : rest.slice(0, comma);
    if (tok.length === 0) throw bad(rest);
    const r = paramOne(tok, table, stderr);
    if (r === undefined) throw bad(rest);
    v |= r;
    if (comma < 0) return v;
    rest = rest.slice(comma + 1);
  }
}

function paramOne(tok: string, table: readonly [string, number][], stderr: string[]): number | undefined {
  const pre = (full: string): boolean => full.slice(0, tok.length).toLowerCase() === tok.toLowerCase() && tok.length <= full.length;
  if (pre('SRC_NAT')) {
    stderr.push('WARNING: ignoring SRC_NAT, use --src-nat instead\n');
    return 0;
  }
  if (pre('DST_NAT')) {
    stderr.push('WARNING: ignoring DST_NAT, use --dst-nat instead\n');
    return 0;
  }
  for (const [name, bit] of table) if (pre(name)) return bit;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The parsed command

interface NatArg {
  addr?: IPv4;
  port?: number;
  family?: 'ipv4' | 'ipv6';
}

interface Parsed {
  cmd?: Cmd;
  table: 'conntrack' | 'expect' | 'dying' | 'unconfirmed';
  opts: Set<OptName>;
  ext?: ProtoExt;
  protonum?: number;
  family?: 'ipv4' | 'ipv6';
  origSrc?: AddrArg;
  origDst?: AddrArg;
  replySrc?: AddrArg;
  replyDst?: AddrArg;
  ports: { origSport?: number; origDport?: number; replySport?: number; replyDport?: number };
  icmp: { type?: number; code?: number; id?: number };
  tcpState?: string;
  /** -m as the template holds it: what -U and -I set, and userspace's filter. */
  mark?: { value: number; mask: number };
  /** -m as the last one gave it: the kernel's filter of the -L and -D dumps. */
  markKernel?: { value: number; mask: number };
  status?: { set: number; mask: number };
  id?: number;
  output: number;
  /** -e: the events -E shows (NEW 1, UPDATES 2, DESTROY 4). */
  eventMask?: number;
  timeout?: number;
  srcNat?: NatArg;
  dstNat?: NatArg;
  anyNat?: NatArg;
  extFlags: Set<string>;
  warnings: string[];
}

function splitNat(arg: string): { addr: string; port?: string } {
  const colon = arg.indexOf(':');
  if (arg.includes('[')) return { addr: arg };
  if (colon >= 0 && !arg.slice(colon + 1).includes(':')) {
    const port = arg.slice(colon + 1);
    if (port.length === 0) throw paramProblem("No port specified after `:'");
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw paramProblem(`Invalid port \`${port}'`);
    return { addr: arg.slice(0, colon), port };
  }
  return { addr: arg };
}

function parse(argv: string[]): Parsed {
  const p: Parsed = { table: 'conntrack', opts: new Set(), ports: {}, icmp: {}, output: 0, extFlags: new Set(), warnings: [] };
  let i = 1;
  const setFamily = (f: 'ipv4' | 'ipv6'): void => {
    if (p.family !== undefined && p.family !== f) throw paramProblem('mismatched address family');
    p.family = f;
  };
  /** get_optional_arg: the next word if it is not an option (only when none was attached). */
  const optionalArg = (attached: string | undefined): string | undefined => {
    if (attached !== undefined) return undefined;
    const next = argv[i];
    if (next !== undefined && !next.startsWith('-') && !next.startsWith('!')) {
      i++;
      return next;
    }
    return undefined;
  };
  const addCommand = (c: Cmd, attached: string | undefined): void => {
    const t = optionalArg(attached);
    let table: Parsed['table'] = 'conntrack';
    if (t !== undefined) {
      if ('expect'.startsWith(t)) table = 'expect';
      else if ('conntrack'.startsWith(t)) table = 'conntrack';
      else if ('dying'.startsWith(t)) table = 'dying';
      else if ('unconfirmed'.startsWith(t)) table = 'unconfirmed';
      else throw paramProblem(`unknown type \`${t}'`);
    }
    if (c !== 'L' && (table === 'dying' || table === 'unconfirmed')) throw paramProblem("Can't do that command with tables `dying' and `unconfirmed'");
    if (table === 'expect' && (c === 'U' || c === 'A')) throw paramProblem(`Can't do --${LONG.find((o) => o.val === c)?.name} on expectations`);
    if (p.cmd !== undefined) throw paramProblem('Invalid commands combination');
    p.cmd = c;
    p.table = table;
  };

  const handle = (c: string, optarg: string | undefined, shown: string): void => {
    const opt = OPT_OF_LETTER[c];
    switch (c) {
      case 'L': case 'I': case 'U': case 'D': case 'G': case 'F': case 'E': case 'V': case 'h': case 'C': case 'S': case 'A':
        addCommand(c, optarg);
        return;
      case 's': case 'd': case 'r': case 'q': {
        const a = parseAddr(optarg ?? '', opt, c === 's' || c === 'd');
        setFamily(a.family);
        p.opts.add(opt);
        if (c === 's') p.origSrc = a;
        else if (c === 'd') p.origDst = a;
        else if (c === 'r') p.replySrc = a;
        else p.replyDst = a;
        return;
      }
      case '[': case ']': case '{': case '}': {
        const a = parseAddr(optarg ?? '', opt, c === '[' || c === ']');
        setFamily(a.family);
        p.opts.add(opt);
        return;
      }
      case 'p': {
        const name = optarg ?? '';
        p.opts.add('protonum');
        const ext = EXTS.find((x) => x.name.toLowerCase() === name.toLowerCase());
        let num: number | undefined = ext?.num;
        let found = ext;
        if (num === undefined && PROTOCOLS[name] !== undefined) num = PROTOCOLS[name];
        if (num === undefined) {
          const n = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(name) ? strtoul(name).v : -1;
          if (n >= 0 && n <= 255) {
            num = n;
            found = EXTS.find((x) => x.num === n);
          }
        }
        if (num === undefined) throw paramProblem(`\`${name}' unsupported protocol`);
        p.protonum = num;
        p.ext = found;
        return;
      }
      case 't':
        p.opts.add('timeout');
        p.timeout = atoi(optarg ?? '');
        return;
      case 'u': {
        p.opts.add('status');
        const st = { set: 0, mask: 0 };
        let rest = optarg ?? '';
        for (;;) {
          const comma = rest.indexOf(',');
          let tok = comma < 0 ? rest : rest.slice(0, comma);
          const negated = tok.startsWith('!');
          if (negated) tok = tok.slice(1);
          if (comma >= 0 && tok.length === 0) throw paramProblem(`Bad parameter \`${rest}'`);
          if (!negated && tok.startsWith('UNREPLIED')) st.mask |= IPS.SEEN_REPLY;
          else {
            const v = tok.length === 0 ? undefined : paramOne(tok, STATUS_PARAMS, p.warnings);
            if (v === undefined) throw paramProblem(`Bad parameter \`${comma < 0 ? tok : rest}'`);
            if (negated) st.mask |= v;
            else st.set |= v;
          }
          if (comma < 0) break;
          rest = rest.slice(comma + 1);
        }
        // Each -u adds to the bits of those before it (and to their mask, which is the bits
        // themselves while no bit is negated). conntrack 1.4.7 also writes the bits into the
        // mark's value (seen on the kernel): a -u after -m changes the mark -U and -I set and
        // the one -L, -D and -E compare in userspace (not the dump's own filter, see markKernel).
        const set = (p.status?.set ?? 0) | st.set;
        const mask = (p.status?.mask ?? 0) | st.mask;
        p.status = { set, mask: mask === 0 ? set : mask };
        if (p.mark) p.mark = { value: set, mask: p.mark.mask };
        return;
      }
      case 'e':
        p.opts.add('event-mask');
        p.eventMask = parseParams(optarg ?? '', EVENT_PARAMS, p.warnings, (rest) => paramProblem(`Bad parameter \`${rest}'`));
        return;
      case 'o':
        p.opts.add('output');
        p.output |= parseParams(optarg ?? '', OUTPUT_PARAMS, p.warnings, (rest) => paramProblem(`Bad parameter \`${rest}'`));
        if (p.output & O_SAVE && p.output & ~O_SAVE) throw otherProblem('cannot combine save output with any other output type, use -o save only');
        return;
      case 'z':
        p.opts.add('zero');
        return;
      case 'n': case 'g': case 'j': {
        p.opts.add(opt);
        const arg = optionalArg(optarg);
        const nat: NatArg = {};
        if (arg !== undefined) {
          const { addr, port } = splitNat(arg);
          const a = parseAddr(addr, opt, false);
          setFamily(a.family);
          nat.family = a.family;
          nat.addr = a.addr;
          if (port !== undefined) nat.port = atoi(port) & 0xffff;
        }
        if (c === 'n') p.srcNat = nat;
        else if (c === 'g') p.dstNat = nat;
        else p.anyNat = nat;
        return;
      }
      case 'm': {
        p.opts.add('mark');
        const { v, rest } = strtoul(optarg ?? '');
        p.mark = { value: v, mask: rest.startsWith('/') ? strtoul(rest.slice(1)).v : 0xffffffff };
        p.markKernel = { ...p.mark };
        return;
      }
      case 'i':
        p.opts.add('id');
        if (optarg !== undefined) p.id = strtoul(optarg).v;
        return;
      case 'c': case 'w': case '(': case ')': case 'l': case '<': case '>': case 'b':
        p.opts.add(opt);
        return;
      case 'a':
        p.warnings.push(`WARNING: ignoring -${c}, deprecated option.\n`);
        return;
      case 'f': {
        p.opts.add('family');
        const v = optarg ?? '';
        if (v.startsWith('ipv4')) setFamily('ipv4');
        else if (v.startsWith('ipv6')) setFamily('ipv6');
        else throw paramProblem(`\`${v}' unsupported protocol`);
        return;
      }
      default:
        throw paramProblem(`unknown option \`${shown}'`);
    }
  };

  const handleExt = (name: string, optarg: string): void => {
    const ext = p.ext;
    if (!ext) return;
    p.extFlags.add(name);
    switch (name) {
      case 'orig-port-src': case 'sport': p.ports.origSport = atoi(optarg) & 0xffff; p.extFlags.add('sport'); return;
      case 'orig-port-dst': case 'dport': p.ports.origDport = atoi(optarg) & 0xffff; p.extFlags.add('dport'); return;
      case 'reply-port-src': p.ports.replySport = atoi(optarg) & 0xffff; return;
      case 'reply-port-dst': p.ports.replyDport = atoi(optarg) & 0xffff; return;
      case 'icmp-type': p.icmp.type = atoi(optarg) & 0xff; return;
      case 'icmp-code': p.icmp.code = atoi(optarg) & 0xff; return;
      case 'icmp-id': p.icmp.id = atoi(optarg) & 0xffff; return;
      case 'state':
        if (ext.num === PROTO.tcp) {
          if (!TCP_STATE_NAMES.includes(optarg) && optarg !== 'LISTEN') throw paramProblem(`unknown TCP state \`${optarg}'`);
          p.tcpState = optarg === 'LISTEN' ? 'SYN_SENT2' : optarg;
        } else if (ext.num === PROTO.sctp) {
          // conntrack 1.4.7 dereferences a NULL pointer here.
          if (!SCTP_STATE_NAMES.includes(optarg)) throw new Exit(139, '');
          p.tcpState = optarg;
        } else {
          p.tcpState = optarg;
        }
        return;
      default:
        return;
    }
  };

  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const attached = eq < 0 ? undefined : arg.slice(eq + 1);
      const extOpts = p.ext?.opts ?? [];
      const all: { name: string; arg: 0 | 1 | 2; val: string; ext: boolean }[] = [
        ...LONG.map((o) => ({ ...o, ext: false })),
        ...extOpts.map((o) => ({ name: o, arg: 1 as const, val: o, ext: true })),
      ];
      let hit = all.find((o) => o.name === name);
      if (!hit) {
        const cands = all.filter((o) => o.name.startsWith(name));
        // getopt_long accepts an unambiguous abbreviation (aliases of one option count once)
        if (name.length > 0 && cands.length > 0 && cands.every((o) => o.val === cands[0].val && o.ext === cands[0].ext)) hit = cands[0];
        else if (name.length > 0 && cands.length > 0 && new Set(cands.map((o) => `${o.ext}${o.val}`)).size === 1) hit = cands[0];
      }
      if (!hit) throw paramProblem(`unknown option \`${arg}'`);
      let optarg = attached;
      if (hit.arg === 0 && attached !== undefined) throw paramProblem(`unknown option \`${arg}'`);
      if (hit.arg === 1 && optarg === undefined) {
        if (i >= argv.length) throw paramProblem(`option \`${arg}' requires an argument`);
        optarg = argv[i++];
      }
      if (hit.ext) handleExt(hit.val, optarg ?? '');
      else handle(hit.val, optarg, arg);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const c = arg[k];
        const kind = SHORT[c];
        if (kind === undefined) throw paramProblem(`unknown option \`${k === arg.length - 1 ? arg : argv[i - 2] ?? arg}'`);
        if (kind === 0) {
          handle(c, undefined, arg);
          continue;
        }
        const rest = arg.slice(k + 1);
        if (kind === 1) {
          let optarg = rest;
          if (optarg === '') {
            if (i >= argv.length) throw paramProblem(`option \`${arg}' requires an argument`);
            optarg = argv[i++];
          }
          handle(c, optarg, arg);
        } else {
          handle(c, rest === '' ? undefined : rest, arg);
        }
        break;
      }
      continue;
    }
    // A stray word: getopt moves it to the end, where conntrack ignores it.
  }

  if (p.anyNat && (p.srcNat || p.dstNat)) throw paramProblem("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'");
  const row = CMD_OPTS[p.cmd === 'L' && p.table === 'expect' ? 'EXP_L' : (p.cmd ?? 'V')];
  let special = false;
  OPT_NAMES.forEach((name, k) => {
    const rule = row[k];
    if (!p.opts.has(name) && rule === '1') throw paramProblem(`You need to supply the \`--${name}' option for this command`);
    if (p.opts.has(name) && rule === '0') throw paramProblem(`Illegal option \`--${name}' with this command`);
    if (rule === '3') special = true;
  });
  if (special) {
    const orig = p.opts.has('src') && p.opts.has('dst');
    const reply = p.opts.has('reply-src') && p.opts.has('reply-dst');
    if (!orig && !reply) {
      if (!p.opts.has('src') && !p.opts.has('dst') && (p.opts.has('reply-src') || p.opts.has('reply-dst'))) throw paramProblem("you have to specify `--reply-src' and `--reply-dst'");
      throw paramProblem("you have to specify `--src' and `--dst'");
    }
  }
  if (p.cmd && p.cmd !== 'h') extFinalCheck(p);
  return p;
}

/** The protocol extension's final_check: -G/-I need a whole port couple. */
function extFinalCheck(p: Parsed): void {
  const ext = p.ext;
  if (!ext || (p.cmd !== 'G' && p.cmd !== 'I' && p.cmd !== 'A')) return;
  if (ext.num === PROTO.icmp) {
    if (p.icmp.type === undefined) throw paramProblem("You need to supply the `--icmp-type' option for this command");
    if (p.icmp.code === undefined) throw paramProblem("You need to supply the `--icmp-code' option for this command");
    return;
  }
  if (!PORT_OPTS.some((o) => ext.opts.includes(o))) return;
  const origPair = p.ports.origSport !== undefined && p.ports.origDport !== undefined;
  const replyPair = p.ports.replySport !== undefined && p.ports.replyDport !== undefined;
  if (origPair || replyPair) return;
  if (p.ports.origSport === undefined && p.ports.origDport === undefined && (p.ports.replySport !== undefined || p.ports.replyDport !== undefined)) {
    throw paramProblem("you have to specify `--reply-src-port' and `--reply-dst-port'");
  }
  throw paramProblem("you have to specify `--sport' and `--dport'");
}

// ---------------------------------------------------------------------------------------------
// Running it

function toFilter(p: Parsed): { filter: CtFilter; none: boolean } {
  const f: CtFilter = {};
  // An IPv6 address or family matches nothing in an IPv4-only lab.
  const none = p.family === 'ipv6';
  if (p.protonum !== undefined) f.proto = p.protonum;
  if (p.origSrc) f.origSrc = { addr: p.origSrc.addr, len: p.origSrc.mask < 0 ? 32 : p.origSrc.mask };
  if (p.origDst) f.origDst = { addr: p.origDst.addr, len: p.origDst.mask < 0 ? 32 : p.origDst.mask };
  if (p.replySrc) f.replySrc = p.replySrc.addr;
  if (p.replyDst) f.replyDst = p.replyDst.addr;
  Object.assign(f, p.ports);
  if (p.icmp.type !== undefined) f.icmpType = p.icmp.type;
  if (p.icmp.code !== undefined) f.icmpCode = p.icmp.code;
  if (p.icmp.id !== undefined) f.icmpId = p.icmp.id;
  if (p.tcpState !== undefined) f.tcpState = p.tcpState;
  if (p.mark) f.mark = p.mark;
  if (p.id !== undefined) f.id = p.id;
  if (p.srcNat) f.srcNat = p.srcNat;
  if (p.dstNat) f.dstNat = p.dstNat;
  if (p.anyNat) f.anyNat = p.anyNat;
  return { filter: f, none };
}

/** The entries a command acts on. -U uses -m and -u as new values, not as filters. */
function selected(table: ConntrackTable, p: Parsed, now: number, forUpdate = false): CtEntry[] {
  const { filter, none } = toFilter(p);
  if (none) return [];
  // (-U's -m, -u and --state are the new values, not filters)
  if (forUpdate) {
    delete filter.mark;
    delete filter.tcpState;
  }
  const st = forUpdate ? undefined : p.status;
  const mk = forUpdate ? undefined : p.markKernel;
  return table.list(filter, now).filter((e) => {
    if (mk && ((e.mark & mk.mask) >>> 0) !== mk.value >>> 0) return false;
    if (!st) return true;
    const bits = statusBits(e);
    return (bits & st.mask) === st.set && (bits & st.set) === st.set;
  });
}

function render(e: CtEntry, p: Parsed, now: number, use = 1, saveType: '-A' | '-D' = '-A'): string {
  if (p.output & O_SAVE) return formatSave(e, now, saveType);
  // (counters: each entry's own, see CtEntry.acct; `-o save` never shows them)
  if (p.output & O_XML) return formatXmlFlow(e, now, use);
  return formatLine(e, now, { extended: (p.output & O_EXT) !== 0, id: (p.output & O_ID) !== 0, use });
}

/** Lines as a command prints them. In XML, -L prints a whole document; -G the header only
 *  (its dump callback opens the document, and nothing closes it); -D and -U bare flows. */
function listing(lines: string[], p: Parsed, xml: 'document' | 'header' | 'bare' = 'document'): string {
  if (lines.length === 0) return '';
  const body = lines.map((l) => `${l}\n`).join('');
  if (!(p.output & O_XML) || p.output & O_SAVE || xml === 'bare') return body;
  return XML_HEADER + body + (xml === 'document' ? XML_FOOTER : '');
}

function usage(prog: string): string {
  return (
    'Command line interface for the connection tracking system. Version 1.4.7\n' +
    `Usage: ${prog} [commands] [options]\n` +
    '\nCommands:\n' +
    '  -L [table] [options]\t\tList conntrack or expectation table\n' +
    '  -G [table] parameters\t\tGet conntrack or expectation\n' +
    '  -D [table] parameters\t\tDelete conntrack or expectation\n' +
    '  -I [table] parameters\t\tCreate a conntrack or expectation\n' +
    '  -U [table] parameters\t\tUpdate a conntrack\n' +
    '  -E [table] [options]\t\tShow events\n' +
    '  -F [table]\t\t\tFlush table\n' +
    '  -C [table]\t\t\tShow counter\n' +
    '  -S\t\t\t\tShow statistics\n' +
    '\nTables: conntrack, expect, dying, unconfirmed\n' +
    '\nConntrack parameters and options:\n' +
    '  -n, --src-nat ip\t\t\tsource NAT ip\n' +
    '  -g, --dst-nat ip\t\t\tdestination NAT ip\n' +
    '  -j, --any-nat ip\t\t\tsource or destination NAT ip\n' +
    '  -m, --mark mark\t\t\tSet mark\n' +
    '  -c, --secmark secmark\t\t\tSet selinux secmark\n' +
    '  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY\n' +
    '  -z, --zero \t\t\t\tZero counters while listing\n' +
    '  -o, --output type[,...]\t\tOutput format, eg. xml\n' +
    '  -l, --label label[,...]\t\tconntrack labels\n' +
    '\nExpectation parameters and options:\n' +
    '  --tuple-src ip\tSource address in expect tuple\n' +
    '  --tuple-dst ip\tDestination address in expect tuple\n' +
    '\nUpdating parameters and options:\n' +
    '  --label-add label\tAdd label\n' +
    '  --label-del label\tDelete label\n' +
    '\nCommon parameters and options:\n' +
    '  -s, --src, --orig-src ip\t\tSource address from original direction\n' +
    '  -d, --dst, --orig-dst ip\t\tDestination address from original direction\n' +
    '  -r, --reply-src ip\t\tSource addres from reply direction\n' +
    '  -q, --reply-dst ip\t\tDestination address from reply direction\n' +
    "  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'\n" +
    "  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'\n" +
    '  -t, --timeout timeout\t\tSet timeout\n' +
    '  -u, --status status\t\tSet status, eg. ASSURED\n' +
    '  -w, --zone value\t\tSet conntrack zone\n' +
    '  --orig-zone value\t\tSet zone for original direction\n' +
    '  --reply-zone value\t\tSet zone for reply direction\n' +
    '  -b, --buffer-size\t\tNetlink socket buffer size\n' +
    '  --mask-src ip\t\t\tSource mask address\n' +
    '  --mask-dst ip\t\t\tDestination mask address\n' +
    '\n'
  );
}

const PORT_HELP =
  '  --orig-port-src\t\toriginal source port\n' +
  '  --orig-port-dst\t\toriginal destination port\n' +
  '  --reply-port-src\t\treply source port\n' +
  '  --reply-port-dst\t\treply destination port\n' +
  '  --mask-port-src\t\tmask source port\n' +
  '  --mask-port-dst\t\tmask destination port\n' +
  '  --tuple-port-src\t\texpectation tuple src port\n' +
  '  --tuple-port-src\t\texpectation tuple dst port\n';

function protoHelp(ext: ProtoExt | undefined, num: number | undefined): string {
  const name = ext?.name ?? Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === num) ?? 'unknown';
  let s = `Proto \`${name}' help:\n`;
  if (!ext) return s;
  if (ext.num === PROTO.tcp) s += PORT_HELP + '  --state\t\t\tTCP state, fe. ESTABLISHED\n';
  else if (ext.num === PROTO.icmp) s += '  --icmp-type\t\t\ticmp type\n  --icmp-code\t\t\ticmp code\n  --icmp-id\t\t\ticmp id\n';
  else if (ext.num === PROTO.udp || ext.num === 136) s += PORT_HELP;
  return s;
}

function summary(key: string, n: number): string {
  return `${PREFIX}${n} ${EXIT_MSG[key]}\n`;
}

/** The conntrack process as its events name it ([USERSPACE] portid= progname=). */
function userspace(now: number): { portid: number; progname: string } {
  return { portid: standInPortid(now), progname: PROG };
}

/** `-E` as a console follows it: each event of the host through -E's filters and event mask,
 *  printed in -o's forms (`timestamp`: the event's wall-clock time first). */
function eventFollow(p: Parsed, wallMs?: (at: number) => number): Follow {
  // (`-E expect`: the lab makes no expectations; it runs on all the same, and says so at the end)
  if (p.table === 'expect') return { event: () => null, interrupted: (shown) => ({ stdout: '', stderr: summary('EXP_E', shown), code: 0, changed: false }) };
  const { filter, none } = toFilter(p);
  const mask = p.eventMask ?? 7;
  const st = p.status;
  const bit: Record<CtEvent['type'], number> = { NEW: 1, UPDATE: 2, DESTROY: 4 };
  const lineOpts = { extended: (p.output & O_EXT) !== 0, id: (p.output & O_ID) !== 0 };
  const xml = (p.output & O_XML) !== 0;
  return {
    event(ev: CtEvent): string | null {
      if (none || !(mask & bit[ev.type]) || !entryMatches(ev.entry, filter)) return null;
      if (st) {
        const bits = statusBits(ev.entry);
        if ((bits & st.mask) !== st.set || (bits & st.set) !== st.set) return null;
      }
      // -o timestamp: the wall-clock time before the line ("[%-.8ld.%-.6ld]\t"), in XML a <when>
      const at = p.output & O_TIMESTAMP && wallMs ? wallMs(ev.at) : undefined;
      if (xml) return formatEventXml(ev, at);
      const line = formatEvent(ev, lineOpts);
      if (at === undefined) return line;
      const us = Math.round(at * 1000);
      return `[${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}]\t${line}`;
    },
    interrupted: (shown: number) => ({ stdout: xml ? XML_FOOTER : '', stderr: summary('E', shown), code: 0, changed: false }),
  };
}

/** How the shell runs conntrack: `follow` (an interactive console) lets -E go on running. */
export interface ConntrackOptions {
  follow?: boolean;
  wallMs?: (at: number) => number;
}

/** The `conntrack` console command on one host's table at lab time `now` (seconds). */
export function conntrack(argv: string[], _stdin: string, table: ConntrackTable, now: number, opts: ConntrackOptions = {}): CommandResult {
  let p: Parsed;
  try {
    p = parse(argv);
  } catch (e) {
    if (e instanceof Exit) return { stdout: e.stdout, stderr: e.stderr, code: e.code, changed: false };
    throw e;
  }
  const warn = p.warnings.join('');
  const out = (stdout: string, stderr: string, code = 0, changed = false): CommandResult => ({ stdout, stderr: warn + stderr, code, changed });

  switch (p.cmd) {
    case undefined:
      return out(usage(argv[0] ?? PROG), '');
    case 'h':
      return out(usage(argv[0] ?? PROG) + (p.opts.has('protonum') ? protoHelp(p.ext, p.protonum) : ''), '');
    case 'V':
      return out(`${PROG} v${VERSION} (conntrack-tools)\n`, '');
    case 'S': {
      if (p.table === 'expect') return out('cpu=0   \texpect_new=0 expect_create=0 expect_delete=0 \n', '');
      const s = table.stats;
      return out(
        `cpu=0   \tfound=${s.found} invalid=${s.invalid} insert=${s.insert} insert_failed=${s.insert_failed} drop=${s.drop} early_drop=${s.early_drop} error=${s.error} search_restart=${s.search_restart} clash_resolve=${s.clash_resolve} chaintoolong=${s.chaintoolong} \n`,
        '',
      );
    }
    case 'C':
      return out(`${p.table === 'expect' ? 0 : table.count(now)}\n`, '');
    case 'F':
      if (p.table === 'expect') return out('', `${PREFIX}expectation table has been emptied.\n`);
      asUserspace(userspace(now), () => table.flush(now));
      return out('', `${PREFIX}connection tracking table has been emptied.\n`, 0, true);
    case 'E': {
      const follow = opts.follow ? eventFollow(p, opts.wallMs) : undefined;
      // (-o xml: the document opens as it starts and closes when it is interrupted; expectation
      // events are printed without one)
      const xml = (p.output & O_XML) !== 0 && p.table === 'conntrack';
      if (!follow) return out(xml ? XML_HEADER + XML_FOOTER : '', summary(p.table === 'expect' ? 'EXP_E' : 'E', 0));
      return { stdout: xml ? XML_HEADER : '', stderr: warn, code: 0, changed: false, follow };
    }
    case 'L': {
      if (p.table === 'expect') return out('', summary('EXP_L', 0));
      if (p.table === 'dying' || p.table === 'unconfirmed') return out('', summary('L', 0));
      const cmp = ['src', 'dst', 'reply-src', 'reply-dst', 'protonum', 'mark', 'secmark', 'status', 'id', 'zone', 'label', 'orig-zone', 'reply-zone'] as const;
      if (p.opts.has('zero') && cmp.some((o) => p.opts.has(o))) return out('', paramProblem("Can't use -z with filtering parameters").stderr, PARAMETER_PROBLEM);
      const rows = selected(table, p, now);
      const text = listing(rows.map((e) => render(e, p, now)), p);
      if (p.opts.has('zero')) for (const e of rows) e.counters = { ORIGINAL: { packets: 0, bytes: 0 }, REPLY: { packets: 0, bytes: 0 } };
      return out(text, summary('L', rows.length));
    }
    case 'G': {
      if (p.table === 'expect') return out('', `${PREFIX}Operation failed: such conntrack doesn't exist\n`, OTHER_PROBLEM);
      const hit = getByTuple(table, p, now);
      if (hit === 'invalid') return out('', `${PREFIX}Operation failed: invalid parameters\n`, OTHER_PROBLEM);
      if (!hit) return out('', `${PREFIX}Operation failed: such conntrack doesn't exist\n`, OTHER_PROBLEM);
      return out(listing([render(hit, p, now, 2)], p, 'header'), summary('G', 1));
    }
    case 'D': {
      if (p.table === 'expect') return out('', `${PREFIX}0 ${EXIT_MSG.EXP_D}\n`, OTHER_PROBLEM);
      const rows = selected(table, p, now);
      const lines = rows.map((e) => render(e, p, now, 1, '-D'));
      asUserspace(userspace(now), () => {
        for (const e of rows) table.delete(e, now);
      });
      return out(listing(lines, p, 'bare'), summary('D', rows.length), rows.length === 0 ? OTHER_PROBLEM : 0, rows.length > 0);
    }
    case 'U':
      return update(table, p, now, out);
    case 'I':
    case 'A':
      return create(table, p, now, out);
  }
}

/**
 * -U as conntrack 1.4.7 does it: a dump of the table, and for each entry its filters keep and
 * the options change (the mark as (mark & ~mask) ^ value, status bits added, -t, a TCP
 * --state), an update request and a get request on a second socket, whose answer is printed.
 * Seen on the kernel:
 * - without an address or -f the requests carry no family, which the kernel refuses
 *   (EOPNOTSUPP): the first entry to change fails the command, and nothing changes;
 * - that socket's answers are read one per request, and a get is answered twice (the entry,
 *   then an acknowledgement): every request reads an answer meant for an earlier one. So the
 *   k-th entry updated prints only when k % 3 == 1, and then the (2k+1)/3-th entry as its get
 *   found it.
 */
function update(table: ConntrackTable, p: Parsed, now: number, out: (o: string, e: string, c?: number, ch?: boolean) => CommandResult): CommandResult {
  const rows = selected(table, p, now, true);
  const mark = p.opts.has('mark') ? p.mark : undefined;
  const add = p.status?.set ?? 0;
  const state = p.tcpState as TcpState | undefined;
  const changes: { e: CtEntry; mark: number; status: CtStatusBit[] }[] = [];
  for (const e of rows) {
    const m = mark ? ((e.mark & ~mark.mask) ^ mark.value) >>> 0 : e.mark;
    const status = maskBits(add).filter((b) => !e.status.has(b));
    // (a -t always differs: the kernel's remaining time has gone below the whole seconds set)
    const same = m === e.mark && status.length === 0 && p.timeout === undefined && (state === undefined || !e.tcp || e.tcp.state === state);
    if (same) continue;
    if (p.family === undefined) return out('', `Operation failed: Operation not supported\n${PREFIX}Operation failed: Operation not supported\n`, OTHER_PROBLEM);
    changes.push({ e, mark: m, status });
  }
  for (const { e, mark: m, status } of changes) {
    table.willChange(e);
    e.mark = m;
    for (const b of status) e.status.add(b);
    if (p.timeout !== undefined) {
      e.timeout = p.timeout;
      e.expires = now + p.timeout;
    }
    if (state !== undefined && e.tcp) e.tcp.state = state;
    asUserspace(userspace(now), () => table.updated(e, now));
  }
  const lines: string[] = [];
  // (k = 3i+1 prints the (2k+1)/3-th = (2i+1)-th entry)
  for (let i = 0; 3 * i < changes.length; i++) lines.push(render(changes[2 * i].e, p, now, 2));
  return out(listing(lines, p, 'bare'), summary('U', changes.length), changes.length === 0 ? OTHER_PROBLEM : 0, changes.length > 0);
}

/** -I/-A: an entry made by hand, confirmed at once. */
function create(table: ConntrackTable, p: Parsed, now: number, out: (o: string, e: string, c?: number, ch?: boolean) => CommandResult): CommandResult {
  if (p.ext?.num === PROTO.tcp && p.tcpState === undefined) return out('', paramProblem("You need to supply the `--state' option for this command").stderr, PARAMETER_PROBLEM);
  if (p.family === 'ipv6') return out('', `${PREFIX}Operation failed: invalid parameters\n`, OTHER_PROBLEM);
  const proto = p.protonum ?? 0;
  const icmp = proto === PROTO.icmp;
  const ports = p.ext !== undefined && !icmp;
  const mk = (src: number, dst: number, sport: number, dport: number, type: number): CtTuple =>
    ({ src, dst, proto, sport: icmp ? p.icmp.id ?? 0 : ports ? sport : 0, dport: icmp ? p.icmp.id ?? 0 : ports ? dport : 0, icmpType: icmp ? type : 0, icmpCode: icmp ? p.icmp.code ?? 0 : 0 });
  const reverse: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };
  const type = p.icmp.type ?? 0;
  const hasOrig = p.origSrc !== undefined && p.origDst !== undefined;
  const hasReply = p.replySrc !== undefined && p.replyDst !== undefined;
  const pt = p.ports;
  const orig = hasOrig
    ? mk(p.origSrc!.addr, p.origDst!.addr, pt.origSport ?? pt.replyDport ?? 0, pt.origDport ?? pt.replySport ?? 0, type)
    : mk(p.replyDst!.addr, p.replySrc!.addr, pt.replyDport ?? 0, pt.replySport ?? 0, reverse[type] ?? type);
  const reply = hasReply
    ? mk(p.replySrc!.addr, p.replyDst!.addr, pt.replySport ?? pt.origDport ?? 0, pt.replyDport ?? pt.origSport ?? 0, reverse[type] ?? type)
    : mk(orig.dst, orig.src, orig.dport, orig.sport, reverse[type] ?? type);
  const status = maskBits(p.status?.set ?? 0);
  const e = asUserspace(userspace(now), () => table.insert(orig, reply, now, { timeout: p.timeout ?? 0, status, mark: p.mark?.value, tcpState: p.tcpState as TcpState | undefined }));
  if (!e) return out('', `${PREFIX}Operation failed: Such conntrack exists, try -U to update\n`, OTHER_PROBLEM);
  return out('', summary(p.cmd === 'A' ? 'A' : 'I', 1), 0, true);
}

/** -G: find the entry by its original tuple (the kernel's IPCTNL_MSG_CT_GET). */
function getByTuple(table: ConntrackTable, p: Parsed, now: number): CtEntry | undefined | 'invalid' {
  if (p.family === 'ipv6') return undefined;
  const proto = p.protonum ?? 0;
  if (!(p.origSrc && p.origDst)) return 'invalid';
  const icmp = proto === PROTO.icmp;
  let sport = p.ports.origSport ?? p.ports.replyDport ?? 0;
  let dport = p.ports.origDport ?? p.ports.replySport ?? 0;
  if (icmp) sport = dport = p.icmp.id ?? 0;
  const ref = table.lookupTuple({
    src: p.origSrc.addr, dst: p.origDst.addr, proto, sport, dport, icmpType: icmp ? p.icmp.type ?? 0 : 0, icmpCode: icmp ? p.icmp.code ?? 0 : 0,
  });
  if (!ref || ref.dir !== 'ORIGINAL' || ref.entry.expires <= now) return undefined;
  return ref.entry;
}
