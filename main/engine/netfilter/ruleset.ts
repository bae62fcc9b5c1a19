// The netfilter state of one host: five tables, their chains and rules, with the operations
// the iptables command and iptables-restore perform, refused the way iptables 1.8.9
// (nf_tables) and the kernel refuse them:
//  - in userspace: unknown chains, indexes past the end, existing names (status 1);
//  - by the kernel when a rule is loaded: a target outside its table, or its hooks in a
//    built-in chain, a module's own check (status 4, "RULE_APPEND failed (Invalid argument)");
//  - by the kernel's validation of the whole table: jumps nested 16 deep or looping
//    ("Too many links"), a target reached through jumps from a hook it does not allow.
// A table exists only once something created it (iptables-save prints only those), and
// iptables-nft creates a built-in chain only when it is first used, which a few errors show.
// Match and target data are never changed after parsing, so copies share them.

import type { Chain, Hook, KernelCheckCtx, Rule, Table, TableName } from './types.ts';
import { BUILTIN_CHAINS, IptablesError, TABLE_NAMES } from './types.ts';
import { MATCHES } from './matches/index.ts';
import { TARGETS } from './targets/index.ts';
import { KernelError, noSuchChain, badRule, OpError, type KernelFailure, type KernelOp } from './errors.ts';
import { ruleSpec } from './save.ts';
import type { ServiceProfile } from './services.ts';
import { JumpRefs } from './jump-refs.ts';
import { counterClock } from './counter-clock.ts';

/** NFT_JUMP_STACK_SIZE: a chain entered at this depth fails validation. */
const MAX_DEPTH = 16;
const HOOK_BIT: Record<Hook, number> = { PREROUTING: 1, INPUT: 2, FORWARD: 4, OUTPUT: 8, POSTROUTING: 16 };

const ALL_HOOKS = 31;
const STANDARD = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/** A chain's summary, packed in one number (no object per chain): the longest jump path
 *  below it, capped at MAX_DEPTH (every deeper path, and a loop, fails alike), times 32,
 *  plus the hooks all targets below it allow. ON_STACK while it is being summarized:
 *  reaching it again means a loop. */
type ChainSummary = number;
const ON_STACK = -1;
/** No summary known (a chain made since the last validation). */
const UNKNOWN = -2;
const heightOf = (s: ChainSummary) => s >> 5;
/** Numbers TableState.validate's passes (see Chain.vpass). */
let validations = 0;
/** Numbers chains as they are made (see Chain.seq). */
let chainSeq = 0;
const allowedOf = (s: ChainSummary) => s & ALL_HOOKS;

const HOOK_MASKS = new Map<readonly Hook[], number>();
function hookMask(hooks: readonly Hook[]): number {
  let m = HOOK_MASKS.get(hooks);
  if (m === undefined) {
    m = 0;
    for (const h of hooks) m |= HOOK_BIT[h];
    HOOK_MASKS.set(hooks, m);
  }
  return m;
}

// Every chain object is made with the same fields in the same order (a user chain's policy
// undefined): one shape, so the code reading chains stays monomorphic.
function freshTable(name: TableName): Table {
  const chains = new Map<string, Chain>();
  for (const h of BUILTIN_CHAINS[name]) {
    chains.set(h, { name: h, builtin: true, policy: 'ACCEPT', packets: 0, bytes: 0, rules: [], vpass: 0, vsum: 0, seq: ++chainSeq });
  }
  return { name, chains };
}

export type ValidationErrno = 'EMLINK' | 'EINVAL';

/** Why the kernel refuses a rule as it is loaded. */
export type Refusal = 'EINVAL' | 'EOPNOTSUPP' | 'ENOENT';

/** A table's chains and flags as they were at one moment (TableState.image). */
export interface TableImage {
  /** In the table's order (each knows its name). */
  readonly chains: readonly Chain[];
  readonly present: boolean;
  readonly created: ReadonlySet<string>;
  readonly counted: ReadonlySet<string>;
}

/** One table with what iptables-nft knows beyond its chains. */
export class TableState {
  readonly name: TableName;
  table: Table;
  present: boolean;
  /** Built-in chains that exist in the kernel (the rest are shown but not yet created). */
  readonly created: Set<string>;
  /** Built-in chains whose policy counts packets: iptables-nft gives a base chain a counter
   *  only when it sets its policy (an iptables-restore chain line, `-P`); a chain created
   *  implicitly by adding a rule keeps [0:0] (seen on the kernel: nat OUTPUT made by `-A`). */
  readonly counted: Set<string>;
  /** Zeroing replaces rules by zeroed copies instead of changing them (a working copy that
   *  shares its rules with the host's table until it is committed). */
  copyOnZero = false;

  constructor(name: TableName, table?: Table, present = false, created?: Set<string>, counted?: Set<string>) {
    this.name = name;
    this.table = table ?? freshTable(name);
    // A table of its own (not a copy) owns all its chains.
    this.mine = table ? new Set() : null;
    this.present = present;
    this.created = created ?? new Set();
    this.counted = counted ?? new Set();
  }

  /**
   * The chain objects this state may change in place (null: all of them). During a change
   * that may be undone, the others are shared with the undo log (copy on write: `own` copies
   * a chain the first time it changes), so a restore into a table of 60,000 chains copies
   * the few it rewrites, not all of them.
   */
  private mine: Set<Chain> | null;

