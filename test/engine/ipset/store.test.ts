// The set store as the rest of the lab uses it: packet matching with the kernel's semantics
// (store.test), references from iptables rules, copies and the lab file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lab, ok, pkt } from './helpers.ts';
import { IpsetStore, hashInitval } from '../../../main/engine/netfilter/ipset/store.ts';
import { rangeToCidr } from '../../../main/engine/netfilter/ipset/hash-set.ts';
import { jhash2, bswap32 } from '../../../main/engine/netfilter/ipset/jhash.ts';
import { bystrcmp } from '../../../main/engine/netfilter/ipset/format.ts';
import { ip } from './helpers.ts';
import { ipset } from '../../../main/engine/shell/ipset.ts';

test('jhash2 and the element words give the kernel bucket of every element', () => {
  // 10.0.0.9 lands in bucket 353 of 1024 with initval 0x12345678 (ipset list order shows it first).
  assert.equal(jhash2(bswap32(ip('10.0.0.9')), undefined, 0x12345678) & 1023, 353);
  assert.equal(jhash2(bswap32(ip('10.0.0.5')), undefined, 0x12345678) & 1023, 1010);
  // hash:net: [ip, cidr << 24]
  assert.equal(jhash2(bswap32(ip('10.0.0.0')), (24 << 24) >>> 0, 0x12345678) & 1023, 352);
});

test('rangeToCidr splits ranges like the kernel', () => {
  const blocks: string[] = [];
  let from = ip('10.0.0.1');
  const to = ip('10.0.0.6');
  for (;;) {
    const [last, c] = rangeToCidr(from, to);
    blocks.push(`${from & 255}/${c}`);
    if (last >= to) break;
    from = last + 1;
  }
  assert.deepEqual(blocks, ['1/32', '2/31', '4/31', '6/32']);
});

test('the initval of sets created without one is derived from the seed', () => {
  const a = lab({ seed: 42 });
  const b = lab({ seed: 42 });
  const c = lab({ seed: 43 });
  for (const l of [a, b, c]) ok(l.run, 'create x hash:ip', 'create y hash:net');
  assert.equal(a.run('save').stdout, b.run('save').stdout);
  assert.notEqual(a.run('save').stdout, c.run('save').stdout);
  assert.match(a.run('save x').stdout, new RegExp(`initval 0x${hashInitval(42, 0).toString(16).padStart(8, '0')}\\n`));
  assert.match(a.run('save y').stdout, new RegExp(`initval 0x${hashInitval(42, 1).toString(16).padStart(8, '0')}\\n`));
});

test('hash:ip matches the address of the first direction, masked with the netmask', () => {
  const { run, store } = lab();
  ok(run, 'create a hash:ip', 'add a 10.0.0.1', 'create m hash:ip netmask 24', 'add m 192.168.1.77');
  const p = pkt({ src: '10.0.0.1', dst: '10.0.0.2' });
  assert.equal(store.test('a', p, ['src']), true);
  assert.equal(store.test('a', p, ['dst']), false);
  assert.equal(store.test('a', p, ['src', 'dst']), true); // extra directions are ignored
  assert.equal(store.test('a', p, []), false); // fewer directions than the set has: no match
  assert.equal(store.test('m', pkt({ src: '192.168.1.200', dst: '1.1.1.1' }), ['src']), true);
  assert.equal(store.test('m', pkt({ src: '192.168.2.1', dst: '1.1.1.1' }), ['src']), false);
  assert.equal(store.test('nosuch', p, ['src']), undefined);
});

test('hash:net: the longest prefix decides, nomatch entries exclude', () => {
  const { run, store } = lab();
  ok(run, 'create n hash:net');
  assert.equal(store.test('n', pkt({ src: '10.1.1.1', dst: '2.2.2.2' }), ['src']), false); // empty
  ok(run, 'add n 10.0.0.0/8', 'add n 10.1.0.0/16 nomatch', 'add n 10.1.2.0/24');
  const t = (a: string): boolean | undefined => store.test('n', pkt({ src: a, dst: '2.2.2.2' }), ['src']);
  assert.equal(t('10.9.9.9'), true);
  assert.equal(t('10.1.9.9'), false);
  assert.equal(t('10.1.2.9'), true);
  assert.equal(t('11.0.0.1'), false);
});

