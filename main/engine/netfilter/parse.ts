// iptables' command line, read the way iptables 1.8.9 reads it: getopt_long in "return in
// order" mode over the base options plus the options of every module loaded so far (`-m`,
// `-j`, and the implicit `-m tcp` that an unknown option loads when `-p tcp` was given).
// A module's options take precedence over those of modules loaded before it, long options
// may be abbreviated to any unique prefix, `--opt=value` works, and `!` inverts the next
// option. Errors are the real ones, in the order iptables finds them.

import { IptablesError, type AddrSpec, type IfaceSpec, type MatchModule, type MatchSpec, type ParseCtx, type ProtoSpec, type Rule, type TableName, type TargetModule } from './types.ts';
import { MATCHES } from './matches/index.ts';
import { TARGETS } from './targets/index.ts';
import { BareError } from './errors.ts';
import { protoByName, protoName } from './services.ts';
import { counterClock } from './counter-clock.ts';
import { strtoui } from './xtopt.ts';
import { maskOf, maskLen } from '../net/ipv4.ts';
import { parseIptAddress, resolveHost } from './addr.ts';
import { nftMatches } from './nft-normalize.ts';

export const CMD = {
  INSERT: 1, DELETE: 2, DELETE_NUM: 4, REPLACE: 8, APPEND: 16, LIST: 32, FLUSH: 64, ZERO: 128,
  NEW_CHAIN: 256, DELETE_CHAIN: 512, SET_POLICY: 1024, RENAME_CHAIN: 2048, LIST_RULES: 4096,
  ZERO_NUM: 8192, CHECK: 16384,
} as const;

/** cmd2char: the letter of the lowest command bit. */
const CMD_CHARS = 'IDDRALFZNXPESZC';
function cmdChar(bits: number): string {
  let i = 0;
  while (i < CMD_CHARS.length && !(bits & (1 << i))) i++;
  return CMD_CHARS[i] ?? '?';
}

// Option bits (OPT_*), their letters and which accept `!`.
const OPT = {
  NUMERIC: 1, SOURCE: 2, DESTINATION: 4, PROTOCOL: 8, JUMP: 16, VERBOSE: 32, EXPANDED: 64,
  VIANAMEIN: 128, VIANAMEOUT: 256, LINENUMBERS: 512, COUNTERS: 1024, FRAGMENT: 2048,
} as const;
const OPT_CHARS = 'nsdpjvxio0cf';
const OPT_INVERTIBLE = [false, true, true, true, false, false, false, true, true, false, false, true];

/** Which options each command refuses (generic_opt_check), by OPT bit index. */
const ILLEGAL: Record<number, string> = {
  [CMD.INSERT]: 'x     x  x  ',
  [CMD.DELETE]: 'x     x  xx ',
  [CMD.DELETE_NUM]: 'xxxxx xxxxxx',
  [CMD.REPLACE]: 'x     x  x  ',
  [CMD.APPEND]: 'x     x  x  ',
  [CMD.LIST]: ' xxxx  xx xx',
  [CMD.FLUSH]: 'xxxxx xxxxxx',
  [CMD.ZERO]: 'xxxxx xxxxxx',
  [CMD.ZERO_NUM]: 'xxxxx xxxxxx',
  [CMD.NEW_CHAIN]: 'xxxxx xxxxxx',
  [CMD.DELETE_CHAIN]: 'xxxxx xxxxxx',
  [CMD.SET_POLICY]: 'xxxxx xxxx x',
  [CMD.RENAME_CHAIN]: 'xxxxx xxxxxx',
  [CMD.LIST_RULES]: 'xxxxx xxxxxx',
  [CMD.CHECK]: 'x     x  xx ',
};

const ILLEGAL_ROWS: readonly (readonly [number, string])[] = Object.entries(ILLEGAL).map(([b, r]) => [Number(b), r]);
const ILLEGAL_MASKS = new Map<number, number>();

/** The options (OPT bits) that none of the commands in `command` allows. */
function illegalMask(command: number): number {
  let m = ILLEGAL_MASKS.get(command);
  if (m === undefined) {
    m = 0;
    for (let k = 0; k < OPT_CHARS.length; k++) {
      let legal = 0;
      for (const [bit, row] of ILLEGAL_ROWS) {
        if (!(command & bit)) continue;
        if (row[k] !== 'x') legal = 1;
        else if (legal === 0) legal = -1;
      }
      if (legal === -1) m |= 1 << k;
    }
    ILLEGAL_MASKS.set(command, m);
  }
  return m;
}

/** Verdicts that are not chains. */
export const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/** Target extensions installed with iptables 1.8.9 beyond the lab's modules: a chain may not
 *  be named like one of them. */
const SYSTEM_TARGETS = new Set([
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNMARK', 'CONNSECMARK', 'CT', 'DNAT', 'DSCP', 'ECN',
  'HMARK', 'IDLETIMER', 'LED', 'LOG', 'MARK', 'MASQUERADE', 'NETMAP', 'NFLOG', 'NFQUEUE', 'NOTRACK',
  'RATEEST', 'REDIRECT', 'REJECT', 'SECMARK', 'SET', 'SNAT', 'SYNPROXY', 'TCPMSS', 'TCPOPTSTRIP', 'TEE',
  'TOS', 'TPROXY', 'TRACE', 'TTL', 'ULOG',
]);

/** The target modules `-j NAME` loads (a verdict never does): one lookup per jump. */
const JUMP_MODULES: ReadonlyMap<string, TargetModule> = new Map([...TARGETS].filter(([n]) => !STANDARD_TARGETS.has(n)));

/** Every name isTargetName knows, in one set (one lookup per chain name). */
const TARGET_NAMES = new Set([...STANDARD_TARGETS, ...TARGETS.keys(), ...SYSTEM_TARGETS]);

export function isTargetName(name: string): boolean {
  return TARGET_NAMES.has(name);
}

