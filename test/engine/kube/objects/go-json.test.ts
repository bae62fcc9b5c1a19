// The last-applied annotation's encoding (Go's encoding/json of a map: members sorted at every
// level, `<`, `>`, `&` escaped) for any JSON data, equal to the encoding written out plainly, and the
// configuration it is made of left as it was.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { goJson, lastAppliedOf } from '../../../../main/engine/kube/objects/merge.ts';
import { ANN_LAST_APPLIED } from '../../../../main/engine/kube/objects/types.ts';

/** The encoding written out member by member. */
function reference(x: unknown): string {
  const enc = (v: unknown): string => {
    if (Array.isArray(v)) return '[' + v.map(enc).join(',') + ']';
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + enc(o[k])).join(',') + '}';
    }
    return JSON.stringify(v ?? null);
  };
  return enc(x).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

// Names that trip an encoder: inherited members, numeric names (sorted as strings), characters to escape.
const name = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', '10', '2', 'a<b', 'x&y', 'kind', 'metadata'));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('list'), tie('object')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(name, tie('value'), { maxKeys: 5 }),
})).value;

test('goJson equals the member-by-member encoding for any JSON data', () => {
  fc.assert(
    fc.property(json, (v) => {
      // (a parsed copy: an own __proto__ member, as a decoded manifest has it)
      const data = JSON.parse(JSON.stringify(v)) as unknown;
      assert.equal(goJson(data), reference(data));
    }),
    { numRuns: 3000, seed: 7 },
  );
});

test('lastAppliedOf leaves the annotation out and the configuration unchanged', () => {
  const config = JSON.parse('{"kind":"Service","metadata":{"name":"a<b","annotations":{"x":"1","' + ANN_LAST_APPLIED + '":"old"}},"spec":{"ports":[{"port":80}]}}') as Record<string, unknown>;
  const before = JSON.stringify(config);
  assert.equal(lastAppliedOf(config), '{"kind":"Service","metadata":{"annotations":{"x":"1"},"name":"a\\u003cb"},"spec":{"ports":[{"port":80}]}}\n');
  assert.equal(JSON.stringify(config), before);
  assert.equal(lastAppliedOf({ kind: 'Pod' }), '{"kind":"Pod","metadata":{"annotations":{}}}\n');
});
