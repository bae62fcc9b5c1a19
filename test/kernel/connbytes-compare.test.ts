// -m connbytes on the engine and on the real kernel: two hosts on a LAN, the server b with
// connbytes rules in raw, mangle and filter (INPUT and OUTPUT; counting rules and one DROP).
// Real packets go from a to b (ICMP echoes of 84 bytes with a fixed id, harness/icmp-echo.pl;
// UDP datagrams of 32 bytes answered with the same, a TCP handshake held open), repeated on the
// same conntrack entry, and after each phase b's rule counters (`iptables-save -c`, which also
// compares the rules' text byte for byte) and conntrack table (with its packets= bytes=) must
// equal the engine's, as must each probe's verdict (answered or not).
//
// What it shows of the kernel:
// - the packet is counted by conntrack before mangle/filter see it (a mangle PREROUTING rule
//   for exactly 1 original packet matches the first request), and raw sees no entry at all;
// - `! --connbytes 2:2` is not inverted (the `!` swaps two equal ends), `! a` is what < a;
// - loading a connbytes rule turns net.netfilter.nf_conntrack_acct on ("xt_connbytes: Forcing
//   CT accounting to be enabled"; the engine's iptables does it too), but an entry made before
//   that has no counters and is never matched, whatever the range;
// - a dropped request was counted all the same (the DROP at the 4th request drops the 5th).
//

import { test } from 'node:test';
import assert from 'node:assert/strict';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { compareHostTables } from './harness/host-tables.ts';
import { checkKernelPrereqs } from './harness/netns.ts';
import { PAIR, TCP_CLIENT, UDP_CLIENT, echoPair, startScript } from './harness/node-scripts.ts';

const ICMP_ECHO = fileURLToPath(new URL('./harness/icmp-echo.pl', import.meta.url));
const { B, UDP_PORT, TCP_PORT } = PAIR;

const CB = (range: string, dir: string, mode: string) => ['-m', 'connbytes', ...range.split(' '), '--connbytes-dir', dir, '--connbytes-mode', mode];

/** The connbytes rules of b, loaded after the first connection was made. */
const RULES: string[][] = [
  ['-t', 'raw', '-A', 'PREROUTING', '-p', 'icmp', ...CB('--connbytes 0', 'both', 'packets')],
  ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'icmp', ...CB('--connbytes 1:1', 'original', 'packets')],
  ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', ...CB('--connbytes 0:0', 'original', 'packets')],
  ['-A', 'INPUT', '-p', 'udp', ...CB('--connbytes 0', 'both', 'packets')],
  ['-A', 'INPUT', '-p', 'udp', ...CB('--connbytes 2', 'original', 'packets')],
  ['-A', 'INPUT', '-p', 'udp', ...CB('! --connbytes 1', 'reply', 'packets')],
  ['-A', 'INPUT', '-p', 'udp', ...CB('--connbytes 32:32', 'both', 'avgpkt')],
  ['-A', 'INPUT', '-p', 'icmp', ...CB('! --connbytes 3', 'original', 'packets')],
  ['-A', 'INPUT', '-p', 'icmp', ...CB('! --connbytes 2:2', 'original', 'packets')],
  ['-A', 'INPUT', '-p', 'icmp', ...CB('! --connbytes 100:200', 'both', 'bytes')],
  ['-A', 'INPUT', '-p', 'icmp', ...CB('--connbytes 168', 'original', 'bytes')],
  ['-A', 'INPUT', '-p', 'icmp', ...CB('--connbytes 4', 'original', 'packets'), '-j', 'DROP'],
  ['-A', 'INPUT', '-p', 'tcp', ...CB('--connbytes 2:2', 'original', 'packets')],
  ['-A', 'INPUT', '-p', 'tcp', ...CB('--connbytes 60:60', 'both', 'avgpkt')],
  ['-A', 'OUTPUT', '-p', 'icmp', ...CB('--connbytes 1:1', 'reply', 'packets')],
  ['-A', 'OUTPUT', '-p', 'tcp', ...CB('--connbytes 60:60', 'both', 'avgpkt')],
  ['-A', 'OUTPUT', '-p', 'tcp', ...CB('--connbytes 120', 'both', 'bytes')],
  ['-A', 'OUTPUT', '-p', 'udp', ...CB('--connbytes 2', 'both', 'packets')],
  ['-A', 'OUTPUT', '-p', 'udp', ...CB('--connbytes 18446744073709551614:18446744073709551615', 'both', 'bytes')],
];

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

