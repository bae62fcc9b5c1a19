// `ipset restore`: line handling, the session options that persist across lines, errors
// with their line numbers, what a failed restore leaves behind (message batching), and speed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lab, ok } from './helpers.ts';

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i) + '\n').join('');

function count(run: ReturnType<typeof lab>['run'], set: string): number {
  const m = /Number of entries: (\d+)/.exec(run(`list -t ${set}`).stdout);
  return m ? Number(m[1]) : -1;
}

test('a kernel error stops at its line; elements before it are in, after it are not', () => {
  const { run } = lab();
  const r = run('restore', 'create a hash:ip\nadd a 1.1.1.1\nadd a 1.1.1.2\nadd a 1.1.1.1\nadd a 1.1.1.3\ncreate b hash:ip\n');
  assert.equal(r.stderr, "ipset v7.17: Error in line 4: Element cannot be added to the set: it's already added\n");
  assert.equal(r.code, 1);
  assert.equal(r.changed, true);
  assert.equal(run('list -n').stdout, 'a\n');
  assert.equal(count(run, 'a'), 2);
});

test('a syntax error drops the adds still waiting to be sent', () => {
  const { run } = lab();
  const r = run('restore', '# comment\n\n  create a hash:ip\nadd a 1.1.1.1\nadd a foo\nadd a 1.1.1.3\n');
  assert.equal(r.stderr, 'ipset v7.17: Error in line 5: Syntax error: cannot parse foo: resolving to IPv4 address failed\n');
  assert.equal(r.code, 1);
  assert.equal(count(run, 'a'), 0);
  // Parameter problems print no line number.
  const u = run('restore', 'add a 1.1.1.1\nadd a 1.1.1.2 bogus\n');
  assert.equal(u.stderr, "ipset v7.17: Unknown argument: `bogus'\nTry `ipset help' for more information.\n");
  assert.equal(u.code, 2);
  assert.equal(count(run, 'a'), 0);
  const n = run('restore', 'create b hash:ip\nadd b 1.1.1.1\nadd nosuch 1.1.1.2\n');
  assert.equal(n.stderr, 'ipset v7.17: Error in line 3: The set with the given name does not exist\n');
  assert.equal(count(run, 'b'), 0);
});

test('messages fill a page: what was sent before a syntax error stays', () => {
  const { run } = lab();
  // 167 plain hash:ip adds fit in one 4096-byte message.
  const r = run('restore', 'create a hash:ip initval 0x99\n' + lines(1000, (i) => `add a 10.${i >> 8}.${i & 255}.1`) + 'add a 1.1.1.1 bogus\n');
  assert.equal(r.code, 2);
  assert.equal(count(run, 'a'), 835);
  // With port, proto and a comment (checked at its 255-byte maximum) 78 fit.
  const c = run(
    'restore',
    'create b hash:ip,port counters comment initval 0x98\n' + lines(1000, (i) => `add b 10.${i >> 8}.${i & 255}.1,udp:${i + 1} comment "xy"`) + 'add b 1.1.1.1\n',
  );
  assert.equal(c.stderr, 'ipset v7.17: Error in line 1002: Syntax error: Second element is missing from 1.1.1.1.\n');
  assert.equal(count(run, 'b'), 936);
});

test('create lines: clash, -exist, warnings end the restore', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip initval 5');
  let r = run('restore', 'create a hash:ip\nadd a 1.1.1.1\n');
  assert.equal(r.stderr, 'ipset v7.17: Error in line 1: Set cannot be created: set with the same name already exists\n');
  r = run('-exist restore', 'create a hash:ip initval 5\nadd a 1.1.1.1\nadd a 1.1.1.1\n');
  assert.deepEqual([r.stderr, r.code], ['', 0]);
  r = run('restore', 'create n hash:ip netmask 33\n');
  assert.equal(r.stderr, 'ipset v7.17: Error in line 1: Syntax error: netmask is out of the inclusive range of 1-32\n');
  r = run('restore', 'create w hash:ip probes 3 gc 5\ncreate a hash:ip\n');
  assert.equal(r.stderr, "Warning: Option '--probes 3' is ignored. Please upgrade your syntax.\nOption '--gc 5' is ignored. Please upgrade your syntax.\n");
  assert.equal(r.code, 0);
  assert.equal(run('list -n').stdout, 'a\nw\n');
});

