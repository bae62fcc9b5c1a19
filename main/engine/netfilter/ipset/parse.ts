// The ipset tool's input parsers (libipset parse.c) with its C library underneath: strtoull
// with base 0 for numbers, gethostbyname2 for addresses (inet_aton forms for digits-and-dots
// input, /etc/hosts' localhost, nothing else resolves in the lab), getprotobyname /
// getservbyname for protocols and ports. Messages go to the session report (report.ts)
// exactly as the tool words them, warnings included.

import type { IPv4 } from '../../net/ipv4.ts';
import { dottedQuad } from '../addr.ts';
import { icmpByName, protoByName, serviceByName } from './netdb.ts';
import type { AdtAttrs } from './types.ts';
import type { Report } from './report.ts';
import { SessionError } from './report.ts';

export const IPSET_MAXNAMELEN = 32;
export const IPSET_MAX_COMMENT_SIZE = 255;
const ULLONG_MAX = (1n << 64n) - 1n;

const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** C strtoull(str, &end, 0). `end` is the index parsing stopped at (0 when nothing parsed);
 *  `range` mirrors errno == ERANGE. */
export function strtoull(str: string): { value: bigint; end: number; range: boolean } {
  let i = 0;
  while (isSpace(str[i])) i++;
  let neg = false;
  if (str[i] === '+' || str[i] === '-') {
    neg = str[i] === '-';
    i++;
  }
  let base = 10;
  if (str[i] === '0' && (str[i + 1] === 'x' || str[i + 1] === 'X') && /[0-9a-fA-F]/.test(str[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (str[i] === '0') base = 8;
  const digitsStart = i;
  let v = 0n;
  let range = false;
  for (; i < str.length; i++) {
    const d = parseInt(str[i], 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * BigInt(base) + BigInt(d);
    if (v > ULLONG_MAX) range = true;
  }
  if (i === digitsStart) return { value: 0n, end: 0, range: false };
  if (range) return { value: ULLONG_MAX, end: i, range: true };
  if (neg) v = (ULLONG_MAX + 1n - v) & ULLONG_MAX;
  return { value: v, end: i, range: false };
}

/** string_to_number_ll: the number, or a report of the tool's "Syntax error" message. */
export function parseNumber(
  report: Report,
  str: string,
  min: bigint,
  max: bigint,
  type: 'error' | 'warning' = 'error',
): bigint | undefined {
  const r = strtoull(str);
  let range = r.range;
  if (r.end === str.length && r.end !== 0 && !r.range) {
    if (min <= r.value && (max === 0n || r.value <= max)) return r.value;
    range = true;
  }
  if (range) {
    report.add(type, `Syntax error: '${str}' is out of range ${min}-${max === 0n ? ULLONG_MAX : max}`);
  } else {
    report.add(type, `Syntax error: '${str}' is invalid as number`);
  }
  return undefined;
}

function must<T>(v: T | undefined): T {
  if (v === undefined) throw new SessionError();
  return v;
}

export function parseU32(report: Report, str: string): number {
  return Number(must(parseNumber(report, str, 0n, 0xffffffffn)));
}

export function parseU16(report: Report, str: string): number {
  return Number(must(parseNumber(report, str, 0n, 0xffffn)));
}

export function parseU8(report: Report, str: string): number {
  return Number(must(parseNumber(report, str, 0n, 255n)));
}

export function parseU64(report: Report, str: string): bigint {
  return must(parseNumber(report, str, 0n, ULLONG_MAX - 1n));
}

export function parseTimeout(report: Report, str: string): number {
  return Number(must(parseNumber(report, str, 0n, BigInt(Math.floor(0x7fffffff / 1000)))));
}

/** inet_aton: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x). */
export function inetAton(s: string): IPv4 | null {
  let ip = 0; // the parts before the last, 8 bits each
  let n = 0;
  let v = 0;
  let i = 0;
  const len = s.length;
  for (;;) {
    if (n === 4 || i >= len) return null;
    let base = 10;
    let digits = 0;
    if (s.charCodeAt(i) === 48 /* 0 */) {
      const c1 = s.charCodeAt(i + 1);
      if (c1 === 120 || c1 === 88) {
        base = 16;
        i += 2;
      } else {
        base = 8;
      }
    }
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      if (d >= base) return null;
      v = v * base + d;
      digits++;
      if (v > 0xffffffff) return null;
    }
    if (digits === 0) return null;
    n++;
    if (i >= len) break;
    if (s.charCodeAt(i) !== 46 /* . */) return null;
    if (v > 255) return null;
    ip = ip * 256 + v;
    v = 0;
    i++;
  }
  const lastMax = n === 1 ? 0xffffffff : n === 2 ? 0xffffff : n === 3 ? 0xffff : 0xff;
  if (v > lastMax) return null;
  return (ip * 2 ** (8 * (5 - n)) + v) >>> 0;
}

/** gethostbyname2(name, AF_INET) as far as the lab can answer it. */
export function resolveHost(name: string): IPv4 | null {
  const quad = dottedQuad(name);
  if (quad !== null) return quad;
  // glibc answers digits-and-dots names itself (inet_aton), without asking any resolver.
  const c0 = name.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c !== 46 && (c < 48 || c > 57)) return null;
    }
    if (name.charCodeAt(name.length - 1) === 46) return null;
    return inetAton(name);
  }
  if (name === 'localhost') return 0x7f000001;
  return null;
}

