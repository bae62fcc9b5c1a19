// A connection's later packets (Lab.trace with `later`): the handshake (or first exchange) is
// walked first, then the later packet goes through the conntrack entries it left — found
// ESTABLISHED, un-NATed from the entry (no nat table walk), accepted by Calico's ESTABLISHED rule
// before any policy — and the lab is left as it was. A connection that never opened shows its
// first packet, and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab } from './lab-cluster.ts';
import type { TraceJson } from '../../../shared/trace-json.ts';

const APPS = `apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: minikube, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: minikube-m02, containers: [{name: c, image: nginx, ports: [{containerPort: 80}, {containerPort: 53, protocol: UDP}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: http, port: 80}, {name: dns, port: 53, protocol: UDP}]}
`;
const DENY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-web}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
`;

const steps = (j: TraceJson) => j.steps;

test('the packet after the handshake walks through ESTABLISHED entries, un-NATed from conntrack, and the lab is left as it was', () => {
  const { lab, apply, sh } = clusterLab({ nodes: 2, proxy: 'current' });
  apply(APPS);
  const before = sh('minikube', 'conntrack -L').stdout;
  const first = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp' }).json as TraceJson;
  assert.equal(first.later, undefined);
  assert.equal(first.outcome, 'delivered');
  const t = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 1 }).json as TraceJson;
  assert.deepEqual(t.later, { packet: 2, opened: true });
  assert.equal(t.outcome, 'delivered', t.reason);
  assert.equal(t.delivered?.host, 'default/web');
  // Every conntrack lookup of the data segment finds the connection established.
  const ct = t.events.filter((e) => e.kind === 'conntrack');
  assert.ok(ct.length >= 2);
  for (const e of ct) assert.match(e.text, /^ESTABLISHED/, e.text);
  // The Service's DNAT comes from the entry: no nat table is walked for it, yet it is applied.
  assert.equal(steps(t).filter((s) => s.table === 'nat' && s.hook === 'PREROUTING').length, 0);
  assert.equal(t.dnat, first.dnat);
  assert.ok(t.events.some((e) => e.kind === 'nat' && /DNAT destination/.test(e.text)));
  // The server's ACK comes back to the client's socket.
  assert.equal(t.reply?.outcome, 'delivered', t.reply?.reason);
  assert.equal(t.reply?.delivered?.host, 'default/client');
  assert.equal(t.ack, null);
  // The second later packet is the same walk again; the lab keeps none of them.
  const t2 = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 2 }).json as TraceJson;
  assert.deepEqual(t2.later, { packet: 3, opened: true });
  assert.equal(t2.steps.length, t.steps.length);
  assert.equal(sh('minikube', 'conntrack -L').stdout, before);
  assert.match(lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 1 }).text, /^packet 2 of the connection \(seed \d+\)/);
});

test('a later packet is accepted by Calico\'s ESTABLISHED rule; a connection a policy blocks never opens', () => {
  const { lab, apply } = clusterLab({ nodes: 2, proxy: 'current' });
  apply(APPS);
  const later = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 1 }).json as TraceJson;
  const tw = steps(later).filter((s) => s.chain.startsWith('cali-tw-'));
  assert.ok(tw.length > 0);
  assert.equal(tw.filter((s) => s.matched).length, 1, 'one rule of the workload chain decides');
  assert.match(tw.find((s) => s.matched)!.rule_spec ?? '', /--ctstate RELATED,ESTABLISHED -j ACCEPT/);
  apply(DENY);
  const blocked = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 1 });
  assert.deepEqual(blocked.json.later, { packet: 2, opened: false });
  assert.equal(blocked.json.outcome, 'dropped');
  assert.match(blocked.json.reason, /cali-tw-/);
  assert.match(blocked.text, /^packet \(the connection did not open: packet 2 was not sent\)/);
});

test('UDP: the next datagram and its answer; bad requests are refused in words', () => {
  const { lab, apply } = clusterLab({ nodes: 2, proxy: 'current' });
  apply(APPS);
  const t = lab.trace({ from: 'pod/default/client', to: 'web:53', proto: 'udp', later: 1 }).json as TraceJson;
  assert.deepEqual(t.later, { packet: 2, opened: true });
  assert.equal(t.outcome, 'delivered', t.reason);
  for (const e of t.events.filter((x) => x.kind === 'conntrack')) assert.match(e.text, /^ESTABLISHED/);
  assert.equal(t.reply?.delivered?.host, 'default/client');
  assert.throws(() => lab.trace({ from: 'pod/default/client', to: 'web:53', proto: 'udp', later: 101 }), /--later: expected a whole number from 0 to 100, got 101/);
  assert.throws(() => lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', later: 1, allOutcomes: true }), /--later: trace one packet of a connection, not all outcomes/);
});

test('conntrack events carry the entry as conntrack -L lists it: made at confirm, found later; the last one is the listing after the trace is kept', () => {
  const { lab, apply, sh } = clusterLab({ nodes: 2, proxy: 'current' });
  apply(APPS);
  const t = lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp' }).json as TraceJson;
  const client = lab.cluster!.store.peek('Pod', 'default', 'client')!.status!.podIP!;
  const web = lab.cluster!.store.peek('Pod', 'default', 'web')!.status!.podIP!;
  const vip = lab.cluster!.store.peek('Service', 'default', 'web')!.spec.clusterIP!;
  // The SYN on the client's node: found no entry (new), its entry listed once confirmed, DNATed.
  const onNode = t.events.filter((e) => e.host === 'minikube');
  const isNew = onNode.find((e) => e.kind === 'conntrack')!;
  assert.match(isNew.text, /new connection/);
  assert.equal(isNew.entry, undefined, 'not in the table yet');
  const made = onNode.find((e) => e.kind === 'confirm')!;
  assert.equal(made.entry, `tcp      6 120 SYN_SENT src=${client} dst=${vip} sport=40000 dport=80 [UNREPLIED] src=${web} dst=${client} sport=80 dport=40000 mark=0 use=1`);
  // The client's ACK finds it established; kept, the node lists exactly that line.
  // (the node tracks the IPIP outer packets too: their own entries, proto 4)
  const found = t.ack!.events.filter((e) => e.host === 'minikube' && e.kind === 'conntrack');
  assert.ok(found.length > 0 && found.every((e) => e.entry !== undefined));
  assert.ok(found.some((e) => /^unknown +4 /.test(e.entry!)), 'the tunnel packet\'s entry');
  const ours = found.filter((e) => e.entry!.includes(`src=${client} dst=${vip}`));
  assert.equal(ours.length, 1);
  lab.trace({ from: 'pod/default/client', to: 'web:80', proto: 'tcp', keep: true });
  const listed = sh('minikube', 'conntrack -L').stdout.split('\n').filter((l) => l.includes(`src=${client} dst=${vip}`));
  assert.deepEqual(listed, [ours[0].entry]);
  assert.match(ours[0].entry!, / ESTABLISHED .* \[ASSURED\] /);
});
