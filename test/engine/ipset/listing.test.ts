// `ipset list` / `save` / `-terse` / `-name` / `-o xml` / `-sorted` output, member order and
// "Size in memory" — expected texts are what ipset v7.17 printed on the reference machine
// for the same commands (initval given, so the kernel's bucket layout is reproducible).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lab, ok } from './helpers.ts';

function fourSets(): ReturnType<typeof lab> {
  const l = lab();
  ok(l.run, 'create a hash:ip initval 0x12345678');
  for (let i = 1; i <= 10; i++) ok(l.run, `add a 10.0.0.${i}`);
  ok(l.run, 'create n hash:net initval 0x12345678');
  for (const e of ['10.0.0.0/24', '10.0.1.1', '192.168.0.0/16', '10.0.0.5/32', '10.0.2.0/31']) ok(l.run, `add n ${e}`);
  ok(l.run, 'create p hash:ip,port initval 0x12345678');
  for (const e of ['10.0.0.1,80', '10.0.0.1,udp:53', '10.0.0.2,tcp:443', '10.0.0.3,icmp:ping', '10.0.0.3,sctp:5']) ok(l.run, `add p ${e}`);
  ok(l.run, 'create np hash:net,port initval 0x12345678');
  for (const e of ['10.0.0.0/24,80', '10.0.0.1,udp:53', '10.1.0.0/16,tcp:443']) ok(l.run, `add np ${e}`);
  return l;
}

const HDR = (name: string, type: string, rev: number, mem: number, n: number): string =>
  `Name: ${name}\nType: ${type}\nRevision: ${rev}\nHeader: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x12345678\n` +
  `Size in memory: ${mem}\nReferences: 0\nNumber of entries: ${n}\n`;

test('list prints every set in the kernel member order, a blank line between sets', () => {
  const { run } = fourSets();
  const r = run('list');
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    HDR('a', 'hash:ip', 6, 616, 10) +
      'Members:\n10.0.0.9\n10.0.0.7\n10.0.0.10\n10.0.0.2\n10.0.0.4\n10.0.0.8\n10.0.0.3\n10.0.0.6\n10.0.0.1\n10.0.0.5\n\n' +
      HDR('n', 'hash:net', 7, 696, 5) +
      'Members:\n10.0.0.0/24\n10.0.2.0/31\n192.168.0.0/16\n10.0.1.1\n10.0.0.5\n\n' +
      HDR('p', 'hash:ip,port', 7, 456, 5) +
      'Members:\n10.0.0.3,icmp:echo-request\n10.0.0.1,tcp:80\n10.0.0.2,tcp:443\n10.0.0.1,udp:53\n10.0.0.3,sctp:5\n\n' +
      HDR('np', 'hash:net,port', 8, 600, 3) +
      'Members:\n10.0.0.0/24,tcp:80\n10.1.0.0/16,tcp:443\n10.0.0.1,udp:53\n',
  );
});

test('save, -terse and -name', () => {
  const { run } = fourSets();
  assert.equal(
    run('save n').stdout,
    'create n hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x12345678\n' +
      'add n 10.0.0.0/24\nadd n 10.0.2.0/31\nadd n 192.168.0.0/16\nadd n 10.0.1.1\nadd n 10.0.0.5\n',
  );
  assert.equal(run('list -terse a').stdout, HDR('a', 'hash:ip', 6, 616, 10));
  assert.equal(run('-t list').stdout.split('\n\n').length, 4);
  assert.equal(run('list -name').stdout, 'a\nn\np\nnp\n');
  assert.equal(run('-n list p').stdout, 'p\n');
  // -name and -terse do not apply to save mode.
  assert.equal(run('-t save np').stdout, run('save np').stdout);
  assert.equal(run('-o save list p').stdout, run('save p').stdout);
  assert.equal(run('save -o plain p').stdout, run('list p').stdout);
});

test('-sorted orders members with the tool comparator', () => {
  const { run } = fourSets();
  assert.match(run('list -sorted a').stdout, /Members:\n10\.0\.0\.1\n10\.0\.0\.2\n10\.0\.0\.3\n[^]*10\.0\.0\.9\n10\.0\.0\.10\n$/);
  assert.match(run('-s list n').stdout, /Members:\n10\.0\.0\.0\/24\n10\.0\.0\.5\n10\.0\.1\.1\n10\.0\.2\.0\/31\n192\.168\.0\.0\/16\n$/);
  const l = lab();
  ok(l.run, 'create p hash:ip,port initval 0x52310cbc', 'add p 1.1.1.1,200:0', 'add p 1.1.1.1,90-85', 'add p 1.1.1.1,80', 'add p 1.1.1.1,icmp:ping');
  assert.equal(
    l.run('-s list p').stdout.split('Members:\n')[1],
    '1.1.1.1,200:0\n1.1.1.1,tcp:80\n1.1.1.1,tcp:85\n1.1.1.1,tcp:86\n1.1.1.1,tcp:87\n1.1.1.1,tcp:88\n1.1.1.1,tcp:89\n1.1.1.1,tcp:90\n1.1.1.1,icmp:echo-request\n',
  );
});

