// `conntrack` console command: outputs and messages as conntrack-tools 1.4.7 prints them
// (expected texts taken from the real tool run in network namespaces on Linux 6.18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConntrackTable } from '../../../main/engine/conntrack/table.ts';
import { conntrack } from '../../../main/engine/shell/conntrack.ts';
import { ACK, SYN, dnat, icmp, pass, tcp, udp } from './helpers.ts';

const P = 'conntrack v1.4.7 (conntrack-tools): ';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.\n";

function lab(): ConntrackTable {
  const t = new ConntrackTable();
  pass(t, tcp('10.0.0.1', 41000, '10.0.0.2', 82, SYN), 0);
  pass(t, tcp('10.0.0.1', 41001, '10.0.0.2', 8080, SYN), 0, { dnat: dnat('10.0.0.20', 80) });
  pass(t, tcp('10.0.0.20', 80, '10.0.0.1', 41001, SYN | ACK), 0);
  pass(t, tcp('10.0.0.1', 41001, '10.0.0.2', 8080, ACK), 0);
  pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 0);
  pass(t, udp('10.0.0.2', 53, '10.0.0.1', 40001), 0);
  pass(t, icmp('10.0.0.1', '10.0.0.2', 8, 0, 777), 0);
  pass(t, icmp('10.0.0.2', '10.0.0.1', 0, 0, 777), 0);
  return t;
}

const run = (t: ConntrackTable, line: string, now = 1) => conntrack(['conntrack', ...line.split(' ').filter(Boolean)], '', t, now);

const SYN_LINE = 'tcp      6 119 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=41000 dport=82 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=82 dport=41000 mark=0 use=1';
const EST_LINE = 'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=41001 dport=8080 src=10.0.0.20 dst=10.0.0.1 sport=80 dport=41001 [ASSURED] mark=0 use=1';
const UDP_LINE = 'udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=40001 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=40001 mark=0 use=1';
const ICMP_LINE = 'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=777 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=777 mark=0 use=1';

test('-L lists every entry and the summary goes to stderr', () => {
  const r = run(lab(), '-L');
  assert.equal(r.stdout, [SYN_LINE, EST_LINE, UDP_LINE, ICMP_LINE].join('\n') + '\n');
  assert.equal(r.stderr, `${P}4 flow entries have been shown.\n`);
  assert.equal(r.code, 0);
  assert.equal(r.changed, false);
});

test('-L filters: protocol, addresses, ports, state, status, NAT, mark', () => {
  const t = lab();
  assert.equal(run(t, '-L -p tcp --state ESTABLISHED').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -p tcp --sport 41000').stdout, SYN_LINE + '\n');
  assert.equal(run(t, '-L -p tcp --dport 8080').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -p tcp --reply-port-src 80').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -p 6').stdout, [SYN_LINE, EST_LINE].join('\n') + '\n');
  assert.equal(run(t, '-L -r 10.0.0.20').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -s 10.0.0.0/24 -p udp').stdout, UDP_LINE + '\n');
  assert.equal(run(t, '-L -d 10.0.0.1').stdout, '');
  assert.equal(run(t, '-L -u UNREPLIED').stdout, SYN_LINE + '\n');
  assert.equal(run(t, '-L -u ASSURED').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -g').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -g 10.0.0.20').stdout, EST_LINE + '\n');
  assert.equal(run(t, '-L -n').stdout, '');
  assert.equal(run(t, '-L -p icmp --icmp-type 8').stdout, ICMP_LINE + '\n');
  assert.equal(run(t, '-L -p icmp --icmp-type 0').stdout, '');
  assert.equal(run(t, '-L -m 1').stderr, `${P}0 flow entries have been shown.\n`);
  assert.equal(run(t, '-L -f ipv6').stdout, '');
  assert.equal(run(t, '-L --orig-s 10.0.0.1 -p tcp --sp 41000').stdout, SYN_LINE + '\n');
});

