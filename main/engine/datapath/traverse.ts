// Walks one table's built-in chain for one packet as the kernel's ipt_do_table does: rules in
// order, first match takes its target, jumps push a return point, goto replaces the frame,
// RETURN pops, the end of a user chain returns, the end of a built-in chain applies its
// policy. Every evaluated rule becomes a step; runs of rules the index proves cannot match
// become one `skipped` step whose reasons are computed only when asked (explain.ts).

import { formatIPv4, maskOf } from '../net/ipv4.ts';
import { compileRule, PASS, type RuleTest } from '../netfilter/matches/compile.ts';
import { ifaceNameMatches } from '../netfilter/iface-name.ts';
import { counterClock } from '../netfilter/counter-clock.ts';
import type { IndexCache } from '../netfilter/rule-index.ts';
import type { NfPort } from './ports.ts';
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
  /** Where steps go: as objects to `steps`, or recorded on `tape`. */
  steps?: RuleStep[];
  tape?: StepTape;
  log: (line: string) => void;
  onNotrack: () => void;
  onTrace: () => void;
  /** Step budget, to stop runaway loops (the kernel refuses loops at load). */
  maxSteps: number;
  /** The host's tables: whether the built-in chain's policy has a counter (iptables-nft: only
   *  when it was set) is asked when a recorded walk reaches the policy. */
  nf?: NfPort;
  /** false: a probe whose effects are undone right after (the connectivity matrix). No steps
   *  are recorded but the one a non-ACCEPT verdict came from, and no counters are kept. */
  record?: boolean;
  /** The snapshot the last steps shared: the next table's steps share it too while the packet,
   *  its interfaces and its conntrack view are unchanged (the walk keeps one env per packet). */
  snap?: Snapshot;
}

/** Whether a snapshot still describes the context (same packet fields, devices, view). */
function stillSame(s: Snapshot, ctx: MatchCtx): boolean {
  return s.ct === ctx.ct && s.inIface === ctx.inIface && s.outIface === ctx.outIface && samePacket(s.pkt, ctx.pkt);
}

/** Whether two packets have the same fields (a copy still describes the packet). */
export function samePacket(a: Packet, b: Packet): boolean {
  return (
    a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport &&
    a.tcpFlags === b.tcpFlags && a.icmpType === b.icmpType && a.icmpCode === b.icmpCode && a.icmpId === b.icmpId &&
    a.ttl === b.ttl && a.len === b.len && a.mark === b.mark && a.inner === b.inner && a.srcMac === b.srcMac && a.sctpChunks === b.sctpChunks
  );
}

function ifaceMatches(spec: { name: string; neg: boolean }, dev: string | undefined): boolean {
  return ifaceNameMatches(spec.name, dev ?? '') !== spec.neg;
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
  /** A jump by goto (-g): no return point is kept. */
  goto: boolean;
}

function planRule(rule: Rule, table: Table): RulePlan {
  const t = rule.target;
  const plan: RulePlan = { rule, test: compileRule(rule), kind: T_NONE, name: t ? t.name : null, mod: undefined, next: undefined, goto: !!t?.goto };
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
  cands: readonly number[] | null; // from the index, or null = linear
  ci: number; // cursor into cands
  depth: number;
}

// The walk's helpers are plain functions, not closures made per call: under tsx (esbuild's
// keepNames) every closure made is also renamed with Object.defineProperty, which cost more
// than the rest of a table's walk.

/** Frames of the table walk in progress, reused from walk to walk: `framesUsed` counts the
 *  ones handed out since it began (a walk never starts inside another: targets do not walk). */
const frames: Frame[] = [];
let framesUsed = 0;

function openFrame(env: TraverseEnv, chain: Chain, depth: number): Frame {
  const plan = env.index.plan(chain, env.generation);
  const idx = plan.index;
  const cands = idx ? idx.candidates(env.ctx.pkt) : null;
  let f = frames[framesUsed];
  if (!f) frames[framesUsed] = f = { chain, plans: plan.rules as (RulePlan | undefined)[], pos: 0, cands, ci: 0, depth };
  else {
    f.chain = chain;
    f.plans = plan.rules as (RulePlan | undefined)[];
    f.pos = 0;
    f.cands = cands;
    f.ci = 0;
    f.depth = depth;
  }
  framesUsed++;
  return f;
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
  counterClock.ticks++;
  const log = counterUndo.log;
  for (let i = log.length - 3; i >= mark; i -= 3) {
    const o = log[i] as Rule | Chain;
    o.packets = log[i + 1] as number;
    o.bytes = log[i + 2] as number;
  }
  log.length = mark;
}

function count(o: Rule | Chain, len: number): void {
  counterClock.ticks++;
  if (counterUndo.depth) {
    const log = counterUndo.log;
    const n = log.length;
    log[n] = o;
    log[n + 1] = o.packets;
    log[n + 2] = o.bytes;
  }
  o.packets++;
  o.bytes += len;
}

