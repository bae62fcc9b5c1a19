// Rules compiled for the walk: each rule's tests become one function made once per rule (and
// ruleset generation), so evaluating it looks up no module by name and reads no option record.
// The compiled tests are the modules' own `match` tests with their options read in advance:
// a compiled rule and the modules must always agree (test/engine/datapath/compile.test.ts).

import { maskOf } from '../../net/ipv4.ts';
import { ifaceTest } from '../iface-name.ts';
import type { MatchCtx, MatchSpec, Rule } from '../types.ts';
import type { ConntrackData } from './conntrack.ts';
import { ctStateBits } from './conntrack.ts';
import { MATCHES } from './index.ts';
import type { MarkMatchData } from './mark.ts';
import type { PortRange } from './portrange.ts';
import { setTestOptions, type SetMatchData } from './set.ts';
import type { TcpData } from './tcp.ts';
import type { UdpData } from './udp.ts';

export type MatchFn = (ctx: MatchCtx) => boolean;

/** A rule's verdict on a packet: PASS, CORE (a core field -s -d -i -o -p -f failed) or the
 *  index of the first failing match module. */
export type RuleTest = (ctx: MatchCtx) => number;
export const PASS = -2;
export const CORE = -1;

const always: MatchFn = () => true;
const never: MatchFn = () => false;

/** A rule's core fields (-s -d -i -o -p -f) read once, for the tests written out below. */
function coreFields(r: Rule) {
  const s = r.src, d = r.dst;
  return {
    s, d,
    sm: s ? maskOf(s.len) : 0, sa: s ? s.addr >>> 0 : 0, sn: s ? s.neg : false,
    dm: d ? maskOf(d.len) : 0, da: d ? d.addr >>> 0 : 0, dn: d ? d.neg : false,
    inT: r.inIface ? ifaceTest(r.inIface) : null,
    outT: r.outIface ? ifaceTest(r.outIface) : null,
    proto: r.proto && r.proto.num !== 0 ? r.proto.num : -1, pn: r.proto ? r.proto.neg : false,
    /** -f: the lab never fragments. */
    fragmentOnly: r.fragment !== undefined && !r.fragment.neg,
  };
}

/** The core fields as one test, or null when the rule has none that can fail. */
function compileCore(r: Rule): MatchFn | null {
  const { s, d, sm, sa, sn, dm, da, dn, inT, outT, proto, pn, fragmentOnly } = coreFields(r);
  if (fragmentOnly) return never;
  if (!s && !d && !inT && !outT && proto < 0) return null;
  return (ctx) => {
    const p = ctx.pkt;
    if (s && (((p.src & sm) >>> 0) === sa) === sn) return false;
    if (d && (((p.dst & dm) >>> 0) === da) === dn) return false;
    if (inT && !inT(ctx.inIface)) return false;
    if (outT && !outT(ctx.outIface)) return false;
    if (proto >= 0 && (p.proto === proto) === pn) return false;
    return true;
  };
}

function rangeTest(r: PortRange | undefined, inv: boolean): (port: number) => boolean {
  if (!r) return inv ? () => false : () => true; // inRange(undefined) is true
  const lo = r[0], hi = r[1];
  return (port) => (port >= lo && port <= hi) !== inv;
}

// Module by module: the tests the walk meets on every packet (kube-proxy's and Calico's rules),
// written out; every other module is called through its `match`.
const COMPILERS: Record<string, (data: never) => MatchFn> = {
  comment: () => always,
  mark: (d: MarkMatchData) => {
    const mask = d.mask, value = d.value, inv = d.inv;
    return (ctx) => (((ctx.pkt.mark & mask) >>> 0) === value) !== inv;
  },
  tcp: (d: TcpData) => {
    if (d.option || d.optInv) return (ctx) => MATCHES.get('tcp')!.match(d, ctx);
    const sp = rangeTest(d.spts, d.sinv), dp = rangeTest(d.dpts, d.dinv);
    const fm = d.flagMask, fc = d.flagCmp, fi = d.flagInv;
    return (ctx) => {
      const p = ctx.pkt;
      return p.proto === 6 && sp(p.sport) && dp(p.dport) && ((p.tcpFlags & fm) === fc) !== fi;
    };
  },
  udp: (d: UdpData) => {
    const sp = rangeTest(d.spts, d.sinv), dp = rangeTest(d.dpts, d.dinv);
    return (ctx) => {
      const p = ctx.pkt;
      return p.proto === 17 && sp(p.sport) && dp(p.dport);
    };
  },
  conntrack: (d: ConntrackData) => {
    // `--ctstate` alone (what kube-proxy and Calico write): only the state bits count.
    if (d.seen !== CTSTATE_BIT) return (ctx) => MATCHES.get('conntrack')!.match(d, ctx);
    const states = d.states, inv = (d.inv & CTSTATE_BIT) !== 0;
    return (ctx) => ((states & ctStateBits(ctx.ct)) !== 0) !== inv;
  },
  set: (d: SetMatchData) => {
    const name = d.name, dirs = d.dirs, inv = d.invert, opts = setTestOptions(d);
    return (ctx) => (ctx.host.ipsetTest(name, ctx.pkt, dirs, opts) === true) !== inv;
  },
};

