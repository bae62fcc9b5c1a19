// NetworkPolicy semantics, one feature at a time: each case states the expected verdict, and
// both the semantics evaluator and the rendered Calico dataplane (walked in the engine) must
// give it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyVerdict } from '../../../../main/engine/kube/calico/semantics.ts';
import type { NetworkPolicy } from '../../../../main/engine/kube/objects/types.ts';
import type { CalicoCluster } from '../../../../main/engine/kube/calico/model.ts';
import { articleCluster, modelCluster, netpol } from './scenes.ts';
import { Dataplane, walk } from './helpers.ts';
import type { Host } from '../../../../main/engine/host.ts';

type Case = [src: string, dst: string, port: number, proto: 'TCP' | 'UDP' | 'SCTP', allowed: boolean];

function check(cluster: CalicoCluster, cases: Case[], nodes?: string): void {
  const dp = new Dataplane(cluster);
  for (const [src, dst, port, proto, allowed] of cases) {
    const what = `${src} -> ${dst} ${proto}/${port}${nodes ? ` (${nodes})` : ''}`;
    assert.equal(policyVerdict(cluster, src, dst, port, proto).allowed, allowed, `semantics: ${what}`);
    assert.equal(dp.allowed(src, dst, port, proto), allowed, `dataplane: ${what}`);
  }
}

const model = (...policies: NetworkPolicy[]) => modelCluster(['node1'], policies);
const model2 = (...policies: NetworkPolicy[]) => modelCluster(['node1', 'node2'], policies);

test('the article: frontend cannot reach db, backend can; db is reachable for nothing else', () => {
  const c = articleCluster();
  const f = 'default/frontend-8b474f47-zdqdv', b = 'default/backend-867fd6dff-mjf92', d = 'default/db-8d66ff5f7-bp6kf';
  check(c, [[f, b, 80, 'TCP', true], [f, d, 80, 'TCP', false], [b, d, 80, 'TCP', true], [d, f, 80, 'TCP', true], [b, d, 5432, 'TCP', true], ['192.168.49.1', d, 80, 'TCP', false]]);
  const v = policyVerdict(c, b, d, 80, 'TCP');
  assert.deepEqual(v.ingress.allowedBy, [{ policy: 'default/allow-db-access', direction: 'ingress', rule: 0 }]);
});

test('default allow; podSelector {} isolates the whole namespace; ingress: [] denies all', () => {
  check(model(), [['x/a', 'x/b', 80, 'TCP', true], ['y/a', 'x/b', 81, 'UDP', true]]);
  const deny = netpol('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
  for (const c of [model(deny), model2(deny)]) check(c, [['x/a', 'x/b', 80, 'TCP', false], ['y/a', 'x/c', 80, 'TCP', false], ['x/a', 'y/b', 80, 'TCP', true], ['x/a', '8.8.8.8', 53, 'UDP', true]]);
  // field absent with the type present: the same
  check(model(netpol('x', 'deny2', { podSelector: {}, policyTypes: ['Ingress'] })), [['y/a', 'x/a', 80, 'TCP', false]]);
});

test('rule {} allows everything, including from outside the cluster', () => {
  const p = netpol('x', 'all', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] });
  check(model(p), [['z/c', 'x/a', 80, 'TCP', true], ['10.9.9.9', 'x/a', 81, 'SCTP', true], ['x/a', '1.1.1.1', 443, 'TCP', true]]);
});

test('policyTypes defaulting: egress rules make an Egress policy; Egress-only never touches ingress', () => {
  const p = netpol('x', 'eg', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{ to: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] });
  check(model(p), [['x/a', 'x/b', 80, 'TCP', true], ['x/a', 'x/c', 80, 'TCP', false], ['x/c', 'x/a', 80, 'TCP', false]]);
  const q = netpol('x', 'eg-only', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [] });
  check(model(q), [['x/b', 'x/a', 80, 'TCP', true], ['x/a', 'x/b', 80, 'TCP', false]]);
});

test('peers: podSelector (own namespace), namespaceSelector, both in one peer (AND), two peers (OR)', () => {
  const only = (name: string, from: NetworkPolicy['spec']['ingress']) => netpol('x', name, { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'], ingress: from });
  check(model(only('pod', [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }])), [['x/b', 'x/a', 80, 'TCP', true], ['y/b', 'x/a', 80, 'TCP', false]]);
  check(model(only('ns', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }])), [['y/b', 'x/a', 80, 'TCP', true], ['y/c', 'x/a', 80, 'TCP', true], ['x/b', 'x/a', 80, 'TCP', false]]);
  const and = only('and', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }]);
  check(model2(and), [['y/b', 'x/a', 80, 'TCP', true], ['y/c', 'x/a', 80, 'TCP', false], ['x/b', 'x/a', 80, 'TCP', false]]);
  const or = only('or', [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }]);
  check(model2(or), [['y/c', 'x/a', 80, 'TCP', true], ['x/b', 'x/a', 80, 'TCP', true], ['x/c', 'x/a', 80, 'TCP', false], ['z/b', 'x/a', 80, 'TCP', false]]);
  check(model(only('allns', [{ from: [{ namespaceSelector: {} }] }])), [['z/c', 'x/a', 80, 'TCP', true], ['10.0.0.9', 'x/a', 80, 'TCP', false]]);
  check(model(only('metaname', [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }])), [['z/a', 'x/a', 80, 'TCP', true], ['y/a', 'x/a', 80, 'TCP', false]]);
});