test('hash:ip,port: address and port from the two directions, protocol must match', () => {
  const { run, store } = lab();
  ok(run, 'create p hash:ip,port', 'add p 10.0.0.1,tcp:80', 'add p 10.0.0.1,udp:53', 'add p 10.0.0.1,icmp:ping', 'add p 10.0.0.1,gre:0');
  const tcp = pkt({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 80, dport: 1234 });
  assert.equal(store.test('p', tcp, ['src', 'src']), true); // src address, src port
  assert.equal(store.test('p', tcp, ['src', 'dst']), false); // dst port is 1234
  assert.equal(store.test('p', tcp, ['src']), false); // a 2-dimension set needs two directions
  const tcp2 = pkt({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 5555, dport: 80 });
  assert.equal(store.test('p', tcp2, ['src', 'dst']), true);
  const udp = pkt({ src: '9.9.9.9', dst: '10.0.0.1', proto: 17, sport: 5000, dport: 53 });
  assert.equal(store.test('p', udp, ['dst', 'dst']), true);
  assert.equal(store.test('p', { ...udp, proto: 6 }, ['dst', 'dst']), false); // tcp:53 is not in
  const ping = pkt({ src: '10.0.0.1', dst: '8.8.8.8', proto: 1, icmpType: 8, icmpCode: 0 });
  assert.equal(store.test('p', ping, ['src', 'dst']), true);
  assert.equal(store.test('p', { ...ping, icmpType: 0 }, ['src', 'dst']), false);
  const gre = pkt({ src: '10.0.0.1', dst: '8.8.8.8', proto: 47, sport: 0, dport: 0 });
  assert.equal(store.test('p', gre, ['src', 'dst']), true);
});

test('hash:net,port with prefixes and nomatch', () => {
  const { run, store } = lab();
  ok(run, 'create np hash:net,port', 'add np 10.0.0.0/24,80', 'add np 10.0.0.0/25,80 nomatch');
  const t = (a: string, port: number): boolean | undefined =>
    store.test('np', pkt({ src: '1.1.1.1', dst: a, dport: port }), ['dst', 'dst']);
  assert.equal(t('10.0.0.200', 80), true);
  assert.equal(t('10.0.0.5', 80), false);
  assert.equal(t('10.0.0.200', 81), false);
});

test('list:set tries its members in order; counters count matches', () => {
  const { run, store } = lab();
  ok(run, 'create a hash:ip counters', 'add a 10.0.0.1', 'create b hash:net', 'add b 10.0.0.0/8', 'create L list:set counters', 'add L a', 'add L b');
  const p = pkt({ src: '10.0.0.1', dst: '1.1.1.1', len: 100 });
  assert.equal(store.test('L', p, ['src']), true);
  assert.equal(store.test('L', pkt({ src: '10.2.0.1', dst: '1.1.1.1', len: 100 }), ['src']), true);
  assert.equal(store.test('L', pkt({ src: '11.0.0.1', dst: '1.1.1.1' }), ['src']), false);
  assert.equal(store.test('a', p, ['src'], { updateCounters: false }), true);
  assert.match(run('list a').stdout, /10\.0\.0\.1 packets 1 bytes 100\n/);
  assert.match(run('list L').stdout, /Members:\na packets 1 bytes 100\nb packets 1 bytes 100\n$/);
});

test('elements that timed out stop matching', () => {
  let now = 0;
  const { run, store } = lab({ now: () => now });
  ok(run, 'create t hash:ip timeout 10', 'add t 10.0.0.1', 'add t 10.0.0.2 timeout 0');
  const t = (a: string): boolean | undefined => store.test('t', pkt({ src: a, dst: '1.1.1.1' }), ['src']);
  assert.equal(t('10.0.0.1'), true);
  now = 10;
  assert.equal(t('10.0.0.1'), false);
  assert.equal(t('10.0.0.2'), true);
});

