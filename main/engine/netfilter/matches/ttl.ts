// `-m ttl --ttl-eq|--ttl-lt|--ttl-gt N` (`! --ttl-eq`: not equal): the IP header's TTL as the
// packet has it at this hook (a forwarded packet's already lowered by one in FORWARD).
// `--ttl` is libxt_ttl's hidden old name of --ttl-eq (one option to it). Its options' table order (lt, gt, eq)
// is what decides which one a "cannot be used together" message names first.

import type { MatchModule } from '../types.ts';
import { parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

export type TtlMode = 'eq' | 'ne' | 'lt' | 'gt';

export interface TtlMatchData {
  mode: TtlMode | null;
  ttl: number;
}

const ALL = ['ttl-eq', 'ttl-lt', 'ttl-gt'];
const OPTS = new X6Table(
  'ttl',
  [
    { name: 'ttl-lt', excl: ALL },
    { name: 'ttl-gt', excl: ALL },
    { name: 'ttl-eq', excl: ALL, invert: true },
  ],
  ALL,
);

const SYMBOL: Record<TtlMode, string> = { eq: '==', ne: '!=', lt: '<', gt: '>' };

export const ttlMatch: MatchModule<TtlMatchData> = {
  kind: 'match',
  name: 'ttl',
  options: { 'ttl-eq': 1, 'ttl-lt': 1, 'ttl-gt': 1, ttl: 1 },
  // (X6Table refuses a `!` before --ttl-lt or --ttl-gt with iptables' message)
  invertible: ['ttl-eq', 'ttl-lt', 'ttl-gt', 'ttl'],
  create: () => ({ mode: null, ttl: 0 }),
  parse(d, opt, args, invert) {
    // (--ttl is --ttl-eq under another name: same option, same messages)
    const name = opt === 'ttl' ? 'ttl-eq' : opt;
    OPTS.use(d, name, invert);
    d.ttl = parseUintOpt('ttl', opt, args[0], 0, 255);
    d.mode = name === 'ttl-lt' ? 'lt' : name === 'ttl-gt' ? 'gt' : invert ? 'ne' : 'eq';
  },
  finish(d) {
    if (d.mode === null) xtFail("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
    OPTS.finish(d);
  },
  save: (d) => (d.mode === 'ne' ? ` ! --ttl-eq ${d.ttl}` : ` --ttl-${d.mode} ${d.ttl}`),
  list: (d) => ` TTL match TTL ${SYMBOL[d.mode ?? 'eq']} ${d.ttl}`,
  match(d, ctx) {
    const t = ctx.pkt.ttl;
    switch (d.mode) {
      case 'eq':
        return t === d.ttl;
      case 'ne':
        return t !== d.ttl;
      case 'lt':
        return t < d.ttl;
      default:
        return t > d.ttl;
    }
  },
  why: (d, ctx) => `TTL ${ctx.pkt.ttl}, not ${SYMBOL[d.mode ?? 'eq']} ${d.ttl}`,
};
