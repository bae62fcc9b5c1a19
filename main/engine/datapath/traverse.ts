// Walks one table's built-in chain for one packet as the kernel's ipt_do_table does: rules in
// order, first match takes its target, jumps push a return point, goto replaces the frame,
// RETURN pops, the end of a user chain returns, the end of a built-in chain applies its
// policy. Every evaluated rule becomes a step; runs of rules the index proves cannot match
// become one `skipped` step whose reasons are computed only when asked (explain.ts).

import { formatIPv4, maskOf } from '../net/ipv4.ts';
import { compileRule, PASS, type RuleTest } from '../netfilter/matches/compile.ts';
import type { IndexCache } from '../netfilter/rule-index.ts';
import { TARGETS } from '../netfilter/targets/index.ts';
import type { Chain, Hook, MatchCtx, NatRequest, Packet, Rule, Table, TableName, TargetCtx, TargetModule } from '../netfilter/types.ts';

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

/** One evaluated rule (or a policy, an implicit return, a folded run of skipped rules). A
 *  class so every step has one shape: a walk makes hundreds. */
export class RuleStep {
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
  failedAt?: number = undefined;
  /** Present on a folded run of rules the index skipped (positions from..from+skipped-1). */
  skipped?: number = undefined;
  from?: number = undefined;
  /** Chain call depth (0 = the built-in chain). */
  depth: number;
  snap: Snapshot;

  constructor(host: string, hook: Hook, table: TableName, chain: string, rule: number | null, ruleObj: Rule | null, matched: boolean, verdict: string | null, depth: number, snap: Snapshot) {
    this.host = host;
    this.hook = hook;
    this.table = table;
    this.chain = chain;
    this.rule = rule;
    this.ruleObj = ruleObj;
    this.matched = matched;
    this.verdict = verdict;
    this.depth = depth;
    this.snap = snap;
  }
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
  /** false: a probe whose effects are undone right after (the connectivity matrix). No steps
   *  are recorded but the one a non-ACCEPT verdict came from, and no counters are kept. */
  record?: boolean;
  /** The snapshot the last steps shared: the next table's steps share it too while the packet,
   *  its interfaces and its conntrack view are unchanged (the walk keeps one env per packet). */
  snap?: Snapshot;
}