test('xml output', () => {
  const l = lab();
  ok(l.run, 'create y hash:ip comment initval 0x322e503b', 'create L list:set');
  ok(l.run, 'add L y');
  assert.equal(l.run(['add', 'y', '1.2.3.4', 'comment', 'a bc']).code, 0);
  assert.equal(
    l.run('-o xml list').stdout,
    '<ipsets>\n<ipset name="y">\n<type>hash:ip</type>\n<revision>6</revision>\n' +
      '<header><family>inet</family><hashsize>1024</hashsize><maxelem>65536</maxelem><comment/><bucketsize>12</bucketsize><initval>0x322e503b</initval>\n' +
      '<memsize>301</memsize>\n<references>1</references>\n<numentries>1</numentries>\n</header>\n<members>\n' +
      '<member><elem>1.2.3.4</elem><comment>"a bc"</comment></member>\n</members>\n</ipset>\n' +
      '<ipset name="L">\n<type>list:set</type>\n<revision>3</revision>\n<header><size>8</size>\n' +
      '<memsize>128</memsize>\n<references>0</references>\n<numentries>1</numentries>\n</header>\n<members>\n' +
      '<member><elem>y</elem></member>\n</members>\n</ipset>\n</ipsets>\n',
  );
  assert.equal(l.run('-o xml -n list').stdout, '<ipsets>\n<ipset name="y"/>\n<ipset name="L"/>\n</ipsets>\n');
  assert.match(l.run('-o xml -t list L').stdout, /<numentries>1<\/numentries>\n<\/header>\n<\/ipset>\n<\/ipsets>\n$/);
  const empty = lab();
  assert.equal(empty.run('-o xml list').stdout, '<ipsets>\n</ipsets>\n');
  assert.equal(empty.run('list').stdout, '');
});

test('headers list create options in the type order; extensions after each member', () => {
  const l = lab();
  ok(
    l.run,
    'create a hash:ip netmask 24 timeout 5 counters comment skbinfo forceadd hashsize 64 maxelem 7 bucketsize 4 initval 0x1',
    'create c hash:ip,port netmask 20 timeout 5 counters comment skbinfo hashsize 64 maxelem 7 bucketsize 3 initval 0x3',
    'create e list:set timeout 5 counters comment skbinfo size 9',
    'create k hash:net,port skbinfo counters forceadd initval 0x8',
  );
  assert.equal(
    l.run('save').stdout,
    'create a hash:ip family inet hashsize 64 maxelem 7 netmask 24 timeout 5 counters comment skbinfo bucketsize 4 initval 0x00000001\n' +
      'create c hash:ip,port family inet hashsize 64 maxelem 7 timeout 5 counters comment skbinfo bucketsize 4 initval 0x00000003 netmask 20\n' +
      'create k hash:net,port family inet hashsize 1024 maxelem 65536 counters skbinfo bucketsize 12 initval 0x00000008\n' +
      'create e list:set size 9 timeout 5 counters comment skbinfo\n',
  );
  ok(l.run, 'add k 1.2.0.0/16,80 skbmark 0x10 skbprio 1:2 skbqueue 3', 'add k 1.3.0.0/16,80 skbmark 0x10/0xff nomatch');
  const members = l.run('list k').stdout.split('Members:\n')[1].split('\n').filter(Boolean).sort();
  assert.deepEqual(members, [
    '1.2.0.0/16,tcp:80 packets 0 bytes 0 skbmark 0x10 skbprio 1:2 skbqueue 3',
    '1.3.0.0/16,tcp:80 nomatch packets 0 bytes 0 skbmark 0x10/0xff',
  ]);
  assert.match(l.run('list -t k').stdout, /Size in memory: 680\n/); // two buckets of 2 x 40-byte elements
});

test('timeouts count down on the lab clock and expire', () => {
  let now = 1000;
  const l = lab({ now: () => now });
  ok(l.run, 'create t hash:ip timeout 300 counters comment initval 0x37e38c7e', 'add t 1.1.1.1', 'add t 1.1.1.3 timeout 0');
  assert.equal(l.run(['add', 't', '1.1.1.2', 'timeout', '10', 'packets', '5', 'bytes', '100', 'comment', 'hello world']).code, 0);
  assert.equal(
    l.run('list t').stdout.split('Members:\n')[1],
    '1.1.1.1 timeout 300 packets 0 bytes 0\n1.1.1.3 timeout 0 packets 0 bytes 0\n1.1.1.2 timeout 10 packets 5 bytes 100 comment "hello world"\n',
  );
  now += 9.5;
  assert.match(l.run('list t').stdout, /1\.1\.1\.2 timeout 1 packets/);
  now += 1;
  const r = l.run('list t');
  assert.doesNotMatch(r.stdout, /1\.1\.1\.2/);
  assert.match(r.stdout, /Number of entries: 2\n/);
  assert.match(r.stdout, /1\.1\.1\.1 timeout 289 /);
  // An expired element can be added again.
  ok(l.run, 'add t 1.1.1.2');
});

test('Size in memory follows buckets, extensions and comments', () => {
  const l = lab();
  ok(l.run, 'create y hash:ip comment initval 0x322e503b');
  assert.equal(l.run(['add', 'y', '1.2.3.4', 'comment', 'a bc']).code, 0);
  assert.equal(l.run(['add', 'y', '1.2.3.5', 'comment', 'x']).code, 0);
  assert.match(l.run('list -t y').stdout, /Size in memory: 383\n/);
  ok(l.run, 'create s list:set size 3 timeout 100 counters comment', 'create a hash:ip initval 1');
  assert.equal(l.run(['add', 's', 'a', 'comment', 'x']).code, 0);
  assert.match(l.run('list s').stdout, /Header: size 4 timeout 100 counters comment\nSize in memory: 178\nReferences: 0\nNumber of entries: 1\nMembers:\na timeout 100 packets 0 bytes 0 comment "x"\n$/);
  // Larger tables have more lock regions: 4096 buckets, 4 regions.
  ok(l.run, 'create h hash:ip hashsize 3000 initval 2');
  assert.match(l.run('list -t h').stdout, /hashsize 4096 .*\nSize in memory: 288\n/);
});
