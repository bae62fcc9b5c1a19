// `ipset` (v7.17) on a host's IpsetStore: command-line parsing, the session with its report
// buffer and output mode, `restore` with the tool's batching, and the exact messages and exit
// statuses of the real tool (libipset ipset.c / session.c / errcode.c).
//
// Restore batching matters for what a failed restore leaves behind: consecutive add/del lines
// of one set travel in one netlink message of at most a page (4096 bytes). A syntax error
// drops the message being filled; a kernel error stops at the failing element, after the
// elements before it were applied. The message size is computed from the attributes each
// element carries, as the tool builds them.

import type { CommandResult } from './types.ts';
import { IpsetStore } from '../netfilter/ipset/store.ts';
import type { AdtAttrs, CreateAttrs, Errno, SetTypeName } from '../netfilter/ipset/types.ts';
import { IpsetErrno } from '../netfilter/ipset/types.ts';
import { Report, SessionError } from '../netfilter/ipset/report.ts';
import {
  checkSetname, parseComment, parseIp, parseNumber, parseProtoPort, parseSkbmark, parseSkbprio, parseTimeout,
  parseU16, parseU32, parseU64, parseU8, sepIndex, IPSET_MAXNAMELEN,
} from '../netfilter/ipset/parse.ts';
import { attrsElem, formatSet } from '../netfilter/ipset/format.ts';
import type { OutputMode } from '../netfilter/ipset/format.ts';
import { GENERAL_HELP, TYPE_HELP, TYPE_LIST } from '../netfilter/ipset/help.ts';

const PROGRAM = 'ipset';
const VERSION = '7.17';
const PROTOCOL = 7;
const BUFSIZE = 4096; // getpagesize(): the restore message buffer
const MAX_ARGS = 32;

// Exit statuses (enum ipset_exittype).
const OTHER_PROBLEM = 1;
const PARAMETER_PROBLEM = 2;
const SESSION_PROBLEM = 4;

/** Ends the run with an exit status (the tool calls exit()). */
class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

type Cmd = 'create' | 'add' | 'del' | 'test' | 'destroy' | 'list' | 'save' | 'restore' | 'flush' | 'rename' | 'swap' | 'help' | 'version' | 'quit';

const COMMANDS: readonly { cmd: Cmd; names: readonly string[]; arg: 'none' | 'optional' | 'two' }[] = [
  { cmd: 'create', names: ['create', 'new', '-N'], arg: 'two' },
  { cmd: 'add', names: ['add', '-A'], arg: 'two' },
  { cmd: 'del', names: ['del', '-D'], arg: 'two' },
  { cmd: 'test', names: ['test', '-T'], arg: 'two' },
  { cmd: 'destroy', names: ['destroy', 'x', '-X'], arg: 'optional' },
  { cmd: 'list', names: ['list', '-L'], arg: 'optional' },
  { cmd: 'save', names: ['save', '-S'], arg: 'optional' },
  { cmd: 'restore', names: ['restore', '-R'], arg: 'none' },
  { cmd: 'flush', names: ['flush', '-F'], arg: 'optional' },
  { cmd: 'rename', names: ['rename', 'e', '-E'], arg: 'two' },
  { cmd: 'swap', names: ['swap', 'w', '-W'], arg: 'two' },
  { cmd: 'help', names: ['help', '-h', '-H'], arg: 'optional' },
  { cmd: 'version', names: ['version', '-v', '-V'], arg: 'none' },
  { cmd: 'quit', names: ['quit'], arg: 'none' },
];

/** ipset_match_cmd: a prefix of a command name or alias, two leading dashes ignored. */
function matchCmd(arg: string, names: readonly string[]): boolean {
  const skip = arg.startsWith('--') ? 2 : 0;
  if (arg.length <= skip || arg === '-') return false;
  const a = skip ? arg.slice(skip) : arg;
  for (const n of names) if (n.startsWith(a)) return true;
  return false;
}

type EnvOpt = 'output' | 'sorted' | 'quiet' | 'resolve' | 'exist' | 'name' | 'terse' | 'file';

const ENVOPTS: readonly { opt: EnvOpt; names: readonly [string, string]; arg: boolean }[] = [
  { opt: 'output', names: ['-o', '-output'], arg: true },
  { opt: 'sorted', names: ['-s', '-sorted'], arg: false },
  { opt: 'quiet', names: ['-q', '-quiet'], arg: false },
  { opt: 'resolve', names: ['-r', '-resolve'], arg: false },
  { opt: 'exist', names: ['-!', '-exist'], arg: false },
  { opt: 'name', names: ['-n', '-name'], arg: false },
  { opt: 'terse', names: ['-t', '-terse'], arg: false },
  { opt: 'file', names: ['-f', '-file'], arg: true },
];

function matchEnvopt(arg: string, names: readonly string[]): boolean {
  if (arg.charCodeAt(0) !== 45 /* - */) return false;
  const a = arg.charCodeAt(1) === 45 ? arg.slice(1) : arg;
  return a === names[0] || a === names[1];
}

