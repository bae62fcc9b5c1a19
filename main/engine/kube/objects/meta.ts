// Object metadata the API server fills in: uids (random v4 UUIDs, from the lab's seeded
// generator so a replayed lab has the same ones), RFC 3339 timestamps from the lab clock.

import type { Rng } from '../../random.ts';

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const UID_CODES: number[] = [];

/** 32 hex digits from the generator, the version digit (4) and the variant laid over them. */
export function newUid(rng: Rng): string {
  // (character codes, one string made at the end: an apply of thousands of objects made a
  // string per digit)
  const c = UID_CODES;
  c.length = 0;
  for (let i = 0; i < 32; i++) {
    const d = HEX_CODES[Math.floor(rng.next() * 16)];
    if (i === 8 || i === 12 || i === 16 || i === 20) c.push(45); // '-'
    c.push(i === 12 ? 52 : d); // '4'
  }
  c[19] = '89ab'.charCodeAt(Math.floor(rng.next() * 4));
  return String.fromCharCode.apply(null, c);
}

/** The last timestamp made (a write of thousands of objects stamps them all with one second). */
let lastStamp = { seconds: NaN, text: '' };

/** `2020-11-05T05:26:27Z` for a Unix time in seconds (sub-second part dropped, as metav1.Time does). */
export function rfc3339(unixSeconds: number): string {
  const seconds = Math.floor(unixSeconds);
  if (seconds !== lastStamp.seconds) lastStamp = { seconds, text: new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return lastStamp.text;
}

/** Unix seconds of an RFC 3339 timestamp, or null. */
export function parseTimestamp(s: unknown): number | null {
  if (typeof s !== 'string' || s === '') return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** "v1.19.2" -> 19 (the minor version decides which messages and defaults apply). */
export function minorOf(version: string): number {
  const m = /^v?\d+\.(\d+)/.exec(version);
  return m ? Number(m[1]) : 0;
}
