// A trace's first TCP segment with other flags than SYN (`tcpFlags`, kpl trace --tcp-flags): what
// conntrack makes of it (tcp_new: a plain ACK is picked up mid-stream while
// nf_conntrack_tcp_loose is 1, SYN,ACK / FIN,ACK / RST are invalid as new) and what the socket
// answers (a listener: SYN with SYN,ACK, ACK with a RST, a RST with nothing; a closed port: a
// bare RST for a segment with ACK, RST,ACK otherwise, nothing for a RST).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab } from './lab-cluster.ts';
import type { TraceJson } from '../../../shared/trace-json.ts';

const PODS = `apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: minikube, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {nodeName: minikube, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
`;

function lab() {
  const l = clusterLab({ nodes: 1, proxy: 'current' });
  l.apply(PODS);
  const ip = l.lab.cluster!.store.peek('Pod', 'default', 'web')!.status!.podIP!;
  const trace = (port: number, tcpFlags?: string) => l.lab.trace({ from: 'pod/default/client', to: `${ip}:${port}`, proto: 'tcp', ...(tcpFlags ? { tcpFlags } : {}) }).json as TraceJson;
  return { ...l, trace };
}

test('a SYN opens and is answered SYN,ACK; a plain ACK is picked up mid-stream and answered with a RST', () => {
  const { trace } = lab();
  const syn = trace(80);
  assert.equal(syn.packet.flags, 'SYN');
  assert.equal(syn.reply?.packet.flags, 'SYN,ACK');
  assert.equal(syn.ack?.packet.flags, 'ACK');
  const ack = trace(80, 'ACK');
  assert.equal(ack.packet.flags, 'ACK');
  assert.equal(ack.outcome, 'delivered', ack.reason);
  assert.match(ack.events.find((e) => e.kind === 'conntrack')!.text, /^NEW \(new connection/);
  assert.equal(ack.reply?.packet.flags, 'RST');
  assert.equal(ack.reply?.outcome, 'delivered');
  assert.equal(ack.ack, null, 'no handshake to complete');
});

test('SYN,ACK, FIN,ACK and RST out of nowhere are INVALID: Calico drops them', () => {
  const { trace } = lab();
  for (const f of ['SYN,ACK', 'FIN,ACK', 'RST']) {
    const t = trace(80, f);
    assert.equal(t.packet.flags, f);
    assert.equal(t.outcome, 'dropped', f);
    assert.match(t.events.find((e) => e.kind === 'conntrack')!.text, /^INVALID \(invalid new\)/, f);
    const decided = t.steps.filter((s) => s.matched && s.verdict === 'DROP').at(-1)!;
    assert.match(decided.rule_spec ?? '', /--ctstate INVALID -j DROP/, f);
    assert.equal(t.reply, null);
  }
});

test('with nf_conntrack_tcp_loose=0 a plain ACK is INVALID too', () => {
  const { trace, sh } = lab();
  assert.equal(sh('minikube', 'sysctl -w net.netfilter.nf_conntrack_tcp_loose=0').code, 0);
  const t = trace(80, 'ACK');
  assert.equal(t.outcome, 'dropped');
  assert.match(t.events.find((e) => e.kind === 'conntrack')!.text, /^INVALID \(invalid new \(nf_conntrack_tcp_loose=0\)\)/);
});

test('a closed port answers a bare RST to a segment with ACK, RST,ACK to a SYN, and nothing to a RST', () => {
  const { trace, sh } = lab();
  assert.equal(sh('minikube', 'sysctl -w net.netfilter.nf_conntrack_tcp_loose=1').code, 0);
  assert.equal(trace(81).reply?.packet.flags, 'RST,ACK');
  const ack = trace(81, 'ACK');
  assert.equal(ack.outcome, 'refused');
  assert.equal(ack.reply?.packet.flags, 'RST');
});

test('flags are for tcp, by iptables\' names', () => {
  const { lab: l } = lab();
  assert.throws(() => l.trace({ from: 'pod/default/client', to: '10.96.0.10:53', proto: 'udp', tcpFlags: 'ACK' }), /--tcp-flags: only a tcp packet has TCP flags \(this one is udp\)/);
  assert.throws(() => l.trace({ from: 'pod/default/client', to: '10.96.0.10:53', proto: 'tcp', tcpFlags: 'SYN,XMAS' }), /--tcp-flags: unknown flag "XMAS"/);
  assert.throws(() => l.trace({ from: 'pod/default/client', to: '10.96.0.10:53', proto: 'tcp', tcpFlags: 'ACK', later: 1 }), /give no flags with --later/);
});

