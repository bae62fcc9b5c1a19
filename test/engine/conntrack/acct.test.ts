// net.netfilter.nf_conntrack_acct as the kernel has it: an entry gets the acct extension when it
// is made and the namespace's sysctl is on at that moment (nf_ct_acct_ext_add), never later; it
// counts every packet and its bytes per direction, and `conntrack -L` shows `packets= bytes=`
// after each direction's tuple only for the entries that have it (also with zero counters, as
// an entry made by hand has). Turning the sysctl off takes nothing away. Undoing a trace puts
// the counters back; a saved lab keeps each entry's; an old lab's table-wide setting still shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab, type LabDoc } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import { ConntrackTable, ctUndo, markConntrack, undoConntrack, type ConntrackJSON } from '../../../main/engine/conntrack/table.ts';
import { formatLine, formatXmlFlow } from '../../../main/engine/conntrack/format.ts';
import { pass, udp } from './helpers.ts';

const A = '10.0.0.10';
const B = '10.0.0.20';

function doc(): LabDoc {
  const d = emptyLab('acct');
  d.lans = [{ name: 'lan' }];
  d.hosts = [
    { name: 'a', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: `${A}/24` }] },
    { name: 'b', listen: [{ port: 53, proto: 'udp' }, { port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'lan', ip: `${B}/24` }] },
  ];
  // a conntrack match: b's namespace tracks connections
  d.journal = [{ host: 'b', argv: ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'] }];
  return d;
}

const list = (l: Lab, ...args: string[]) => l.exec('b', ['conntrack', '-L', ...args], '').stdout;
const sysctl = (l: Lab, v: number) => assert.equal(l.exec('b', ['sysctl', '-w', `net.netfilter.nf_conntrack_acct=${v}`], '').code, 0);
const line = (text: string, what: string) => text.split('\n').find((x) => x.includes(what)) ?? assert.fail(`no line with ${what} in:\n${text}`);

test('the table: an entry made while acct is off has no counters, even once it is on; one made after has', () => {
  const t = new ConntrackTable();
  const before = pass(t, udp(A, 1000, B, 53), 0).entry!;
  t.settings.acct = true;
  const after = pass(t, udp(A, 1001, B, 53), 0).entry!;
  assert.equal(before.acct, false);
  assert.equal(after.acct, true);
  // both count (the kernel only keeps counters in the extension; they are never shown without it)
  pass(t, udp(B, 53, A, 1000), 1);
  pass(t, udp(B, 53, A, 1001), 1);
  pass(t, udp(A, 1001, B, 53), 2);
  assert.doesNotMatch(formatLine(t.get(before.id)!, 2), /packets=/);
  assert.equal(
    formatLine(t.get(after.id)!, 2),
    `udp      17 30 src=${A} dst=${B} sport=1001 dport=53 packets=2 bytes=80 src=${B} dst=${A} sport=53 dport=1001 packets=1 bytes=40 mark=0 use=1`,
  );
  assert.doesNotMatch(formatXmlFlow(t.get(before.id)!, 2), /<counters>/);
  assert.match(formatXmlFlow(t.get(after.id)!, 2), /<layer4 protonum="17" protoname="udp"><sport>1001<\/sport><dport>53<\/dport><\/layer4><counters><packets>2<\/packets><bytes>80<\/bytes><\/counters><\/meta><meta direction="reply">.*<counters><packets>1<\/packets><bytes>40<\/bytes><\/counters><\/meta><meta direction="independent">/);
  // turned off: what the entry has, it keeps
  t.settings.acct = false;
  assert.match(formatLine(t.get(after.id)!, 2), /packets=2 bytes=80 .*packets=1 bytes=40/);
  assert.equal(pass(t, udp(A, 1002, B, 53), 2).entry!.acct, false);
});

test('the console: `sysctl -w net.netfilter.nf_conntrack_acct=1` gives counters to the connections made after it', () => {
  const l = Lab.fromDoc(doc());
  l.trace({ from: 'a', to: B, proto: 'icmp', sport: 7, keep: true });
  assert.doesNotMatch(list(l), /packets=/);
  sysctl(l, 1);
  assert.equal(l.exec('b', ['sysctl', 'net.netfilter.nf_conntrack_acct'], '').stdout, 'net.netfilter.nf_conntrack_acct = 1\n');
  // 0 or 1 only (proc_dou8vec_minmax), as the kernel says
  const bad = l.exec('b', ['sysctl', '-w', 'net.netfilter.nf_conntrack_acct=2'], '');
  assert.deepEqual([bad.code, bad.stderr], [1, 'sysctl: setting key "net.netfilter.nf_conntrack_acct": Invalid argument\n']);
  assert.equal(l.exec('b', ['sysctl', 'net.netfilter.nf_conntrack_acct'], '').stdout, 'net.netfilter.nf_conntrack_acct = 1\n');
  assert.doesNotMatch(list(l), /packets=/, 'the entry made before keeps showing none');
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, keep: true });
  l.trace({ from: 'a', to: `${B}:80`, proto: 'tcp', sport: 40002, keep: true });
  const plain = list(l);
  assert.equal(line(plain, 'icmp'), `icmp     1 30 src=${A} dst=${B} type=8 code=0 id=7 src=${B} dst=${A} type=0 code=0 id=7 mark=0 use=1`);
  // per direction: the request and the answer (UDP 32 bytes each; TCP SYN 60 + ACK 52, SYN,ACK 60)
  assert.equal(line(plain, 'udp'), `udp      17 30 src=${A} dst=${B} sport=40001 dport=53 packets=1 bytes=32 src=${B} dst=${A} sport=53 dport=40001 packets=1 bytes=32 mark=0 use=1`);
  assert.equal(line(plain, 'tcp'), `tcp      6 432000 ESTABLISHED src=${A} dst=${B} sport=40002 dport=80 packets=2 bytes=112 src=${B} dst=${A} sport=80 dport=40002 packets=1 bytes=60 [ASSURED] mark=0 use=1`);
  // the other forms: -o extended and -o id put theirs around the same line; xml per direction; save none
  assert.equal(line(list(l, '-o', 'extended'), 'udp'), `ipv4     2 ${line(plain, 'udp')}`);
  assert.match(line(list(l, '-o', 'id'), 'udp'), new RegExp(`^${line(plain, 'udp')} id=\\d+$`));
  assert.match(line(list(l, '-o', 'extended,id'), 'udp'), new RegExp(`^ipv4     2 ${line(plain, 'udp')} id=\\d+$`));
  const xml = list(l, '-o', 'xml');
  assert.equal(xml.match(/<counters>/g)?.length, 4, xml);
  assert.doesNotMatch(line(xml, 'protoname="icmp"'), /<counters>/);
  assert.doesNotMatch(list(l, '-o', 'save'), /packets|bytes/);
  const got = l.exec('b', ['conntrack', '-G', '-p', 'udp', '-s', A, '-d', B, '--sport', '40001', '--dport', '53'], '').stdout;
  assert.equal(got, `${line(plain, 'udp').replace('use=1', 'use=2')}\n`);
  // an entry made by hand while on: counters, at zero
  assert.equal(l.exec('b', ['conntrack', '-I', '-p', 'udp', '-s', A, '-d', B, '--sport', '1000', '--dport', '2000', '-t', '100'], '').code, 0);
  assert.equal(
    line(list(l), 'sport=1000'),
    `udp      17 100 src=${A} dst=${B} sport=1000 dport=2000 packets=0 bytes=0 [UNREPLIED] src=${B} dst=${A} sport=2000 dport=1000 packets=0 bytes=0 mark=0 use=1`,
  );
  // -z lists the counters, then zeroes them
  assert.match(line(list(l, '-z'), 'udp      17 30'), /packets=1 bytes=32 /);
  assert.match(line(list(l), 'udp      17 30'), /packets=0 bytes=0 .*packets=0 bytes=0 /);
  // off again: the entries made while on keep theirs and go on counting; new ones get none
  sysctl(l, 0);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, keep: true });
  assert.match(line(list(l), 'sport=40001'), /packets=1 bytes=32 .*packets=1 bytes=32 /);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40003, keep: true });
  assert.doesNotMatch(line(list(l), 'sport=40003'), /packets=/);
});

