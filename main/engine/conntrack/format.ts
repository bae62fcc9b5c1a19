// conntrack-tools 1.4.7 / libnetfilter_conntrack 1.0.9 text forms of an entry: the default
// line (`-L`), `-o extended` (layer-3 prefix), `-o id`, `-o save` and `-o xml`, byte for byte.

import { formatIPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import type { CtEntry } from './entry.ts';
import type { CtEvent } from './events.ts';
import { hasPorts } from './tuple.ts';
import type { CtTuple } from './tuple.ts';

const PROTO_NAMES: Readonly<Record<number, string>> = {
  [PROTO.tcp]: 'tcp', [PROTO.udp]: 'udp', 136: 'udplite', [PROTO.icmp]: 'icmp', 58: 'icmpv6', [PROTO.sctp]: 'sctp', 47: 'gre', 33: 'dccp',
};

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? 'unknown';
}

/** Seconds left as ctnetlink reports them (rounded down, never negative). */
export function timeLeft(e: CtEntry, now: number): number {
  return e.status.has('CONFIRMED') ? Math.max(0, Math.floor(e.expires - now)) : Math.max(0, Math.floor(e.timeout));
}

/** The protocol state printed after the timeout, if the protocol has one. */
export function protoState(e: CtEntry): string | undefined {
  if (e.orig.proto === PROTO.tcp) return e.tcp?.state ?? 'NONE';
  if (e.orig.proto === PROTO.sctp) return e.status.has('SEEN_REPLY') ? 'ESTABLISHED' : 'COOKIE_WAIT';
  return undefined;
}

function pad8(s: string): string {
  return s.length >= 8 ? s : s + ' '.repeat(8 - s.length);
}

function l4Text(t: CtTuple): string {
  if (t.proto === PROTO.icmp) return `type=${t.icmpType} code=${t.icmpCode} id=${t.sport} `;
  if (t.proto === 47) return 'srckey=0x0 dstkey=0x0 ';
  if (hasPorts(t.proto)) return `sport=${t.sport} dport=${t.dport} `;
  return '';
}

export interface LineOptions {
  extended?: boolean; // -o extended: "ipv4     2 " first
  id?: boolean; // -o id: " id=N" last
  // (counters, packets= bytes= after each tuple: shown for an entry that has them, CtEntry.acct)
  use?: number; // the reference count shown (1 for a dump, 2 for -G)
}

/** The default one-line form (nfct_snprintf NFCT_O_DEFAULT). */
export function formatLine(e: CtEntry, now: number, o: LineOptions = {}): string {
  let s = '';
  if (o.extended) s += `${pad8('ipv4')} 2 `;
  s += `${pad8(protoName(e.orig.proto))} ${e.orig.proto} ${timeLeft(e, now)} `;
  const st = protoState(e);
  if (st !== undefined) s += `${st} `;
  s += `src=${formatIPv4(e.orig.src)} dst=${formatIPv4(e.orig.dst)} ${l4Text(e.orig)}`;
  if (e.acct) s += `packets=${e.counters.ORIGINAL.packets} bytes=${e.counters.ORIGINAL.bytes} `;
  if (!e.status.has('SEEN_REPLY')) s += '[UNREPLIED] ';
  s += `src=${formatIPv4(e.reply.src)} dst=${formatIPv4(e.reply.dst)} ${l4Text(e.reply)}`;
  if (e.acct) s += `packets=${e.counters.REPLY.packets} bytes=${e.counters.REPLY.bytes} `;
  if (e.status.has('ASSURED')) s += '[ASSURED] ';
  s += `mark=${e.mark >>> 0} use=${o.use ?? 1} `;
  if (o.id) s += `id=${e.id} `;
  return s.slice(0, -1);
}

/** `-o save`: the entry as a conntrack command that would recreate it. */
export function formatSave(e: CtEntry, now: number, type: '-A' | '-D' = '-A'): string {
  const o = e.orig;
  const r = e.reply;
  const status = (['EXPECTED', 'SEEN_REPLY', 'ASSURED'] as const).filter((b) => e.status.has(b));
  let s = `${type} -t ${timeLeft(e, now)} -u ${status.length ? status.join(',') : 'UNSET'} `;
  s += `-s ${formatIPv4(o.src)} -d ${formatIPv4(o.dst)} `;
  // DNAT/SNAT are shown as such when the address changed (NFCT_GOPT_IS_DNAT / IS_SNAT).
  s += `${o.dst !== r.src ? '-g' : '-r'} ${formatIPv4(r.src)} `;
  s += `${o.src !== r.dst ? '-n' : '-q'} ${formatIPv4(r.dst)} `;
  const name = PROTO_NAMES[o.proto];
  if (name === undefined) return `${s}-p ${o.proto}`;
  s += `-p ${name} `;
  if (o.proto === PROTO.icmp) s += `--icmp-type ${o.icmpType} --icmp-code ${o.icmpCode} --icmp-id ${o.sport} `;
  else if (hasPorts(o.proto)) s += `--sport ${o.sport} --dport ${o.dport} --reply-port-src ${r.sport} --reply-port-dst ${r.dport} `;
  const st = protoState(e);
  if (st !== undefined) s += `--state ${st} `;
  return s.trimEnd();
}

