// -j SNAT --to-source [ip[-ip]][:port[-port]] [--random] [--random-fully] [--persistent]: valid
// in the nat table's POSTROUTING and INPUT.

import type { TargetModule } from '../types.ts';
import { xterr } from '../xtopt.ts';
import { parseToRange, rangeText, type NatRange } from './nat-range.ts';

export interface SnatData {
  range: NatRange;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
  seen: number;
}

const EXT = 'SNAT';
const BITS: Record<string, number> = { 'to-source': 1, random: 2, 'random-fully': 4, persistent: 8 };

export const snatTarget: TargetModule<SnatData> = {
  kind: 'target',
  name: EXT,
  options: { 'to-source': 1, random: 0, 'random-fully': 0, persistent: 0 },
  tables: ['nat'],
  hooks: ['POSTROUTING', 'INPUT'],
  create: () => ({ range: {}, random: false, randomFully: false, persistent: false, seen: 0 }),
  parse(d, opt, args, _invert, ctx) {
    if (d.seen & BITS[opt]) throw xterr.once(EXT, opt);
    d.seen |= BITS[opt];
    if (opt === 'to-source') d.range = parseToRange(args[0], ctx);
    else if (opt === 'random') d.random = true;
    else if (opt === 'random-fully') d.randomFully = true;
    else d.persistent = true;
  },
  finish(d) {
    if (!(d.seen & 1)) throw xterr.must(EXT, 'to-source');
  },
  save: (d) =>
    ` --to-source ${rangeText(d.range)}${d.random ? ' --random' : ''}${d.randomFully ? ' --random-fully' : ''}${d.persistent ? ' --persistent' : ''}`,
  list: (d) =>
    ` to:${rangeText(d.range)}${d.random ? ' random' : ''}${d.randomFully ? ' random-fully' : ''}${d.persistent ? ' persistent' : ''}`,
  apply: (d) => ({
    kind: 'nat',
    nat: {
      kind: 'snat', minIp: d.range.minIp, maxIp: d.range.maxIp, minPort: d.range.minPort, maxPort: d.range.maxPort,
      random: d.random, randomFully: d.randomFully, persistent: d.persistent,
    },
  }),
};
