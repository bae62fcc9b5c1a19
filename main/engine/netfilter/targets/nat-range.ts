// The address/port range of DNAT --to-destination and SNAT --to-source
// ("[ip[-ip]][:port[-port[/base]]]") and MASQUERADE --to-ports, parsed and printed as
// libxt_NAT does.

import { IptablesError, type ParseCtx } from '../types.ts';
import { formatIPv4 } from '../../net/ipv4.ts';
import { serviceToPort } from '../services.ts';
import { strtoul } from '../xtopt.ts';
import { parseIptAddress } from '../addr.ts';

export interface NatRange {
  minIp?: number;
  maxIp?: number;
  minPort?: number;
  maxPort?: number;
  basePort?: number;
}

/** Ports may be rewritten only for these protocols (and never with `! -p`). */
export function portsAllowed(ctx: ParseCtx): boolean {
  const p = ctx.proto;
  return !!p && !p.neg && (p.num === 6 || p.num === 17 || p.num === 132 || p.num === 33 || p.num === 1);
}

export const needPortProto = () => new IptablesError('Need TCP, UDP, SCTP or DCCP with port specification', 2);

function port(s: string): { v: number; rest: string } {
  // fast path: plain decimal to the end
  let v = 0;
  let k = 0;
  for (; k < s.length && k < 6; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (k === s.length && k > 0 && k < 6 && v <= 65535 && (s.charCodeAt(0) !== 48 || k === 1)) return { v, rest: '' };
  const n = strtoul(s, 0);
  if (n.end > 0 && n.value <= 65535) return { v: n.value, rest: s.slice(n.end) };
  const named = serviceToPort(s, 'tcp') ?? serviceToPort(s, 'udp');
  if (named !== undefined) return { v: named, rest: '' };
  throw new IptablesError(`Port \`${s}' not valid`, 2);
}

/** "a[-b[/base]]" */
export function parsePortRange(arg: string, r: NatRange): void {
  const lo = port(arg);
  r.minPort = r.maxPort = lo.v;
  if (lo.rest === '') return;
  if (lo.rest[0] !== '-') throw new IptablesError(`Garbage after port value: \`${lo.rest}'`, 2);
  const hiArg = lo.rest.slice(1);
  const hi = port(hiArg);
  if (hi.v < lo.v) throw new IptablesError(`Port range \`${hiArg}' funky`, 2);
  r.maxPort = hi.v;
  if (hi.rest === '') return;
  if (hi.rest[0] !== '/') throw new IptablesError(`Garbage after port range: \`${hi.rest}'`, 2);
  r.basePort = port(hi.rest.slice(1)).v;
}

export function parseToRange(arg: string, ctx: ParseCtx): NatRange {
  const r: NatRange = {};
  const colon = arg.indexOf(':');
  let ips = arg;
  if (colon >= 0) {
    if (!portsAllowed(ctx)) throw needPortProto();
    parsePortRange(arg.slice(colon + 1), r);
    ips = arg.slice(0, colon);
    if (colon === 0) return r;
  }
  const dash = ips.indexOf('-');
  const first = dash < 0 ? ips : ips.slice(0, dash);
  const a = parseIptAddress(first);
  if (a === null) throw new IptablesError(`Bad IP address "${first}"`, 2);
  r.minIp = r.maxIp = a;
  if (dash >= 0) {
    const second = ips.slice(dash + 1);
    const b = parseIptAddress(second);
    if (b === null) throw new IptablesError(`Bad IP address "${second}"`, 2);
    r.maxIp = b;
  }
  return r;
}

export function rangeText(r: NatRange): string {
  let s = '';
  if (r.minIp !== undefined) {
    s += formatIPv4(r.minIp);
    if (r.maxIp !== r.minIp) s += '-' + formatIPv4(r.maxIp!);
  }
  if (r.minPort !== undefined) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
    if (r.basePort !== undefined) s += `/${r.basePort}`;
  }
  return s;
}
