// `-m nfacct --nfacct-name NAME`: always matches, adding the packet to the accounting object
// NAME (see nfacct-store.ts). iptables prints the name after two spaces, as 1.8.9 does. The
// kernel refuses the rule when no object of that name exists (ENOENT); names longer than the
// kernel's 31 characters are cut, as xtables' string option cuts them.

import type { MatchModule } from '../types.ts';
import { NFACCT_NAME_MAX } from '../nfacct-store.ts';
import { X6Table } from '../xtables-parse.ts';

export interface NfacctData {
  name: string;
  /** Whether the object existed when the rule was read (the kernel looks it up at load; a rule
   *  that refers to one keeps it from being deleted). */
  found: boolean;
}

const OPTS = new X6Table('nfacct', [{ name: 'nfacct-name', mand: true }]);

export const nfacctMatch: MatchModule<NfacctData> = {
  kind: 'match',
  name: 'nfacct',
  options: { 'nfacct-name': 1 },
  // (X6Table refuses a `!` with iptables' message)
  invertible: ['nfacct-name'],
  create: () => ({ name: '', found: false }),
  parse(d, opt, args, invert, ctx) {
    OPTS.use(d, opt, invert);
    d.name = args[0].slice(0, NFACCT_NAME_MAX);
    d.found = ctx.nfacctExists?.(d.name) ?? true;
  },
  finish(d) {
    OPTS.finish(d);
  },
  kernelCheck: (d) => (d.found ? true : 'ENOENT'),
  save: (d) => ` --nfacct-name  ${d.name}`,
  list: (d) => ` nfacct-name  ${d.name}`,
  refs: (d) => [{ kind: 'nfacct', name: d.name }],
  match(d, ctx) {
    const o = ctx.host.nfacct?.(d.name);
    if (o) {
      o.pkts++;
      o.bytes += ctx.pkt.len;
    }
    return true;
  },
  why: () => '',
};