const TYPE_ALIASES: Readonly<Record<string, SetTypeName>> = {
  'hash:ip': 'hash:ip',
  iphash: 'hash:ip',
  'hash:net': 'hash:net',
  nethash: 'hash:net',
  'hash:ip,port': 'hash:ip,port',
  ipporthash: 'hash:ip,port',
  'hash:net,port': 'hash:net,port',
  'list:set': 'list:set',
  setlist: 'list:set',
};

/** Types the real tool knows but the lab does not implement (the kernel "lacks" them). */
const OTHER_TYPES = new Set([
  'bitmap:ip', 'ipmap', 'bitmap:ip,mac', 'macipmap', 'bitmap:port', 'portmap', 'hash:mac', 'hash:ip,mac',
  'hash:net,iface', 'hash:net,net', 'hash:ip,port,ip', 'ipportiphash', 'hash:ip,port,net', 'ipportnethash',
  'hash:net,port,net', 'hash:ip,mark',
]);

// -------------------------------------------------------------------------------------------
// Keyword arguments of create and add/del/test

/** What keyword parsers fill in. */
interface Data {
  create: CreateAttrs;
  adt: AdtAttrs;
  /** Options given once already ("%s already specified"). */
  seen: string[];
  /** Ignored compatibility options warned about. */
  ignored: string[];
}

interface Keyword {
  name: string;
  /** Options sharing a value (family/-4/-6, before/after); null: may repeat (flags). */
  opt: string | null;
  arg: boolean;
  parse(r: Report, d: Data, v: string): void;
}

const flag = (name: string, set: (d: Data) => void): Keyword => ({ name, opt: null, arg: false, parse: (_r, d) => set(d) });

function familyOf(r: Report, v: string): 'inet' | 'inet6' {
  if (v === 'inet' || v === 'ipv4' || v === '-4') return 'inet';
  if (v === 'inet6' || v === 'ipv6' || v === '-6') return 'inet6';
  if (v === 'any' || v === 'unspec') {
    r.error('Protocol family not supported by the set type');
    throw new SessionError();
  }
  r.error(`Syntax error: unknown inet family ${v}`);
  throw new SessionError();
}

const KW_FAMILY: Keyword = { name: 'family', opt: 'family', arg: true, parse: (r, d, v) => (d.create.family = familyOf(r, v)) };
const KW_INET: Keyword = { name: '-4', opt: 'family', arg: false, parse: (_r, d) => (d.create.family = 'inet') };
const KW_INET6: Keyword = { name: '-6', opt: 'family', arg: false, parse: (_r, d) => (d.create.family = 'inet6') };

function u32kw(name: string, set: (d: Data, n: number) => void): Keyword {
  return { name, opt: name, arg: true, parse: (r, d, v) => set(d, parseU32(r, v)) };
}

function ignoredKw(name: string): Keyword {
  return {
    name,
    opt: null,
    arg: true,
    parse: (r, d, v) => {
      if (d.ignored.includes(name)) return;
      d.ignored.push(name);
      r.warn(`Option '--${name} ${v}' is ignored. Please upgrade your syntax.`);
    },
  };
}

const KW_NETMASK: Keyword = {
  name: 'netmask',
  opt: 'netmask',
  arg: true,
  parse: (r, d, v) => {
    if (d.create.bitmask !== undefined) exclusive(r);
    const n = parseNumber(r, v, 0n, 255n);
    if (n !== undefined && (n < 1n || n > 32n)) r.error(`Syntax error: '${v}' is out of range 1-32`);
    if (n === undefined || n < 1n || n > 32n) {
      r.error('Syntax error: netmask is out of the inclusive range of 1-32');
      throw new SessionError();
    }
    d.create.netmask = Number(n);
  },
};

function exclusive(r: Report): never {
  r.error('Syntax error: bitmask and netmask are mutually exclusive, provide only one');
  throw new SessionError();
}

const KW_BITMASK: Keyword = {
  name: 'bitmask',
  opt: 'bitmask',
  arg: true,
  parse: (r, d, v) => {
    if (d.create.netmask !== undefined) exclusive(r);
    const a: AdtAttrs = {};
    try {
      parseIp(r, v, a);
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      r.error('Syntax error: bitmask is not valid for family = inet');
      throw e;
    }
    d.create.bitmask = a.ip;
  },
};

const CREATE_COMMON: Keyword[] = [
  u32kw('hashsize', (d, n) => (d.create.hashsize = n)),
  u32kw('maxelem', (d, n) => (d.create.maxelem = n)),
];
const CREATE_EXT: Keyword[] = [
  { name: 'timeout', opt: 'timeout', arg: true, parse: (r, d, v) => (d.create.timeout = parseTimeout(r, v)) },
  flag('counters', (d) => (d.create.counters = true)),
  flag('comment', (d) => (d.create.comment = true)),
];
const CREATE_HASH_TAIL: Keyword[] = [
  flag('forceadd', (d) => (d.create.forceadd = true)),
  flag('skbinfo', (d) => (d.create.skbinfo = true)),
  { name: 'bucketsize', opt: 'bucketsize', arg: true, parse: (r, d, v) => (d.create.bucketsize = parseU8(r, v)) },
  u32kw('initval', (d, n) => (d.create.initval = n)),
  ignoredKw('probes'),
  ignoredKw('resize'),
  ignoredKw('gc'),
];