test('-o extended, id, save and xml', () => {
  const t = lab();
  assert.equal(run(t, '-L -p udp -o extended').stdout, `ipv4     2 ${UDP_LINE}\n`);
  assert.equal(run(t, '-L -p udp -o extended,id').stdout, `ipv4     2 ${UDP_LINE} id=3\n`);
  assert.equal(
    run(t, '-L -o save').stdout,
    '-A -t 119 -u UNSET -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 -p tcp --sport 41000 --dport 82 --reply-port-src 82 --reply-port-dst 41000 --state SYN_SENT\n' +
      '-A -t 431999 -u SEEN_REPLY,ASSURED -s 10.0.0.1 -d 10.0.0.2 -g 10.0.0.20 -q 10.0.0.1 -p tcp --sport 41001 --dport 8080 --reply-port-src 80 --reply-port-dst 41001 --state ESTABLISHED\n' +
      '-A -t 29 -u SEEN_REPLY -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 -p udp --sport 40001 --dport 53 --reply-port-src 53 --reply-port-dst 40001\n' +
      '-A -t 29 -u SEEN_REPLY -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 777\n',
  );
  assert.equal(
    run(t, '-L -p icmp -o xml').stdout,
    '<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n' +
      '<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>10.0.0.1</src><dst>10.0.0.2</dst></layer3><layer4 protonum="1" protoname="icmp"></layer4></meta>' +
      '<meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>10.0.0.2</src><dst>10.0.0.1</dst></layer3><layer4 protonum="1" protoname="icmp"></layer4></meta>' +
      '<meta direction="independent"><timeout>29</timeout><mark>0</mark><use>1</use><id>4</id></meta></flow>\n</conntrack>\n',
  );
  assert.equal(run(t, '-L -p sctp -o xml').stdout, '');
  const bad = run(t, '-L -o save,id');
  assert.equal(bad.stderr, `${P}cannot combine save output with any other output type, use -o save only\n`);
  assert.equal(bad.code, 1);
});

test('-G, -D, -F, -C, -S, -V', () => {
  const t = lab();
  const g = run(t, '-G -p tcp -s 10.0.0.1 -d 10.0.0.2 --sport 41001 --dport 8080');
  assert.equal(g.stdout, EST_LINE.replace('use=1', 'use=2') + '\n');
  assert.equal(g.stderr, `${P}1 flow entries have been shown.\n`);
  const miss = run(t, '-G -p tcp -s 10.0.0.1 -d 10.0.0.2 --sport 1 --dport 2');
  assert.deepEqual([miss.stderr, miss.code], [`${P}Operation failed: such conntrack doesn't exist\n`, 1]);

  const d = run(t, '-D -p tcp --sport 41000');
  assert.deepEqual([d.stdout, d.stderr, d.code, d.changed], [SYN_LINE + '\n', `${P}1 flow entries have been deleted.\n`, 0, true]);
  const none = run(t, '-D -s 10.9.9.9');
  assert.deepEqual([none.stdout, none.stderr, none.code, none.changed], ['', `${P}0 flow entries have been deleted.\n`, 1, false]);
  assert.equal(run(t, '-C').stdout, '3\n');
  assert.equal(run(t, '-S').stdout, 'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n');
  const f = run(t, '-F');
  assert.deepEqual([f.stderr, f.code, f.changed], [`${P}connection tracking table has been emptied.\n`, 0, true]);
  assert.equal(t.count(), 0);
  assert.equal(run(t, '-V').stdout, 'conntrack v1.4.7 (conntrack-tools)\n');
  assert.equal(run(t, '-L expect').stderr, `${P}0 expectations have been shown.\n`);
});

test('-I creates entries as conntrack-tools does; -U adds status bits (mark updates fail on this kernel)', () => {
  const t = new ConntrackTable();
  const ok = run(t, '-I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 100 --state ESTABLISHED', 0);
  assert.deepEqual([ok.stdout, ok.stderr, ok.code, ok.changed], ['', `${P}1 flow entries have been created.\n`, 0, true]);
  const dup = run(t, '-I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 100 --state ESTABLISHED', 0);
  assert.deepEqual([dup.stderr, dup.code], [`${P}Operation failed: Such conntrack exists, try -U to update\n`, 1]);
  assert.equal(run(t, '-I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport 3 --dport 2 -t 100', 0).stderr, `${P}You need to supply the \`--state' option for this command\n${TRY}`);
  assert.equal(run(t, '-I -p udp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2', 0).stderr, `${P}You need to supply the \`--timeout' option for this command\n${TRY}`);
  run(t, '-I -p udp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 50 -u SEEN_REPLY -m 7', 0);
  run(t, '-I -p icmp -s 1.1.1.1 -d 2.2.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 5 -t 50', 0);
  run(t, '-I -p tcp -r 2.2.2.2 -q 1.1.1.1 --reply-port-src 9 --reply-port-dst 8 -t 100 --state SYN_SENT', 0);
  assert.equal(
    run(t, '-L').stdout,
    'tcp      6 99 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 [UNREPLIED] src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 mark=0 use=1\n' +
      'udp      17 49 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 mark=7 use=1\n' +
      'icmp     1 49 src=1.1.1.1 dst=2.2.2.2 type=8 code=0 id=5 [UNREPLIED] src=2.2.2.2 dst=1.1.1.1 type=0 code=0 id=5 mark=0 use=1\n' +
      'tcp      6 99 SYN_SENT src=1.1.1.1 dst=2.2.2.2 sport=8 dport=9 [UNREPLIED] src=2.2.2.2 dst=1.1.1.1 sport=9 dport=8 mark=0 use=1\n',
  );
  const m = run(t, '-U -p udp -m 9');
  assert.deepEqual([m.stdout, m.stderr, m.code], ['', `Operation failed: Operation not supported\n${P}Operation failed: Operation not supported\n`, 1]);
  // as observed with two entries made by -I: only the TCP one is printed back
  const t2 = new ConntrackTable();
  run(t2, '-I -p udp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 50 -u SEEN_REPLY -m 7', 0);
  run(t2, '-I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 100 --state ESTABLISHED', 0);
  const u = run(t2, '-U -s 1.1.1.1 -u ASSURED');
  assert.equal(u.stdout, 'tcp      6 99 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 [UNREPLIED] src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 [ASSURED] mark=0 use=2\n');
  assert.equal(u.stderr, `${P}2 flow entries have been updated.\n`);
  assert.equal(run(t2, '-L -u ASSURED').stderr, `${P}2 flow entries have been shown.\n`);
});

