// Keeping a node's IP sets in step with the cluster the way Felix does it: new sets are
// created and filled, existing ones get only the `add`/`del` of the members that changed,
// and sets no rule needs any more are destroyed — after the rules that referenced them are
// gone, so the destroys come as a separate restore text to apply after iptables-restore.

import type { IpsetInfo } from './model.ts';

export interface IpsetUpdate {
  /** `ipset restore` input to apply before the iptables update. */
  before: string;
  /** `ipset restore` input to apply after it (destroys). */
  after: string;
}

/** What the update reads of a set: its name, type and members (a rendering's IpsetInfo, or a
 *  set as the dataplane holds it). */
export type SetMembers = Pick<IpsetInfo, 'name' | 'type'> & { members: readonly { entry: string }[] };

const header = (s: SetMembers) => `create ${s.name} ${s.type} family inet hashsize 1024 maxelem 1048576`;

/** From the sets programmed last time (`prev`, empty on a fresh node) to `next`. */
export function ipsetUpdate(prev: readonly SetMembers[], next: readonly SetMembers[]): IpsetUpdate {
  const old = new Map(prev.map((s) => [s.name, s]));
  const now = new Map(next.map((s) => [s.name, s]));
  const before: string[] = [];
  const after: string[] = [];
  for (const s of next) {
    const o = old.get(s.name);
    if (!o || o.type !== s.type) {
      if (o) {
        // a set whose type changed is rebuilt under a temporary name and swapped in
        before.push(`create cali4t0 ${s.type} family inet hashsize 1024 maxelem 1048576`);
        for (const m of s.members) before.push(`add cali4t0 ${m.entry}`);
        before.push(`swap cali4t0 ${s.name}`, 'destroy cali4t0');
        continue;
      }
      before.push(header(s));
      for (const m of s.members) before.push(`add ${s.name} ${m.entry}`);
      continue;
    }
    if (o === s || (o.members.length === s.members.length && o.members.every((m, i) => m.entry === s.members[i].entry))) continue;
    const had = new Set(o.members.map((m) => m.entry));
    const has = new Set(s.members.map((m) => m.entry));
    for (const e of had) if (!has.has(e)) before.push(`del ${s.name} ${e}`);
    for (const m of s.members) if (!had.has(m.entry)) before.push(`add ${s.name} ${m.entry}`);
  }
  for (const s of prev) if (!now.has(s.name)) after.push(`destroy ${s.name}`);
  const text = (l: string[]) => (l.length ? l.join('\n') + '\n' : '');
  return { before: text(before), after: text(after) };
}
