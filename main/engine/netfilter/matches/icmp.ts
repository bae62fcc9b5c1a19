// -m icmp (implicit with `-p icmp --icmp-type ...`): type and code, by name (any unique,
// case-insensitive prefix of libxtables' table) or number "type[/code]".

import { IptablesError, type MatchModule } from '../types.ts';
import { strtoui, xterr } from '../xtopt.ts';

export interface IcmpData {
  type: number; // 0xFF = any
  codeMin: number;
  codeMax: number;
  inv: boolean;
  seen: boolean;
}

/** libipt_icmp's names: [name, type, code min, code max], in its order. */
const ICMP_NAMES: readonly (readonly [string, number, number, number])[] = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

function parseIcmp(arg: string): [number, number, number] {
  const low = arg.toLowerCase();
  let found = -1;
  for (let i = 0; i < ICMP_NAMES.length; i++) {
    if (ICMP_NAMES[i][0].toLowerCase().startsWith(low)) {
      if (found >= 0) {
        throw new IptablesError(`Ambiguous ICMP type \`${arg}': \`${ICMP_NAMES[found][0]}' or \`${ICMP_NAMES[i][0]}'?`, 2);
      }
      found = i;
    }
  }
  if (found >= 0) {
    const e = ICMP_NAMES[found];
    return [e[1], e[2], e[3]];
  }
  const slash = arg.indexOf('/');
  const type = strtoui(slash < 0 ? arg : arg.slice(0, slash), 0, 255);
  if (type === undefined) throw new IptablesError(`Unknown ICMP type \`${arg}'`, 2);
  if (slash < 0) return [type, 0, 0xff];
  const code = strtoui(arg.slice(slash + 1), 0, 255);
  if (code === undefined) throw new IptablesError(`Unknown ICMP code \`${arg}'`, 2);
  return [type, code, code];
}

export function icmpName(type: number, min: number, max: number): string | undefined {
  return ICMP_NAMES.find((e) => e[1] === type && e[2] === min && e[3] === max)?.[0];
}

function matches(d: IcmpData, type: number, code: number): boolean {
  return (d.type === 0xff || (type === d.type && code >= d.codeMin && code <= d.codeMax)) !== d.inv;
}

export const icmpMatch: MatchModule<IcmpData> = {
  kind: 'match',
  name: 'icmp',
  options: { 'icmp-type': 1 },
  invertible: ['icmp-type'],
  create: () => ({ type: 0xff, codeMin: 0, codeMax: 0xff, inv: false, seen: false }),
  parse(d, _opt, args, invert) {
    if (d.seen) throw xterr.once('icmp', 'icmp-type');
    d.seen = true;
    [d.type, d.codeMin, d.codeMax] = parseIcmp(args[0]);
    d.inv = invert;
  },
  finish(d) {
    if (!d.seen) throw xterr.must('icmp', 'icmp-type');
  },
  save(d) {
    const bang = d.inv ? ' !' : '';
    if (d.type === 0xff) return `${bang} --icmp-type any`;
    const code = d.codeMin !== 0 || d.codeMax !== 0xff ? `/${d.codeMin}` : '';
    return `${bang} --icmp-type ${d.type}${code}`;
  },
  list(d, numeric) {
    if (!numeric) {
      const name = icmpName(d.type, d.codeMin, d.codeMax);
      if (name) return ` icmp ${d.inv ? '!' : ''}${name}`;
    }
    let s = ` icmp${d.inv ? ' !' : ''}type ${d.type}`;
    if (d.codeMin === d.codeMax) s += ` code ${d.codeMin}`;
    else if (d.codeMin !== 0 || d.codeMax !== 0xff) s += ` codes ${d.codeMin}-${d.codeMax}`;
    return s;
  },
  kernelCheck: (_d, ctx) => ctx.proto !== undefined && ctx.proto.num === 1 && !ctx.proto.neg,
  match: (d, ctx) => ctx.pkt.proto === 1 && matches(d, ctx.pkt.icmpType, ctx.pkt.icmpCode),
  why(d, ctx) {
    if (ctx.pkt.proto !== 1) return 'not icmp';
    const want = d.type === 0xff ? 'any' : `${d.type}${d.codeMin === d.codeMax ? `/${d.codeMin}` : ''}`;
    return `icmp type ${ctx.pkt.icmpType}/${ctx.pkt.icmpCode} ${d.inv ? 'is' : 'is not'} ${want}`;
  },
};
