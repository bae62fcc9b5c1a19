// -m conntrack (revision 3): --ctstate, --ctproto, --ctorig/repl src/dst [ports], --ctstatus,
// --ctexpire, --ctdir, read from the packet's conntrack entry. iptables-save prints the
// options in the kernel structure's order, not the order given.

import { IptablesError, type CtState, type CtView, type MatchCtx, type MatchModule } from '../types.ts';
import { formatIPv4, maskLen, maskOf, parseIPv4 } from '../../net/ipv4.ts';
import { addressName, protoByName } from '../services.ts';
import { strtoul, strtoui, xterr } from '../xtopt.ts';
import { parsePortRangeX6, type PortRange } from './portrange.ts';

const EXT = 'conntrack';

// --ctstate bits, in the order iptables prints them.
export const CT_STATES: readonly (readonly [string, number])[] = [
  ['INVALID', 1], ['NEW', 2], ['RELATED', 4], ['ESTABLISHED', 8], ['UNTRACKED', 16], ['SNAT', 32], ['DNAT', 64],
];
const CT_STATUS: readonly (readonly [string, number])[] = [
  ['EXPECTED', 1], ['SEEN_REPLY', 2], ['ASSURED', 4], ['CONFIRMED', 8],
];

/** Parses "A,B" where each part is a case-insensitive prefix of a name tried in `tryOrder`;
 *  errors name the rest of the argument from the bad part on, as libxt_conntrack does. */
export function parseStateList(arg: string, tryOrder: readonly string[], table: readonly (readonly [string, number])[], what: string): number {
  let bits = 0;
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    const part = comma < 0 ? rest : rest.slice(0, comma);
    const low = part.toUpperCase();
    const name = part.length === 0 ? undefined : tryOrder.find((n) => n.startsWith(low));
    if (name === undefined) throw new IptablesError(`Bad ${what} "${rest}"`, 2);
    bits |= table.find(([n]) => n === name)?.[1] ?? 0;
    if (comma < 0) return bits;
    rest = rest.slice(comma + 1);
  }
}

export function stateListText(bits: number, table: readonly (readonly [string, number])[]): string {
  return table.filter(([, b]) => bits & b).map(([n]) => n).join(',');
}

const STATE_BITS: Record<CtState, number> = { INVALID: 1, NEW: 2, RELATED: 4, ESTABLISHED: 8, UNTRACKED: 16 };

/** The --ctstate bit of the packet's conntrack state, plus SNAT/DNAT from the entry. */
export function ctStateBits(ct: CtView | null): number {
  if (!ct || ct.state === 'INVALID') return 1;
  if (ct.state === 'UNTRACKED') return 16;
  let bits = STATE_BITS[ct.state];
  if (ct.status.has('SNAT')) bits |= 32;
  if (ct.status.has('DNAT')) bits |= 64;
  return bits;
}

/** An entry the non-state tests can read (the kernel has none for invalid/untracked). */
export function realCt(ct: CtView | null): CtView | null {
  return ct && ct.state !== 'INVALID' && ct.state !== 'UNTRACKED' ? ct : null;
}

interface AddrMask {
  addr: number;
  mask: number;
}

type AddrKey = 'origsrc' | 'origdst' | 'replsrc' | 'repldst';
type PortKey = 'origsrcport' | 'origdstport' | 'replsrcport' | 'repldstport';

export interface ConntrackData {
  seen: number;
  inv: number;
  states: number;
  proto: number;
  origsrc?: AddrMask;
  origdst?: AddrMask;
  replsrc?: AddrMask;
  repldst?: AddrMask;
  origsrcport?: PortRange;
  origdstport?: PortRange;
  replsrcport?: PortRange;
  repldstport?: PortRange;
  status: number;
  expires: [number, number];
  reply: boolean;
}

// One bit per option, also used for `seen`/`inv`.
const BIT: Record<string, number> = {
  ctstate: 1, ctproto: 2, ctorigsrc: 4, ctorigdst: 8, ctreplsrc: 16, ctrepldst: 32,
  ctorigsrcport: 64, ctorigdstport: 128, ctreplsrcport: 256, ctrepldstport: 512,
  ctstatus: 1024, ctexpire: 2048, ctdir: 4096,
};

function parseHostMask(arg: string, opt: string): AddrMask {
  const slash = arg.indexOf('/');
  const host = slash < 0 ? arg : arg.slice(0, slash);
  const addr = host === 'localhost' ? 0x7f000001 : parseIPv4(host);
  if (addr === null) throw new IptablesError('getaddrinfo: Temporary failure in name resolution\n', 2);
  if (slash < 0) return { addr, mask: 0xffffffff };
  const p = arg.slice(slash + 1);
  const len = strtoui(p, 0, 32);
  if (len !== undefined) return { addr, mask: maskOf(len) };
  const m = parseIPv4(p);
  if (m === null) {
    throw new IptablesError(`${EXT}: bad value for option "--${opt}", neither a valid network mask nor valid CIDR (0-32).\n`, 2);
  }
  return { addr, mask: m };
}