const CREATE_ARGS: Readonly<Record<SetTypeName, readonly Keyword[]>> = {
  'hash:ip': [KW_FAMILY, KW_INET, KW_INET6, ...CREATE_COMMON, KW_NETMASK, KW_BITMASK, ...CREATE_EXT, ...CREATE_HASH_TAIL],
  'hash:net': [KW_FAMILY, KW_INET, KW_INET6, ...CREATE_COMMON, ...CREATE_EXT, ...CREATE_HASH_TAIL],
  'hash:ip,port': [KW_FAMILY, KW_INET, KW_INET6, ...CREATE_COMMON, ...CREATE_EXT, ...CREATE_HASH_TAIL, KW_NETMASK, KW_BITMASK],
  'hash:net,port': [KW_FAMILY, KW_INET, KW_INET6, ...CREATE_COMMON, ...CREATE_EXT, ...CREATE_HASH_TAIL],
  'list:set': [
    u32kw('size', (d, n) => (d.create.size = n)),
    ...CREATE_EXT,
    flag('skbinfo', (d) => (d.create.skbinfo = true)),
  ],
};

const ADT_TIMEOUT: Keyword = { name: 'timeout', opt: 'timeout', arg: true, parse: (r, d, v) => (d.adt.timeout = parseTimeout(r, v)) };
const ADT_NOMATCH = flag('nomatch', (d) => (d.adt.nomatch = true));
const ADT_COUNTERS: Keyword[] = [
  { name: 'packets', opt: 'packets', arg: true, parse: (r, d, v) => (d.adt.packets = parseU64(r, v)) },
  { name: 'bytes', opt: 'bytes', arg: true, parse: (r, d, v) => (d.adt.bytes = parseU64(r, v)) },
];
const ADT_REST: Keyword[] = [
  { name: 'comment', opt: 'comment', arg: true, parse: (r, d, v) => (d.adt.comment = parseComment(r, v)) },
  { name: 'skbmark', opt: 'skbmark', arg: true, parse: (r, d, v) => parseSkbmark(r, v, d.adt) },
  { name: 'skbprio', opt: 'skbprio', arg: true, parse: (r, d, v) => parseSkbprio(r, v, d.adt) },
  { name: 'skbqueue', opt: 'skbqueue', arg: true, parse: (r, d, v) => (d.adt.skbqueue = parseU16(r, v)) },
];
const before = (b: boolean): Keyword => ({
  name: b ? 'before' : 'after',
  opt: 'nameref',
  arg: true,
  parse: (r, d, v) => {
    d.adt.nameref = checkSetname(r, v);
    if (b) d.adt.before = true;
  },
});

const ADT_ARGS: Readonly<Record<SetTypeName, Readonly<Record<'add' | 'del' | 'test', readonly Keyword[]>>>> = {
  'hash:ip': { add: [ADT_TIMEOUT, ...ADT_COUNTERS, ...ADT_REST], del: [], test: [] },
  'hash:ip,port': { add: [ADT_TIMEOUT, ...ADT_COUNTERS, ...ADT_REST], del: [], test: [] },
  'hash:net': { add: [ADT_TIMEOUT, ADT_NOMATCH, ...ADT_COUNTERS, ...ADT_REST], del: [], test: [ADT_NOMATCH] },
  'hash:net,port': { add: [ADT_TIMEOUT, ADT_NOMATCH, ...ADT_COUNTERS, ...ADT_REST], del: [], test: [ADT_NOMATCH] },
  'list:set': {
    add: [ADT_TIMEOUT, before(true), before(false), ...ADT_COUNTERS, ...ADT_REST],
    del: [before(true), before(false)],
    test: [before(true), before(false)],
  },
};

/** Element parts a command accepts (the types' "full" flags); ranges beyond are refused. */
const ALLOWED: Readonly<Record<SetTypeName, Readonly<Record<'add' | 'del' | 'test', { ipTo: boolean; cidr: boolean; portTo: boolean }>>>> = {
  'hash:ip': { add: all(true, true, false), del: all(true, true, false), test: all(true, true, false) },
  'hash:net': { add: all(true, true, false), del: all(true, true, false), test: all(false, true, false) },
  'hash:ip,port': { add: all(true, true, true), del: all(true, true, true), test: all(false, false, false) },
  'hash:net,port': { add: all(true, true, true), del: all(true, true, true), test: all(false, true, false) },
  'list:set': { add: all(false, false, false), del: all(false, false, false), test: all(false, false, false) },
};

function all(ipTo: boolean, cidr: boolean, portTo: boolean): { ipTo: boolean; cidr: boolean; portTo: boolean } {
  return { ipTo, cidr, portTo };
}

// -------------------------------------------------------------------------------------------
// Kernel error codes -> the tool's messages (errcode.c)

