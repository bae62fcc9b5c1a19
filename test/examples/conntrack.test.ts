// The conntrack example: its checks can fail. node1 has no entry before the client connects; the
// stateful FORWARD steps fail before their rule is in; a DNAT on the wrong node or to the wrong
// port leaves the exercise unsolved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { service, stepIndex } from './helpers.ts';

const run = (svc: LabService, host: string, line: string) => {
  const r = svc.console('lab', host, [line]);
  assert.equal(r?.code, 0, `${host}: ${line}: ${r?.stderr}`);
};

test('conntrack: the client\'s node has no entry until the client connects', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  const i = stepIndex(svc, 'The conntrack entry');
  const before = svc.checkStep('lab', i);
  assert.equal(before.pass, false);
  assert.match(before.detail, /"src=1\.1\.1\.10 dst=2\.2\.2\.10 sport=" was not printed/);
  svc.runStep('lab', i);
  assert.ok(svc.checkStep('lab', i).pass);
  // as conntrack-tools prints it: the original tuple, then the reply tuple it expects
  const out = svc.console('lab', 'node1', ['conntrack -L']);
  assert.match(out!.stdout, /^tcp {6}6 \d+ \w+ src=1\.1\.1\.10 dst=2\.2\.2\.10 sport=\d+ dport=80 src=1\.1\.1\.20 dst=1\.1\.1\.10 sport=80 dport=\d+ \[ASSURED\] mark=0 use=1$/m);
  assert.equal(out!.stderr, 'conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
});

test('conntrack: the stateful FORWARD steps fail before their rules are in', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  const drop = stepIndex(svc, 'A FORWARD that drops');
  const fresh = svc.checkStep('lab', drop);
  assert.equal(fresh.pass, false);
  assert.match(fresh.detail, /delivered, expected dropped/);
  svc.runStep('lab', drop);
  assert.ok(svc.checkStep('lab', drop).pass);
  const newOnly = stepIndex(svc, 'Accept NEW connections to the server');
  const before = svc.checkStep('lab', newOnly);
  assert.equal(before.pass, false);
  assert.match(before.detail, /dropped, expected delivered/);
  svc.runStep('lab', newOnly);
  assert.ok(svc.checkStep('lab', newOnly).pass);
  const est = stepIndex(svc, '… and everything ESTABLISHED');
  const noReply = svc.checkStep('lab', est);
  assert.equal(noReply.pass, false);
  assert.match(noReply.detail, /the reply was dropped, expected delivered/);
  svc.runStep('lab', est);
  assert.ok(svc.checkStep('lab', est).pass);
});

test('conntrack: ip_forward=0 drops the DNATed packet before FORWARD', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  run(svc, 'node1', 'sysctl -w net.ipv4.ip_forward=0');
  const j = svc.trace('lab', { from: 'client', to: '2.2.2.10:80', proto: 'tcp' }).json;
  assert.equal(j.outcome, 'dropped');
  assert.equal(j.final.dst, '1.1.1.20');
  assert.match(j.reason, /net\.ipv4\.ip_forward=0/);
});

test('conntrack: the DNAT for 8080 on the server\'s node does not solve the exercise', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  run(svc, 'node2', 'iptables -t nat -A PREROUTING -d 2.2.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 1.1.1.20:80');
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  const [via8080, still80] = res.checks;
  assert.equal(via8080.pass, false);
  assert.match(via8080.detail, /client -> 2\.2\.2\.10:8080: \w+, expected delivered/);
  assert.ok(still80.pass, still80.detail);
});

test('conntrack: a DNAT to the server\'s port 8080 (nothing listens) does not solve the exercise', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  run(svc, 'node1', 'iptables -t nat -A PREROUTING -d 2.2.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 1.1.1.20:8080');
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.match(res.checks[0].detail, /refused, expected delivered/);
});

test('conntrack: the exercise\'s solution also works behind the walkthrough\'s stateful FORWARD', (t) => {
  const svc = service(t);
  svc.createExample('conntrack', 'lab');
  const steps = svc.doc('lab').walkthrough!.steps;
  steps.forEach((_, i) => svc.runStep('lab', i));
  assert.equal(svc.checkExercises('lab', 0)[0].pass, false);
  svc.applySolution('lab', 0);
  const after = svc.checkExercises('lab', 0)[0];
  assert.ok(after.pass, after.checks.map((c) => c.detail).join('; '));
});
