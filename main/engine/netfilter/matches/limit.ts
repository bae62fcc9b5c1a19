// `-m limit --limit N/unit --limit-burst B`: a token bucket. iptables-nft turns the rule into
// nftables' own `limit` expression, so what is stored and printed is what survives that
// translation (rate per unit, integer-rounded; burst 0 becomes the kernel default 5), and the
// matching follows nft_limit: a bucket of `burst` packets refilled at the rate, full when the
// rule first sees a packet. Time is the lab clock.

import type { MatchModule } from '../types.ts';
import { parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

export interface LimitData {
  /** xt_rateinfo.avg: the period per packet in 1/10000 s. */
  avg: number;
  burst: number;
}

const SCALE = 10000; // XT_LIMIT_SCALE
const DEFAULT_BURST = 5;
const RATES: ReadonlyArray<readonly [string, number]> = [
  ['day', SCALE * 24 * 60 * 60],
  ['hour', SCALE * 60 * 60],
  ['min', SCALE * 60],
  ['sec', SCALE],
];

const OPTS = new X6Table('limit', [{ name: 'limit' }, { name: 'limit-burst' }]);

/** C atoi(): blanks, a sign, digits; the int then lands in a uint32_t. */
function atoiU32(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  let v = Number(BigInt(digits) & 0xffffffffn) | 0; // int overflow wraps in practice
  if (m?.[1] === '-') v = -v;
  return v >>> 0;
}

function parseRate(arg: string): number {
  const bad = () => xtFail(`bad rate "${arg}"'`);
  const slash = arg.indexOf('/');
  let mult = 1;
  if (slash >= 0) {
    const unit = arg.slice(slash + 1).toLowerCase();
    if (unit === '') bad();
    if ('second'.startsWith(unit)) mult = 1;
    else if ('minute'.startsWith(unit)) mult = 60;
    else if ('hour'.startsWith(unit)) mult = 60 * 60;
    else if ('day'.startsWith(unit)) mult = 24 * 60 * 60;
    else bad();
  }
  const r = atoiU32(arg);
  if (r === 0) bad();
  const avg = Math.floor((SCALE * mult) / r);
  if (avg === 0) xtFail(`Rate too fast "${arg}"`);
  return avg;
}

/** The rate and unit iptables-nft hands the kernel for `avg` (add_nft_limit). */
function nftRate(avg: number): { rate: number; unitSec: number } {
  let i = 1;
  for (; i < RATES.length; i++) {
    const m = RATES[i][1];
    if (avg > m || Math.floor(m / avg) < m % avg) break;
  }
  const m = RATES[i - 1][1];
  return { rate: Math.floor(m / avg), unitSec: m / SCALE };
}

/** avg as iptables-nft reads it back from the kernel. */
function roundTrip(avg: number): number {
  const { rate, unitSec } = nftRate(avg);
  return Math.floor((SCALE * unitSec) / rate);
}

function rateText(avg: number): string {
  let i = 1;
  for (; i < RATES.length; i++) {
    const m = RATES[i][1];
    if (avg > m || Math.floor(m / avg) < m % avg) break;
  }
  const [name, m] = RATES[i - 1];
  return `${Math.floor(m / avg)}/${name}`;
}

interface Bucket {
  tokens: number; // ns of credit
  last: number; // lab seconds
}

function bucketFor(d: LimitData) {
  const { rate, unitSec } = nftRate(d.avg);
  const cost = Math.floor((unitSec * 1e9) / rate);
  return { cost, max: cost * d.burst };
}

export const limitMatch: MatchModule<LimitData> = {
  kind: 'match',
  name: 'limit',
  options: { limit: 1, 'limit-burst': 1 },
  invertible: ['limit', 'limit-burst'],
  create: () => ({ avg: Math.floor((SCALE * 60 * 60) / 3), burst: DEFAULT_BURST }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    if (opt === 'limit') d.avg = parseRate(args[0]);
    else d.burst = parseUintOpt('limit', opt, args[0], 0, 10000);
  },
  finish(d) {
    OPTS.finish(d);
    d.avg = roundTrip(d.avg);
    if (d.burst === 0) d.burst = DEFAULT_BURST;
  },
  save: (d) => ` --limit ${rateText(d.avg)}${d.burst !== DEFAULT_BURST ? ` --limit-burst ${d.burst}` : ''}`,
  list: (d) => ` limit: avg ${rateText(d.avg)} burst ${d.burst}`,
  match(d, ctx) {
    const { cost, max } = bucketFor(d);
    const now = ctx.host.now();
    const b = ctx.host.ruleState<Bucket>(ctx.rule, 'limit', () => ({ tokens: max, last: now }));
    const tokens = Math.min(max, b.tokens + Math.max(0, now - b.last) * 1e9);
    b.last = now;
    if (tokens - cost >= 0) {
      b.tokens = tokens - cost;
      return true;
    }
    b.tokens = tokens;
    return false;
  },
  why: (d) => `over the limit of ${rateText(d.avg)} (burst ${d.burst})`,
};
