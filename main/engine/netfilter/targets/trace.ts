// `-j TRACE`: marks the packet for rule tracing and continues. iptables-nft turns it into
// `meta nftrace set 1`, which the kernel accepts in every table (legacy iptables allowed
// only raw), so no table restriction here.

import type { TargetModule } from '../types.ts';

export const traceTarget: TargetModule<Record<string, never>> = {
  kind: 'target',
  name: 'TRACE',
  options: {},
  create: () => ({}),
  parse() {
    // TRACE takes no options; the parser refuses unknown ones before we are called
  },
  save: () => '',
  list: () => '',
  apply: () => ({ kind: 'trace' }),
};
