// `-p sctp [-m sctp] [!] --sport/--dport p[:p] [!] --chunk-types any|all|only CHUNKS`
// (libxt_sctp, an old-style extension with its own messages). Two quirks of the real tool
// are kept: chunk flags are stored under the chunk's position in iptables' name table, not
// its type (so flags given for I_DATA are printed nowhere and never checked), and a `-` in
// a flag list is accepted as the first flag bit.

import type { MatchCtx, MatchModule, Packet } from '../types.ts';
import { PROTO } from '../types.ts';
import { portToService, serviceToPort } from '../services.ts';
import { xtFail, xtUint } from '../xtables-parse.ts';

interface PortRange {
  min: number;
  max: number;
  neg: boolean;
}

interface ChunkFlag {
  chunktype: number; // the name-table index, as iptables stores it
  flag: number;
  mask: number;
}

export interface SctpData {
  spts?: PortRange;
  dpts?: PortRange;
  chunks?: {
    neg: boolean;
    type: 'any' | 'all' | 'only';
    map: 'ALL' | number[]; // chunk types, ascending; [] = NONE
    flags: ChunkFlag[];
  };
}

// name, type, valid flag letters from bit 7 down to bit 0
const CHUNK_NAMES: ReadonlyArray<readonly [string, number, string]> = [
  ['DATA', 0, '----IUBE'],
  ['INIT', 1, '--------'],
  ['INIT_ACK', 2, '--------'],
  ['SACK', 3, '--------'],
  ['HEARTBEAT', 4, '--------'],
  ['HEARTBEAT_ACK', 5, '--------'],
  ['ABORT', 6, '-------T'],
  ['SHUTDOWN', 7, '--------'],
  ['SHUTDOWN_ACK', 8, '--------'],
  ['ERROR', 9, '--------'],
  ['COOKIE_ECHO', 10, '--------'],
  ['COOKIE_ACK', 11, '--------'],
  ['ECN_ECNE', 12, '--------'],
  ['ECN_CWR', 13, '--------'],
  ['SHUTDOWN_COMPLETE', 14, '-------T'],
  ['I_DATA', 64, '----IUBE'],
  ['RE_CONFIG', 130, '--------'],
  ['PAD', 132, '--------'],
  ['ASCONF', 193, '--------'],
  ['ASCONF_ACK', 128, '--------'],
  ['FORWARD_TSN', 192, '--------'],
  ['I_FORWARD_TSN', 194, '--------'],
];

const MAX_FLAG_ENTRIES = 4; // XT_NUM_SCTP_FLAGS

function parsePort(s: string): number {
  const n = xtUint(s, 0, 65535);
  if (n !== null) return n;
  const p = serviceToPort(s, 'sctp');
  if (p === undefined) xtFail(`invalid port/service \`${s}' specified`);
  return p;
}

function parsePorts(arg: string, neg: boolean): PortRange {
  const colon = arg.indexOf(':');
  if (colon < 0) {
    const p = parsePort(arg);
    return { min: p, max: p, neg };
  }
  const a = arg.slice(0, colon);
  const b = arg.slice(colon + 1);
  const min = a ? parsePort(a) : 0;
  const max = b ? parsePort(b) : 0xffff;
  if (min > max) xtFail('invalid portrange (min > max)');
  return { min, max, neg };
}

