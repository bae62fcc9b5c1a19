import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runKpl } from '../../main/cli/kpl.ts';
import { humanDuration, table } from '../../main/cli/store-commands.ts';

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-store-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'labs.db');
  const kpl = (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = runKpl(['--db', db, ...args], () => stdin, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  };
  const ok = (args: string[], stdin = '') => {
    const r = kpl(args, stdin);
    assert.equal(r.code, 0, `kpl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { dir, db, kpl, ok };
}

function demo(ok: (a: string[]) => string, name = 'demo'): void {
  ok(['new', name]);
  ok(['lan', 'add', name, 'lan1']);
  ok(['host', 'add', name, 'client']);
  ok(['host', 'add', name, 'server', '--listen', '80,53/udp']);
  ok(['link', 'add', name, 'client', 'lan1', '--ip', '10.0.1.2/24']);
  ok(['link', 'add', name, 'server', 'lan1', '--ip', '10.0.1.3/24']);
}

test('kubectl age format and table layout', () => {
  assert.equal(humanDuration(0), '0s');
  assert.equal(humanDuration(119_000), '119s');
  assert.equal(humanDuration(150_000), '2m30s');
  assert.equal(humanDuration(600_000), '10m');
  assert.equal(humanDuration(3 * 3600_000 + 5 * 60_000), '3h5m');
  assert.equal(humanDuration(30 * 3600_000), '30h');
  assert.equal(humanDuration(3 * 86400_000 + 4 * 3600_000), '3d4h');
  assert.equal(humanDuration(40 * 86400_000), '40d');
  assert.equal(humanDuration(3 * 365 * 86400_000 + 86400_000), '3y1d');
  assert.equal(humanDuration(-5000), '<invalid>');
  assert.equal(table([['NAME', 'NODES'], ['a', '1'], ['longer-name', '12']]), 'NAME          NODES\na             1\nlonger-name   12\n');
});

test('kpl labs, open, history, undo, redo on stored labs (--db)', (t) => {
  const { kpl, ok } = setup(t);
  assert.equal(kpl(['labs']).stderr, 'No labs found.\n');
  demo(ok);
  ok(['exec', 'demo', 'server', '--', 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT']);
  assert.match(ok(['labs']), /^NAME {3}NODES {3}SERVICES {3}CHANGED\ndemo {3}2 {7}0 {10}\d+s\n$/);
  const open = ok(['open', 'demo']);
  assert.match(open, /^Name: {9}demo\nLast change: {2}revision 7 of 7, \d+s ago \(\d{4}-.*Z\): exec server -- iptables -A INPUT -p tcp --dport 80 -j ACCEPT\nHosts: {8}2\n/);
  assert.match(open, /\n {2}server {3}eth0 10\.0\.1\.3\/24 \(lan1\); listens 80\/tcp, 53\/udp\n/);
  assert.match(open, /\nLANs: {9}1\n {2}lan1 {5}client, server\n/);
  assert.match(open, /\nCommands: {5}1 \(server 1\)\n/);
  const hist = ok(['history', 'demo']);
  assert.match(hist, /^REV {3}PARENT {3}CHANGED {3}COMMAND\n1 {5}<none> {3}\d+s +new demo\n/);
  assert.match(hist, /\n7\* +6 +\d+s +exec server -- iptables -A INPUT -p tcp --dport 80 -j ACCEPT\n$/);
  assert.equal(ok(['undo', 'demo']), 'undid revision 7 (exec server -- iptables -A INPUT -p tcp --dport 80 -j ACCEPT); now at revision 6\n');
  assert.equal(ok(['exec', 'demo', 'server', '--', 'iptables', '-S', 'INPUT']), '-P INPUT ACCEPT\n');
  assert.equal(ok(['redo', 'demo']), 'redid revision 7 (exec server -- iptables -A INPUT -p tcp --dport 80 -j ACCEPT)\n');
  assert.equal(kpl(['redo', 'demo']).code, 1);
  for (let i = 0; i < 6; i++) ok(['undo', 'demo']);
  const r = kpl(['undo', 'demo']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing to undo/);
  assert.equal(kpl(['open', 'nope']).code, 1);
  assert.match(kpl(['open', 'nope']).stderr, /^kpl: no lab "nope"\n$/);
});

test('kpl diff shows objects and iptables-save unified diffs per host; snapshot and restore', (t) => {
  const { kpl, ok } = setup(t);
  demo(ok);
  ok(['exec', 'demo', 'server', '--', 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT']);
  assert.equal(ok(['snapshot', 'demo', 'good']), 'snapshot good = revision 7\n');
  ok(['exec', 'demo', 'server', '--', 'iptables', '-I', 'INPUT', '-p', 'udp', '-j', 'DROP']);
  ok(['lan', 'add', 'demo', 'lan2']);
  assert.equal(ok(['diff', 'demo', 'good', '9']), [
    'Objects (revision 7 -> 9):',
    '  + lan lan2',
    '  + command server: iptables -I INPUT -p udp -j DROP',
    '',
    'Rules (iptables-save):',
    '--- server (revision 7)',
    '+++ server (revision 9)',
    '@@ -2,5 +2,6 @@',
    ' :INPUT ACCEPT [0:0]',
    ' :FORWARD ACCEPT [0:0]',
    ' :OUTPUT ACCEPT [0:0]',
    '+-A INPUT -p udp -j DROP',
    ' -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
    ' COMMIT',
    '',
  ].join('\n'));
  assert.equal(ok(['diff', 'demo', '9', '9']), 'no changes between revisions 9 and 9\n');
  assert.equal(JSON.parse(ok(['diff', 'demo', '1', '2', '--json'])).objects[0].name, 'lan1');
  assert.equal(ok(['restore', 'demo', 'good']), 'restored good as revision 10\n');
  assert.equal(ok(['exec', 'demo', 'server', '--', 'iptables', '-S', 'INPUT']), '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n');
  assert.equal(kpl(['diff', 'demo', '1']).code, 2);
});

test('kpl export and import round-trip; bad files are refused whole; --k8s needs a cluster', (t) => {
  const { dir, kpl, ok } = setup(t);
  demo(ok);
  const f = join(dir, 'demo.kpl');
  ok(['export', 'demo', f]);
  const text = readFileSync(f, 'utf8');
  assert.equal(ok(['export', 'demo', '-']), text);
  assert.equal(ok(['import', f]), 'demo-2\n');
  assert.equal(ok(['import', '-', '--name', 'piped'], text), 'piped\n');
  assert.equal(ok(['export', 'demo-2', '-']), text.replace('"name": "demo"', '"name": "demo-2"'));
  // the exported file is itself a lab file the other commands take
  assert.match(ok(['trace', f, '--from', 'client', '--to', '10.0.1.3:80']), /DELIVERED/);
  const bad = join(dir, 'bad.kpl');
  writeFileSync(bad, text.replace('"ip": "10.0.1.2/24"', '"ip": "10.0.1.2/99"'));
  const r = kpl(['import', bad]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `kpl: ${bad}: at /hosts/0/links/0/ip: must match pattern "^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$"\n`);
  assert.equal(r.stdout, '');
  assert.match(ok(['labs']), /^NAME +NODES +SERVICES +CHANGED\ndemo +2 +0 +\S+\ndemo-2 +2 +0 +\S+\npiped +2 +0 +\S+\n$/);
  const k = kpl(['export', 'demo', '--k8s']);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /not available for labs without a cluster/);
  assert.equal(kpl(['import', join(dir, 'missing.kpl')]).code, 2);
});

test('kpl rename, cp, rm, trash (--empty, --restore)', (t) => {
  const { kpl, ok } = setup(t);
  demo(ok);
  ok(['cp', 'demo', 'copy']);
  ok(['rename', 'copy', 'other']);
  assert.match(ok(['labs']), /\nother /);
  ok(['rm', 'other']);
  assert.match(ok(['trash']), /^NAME +NODES +SERVICES +TRASHED\nother +2 +0 +\S+\n$/);
  ok(['trash', '--restore', 'other', '--name', 'back']);
  assert.match(ok(['labs']), /\nback /);
  assert.equal(kpl(['trash']).stderr, 'The trash is empty.\n');
  ok(['rm', 'back', 'demo']);
  assert.equal(ok(['trash', '--empty']), '2 labs deleted\n');
  assert.equal(kpl(['labs']).stderr, 'No labs found.\n');
  assert.match(kpl(['rename', 'nope', 'x']).stderr, /no lab "nope"/);
  assert.match(kpl(['rename', 'a.kpl', 'x']).stderr, /works on labs in the store/);
});

test('kpl import-node: a node dump from files, then a trace through it', (t) => {
  const { dir, ok } = setup(t);
  demo(ok);
  const ipt = join(dir, 'node.iptables');
  const ips = join(dir, 'node.ipset');
  writeFileSync(ips, 'create SVC hash:ip,port family inet hashsize 1024 maxelem 65536\nadd SVC 10.96.0.1,tcp:443\n');
  writeFileSync(ipt, '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A OUTPUT -p tcp -m set --match-set SVC dst,dst -j DNAT --to-destination 10.0.1.3:80\nCOMMIT\n');
  assert.equal(ok(['import-node', 'demo', 'node1', '--iptables', ipt, '--ipset', ips]), 'node1: host added, rules and sets imported\n');
  ok(['link', 'add', 'demo', 'node1', 'lan1', '--ip', '10.0.1.9/24']);
  ok(['exec', 'demo', 'node1', '--', 'ip', 'route', 'add', 'default', 'via', '10.0.1.3']);
  const j = JSON.parse(ok(['trace', 'demo', '--from', 'node1', '--to', '10.96.0.1:443', '--json']));
  assert.equal(j.outcome, 'delivered');
  assert.equal(j.dnat, '10.0.1.3:80');
});

test('KPL_DB picks the database; a damaged one is set aside with a warning on stderr', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-store-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'env.db');
  writeFileSync(db, 'garbage garbage garbage garbage garbage garbage garbage garbage');
  const saved = process.env.KPL_DB;
  process.env.KPL_DB = db;
  try {
    let stderr = '';
    let stdout = '';
    const code = runKpl(['labs'], () => '', { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    assert.equal(code, 0);
    assert.match(stderr, /^kpl: warning: the lab database .*env\.db was damaged \(not an SQLite database \(bad header\)\); it was kept as .*env\.db\.corrupt-\S+ and a new, empty one was started\nNo labs found\.\n$/);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('env.db.corrupt-')).length, 1);
    assert.equal(runKpl(['new', 'x'], () => '', { stdout: () => {}, stderr: () => {} }), 0);
    runKpl(['labs'], () => '', { stdout: (s) => (stdout += s), stderr: () => {} });
    assert.match(stdout, /^NAME {3}NODES {3}SERVICES {3}CHANGED\nx {6}0 {7}0 {10}\d+s\n$/);
  } finally {
    if (saved === undefined) delete process.env.KPL_DB;
    else process.env.KPL_DB = saved;
  }
  let err = '';
  assert.equal(runKpl(['--db'], () => '', { stdout: () => {}, stderr: (s) => (err += s) }), 2);
  assert.match(err, /--db needs a value/);
});
