// `sysctl` (procps-ng 4.0.2) and reads/writes of /proc/sys/... files over a host's namespace.
// Only the keys the namespace models exist (net.core, net.ipv4, net.netfilter, net.unix,
// net.bridge and the IPv6 on/off switches); every other key gives "cannot stat", as an
// unknown key does on the real tool.

import type { CommandResult } from './types.ts';
import type { NetNs } from '../net/netns.ts';
import { KernelError, STRERROR, type Errno } from '../net/errno.ts';

const USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

interface Flags {
  all: boolean;
  binary: boolean;
  ignore: boolean;
  names: boolean;
  values: boolean;
  quiet: boolean;
  write: boolean;
  dryRun: boolean;
  pattern: RegExp | null;
  load: string | null;
}

const LONG: Readonly<Record<string, string>> = {
  all: 'a', binary: 'b', ignore: 'e', names: 'N', values: 'n', quiet: 'q', write: 'w', help: 'h', version: 'V',
};

/** A key as typed -> path segments below /proc/sys and the dotted name sysctl prints. */
function keyPath(key: string): { segs: string[]; name: string; path: string; trailing: boolean; warn: string } {
  const sep = key.includes('/') ? '/' : '.';
  let warn = '';
  const rep = key.indexOf(sep + sep);
  if (rep >= 0) warn = `sysctl: separators should not be repeated: ${key.slice(rep)}\n`;
  const raw = key.split(sep);
  const trailing = raw.length > 1 && raw[raw.length - 1] === '';
  const segs = raw.filter((s) => s !== '');
  const path = `/proc/sys/${segs.join('/')}${trailing ? '/' : ''}`;
  return { segs, name: key.replace(/\//g, '.'), path, trailing, warn };
}

export function sysctl(argv: string[], _stdin: string, ns: NetNs): CommandResult {
  const f: Flags = { all: false, binary: false, ignore: false, names: false, values: false, quiet: false, write: false, dryRun: false, pattern: null, load: null };
  const operands: string[] = [];
  let out = '';
  let err = '';
  let code = 0;
  const args = argv.slice(1);
  if (!args.length) return { stdout: '', stderr: USAGE, code: 1, changed: false };

  const short = (c: string, next: () => string | undefined): CommandResult | null => {
    switch (c) {
      case 'a':
      case 'A':
      case 'X':
        f.all = true;
        return null;
      case 'b':
        f.binary = true;
        f.values = true;
        return null;
      case 'e':
        f.ignore = true;
        return null;
      case 'N':
        f.names = true;
        return null;
      case 'n':
        f.values = true;
        return null;
      case 'q':
        f.quiet = true;
        return null;
      case 'w':
        f.write = true;
        return null;
      case 'o':
      case 'x':
        return null;
      case 'p':
      case 'f':
        f.load = next() ?? '/etc/sysctl.conf';
        return null;
      case 'r': {
        const v = next();
        if (v === undefined) return { stdout: USAGE, stderr: "sysctl: option requires an argument -- 'r'\n", code: 0, changed: false };
        try {
          f.pattern = new RegExp(v);
        } catch {
          return { stdout: '', stderr: `sysctl: unable to parse pattern: ${v}\n`, code: 1, changed: false };
        }
        return null;
      }
      case 'h':
      case 'd':
        return { stdout: USAGE, stderr: '', code: 0, changed: false };
      case 'V':
        return { stdout: 'sysctl from procps-ng 4.0.2\n', stderr: '', code: 0, changed: false };
      default:
        return { stdout: USAGE, stderr: `sysctl: invalid option -- '${c}'\n`, code: 0, changed: false };
    }
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, val] = a.slice(2).split(/=(.*)/s, 2);
      if (name === 'dry-run') f.dryRun = true;
      else if (name === 'deprecated' || name === 'system') continue;
      else if (name === 'load') f.load = val ?? '/etc/sysctl.conf';
      else if (name === 'pattern') {
        const r = short('r', () => val ?? args[++i]);
        if (r) return r;
      } else if (LONG[name]) {
        const r = short(LONG[name], () => undefined);
        if (r) return r;
      } else return { stdout: USAGE, stderr: `sysctl: unrecognized option '${a}'\n`, code: 0, changed: false };
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const takesArg = c === 'r' || c === 'p' || c === 'f';
        const r = short(c, () => {
          if (!takesArg) return undefined;
          const rest = a.slice(j + 1);
          j = a.length;
          if (rest) return rest;
          return c === 'r' ? args[++i] : undefined;
        });
        if (r) return r;
      }
      continue;
    }
    operands.push(a);
  }

  const show = (name: string, value: string): void => {
    if (f.names) out += `${name}\n`;
    else if (f.values) out += f.binary ? value : `${value}\n`;
    else out += f.binary ? `${name} = ${value}` : `${name} = ${value}\n`;
  };

  if (f.load !== null) {
    return { stdout: '', stderr: `sysctl: cannot open "${f.load}": No such file or directory\n`, code: 1, changed: false };
  }
  if (f.all) {
    for (const e of ns.sysctl.entries()) {
      const name = e.segs.join('.');
      if (f.pattern && !f.pattern.test(name)) continue;
      show(name, e.value);
    }
    return { stdout: out, stderr: '', code: 0, changed: false };
  }
  if (!operands.length) {
    return { stdout: '', stderr: "sysctl: no variables specified\nTry `sysctl --help' for more information.\n", code: 1, changed: false };
  }

  let changed = false;
  for (const op of operands) {
    const eq = op.indexOf('=');
    if (f.write || eq >= 0) {
      if (eq < 0) {
        err += 'sysctl: command line(0): invalid syntax, continuing...\n';
        code = 1;
        continue;
      }
      const key = op.slice(0, eq).trim();
      const value = op.slice(eq + 1).trim();
      const k = keyPath(key);
      err += k.warn;
      const node = ns.sysctl.lookup(k.segs);
      if (node instanceof KernelError || (k.trailing && node.kind === 'file')) {
        if (!f.ignore) {
          err += `sysctl: cannot stat ${k.path}: ${STRERROR[node instanceof KernelError ? node.errno : 'ENOTDIR']}\n`;
          code = 1;
        }
        continue;
      }
      if (node.kind === 'file' && !node.writable) {
        err += `sysctl: setting key "${k.name}": Invalid argument\n`;
        continue;
      }
      if (!f.dryRun) {
        try {
          ns.writeSysctl(k.segs, `${value}\n`);
          changed = true;
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          err += `sysctl: setting key "${k.name}": ${STRERROR[e.errno]}\n`;
          code = 1;
          continue;
        }
      }
      if (!f.quiet) {
        if (f.names) out += `${k.name}\n`;
        else if (f.values) out += f.binary ? value : `${value}\n`;
        else out += `${k.name} = ${value}\n`;
      }
      continue;
    }
    const k = keyPath(op);
    err += k.warn;
    const node = ns.sysctl.lookup(k.segs);
    if (node instanceof KernelError || (k.trailing && node.kind === 'file')) {
      if (!f.ignore) {
        err += `sysctl: cannot stat ${k.path}: ${STRERROR[node instanceof KernelError ? node.errno : 'ENOTDIR']}\n`;
        code = 1;
      }
      continue;
    }
    if (node.kind === 'file') show(k.name, node.value);
    else for (const e of node.files) show(e.segs.join('.'), e.value);
  }
  return { stdout: out, stderr: err, code, changed };
}