/** XT_EXTENSION_MAXNAMELEN: names must be shorter than this. */
export const MAX_NAME = 29;

/** isspace(): a regular expression tests a name twice as fast as a loop over its characters. */
const BLANK = /[\t-\r ]/;

/** assert_valid_chain_name (for -N and restore's chain lines). */
export function checkChainName(name: string): void {
  if (name.length >= MAX_NAME) {
    throw new IptablesError(`chain name \`${name}' too long (must be under ${MAX_NAME} chars)`, 2);
  }
  if (name[0] === '-' || name[0] === '!') throw new IptablesError(`chain name not allowed to start with \`${name[0]}'`, 2);
  if (isTargetName(name)) throw new IptablesError('chain name may not clash with target name', 2);
  if (BLANK.test(name)) throw new IptablesError(`Invalid chain name \`${name}'`, 2);
}

// ---------------------------------------------------------------------------------------------
// Base options

interface BaseOpt {
  c: string; // the short letter (or '0' for --line-numbers)
  arg: 0 | 1 | 2; // none, required, optional
}

const LONG: Record<string, BaseOpt> = {
  append: { c: 'A', arg: 1 }, delete: { c: 'D', arg: 1 }, check: { c: 'C', arg: 1 }, insert: { c: 'I', arg: 1 },
  replace: { c: 'R', arg: 1 }, list: { c: 'L', arg: 2 }, 'list-rules': { c: 'S', arg: 2 }, flush: { c: 'F', arg: 2 },
  zero: { c: 'Z', arg: 2 }, 'new-chain': { c: 'N', arg: 1 }, 'delete-chain': { c: 'X', arg: 2 },
  'rename-chain': { c: 'E', arg: 1 }, policy: { c: 'P', arg: 1 }, source: { c: 's', arg: 1 },
  destination: { c: 'd', arg: 1 }, src: { c: 's', arg: 1 }, dst: { c: 'd', arg: 1 }, protocol: { c: 'p', arg: 1 },
  'in-interface': { c: 'i', arg: 1 }, jump: { c: 'j', arg: 1 }, table: { c: 't', arg: 1 }, match: { c: 'm', arg: 1 },
  numeric: { c: 'n', arg: 0 }, 'out-interface': { c: 'o', arg: 1 }, verbose: { c: 'v', arg: 0 },
  wait: { c: 'w', arg: 2 }, 'wait-interval': { c: 'W', arg: 2 }, exact: { c: 'x', arg: 0 },
  fragments: { c: 'f', arg: 0 }, version: { c: 'V', arg: 0 }, help: { c: 'h', arg: 2 },
  'line-numbers': { c: '0', arg: 0 }, modprobe: { c: 'M', arg: 1 }, 'set-counters': { c: 'c', arg: 1 },
  goto: { c: 'g', arg: 1 }, ipv4: { c: '4', arg: 0 }, ipv6: { c: '6', arg: 0 },
};
const LONG_NAMES = Object.keys(LONG);
const LONG_RESOLVED = new Map<string, Resolved>(LONG_NAMES.map((n) => [n, { kind: 'base', c: LONG[n].c, arg: LONG[n].arg }]));
const LONG_BY_TOKEN = new Map<string, Resolved>(LONG_NAMES.map((n) => ['--' + n, LONG_RESOLVED.get(n)!]));

/** A module's options as the parser resolves them ("--opt" and "opt" -> the option), built
 *  once per module so that resolving an option allocates nothing. */
interface ModOptions {
  byToken: Map<string, ModOpt>;
  byName: Map<string, ModOpt>;
}
const MOD_OPTIONS = new WeakMap<object, ModOptions>();
function modOptions(mod: { options: Readonly<Record<string, number>> }): ModOptions {
  let m = MOD_OPTIONS.get(mod);
  if (!m) {
    m = { byToken: new Map(), byName: new Map() };
    for (const [opt, n] of Object.entries(mod.options)) {
      const r: ModOpt = { kind: 'mod', opt, nargs: n };
      m.byToken.set('--' + opt, r);
      m.byName.set(opt, r);
    }
    MOD_OPTIONS.set(mod, m);
  }
  return m;
}

/** Every "--name" token of the base options and of the modules, with what it resolves to:
 *  the base option, else the option of each module that has one of that name (one lookup
 *  per option instead of one per loaded module). */
interface TokenInfo {
  base: Resolved | undefined;
  owners: (MatchModule | TargetModule)[];
  opts: ModOpt[];
}
const TOKENS = new Map<string, TokenInfo>();
for (const [token, r] of LONG_BY_TOKEN) TOKENS.set(token, { base: r, owners: [], opts: [] });
for (const mod of [...MATCHES.values(), ...TARGETS.values()]) {
  for (const [token, r] of modOptions(mod).byToken) {
    let t = TOKENS.get(token);
    if (!t) TOKENS.set(token, (t = { base: undefined, owners: [], opts: [] }));
    t.owners.push(mod);
    t.opts.push(r);
  }
}

/** The short options of IPT_OPTSTRING with their argument kind, by character code (-1: not
 *  an option). */
const SHORT = new Int8Array(128).fill(-1);
for (const [c, kind] of Object.entries({
  A: 1, C: 1, D: 1, R: 1, I: 1, L: 2, S: 2, M: 1, F: 2, Z: 2, N: 1, X: 2, E: 1, P: 1, V: 0, h: 2, o: 1,
  p: 1, s: 1, d: 1, j: 1, i: 1, f: 0, b: 0, v: 0, w: 2, W: 2, n: 0, t: 1, m: 1, x: 0, c: 1, g: 1, '4': 0, '6': 0,
})) SHORT[c.charCodeAt(0)] = kind;

/** The words the parser looks up by their exact text (options as typed, module and verdict
 *  names, the short options), as the very strings its tables are keyed by. */
