// `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu`: rewrites the MSS option of TCP SYNs and goes
// on with the next rule. The lab's packets carry no TCP options, so it changes nothing in a
// walk; the rule is there, listed and counted as on a real node (a common one on nodes behind
// tunnels). The two options may both be given: the last one wins. The kernel takes it for TCP
// only (-p tcp, not inverted), and clamping only in FORWARD, OUTPUT and POSTROUTING.

import type { TargetModule } from '../types.ts';
import { parseUintOpt, X6Table, xtFail } from '../xtables-parse.ts';

export interface TcpmssData {
  /** The MSS to set; null: clamp to the path MTU. Undefined until an option is given. */
  mss?: number | null;
}

const OPTS = new X6Table('TCPMSS', [{ name: 'set-mss' }, { name: 'clamp-mss-to-pmtu' }]);
const CLAMP_HOOKS = new Set(['FORWARD', 'OUTPUT', 'POSTROUTING']);

export const tcpmssTarget: TargetModule<TcpmssData> = {
  kind: 'target',
  name: 'TCPMSS',
  options: { 'set-mss': 1, 'clamp-mss-to-pmtu': 0 },
  // (X6Table refuses each `!` with iptables' message)
  invertible: ['set-mss', 'clamp-mss-to-pmtu'],
  create: () => ({}),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    d.mss = opt === 'set-mss' ? parseUintOpt('TCPMSS', opt, args[0], 0, 65515) : null;
  },
  finish(d) {
    if (d.mss === undefined) xtFail('TCPMSS target: At least one parameter is required');
  },
  kernelCheck(d, ctx) {
    if (!ctx.proto || ctx.proto.num !== 6 || ctx.proto.neg) return false;
    return d.mss !== null || ctx.hook === undefined || CLAMP_HOOKS.has(ctx.hook);
  },
  save: (d) => (d.mss === null ? ' --clamp-mss-to-pmtu' : ` --set-mss ${d.mss}`),
  list: (d) => (d.mss === null ? ' TCPMSS clamp to PMTU' : ` TCPMSS set ${d.mss}`),
  apply: () => ({ kind: 'continue' }),
};