test('a trace that is not kept puts the counters back (and its record shows them as the packets left them)', () => {
  const l = Lab.fromDoc(doc());
  sysctl(l, 1);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, keep: true });
  const before = list(l);
  assert.match(line(before, 'udp'), /packets=1 bytes=32 .*packets=1 bytes=32 /);
  const t = l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001 });
  const shown = [t.json, t.json.reply].flatMap((w) => w?.events ?? []).map((e) => e.entry).filter((e): e is string => e !== undefined && e.startsWith('udp'));
  assert.ok(shown.some((e) => / packets=2 bytes=64 /.test(e)), shown.join('\n'));
  assert.equal(list(l), before);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, later: 3 });
  assert.equal(list(l), before);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, keep: true });
  assert.match(line(list(l), 'udp'), /packets=2 bytes=64 .*packets=2 bytes=64 /);
});

test('the undo journal puts back the counters of an entry a packet counted', () => {
  const t = new ConntrackTable({ acct: true });
  const e = pass(t, udp(A, 1000, B, 53), 0).entry!;
  const before = JSON.stringify(t.toJSON());
  ctUndo.depth++;
  try {
    const mark = markConntrack();
    pass(t, udp(B, 53, A, 1000), 1);
    pass(t, udp(A, 1000, B, 53), 1);
    assert.deepEqual(t.get(e.id)!.counters, { ORIGINAL: { packets: 2, bytes: 80 }, REPLY: { packets: 1, bytes: 40 } });
    undoConntrack(mark);
    assert.deepEqual(t.get(e.id)!.counters, { ORIGINAL: { packets: 1, bytes: 40 }, REPLY: { packets: 0, bytes: 0 } });
    assert.equal(JSON.stringify(t.toJSON()), before);
  } finally {
    ctUndo.depth--;
    ctUndo.log.length = 0;
    markConntrack();
  }
});

