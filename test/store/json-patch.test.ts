import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, diff, jsonEqual, patchRebuilds, type Json } from '../../main/store/json-patch.ts';
import { emptyLab } from '../../shared/lab.ts';
import { randomEdit, rng } from './random-lab.ts';

const roundTrip = (a: unknown, b: unknown): string => {
  const ops = JSON.parse(JSON.stringify(diff(a, b)));
  return JSON.stringify(applyPatch(JSON.parse(JSON.stringify(a)) as Json, ops));
};

test('jsonEqual compares as JSON text does, key order included', () => {
  assert.ok(jsonEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(!jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }));
  assert.ok(jsonEqual([undefined, NaN], [null, null]));
  assert.ok(!jsonEqual([1], { 0: 1 }));
  assert.ok(!jsonEqual('1', 1));
});

test('patches rebuild the target byte for byte', () => {
  const cases: [unknown, unknown][] = [
    [{ a: 1 }, { a: 2 }],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }], // key order changes -> object replaced
    [{ a: 1 }, { a: 1, c: { d: [1, 2] } }],
    [{ a: 1, b: 2 }, { b: 2 }],
    [[1, 2, 3, 4, 5], [1, 2, 9, 9, 9, 9, 4, 5]],
    [[1, 2, 3], []],
    [[], [1, { x: 'y' }]],
    [{ l: [{ a: 1 }, { a: 2 }] }, { l: [{ a: 1 }, { a: 3, b: 1 }] }],
    [{ x: [1] }, { x: { 0: 1 } }],
    [1, 'one'],
    [{ a: 1 }, JSON.parse('{"a":1,"__proto__":{"polluted":true}}') as unknown],
  ];
  for (const [a, b] of cases) assert.equal(roundTrip(a, b), JSON.stringify(b), JSON.stringify([a, b]));
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

test('an append to a big array is a one-element splice', () => {
  const a = { journal: Array.from({ length: 1000 }, (_, i) => ({ argv: ['x', String(i)] })) };
  const b = { journal: [...a.journal, { argv: ['new'] }] };
  assert.deepEqual(diff(a, b), [{ op: 'splice', p: ['journal'], i: 1000, n: 0, v: [{ argv: ['new'] }] }]);
});

test('a huge splice does not overflow the stack', () => {
  const b = Array.from({ length: 300_000 }, (_, i) => i);
  assert.equal(roundTrip([], b), JSON.stringify(b));
});

test('random lab edits round-trip (500 seeded edits)', () => {
  const r = rng(7);
  let doc = emptyLab('x');
  for (let i = 0; i < 500; i++) {
    const next = randomEdit(doc, r);
    assert.equal(roundTrip(doc, next), JSON.stringify(next), `edit ${i}`);
    const ops = diff(doc, next);
    assert.ok(patchRebuilds(applyPatch(structuredClone(doc) as unknown as Json, JSON.parse(JSON.stringify(ops))), next, ops), `check ${i}`);
    doc = next;
  }
});

test('patchRebuilds accepts a true rebuild and catches a wrong one', () => {
  const a = { x: [1, 2, 3], y: { p: 1 } };
  const b = { x: [1, 2, 7, 8, 3], y: { p: 1, q: 2 } };
  const ops = diff(a, b);
  const good = applyPatch(structuredClone(a) as Json, JSON.parse(JSON.stringify(ops)));
  assert.ok(patchRebuilds(good, b, ops));
  assert.ok(!patchRebuilds({ x: [1, 2, 7, 9, 3], y: { p: 1, q: 2 } }, b, ops), 'wrong spliced value');
  assert.ok(!patchRebuilds({ x: [1, 2, 7, 8, 3, 3], y: { p: 1, q: 2 } }, b, ops), 'wrong length');
  assert.ok(!patchRebuilds({ x: [1, 2, 7, 8, 3], y: { q: 2, p: 1 } }, b, ops), 'wrong key order');
  assert.ok(!patchRebuilds({ x: [1, 2, 7, 8, 3], y: { p: 1, q: 3 } }, b, ops), 'wrong set value');
});