function errMessage(e: Errno, cmd: Cmd): string {
  switch (e) {
    case 'ENOENT': return 'The set with the given name does not exist';
    case 'EEXIST': return 'Set cannot be created: set with the same name already exists';
    case 'EXIST':
      return cmd === 'del' ? "Element cannot be deleted from the set: it's not added" : "Element cannot be added to the set: it's already added";
    case 'BUSY': return 'Set cannot be destroyed: it is in use by a kernel component';
    case 'REFERENCED': return 'Set cannot be renamed: it is in use by another system';
    case 'EXIST_SETNAME2':
      return cmd === 'swap' ? 'Sets cannot be swapped: the second set does not exist' : 'Set cannot be renamed: a set with the new name already exists';
    case 'TYPE_MISMATCH': return 'The sets cannot be swapped: their type does not match';
    case 'HASH_FULL': return 'Hash is full, cannot add more elements';
    case 'HASH_ELEM': return 'Null-valued element, cannot be stored in a hash type of set';
    case 'HASH_RANGE': return 'Invalid range, covers the whole address space';
    case 'INVALID_CIDR': return 'The value of the CIDR parameter of the IP address is invalid';
    case 'INVALID_NETMASK': return 'The value of the netmask parameter is invalid';
    case 'INVALID_PROTO': return 'Invalid protocol specified';
    case 'EINVAL': return 'Kernel error received: Invalid argument';
    case 'ENOMEM': return 'Kernel error received: Cannot allocate memory';
    case 'TIMEOUT': return 'Timeout cannot be used: set was created without timeout support';
    case 'COUNTER': return 'Packet/byte counters cannot be used: set was created without counter support';
    case 'COMMENT': return 'Comment cannot be used: set was created without comment support';
    case 'SKBINFO': return 'Skbinfo mapping cannot be used: set was created without skbinfo support';
    case 'NAME': return 'Set to be added/deleted/tested as element does not exist.';
    case 'LOOP': return 'Sets with list:set type cannot be added to the set.';
    case 'NAMEREF': return "The set to which you referred with 'before' or 'after' does not exist.";
    case 'REF_EXIST': return "The set to which you referred with 'before' or 'after' is not added to the set.";
    case 'FAMILY': return 'Kernel error received: family inet6 is not supported by the lab (IPv4 sets only)';
  }
}

// -------------------------------------------------------------------------------------------
// Restore batches

interface Batch {
  cmd: 'add' | 'del';
  setname: string;
  type: SetTypeName;
  exist: boolean;
  len: number;
  linenos: number[];
  elems: AdtAttrs[];
}

const align4 = (n: number): number => (n + 3) & ~3;
const NLMSGERR = 20; // MNL_ALIGN(sizeof(struct nlmsgerr)) kept free by BUFFER_FULL

// Every attribute is checked with BUFFER_FULL, which keeps room for an error reply; string
// attributes are checked against their largest size and take their real one. An element
// fits when every check passes: the highest "end of attribute + reserve" must stay within
// the page. Sizes: nested IPv4 12, u8/u16/u32 8, u64 12, strings 4 + aligned length.

/** The message length after adding the element at `len`, or -1 when it does not fit. */
function elemFits(len: number, a: AdtAttrs, type: SetTypeName): number {
  let l = len + 4; // IPSET_ATTR_DATA nest
  let peak = l; // the highest length any check looked at
  const ports = type === 'hash:ip,port' || type === 'hash:net,port';
  if (type !== 'list:set') l += 12; // IP (nested IPv4)
  if (a.ipTo !== undefined) l += 12;
  if (a.cidr !== undefined) l += 8;
  if (ports) l += 8; // PORT
  if (a.portTo !== undefined) l += 8;
  if (a.timeout !== undefined) l += 8;
  if (ports) l += 8; // PROTO
  if (a.nomatch || a.before) l += 8; // CADT_FLAGS
  if (a.name !== undefined) {
    peak = Math.max(peak, l + 4 + align4(IPSET_MAXNAMELEN));
    l += 4 + align4(a.name.length + 1);
  }
  if (a.nameref !== undefined) {
    peak = Math.max(peak, l + 4 + align4(IPSET_MAXNAMELEN));
    l += 4 + align4(a.nameref.length + 1);
  }
  if (a.bytes !== undefined) l += 12;
  if (a.packets !== undefined) l += 12;
  if (a.comment !== undefined) {
    peak = Math.max(peak, l + 4 + 256);
    l += 4 + align4(a.comment.length + 1);
  }
  if (a.skbmark !== undefined) l += 12;
  if (a.skbprio !== undefined) l += 8;
  if (a.skbqueue !== undefined) l += 8;
  l += 8; // LINENO
  if (l > peak) peak = l;
  return peak + NLMSGERR > BUFSIZE ? -1 : l;
}

/** Message header: nlmsghdr + nfgenmsg, PROTOCOL, SETNAME, LINENO, ADT nest. */
function batchHeaderLen(setname: string): number {
  return 20 + 8 + 4 + align4(setname.length + 1) + 8 + 4;
}

// -------------------------------------------------------------------------------------------
// The tool

/** A parsed command line: what ipset_parser leaves in the session data. */
interface Parsed {
  cmd: Cmd;
  setname?: string;
  setname2?: string;
  type?: SetTypeName;
  create?: CreateAttrs;
  adt?: AdtAttrs;
}

/** One run of the tool: the session (options, output mode, report, restore batch) and the
 *  output it collects. Exit statuses travel as Exit exceptions, as the tool calls exit(). */
