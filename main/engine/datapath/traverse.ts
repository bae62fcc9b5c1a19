// Walks one table's built-in chain for one packet as the kernel's ipt_do_table does: rules in
// order, first match takes its target, jumps push a return point, goto replaces the frame,
// RETURN pops, the end of a user chain returns, the end of a built-in chain applies its
// policy. Every evaluated rule becomes a step; runs of rules the index proves cannot match
// become one `skipped` step whose reasons are computed only when asked (explain.ts).

import { formatIPv4, maskOf } from '../net/ipv4.ts';
import { MATCHES } from '../netfilter/matches/index.ts';
import type { IndexCache } from '../netfilter/rule-index.ts';
import { TARGETS } from '../netfilter/targets/index.ts';
import type { Chain, Hook, MatchCtx, NatRequest, Packet, Rule, Table, TableName, TargetCtx } from '../netfilter/types.ts';

/** The state a step was evaluated against, shared by consecutive steps until it changes. */
export interface Snapshot {
  pkt: Packet;
  inIface?: string;
  outIface?: string;
  ct: MatchCtx['ct'];
}

export function copyPacket(p: Packet): Packet {
  const c: Packet = {
    src: p.src, dst: p.dst, proto: p.proto, sport: p.sport, dport: p.dport, tcpFlags: p.tcpFlags,
    icmpType: p.icmpType, icmpCode: p.icmpCode, icmpId: p.icmpId, ttl: p.ttl, len: p.len, mark: p.mark,
  };
  if (p.inner) c.inner = p.inner;
  if (p.srcMac !== undefined) c.srcMac = p.srcMac;
  if (p.sctpChunks) c.sctpChunks = p.sctpChunks;
  return c;
}

export interface RuleStep {
  host: string;
  hook: Hook;
  table: TableName;
  chain: string;
  /** 1-based position, or null for a policy / implicit return. */
  rule: number | null;
  ruleObj: Rule | null;
  matched: boolean;
  /** Target taken (ACCEPT, DROP, a chain name, DNAT, …), the policy, RETURN; null on a miss. */
  verdict: string | null;
  /** Index of the first failing test on a miss: -1 = a core field, n = matches[n]. */
  failedAt?: number;
  /** Present on a folded run of rules the index skipped (positions from..from+skipped-1). */
  skipped?: number;
  from?: number;
  /** Chain call depth (0 = the built-in chain). */
  depth: number;
  snap: Snapshot;
}

export type TableVerdict =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'reject'; with: string; tcpReset: boolean }
  | { kind: 'nat'; nat: NatRequest; target: string };

export interface TraverseEnv {
  host: string;
  hook: Hook;
  table: Table;
  generation: number;
  index: IndexCache;
  /** The mutable match context (pkt.mark may change under MARK). */
  ctx: MatchCtx;
  steps: RuleStep[];
  log: (line: string) => void;
  onNotrack: () => void;
  onTrace: () => void;
  /** Step budget, to stop runaway loops (the kernel refuses loops at load). */
  maxSteps: number;
  /** Whether the built-in chain's policy has a counter (iptables-nft: only when it was set). */
  countPolicy?: boolean;
}

function ifaceMatches(spec: { name: string; neg: boolean }, dev: string | undefined): boolean {
  const name = dev ?? '';
  const hit = spec.name.endsWith('+') ? name.startsWith(spec.name.slice(0, -1)) : name === spec.name;
  return hit !== spec.neg;
}

/** Whether every core field (-s -d -i -o -p -f) of the rule matches. */
export function coreMatches(r: Rule, ctx: MatchCtx): boolean {
  const p = ctx.pkt;
  if (r.src && (((p.src & maskOf(r.src.len)) >>> 0) === r.src.addr >>> 0) === r.src.neg) return false;
  if (r.dst && (((p.dst & maskOf(r.dst.len)) >>> 0) === r.dst.addr >>> 0) === r.dst.neg) return false;
  if (r.inIface && !ifaceMatches(r.inIface, ctx.inIface)) return false;
  if (r.outIface && !ifaceMatches(r.outIface, ctx.outIface)) return false;
  if (r.proto && r.proto.num !== 0 && (p.proto === r.proto.num) === r.proto.neg) return false;
  if (r.fragment && !r.fragment.neg) return false; // the lab never fragments
  return true;
}

