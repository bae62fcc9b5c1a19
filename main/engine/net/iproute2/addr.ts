// `ip address`: show (text, -br, -j, -4/-6), add, change, replace, delete, flush.

import { formatIPv4, inPrefix, maskOf, type IPv4 } from '../ipv4.ts';
import { KernelError } from '../errno.ts';
import { LOOPBACK6, SCOPE, formatIPv6, linkLocalBytes, parseScope, scopeName, type IfAddr, type Iface } from '../iface.ts';
import type { NetNs } from '../netns.ts';
import {
  Args,
  IpExit,
  duparg2,
  fail,
  getAddr,
  getPrefix,
  getUnsigned,
  invarg,
  jsonText,
  kernelExit,
  matches,
  noDevice,
  type IpOptions,
  type Json,
} from './common.ts';
import { briefJsonHead, briefName, linkHeaderJson, linkHeaderText, selectLinks, statsText, type HeaderMode } from './link.ts';
import { USAGE_ADDRESS } from './usage.ts';

const FOREVER = 4294967295;
const LFT = '       valid_lft forever preferred_lft forever\n';

/** An IPv6 address as `ip addr` shows it (display only). */
interface Addr6 {
  text: string;
  prefixlen: number;
  scope: number;
}

function addrs6(dev: Iface): Addr6[] {
  if (!dev.v6) return [];
  if (dev.kind === 'loopback') return [{ text: LOOPBACK6, prefixlen: 128, scope: SCOPE.host }];
  return [{ text: formatIPv6(linkLocalBytes(dev.mac)), prefixlen: 64, scope: SCOPE.link }];
}

interface AddrFilter {
  family: 'inet' | 'inet6' | null;
  scope?: number;
  to?: { addr: IPv4; len: number };
  label?: string;
  primary?: boolean;
  secondary?: boolean;
}

