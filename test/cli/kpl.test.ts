import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runKpl } from '../../main/cli/kpl.ts';

function kpl(args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = runKpl(args, () => stdin, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

function demo(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'kpl-cli-')), 'demo.kpl');
  const steps = [
    ['new', f],
    ['lan', 'add', f, 'lan1'],
    ['lan', 'add', f, 'lan2'],
    ['host', 'add', f, 'client'],
    ['host', 'add', f, 'router'],
    ['host', 'add', f, 'server', '--listen', '80,53/udp'],
    ['link', 'add', f, 'client', 'lan1', '--ip', '10.0.1.2/24'],
    ['link', 'add', f, 'router', 'lan1', '--ip', '10.0.1.1/24'],
    ['link', 'add', f, 'router', 'lan2', '--ip', '10.0.2.1/24'],
    ['link', 'add', f, 'server', 'lan2', '--ip', '10.0.2.2/24'],
    ['exec', f, 'client', '--', 'ip', 'route', 'add', 'default', 'via', '10.0.1.1'],
    ['exec', f, 'server', '--', 'ip', 'route', 'add', 'default', 'via', '10.0.2.1'],
    ['exec', f, 'router', '--', 'sysctl', '-w', 'net.ipv4.ip_forward=1'],
  ];
  for (const s of steps) {
    const r = kpl(s);
    assert.equal(r.code, 0, `${s.join(' ')}: ${r.stderr}`);
  }
  return f;
}