  /** A copy of its own: chains, rules and counters (a lab experiment's or a replay's). */
  clone(): TableState {
    const chains = new Map<string, Chain>();
    for (const [k, c] of this.table.chains) {
      // One literal of the chain shape (an object spread is V8's slow copy).
      chains.set(k, { name: c.name, builtin: c.builtin, policy: c.policy, packets: c.packets, bytes: c.bytes, rules: c.rules.map((r) => copyRule(r)), vpass: 0, vsum: 0, seq: c.seq });
    }
    const s = new TableState(this.name, { name: this.name, chains }, this.present, new Set(this.created), new Set(this.counted));
    s.mine = null;
    return s;
  }

  /** Everything a restore's outcome depends on in this table, as a string two equal tables
   *  share (whether it exists, its created and counted built-ins, each chain in order with its
   *  policy, counters and rules); null when it holds more than `maxRules` rules. */
  key(maxRules: number): string | null {
    // (counted first: a big table is refused before any of its rules is written out)
    let n = 0;
    for (const c of this.table.chains.values()) if ((n += c.rules.length) > maxRules) return null;
    const out = [String(this.present), [...this.created].sort().join(','), [...this.counted].sort().join(',')];
    for (const c of this.table.chains.values()) {
      out.push(`:${c.name} ${c.builtin} ${c.policy ?? '-'} ${c.packets} ${c.bytes}`);
      for (const r of c.rules) out.push(`${r.packets} ${r.bytes} ${ruleSpec(r)}`);
    }
    return out.join('\n');
  }

  /**
   * What a restore that turned `before` (a table equal to this one) into `after` and wrote
   * only the chains `wrote` — their every rule its own, none kept from before — leaves of this
   * table: those chains as `after` holds them (each rule a fresh copy: no counts, no origin;
   * a chain that was here keeps its place in the order), the others this table's own objects,
   * in `after`'s order. The copy iptables-restore would make of the same text, without
   * reading and checking its lines again.
   */
  twin(after: TableImage, wrote: ReadonlySet<string>): TableState {
    const chains = new Map<string, Chain>();
    const mine = this.table.chains;
    for (const c of after.chains) {
      const name = c.name;
      const own = mine.get(name);
      if (!wrote.has(name)) {
        chains.set(name, own!);
        continue;
      }
      const rules = new Array<Rule>(c.rules.length);
      for (let i = 0; i < rules.length; i++) rules[i] = freshCopy(c.rules[i]);
      chains.set(name, { name, builtin: c.builtin, policy: c.policy, packets: c.packets, bytes: c.bytes, rules, vpass: 0, vsum: 0, seq: own ? own.seq : ++chainSeq });
    }
    const s = new TableState(this.name, { name: this.name, chains }, after.present, new Set(after.created), new Set(after.counted));
    s.mine = null;
    return s;
  }

  /** The table as it is now, for `twin` later: its chain objects in order (a change after this
   *  copies a chain before changing it; only counts and origins change in place, and `twin`
   *  takes neither). */
  image(): TableImage {
    return { chains: [...this.table.chains.values()], present: this.present, created: new Set(this.created), counted: new Set(this.counted) };
  }

  /**
   * A change made in place that may have to be undone (a command the kernel refuses, a
   * restore that fails before COMMIT): `begin` starts it, `rollback` puts the table back as it
   * was, `end` keeps it. Chains are copied on their first change (as for a copy of the state)
   * and the map entries they replace are logged, so a change to a few of 60,000 chains costs
   * a few entries, not a copy of the map.
   */
  private undo: {
    /** Each changed map entry as it was (undefined: the name was absent). */
    entries: Map<string, Chain | undefined>;
    /** Where the names of the chains a kept change touched go, as `table/chain` (see Netfilter.touched). */
    log: Set<string> | null;
    /** Chains only zeroed so far (counters are not what the log is about). */
    zeroOnly: Set<string>;
    present: boolean;
    created: Set<string>;
    counted: Set<string>;
  } | null = null;

  /** `copyOnZero`: zeroing counters is undone too (a single `-Z` cannot fail: it zeroes in place).
   *  `log`: where the names of the chains the change touches go once it is kept. */
  begin(copyOnZero: boolean, log: Set<string> | null = null): void {
    this.mine = new Set();
    this.copyOnZero = copyOnZero;
    this.undo = { entries: new Map(), log, zeroOnly: new Set(), present: this.present, created: new Set(this.created), counted: new Set(this.counted) };
  }

  /** Keeps the change begun by `begin`. */
  end(): void {
    const u = this.undo;
    if (u?.log) for (const name of u.entries.keys()) if (!u.zeroOnly.has(name)) u.log.add(this.name + '/' + name);
    this.undo = null;
    this.copyOnZero = false;
  }

  /** Undoes everything since `begin` (nothing if no change is under way). */
  rollback(): void {
    const u = this.undo;
    if (u === null) return;
    const chains = this.table.chains;
    // A chain put back after a removal (or a rename) comes last: the order is then rebuilt.
    let moved = false;
    for (const [name, c] of u.entries) {
      if (c === undefined) chains.delete(name);
      else {
        if (!chains.has(name)) moved = true;
        chains.set(name, c);
      }
    }
    if (moved) this.table.chains = new Map([...chains].sort((a, b) => a[1].seq! - b[1].seq!));
    this.present = u.present;
    this.created.clear();
    for (const c of u.created) this.created.add(c);
    this.counted.clear();
    for (const c of u.counted) this.counted.add(c);
    this.dropCaches();
    this.undo = null; // (nothing was kept: nothing to log)
    this.copyOnZero = false;
  }