/** Why a core field failed, in the debugger's short words. */
export function whyCore(r: Rule, s: Snapshot): string {
  const p = s.pkt;
  const pfx = (a: { addr: number; len: number }) => `${formatIPv4(a.addr)}/${a.len}`;
  if (r.src && (((p.src & maskOf(r.src.len)) >>> 0) === r.src.addr >>> 0) === r.src.neg)
    return r.src.neg ? `src ${formatIPv4(p.src)} in ${pfx(r.src)}` : `src ${formatIPv4(p.src)} not in ${pfx(r.src)}`;
  if (r.dst && (((p.dst & maskOf(r.dst.len)) >>> 0) === r.dst.addr >>> 0) === r.dst.neg)
    return r.dst.neg ? `dst ${formatIPv4(p.dst)} in ${pfx(r.dst)}` : `dst ${formatIPv4(p.dst)} not in ${pfx(r.dst)}`;
  if (r.inIface && !ifaceMatches(r.inIface, s.inIface)) return `in ${s.inIface ?? '(none)'} ${r.inIface.neg ? '=' : '≠'} ${r.inIface.name}`;
  if (r.outIface && !ifaceMatches(r.outIface, s.outIface)) return `out ${s.outIface ?? '(none)'} ${r.outIface.neg ? '=' : '≠'} ${r.outIface.name}`;
  if (r.proto && r.proto.num !== 0 && (p.proto === r.proto.num) === r.proto.neg) return `proto ${p.proto} ${r.proto.neg ? '=' : '≠'} ${r.proto.num}`;
  if (r.fragment && !r.fragment.neg) return 'not a fragment';
  return '';
}

const STANDARD = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

interface Frame {
  chain: Chain;
  pos: number; // next candidate position (0-based rule index)
  cands: number[] | null; // from the index, or null = linear
  ci: number; // cursor into cands
  depth: number;
}

// The walk's helpers are plain functions, not closures made per call: under tsx (esbuild's
// keepNames) every closure made is also renamed with Object.defineProperty, which cost more
// than the rest of a table's walk.

function openFrame(env: TraverseEnv, chain: Chain, depth: number): Frame {
  const idx = env.index.get(chain, env.generation);
  return { chain, pos: 0, cands: idx ? idx.candidates(env.ctx.pkt) : null, ci: 0, depth };
}

function snapshot(ctx: MatchCtx, copyCt: boolean): Snapshot {
  // (object spread is slow on V8's clone path: hot-path objects are written out in full)
  return { pkt: copyPacket(ctx.pkt), inIface: ctx.inIface, outIface: ctx.outIface, ct: copyCt && ctx.ct ? { ...ctx.ct } : ctx.ct };
}

function step(env: TraverseEnv, snap: Snapshot, chain: string, rule: number | null, ruleObj: Rule | null, matched: boolean, verdict: string | null, depth: number): RuleStep {
  return { host: env.host, hook: env.hook, table: env.table.name, chain, rule, ruleObj, matched, verdict, depth, snap };
}

/**
 * Counter changes while a trace that must leave no trace is running (`depth` > 0): each entry
 * is (rule or chain, packets before, bytes before), so a lab can put back only what a walk
 * touched instead of copying every counter of every host first.
 */
export const counterUndo: { depth: number; log: (Rule | Chain | number)[] } = { depth: 0, log: [] };

/** Puts counters back to how they were when the log had `mark` entries. */
export function undoCounters(mark: number): void {
  const log = counterUndo.log;
  for (let i = log.length - 3; i >= mark; i -= 3) {
    const o = log[i] as Rule | Chain;
    o.packets = log[i + 1] as number;
    o.bytes = log[i + 2] as number;
  }
  log.length = mark;
}

/** The built-in chain's policy ends the walk when it runs out of rules, RETURNs from its
 *  own level, or a chain reached by goto runs out with nothing on the stack. */
function policy(env: TraverseEnv, snap: Snapshot, start: Chain): TableVerdict {
  const pol = start.policy ?? 'ACCEPT';
  if (env.countPolicy) {
    if (counterUndo.depth) counterUndo.log.push(start, start.packets, start.bytes);
    start.packets++;
    start.bytes += env.ctx.pkt.len;
  }
  env.steps.push(step(env, snap, start.name, null, null, true, pol, 0));
  return pol === 'DROP' ? DROP : ACCEPT;
}

// Verdicts without data, shared (callers only read them).
const ACCEPT: TableVerdict = { kind: 'accept' };
const DROP: TableVerdict = { kind: 'drop' };

