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

import { BUILTIN_CHAINS, IptablesError, TABLE_NAMES, type Rule, type TableName } from './types.ts';
import { BareError, KernelError, NotedError, OpError, XT_VERSION, kernelFailureText, type KernelFailure, type KernelOp } from './errors.ts';
import { CMD, checkChainName, lineParser, parseArgs, parserWords, type LineParser, type ParseEnv, type ParsedArgs } from './parse.ts';
import { Netfilter, TableState, freshCopy, type TableImage } from './ruleset.ts';
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

/** The words restore lines repeat most (options, module and verdict names), each kept as
 *  the one string the parser's tables are keyed by: a word of a line equal to one of them
 *  is taken from here rather than sliced out of the line, so it costs no allocation and
 *  the parser's lookups of it compare by identity. A word is looked up by its length and
 *  four of its characters (an open-addressing table); a word of three characters or fewer
 *  is then known exactly (most of a line's known words: -A -p -m -j tcp), a longer one is
 *  compared in full. */
const KNOWN_SLOTS = 2048;
const KNOWN: (string | undefined)[] = new Array<string | undefined>(KNOWN_SLOTS).fill(undefined);
// The sampled characters of each slot's word (two per number) and its length.
const KNOWN_KEY1 = new Int32Array(KNOWN_SLOTS);
const KNOWN_KEY2 = new Int32Array(KNOWN_SLOTS);
const KNOWN_LEN = new Int32Array(KNOWN_SLOTS);
let knownMaxLength = 0;
/** Whether a known word starts with this character: most other words (addresses, ports,
 *  kube-proxy's chain names) are told apart by their first character alone. */
const KNOWN_FIRST = new Uint8Array(0x10000);

// The characters sampled: at 0, 2 (or the last), the middle and the last; for a length of
// three or less, that is every character.
const key1 = (s: string, start: number, len: number) => s.charCodeAt(start) | (s.charCodeAt(start + (len > 2 ? 2 : len - 1)) << 16);
const key2 = (s: string, start: number, len: number) => s.charCodeAt(start + (len >> 1)) | (s.charCodeAt(start + len - 1) << 16);
const slotOf = (k1: number, k2: number, len: number) => (len * 997 + (k1 ^ (k1 >>> 13)) * 131 + (k2 ^ (k2 >>> 11)) * 37) & (KNOWN_SLOTS - 1);

for (const w of new Set(parserWords())) {
  const k1 = key1(w, 0, w.length);
  const k2 = key2(w, 0, w.length);
  let k = slotOf(k1, k2, w.length);
  while (KNOWN[k] !== undefined) k = (k + 1) & (KNOWN_SLOTS - 1);
  KNOWN[k] = w;
  KNOWN_KEY1[k] = k1;
  KNOWN_KEY2[k] = k2;
  KNOWN_LEN[k] = w.length;
  if (w.length > knownMaxLength) knownMaxLength = w.length;
  KNOWN_FIRST[w.charCodeAt(0)] = 1;
}

/** s[start, end) as a string: the known word it equals, else a slice. */
function knownOrSlice(s: string, start: number, end: number): string {
  const len = end - start;
  const c0 = s.charCodeAt(start);
  if (len <= knownMaxLength && KNOWN_FIRST[c0] === 1) {
    const k1 = key1(s, start, len);
    const k2 = key2(s, start, len);
    for (let k = slotOf(k1, k2, len); ; k = (k + 1) & (KNOWN_SLOTS - 1)) {
      const w = KNOWN[k];
      if (w === undefined) break;
      if (KNOWN_LEN[k] === len && KNOWN_KEY1[k] === k1 && KNOWN_KEY2[k] === k2 && (len <= 3 || s.startsWith(w, start))) return w;
    }
  }
  return s.slice(start, end);
}

/** add_param_to_argv: the words of s[from, to) split on blanks, "..." groups with
 *  \-escapes inside (a closing quote ends the word). */