function parseExpire(arg: string): [number, number] {
  const out: [number, number] = [0, 0xffffffff];
  let i = 0;
  for (let n = 0; ; n++) {
    if (n === 2) throw new IptablesError(`${EXT}: Too many components for option "--ctexpire" (max: 2)\n`, 2);
    if (i >= arg.length || arg[i] === ':') {
      out[n] = n === 1 ? 0xffffffff : 0;
    } else {
      const v = strtoul(arg, 0, i);
      if (v.end === i || !(v.value <= 0xffffffff)) {
        throw new IptablesError(`${EXT}: bad value for option "--ctexpire" near "${arg.slice(i)}", or out of range (0-4294967295).\n`, 2);
      }
      if (v.end < arg.length && arg[v.end] !== ':') {
        throw new IptablesError(`${EXT}: Argument to "--ctexpire" has unexpected characters near "${arg.slice(v.end)}".\n`, 2);
      }
      out[n] = v.value;
      i = v.end;
    }
    if (i >= arg.length) {
      if (n === 0) out[1] = out[0];
      return out;
    }
    i++; // past ':'
  }
}

function addrText(a: AddrMask, numeric: boolean): string {
  if (!numeric && a.addr === 0) return ' anywhere';
  const name = numeric ? formatIPv4(a.addr) : (addressName(a.addr) ?? formatIPv4(a.addr));
  if (a.mask === 0xffffffff) return ` ${name}`;
  const len = maskLen(a.mask);
  return ` ${name}/${len >= 0 ? len : formatIPv4(a.mask)}`;
}

const portsText = (r: PortRange) => (r[1] === 0 || r[0] === r[1] ? `${r[0]}` : `${r[0]}:${r[1]}`);

/** The conntrack_dump of libxt_conntrack: `prefix` is "--" for save, "" for -L. */
function dump(d: ConntrackData, prefix: string, numeric: boolean): string {
  const bang = (bit: number) => (d.inv & bit ? ' !' : '');
  let s = '';
  if (d.seen & BIT.ctstate) s += `${bang(BIT.ctstate)} ${prefix}ctstate ${stateListText(d.states, CT_STATES)}`;
  if (d.seen & BIT.ctproto) s += `${bang(BIT.ctproto)} ${prefix}ctproto ${d.proto}`;
  for (const k of ['origsrc', 'origdst', 'replsrc', 'repldst'] as const) {
    const a = d[k];
    if (a) s += `${bang(BIT['ct' + k])} ${prefix}ct${k}${addrText(a, numeric)}`;
  }
  for (const k of ['origsrcport', 'origdstport', 'replsrcport', 'repldstport'] as const) {
    const r = d[k];
    if (r) s += `${bang(BIT['ct' + k])} ${prefix}ct${k} ${portsText(r)}`;
  }
  if (d.seen & BIT.ctstatus) {
    s += `${bang(BIT.ctstatus)} ${prefix}ctstatus ${d.status ? stateListText(d.status, CT_STATUS) : 'NONE'}`;
  }
  if (d.seen & BIT.ctexpire) {
    const [a, b] = d.expires;
    s += `${bang(BIT.ctexpire)} ${prefix}ctexpire ${a === b ? a : `${a}:${b}`}`;
  }
  if (d.seen & BIT.ctdir) s += ` ${prefix}ctdir ${d.reply ? 'REPLY' : 'ORIGINAL'}`;
  return s;
}

const TUPLE_OF: Record<AddrKey | PortKey, ['orig' | 'reply', 'src' | 'dst']> = {
  origsrc: ['orig', 'src'], origdst: ['orig', 'dst'], replsrc: ['reply', 'src'], repldst: ['reply', 'dst'],
  origsrcport: ['orig', 'src'], origdstport: ['orig', 'dst'], replsrcport: ['reply', 'src'], repldstport: ['reply', 'dst'],
};

const MISS = 'miss';

/** The first failing test, or '' when the packet matches. Without `explain` a miss is just
 *  MISS: the walk asks this for every rule, and words are only needed when shown. */
