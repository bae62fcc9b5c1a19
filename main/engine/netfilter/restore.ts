// iptables-restore input: `*table` ... `COMMIT` sections of chain lines (`:NAME POLICY [p:b]`)
// and iptables commands, read line by line as iptables 1.8.9 (nf_tables) reads them:
// - a parse error stops at once ("Error occurred at line: N"); tables committed before stay;
// - each section is applied at its COMMIT as one transaction: a table is replaced whole
//   (unless --noflush), commands run in order ("line N failed: ..." for the first refused),
//   then the kernel's checks (every refused rule listed) and its validation of the table
//   (the first rule that breaks it);
// - quoting: "..." with \" and \\ inside; [pkts:bytes] before a rule with --counters.
// Lines are processed in one pass with no per-character regular expressions: a kube-proxy
// dump of tens of thousands of rules loads in a few tens of milliseconds.

import { IptablesError, TABLE_NAMES, type Rule, type TableName } from './types.ts';
import { BareError, KernelError, NotedError, OpError, XT_VERSION, kernelFailureText, type KernelFailure, type KernelOp } from './errors.ts';
import { CMD, checkChainName, parseArgs, type ParsedArgs } from './parse.ts';
import { Netfilter, TableState } from './ruleset.ts';
import { listChains } from './list.ts';
import { listRules } from './save.ts';

const PROG = 'iptables-restore';

export interface RestoreOptions {
  counters: boolean;
  noflush: boolean;
  test: boolean;
  /** -T: only this table's sections are applied. */
  table?: string;
}

export interface RestoreOutcome {
  stdout: string;
  stderr: string;
  code: number;
  changed: boolean;
}

type Op =
  | { kind: 'policy'; line: number; chain: string; policy: string; counters?: { packets: number; bytes: number } }
  | { kind: 'chain'; line: number; name: string }
  | { kind: 'cmd'; line: number; args: ParsedArgs };

/** add_param_to_argv: words split on blanks, "..." groups with \-escapes inside (a closing
 *  quote ends the word). Words are sliced out of the line, not built a character at a time. */
export function splitRestoreLine(s: string, from = 0): string[] {
  if (s.indexOf('\t', from) < 0 && s.indexOf('\n', from) < 0) return splitSpaces(s, from);
  const out: string[] = [];
  const n = s.length;
  let i = from;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10) {
      i++;
      continue;
    }
    // a word: plain characters, possibly running into a quoted part
    let word = '';
    let start = i;
    for (;;) {
      if (i >= n) {
        word += s.slice(start, i);
        break;
      }
      c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10) {
        word += s.slice(start, i);
        break;
      }
      if (c !== 34 /* " */) {
        i++;
        continue;
      }
      word += s.slice(start, i);
      i++;
      // inside quotes until the closing quote, which also ends the word
      start = i;
      while (i < n) {
        const q = s.charCodeAt(i);
        if (q === 34) break;
        if (q === 92 /* \ */) {
          word += s.slice(start, i) + (i + 1 < n ? s[i + 1] : '');
          i += 2;
          start = i;
          continue;
        }
        i++;
      }
      if (start < n) word += s.slice(start, Math.min(i, n));
      if (i < n) i++; // past the closing quote
      start = -1;
      break;
    }
    out.push(word);
    if (start === -1) continue;
  }
  return out;
}

/** splitRestoreLine for a line whose only blanks are spaces: words found with indexOf. */
function splitSpaces(s: string, from: number): string[] {
  const out: string[] = [];
  const n = s.length;
  let quote = s.indexOf('"', from);
  let i = from;
  while (i < n) {
    if (s.charCodeAt(i) === 32) {
      i++;
      continue;
    }
    let sp = s.indexOf(' ', i);
    if (sp < 0) sp = n;
    if (quote < 0 || quote >= sp) {
      out.push(s.slice(i, sp));
      i = sp;
      continue;
    }
    // A word with a quoted part: plain text up to the quote, then the quoted text with
    // \-escapes, which ends the word at the closing quote.
    let word = s.slice(i, quote);
    let j = quote + 1;
    let start = j;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        // an escape; a backslash ending the line escapes nothing and is dropped
        word += s.slice(start, j) + (j + 1 < n ? s[j + 1] : '');
        j += 2;
        start = j;
        continue;
      }
      j++;
    }
    if (start < n) word += s.slice(start, Math.min(j, n));
    out.push(word);
    i = j < n ? j + 1 : j;
    quote = s.indexOf('"', i);
  }
  return out;
}

