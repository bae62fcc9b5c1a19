// compareSaves: two iptables-save texts, table by table and chain by chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSaves } from '../../shared/rules-compare.ts';

const A = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-XLB-X - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-A
-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-A
-A KUBE-XLB-X -j KUBE-SEP-1
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
COMMIT
`;
const B = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-XLB-X - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-A
-A KUBE-XLB-X -j KUBE-MARK-DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:ONLY-B - [0:0]
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
COMMIT
`;

test('rules one side lacks, per chain as a multiset; chains and policies that differ; tables on one side', () => {
  const c = compareSaves(A, B, { a: 'minikube', b: 'minikube-m02' });
  assert.equal(c.a, 'minikube');
  assert.deepEqual([c.onlyA, c.onlyB, c.same], [2, 1, 2]);
  assert.deepEqual(c.tables.map((t) => t.name), ['nat', 'filter', 'raw']);
  const nat = c.tables[0];
  assert.equal(nat.sameChains, 1); // PREROUTING
  assert.deepEqual(nat.chains.map((x) => [x.name, x.onlyA, x.onlyB, x.same]), [
    ['KUBE-SERVICES', ['-d 10.96.0.1/32 -j KUBE-SVC-A'], [], 1],
    ['KUBE-XLB-X', ['-j KUBE-SEP-1'], ['-j KUBE-MARK-DROP'], 0],
  ]);
  const filter = c.tables[1];
  assert.deepEqual(filter.chains.map((x) => [x.name, x.policyA, x.policyB, x.inA, x.inB]), [
    ['FORWARD', 'DROP', 'ACCEPT', true, true],
    ['ONLY-B', undefined, undefined, false, true],
  ]);
  assert.deepEqual(c.tables[2].chains.map((x) => [x.name, x.inA, x.inB]), [['PREROUTING', false, true]]);
  assert.equal(c.truncated, false);
});

test('the same text twice: no differences; rule lists cut at maxLines with exact counts', () => {
  const same = compareSaves(A, A, { a: 'x', b: 'y' });
  assert.deepEqual([same.onlyA, same.onlyB, same.same], [0, 0, 4]);
  assert.ok(same.tables.every((t) => t.chains.length === 0));
  const cut = compareSaves(A, B, { a: 'x', b: 'y' }, 1);
  assert.deepEqual([cut.onlyA, cut.onlyB], [2, 1]);
  assert.equal(cut.tables[0].chains.reduce((n, ch) => n + ch.onlyA.length + ch.onlyB.length, 0), 1);
  assert.equal(cut.truncated, true);
});
