// `ip route`: list/show (with iproute2's selectors), add/append/prepend/replace/change/test,
// delete, flush, and get. IPv6 routes exist only for display: the kernel routes of the
// link-local and loopback addresses that `ip route show table all` lists after IPv4.

import { formatIPv4, inPrefix, type IPv4 } from '../ipv4.ts';
import { KernelError, STRERROR } from '../errno.ts';
import { SCOPE, formatIPv6, linkLocalBytes, parseScope, scopeName, type Iface } from '../iface.ts';
import {
  PROTO,
  ROUTE_TYPES,
  TABLE,
  parseProto,
  parseTable,
  protoName,
  tableName,
  type InsertMode,
  type Route,
  type RouteType,
} from '../route.ts';
import type { NetNs, RouteHit } from '../netns.ts';
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
import { USAGE_ROUTE } from './usage.ts';

/** rtnl_rtntype_a2n. */
function parseType(s: string): RouteType | null {
  if (s === 'brd') return 'broadcast';
  return (ROUTE_TYPES as readonly string[]).includes(s) ? (s as RouteType) : null;
}

/** A route row to print: an IPv4 FIB entry, or one of the display-only IPv6 routes. */
interface Row {
  family: 4 | 6;
  table: number;
  type: RouteType;
  dst: string; // "default", "A/N", or "A" for host routes
  dstAddr: IPv4; // IPv4 rows only
  plen: number;
  gateway: IPv4 | null;
  dev: string | null;
  proto: number;
  scope: number;
  prefsrc: IPv4 | null;
  metric: number | null; // null: no RTA_PRIORITY
  onlink: boolean;
  linkdown: boolean;
  route: Route | null;
}

function v4Row(ns: NetNs, r: Route): Row {
  const dst = r.plen === 0 ? 'default' : r.plen === 32 ? formatIPv4(r.dst) : `${formatIPv4(r.dst)}/${r.plen}`;
  return {
    family: 4, table: r.table, type: r.type, dst, dstAddr: r.dst, plen: r.plen, gateway: r.gateway,
    dev: r.dev !== null ? ns.linkByIndex(r.dev)?.name ?? null : null, proto: r.proto, scope: r.scope,
    prefsrc: r.prefsrc, metric: r.metric || null, onlink: r.onlink, linkdown: ns.routeLinkdown(r), route: r,
  };
}

/** The IPv6 routes the kernel holds for the addresses `ip addr` shows. */
function v6Rows(ns: NetNs, table: number): Row[] {
  const up = ns.links().filter((d) => d.v6).sort((a, b) => (a.v6?.seq ?? 0) - (b.v6?.seq ?? 0));
  const row = (d: Iface, type: RouteType, dst: string, plen: number, tb: number, metric: number, linkdownOk: boolean): Row => ({
    family: 6, table: tb, type, dst, dstAddr: 0, plen, gateway: null, dev: d.name, proto: PROTO.kernel, scope: SCOPE.universe,
    prefsrc: null, metric, onlink: false, linkdown: linkdownOk && !ns.carrier(d.name), route: null,
  });
  if (table === TABLE.main) return up.filter((d) => d.kind !== 'loopback').map((d) => row(d, 'unicast', 'fe80::/64', 64, TABLE.main, 256, true));
  if (table !== TABLE.local) return [];
  const locals = up
    .map((d) => {
      const bytes = d.kind === 'loopback' ? [...Array(15).fill(0), 1] : linkLocalBytes(d.mac);
      return { d, bytes, text: d.kind === 'loopback' ? '::1' : formatIPv6(bytes) };
    })
    .sort((a, b) => {
      for (let i = 0; i < 16; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i];
      return 0;
    })
    .map(({ d, text }) => row(d, 'local', text, 128, TABLE.local, 0, false));
  const mcast = up.filter((d) => d.kind !== 'loopback').map((d) => row(d, 'multicast', 'ff00::/8', 8, TABLE.local, 256, true));
  return [...locals, ...mcast];
}

