// `-m length [!] --length min[:max]`: the IP total length. min above max is accepted and
// simply never matches.

import type { MatchModule } from '../types.ts';
import { parseUintRange, X6Table } from '../xtables-parse.ts';

export interface LengthData {
  min: number;
  max: number;
  invert: boolean;
}

const OPTS = new X6Table('length', [{ name: 'length', invert: true, mand: true }]);

const range = (d: LengthData) => (d.min === d.max ? `${d.min}` : `${d.min}:${d.max}`);

export const lengthMatch: MatchModule<LengthData> = {
  kind: 'match',
  name: 'length',
  options: { length: 1 },
  invertible: ['length'],
  create: () => ({ min: 0, max: 0xffff, invert: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const v = parseUintRange('length', opt, args[0], 0xffff);
    d.min = v[0];
    d.max = v.length > 1 ? v[1] : v[0];
    d.invert = invert;
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${d.invert ? ' !' : ''} --length ${range(d)}`,
  list: (d) => ` length ${d.invert ? '!' : ''}${range(d)}`,
  match: (d, ctx) => (ctx.pkt.len >= d.min && ctx.pkt.len <= d.max) !== d.invert,
  why: (d, ctx) => `length ${ctx.pkt.len} ${d.invert ? 'in' : 'not in'} ${range(d)}`,
};
