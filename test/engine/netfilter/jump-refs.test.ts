// JumpRefs against a plain multiset of (target, from) pairs, over random adds and removes:
// the one-jumper shortcut must give the same counts and parents as counting everything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JumpRefs } from '../../../main/engine/netfilter/jump-refs.ts';
import { Rng } from '../../../main/engine/random.ts';

test('jump counts and parents agree with a plain count over random changes', () => {
  const rng = new Rng(7);
  const names = ['A', 'B', 'C', 'D'];
  const pick = () => names[Math.floor(rng.next() * names.length)];
  for (let round = 0; round < 50; round++) {
    const refs = new JumpRefs();
    const model = new Map<string, number>(); // "target from" -> rules
    for (let step = 0; step < 60; step++) {
      const target = pick();
      const from = pick();
      const key = `${target} ${from}`;
      const n = model.get(key) ?? 0;
      if (rng.next() < 0.55 || n === 0) {
        refs.add(target, from);
        model.set(key, n + 1);
      } else {
        refs.remove(target, from);
        if (n === 1) model.delete(key);
        else model.set(key, n - 1);
      }
      for (const t of names) {
        const expected = [...model].filter(([k]) => k.split(' ')[0] === t);
        assert.equal(refs.count(t), expected.reduce((s, [, v]) => s + v, 0), `count of ${t} after step ${step} of round ${round}`);
        assert.deepEqual([...refs.parents(t)].sort(), expected.map(([k]) => k.split(' ')[1]).sort(), `parents of ${t}`);
      }
    }
  }
});