test('a saved lab keeps which entries have counters; an old one without the field keeps its table-wide setting', () => {
  const l = Lab.fromDoc(doc());
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40001, keep: true });
  sysctl(l, 1);
  l.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40002, keep: true });
  const saved = l.toDoc();
  const again = Lab.fromDoc(JSON.parse(JSON.stringify(saved)) as LabDoc);
  assert.equal(list(again), list(l));
  assert.doesNotMatch(line(list(again), 'sport=40001'), /packets=/);
  assert.match(line(list(again), 'sport=40002'), /packets=1 bytes=32 /);
  // the sysctl came back with the journal: a new connection gets counters
  again.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40003, keep: true });
  assert.match(line(list(again), 'sport=40003'), /packets=1 bytes=32 /);

  // Labs saved before entries had `acct`: none of them shows counters, unless the table's
  // setting was on, when all of them do, as they did.
  const old = (acct: boolean): LabDoc => {
    const d = JSON.parse(JSON.stringify(saved)) as LabDoc & { runtime: { hosts: Record<string, { ct: ConntrackJSON }> } };
    const ct = d.runtime.hosts.b.ct;
    ct.settings.acct = acct;
    for (const e of ct.entries) delete e.acct;
    d.journal = d.journal.filter((j) => j.argv[0] !== 'sysctl');
    return d;
  };
  const off = list(Lab.fromDoc(old(false)));
  assert.equal(off.split('\n').filter(Boolean).length, 2);
  assert.doesNotMatch(off, /packets=/);
  const on = Lab.fromDoc(old(true));
  assert.equal(list(on).match(/packets=1 bytes=32 /g)?.length, 4);
  // (the sysctl is off in that lab: what it makes next has none)
  on.trace({ from: 'a', to: `${B}:53`, proto: 'udp', sport: 40004, keep: true });
  assert.doesNotMatch(line(list(on), 'sport=40004'), /packets=/);
});
