// Addresses as iptables reads and prints them: libxtables' own dotted parser (octets in C
// notation, "10.1" meaning 10.1.0.0), `/len` or dotted masks, and the `-L` forms (`anywhere`,
// names from /etc/hosts and /etc/networks, no "/32").

import { formatIPv4, maskLen } from '../net/ipv4.ts';
import { addressName } from './services.ts';
import { strtoui } from './xtopt.ts';

/** xtables_numeric_to_ipaddr: up to four C-notation octets; a short form is a network. */
export function parseIptAddress(s: string, isMask = false): number | null {
  const fast = dottedQuad(s);
  if (fast !== null) return fast;
  const parts = s.split('.');
  if (parts.length > 4 || (isMask && parts.length !== 4)) return null;
  let n = 0;
  for (let i = 0; i < 4; i++) {
    let v = 0;
    if (i < parts.length) {
      const o = strtoui(parts[i], 0, 255);
      if (o === undefined) return null;
      v = o;
    }
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Plain "a.b.c.d" with decimal octets (no leading zeros), or null to take the slow path
 *  (the C notations iptables and glibc also read). */
export function dottedQuad(s: string): number | null {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return null; // "0x" / octal forms
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return (n * 256 + octet) >>> 0;
}

/** A host part of -s/-d: a number, or one of the names every lab host resolves. */
export function resolveHost(s: string): number | null {
  if (s === 'localhost') return 0x7f000001;
  return parseIptAddress(s);
}

/** `-L`: "anywhere" for /0 (unless numeric), else address (or name) plus "/len" or "/mask". */
export function listAddress(addr: number, len: number, numeric: boolean): string {
  if (len === 0 && !numeric) return 'anywhere';
  const a = numeric ? formatIPv4(addr) : (addressName(addr) ?? formatIPv4(addr));
  return len === 32 ? a : `${a}/${len}`;
}

export { maskLen };
