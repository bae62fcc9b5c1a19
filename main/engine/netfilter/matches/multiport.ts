// -m multiport (revision 1): up to 15 ports or ranges (a range takes two slots) for
// --sports, --dports or --ports (either). Needs -p tcp/udp/udplite/sctp/dccp given before it.

import { IptablesError, type MatchModule, type ParseCtx } from '../types.ts';
import { portToService } from '../services.ts';
import { parsePort, xterr } from '../xtopt.ts';

export interface MultiportData {
  which: 'sports' | 'dports' | 'ports' | '';
  ports: number[]; // flattened: a range start is followed by its end
  range: boolean[]; // range[i]: ports[i] starts a range
  inv: boolean;
  proto: string; // for service names in -L
  seen: number;
}

const EXT = 'multiport';
const MAX_PORTS = 15;
const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 136: 'udplite', 132: 'sctp', 33: 'dccp' };

function checkProto(ctx: ParseCtx): string {
  if (ctx.proto?.neg) throw new IptablesError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP', 2);
  const num = ctx.proto?.num ?? 0;
  const name = PROTO_NAMES[num];
  if (name) return name;
  if (num === 0) {
    throw new IptablesError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'", 2);
  }
  throw new IptablesError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP', 2);
}

function parsePorts(s: string, proto: string, d: MultiportData): void {
  d.ports = [];
  d.range = [];
  const parts = s.split(',');
  let i = 0;
  for (const part of parts) {
    if (i >= MAX_PORTS) throw new IptablesError('too many ports specified', 2);
    const colon = part.indexOf(':');
    if (colon >= 0 && i === MAX_PORTS - 1) throw new IptablesError('too many ports specified', 2);
    const lo = parsePort(colon >= 0 ? part.slice(0, colon) : part, proto);
    d.ports.push(lo);
    d.range.push(colon >= 0);
    i++;
    if (colon >= 0) {
      const hi = parsePort(part.slice(colon + 1), proto);
      if (lo >= hi) throw new IptablesError('invalid portrange specified', 2);
      d.ports.push(hi);
      d.range.push(false);
      i++;
    }
  }
}

function portsText(d: MultiportData, numeric: boolean): string {
  const name = (p: number) => (numeric ? String(p) : (portToService(p, d.proto) ?? String(p)));
  let s = '';
  for (let i = 0; i < d.ports.length; i++) {
    s += (i ? ',' : '') + name(d.ports[i]);
    if (d.range[i]) s += ':' + name(d.ports[++i]);
  }
  return s;
}

function hit(d: MultiportData, sport: number, dport: number): boolean {
  for (let i = 0; i < d.ports.length; i++) {
    const lo = d.ports[i];
    const hi = d.range[i] ? d.ports[++i] : lo;
    if (d.which !== 'dports' && sport >= lo && sport <= hi) return true;
    if (d.which !== 'sports' && dport >= lo && dport <= hi) return true;
  }
  return false;
}

const OPTS: Record<string, ['sports' | 'dports' | 'ports', string, number]> = {
  'source-ports': ['sports', 'source-ports', 1],
  sports: ['sports', 'source-ports', 1],
  'destination-ports': ['dports', 'destination-ports', 2],
  dports: ['dports', 'destination-ports', 2],
  ports: ['ports', 'ports', 4],
};

export const multiportMatch: MatchModule<MultiportData> = {
  kind: 'match',
  name: EXT,
  options: { 'source-ports': 1, sports: 1, 'destination-ports': 1, dports: 1, ports: 1 },
  invertible: ['source-ports', 'sports', 'destination-ports', 'dports', 'ports'],
  create: () => ({ which: '', ports: [], range: [], inv: false, proto: '', seen: 0 }),
  parse(d, opt, args, invert, ctx) {
    const [which, name, bit] = OPTS[opt];
    if (d.seen & bit) throw xterr.once(EXT, name);
    d.seen |= bit;
    d.proto = checkProto(ctx);
    parsePorts(args[0], d.proto, d);
    d.which = which;
    if (invert) d.inv = true;
  },
  finish(d) {
    if (d.seen === 0) throw new IptablesError('multiport expection an option', 2);
    if (d.seen & 1 && d.seen & 2) throw xterr.excl(EXT, 'source-ports', 'destination-ports');
    if (d.seen & 1 && d.seen & 4) throw xterr.excl(EXT, 'source-ports', 'ports');
    if (d.seen & 2 && d.seen & 4) throw xterr.excl(EXT, 'destination-ports', 'ports');
  },
  save: (d) => `${d.inv ? ' !' : ''} --${d.which} ${portsText(d, true)}`,
  list: (d, numeric) => ` multiport ${d.which} ${d.inv ? ' !' : ''}${portsText(d, numeric)}`,
  match: (d, ctx) => hit(d, ctx.pkt.sport, ctx.pkt.dport) !== d.inv,
  why: (d, ctx) => `${d.which === 'sports' ? `spt ${ctx.pkt.sport}` : `dpt ${ctx.pkt.dport}`} ${d.inv ? 'in' : 'not in'} ${portsText(d, true)}`,
  exactDport(d) {
    return d.which === 'dports' && !d.inv && d.ports.length === 1 ? d.ports[0] : undefined;
  },
};