interface ShowFilter {
  tb: number; // 0: all
  family: 4 | 6 | null;
  proto?: number;
  scope?: number;
  type?: RouteType;
  oif?: string;
  metric?: number;
  via?: { addr: IPv4; len: number };
  src?: { addr: IPv4; len: number };
  rdst?: { addr: IPv4; len: number };
  mdst?: { addr: IPv4; len: number };
}

function parseFilter(args: Args, ns: NetNs, opts: IpOptions): ShowFilter {
  const f: ShowFilter = { tb: TABLE.main, family: opts.family === 'inet6' ? 6 : opts.family === 'inet' ? 4 : null };
  while (!args.done) {
    const w = args.shift();
    if (matches(w, 'table')) {
      const v = args.next();
      const t = parseTable(v);
      if (t === null) invarg('table id value is invalid\n', v);
      f.tb = t;
    } else if (matches(w, 'protocol')) {
      const v = args.next();
      if (v === 'all') continue;
      const p = parseProto(v);
      if (p === null) invarg('invalid "protocol"\n', v);
      f.proto = p;
    } else if (matches(w, 'scope')) {
      const v = args.next();
      if (v === 'all') continue;
      const s = parseScope(v);
      if (s === null) invarg('invalid "scope"\n', v);
      f.scope = s;
    } else if (matches(w, 'type')) {
      const v = args.next();
      const t = parseType(v);
      if (t === null) invarg('node type value is invalid\n', v);
      f.type = t;
    } else if (w === 'dev' || w === 'oif') f.oif = args.next();
    else if (matches(w, 'metric') || matches(w, 'priority') || w === 'preference') {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('"metric" value is invalid\n', v);
      f.metric = n;
    } else if (w === 'via') f.via = getPrefix(args.next());
    else if (w === 'src') f.src = getPrefix(args.next());
    else {
      let x = w;
      if (matches(x, 'to')) x = args.next();
      if (matches(x, 'root')) f.rdst = getPrefix(args.next());
      else if (matches(x, 'match')) f.mdst = getPrefix(args.next());
      else {
        if (matches(x, 'exact')) x = args.next();
        f.mdst = f.rdst = getPrefix(x);
      }
    }
  }
  if (f.family === null && f.tb !== 0) f.family = 4;
  if (f.oif !== undefined && !ns.link(f.oif)) noDevice(f.oif);
  return f;
}

function keep(f: ShowFilter, r: Row): boolean {
  if (f.family !== null && r.family !== f.family) return false;
  if (f.tb && r.table !== f.tb) return false;
  if (f.proto !== undefined && r.proto !== f.proto) return false;
  if (f.scope !== undefined && r.scope !== f.scope) return false;
  if (f.type !== undefined && r.type !== f.type) return false;
  if (f.oif !== undefined && r.dev !== f.oif) return false;
  if (f.metric !== undefined && (r.metric ?? 0) !== f.metric) return false;
  if (r.family === 6) return !(f.via || f.src || f.rdst || f.mdst);
  if (f.via && (r.gateway === null || !inPrefix(r.gateway, f.via))) return false;
  if (f.src && (r.prefsrc === null || !inPrefix(r.prefsrc, f.src))) return false;
  if (f.rdst && (f.rdst.len > r.plen || !inPrefix(r.dstAddr, f.rdst))) return false;
  if (f.mdst && (f.mdst.len < r.plen || !inPrefix(f.mdst.addr, { addr: r.dstAddr, len: r.plen }))) return false;
  return true;
}

function rowText(r: Row, f: ShowFilter): string {
  let s = '';
  if (r.type !== 'unicast') s += `${r.type} `;
  s += `${r.dst} `;
  if (r.gateway !== null && !(f.via && f.via.len === 32)) s += `via ${formatIPv4(r.gateway)} `;
  if (r.dev !== null && f.oif === undefined) s += `dev ${r.dev} `;
  if (r.table !== TABLE.main && !f.tb) s += `table ${tableName(r.table)} `;
  if (r.proto !== PROTO.boot && f.proto === undefined) s += `proto ${protoName(r.proto)} `;
  if (r.scope !== SCOPE.universe && f.scope === undefined) s += `scope ${scopeName(r.scope)} `;
  if (r.prefsrc !== null && !(f.src && f.src.len === 32)) s += `src ${formatIPv4(r.prefsrc)} `;
  if (r.metric !== null && f.metric === undefined) s += `metric ${r.metric} `;
  if (r.onlink) s += 'onlink ';
  if (r.linkdown) s += 'linkdown ';
  if (r.family === 6) s += 'pref medium';
  return `${s}\n`;
}

