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

/** Applies a section's ops to a fresh start; returns the state or throws the failure text. */
function commitSection(nf: Netfilter, name: TableName, ops: Op[], opts: RestoreOptions, commitLine: number, stdout: string[]): TableState {
  const zeroes = ops.some((o) => o.kind === 'cmd' && o.args.command & (CMD.ZERO | CMD.ZERO_NUM));
  const s = startState(nf, name, opts.noflush, zeroes);
  const failures: KernelFailure[] = [];
  const fresh = new Set<string>();
  for (const op of ops) {
    try {
      const f = applyOp(s, op, stdout, fresh);
      if (f.length) failures.push(...f);
    } catch (e) {
      if (e instanceof OpError) {
        throw new RestoreFail({ stdout: '', stderr: `${PROG}: line ${op.line} failed: ${e.text}.\n`, code: 1, changed: false });
      }
      if (e instanceof IptablesError) throw paramError(e, commitLine);
      throw e;
    }
  }
  if (failures.length) throw kernelFail(failures);
  if (s.validate()) throw kernelFail([firstInvalid(nf, name, ops, opts)]);
  return s;
}

/** The kernel replays a failing batch validating after each rule: find the first rule after
 *  which the table is invalid (by bisection over the commands). */
function firstInvalid(nf: Netfilter, name: TableName, ops: Op[], opts: RestoreOptions): KernelFailure {
  const invalidAfter = (k: number): boolean => {
    const s = startState(nf, name, opts.noflush, true);
    const fresh = new Set<string>();
    for (let i = 0; i < k; i++) applyOp(s, ops[i], [], fresh);
    return s.validate() !== undefined;
  };
  let lo = 1;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (invalidAfter(mid)) hi = mid;
    else lo = mid + 1;
  }
  const op = ops[lo - 1];
  const s = startState(nf, name, opts.noflush, true);
  const fresh = new Set<string>();
  for (let i = 0; i < lo; i++) applyOp(s, ops[i], [], fresh);
  const errno = s.validate() ?? 'EINVAL';
  const cmd = op.kind === 'cmd' ? op.args : undefined;
  return {
    op: (cmd && RULE_OP[cmd.command]) ?? 'RULE_APPEND',
    errno,
    object: `rule in chain ${cmd?.chain ?? ''}`,
    line: op.line,
  };
}

/** Runs iptables-restore over `input` against `nf`. */
export function restoreText(nf: Netfilter, input: string, opts: RestoreOptions): RestoreOutcome {
  let changed = false;
  const stdout: string[] = [];
  try {
    let inTable = false;
    let current: TableName | undefined;
    let skipping = false;
    let ops: Op[] = [];
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
      if (inTable && buf.startsWith('COMMIT') && buf.length === 6) {
        inTable = false;
        if (skipping) continue;
        if (!opts.test) {
          const s = commitSection(nf, current!, ops, opts, line, stdout);
          nf.commit(s);
          changed = true;
        }
        ops = [];
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
        ops = [];
        continue;
      }
      if (skipping) continue;
      if (c0 === 58 /* : */ && inTable) {
        const w = words(buf.slice(1));
        if (w.length === 0) throw paramError(new IptablesError(`${PROG}: line ${line} chain name invalid`, 2), line);
        const chain = w[0];
        if (w.length < 2) throw paramError(new IptablesError(`${PROG}: line ${line} policy invalid`, 2), line);
        const builtin = nf.state(current!).chain(chain)?.builtin === true;
        if (builtin) {
          let counters: { packets: number; bytes: number } | undefined;
          if (opts.counters) {
            counters = w[2] !== undefined ? parseCounters(w[2]) : undefined;
            if (!counters) throw paramError(new IptablesError(`invalid policy counters for chain '${chain}'`, 2), line);
          }
          ops.push({ kind: 'policy', line, chain, policy: w[1], counters });
        } else {
          try {
            checkChainName(chain);
          } catch (e) {
            if (e instanceof IptablesError) throw paramError(e, line);
            throw e;
          }
          ops.push({ kind: 'chain', line, name: chain });
        }
        continue;
      }
      if (!inTable) {
        throw new RestoreFail({ stdout: '', stderr: `${PROG}: line ${line} failed\n`, code: 1, changed: false });
      }
      // a command line, maybe after [pkts:bytes]
      let start = 0;
      let counters: [string, string] | undefined;
      if (c0 === 91 /* [ */) {
        const close = buf.indexOf(']');
        const colon = buf.indexOf(':', 1);
        if (close < 0) throw paramError(new IptablesError(`Bad line ${line}: need ]`, 2), line);
        // strtok(buf+1, ":") then strtok(NULL, "]"), as iptables-restore splits them.
        let p = 1;
        while (buf[p] === ':') p++;
        const pEnd = buf.indexOf(':', p);
        if (pEnd < 0 || colon < 0) throw paramError(new IptablesError(`Bad line ${line}: need ]`, 2), line);
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
        parsed = parseArgs(argv, { mode: 'restore', table: current, setExists: nf.setExists });
      } catch (e) {
        if (e instanceof IptablesError) throw paramError(e, line);
        throw e;
      }
      if (parsed.version) {
        stdout.push(`${PROG} ${XT_VERSION}\n`);
        continue;
      }
      ops.push({ kind: 'cmd', line, args: parsed });
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
