// `-m pkttype [!] --pkt-type unicast|broadcast|multicast|otherhost` (names in any case; host,
// bcast and mcast are aliases): the link-layer kind of the frame the packet arrived in. A
// packet the host sends itself is unicast (the kernel's PACKET_HOST), and so is one it
// forwards; one it received is broadcast when sent to a broadcast address of the receiving
// device, multicast when sent to a multicast group, otherhost never (the lab's LANs deliver a
// frame only to the address it is for).

import type { MatchModule } from '../types.ts';
import { X6Table, xtFail } from '../xtables-parse.ts';

export type PktType = 'unicast' | 'broadcast' | 'multicast' | 'otherhost';

export interface PkttypeData {
  type: PktType;
  invert: boolean;
}

const NAMES: Readonly<Record<string, PktType>> = {
  unicast: 'unicast', broadcast: 'broadcast', multicast: 'multicast', otherhost: 'otherhost', bcast: 'broadcast', mcast: 'multicast', host: 'unicast',
};

const OPTS = new X6Table('pkttype', [{ name: 'pkt-type', invert: true, mand: true }]);

export const pkttypeMatch: MatchModule<PkttypeData> = {
  kind: 'match',
  name: 'pkttype',
  options: { 'pkt-type': 1 },
  invertible: ['pkt-type'],
  create: () => ({ type: 'unicast', invert: false }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const t = NAMES[args[0].toLowerCase()];
    if (!t) xtFail(`Bad packet type '${args[0]}'`);
    d.type = t;
    d.invert = invert;
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${d.invert ? ' !' : ''} --pkt-type ${d.type}`,
  list: (d) => ` PKTTYPE ${d.invert ? '!' : ''}= ${d.type}`,
  match: (d, ctx) => (typeOf(ctx) === d.type) !== d.invert,
  why: (d, ctx) => `a ${typeOf(ctx)} packet`,
};

function typeOf(ctx: Parameters<MatchModule['match']>[1]): PktType {
  if (ctx.inIface === undefined) return 'unicast';
  const t = ctx.host.addrType(ctx.pkt.dst, ctx.inIface);
  return t === 'BROADCAST' ? 'broadcast' : t === 'MULTICAST' ? 'multicast' : 'unicast';
}
