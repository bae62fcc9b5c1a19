// The state a kernel comparison checks after each step, on both sides: each host's conntrack
// table (`conntrack -L`, the timeout column normalised, lines sorted: the kernel lists them in
// hash order) and rule counters (`iptables-save -c` without its dated comment lines; optionally
// packets only). The kernel's side is polled (bounded) until it equals the engine's: an ACK or an
// ICMP error may leave a moment after the packet it answers.

import assert from 'node:assert/strict';
import type { Lab } from '../../../main/engine/lab.ts';
import type { KernelLab } from './build.ts';
import { waitFor } from './netns.ts';

export interface HostTables {
  conntrack: Record<string, string[]>;
  counters: Record<string, string[]>;
}

export interface TablesOptions {
  /** Hosts whose conntrack tables are compared. */
  hosts: readonly string[];
  /** Hosts whose counters are compared (default: `hosts`). */
  counted?: readonly string[];
  /** false: byte counts masked (`[3:*]`), packet counts compared. */
  bytes?: boolean;
}

/** Zero the kernel's counters once its links are quiet: as a link comes up the kernel sends an
 *  IGMPv3 report (0.0.0.0 -> 224.0.0.22, 40 bytes) and repeats it once within the next second
 *  (igmpv3_unsolicited_report_interval, 1000 ms), which a nat table's PREROUTING policy counts.
 *  The engine sends none (traffic of the lab's own start, not of any probe). */
export async function zeroWhenQuiet(kernel: KernelLab, hosts: readonly string[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 1200));
  for (const h of hosts) await kernel.zeroCounters(h);
}

export function ctLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/^(\w+ +\d+ +)\d+ /, '$1T '))
    .sort();
}

export function saveLines(text: string, bytes = true): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return bytes ? lines : lines.map((l) => l.replace(/^\[(\d+):\d+\]/, '[$1:*]').replace(/ \[(\d+):\d+\]$/, ' [$1:*]'));
}

async function kernelTables(kernel: KernelLab, o: TablesOptions): Promise<HostTables> {
  const t: HostTables = { conntrack: {}, counters: {} };
  for (const h of o.hosts) {
    const ct = await kernel.exec(h, ['conntrack', '-L']);
    assert.equal(ct.code, 0, ct.stderr);
    t.conntrack[h] = ctLines(ct.stdout);
  }
  for (const h of o.counted ?? o.hosts) t.counters[h] = saveLines(await kernel.counters(h), o.bytes);
  return t;
}

function engineTables(engine: Lab, o: TablesOptions): HostTables {
  const t: HostTables = { conntrack: {}, counters: {} };
  for (const h of o.hosts) t.conntrack[h] = ctLines(engine.exec(h, ['conntrack', '-L'], '').stdout);
  for (const h of o.counted ?? o.hosts) t.counters[h] = saveLines(engine.exec(h, ['iptables-save', '-c'], '').stdout, o.bytes);
  return t;
}

/** Polls the kernel's tables (up to 1.5 s) until they equal the engine's, then asserts they do;
 *  returns the kernel's. */
export async function compareHostTables(what: string, kernel: KernelLab, engine: Lab, o: TablesOptions): Promise<HostTables> {
  const e = engineTables(engine, o);
  let k = await kernelTables(kernel, o);
  await waitFor(async () => {
    k = await kernelTables(kernel, o);
    return JSON.stringify(k) === JSON.stringify(e);
  }, 1500, 50);
  for (const h of o.hosts) {
    assert.deepEqual(e.conntrack[h], k.conntrack[h], `${what}: conntrack -L of ${h}\n--- kernel\n${k.conntrack[h].join('\n')}\n--- engine\n${e.conntrack[h].join('\n')}`);
  }
  for (const h of o.counted ?? o.hosts) {
    assert.deepEqual(e.counters[h], k.counters[h], `${what}: iptables-save -c of ${h}\n--- kernel\n${k.counters[h].join('\n')}\n--- engine\n${e.counters[h].join('\n')}`);
  }
  return k;
}
