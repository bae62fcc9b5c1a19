// `-j NOTRACK`: the old name of `-j CT --notrack` (raw table). iptables keeps the alias in
// iptables-save and -S, but `iptables -L` shows the real target, CT, with the text NOTRACK.

import type { TargetModule } from '../types.ts';

export const notrackTarget: TargetModule<Record<string, never>> = {
  kind: 'target',
  name: 'NOTRACK',
  listName: 'CT',
  tables: ['raw'],
  options: {},
  create: () => ({}),
  parse() {
    // no options
  },
  save: () => '',
  list: () => ' NOTRACK',
  apply: () => ({ kind: 'notrack' }),
};
