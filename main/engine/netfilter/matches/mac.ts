// `-m mac [!] --mac-source XX:XX:XX:XX:XX:XX`: the Ethernet source of the received frame.
// Valid in PREROUTING, INPUT and FORWARD only; a packet without a frame (locally generated)
// never matches, inverted or not.

import type { MatchModule } from '../types.ts';
import { strtoumax, X6Table, xtFail } from '../xtables-parse.ts';

export interface MacData {
  mac: string; // lower-case, two digits per byte
  invert: boolean;
}

const OPTS = new X6Table('mac', [{ name: 'mac-source', invert: true, mand: true }]);

/** xtopt_parse_ethermac: six strtoul(.., 16) fields of at most two characters each. */
function parseMac(arg: string): string {
  const bad = () => xtFail('Invalid MAC address specified.');
  const bytes: number[] = [];
  let rest = arg;
  for (let i = 0; i < 6; i++) {
    const r = strtoumax(rest, 16);
    const end = r === null ? 0 : r.end;
    const sep = rest[end];
    if (end > 2 || (i < 5 ? sep !== ':' : sep !== undefined)) bad();
    bytes.push(r === null ? 0 : Number(r.value & 0xffn));
    rest = rest.slice(end + 1);
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const HOOKS = new Set(['PREROUTING', 'INPUT', 'FORWARD']);

export const macMatch: MatchModule<MacData> = {
  kind: 'match',
  name: 'mac',
  options: { 'mac-source': 1 },
  invertible: ['mac-source'],
  create: () => ({ mac: '00:00:00:00:00:00', invert: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    d.mac = parseMac(args[0]);
    d.invert = invert;
  },
  finish(d) {
    OPTS.finish(d);
  },
  kernelCheck: (_d, ctx) => ctx.hook === undefined || HOOKS.has(ctx.hook),
  save: (d) => `${d.invert ? ' !' : ''} --mac-source ${d.mac}`,
  list: (d) => ` MAC ${d.invert ? '! ' : ''}${d.mac}`,
  match(d, ctx) {
    const src = ctx.pkt.srcMac;
    if (src === undefined) return false;
    return (src.toLowerCase() === d.mac) !== d.invert;
  },
  why(d, ctx) {
    const src = ctx.pkt.srcMac;
    if (src === undefined) return 'no Ethernet source';
    return `MAC ${src.toLowerCase()} ${d.invert ? '=' : '≠'} ${d.mac}`;
  },
};