export function splitRestoreLine(s: string, from = 0, to = s.length): string[] {
  const out: string[] = [];
  const n = splitBlanks(s, from, to, out);
  out.length = n;
  return out;
}

/** The words of the lines of one input, read straight from it (no copy of the line) into
 *  one array reused for every line: `words[0, n)` after `read`. Plain words are known words
 *  or slices of the input; only quoted ones are built piece by piece. Where the next tab,
 *  quote and backslash are is remembered, so that each is searched for once per input,
 *  not once per line. */
class LineWords {
  readonly words: string[] = [];
  n = 0;
  private readonly text: string;
  // The next position of each character at or after the last search (-1: none left).
  private tab = -1;
  private quote = -1;
  private backslash = -1;
  private tabFrom = Infinity;
  private quoteFrom = Infinity;
  private backslashFrom = Infinity;

  constructor(text: string) {
    this.text = text;
  }

  /** Whether text[start, end) holds a tab. */
  hasTab(start: number, end: number): boolean {
    const t = this.nextTab(start);
    return t >= 0 && t < end;
  }

  /** The first tab at or after `from`, or -1. */
  private nextTab(from: number): number {
    if (from < this.tabFrom || (this.tab >= 0 && this.tab < from)) {
      this.tab = this.text.indexOf('\t', from);
      this.tabFrom = from;
    }
    return this.tab;
  }

  private nextQuote(from: number): number {
    if (from < this.quoteFrom || (this.quote >= 0 && this.quote < from)) {
      this.quote = this.text.indexOf('"', from);
      this.quoteFrom = from;
    }
    return this.quote;
  }

  private nextBackslash(from: number): number {
    if (from < this.backslashFrom || (this.backslash >= 0 && this.backslash < from)) {
      this.backslash = this.text.indexOf('\\', from);
      this.backslashFrom = from;
    }
    return this.backslash;
  }

  /** The words of text[start, end), a line without its newline. */
  read(start: number, end: number): void {
    this.n = this.hasTab(start, end) ? splitBlanks(this.text, start, end, this.words) : this.splitSpaces(start, end);
  }

  // Searching with indexOf (a builtin that scans fast) beats reading a character at a
  // time, which costs V8 tens of instructions per character.

  /** read() for a line whose only blanks are spaces. */
  private splitSpaces(start: number, end: number): number {
    const s = this.text;
    const out = this.words;
    let n = 0;
    let i = start;
    while (i < end) {
      if (s.charCodeAt(i) === 32) {
        i++;
        continue;
      }
      let sp = s.indexOf(' ', i);
      if (sp < 0 || sp > end) sp = end;
      let quote = this.nextQuote(i);
      if (quote < 0 || quote >= sp) {
        out[n++] = knownOrSlice(s, i, sp);
        i = sp;
        continue;
      }
      // plain text up to the quote, then the quoted text with its escapes, up to the closing
      // quote, which ends the word
      let word = s.slice(i, quote);
      let j = quote + 1;
      quote = this.nextQuote(j);
      let close = quote < 0 || quote >= end ? end : quote;
      let esc = this.nextBackslash(j);
      while (esc >= 0 && esc < close) {
        // an escape; a backslash ending the line escapes nothing and is dropped
        word += s.slice(j, esc) + (esc + 1 < end ? s[esc + 1] : '');
        j = esc + 2;
        if (close < j) {
          quote = this.nextQuote(j);
          close = quote < 0 || quote >= end ? end : quote;
        }
        esc = this.nextBackslash(j);
      }
      if (j < close) word += s.slice(j, close);
      out[n++] = word;
      i = close + 1;
    }
    return n;
  }
}

/** The words of s[from, to) (tabs and newlines are blanks too) into out; returns their
 *  number. A character at a time: only for lines with tabs. */