function rowJson(r: Row, f: ShowFilter): Json {
  const o: { [k: string]: Json } = {};
  if (r.type !== 'unicast') o.type = r.type;
  o.dst = r.dst;
  if (r.gateway !== null && !(f.via && f.via.len === 32)) o.gateway = formatIPv4(r.gateway);
  if (r.dev !== null && f.oif === undefined) o.dev = r.dev;
  if (r.table !== TABLE.main && !f.tb) o.table = tableName(r.table);
  if (r.proto !== PROTO.boot && f.proto === undefined) o.protocol = protoName(r.proto);
  if (r.scope !== SCOPE.universe && f.scope === undefined) o.scope = scopeName(r.scope);
  if (r.prefsrc !== null && !(f.src && f.src.len === 32)) o.prefsrc = formatIPv4(r.prefsrc);
  if (r.metric !== null && f.metric === undefined) o.metric = r.metric;
  const flags: Json[] = [];
  if (r.onlink) flags.push('onlink');
  if (r.linkdown) flags.push('linkdown');
  o.flags = flags;
  if (r.family === 6) o.pref = 'medium';
  return o;
}

function selectRows(ns: NetNs, f: ShowFilter): Row[] {
  if (f.tb && !ns.hasTable(f.tb) && f.family !== 6) {
    throw new IpExit('Error: ipv4: FIB table does not exist.\nDump terminated\n', 2);
  }
  const rows: Row[] = [];
  if (f.family !== 6) for (const t of ns.tableIds()) for (const r of ns.routes(t)) rows.push(v4Row(ns, r));
  if (f.family !== 4) rows.push(...v6Rows(ns, TABLE.main), ...v6Rows(ns, TABLE.local));
  return rows.filter((r) => keep(f, r));
}

function show(ns: NetNs, args: Args, opts: IpOptions): string {
  const f = parseFilter(args, ns, opts);
  const rows = selectRows(ns, f);
  if (opts.json) return jsonText(rows.map((r) => rowJson(r, f)), opts.pretty);
  return rows.map((r) => rowText(r, f)).join('');
}

function flush(ns: NetNs, args: Args, opts: IpOptions): boolean {
  if (args.done) fail('"ip route flush" requires arguments.', 1);
  const first = args.peek();
  if (first === 'cache') return false;
  const f = parseFilter(args, ns, opts);
  const rows = selectRows(ns, f).filter((r) => r.family === 4);
  for (const r of rows) if (r.route) ns.removeRoute(r.route);
  return rows.length > 0;
}

interface ModifyReq {
  type?: RouteType;
  dst?: { addr: IPv4; len: number };
  gateway?: IPv4;
  dev?: string;
  prefsrc?: IPv4;
  metric?: number;
  scope?: number;
  proto?: number;
  table?: number;
  onlink: boolean;
}