  /** Before a map entry is replaced or removed. */
  private logEntry(name: string): void {
    const e = this.undo?.entries;
    if (e && !e.has(name)) e.set(name, this.table.chains.get(name));
  }

  /** The chain as this state may change it: a copy (put in its place) unless it is its own. */
  private own(c: Chain, keepRules = true, forZero = false): Chain {
    // (a restore owns a chain per rule it adds: the set is looked at only when a -Z filled it)
    const zeroOnly = this.undo?.zeroOnly;
    if (!forZero && zeroOnly?.size) zeroOnly.delete(c.name);
    this.vdirty?.add(c.name);
    if (this.mine === null || this.mine.has(c)) return c;
    const w: Chain = { name: c.name, builtin: c.builtin, policy: c.policy, packets: c.packets, bytes: c.bytes, rules: keepRules ? c.rules.slice() : [], vpass: c.vpass, vsum: c.vsum, seq: c.seq };
    this.logEntry(c.name);
    this.table.chains.set(c.name, w);
    this.mine.add(w);
    if (this.lastChain === c) this.lastChain = w;
    if (this.lastJump === c) this.lastJump = w;
    return w;
  }

  /** Forgets what this state knew of its chains (they were replaced from outside). */
  dropCaches(): void {
    this.forgetChains();
    this.mine = new Set();
    this.refs = null;
    this.vdirty = null;
  }

  chain(name: string): Chain | undefined {
    return this.table.chains.get(name);
  }

  private touch(): void {
    this.present = true;
  }

  /** A chain the command may use: user chains, and built-ins (`needCreated`: only if they
   *  exist in the kernel). */
  private need(name: string, needCreated = false): Chain {
    const c = this.lookup(name);
    if (!c || (needCreated && c.builtin && !this.created.has(name))) throw noSuchChain();
    return c;
  }

  /** The chains a rule command named last and jumped to last. A dump lists a chain's rules
   *  together, right after the rule that jumps to it, so most rule commands name one of these
   *  two: comparing the name with theirs is much cheaper than a lookup in a map of thousands
   *  of chains (a fresh string to hash, then a likely cache miss). Forgotten whenever a chain
   *  is replaced, removed or renamed. */
  private lastChain: Chain | undefined;
  private lastJump: Chain | undefined;

  private lookup(name: string): Chain | undefined {
    const a = this.lastChain;
    if (a !== undefined && a.name === name) return a;
    const b = this.lastJump;
    if (b !== undefined && b.name === name) return (this.lastChain = b);
    const c = this.table.chains.get(name);
    if (c) this.lastChain = c;
    return c;
  }

  /** Called by every change to which chains the table holds. */
  forgetChains(): void {
    this.lastChain = this.lastJump = undefined;
  }

  /** Per target name, how many rules jump or go to it (or name it as their target module):
   *  counted by `references` when first asked, then kept up to date by every change to the
   *  rules (and handed on to a restore's working copy), so deleting chains does not look at
   *  every rule of the table again. */
  private refs: JumpRefs | null = null;

  /** A rule of chain `from` came (d = 1) or went (d = -1). Jump counts are kept per chain
   *  that jumps: they are also the way up from a changed chain to what jumps to it. */
  private countRef(from: string, rule: Rule, d: number): void {
    const refs = this.refs;
    const t = rule.target?.name;
    if (refs === null || t === undefined || TARGETS.has(t) || STANDARD.has(t)) return;
    if (d > 0) refs.add(t, from);
    else refs.remove(t, from);
  }

  /** The jump counts, counted from every rule if they are not kept yet. */
  private jumpCounts(): JumpRefs {
    if (this.refs) return this.refs;
    this.refs = new JumpRefs();
    for (const c of this.table.chains.values()) for (const r of c.rules) this.countRef(c.name, r, 1);
    return this.refs;
  }

  /**
   * Validation memos (Chain.vpass/vsum) kept from one validation to the next: `vlineage` is
   * the pass number this state's memos carry, `vdirty` the chains changed since (null: no
   * memo is to be trusted). A validation recomputes the changed chains and every chain that
   * jumps to one of them, directly or not; the others' summaries stand (they are functions of
   * their unchanged subtrees). A copy that takes the jump counts takes the memos too.
   */
  private vlineage = 0;
  private vdirty: Set<string> | null = null;

  /** "Chain 'X' does not exist" for a jump to a missing chain (checked before anything else). */
  checkJump(rule: Rule): void {
    this.jumpChain(rule);
  }

  /** The chain a rule jumps or goes to (undefined for verdicts and target modules); throws
   *  "Chain 'X' does not exist" when it is missing. */
  private jumpChain(rule: Rule): Chain | undefined {
    const t = rule.target;
    // Target modules carry data; verdicts and chain jumps do not.
    if (!t || (!t.goto && (t.data !== undefined || STANDARD.has(t.name)))) return undefined;
    const c = this.table.chains.get(t.name);
    if (!c) throw new IptablesError(`Chain '${t.name}' does not exist`, 2);
    // The same text, but the very string the chain is keyed by: later lookups (validation,
    // the datapath walk) then compare keys by identity instead of by content.
    t.name = c.name;
    this.lastJump = c;
    return c;
  }