function splitBlanks(s: string, from: number, to: number, out: string[]): number {
  let n = 0;
  let i = from;
  while (i < to) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10) {
      i++;
      continue;
    }
    // plain characters up to a blank, the end or a quote
    const start = i;
    while (c !== 32 && c !== 9 && c !== 10 && c !== 34) {
      if (++i >= to) break;
      c = s.charCodeAt(i);
    }
    if (i >= to || c !== 34) {
      out[n++] = knownOrSlice(s, start, i);
      continue;
    }
    // a quoted part: up to the closing quote, which also ends the word
    let word = s.slice(start, i);
    let j = ++i;
    while (i < to) {
      const q = s.charCodeAt(i);
      if (q === 34) break;
      if (q === 92 /* \ */) {
        // an escape; a backslash ending the line escapes nothing and is dropped
        word += s.slice(j, i) + (i + 1 < to ? s[i + 1] : '');
        i += 2;
        j = i;
        continue;
      }
      i++;
    }
    if (j < to) word += s.slice(j, Math.min(i, to));
    out[n++] = word;
    if (i < to) i++; // past the closing quote
  }
  return n;
}

/** The name of the chain line text[start, end) in its plain form ":NAME POLICY..." (no tab,
 *  one space after the name), sliced directly; undefined for any other form. */
