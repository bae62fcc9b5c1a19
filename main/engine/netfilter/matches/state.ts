// -m state [!] --state LIST: since iptables 1.8 an alias of conntrack's --ctstate (same kernel
// match), printed as `state NEW,ESTABLISHED`.

import type { MatchModule } from '../types.ts';
import { xterr } from '../xtopt.ts';
import { CT_STATES, ctStateBits, parseStateList, stateListText } from './conntrack.ts';

export interface StateData {
  states: number;
  inv: boolean;
  seen: boolean;
}

export const stateMatch: MatchModule<StateData> = {
  kind: 'match',
  name: 'state',
  options: { state: 1 },
  invertible: ['state'],
  create: () => ({ states: 0, inv: false, seen: false }),
  parse(d, _opt, args, invert) {
    if (d.seen) throw xterr.once('state', 'state');
    d.seen = true;
    d.states = parseStateList(args[0], ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'], CT_STATES, 'state');
    d.inv = invert;
  },
  finish(d) {
    if (!d.seen) throw xterr.must('state', 'state');
  },
  save: (d) => `${d.inv ? ' !' : ''} --state ${stateListText(d.states, CT_STATES)}`,
  list: (d) => `${d.inv ? ' !' : ''} state ${stateListText(d.states, CT_STATES)}`,
  match: (d, ctx) => ((d.states & ctStateBits(ctx.ct)) !== 0) !== d.inv,
  why: (_d, ctx) => `state ${stateListText(ctStateBits(ctx.ct) & 31, CT_STATES)}`,
};