// Verdicts without data, shared (callers only read them).
const ACCEPT: TableVerdict = { kind: 'accept' };
const DROP: TableVerdict = { kind: 'drop' };

// What a step is: a rule (hit or miss), a built-in chain's policy, the implicit RETURN at the
// end of a user chain, or a run of rules the index skipped.
const S_RULE = 0;
const S_POLICY = 1;
const S_RETURN = 2;
const S_FOLD = 3;

/**
 * A step from its parts. `ref` is the rule (S_RULE) or the policy (S_POLICY); `pos` the rule's
 * position (S_FOLD: the first skipped); `aux` a miss's failing test + 2 (0: none) or, for
 * S_FOLD, how many rules were skipped.
 */
function makeStep(host: string, hook: Hook, table: TableName, snap: Snapshot, kind: number, matched: boolean, chain: string, pos: number, ref: Rule | string | null, depth: number, aux: number): RuleStep {
  if (kind === S_RULE) {
    const rule = ref as Rule;
    const s = new RuleStep(host, hook, table, chain, pos, rule, matched, matched ? (rule.target ? rule.target.name : null) : null, depth, snap);
    if (aux) s.failedAt = aux - 2;
    return s;
  }
  if (kind === S_FOLD) {
    const s = new RuleStep(host, hook, table, chain, null, null, false, null, depth, snap);
    s.skipped = aux;
    s.from = pos;
    return s;
  }
  return new RuleStep(host, hook, table, chain, null, null, true, kind === S_POLICY ? (ref as string) : 'RETURN', depth, snap);
}

/** Where a packet's steps were taken: host, hook, table and the snapshot they share. */
interface StepPlace {
  host: string;
  hook: Hook;
  table: TableName;
  snap: Snapshot;
}

/**
 * A packet's steps, recorded as numbers and references and made into RuleStep objects only
 * when read: a walk past hundreds of rules records each one, and most traces are looked at
 * for their outcome alone. What a step records never changes afterwards (rules are replaced,
 * never changed in place), so a step made later is the step the walk would have made.
 */
export class StepTape {
  length = 0;
  /** Per step: kind | matched << 3 | depth << 4, position, aux, the chain's name, and the rule,
   *  the policy or null (one array: a step is five pushes). */
  private data: unknown[] = [];
  /** Where steps were taken, and from which step on (`from` ascending). */
  private places: (StepPlace & { from: number })[] = [];
  /** Steps already made, by index (the one a verdict came from is made at once). */
  private made: (RuleStep | undefined)[] = [];

  /** Later steps are taken at this place (host, hook, table, snapshot). */
  at(host: string, hook: Hook, table: TableName, snap: Snapshot): void {
    const p = this.places[this.places.length - 1];
    if (p && p.snap === snap && p.host === host && p.hook === hook && p.table === table) return;
    if (p && p.from === this.length) this.places.pop(); // no step was taken there
    this.places.push({ host, hook, table, snap, from: this.length });
  }

  write(kind: number, matched: boolean, chain: string, pos: number, ref: Rule | string | null, depth: number, aux: number): void {
    // (stores at the end, not one push of five: a push of several values is not inlined)
    const d = this.data;
    const o = 5 * this.length++;
    d[o] = kind | (matched ? 8 : 0) | (depth << 4);
    d[o + 1] = pos;
    d[o + 2] = aux;
    d[o + 3] = chain;
    d[o + 4] = ref;
  }

  /** Step `i` as an object (made once); `k`: the index of its place, if known. */
  step(i: number, k = this.placeOf(i)): RuleStep {
    let s = this.made[i];
    if (!s) {
      const d = this.data;
      const o = 5 * i;
      const p = this.places[k];
      const f = d[o] as number;
      s = this.made[i] = makeStep(p.host, p.hook, p.table, p.snap, f & 7, (f & 8) !== 0, d[o + 3] as string, d[o + 1] as number, d[o + 4] as Rule | string | null, f >> 4, d[o + 2] as number);
    }
    return s;
  }

  private placeOf(i: number): number {
    let k = this.places.length - 1;
    while (this.places[k].from > i) k--;
    return k;
  }

  last(): RuleStep | null {
    return this.length ? this.step(this.length - 1) : null;
  }

  /** Every step as an object. */
  steps(): RuleStep[] {
    const out: RuleStep[] = new Array(this.length);
    const places = this.places;
    let k = 0;
    for (let i = 0; i < this.length; i++) {
      while (k + 1 < places.length && places[k + 1].from <= i) k++;
      out[i] = this.step(i, k);
    }
    return out;
  }
}

/**
 * One walk of a built-in chain in progress: what its steps share. Steps go to `env.tape`, or
 * as objects to `env.steps`; without recording (`env.record` false) the last step is only
 * remembered, and kept only when a DROP, REJECT or NAT verdict came from it (the walk's
 * reason names it). A class, not closures: see above.
 */
