// DNS messages as the lab carries them: the RFC 1035 header, question and resource records, the
// EDNS(0) OPT pseudo-record (RFC 6891), and their wire encoding. The wire form matters to the
// user twice: `dig` prints `MSG SIZE rcvd:` from it, and the UDP packet the lab traces to the
// kube-dns VIP has it as payload. Names are kept in presentation form with the trailing dot.

export const TYPE_CODES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  AXFR: 252,
  ANY: 255,
};

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE_CODES).map(([k, v]) => [v, k]));

/** `A` for 1, `TYPE65` for a code without a mnemonic (RFC 3597), as dig prints it. */
export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}

/** The code of a type mnemonic or `TYPEnn` (case-insensitive), or undefined. */
export function typeCode(name: string): number | undefined {
  const up = name.toUpperCase();
  if (up in TYPE_CODES) return TYPE_CODES[up];
  const m = /^TYPE(\d{1,5})$/.exec(up);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  return undefined;
}

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RESERVED${rcode}`;
}

export type RData =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'CNAME' | 'PTR' | 'NS'; target: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 'TXT'; texts: string[] }
  | { type: 'RAW'; code: number; bytes: number[] };

export interface ResourceRecord {
  name: string;
  ttl: number;
  data: RData;
}

export interface Question {
  name: string;
  type: number;
  /** 1 = IN; the lab asks nothing else. */
  class?: number;
}

export interface EdnsOption {
  code: number;
  data: number[];
}

export interface Edns {
  udpSize: number;
  version: number;
  do: boolean;
  extendedRcode: number;
  options: EdnsOption[];
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  edns?: Edns;
}

export const EDNS_COOKIE = 10;

/** A query as a stub resolver or dig builds it (RD set). */
export function makeQuery(id: number, name: string, type: number, opts: { rd?: boolean; edns?: Edns } = {}): DnsMessage {
  return {
    id: id & 0xffff,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: opts.rd ?? true,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    question: [{ name: fqdn(name), type, class: 1 }],
    answer: [],
    authority: [],
    additional: [],
    edns: opts.edns,
  };
}

/** `name` with exactly one trailing dot (the root stays `.`). */
export function fqdn(name: string): string {
  if (name === '' || name === '.') return '.';
  return name.endsWith('.') ? name : name + '.';
}

export function rrType(rr: ResourceRecord): number {
  return rr.data.type === 'RAW' ? rr.data.code : TYPE_CODES[rr.data.type];
}

/** Presentation form of the record data, as dig and nslookup print it. */
export function rdataText(d: RData): string {
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return d.target;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'SOA':
      return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT':
      return d.texts.map((t) => `"${t.replace(/["\\]/g, (c) => '\\' + c)}"`).join(' ');
    case 'RAW':
      return `\\# ${d.bytes.length}` + (d.bytes.length ? ' ' + d.bytes.map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase() : '');
  }
}

// ---- wire encoding ------------------------------------------------------------------------

class Writer {
  bytes: number[] = [];
  private names = new Map<string, number>();
  constructor(private compress: boolean) {}
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.bytes.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  name(n: string, allowCompress = true): void {
    const labels = splitLabels(n);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (this.compress && allowCompress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.bytes.length < 0x4000) this.names.set(suffix, this.bytes.length);
      const bytes = labelBytes(labels[i]);
      this.u8(bytes.length);
      for (const b of bytes) this.u8(b);
    }
    this.u8(0);
  }
}

function splitLabels(n: string): string[] {
  const f = fqdn(n);
  if (f === '.') return [];
  return f.slice(0, -1).split('.');
}

function labelBytes(label: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5c && i + 1 < label.length) {
      const m = /^\d{3}/.exec(label.slice(i + 1));
      if (m) {
        out.push(Number(m[0]) & 0xff);
        i += 3;
      } else {
        out.push(label.charCodeAt(++i) & 0xff);
      }
    } else out.push(c & 0xff);
  }
  return out;
}