test('build a routed lab and trace through a DNAT, as text and as JSON', () => {
  const f = demo();
  const r = kpl(['exec', f, 'router', '--', 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', '10.0.1.1/32', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '10.0.2.2:80']);
  assert.equal(r.code, 0, r.stderr);
  const text = kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:8080']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /DELIVERED at server 10\.0\.2\.2:80/);
  const j = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:8080', '--json']).stdout);
  assert.equal(j.outcome, 'delivered');
  assert.deepEqual(j.delivered, { host: 'server', ip: '10.0.2.2', port: 80 });
  assert.equal(j.dnat, '10.0.2.2:80');
  assert.equal(j.snat, null);
  assert.equal(j.masquerade, false);
  assert.equal(j.reply.outcome, 'delivered');
  assert.deepEqual(j.reply.delivered, { host: 'client', ip: '10.0.1.2', port: 40000 });
  const dnatStep = j.steps.find((s: { verdict: string }) => s.verdict === 'DNAT');
  assert.deepEqual(dnatStep, {
    host: 'router', hook: 'PREROUTING', table: 'nat', chain: 'PREROUTING', rule: 1,
    rule_spec: '-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80', matched: true, verdict: 'DNAT',
  });
  // iptables-nft made only nat PREROUTING: POSTROUTING is not hooked, so no step there
  assert.equal(j.steps.some((s: { table: string; chain: string }) => s.table === 'nat' && s.chain === 'POSTROUTING'), false);
  // a policy set with -P makes the chain exist: its policy is a step of its own
  kpl(['exec', f, 'router', '--', 'iptables', '-P', 'FORWARD', 'ACCEPT']);
  const j2 = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:8080', '--json']).stdout);
  const policy = j2.steps.find((s: { table: string; chain: string }) => s.table === 'filter' && s.chain === 'FORWARD');
  assert.deepEqual(policy, { host: 'router', hook: 'FORWARD', table: 'filter', chain: 'FORWARD', rule: null, rule_spec: null, matched: true, verdict: 'ACCEPT' });
});

test('a trace is an experiment unless --keep', () => {
  const f = demo();
  kpl(['exec', f, 'router', '--', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth1', '-j', 'MASQUERADE']);
  const before = readFileSync(f, 'utf8');
  const j = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.2.2:80', '--json']).stdout);
  assert.equal(j.masquerade, true);
  assert.equal(j.snat, '10.0.2.1:40000');
  assert.equal(readFileSync(f, 'utf8'), before);
  assert.equal(kpl(['exec', f, 'router', '--', 'conntrack', '-L']).stdout, '');
  kpl(['trace', f, '--from', 'client', '--to', '10.0.2.2:80', '--keep']);
  const ct = kpl(['exec', f, 'router', '--', 'conntrack', '-L']);
  assert.match(ct.stdout, /^tcp +6 \d+ ESTABLISHED src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=40000 dport=80 src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=80 dport=40000 \[ASSURED\] mark=0 use=1\n$/);
  const save = kpl(['exec', f, 'router', '--', 'iptables-save', '-c', '-t', 'nat']).stdout;
  assert.match(save, /\[1:60\] -A POSTROUTING -o eth1 -j MASQUERADE/);
});

test('exec passes stdin, prints the tool output and exits with its status', () => {
  const f = demo();
  const r = kpl(['exec', f, 'router', '--', 'iptables-restore'], '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -p tcp --dport 80 -j ACCEPT\nCOMMIT\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(kpl(['exec', f, 'router', '--', 'iptables', '-S', 'FORWARD']).stdout, /^-P FORWARD DROP\n-A FORWARD -p tcp -m tcp --dport 80 -j ACCEPT\n$/);
  const bad = kpl(['exec', f, 'router', '--', 'iptables', '-A', 'NOPE', '-j', 'ACCEPT']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /iptables: No chain\/target\/match by that name\./);
  const unknown = kpl(['exec', f, 'router', '--', 'frobnicate']);
  assert.equal(unknown.code, 127);
  assert.equal(unknown.stderr, 'bash: frobnicate: command not found\n');
  const udp = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.2.2:53', '--proto', 'udp', '--json']).stdout);
  assert.equal(udp.outcome, 'dropped');
  assert.equal(udp.steps.at(-1).verdict, 'DROP');
  assert.equal(udp.steps.at(-1).rule, null);
});

test('all outcomes of a statistic split, with probabilities', () => {
  const f = demo();
  kpl(['host', 'add', f, 'server2', '--listen', '80']);
  kpl(['link', 'add', f, 'server2', 'lan2', '--ip', '10.0.2.3/24']);
  kpl(['exec', f, 'server2', '--', 'ip', 'route', 'add', 'default', 'via', '10.0.2.1']);
  const rules = [
    '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':SVC - [0:0]',
    '-A PREROUTING -d 10.0.1.1/32 -p tcp --dport 80 -j SVC',
    '-A SVC -p tcp -m statistic --mode random --probability 0.25 -j DNAT --to-destination 10.0.2.2:80',
    '-A SVC -p tcp -j DNAT --to-destination 10.0.2.3:80', 'COMMIT', '',
  ].join('\n');
  assert.equal(kpl(['exec', f, 'router', '--', 'iptables-restore'], rules).code, 0);
  const j = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:80', '--all-outcomes', '--json']).stdout);
  const byServer = Object.fromEntries(j.outcomes.map((o: { delivered: { host: string }; probability: number }) => [o.delivered.host, o.probability]));
  assert.deepEqual(byServer, { server: 0.25, server2: 0.75 });
  assert.ok(['server', 'server2'].includes(j.delivered.host));
  // seeds choose reproducibly
  const a = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:80', '--seed', '7', '--json']).stdout);
  const b = JSON.parse(kpl(['trace', f, '--from', 'client', '--to', '10.0.1.1:80', '--seed', '7', '--json']).stdout);
  assert.equal(a.delivered.host, b.delivered.host);
});

test('IP@HOST injects a foreign packet on the first interface; the reply leaves toward it', () => {
  const f = demo();
  const j = JSON.parse(kpl(['trace', f, '--from', '203.0.113.9@router', '--to', '10.0.2.2:80', '--json']).stdout);
  assert.equal(j.outcome, 'delivered');
  assert.equal(j.packet.src, '203.0.113.9');
  assert.equal(j.events[0].text, 'arrives on eth0');
  // the server's reply goes back to the router, which has no route back to 203.0.113.9
  assert.equal(j.reply.outcome, 'unroutable');
});

test('bad input: usage errors, foreign or malformed files are refused and left untouched', () => {
  assert.equal(kpl(['trace']).code, 2);
  assert.equal(kpl(['frob']).code, 2);
  const dir = mkdtempSync(join(tmpdir(), 'kpl-cli-'));
  const foreign = join(dir, 'x.json');
  writeFileSync(foreign, '{"hello": 1}');
  const r = kpl(['host', 'add', foreign, 'a']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a Kube Packet Lab file/);
  assert.equal(readFileSync(foreign, 'utf8'), '{"hello": 1}');
  const broken = join(dir, 'y.kpl');
  writeFileSync(broken, '{"format":"kube-packet-lab","version":1,"name":"y","seed":1,"lans":[],"hosts":[{"name":"a","listen":[],"links":[{"dev":"eth0","lan":"nolan","ip":"10.0.0.1/24"}]}],"journal":[]}');
  const r2 = kpl(['exec', broken, 'a', '--', 'ip', 'addr']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /hosts\[0\]\.links\[0\]\.lan: no LAN named "nolan"/);
  const newer = join(dir, 'z.kpl');
  writeFileSync(newer, '{"format":"kube-packet-lab","version":99,"name":"z","seed":1,"lans":[],"hosts":[],"journal":[]}');
  assert.match(kpl(['lan', 'add', newer, 'l']).stderr, /version 99 is newer/);
  const f = demo();
  assert.match(kpl(['new', f]).stderr, /already exists/);
  assert.match(kpl(['link', 'add', f, 'client', 'lan1', '--ip', '10.0.1.300/24']).stderr, /invalid address/);
  assert.match(kpl(['trace', f, '--from', 'client', '--to', '10.0.2.2']).stderr, /needs a port/);
  assert.match(kpl(['trace', f, '--from', 'nobody', '--to', '10.0.2.2:80']).stderr, /no host named "nobody"/);
});

test('the kpl binary runs and reads stdin', () => {
  const f = demo();
  const bin = join(process.cwd(), 'bin', 'kpl.mjs');
  const r = spawnSync(process.execPath, [bin, 'exec', f, 'router', '--', 'ipset', 'restore'], { input: 'create s1 hash:ip\nadd s1 10.0.0.1\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const l = spawnSync(process.execPath, [bin, 'exec', f, 'router', '--', 'ipset', 'list', '-name'], { encoding: 'utf8', input: '' });
  assert.equal(l.stdout, 's1\n');
});

test('sleep advances the lab clock: conntrack entries age and expire', () => {
  const f = demo();
  kpl(['exec', f, 'router', '--', 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth1', '-j', 'MASQUERADE']);
  kpl(['trace', f, '--from', 'client', '--to', '10.0.2.2:53', '--proto', 'udp', '--keep']);
  const before = kpl(['exec', f, 'router', '--', 'conntrack', '-L']).stdout;
  assert.match(before, /^udp +17 30 src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=40000 dport=53 src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=53 dport=40000 mark=0 use=1\n$/);
  assert.equal(kpl(['exec', f, 'router', '--', 'sleep', '10']).code, 0);
  assert.match(kpl(['exec', f, 'router', '--', 'conntrack', '-L']).stdout, /^udp +17 20 /);
  kpl(['exec', f, 'client', '--', 'sleep', '21']);
  assert.equal(kpl(['exec', f, 'router', '--', 'conntrack', '-L']).stdout, '');
  assert.match(kpl(['exec', f, 'router', '--', 'sleep', 'x']).stderr, /sleep: invalid time interval/);
});

test('veth add cables two hosts directly; ip link shows the peer index', () => {
  const f = demo();
  kpl(['host', 'add', f, 'pod', '--listen', '80']);
  const r = kpl(['veth', 'add', f, 'pod', 'router', '--ip', '10.0.9.2/24', '--peer-dev', 'cali0', '--peer-ip', '10.0.9.1/24']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'eth0 cali0\n');
  const link = kpl(['exec', f, 'pod', '--', 'ip', '-br', 'link']).stdout;
  assert.match(link, /^eth0@if\d+ +UP /m);
  const j = JSON.parse(kpl(['trace', f, '--from', 'router', '--to', '10.0.9.2:80', '--json']).stdout);
  assert.equal(j.outcome, 'delivered');
  assert.ok(j.events.some((e: { text: string }) => e.text === 'out cali0 to 10.0.9.2 (pod eth0)'));
  assert.match(kpl(['veth', 'add', f, 'pod', 'pod']).stderr, /two different hosts/);
  const doc = JSON.parse(readFileSync(f, 'utf8'));
  assert.deepEqual(doc.veths, [{ a: { host: 'pod', dev: 'eth0', ip: '10.0.9.2/24' }, b: { host: 'router', dev: 'cali0', ip: '10.0.9.1/24' } }]);
});
