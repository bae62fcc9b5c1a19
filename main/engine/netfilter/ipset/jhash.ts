// Bob Jenkins' lookup3 hash as the kernel's jhash2() computes it. The ipset hash types
// key their buckets with jhash2(element words, initval), so using the same function (and
// the same element word layout, see hash-set.ts) reproduces the kernel's bucket of every
// element: listing order and "Size in memory" then match the real kernel exactly.

const JHASH_INITVAL = 0xdeadbeef;

function rol(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** jhash2(k, k.length, initval) for one or two 32-bit words (all IPv4 ipset elements). */
export function jhash2(w0: number, w1: number | undefined, initval: number): number {
  const len = w1 === undefined ? 1 : 2;
  let a = (JHASH_INITVAL + (len << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  if (w1 !== undefined) b = (b + w1) >>> 0;
  a = (a + w0) >>> 0;
  // __jhash_final(a, b, c)
  c ^= b; c = (c - rol(b, 14)) >>> 0;
  a ^= c; a = (a - rol(c, 11)) >>> 0;
  b ^= a; b = (b - rol(a, 25)) >>> 0;
  c ^= b; c = (c - rol(b, 16)) >>> 0;
  a ^= c; a = (a - rol(c, 4)) >>> 0;
  b ^= a; b = (b - rol(a, 14)) >>> 0;
  c ^= b; c = (c - rol(b, 24)) >>> 0;
  return c >>> 0;
}

/** The 32-bit value a big-endian (network order) word has when read as a little-endian u32. */
export function bswap32(x: number): number {
  return (((x & 0xff) << 24) | (((x >>> 8) & 0xff) << 16) | (((x >>> 16) & 0xff) << 8) | (x >>> 24)) >>> 0;
}

export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}