function parseIPv4Bytes(s: string): number[] {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${s}`);
  return parts;
}

/** The 16 bytes of an IPv6 address in any RFC 4291 text form (with `::`, embedded IPv4). */
export function parseIPv6Bytes(s: string): number[] | null {
  let head = s;
  let v4: number[] = [];
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    try {
      v4 = parseIPv4Bytes(s.slice(i + 1));
    } catch {
      return null;
    }
    // Keep a trailing `::` whole (`::ffff:1.2.3.4` -> `::ffff`, `::1.2.3.4` -> `::`).
    head = s[i - 1] === ':' ? s.slice(0, i + 1) : s.slice(0, i);
  }
  const groups = 8 - v4.length / 2;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (t: string): number[] | null => {
    if (t === '') return [];
    const out: number[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const a = parse(halves[0]);
  const b = halves.length === 2 ? parse(halves[1]) : [];
  if (!a || !b) return null;
  let words: number[];
  if (halves.length === 2) {
    if (a.length + b.length >= groups) return null;
    words = [...a, ...new Array<number>(groups - a.length - b.length).fill(0), ...b];
  } else {
    if (a.length !== groups) return null;
    words = a;
  }
  const out: number[] = [];
  for (const w of words) out.push(w >> 8, w & 0xff);
  return [...out, ...v4];
}

function writeRR(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(rrType(rr));
  w.u16(1);
  w.u32(rr.ttl >>> 0);
  const lenAt = w.bytes.length;
  w.u16(0);
  const d = rr.data;
  switch (d.type) {
    case 'A':
      for (const b of parseIPv4Bytes(d.address)) w.u8(b);
      break;
    case 'AAAA': {
      const b = parseIPv6Bytes(d.address);
      if (!b) throw new Error(`bad IPv6 address ${d.address}`);
      for (const x of b) w.u8(x);
      break;
    }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      w.name(d.target);
      break;
    case 'SRV':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      // RFC 2782: the SRV target must not be compressed.
      w.name(d.target, false);
      break;
    case 'SOA':
      w.name(d.mname);
      w.name(d.rname);
      w.u32(d.serial);
      w.u32(d.refresh);
      w.u32(d.retry);
      w.u32(d.expire);
      w.u32(d.minimum);
      break;
    case 'TXT':
      for (const t of d.texts) {
        const b = labelBytes(t);
        w.u8(b.length);
        for (const x of b) w.u8(x);
      }
      break;
    case 'RAW':
      for (const x of d.bytes) w.u8(x);
      break;
  }
  const len = w.bytes.length - lenAt - 2;
  w.bytes[lenAt] = len >> 8;
  w.bytes[lenAt + 1] = len & 0xff;
}

function writeOpt(w: Writer, e: Edns): void {
  w.u8(0);
  w.u16(TYPE_CODES.OPT);
  w.u16(e.udpSize);
  w.u8(e.extendedRcode);
  w.u8(e.version);
  w.u16(e.do ? 0x8000 : 0);
  const len = e.options.reduce((n, o) => n + 4 + o.data.length, 0);
  w.u16(len);
  for (const o of e.options) {
    w.u16(o.code);
    w.u16(o.data.length);
    for (const b of o.data) w.u8(b);
  }
}

/**
 * The message on the wire. `compress` uses RFC 1035 name pointers; CoreDNS sends small UDP
 * answers uncompressed (request.Scrub turns compression off while the reply fits), so the lab's
 * DNS server passes false and `dig` reports the same size as against a real cluster.
 */
export function encodeMessage(m: DnsMessage, compress = false): Uint8Array {
  const w = new Writer(compress);
  w.u16(m.id);
  w.u8((m.qr ? 0x80 : 0) | ((m.opcode & 0xf) << 3) | (m.aa ? 4 : 0) | (m.tc ? 2 : 0) | (m.rd ? 1 : 0));
  w.u8((m.ra ? 0x80 : 0) | (m.ad ? 0x20 : 0) | (m.cd ? 0x10 : 0) | (m.rcode & 0xf));
  w.u16(m.question.length);
  w.u16(m.answer.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length + (m.edns ? 1 : 0));
  for (const q of m.question) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class ?? 1);
  }
  for (const rr of m.answer) writeRR(w, rr);
  for (const rr of m.authority) writeRR(w, rr);
  for (const rr of m.additional) writeRR(w, rr);
  if (m.edns) writeOpt(w, m.edns);
  return Uint8Array.from(w.bytes);
}

// ---- wire decoding ------------------------------------------------------------------------

export class DnsFormatError extends Error {}

class Reader {
  pos = 0;
  constructor(private b: Uint8Array) {}
  need(n: number): void {
    if (this.pos + n > this.b.length) throw new DnsFormatError('message truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = (this.b[this.pos] << 8) | this.b[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u32(): number {
    return ((this.u16() << 16) | this.u16()) >>> 0;
  }
  bytes(n: number): number[] {
    this.need(n);
    const out = Array.from(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let hops = 0;
    for (;;) {
      if (pos >= this.b.length) throw new DnsFormatError('name runs past the message');
      const len = this.b[pos];
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.b.length) throw new DnsFormatError('truncated pointer');
        if (++hops > 64) throw new DnsFormatError('compression loop');
        const to = ((len & 0x3f) << 8) | this.b[pos + 1];
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = to;
        continue;
      }
      if (len & 0xc0) throw new DnsFormatError('bad label type');
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        break;
      }
      if (pos + 1 + len > this.b.length) throw new DnsFormatError('label runs past the message');
      let label = '';
      for (const c of this.b.subarray(pos + 1, pos + 1 + len)) {
        if (c === 0x2e || c === 0x5c) label += '\\' + String.fromCharCode(c);
        else if (c < 0x21 || c > 0x7e) label += '\\' + String(c).padStart(3, '0');
        else label += String.fromCharCode(c);
      }
      labels.push(label);
      pos += 1 + len;
    }
    return labels.length ? labels.join('.') + '.' : '.';
  }
}

function formatIPv6(b: number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  // RFC 5952: the longest run (>= 2) of zero words becomes `::`.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

function readRR(r: Reader): { rr?: ResourceRecord; edns?: Edns } {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  const end = r.pos + len;
  r.need(len);
  if (type === TYPE_CODES.OPT) {
    const options: EdnsOption[] = [];
    while (r.pos < end) {
      const code = r.u16();
      const l = r.u16();
      options.push({ code, data: r.bytes(l) });
    }
    return { edns: { udpSize: klass, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, do: (ttl & 0x8000) !== 0, options } };
  }
  let data: RData;
  switch (typeName(type)) {
    case 'A':
      data = len === 4 ? { type: 'A', address: r.bytes(4).join('.') } : { type: 'RAW', code: type, bytes: r.bytes(len) };
      break;
    case 'AAAA':
      data = len === 16 ? { type: 'AAAA', address: formatIPv6(r.bytes(16)) } : { type: 'RAW', code: type, bytes: r.bytes(len) };
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      data = { type: typeName(type) as 'CNAME' | 'PTR' | 'NS', target: r.name() };
      break;
    case 'SRV':
      data = { type: 'SRV', priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case 'SOA':
      data = { type: 'SOA', mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
      break;
    case 'TXT': {
      const texts: string[] = [];
      while (r.pos < end) texts.push(String.fromCharCode(...r.bytes(r.u8())));
      data = { type: 'TXT', texts };
      break;
    }
    default:
      data = { type: 'RAW', code: type, bytes: r.bytes(len) };
  }
  r.pos = end;
  return { rr: { name, ttl, data } };
}

/** Parses a message; throws DnsFormatError on malformed input. */
export function decodeMessage(bytes: Uint8Array): DnsMessage {
  const r = new Reader(bytes);
  const id = r.u16();
  const f1 = r.u8();
  const f2 = r.u8();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()];
  const m: DnsMessage = {
    id,
    qr: (f1 & 0x80) !== 0,
    opcode: (f1 >> 3) & 0xf,
    aa: (f1 & 4) !== 0,
    tc: (f1 & 2) !== 0,
    rd: (f1 & 1) !== 0,
    ra: (f2 & 0x80) !== 0,
    ad: (f2 & 0x20) !== 0,
    cd: (f2 & 0x10) !== 0,
    rcode: f2 & 0xf,
    question: [],
    answer: [],
    authority: [],
    additional: [],
  };
  for (let i = 0; i < counts[0]; i++) m.question.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const sections = [m.answer, m.authority, m.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const { rr, edns } = readRR(r);
      if (rr) sections[s].push(rr);
      else if (edns) {
        m.edns = edns;
        m.rcode |= edns.extendedRcode << 4;
      }
    }
  }
  return m;
}