  /** The kernel's checks when a rule is loaded into `chain`. */
  kernelRefusal(rule: Rule, chain: Chain): Refusal | undefined {
    const t = rule.target;
    return this.refusal(rule, chain, t && (t.goto || t.data === undefined) ? this.table.chains.get(t.name) : undefined);
  }

  /** kernelRefusal with the rule's jump chain already looked up. */
  private refusal(rule: Rule, chain: Chain, jump: Chain | undefined): Refusal | undefined {
    const hook = chain.builtin ? (chain.name as Hook) : undefined;
    let ctx: KernelCheckCtx | undefined;
    for (const m of rule.matches) {
      const mod = MATCHES.get(m.module);
      const ok = mod?.kernelCheck ? mod.kernelCheck(m.data as never, (ctx ??= { table: this.name, hook, proto: rule.proto })) : true;
      if (ok !== true) return ok === 'ENOENT' ? 'ENOENT' : 'EINVAL';
    }
    const t = rule.target;
    if (!t) return undefined;
    const mod = t.goto || t.data === undefined ? undefined : TARGETS.get(t.name);
    if (mod) {
      if (mod.tables && !mod.tables.includes(this.name)) return 'EINVAL';
      if (hook && mod.hooks && !mod.hooks.includes(hook)) return 'EINVAL';
      if (mod.kernelCheck && !mod.kernelCheck(t.data as never, ctx ?? { table: this.name, hook, proto: rule.proto })) {
        return 'EINVAL';
      }
    } else if (jump?.builtin && !STANDARD.has(t.name)) return 'EOPNOTSUPP';
    return undefined;
  }

  private failure(op: KernelOp, errno: Refusal, chain: string): KernelFailure {
    return { op, errno, object: `rule in chain ${chain}` };
  }

  /** -A; returns the kernel's refusal instead of adding the rule. */
  append(chainName: string, rule: Rule): KernelFailure | undefined {
    const jump = this.jumpChain(rule);
    const c = this.need(chainName);
    const refused = this.refusal(rule, c, jump);
    if (refused) return this.failure('RULE_APPEND', refused, chainName);
    this.touch();
    if (c.builtin) this.created.add(c.name);
    // A first rule gets a list made to measure (push would reserve 17 slots): most chains
    // of a kube-proxy ruleset hold one rule or two.
    const w = this.own(c, c.rules.length > 0);
    if (w.rules.length === 0) w.rules = [rule];
    else w.rules.push(rule);
    this.countRef(c.name, rule, 1);
    return undefined;
  }

  /** -I at 1-based `pos`. */
  insert(chainName: string, pos: number, rule: Rule): KernelFailure | undefined {
    const jump = this.jumpChain(rule);
    const c = this.need(chainName);
    if (pos > c.rules.length + 1) throw new OpError('E2BIG', 'Index of insertion too big');
    const refused = this.refusal(rule, c, jump);
    if (refused) return this.failure('RULE_INSERT', refused, chainName);
    this.touch();
    if (c.builtin) this.created.add(c.name);
    this.own(c).rules.splice(pos - 1, 0, rule);
    this.countRef(c.name, rule, 1);
    return undefined;
  }

  /** -R: returns the kernel's refusal, or undefined once replaced. */
  replace(chainName: string, num: number, rule: Rule): KernelFailure | undefined {
    const jump = this.jumpChain(rule);
    const c = this.need(chainName, true);
    if (num > c.rules.length) throw new OpError('E2BIG', 'Index of replacement too big');
    const refused = this.refusal(rule, c, jump);
    if (refused) return this.failure('RULE_REPLACE', refused, chainName);
    this.touch();
    const w = this.own(c);
    this.countRef(c.name, w.rules[num - 1], -1);
    w.rules[num - 1] = rule;
    this.countRef(c.name, rule, 1);
    return undefined;
  }

  /** The position (0-based) of the first rule equal to `rule` (same iptables-save text). */
  find(c: Chain, rule: Rule): number {
    const spec = ruleSpec(rule);
    return c.rules.findIndex((r) => ruleSpec(r) === spec);
  }

  /** -D with a rule specification. */
  deleteRule(chainName: string, rule: Rule): Rule {
    this.checkJump(rule);
    const c = this.table.chains.get(chainName);
    if (!c) throw noSuchChain();
    const i = this.find(c, rule);
    if (i < 0) throw badRule();
    const gone = this.own(c).rules.splice(i, 1)[0];
    this.countRef(c.name, gone, -1);
    return gone;
  }

  /** -D with a rule number. */
  deleteNum(chainName: string, num: number): Rule {
    const c = this.need(chainName, true);
    if (num > c.rules.length) throw new OpError('E2BIG', 'Index of deletion too big');
    const gone = this.own(c).rules.splice(num - 1, 1)[0];
    this.countRef(c.name, gone, -1);
    return gone;
  }

  /** -C */
  check(chainName: string, rule: Rule): void {
    this.checkJump(rule);
    const c = this.table.chains.get(chainName);
    if (!c || this.find(c, rule) < 0) throw badRule();
  }