function parseChunks(matchType: string, chunks: string, neg: boolean): NonNullable<SctpData['chunks']> {
  const mt = matchType.toLowerCase();
  if (mt !== 'any' && mt !== 'all' && mt !== 'only') xtFail('Match type has to be one of "ALL", "ANY" or "ONLY"');
  const out: NonNullable<SctpData['chunks']> = { neg, type: mt, map: [], flags: [] };
  if (chunks.toUpperCase() === 'ALL') {
    out.map = 'ALL';
    return out;
  }
  if (chunks.toUpperCase() === 'NONE') return out;
  const types = new Set<number>();
  // strtok: empty pieces between commas are skipped
  for (const piece of chunks.split(',').filter((p) => p !== '')) {
    const colon = piece.indexOf(':');
    const name = colon < 0 ? piece : piece.slice(0, colon);
    const idx = CHUNK_NAMES.findIndex(([n]) => n === name.toUpperCase());
    if (idx < 0) xtFail(`Unknown sctp chunk \`${name}'`);
    types.add(CHUNK_NAMES[idx][1]);
    if (colon < 0) continue;
    for (const ch of piece.slice(colon + 1)) {
      const pos = CHUNK_NAMES[idx][2].indexOf(ch.toUpperCase());
      if (pos < 0) xtFail(`Invalid flags for chunk type ${idx}`);
      const bit = 1 << (7 - pos);
      const set = ch !== ch.toLowerCase(); // isupper
      let entry = out.flags.find((f) => f.chunktype === idx);
      if (!entry) {
        if (out.flags.length === MAX_FLAG_ENTRIES)
          xtFail('Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules');
        entry = { chunktype: idx, flag: 0, mask: 0 };
        out.flags.push(entry);
      }
      entry.mask |= bit;
      if (set) entry.flag |= bit;
    }
  }
  out.map = [...types].sort((x, y) => x - y);
  return out;
}

function chunkFlagsText(type: number, f: ChunkFlag): string {
  // print_chunk_flags indexes the name table with the chunk type
  const letters = CHUNK_NAMES[type]?.[2] ?? '--------';
  let s = ':';
  for (let bit = 7; bit >= 0; bit--) {
    if (!(f.mask & (1 << bit))) continue;
    const c = letters[7 - bit];
    s += f.flag & (1 << bit) ? c : c.toLowerCase();
  }
  return s;
}

function chunksText(c: NonNullable<SctpData['chunks']>, numeric: boolean): string {
  const s = ` ${c.type}`;
  if (c.map === 'ALL') return `${s} ALL`;
  if (c.map.length === 0) return `${s} NONE`;
  const items = c.map.map((type) => {
    let t = numeric ? `0x${type.toString(16).toUpperCase().padStart(4, '0')}` : (CHUNK_NAMES.find(([, ty]) => ty === type)?.[0] ?? '');
    for (const f of c.flags) if (f.chunktype === type) t += chunkFlagsText(type, f);
    return t;
  });
  return `${s} ${items.join(',')}`;
}

function portsList(label: string, r: PortRange, numeric: boolean): string {
  if (r.min === 0 && r.max === 0xffff && !r.neg) return '';
  const name = (p: number) => (numeric ? String(p) : (portToService(p, 'sctp') ?? String(p)));
  const inv = r.neg ? '!' : '';
  return r.min === r.max ? ` ${label}:${inv}${name(r.min)}` : ` ${label}s:${inv}${name(r.min)}:${name(r.max)}`;
}

function portsSave(opt: string, r: PortRange): string {
  return `${r.neg ? ' !' : ''} --${opt} ${r.min === r.max ? r.min : `${r.min}:${r.max}`}`;
}

/** The chunks of the packet: given by the datapath, else one INIT for a new association and
 *  one complete DATA chunk (flags B|E) otherwise. */
function chunksOf(pkt: Packet, ctx: MatchCtx): readonly { type: number; flags: number }[] {
  if (pkt.sctpChunks) return pkt.sctpChunks;
  return ctx.ct?.state === 'NEW' ? [{ type: 1, flags: 0 }] : [{ type: 0, flags: 0x03 }];
}

function flagsOk(flags: readonly ChunkFlag[], type: number, chunkFlags: number): boolean {
  const f = flags.find((x) => x.chunktype === type);
  return f === undefined || (chunkFlags & f.mask) === f.flag;
}

