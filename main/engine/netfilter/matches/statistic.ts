// -m statistic: --mode random --probability p (kept, like the kernel, as p * 2^31 rounded,
// which is why iptables-save shows 0.33333333349 for 0.3333333333) and --mode nth --every n
// --packet p (a per-rule counter: the kernel starts it at n-1-p and matches when it wraps).

import { IptablesError, type MatchCtx, type MatchModule } from '../types.ts';
import { strtoui, xterr } from '../xtopt.ts';

export interface StatisticData {
  mode: 'random' | 'nth' | '';
  probability: number; // p * 2^31, rounded
  every: number; // n - 1, as the kernel keeps it
  packet: number;
  inv: boolean;
  seen: number; // 1 mode, 2 probability, 4 every, 8 packet
}

const EXT = 'statistic';
const TWO31 = 0x80000000;
const FLOAT = /^[ \t\n]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** printf("%.11f", k / 2^31) with glibc's exact rounding (ties to even). */
export function probabilityText(k: number): string {
  const num = BigInt(k) * 100000000000n;
  const den = BigInt(TWO31);
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, -11)}.${s.slice(-11)}`;
}

function once(d: StatisticData, bit: number, opt: string): void {
  if (d.seen & bit) throw xterr.once(EXT, opt);
  d.seen |= bit;
}

export const statisticMatch: MatchModule<StatisticData> = {
  kind: 'match',
  name: EXT,
  options: { mode: 1, probability: 1, every: 1, packet: 1 },
  invertible: ['probability', 'every'],
  create: () => ({ mode: '', probability: 0, every: 0, packet: 0, inv: false, seen: 0 }),
  parse(d, opt, args, invert) {
    if (invert) d.inv = true;
    const a = args[0];
    switch (opt) {
      case 'mode':
        once(d, 1, opt);
        if (a === 'random' || a === 'nth') d.mode = a;
        else throw new IptablesError(`Bad mode "${a}"`, 2);
        break;
      case 'probability': {
        once(d, 2, opt);
        const v = FLOAT.test(a) ? Number(a.trim()) : NaN;
        if (!(v >= 0 && v <= 1)) throw xterr.badRange(EXT, opt, 0, 1);
        d.probability = Math.round(TWO31 * v);
        break;
      }
      case 'every': {
        once(d, 4, opt);
        const v = strtoui(a, 1, 0xffffffff);
        if (v === undefined) throw xterr.badRange(EXT, opt, 1, 4294967295);
        d.every = v - 1;
        break;
      }
      case 'packet': {
        once(d, 8, opt);
        const v = strtoui(a, 0, 0xffffffff);
        if (v === undefined) throw xterr.badRange(EXT, opt, 0, 4294967295);
        d.packet = v;
        break;
      }
    }
  },
  finish(d) {
    if (d.mode === 'random' && !(d.seen & 2)) {
      throw new IptablesError('--probability must be specified when using random mode', 2);
    }
    if (d.mode === 'nth' && !(d.seen & 12)) {
      throw new IptablesError('--every and --packet must be specified when using nth mode', 2);
    }
    if (d.packet > d.every) throw new IptablesError('the --packet p must be 0 <= p <= n-1', 2);
    // libxtables' generic checks, in option-table order.
    if (!(d.seen & 1)) throw xterr.must(EXT, 'mode');
    if (d.seen & 2 && d.seen & 4) throw xterr.excl(EXT, 'probability', 'every');
    if (d.seen & 2 && d.seen & 8) throw xterr.excl(EXT, 'probability', 'packet');
    if (d.seen & 4 && !(d.seen & 8)) throw xterr.also(EXT, 'every', 'packet');
    if (d.seen & 8 && !(d.seen & 4)) throw xterr.also(EXT, 'packet', 'every');
  },
  save(d) {
    const bang = d.inv ? ' !' : '';
    if (d.mode === 'random') return ` --mode random${bang} --probability ${probabilityText(d.probability)}`;
    return ` --mode nth${bang} --every ${d.every + 1} --packet ${d.packet}`;
  },
  list(d) {
    const bang = d.inv ? ' !' : '';
    if (d.mode === 'random') return ` statistic mode random${bang} probability ${probabilityText(d.probability)}`;
    return ` statistic mode nth${bang} every ${d.every + 1}${d.packet ? ` packet ${d.packet}` : ''}`;
  },
  match(d, ctx: MatchCtx) {
    if (d.mode === 'random') {
      const p = d.probability / TWO31;
      const hit = ctx.host.chance ? ctx.host.chance(p) : ctx.host.random() < p;
      return hit !== d.inv;
    }
    const idx = ctx.rule.matches.findIndex((m) => m.data === d);
    const state = ctx.host.ruleState(ctx.rule, `statistic-nth-${idx}`, () => ({ count: d.every - d.packet }));
    state.count = state.count === d.every ? 0 : state.count + 1;
    return (state.count === 0) !== d.inv;
  },
  why(d) {
    if (d.mode === 'random') return `random draw ${d.inv ? 'hit' : 'missed'} probability ${probabilityText(d.probability)}`;
    return `not the ${d.every + 1}th packet`;
  },
};