/** fnmatch() on labels, enough for `label eth0:*`. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

function keep4(f: AddrFilter, a: IfAddr): boolean {
  if (f.family === 'inet6') return false;
  if (f.scope !== undefined && a.scope !== f.scope) return false;
  if (f.to && !(a.prefixlen >= f.to.len && inPrefix(a.local, { addr: f.to.addr, len: f.to.len }))) return false;
  if (f.label !== undefined && !globMatch(f.label, a.label)) return false;
  if (f.primary && a.secondary) return false;
  if (f.secondary && !a.secondary) return false;
  return true;
}

function keep6(f: AddrFilter, a: Addr6, dev: string): boolean {
  if (f.family === 'inet') return false;
  if (f.scope !== undefined && a.scope !== f.scope) return false;
  // IPv6 addresses have no label: the device name stands in for it.
  if (f.label !== undefined && !globMatch(f.label, dev)) return false;
  if (f.to || f.secondary) return false;
  return true;
}

function inetLine(a: IfAddr): string {
  let s = `    inet ${formatIPv4(a.local)}/${a.prefixlen}`;
  if (a.metric) s += ` metric ${a.metric}`;
  if (a.broadcast !== null) s += ` brd ${formatIPv4(a.broadcast)}`;
  s += ` scope ${scopeName(a.scope)}`;
  if (a.secondary) s += ' secondary';
  if (a.noprefixroute) s += ' noprefixroute';
  return `${s} ${a.label}\n${LFT}`;
}

function inetJson(a: IfAddr): Json {
  const o: { [k: string]: Json } = { family: 'inet', local: formatIPv4(a.local), prefixlen: a.prefixlen };
  if (a.metric) o.metric = a.metric;
  if (a.broadcast !== null) o.broadcast = formatIPv4(a.broadcast);
  o.scope = scopeName(a.scope);
  if (a.secondary) o.secondary = true;
  if (a.noprefixroute) o.noprefixroute = true;
  o.label = a.label;
  o.valid_life_time = FOREVER;
  o.preferred_life_time = FOREVER;
  return o;
}

function inet6Json(a: Addr6): Json {
  return { family: 'inet6', local: a.text, prefixlen: a.prefixlen, scope: scopeName(a.scope), valid_life_time: FOREVER, preferred_life_time: FOREVER };
}

function parseShowFilter(args: Args, opts: IpOptions, ns: NetNs): { devs: Iface[]; f: AddrFilter } {
  const f: AddrFilter = { family: opts.family };
  const devs = selectLinks(ns, args, (w, a) => {
    if (w === 'scope') {
      const v = a.next();
      const sc = parseScope(v);
      if (sc === null) invarg('invalid "scope"\n', v);
      f.scope = sc;
    } else if (w === 'to') {
      const p = getPrefix(a.next());
      f.to = { addr: p.addr, len: p.len };
      if (f.family === null) f.family = 'inet';
    } else if (w === 'label') f.label = a.next();
    else if (w === 'primary') f.primary = true;
    else if (w === 'secondary') f.secondary = true;
    else return false;
    return true;
  });
  return { devs, f };
}

function inet6Line(a: Addr6): string {
  return `    inet6 ${a.text}/${a.prefixlen} scope ${scopeName(a.scope)} \n${LFT}`;
}

function showAddrs(ns: NetNs, args: Args, opts: IpOptions): string {
  const { devs, f } = parseShowFilter(args, opts, ns);
  const mode: HeaderMode = f.family === 'inet' ? 'addr4' : f.family === 'inet6' ? 'addr6' : 'addr';
  // ipaddr_filter: a device stays when one of its addresses matches, or when it has none at
  // all and no family was asked for.
  const rows = devs
    .map((d) => ({ d, a4: d.addrs.filter((a) => keep4(f, a)), a6: addrs6(d).filter((a) => keep6(f, a, d.name)), none: d.addrs.length + addrs6(d).length === 0 }))
    .filter((r) => r.a4.length + r.a6.length > 0 || (r.none && f.family === null));
  if (opts.json) {
    const out: Json[] = rows.map(({ d, a4, a6 }) => {
      const addrInfo: Json[] = opts.brief
        ? [...a4.map((a) => ({ local: formatIPv4(a.local), prefixlen: a.prefixlen })), ...a6.map((a) => ({ local: a.text, prefixlen: a.prefixlen }))]
        : [...a4.map(inetJson), ...a6.map(inet6Json)];
      const head = opts.brief ? briefJsonHead(ns, d) : linkHeaderJson(ns, d, mode, opts.details > 0);
      return { ...head, addr_info: addrInfo };
    });
    return jsonText(out, opts.pretty);
  }
  if (opts.brief) {
    return rows
      .map(({ d, a4, a6 }) => `${briefName(ns, d)}${[...a4.map((a) => `${formatIPv4(a.local)}/${a.prefixlen} `), ...a6.map((a) => `${a.text}/${a.prefixlen} `)].join('')}\n`)
      .join('');
  }
  // With a label selection or -o the device lines are left out; -o puts each address on one
  // line behind "index: name".
  const noLink = f.label !== undefined || opts.oneline;
  return rows
    .map(({ d, a4, a6 }) => {
      const lines = [...a4.map(inetLine), ...a6.map(inet6Line)];
      if (noLink) return lines.map((l) => (opts.oneline ? `${d.ifindex}: ${d.name}${l.replace(/\n(?=.)/g, '\\')}` : l)).join('');
      // -s: the counters follow the addresses.
      return linkHeaderText(ns, d, mode, opts.details > 0) + lines.join('') + (opts.stats && mode === 'addr' ? statsText(d.stats) : '');
    })
    .join('');
}

interface AddrReq {
  local?: { addr: IPv4; len: number; lenGiven: boolean; text: string };
  dev?: string;
  brd?: IPv4 | '+' | '-';
  label?: string;
  scope?: number;
  metric?: number;
  noprefixroute: boolean;
}

function parseModify(args: Args): AddrReq {
  const req: AddrReq = { noprefixroute: false };
  while (!args.done) {
    const w = args.shift();
    if (w === 'peer' || w === 'remote' || w === 'anycast') fail(`Error: "${w}" is not supported by this lab.`, 1);
    else if (matches(w, 'broadcast') || w === 'brd') {
      const v = args.next();
      if (req.brd !== undefined) duparg2('broadcast', v);
      req.brd = v === '+' || v === '-' ? v : getAddr(v);
    } else if (w === 'scope') {
      const v = args.next();
      const sc = parseScope(v);
      if (sc === null) invarg('invalid scope value.', v);
      req.scope = sc;
    } else if (w === 'dev') req.dev = args.next();
    else if (w === 'label') req.label = args.next();
    else if (matches(w, 'metric') || matches(w, 'priority') || matches(w, 'preference')) {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('"metric" value is invalid\n', v);
      req.metric = n;
    } else if (matches(w, 'valid_lft') || matches(w, 'preferred_lft')) {
      const v = args.next();
      if (v !== 'forever' && getUnsigned(v) === null) invarg(`"${w}" value is invalid\n`, v);
    } else if (w === 'noprefixroute') req.noprefixroute = true;
    else if (w === 'home' || w === 'nodad' || w === 'mngtmpaddr' || w === 'autojoin') continue;
    else {
      const v = w === 'local' ? args.next() : w;
      if (req.local) duparg2('local', v);
      req.local = { ...getPrefix(v), text: v };
    }
  }
  return req;
}

function modify(ns: NetNs, cmd: 'add' | 'change' | 'replace' | 'del', args: Args): string {
  const req = parseModify(args);
  let warn = '';
  if (req.dev === undefined) fail('Not enough information: "dev" argument is required.', 1);
  const dev = ns.link(req.dev);
  if (!req.local) {
    if (!dev) noDevice(req.dev);
    throw new KernelError('EOPNOTSUPP');
  }
  const { addr, len, lenGiven } = req.local;
  if (cmd === 'del' && !lenGiven) {
    warn =
      'Warning: Executing wildcard deletion to stay compatible with old scripts.\n' +
      `         Explicitly specify the prefix length (${req.local.text}/32) to avoid this warning.\n` +
      '         This special behaviour is likely to disappear in further releases,\n' +
      '         fix your scripts!\n';
  }
  if (!dev) noDevice(req.dev);
  try {
    if (cmd === 'del') {
      ns.delAddr(dev.name, addr, lenGiven ? len : undefined, req.label);
      return warn;
    }
    let brd: IPv4 | null = null;
    if (typeof req.brd === 'number') brd = req.brd;
    else if (req.brd !== undefined && len <= 30) {
      const m = maskOf(len);
      brd = req.brd === '+' ? (addr | ~m) >>> 0 : (addr & m) >>> 0;
    }
    const spec = {
      local: addr,
      prefixlen: len,
      broadcast: brd,
      scope: req.scope ?? (addr >>> 24 === 127 ? SCOPE.host : SCOPE.universe),
      label: req.label,
      noprefixroute: req.noprefixroute,
      metric: req.metric,
    };
    if (cmd === 'add') ns.addAddr(dev.name, spec);
    else if (cmd === 'replace') ns.replaceAddr(dev.name, spec);
    else {
      if (!dev.addrs.some((a) => a.local === addr && a.prefixlen === len)) throw new KernelError('ENOENT');
      ns.replaceAddr(dev.name, spec);
    }
  } catch (e) {
    if (e instanceof KernelError) {
      const x = kernelExit(e);
      throw new IpExit(warn + x.stderr, x.code);
    }
    throw e;
  }
  return warn;
}

function flush(ns: NetNs, args: Args, opts: IpOptions): number {
  if (args.done) fail('Flush requires arguments.', 1);
  const { devs, f } = parseShowFilter(args, opts, ns);
  let n = 0;
  for (const d of devs) {
    n += ns.flushAddrs(d.name, (a) => keep4(f, a));
    if (addrs6(d).some((a) => keep6(f, a, d.name)) && ns.flushIpv6(d.name)) n++;
  }
  return n;
}

export function ipAddr(argv: readonly string[], ns: NetNs, opts: IpOptions): { stdout: string; stderr?: string; changed: boolean } {
  const args = new Args(argv);
  if (args.done) return { stdout: showAddrs(ns, args, opts), changed: false };
  const cmd = args.shift();
  if (matches(cmd, 'add')) return { stdout: '', stderr: modify(ns, 'add', args), changed: true };
  if (matches(cmd, 'change') || cmd === 'chg') return { stdout: '', stderr: modify(ns, 'change', args), changed: true };
  if (matches(cmd, 'replace')) return { stdout: '', stderr: modify(ns, 'replace', args), changed: true };
  if (matches(cmd, 'delete')) return { stdout: '', stderr: modify(ns, 'del', args), changed: true };
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return { stdout: showAddrs(ns, args, opts), changed: false };
  if (matches(cmd, 'flush')) return { stdout: '', changed: flush(ns, args, opts) > 0 };
  if (matches(cmd, 'help')) throw new IpExit(USAGE_ADDRESS, 255);
  return fail(`Command "${cmd}" is unknown, try "ip address help".`, 255);
}
