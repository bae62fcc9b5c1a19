// `ip neigh`: show, add/change/replace/delete (incl. proxy entries), flush, get.

import { formatIPv4, inPrefix, type IPv4 } from '../ipv4.ts';
import { KernelError } from '../errno.ts';
import { formatMac } from '../iface.ts';
import { NUD_BITS, parseNud, type Neighbour, type NudState } from '../neigh.ts';
import type { NetNs } from '../netns.ts';
import {
  Args,
  IpExit,
  duparg2,
  fail,
  getAddr,
  getPrefix,
  invarg,
  llAddr,
  jsonText,
  kernelExit,
  matches,
  noDevice,
  type IpOptions,
  type Json,
} from './common.ts';
import { USAGE_NEIGH } from './usage.ts';

const ALL_STATES = 0xff;

interface ShowFilter {
  dev?: string;
  to?: { addr: IPv4; len: number };
  states: number;
  proxy: boolean;
}

function parseShow(args: Args, ns: NetNs, flush: boolean): ShowFilter {
  const f: ShowFilter = { states: ALL_STATES & ~NUD_BITS.NOARP, proxy: false };
  let stateGiven = false;
  while (!args.done) {
    const w = args.shift();
    if (w === 'dev') f.dev = args.next();
    else if (w === 'nud') {
      const v = args.next();
      const s = parseNud(v);
      if (s === null) invarg('nud state is bad', v);
      if (!stateGiven) f.states = 0;
      stateGiven = true;
      f.states |= s === 'all' ? ALL_STATES : NUD_BITS[s];
    } else if (w === 'proxy') f.proxy = true;
    else if (w === 'unused' || w === 'nomaster') continue;
    else {
      const x = w === 'to' ? args.next() : w;
      f.to = getPrefix(x);
    }
  }
  if (flush && !stateGiven) f.states &= ~NUD_BITS.PERMANENT;
  if (f.dev !== undefined && !ns.link(f.dev)) noDevice(f.dev);
  return f;
}

function selected(ns: NetNs, f: ShowFilter): Neighbour[] {
  const idx = f.dev !== undefined ? ns.link(f.dev)?.ifindex : undefined;
  return ns.neighbours().filter(
    (n) =>
      (idx === undefined || n.dev === idx) &&
      (!f.to || inPrefix(n.ip, f.to)) &&
      (NUD_BITS[n.state] & f.states) !== 0,
  );
}

function entryText(ns: NetNs, n: Neighbour, withDev: boolean, stats: boolean): string {
  let s = `${formatIPv4(n.ip)} `;
  if (withDev) s += `dev ${ns.linkByIndex(n.dev)?.name ?? n.dev} `;
  if (n.lladdr) s += `lladdr ${n.lladdr} `;
  if (n.router) s += 'router ';
  if (stats) s += ' used 0/0/0probes 0 ';
  return `${s}${n.state} \n`;
}

function entryJson(ns: NetNs, n: Neighbour, withDev: boolean): Json {
  const o: { [k: string]: Json } = { dst: formatIPv4(n.ip) };
  if (withDev) o.dev = ns.linkByIndex(n.dev)?.name ?? n.dev;
  if (n.lladdr) o.lladdr = n.lladdr;
  if (n.router) o.router = null;
  o.state = [n.state];
  return o;
}

function show(ns: NetNs, args: Args, opts: IpOptions): string {
  const f = parseShow(args, ns, false);
  const withDev = f.dev === undefined;
  if (opts.family === 'inet6') return opts.json ? jsonText([], opts.pretty) : '';
  if (f.proxy) {
    const idx = f.dev !== undefined ? ns.link(f.dev)?.ifindex : undefined;
    const ps = ns.proxies().filter((p) => (idx === undefined || p.dev === idx) && (!f.to || inPrefix(p.ip, f.to)));
    if (opts.json) {
      return jsonText(
        ps.map((p) => ({ dst: formatIPv4(p.ip), ...(withDev ? { dev: ns.linkByIndex(p.dev)?.name ?? p.dev } : {}), proxy: null })),
        opts.pretty,
      );
    }
    return ps.map((p) => `${formatIPv4(p.ip)} ${withDev ? `dev ${ns.linkByIndex(p.dev)?.name} ` : ''}proxy \n`).join('');
  }
  const list = selected(ns, f);
  if (opts.json) return jsonText(list.map((n) => entryJson(ns, n, withDev)), opts.pretty);
  return list.map((n) => entryText(ns, n, withDev, opts.stats > 0)).join('');
}