/** The words of a chain line after its ':' (the common ":NAME POLICY [p:b]" sliced directly). */
function chainLineWords(buf: string): string[] {
  const a = buf.indexOf(' ', 1);
  if (a > 1) {
    const b = buf.indexOf(' ', a + 1);
    if (b > a + 1 && buf.indexOf(' ', b + 1) < 0 && buf.indexOf('\t') < 0 && b + 1 < buf.length) {
      return [buf.slice(1, a), buf.slice(a + 1, b), buf.slice(b + 1)];
    }
  }
  return words(buf.slice(1));
}

/** strtok(s, " \t\n") words. */
function words(s: string): string[] {
  if (s.indexOf('\t') < 0 && s.indexOf('\n') < 0 && s.indexOf('  ') < 0 && s[0] !== ' ') {
    const w = s.split(' ');
    if (w[w.length - 1] === '') w.pop();
    return w;
  }
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    const blank = c === 32 || c === 9 || c === 10;
    if (blank) {
      if (start >= 0) out.push(s.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  return out;
}

/** sscanf("[%llu:%llu]") as iptables-restore uses it for policy counters. */
function parseCounters(s: string): { packets: number; bytes: number } | undefined {
  const m = /^\[\s*\+?(\d+):\s*\+?(\d+)/.exec(s);
  return m ? { packets: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

class RestoreFail extends Error {
  readonly out: RestoreOutcome;
  constructor(out: RestoreOutcome) {
    super('restore failed');
    this.out = out;
  }
}

function paramError(e: IptablesError, line: number): RestoreFail {
  let stderr = '';
  if (e instanceof NotedError) stderr += e.note;
  if (e instanceof BareError) stderr += e.message ? `${e.message}\n` : '';
  else stderr += `${PROG} ${XT_VERSION}: ${e.message}\n`;
  if (e.status === 2) {
    stderr += `Error occurred at line: ${line}\nTry \`${PROG} -h' or '${PROG} --help' for more information.\n`;
  }
  return new RestoreFail({ stdout: '', stderr, code: e.status, changed: false });
}

function kernelFail(failures: KernelFailure[]): RestoreFail {
  const text = failures.map((f) => `\nline ${f.line}: ${kernelFailureText(f)}`).join('');
  return new RestoreFail({ stdout: '', stderr: `${PROG} ${XT_VERSION}: ${text}\n`, code: 4, changed: false });
}

const RULE_OP: Record<number, KernelOp> = { [CMD.APPEND]: 'RULE_APPEND', [CMD.INSERT]: 'RULE_INSERT', [CMD.REPLACE]: 'RULE_REPLACE' };

const NO_FAILURES: KernelFailure[] = [];
function failed(f: KernelFailure | undefined, line: number): KernelFailure[] {
  return f ? [{ ...f, line }] : NO_FAILURES;
}

/** Runs one op; returns kernel refusals (the op is then not applied). */
function applyOp(s: TableState, op: Op, out: string[], fresh: Set<string>): KernelFailure[] {
  if (op.kind === 'policy') {
    if (op.policy === '-') {
      if (!s.chain(op.chain)) throw new OpError('ENOENT', 'Bad built-in chain name');
      s.created.add(op.chain);
      s.present = true;
    } else s.setPolicy(op.chain, op.policy, op.counters);
    return [];
  }
  if (op.kind === 'chain') {
    if (!s.chain(op.name)) fresh.add(op.name);
    s.declareChain(op.name);
    return [];
  }
  const a = op.args;
  const chain = a.chain ?? '';
  switch (a.command) {
    case CMD.APPEND: {
      if (a.rules.length === 1) return failed(s.append(chain, a.rules[0]), op.line);
      const out: KernelFailure[] = [];
      for (const r of a.rules) out.push(...failed(s.append(chain, r), op.line));
      return out;
    }
    case CMD.INSERT: {
      const out: KernelFailure[] = [];
      for (const r of a.rules) out.push(...failed(s.insert(chain, a.rulenum ?? 1, r), op.line));
      return out;
    }
    case CMD.REPLACE: return failed(s.replace(chain, a.rulenum!, a.rules[0]), op.line);
    case CMD.DELETE: for (const r of a.rules) s.deleteRule(chain, r); return [];
    case CMD.DELETE_NUM: s.deleteNum(chain, a.rulenum!); return [];
    case CMD.CHECK: for (const r of a.rules) s.check(chain, r); return [];
    case CMD.NEW_CHAIN: s.newChain(chain); fresh.add(chain); return [];
    case CMD.DELETE_CHAIN:
      return (a.chain === undefined ? s.deleteAllChains() : failed(s.deleteChain(chain), op.line)).map((f) => ({ ...f, line: op.line }));
    case CMD.FLUSH: s.flush(a.chain); return [];
    case CMD.ZERO: s.zero(a.chain); return [];
    case CMD.ZERO_NUM: s.zero(a.chain, a.rulenum); return [];
    case CMD.SET_POLICY: s.setPolicy(chain, a.policy!); return [];
    case CMD.RENAME_CHAIN:
      // The kernel cannot rename a chain made in the same transaction (every chain is, when
      // the table is replaced).
      if (s.chain(chain) && !s.chain(chain)!.builtin && fresh.has(chain) && !s.chain(a.newName!)) {
        return [{ op: 'CHAIN_RENAME', errno: 'ENOENT', object: `chain ${a.newName}`, line: op.line }];
      }
      s.rename(chain, a.newName!);
      return [];
    default:
      if (a.command & CMD.LIST) out.push(listChains(s, { chain: a.chain, rulenum: a.rulenum, numeric: a.numeric, verbose: a.verbose, exact: a.exact, lineNumbers: a.lineNumbers }));
      else if (a.command & CMD.LIST_RULES) out.push(listRules(s.table, { chain: a.chain ? s.chain(a.chain) : undefined, rulenum: a.rulenum, counters: a.verbose }));
      if (a.command & CMD.ZERO) s.zero(a.chain);
      return [];
  }
}

/** The state a section starts from: an empty table, or a copy of the host's (--noflush). */
function startState(nf: Netfilter, name: TableName, noflush: boolean, copyRules: boolean): TableState {
  return noflush ? nf.state(name).clone(copyRules) : new TableState(name);
}

/** One `*table` ... `COMMIT` section being read. Commands are applied to a working copy as
 *  they are parsed (nothing is kept but the rules); what iptables reports at COMMIT — the
 *  first refused command, the kernel's refusals — is remembered until then. */
class Section {
  readonly name: TableName;
  readonly state: TableState;
  readonly fresh = new Set<string>();
  readonly failures: KernelFailure[] = [];
  /** The first command refused in userspace (reported at COMMIT). */
  error?: RestoreFail | IptablesError;
  /** The section's chain and command lines, for replaying a failed validation. */
  readonly lines: number[] = [];
  readonly texts: string[] = [];

  constructor(nf: Netfilter, name: TableName, opts: RestoreOptions) {
    this.name = name;
    this.state = startState(nf, name, opts.noflush, false);
    if (opts.noflush) this.state.copyOnZero = true;
  }
}

/** A line of a section as an op; parse errors throw (they stop iptables-restore at once). */
function lineToOp(nf: Netfilter, table: TableName, buf: string, line: number, opts: RestoreOptions, stdout: string[]): Op | undefined {
  const c0 = buf.charCodeAt(0);
  if (c0 === 58 /* : */) {
    const w = chainLineWords(buf);
    if (w.length === 0) throw paramError(new IptablesError(`${PROG}: line ${line} chain name invalid`, 2), line);
    const chain = w[0];
    if (w.length < 2) throw paramError(new IptablesError(`${PROG}: line ${line} policy invalid`, 2), line);
    if (nf.state(table).chain(chain)?.builtin === true) {
      let counters: { packets: number; bytes: number } | undefined;
      if (opts.counters) {
        counters = w[2] !== undefined ? parseCounters(w[2]) : undefined;
        if (!counters) throw paramError(new IptablesError(`invalid policy counters for chain '${chain}'`, 2), line);
      }
      return { kind: 'policy', line, chain, policy: w[1], counters };
    }
    try {
      checkChainName(chain);
    } catch (e) {
      if (e instanceof IptablesError) throw paramError(e, line);
      throw e;
    }
    return { kind: 'chain', line, name: chain };
  }
  // a command line, maybe after [pkts:bytes]
  let start = 0;
  let counters: [string, string] | undefined;
  if (c0 === 91 /* [ */) {
    const close = buf.indexOf(']');
    if (close < 0) throw paramError(new IptablesError(`Bad line ${line}: need ]`, 2), line);
    // strtok(buf+1, ":") then strtok(NULL, "]"), as iptables-restore splits them.
    let p = 1;
    while (buf[p] === ':') p++;
    const pEnd = buf.indexOf(':', p);
    if (pEnd < 0) throw paramError(new IptablesError(`Bad line ${line}: need ]`, 2), line);
    let q = pEnd + 1;
    while (buf[q] === ']') q++;
    if (q >= buf.length) throw paramError(new IptablesError(`Bad line ${line}: need ]`, 2), line);
    const qEnd = buf.indexOf(']', q);
    counters = [buf.slice(p, pEnd), qEnd < 0 ? buf.slice(q) : buf.slice(q, qEnd)];
    start = close + 1;
  }
  const argv = splitRestoreLine(buf, start);
  if (opts.counters && counters) argv.push('--set-counters', counters[0], counters[1]);
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv, { mode: 'restore', table, setExists: nf.setExists });
  } catch (e) {
    if (e instanceof IptablesError) throw paramError(e, line);
    throw e;
  }
  if (parsed.version) {
    stdout.push(`${PROG} ${XT_VERSION}\n`);
    return undefined;
  }
  return { kind: 'cmd', line, args: parsed };
}

/** Applies an op to the section, remembering (not throwing) what COMMIT will report. */
function sectionApply(sec: Section, op: Op, stdout: string[]): void {
  if (sec.error) return; // iptables stops at the first refused command
  try {
    const f = applyOp(sec.state, op, stdout, sec.fresh);
    if (f.length) sec.failures.push(...f);
  } catch (e) {
    if (e instanceof OpError) {
      sec.error = new RestoreFail({ stdout: '', stderr: `${PROG}: line ${op.line} failed: ${e.text}.\n`, code: 1, changed: false });
    } else if (e instanceof IptablesError) sec.error = e;
    else throw e;
  }
}

/** COMMIT: the section's table, or the failure iptables-restore reports. */
function commitSection(nf: Netfilter, sec: Section, opts: RestoreOptions, commitLine: number): TableState {
  if (sec.error instanceof RestoreFail) throw sec.error;
  if (sec.error) throw paramError(sec.error, commitLine);
  if (sec.failures.length) throw kernelFail(sec.failures);
  if (sec.state.validate()) throw kernelFail(invalidRules(nf, sec, opts));
  sec.state.copyOnZero = false;
  return sec.state;
}

/** The kernel replays a failing batch validating the table after each rule: the first rule
 *  after which it is invalid fails, and so does every later rule while it stays invalid
 *  (found by bisection, then one pass; only removals can make it valid again). */
function invalidRules(nf: Netfilter, sec: Section, opts: RestoreOptions): KernelFailure[] {
  const ops: Op[] = [];
  for (let i = 0; i < sec.lines.length; i++) {
    const op = lineToOp(nf, sec.name, sec.texts[i], sec.lines[i], opts, []);
    if (op) ops.push(op);
  }
  const replay = (k: number) => {
    const s = startState(nf, sec.name, opts.noflush, true);
    const fresh = new Set<string>();
    for (let i = 0; i < k; i++) applyOp(s, ops[i], [], fresh);
    return { s, fresh };
  };
  let lo = 1;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (replay(mid).s.validate() !== undefined) hi = mid;
    else lo = mid + 1;
  }
  const { s, fresh } = replay(lo);
  let errno = s.validate();
  const failures: KernelFailure[] = [];
  const fail = (op: Op) => {
    const cmd = op.kind === 'cmd' ? op.args : undefined;
    const kop = (cmd && RULE_OP[cmd.command]) ?? 'RULE_APPEND';
    const count = cmd ? Math.max(cmd.rules.length, 1) : 1;
    for (let r = 0; r < count; r++) failures.push({ op: kop, errno: errno ?? 'EINVAL', object: `rule in chain ${cmd?.chain ?? ''}`, line: op.line });
  };
  fail(ops[lo - 1]);
  for (let i = lo; i < ops.length; i++) {
    const op = ops[i];
    applyOp(s, op, [], fresh);
    const adds = op.kind === 'cmd' && RULE_OP[op.args.command] !== undefined;
    const removes = op.kind === 'cmd' && !adds && (op.args.command & (CMD.DELETE | CMD.DELETE_NUM | CMD.FLUSH | CMD.DELETE_CHAIN | CMD.RENAME_CHAIN)) !== 0;
    if (adds) {
      if (!errno || (op.kind === 'cmd' && op.args.command === CMD.REPLACE)) errno = s.validate();
      if (errno) fail(op);
    } else if (removes || op.kind === 'chain') errno = s.validate();
  }
  return failures;
}

/** Runs iptables-restore over `input` against `nf`. */
export function restoreText(nf: Netfilter, input: string, opts: RestoreOptions): RestoreOutcome {
  let changed = false;
  const stdout: string[] = [];
  try {
    let sec: Section | undefined;
    let inTable = false;
    let current: TableName | undefined;
    let skipping = false;
    let line = 0;
    let pos = 0;
    const n = input.length;
    while (pos < n) {
      let end = input.indexOf('\n', pos);
      if (end < 0) end = n;
      const buf = input.slice(pos, end);
      const hasNl = end < n;
      pos = end + 1;
      line++;
      if (buf.length === 0 && hasNl) continue;
      const c0 = buf.charCodeAt(0);
      if (c0 === 35 /* # */) continue;
      if (inTable && buf.length === 6 && buf === 'COMMIT') {
        inTable = false;
        if (skipping) continue;
        if (sec) {
          nf.commit(commitSection(nf, sec, opts, line));
          changed = true;
        }
        sec = undefined;
        continue;
      }
      if (c0 === 42 /* * */ && !inTable) {
        const w = words(buf.slice(1));
        if (w.length === 0) throw paramError(new IptablesError(`${PROG}: line ${line} table name invalid`, 2), line);
        const name = w[0];
        if (!(TABLE_NAMES as readonly string[]).includes(name)) {
          throw paramError(new IptablesError(`${PROG}: line ${line} table name '${name}' invalid`, 2), line);
        }
        current = name as TableName;
        skipping = opts.table !== undefined && opts.table !== name;
        if (skipping) continue;
        inTable = true;
        sec = opts.test ? undefined : new Section(nf, current, opts);
        continue;
      }
      if (skipping) continue;
      if (!inTable) {
        throw new RestoreFail({ stdout: '', stderr: `${PROG}: line ${line} failed\n`, code: 1, changed: false });
      }
      const op = lineToOp(nf, current!, buf, line, opts, stdout);
      if (!op || !sec) continue;
      sec.lines.push(line);
      sec.texts.push(buf);
      sectionApply(sec, op, stdout);
    }
    if (inTable) {
      throw new RestoreFail({ stdout: '', stderr: `${PROG}: COMMIT expected at line ${line + 1}\n`, code: 1, changed: false });
    }
  } catch (e) {
    if (e instanceof RestoreFail) return { ...e.out, stdout: stdout.join('') + e.out.stdout, changed };
    if (e instanceof KernelError) return { stdout: stdout.join(''), stderr: e.message, code: 4, changed };
    throw e;
  }
  return { stdout: stdout.join(''), stderr: '', code: 0, changed };
}

/** For tests and the service: the rules of a parsed restore line (used by kube controllers). */
export function parseRuleLine(table: TableName, line: string): Rule[] {
  return parseArgs(splitRestoreLine(line), { mode: 'restore', table }).rules;
}