function chunksMatch(c: NonNullable<SctpData['chunks']>, chunks: readonly { type: number; flags: number }[]): boolean {
  const inMap = (t: number) => c.map === 'ALL' || c.map.includes(t);
  const missing = new Set(c.map === 'ALL' ? Array.from({ length: 256 }, (_, i) => i) : c.map);
  for (const ch of chunks) {
    if (inMap(ch.type)) {
      const ok = flagsOk(c.flags, ch.type, ch.flags);
      if (c.type === 'any' && ok) return true;
      if (c.type === 'all' && ok) missing.delete(ch.type);
      if (c.type === 'only' && !ok) return false;
    } else if (c.type === 'only') return false;
  }
  if (c.type === 'all') return missing.size === 0;
  return c.type === 'only';
}

function inRange(p: number, r: PortRange | undefined): boolean {
  return r === undefined || (p >= r.min && p <= r.max) !== r.neg;
}

export const sctpMatch: MatchModule<SctpData> = {
  kind: 'match',
  name: 'sctp',
  options: { 'source-port': 1, sport: 1, 'destination-port': 1, dport: 1, 'chunk-types': 2 },
  invertible: ['source-port', 'sport', 'destination-port', 'dport', 'chunk-types'],
  create: () => ({}),
  parse(d, opt, args, invert) {
    switch (opt) {
      case 'source-port':
      case 'sport':
        if (d.spts) xtFail("Only one `--source-port' allowed");
        d.spts = parsePorts(args[0], invert);
        return;
      case 'destination-port':
      case 'dport':
        if (d.dpts) xtFail("Only one `--destination-port' allowed");
        d.dpts = parsePorts(args[0], invert);
        return;
      case 'chunk-types': {
        if (d.chunks) xtFail("Only one `--chunk-types' allowed");
        const [mt, list] = args;
        if (list === undefined || list.startsWith('-') || list.startsWith('!')) xtFail('--chunk-types requires two args');
        d.chunks = parseChunks(mt, list, invert);
        return;
      }
    }
  },
  kernelCheck: (_d, ctx) => ctx.proto !== undefined && ctx.proto.num === PROTO.sctp && !ctx.proto.neg,
  save(d) {
    let s = '';
    if (d.spts) s += portsSave('sport', d.spts);
    if (d.dpts) s += portsSave('dport', d.dpts);
    if (d.chunks) s += `${d.chunks.neg ? ' !' : ''} --chunk-types${chunksText(d.chunks, false)}`;
    return s;
  },
  list(d, numeric) {
    let s = ' sctp';
    if (d.spts) s += portsList('spt', d.spts, numeric);
    if (d.dpts) s += portsList('dpt', d.dpts, numeric);
    if (d.chunks) s += `${d.chunks.neg ? ' !' : ''}${chunksText(d.chunks, numeric)}`;
    return s;
  },
  match(d, ctx) {
    const p = ctx.pkt;
    if (p.proto !== PROTO.sctp) return false;
    if (!inRange(p.sport, d.spts) || !inRange(p.dport, d.dpts)) return false;
    return d.chunks === undefined || chunksMatch(d.chunks, chunksOf(p, ctx)) !== d.chunks.neg;
  },
  why(d, ctx) {
    const p = ctx.pkt;
    const r = (x: PortRange) => `${x.neg ? '!' : ''}${x.min === x.max ? x.min : `${x.min}:${x.max}`}`;
    if (p.proto !== PROTO.sctp) return `proto ${p.proto} is not sctp`;
    if (!inRange(p.sport, d.spts) && d.spts) return `spt ${p.sport} not ${r(d.spts)}`;
    if (!inRange(p.dport, d.dpts) && d.dpts) return `dpt ${p.dport} not ${r(d.dpts)}`;
    return `chunks ${chunksOf(p, ctx).map((c) => c.type).join(',')} do not match --chunk-types`;
  },
  exactDport: (d) => (d.dpts && !d.dpts.neg && d.dpts.min === d.dpts.max ? d.dpts.min : undefined),
};
