// Kubernetes' small hashing and naming helpers: FNV-32a (hash/fnv), rand.SafeEncodeString and
// rand.String (k8s.io/apimachinery/pkg/util/rand), whose alphabet has no vowels so generated
// names never spell words.

import type { Rng } from '../../random.ts';

export const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits, over `bytes` then `extra`. */
export function fnv32a(bytes: Uint8Array, extra?: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const part of extra ? [bytes, extra] : [bytes]) {
    for (let i = 0; i < part.length; i++) {
      h ^= part[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/** Each byte mapped onto the alphabet (a decimal hash `"423982899"` -> `"867fd6dff"`). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** rand.String(n) from the lab's seeded generator: the 5-character suffix of generated names. */
export function randomString(rng: Rng, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHANUMS[Math.floor(rng.next() * ALPHANUMS.length)];
  return out;
}
