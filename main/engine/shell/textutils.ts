// The text tools a console pipes into (`iptables-save | grep cali`, `-L | column -t`), with
// GNU coreutils/grep/util-linux behaviour for the options people actually use.

import { fail, ok, type CommandResult } from './types.ts';

function linesOf(text: string): string[] {
  if (text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

const joinLines = (l: readonly string[]) => (l.length ? l.join('\n') + '\n' : '');

/** GNU grep's basic regular expressions -> JavaScript. */
function breToJs(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && i + 1 < p.length) {
      const n = p[++i];
      out += '(){}|+?'.includes(n) ? n : n === '<' || n === '>' ? '\\b' : '\\' + n;
    } else if ('(){}|+?'.includes(c)) out += '\\' + c;
    else out += c;
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function grep(argv: string[], stdin: string): CommandResult {
  const patterns: string[] = [];
  let invert = false, icase = false, count = false, ere = false, fixed = false, word = false, lineNo = false;
  let quiet = false, only = false;
  const rest: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-e' || a === '--regexp') {
      if (i + 1 >= argv.length) return fail("grep: option requires an argument -- 'e'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.", 2);
      patterns.push(argv[++i]);
    } else if (a.startsWith('--')) {
      const map: Record<string, () => void> = {
        '--invert-match': () => (invert = true), '--ignore-case': () => (icase = true), '--count': () => (count = true),
        '--extended-regexp': () => (ere = true), '--fixed-strings': () => (fixed = true), '--word-regexp': () => (word = true),
        '--line-number': () => (lineNo = true), '--quiet': () => (quiet = true), '--silent': () => (quiet = true),
        '--only-matching': () => (only = true), '--color=never': () => undefined, '--color=auto': () => undefined,
      };
      const f = map[a];
      if (!f) return fail(`grep: unrecognized option '${a}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.`, 2);
      f();
    } else if (a.length > 1 && a[0] === '-') {
      for (const ch of a.slice(1)) {
        if (ch === 'v') invert = true;
        else if (ch === 'i') icase = true;
        else if (ch === 'c') count = true;
        else if (ch === 'E') ere = true;
        else if (ch === 'F') fixed = true;
        else if (ch === 'w') word = true;
        else if (ch === 'n') lineNo = true;
        else if (ch === 'q') quiet = true;
        else if (ch === 'o') only = true;
        else if (ch === 'G') ere = false;
        else return fail(`grep: invalid option -- '${ch}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.`, 2);
      }
    } else rest.push(a);
  }
  if (!patterns.length) {
    if (!rest.length) return fail('Usage: grep [OPTION]... PATTERNS [FILE]...\nTry \'grep --help\' for more information.', 2);
    patterns.push(...rest.shift()!.split('\n'));
  }
  if (rest.length) return fail(`grep: ${rest[0]}: No such file or directory`, 2);
  let re: RegExp;
  try {
    const parts = patterns.map((p) => (fixed ? escapeRe(p) : ere ? p : breToJs(p)));
    const body = parts.map((p) => (word ? `(?<![\\w])(?:${p})(?![\\w])` : `(?:${p})`)).join('|');
    re = new RegExp(body, icase ? 'gi' : 'g');
  } catch {
    return fail('grep: Unmatched ( or \\(', 2);
  }
  const out: string[] = [];
  let n = 0;
  linesOf(stdin).forEach((line, idx) => {
    re.lastIndex = 0;
    const hit = re.test(line);
    if (hit === invert) return;
    n++;
    if (count || quiet) return;
    const prefix = lineNo ? `${idx + 1}:` : '';
    if (only && !invert) {
      re.lastIndex = 0;
      for (const m of line.matchAll(re)) if (m[0]) out.push(prefix + m[0]);
    } else out.push(prefix + line);
  });
  if (quiet) return { stdout: '', stderr: '', code: n ? 0 : 1, changed: false };
  const stdout = count ? `${n}\n` : joinLines(out);
  return { stdout, stderr: '', code: n ? 0 : 1, changed: false };
}

function countArg(argv: string[], tool: 'head' | 'tail'): { n: number; fromStart: boolean } | string {
  let n = 10;
  let fromStart = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    let v: string | undefined;
    if (a === '-n' || a === '--lines') v = argv[++i];
    else if (a.startsWith('-n')) v = a.slice(2);
    else if (a.startsWith('--lines=')) v = a.slice(8);
    else if (/^-[0-9]+$/.test(a)) v = a.slice(1);
    else if (a.startsWith('-')) return `${tool}: invalid option -- '${a.slice(1, 2)}'\nTry '${tool} --help' for more information.`;
    else return `${tool}: cannot open '${a}' for reading: No such file or directory`;
    if (v === undefined) return `${tool}: option requires an argument -- 'n'\nTry '${tool} --help' for more information.`;
    if (v.startsWith('+')) fromStart = true;
    const num = Number(v.replace(/^[+-]/, ''));
    if (!Number.isInteger(num)) return `${tool}: invalid number of lines: ‘${v}’`;
    n = num;
  }
  return { n, fromStart };
}