function xmlTuple(dir: 'original' | 'reply', t: CtTuple, e: CtEntry, counted = e.acct): string {
  const name = protoName(t.proto);
  let l4 = '';
  if (hasPorts(t.proto)) l4 = `<sport>${t.sport}</sport><dport>${t.dport}</dport>`;
  let s = `<meta direction="${dir}"><layer3 protonum="2" protoname="ipv4"><src>${formatIPv4(t.src)}</src><dst>${formatIPv4(t.dst)}</dst></layer3>`;
  s += `<layer4 protonum="${t.proto}" protoname="${name}">${l4}</layer4>`;
  if (counted) {
    const c = e.counters[dir === 'original' ? 'ORIGINAL' : 'REPLY'];
    s += `<counters><packets>${c.packets}</packets><bytes>${c.bytes}</bytes></counters>`;
  }
  return `${s}</meta>`;
}

/** One `<flow>` of `-o xml` (the caller prints the header and footer around the flows); an
 *  entry with counters has a `<counters>` in each direction's `<meta>`. */
export function formatXmlFlow(e: CtEntry, now: number): string {
  let s = '<flow>' + xmlTuple('original', e.orig, e) + xmlTuple('reply', e.reply, e);
  s += '<meta direction="independent">';
  const st = protoState(e);
  if (st !== undefined) s += `<state>${st}</state>`;
  s += `<timeout>${timeLeft(e, now)}</timeout><mark>${e.mark >>> 0}</mark><use>1</use><id>${e.id}</id>`;
  if (e.status.has('ASSURED')) s += '<assured/>';
  if (!e.status.has('SEEN_REPLY')) s += '<unreplied/>';
  return `${s}</meta></flow>`;
}

export const XML_HEADER = '<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n';
export const XML_FOOTER = '</conntrack>\n';

/** A message carries the mark when it is set, and always when userspace made or updated the
 *  entry (ctnetlink reports IPCT_MARK with its changes). */
function markShown(ev: CtEvent): boolean {
  return ev.entry.mark >>> 0 !== 0 || (ev.by !== undefined && ev.type !== 'DESTROY');
}

const EVENT_HEADS: Readonly<Record<CtEvent['type'], string>> = { NEW: '    [NEW] ', UPDATE: ' [UPDATE] ', DESTROY: '[DESTROY] ' };

/**
 * One event as `conntrack -E` prints it (the "%9s " header, then the entry as the message
 * carried it): no `use=`; `mark=` only when the mark is set; counters only in a DESTROY (the
 * kernel adds CTA_COUNTERS to destroy messages alone); the deleting program last when userspace
 * deleted it (`[USERSPACE] portid=N progname=P`).
 */
export function formatEvent(ev: CtEvent, o: LineOptions = {}): string {
  const e = ev.entry;
  const counted = ev.type === 'DESTROY' && e.acct;
  let s = EVENT_HEADS[ev.type];
  if (o.extended) s += `${pad8('ipv4')} 2 `;
  // (a destroy message carries the timeout only while some is left: none when it ran out)
  const left = timeLeft(e, ev.at);
  s += `${pad8(protoName(e.orig.proto))} ${e.orig.proto} ${left || ev.type !== 'DESTROY' ? `${left} ` : ''}`;
  const st = protoState(e);
  if (st !== undefined) s += `${st} `;
  s += `src=${formatIPv4(e.orig.src)} dst=${formatIPv4(e.orig.dst)} ${l4Text(e.orig)}`;
  if (counted) s += `packets=${e.counters.ORIGINAL.packets} bytes=${e.counters.ORIGINAL.bytes} `;
  if (!e.status.has('SEEN_REPLY')) s += '[UNREPLIED] ';
  s += `src=${formatIPv4(e.reply.src)} dst=${formatIPv4(e.reply.dst)} ${l4Text(e.reply)}`;
  if (counted) s += `packets=${e.counters.REPLY.packets} bytes=${e.counters.REPLY.bytes} `;
  if (e.status.has('ASSURED')) s += '[ASSURED] ';
  if (markShown(ev)) s += `mark=${e.mark >>> 0} `;
  if (o.id) s += `id=${e.id} `;
  if (ev.by) s += `[USERSPACE] portid=${ev.by.portid} progname=${ev.by.progname} `;
  return s.slice(0, -1);
}

/** One event as `conntrack -E -o xml` prints it: `<flow type="new|update|destroy">`, the id
 *  always, no use, the mark only when set, counters and a timeout as in the text form; the
 *  deleting program after the flow. The header is printed when -E starts, the footer when it
 *  is interrupted. */
export function formatEventXml(ev: CtEvent): string {
  const e = ev.entry;
  const counted = ev.type === 'DESTROY' && e.acct;
  let s = `<flow type="${ev.type.toLowerCase()}">` + xmlTuple('original', e.orig, e, counted) + xmlTuple('reply', e.reply, e, counted);
  s += '<meta direction="independent">';
  const st = protoState(e);
  if (st !== undefined) s += `<state>${st}</state>`;
  const left = timeLeft(e, ev.at);
  if (left || ev.type !== 'DESTROY') s += `<timeout>${left}</timeout>`;
  if (markShown(ev)) s += `<mark>${e.mark >>> 0}</mark>`;
  s += `<id>${e.id}</id>`;
  if (e.status.has('ASSURED')) s += '<assured/>';
  if (!e.status.has('SEEN_REPLY')) s += '<unreplied/>';
  s += '</meta></flow>';
  if (ev.by) s += ` [USERSPACE] portid=${ev.by.portid} progname=${ev.by.progname}`;
  return s;
}
