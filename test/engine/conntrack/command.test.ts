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

test('-I creates entries as conntrack-tools does', () => {
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
});

const udpEntry = (t: ConntrackTable, n: number, extra = '') => run(t, `-I -p udp -s 1.1.1.1 -d 2.2.2.${n} --sport ${n} --dport 2 -t 50${extra}`, 0);

test('-U without an address or -f: the kernel refuses the family-less update at the first entry that would change', () => {
  const t = new ConntrackTable();
  udpEntry(t, 1, ' -m 7');
  run(t, '-I -p tcp -s 1.1.1.1 -d 2.2.2.9 --sport 1 --dport 2 -t 100 --state ESTABLISHED', 0);
  const refused = ['', `Operation failed: Operation not supported\n${P}Operation failed: Operation not supported\n`, 1, false];
  for (const line of ['-U -p udp -m 9', '-U -m 9', '-U -p tcp -u ASSURED', '-U -t 30', '-U -p tcp --state CLOSE']) {
    const r = run(t, line);
    assert.deepEqual([r.stdout, r.stderr, r.code, r.changed], refused, line);
  }
  // nothing to change: no request is sent, and nothing refused
  const same = run(t, '-U -p udp -m 7');
  assert.deepEqual([same.stderr, same.code], [`${P}0 flow entries have been updated.\n`, 1]);
  assert.match(run(t, '-L -p udp').stdout, / mark=7 use=1\n$/);
  // with a family it works
  const ok = run(t, '-U -f ipv4 -p udp -m 9');
  assert.deepEqual([ok.stdout, ok.stderr, ok.code, ok.changed], ['udp      17 49 src=1.1.1.1 dst=2.2.2.1 sport=1 dport=2 [UNREPLIED] src=2.2.2.1 dst=1.1.1.1 sport=2 dport=1 mark=9 use=2\n', `${P}1 flow entries have been updated.\n`, 0, true]);
  assert.deepEqual([run(t, '-U -f ipv6 -m 3').stderr, run(t, '-U -s 9.9.9.9 -m 3').code], [`${P}0 flow entries have been updated.\n`, 1]);
});

test('-U prints the 1st, 3rd, 5th… entry it updated, on every 3rd update (the answers it reads are one behind per entry)', () => {
  const t = new ConntrackTable();
  for (let n = 1; n <= 10; n++) udpEntry(t, n);
  const r = run(t, '-U -s 1.1.1.1 -m 3');
  assert.equal(r.stderr, `${P}10 flow entries have been updated.\n`);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).map((l) => / dst=(\S+) /.exec(l)?.[1]), ['2.2.2.1', '2.2.2.3', '2.2.2.5', '2.2.2.7']);
  assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => l.endsWith(' mark=3 use=2')));
  // all ten were changed, and are not again
  assert.equal(run(t, '-L -m 3').stderr, `${P}10 flow entries have been shown.\n`);
  assert.deepEqual([run(t, '-U -s 1.1.1.1 -m 3').stderr, run(t, '-U -s 1.1.1.1 -m 3').code], [`${P}0 flow entries have been updated.\n`, 1]);
  // only the entries that change count: eight of the ten (printed at the 1st, 4th and 7th)
  run(t, '-U -d 2.2.2.4 -m 4');
  run(t, '-U -d 2.2.2.8 -m 4');
  const eight = run(t, '-U -s 1.1.1.1 -m 4');
  assert.deepEqual([eight.stdout.split('\n').filter(Boolean).length, eight.stderr], [3, `${P}8 flow entries have been updated.\n`]);
  // XML: bare flows, no document around them
  const x = run(t, '-U -d 2.2.2.1 -m 5 -o xml');
  assert.match(x.stdout, /^<flow><meta direction="original">.*<mark>5<\/mark><use>2<\/use><id>\d+<\/id><unreplied\/><\/meta><\/flow>\n$/);
});

test('-U: the mark as (mark & ~mask) ^ value, status bits added, -t and a TCP --state set; a -u after -m becomes the mark', () => {
  const t = new ConntrackTable();
  run(t, '-I -p tcp -s 1.1.1.1 -d 2.2.2.2 --sport 1 --dport 2 -t 100 --state ESTABLISHED -m 0x1234', 0);
  const line = (r: { stdout: string }) => r.stdout.replace(/^tcp +6 \d+ \S+ src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 /, '');
  assert.equal(line(run(t, '-U -s 1.1.1.1 -m 0x70/0xf0 --status SEEN_REPLY')), 'src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 mark=4614 use=2\n');
  assert.equal(line(run(t, '-U -s 1.1.1.1 -m 0x50 --status ASSURED,SEEN_REPLY')), 'src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 [ASSURED] mark=6 use=2\n');
  // -u ASSURED then -u SEEN_REPLY: 6, the mark it already has
  assert.equal(run(t, '-U -s 1.1.1.1 -m 0x60 --status ASSURED --status SEEN_REPLY').stderr, `${P}0 flow entries have been updated.\n`);
  assert.equal(run(t, '-U -s 1.1.1.1 -u ASSURED -m 0x99 -u SEEN_REPLY').code, 1);
  // the dump's own filter keeps -m's value; userspace compares the one -u wrote
  assert.equal(run(t, '-L -m 5 -u ASSURED,SEEN_REPLY').stderr, `${P}0 flow entries have been shown.\n`);
  assert.equal(run(t, '-L -m 6 -u ASSURED,SEEN_REPLY').stderr, `${P}1 flow entries have been shown.\n`);
  assert.equal(run(t, '-L -m 6 -u SEEN_REPLY').stderr, `${P}0 flow entries have been shown.\n`);
  assert.equal(run(t, '-L -u ASSURED -u SEEN_REPLY').stderr, `${P}0 flow entries have been shown.\n`);
  assert.equal(run(t, '-D -m 5 -u ASSURED,SEEN_REPLY').code, 1);
  const closed = run(t, '-U -s 1.1.1.1 -p tcp --state CLOSE -t 30', 5);
  assert.match(closed.stdout, /^tcp {6}6 30 CLOSE src=1.1.1.1 .* \[ASSURED\] mark=6 use=2\n$/);
  // -I takes the mark -u left, too
  udpEntry(t, 3, ' -m 9 -u ASSURED');
  assert.match(run(t, '-L -d 2.2.2.3').stdout, / \[ASSURED\] mark=4 use=1\n$/);
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
