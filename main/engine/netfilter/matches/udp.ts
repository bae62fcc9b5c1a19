// -m udp (implicit with `-p udp --dport ...`): source/destination port ranges, parsed by
// libxtables' newer option parser (so its errors read "udp: option ... can only be used once.").

import { IptablesError, type MatchModule, type ParseCtx } from '../types.ts';
import { xtCheck } from '../xtopt.ts';
import { inRange, listPorts, parsePortRangeX6, rangeText, savePorts, type PortRange } from './portrange.ts';

export interface UdpData {
  spts?: PortRange;
  sinv: boolean;
  dpts?: PortRange;
  dinv: boolean;
  seen: number;
}

export const udpMatch: MatchModule<UdpData> = {
  kind: 'match',
  name: 'udp',
  options: { 'source-port': 1, sport: 1, 'destination-port': 1, dport: 1 },
  invertible: ['source-port', 'sport', 'destination-port', 'dport'],
  create: () => ({ spts: undefined, sinv: false, dpts: undefined, dinv: false, seen: 0 }),
  parse(d, opt, args, invert) {
    if (opt === 'source-port' || opt === 'sport') {
      d.seen = xtCheck('udp', 'source-port', { invert: true }, d.seen, 1, invert);
      d.spts = parsePortRangeX6(args[0], 'udp', 'source-port');
      d.sinv = invert;
    } else {
      d.seen = xtCheck('udp', 'destination-port', { invert: true }, d.seen, 2, invert);
      d.dpts = parsePortRangeX6(args[0], 'udp', 'destination-port');
      d.dinv = invert;
    }
  },
  finish(_d, ctx: ParseCtx) {
    if (!ctx.proto || ctx.proto.num !== 17) throw new IptablesError("UDP match requires '-p udp'", 2);
  },
  save: (d) => savePorts('sport', d.spts, d.sinv) + savePorts('dport', d.dpts, d.dinv),
  list: (d, numeric) =>
    ' udp' + listPorts('spt', d.spts, d.sinv, 'udp', numeric) + listPorts('dpt', d.dpts, d.dinv, 'udp', numeric),
  match(d, ctx) {
    const p = ctx.pkt;
    return p.proto === 17 && inRange(p.sport, d.spts) !== d.sinv && inRange(p.dport, d.dpts) !== d.dinv;
  },
  why(d, ctx) {
    const p = ctx.pkt;
    if (p.proto !== 17) return 'not udp';
    if (inRange(p.sport, d.spts) === d.sinv) return `spt ${p.sport} ${d.sinv ? '==' : '!='} ${rangeText(d.spts!)}`;
    return `dpt ${p.dport} ${d.dinv ? '==' : '!='} ${rangeText(d.dpts!)}`;
  },
  exactDport(d) {
    return d.dpts && !d.dinv && d.dpts[0] === d.dpts[1] ? d.dpts[0] : undefined;
  },
};