  /** -N */
  newChain(name: string): void {
    if (this.table.chains.has(name)) throw new OpError('EEXIST', 'Chain already exists');
    this.touch();
    const c: Chain = { name, builtin: false, policy: undefined, packets: 0, bytes: 0, rules: [], vpass: 0, vsum: 0, seq: ++chainSeq };
    this.logEntry(name);
    this.table.chains.set(name, c);
    this.mine?.add(c);
    this.vdirty?.add(name);
  }

  /** A chain line of iptables-restore for a user chain: created (returns true), or flushed
   *  if it exists. */
  declareChain(name: string): boolean {
    this.touch();
    // An existing user chain is replaced by an empty one, which is flushing it (nothing else
    // holds chain objects here, user chains have no counters, and the map keeps its place in
    // the order).
    const chains = this.table.chains;
    const old = chains.get(name);
    if (old && this.refs !== null) for (const r of old.rules) this.countRef(name, r, -1);
    // The old chain's summary goes along as the summary before the change (see resummarize).
    const c: Chain = { name, builtin: false, policy: undefined, packets: 0, bytes: 0, rules: [], vpass: old ? old.vpass : 0, vsum: old ? old.vsum : 0, seq: old ? old.seq : ++chainSeq };
    const u = this.undo;
    if (u !== null && !u.entries.has(name)) u.entries.set(name, old);
    chains.set(name, c);
    this.mine?.add(c);
    this.vdirty?.add(name);
    if (!old) return true;
    this.forgetChains();
    return false;
  }

  /** Rules (in this table) that jump or go to `name`. */
  references(name: string): number {
    if (TARGETS.has(name)) return 0;
    if (STANDARD.has(name)) {
      let n = 0;
      for (const c of this.table.chains.values()) for (const r of c.rules) if (r.target?.name === name) n++;
      return n;
    }
    return this.jumpCounts().count(name);
  }

  /** -X NAME: the kernel's refusal (busy), or undefined once deleted. */
  deleteChain(name: string): KernelFailure | undefined {
    const c = this.table.chains.get(name);
    if (!c) throw noSuchChain();
    if (c.builtin) {
      if (!this.created.has(name)) throw noSuchChain();
      if (c.policy !== 'ACCEPT') throw new OpError('EBADRULE', 'Directory not empty');
      if (c.rules.length) return { op: 'CHAIN_DEL', errno: 'EBUSY', object: `chain ${name}` };
      this.created.delete(name);
      this.counted.delete(name);
      const w = this.own(c);
      w.packets = w.bytes = 0;
      return undefined;
    }
    if (c.rules.length || this.references(name)) return { op: 'CHAIN_DEL', errno: 'EBUSY', object: `chain ${name}` };
    this.logEntry(name);
    this.table.chains.delete(name);
    this.mine?.delete(c);
    this.vdirty?.add(name);
    // An empty chain nothing jumps to: every count stays as it is.
    this.forgetChains();
    return undefined;
  }

  /** -X without a name: every user chain that can go; the refusals of the others. */
  deleteAllChains(): KernelFailure[] {
    const failures: KernelFailure[] = [];
    const names = [...this.table.chains.values()].filter((c) => !c.builtin).map((c) => c.name).sort();
    for (const n of names) {
      const c = this.table.chains.get(n)!;
      if (c.rules.length || this.references(n)) failures.push({ op: 'CHAIN_DEL', errno: 'EBUSY', object: `chain ${n}` });
    }
    if (failures.length === 0) {
      for (const n of names) {
        this.logEntry(n);
        this.table.chains.delete(n);
      }
    }
    if (failures.length === 0) for (const n of names) this.vdirty?.add(n);
    this.forgetChains();
    return failures;
  }

  /** -F [chain] */
  flush(name?: string): void {
    if (name === undefined) {
      for (const c of [...this.table.chains.values()]) this.own(c, false).rules = [];
      if (this.refs !== null) this.refs = new JumpRefs();
      this.vdirty = null;
      return;
    }
    const c = this.table.chains.get(name);
    if (!c) throw noSuchChain();
    if (c.builtin && this.present) this.created.add(name);
    for (const r of c.rules) this.countRef(name, r, -1);
    this.own(c, false).rules = [];
  }

  /** -Z [chain [n]] */
  zero(name?: string, num?: number): void {
    // Zeroing copies no rule's target: the jump counts stay.
    const u = this.undo;
    const chains = (name === undefined ? [...this.table.chains.values()] : [this.need(name, true)]).map((c) => {
      if (u && !u.entries.has(c.name)) u.zeroOnly.add(c.name);
      return this.own(c, true, true);
    });
    const zeroAt = (c: Chain, i: number) => {
      if (this.copyOnZero) c.rules[i] = { ...c.rules[i], packets: 0, bytes: 0 };
      else c.rules[i].packets = c.rules[i].bytes = 0;
    };
    for (const c of chains) {
      if (num === undefined) {
        c.packets = c.bytes = 0;
        for (let i = 0; i < c.rules.length; i++) zeroAt(c, i);
      } else if (num <= c.rules.length) zeroAt(c, num - 1);
    }
  }

  /** -P (and restore's policy lines). */
  setPolicy(name: string, policy: string, counters?: { packets: number; bytes: number }): void {
    if (policy !== 'ACCEPT' && policy !== 'DROP') throw new OpError('EINVAL', 'Bad policy name');
    const c = this.table.chains.get(name);
    if (!c || !c.builtin) throw new OpError('ENOENT', 'Bad built-in chain name');
    this.touch();
    this.created.add(name);
    this.counted.add(name);
    const w = this.own(c);
    w.policy = policy;
    if (counters) {
      counterClock.ticks++;
      w.packets = counters.packets;
      w.bytes = counters.bytes;
    }
  }

