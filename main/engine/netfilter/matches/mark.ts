// -m mark [!] --mark value[/mask]: (skb->mark & mask) == value.

import type { MatchModule } from '../types.ts';
import { hex, parseMarkMask, xterr } from '../xtopt.ts';

export interface MarkMatchData {
  value: number;
  mask: number;
  inv: boolean;
  seen: boolean;
}

function markText(value: number, mask: number): string {
  return mask !== 0xffffffff ? ` ${hex(value)}/${hex(mask)}` : ` ${hex(value)}`;
}

export const markMatch: MatchModule<MarkMatchData> = {
  kind: 'match',
  name: 'mark',
  options: { mark: 1 },
  invertible: ['mark'],
  create: () => ({ value: 0, mask: 0xffffffff, inv: false, seen: false }),
  parse(d, _opt, args, invert) {
    if (d.seen) throw xterr.once('mark', 'mark');
    d.seen = true;
    const { value, mask } = parseMarkMask(args[0], 'mark', 'mark');
    d.value = value;
    d.mask = mask;
    d.inv = invert;
  },
  finish(d) {
    if (!d.seen) throw xterr.must('mark', 'mark');
  },
  save: (d) => `${d.inv ? ' !' : ''} --mark${markText(d.value, d.mask)}`,
  list: (d) => ` mark match${d.inv ? ' !' : ''}${markText(d.value, d.mask)}`,
  match: (d, ctx) => (((ctx.pkt.mark & d.mask) >>> 0) === d.value) !== d.inv,
  why: (d, ctx) =>
    `mark ${hex(ctx.pkt.mark)}&${hex(d.mask)} = ${hex((ctx.pkt.mark & d.mask) >>> 0)} ${d.inv ? '==' : '!='} ${hex(d.value)}`,
};
