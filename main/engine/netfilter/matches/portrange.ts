// Port ranges as the tcp and udp matches read and print them. tcp still uses libxtables'
// old parser (service names per protocol, "0x50" accepted, min <= max enforced); udp uses
// the newer one (getaddrinfo: decimal only, any service name, no order check, values past
// 65535 wrap to 16 bits). Both print `spt:x`, `dpts:a:b`, `dpt:!x` with service names.

import { IptablesError } from '../types.ts';
import { portToService, serviceToPort } from '../services.ts';
import { isDigits, parsePort } from '../xtopt.ts';

export type PortRange = [number, number];

/** Single-port ranges by port, made once: rules share them (ranges are never changed). */
const SINGLE: PortRange[] = [];
function single(p: number): PortRange {
  return (SINGLE[p] ??= [p, p]);
}

/** libxt_tcp's parse_tcp_ports: "p", "a:b", ":b", "a:". */
export function parsePortRangeOld(s: string, proto: string): PortRange {
  const colon = s.indexOf(':');
  if (colon < 0) return single(parsePort(s, proto));
  const lo = colon === 0 ? 0 : parsePort(s.slice(0, colon), proto);
  const hi = colon === s.length - 1 ? 0xffff : parsePort(s.slice(colon + 1), proto);
  if (lo > hi) throw new IptablesError('invalid portrange (min > max)', 2);
  return [lo, hi];
}

/** getaddrinfo(NULL, name): a decimal number (kept to 16 bits) or a service name of any protocol. */
function portByName(s: string): number | undefined {
  if (isDigits(s)) return Number(s) & 0xffff;
  return serviceToPort(s, 'tcp') ?? serviceToPort(s, 'udp') ?? serviceToPort(s, 'sctp');
}

/** xtopt_parse_mport (XTTYPE_PORTRC): "p", "a:b", "a:", ":b". */
export function parsePortRangeX6(s: string, ext: string, opt: string): PortRange {
  const parts = s.split(':');
  if (parts.length > 2) throw new IptablesError(`${ext}: Too many components for option "--${opt}" (max: 2)\n`, 2);
  const out: PortRange = [0, 0xffff];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '') continue;
    const v = portByName(parts[i]);
    if (v === undefined) throw new IptablesError(`Port "${parts[i]}" does not resolve to anything.\n`, 2);
    out[i] = v;
  }
  if (parts.length === 1) out[1] = out[0];
  return out;
}

export function isFullRange(r: PortRange | undefined): boolean {
  return r === undefined || (r[0] === 0 && r[1] === 0xffff);
}

function portText(port: number, proto: string, numeric: boolean): string {
  return numeric ? String(port) : (portToService(port, proto) ?? String(port));
}

/** print_ports of libxt_tcp / libxt_udp. */
export function listPorts(name: string, r: PortRange | undefined, inv: boolean, proto: string, numeric: boolean): string {
  if (r === undefined || (r[0] === 0 && r[1] === 0xffff && !inv)) return '';
  const bang = inv ? '!' : '';
  if (r[0] === r[1]) return ` ${name}:${bang}${portText(r[0], proto, numeric)}`;
  return ` ${name}s:${bang}${portText(r[0], proto, numeric)}:${portText(r[1], proto, numeric)}`;
}

/** The save form: ` [!] --sport a[:b]`, nothing for the full range. */
export function savePorts(opt: string, r: PortRange | undefined, inv: boolean): string {
  if (r === undefined || (r[0] === 0 && r[1] === 0xffff)) return '';
  return `${inv ? ' !' : ''} --${opt} ${r[0] === r[1] ? r[0] : `${r[0]}:${r[1]}`}`;
}

export function inRange(p: number, r: PortRange | undefined): boolean {
  return r === undefined || (p >= r[0] && p <= r[1]);
}

export function rangeText(r: PortRange): string {
  return r[0] === r[1] ? String(r[0]) : `${r[0]}:${r[1]}`;
}