/** Whether a snapshot still describes the context (same packet fields, devices, view). */
function stillSame(s: Snapshot, ctx: MatchCtx): boolean {
  const a = s.pkt, b = ctx.pkt;
  return (
    s.ct === ctx.ct && s.inIface === ctx.inIface && s.outIface === ctx.outIface &&
    a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport &&
    a.tcpFlags === b.tcpFlags && a.icmpType === b.icmpType && a.icmpCode === b.icmpCode && a.icmpId === b.icmpId &&
    a.ttl === b.ttl && a.len === b.len && a.mark === b.mark && a.inner === b.inner && a.srcMac === b.srcMac && a.sctpChunks === b.sctpChunks
  );
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

// What a rule's target does, decided once per rule (RulePlan.kind).
const T_NONE = 0; // no target: a counting rule
const T_ACCEPT = 1;
const T_DROP = 2;
const T_QUEUE = 3;
const T_RETURN = 4;
const T_MODULE = 5; // a target module (MARK, DNAT, REJECT, …)
const T_CHAIN = 6; // a jump or goto
const T_DANGLING = 7; // a jump to no chain (cannot happen: the ruleset refuses dangling jumps)

/** A rule as the walk runs it, made on its first evaluation in a ruleset generation. */
interface RulePlan {
  rule: Rule;
  test: RuleTest;
  kind: number;
  /** The target's name (the step's verdict when the rule matches). */
  name: string | null;
  mod: TargetModule | undefined;
  next: Chain | undefined;
}

function planRule(rule: Rule, table: Table): RulePlan {
  const t = rule.target;
  const plan: RulePlan = { rule, test: compileRule(rule), kind: T_NONE, name: t ? t.name : null, mod: undefined, next: undefined };
  if (!t) return plan;
  if (t.name === 'ACCEPT') plan.kind = T_ACCEPT;
  else if (t.name === 'DROP') plan.kind = T_DROP;
  else if (t.name === 'QUEUE') plan.kind = T_QUEUE;
  else if (t.name === 'RETURN') plan.kind = T_RETURN;
  else if ((plan.mod = TARGETS.get(t.name))) plan.kind = T_MODULE;
  else {
    plan.next = table.chains.get(t.name);
    plan.kind = plan.next ? T_CHAIN : T_DANGLING;
  }
  return plan;
}

interface Frame {
  chain: Chain;
  plans: (RulePlan | undefined)[];
  pos: number; // next candidate position (0-based rule index)
  cands: number[] | null; // from the index, or null = linear
  ci: number; // cursor into cands
  depth: number;
}

// The walk's helpers are plain functions, not closures made per call: under tsx (esbuild's
// keepNames) every closure made is also renamed with Object.defineProperty, which cost more
// than the rest of a table's walk.

function openFrame(env: TraverseEnv, chain: Chain, depth: number): Frame {
  const plan = env.index.plan(chain, env.generation);
  const idx = plan.index;
  return { chain, plans: plan.rules as (RulePlan | undefined)[], pos: 0, cands: idx ? idx.candidates(env.ctx.pkt) : null, ci: 0, depth };
}

function snapshot(ctx: MatchCtx, copyCt: boolean): Snapshot {
  // (object spread is slow on V8's clone path: hot-path objects are written out in full)
  const ct = ctx.ct;
  return {
    pkt: copyPacket(ctx.pkt),
    inIface: ctx.inIface,
    outIface: ctx.outIface,
    ct: copyCt && ct ? { state: ct.state, dir: ct.dir, orig: ct.orig, reply: ct.reply, status: ct.status, mark: ct.mark, expires: ct.expires } : ct,
  };
}

/** The snapshot for the steps about to be made: the env's last one while it still holds. */
function currentSnap(env: TraverseEnv): Snapshot {
  const s = env.snap;
  if (s && stillSame(s, env.ctx)) return s;
  return (env.snap = snapshot(env.ctx, false));
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

function count(o: Rule | Chain, len: number): void {
  if (counterUndo.depth) counterUndo.log.push(o, o.packets, o.bytes);
  o.packets++;
  o.bytes += len;
}

// Verdicts without data, shared (callers only read them).
const ACCEPT: TableVerdict = { kind: 'accept' };
const DROP: TableVerdict = { kind: 'drop' };

/**
 * One walk of a built-in chain in progress: what its steps share. Steps go to `env.steps`;
 * without recording (`env.record` false) the last step lives in one reused record, `last`,
 * and only the step a DROP, REJECT or NAT verdict came from is kept (the walk's reason names
 * it). A class, not closures: see above.
 */
class Run {
  readonly host: string;
  readonly hook: Hook;
  readonly table: TableName;
  readonly steps: RuleStep[];
  snap: Snapshot;
  readonly last: RuleStep | null;

  constructor(readonly env: TraverseEnv, readonly start: Chain) {
    this.host = env.host;
    this.hook = env.hook;
    this.table = env.table.name;
    this.steps = env.steps;
    const rec = env.record !== false;
    this.snap = rec ? currentSnap(env) : UNUSED;
    this.last = rec ? null : new RuleStep(this.host, this.hook, this.table, '', null, null, false, null, 0, UNUSED);
  }

  put(chain: string, rule: number | null, ruleObj: Rule | null, matched: boolean, verdict: string | null, depth: number): RuleStep {
    const last = this.last;
    if (last) {
      last.chain = chain;
      last.rule = rule;
      last.ruleObj = ruleObj;
      last.matched = matched;
      last.verdict = verdict;
      last.depth = depth;
      last.failedAt = last.skipped = last.from = undefined;
      return last;
    }
    const s = new RuleStep(this.host, this.hook, this.table, chain, rule, ruleObj, matched, verdict, depth, this.snap);
    this.steps.push(s);
    return s;
  }

  /** The walk's verdict; a non-ACCEPT one keeps its step when not recording. */
  end(v: TableVerdict): TableVerdict {
    const last = this.last;
    if (last && v !== ACCEPT) {
      const s = new RuleStep(this.host, this.hook, this.table, last.chain, last.rule, last.ruleObj, last.matched, last.verdict, last.depth, snapshot(this.env.ctx, false));
      s.failedAt = last.failedAt;
      s.skipped = last.skipped;
      s.from = last.from;
      this.steps.push(s);
    }
    return v;
  }

  /** The built-in chain's policy ends the walk when it runs out of rules, RETURNs from its
   *  own level, or a chain reached by goto runs out with nothing on the stack. */
  policy(): TableVerdict {
    const start = this.start;
    const pol = start.policy ?? 'ACCEPT';
    if (this.env.countPolicy && !this.last) count(start, this.env.ctx.pkt.len);
    this.put(start.name, null, null, true, pol, 0);
    return this.end(pol === 'DROP' ? DROP : ACCEPT);
  }
}

/** The snapshot of steps that are never kept (the reused record of a non-recording walk). */
const UNUSED = null as unknown as Snapshot;

export function traverse(env: TraverseEnv, builtin: string): TableVerdict {
  const table = env.table;
  const ctx = env.ctx;
  const start = table.chains.get(builtin);
  if (!start) return ACCEPT;
  const run = new Run(env, start);
  const rec = run.last === null;
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
        const s = run.put(f.chain.name, null, null, false, null, f.depth);
        s.skipped = pos - f.pos;
        s.from = f.pos + 1;
      }
      f.ci++;
    } else pos = f.pos;

    if (pos >= rules.length) {
      // end of chain
      if (f.depth === 0) return run.policy();
      run.put(f.chain.name, null, null, true, 'RETURN', f.depth);
      const back = stack.pop();
      if (!back) return run.policy();
      f = back;
      continue;
    }
    f.pos = pos + 1;
    if (--budget < 0) return run.end(DROP);

    const rule = rules[pos];
    let plan = f.plans[pos];
    if (!plan || plan.rule !== rule) plan = f.plans[pos] = planRule(rule, table);
    ctx.rule = rule;
    const failedAt = plan.test(ctx);
    if (failedAt !== PASS) {
      run.put(f.chain.name, pos + 1, rule, false, null, f.depth).failedAt = failedAt;
      continue;
    }
    if (rec) count(rule, ctx.pkt.len);
    run.put(f.chain.name, pos + 1, rule, true, plan.name, f.depth);
    switch (plan.kind) {
      case T_NONE:
        continue;
      case T_ACCEPT:
        return ACCEPT;
      case T_DROP:
      case T_QUEUE: // no userspace queue reader in the lab
        return run.end(DROP);
      case T_RETURN: {
        if (f.depth === 0) return run.policy();
        const back = stack.pop();
        if (!back) return run.policy();
        f = back;
        continue;
      }
      case T_CHAIN: {
        const goto = rule.target!.goto;
        if (!goto) stack.push(f);
        f = openFrame(env, plan.next!, goto && f.depth > 0 ? f.depth : f.depth + 1);
        continue;
      }
      case T_DANGLING:
        return run.end(DROP);
    }
    const tctx = ctx as TargetCtx;
    tctx.log = env.log;
    const before = ctx.pkt.mark;
    const ctMarkBefore = ctx.ct?.mark;
    const res = plan.mod!.apply(rule.target!.data, tctx);
    if (rec && (ctx.pkt.mark !== before || ctx.ct?.mark !== ctMarkBefore)) run.snap = env.snap = snapshot(ctx, true);
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
        return run.end(DROP);
      case 'reject':
        return run.end({ kind: 'reject', with: res.with, tcpReset: res.tcpReset });
      case 'nat':
        return run.end({ kind: 'nat', nat: res.nat, target: plan.name! });
      case 'return': {
        if (f.depth === 0) return run.policy();
        const back = stack.pop();
        if (!back) return run.policy();
        f = back;
        continue;
      }
      case 'jump':
      case 'goto': {
        const next = table.chains.get(res.chain);
        if (!next) return run.end(DROP);
        if (res.kind === 'jump') stack.push(f);
        f = openFrame(env, next, f.depth + 1);
        continue;
      }
    }
  }
}