test('matchExpressions: In, NotIn (true when absent), Exists, DoesNotExist', () => {
  const c = model(
    netpol('x', 'expr', {
      podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'b'] }] },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['y'] }] }, podSelector: { matchExpressions: [{ key: 'pod', operator: 'Exists' }, { key: 'nope', operator: 'DoesNotExist' }] } }] }],
    }),
  );
  check(c, [['z/a', 'x/a', 80, 'TCP', true], ['y/a', 'x/b', 80, 'TCP', false], ['y/a', 'x/c', 80, 'TCP', true], ['x/c', 'x/b', 80, 'TCP', true]]);
});

test('ipBlock with except; it also matches pod IPs', () => {
  const p = netpol('x', 'cidr', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.244.2.0/24', except: ['10.244.2.11/32'] } }, { ipBlock: { cidr: '192.168.100.0/24' } }] }] });
  check(model2(p), [['y/a', 'x/a', 80, 'TCP', true], ['y/b', 'x/a', 80, 'TCP', false], ['z/a', 'x/a', 80, 'TCP', false], ['192.168.100.7', 'x/a', 80, 'TCP', true]]);
  const e = netpol('x', 'egress-cidr', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16', '8.8.4.0/24'] } }] }] });
  check(model2(e), [['x/a', '8.8.8.8', 53, 'UDP', true], ['x/a', '8.8.4.4', 53, 'UDP', false], ['x/a', 'y/a', 80, 'TCP', false]]);
});

test('ports: number, name (per destination pod), endPort, protocols; several rules and policies add up', () => {
  const p = netpol('x', 'ports', {
    podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'],
    ingress: [{ ports: [{ port: 81 }, { protocol: 'UDP', port: 'serve-80-udp' }] }, { from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ protocol: 'SCTP' }, { port: 8000, endPort: 8080 }] }],
  });
  const q = netpol('x', 'more', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'c' } } }], ports: [{ port: 'serve-80-tcp' }] }] });
  check(model2(p, q), [
    ['y/c', 'x/a', 81, 'TCP', true], ['y/c', 'x/a', 81, 'UDP', false], ['y/c', 'x/a', 80, 'UDP', true], ['y/c', 'x/a', 80, 'TCP', false],
    ['x/b', 'x/a', 80, 'SCTP', true], ['x/b', 'x/a', 8080, 'TCP', true], ['x/b', 'x/a', 8081, 'TCP', false], ['x/c', 'x/a', 80, 'TCP', true], ['x/c', 'x/a', 81, 'TCP', true],
  ]);
  // egress by named port: resolved on the destination pod; never matches a non-pod
  const n = netpol('y', 'named-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-tcp' }] }] });
  check(model2(n), [['y/a', 'x/b', 81, 'TCP', true], ['y/a', 'x/b', 80, 'TCP', false], ['y/a', '1.2.3.4', 81, 'TCP', false]]);
});

test('egress AND ingress: both ends must allow', () => {
  const e = netpol('x', 'e', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] });
  const i = netpol('y', 'i', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'c' } } }] }] });
  check(model2(e, i), [['x/a', 'y/a', 80, 'TCP', true], ['x/a', 'y/b', 80, 'TCP', false], ['y/c', 'y/b', 80, 'TCP', true], ['x/a', 'z/a', 80, 'TCP', false]]);
});

test('hostNetwork pods are not isolated and are only their node IP as peers', () => {
  const c = model(netpol('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ namespaceSelector: {} }] }] }));
  c.pods.push({ namespace: 'x', name: 'hostnet', node: 'node1', ip: '192.168.49.2', labels: { pod: 'a' }, hostNetwork: true });
  assert.equal(policyVerdict(c, 'x/hostnet', 'x/a', 80, 'TCP').allowed, false, 'a selector never matches a hostNetwork pod');
  assert.equal(policyVerdict(c, 'x/a', 'x/hostnet', 80, 'TCP').allowed, false, 'x/a is isolated for egress');
  assert.equal(policyVerdict(c, 'y/a', 'x/hostnet', 80, 'TCP').allowed, true, 'the hostNetwork pod is not isolated');
  check(c, [['y/a', 'x/b', 80, 'TCP', true], ['x/a', 'x/b', 80, 'TCP', false]]);
});

test('replies of an allowed connection pass even against the reverse policy (conntrack)', () => {
  const c = model(netpol('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
  const dp = new Dataplane(c);
  const h = dp.host('node1');
  const r = walkEstablished(h);
  assert.equal(r, 'accept');
});

function walkEstablished(h: Host): string {
  return walk(h, 'FORWARD', { src: '10.244.1.10', dst: '10.244.1.11', proto: 'TCP', dport: 80, inIface: 'cali456b416f2bf', outIface: 'cali08041ab898a', state: 'ESTABLISHED' }).verdict;
}