function parseModify(args: Args): ModifyReq {
  const req: ModifyReq = { onlink: false };
  while (!args.done) {
    const w = args.shift();
    if (w === 'src') req.prefsrc = getAddr(args.next());
    else if (w === 'via') {
      let v = args.next();
      if (v === 'inet') v = args.next();
      req.gateway = getAddr(v);
    } else if (matches(w, 'metric') || matches(w, 'priority') || w === 'preference') {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('"metric" value is invalid\n', v);
      req.metric = n;
    } else if (w === 'scope') {
      const v = args.next();
      const s = parseScope(v);
      if (s === null) invarg('invalid "scope" value\n', v);
      req.scope = s;
    } else if (w === 'onlink') req.onlink = true;
    else if (w === 'dev' || w === 'oif') req.dev = args.next();
    else if (matches(w, 'protocol')) {
      const v = args.next();
      const p = parseProto(v);
      if (p === null) invarg('"protocol" value is invalid\n', v);
      req.proto = p;
    } else if (matches(w, 'table')) {
      const v = args.next();
      const t = parseTable(v);
      if (t === null || v === 'all') invarg('"table" value is invalid\n', v);
      req.table = t;
    } else {
      let x = w;
      if (x === 'to') x = args.next();
      const t = /^[0-9]/.test(x) ? null : parseType(x);
      if (t !== null) {
        req.type = t;
        x = args.next();
      }
      if (matches(x, 'help')) throw new IpExit(USAGE_ROUTE, 255);
      if (req.dst) duparg2('to', x);
      const p = getPrefix(x);
      req.dst = { addr: p.addr, len: p.len };
    }
  }
  return req;
}

function modify(ns: NetNs, args: Args, mode: InsertMode | 'del'): void {
  const req = parseModify(args);
  if (!req.dst) throw new IpExit(USAGE_ROUTE, 255);
  if (req.dev !== undefined && !ns.link(req.dev)) noDevice(req.dev);
  const type = req.type ?? 'unicast';
  const table = req.table ?? (['local', 'broadcast', 'nat', 'anycast'].includes(type) ? TABLE.local : TABLE.main);
  try {
    if (mode === 'del') {
      ns.delRoute(table, {
        dst: req.dst.addr,
        plen: req.dst.len,
        type: req.type,
        scope: req.scope,
        prefsrc: req.prefsrc,
        proto: req.proto,
        metric: req.metric,
        dev: req.dev !== undefined ? ns.link(req.dev)?.ifindex : undefined,
        gateway: req.gateway,
      });
      return;
    }
    let scope = req.scope;
    if (scope === undefined) {
      if (type === 'local' || type === 'nat') scope = SCOPE.host;
      else if (type === 'broadcast' || type === 'multicast' || type === 'anycast') scope = SCOPE.link;
      else if (type === 'unicast' && req.gateway === undefined) scope = SCOPE.link;
      else scope = SCOPE.universe;
    }
    const cfg = {
      table, type, dst: req.dst.addr, plen: req.dst.len, metric: req.metric ?? 0, proto: req.proto ?? PROTO.boot, scope,
      prefsrc: req.prefsrc, gateway: req.gateway, dev: req.dev, onlink: req.onlink,
    };
    ns.addRoute(cfg, mode);
  } catch (e) {
    if (e instanceof KernelError) throw kernelExit(e);
    throw e;
  }
}

function getRoute(ns: NetNs, args: Args, opts: IpOptions): string {
  let dst: IPv4 | undefined;
  let src: IPv4 | undefined;
  let iif: string | undefined;
  let oif: string | undefined;
  let mark = 0;
  let warn = '';
  while (!args.done) {
    const w = args.shift();
    if (matches(w, 'from')) {
      const v = args.next();
      if (matches(v, 'help')) throw new IpExit(USAGE_ROUTE, 255);
      src = getPrefix(v).addr;
    } else if (matches(w, 'iif')) iif = args.next();
    else if (matches(w, 'mark')) {
      const v = args.next();
      const n = getUnsigned(v);
      if (n === null) invarg('invalid mark value', v);
      mark = n;
    } else if (matches(w, 'oif') || w === 'dev') oif = args.next();
    else if (matches(w, 'uid')) args.next();
    else if (matches(w, 'connected') || matches(w, 'notify')) continue;
    else {
      const x = w === 'to' ? args.next() : w;
      if (matches(x, 'help')) throw new IpExit(USAGE_ROUTE, 255);
      const p = getPrefix(x);
      if (p.lenGiven && p.len !== 32) warn += `Warning: /${p.len} as prefix is invalid, only /32 (or none) is supported.\n`;
      dst = p.addr;
    }
  }
  if (dst === undefined) fail('need at least a destination address', 1);
  if (iif !== undefined && !ns.link(iif)) noDevice(iif);
  if (oif !== undefined && !ns.link(oif)) noDevice(oif);
  const res = ns.lookup(dst, { src, iif, oif, mark });
  if (!res.ok) throw new IpExit(`${warn}RTNETLINK answers: ${STRERROR[res.errno]}\n`, 2);
  const out = opts.json ? jsonText([getJson(res, dst, src, iif, mark)], opts.pretty) : getText(res, dst, src, iif, mark);
  if (warn) throw new IpExit(warn, 0, out);
  return out;
}

