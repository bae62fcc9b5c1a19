// -m tcp (loaded implicitly by `-p tcp --dport ...`): source/destination port ranges,
// --tcp-flags / --syn, --tcp-option. libxt_tcp still uses the old option parser, hence its
// own error texts ("Only one `--source-port' allowed").

import { IptablesError, TCP, type MatchCtx, type MatchModule, type ParseCtx } from '../types.ts';
import { strtoui } from '../xtopt.ts';
import { inRange, listPorts, parsePortRangeOld, rangeText, savePorts, type PortRange } from './portrange.ts';

export interface TcpData {
  spts?: PortRange;
  sinv: boolean;
  dpts?: PortRange;
  dinv: boolean;
  flagMask: number;
  flagCmp: number;
  flagInv: boolean;
  option: number;
  optInv: boolean;
  seen: number; // 1 sport, 2 dport, 4 flags, 8 option
}

const FLAG_NAMES: readonly (readonly [string, number])[] = [
  ['FIN', TCP.FIN], ['SYN', TCP.SYN], ['RST', TCP.RST], ['PSH', TCP.PSH], ['ACK', TCP.ACK], ['URG', TCP.URG],
];
const ALL = 0x3f;

/** A comma-separated list of iptables' flag names (any case; ALL and NONE too) as TCP header
 *  bits, or the first name that is not one. */
export function tcpFlagList(s: string): number | { unknown: string } {
  let bits = 0;
  for (const part of s.split(',')) {
    const up = part.toUpperCase();
    if (up === 'ALL') bits |= ALL;
    else if (up !== 'NONE') {
      const f = FLAG_NAMES.find(([n]) => n === up);
      if (!f) return { unknown: part };
      bits |= f[1];
    }
  }
  return bits;
}

function parseFlags(s: string): number {
  const bits = tcpFlagList(s);
  if (typeof bits !== 'number') throw new IptablesError(`Unknown TCP flag \`${bits.unknown}'`, 2);
  return bits;
}

export function tcpFlagsText(bits: number): string {
  if (bits === 0) return 'NONE';
  return FLAG_NAMES.filter(([, b]) => (bits & b) !== 0).map(([n]) => n).join(',');
}

const hex2 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(2, '0');

function once(data: TcpData, bit: number, msg: string): void {
  if (data.seen & bit) throw new IptablesError(msg, 2);
  data.seen |= bit;
}

export const tcpMatch: MatchModule<TcpData> = {
  kind: 'match',
  name: 'tcp',
  options: { 'source-port': 1, sport: 1, 'destination-port': 1, dport: 1, syn: 0, 'tcp-flags': 2, 'tcp-option': 1 },
  invertible: ['source-port', 'sport', 'destination-port', 'dport', 'syn', 'tcp-flags', 'tcp-option'],
  create: () => ({ spts: undefined, sinv: false, dpts: undefined, dinv: false, flagMask: 0, flagCmp: 0, flagInv: false, option: 0, optInv: false, seen: 0 }),
  parse(d, opt, args, invert) {
    switch (opt) {
      case 'source-port':
      case 'sport':
        once(d, 1, "Only one `--source-port' allowed");
        d.spts = parsePortRangeOld(args[0], 'tcp');
        d.sinv = invert;
        break;
      case 'destination-port':
      case 'dport':
        once(d, 2, "Only one `--destination-port' allowed");
        d.dpts = parsePortRangeOld(args[0], 'tcp');
        d.dinv = invert;
        break;
      case 'syn':
        once(d, 4, "Only one of `--syn' or `--tcp-flags'  allowed");
        d.flagMask = TCP.FIN | TCP.SYN | TCP.RST | TCP.ACK;
        d.flagCmp = TCP.SYN;
        d.flagInv = invert;
        break;
      case 'tcp-flags':
        once(d, 4, "Only one of `--syn' or `--tcp-flags'  allowed");
        d.flagMask = parseFlags(args[0]);
        d.flagCmp = parseFlags(args[1]);
        d.flagInv = invert;
        break;
      case 'tcp-option': {
        once(d, 8, "Only one `--tcp-option' allowed");
        const v = strtoui(args[0], 1, 255);
        if (v === undefined) throw new IptablesError(`Bad TCP option "${args[0]}"`, 2);
        d.option = v;
        d.optInv = invert;
        break;
      }
    }
  },
  finish(_d, ctx: ParseCtx) {
    if (!ctx.proto || ctx.proto.num !== 6) throw new IptablesError("TCP match requires '-p tcp'", 2);
  },
  save(d) {
    let s = savePorts('sport', d.spts, d.sinv) + savePorts('dport', d.dpts, d.dinv);
    if (d.option || d.optInv) s += `${d.optInv ? ' !' : ''} --tcp-option ${d.option}`;
    if (d.flagMask || d.flagInv) {
      s += `${d.flagInv ? ' !' : ''} --tcp-flags ${tcpFlagsText(d.flagMask)} ${tcpFlagsText(d.flagCmp)}`;
    }
    return s;
  },
  list(d, numeric) {
    let s = ' tcp' + listPorts('spt', d.spts, d.sinv, 'tcp', numeric) + listPorts('dpt', d.dpts, d.dinv, 'tcp', numeric);
    if (d.option || d.optInv) s += ` option=${d.optInv ? '!' : ''}${d.option}`;
    if (d.flagMask || d.flagInv) {
      s += ` flags:${d.flagInv ? '!' : ''}`;
      s += numeric ? `${hex2(d.flagMask)}/${hex2(d.flagCmp)}` : `${tcpFlagsText(d.flagMask)}/${tcpFlagsText(d.flagCmp)}`;
    }
    return s;
  },
  match(d, ctx: MatchCtx) {
    const p = ctx.pkt;
    if (p.proto !== 6) return false;
    if (inRange(p.sport, d.spts) === d.sinv) return false;
    if (inRange(p.dport, d.dpts) === d.dinv) return false;
    if (((p.tcpFlags & d.flagMask) === d.flagCmp) === d.flagInv) return false;
    // The lab's packets carry no TCP options: an option test only matches when inverted.
    if ((d.option || d.optInv) && !d.optInv) return false;
    return true;
  },
  why(d, ctx) {
    const p = ctx.pkt;
    if (p.proto !== 6) return 'not tcp';
    if (inRange(p.sport, d.spts) === d.sinv) return `spt ${p.sport} ${d.sinv ? '==' : '!='} ${rangeText(d.spts!)}`;
    if (inRange(p.dport, d.dpts) === d.dinv) return `dpt ${p.dport} ${d.dinv ? '==' : '!='} ${rangeText(d.dpts!)}`;
    if (((p.tcpFlags & d.flagMask) === d.flagCmp) === d.flagInv) {
      return `flags ${tcpFlagsText(p.tcpFlags & d.flagMask)} ${d.flagInv ? '==' : '!='} ${tcpFlagsText(d.flagCmp)} (of ${tcpFlagsText(d.flagMask)})`;
    }
    return `no tcp option ${d.option}`;
  },
  exactDport(d) {
    return d.dpts && !d.dinv && d.dpts[0] === d.dpts[1] ? d.dpts[0] : undefined;
  },
};