class Tool {
  private readonly store: IpsetStore;
  private readonly stdin: string;
  private readonly report = new Report();
  private out = '';
  private err = '';
  private env = new Set<EnvOpt>();
  private mode: OutputMode | undefined;
  private filename: string | undefined;
  private restoreLine = 0;
  private interactive = false;
  private batch: Batch | null = null;
  /** The set (and type) the last plain restore line went to. */
  private lastSet: string | undefined;
  private lastType: SetTypeName | undefined;
  private printedSet = 0;
  changed = false;

  constructor(store: IpsetStore, stdin: string) {
    this.store = store;
    this.stdin = stdin;
  }

  run(argv: string[]): CommandResult {
    let code: number;
    try {
      code = this.parseArgv(argv);
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      code = e.code;
    }
    return { stdout: this.out, stderr: this.err, code: code & 0xff, changed: this.changed };
  }

  private get quiet(): boolean {
    return this.env.has('quiet');
  }

  // ---- error reporting (default_custom_error / default_standard_error)

  private customError(status: number, msg: string | null): number {
    const quiet = !this.interactive && this.quiet;
    if (status && msg !== null && !quiet) {
      this.err += `${PROGRAM} v${VERSION}: ${msg}`;
      if (status !== SESSION_PROBLEM) this.err += '\n';
      if (status === PARAMETER_PROBLEM) this.err += `Try \`${PROGRAM} help' for more information.\n`;
    }
    if (status && this.interactive) {
      this.report.reset();
      return -1;
    }
    throw new Exit(status > 3 ? OTHER_PROBLEM : status);
  }

  private standardError(): number {
    const t = this.report.type;
    if ((t === 'warning' || t === 'notice') && !this.quiet) {
      this.err += (t === 'warning' ? 'Warning: ' : '') + this.report.text;
    }
    if (t === 'error') return this.customError(SESSION_PROBLEM, this.report.text);
    if (!this.interactive) throw new Exit(t === 'notice' ? OTHER_PROBLEM : 0);
    this.report.reset();
    return -1;
  }

  private param(msg: string): never {
    this.customError(PARAMETER_PROBLEM, msg);
    throw new SessionError(); // interactive mode: abandon the line
  }

  private fail(e: Errno, cmd: Cmd, lineno = this.restoreLine): never {
    this.report.lineno = lineno;
    this.report.error(errMessage(e, cmd));
    throw new SessionError();
  }

  // ---- ipset_parse_argv

  private parseArgv(argv: string[]): number {
    let p: Parsed | undefined;
    try {
      p = this.parser(argv);
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      if (this.report.type !== 'none') return this.standardError();
      return -1;
    }
    if (!p) return 0;
    if (p.cmd === 'restore') return this.restore();
    let ret = 0;
    try {
      this.execute(p);
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      ret = -1;
    }
    if (ret < 0 || this.report.type !== 'none') return this.standardError();
    return ret;
  }

