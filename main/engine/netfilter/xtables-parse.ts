// How libxtables reads and prints option values, for the match/target modules: glibc's
// strtoul family (leading blanks, a sign, 0x/0 prefixes), xtables' range checks with the
// exact messages of its generic option parser ("x6" options: once-only, invert, required,
// exclusive and companion options), the dotted-quad forms it accepts, and the quoting
// iptables-save applies to strings. Kept in one place so every module fails the same way
// the real tool does.

import type { IPv4 } from '../net/ipv4.ts';
import { IptablesError } from './types.ts';

const U64_MAX = (1n << 64n) - 1n;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

export interface StrtoResult {
  value: bigint;
  /** Index of the first character not consumed. */
  end: number;
  /** The value did not fit in 64 bits (ERANGE); `value` is then U64 max. */
  overflow: boolean;
}

/** glibc strtoumax(s, &end, base) for base 0, 10 or 16. null when no digit was read. */
export function strtoumax(s: string, base: 0 | 10 | 16): StrtoResult | null {
  let i = 0;
  while (isSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b: number = base;
  const hexAfterPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2] ?? '') < 16;
  if ((b === 0 || b === 16) && hexAfterPrefix) {
    b = 16;
    i += 2;
  } else if (b === 0) b = s[i] === '0' ? 8 : 10;
  const start = i;
  let v = 0n;
  let overflow = false;
  for (; i < s.length; i++) {
    const d = digitValue(s[i]);
    if (d >= b) break;
    v = v * BigInt(b) + BigInt(d);
    if (v > U64_MAX) overflow = true;
  }
  if (i === start) return null;
  if (overflow) return { value: U64_MAX, end: i, overflow };
  if (neg && v !== 0n) v = U64_MAX + 1n - v;
  return { value: v, end: i, overflow };
}

/** xtables_strtoul(): like strtoumax with base 0, but a minus sign is refused and the value
 *  must lie in [min, max]. With `full`, the whole string must be consumed. */
export function xtStrtoul(s: string, min: bigint, max: bigint, full: boolean): { value: bigint; end: number } | null {
  let p = 0;
  while (isSpace(s[p])) p++;
  if (s[p] === '-') return null;
  const r = strtoumax(s, 0);
  if (r === null || r.overflow) return null;
  if (r.value < min || r.value > max) return null;
  if (full && r.end !== s.length) return null;
  return { value: r.value, end: r.end };
}

/** xtables_strtoui with a full-string requirement, as a number; null on any failure. */
export function xtUint(s: string, min: number, max: number): number | null {
  const r = xtStrtoul(s, BigInt(min), BigInt(max), true);
  return r === null ? null : Number(r.value);
}

export function xtFail(message: string): never {
  throw new IptablesError(message, 2);
}

// ---------------------------------------------------------------------------------------------
// The typed values of xtables' generic option parser, with its messages.

/** XTTYPE_UINT8/16/32 (and `min`/`max` of the option entry). */
export function parseUintOpt(ext: string, opt: string, arg: string, min: number, max: number): number {
  const v = xtUint(arg, min, max);
  if (v === null) xtFail(`${ext}: bad value for option "--${opt}", or out of range (${min}-${max}).\n`);
  return v;
}

/** XTTYPE_MARKMASK32: `value[/mask]`, mask 0xffffffff when absent. */
export function parseMarkMask(ext: string, opt: string, arg: string): { mark: number; mask: number } {
  const bad = () => xtFail(`${ext}: bad integer value for option "--${opt}", or out of range.\n`);
  const a = xtStrtoul(arg, 0n, 0xffffffffn, false);
  if (a === null) return bad();
  let end = a.end;
  let mask = 0xffffffff;
  if (arg[end] === '/') {
    const rest = arg.slice(end + 1);
    const m = xtStrtoul(rest, 0n, 0xffffffffn, false);
    if (m === null) return bad();
    mask = Number(m.value);
    end = end + 1 + m.end;
  }
  if (end !== arg.length) xtFail(`${ext}: trailing garbage after value for option "--${opt}".\n`);
  return { mark: Number(a.value), mask };
}

/** XTTYPE_UINT16RC / UINT32RC: `a`, `a:b`, `:b`, `a:`; missing ends default to min/max. */
export function parseUintRange(ext: string, opt: string, arg: string, max: number): number[] {
  return parseUintRangeBig(ext, opt, arg, BigInt(max)).map(Number);
}

/** The same for any width (XTTYPE_UINT64RC: `max` 2^64-1): up to two components split by
 *  ':', a missing one 0 (first) or `max` (second). */
export function parseUintRangeBig(ext: string, opt: string, arg: string, max: bigint): bigint[] {
  const vals: bigint[] = [];
  let pos = 0;
  for (;;) {
    if (vals.length === 2) xtFail(`${ext}: Too many components for option "--${opt}" (max: 2)\n`);
    const rest = arg.slice(pos);
    let value: bigint;
    let end: number;
    if (rest === '' || rest[0] === ':') {
      value = vals.length === 1 ? max : 0n;
      end = pos;
    } else {
      const r = xtStrtoul(rest, 0n, max, false);
      if (r === null) xtFail(`${ext}: bad value for option "--${opt}" near "${rest}", or out of range (0-${max}).\n`);
      end = pos + r.end;
      if (end < arg.length && arg[end] !== ':') xtFail(`${ext}: Argument to "--${opt}" has unexpected characters near "${arg.slice(end)}".\n`);
      value = r.value;
    }
    vals.push(value);
    if (end >= arg.length) return vals;
    pos = end + 1;
  }
}