/** conntrack's BIT.ctstate (the first option bit). */
const CTSTATE_BIT = 1;

/** One match module's test, or null when it always matches. */
export function compileMatch(spec: MatchSpec): MatchFn | null {
  const mod = MATCHES.get(spec.module);
  if (!mod) return never;
  const c = COMPILERS[spec.module];
  if (c) {
    const fn = c(spec.data as never);
    return fn === always ? null : fn;
  }
  const data = spec.data;
  return (ctx) => mod.match(data, ctx);
}

/** The rule test of a rule with core fields and no match module that can fail: the core
 *  checks written out (one call per rule instead of two). */
function coreOnlyTest(r: Rule): RuleTest {
  const { s, d, sm, sa, sn, dm, da, dn, inT, outT, proto, pn, fragmentOnly } = coreFields(r);
  if (fragmentOnly) return () => CORE;
  return (ctx) => {
    const p = ctx.pkt;
    if (s && (((p.src & sm) >>> 0) === sa) === sn) return CORE;
    if (d && (((p.dst & dm) >>> 0) === da) === dn) return CORE;
    if (inT && !inT(ctx.inIface)) return CORE;
    if (outT && !outT(ctx.outIface)) return CORE;
    if (proto >= 0 && (p.proto === proto) === pn) return CORE;
    return PASS;
  };
}

/** The rule test of a rule whose one test is a match module the walk meets on every packet
 *  (mark, conntrack's --ctstate), written out; null for any other. */
function singleMatchTest(spec: MatchSpec, i0: number): RuleTest | null {
  if (spec.module === 'mark') {
    const d = spec.data as MarkMatchData;
    const mask = d.mask, value = d.value, inv = d.inv;
    return (ctx) => ((((ctx.pkt.mark & mask) >>> 0) === value) !== inv ? PASS : i0);
  }
  if (spec.module === 'conntrack') {
    const d = spec.data as ConntrackData;
    if (d.seen !== CTSTATE_BIT) return null;
    const states = d.states, inv = (d.inv & CTSTATE_BIT) !== 0;
    return (ctx) => (((states & ctStateBits(ctx.ct)) !== 0) !== inv ? PASS : i0);
  }
  return null;
}

/** The rule's tests in the kernel's order: core fields, then each match module. */
export function compileRule(r: Rule): RuleTest {
  const core = compileCore(r);
  const fns: (MatchFn | null)[] = r.matches.map(compileMatch);
  const idx: number[] = [];
  const live: MatchFn[] = [];
  fns.forEach((f, i) => {
    if (f) {
      idx.push(i);
      live.push(f);
    }
  });
  // Specialised for the common lengths: a loop over one or two tests costs more than the tests.
  if (live.length === 0) return core ? (core === never ? () => CORE : coreOnlyTest(r)) : () => PASS;
  if (live.length === 1) {
    const f0 = live[0], i0 = idx[0];
    if (!core && MATCHES.has(r.matches[i0].module)) {
      const t = singleMatchTest(r.matches[i0], i0);
      if (t) return t;
    }
    return core ? (ctx) => (!core(ctx) ? CORE : f0(ctx) ? PASS : i0) : (ctx) => (f0(ctx) ? PASS : i0);
  }
  if (live.length === 2) {
    const f0 = live[0], i0 = idx[0], f1 = live[1], i1 = idx[1];
    return (ctx) => (core && !core(ctx) ? CORE : !f0(ctx) ? i0 : !f1(ctx) ? i1 : PASS);
  }
  return (ctx) => {
    if (core && !core(ctx)) return CORE;
    for (let k = 0; k < live.length; k++) if (!live[k](ctx)) return idx[k];
    return PASS;
  };
}
