// `-j NFLOG`: hands the packet to a netlink log group (Calico's flow logs, ulogd) and
// continues. iptables-nft writes it as nftables' own `log group` statement, so what comes
// back is what that statement keeps: no --nflog-range (iptables warns and drops it), a
// threshold of 0 or 1 is not printed, the prefix is cut to 127 bytes.

import { formatIPv4 } from '../../net/ipv4.ts';
import type { TargetModule } from '../types.ts';
import { parseUintOpt, saveString, truncateUtf8, X6Table, xtFail } from '../xtables-parse.ts';

export interface NflogData {
  group: number;
  prefix: string;
  size?: number; // --nflog-size (copy length)
  threshold: number;
}

const OPTS = new X6Table('NFLOG', [
  { name: 'nflog-group' },
  { name: 'nflog-prefix' },
  { name: 'nflog-range', excl: ['nflog-size'] },
  { name: 'nflog-size', excl: ['nflog-range'] },
  { name: 'nflog-threshold' },
]);

function show(d: NflogData, pre: string): string {
  let s = '';
  if (d.prefix !== '') s += ` ${pre}nflog-prefix${saveString(d.prefix)}`;
  if (d.group) s += ` ${pre}nflog-group ${d.group}`;
  if (d.size !== undefined) s += ` ${pre}nflog-size ${d.size}`;
  if (d.threshold > 1) s += ` ${pre}nflog-threshold ${d.threshold}`;
  return s;
}

const PROTO_WORD: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

export const nflogTarget: TargetModule<NflogData> = {
  kind: 'target',
  name: 'NFLOG',
  options: { 'nflog-group': 1, 'nflog-prefix': 1, 'nflog-range': 1, 'nflog-size': 1, 'nflog-threshold': 1 },
  invertible: ['nflog-group', 'nflog-prefix', 'nflog-range', 'nflog-size', 'nflog-threshold'],
  create: () => ({ group: 0, prefix: '', threshold: 1 }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const arg = args[0];
    switch (opt) {
      case 'nflog-group':
        d.group = parseUintOpt('NFLOG', opt, arg, 0, 0xffff);
        return;
      case 'nflog-prefix':
        if (arg.length < 1) xtFail('Argument must have a minimum length of 1 characters\n');
        d.prefix = truncateUtf8(arg, 127);
        return;
      case 'nflog-range':
        parseUintOpt('NFLOG', opt, arg, 0, 0xffffffff); // checked, then dropped by iptables-nft
        return;
      case 'nflog-size':
        d.size = parseUintOpt('NFLOG', opt, arg, 0, 0xffffffff);
        return;
      case 'nflog-threshold':
        d.threshold = parseUintOpt('NFLOG', opt, arg, 0, 0xffff);
        return;
    }
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => show(d, '--'),
  list: (d) => show(d, ''),
  apply(d, ctx) {
    const p = ctx.pkt;
    const proto = PROTO_WORD[p.proto] ?? String(p.proto);
    const ports = p.proto === 6 || p.proto === 17 || p.proto === 132 ? ` SPT=${p.sport} DPT=${p.dport}` : '';
    ctx.log(
      `NFLOG group ${d.group}: ${d.prefix}IN=${ctx.inIface ?? ''} OUT=${ctx.outIface ?? ''} SRC=${formatIPv4(p.src)} DST=${formatIPv4(p.dst)} LEN=${p.len} TTL=${p.ttl} PROTO=${proto}${ports}${p.mark ? ` MARK=0x${p.mark.toString(16)}` : ''}`,
    );
    return { kind: 'continue' };
  },
};
