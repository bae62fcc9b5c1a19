// `-m recent`: per-address lists of recent packets (xt_recent, revision 1). kube-proxy's
// sessionAffinity: ClientIP is built on it: the SEP chain `--set`s the client into list
// KUBE-SEP-X, the SVC chain `--rcheck --seconds T --reap`s it to send the client back to the
// same endpoint. Like the kernel, matching changes the lists: --set and a matching --update
// stamp the entry, --remove deletes it, --reap drops the list's stalest entry.

import { formatIPv4 } from '../../net/ipv4.ts';
import type { IPv4 } from '../../net/ipv4.ts';
import type { MatchCtx, MatchModule, RecentTables } from '../types.ts';
import { inetAton, parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

type RecentOp = 'set' | 'rcheck' | 'update' | 'remove';

export interface RecentData {
  op?: RecentOp;
  invert: boolean;
  seconds: number; // 0 = no time window
  reap: boolean;
  hitcount: number; // 0 = any
  rttl: boolean;
  name: string;
  side: 'source' | 'dest';
  mask: IPv4;
}

const ANY_OP = ['set', 'rcheck', 'update', 'remove'];

const OPTS = new X6Table('recent', [
  { name: 'set', invert: true, excl: ANY_OP },
  { name: 'rcheck', invert: true, excl: ANY_OP },
  { name: 'update', invert: true, excl: ANY_OP },
  { name: 'remove', invert: true, excl: ANY_OP },
  { name: 'seconds' },
  { name: 'reap', also: ['seconds'] },
  { name: 'hitcount' },
  { name: 'rttl', excl: ['set', 'remove'] },
  { name: 'name' },
  { name: 'rsource' },
  { name: 'rdest' },
  { name: 'mask' },
]);

const OP_WORD: Readonly<Record<RecentOp, string>> = { set: 'SET', rcheck: 'CHECK', update: 'UPDATE', remove: 'REMOVE' };

function show(d: RecentData, list: boolean): string {
  let s = d.invert ? ' !' : '';
  if (list) {
    s += ' recent:';
    if (d.op) s += ` ${OP_WORD[d.op]}`;
    if (d.seconds) s += ` seconds: ${d.seconds}`;
    if (d.reap) s += ' reap';
    if (d.hitcount) s += ` hit_count: ${d.hitcount}`;
    if (d.rttl) s += ' TTL-Match';
    s += ` name: ${d.name} side: ${d.side} mask: ${formatIPv4(d.mask)}`;
    return s;
  }
  if (d.op) s += ` --${d.op}`;
  if (d.seconds) s += ` --seconds ${d.seconds}`;
  if (d.reap) s += ' --reap';
  if (d.hitcount) s += ` --hitcount ${d.hitcount}`;
  if (d.rttl) s += ' --rttl';
  s += ` --name ${d.name} --mask ${formatIPv4(d.mask)}`;
  s += d.side === 'source' ? ' --rsource' : ' --rdest';
  return s;
}

/** The TTL the kernel records: forwarded packets count with their TTL before forwarding. */
function packetTtl(ctx: MatchCtx): number {
  const forwarded = ctx.hook === 'FORWARD' || (ctx.hook === 'POSTROUTING' && ctx.inIface !== undefined);
  return forwarded ? (ctx.pkt.ttl + 1) & 0xff : ctx.pkt.ttl & 0xff;
}

function lookup(tbl: RecentTables, name: string, addr: IPv4, ttl: number): { stamps: number[]; ttl: number } | undefined {
  const e = tbl.get(name, addr);
  if (!e) return undefined;
  if (ttl !== 0 && e.ttl !== 0 && e.ttl !== ttl) return undefined;
  return e;
}

/** recent_entry_reap: the list's least recently stamped entry goes when its newest stamp is
 *  older than the window, unless it is the entry this --update is about to refresh. */
function reap(tbl: RecentTables, name: string, time: number, working: IPv4, updating: boolean): void {
  const oldest = tbl.oldest ? tbl.oldest(name) : working;
  if (oldest === undefined) return;
  if (oldest === working && updating) return;
  const e = tbl.get(name, oldest);
  if (e && e.stamps.length > 0 && time > e.stamps[e.stamps.length - 1]) tbl.remove(name, oldest);
}

interface Outcome {
  matched: boolean;
  reason: string;
}

/** The kernel's recent_mt. With `dry`, nothing is changed (for `why`). */
function evaluate(d: RecentData, ctx: MatchCtx, dry: boolean): Outcome {
  const tbl = ctx.host.recent;
  const now = ctx.host.now();
  const pkt = ctx.pkt;
  const addr = ((d.side === 'dest' ? pkt.dst : pkt.src) & d.mask) >>> 0;
  const ttl = packetTtl(ctx);
  const who = formatIPv4(addr);
  let ret = d.invert;
  const e = lookup(tbl, d.name, addr, d.rttl ? ttl : 0);
  if (!e) {
    if (d.op !== 'set') return { matched: ret, reason: `${who} not in list ${d.name}` };
    if (!dry) tbl.set(d.name, addr, now, ttl);
    return { matched: !ret, reason: `${who} added to list ${d.name}` };
  }
  let reason = `${who} in list ${d.name}`;
  if (d.op === 'set') ret = !ret;
  else if (d.op === 'remove') {
    if (!dry) tbl.remove(d.name, addr);
    ret = !ret;
  } else {
    const time = now - d.seconds;
    let hits = 0;
    let hit = false;
    for (const stamp of e.stamps) {
      if (d.seconds && time > stamp) continue;
      hits++;
      if (!d.hitcount || hits >= d.hitcount) {
        hit = true;
        break;
      }
    }
    if (hit) ret = !ret;
    else if (d.hitcount) reason = `${who} seen ${hits} time(s)${d.seconds ? ` in the last ${d.seconds}s` : ''} in list ${d.name}, needs ${d.hitcount}`;
    else reason = `${who} not seen in the last ${d.seconds}s in list ${d.name}`;
    if (d.reap && !dry) reap(tbl, d.name, time, addr, d.op === 'update' && ret);
  }
  if (!dry && (d.op === 'set' || (d.op === 'update' && ret))) tbl.set(d.name, addr, now, ttl);
  return { matched: ret, reason };
}

export const recentMatch: MatchModule<RecentData> = {
  kind: 'match',
  name: 'recent',
  options: { set: 0, rcheck: 0, update: 0, remove: 0, seconds: 1, reap: 0, hitcount: 1, rttl: 0, name: 1, rsource: 0, rdest: 0, mask: 1 },
  invertible: ['set', 'rcheck', 'update', 'remove', 'seconds', 'reap', 'hitcount', 'rttl', 'name', 'rsource', 'rdest', 'mask'],
  create: () => ({ invert: false, seconds: 0, reap: false, hitcount: 0, rttl: false, name: 'DEFAULT', side: 'source', mask: 0xffffffff }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    switch (opt) {
      case 'set':
      case 'rcheck':
      case 'update':
      case 'remove':
        d.op = opt;
        if (invert) d.invert = true;
        return;
      case 'seconds':
        d.seconds = parseUintOpt('recent', opt, args[0], 1, 0xffffffff);
        return;
      case 'hitcount':
        d.hitcount = parseUintOpt('recent', opt, args[0], 0, 0xffffffff);
        return;
      case 'reap':
        d.reap = true;
        return;
      case 'rttl':
        d.rttl = true;
        return;
      case 'name':
        d.name = args[0];
        return;
      case 'rsource':
        d.side = 'source';
        return;
      case 'rdest':
        d.side = 'dest';
        return;
      case 'mask': {
        const m = inetAton(args[0]);
        if (m === null) xtFail('getaddrinfo: Name or service not known\n');
        d.mask = m;
        return;
      }
    }
  },
  finish(d) {
    if (!d.op) xtFail("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
    OPTS.finish(d);
  },
  // recent_mt_check: a list needs a name the kernel can make a /proc/net/xt_recent file of.
  kernelCheck: (d) => d.name !== '' && d.name.length < 200 && !d.name.includes('/') && d.name !== '.' && d.name !== '..',
  save: (d) => show(d, false),
  list: (d) => show(d, true),
  match: (d, ctx) => evaluate(d, ctx, false).matched,
  why: (d, ctx) => evaluate(d, ctx, true).reason,
};