test('timeouts shown are the seconds left on the lab clock; dead entries are not listed', () => {
  const t = lab();
  assert.ok(run(t, '-L -p udp', 10.5).stdout.startsWith('udp      17 19 '));
  assert.equal(run(t, '-L -p udp', 30).stdout, '');
  assert.equal(run(t, '-C', 200).stdout, '1\n');
});

test('errors: texts and exit codes of the real tool', () => {
  const t = lab();
  const cases: [string, string][] = [
    ['-L --bogus', "unknown option `--bogus'"],
    ['-X', "unknown option `-X'"],
    ['-L -s', "option `-s' requires an argument"],
    ['-L -p tcp --sport', "option `--sport' requires an argument"],
    ['-L --sport 40000', "unknown option `--sport'"],
    ['-L --state ESTABLISHED', "unknown option `--state'"],
    ['-L -p udp --state ESTABLISHED', "unknown option `--state'"],
    ['-L -p tcp --state FOO', "unknown TCP state `FOO'"],
    ['-L -p tcp --state time_wait', "unknown TCP state `time_wait'"],
    ['-L -s 10.0.0.x', "Invalid IP address `10.0.0.x'"],
    ['-L -s 10.0.0.1/33', 'Invalid netmask'],
    ['-L -r 10.0.0.0/24', "CIDR notation unavailable for `--reply-src'"],
    ['-L -g 10.0.0.1/8', "CIDR notation unavailable for `--dst-nat'"],
    ['-L -g :80', "Invalid IP address `'"],
    ['-L -L', 'Invalid commands combination'],
    ['-L -D', 'Invalid commands combination'],
    ['-L foo', "unknown type `foo'"],
    ['-L -o foo', "Bad parameter `foo'"],
    ['-L -u FOO', "Bad parameter `FOO'"],
    ['-L -p foo', "`foo' unsupported protocol"],
    ['-L -p 300', "`300' unsupported protocol"],
    ['-L -f ipv5', "`ipv5' unsupported protocol"],
    ['-L -t 5', "Illegal option `--timeout' with this command"],
    ['-F -p tcp', "Illegal option `--protonum' with this command"],
    ['-C -p tcp', "Illegal option `--protonum' with this command"],
    ['-L -i 1', "Illegal option `--id' with this command"],
    ['-G -s 10.0.0.1', "You need to supply the `--protonum' option for this command"],
    ['-G -p tcp -s 10.0.0.1 --sport 1 --dport 2', "you have to specify `--src' and `--dst'"],
    ['-G -p tcp -s 10.0.0.1 -d 10.0.0.2', "you have to specify `--sport' and `--dport'"],
    ['-G -p tcp -s 10.0.0.1 -d 10.0.0.2 --reply-port-src 1', "you have to specify `--reply-src-port' and `--reply-dst-port'"],
    ['-G -p icmp -s 10.0.0.1 -d 10.0.0.2', "You need to supply the `--icmp-type' option for this command"],
    ['-L -n -j', "cannot specify `--src-nat' or `--dst-nat' with `--any-nat'"],
    ['-L -z -s 10.0.0.1', "Can't use -z with filtering parameters"],
  ];
  for (const [line, msg] of cases) {
    const r = run(t, line);
    assert.deepEqual([r.stderr, r.code, r.stdout], [`${P}${msg}\n${TRY}`, 2, ''], line);
  }
  assert.equal(t.count(), 4);
});

test('no command prints the usage; -h -p tcp adds the protocol help', () => {
  const t = lab();
  const r = run(t, '');
  assert.match(r.stdout, /^Command line interface for the connection tracking system\. Version 1\.4\.7\nUsage: conntrack \[commands\] \[options\]\n/);
  assert.equal(r.code, 0);
  assert.match(run(t, '-h -p tcp').stdout, /\nProto `tcp' help:\n {2}--orig-port-src\t\toriginal source port\n[^]*--state\t\t\tTCP state, fe\. ESTABLISHED\n$/);
});