  /** ipset_parser: options, command, arguments. Undefined: nothing left to do. */
  private parser(oargv: string[]): Parsed | undefined {
    const argv = oargv.slice();
    if (argv.length > MAX_ARGS) this.param('Line is too long to parse.');
    this.report.lineno = this.restoreLine;

    // First: the environment options, wherever they are.
    for (const o of ENVOPTS) {
      for (let i = 1; i < argv.length; ) {
        if (!matchEnvopt(argv[i], o.names)) {
          i++;
          continue;
        }
        argv.splice(i, 1);
        if (o.arg) {
          if (i + 1 > argv.length) this.param(`Missing mandatory argument to option ${o.names[0]}`);
          const v = argv[i];
          if (o.opt === 'output') {
            if (v === 'plain' || v === 'save' || v === 'xml') this.mode = v;
            else {
              this.report.error(`Syntax error: unknown output mode '${v}'`);
              throw new SessionError();
            }
          } else {
            if (this.filename !== undefined) this.param('-file option cannot be used when full io is activated');
            this.filename = v;
          }
          argv.splice(i, 1);
        } else {
          this.env.add(o.opt);
        }
      }
    }

    // Second: the command and its one or two arguments.
    let cmd: Cmd | undefined;
    let arg0: string | undefined;
    let arg1: string | undefined;
    for (const c of COMMANDS) {
      if (argv.length <= 1) break;
      if (!matchCmd(argv[1], c.names)) continue;
      if (this.restoreLine !== 0 && (c.cmd === 'restore' || c.cmd === 'version' || c.cmd === 'help')) {
        this.param(`Command \`${c.names[0]}' is invalid in restore mode.`);
      }
      if (this.interactive && c.cmd === 'restore') {
        this.out += 'Restore command is not supported in interactive mode\n';
        return undefined;
      }
      argv.splice(1, 1);
      cmd = c.cmd;
      if (c.arg === 'two' && argv.length < 2) this.param(`Missing mandatory argument to command ${c.names[0]}`);
      if (c.arg !== 'none') {
        arg0 = argv[1];
        if (argv.length >= 2) argv.splice(1, 1);
      }
      if (c.arg === 'two') {
        if (argv.length < 2) this.param(`Missing second mandatory argument to command ${c.names[0]}`);
        arg1 = argv[1];
        argv.splice(1, 1);
      }
      break;
    }

    // Third: no command, help, version.
    switch (cmd) {
      case undefined:
        if (this.interactive) {
          this.out += 'No command specified\n';
          return undefined;
        }
        if (argv.length > 1 && argv[1] === '-') {
          this.interactiveMode();
          return undefined;
        }
        if (argv.length > 1) this.param(`No command specified: unknown argument ${argv[1]}`);
        this.param('No command specified.');
        return undefined;
      case 'version':
        this.out += `${PROGRAM} v${VERSION}, protocol version: ${PROTOCOL}\n`;
        if (this.interactive) return undefined;
        throw new Exit(0);
      case 'help':
        this.out += GENERAL_HELP;
        if (this.interactive || !this.quiet) {
          if (arg0 !== undefined) {
            const t = TYPE_ALIASES[arg0];
            if (!t) this.param(`Unknown settype: \`${arg0}'`);
            this.out += TYPE_HELP[t];
          } else this.out += TYPE_LIST;
        }
        if (this.interactive) return undefined;
        throw new Exit(0);
      case 'quit':
        throw new Exit(0);
      default:
        break;
    }

    // Fourth: the command's own arguments.
    const p: Parsed = { cmd };
    const data: Data = { create: {}, adt: {}, seen: [], ignored: [] };
    switch (cmd) {
      case 'create': {
        p.setname = checkSetname(this.report, arg0 as string);
        const tn = arg1 as string;
        if (tn.length > IPSET_MAXNAMELEN - 1) {
          this.report.error(`Syntax error: typename '${tn}' is longer than ${IPSET_MAXNAMELEN - 1} characters`);
          throw new SessionError();
        }
        const type = TYPE_ALIASES[tn];
        if (!type) {
          if (OTHER_TYPES.has(tn)) this.report.error('Kernel error received: set type not supported');
          else this.report.error(`Syntax error: typename '${tn}' is unknown`);
          throw new SessionError();
        }
        p.type = type;
        this.callParser(argv, CREATE_ARGS[type], data, true);
        this.callParser(argv, CREATE_ARGS[type], data, false);
        argv.length = 1;
        p.create = data.create;
        break;
      }
      case 'list':
      case 'save':
      case 'destroy':
      case 'flush':
        if (arg0 !== undefined) p.setname = checkSetname(this.report, arg0);
        break;
      case 'rename':
      case 'swap':
        p.setname = checkSetname(this.report, arg0 as string);
        p.setname2 = checkSetname(this.report, arg1 as string);
        break;
      case 'restore':
        if (argv.length > 1) this.param(`Unknown argument ${argv[1]}`);
        return p;
      case 'add':
      case 'del':
      case 'test': {
        p.setname = checkSetname(this.report, arg0 as string);
        const type = this.store.typeOf(p.setname);
        if (!type) this.fail('ENOENT', cmd);
        p.type = type;
        this.parseElem(type, arg1 as string, data.adt, cmd);
        this.callParser(argv, ADT_ARGS[type][cmd], data, false);
        argv.length = 1;
        this.checkAllowed(type, cmd, data.adt);
        p.adt = data.adt;
        break;
      }
    }
    if (argv.length > 1) this.param(`Unknown argument ${argv[1]}`);
    return p;
  }

  /** call_parser: keyword options; the family pass runs first so it is known early. */
  private callParser(argv: string[], args: readonly Keyword[], data: Data, familyPass: boolean): void {
    if (args.length === 0 && argv.length > 1) this.param(`Unknown argument: \`${argv[1]}'`);
    for (let i = 1; i < argv.length; ) {
      let kw: Keyword | undefined;
      for (const k of args) {
        if (matchOption(argv[i], k.name)) {
          kw = k;
          break;
        }
      }
      if (!kw) this.param(`Unknown argument: \`${argv[i]}'`);
      const optstr = argv[i];
      i++;
      const parse = (kw.opt === 'family') === familyPass;
      let value = optstr;
      if (kw.arg) {
        if (argv.length - i < 1) this.param(`Missing mandatory argument of option \`${kw.name}'`);
        value = argv[i];
        i++;
      }
      if (!parse) continue;
      if (kw.opt !== null) {
        if (data.seen.includes(kw.opt)) {
          this.report.error(`Syntax error: ${kw.name} already specified`);
          throw new SessionError();
        }
        data.seen.push(kw.opt);
      }
      kw.parse(this.report, data, value);
    }
  }

  /** ipset_parse_elem for the type. */
  private parseElem(type: SetTypeName, str: string, a: AdtAttrs, cmd: Cmd): void {
    const r = this.report;
    const dim2 = type === 'hash:ip,port' || type === 'hash:net,port';
    const comma = sepIndex(str, ',');
    if (!dim2) {
      if (comma >= 0) {
        if (type === 'list:set') {
          this.parseNameCompat(str, a);
          return;
        }
        r.error(`Syntax error: Elem separator in ${str}, but settype ${type} supports none.`);
        throw new SessionError();
      }
      if (type === 'list:set') a.name = checkSetname(r, str);
      else parseIp(r, str, a);
      return;
    }
    if (comma < 0) {
      r.error(`Syntax error: Second element is missing from ${str}.`);
      throw new SessionError();
    }
    const first = str.slice(0, comma);
    const second = str.slice(comma + 1);
    if (sepIndex(second, ',') >= 0) {
      r.error(`Syntax error: Two elem separators in ${str}, but settype ${type} supports one.`);
      throw new SessionError();
    }
    parseIp(r, first, a);
    parseProtoPort(r, second, a, cmd);
  }

