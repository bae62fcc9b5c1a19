// Addresses as iptables reads and prints them: libxtables' own dotted parser (octets in C
// notation, "10.1" meaning 10.1.0.0), `/len` or dotted masks, and the `-L` forms (`anywhere`,
// names from /etc/hosts and /etc/networks, no "/32").

import { formatIPv4, maskLen } from '../net/ipv4.ts';
import { addressName } from './services.ts';
import { strtoui } from './xtopt.ts';

/** xtables_numeric_to_ipaddr: up to four C-notation octets; a short form is a network. */
export function parseIptAddress(s: string, isMask = false): number | null {
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
