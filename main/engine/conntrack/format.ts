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

/** What a netlink message about an entry carries: a dump's carries everything; an event's
 *  (see eventCarries) leaves out some attributes. */
interface Carried {
  /** CTA_TIMEOUT (absent: no timeout printed). */
  timeout: boolean;
  /** CTA_COUNTERS (printed for an entry that has them). */
  counters: boolean;
  /** CTA_MARK. */
  mark: boolean;
  /** CTA_USE: the reference count, or none. */
  use: number | null;
}

const DUMPED = (use: number): Carried => ({ timeout: true, counters: true, mark: true, use });

/** The default one-line form (nfct_snprintf NFCT_O_DEFAULT). */
export function formatLine(e: CtEntry, now: number, o: LineOptions = {}): string {
  return line(e, now, o, DUMPED(o.use ?? 1));
}

function line(e: CtEntry, now: number, o: LineOptions, c: Carried): string {
  const counted = c.counters && e.acct;
  let s = '';
  if (o.extended) s += `${pad8('ipv4')} 2 `;
  s += `${pad8(protoName(e.orig.proto))} ${e.orig.proto} ${c.timeout ? `${timeLeft(e, now)} ` : ''}`;
  const st = protoState(e);
  if (st !== undefined) s += `${st} `;
  s += `src=${formatIPv4(e.orig.src)} dst=${formatIPv4(e.orig.dst)} ${l4Text(e.orig)}`;
  if (counted) s += `packets=${e.counters.ORIGINAL.packets} bytes=${e.counters.ORIGINAL.bytes} `;
  if (!e.status.has('SEEN_REPLY')) s += '[UNREPLIED] ';
  s += `src=${formatIPv4(e.reply.src)} dst=${formatIPv4(e.reply.dst)} ${l4Text(e.reply)}`;
  if (counted) s += `packets=${e.counters.REPLY.packets} bytes=${e.counters.REPLY.bytes} `;
  if (e.status.has('ASSURED')) s += '[ASSURED] ';
  if (c.mark) s += `mark=${e.mark >>> 0} `;
  if (c.use !== null) s += `use=${c.use} `;
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

function xmlTuple(dir: 'original' | 'reply', t: CtTuple, e: CtEntry, counted: boolean): string {
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
export function formatXmlFlow(e: CtEntry, now: number, use = 1): string {
  return xmlFlow('<flow>', e, now, DUMPED(use));
}

/** `<when>`, the local time of day and date a flow was printed at (NFCT_OF_TIME), after its
 *  metas: the hour bare, minutes and seconds in two digits, Sunday = 1. The lab's hosts keep
 *  UTC. */
function xmlWhen(wallMs: number): string {
  const d = new Date(wallMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `<when><hour>${d.getUTCHours()}</hour><min>${two(d.getUTCMinutes())}</min><sec>${two(d.getUTCSeconds())}</sec><wday>${d.getUTCDay() + 1}</wday><day>${d.getUTCDate()}</day><month>${d.getUTCMonth() + 1}</month><year>${d.getUTCFullYear()}</year></when>`;
}

function xmlFlow(open: string, e: CtEntry, now: number, c: Carried, wallMs?: number): string {
  const counted = c.counters && e.acct;
  let s = open + xmlTuple('original', e.orig, e, counted) + xmlTuple('reply', e.reply, e, counted);
  s += '<meta direction="independent">';
  const st = protoState(e);
  if (st !== undefined) s += `<state>${st}</state>`;
  if (c.timeout) s += `<timeout>${timeLeft(e, now)}</timeout>`;
  if (c.mark) s += `<mark>${e.mark >>> 0}</mark>`;
  if (c.use !== null) s += `<use>${c.use}</use>`;
  s += `<id>${e.id}</id>`;
  if (e.status.has('ASSURED')) s += '<assured/>';
  if (!e.status.has('SEEN_REPLY')) s += '<unreplied/>';
  return `${s}</meta>${wallMs === undefined ? '' : xmlWhen(wallMs)}</flow>`;
}

export const XML_HEADER = '<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n';
export const XML_FOOTER = '</conntrack>\n';

/**
 * What an event message carries (ctnetlink_conntrack_event): no use; counters only in a
 * DESTROY; the timeout only while some is left (none once it ran out); the mark when it is
 * set, and always when userspace made or updated the entry (IPCT_MARK comes with its changes).
 */
function eventCarries(ev: CtEvent): Carried {
  const destroy = ev.type === 'DESTROY';
  return {
    timeout: !destroy || timeLeft(ev.entry, ev.at) > 0,
    counters: destroy,
    mark: ev.entry.mark >>> 0 !== 0 || (ev.by !== undefined && !destroy),
    use: null,
  };
}

const EVENT_HEADS: Readonly<Record<CtEvent['type'], string>> = { NEW: '    [NEW] ', UPDATE: ' [UPDATE] ', DESTROY: '[DESTROY] ' };

/** The deleting or changing program, after the entry (`[USERSPACE] portid=N progname=P`). */
const userspaceText = (ev: CtEvent) => (ev.by ? ` [USERSPACE] portid=${ev.by.portid} progname=${ev.by.progname}` : '');

/** One event as `conntrack -E` prints it: the "%9s " header, then the entry as the message
 *  carried it (see eventCarries), then who made the change when userspace did. */
export function formatEvent(ev: CtEvent, o: LineOptions = {}): string {
  return EVENT_HEADS[ev.type] + line(ev.entry, ev.at, o, eventCarries(ev)) + userspaceText(ev);
}

/** One event as `conntrack -E -o xml` prints it: `<flow type="new|update|destroy">` with the id
 *  always, as the message carried it; the program after the flow. The header is printed when
 *  -E starts, the footer when it is interrupted. `wallMs` (-o xml,timestamp): the wall-clock
 *  time it was printed at, as `<when>`. */
export function formatEventXml(ev: CtEvent, wallMs?: number): string {
  return xmlFlow(`<flow type="${ev.type.toLowerCase()}">`, ev.entry, ev.at, eventCarries(ev), wallMs) + userspaceText(ev);
}