  /** ipset_parse_name_compat: "setname,before|after,setname". */
  private parseNameCompat(str: string, a: AdtAttrs): void {
    const r = this.report;
    const i = sepIndex(str, ',');
    const name = str.slice(0, i);
    const rest = str.slice(i + 1);
    const j = sepIndex(rest, ',');
    const word = j >= 0 ? rest.slice(0, j) : rest;
    if (j < 0 || !(word === 'before' || word === 'after')) {
      r.error('you must specify elements as setname,[before|after],setname');
      throw new SessionError();
    }
    a.name = checkSetname(r, name);
    a.nameref = checkSetname(r, rest.slice(j + 1));
    if (word === 'before') a.before = true;
  }

  /** check_allowed: ranges the command does not take for the type. */
  private checkAllowed(type: SetTypeName, cmd: 'add' | 'del' | 'test', a: AdtAttrs): void {
    if (a.ipTo === undefined && a.cidr === undefined && a.portTo === undefined) return;
    const ok = ALLOWED[type][cmd];
    const allowCidr = ok.cidr || ok.ipTo;
    const what =
      a.ipTo !== undefined && !ok.ipTo ? 'FROM-TO IP range'
      : a.cidr !== undefined && !allowCidr ? 'IP/CIDR range'
      : a.portTo !== undefined && !ok.portTo ? 'FROM-TO port range'
      : undefined;
    if (what) {
      this.customError(OTHER_PROBLEM, `${what} is not allowed in command ${cmd} with set type ${type} and family inet`);
      throw new SessionError();
    }
  }

  // ---- ipset_cmd

  private execute(p: Parsed): void {
    const exist = this.env.has('exist');
    const cmd = p.cmd;
    if ((cmd === 'add' || cmd === 'del') && this.restoreLine !== 0) {
      this.aggregate(cmd, p.setname as string, p.adt as AdtAttrs, p.type as SetTypeName, exist);
      return;
    }
    this.commit();
    try {
      switch (cmd) {
        case 'create':
          this.store.create(p.setname as string, p.type as SetTypeName, p.create as CreateAttrs, exist);
          this.changed = true;
          return;
        case 'destroy':
          this.store.destroy(p.setname);
          this.changed = true;
          return;
        case 'flush':
          this.store.flush(p.setname);
          this.changed = true;
          return;
        case 'rename':
          this.store.rename(p.setname as string, p.setname2 as string);
          this.changed = true;
          return;
        case 'swap':
          this.store.swap(p.setname as string, p.setname2 as string);
          this.changed = true;
          return;
        case 'list':
        case 'save':
          this.list(cmd, p.setname);
          return;
        case 'add':
        case 'del':
          this.store.adt(p.setname as string, cmd, p.adt as AdtAttrs, exist);
          this.changed = true;
          return;
        case 'test': {
          const inSet = this.store.adt(p.setname as string, 'test', p.adt as AdtAttrs, false);
          if (!this.quiet) {
            const elem = attrsElem(p.type as SetTypeName, p.adt as AdtAttrs);
            if (inSet) this.report.warn(`${elem} is in set ${p.setname}.`);
            else this.report.notice(`${elem} is NOT in set ${p.setname}.`);
          } else if (!inSet) {
            this.report.type = 'notice';
          }
          return;
        }
        default:
          return;
      }
    } catch (e) {
      if (e instanceof IpsetErrno) this.fail(e.errno, cmd);
      throw e;
    }
  }

  private list(cmd: 'list' | 'save', name: string | undefined): void {
    if (this.filename !== undefined) {
      this.report.error(`Cannot open ${this.filename} for writing: Read-only file system`);
      throw new SessionError();
    }
    if (this.mode === undefined) this.mode = cmd === 'list' ? 'plain' : 'save';
    const mode = this.mode;
    const headersOnly = mode !== 'save' && (this.env.has('name') || this.env.has('terse'));
    let out = mode === 'xml' ? '<ipsets>\n' : '';
    const views = this.store.dump(name, headersOnly);
    const flags = {
      mode,
      terse: this.env.has('terse'),
      names: this.env.has('name'),
      sorted: this.env.has('sorted'),
      resolve: this.env.has('resolve'),
    };
    for (const v of views) {
      out += formatSet(v, flags, this.printedSet === 0);
      this.printedSet++;
    }
    if (mode === 'xml') out += '</ipsets>\n';
    this.out += out;
    this.printedSet = 0;
  }

  // ---- restore batching

  private aggregate(cmd: 'add' | 'del', setname: string, attrs: AdtAttrs, type: SetTypeName, exist: boolean): void {
    const b = this.batch;
    if (b && b.cmd === cmd && b.setname === setname) {
      const len = elemFits(b.len, attrs, type);
      if (len >= 0) {
        b.len = len;
        b.linenos.push(this.restoreLine);
        b.elems.push(attrs);
        return;
      }
    }
    this.commit();
    const len = elemFits(batchHeaderLen(setname), attrs, type);
    this.batch = { cmd, setname, type, exist, len, linenos: [this.restoreLine], elems: [attrs] };
  }

