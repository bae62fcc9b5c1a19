// `-m owner [!] --uid-owner U[-U] [!] --gid-owner G[-G] [--suppl-groups] [!] --socket-exists`:
// the local socket that sent the packet (OUTPUT and POSTROUTING only). In the lab every
// local process runs as root (uid 0, gid 0, no supplementary groups); forwarded packets
// have no socket.

import type { MatchCtx, MatchModule } from '../types.ts';
import { groupId, groupName, userId, userName } from '../passwd.ts';
import { badValue, X6Table, xtFail, xtStrtoul } from '../xtables-parse.ts';

interface IdRange {
  min: number;
  max: number;
  neg: boolean;
}

export interface OwnerData {
  uid?: IdRange;
  gid?: IdRange;
  socket?: { neg: boolean };
  supplGroups: boolean;
}

const OPTS = new X6Table('owner', [
  { name: 'uid-owner', invert: true },
  { name: 'gid-owner', invert: true },
  { name: 'socket-exists', invert: true },
  { name: 'suppl-groups' },
]);

const ID_MAX = 0xfffffffe; // (uid_t)-1 is reserved

/** A name from the passwd/group table, else `n` or `n-m` / `n:m`. */
function parseIds(opt: string, arg: string, neg: boolean, lookup: (name: string) => number | undefined): IdRange {
  const named = lookup(arg);
  if (named !== undefined) return { min: named, max: named, neg };
  const bad = () => badValue('owner', `--${opt}`, arg);
  const a = xtStrtoul(arg, 0n, BigInt(ID_MAX), false);
  if (a === null) return bad();
  let max = Number(a.value);
  let end = a.end;
  if (arg[end] === '-' || arg[end] === ':') {
    const rest = arg.slice(end + 1);
    const b = xtStrtoul(rest, 0n, BigInt(ID_MAX), false);
    if (b === null) return bad();
    max = Number(b.value);
    end = end + 1 + b.end;
  }
  if (end !== arg.length) bad();
  return { min: Number(a.value), max, neg };
}

function idText(r: IdRange, numeric: boolean, name: (id: number) => string | undefined): string {
  if (r.min !== r.max) return `${r.min}-${r.max}`;
  return (numeric ? undefined : name(r.min)) ?? `${r.min}`;
}

function show(d: OwnerData, numeric: boolean, labels: readonly [string, string, string, string]): string {
  let s = '';
  const neg = (n: boolean) => (n ? ' !' : '');
  if (d.socket) s += `${neg(d.socket.neg)} ${labels[0]}`;
  if (d.uid) s += `${neg(d.uid.neg)} ${labels[1]} ${idText(d.uid, numeric, userName)}`;
  if (d.gid) s += `${neg(d.gid.neg)} ${labels[2]} ${idText(d.gid, numeric, groupName)}`;
  if (d.supplGroups) s += ` ${labels[3]}`;
  return s;
}

/** The socket behind the packet, if any: local output has one, forwarded packets do not. */
function socketOf(ctx: MatchCtx): { uid: number; gid: number } | null {
  if (ctx.hook === 'OUTPUT') return { uid: 0, gid: 0 };
  if (ctx.hook === 'POSTROUTING' && ctx.inIface === undefined) return { uid: 0, gid: 0 };
  return null;
}

function evaluate(d: OwnerData, ctx: MatchCtx): string | null {
  const sk = socketOf(ctx);
  if (sk === null) {
    // owner_mt without a socket: a match only when every used option is inverted
    const all = [d.uid, d.gid, d.socket, d.supplGroups ? { neg: false } : undefined].filter((x) => x !== undefined);
    return all.every((x) => x.neg) ? null : 'no local socket';
  }
  if (d.socket?.neg) return 'a local socket exists';
  if (d.uid && (sk.uid >= d.uid.min && sk.uid <= d.uid.max) === d.uid.neg) return `uid ${sk.uid} ${d.uid.neg ? 'in' : 'not in'} ${d.uid.min}-${d.uid.max}`;
  if (d.gid && (sk.gid >= d.gid.min && sk.gid <= d.gid.max) === d.gid.neg) return `gid ${sk.gid} ${d.gid.neg ? 'in' : 'not in'} ${d.gid.min}-${d.gid.max}`;
  return null;
}

const HOOKS = new Set(['OUTPUT', 'POSTROUTING']);

export const ownerMatch: MatchModule<OwnerData> = {
  kind: 'match',
  name: 'owner',
  options: { 'uid-owner': 1, 'gid-owner': 1, 'socket-exists': 0, 'suppl-groups': 0 },
  invertible: ['uid-owner', 'gid-owner', 'socket-exists', 'suppl-groups'],
  create: () => ({ supplGroups: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    switch (opt) {
      case 'uid-owner':
        d.uid = parseIds(opt, args[0], invert, userId);
        return;
      case 'gid-owner':
        d.gid = parseIds(opt, args[0], invert, groupId);
        return;
      case 'socket-exists':
        d.socket = { neg: invert };
        return;
      case 'suppl-groups':
        if (!d.gid) badValue('owner', '--suppl-groups', 'you need to use --gid-owner first');
        d.supplGroups = true;
        return;
    }
  },
  finish(d) {
    if (!d.uid && !d.gid && !d.socket) xtFail('owner: At least one of --uid-owner, --gid-owner or --socket-exists is required');
    OPTS.finish(d);
  },
  kernelCheck(d, ctx) {
    if (ctx.hook !== undefined && !HOOKS.has(ctx.hook)) return false;
    return !(d.uid && d.uid.max < d.uid.min) && !(d.gid && d.gid.max < d.gid.min);
  },
  save: (d) => show(d, true, ['--socket-exists', '--uid-owner', '--gid-owner', '--suppl-groups']),
  list: (d, numeric) => show(d, numeric, ['owner socket exists', 'owner UID match', 'owner GID match', 'incl. suppl. groups']),
  match: (d, ctx) => evaluate(d, ctx) === null,
  why: (d, ctx) => evaluate(d, ctx) ?? '',
};