test('options on one line stay for the following lines', () => {
  const { run } = lab();
  const r = run('restore', 'create a hash:ip\nadd a 1.1.1.1 -exist\nadd a 1.1.1.1\nadd a 1.1.1.2\nlist -t\nadd a 1.1.1.3\nlist -n\n');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Name: a\n[^]*Number of entries: 2\na\n$/);
});

test('list, save, test, COMMIT, quit and forbidden commands in restore', () => {
  const { run } = lab();
  const r = run('restore', 'create a hash:ip initval 0x187181e2\nadd a 1.1.1.1\nlist\nsave\nadd a 1.1.1.2\n');
  // The mode chosen by the first listing stays: save prints plain too.
  assert.equal(r.stdout.split('Name: a').length, 3);
  assert.equal(count(run, 'a'), 2);
  let t = run('restore', 'add a 3.3.3.3\ntest a 3.3.3.3\nadd a 3.3.3.4\n');
  assert.deepEqual([t.stderr, t.code], ['Warning: 3.3.3.3 is in set a.\n', 0]);
  t = run('restore', 'test a 9.9.9.9\nadd a 4.4.4.4\n');
  assert.deepEqual([t.stderr, t.code], ['9.9.9.9 is NOT in set a.\n', 1]);
  assert.equal(count(run, 'a'), 3);
  const q = run('restore', 'add a 5.5.5.5\nquit\nadd a 6.6.6.6\n');
  assert.deepEqual([q.stderr, q.code], ['', 0]);
  assert.equal(count(run, 'a'), 3);
  ok(run, 'flush a');
  const cm = run('restore', 'add a 7.7.7.7\nCOMMIT\nadd a 7.7.7.7\n');
  assert.equal(cm.stderr, "ipset v7.17: Error in line 3: Element cannot be added to the set: it's already added\n");
  for (const c of ['restore', 'version', 'help']) {
    const x = run('restore', `${c}\n`);
    assert.deepEqual([x.stderr, x.code], [`ipset v7.17: Command \`${c}' is invalid in restore mode.\nTry \`ipset help' for more information.\n`, 2]);
  }
});

test('quotes group words; comments keep their spaces', () => {
  const { run } = lab();
  const r = run('restore', 'create y hash:ip comment initval 0x322e503b\nadd y 1.2.3.4 comment "a b"c\nadd y 1.2.3.5 comment "x"""\nadd y 1.2.3.6 "comment\n');
  assert.equal(r.code, 0);
  assert.deepEqual(
    run('list y').stdout.split('Members:\n')[1].split('\n').filter(Boolean).sort(),
    ['1.2.3.4 comment "a bc"', '1.2.3.5 comment "x"', '1.2.3.6'],
  );
});

test('Calico-style restore: create -exist, fill a temporary set, swap, destroy', () => {
  const { run, store } = lab();
  ok(run, 'create cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576');
  const r = run(
    'restore',
    'create cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576 -exist\n' +
      'create cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576\n' +
      lines(40, (i) => `add cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.${i >> 3}.${(i & 7) * 16 + 2}`) +
      'swap cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ\n' +
      'destroy cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ\n',
  );
  assert.deepEqual([r.stderr, r.code], ['', 0]);
  assert.deepEqual(store.names(), ['cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ']);
  assert.match(run('list -t cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ').stdout, /Header: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x[0-9a-f]{8}\n[^]*Number of entries: 40\n/);
  assert.equal(run('test cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.2.18').code, 0);
  assert.equal(run('test cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.2.19').code, 1);
});

// (How fast this is belongs to `npm run bench`, not to a timed test.)
test('restoring 100,000 members keeps every one', () => {
  const input = 'create big hash:ip maxelem 1048576\n' + lines(100000, (i) => `add big 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const { run } = lab();
  const r = run('restore', input);
  assert.equal(r.code, 0);
  assert.equal(count(run, 'big'), 100000);
  assert.equal(run('test big 10.1.134.159').code, 0);
  assert.equal(run('test big 10.2.0.0').code, 1);
});
