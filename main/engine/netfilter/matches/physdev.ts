// `-m physdev`: the bridge ports a bridged packet came in on / leaves through. kube-proxy
// writes `-m physdev ! --physdev-is-in` for externalIPs. The lab's hosts have no bridge
// ports, so every packet is a non-bridged one, for which the kernel's physdev_mt matches
// exactly when every option the rule uses is inverted (`! --physdev-is-in` matches).

import type { MatchModule } from '../types.ts';
import { X6Table, xtFail } from '../xtables-parse.ts';

interface Flag {
  neg: boolean;
}

interface Dev extends Flag {
  name: string;
}

export interface PhysdevData {
  in?: Dev;
  out?: Dev;
  isIn?: Flag;
  isOut?: Flag;
  isBridged?: Flag;
}

const OPTS = new X6Table('physdev', [
  { name: 'physdev-in', invert: true },
  { name: 'physdev-out', invert: true },
  { name: 'physdev-is-in', invert: true },
  { name: 'physdev-is-out', invert: true },
  { name: 'physdev-is-bridged', invert: true },
]);

const IFNAMSIZ = 16;

function show(d: PhysdevData): string {
  const neg = (f: Flag) => (f.neg ? ' !' : '');
  let s = '';
  if (d.isIn) s += `${neg(d.isIn)} --physdev-is-in`;
  if (d.in) s += `${neg(d.in)} --physdev-in ${d.in.name}`;
  if (d.isOut) s += `${neg(d.isOut)} --physdev-is-out`;
  if (d.out) s += `${neg(d.out)} --physdev-out ${d.out.name}`;
  if (d.isBridged) s += `${neg(d.isBridged)} --physdev-is-bridged`;
  return s;
}

function used(d: PhysdevData): Flag[] {
  return [d.in, d.out, d.isIn, d.isOut, d.isBridged].filter((f): f is Flag => f !== undefined);
}

export const physdevMatch: MatchModule<PhysdevData> = {
  kind: 'match',
  name: 'physdev',
  options: { 'physdev-in': 1, 'physdev-out': 1, 'physdev-is-in': 0, 'physdev-is-out': 0, 'physdev-is-bridged': 0 },
  invertible: ['physdev-in', 'physdev-out', 'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged'],
  create: () => ({}),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    switch (opt) {
      case 'physdev-in':
      case 'physdev-out': {
        const name = args[0];
        if (name.length + 1 > IFNAMSIZ) xtFail(`interface name \`${name}' must be shorter than IFNAMSIZ (${IFNAMSIZ - 1})`);
        if (opt === 'physdev-in') d.in = { name, neg: invert };
        else d.out = { name, neg: invert };
        return;
      }
      case 'physdev-is-in':
        d.isIn = { neg: invert };
        return;
      case 'physdev-is-out':
        d.isOut = { neg: invert };
        return;
      case 'physdev-is-bridged':
        d.isBridged = { neg: invert };
        return;
    }
  },
  finish(d) {
    if (used(d).length === 0) xtFail('PHYSDEV: no physdev option specified');
    OPTS.finish(d);
  },
  // physdev_mt_check: the output port is unknown on the local-output path unless the rule
  // is limited to bridged packets.
  kernelCheck(d, ctx) {
    const wantsOut = d.out !== undefined || d.isOut !== undefined;
    const bridgedOnly = d.isBridged !== undefined && !d.isBridged.neg;
    return !(wantsOut && !bridgedOnly && ctx.hook === 'OUTPUT');
  },
  save: (d) => show(d),
  list: (d) => ` PHYSDEV match${show(d)}`,
  match: (d) => used(d).every((f) => f.neg),
  why: () => 'not a bridged packet',
};