function cacheFlags(res: RouteHit): string[] {
  const out: string[] = [];
  if (res.flags.local) out.push('local');
  if (res.flags.mc) out.push('mc');
  if (res.flags.brd) out.push('brd');
  if (res.flags.redirect) out.push('redirect');
  return out;
}

function getText(res: RouteHit, dst: IPv4, src: IPv4 | undefined, iif: string | undefined, mark: number): string {
  let s = '';
  if (res.type !== 'unicast') s += `${res.type} `;
  s += `${formatIPv4(dst)} `;
  if (src !== undefined) s += `from ${formatIPv4(src)} `;
  if (res.gateway !== null) s += `via ${formatIPv4(res.gateway)} `;
  s += `dev ${res.dev} `;
  if (!res.input && res.prefsrc !== (src ?? 0)) s += `src ${formatIPv4(res.prefsrc)} `;
  if (res.type === 'multicast') s += 'rt_offload_failed ';
  if (mark) s += mark >= 16 ? `mark 0x${mark.toString(16)} ` : `mark ${mark} `;
  if (!res.input) s += 'uid 0 ';
  const flags = cacheFlags(res);
  s += `\n    cache ${flags.length ? `<${flags.join(',')}> ` : ''}`;
  if (iif !== undefined) s += `iif ${iif} `;
  return `${s}\n`;
}

function getJson(res: RouteHit, dst: IPv4, src: IPv4 | undefined, iif: string | undefined, mark: number): Json {
  const o: { [k: string]: Json } = {};
  if (res.type !== 'unicast') o.type = res.type;
  o.dst = formatIPv4(dst);
  if (src !== undefined) o.from = formatIPv4(src);
  if (res.gateway !== null) o.gateway = formatIPv4(res.gateway);
  o.dev = res.dev;
  if (!res.input && res.prefsrc !== (src ?? 0)) o.prefsrc = formatIPv4(res.prefsrc);
  o.flags = res.type === 'multicast' ? ['rt_offload_failed'] : [];
  if (mark) o.mark = mark;
  if (!res.input) o.uid = 0;
  o.cache = cacheFlags(res);
  if (iif !== undefined) o.iif = iif;
  return o;
}

export function ipRoute(argv: readonly string[], ns: NetNs, opts: IpOptions): { stdout: string; changed: boolean } {
  const args = new Args(argv);
  if (args.done) return { stdout: show(ns, args, opts), changed: false };
  const cmd = args.shift();
  const mod = (mode: InsertMode | 'del'): { stdout: string; changed: boolean } => {
    modify(ns, args, mode);
    return { stdout: '', changed: mode !== 'test' };
  };
  if (matches(cmd, 'add')) return mod('add');
  if (matches(cmd, 'change') || cmd === 'chg') return mod('change');
  if (matches(cmd, 'replace')) return mod('replace');
  if (matches(cmd, 'prepend')) return mod('prepend');
  if (matches(cmd, 'append')) return mod('append');
  if (matches(cmd, 'test')) return mod('test');
  if (matches(cmd, 'delete')) return mod('del');
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return { stdout: show(ns, args, opts), changed: false };
  if (matches(cmd, 'get')) return { stdout: getRoute(ns, args, opts), changed: false };
  if (matches(cmd, 'flush')) return { stdout: '', changed: flush(ns, args, opts) };
  if (matches(cmd, 'help')) throw new IpExit(USAGE_ROUTE, 255);
  return fail(`Command "${cmd}" is unknown, try "ip route help".`, 255);
}

