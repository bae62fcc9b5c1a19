// The checker of expected states: each kind passes on the state it describes and fails, with
// words that say why, on any other; fields left out come from the step's action.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import { checkExpectation, completeExpectation } from '../../../main/engine/guide/expect.ts';
import type { Expectation } from '../../../shared/guide.ts';

/** client 10.0.0.10 (default route via the server) and server 10.0.0.20 (listening on 80) on one LAN; the client DNATs 2.2.2.10:80 to the server, the server drops port 81. */
function lab(): Lab {
  const doc = emptyLab('expect');
  doc.lans = [{ name: 'lan' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.10/24' }] },
    { name: 'server', listen: [{ port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.20/24' }] },
  ];
  doc.journal = [
    { host: 'client', argv: 'ip route add default via 10.0.0.20 dev eth0'.split(' ') },
    { host: 'client', argv: 'iptables -t nat -A OUTPUT -d 2.2.2.10/32 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.20:80'.split(' ') },
    { host: 'server', argv: 'iptables -A INPUT -p tcp --dport 81 -j DROP'.split(' ') },
  ];
  return Lab.fromDoc(doc);
}

const check = (e: Expectation) => checkExpectation(lab(), e);

test('output: ordered lines (spacing aside), fragments, absent fragments, exit code', () => {
  const ok = check({ kind: 'output', host: 'server', command: 'iptables -S INPUT', lines: ['-P INPUT ACCEPT', '-A INPUT  -p tcp -m tcp --dport 81 -j DROP'], contains: ['--dport 81'], absent: ['--dport 82'], code: 0 });
  assert.deepEqual(ok, { pass: true, detail: 'iptables -S INPUT: exit code 0, 3 expected texts printed' });
  const order = check({ kind: 'output', host: 'server', command: 'iptables -S INPUT', lines: ['-A INPUT -p tcp -m tcp --dport 81 -j DROP', '-P INPUT ACCEPT'] });
  assert.deepEqual(order, { pass: false, detail: 'iptables -S INPUT: the line "-P INPUT ACCEPT" was not printed after line 2' });
  assert.equal(check({ kind: 'output', host: 'server', command: 'iptables -S INPUT', contains: ['--dport 82'] }).detail, 'iptables -S INPUT: "--dport 82" was not printed');
  assert.equal(check({ kind: 'output', host: 'server', command: 'iptables -S INPUT', absent: ['DROP'] }).detail, 'iptables -S INPUT: "DROP" was printed');
  const code = check({ kind: 'output', host: 'server', command: 'iptables -L NOPE', code: 0 });
  assert.deepEqual(code, { pass: false, detail: 'iptables -L NOPE: exit code 1, expected 0' });
  assert.equal(check({ kind: 'output', host: 'server', command: 'iptables -L NOPE', code: 1, contains: ["chain `NOPE' in table `filter' is incompatible"] }).pass, true);
  assert.deepEqual(check({ kind: 'output', host: 'ghost', command: 'ip route' }), { pass: false, detail: 'no host named "ghost"' });
  assert.equal(check({ kind: 'output', lines: ['x'] }).pass, false);
});

test('trace: outcome, delivered host, chains and targets passed or avoided, source and reply source', () => {
  const dnat: Expectation = { kind: 'trace', from: 'client', to: '2.2.2.10:80', outcome: 'delivered', deliveredTo: 'server', passes: ['DNAT'], avoids: ['MASQUERADE'], source: 'preserved', replyOutcome: 'delivered', replySource: '2.2.2.10' };
  const ok = check(dnat);
  assert.equal(ok.pass, true, ok.detail);
  assert.equal(ok.detail, 'client -> 2.2.2.10:80: delivered to server (10.0.0.20:80), source 10.0.0.10');
  assert.match(check({ ...dnat, deliveredTo: 'client' }).detail, /^client -> 2\.2\.2\.10:80: not delivered to client \(delivered to server/);
  assert.match(check({ ...dnat, passes: ['KUBE-SVC-*'] }).detail, /never reached KUBE-SVC-\*/);
  assert.match(check({ ...dnat, avoids: ['DNAT'] }).detail, /: reached DNAT /);
  assert.match(check({ ...dnat, source: '10.0.0.99' }).detail, /the receiver saw source 10\.0\.0\.10, expected 10\.0\.0\.99/);
  assert.match(check({ ...dnat, source: 'translated' }).detail, /expected translated/);
  assert.match(check({ ...dnat, replySource: '10.0.0.20' }).detail, /the reply reached the sender from 2\.2\.2\.10, expected 10\.0\.0\.20/);
  const dropped = check({ kind: 'trace', from: 'client', to: '10.0.0.20:81', outcome: 'dropped', passes: ['INPUT'] });
  assert.equal(dropped.pass, true, dropped.detail);
  assert.match(check({ kind: 'trace', from: 'client', to: '10.0.0.20:81', outcome: 'delivered' }).detail, /^client -> 10\.0\.0\.20:81: dropped, expected delivered/);
  assert.equal(check({ kind: 'trace', from: 'client', to: '10.0.0.20:82', outcome: 'refused' }).pass, true);
  assert.deepEqual(check({ kind: 'trace', outcome: 'delivered' }), { pass: false, detail: 'nothing to trace: the check names no from and to' });
});

test('reach: every cell traced, each wrong cell named', () => {
  const cells = [
    { from: 'client', to: '10.0.0.20:80', allowed: true },
    { from: 'client', to: '10.0.0.20:81', allowed: false },
  ];
  assert.deepEqual(check({ kind: 'reach', cells }), { pass: true, detail: '2 cells as expected' });
  const wrong = check({ kind: 'reach', cells: cells.map((c) => ({ ...c, allowed: !c.allowed })) });
  assert.deepEqual(wrong, { pass: false, detail: 'client -> 10.0.0.20:80: delivered, expected blocked; client -> 10.0.0.20:81: dropped, expected allowed' });
  assert.match(check({ kind: 'reach', cells: [{ from: 'nobody', to: '10.0.0.20:80', allowed: true }] }).detail, /^nobody -> 10\.0\.0\.20:80: .*nobody.*, expected allowed$/);
});

test('fields left out are taken from the step action', () => {
  assert.deepEqual(completeExpectation({ kind: 'output', contains: ['x'] }, { kind: 'command', host: 'server', command: 'ip route' }), { kind: 'output', contains: ['x'], host: 'server', command: 'ip route' });
  assert.deepEqual(completeExpectation({ kind: 'trace', outcome: 'delivered', to: '10.0.0.20:81' }, { kind: 'trace', from: 'client', to: '10.0.0.20:80', proto: 'tcp' }), { kind: 'trace', outcome: 'delivered', from: 'client', to: '10.0.0.20:81', proto: 'tcp', seed: undefined });
  const fromAction = checkExpectation(lab(), { kind: 'trace', outcome: 'dropped' }, { kind: 'trace', from: 'client', to: '10.0.0.20:81' });
  assert.equal(fromAction.pass, true, fromAction.detail);
  // An action of another kind lends nothing.
  assert.equal(checkExpectation(lab(), { kind: 'output', contains: ['x'] }, { kind: 'show', target: 'server' }).pass, false);
});
