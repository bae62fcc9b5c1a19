import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { LabFormatError, LabService, LabStoreError } from '../../main/service/lab-service.ts';
import { defaultDbPath, resolveRef } from '../../main/service/lab-ref.ts';
import { unifiedDiff } from '../../main/service/lab-diff.ts';
import { defaultCluster } from '../../shared/cluster.ts';

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-svc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function service(t: TestContext, dir = tmp(t)): LabService {
  const svc = new LabService({ db: join(dir, 'labs.db') });
  t.after(() => svc.close());
  return svc;
}

/** Two hosts on a LAN, the server listening on 80, a DNAT on the router-less server itself. */
function build(svc: LabService, ref: string): void {
  svc.create(ref);
  svc.addLan(ref, 'lan1');
  svc.addHost(ref, 'client', []);
  svc.addHost(ref, 'server', [{ port: 80, proto: 'tcp' }]);
  svc.addLink(ref, 'client', 'lan1', '10.0.1.2/24');
  svc.addLink(ref, 'server', 'lan1', '10.0.1.3/24');
  const r = svc.exec(ref, 'server', ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'REDIRECT', '--to-ports', '80'], '');
  assert.equal(r.code, 0, r.stderr);
}

test('a LAB argument is a file when it names one, ends in .kpl/.json or has a path; else a stored name', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'plain'), '');
  assert.deepEqual(resolveRef('demo'), { kind: 'store', name: 'demo' });
  assert.equal(resolveRef('demo.kpl').kind, 'file');
  assert.equal(resolveRef('x.JSON').kind, 'file');
  assert.equal(resolveRef(join(dir, 'plain')).kind, 'file');
  assert.equal(resolveRef('sub/demo').kind, 'file');
  assert.equal(defaultDbPath({ KPL_DB: '/x/y.db' }, 'linux', '/home/u'), '/x/y.db');
  assert.equal(defaultDbPath({}, 'linux', '/home/u'), '/home/u/.local/share/kube-packet-lab/labs.db');
  assert.equal(defaultDbPath({ XDG_DATA_HOME: '/d' }, 'linux', '/home/u'), '/d/kube-packet-lab/labs.db');
  assert.equal(defaultDbPath({}, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/Kube Packet Lab/labs.db');
  assert.match(defaultDbPath({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'), /Kube Packet Lab.labs\.db$/);
});

test('constructing the service opens nothing; file labs never open the store', (t) => {
  const dir = tmp(t);
  const svc = new LabService({ db: join(dir, 'labs.db') });
  build(svc, join(dir, 'demo.kpl'));
  assert.equal(svc.trace(join(dir, 'demo.kpl'), { from: 'client', to: '10.0.1.3:8080', proto: 'tcp' }).json.outcome, 'delivered');
  assert.equal(existsSync(join(dir, 'labs.db')), false);
  svc.close();
});

test('stored labs: every change a revision; list, history, undo/redo across restarts, trace', (t) => {
  const dir = tmp(t);
  const svc = service(t, dir);
  build(svc, 'demo');
  const [l] = svc.list();
  assert.equal(l.name, 'demo');
  assert.equal(l.nodes, 2);
  assert.equal(l.hosts, 2);
  assert.equal(l.services, 0);
  assert.ok(l.size > 0);
  assert.match(l.changed, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const h = svc.history('demo');
  assert.deepEqual(h.map((x) => x.command), [
    'new demo', 'lan add lan1', 'host add client', 'host add server --listen 80', 'link add client lan1 --ip 10.0.1.2/24',
    'link add server lan1 --ip 10.0.1.3/24', 'exec server -- iptables -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80',
  ]);
  assert.deepEqual(h.map((x) => x.current), [false, false, false, false, false, false, true]);
  // a command that changes nothing (a listing) is no revision
  svc.exec('demo', 'server', ['iptables', '-S'], '');
  assert.equal(svc.history('demo').length, 7);
  const j = svc.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp' }).json;
  assert.equal(j.outcome, 'delivered');
  assert.equal(svc.history('demo').length, 7, 'a trace without keep is an experiment');
  svc.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp', keep: true });
  assert.equal(svc.history('demo').length, 8);
  assert.match(svc.exec('demo', 'server', ['conntrack', '-L'], '').stdout, /dport=8080/);
  assert.equal(svc.canUndo('demo'), true);
  assert.equal(svc.canRedo('demo'), false);
  assert.equal(svc.undo('demo'), true); // the kept trace
  assert.equal(svc.undo('demo'), true); // the REDIRECT
  assert.equal(svc.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp' }).json.outcome, 'refused');
  svc.close();
  // a new process: the position and the branch survive
  const again = service(t, dir);
  assert.equal(again.history('demo').find((x) => x.current)!.seq, 6);
  assert.equal(again.canRedo('demo'), true);
  assert.equal(again.redo('demo'), true);
  assert.equal(again.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp' }).json.outcome, 'delivered');
  // a change after an undo branches; redo follows the newest child
  again.undo('demo');
  again.addLan('demo', 'lan2');
  assert.equal(again.canRedo('demo'), false);
  assert.deepEqual(again.doc('demo').lans.map((x) => x.name), ['lan1', 'lan2']);
  assert.equal(again.doc('demo').journal.length, 0);
  while (again.undo('demo'));
  assert.equal(again.canUndo('demo'), false);
  assert.equal(again.undo('demo'), false);
  assert.equal(again.doc('demo').hosts.length, 0);
});

test('diff: objects added/changed/removed and per host an iptables-save unified diff; restore and snapshots', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  const d = svc.diff('demo', 5, 7);
  assert.deepEqual(d.objects, [
    { change: 'changed', kind: 'host', name: 'server' },
    { change: 'added', kind: 'command', name: 'server: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80' },
  ]);
  assert.equal(d.hosts.length, 1);
  assert.equal(d.hosts[0].host, 'server');
  assert.equal(d.hosts[0].diff, [
    '--- server (revision 5)', '+++ server (revision 7)', '@@ -0,0 +1,7 @@',
    '+*nat', '+:PREROUTING ACCEPT [0:0]', '+:INPUT ACCEPT [0:0]', '+:OUTPUT ACCEPT [0:0]', '+:POSTROUTING ACCEPT [0:0]',
    '+-A PREROUTING -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 80', '+COMMIT', '',
  ].join('\n'));
  svc.exec('demo', 'server', ['iptables', '-t', 'nat', '-R', 'PREROUTING', '1', '-p', 'tcp', '--dport', '8081', '-j', 'REDIRECT', '--to-ports', '80'], '');
  const d2 = svc.diff('demo', 7, 8);
  assert.match(d2.hosts[0].diff, /^-(-A PREROUTING -p tcp -m tcp --dport 8080 .*)\n\+-A PREROUTING -p tcp -m tcp --dport 8081 /m);
  assert.deepEqual(svc.diff('demo', 8, 8), { from: 8, to: 8, objects: [], hosts: [] });
  svc.snapshot('demo', 'before-lan');
  svc.addLan('demo', 'lan9');
  assert.deepEqual(svc.history('demo').find((x) => x.seq === 8)!.snapshots, ['before-lan']);
  const rev = svc.restoreRevision('demo', 'before-lan');
  assert.equal(rev, 10);
  assert.deepEqual(svc.doc('demo').lans.map((x) => x.name), ['lan1']);
  assert.equal(svc.history('demo').at(-1)!.command, 'restore revision 8');
  assert.throws(() => svc.diff('demo', 1, 99), LabStoreError);
  assert.throws(() => svc.restoreRevision('demo', 'nope'), /no revision or snapshot "nope"/);
});

test('unified diff: hunks with three lines of context, as diff -u prints them', () => {
  const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
  const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9', '10', '11', '12', '13'];
  assert.equal(unifiedDiff(a, b, 'a', 'b'), '--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n');
  assert.equal(unifiedDiff(['x'], [], 'a', 'b'), '--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n');
});

test('rename, duplicate, remove to the trash, restore, empty; names that would be files are refused', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  svc.setLayout('demo', { positions: { client: { x: 1, y: 2 } } });
  svc.duplicate('demo', 'copy');
  assert.deepEqual(svc.layout('copy'), { positions: { client: { x: 1, y: 2 } } });
  assert.equal(svc.history('copy').length, 7);
  svc.rename('copy', 'copy2');
  assert.equal(svc.doc('copy2').name, 'copy2');
  assert.deepEqual(svc.list().map((l) => l.name), ['copy2', 'demo']);
  assert.throws(() => svc.rename('demo', 'copy2'), /already exists/);
  assert.throws(() => svc.create('x.kpl/'), Error);
  assert.throws(() => svc.rename('demo', 'a.kpl'), /names a file/);
  svc.remove('copy2');
  assert.deepEqual(svc.list().map((l) => l.name), ['demo']);
  assert.deepEqual(svc.trash().map((l) => l.name), ['copy2']);
  assert.throws(() => svc.doc('copy2'), /no lab "copy2"|in the trash/);
  svc.restoreFromTrash('copy2');
  assert.equal(svc.doc('copy2').hosts.length, 2);
  svc.remove('copy2');
  assert.equal(svc.emptyTrash(), 1);
  assert.deepEqual(svc.trash(), []);
  assert.throws(() => svc.restoreFromTrash('copy2'), /no lab "copy2" in the trash/);
  assert.throws(() => svc.history('x.kpl'), /works on labs in the store/);
});

test('notes, layout, console history and saved traces', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  svc.setNotes('demo', 'line one\nline two');
  assert.equal(svc.notes('demo'), 'line one\nline two');
  svc.addLan('demo', 'lan2'); // the engine's changes keep the notes
  assert.equal(svc.notes('demo'), 'line one\nline two');
  svc.undo('demo');
  svc.undo('demo');
  assert.equal(svc.notes('demo'), '');
  assert.equal(svc.layout('demo'), undefined);
  svc.setLayout('demo', { positions: { client: { x: 1, y: 2 } }, zoom: 1.5 });
  assert.deepEqual(svc.layout('demo'), { positions: { client: { x: 1, y: 2 } }, zoom: 1.5 });
  assert.throws(() => svc.setLayout('demo', JSON.parse('{"a":{"__proto__":{"polluted":1}}}')), LabFormatError);
  assert.throws(() => svc.setLayout('demo', [1]), LabFormatError);
  svc.appendConsoleHistory('demo', 'client', 'ip route');
  svc.appendConsoleHistory('demo', 'client', 'iptables -S');
  assert.deepEqual(svc.consoleHistory('demo', 'client'), ['ip route', 'iptables -S']);
  assert.deepEqual(svc.consoleHistory('demo', 'server'), []);
  const report = svc.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp', seed: 7 });
  const saved = svc.saveTrace('demo', report);
  assert.equal(saved.name, 'trace 1');
  assert.equal(saved.seed, 7);
  svc.saveTrace('demo', 'named', 3, report.json); // the app's argument order
  const all = svc.traces('demo');
  assert.deepEqual(all.map((x) => [x.name, x.seed]), [['named', 3], ['trace 1', 7]]);
  assert.equal(all[1].report.outcome, 'delivered');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('file labs keep their companions (layout, history, traces, notes) through changes', (t) => {
  const dir = tmp(t);
  const svc = service(t, dir);
  const f = join(dir, 'demo.kpl');
  build(svc, f);
  svc.setLayout(f, { positions: {} });
  svc.appendConsoleHistory(f, 'client', 'ip addr');
  svc.setNotes(f, 'hello');
  svc.saveTrace(f, svc.trace(f, { from: 'client', to: '10.0.1.3:8080', proto: 'tcp' }), 'first');
  svc.addLan(f, 'lan2');
  const doc = JSON.parse(readFileSync(f, 'utf8'));
  assert.equal(doc.version, 2);
  assert.equal(doc.notes, 'hello');
  assert.deepEqual(doc.layout, { positions: {} });
  assert.deepEqual(doc.consoleHistory, [{ host: 'client', lines: ['ip addr'] }]);
  assert.equal(doc.traces[0].name, 'first');
  assert.deepEqual(Object.keys(doc), ['format', 'version', 'name', 'seed', 'lans', 'hosts', 'journal', 'notes', 'layout', 'consoleHistory', 'traces']);
});

test('export, import, export is byte-identical; the import is a new stored lab', (t) => {
  const dir = tmp(t);
  const a = service(t, dir);
  build(a, 'demo');
  a.setNotes('demo', 'Read me.\n');
  a.update('demo', 'walkthrough', (d) => ({ ...d, walkthrough: { title: 'Tour', steps: [{ title: 'Look', text: 'See the rules', host: 'server', command: 'iptables -t nat -S' }] } }));
  a.setLayout('demo', { positions: { client: { x: 10, y: 20 }, '10': { x: 0, y: 0 } }, zoom: 0.5 });
  a.appendConsoleHistory('demo', 'server', 'iptables -t nat -S');
  a.saveTrace('demo', a.trace('demo', { from: 'client', to: '10.0.1.3:8080', proto: 'tcp', keep: true }), 'kept');
  const first = a.exportScenario('demo');
  const b = service(t);
  assert.equal(b.importScenario(first), 'demo');
  const second = b.exportScenario('demo');
  assert.equal(second, first);
  // the imported lab works: the kept connection is there, the trace replays
  assert.match(b.exec('demo', 'server', ['conntrack', '-L'], '').stdout, /dport=8080/);
  // importing again makes a new name; --name picks one; the name is refused when taken
  assert.equal(b.importScenario(first), 'demo-2');
  assert.equal(b.importScenario(first, { name: 'mine' }), 'mine');
  assert.throws(() => b.importScenario(first, { name: 'mine' }), /already exists/);
  assert.equal(b.exportScenario('mine'), first.replace('"name": "demo"', '"name": "mine"'));
  assert.deepEqual(b.history('mine').map((h) => h.command), ['import']);
});

test('version 1 files are migrated on import and load; newer versions are refused', (t) => {
  const dir = tmp(t);
  const svc = service(t, dir);
  const v1 = '{"format":"kube-packet-lab","version":1,"name":"old","seed":3,"lans":[{"name":"l"}],"hosts":[{"name":"a","listen":[],"links":[{"dev":"eth0","lan":"l","ip":"10.0.0.1/24"}]}],"journal":[{"host":"a","argv":["sysctl","-w","net.ipv4.ip_forward=1"]}]}';
  assert.equal(svc.importScenario(v1), 'old');
  const doc = svc.doc('old');
  assert.equal(doc.version, 2);
  assert.equal(doc.seed, 3);
  const f = join(dir, 'old.kpl');
  writeFileSync(f, v1);
  assert.equal(svc.exec(f, 'a', ['sysctl', '-n', 'net.ipv4.ip_forward'], '').stdout, '1\n');
  assert.throws(() => svc.importScenario(v1.replace('"version":1', '"version":3')), /version 3 is newer than this Kube Packet Lab understands \(2\); update the app/);
});

test('a bad file is refused whole, saying where (a JSON pointer) and why; nothing saved is touched', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  const good = svc.exportScenario('demo');
  const before = svc.list();
  const cases: [string, string, RegExp][] = [
    ['not json', '', /invalid JSON/],
    [good.replace('"name": "client"', '"name": "bad name"'), '/hosts/0/name', /must match pattern/],
    [good.replace('"seed": 1,', '"seed": 1, "extra": true,'), '', /unknown field "extra"/],
    [good.replace('"lan": "lan1"', '"lan": "nolan"'), '/hosts/0/links/0/lan', /no LAN named "nolan"/],
    [good.replace('"journal": [', '"layout": {"a": {"__proto__": {"x": 1}}},\n  "journal": ['), '/layout/a/__proto__', /forbidden key "__proto__"/],
    [good.replace('"journal": [', '"layout": {"constructor": 1},\n  "journal": ['), '/layout/constructor', /forbidden key/],
    [good.replace('"argv": [\n        "iptables"', '"argv": [\n        "iptables", "-X", "nope"'), '/journal/0', /journal entry 1 .* failed on load/],
    [good.replace('"journal": [', `"layout": ${'['.repeat(100)}${']'.repeat(100)},\n  "journal": [`), '/layout' + '/0'.repeat(63), /nested deeper than 64/],
    ['{"format":"something-else"}', '/format', /not a Kube Packet Lab file/],
  ];
  for (const [text, pointer, why] of cases) {
    let err: unknown;
    try {
      svc.importScenario(text, { source: 'bad.kpl' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LabFormatError, `${why}: ${String(err)}`);
    assert.match(err.message, why);
    assert.equal(err.pointer, pointer, err.message);
  }
  assert.deepEqual(svc.list(), before);
  assert.equal(svc.exportScenario('demo'), good);
});

test('import-node: a live node dump becomes a host that can be traced', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  const ipset = 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.96.0.10,tcp:80\n';
  const iptables = [
    '# Generated by iptables-save v1.8.7 on Thu Nov 26 10:00:00 2026',
    '*nat', ':PREROUTING ACCEPT [10:600]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -p tcp -m set --match-set KUBE-CLUSTER-IP dst,dst -j DNAT --to-destination 10.0.1.3:80',
    'COMMIT', '# Completed on Thu Nov 26 10:00:00 2026', '',
  ].join('\n');
  assert.deepEqual(svc.importNode('demo', 'node1', { iptables, ipset }), { added: true });
  svc.addLink('demo', 'node1', 'lan1', '10.0.1.9/24');
  svc.exec('demo', 'node1', ['sysctl', '-w', 'net.ipv4.ip_forward=1'], '');
  svc.exec('demo', 'client', ['ip', 'route', 'add', '10.96.0.0/12', 'via', '10.0.1.9'], '');
  const j = svc.trace('demo', { from: 'client', to: '10.96.0.10:80', proto: 'tcp' }).json;
  assert.equal(j.dnat, '10.0.1.3:80');
  assert.equal(svc.history('demo').find((h) => h.command.startsWith('import-node'))!.command, 'import-node node1 --ipset --iptables');
  assert.match(svc.exec('demo', 'node1', ['ipset', 'list', '-name'], '').stdout, /KUBE-CLUSTER-IP/);
  // an existing host takes the dump too; a bad dump changes nothing
  const n = svc.history('demo').length;
  assert.deepEqual(svc.importNode('demo', 'node1', { iptables }), { added: false });
  assert.throws(() => svc.importNode('demo', 'node2', { iptables: '*nat\n-A NOPE -j ACCEPT\nCOMMIT\n' }), /iptables-restore of the node's rules failed/);
  assert.equal(svc.history('demo').length, n + 1);
  assert.equal(svc.doc('demo').hosts.some((h) => h.name === 'node2'), false);
});

test('import-node: the nfacct objects a recent kube-proxy counts into are made with the rules, and count', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  const iptables = [
    '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-FORWARD - [0:0]',
    '-A FORWARD -j KUBE-FORWARD',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP',
    '-A INPUT -p icmp -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j ACCEPT',
    'COMMIT', '',
  ].join('\n');
  assert.deepEqual(svc.importNode('demo', 'node1', { iptables }), { added: true });
  const list = () => svc.exec('demo', 'node1', ['nfacct', 'list'], '').stdout;
  assert.equal(list(), '{ pkts = 00000000000000000000, bytes = 00000000000000000000 } = ct_state_invalid_dropped_pkts;\n{ pkts = 00000000000000000000, bytes = 00000000000000000000 } = localhost_nps_accepted_pkts;\n');
  // an echo request to the node counts in the second (the first only sees INVALID packets)
  svc.addLink('demo', 'node1', 'lan1', '10.0.1.9/24');
  svc.trace('demo', { from: 'client', to: '10.0.1.9', proto: 'icmp', keep: true });
  assert.match(list(), /pkts = 00000000000000000001, bytes = 00000000000000000084 \} = localhost_nps_accepted_pkts;/);
  // the objects (from the journal) and their counts (the runtime) travel with the lab
  const copy = svc.importScenario(svc.exportScenario('demo'), { name: 'demo-copy' });
  assert.equal(svc.exec(copy, 'node1', ['nfacct', 'list'], '').stdout, list());
  // a second import finds them there
  assert.deepEqual(svc.importNode('demo', 'node1', { iptables }), { added: false });
  assert.match(svc.exec('demo', 'node1', ['nfacct', 'del', 'ct_state_invalid_dropped_pkts'], '').stderr, /Device or resource busy/);
});

test('a damaged database is kept aside, the user told, and a new one started', (t) => {
  const dir = tmp(t);
  const db = join(dir, 'labs.db');
  writeFileSync(db, 'this is not a database, just some text that is long enough');
  const notices: string[] = [];
  const svc = new LabService({ db, onNotice: (m) => notices.push(m) });
  t.after(() => svc.close());
  assert.deepEqual(svc.list(), []);
  assert.equal(notices.length, 1);
  assert.match(notices[0], /was damaged .* it was kept as .*labs\.db\.corrupt-/);
  const kept = readdirSync(dir).filter((f) => f.startsWith('labs.db.corrupt-'));
  assert.equal(kept.length, 1);
  assert.equal(readFileSync(join(dir, kept[0]), 'utf8'), 'this is not a database, just some text that is long enough');
  // a foreign SQLite file is refused untouched
  const foreign = join(dir, 'other.db');
  const o = new Database(foreign);
  o.exec('CREATE TABLE t (x)');
  o.close();
  const svc2 = new LabService({ db: foreign });
  assert.throws(() => svc2.list(), /another application.*refusing to use it/);
});

test("an imported file's name is made fit for the store; a folder is not a lab file", (t) => {
  const dir = tmp(t);
  const svc = service(t, dir);
  const text = JSON.stringify({ format: 'kube-packet-lab', version: 2, name: ' team/lab.kpl\u0007 ', seed: 1, lans: [], hosts: [], journal: [] });
  assert.equal(svc.importScenario(text), 'team-lab');
  assert.equal(svc.importScenario(text), 'team-lab-2');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    mkdirSync('team-lab');
    assert.equal(resolveRef('team-lab').kind, 'store');
    assert.equal(svc.doc('team-lab').name, 'team-lab');
  } finally {
    process.chdir(cwd);
  }
});

test('diff of a cluster lab names the Kubernetes objects added, changed and removed', (t) => {
  const svc = service(t);
  svc.create('mk', { cluster: { ...defaultCluster(), nodes: 1 } });
  const svcYaml = (app: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: ${app}}\n  ports: [{port: 80}]\n`;
  assert.equal(svc.apply('mk', svcYaml('web')).code, 0);
  assert.equal(svc.apply('mk', svcYaml('other')).code, 0);
  assert.equal(svc.exec('mk', '@cluster', ['kubectl', 'delete', 'service', 'web'], '').code, 0);
  const kube = (a: number, b: number) => svc.diff('mk', a, b).objects.filter((o) => !['command', 'setting'].includes(o.kind));
  assert.deepEqual(kube(1, 2), [{ change: 'added', kind: 'Service', name: 'default/web' }]);
  assert.deepEqual(kube(2, 3), [{ change: 'changed', kind: 'Service', name: 'default/web' }]);
  assert.deepEqual(kube(3, 4), [{ change: 'removed', kind: 'Service', name: 'default/web' }]);
  assert.equal(svc.list()[0].services, 2); // kubernetes and kube-dns
  assert.equal(svc.list()[0].nodes, 1);
});

test('inspect reuses the engine lab between views and changes', (t) => {
  const svc = service(t);
  build(svc, 'demo');
  const a = svc.inspect('demo', (lab) => lab);
  const b = svc.inspect('demo', (lab) => lab);
  assert.equal(a, b);
  assert.equal(svc.inspect('demo', (lab) => lab.hosts.size), 2);
  svc.addHost('demo', 'third', []);
  assert.equal(svc.inspect('demo', (lab) => lab.hosts.size), 3);
  svc.undo('demo');
  assert.equal(svc.inspect('demo', (lab) => lab.hosts.size), 2);
});
