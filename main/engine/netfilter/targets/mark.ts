// -j MARK (revision 2): every form is kept as (value, mask) and the kernel does
// mark = (mark & ~mask) ^ value; iptables-save prints the --set-xmark form, -L names it back
// (`MARK or 0x4000`, `MARK xor 0x4000`, `MARK and 0xff`, `MARK set 0x10`, `MARK xset v/m`).

import { IptablesError, type TargetModule } from '../types.ts';
import { hex, parseMarkMask, strtoui, xterr } from '../xtopt.ts';

export interface MarkTargetData {
  value: number;
  mask: number;
  seen: number;
}

const EXT = 'MARK';
const ORDER = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'] as const;

function u32(s: string, opt: string): number {
  const v = strtoui(s, 0, 0xffffffff);
  if (v === undefined) throw xterr.badRange(EXT, opt, 0, 4294967295);
  return v;
}

export function markTargetText(d: { value: number; mask: number }): string {
  const { value, mask } = d;
  if (value === 0) return ` MARK and ${hex(~mask)}`;
  if (value === mask) return ` MARK or ${hex(value)}`;
  if (mask === 0) return ` MARK xor ${hex(value)}`;
  if (mask === 0xffffffff) return ` MARK set ${hex(value)}`;
  return ` MARK xset ${hex(value)}/${hex(mask)}`;
}

export const markTarget: TargetModule<MarkTargetData> = {
  kind: 'target',
  name: EXT,
  options: { 'set-xmark': 1, 'set-mark': 1, 'and-mark': 1, 'or-mark': 1, 'xor-mark': 1 },
  create: () => ({ value: 0, mask: 0, seen: 0 }),
  parse(d, opt, args) {
    const bit = 1 << ORDER.indexOf(opt as (typeof ORDER)[number]);
    if (d.seen & bit) throw xterr.once(EXT, opt);
    d.seen |= bit;
    const a = args[0];
    switch (opt) {
      case 'set-xmark': {
        const m = parseMarkMask(a, EXT, opt);
        d.value = m.value;
        d.mask = m.mask;
        break;
      }
      case 'set-mark': {
        const m = parseMarkMask(a, EXT, opt);
        d.value = m.value;
        d.mask = (m.value | m.mask) >>> 0;
        break;
      }
      case 'and-mark':
        d.value = 0;
        d.mask = ~u32(a, opt) >>> 0;
        break;
      case 'or-mark':
        d.value = d.mask = u32(a, opt);
        break;
      case 'xor-mark':
        d.value = u32(a, opt);
        d.mask = 0;
        break;
    }
  },
  finish(d) {
    if (d.seen === 0) {
      throw new IptablesError('MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required', 2);
    }
    for (let i = 0; i < ORDER.length; i++) {
      for (let j = 0; j < ORDER.length; j++) {
        if (i !== j && d.seen & (1 << i) && d.seen & (1 << j)) throw xterr.excl(EXT, ORDER[i], ORDER[j]);
      }
    }
  },
  save: (d) => ` --set-xmark ${hex(d.value)}/${hex(d.mask)}`,
  list: (d) => markTargetText(d),
  apply(d, ctx) {
    ctx.pkt.mark = ((ctx.pkt.mark & ~d.mask) ^ d.value) >>> 0;
    return { kind: 'continue' };
  },
};