/** The index of the rule's first match module that fails, or undefined when all match. */
function failingMatch(rule: Rule, ctx: MatchCtx): number | undefined {
  const ms = rule.matches;
  for (let m = 0; m < ms.length; m++) {
    const spec = ms[m];
    const mod = MATCHES.get(spec.module);
    if (!mod || !mod.match(spec.data, ctx)) return m;
  }
  return undefined;
}

export function traverse(env: TraverseEnv, builtin: string): TableVerdict {
  const { table, ctx, steps } = env;
  const start = table.chains.get(builtin);
  if (!start) return ACCEPT;
  let snap = snapshot(ctx, false);
  const stack: Frame[] = [];
  let f = openFrame(env, start, 0);
  let budget = env.maxSteps;

  for (;;) {
    // next rule position
    let pos: number;
    const rules = f.chain.rules;
    const cands = f.cands;
    if (cands) {
      pos = f.ci < cands.length ? cands[f.ci] : rules.length;
      // cands are absolute positions; skip ones already passed (after a RETURN we resume at f.pos)
      while (pos < f.pos && f.ci < cands.length) pos = ++f.ci < cands.length ? cands[f.ci] : rules.length;
      if (pos > f.pos) {
        const s = step(env, snap, f.chain.name, null, null, false, null, f.depth);
        s.skipped = pos - f.pos;
        s.from = f.pos + 1;
        steps.push(s);
      }
      f.ci++;
    } else pos = f.pos;

    if (pos >= rules.length) {
      // end of chain
      if (f.depth === 0) return policy(env, snap, start);
      steps.push(step(env, snap, f.chain.name, null, null, true, 'RETURN', f.depth));
      const back = stack.pop();
      if (!back) return policy(env, snap, start);
      f = back;
      continue;
    }
    f.pos = pos + 1;
    if (--budget < 0) return DROP;

    const rule = rules[pos];
    ctx.rule = rule;
    const failedAt = coreMatches(rule, ctx) ? failingMatch(rule, ctx) : -1; // -1: a core field
    if (failedAt !== undefined) {
      const s = step(env, snap, f.chain.name, pos + 1, rule, false, null, f.depth);
      s.failedAt = failedAt;
      steps.push(s);
      continue;
    }
    if (counterUndo.depth) counterUndo.log.push(rule, rule.packets, rule.bytes);
    rule.packets++;
    rule.bytes += ctx.pkt.len;
    const t = rule.target;
    steps.push(step(env, snap, f.chain.name, pos + 1, rule, true, t ? t.name : null, f.depth));
    if (!t) continue;
    if (STANDARD.has(t.name)) {
      if (t.name === 'ACCEPT') return ACCEPT;
      if (t.name === 'DROP') return DROP;
      if (t.name === 'QUEUE') return DROP; // no userspace queue reader in the lab
      // RETURN
      if (f.depth === 0) return policy(env, snap, start);
      const back = stack.pop();
      if (!back) return policy(env, snap, start);
      f = back;
      continue;
    }
    const mod = TARGETS.get(t.name);
    if (!mod) {
      const next = table.chains.get(t.name);
      if (!next) return DROP; // cannot happen: the ruleset refuses dangling jumps
      if (!t.goto) stack.push(f);
      f = openFrame(env, next, t.goto && f.depth > 0 ? f.depth : f.depth + 1);
      continue;
    }
    const tctx = ctx as TargetCtx;
    tctx.log = env.log;
    const before = ctx.pkt.mark;
    const ctMarkBefore = ctx.ct?.mark;
    const res = mod.apply(t.data, tctx);
    if (ctx.pkt.mark !== before || ctx.ct?.mark !== ctMarkBefore) snap = snapshot(ctx, true);
    switch (res.kind) {
      case 'continue':
        continue;
      case 'notrack':
        env.onNotrack();
        continue;
      case 'trace':
        env.onTrace();
        continue;
      case 'accept':
        return ACCEPT;
      case 'drop':
        return DROP;
      case 'reject':
        return { kind: 'reject', with: res.with, tcpReset: res.tcpReset };
      case 'nat':
        return { kind: 'nat', nat: res.nat, target: t.name };
      case 'return': {
        if (f.depth === 0) return policy(env, snap, start);
        const back = stack.pop();
        if (!back) return policy(env, snap, start);
        f = back;
        continue;
      }
      case 'jump':
      case 'goto': {
        const next = table.chains.get(res.chain);
        if (!next) return DROP;
        if (res.kind === 'jump') stack.push(f);
        f = openFrame(env, next, f.depth + 1);
        continue;
      }
    }
  }
}