interface ModReq {
  dst?: IPv4;
  dev?: string;
  lladdr?: string;
  state: NudState;
  proxy: boolean;
  router: boolean;
}

function parseModify(args: Args, del: boolean, ns: NetNs): ModReq {
  const req: ModReq = { state: 'PERMANENT', proxy: false, router: false };
  let lla: string | undefined;
  while (!args.done) {
    const w = args.shift();
    if (matches(w, 'lladdr')) {
      const v = args.next();
      if (lla !== undefined) duparg2('lladdr', v);
      lla = v;
    } else if (w === 'nud') {
      const v = args.next();
      const s = parseNud(v);
      if (s === null || s === 'all') invarg('nud state is bad', v);
      req.state = s;
    } else if (matches(w, 'proxy')) {
      const v = args.next();
      if (req.dst !== undefined) duparg2('address', v);
      req.dst = getAddr(v);
      req.proxy = true;
    } else if (w === 'router') req.router = true;
    else if (w === 'dev') req.dev = args.next();
    else if (matches(w, 'extern_learn') || w === 'use' || w === 'managed') continue;
    else {
      const x = w === 'to' ? args.next() : w;
      if (req.dst !== undefined) duparg2('to', x);
      req.dst = getAddr(x);
    }
  }
  if (req.dev === undefined || req.dst === undefined) fail('Device and destination are required arguments.', 255);
  if (lla !== undefined && lla !== 'null' && !del) {
    const m = llAddr(lla);
    if (m.length < 6) throw new KernelError('EINVAL', 'Invalid link address');
    req.lladdr = formatMac(m.slice(0, 6));
  }
  if (!ns.link(req.dev)) noDevice(req.dev);
  return req;
}

function modify(ns: NetNs, args: Args, mode: 'add' | 'change' | 'replace' | 'del'): void {
  try {
    const req = parseModify(args, mode === 'del', ns);
    const dst = req.dst as IPv4;
    const dev = req.dev as string;
    if (req.proxy) {
      if (mode === 'del') ns.delProxy(dst, dev);
      else ns.addProxy(dst, dev);
      return;
    }
    if (mode === 'del') ns.delNeighbour(dst, dev);
    else ns.setNeighbour(dst, dev, req.lladdr ?? null, req.state, mode, req.router);
  } catch (e) {
    if (e instanceof KernelError) throw kernelExit(e);
    throw e;
  }
}

function get(ns: NetNs, args: Args, opts: IpOptions): string {
  let dst: IPv4 | undefined;
  let dev: string | undefined;
  while (!args.done) {
    const w = args.shift();
    if (w === 'dev') dev = args.next();
    else if (w === 'proxy') dst = getAddr(args.next());
    else dst = getAddr(w === 'to' ? args.next() : w);
  }
  if (dev === undefined || dst === undefined) fail('Device and destination are required arguments.', 255);
  if (!ns.link(dev)) noDevice(dev);
  const n = ns.neighbour(dst, dev);
  if (!n) throw kernelExit(new KernelError('ENOENT', 'Neighbour entry not found'));
  return opts.json ? jsonText([entryJson(ns, n, true)], opts.pretty) : entryText(ns, n, true, false);
}

export function ipNeigh(argv: readonly string[], ns: NetNs, opts: IpOptions): { stdout: string; changed: boolean } {
  const args = new Args(argv);
  if (args.done) return { stdout: show(ns, args, opts), changed: false };
  const cmd = args.shift();
  const mod = (mode: 'add' | 'change' | 'replace' | 'del'): { stdout: string; changed: boolean } => {
    modify(ns, args, mode);
    return { stdout: '', changed: true };
  };
  if (matches(cmd, 'add')) return mod('add');
  if (matches(cmd, 'change') || cmd === 'chg') return mod('change');
  if (matches(cmd, 'replace')) return mod('replace');
  if (matches(cmd, 'delete')) return mod('del');
  if (matches(cmd, 'get')) return { stdout: get(ns, args, opts), changed: false };
  if (matches(cmd, 'show') || matches(cmd, 'lst') || matches(cmd, 'list')) return { stdout: show(ns, args, opts), changed: false };
  if (matches(cmd, 'flush')) {
    if (args.done) fail('Flush requires arguments.', 1);
    const f = parseShow(args, ns, true);
    const victims = new Set(selected(ns, f));
    return { stdout: '', changed: ns.flushNeighbours((n) => victims.has(n)) > 0 };
  }
  if (matches(cmd, 'help')) throw new IpExit(USAGE_NEIGH, 255);
  return fail(`Command "${cmd}" is unknown, try "ip neigh help".`, 255);
}
