// The counters (and rule match states) a saved lab keeps for one host: every rule and chain
// with a count, by position. A node of a big cluster holds 200,000 rules and a lab is saved
// after every command, so the chains that had a count at the last gathering are remembered:
// when nothing was counted since (the counter clock did not move), only those are looked at
// again — a chain changed since is found by its name, and its rules looked at as they are now.
// Renaming a chain moves counts to another name: the clock's `moves` sends that to a full look.

import { counterClock } from './counter-clock.ts';
import type { Netfilter } from './ruleset.ts';
import { TABLE_NAMES, type Rule, type TableName } from './types.ts';

/** [table, chain, rule index (-1 = the chain's policy), packets, bytes] */
export type CounterEntry = [TableName, string, number, number, number];
/** [table, chain, rule index, key, value] */
export type RuleStateEntry = [TableName, string, number, string, unknown];

interface Last {
  ticks: number;
  moves: number;
  /** Per table, the chains that had a count. */
  counted: Map<TableName, string[]>;
}

const lastOf = new WeakMap<Netfilter, Last>();

export function gatherCounters(nf: Netfilter, ruleState: ReadonlyMap<Rule, ReadonlyMap<string, unknown>>): { counters: CounterEntry[]; states: RuleStateEntry[] } {
  const counters: CounterEntry[] = [];
  const states: RuleStateEntry[] = [];
  const last = lastOf.get(nf);
  // Match states are not counted by the clock: with any, every rule is looked at.
  const st = ruleState.size > 0 ? ruleState : null;
  const few = st === null && last !== undefined && last.ticks === counterClock.ticks && last.moves === counterClock.moves;
  const counted = new Map<TableName, string[]>();
  for (const t of TABLE_NAMES) {
    const table = nf.table(t);
    if (!table) continue;
    const mine: string[] = [];
    const look = (name: string) => {
      const c = table.chains.get(name);
      if (!c) return;
      const at = counters.length;
      if (c.packets || c.bytes) counters.push([t, c.name, -1, c.packets, c.bytes]);
      const rules = c.rules;
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i];
        if (r.packets || r.bytes) counters.push([t, c.name, i, r.packets, r.bytes]);
        const s = st?.get(r);
        if (s) for (const [k, v] of s) states.push([t, c.name, i, k, v]);
      }
      if (counters.length > at) mine.push(name);
    };
    if (few) for (const name of last.counted.get(t) ?? []) look(name);
    else for (const name of table.chains.keys()) look(name);
    if (mine.length) counted.set(t, mine);
  }
  // One order whichever way they were found: by table, chain name, position.
  counters.sort(byPlace);
  states.sort(byPlace);
  lastOf.set(nf, { ticks: counterClock.ticks, moves: counterClock.moves, counted });
  return { counters, states };
}

function byPlace(a: CounterEntry | RuleStateEntry, b: CounterEntry | RuleStateEntry): number {
  if (a[0] !== b[0]) return TABLE_NAMES.indexOf(a[0]) - TABLE_NAMES.indexOf(b[0]);
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2];
}
