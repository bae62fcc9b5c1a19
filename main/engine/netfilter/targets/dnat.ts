// -j DNAT --to-destination [ip[-ip]][:port[-port]] [--random] [--persistent]: valid in the nat
// table's PREROUTING and OUTPUT; the walk binds the translation in conntrack.

import type { TargetModule } from '../types.ts';
import { xterr } from '../xtopt.ts';
import { parseToRange, rangeText, type NatRange } from './nat-range.ts';

export interface DnatData {
  range: NatRange;
  random: boolean;
  persistent: boolean;
  seen: number;
}

const EXT = 'DNAT';
/** The range before --to-destination (which is required) gives one; never changed. */
const UNSET: NatRange = {};
const BITS: Record<string, number> = { 'to-destination': 1, random: 2, persistent: 4 };

export const dnatTarget: TargetModule<DnatData> = {
  kind: 'target',
  name: EXT,
  options: { 'to-destination': 1, random: 0, persistent: 0 },
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  create: () => ({ range: UNSET, random: false, persistent: false, seen: 0 }),
  parse(d, opt, args, _invert, ctx) {
    if (d.seen & BITS[opt]) throw xterr.once(EXT, opt);
    d.seen |= BITS[opt];
    if (opt === 'to-destination') d.range = parseToRange(args[0], ctx);
    else if (opt === 'random') d.random = true;
    else d.persistent = true;
  },
  finish(d) {
    if (!(d.seen & 1)) throw xterr.must(EXT, 'to-destination');
  },
  save: (d) => ` --to-destination ${rangeText(d.range)}${d.random ? ' --random' : ''}${d.persistent ? ' --persistent' : ''}`,
  list: (d) => ` to:${rangeText(d.range)}${d.random ? ' random' : ''}${d.persistent ? ' persistent' : ''}`,
  apply: (d) => ({
    kind: 'nat',
    nat: {
      kind: 'dnat', minIp: d.range.minIp, maxIp: d.range.maxIp, minPort: d.range.minPort, maxPort: d.range.maxPort,
      random: d.random, randomFully: false, persistent: d.persistent,
    },
  }),
};