  /** -E: the chain keeps its rules and every jump to it follows the new name. */
  rename(oldName: string, newName: string): void {
    const c = this.table.chains.get(oldName);
    if (!c || c.builtin) throw noSuchChain();
    if (this.table.chains.has(newName)) throw new OpError('EEXIST', 'File exists');
    counterClock.moves++;
    this.logEntry(oldName);
    this.logEntry(newName);
    const chains = new Map<string, Chain>();
    for (const [k, v] of this.table.chains) {
      if (k === oldName) {
        const w: Chain = { name: newName, builtin: v.builtin, policy: v.policy, packets: v.packets, bytes: v.bytes, rules: v.rules.slice(), vpass: 0, vsum: 0, seq: v.seq };
        this.mine?.add(w);
        chains.set(newName, w);
      } else chains.set(k, v);
    }
    this.table.chains = chains;
    this.forgetChains();
    this.refs = null;
    this.vdirty = null;
    if (TARGETS.has(oldName)) return;
    // Jumps follow the new name: the rules that jump are replaced by copies (rule objects may
    // be shared with another state's chains).
    for (const ch of [...chains.values()]) {
      if (!ch.rules.some((r) => r.target?.name === oldName)) continue;
      const w = this.own(ch);
      w.rules = w.rules.map((r) => (r.target && r.target.name === oldName ? { ...r, target: { ...r.target, name: newName } } : r));
    }
  }

  /** The kernel's table validation: jump depth (and loops) and the hooks of targets reached
   *  from each built-in chain. Returns the first error in walk order. */
  validate(): ValidationErrno | undefined {
    // One pass over every chain finds how deep its jumps go and which hooks its targets
    // allow; a built-in chain whose subtree is fine needs no walk. Otherwise walk it as the
    // kernel does to find the first error in rule order.
    let pass: number;
    // A table validated once is validated again with its memos (and its jump counts, counted
    // then: a table loaded once and never changed does not pay for them).
    // Many changed chains: walking up from each costs more than summarizing every chain.
    const few = this.vdirty !== null && this.vdirty.size * 8 < this.table.chains.size;
    const refs = few ? this.jumpCounts() : null;
    if (this.vdirty === null || refs === null) {
      pass = validations = validations < 0x3fffffff ? validations + 1 : 1; // never 0, a new chain's
    } else {
      pass = this.vlineage;
      this.resummarize(refs, pass);
    }
    this.vlineage = pass;
    this.vdirty = new Set();
    for (const base of BUILTIN_CHAINS[this.name]) {
      const chain = this.table.chains.get(base);
      if (!chain) continue;
      const s = this.summarize(chain, pass);
      if (heightOf(s) < MAX_DEPTH && allowedOf(s) & HOOK_BIT[base]) continue;
      // Per built-in chain (hook): the deepest level at which a chain's subtree was found clean.
      const clean = new Map<Chain, number>();
      const err = this.walk(chain, 0, HOOK_BIT[base], clean, pass);
      if (err) return err;
    }
    return undefined;
  }

  /**
   * Summarizes the changed chains again, then the chains that jump to one whose summary
   * changed, and so on up: a chain whose summary stayed the same (a service's chain rewritten
   * with other endpoints) leaves those above it (KUBE-SERVICES and its 10,000 jumps) alone.
   * A summary that changes invalidates every chain that jumps to it, so when nothing is left
   * to do every memo agrees with what is below it; a new loop raises the heights round after
   * round up to MAX_DEPTH, where the walk takes over.
   */
  private resummarize(refs: JumpRefs, pass: number): void {
    const chains = this.table.chains;
    // Each chain to summarize again with the summary its parents last read (UNKNOWN: none).
    let todo: Chain[] = [];
    let before: number[] = [];
    const invalidate = (c: Chain) => {
      todo.push(c);
      before.push(c.vpass === pass && c.vsum !== ON_STACK ? c.vsum! : UNKNOWN);
      c.vpass = 0;
    };
    for (const n of this.vdirty!) {
      const c = chains.get(n);
      if (c) invalidate(c);
    }
    while (todo.length) {
      const now = todo;
      const was = before;
      todo = [];
      before = [];
      for (let i = 0; i < now.length; i++) {
        const c = now[i];
        const s = c.vpass === pass ? c.vsum! : this.summarize(c, pass);
        if (s === was[i]) continue;
        for (const from of refs.parents(c.name)) {
          const p = chains.get(from);
          if (p && p.vpass === pass) invalidate(p);
        }
      }
    }
  }

