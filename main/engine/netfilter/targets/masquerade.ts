// -j MASQUERADE [--to-ports p[-p]] [--random] [--random-fully]: SNAT to the outgoing
// interface's address; nat table, POSTROUTING only.

import type { TargetModule } from '../types.ts';
import { xterr } from '../xtopt.ts';
import { needPortProto, parsePortRange, portsAllowed, type NatRange } from './nat-range.ts';

export interface MasqData {
  ports: NatRange;
  random: boolean;
  randomFully: boolean;
  seen: number;
}

const EXT = 'MASQUERADE';
const BITS: Record<string, number> = { 'to-ports': 1, random: 2, 'random-fully': 4 };

function portsText(r: NatRange): string {
  return r.minPort === r.maxPort ? `${r.minPort}` : `${r.minPort}-${r.maxPort}`;
}

export const masqueradeTarget: TargetModule<MasqData> = {
  kind: 'target',
  name: EXT,
  options: { 'to-ports': 1, random: 0, 'random-fully': 0 },
  tables: ['nat'],
  hooks: ['POSTROUTING'],
  create: () => ({ ports: {}, random: false, randomFully: false, seen: 0 }),
  parse(d, opt, args, _invert, ctx) {
    if (d.seen & BITS[opt]) throw xterr.once(EXT, opt);
    d.seen |= BITS[opt];
    if (opt === 'to-ports') {
      if (!portsAllowed(ctx)) throw needPortProto();
      parsePortRange(args[0], d.ports);
    } else if (opt === 'random') d.random = true;
    else d.randomFully = true;
  },
  save(d) {
    let s = d.ports.minPort !== undefined ? ` --to-ports ${portsText(d.ports)}` : '';
    if (d.random) s += ' --random';
    if (d.randomFully) s += ' --random-fully';
    return s;
  },
  list(d) {
    let s = d.ports.minPort !== undefined ? ` masq ports: ${portsText(d.ports)}` : '';
    if (d.random) s += ' random';
    if (d.randomFully) s += ' random-fully';
    return s;
  },
  apply: (d) => ({
    kind: 'nat',
    nat: {
      kind: 'masquerade', minPort: d.ports.minPort, maxPort: d.ports.maxPort,
      random: d.random, randomFully: d.randomFully, persistent: false,
    },
  }),
};