  /** ipset_commit: send the pending message; the kernel stops at the first failing element. */
  private commit(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = null;
    this.printedSet = 0;
    for (let i = 0; i < b.elems.length; i++) {
      try {
        this.store.adt(b.setname, b.cmd, b.elems[i], b.exist);
        this.changed = true;
      } catch (e) {
        if (e instanceof IpsetErrno) this.fail(e.errno, b.cmd, b.linenos[i]);
        throw e;
      }
    }
  }

  /** A plain "add|del SET ELEM" restore line at `at`: handled as the general parser would
   *  (no option can hide in two plain words), without its generic work. False when the
   *  line needs the general parser. */
  private plainAdt(text: string, at: number): boolean {
    PLAIN_ADT.lastIndex = at;
    const m = PLAIN_ADT.exec(text);
    if (!m) return false;
    const cmd = m[1] as 'add' | 'del';
    const setname = m[2];
    if (setname.length > IPSET_MAXNAMELEN - 1) return false;
    let type = this.lastType;
    if (setname !== this.lastSet || type === undefined) {
      type = this.store.typeOf(setname);
      if (!type) return false;
    }
    this.report.lineno = this.restoreLine;
    const adt: AdtAttrs = {};
    this.parseElem(type, m[3], adt, cmd);
    this.checkAllowed(type, cmd, adt);
    this.aggregate(cmd, setname, adt, type, this.env.has('exist'));
    this.lastSet = setname;
    this.lastType = type;
    return true;
  }

  /** restore: lines from stdin, as ipset_parse_stream. */
  private restore(): number {
    if (this.filename !== undefined) return -1; // no such file in the lab: the tool exits 255 silently
    const text = this.stdin;
    for (let at = 0; at < text.length; ) {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length - 1;
      const start = at;
      at = nl + 1;
      this.restoreLine++;
      // Set types do not change under a batch: only commands that commit can change them.
      if (this.batch === null) this.lastSet = undefined;
      try {
        if (this.plainAdt(text, start)) continue;
      } catch (e) {
        if (!(e instanceof SessionError)) throw e;
        this.standardError();
        continue;
      }
      const line = text.slice(start, at);
      const c = line.charCodeAt(0) <= 32 ? line.replace(/^\s+/, '') : line;
      if (c === '' || c.startsWith('#')) continue;
      if (c === 'COMMIT\n' || c === 'COMMIT\r\n') {
        try {
          this.commit();
        } catch (e) {
          if (!(e instanceof SessionError)) throw e;
          this.standardError();
        }
        continue;
      }
      const args = this.buildArgv(c);
      if (this.parseArgv(args) < 0) this.standardError();
    }
    try {
      this.commit();
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      return this.standardError();
    }
    return 0;
  }

  /** build_argv: split a restore line on blanks, "double quotes" group words. */
  private buildArgv(line: string): string[] {
    if (!line.includes('"')) {
      // Without quotes the line is just blank-separated words.
      const argv = [PROGRAM];
      for (const w of line.split(/[ \t\r\n]+/)) if (w !== '') argv.push(w);
      if (argv.length >= MAX_ARGS) this.param('Line is too long to parse.');
      return argv;
    }
    const argv = [PROGRAM];
    let arg = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      if (argv.length + 1 === MAX_ARGS) this.param('Line is too long to parse.');
      const ch = line[i];
      const last = i + 1 >= line.length;
      if (ch === '"') {
        quoted = !quoted;
        if (!last) continue;
      } else if (ch === ' ' || ch === '\r' || ch === '\n' || ch === '\t') {
        if (quoted) {
          arg += ch;
          continue;
        }
      } else {
        arg += ch;
        if (!last) continue;
      }
      if (last && quoted) this.param('Missing close quote!');
      if (arg === '') continue;
      argv.push(arg);
      arg = '';
    }
    return argv;
  }

  /** `ipset -`: commands from stdin, errors reported but not fatal. */
  private interactiveMode(): void {
    this.interactive = true;
    this.out += `${PROGRAM}> `;
    for (const line of splitLines(this.stdin)) {
      const c = line.replace(/^\s+/, '');
      if (c !== '' && !c.startsWith('#')) {
        try {
          if (this.parseArgv(this.buildArgv(c)) < 0) this.standardError();
        } catch (e) {
          if (!(e instanceof SessionError)) throw e;
        }
      }
      this.out += `${PROGRAM}> `;
    }
    throw new Exit(0);
  }
}

/** A restore line of exactly "add|del SETNAME ELEMENT" with ordinary words. */
const PLAIN_ADT = /(add|del) ([^\s"-][^\s"]*) ([^\s"-][^\s"]*)\r?(?:\n|$)/y;

function matchOption(arg: string, name: string): boolean {
  const a = arg.startsWith('--') ? arg.slice(2) : arg;
  return a === name;
}

/** fgets over the input: lines keep their newline. */
function splitLines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\n') {
      out.push(s.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** The `ipset` console command. argv[0] is the program name as typed. */
export function ipset(argv: string[], stdin: string, store: IpsetStore): CommandResult {
  return new Tool(store, stdin).run(argv);
}
