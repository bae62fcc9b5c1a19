// Object metadata the API server fills in: uids (random v4 UUIDs, from the lab's seeded
// generator so a replayed lab has the same ones), RFC 3339 timestamps from the lab clock.

import type { Rng } from '../../random.ts';

export function newUid(rng: Rng): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += Math.floor(rng.next() * 16).toString(16);
  const variant = '89ab'[Math.floor(rng.next() * 4)];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `2020-11-05T05:26:27Z` for a Unix time in seconds (sub-second part dropped, as metav1.Time does). */
export function rfc3339(unixSeconds: number): string {
  return new Date(Math.floor(unixSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
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
