// `-m iprange [!] --src-range a-b [!] --dst-range a-b`: address ranges (inclusive). A range
// whose start lies above its end is stored as given and never matches (iptables only warns).

import { formatIPv4 } from '../../net/ipv4.ts';
import type { IPv4 } from '../../net/ipv4.ts';
import type { MatchModule } from '../types.ts';
import { badValue, numericToIPv4, X6Table, xtFail } from '../xtables-parse.ts';

interface Range {
  min: IPv4;
  max: IPv4;
  neg: boolean;
}

export interface IprangeData {
  src?: Range;
  dst?: Range;
}

const OPTS = new X6Table('iprange', [
  { name: 'src-range', invert: true },
  { name: 'dst-range', invert: true },
]);

function parseRange(opt: string, arg: string, neg: boolean): Range {
  const dash = arg.indexOf('-');
  const from = dash < 0 ? arg : arg.slice(0, dash);
  const to = dash < 0 ? arg : arg.slice(dash + 1);
  const min = numericToIPv4(from);
  if (min === null) return badValue('iprange', `--${opt}`, from);
  const max = numericToIPv4(to);
  if (max === null) return badValue('iprange', `--${opt}`, to);
  return { min, max, neg };
}

function inside(a: IPv4, r: Range): boolean {
  return (a >>> 0 >= r.min >>> 0 && a >>> 0 <= r.max >>> 0) !== r.neg;
}

const text = (r: Range) => `${formatIPv4(r.min)}-${formatIPv4(r.max)}`;

export const iprangeMatch: MatchModule<IprangeData> = {
  kind: 'match',
  name: 'iprange',
  options: { 'src-range': 1, 'dst-range': 1 },
  invertible: ['src-range', 'dst-range'],
  create: () => ({}),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    if (opt === 'src-range') d.src = parseRange(opt, args[0], invert);
    else d.dst = parseRange(opt, args[0], invert);
  },
  finish(d) {
    if (!d.src && !d.dst) xtFail("iprange match: You must specify `--src-range' or `--dst-range'");
    OPTS.finish(d);
  },
  save(d) {
    let s = '';
    if (d.src) s += `${d.src.neg ? ' !' : ''} --src-range ${text(d.src)}`;
    if (d.dst) s += `${d.dst.neg ? ' !' : ''} --dst-range ${text(d.dst)}`;
    return s;
  },
  list(d) {
    let s = '';
    if (d.src) s += ` source IP range${d.src.neg ? ' !' : ''} ${text(d.src)}`;
    if (d.dst) s += ` destination IP range${d.dst.neg ? ' !' : ''} ${text(d.dst)}`;
    return s;
  },
  match: (d, ctx) => (!d.src || inside(ctx.pkt.src, d.src)) && (!d.dst || inside(ctx.pkt.dst, d.dst)),
  why(d, ctx) {
    if (d.src && !inside(ctx.pkt.src, d.src)) return `src ${formatIPv4(ctx.pkt.src)} ${d.src.neg ? 'in' : 'not in'} ${text(d.src)}`;
    if (d.dst) return `dst ${formatIPv4(ctx.pkt.dst)} ${d.dst.neg ? 'in' : 'not in'} ${text(d.dst)}`;
    return '';
  },
};
