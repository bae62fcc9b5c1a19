// `-m quota [!] --quota BYTES`: matches while the rule's byte budget lasts, taking each matched
// packet's length from it (xt_quota); the first packet bigger than what is left empties it, and
// from then on it matches no more (`!`: the other way round). What is left is the rule's
// state, kept with the lab's runtime; iptables shows the quota it was given.

import type { MatchCtx, MatchModule } from '../types.ts';
import { X6Table, xtFail, xtStrtoul } from '../xtables-parse.ts';

export interface QuotaData {
  /** As a number for the arithmetic (exact up to 2^53, far beyond any walk), as text for iptables. */
  quota: number;
  text: string;
  invert: boolean;
}

const OPTS = new X6Table('quota', [{ name: 'quota', invert: true, mand: true }]);

export const quotaMatch: MatchModule<QuotaData> = {
  kind: 'match',
  name: 'quota',
  options: { quota: 1 },
  invertible: ['quota'],
  create: () => ({ quota: 0, text: '0', invert: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const v = xtStrtoul(args[0], 0n, (1n << 64n) - 1n, true);
    if (v === null) xtFail(`quota: bad value for option "--${opt}", or out of range (0-18446744073709551615).\n`);
    d.quota = Number(v.value);
    d.text = String(v.value);
    d.invert = invert;
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${d.invert ? ' !' : ''} --quota ${d.text}`,
  list: (d) => ` quota: ${d.text} bytes`,
  match(d, ctx) {
    const left = budget(d, ctx);
    if (left.bytes >= ctx.pkt.len) {
      left.bytes -= ctx.pkt.len;
      return !d.invert;
    }
    left.bytes = 0;
    return d.invert;
  },
  why: (d, ctx) => {
    const left = budget(d, ctx).bytes;
    return d.invert ? `${left} bytes of quota left` : `quota used up (${left} bytes left, packet ${ctx.pkt.len})`;
  },
};

/** What is left of the quota: the rule's state, one per quota match of the rule. */
function budget(d: QuotaData, ctx: MatchCtx): { bytes: number } {
  const idx = ctx.rule.matches.findIndex((m) => m.data === d);
  return ctx.host.ruleState(ctx.rule, `quota-${idx}`, () => ({ bytes: d.quota }));
}
