// The pod-to-outside example: its checks can fail. The conntrack step shows nothing before the
// pod has talked to the outside; half a solution (no MASQUERADE, but no route back) leaves the
// exercise unsolved because the reply to the pod address is lost at the router.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { service, stepIndex } from './helpers.ts';

test('pod-to-outside: the conntrack step fails until the pod has reached the server', (t) => {
  const svc = service(t);
  svc.createExample('pod-to-outside', 'lab');
  const i = stepIndex(svc, 'The conntrack entry');
  const before = svc.checkStep('lab', i);
  assert.equal(before.pass, false);
  assert.match(before.detail, /src=10\.244\.120\.70 dst=203\.0\.113\.10" was not printed/);
  svc.runStep('lab', stepIndex(svc, 'The pod never sees the translation'));
  assert.ok(svc.checkStep('lab', i).pass);
});

test('pod-to-outside: the receiver sees the node address and conntrack turns the reply back to the pod', (t) => {
  const svc = service(t);
  svc.createExample('pod-to-outside', 'lab');
  const j = svc.trace('lab', { from: 'pod/default/client', to: '203.0.113.10:80', proto: 'tcp' }).json;
  assert.equal(j.outcome, 'delivered');
  assert.equal(j.final.src, '192.168.49.2');
  assert.equal(j.reply?.outcome, 'delivered');
  assert.equal(j.reply?.final.dst, '10.244.120.70');
});

test('pod-to-outside: skipping the MASQUERADE alone does not solve the exercise (the reply is lost)', (t) => {
  const svc = service(t);
  svc.createExample('pod-to-outside', 'lab');
  const r = svc.console('lab', 'minikube', ['iptables -t nat -I cali-nat-outgoing -d 203.0.113.0/24 -j RETURN']);
  assert.equal(r?.code, 0, r?.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  const [sees, reply] = res.checks;
  assert.ok(sees.pass, sees.detail); // the server does see the pod address now ...
  assert.equal(reply.pass, false); // ... but cannot answer it
  assert.match(reply.detail, /the reply was (unroutable|dropped|not sent)/);
});

test('pod-to-outside: a route back without skipping the MASQUERADE does not solve it either', (t) => {
  const svc = service(t);
  svc.createExample('pod-to-outside', 'lab');
  const r = svc.console('lab', 'router', ['ip route add 10.244.0.0/16 via 192.168.49.2']);
  assert.equal(r?.code, 0, r?.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.match(res.checks[0].detail, /reached MASQUERADE .*source 192\.168\.49\.2/);
});
