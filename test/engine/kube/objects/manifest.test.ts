import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTypeMeta, parseManifests } from '../../../../main/engine/kube/objects/manifest.ts';

test('multi-document YAML: comment-only documents skipped, List expanded, order kept', () => {
  const text = `# leading comment only
---
apiVersion: v1
kind: Service
metadata: {name: a}
---
# nothing here
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: b}}
- {apiVersion: v1, kind: Service, metadata: {name: c}}
`;
  const r = parseManifests(text, 'STDIN');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.docs.map((d) => (d.obj.metadata as { name: string }).name), ['a', 'b', 'c']);
});

test('YAML 1.1 scalars as go-yaml v2 reads them; timestamps stay strings', () => {
  const r = parseManifests('a: yes\nb: off\nc: 010\nd: 2020-11-05T05:26:27Z\ne: "true"\n', 'STDIN');
  assert.deepEqual(r.docs[0].obj, { a: true, b: false, c: 8, d: '2020-11-05T05:26:27Z', e: 'true' });
});

test('a syntax error stops the stream with go-yaml wording; earlier documents are kept', () => {
  const r = parseManifests('kind: A\n---\nmetadata: name: x\n', 'STDIN');
  assert.equal(r.docs.length, 1);
  assert.equal(r.error, 'error parsing STDIN: error converting YAML to JSON: yaml: line 1: mapping values are not allowed in this context');
  const dup = parseManifests('a: 1\na: 2\n', 'svc.yaml');
  assert.equal(dup.error, 'error parsing svc.yaml: error converting YAML to JSON: yaml: unmarshal errors:\n  line 2: key "a" already set in map');
});

test('JSON input, one object', () => {
  const r = parseManifests('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}', 'STDIN');
  assert.equal(r.docs.length, 1);
  assert.equal(r.docs[0].obj.kind, 'Namespace');
});

test('missing apiVersion/kind: kubectl client-side validation text', () => {
  assert.equal(
    checkTypeMeta({ apiVersion: 'v1' }, 'STDIN'),
    'error validating "STDIN": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false',
  );
  assert.equal(
    checkTypeMeta({}, 'x.yaml'),
    'error validating "x.yaml": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false',
  );
  assert.equal(checkTypeMeta({ apiVersion: 'v1', kind: 'Pod' }, 'STDIN'), null);
});