/** ipset_strchr: the position of a separator that is neither first nor last, or -1. */
export function sepIndex(str: string, sep: string): number {
  const i = str.indexOf(sep);
  if (i < 0 || str[0] === sep || str[str.length - 1] === sep) return -1;
  return i;
}

function stripEscape(report: Report, s: string): string {
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) {
      report.error(`Syntax error: cannot find closing escape character ']' in ${s}`);
      throw new SessionError();
    }
    return s.slice(1, -1);
  }
  return s;
}

/** find_range_separator: the '-' of FROM-TO, honouring [escaped] hostnames. */
function rangeIndex(report: Report, s: string): number {
  if (s.startsWith('[')) {
    const esc = s.indexOf(']');
    if (esc < 0) {
      report.error(`Syntax error: cannot find closing escape character ']' in ${s}`);
      throw new SessionError();
    }
    if (esc + 1 === s.length) return -1;
    if (s[esc + 1] !== '-') {
      report.error(`Syntax error: range separator expected after '${s.slice(0, esc + 1)}'`);
      throw new SessionError();
    }
    return esc + 1;
  }
  return sepIndex(s, '-');
}

function resolveOrFail(report: Report, name: string): IPv4 {
  const ip = resolveHost(name);
  if (ip === null) {
    report.error(`Syntax error: cannot parse ${name}: resolving to IPv4 address failed`);
    throw new SessionError();
  }
  return ip;
}

/** parse_ip with IPADDR_ANY for family inet: IP, IP/CIDR or FROM-TO. */
export function parseIp(report: Report, str: string, a: AdtAttrs): void {
  let first = str;
  let second: string | undefined;
  const slash = sepIndex(str, '/');
  if (slash >= 0) {
    first = str.slice(0, slash);
    const c = str.slice(slash + 1);
    const n = parseU8(report, c);
    if (n > 32) {
      report.error(`Syntax error: '${c}' is out of range 0-32`);
      throw new SessionError();
    }
    a.cidr = n;
  } else {
    const dash = rangeIndex(report, str);
    if (dash >= 0) {
      first = str.slice(0, dash);
      second = str.slice(dash + 1);
    }
  }
  a.ip = resolveOrFail(report, stripEscape(report, first));
  if (second !== undefined) a.ipTo = resolveOrFail(report, stripEscape(report, second));
}

/** ipset_parse_proto: a protocol name or number. */
function parseProto(report: Report, str: string): number {
  const saved = report.snapshot();
  const n = parseNumber(report, str, 0n, 255n, 'warning');
  report.restore(saved);
  if (n !== undefined) return Number(n);
  const p = protoByName(str.toLowerCase() === 'icmpv6' ? 'ipv6-icmp' : str);
  if (p === undefined || p > 255) {
    report.error(`Syntax error: cannot parse '${str}' as a protocol`);
    throw new SessionError();
  }
  return p;
}

/** ipset_parse_port: a number or a service name (failures are warnings turned errors). */
function parsePort(report: Report, str: string, proto: string): number {
  const n = parseNumber(report, str, 0n, 0xffffn, 'warning');
  if (n !== undefined) return Number(n);
  // The tool tries the protocol name as a number too before giving up on the service.
  report.warn(`Syntax error: '${proto}' is invalid as number`);
  const svc = serviceByName(stripEscape(report, str), proto);
  if (svc !== undefined) {
    report.reset();
    return svc;
  }
  report.warn(`cannot parse '${str}' as a ${proto} port`);
  report.warningAsError();
  throw new SessionError();
}