export function parserWords(): string[] {
  const out = [...LONG_BY_TOKEN.keys(), ...STANDARD_TARGETS];
  for (const c of 'ACDRILSMFZNXEPVhopsdjifbvwWntmxcg46') out.push('-' + c);
  for (const mod of [...MATCHES.values(), ...TARGETS.values()]) out.push(mod.name, ...modOptions(mod).byToken.keys());
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface ParseEnv {
  mode: 'command' | 'restore';
  /** The table of the iptables-restore section (restore refuses -t). */
  table?: TableName;
  /** Collects warnings (kept when parsing then fails: iptables prints them first). */
  warnings?: string[];
  setExists?: (name: string) => boolean;
  nfacctExists?: (name: string) => boolean;
}

export interface ParsedArgs {
  command: number;
  table: string;
  chain?: string;
  rulenum?: number;
  newName?: string;
  policy?: string;
  /** One rule per source x destination address (rule commands only). */
  rules: Rule[];
  numeric: boolean;
  verbose: boolean;
  exact: boolean;
  lineNumbers: boolean;
  counters?: { packets: number; bytes: number };
  help: boolean;
  /** With `help`: the modules loaded before -h, whose options iptables prints after its own
   *  (`standard`: a verdict's). */
  helpModules?: { target?: string; matches: string[]; proto?: string };
  version: boolean;
  /** Printed on stderr, the command still runs ("Warning: weird character in interface"). */
  warnings: string[];
}

interface Loaded {
  match: MatchModule | undefined;
  target: TargetModule | undefined;
  data: unknown;
  /** The module's options (looked up once per instance, not per option). */
  opts: ModOptions;
  /** The module `opts` belong to. */
  module: MatchModule | TargetModule | undefined;
  /** How many of its options were given. */
  options: number;
  /** The shared data of the module given no option (a BARE match), else undefined. */
  bare: MatchSpec | undefined;
}

/** An option of a loaded module (which instance it belongs to is kept beside it). */
interface ModOpt {
  kind: 'mod';
  opt: string;
  nargs: number;
}

type Resolved =
  | { kind: 'base'; c: string; arg: 0 | 1 | 2 }
  | ModOpt
  | { kind: 'unknown' };

const UNKNOWN: Resolved = { kind: 'unknown' };

/** Matches whose data, given no option, is the same for every rule (their finish only checks
 *  -p): such a match (`-m tcp` alone, as in every kube-proxy DNAT rule) is one object shared
 *  by all those rules, as match data is never changed after parsing. */
const BARE = new Set(['tcp', 'udp']);
const BARE_MATCHES = new Map<string, MatchSpec>();
function bareMatch(mod: MatchModule): MatchSpec {
  let m = BARE_MATCHES.get(mod.name);
  if (!m) BARE_MATCHES.set(mod.name, (m = { module: mod.name, data: mod.create() }));
  return m;
}
const NO_ARGS: string[] = [];
/** The rules of a non-rule command read by a line parser (never added to). */
const NO_RULES: Rule[] = [];
const EMPTY_OPTIONS: ModOptions = { byToken: new Map(), byName: new Map() };

/** -s/-d absent from a rule command: one rule for any address. Shared: never changed. */
const ANY_ADDR: readonly AddrSpec[] = [{ addr: 0, len: 0, neg: false }];
const NO_ADDR: readonly AddrSpec[] = [];

/** One ProtoSpec per protocol and inversion: rules share them (they are never changed). */
const PROTO_SPECS = new Map<number, ProtoSpec>();
function protoSpec(num: number, neg: boolean): ProtoSpec {
  const key = neg ? -1 - num : num;
  let p = PROTO_SPECS.get(key);
  if (!p) {
    p = { num, neg };
    PROTO_SPECS.set(key, p);
  }
  return p;
}

const perr = (msg: string) => new IptablesError(msg, 2);
const NO_WARNINGS: string[] = [];


function parseRulenum(s: string): number {
  const n = strtoui(s, 1, 0x7fffffff);
  if (n === undefined) throw perr(`Invalid rule number \`${s}'`);
  return n;
}

/** xtables_parse_protocol on the lower-cased name. */
export function parseProtocol(s: string): number {
  const c = s.charCodeAt(0);
  const n = c >= 48 && c <= 57 ? strtoui(s, 0, 255) : undefined;
  if (n !== undefined) return n;
  const p = protoByName(s);
  if (p === undefined) throw perr(`unknown protocol "${s}" specified`);
  return p;
}

/** One item of -s/-d: "addr[/len|/mask]" with the host bits cleared. */
function parseAddrItem(item: string, neg: boolean): AddrSpec {
  const slash = item.lastIndexOf('/');
  let host = item;
  let mask = 0xffffffff;
  if (slash >= 0) {
    host = item.slice(0, slash);
    const m = item.slice(slash + 1);
    // A dotted mask needs four parts, so a mask without dots can only be a length.
    const dotted = m.indexOf('.') < 0 ? null : parseIptAddress(m, true);
    if (dotted !== null) mask = dotted;
    else {
      const bits = strtoui(m, 0, 32);
      if (bits === undefined) throw perr(`invalid mask \`${m}' specified`);
      mask = maskOf(bits);
    }
  }
  if (mask === 0) host = '0.0.0.0';
  const a = resolveHost(host) ?? networkByName(host);
  if (a === null) throw perr(`host/network \`${host}' not found`);
  const len = maskLen(mask);
  // The lab keeps prefixes only; iptables would accept a non-contiguous mask here.
  if (len < 0) throw perr(`invalid mask \`${item.slice(slash + 1)}' specified`);
  return { addr: (a & mask) >>> 0, len, neg };
}

/** /etc/networks names (getnetbyname). */
function networkByName(s: string): number | null {
  if (s === 'default') return 0;
  if (s === 'loopback') return 0x7f000000;
  if (s === 'link-local') return 0xa9fe0000;
  return null;
}

/** The addresses of -s/-d, `neg` when inverted. Rules share them (they are never changed). */
function parseAddrList(spec: string, neg: boolean, one: AddrSpec[]): readonly AddrSpec[] {
  if (spec.indexOf(',') < 0) {
    // one address (nearly every rule): the parser's own array, used only while it builds rules
    one[0] = parseAddrItem(spec, neg);
    return one;
  }
  return spec.split(',').map((item) => parseAddrItem(item, neg));
}

function parseIface(name: string, warnings: string[]): string {
  if (name.length + 1 > 16) throw perr(`interface name \`${name}' must be shorter than IFNAMSIZ (15)`);
  if (!name.endsWith('+') && (name.includes('/') || name.includes(' '))) {
    warnings.push(`Warning: weird character in interface \`${name}' ('/' and ' ' are not allowed by the kernel).`);
  }
  return name;
}

/** Command lines being read: getopt's state plus what the options set, reset for each line
 *  (iptables-restore parses tens of thousands of lines with one parser: a parser object per
 *  line was a large part of all that a restore allocated). */

class ArgParser {
  private out!: ParsedArgs;
  private readonly ctx: ParseCtx;
  /** The modules loaded so far, in order: the first `nLoaded` slots. The slots' objects are
   *  reused from line to line (their data objects are made anew: rules keep those). */
  private readonly loaded: Loaded[] = [];
  private nLoaded = 0;
  private target: Loaded | undefined;
  private jumpName: string | undefined;
  private gotoFlag = false;
  private options = 0;
  private invflags = 0;
  private invert = false;
  private protoUsed = false;
  private protocolName: string | undefined;
  private srcSpec: string | undefined;
  private dstSpec: string | undefined;
  private inIface: IfaceSpec | undefined;
  private outIface: IfaceSpec | undefined;
  private fragment = false;
  private tableSet = false;
  private wait = false;
  private waitInterval = false;
  private unknownArgs = false;
  /** The loaded module the option last resolved to a ModOpt belongs to. */
  private optInst: Loaded | undefined;
  private readonly oneSrc: AddrSpec[] = [ANY_ADDR[0]];
  private readonly oneRule: Rule[] = [];
  private lastProto: string | undefined;
  private lastProtoName = '';
  private lastProtoNum = 0;
  private readonly oneDst: AddrSpec[] = [ANY_ADDR[0]];
  private oneArg: string[] | undefined;
  private twoArgs: string[] | undefined;
  private args: readonly string[] = NO_ARGS;
  /** The number of words of the line in `args` (a reused array may hold more). */
  private n = 0;
  private readonly env: ParseEnv;

  /** Whether parse() may return the same ParsedArgs object every time (lineParser). */
  private readonly reuse: boolean;

  constructor(env: ParseEnv, reuse = false) {
    this.env = env;
    this.reuse = reuse;
    this.ctx = { table: (env.table ?? 'filter') as TableName, proto: undefined, mode: env.mode, setExists: env.setExists, nfacctExists: env.nfacctExists };
  }

  /** Parses the first `n` words of `args` (the parser keeps neither the array nor the result). */
  parse(args: readonly string[], n: number): ParsedArgs {
    this.args = args;
    this.n = n;
    // Every field from the start (absent ones undefined): one object, no property store
    // added to it later.
    const env = this.env;
    const out = this.reuse ? this.out : undefined;
    if (out !== undefined) {
      // A line parser's result is read before the next line is parsed: one object for all.
      out.command = 0;
      out.table = env.table ?? 'filter';
      out.chain = out.rulenum = out.newName = out.policy = out.counters = undefined;
      out.rules = NO_RULES;
      out.numeric = out.verbose = out.exact = out.lineNumbers = out.help = out.version = false;
      out.helpModules = undefined;
      out.warnings = env.warnings ?? NO_WARNINGS;
    } else {
      this.out = {
        command: 0, table: env.table ?? 'filter', chain: undefined, rulenum: undefined, newName: undefined,
        policy: undefined, rules: this.reuse ? NO_RULES : [], numeric: false, verbose: false, exact: false, lineNumbers: false,
        counters: undefined, help: false, version: false, warnings: env.warnings ?? NO_WARNINGS,
      };
    }
    this.ctx.table = (env.table ?? 'filter') as TableName;
    this.ctx.proto = undefined;
    this.nLoaded = 0;
    this.target = this.optInst = undefined;
    this.jumpName = this.protocolName = this.srcSpec = this.dstSpec = undefined;
    this.inIface = this.outIface = undefined;
    this.gotoFlag = this.invert = this.protoUsed = this.fragment = false;
    this.wait = this.waitInterval = this.unknownArgs = false;
    this.options = this.invflags = 0;
    this.tableSet = env.mode === 'restore';
    return this.run();
  }

  /** Loads a module instance into the next slot. */
  private load(match: MatchModule | undefined, target: TargetModule | undefined, mod: MatchModule | TargetModule): Loaded {
    let l = this.loaded[this.nLoaded];
    if (l === undefined) this.loaded[this.nLoaded] = l = { match: undefined, target: undefined, data: undefined, opts: EMPTY_OPTIONS, module: undefined, options: 0, bare: undefined };
    this.nLoaded++;
    l.match = match;
    l.target = target;
    l.options = 0;
    // Lines like one another load the same modules in the same slots: most keep their options.
    if (l.module !== mod) {
      l.module = mod;
      l.opts = modOptions(mod);
      l.bare = match !== undefined && BARE.has(mod.name) ? bareMatch(match) : undefined;
    }
    // A bare tcp/udp match shares one data object: its own is made once an option is given.
    l.data = l.bare !== undefined ? undefined : mod.create();
    return l;
  }

  /** Whether word i is an optional argument (not an option or `!`). */
  private hasArg(i: number): boolean {
    if (i >= this.n) return false;
    const c = this.args[i].charCodeAt(0);
    return c !== 45 /* - */ && c !== 33 /* ! */;
  }

  /** The warnings list, made on first use (most commands have none). */
  private warnings(): string[] {
    if (this.out.warnings === NO_WARNINGS) this.out.warnings = [];
    return this.out.warnings;
  }

  private setOption(bit: number) {
    const idx = 31 - Math.clz32(bit);
    if (this.options & bit) throw perr(`multiple -${OPT_CHARS[idx]} flags not allowed`);
    this.options |= bit;
    if (this.invert) {
      if (!OPT_INVERTIBLE[idx]) throw perr(`cannot have ! before -${OPT_CHARS[idx]}`);
      this.invflags |= bit;
    }
  }
  private addCommand(newcmd: number, others: number) {
    if (this.invert) throw perr('unexpected ! flag');
    if (this.out.command & ~others) throw perr(`Cannot use -${cmdChar(newcmd)} with -${cmdChar(this.out.command & ~others)}`);
    this.out.command |= newcmd;
  }

  /**
   * Whether slot k holds the first instance of its module. iptables merges a module's options
   * into getopt's table once, when its first instance loads (newest first); a later instance
   * of it is a clone that takes them over and marks the earlier ones completed. So an option
   * goes to the newest module, by first load, that has it, and there to its newest instance:
   * in `-m connmark --mark A -m mark --mark B -m connmark --mark C`, C is the mark match's
   * (and refused: "can only be used once").
   */
  private firstOfModule(k: number): boolean {
    const mod = this.loaded[k].module;
    for (let j = 0; j < k; j++) if (this.loaded[j].module === mod) return false;
    return true;
  }

  /** The newest instance of the module in slot k. */
  private newestOf(k: number): Loaded {
    const mod = this.loaded[k].module;
    for (let j = this.nLoaded - 1; j > k; j--) if (this.loaded[j].module === mod) return this.loaded[j];
    return this.loaded[k];
  }

  /** The option a whole "--name" word names exactly (the common case: no slicing). */
  private resolveToken(word: string): Resolved | undefined {
    const t = TOKENS.get(word);
    if (t === undefined) return undefined;
    if (t.base !== undefined) return t.base;
    // The newest module that has the option (see firstOfModule).
    for (let k = this.nLoaded - 1; k >= 0; k--) {
      const inst = this.loaded[k];
      for (let j = 0; j < t.owners.length; j++) {
        if (t.owners[j] === inst.module && this.firstOfModule(k)) {
          this.optInst = this.newestOf(k);
          return t.opts[j];
        }
      }
    }
    return undefined;
  }

  private resolveLong(name: string): Resolved {
    const b = LONG_RESOLVED.get(name);
    if (b) return b;
    for (let k = this.nLoaded - 1; k >= 0; k--) {
      const hit = this.loaded[k].opts.byName.get(name);
      if (hit !== undefined && this.firstOfModule(k)) {
        this.optInst = this.newestOf(k);
        return hit;
      }
    }
    // getopt_long: a unique prefix (aliases of one base option count once).
    let found: Resolved | undefined;
    let foundInst: Loaded | undefined;
    let foundKey = '';
    for (const ln of LONG_NAMES) {
      if (!ln.startsWith(name)) continue;
      const key = 'base:' + LONG[ln].c;
      if (found && foundKey !== key) return UNKNOWN;
      found = LONG_RESOLVED.get(ln)!;
      foundKey = key;
    }
    // (a clone's options are its first instance's: each module's are looked at once)
    for (let k = this.nLoaded - 1; k >= 0; k--) {
      if (!this.firstOfModule(k)) continue;
      for (const [on, r] of this.loaded[k].opts.byName) {
        if (!on.startsWith(name)) continue;
        const key = `${k}:${on}`;
        if (found && foundKey !== key) return UNKNOWN;
        found = r;
        foundInst = this.newestOf(k);
        foundKey = key;
      }
    }
    if (foundInst) this.optInst = foundInst;
    return found ?? UNKNOWN;
  }

  /** load_proto: the implicit `-m tcp` for an option no loaded module knows. */
  private loadProto(): boolean {
    if (this.protocolName === undefined || this.protoUsed) return false;
    const n = strtoui(this.protocolName, 0, 255);
    const name = n !== undefined ? protoName(n, true) : this.protocolName;
    const mod = name !== undefined ? MATCHES.get(name) : undefined;
    if (!mod) return false;
    this.protoUsed = true;
    this.load(mod, undefined, mod);
    return true;
  }

  private loadMatch(name: string) {
    if (this.invert) throw perr('unexpected ! flag before --match');
    const mod = MATCHES.get(name);
    if (!mod) throw perr(`Couldn't load match \`${name}':No such file or directory\n`);
    this.load(mod, undefined, mod);
  }

  private parseTargetName(name: string): string {
    if (name.length < 1) throw perr('Invalid target name (too short)');
    if (name.length >= MAX_NAME) throw perr(`Invalid target name \`${name}' (${MAX_NAME - 1} chars max)`);
    if (BLANK.test(name)) throw perr(`Invalid target name \`${name}'`);
    return name;
  }

  // Handles one base option `c` with its argument (undefined when none); `i` is the index of
  // the next unread argument; returns the new index. `word` is the argv element the argument
  // came from (iptables reads -p's from there: "-ptcp" and "--protocol=tcp" fail).
  private base(c: string, optarg: string | undefined, i: number, word?: string): number {
    switch (c) {
      case 'A': this.addCommand(CMD.APPEND, 0); this.out.chain = optarg; return i;
      case 'C': this.addCommand(CMD.CHECK, 0); this.out.chain = optarg; return i;
      case 'D':
        this.addCommand(CMD.DELETE, 0);
        this.out.chain = optarg;
        if (this.hasArg(i)) {
          this.out.rulenum = parseRulenum(this.args[i]);
          this.out.command = CMD.DELETE_NUM;
          return i + 1;
        }
        return i;
      case 'R':
        this.addCommand(CMD.REPLACE, 0);
        this.out.chain = optarg;
        if (!this.hasArg(i)) throw perr('-R requires a rule number');
        this.out.rulenum = parseRulenum(this.args[i]);
        return i + 1;
      case 'I':
        this.addCommand(CMD.INSERT, 0);
        this.out.chain = optarg;
        if (this.hasArg(i)) {
          this.out.rulenum = parseRulenum(this.args[i]);
          return i + 1;
        }
        this.out.rulenum = 1;
        return i;
      case 'L':
      case 'S': {
        this.addCommand(c === 'L' ? CMD.LIST : CMD.LIST_RULES, CMD.ZERO | CMD.ZERO_NUM);
        if (optarg !== undefined) this.out.chain = optarg;
        else if (this.hasArg(i)) this.out.chain = this.args[i++];
        if (this.hasArg(i)) this.out.rulenum = parseRulenum(this.args[i++]);
        return i;
      }
      case 'F':
        this.addCommand(CMD.FLUSH, 0);
        if (optarg !== undefined) this.out.chain = optarg;
        else if (this.hasArg(i)) this.out.chain = this.args[i++];
        return i;
      case 'Z':
        this.addCommand(CMD.ZERO, CMD.LIST | CMD.LIST_RULES);
        if (optarg !== undefined) this.out.chain = optarg;
        else if (this.hasArg(i)) this.out.chain = this.args[i++];
        if (this.hasArg(i)) {
          this.out.rulenum = parseRulenum(this.args[i++]);
          this.out.command = (this.out.command & ~CMD.ZERO) | CMD.ZERO_NUM;
        }
        return i;
      case 'N':
        checkChainName(optarg!);
        this.addCommand(CMD.NEW_CHAIN, 0);
        this.out.chain = optarg;
        return i;
      case 'X':
        this.addCommand(CMD.DELETE_CHAIN, 0);
        if (optarg !== undefined) this.out.chain = optarg;
        else if (this.hasArg(i)) this.out.chain = this.args[i++];
        return i;
      case 'E':
        this.addCommand(CMD.RENAME_CHAIN, 0);
        this.out.chain = optarg;
        if (!this.hasArg(i)) throw perr('-E requires old-chain-name and new-chain-name');
        this.out.newName = this.args[i];
        return i + 1;
      case 'P':
        this.addCommand(CMD.SET_POLICY, 0);
        this.out.chain = optarg;
        if (!this.hasArg(i)) throw perr('-P requires a chain and a policy');
        this.out.policy = this.args[i];
        return i + 1;
      case 'h': {
        this.out.help = true;
        const matches: string[] = [];
        for (let k = 0; k < this.nLoaded; k++) {
          const m = this.loaded[k].match;
          if (m) matches.push(m.name);
        }
        const verdict = this.jumpName !== undefined && ['ACCEPT', 'DROP', 'RETURN', 'QUEUE'].includes(this.jumpName);
        const target = this.target?.target?.name ?? (verdict ? 'standard' : undefined);
        this.out.helpModules = { matches, ...(target ? { target } : {}), ...(this.protocolName ? { proto: this.protocolName } : {}) };
        return i;
      }
      case 'V':
        this.out.version = true;
        return i;
      case 'p': {
        this.setOption(OPT.PROTOCOL);
        // The protocol of the line before is most often given again (the same word, when
        // read by iptables-restore): its lower-cased name and number are kept.
        const given = word ?? optarg!;
        let name: string;
        let num: number;
        if (given === this.lastProto) {
          name = this.lastProtoName;
          num = this.lastProtoNum;
        } else {
          name = given.toLowerCase();
          num = parseProtocol(name);
          this.lastProto = given;
          this.lastProtoName = name;
          this.lastProtoNum = num;
        }
        this.protocolName = name;
        if (num === 0 && this.invflags & OPT.PROTOCOL) throw perr('rule would never match protocol');
        this.ctx.proto = protoSpec(num, (this.invflags & OPT.PROTOCOL) !== 0);
        return i;
      }
      case 's': this.setOption(OPT.SOURCE); this.srcSpec = optarg; return i;
      case 'd': this.setOption(OPT.DESTINATION); this.dstSpec = optarg; return i;
      case 'i':
        this.setOption(OPT.VIANAMEIN);
        this.inIface = { name: parseIface(optarg!, this.warnings()), neg: (this.invflags & OPT.VIANAMEIN) !== 0 };
        return i;
      case 'o':
        this.setOption(OPT.VIANAMEOUT);
        this.outIface = { name: parseIface(optarg!, this.warnings()), neg: (this.invflags & OPT.VIANAMEOUT) !== 0 };
        return i;
      case 'f': this.setOption(OPT.FRAGMENT); this.fragment = true; return i;
      case 'j':
      case 'g': {
        this.setOption(OPT.JUMP);
        this.jumpName = this.parseTargetName(optarg!);
        this.gotoFlag = c === 'g';
        if (c === 'j') {
          const mod = JUMP_MODULES.get(this.jumpName);
          if (mod) this.target = this.load(undefined, mod, mod);
        }
        return i;
      }
      case 'm': this.loadMatch(optarg!); return i;
      case 'n': this.setOption(OPT.NUMERIC); this.out.numeric = true; return i;
      case 'v':
        if (!this.out.verbose) this.setOption(OPT.VERBOSE);
        this.out.verbose = true;
        return i;
      case 'x': this.setOption(OPT.EXPANDED); this.out.exact = true; return i;
      case '0':
        if (this.invert) throw perr('unexpected ! flag before --line-numbers');
        this.setOption(OPT.LINENUMBERS);
        this.out.lineNumbers = true;
        return i;
      case 't':
        if (this.invert) throw perr('unexpected ! flag before --table');
        if (this.tableSet && this.env.mode === 'restore') throw perr('The -t option cannot be used in iptables-restore.\n');
        this.out.table = optarg!;
        this.ctx.table = optarg as TableName;
        this.tableSet = true;
        return i;
      case 'w':
        if (this.env.mode === 'restore') throw perr("You cannot use `-w' from iptables-restore");
        this.wait = true;
        if (optarg === undefined && this.hasArg(i)) {
          if (!/^\s*[+-]?\d+/.test(this.args[i])) throw perr('wait seconds not numeric');
          return i + 1;
        }
        return i;
      case 'W':
        if (optarg === undefined) {
          if (!this.hasArg(i)) throw perr('wait interval value required');
          i++;
        }
        this.warnings().push('Ignoring deprecated --wait-interval option.');
        this.waitInterval = true;
        return i;
      case 'c': {
        this.setOption(OPT.COUNTERS);
        const pcnt = optarg!;
        const comma = pcnt.indexOf(',', 1);
        let bcnt: string | undefined;
        if (comma >= 0) bcnt = pcnt.slice(comma + 1);
        else if (this.hasArg(i)) bcnt = this.args[i++];
        if (bcnt === undefined) throw perr('-c requires packet and byte counter');
        const pm = /^\s*\+?(\d+)/.exec(pcnt);
        if (!pm) throw perr('-c packet counter not numeric');
        const bm = /^\s*\+?(\d+)/.exec(bcnt);
        if (!bm) throw perr('-c byte counter not numeric');
        this.out.counters = { packets: Number(pm[1]), bytes: Number(bm[1]) };
        counterClock.ticks++;
        return i;
      }
      case '6':
        throw new BareError('', 2); // iptables prints only the "Try" line
      default:
        return i; // -M, -4, -b: accepted and ignored
    }
  }

  private modOption(r: ModOpt, inst: Loaded, typed: string, inline: string | undefined, i: number): number {
    const mod = inst.match ?? inst.target!;
    inst.options++;
    if (inst.data === undefined) inst.data = mod.create();
    // The parser's arrays for an option's arguments, refilled for each option (modules read
    // them during the call and keep none): an array per option was a fair share of all that
    // a restore allocates.
    let vals = NO_ARGS;
    if (r.nargs > 0) {
      let first: string;
      if (inline !== undefined) first = inline;
      else if (i < this.n) first = this.args[i++];
      else throw perr(`option "${typed}" requires an argument`);
      if (r.nargs > 1) {
        if (!this.hasArg(i)) throw perr(`--${r.opt} requires two args.`);
        vals = this.twoArgs ??= ['', ''];
        vals[1] = this.args[i++];
      } else vals = this.oneArg ??= [''];
      vals[0] = first;
    } else if (inline !== undefined) {
      throw perr(`unknown option "${typed}=${inline}"`);
    }
    if (this.invert && !mod.invertible?.includes(r.opt)) throw perr(`${mod.name}: option "--${r.opt}" cannot be inverted.\n`);
    mod.parse(inst.data as never, r.opt, vals, this.invert, this.ctx);
    this.invert = false;
    return i;
  }


  private run(): ParsedArgs {
    let i = 0;
    while (i < this.n) {
      const a = this.args[i];
      const dash = a.charCodeAt(0) === 45; /* - */
      if (dash && a.length > 2 && a.charCodeAt(1) === 45) {
        // long option: as typed (no option name has a '='), else "--name=value" or a prefix
        let r = this.resolveToken(a);
        const eq = r === undefined ? a.indexOf('=') : -1;
        const inline = eq < 0 ? undefined : a.slice(eq + 1);
        r ??= this.resolveLong(eq < 0 ? a.slice(2) : a.slice(2, eq));
        if (r.kind === 'unknown') {
          if (this.loadProto()) continue;
          throw perr(`unknown option "${a}"`);
        }
        if (r.kind === 'mod') {
          const inst = this.optInst!;
          if (r.nargs > 0 && inline === undefined && i + 1 >= this.n && this.loadProto()) continue;
          i = this.modOption(r, inst, eq < 0 ? a : a.slice(0, eq), inline, i + 1);
          continue;
        }
        let optarg: string | undefined;
        let next = i + 1;
        let word: string | undefined;
        if (r.arg === 1) {
          if (inline !== undefined) {
            optarg = inline;
            word = a;
          } else if (next < this.n) optarg = this.args[next++];
          else {
            this.loadProto();
            throw perr(`option "${a}" requires an argument`);
          }
        } else if (r.arg === 2) optarg = inline;
        else if (inline !== undefined) throw perr(`unknown option "${a}"`);
        i = this.base(r.c, optarg, next, word);
        if (r.c !== 'h' && r.c !== 'V') this.invert = false;
        if (this.out.help || this.out.version) return this.out;
        continue;
      }
      if (dash && a.length >= 2 && a !== '--') {
        // a cluster of short options
        let next = i + 1;
        for (let k = 1; k < a.length; k++) {
          const c = a[k];
          const code = a.charCodeAt(k);
          const kind = code < 128 ? SHORT[code] : -1;
          if (kind < 0) {
            if (k === 1 && this.loadProto()) {
              next = i; // retry the whole word with the new options
              break;
            }
            throw perr(`unknown option "${a}"`);
          }
          let optarg: string | undefined;
          let word: string | undefined;
          if (kind !== 0 && k + 1 < a.length) {
            optarg = a.slice(k + 1);
            word = a;
            k = a.length;
          } else if (kind === 1) {
            if (next < this.n) optarg = this.args[next++];
            else {
              this.loadProto();
              throw perr(`option "${a}" requires an argument`);
            }
          }
          next = this.base(c, optarg, next, word);
          this.invert = false;
          if (this.out.help || this.out.version) return this.out;
        }
        i = next;
        continue;
      }
      // a non-option
      if (a === '!') {
        if (this.invert) throw perr('multiple consecutive ! not allowed');
        this.invert = true;
        i++;
        continue;
      }
      if (a === '--') {
        // getopt stops here; anything after is left over.
        this.unknownArgs = i + 1 < this.n;
        break;
      }
      throw new BareError(`Bad argument \`${a}'`, 2);
    }

    if (this.unknownArgs) throw perr('unknown arguments found on commandline');
    if (this.invert) throw perr('nothing appropriate following !');
    if (!this.out.command) throw perr('no command specified');
    if (this.waitInterval && !this.wait) throw perr('--wait-interval only makes sense with --wait\n');
    if (this.out.table === 'nat' && (this.out.policy === 'DROP' || this.jumpName === 'DROP')) {
      throw perr('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
    }
    for (let k = 0; k < this.nLoaded; k++) {
      const l = this.loaded[k];
      (l.match ?? l.target!).finish?.((l.data ?? l.bare!.data) as never, this.ctx);
    }

    const ruleCmd = (this.out.command & (CMD.APPEND | CMD.DELETE | CMD.INSERT | CMD.REPLACE | CMD.CHECK)) !== 0;
    const srcNeg = (this.invflags & OPT.SOURCE) !== 0;
    const dstNeg = (this.invflags & OPT.DESTINATION) !== 0;
    const srcs = this.srcSpec !== undefined ? parseAddrList(this.srcSpec, srcNeg, this.oneSrc) : ruleCmd ? ANY_ADDR : NO_ADDR;
    const dsts = this.dstSpec !== undefined ? parseAddrList(this.dstSpec, dstNeg, this.oneDst) : ruleCmd ? ANY_ADDR : NO_ADDR;
    if ((srcs.length > 1 || dsts.length > 1) && this.invflags & (OPT.SOURCE | OPT.DESTINATION)) {
      throw perr('! not allowed with multiple source or destination IP addresses');
    }
    if (this.out.command === CMD.REPLACE && (srcs.length !== 1 || dsts.length !== 1)) {
      throw perr('Replacement rule does not specify a unique address');
    }
    // generic_opt_check: an option is legal when any of the given commands allows it.
    const illegal = this.options & illegalMask(this.out.command);
    if (illegal) throw perr(`Illegal option \`-${OPT_CHARS[31 - Math.clz32(illegal & -illegal)]}' with this command`);
    if (this.out.chain !== undefined && this.out.chain.length >= MAX_NAME) {
      throw perr(`chain name \`${this.out.chain}' too long (must be under ${MAX_NAME} chars)`);
    }
    if (ruleCmd || this.out.command === CMD.DELETE_NUM) {
      if ((this.out.chain === 'PREROUTING' || this.out.chain === 'INPUT') && this.options & OPT.VIANAMEOUT) {
        throw perr(`Can't use -o with ${this.out.chain}\n`);
      }
      if ((this.out.chain === 'POSTROUTING' || this.out.chain === 'OUTPUT') && this.options & OPT.VIANAMEIN) {
        throw perr(`Can't use -i with ${this.out.chain}\n`);
      }
    }

    if (ruleCmd) {
      // The rule keeps this array: made to measure (push would reserve 17 slots).
      let n = 0;
      for (let k = 0; k < this.nLoaded; k++) if (this.loaded[k].match) n++;
      const given: Rule['matches'] = new Array<MatchSpec>(n);
      n = 0;
      for (let k = 0; k < this.nLoaded; k++) {
        const l = this.loaded[k];
        if (l.match) given[n++] = l.data === undefined && l.bare !== undefined ? l.bare : { module: l.match.name, data: l.data };
      }
      const matches = nftMatches(given);
      const proto: ProtoSpec | undefined = this.ctx.proto && (this.ctx.proto.num !== 0 || this.ctx.proto.neg) ? this.ctx.proto : undefined;
      const inIface = this.inIface && this.inIface.name !== '' && this.inIface.name !== '+' ? this.inIface : undefined;
      const outIface = this.outIface && this.outIface.name !== '' && this.outIface.name !== '+' ? this.outIface : undefined;
      const fragment = this.fragment ? { neg: (this.invflags & OPT.FRAGMENT) !== 0 } : undefined;
      // A line parser's single rule goes in its own array, refilled for each line.
      const count = srcs.length * dsts.length;
      const rules: Rule[] = (this.out.rules = this.reuse && count === 1 ? this.oneRule : new Array<Rule>(count));
      let k = 0;
      for (let si = 0; si < srcs.length; si++) {
        const s = srcs[si];
        for (let di = 0; di < dsts.length; di++) {
          const d = dsts[di];
          // Every rule has all the fields (absent ones undefined): one object of one shape,
          // which is smaller to keep and quicker for the walk to read.
          rules[k++] = {
            src: s.len > 0 || s.neg ? s : undefined,
            dst: d.len > 0 || d.neg ? d : undefined,
            inIface,
            outIface,
            proto,
            fragment,
            matches,
            target: this.jumpName !== undefined ? { name: this.jumpName, data: this.target?.data, goto: this.gotoFlag } : undefined,
            packets: this.out.counters?.packets ?? 0,
            bytes: this.out.counters?.bytes ?? 0,
            origin: undefined,
          };
        }
      }
    }
    return this.out;
  }
}

/** Parses one iptables command line (without the program name). */
export function parseArgs(args: readonly string[], env: ParseEnv): ParsedArgs {
  return new ArgParser(env).parse(args, args.length);
}

/** Parses many lines with one parser: `parse(words, n)` reads the first `n` words (the
 *  array may be reused for the next line once the call returns). The result is valid until
 *  the next call (the same object, and the same `rules` array for one rule, are refilled). */
export interface LineParser {
  parse(args: readonly string[], n: number): ParsedArgs;
}

export function lineParser(env: ParseEnv): LineParser {
  return new ArgParser(env, true);
}
