// IPv4 addresses as unsigned 32-bit numbers; prefixes as {addr, len}. Parsing is strict
// (dotted quad only) because every console command and file funnels through here.

export type IPv4 = number;

export interface Prefix {
  addr: IPv4;
  len: number;
}

export function parseIPv4(s: string): IPv4 | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || !/^[0-9]+$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIPv4(n: IPv4): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

/** Mask bits -> prefix length, or -1 when the mask is not contiguous. */
export function maskLen(mask: number): number {
  const m = mask >>> 0;
  let len = 0;
  while (len < 32 && (m & (0x80000000 >>> len)) !== 0) len++;
  return maskOf(len) === m ? len : -1;
}

export function inPrefix(ip: IPv4, p: Prefix): boolean {
  const m = maskOf(p.len);
  return ((ip & m) >>> 0) === ((p.addr & m) >>> 0);
}

/** "10.0.0.0/8", "10.1.2.3" (= /32), optionally "10.0.0.0/255.0.0.0". Host bits are kept. */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.indexOf('/');
  if (slash < 0) {
    const a = parseIPv4(s);
    return a === null ? null : { addr: a, len: 32 };
  }
  const a = parseIPv4(s.slice(0, slash));
  if (a === null) return null;
  const rest = s.slice(slash + 1);
  if (/^[0-9]{1,2}$/.test(rest)) {
    const len = Number(rest);
    return len <= 32 ? { addr: a, len } : null;
  }
  const m = parseIPv4(rest);
  if (m === null) return null;
  const len = maskLen(m);
  return len < 0 ? null : { addr: a, len };
}

export function networkOf(p: Prefix): IPv4 {
  return (p.addr & maskOf(p.len)) >>> 0;
}

export function broadcastOf(p: Prefix): IPv4 {
  return (networkOf(p) | (~maskOf(p.len) >>> 0)) >>> 0;
}

export function formatPrefix(p: Prefix): string {
  return `${formatIPv4(p.addr)}/${p.len}`;
}