function parseTcpUdpPort(report: Report, str: string, proto: string, a: AdtAttrs): void {
  const dash = rangeIndex(report, str);
  if (dash >= 0) {
    a.portTo = parsePort(report, str.slice(dash + 1), proto);
    a.port = parsePort(report, str.slice(0, dash), proto);
  } else {
    a.port = parsePort(report, str, proto);
  }
}

/** ipset_parse_proto_port: [PROTO:]PORT, tcp by default. `cmd` names the command for the
 *  tool's follow-up message when the element turns out unusable. */
export function parseProtoPort(report: Report, str: string, a: AdtAttrs, cmd: string): void {
  const colon = sepIndex(str, ':');
  if (colon < 0) {
    a.proto = 6;
    parseTcpUdpPort(report, str, 'tcp', a);
    return;
  }
  const protoStr = str.slice(0, colon);
  const rest = str.slice(colon + 1);
  const p = parseProto(report, protoStr);
  a.proto = p;
  switch (p) {
    case 6:
    case 132:
    case 17:
    case 136:
      parseTcpUdpPort(report, rest, protoStr, a);
      return;
    case 1: {
      const tc = icmpByName(rest);
      if (tc !== undefined) {
        a.port = tc;
        return;
      }
      const slash = sepIndex(rest, '/');
      if (slash < 0) {
        report.error(`Cannot parse ${rest} as an ICMP type/code.`);
        throw new SessionError();
      }
      const type = parseU8(report, rest.slice(0, slash));
      const code = parseU8(report, rest.slice(slash + 1));
      a.port = (type << 8) | code;
      return;
    }
    case 58:
      // The tool reports the family mismatch but carries on with emptied data, which
      // then fails to build the message.
      report.error('Syntax error: Protocol ICMPv6 can be used with family inet6 only');
      report.error(`Invalid ${cmd} command: missing setname`);
      throw new SessionError();
    default:
      if (rest !== '0') {
        report.error(`Syntax error: Protocol ${protoStr} can be used with pseudo port value 0 only.`);
        throw new SessionError();
      }
      a.port = 0;
  }
}

export function checkSetname(report: Report, name: string): string {
  if (name.length > IPSET_MAXNAMELEN - 1) {
    report.error(`Syntax error: setname '${name}' is longer than ${IPSET_MAXNAMELEN - 1} characters`);
    throw new SessionError();
  }
  return name;
}

export function parseComment(report: Report, str: string): string {
  if (str.includes('"')) {
    report.error('Syntax error: " character is not permitted in comments');
    throw new SessionError();
  }
  if (str.length > IPSET_MAX_COMMENT_SIZE) {
    report.error(`Syntax error: Comment is longer than the maximum allowed ${IPSET_MAX_COMMENT_SIZE} characters`);
    throw new SessionError();
  }
  return str;
}

/** sscanf's %lx: optional spaces and sign, optional 0x, hex digits. */
function scanHex(s: string, i: number): { v: bigint; end: number } | null {
  while (isSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) i += 2;
  const start = i;
  let v = 0n;
  while (i < s.length && /[0-9a-fA-F]/.test(s[i])) v = v * 16n + BigInt(parseInt(s[i++], 16));
  if (i === start) return null;
  if (neg) v = ((1n << 64n) - v) & ((1n << 64n) - 1n);
  return { v, end: i };
}

export function parseSkbmark(report: Report, str: string, a: AdtAttrs): void {
  const fail = (): never => {
    report.error('Syntax error: Invalid skbmark format, it should be:  MARK/MASK or MARK (see manpage)');
    throw new SessionError();
  };
  if (!str.startsWith('0x')) fail();
  const m = scanHex(str, 2);
  if (!m) return fail();
  let mask = 0xffffffff;
  if (str.startsWith('/0x', m.end)) {
    const k = scanHex(str, m.end + 3);
    if (k) mask = Number(k.v & 0xffffffffn);
  }
  a.skbmark = Number(m.v & 0xffffffffn);
  a.skbmarkmask = mask;
}

export function parseSkbprio(report: Report, str: string, a: AdtAttrs): void {
  const maj = scanHex(str, 0);
  const min = maj && str[maj.end] === ':' ? scanHex(str, maj.end + 1) : null;
  if (!maj || !min) {
    report.error('Syntax error: Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)');
    throw new SessionError();
  }
  a.skbprio = ((Number(maj.v & 0xffffn) << 16) | Number(min.v & 0xffffn)) >>> 0;
}
