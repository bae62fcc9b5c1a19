// `-j CONNMARK`: copies marks between the packet and its conntrack entry (revision 2, with
// the shift options). Every spelling is stored as one of three modes, as the kernel sees it:
// set (ctmark = (ctmark & ~ctmask) ^ ctmark-value), save (packet -> entry) and restore
// (entry -> packet). Non-terminating; a packet without a conntrack entry is left alone.

import type { TargetModule } from '../types.ts';
import { hex, parseMarkMask, parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

export interface ConnmarkTargetData {
  mode?: 'set' | 'save' | 'restore';
  ctmark: number;
  ctmask: number;
  nfmask: number;
  shiftDir: 'left' | 'right';
  shiftBits: number;
}

const OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', 'save-mark', 'restore-mark'];

// table order of libxt_CONNMARK's connmark_tg_opts_v2; conflicts are reported in id order
const OPTS = new X6Table(
  'CONNMARK',
  [
    ...OPS.map((name) => ({ name, excl: OPS })),
    { name: 'left-shift-mark' },
    { name: 'right-shift-mark' },
    { name: 'ctmask', excl: ['mask'] },
    { name: 'nfmask', excl: ['mask'] },
    { name: 'mask', excl: ['ctmask', 'nfmask'] },
  ],
  ['set-mark', 'save-mark', 'restore-mark', 'and-mark', 'or-mark', 'xor-mark', 'left-shift-mark', 'right-shift-mark', 'set-xmark', 'ctmask', 'nfmask', 'mask'],
);

const u32 = (opt: string, arg: string) => parseUintOpt('CONNMARK', opt, arg, 0, 0xffffffff) >>> 0;

function shiftText(d: ConnmarkTargetData, pre: string): string {
  return d.shiftBits ? ` ${pre}${d.shiftDir}-shift-mark ${d.shiftBits}` : '';
}

function listText(d: ConnmarkTargetData): string {
  switch (d.mode) {
    case 'set':
      if (d.ctmark === 0) return ` CONNMARK and ${hex(~d.ctmask)}`;
      if (d.ctmark === d.ctmask) return ` CONNMARK or ${hex(d.ctmark)}`;
      if (d.ctmask === 0) return ` CONNMARK xor ${hex(d.ctmark)}`;
      if (d.ctmask === 0xffffffff) return ` CONNMARK set ${hex(d.ctmark)}`;
      return ` CONNMARK xset ${hex(d.ctmark)}/${hex(d.ctmask)}`;
    case 'save':
      if (d.nfmask === 0xffffffff && d.ctmask === 0xffffffff) return ' CONNMARK save';
      if (d.nfmask === d.ctmask) return ` CONNMARK save mask ${hex(d.nfmask)}`;
      return ` CONNMARK save nfmask ${hex(d.nfmask)} ctmask ~${hex(d.ctmask)}`;
    case 'restore':
      if (d.ctmask === 0xffffffff && d.nfmask === 0xffffffff) return ' CONNMARK restore';
      if (d.ctmask === d.nfmask) return ` CONNMARK restore mask ${hex(d.ctmask)}`;
      return ` CONNMARK restore ctmask ${hex(d.ctmask)} nfmask ~${hex(d.nfmask)}`;
    default:
      return ' ERROR: UNKNOWN CONNMARK MODE';
  }
}

function shift(v: number, d: ConnmarkTargetData): number {
  return (d.shiftDir === 'right' ? v >>> d.shiftBits : v << d.shiftBits) >>> 0;
}

export const connmarkTarget: TargetModule<ConnmarkTargetData> = {
  kind: 'target',
  name: 'CONNMARK',
  options: {
    'set-xmark': 1, 'set-mark': 1, 'and-mark': 1, 'or-mark': 1, 'xor-mark': 1, 'save-mark': 0, 'restore-mark': 0,
    'left-shift-mark': 1, 'right-shift-mark': 1, ctmask: 1, nfmask: 1, mask: 1,
  },
  invertible: [...OPS, 'left-shift-mark', 'right-shift-mark', 'ctmask', 'nfmask', 'mask'],
  create: () => ({ ctmark: 0, ctmask: 0xffffffff, nfmask: 0xffffffff, shiftDir: 'left', shiftBits: 0 }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const arg = args[0];
    switch (opt) {
      case 'set-xmark':
      case 'set-mark': {
        const v = parseMarkMask('CONNMARK', opt, arg);
        d.mode = 'set';
        d.ctmark = v.mark >>> 0;
        d.ctmask = (opt === 'set-mark' ? v.mark | v.mask : v.mask) >>> 0;
        return;
      }
      case 'and-mark':
        d.mode = 'set';
        d.ctmark = 0;
        d.ctmask = ~u32(opt, arg) >>> 0;
        return;
      case 'or-mark':
        d.mode = 'set';
        d.ctmark = d.ctmask = u32(opt, arg);
        return;
      case 'xor-mark':
        d.mode = 'set';
        d.ctmark = u32(opt, arg);
        d.ctmask = 0;
        return;
      case 'save-mark':
        d.mode = 'save';
        return;
      case 'restore-mark':
        d.mode = 'restore';
        return;
      case 'left-shift-mark':
      case 'right-shift-mark':
        d.shiftBits = parseUintOpt('CONNMARK', opt, arg, 0, 32);
        d.shiftDir = opt === 'left-shift-mark' ? 'left' : 'right';
        return;
      case 'ctmask':
        d.ctmask = u32(opt, arg);
        return;
      case 'nfmask':
        d.nfmask = u32(opt, arg);
        return;
      case 'mask':
        d.ctmask = d.nfmask = u32(opt, arg);
        return;
    }
  },
  finish(d) {
    if (!d.mode) xtFail('CONNMARK target: No operation specified');
    OPTS.finish(d);
  },
  kernelCheck: (d) => d.shiftBits < 32,
  save(d) {
    let s: string;
    if (d.mode === 'set') s = ` --set-xmark ${hex(d.ctmark)}/${hex(d.ctmask)}`;
    else if (d.mode === 'save') s = ` --save-mark --nfmask ${hex(d.nfmask)} --ctmask ${hex(d.ctmask)}`;
    else if (d.mode === 'restore') s = ` --restore-mark --nfmask ${hex(d.nfmask)} --ctmask ${hex(d.ctmask)}`;
    else s = ' [invalid mode]';
    return s + shiftText(d, '--');
  },
  list: (d) => listText(d) + shiftText(d, ''),
  apply(d, ctx) {
    const ct = ctx.ct;
    if (!ct || ct.state === 'UNTRACKED') return { kind: 'continue' };
    if (d.mode === 'set') {
      ct.mark = shift(((ct.mark & ~d.ctmask) ^ d.ctmark) >>> 0, d);
    } else if (d.mode === 'save') {
      const v = shift((ctx.pkt.mark & d.nfmask) >>> 0, d);
      ct.mark = ((ct.mark & ~d.ctmask) ^ v) >>> 0;
    } else if (d.mode === 'restore') {
      const v = shift((ct.mark & d.ctmask) >>> 0, d);
      ctx.pkt.mark = ((ctx.pkt.mark & ~d.nfmask) ^ v) >>> 0;
    }
    return { kind: 'continue' };
  },
};
