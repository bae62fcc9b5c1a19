import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabels, formatLabelSelector, fromLabelSelector, matches, parseSelector } from '../../../../main/engine/kube/objects/selector.ts';

test('label selector strings: equality, inequality, set and existence requirements', () => {
  const sel = parseSelector('app=web,tier!=db,env in (prod, staging),!legacy,owner');
  assert.ok(matches(sel, { app: 'web', env: 'prod', owner: 'me' }));
  assert.ok(!matches(sel, { app: 'web', env: 'dev', owner: 'me' }));
  assert.ok(!matches(sel, { app: 'web', env: 'prod', owner: 'me', legacy: 'y' }));
  assert.ok(!matches(sel, { app: 'web', env: 'prod' }));
  assert.ok(matches(parseSelector('app==web'), { app: 'web' }));
  assert.throws(() => parseSelector('app=web;x'));
});

test('structured selectors and their printed forms', () => {
  const ls = { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['b', 'a'] }] };
  assert.ok(matches(fromLabelSelector(ls), { app: 'db', tier: 'a' }));
  assert.equal(formatLabelSelector(ls), 'app=db,tier in (a,b)');
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
});
