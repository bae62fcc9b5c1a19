// -j REJECT [--reject-with TYPE]: an ICMP error (icmp-port-unreachable by default) or a TCP
// reset back to the sender. Filter table, INPUT/FORWARD/OUTPUT; tcp-reset needs `-p tcp`.

import { IptablesError, type TargetModule } from '../types.ts';
import { xterr } from '../xtopt.ts';
import { NotedError } from '../errors.ts';

export interface RejectData {
  with: string;
  seen: boolean;
}

/** [name, alias], in libipt_REJECT's order: the first whose name or alias starts with the
 *  argument (case-insensitive) wins. */
const TYPES: readonly (readonly [string, string])[] = [
  ['icmp-net-unreachable', 'net-unreach'],
  ['icmp-host-unreachable', 'host-unreach'],
  ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'],
  ['icmp-net-prohibited', 'net-prohib'],
  ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'],
  ['icmp-admin-prohibited', 'admin-prohib'],
];

/** What a REJECT sends, for the walk: ICMP type 3 and code, or a TCP RST. */
export const REJECT_ICMP_CODE: Readonly<Record<string, number>> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

export const rejectTarget: TargetModule<RejectData> = {
  kind: 'target',
  name: 'REJECT',
  options: { 'reject-with': 1 },
  tables: ['filter'],
  hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
  create: () => ({ with: 'icmp-port-unreachable', seen: false }),
  parse(d, _opt, args) {
    if (d.seen) throw xterr.once('REJECT', 'reject-with');
    d.seen = true;
    const a = args[0].toLowerCase();
    const t = TYPES.find(([n, alias]) => n.startsWith(a) || alias.startsWith(a));
    if (!t) {
      const msg = `unknown reject type "${args[0]}"`;
      if ('echo-reply'.startsWith(a) || 'echoreply'.startsWith(a)) {
        throw new NotedError('--reject-with echo-reply no longer supported\n', msg);
      }
      throw new IptablesError(msg, 2);
    }
    d.with = t[0];
  },
  save: (d) => ` --reject-with ${d.with}`,
  list: (d) => ` reject-with ${d.with}`,
  kernelCheck: (d, ctx) => d.with !== 'tcp-reset' || (ctx.proto !== undefined && ctx.proto.num === 6 && !ctx.proto.neg),
  apply: (d) => ({ kind: 'reject', with: d.with, tcpReset: d.with === 'tcp-reset' }),
};
