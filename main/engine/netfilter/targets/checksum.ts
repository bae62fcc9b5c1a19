// `-j CHECKSUM --checksum-fill` (mangle only): fills in a checksum left to the network card
// (libvirt's rule for DHCP answers to guests), then goes on with the next rule. The lab's
// packets carry no checksums, so it changes nothing in a walk; the rule is kept, listed and
// counted as on a real host.

import type { TargetModule } from '../types.ts';
import { X6Table } from '../xtables-parse.ts';

export type ChecksumData = Record<string, never>;

const OPTS = new X6Table('CHECKSUM', [{ name: 'checksum-fill', mand: true }]);

export const checksumTarget: TargetModule<ChecksumData> = {
  kind: 'target',
  name: 'CHECKSUM',
  tables: ['mangle'],
  options: { 'checksum-fill': 0 },
  // (X6Table refuses a `!` with iptables' message)
  invertible: ['checksum-fill'],
  create: () => ({}),
  parse(d, opt, _args, invert) {
    OPTS.use(d, opt, invert);
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: () => ' --checksum-fill',
  list: () => ' CHECKSUM fill',
  apply: () => ({ kind: 'continue' }),
};
