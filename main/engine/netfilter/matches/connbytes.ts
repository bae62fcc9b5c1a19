// `-m connbytes [!] --connbytes from[:to] --connbytes-dir original|reply|both
// --connbytes-mode packets|bytes|avgpkt` (xt_connbytes): the packet and byte counters of the
// packet's conntrack entry. All three options are required.
//
// What the real tools do, and this module with them:
// - The range is a 64-bit one (`a`, `a:b`, `:b`, `a:`; a missing end is 0 / 2^64-1); `a` above
//   `b` is refused ("20 should be less than 10"). A `!` swaps the two ends: the kernel takes
//   from > to as the inverted test (what < to || what > from). So `! --connbytes 5:5` is the
//   same rule as `--connbytes 5:5` and prints without its `!`.
// - iptables-save prints the range, then the mode, then the direction, whatever the order
//   given; the upper end only when it is neither 0 nor 2^64-1 (`7:` prints `7`).
// - The counters are those of the entry as the packet finds it: conntrack counted the packet
//   itself before any table but raw saw it (nf_conntrack_in, at PREROUTING/OUTPUT).
// - No entry (untracked, invalid, the raw table), or an entry without the acct extension
//   (made while net.netfilter.nf_conntrack_acct was 0): no match. avgpkt is bytes/packets
//   (integer division; 0 without packets), summed over both directions for `both`.
// - Loading the rule turns net.netfilter.nf_conntrack_acct on in the namespace when it is
//   off ("xt_connbytes: Forcing CT accounting to be enabled": done by the shell's iptables and
//   iptables-restore, shell/programs.ts); entries made before keep no counters and so never
//   match.

import type { MatchCtx, MatchModule } from '../types.ts';
import { parseUintRangeBig, xtFail, X6Table } from '../xtables-parse.ts';
import { realCt } from './conntrack.ts';

const EXT = 'connbytes';
const U64_MAX = (1n << 64n) - 1n;

export type ConnbytesMode = 'packets' | 'bytes' | 'avgpkt';
export type ConnbytesDir = 'original' | 'reply' | 'both';

export interface ConnbytesData {
  /** The kernel structure's count.from / count.to (u64, decimal text: a lab file keeps them
   *  as JSON). from > to: the inverted test. */
  from: string;
  to: string;
  mode: ConnbytesMode;
  dir: ConnbytesDir;
}

const OPTS = new X6Table(EXT, [
  { name: 'connbytes', invert: true, mand: true },
  { name: 'connbytes-dir', mand: true },
  { name: 'connbytes-mode', mand: true },
]);

const MODES: readonly ConnbytesMode[] = ['packets', 'bytes', 'avgpkt'];
const DIRS: readonly ConnbytesDir[] = ['original', 'reply', 'both'];

/** The range as print_from_to of libxt_connbytes shows it, `!` first when inverted. */
function rangeText(d: ConnbytesData, prefix: string): string {
  let from = BigInt(d.from);
  let to = BigInt(d.to);
  let bang = '';
  if (from > to) {
    bang = ' !';
    [from, to] = [to, from];
  }
  return `${bang} ${prefix}connbytes ${from}${to !== 0n && to < U64_MAX ? `:${to}` : ''}`;
}

/** The counted quantity for the rule's mode and direction, or undefined when the packet has
 *  no entry with counters. */
export function connbytesWhat(d: ConnbytesData, ctx: MatchCtx): number | undefined {
  const c = realCt(ctx.ct)?.counters;
  if (!c) return undefined;
  const o = c.ORIGINAL, r = c.REPLY;
  const pkts = d.dir === 'original' ? o.packets : d.dir === 'reply' ? r.packets : o.packets + r.packets;
  const bytes = d.dir === 'original' ? o.bytes : d.dir === 'reply' ? r.bytes : o.bytes + r.bytes;
  if (d.mode === 'packets') return pkts;
  if (d.mode === 'bytes') return bytes;
  return pkts === 0 ? 0 : Math.floor(bytes / pkts);
}

/** The two ends as numbers (an end past 2^53 is past any counter the lab can reach:
 *  Infinity keeps every comparison right) and whether from > to, as u64s. Kept per data
 *  object. */
const ENDS = new WeakMap<ConnbytesData, [number, number, boolean]>();
function ends(d: ConnbytesData): [number, number, boolean] {
  let v = ENDS.get(d);
  if (!v) {
    const num = (s: string) => (BigInt(s) > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(s));
    v = [num(d.from), num(d.to), BigInt(d.from) > BigInt(d.to)];
    ENDS.set(d, v);
  }
  return v;
}

/** The kernel's comparison: from <= what <= to, or, inverted, what < to || what > from. */
function inRange(d: ConnbytesData, what: number): boolean {
  const [from, to, inverted] = ends(d);
  return inverted ? what < to || what > from : what >= from && what <= to;
}

export const connbytesMatch: MatchModule<ConnbytesData> = {
  kind: 'match',
  name: EXT,
  options: { connbytes: 1, 'connbytes-dir': 1, 'connbytes-mode': 1 },
  invertible: ['connbytes'],
  create: () => ({ from: '0', to: '0', mode: 'packets', dir: 'original' }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const a = args[0];
    switch (opt) {
      case 'connbytes': {
        const v = parseUintRangeBig(EXT, opt, a, U64_MAX);
        let from = v[0];
        let to = v.length > 1 ? v[1] : U64_MAX;
        if (to < from) xtFail(`${from} should be less than ${to}`);
        if (invert) [from, to] = [to, from];
        d.from = `${from}`;
        d.to = `${to}`;
        break;
      }
      case 'connbytes-dir':
        if (!(DIRS as readonly string[]).includes(a)) xtFail(`Unknown --connbytes-dir \`${a}'`);
        d.dir = a as ConnbytesDir;
        break;
      case 'connbytes-mode':
        if (!(MODES as readonly string[]).includes(a)) xtFail(`Unknown --connbytes-mode \`${a}'`);
        d.mode = a as ConnbytesMode;
        break;
    }
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${rangeText(d, '--')} --connbytes-mode ${d.mode} --connbytes-dir ${d.dir}`,
  list: (d) => `${rangeText(d, '')} connbytes mode ${d.mode} connbytes direction ${d.dir}`,
  match(d, ctx) {
    const what = connbytesWhat(d, ctx);
    return what !== undefined && inRange(d, what);
  },
  why(d, ctx) {
    const what = connbytesWhat(d, ctx);
    const range = rangeText(d, '').trim();
    if (what === undefined) return realCt(ctx.ct) ? 'conntrack entry without counters (acct off when it was made)' : 'no conntrack entry';
    return `connbytes ${d.mode} ${d.dir} = ${what}, ${inRange(d, what) ? 'in' : 'not in'} ${range}`;
  },
};