function firstMiss(d: ConntrackData, ctx: MatchCtx, explain: boolean): string {
  if (d.seen & BIT.ctstate) {
    const bits = ctStateBits(ctx.ct);
    if (((d.states & bits) !== 0) === ((d.inv & BIT.ctstate) !== 0)) return explain ? `ctstate ${stateListText(bits, CT_STATES)}` : MISS;
  }
  const ct = realCt(ctx.ct);
  if (!ct) return d.seen & BIT.ctstate ? '' : explain ? 'no conntrack entry' : MISS;
  if (d.seen & BIT.ctdir && (ct.dir === 'REPLY') !== d.reply) return explain ? `ctdir ${ct.dir}` : MISS;
  for (const k of ['origsrc', 'origdst', 'replsrc', 'repldst'] as const) {
    const a = d[k];
    if (!a) continue;
    const [dir, end] = TUPLE_OF[k];
    const v = (dir === 'orig' ? ct.orig : ct.reply)[end];
    if ((((v ^ a.addr) & a.mask) === 0) === ((d.inv & BIT['ct' + k]) !== 0)) return explain ? `ct${k} ${formatIPv4(v)}` : MISS;
  }
  if (d.seen & BIT.ctproto && (ct.orig.proto === d.proto) === ((d.inv & BIT.ctproto) !== 0)) return explain ? `ctproto ${ct.orig.proto}` : MISS;
  for (const k of ['origsrcport', 'origdstport', 'replsrcport', 'repldstport'] as const) {
    const r = d[k];
    if (!r) continue;
    const [dir, end] = TUPLE_OF[k];
    const t = dir === 'orig' ? ct.orig : ct.reply;
    const p = end === 'src' ? t.sport : t.dport;
    if ((p >= r[0] && p <= r[1]) === ((d.inv & BIT['ct' + k]) !== 0)) return explain ? `ct${k} ${p}` : MISS;
  }
  if (d.seen & BIT.ctstatus) {
    let bits = 0;
    for (const [n, b] of CT_STATUS) if (ct.status.has(n as never)) bits |= b;
    if (((d.status & bits) !== 0) === ((d.inv & BIT.ctstatus) !== 0)) return explain ? `ctstatus ${bits ? stateListText(bits, CT_STATUS) : 'NONE'}` : MISS;
  }
  if (d.seen & BIT.ctexpire) {
    const e = ct.expires;
    if ((e >= d.expires[0] && e <= d.expires[1]) === ((d.inv & BIT.ctexpire) !== 0)) return explain ? `ctexpire ${e}` : MISS;
  }
  return '';
}

export const conntrackMatch: MatchModule<ConntrackData> = {
  kind: 'match',
  name: EXT,
  options: {
    ctstate: 1, ctproto: 1, ctorigsrc: 1, ctorigdst: 1, ctreplsrc: 1, ctrepldst: 1, ctstatus: 1, ctexpire: 1,
    ctorigsrcport: 1, ctorigdstport: 1, ctreplsrcport: 1, ctrepldstport: 1, ctdir: 1,
  },
  invertible: [
    'ctstate', 'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'ctstatus', 'ctexpire',
    'ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport',
  ],
  create: () => ({ seen: 0, inv: 0, states: 0, proto: 0, status: 0, expires: [0, 0], reply: false }),
  parse(d, opt, args, invert) {
    const bit = BIT[opt];
    if (d.seen & bit) throw xterr.once(EXT, opt);
    d.seen |= bit;
    if (invert) d.inv |= bit;
    const a = args[0];
    switch (opt) {
      case 'ctstate':
        d.states = parseStateList(a, ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'], CT_STATES, 'ctstate');
        break;
      case 'ctstatus':
        d.status = parseStateList(a, ['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'], CT_STATUS, 'ctstatus');
        break;
      case 'ctproto': {
        const p = strtoui(a, 0, 255) ?? protoByName(a);
        if (p === undefined) throw new IptablesError(`unknown protocol "${a}" specified`, 2);
        if (p === 0 && invert) throw new IptablesError('conntrack: rule would never match protocol', 2);
        d.proto = p;
        break;
      }
      case 'ctorigsrc':
      case 'ctorigdst':
      case 'ctreplsrc':
      case 'ctrepldst':
        d[opt.slice(2) as AddrKey] = parseHostMask(a, opt);
        break;
      case 'ctorigsrcport':
      case 'ctorigdstport':
      case 'ctreplsrcport':
      case 'ctrepldstport':
        d[opt.slice(2) as PortKey] = parsePortRangeX6(a, EXT, opt);
        break;
      case 'ctexpire':
        d.expires = parseExpire(a);
        break;
      case 'ctdir': {
        const up = a.toUpperCase();
        if (up !== 'ORIGINAL' && up !== 'REPLY') {
          throw new IptablesError(`${EXT}: Bad value for "--ctdir" option: "${a}"`, 2);
        }
        d.reply = up === 'REPLY';
        break;
      }
    }
  },
  finish(d) {
    if (d.seen === 0) throw new IptablesError('conntrack: At least one option is required', 2);
  },
  save: (d) => dump(d, '--', true),
  list: (d, numeric) => dump(d, '', numeric),
  match: (d, ctx) => firstMiss(d, ctx, false) === '',
  why: (d, ctx) => firstMiss(d, ctx, true),
};
