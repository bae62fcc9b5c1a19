// `-j TTL --ttl-set N | --ttl-dec N | --ttl-inc N` (mangle only): rewrites the IP header's TTL
// and goes on with the next rule. Increments stop at 255 and decrements at 0, as the kernel's
// ttl_tg does; a TTL lowered to 0 or 1 before routing makes a router drop the packet with an
// ICMP time exceeded, as any other.

import type { TargetModule } from '../types.ts';
import { parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

export interface TtlTargetData {
  mode: 'set' | 'dec' | 'inc' | null;
  value: number;
}

const ALL = ['ttl-set', 'ttl-dec', 'ttl-inc'];
const OPTS = new X6Table('TTL', [
  { name: 'ttl-set', excl: ALL },
  { name: 'ttl-dec', excl: ALL },
  { name: 'ttl-inc', excl: ALL },
]);

const WORDS = { set: 'set to', dec: 'decrement by', inc: 'increment by' } as const;

export const ttlTarget: TargetModule<TtlTargetData> = {
  kind: 'target',
  name: 'TTL',
  tables: ['mangle'],
  options: { 'ttl-set': 1, 'ttl-dec': 1, 'ttl-inc': 1 },
  // (X6Table refuses each `!` with iptables' message)
  invertible: ['ttl-set', 'ttl-dec', 'ttl-inc'],
  create: () => ({ mode: null, value: 0 }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    // (a decrement or increment of 0 is refused: it would change nothing)
    d.value = parseUintOpt('TTL', opt, args[0], opt === 'ttl-set' ? 0 : 1, 255);
    d.mode = opt === 'ttl-set' ? 'set' : opt === 'ttl-dec' ? 'dec' : 'inc';
  },
  finish(d) {
    if (d.mode === null) xtFail('TTL: You must specify an action');
    OPTS.finish(d);
  },
  save: (d) => ` --ttl-${d.mode} ${d.value}`,
  list: (d) => ` TTL ${WORDS[d.mode ?? 'set']} ${d.value}`,
  apply(d, ctx) {
    const t = ctx.pkt.ttl;
    ctx.pkt.ttl = d.mode === 'set' ? d.value : d.mode === 'inc' ? Math.min(255, t + d.value) : Math.max(0, t - d.value);
    return { kind: 'continue' };
  },
};
