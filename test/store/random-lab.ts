// Seeded random edits to lab documents, for the store's history tests.

import type { LabDoc } from '../../shared/lab.ts';
import { Rng } from '../../main/engine/random.ts';

/** Seeded numbers in [0, 1) (the engine's mulberry32). */
export function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

/** Returns a changed deep copy of `doc` (one to a few random edits of every kind). */
export function randomEdit(doc: LabDoc, r: () => number): LabDoc {
  const d = structuredClone(doc);
  const pick = (n: number) => Math.floor(r() * n);
  const edits = 1 + pick(3);
  for (let e = 0; e < edits; e++) {
    switch (pick(12)) {
      case 0:
        d.hosts.push({ name: `h${pick(1e6)}`, listen: [{ port: 1 + pick(65535), proto: 'tcp' }], links: [] });
        break;
      case 1:
        d.lans.push({ name: `lan${pick(1000)}` });
        break;
      case 2:
        if (d.hosts.length) d.hosts[pick(d.hosts.length)].links.push({ dev: `eth${pick(8)}`, lan: 'lan0', ip: `10.0.${pick(256)}.${pick(256)}/24` });
        break;
      case 3:
      case 4:
        d.journal.push({ host: 'h0', argv: ['iptables', '-A', 'INPUT', '-s', `10.${pick(256)}.0.0/16`, '-j', r() < 0.5 ? 'ACCEPT' : 'DROP'] });
        break;
      case 5:
        if (d.journal.length) d.journal[pick(d.journal.length)].argv[0] = `cmd${pick(100)}`;
        break;
      case 6:
        if (d.journal.length) d.journal.splice(pick(d.journal.length), 1 + pick(3));
        break;
      case 7:
        d.journal.splice(pick(d.journal.length + 1), 0, { host: 'h1', argv: ['ipset', 'add', 's', `1.2.3.${pick(256)}`], stdin: r() < 0.3 ? 'x\n'.repeat(pick(50)) : undefined });
        break;
      case 8:
        if (d.hosts.length) d.hosts.splice(pick(d.hosts.length), 1);
        break;
      case 9:
        d.seed = pick(1e9);
        break;
      case 10:
        if (r() < 0.3) delete d.runtime;
        else d.runtime = { clock: pick(1e6), ct: Array.from({ length: pick(5) }, () => ({ id: pick(100), s: 'ESTABLISHED' })), ['__proto__']: pick(3) };
        break;
      case 11:
        if (r() < 0.5) d.veths = [...(d.veths ?? []), { a: { host: 'h0', dev: `v${pick(99)}` }, b: { host: 'h1', dev: 'eth0', ip: '10.1.1.1/24' } }];
        else delete d.veths;
        break;
    }
  }
  return d;
}
