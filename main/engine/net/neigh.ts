// The ARP (neighbour) table of one namespace, and proxy entries (`ip neigh add proxy`).
// Entries keep insertion order: the kernel dumps in hash order, which differs per boot.

import type { IPv4 } from './ipv4.ts';

export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT' | 'NONE';

/** NUD bits as the kernel numbers them, in the order iproute2 prints them. */
export const NUD_BITS: Readonly<Record<NudState, number>> = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
  NONE: 0x00,
};

export function parseNud(s: string): NudState | 'all' | null {
  const t = s.toLowerCase();
  if (t === 'all') return 'all';
  const names: Record<string, NudState> = {
    permanent: 'PERMANENT', reachable: 'REACHABLE', noarp: 'NOARP', none: 'NONE', stale: 'STALE',
    incomplete: 'INCOMPLETE', delay: 'DELAY', probe: 'PROBE', failed: 'FAILED',
  };
  return names[t] ?? null;
}

export interface Neighbour {
  ip: IPv4;
  dev: number; // ifindex
  lladdr: string | null;
  state: NudState;
  router: boolean;
}

export interface ProxyNeighbour {
  ip: IPv4;
  dev: number;
}
