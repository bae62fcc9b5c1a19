// The store's deep copy gives what a JSON round trip gives, for any data (fast-check), and
// shares nothing with what it copied.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clone } from '../../../../main/engine/kube/objects/types.ts';

test('clone equals JSON.parse(JSON.stringify(v)) for any data', () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4 }), (v) => {
      if (v === undefined) return;
      assert.deepStrictEqual(clone(v), JSON.parse(JSON.stringify(v)));
    }),
    { numRuns: 2000, seed: 42 },
  );
});

test('clone keeps an own __proto__ member a member, leaves out undefined, nulls what JSON cannot say', () => {
  const v = JSON.parse('{"__proto__": {"polluted": true}, "a": [1, 2]}') as Record<string, unknown>;
  v.gone = undefined;
  v.list = [undefined, Number.NaN, -0, Infinity, () => 1];
  const c = clone(v) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepStrictEqual(Object.keys(c), ['__proto__', 'a', 'list']);
  assert.deepStrictEqual(c.list, [null, null, 0, null, null]);
  assert.ok(Object.is((c.list as unknown[])[2], 0));
  (c.a as number[]).push(3);
  assert.deepStrictEqual(v.a, [1, 2]);
});
