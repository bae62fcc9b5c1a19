// Shared pieces of the `ip` command: global options, iproute2's prefix matching of keywords,
// its argument parsers with their exact error texts and exit statuses, and its JSON output.

import { maskLen, type IPv4 } from '../ipv4.ts';
import { KernelError, rtnlMessage } from '../errno.ts';

export interface IpOptions {
  family: 'inet' | 'inet6' | null;
  brief: boolean;
  json: boolean;
  pretty: boolean;
  stats: number;
  details: number;
  oneline: boolean;
}

/** How a command ends: text on stdout/stderr and an exit status. */
export class IpExit extends Error {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(stderr: string, code: number, stdout = '') {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

/** iproute2's matches(): `word` is a non-empty prefix of `keyword`. */
export function matches(word: string, keyword: string): boolean {
  return word.length > 0 && keyword.startsWith(word);
}

/** A kernel error as iproute2 reports it: exit 2. */
export function kernelExit(e: KernelError, stdout = ''): IpExit {
  return new IpExit(`${rtnlMessage(e)}\n`, 2, stdout);
}

export function fail(msg: string, code: number): never {
  throw new IpExit(msg.endsWith('\n') ? msg : `${msg}\n`, code);
}

/** invarg(): `Error: argument "X" is wrong: MSG` then exit 255 (MSG often ends with \n). */
export function invarg(msg: string, arg: string): never {
  throw new IpExit(`Error: argument "${arg}" is wrong: ${msg}\n`, 255);
}

export function duparg2(key: string, arg: string): never {
  throw new IpExit(`Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`, 255);
}

export function incomplete(): never {
  throw new IpExit('Command line is not complete. Try option "help"\n', 255);
}

export function noDevice(name: string): never {
  throw new IpExit(`Cannot find device "${name}"\n`, 1);
}

/** Reads arguments one at a time (NEXT_ARG semantics). */
export class Args {
  private i = 0;
  constructor(private readonly argv: readonly string[]) {}
  get done(): boolean {
    return this.i >= this.argv.length;
  }
  peek(): string | undefined {
    return this.argv[this.i];
  }
  shift(): string {
    return this.argv[this.i++];
  }
  /** The value after a keyword; "Command line is not complete" when missing. */
  next(): string {
    if (this.i >= this.argv.length) incomplete();
    return this.argv[this.i++];
  }
  rest(): string[] {
    return this.argv.slice(this.i);
  }
}

/** get_prefix(): "A.B.C.D[/N]" (N may be a dotted mask) or "default"/"any"/"all"; exits 1
 *  with iproute2's message on garbage. */
export function getPrefix(s: string): { addr: IPv4; len: number; lenGiven: boolean } {
  if (s === 'default' || s === 'any' || s === 'all') return { addr: 0, len: 0, lenGiven: true };
  const bad = (): never => fail(`Error: any valid prefix is expected rather than "${s}".`, 1);
  const slash = s.indexOf('/');
  const a = parseLooseIPv4(slash < 0 ? s : s.slice(0, slash));
  if (a === null) return bad();
  if (slash < 0) return { addr: a, len: 32, lenGiven: false };
  const l = s.slice(slash + 1);
  let len = getUnsigned(l);
  if (len === null) {
    const m = parseLooseIPv4(l);
    const ml = m === null ? -1 : maskLen(m);
    if (ml < 0) return bad();
    len = ml;
  }
  if (len > 32) return bad();
  return { addr: a, len, lenGiven: true };
}

/** get_addr(): an IPv4 address; exits 1 on garbage. */
export function getAddr(s: string): IPv4 {
  const a = s === 'default' || s === 'any' || s === 'all' ? 0 : parseLooseIPv4(s);
  if (a === null) fail(`Error: inet address is expected rather than "${s}".`, 1);
  return a;
}

/** get_addr_ipv4(): one to four dot-separated strtoul(base 0) parts; missing trailing parts
 *  are 0 ("10.1" is 10.1.0.0). */
export function parseLooseIPv4(s: string): IPv4 | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  let n = 0;
  for (let i = 0; i < 4; i++) {
    if (i >= parts.length) {
      n = n * 256;
      continue;
    }
    const v = getUnsigned(parts[i]);
    if (v === null || v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/**
 * iproute2's ll_addr_a2n: a link-layer address as colon-separated bytes, each read by C's
 * sscanf("%x") (leading blanks, a sign, a 0x prefix, then hex digits up to the first other
 * character: "1g" is 1); a byte that does not read, or is above 255, is named in the error.
 * At most `max` bytes are read.
 */
export function llAddr(arg: string, max = 32): number[] {
  const out: number[] = [];
  let rest = arg;
  for (let i = 0; i < max; i++) {
    const colon = rest.indexOf(':');
    const seg = colon < 0 ? rest : rest.slice(0, colon);
    const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(seg);
    const v = m ? (m[1] === '-' ? (0x100000000 - (parseInt(m[2], 16) % 0x100000000)) % 0x100000000 : parseInt(m[2], 16)) : NaN;
    if (!(v <= 255)) fail(`"${seg}" is invalid lladdr.`, 1);
    out.push(v);
    if (colon < 0) break;
    rest = rest.slice(colon + 1);
  }
  return out;
}

/** get_unsigned()/get_u32(): decimal, 0x hex or 0 octal. */
export function getUnsigned(s: string): number | null {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) v = s.length > 1 ? parseInt(s.slice(1), 8) : 0;
  else if (/^[1-9][0-9]*$/.test(s)) v = Number(s);
  else return null;
  return v <= 0xffffffff ? v : null;
}

// ---------------------------------------------------------------------------------------------
// JSON as iproute2's json_writer prints it.

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export function jsonText(v: Json, pretty: boolean): string {
  return (pretty ? prettyJson(v, 0) : JSON.stringify(v)) + '\n';
}

function prettyJson(v: Json, depth: number): string {
  if (Array.isArray(v)) {
    if (!v.length) return '[ ]';
    return `[ ${v.map((x) => prettyJson(x, depth + 1)).join(',')} ]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    const pad = '    '.repeat(depth + 1);
    const body = keys.map((k) => `\n${pad}${JSON.stringify(k)}: ${prettyJson(v[k], depth + 1)}`).join(',');
    return `{${body}\n${'    '.repeat(depth)}}`;
  }
  return JSON.stringify(v);
}