function plainChainName(text: string, start: number, end: number, words: LineWords): string | undefined {
  const a = text.indexOf(' ', start + 1);
  if (a <= start + 1 || a + 1 >= end || text.charCodeAt(a + 1) === 32 || words.hasTab(start, end)) return undefined;
  return text.slice(start + 1, a);
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

/** The chains a --noflush transaction created (the kernel cannot rename those). Only a
 *  rename asks, so the names are listed and the set is built then. */
class FreshChains {
  private readonly names: string[] = [];
  private set?: Set<string>;

  add(name: string): void {
    if (this.set) this.set.add(name);
    else this.names.push(name);
  }

  has(name: string): boolean {
    return (this.set ??= new Set(this.names)).has(name);
  }
}

/** Runs one op; returns kernel refusals (the op is then not applied). `fresh` is undefined
 *  when the table is replaced: every user chain is then made by the transaction. */
function applyOp(s: TableState, op: Op, out: string[], fresh: FreshChains | undefined): KernelFailure[] {
  if (op.kind === 'policy') {
    if (op.policy === '-') {
      if (!s.chain(op.chain)) throw new OpError('ENOENT', 'Bad built-in chain name');
      s.created.add(op.chain);
      s.present = true;
    } else s.setPolicy(op.chain, op.policy, op.counters);
    return NO_FAILURES;
  }
  if (op.kind === 'chain') {
    if (s.declareChain(op.name)) fresh?.add(op.name);
    return NO_FAILURES;
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
    case CMD.NEW_CHAIN: s.newChain(chain); fresh?.add(chain); return [];
    case CMD.DELETE_CHAIN:
      return (a.chain === undefined ? s.deleteAllChains() : failed(s.deleteChain(chain), op.line)).map((f) => ({ ...f, line: op.line }));
    case CMD.FLUSH: s.flush(a.chain); return [];
    case CMD.ZERO: s.zero(a.chain); return [];
    case CMD.ZERO_NUM: s.zero(a.chain, a.rulenum); return [];
    case CMD.SET_POLICY: s.setPolicy(chain, a.policy!); return [];
    case CMD.RENAME_CHAIN:
      // The kernel cannot rename a chain made in the same transaction (every chain is, when
      // the table is replaced).
      if (s.chain(chain) && !s.chain(chain)!.builtin && (fresh?.has(chain) ?? true) && !s.chain(a.newName!)) {
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

/** How the lines of a section are read: the input's words, and one parser for all of them. */
interface LineReader {
  env: ParseEnv;
  words: LineWords;
  parser: LineParser;
  /** The ops lineToOp returns for command and user chain lines, refilled for each line. */
  cmd: Op & { kind: 'cmd' };
  chain: Op & { kind: 'chain' };
}

function lineReader(nf: Netfilter, table: TableName, words: LineWords, setExists = nf.setExists, nfacctExists = nf.nfacctExists): LineReader {
  const env: ParseEnv = { mode: 'restore', table, setExists, nfacctExists };
  const parser = lineParser(env);
  return { env, words, parser, cmd: { kind: 'cmd', line: 0, args: undefined as unknown as ParsedArgs }, chain: { kind: 'chain', line: 0, name: '' } };
}

/** A copy of the state a section starts from (an empty table, or the host's with --noflush),
 *  for replaying a failed section. */
function startState(nf: Netfilter, name: TableName, noflush: boolean): TableState {
  return noflush ? nf.state(name).clone() : new TableState(name);
}

/** Inputs below this size are small restores (a partial sync of a few chains). */
const SMALL_RESTORE = 256 * 1024;

/** One `*table` ... `COMMIT` section being read. Commands are applied to a working copy as
 *  they are parsed (nothing is kept but the rules); what iptables reports at COMMIT — the
 *  first refused command, the kernel's refusals — is remembered until then. */
class Section {
  readonly name: TableName;
  readonly state: TableState;
  readonly fresh: FreshChains | undefined;
  readonly failures: KernelFailure[] = [];
  /** The first command refused in userspace (reported at COMMIT). */
  error?: RestoreFail | IptablesError;
  /** Where the section's lines start in the input (after its `*table` line) and their first
   *  line number, for replaying a failed validation (its lines are read again then); `to`:
   *  where its COMMIT line starts. */
  from = 0;
  fromLine = 0;
  to = 0;

  constructor(nf: Netfilter, name: TableName, opts: RestoreOptions, small: boolean) {
    this.name = name;
    this.fresh = opts.noflush ? new FreshChains() : undefined;
    if (!opts.noflush) {
      this.state = new TableState(name);
      return;
    }
    // --noflush changes the host's table in place, undone unless COMMIT succeeds. A small
    // restore keeps the table's jump counts and validation memos; a big one rewrites most of
    // the table and is cheaper validated afresh.
    this.state = nf.state(name);
    this.state.begin(true, nf.touched);
    if (!small) this.state.dropCaches();
  }
}

/** The line text[start, end) of a section as an op; parse errors throw (they stop
 *  iptables-restore at once). A command or user chain op is the reader's, valid until the
 *  next line is read. */
function lineToOp(rd: LineReader, text: string, start: number, end: number, line: number, opts: RestoreOptions, stdout: string[]): Op | undefined {
  const table = rd.env.table!;
  const c0 = text.charCodeAt(start);
  if (c0 === 58 /* : */) {
    // A user chain needs only its name (most lines); a built-in one its policy and counters.
    let chain = plainChainName(text, start, end, rd.words);
    if (chain === undefined || (BUILTIN_CHAINS[table] as readonly string[]).includes(chain)) {
      const w = words(text.slice(start + 1, end));
      if (w.length === 0) throw paramError(new IptablesError(`${PROG}: line ${line} chain name invalid`, 2), line);
      chain = w[0];
      if (w.length < 2) throw paramError(new IptablesError(`${PROG}: line ${line} policy invalid`, 2), line);
      if ((BUILTIN_CHAINS[table] as readonly string[]).includes(chain)) {
        let counters: { packets: number; bytes: number } | undefined;
        if (opts.counters) {
          counters = w[2] !== undefined ? parseCounters(w[2]) : undefined;
          if (!counters) throw paramError(new IptablesError(`invalid policy counters for chain '${chain}'`, 2), line);
        }
        return { kind: 'policy', line, chain, policy: w[1], counters };
      }
    }
    try {
      checkChainName(chain);
    } catch (e) {
      if (e instanceof IptablesError) throw paramError(e, line);
      throw e;
    }
    rd.chain.line = line;
    rd.chain.name = chain;
    return rd.chain;
  }
  // a command line, maybe after [pkts:bytes]
  let counters: [string, string] | undefined;
  if (c0 === 91 /* [ */) {
    const buf = text.slice(start, end);
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
    start += close + 1;
  }
  const w = rd.words;
  w.read(start, end);
  if (opts.counters && counters) {
    w.words[w.n++] = '--set-counters';
    w.words[w.n++] = counters[0];
    w.words[w.n++] = counters[1];
  }
  let parsed: ParsedArgs;
  try {
    parsed = rd.parser.parse(w.words, w.n);
  } catch (e) {
    if (e instanceof IptablesError) throw paramError(e, line);
    throw e;
  }
  if (parsed.version) {
    stdout.push(`${PROG} ${XT_VERSION}\n`);
    return undefined;
  }
  rd.cmd.line = line;
  rd.cmd.args = parsed;
  return rd.cmd;
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
function commitSection(nf: Netfilter, sec: Section, input: string, opts: RestoreOptions, commitLine: number): TableState {
  // A failure here is undone by restoreText (the section is still open).
  if (sec.error instanceof RestoreFail) throw sec.error;
  if (sec.error) throw paramError(sec.error, commitLine);
  if (sec.failures.length) throw kernelFail(sec.failures);
  if (sec.state.validate()) {
    // The failing rules are found by replaying the section on the table as it was.
    sec.state.rollback();
    throw kernelFail(invalidRules(nf, sec, input, opts));
  }
  sec.state.end();
  return sec.state;
}

/** The kernel replays a failing batch validating the table after each rule: the first rule
 *  after which it is invalid fails, and so does every later rule while it stays invalid
 *  (found by bisection, then one pass; only removals can make it valid again). */
function invalidRules(nf: Netfilter, sec: Section, input: string, opts: RestoreOptions): KernelFailure[] {
  const ops: Op[] = [];
  const rd = lineReader(nf, sec.name, new LineWords(input));
  // The section's lines as restoreText read them: every one but empty and comment lines.
  let line = sec.fromLine;
  for (let pos = sec.from; pos < sec.to; line++) {
    let end = input.indexOf('\n', pos);
    if (end < 0) end = input.length;
    const start = pos;
    pos = end + 1;
    if (end === start || input.charCodeAt(start) === 35 /* # */) continue;
    const op = lineToOp(rd, input, start, end, line, opts, []);
    // kept: copies of the reader's ops (refilled by the next line)
    if (op?.kind === 'cmd') ops.push({ kind: 'cmd', line: op.line, args: { ...op.args, rules: op.args.rules.slice() } });
    else if (op?.kind === 'chain') ops.push({ kind: 'chain', line: op.line, name: op.name });
    else if (op) ops.push(op);
  }
  const replay = (k: number) => {
    const s = startState(nf, sec.name, opts.noflush);
    const fresh = opts.noflush ? new FreshChains() : undefined;
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

/** One step of reading a restore input: a section starts (`pos`: where its lines start),
 *  an op, or a COMMIT (`start`: where its line starts). */
type ReadEvent =
  | { kind: 'table'; line: number; name: TableName; pos: number }
  | { kind: 'op'; op: Op }
  | { kind: 'commit'; line: number; start: number };

/**
 * While `sharingReadings` runs, the last big input read whole, kept for a restore of the same
 * text on another host: kube-proxy writes the same 170,000 rules to every node of a cluster,
 * and reading them is most of a restore. Reading depends on the text alone when no set was
 * looked up, no counters were given and every table was read (no -T, no --test); the ops are
 * then applied afresh on the other host (its chains, the kernel's checks), each rule a copy
 * of the one read. Its rules are the first host's own (copied when used: that host may count
 * packets on them meanwhile); a table that is as the first host's was is not even written
 * again: it gets the first host's outcome (see Twin). Outside such a pass nothing is kept (a
 * reading held on to would cost a lab of one big host 20 MB for nothing).
 */
let readings: { last?: Reading } | null = null;

interface Reading {
  text: string;
  noflush: boolean;
  events: ReadEvent[];
  /** The nfacct objects the reading looked up, and whether each existed: a host where they
   *  do as well reads the same (kube-proxy makes its two on every node before it writes). */
  nfacct?: Map<string, boolean>;
  /** What the restore did to the first host's tables, for a host whose tables are as those
   *  were (see Twin). */
  twin?: Twin;
}

/**
 * What a --noflush restore did to each table whose outcome depends on nothing but the text and
 * the table as it was, which was small: the table before it as a key, the chains the text
 * wrote (each only with rules of its own: declared, or empty before) and the table as it left
 * it. A second node of a cluster usually has the first node's nat table when kube-proxy first
 * writes its 200,000 rules there (their filter tables differ: Felix's chains for each node's
 * pods): it gets copies of the first node's chains instead of reading and checking every line
 * again (TableState.twin).
 */
interface Twin {
  tables: Map<TableName, TwinTable>;
}

interface TwinTable {
  before: string;
  wrote: Set<string>;
  after: TableImage;
}

/** Whether twins are made (tests turn them off to compare), and how many tables were. */
export const restoreTwins = { enabled: true, made: 0 };

/** Tables above this many rules are not compared for a twin (a later sync's are big). */
const TWIN_MAX_RULES = 5000;

/**
 * While a restore is read on the first host: which of its sections can be twins, followed op
 * by op as each is read (a pass over the kept ops afterwards would touch 200,000 objects
 * again). A section can when its table was small (`before`, its key) and its ops are only
 * chain lines, appends to chains that hold no older rules, and deletions of chains.
 */
class TwinRecorder {
  private readonly done = new Map<TableName, TwinTable>();
  private readonly seen = new Set<TableName>();
  private name: TableName | undefined;
  private before: string | null = null;
  /** The section's table, changed in place as its ops are applied (after `op` sees each). */
  private state: TableState | undefined;
  private declared = new Set<string>();
  private wrote = new Set<string>();
  /** The chain of the last append looked at: a chain's rules come together. */
  private appended = '';

  /** A section starts, on `st` as it is before it. */
  table(name: TableName, st: TableState): void {
    // (a table in two sections is not a twin: the second starts from the first's outcome)
    if (this.seen.has(name)) this.done.delete(name);
    this.before = this.seen.has(name) ? null : st.key(TWIN_MAX_RULES);
    this.seen.add(name);
    this.name = name;
    this.state = st;
    this.declared = new Set();
    this.wrote = new Set();
    this.appended = '';
  }

  op(op: Op): void {
    if (this.before === null) return;
    if (op.kind === 'chain') {
      this.declared.add(op.name);
      this.wrote.add(op.name);
      return;
    }
    if (op.kind !== 'cmd') {
      this.before = null;
      return;
    }
    const a = op.args;
    if (a.command === CMD.APPEND) {
      const chain = a.chain ?? '';
      if (chain === this.appended) return;
      this.appended = chain;
      // (a chain the text has not written yet holds what it held before the restore)
      if (!this.declared.has(chain) && !this.wrote.has(chain) && (this.state?.chain(chain)?.rules.length ?? 0) > 0) this.before = null;
      else this.wrote.add(chain);
    } else if (a.command !== CMD.DELETE_CHAIN || a.chain === undefined) this.before = null;
  }

  /** The section's COMMIT went through: `st` is the table it left. */
  commit(st: TableState): void {
    if (this.name && this.before !== null) this.done.set(this.name, { before: this.before, wrote: this.wrote, after: st.image() });
    this.before = null;
  }

  twin(): Twin | undefined {
    return this.done.size > 0 ? { tables: this.done } : undefined;
  }
}

/** The twins `nf` can take: those of its tables that are as the first host's were. */
function twinsFor(nf: Netfilter, twin: Twin | undefined): Map<TableName, TwinTable> | undefined {
  if (!twin || !restoreTwins.enabled || nf.touched !== null) return undefined;
  let out: Map<TableName, TwinTable> | undefined;
  for (const [name, t] of twin.tables) if (nf.state(name).key(TWIN_MAX_RULES) === t.before) (out ??= new Map()).set(name, t);
  return out;
}

/** Runs `fn` (the restores of one sync pass over several hosts) sharing their readings. */
export function sharingReadings<T>(fn: () => T): T {
  if (readings) return fn();
  readings = {};
  try {
    return fn();
  } finally {
    readings = null;
  }
}

/** An op read before, for another host: rule commands get copies of their rules. */
function reusedOp(op: Op): Op {
  if (op.kind !== 'cmd') return op;
  const a = op.args;
  const rules = a.rules.map(freshCopy);
  return { kind: 'cmd', line: op.line, args: a.command === CMD.APPEND ? appendArgs(a.table, a.chain, rules) : { ...a, rules } };
}

/** An op to keep in a reading (the reader refills its own), or undefined when the reading
 *  cannot be reused (a rule read with counters). */
function keptOp(op: Op): Op | undefined {
  if (op.kind === 'chain') return { kind: 'chain', line: op.line, name: op.name };
  if (op.kind !== 'cmd') return op;
  const a = op.args;
  for (const r of a.rules) if (r.packets !== 0 || r.bytes !== 0) return undefined;
  // An append (nearly every line kept) needs its chain and rules only: a small object, not a
  // copy of all the parser's fields, for each of 200,000 lines held until the pass ends.
  if (a.command === CMD.APPEND) return { kind: 'cmd', line: op.line, args: appendArgs(a.table, a.chain, a.rules.slice()) };
  return { kind: 'cmd', line: op.line, args: { ...a, rules: a.rules.slice() } };
}

/** What applyOp reads of a kept append (the other fields as a parse leaves them). */
function appendArgs(table: string, chain: string | undefined, rules: Rule[]): ParsedArgs {
  return { command: CMD.APPEND, table, chain, rules } as Partial<ParsedArgs> as ParsedArgs;
}

/** Runs iptables-restore over `input` against `nf`. */
export function restoreText(nf: Netfilter, input: string, opts: RestoreOptions): RestoreOutcome {
  let changed = false;
  const stdout: string[] = [];
  // The section being read: its changes are undone if the restore stops before its COMMIT.
  let sec: Section | undefined;
  const kept = readings;
  const reusable = kept !== null && input.length >= SMALL_RESTORE && !opts.counters && !opts.test && opts.table === undefined;
  const last = kept?.last;
  const sameAcct = (seen: Map<string, boolean> | undefined) => !seen || [...seen].every(([name, was]) => (nf.nfacctExists?.(name) ?? true) === was);
  const reread = reusable && last !== undefined && last.noflush === opts.noflush && last.text === input && sameAcct(last.nfacct) ? last.events : undefined;
  const acctSeen = new Map<string, boolean>();
  // (the reading of this input, while it can be kept)
  let events: ReadEvent[] | undefined = reusable && !reread ? [] : undefined;
  // (a --noflush reading: what its twins need, see Twin)
  const twins = events && opts.noflush ? new TwinRecorder() : undefined;
  const startSection = (name: TableName, pos: number, line: number) => {
    twins?.table(name, nf.state(name));
    sec = new Section(nf, name, opts, input.length < SMALL_RESTORE);
    sec.from = pos;
    sec.fromLine = line + 1;
  };
  const commit = (start: number, line: number) => {
    sec!.to = start;
    const st = commitSection(nf, sec!, input, opts, line);
    nf.commit(st);
    twins?.commit(st);
    changed = true;
    sec = undefined;
  };
  try {
    if (reread) {
      const taken = twinsFor(nf, last!.twin);
      // (a twin table is committed at once, its section's ops skipped)
      let twinned = false;
      // (an index, not an iterator: 200,000 events)
      for (let i = 0; i < reread.length; i++) {
        const ev = reread[i];
        if (ev.kind === 'op') {
          if (!twinned) sectionApply(sec!, reusedOp(ev.op), stdout);
        } else if (ev.kind === 'table') {
          const t = taken?.get(ev.name);
          twinned = t !== undefined;
          if (!t) startSection(ev.name, ev.pos, ev.line);
          else {
            nf.commit(nf.state(ev.name).twin(t.after, t.wrote));
            restoreTwins.made++;
            changed = true;
          }
        } else if (twinned) twinned = false;
        else commit(ev.start, ev.line);
      }
      return { stdout: stdout.join(''), stderr: '', code: 0, changed };
    }
    let inTable = false;
    let current: TableName | undefined;
    let rd: LineReader | undefined;
    const inputWords = new LineWords(input);
    let skipping = false;
    let line = 0;
    let pos = 0;
    const n = input.length;
    while (pos < n) {
      let end = input.indexOf('\n', pos);
      if (end < 0) end = n;
      const start = pos;
      const len = end - start;
      pos = end + 1;
      line++;
      if (len === 0) continue;
      const c0 = input.charCodeAt(start);
      if (c0 === 35 /* # */) continue;
      if (inTable && len === 6 && input.startsWith('COMMIT', start)) {
        inTable = false;
        if (skipping) continue;
        events?.push({ kind: 'commit', line, start });
        if (sec) commit(start, line);
        continue;
      }
      if (c0 === 42 /* * */ && !inTable) {
        const w = words(input.slice(start + 1, end));
        if (w.length === 0) throw paramError(new IptablesError(`${PROG}: line ${line} table name invalid`, 2), line);
        const name = w[0];
        if (!(TABLE_NAMES as readonly string[]).includes(name)) {
          throw paramError(new IptablesError(`${PROG}: line ${line} table name '${name}' invalid`, 2), line);
        }
        current = name as TableName;
        // (a reading that looked a set up depends on the host's sets: it is not kept; the nfacct
        // objects it looks up are noted, see Reading.nfacct)
        const exists = nf.setExists;
        const acct = nf.nfacctExists;
        rd = lineReader(
          nf,
          current,
          inputWords,
          events && exists ? (set) => ((events = undefined), exists(set)) : exists,
          events && acct
            ? (name) => {
                const found = acct(name);
                acctSeen.set(name, found);
                return found;
              }
            : acct,
        );
        skipping = opts.table !== undefined && opts.table !== name;
        if (skipping) continue;
        inTable = true;
        events?.push({ kind: 'table', line, name: current, pos });
        if (!opts.test) startSection(current, pos, line);
        continue;
      }
      if (skipping) continue;
      if (!inTable) {
        throw new RestoreFail({ stdout: '', stderr: `${PROG}: line ${line} failed\n`, code: 1, changed: false });
      }
      const op = lineToOp(rd!, input, start, end, line, opts, stdout);
      if (events) {
        const kept = op && keptOp(op);
        if (kept) {
          events.push({ kind: 'op', op: kept });
          twins?.op(op!);
        } else events = undefined;
      }
      if (!op || !sec) continue;
      sectionApply(sec, op, stdout);
    }
    if (inTable) {
      throw new RestoreFail({ stdout: '', stderr: `${PROG}: COMMIT expected at line ${line + 1}\n`, code: 1, changed: false });
    }
    if (events && kept) {
      const twin = stdout.length === 0 ? twins?.twin() : undefined;
      kept.last = { text: input, noflush: opts.noflush, events, ...(twin ? { twin } : {}), ...(acctSeen.size ? { nfacct: acctSeen } : {}) };
    }
  } catch (e) {
    (sec as Section | undefined)?.state.rollback();
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