  /** Longest jump path below a chain and the hooks all targets below it allow, memoized in
   *  the chain itself for this validation `pass` (a map of tens of thousands of chains cost
   *  more than the rest of the validation). */
  private summarize(chain: Chain, pass: number): ChainSummary {
    // Reached again while being summarized: a loop, as deep as can be (it allows every hook
    // so far; its own targets are counted where the loop started).
    if (chain.vpass === pass) return chain.vsum === ON_STACK ? (MAX_DEPTH << 5) | ALL_HOOKS : chain.vsum!;
    chain.vpass = pass;
    chain.vsum = ON_STACK;
    let height = 0;
    let allowed = ALL_HOOKS;
    for (const r of chain.rules) {
      const t = r.target;
      if (!t) continue;
      const mod = t.goto || t.data === undefined ? undefined : TARGETS.get(t.name);
      if (mod) {
        if (mod.hooks) allowed &= hookMask(mod.hooks);
        continue;
      }
      const next = this.table.chains.get(t.name);
      if (!next || next.builtin) continue;
      const sub = this.summarize(next, pass);
      const h = Math.min(heightOf(sub) + 1, MAX_DEPTH);
      if (h > height) height = h;
      allowed &= allowedOf(sub);
    }
    const s = (height << 5) | allowed;
    chain.vsum = s;
    return s;
  }

  private walk(chain: Chain, level: number, hookBit: number, clean: Map<Chain, number>, pass: number): ValidationErrno | undefined {
    if (level === MAX_DEPTH) return 'EMLINK';
    const sum = chain.vpass === pass ? chain.vsum! : ON_STACK;
    if (sum !== ON_STACK && heightOf(sum) + level < MAX_DEPTH && allowedOf(sum) & hookBit) return undefined;
    // Clean at a level means clean at any shallower one (more depth left).
    const seen = clean.get(chain);
    if (seen !== undefined && level <= seen) return undefined;
    for (const r of chain.rules) {
      const t = r.target;
      if (!t) continue;
      const mod = t.goto || t.data === undefined ? undefined : TARGETS.get(t.name);
      if (mod) {
        if (mod.hooks && !(hookMask(mod.hooks) & hookBit)) return 'EINVAL';
        continue;
      }
      const next = this.table.chains.get(t.name);
      if (next && !next.builtin) {
        const err = this.walk(next, level + 1, hookBit, clean, pass);
        if (err) return err;
      }
    }
    const prev = clean.get(chain);
    if (prev === undefined || level > prev) clean.set(chain, level);
    return undefined;
  }
}

/** A rule as a restore makes it from the same line: the same tests and target (shared: they
 *  are not changed once parsed), counting from zero, no origin. Every field is written, in
 *  the parser's order (one object shape for all rules). */
export function freshCopy(r: Rule): Rule {
  return {
    src: r.src,
    dst: r.dst,
    inIface: r.inIface,
    outIface: r.outIface,
    proto: r.proto,
    fragment: r.fragment,
    matches: r.matches,
    target: r.target,
    packets: 0,
    bytes: 0,
    origin: undefined,
  };
}

/** A copy of a rule (its match/target data are shared: they never change). */
export function copyRule(r: Rule): Rule {
  return { ...r, matches: r.matches.slice(), target: r.target ? { ...r.target } : undefined };
}

export interface CounterSnapshot {
  entries: [Rule | Chain, number, number][];
}

/** Turns a kernel refusal into the error iptables prints; validation failures name the rule. */
export function kernelError(failures: KernelFailure[]): KernelError {
  return new KernelError(failures);
}

/** The five tables of a host. */
/** Netfilter.touched's entry for "every chain of a table" (no chain is named so). */
export const ALL_CHAINS = '*';

export class Netfilter {
  /** Bumped by every change; the datapath keys its rule indexes on it. */
  generation = 0;
  /** Which /etc/services `-L` names ports from (`www` for 80 on the legacy profile). */
  services: ServiceProfile = 'current';
  /** Whether an ipset of that name exists (for `-m set`); set by the host. */
  setExists?: (name: string) => boolean;
  /** Whether an nfacct object of that name exists (for `-m nfacct`); set by the host. */
  nfacctExists?: (name: string) => boolean;
  private readonly states = new Map<TableName, TableState>();
  /**
   * When set: the chains changes touched since it was last taken, as `table/chain` (a rule
   * added, removed or replaced, a chain made, flushed, renamed, deleted, a policy set; not a
   * counter zeroed), or ALL_CHAINS when a table was replaced whole. The cluster's agents read
   * it after a console command to tell whether it touched the chains they write.
   */
  touched: Set<string> | null = null;

  constructor() {
    for (const t of TABLE_NAMES) this.states.set(t, new TableState(t));
  }

  /** The table, if it exists on the host (what the datapath walks). */
  table(name: TableName): Table | undefined {
    const s = this.states.get(name)!;
    return s.present ? s.table : undefined;
  }

  /** Whether a built-in chain is hooked in the kernel (iptables-nft creates base chains on
   *  demand: one that was never created sees no packets at all). */
  hooked(table: TableName, chain: string): boolean {
    const s = this.states.get(table)!;
    return s.present && s.created.has(chain);
  }

  hookedTable(name: TableName, chain: string): Table | undefined {
    const s = this.states.get(name)!;
    return s.present && s.created.has(chain) ? s.table : undefined;
  }

  /** Whether the policy of a built-in chain counts the packets it decides. */
  policyCounted(table: TableName, chain: string): boolean {
    return this.states.get(table)!.counted.has(chain);
  }

  /** The table's state whether or not it exists (listing a fresh table shows its built-ins). */
  state(name: TableName): TableState {
    return this.states.get(name)!;
  }

  exists(name: TableName): boolean {
    return this.states.get(name)!.present;
  }

  chain(table: TableName, name: string): Chain | undefined {
    return this.states.get(table)!.chain(name);
  }