class Run {
  readonly host: string;
  readonly hook: Hook;
  readonly table: TableName;
  readonly tape: StepTape | undefined;
  snap: Snapshot;
  readonly rec: boolean;
  // the last step, while not recording
  private lk = 0;
  private lm = false;
  private lc = '';
  private lp = 0;
  private lr: Rule | string | null = null;
  private ld = 0;
  private la = 0;

  constructor(readonly env: TraverseEnv, readonly start: Chain) {
    this.host = env.host;
    this.hook = env.hook;
    this.table = env.table.name;
    this.tape = env.tape;
    this.rec = env.record !== false;
    this.snap = this.rec ? currentSnap(env) : UNUSED;
    if (this.rec) this.tape?.at(this.host, this.hook, this.table, this.snap);
  }

  /** A step (see makeStep for the parts). */
  put(kind: number, matched: boolean, chain: string, pos: number, ref: Rule | string | null, depth: number, aux: number): void {
    if (!this.rec) {
      this.lk = kind;
      this.lm = matched;
      this.lc = chain;
      this.lp = pos;
      this.lr = ref;
      this.ld = depth;
      this.la = aux;
    } else if (this.tape) this.tape.write(kind, matched, chain, pos, ref, depth, aux);
    else this.env.steps!.push(makeStep(this.host, this.hook, this.table, this.snap, kind, matched, chain, pos, ref, depth, aux));
  }

  /** A later snapshot (a MARK changed the packet). */
  resnap(snap: Snapshot): void {
    this.snap = this.env.snap = snap;
    this.tape?.at(this.host, this.hook, this.table, snap);
  }

  /** The walk's verdict; a non-ACCEPT one keeps its step when not recording. */
  end(v: TableVerdict): TableVerdict {
    if (!this.rec && v !== ACCEPT) {
      const snap = snapshot(this.env.ctx, false);
      const tape = this.tape;
      if (tape) {
        tape.at(this.host, this.hook, this.table, snap);
        tape.write(this.lk, this.lm, this.lc, this.lp, this.lr, this.ld, this.la);
      } else this.env.steps!.push(makeStep(this.host, this.hook, this.table, snap, this.lk, this.lm, this.lc, this.lp, this.lr, this.ld, this.la));
    }
    return v;
  }

  /** The built-in chain's policy ends the walk when it runs out of rules, RETURNs from its
   *  own level, or a chain reached by goto runs out with nothing on the stack. */
  policy(): TableVerdict {
    const start = this.start;
    const pol = start.policy ?? 'ACCEPT';
    if (this.rec && this.env.nf?.policyCounted(this.table, start.name)) count(start, this.env.ctx.pkt.len);
    this.put(S_POLICY, true, start.name, 0, pol, 0, 0);
    return this.end(pol === 'DROP' ? DROP : ACCEPT);
  }
}

/** The snapshot of steps that are never kept (the reused record of a non-recording walk). */
const UNUSED = null as unknown as Snapshot;

/** The return points of the table walk in progress (reused, as the frames are). */
const frameStack: Frame[] = [];

export function traverse(env: TraverseEnv, builtin: string): TableVerdict {
  const table = env.table;
  const ctx = env.ctx;
  const start = table.chains.get(builtin);
  if (!start) return ACCEPT;
  const run = new Run(env, start);
  const rec = run.rec;
  // (a stack pointer, not push and pop: the array is reused and only ever as deep as the walk)
  const stack = frameStack;
  let sp = 0;
  framesUsed = 0;
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
      if (pos > f.pos) run.put(S_FOLD, false, f.chain.name, f.pos + 1, null, f.depth, pos - f.pos);
      f.ci++;
    } else pos = f.pos;

    if (pos >= rules.length) {
      // end of chain
      if (f.depth === 0) return run.policy();
      run.put(S_RETURN, true, f.chain.name, 0, null, f.depth, 0);
      if (sp === 0) return run.policy();
      f = stack[--sp];
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
      run.put(S_RULE, false, f.chain.name, pos + 1, rule, f.depth, failedAt + 2);
      continue;
    }
    if (rec) count(rule, ctx.pkt.len);
    run.put(S_RULE, true, f.chain.name, pos + 1, rule, f.depth, 0);
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
        if (sp === 0) return run.policy();
        f = stack[--sp];
        continue;
      }
      case T_CHAIN: {
        const goto = plan.goto;
        if (!goto) stack[sp++] = f;
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
    if (rec && (ctx.pkt.mark !== before || ctx.ct?.mark !== ctMarkBefore)) run.resnap(snapshot(ctx, true));
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
        if (sp === 0) return run.policy();
        f = stack[--sp];
        continue;
      }
      case 'jump':
      case 'goto': {
        const next = table.chains.get(res.chain);
        if (!next) return run.end(DROP);
        if (res.kind === 'jump') stack[sp++] = f;
        f = openFrame(env, next, f.depth + 1);
        continue;
      }
    }
  }
}
