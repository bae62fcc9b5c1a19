// The iptables, iptables-save and iptables-restore commands of a lab host, printing what
// iptables v1.8.9 (nf_tables) prints, with its exit statuses: 1 for a refused operation,
// 2 for a parameter problem, 3 for an unknown table, 4 when the kernel refuses the change.

import { fail, ok, type CommandResult } from './types.ts';
import { IptablesError, TABLE_NAMES, type TableName } from '../netfilter/types.ts';
import { BareError, KernelError, NotedError, OpError, XT_VERSION } from '../netfilter/errors.ts';
import { CMD, parseArgs, type ParsedArgs } from '../netfilter/parse.ts';
import type { Netfilter } from '../netfilter/ruleset.ts';
import { listChains, ruleLineVerbose } from '../netfilter/list.ts';
import { SAVE_ORDER, listRules, orderedChains, saveTable } from '../netfilter/save.ts';
import { restoreText } from '../netfilter/restore.ts';
import { IPTABLES_HELP } from './iptables-help.ts';
import { MATCH_HELP, TARGET_HELP } from './iptables-module-help.ts';

/** The text iptables prints on stderr for an error, and its exit status. */
export function formatIptablesError(prog: string, e: IptablesError): { stderr: string; code: number } {
  if (e instanceof OpError) return { stderr: `${e.message}\n`, code: 1 };
  let s = e instanceof NotedError ? e.note : '';
  if (e instanceof BareError) s += e.message ? `${e.message}\n` : '';
  else s += `${prog} ${XT_VERSION}: ${e.message}\n`;
  if (e.status === 2) s += `Try \`${prog} -h' or '${prog} --help' for more information.\n`;
  if (e.status === 3) s += 'Perhaps iptables or your kernel needs to be upgraded.\n';
  return { stderr: s, code: e.status };
}

/** What -v makes iptables print before it acts. */
function verboseText(nf: Netfilter, a: ParsedArgs): string {
  const st = nf.state(a.table as TableName);
  const userSorted = () => [...st.table.chains.values()].filter((c) => !c.builtin).map((c) => c.name).sort();
  const lines = (verb: string, names: string[]) => names.map((n) => `${verb} chain \`${n}'\n`).join('');
  switch (a.command) {
    case CMD.APPEND: case CMD.INSERT: case CMD.REPLACE: case CMD.DELETE: case CMD.CHECK:
      return a.rules.map((r) => ruleLineVerbose(r) + '\n').join('');
    case CMD.FLUSH:
      return lines('Flushing', a.chain !== undefined ? [a.chain] : orderedChains(st.table).map((c) => c.name));
    case CMD.ZERO: {
      const builtins = [...st.table.chains.values()].filter((c) => c.builtin && st.created.has(c.name)).map((c) => c.name);
      return lines('Zeroing', a.chain !== undefined ? [a.chain] : builtins.concat(userSorted()));
    }
    case CMD.DELETE_CHAIN:
      return lines('Deleting', a.chain !== undefined ? [a.chain] : userSorted());
    default:
      return '';
  }
}

function run(nf: Netfilter, a: ParsedArgs): { stdout: string; changed: boolean } {
  const table = a.table as TableName;
  const chain = a.chain ?? '';
  switch (a.command) {
    case CMD.APPEND: nf.append(table, chain, a.rules); return { stdout: '', changed: true };
    case CMD.INSERT: nf.insert(table, chain, a.rulenum ?? 1, a.rules); return { stdout: '', changed: true };
    case CMD.REPLACE: nf.replace(table, chain, a.rulenum!, a.rules[0]); return { stdout: '', changed: true };
    case CMD.DELETE: nf.deleteRule(table, chain, a.rules); return { stdout: '', changed: true };
    case CMD.DELETE_NUM: nf.deleteNum(table, chain, a.rulenum!); return { stdout: '', changed: true };
    case CMD.CHECK: nf.check(table, chain, a.rules); return { stdout: '', changed: false };
    case CMD.NEW_CHAIN: nf.newChain(table, chain); return { stdout: '', changed: true };
    case CMD.DELETE_CHAIN: nf.deleteChain(table, a.chain); return { stdout: '', changed: true };
    case CMD.FLUSH: nf.flush(table, a.chain); return { stdout: '', changed: true };
    case CMD.ZERO: nf.zero(table, a.chain); return { stdout: '', changed: true };
    case CMD.ZERO_NUM: nf.zero(table, a.chain, a.rulenum); return { stdout: '', changed: true };
    case CMD.SET_POLICY: nf.setPolicy(table, chain, a.policy!); return { stdout: '', changed: true };
    case CMD.RENAME_CHAIN: nf.renameChain(table, chain, a.newName!); return { stdout: '', changed: true };
    default:
      return list(nf, table, a);
  }
}