test('references from rules and lists block destroy and rename', () => {
  const { run, store } = lab();
  ok(run, 'create a hash:ip', 'create b hash:ip');
  const refs = new Map([['a', 2]]);
  store.setRefCounter((n) => refs.get(n) ?? 0);
  assert.match(run('list -t a').stdout, /References: 2\n/);
  assert.equal(run('destroy a').stderr, 'ipset v7.17: Set cannot be destroyed: it is in use by a kernel component\n');
  assert.equal(run('rename a c').stderr, 'ipset v7.17: Set cannot be renamed: it is in use by another system\n');
  assert.equal(run('destroy').code, 1);
  assert.deepEqual(store.names(), ['a', 'b']);
  ok(run, 'swap a b'); // allowed: the references stay with the name
  refs.clear();
  ok(run, 'destroy a');
  assert.equal(store.exists('a'), false);
  assert.equal(store.exists('b'), true);
});

test('slots: a new set takes the first free slot; list:set sets come last in dumps', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip', 'create L list:set', 'create b hash:ip', 'create c hash:ip', 'destroy b', 'create z hash:ip', 'create n hash:net');
  assert.equal(run('list -n').stdout, 'a\nz\nc\nn\nL\n');
});

function runOn(s: IpsetStore, line: string | string[]): string {
  const argv = typeof line === 'string' ? line.split(' ') : line;
  return ipset(['ipset', ...argv], '', s).stdout;
}

test('toJSON / fromJSON and clone keep everything, clones are independent', () => {
  let now = 100;
  const { run, store } = lab({ seed: 9, now: () => now });
  ok(run, 'create a hash:ip counters comment timeout 50 hashsize 64', 'create n hash:net,port', 'create L list:set comment');
  for (let i = 0; i < 300; i++) ok(run, `add a 10.0.${i >> 8}.${i & 255}`);
  ok(run, 'del a 10.0.0.7', 'add n 10.0.0.0/24,80 nomatch', 'add n 10.0.0.0/16,udp:53', 'add L a');
  assert.equal(run(['add', 'a', '1.2.3.4', 'comment', 'a b', 'packets', '18446744073709551614']).code, 0);
  const before = run('list').stdout;
  const copy = IpsetStore.fromJSON(JSON.parse(JSON.stringify(store.toJSON())), { now: () => now });
  assert.equal(runOn(copy, 'list'), before);
  assert.match(before, /1\.2\.3\.4 timeout 50 packets 18446744073709551614 bytes 0 comment "a b"\n/);
  // Further operations behave the same on both (bucket layout and deleted slots included).
  for (const s of [store, copy]) {
    runOn(s, 'add a 10.0.0.7');
    runOn(s, 'del a 10.0.0.9');
    runOn(s, 'add a 10.0.9.9');
  }
  assert.equal(runOn(copy, 'list'), runOn(store, 'list'));
  now = 160; // everything timed out
  assert.equal(runOn(copy, 'list -t a'), runOn(store, 'list -t a'));
  assert.match(runOn(store, 'list -t a'), /Number of entries: 0\n/);
  const c = store.clone();
  runOn(c, 'flush n');
  assert.match(runOn(c, 'list -t n'), /Number of entries: 0\n/);
  assert.match(runOn(store, 'list -t n'), /Number of entries: 2\n/);
});

test('the sort comparator orders numbers, prefixes and words like the tool', () => {
  const sorted = ['10.0.0.10\n', '10.0.0.9\n', '9.0.0.1\n', '100.0.0.1\n'].sort((a, b) => bystrcmp(a, b));
  assert.deepEqual(sorted, ['9.0.0.1\n', '10.0.0.9\n', '10.0.0.10\n', '100.0.0.1\n']);
  const nets = ['10.0.0.0/24\n', '10.0.0.0/25\n', '10.0.0.0\n'].sort((a, b) => bystrcmp(a, b));
  assert.deepEqual(nets, ['10.0.0.0\n', '10.0.0.0/25\n', '10.0.0.0/24\n']);
  assert.ok(bystrcmp('1.1.1.1,tcp:80\n', '1.1.1.1,icmp:echo-request\n') < 0);
  assert.ok(bystrcmp('1.1.1.1,200:0\n', '1.1.1.1,tcp:80\n') < 0);
});
