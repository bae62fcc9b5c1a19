// `-m connmark [!] --mark value[/mask]`: the conntrack entry's mark. A packet without a
// conntrack entry (untracked, or not looked up yet) never matches, inverted or not, as in
// the kernel's connmark_mt.

import type { MatchModule } from '../types.ts';
import { hex, parseMarkMask, X6Table } from '../xtables-parse.ts';

export interface ConnmarkMatchData {
  mark: number;
  mask: number;
  invert: boolean;
}

const OPTS = new X6Table('connmark', [{ name: 'mark', invert: true, mand: true }]);

function markText(d: ConnmarkMatchData): string {
  return d.mask === 0xffffffff ? hex(d.mark) : `${hex(d.mark)}/${hex(d.mask)}`;
}

export const connmarkMatch: MatchModule<ConnmarkMatchData> = {
  kind: 'match',
  name: 'connmark',
  options: { mark: 1 },
  invertible: ['mark'],
  create: () => ({ mark: 0, mask: 0xffffffff, invert: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const v = parseMarkMask('connmark', opt, args[0]);
    d.mark = v.mark;
    d.mask = v.mask;
    d.invert = invert;
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${d.invert ? ' !' : ''} --mark ${markText(d)}`,
  list: (d) => ` connmark match ${d.invert ? '!' : ''} ${markText(d)}`,
  match(d, ctx) {
    const ct = ctx.ct;
    if (!ct || ct.state === 'UNTRACKED') return false;
    return (((ct.mark & d.mask) >>> 0) === d.mark >>> 0) !== d.invert;
  },
  why(d, ctx) {
    const ct = ctx.ct;
    if (!ct || ct.state === 'UNTRACKED') return 'no conntrack entry';
    return `ctmark ${hex(ct.mark)} ${d.invert ? 'matches' : 'does not match'} ${markText(d)}`;
  },
};
