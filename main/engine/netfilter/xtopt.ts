// What libxtables gives every extension: C-style number parsing (strtoul with base 0, so
// "0x10" and "010" work as in iptables), the option-parser's error texts (byte-exact, some
// end in "\n", which makes iptables print an empty line before "Try ..."), ports by number
// or service name, mark/mask pairs, and the quoting iptables-save uses for strings.

import { IptablesError } from './types.ts';
import { serviceToPort } from './services.ts';

export interface Num {
  value: number; // Infinity when it does not fit
  end: number; // index just past the digits; 0 when no digits were read
}

/** C strtoumax(s, &end, base): leading blanks, optional sign, "0x" hex / "0" octal for base 0. */
export function strtoul(s: string, base = 0, from = 0): Num {
  let i = from;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n')) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && hexVal(s.charCodeAt(i + 2)) >= 0) {
    i += 2;
    b = 16;
  } else if (b === 0) b = s[i] === '0' ? 8 : 10;
  const start = i;
  let v = 0;
  for (; i < s.length; i++) {
    const d = hexVal(s.charCodeAt(i));
    if (d < 0 || d >= b) break;
    v = v * b + d;
  }
  if (i === start) return { value: NaN, end: from };
  if (v > Number.MAX_SAFE_INTEGER) v = Infinity;
  // strtoumax negates in unsigned arithmetic: any negative value is out of every range here.
  return { value: neg && v !== 0 ? Infinity : v, end: i };
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** xtables_strtoui on a whole string: the number, or undefined if malformed or out of range. */
export function strtoui(s: string, min: number, max: number, base = 0): number | undefined {
  // Fast path: plain decimal without a leading zero (what nearly every rule has).
  const len = s.length;
  if (len > 0 && len < 10 && s.charCodeAt(0) > 48 && s.charCodeAt(0) <= 57) {
    let v = 0;
    let k = 0;
    for (; k < len; k++) {
      const c = s.charCodeAt(k) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (k === len) return v >= min && v <= max ? v : undefined;
  }
  const n = strtoul(s, base);
  if (n.end === 0 || n.end !== s.length || !(n.value >= min && n.value <= max)) return undefined;
  return n.value;
}

/** Decimal digits only (fast path used by the hot parsers). */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// libxtables' error texts

const perr = (msg: string) => new IptablesError(msg, 2);

export const xterr = {
  once: (ext: string, opt: string) => perr(`${ext}: option "--${opt}" can only be used once.\n`),
  noInvert: (ext: string, opt: string) => perr(`${ext}: option "--${opt}" cannot be inverted.\n`),
  must: (ext: string, opt: string) => perr(`${ext}: option "--${opt}" must be specified\n`),
  also: (ext: string, a: string, b: string) => perr(`${ext}: option "--${a}" also requires "--${b}".\n`),
  excl: (ext: string, a: string, b: string) =>
    perr(`${ext}: option "--${a}" cannot be used together with "--${b}".\n`),
  badRange: (ext: string, opt: string, min: number | string, max: number | string) =>
    perr(`${ext}: bad value for option "--${opt}", or out of range (${min}-${max}).\n`),
  badInt: (ext: string, opt: string) => perr(`${ext}: bad integer value for option "--${opt}", or out of range.\n`),
  param: (msg: string) => perr(msg),
};

/** An option of the x6 option parser: name, whether `!` is allowed, whether it may repeat. */
export interface XtOptSpec {
  invert?: boolean;
  multi?: boolean;
}

/** The checks xtables_option_parse makes before an option's own parser runs. */
export function xtCheck(ext: string, opt: string, spec: XtOptSpec, seen: number, bit: number, invert: boolean): number {
  if (!spec.multi && (seen & bit) !== 0) throw xterr.once(ext, opt);
  if (invert && !spec.invert) throw xterr.noInvert(ext, opt);
  return seen | bit;
}

// ---------------------------------------------------------------------------------------------
// Values

/** xtables_parse_port: a number 0-65535 or a service name of `proto`. */
export function parsePort(s: string, proto: string): number {
  const n = strtoui(s, 0, 65535);
  if (n !== undefined) return n;
  const p = serviceToPort(s, proto);
  if (p !== undefined) return p;
  throw perr(`invalid port/service \`${s}' specified`);
}

/** "value[/mask]" for -m mark, MARK and friends (32-bit). */
export function parseMarkMask(s: string, ext: string, opt: string): { value: number; mask: number } {
  const n = strtoul(s, 0);
  if (n.end === 0 || !(n.value <= 0xffffffff)) throw xterr.badInt(ext, opt);
  let mask = 0xffffffff;
  if (n.end < s.length) {
    if (s[n.end] !== '/') throw xterr.badInt(ext, opt);
    const m = strtoui(s.slice(n.end + 1), 0, 0xffffffff);
    if (m === undefined) throw xterr.badInt(ext, opt);
    mask = m;
  }
  return { value: n.value >>> 0, mask: mask >>> 0 };
}

export const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

const NO_QUOTE = /^[_\-0-9a-zA-Z]+$/;
const NEEDS_ESCAPE = /["\\']/g;

/** xtables_save_string: as is when only [_-0-9a-zA-Z], else double-quoted with \ escapes. */
export function saveString(v: string): string {
  if (NO_QUOTE.test(v)) return ' ' + v;
  // One replace, not a string per character: iptables-save prints one per kube-proxy rule.
  return ' "' + v.replace(NEEDS_ESCAPE, '\\$&') + '"';
}

/** Comma-separated names, case-insensitive, each to a bit; unknown names throw `err(name)`. */
export function parseNameList(s: string, names: Readonly<Record<string, number>>, err: (name: string) => IptablesError): number {
  let bits = 0;
  for (const part of s.split(',')) {
    const b = names[part.toUpperCase()];
    if (b === undefined) throw err(part);
    bits |= b;
  }
  return bits;
}

/** The names of the set bits in table order, joined with commas. */
export function nameList(bits: number, order: readonly (readonly [string, number])[]): string {
  const out: string[] = [];
  for (const [name, bit] of order) if ((bits & bit) !== 0) out.push(name);
  return out.join(',');
}