/** -L / -S, with -Z listed first then zeroed. */
function list(nf: Netfilter, table: TableName, a: ParsedArgs): { stdout: string; changed: boolean } {
  const st = nf.state(table);
  if (a.chain !== undefined && !st.chain(a.chain)) {
    throw new IptablesError(`chain \`${a.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
  }
  const stdout = a.command & CMD.LIST
    ? listChains(st, { chain: a.chain, rulenum: a.rulenum, numeric: a.numeric, verbose: a.verbose, exact: a.exact, lineNumbers: a.lineNumbers, services: nf.services })
    : listRules(st.table, { chain: a.chain !== undefined ? st.chain(a.chain) : undefined, rulenum: a.rulenum, counters: a.verbose });
  if (a.command & (CMD.ZERO | CMD.ZERO_NUM)) {
    if (!st.present) {
      const first = st.table.chains.keys().next().value ?? '';
      const e = new KernelError([{ op: 'CHAIN_ZERO', errno: 'ENOENT', object: `chain ${first}` }]);
      throw Object.assign(e, { stdout });
    }
    // Listing makes iptables-nft create the built-in chains it shows, then zeroes them.
    if (a.chain === undefined) for (const c of st.table.chains.values()) if (c.builtin) st.created.add(c.name);
    nf.zero(table, a.chain, a.command & CMD.ZERO_NUM ? a.rulenum : undefined);
    return { stdout, changed: true };
  }
  return { stdout, changed: false };
}

/** `iptables ARGS` */
export function iptables(argv: string[], _stdin: string, nf: Netfilter): CommandResult {
  const prog = 'iptables';
  let parsed: ParsedArgs;
  const early: string[] = [];
  try {
    parsed = parseArgs(argv.slice(1), { mode: 'command', setExists: nf.setExists, nfacctExists: nf.nfacctExists, warnings: early });
  } catch (e) {
    if (e instanceof IptablesError) {
      const f = formatIptablesError(prog, e);
      return fail(early.map((w) => w + '\n').join('') + f.stderr, f.code);
    }
    throw e;
  }
  if (parsed.help) return ok(IPTABLES_HELP + moduleHelp(parsed.helpModules));
  if (parsed.version) return ok(`${prog} ${XT_VERSION}\n`);
  const warnings = parsed.warnings.map((w) => w + '\n').join('');
  if (!(TABLE_NAMES as readonly string[]).includes(parsed.table)) {
    const f = formatIptablesError(prog, new IptablesError(`table '${parsed.table}' does not exist`, 3));
    return fail(warnings + f.stderr, f.code);
  }
  const echo = parsed.verbose ? verboseText(nf, parsed) : '';
  try {
    const r = run(nf, parsed);
    return { stdout: echo + r.stdout, stderr: warnings, code: 0, changed: r.changed };
  } catch (e) {
    if (e instanceof IptablesError) {
      const f = formatIptablesError(prog, e);
      const stdout = echo + ((e as { stdout?: string }).stdout ?? '');
      return { stdout, stderr: warnings + f.stderr, code: f.code, changed: false };
    }
    throw e;
  }
}

/** getopt_long over a small option table: [short letter, long name, takes an argument]. */
interface SimpleOpt {
  c: string;
  long: string;
  arg: 0 | 1 | 2;
}

function simpleGetopt(
  prog: string,
  args: readonly string[],
  table: readonly SimpleOpt[],
): { opts: { c: string; arg?: string }[]; rest: string[] } | { error: string } {
  const opts: { c: string; arg?: string }[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const exact = table.find((o) => o.long === name);
      const cands = exact ? [exact] : table.filter((o) => o.long.startsWith(name));
      if (cands.length !== 1) return { error: `${prog}: unrecognized option '${a}'` };
      const o = cands[0];
      let arg = eq < 0 ? undefined : a.slice(eq + 1);
      if (o.arg === 1 && arg === undefined) {
        if (i + 1 >= args.length) return { error: `${prog}: option '--${o.long}' requires an argument` };
        arg = args[++i];
      }
      if (o.arg === 2 && arg === undefined && i + 1 < args.length && /^\d+$/.test(args[i + 1])) arg = args[++i];
      opts.push({ c: o.c, arg });
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const o = table.find((t) => t.c === a[k]);
        if (!o) return { error: `${prog}: invalid option -- '${a[k]}'` };
        let arg: string | undefined;
        if (o.arg !== 0 && k + 1 < a.length) {
          arg = a.slice(k + 1);
          k = a.length;
        } else if (o.arg === 1) {
          if (i + 1 >= args.length) return { error: `${prog}: option requires an argument -- '${o.c}'` };
          arg = args[++i];
        } else if (o.arg === 2 && i + 1 < args.length && /^\d+$/.test(args[i + 1])) arg = args[++i];
        opts.push({ c: o.c, arg });
      }
    } else rest.push(a);
  }
  return { opts, rest };
}

const SAVE_OPTS: readonly SimpleOpt[] = [
  { c: 'c', long: 'counters', arg: 0 }, { c: 'd', long: 'dump', arg: 0 }, { c: 't', long: 'table', arg: 1 },
  { c: 'M', long: 'modprobe', arg: 1 }, { c: 'f', long: 'file', arg: 1 }, { c: '4', long: 'ipv4', arg: 0 },
  { c: '6', long: 'ipv6', arg: 0 }, { c: 'V', long: 'version', arg: 0 }, { c: 'b', long: 'binary', arg: 0 },
];

/** `iptables-save [-c] [-t table]`; `clock` (seconds) dates the header and footer. */
export function iptablesSave(argv: string[], _stdin: string, nf: Netfilter, clock: number): CommandResult {
  const prog = 'iptables-save';
  const g = simpleGetopt(prog, argv.slice(1), SAVE_OPTS);
  if ('error' in g) return fail(`${g.error}\nLook at manual page \`${prog}.8' for more information.\n`, 1);
  let counters = false;
  let table: string | undefined;
  let stderr = '';
  for (const o of g.opts) {
    if (o.c === 'c') counters = true;
    else if (o.c === 't') table = o.arg;
    else if (o.c === 'V') return ok(`${prog} ${XT_VERSION}\n`);
    else if (o.c === 'b') stderr += '-b/--binary option is not implemented\n';
    else if (o.c === 'f') return fail(`Failed to open file, error: Read-only file system\n`, 1);
  }
  if (g.rest.length) return fail('Unknown arguments found on commandline\n', 1);
  if (table !== undefined) {
    if (!(TABLE_NAMES as readonly string[]).includes(table)) {
      return { stdout: '', stderr: `${stderr}Table \`${table}' does not exist\n`, code: 1, changed: false };
    }
    return { stdout: saveTable(nf.state(table as TableName).table, { counters, clock }), stderr, code: 0, changed: false };
  }
  let out = '';
  for (const t of SAVE_ORDER) {
    const tab = nf.table(t);
    if (tab) out += saveTable(tab, { counters, clock });
  }
  return { stdout: out, stderr, code: 0, changed: false };
}

const RESTORE_OPTS: readonly SimpleOpt[] = [
  { c: 'b', long: 'binary', arg: 0 }, { c: 'c', long: 'counters', arg: 0 }, { c: 'v', long: 'verbose', arg: 0 },
  { c: 'V', long: 'version', arg: 0 }, { c: 't', long: 'test', arg: 0 }, { c: 'h', long: 'help', arg: 0 },
  { c: 'n', long: 'noflush', arg: 0 }, { c: 'w', long: 'wait', arg: 2 }, { c: 'W', long: 'wait-interval', arg: 2 },
  { c: 'M', long: 'modprobe', arg: 1 }, { c: 'T', long: 'table', arg: 1 }, { c: '4', long: 'ipv4', arg: 0 },
  { c: '6', long: 'ipv6', arg: 0 },
];

/** iptables-nft-restore's usage, which -h prints on stderr. */
const RESTORE_HELP = `Usage: iptables-restore [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]
	   [ --counters ]
	   [ --verbose ]
	   [ --version]
	   [ --test ]
	   [ --help ]
	   [ --noflush ]
	   [ --table=<TABLE> ]
	   [ --modprobe=<command> ]
	   [ --ipv4 ]
	   [ --ipv6 ]
`;

/** `iptables-restore [-c] [-n] [-t] [-T table]` reading `stdin`. */
export function iptablesRestore(argv: string[], stdin: string, nf: Netfilter): CommandResult {
  const prog = 'iptables-restore';
  const g = simpleGetopt(prog, argv.slice(1), RESTORE_OPTS);
  if ('error' in g) return fail(`${g.error}\nTry \`${prog} -h' for more information.\n`, 1);
  const opts = { counters: false, noflush: false, test: false, table: undefined as string | undefined };
  for (const o of g.opts) {
    if (o.c === 'c') opts.counters = true;
    else if (o.c === 'n') opts.noflush = true;
    else if (o.c === 't') opts.test = true;
    else if (o.c === 'T') opts.table = o.arg;
    else if (o.c === 'V') return ok(`${prog} ${XT_VERSION}\n`);
    else if (o.c === 'h') return { stdout: '', stderr: RESTORE_HELP, code: 0, changed: false };
  }
  if (g.rest.length) return fail(`Can't open ${g.rest[0]}: No such file or directory\n`, 1);
  return restoreText(nf, stdin, opts);
}

/** The loaded modules' help after iptables' own: the target's, then each match's in the order
 *  given; with no match, the protocol's (`-p tcp -h`). */
function moduleHelp(h: ParsedArgs['helpModules']): string {
  if (!h) return '';
  let out = h.target ? (TARGET_HELP[h.target] ?? '') : '';
  for (const m of h.matches) out += MATCH_HELP[m] ?? '';
  // (by its name only: `-p 6 -h` loads nothing)
  if (!h.matches.length && h.proto) out += MATCH_HELP[h.proto.toLowerCase()] ?? '';
  return out;
}