/** XTF_BAD_VALUE of xtables_param_act. `opt` includes the dashes. */
export function badValue(ext: string, opt: string, value: string): never {
  return xtFail(`${ext}: Bad value for "${opt}" option: "${value}"`);
}

/** xtables_numeric_to_ipaddr: dotted quad with base-0 bytes; fewer than four parts are
 *  completed with zero bytes on the right ("10.1" is 10.1.0.0). At most 19 characters
 *  are read, like the C buffer. */
export function numericToIPv4(s: string): IPv4 | null {
  const parts = s.slice(0, 19).split('.');
  if (parts.length > 4) return null;
  const bytes: number[] = [];
  for (const p of parts) {
    const v = xtUint(p, 0, 255);
    if (v === null) return null;
    bytes.push(v);
  }
  while (bytes.length < 4) bytes.push(0);
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** inet_aton's forms (what getaddrinfo accepts as a numeric host): a, a.b, a.b.c, a.b.c.d,
 *  each part decimal, 0-octal or 0x-hex, the last one filling the remaining bytes. */
export function inetAton(s: string): IPv4 | null {
  const parts = s.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(p))) return null;
  const nums = parts.map((p) => strtoumax(p, 0)?.value ?? -1n);
  let addr = 0n;
  for (let i = 0; i < nums.length - 1; i++) {
    if (nums[i] > 255n) return null;
    addr = (addr << 8n) | nums[i];
  }
  const lastBits = 8n * BigInt(5 - nums.length);
  const last = nums[nums.length - 1];
  if (last >= 1n << lastBits) return null;
  return Number((addr << lastBits) | last) >>> 0;
}

/** xtables_save_string: bare when made of [A-Za-z0-9_-] only, else double-quoted with ", \
 *  and ' escaped by a backslash. Returns the text with its leading space. */
export function saveString(v: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(v)) return ` ${v}`;
  return ` "${v.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** `0x%x` of an unsigned 32-bit value. */
export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Bytes of the UTF-8 encoding, for limits the kernel counts in bytes. */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `bytes` bytes. */
export function truncateUtf8(s: string, bytes: number): string {
  let out = '';
  let n = 0;
  for (const ch of s) {
    const len = utf8Length(ch);
    if (n + len > bytes) break;
    out += ch;
    n += len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The generic option bookkeeping of xtables' x6 parser.

export interface X6Option {
  name: string;
  /** XTOPT_INVERT: a leading `!` is accepted. */
  invert?: boolean;
  /** XTOPT_MULTI: may be given more than once. */
  multi?: boolean;
  /** XTOPT_MAND: required. */
  mand?: boolean;
  /** Options this one may not be combined with. */
  excl?: readonly string[];
  /** Options this one needs. */
  also?: readonly string[];
}

/** The option table of one extension, in the table order and with the ids its C source
 *  gives (they decide which conflict is reported first). Which options a rule used is
 *  remembered beside the rule's data (never inside it), keyed by the data object. */
export class X6Table {
  private readonly seenBy = new WeakMap<object, string[]>();
  private readonly byId: readonly string[];

  constructor(
    readonly ext: string,
    private readonly table: readonly X6Option[],
    idOrder?: readonly string[],
  ) {
    this.byId = idOrder ?? table.map((o) => o.name);
  }

  seen(data: object): readonly string[] {
    return this.seenBy.get(data) ?? [];
  }

  has(data: object, opt: string): boolean {
    return this.seen(data).includes(opt);
  }

  /** xtables_option_parse's checks, then records the option. */
  use(data: object, opt: string, invert: boolean): void {
    const entry = this.table.find((o) => o.name === opt);
    if (!entry) xtFail(`unknown option "--${opt}"`);
    const seen = this.seenBy.get(data) ?? [];
    if (!entry.multi && seen.includes(opt)) xtFail(`${this.ext}: option "--${opt}" can only be used once.\n`);
    if (invert && !entry.invert) xtFail(`${this.ext}: option "--${opt}" cannot be inverted.\n`);
    if (!seen.includes(opt)) seen.push(opt);
    this.seenBy.set(data, seen);
  }

  /** xtables_options_fcheck: required, companion and exclusive options, in table order. */
  finish(data: object): void {
    const seen = this.seen(data);
    for (const e of this.table) {
      if (e.mand && !seen.includes(e.name)) xtFail(`${this.ext}: option "--${e.name}" must be specified\n`);
      if (!seen.includes(e.name)) continue;
      for (const other of this.byId) {
        if (other === e.name) continue;
        if (e.also?.includes(other) && !seen.includes(other))
          xtFail(`${this.ext}: option "--${e.name}" also requires "--${other}".\n`);
        if (e.excl?.includes(other) && seen.includes(other))
          xtFail(`${this.ext}: option "--${e.name}" cannot be used together with "--${other}".\n`);
      }
    }
  }
}
