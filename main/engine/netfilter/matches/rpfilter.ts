// `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]`: reverse-path filtering
// in raw/mangle PREROUTING. Calico's raw chain drops spoofed workload traffic with
// `-m rpfilter --validmark --invert -j DROP`. Loopback and 0.0.0.0-sourced broadcast or
// link-local multicast always pass; everything else asks the host's routing
// (HostEnv.rpfilterCheck) whether the source would be routed back out of the input device.

import { formatIPv4 } from '../../net/ipv4.ts';
import type { MatchCtx, MatchModule } from '../types.ts';
import { X6Table } from '../xtables-parse.ts';

export interface RpfilterData {
  loose: boolean;
  validMark: boolean;
  acceptLocal: boolean;
  invert: boolean;
}

const OPTS = new X6Table('rpfilter', [{ name: 'loose' }, { name: 'validmark' }, { name: 'accept-local' }, { name: 'invert' }]);

function show(d: RpfilterData, pre: string): string {
  let s = '';
  if (d.loose) s += ` ${pre}loose`;
  if (d.validMark) s += ` ${pre}validmark`;
  if (d.acceptLocal) s += ` ${pre}accept-local`;
  if (d.invert) s += ` ${pre}invert`;
  return s;
}

/** The reverse-path verdict before --invert. */
function passes(d: RpfilterData, ctx: MatchCtx): boolean {
  const p = ctx.pkt;
  if (ctx.inIface === 'lo') return true;
  const dst = p.dst >>> 0;
  if (p.src === 0 && (dst === 0xffffffff || (dst & 0xffffff00) >>> 0 === 0xe0000000)) return true;
  const check = ctx.host.rpfilterCheck;
  if (!check) return true;
  return check.call(ctx.host, p, ctx.inIface ?? '', { loose: d.loose, validMark: d.validMark, acceptLocal: d.acceptLocal });
}

export const rpfilterMatch: MatchModule<RpfilterData> = {
  kind: 'match',
  name: 'rpfilter',
  options: { loose: 0, validmark: 0, 'accept-local': 0, invert: 0 },
  invertible: ['loose', 'validmark', 'accept-local', 'invert'],
  create: () => ({ loose: false, validMark: false, acceptLocal: false, invert: false }),
  parse(d, opt, _args, invert) {
    OPTS.use(d, opt, invert);
    if (opt === 'loose') d.loose = true;
    else if (opt === 'validmark') d.validMark = true;
    else if (opt === 'accept-local') d.acceptLocal = true;
    else d.invert = true;
  },
  finish(d) {
    OPTS.finish(d);
  },
  // rpfilter_check: raw or mangle, and the match is registered for PREROUTING only
  kernelCheck: (_d, ctx) => (ctx.table === 'raw' || ctx.table === 'mangle') && (ctx.hook === undefined || ctx.hook === 'PREROUTING'),
  save: (d) => show(d, '--'),
  list: (d) => ` rpfilter${show(d, '')}`,
  match: (d, ctx) => passes(d, ctx) !== d.invert,
  why(d, ctx) {
    const src = formatIPv4(ctx.pkt.src);
    return passes(d, ctx)
      ? `${src} passes the reverse-path check on ${ctx.inIface ?? '(none)'} (inverted)`
      : `${src} fails the reverse-path check on ${ctx.inIface ?? '(none)'}`;
  },
};
