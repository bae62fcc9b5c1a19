// Shared helpers of the ipset unit tests: run `ipset` lines against one store.

import { ipset } from '../../../main/engine/shell/ipset.ts';
import { IpsetStore } from '../../../main/engine/netfilter/ipset/store.ts';
import type { Packet } from '../../../main/engine/netfilter/types.ts';
import { parseIPv4 } from '../../../main/engine/net/ipv4.ts';

export interface Run {
  stdout: string;
  stderr: string;
  code: number;
  changed: boolean;
}

/** A store plus a runner for `ipset` command lines (words split on spaces). */
export function lab(opts: { seed?: number; now?: () => number } = {}): { store: IpsetStore; run: (line: string | string[], stdin?: string) => Run } {
  const store = new IpsetStore(opts);
  const run = (line: string | string[], stdin = ''): Run => {
    const argv = typeof line === 'string' ? line.split(' ').filter((w) => w !== '') : line;
    return ipset(['ipset', ...argv], stdin, store);
  };
  return { store, run };
}

/** Run lines that must succeed silently. */
export function ok(run: (line: string) => Run, ...lines: string[]): void {
  for (const l of lines) {
    const r = run(l);
    if (r.code !== 0 || r.stderr !== '') throw new Error(`ipset ${l}: ${r.code} ${r.stderr}`);
  }
}

export function ip(s: string): number {
  const v = parseIPv4(s);
  if (v === null) throw new Error(`bad address ${s}`);
  return v;
}

export function pkt(p: Partial<Omit<Packet, 'src' | 'dst'>> & { src: string; dst: string }): Packet {
  return {
    proto: 6,
    sport: 40000,
    dport: 80,
    tcpFlags: 0x02,
    icmpType: 0,
    icmpCode: 0,
    icmpId: 0,
    ttl: 64,
    len: 60,
    mark: 0,
    ...p,
    src: ip(p.src),
    dst: ip(p.dst),
  };
}