// ---------------------------------------------------------------------------------------------
// /proc/sys files

function procSegs(path: string): string[] | null {
  const m = /^\/proc\/sys(\/.*)?$/.exec(path.replace(/\/+/g, '/'));
  if (!m) return null;
  return (m[1] ?? '').split('/').filter((s) => s !== '');
}

/** The content of a /proc/sys file, or why it cannot be read. */
export function readProcSys(path: string, ns: NetNs): { ok: true; text: string } | { ok: false; errno: Errno } {
  const segs = procSegs(path);
  if (!segs) return { ok: false, errno: 'ENOENT' };
  const node = ns.sysctl.lookup(segs);
  if (node instanceof KernelError) return { ok: false, errno: node.errno };
  if (node.kind === 'dir') return { ok: false, errno: 'EISDIR' };
  if (path.endsWith('/')) return { ok: false, errno: 'ENOTDIR' };
  return { ok: true, text: `${node.value}\n` };
}

/** `cat /proc/sys/...` of one file, as coreutils' cat reports it. */
export function catProcSys(path: string, ns: NetNs): CommandResult {
  const r = readProcSys(path, ns);
  if (r.ok) return { stdout: r.text, stderr: '', code: 0, changed: false };
  return { stdout: '', stderr: `cat: ${path}: ${STRERROR[r.errno]}\n`, code: 1, changed: false };
}

/**
 * `echo VALUE > /proc/sys/...`: writes `text` (as the shell would, newline included).
 * Returns null on success, else the errno the write or the open failed with (ENOENT, EISDIR,
 * EACCES for read-only files, EINVAL for a value the kernel refuses).
 */
export function writeProcSys(path: string, text: string, ns: NetNs): Errno | null {
  const segs = procSegs(path);
  if (!segs) return 'ENOENT';
  try {
    ns.writeSysctl(segs, text);
    return null;
  } catch (e) {
    if (e instanceof KernelError) return e.errno;
    throw e;
  }
}