test('connbytes: per-rule counters, verdicts and conntrack counters equal the kernel, phase by phase', { timeout: 120_000 }, async () => {
  const { engine, kernel, nsA, stops, destroy } = await echoPair();
  try {
    const ping = async (id: number, answered: boolean) => {
      const k = await kernel.exec('a', ['perl', ICMP_ECHO, B, '-', answered ? '2000' : '600', '56', String(id)]);
      assert.equal(k.stdout.trim(), answered ? `reply ${B}` : 'timeout', `kernel echo id ${id}: ${k.stderr}`);
      const t = engine.trace({ from: 'a', to: B, proto: 'icmp', sport: id, keep: true }).json;
      assert.equal(t.reply?.outcome === 'delivered', answered, `engine echo id ${id}: ${t.outcome} ${t.reason}`);
    };
    const udp = async (sport: number) => {
      const k = await kernel.exec('a', [process.execPath, '--input-type=module', '-e', UDP_CLIENT, B, String(UDP_PORT), String(sport), '1500']);
      assert.equal(k.stdout.trim(), 'ok', `kernel udp from ${sport}: ${k.stderr}`);
      const t = engine.trace({ from: 'a', to: `${B}:${UDP_PORT}`, proto: 'udp', sport, keep: true }).json;
      assert.equal(t.reply?.outcome, 'delivered', `engine udp from ${sport}: ${t.outcome} ${t.reason}`);
    };
    const tcp = async (sport: number) => {
      const c = await startScript(nsA, TCP_CLIENT, [B, String(TCP_PORT), String(sport)]);
      stops.push(c.stop);
      assert.equal(c.first, 'up', `kernel tcp from ${sport}`);
      const t = engine.trace({ from: 'a', to: `${B}:${TCP_PORT}`, proto: 'tcp', sport, keep: true }).json;
      assert.equal(t.ack?.outcome, 'delivered', `engine tcp from ${sport}: ${t.outcome} ${t.reason}`);
    };
    const acct = async () => {
      const k = await kernel.exec('b', ['sysctl', '-n', 'net.netfilter.nf_conntrack_acct']);
      const e = engine.exec('b', ['sysctl', '-n', 'net.netfilter.nf_conntrack_acct'], '');
      return { kernel: k.stdout.trim(), engine: e.stdout.trim() };
    };
    const compare = (what: string) => compareHostTables(what, kernel, engine, { hosts: ['b'] });

    // 1. before any connbytes rule: acct is off, the entry of sport 40001 gets no counters
    assert.deepEqual(await acct(), { kernel: '0', engine: '0' });
    await udp(40001);
    // (no -Z: it gives the kernel's INPUT chain a policy counter, which the engine's -Z does
    // not; the built-in chains' policies are left uncounted on both sides)
    await compare('before the rules');

    // 2. the rules: the same text on both sides (iptables-save compared below); the kernel
    //    turns acct on as it loads the first one
    for (const r of RULES) {
      const k = await kernel.exec('b', ['iptables', ...r]);
      const e = engine.exec('b', ['iptables', ...r], '');
      assert.deepEqual([e.code, e.stdout, e.stderr], [k.code, k.stdout, k.stderr], r.join(' '));
      assert.equal(k.code, 0, k.stderr);
    }
    assert.deepEqual(await acct(), { kernel: '1', engine: '1' }, 'loading a connbytes rule forces nf_conntrack_acct on');
    await compare('rules loaded');

    // 3. the old entry: no counters, no connbytes rule matches it (the mangle 0:0 included)
    await udp(40001);
    await udp(40001);
    await compare('entry made before the rules');

    // 4. new entries: UDP three times on one entry, echoes five times on one (the 4th and
    //    5th dropped), one echo on another
    await udp(40002);
    await compare('udp 40002, 1st');
    await udp(40002);
    await udp(40002);
    await compare('udp 40002, 3rd');
    await ping(7, true);
    await compare('echo id 7, 1st');
    await ping(7, true);
    await ping(7, true);
    await compare('echo id 7, 3rd');
    await ping(7, false);
    await ping(7, false);
    await compare('echo id 7, 5th (dropped twice)');
    await ping(8, true);
    await compare('echo id 8');
    // a TCP handshake held open: SYN 60, SYN,ACK 60, ACK 52 bytes
    await tcp(40003);
    const k = await compare('tcp handshake');

    // the counts the kernel gave, so a change on both sides is seen too
    const count = (needle: string) => Number(/^\[(\d+):/.exec(k.counters.b.find((l) => l.includes(needle)) ?? '')?.[1]);
    assert.equal(count('-A PREROUTING -p icmp -m connbytes --connbytes 0 '), 0, 'raw sees no entry');
    assert.equal(count('-A PREROUTING -p icmp -m connbytes --connbytes 1:1 '), 2, 'the first request of ids 7 and 8, counted before mangle');
    assert.equal(count('-A INPUT -p icmp -m connbytes --connbytes 4 '), 2, 'the 4th and 5th requests dropped');
    assert.equal(count('-p icmp -m connbytes --connbytes 2:2 --connbytes-mode packets --connbytes-dir original'), 1, '`! 2:2` is 2:2');
    assert.equal(count('-A INPUT -p tcp -m connbytes --connbytes 2:2 '), 1, 'the ACK');
    assert.equal(count('-A INPUT -p tcp -m connbytes --connbytes 60:60 '), 1, 'the SYN (avg 60), not the ACK (172/3)');
    assert.equal(count('-A OUTPUT -p tcp -m connbytes --connbytes 60:60 '), 1, 'the SYN,ACK (120/2)');
  } finally {
    await destroy();
  }
});