export function head(argv: string[], stdin: string): CommandResult {
  const c = countArg(argv, 'head');
  if (typeof c === 'string') return fail(c, 1);
  return ok(joinLines(linesOf(stdin).slice(0, c.n)));
}

export function tail(argv: string[], stdin: string): CommandResult {
  const c = countArg(argv, 'tail');
  if (typeof c === 'string') return fail(c, 1);
  const l = linesOf(stdin);
  return ok(joinLines(c.fromStart ? l.slice(Math.max(0, c.n - 1)) : c.n === 0 ? [] : l.slice(-c.n)));
}

export function wc(argv: string[], stdin: string): CommandResult {
  const flags = new Set(argv.slice(1).flatMap((a) => (a.startsWith('-') ? [...a.slice(1)] : [])));
  const lines = (stdin.match(/\n/g) ?? []).length;
  const words = stdin.split(/\s+/).filter(Boolean).length;
  const bytes = new TextEncoder().encode(stdin).length;
  const picked = [flags.has('l') && lines, flags.has('w') && words, flags.has('c') && bytes].filter((x) => x !== false) as number[];
  const vals = picked.length ? picked : [lines, words, bytes];
  if (vals.length === 1) return ok(`${vals[0]}\n`);
  const w = Math.max(...vals.map((v) => String(v).length));
  return ok(vals.map((v) => String(v).padStart(w)).join(' ') + '\n');
}

export function sort(argv: string[], stdin: string): CommandResult {
  let numeric = false, reverse = false, unique = false;
  for (const a of argv.slice(1)) {
    if (!a.startsWith('-')) return fail(`sort: cannot read: ${a}: No such file or directory`, 2);
    for (const ch of a.slice(1)) {
      if (ch === 'n') numeric = true;
      else if (ch === 'r') reverse = true;
      else if (ch === 'u') unique = true;
      else return fail(`sort: invalid option -- '${ch}'\nTry 'sort --help' for more information.`, 2);
    }
  }
  let l = linesOf(stdin);
  const cmp = numeric
    ? (a: string, b: string) => (parseFloat(a) || 0) - (parseFloat(b) || 0) || (a < b ? -1 : a > b ? 1 : 0)
    : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  l = [...l].sort(cmp);
  if (reverse) l.reverse();
  if (unique) l = l.filter((x, i) => i === 0 || cmp(x, l[i - 1]) !== 0);
  return ok(joinLines(l));
}

export function uniq(argv: string[], stdin: string): CommandResult {
  const countFlag = argv.includes('-c');
  const out: string[] = [];
  const l = linesOf(stdin);
  for (let i = 0; i < l.length; ) {
    let j = i;
    while (j < l.length && l[j] === l[i]) j++;
    out.push(countFlag ? `${String(j - i).padStart(7)} ${l[i]}` : l[i]);
    i = j;
  }
  return ok(joinLines(out));
}

/** util-linux `column -t`: every column but the last padded to its width plus two spaces,
 *  short rows padded out to the last column, empty lines dropped. */
export function column(argv: string[], stdin: string): CommandResult {
  if (!argv.slice(1).every((a) => a === '-t')) return fail(`column: unsupported option: ${argv.slice(1).join(' ')}`, 1);
  const rows = linesOf(stdin)
    .map((l) => l.split(/[ \t]+/).filter(Boolean))
    .filter((r) => r.length);
  const ncol = Math.max(0, ...rows.map((r) => r.length));
  const width = new Array<number>(ncol).fill(0);
  for (const r of rows) r.forEach((c, i) => (width[i] = Math.max(width[i], [...c].length)));
  const out = rows.map((r) => {
    let s = '';
    for (let i = 0; i < ncol - 1; i++) {
      const c = r[i] ?? '';
      s += c + ' '.repeat(width[i] - [...c].length + 2);
    }
    return s + (r[ncol - 1] ?? '');
  });
  return ok(joinLines(out));
}

export function echo(argv: string[]): CommandResult {
  let args = argv.slice(1);
  let newline = true;
  while (args[0] === '-n' || args[0] === '-e') {
    if (args[0] === '-n') newline = false;
    args = args.slice(1);
  }
  return ok(args.join(' ') + (newline ? '\n' : ''));
}

export const TEXT_TOOLS: Readonly<Record<string, (argv: string[], stdin: string) => CommandResult>> = {
  grep,
  egrep: (argv, stdin) => grep(['grep', '-E', ...argv.slice(1)], stdin),
  head,
  tail,
  wc,
  sort,
  uniq,
  column,
  echo: (argv) => echo(argv),
  true: () => ok(),
  false: () => ({ stdout: '', stderr: '', code: 1, changed: false }),
};
