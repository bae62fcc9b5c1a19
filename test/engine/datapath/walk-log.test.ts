// LOG's lines are events of the walk, on the host and hook of the table whose rule logged, in
// the order they were written — also when several hosts log the same packet (the walk keeps
// one function for every env, pointed at the table being walked).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';

function lab(): Lab {
  const doc = emptyLab('log');
  doc.lans = [{ name: 'a' }, { name: 'b' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.10/24' }] },
    { name: 'router', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.1/24' }, { dev: 'eth1', lan: 'b', ip: '10.0.1.1/24' }] },
    { name: 'server', listen: [{ port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'b', ip: '10.0.1.20/24' }] },
  ];
  const j = (host: string, cmd: string) => ({ host, argv: cmd.split(' ') });
  doc.journal = [
    j('client', 'ip route add default via 10.0.0.1'),
    j('server', 'ip route add default via 10.0.1.1'),
    j('router', 'sysctl -w net.ipv4.ip_forward=1'),
    j('client', 'iptables -A OUTPUT -p tcp -j LOG --log-prefix c-out:'),
    j('router', 'iptables -A FORWARD -p tcp -j LOG --log-prefix r-fwd:'),
    j('router', 'iptables -t mangle -A POSTROUTING -p tcp -j LOG --log-prefix r-post:'),
    j('server', 'iptables -A INPUT -p tcp -j LOG --log-prefix s-in:'),
  ];
  return Lab.fromDoc(doc);
}

test('LOG lines are events on the host and hook that logged them, in order, request and reply', () => {
  const l = lab();
  const t = l.trace({ from: 'client', to: '10.0.1.20:80', proto: 'tcp', sport: 40000 });
  assert.equal(t.json.outcome, 'delivered');
  const logs = (w: { events: { host: string; kind: string; hook?: string; text: string }[] }) =>
    w.events.filter((e) => e.kind === 'log').map((e) => `${e.host} ${e.hook} ${e.text.split(' ')[0]}`);
  assert.deepEqual(logs(t.json as never), ['client OUTPUT c-out:IN=', 'router FORWARD r-fwd:IN=eth0', 'router POSTROUTING r-post:IN=eth0', 'server INPUT s-in:IN=eth0']);
  assert.deepEqual(logs(t.json.reply as never), ['router FORWARD r-fwd:IN=eth1', 'router POSTROUTING r-post:IN=eth1']);
  assert.match(t.text, /r-fwd:IN=eth0 OUT=eth1 .*SRC=10\.0\.0\.10 DST=10\.0\.1\.20/);
});

test('the words of receive, transmit and drop events (made when read) say where the packet went', () => {
  const l = lab();
  const t = l.trace({ from: 'client', to: '10.0.1.20:80', proto: 'tcp', sport: 40000 });
  const words = (w: { events: { host: string; kind: string; text: string }[] }) =>
    w.events.filter((e) => e.kind === 'receive' || e.kind === 'transmit').map((e) => `${e.host} ${e.kind} ${e.text}`);
  assert.deepEqual(words(t.json as never), [
    'client transmit out eth0 to 10.0.0.1 (router eth0)',
    'router receive in eth0',
    'router transmit out eth1 to 10.0.1.20 (server eth0)',
    'server receive in eth0',
  ]);
  l.exec('router', ['iptables', '-I', 'FORWARD', '-p', 'tcp', '--dport', '80', '-j', 'DROP'], '');
  const d = l.trace({ from: 'client', to: '10.0.1.20:80', proto: 'tcp', sport: 40000 });
  assert.equal(d.json.outcome, 'dropped');
  assert.deepEqual(
    (d.json as unknown as { events: { host: string; kind: string; text: string }[] }).events.filter((e) => e.kind === 'drop').map((e) => `${e.host} ${e.text}`),
    ['router dropped in filter FORWARD by rule 1 of filter FORWARD'],
  );
  assert.equal(d.json.reason, 'dropped by rule 1 of filter FORWARD on router');
  // without recording (the connectivity matrix's walks) the reason is the same
  assert.equal(l.connect({ from: 'client', to: '10.0.1.20:80', proto: 'tcp' }).walk.reason, 'dropped by rule 1 of filter FORWARD on router');
});