  /** Puts a table in place as one change (iptables-restore's commit). */
  commit(state: TableState): void {
    // A table of its own (a restore without --noflush) replaces every chain; a change in place
    // logged the chains it touched when it ended.
    if (this.touched && this.states.get(state.name) !== state) this.touched.add(ALL_CHAINS);
    this.states.set(state.name, state);
    this.generation++;
  }

  /** Runs one change against a table; undoes it if the kernel's validation fails. The
   *  change returns kernel refusals (the kernel applies nothing then). */
  change(table: TableName, op: KernelOp, chain: string, fn: (s: TableState) => KernelFailure[] | KernelFailure | undefined): void {
    const s = this.states.get(table)!;
    s.begin(false, this.touched);
    let failures: KernelFailure[];
    try {
      const r = fn(s);
      failures = r === undefined ? [] : Array.isArray(r) ? r : [r];
    } catch (e) {
      s.rollback();
      throw e;
    }
    if (failures.length === 0 && (op === 'RULE_APPEND' || op === 'RULE_INSERT' || op === 'RULE_REPLACE')) {
      const v = s.validate();
      if (v) failures = [{ op, errno: v, object: `rule in chain ${chain}` }];
    }
    if (failures.length) {
      s.rollback();
      // iptables prints the last refusal of its batch.
      throw kernelError([failures[failures.length - 1]]);
    }
    s.end();
    this.generation++;
  }

  // ---- the iptables commands ------------------------------------------------------------

  append(table: TableName, chain: string, rules: Rule[]): void {
    this.change(table, 'RULE_APPEND', chain, (s) => collect(rules.map((r) => s.append(chain, r))));
  }

  insert(table: TableName, chain: string, pos: number, rules: Rule[]): void {
    // Each rule goes in at the same position, so several end up in reverse order.
    this.change(table, 'RULE_INSERT', chain, (s) => collect(rules.map((r) => s.insert(chain, pos, r))));
  }

  replace(table: TableName, chain: string, num: number, rule: Rule): void {
    this.change(table, 'RULE_REPLACE', chain, (s) => s.replace(chain, num, rule));
  }

  deleteRule(table: TableName, chain: string, rules: Rule[]): void {
    this.change(table, 'RULE_DELETE', chain, (s) => {
      for (const r of rules) s.deleteRule(chain, r);
      return undefined;
    });
  }

  deleteNum(table: TableName, chain: string, num: number): void {
    this.change(table, 'RULE_DELETE', chain, (s) => {
      s.deleteNum(chain, num);
      return undefined;
    });
  }

  /** -C: throws "Bad rule" unless every rule is present. */
  check(table: TableName, chain: string, rules: Rule[]): void {
    const s = this.states.get(table)!;
    for (const r of rules) s.check(chain, r);
  }

  newChain(table: TableName, name: string): void {
    this.change(table, 'CHAIN_USER_ADD', name, (s) => {
      s.newChain(name);
      return undefined;
    });
  }

  deleteChain(table: TableName, name?: string): void {
    this.change(table, 'CHAIN_DEL', name ?? '', (s) => (name === undefined ? s.deleteAllChains() : s.deleteChain(name)));
  }

  flush(table: TableName, chain?: string): void {
    this.change(table, 'RULE_DELETE', chain ?? '', (s) => {
      s.flush(chain);
      return undefined;
    });
  }

  zero(table: TableName, chain?: string, num?: number): void {
    this.change(table, 'RULE_DELETE', chain ?? '', (s) => {
      s.zero(chain, num);
      return undefined;
    });
  }

  setPolicy(table: TableName, chain: string, policy: string, counters?: { packets: number; bytes: number }): void {
    this.change(table, 'CHAIN_USER_ADD', chain, (s) => {
      s.setPolicy(chain, policy, counters);
      return undefined;
    });
  }

  renameChain(table: TableName, oldName: string, newName: string): void {
    this.change(table, 'CHAIN_USER_ADD', oldName, (s) => {
      s.rename(oldName, newName);
      return undefined;
    });
  }

  references(table: TableName, chain: string): number {
    return this.states.get(table)!.references(chain);
  }

  // ---- experiments ----------------------------------------------------------------------

  /** Every counter, to put back after a trace that should leave no trace. */
  snapshotCounters(): CounterSnapshot {
    const entries: [Rule | Chain, number, number][] = [];
    for (const s of this.states.values()) {
      for (const c of s.table.chains.values()) {
        entries.push([c, c.packets, c.bytes]);
        for (const r of c.rules) entries.push([r, r.packets, r.bytes]);
      }
    }
    return { entries };
  }

  restoreCounters(snap: CounterSnapshot): void {
    counterClock.ticks++;
    for (const [o, p, b] of snap.entries) {
      o.packets = p;
      o.bytes = b;
    }
  }

  /** An independent copy: chains, rules and counters are copied; match/target data shared. */
  clone(): Netfilter {
    const n = new Netfilter();
    n.generation = this.generation;
    n.services = this.services;
    n.setExists = this.setExists;
    n.nfacctExists = this.nfacctExists;
    for (const [name, s] of this.states) n.states.set(name, s.clone());
    return n;
  }
}

function collect(rs: (KernelFailure | undefined)[]): KernelFailure[] {
  return rs.filter((r): r is KernelFailure => r !== undefined);
}
