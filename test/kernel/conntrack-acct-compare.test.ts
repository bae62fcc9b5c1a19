// net.netfilter.nf_conntrack_acct, on the engine and on the real kernel: two hosts on a LAN, the
// server b tracking connections (a conntrack match in its INPUT). Connections are made while
// b's nf_conntrack_acct is 0, then while it is 1, then after it is 0 again, and b's conntrack
// table is listed after each phase (`conntrack -L`, and `-o extended`, `-o id`, `-o xml` with the
// counters on): only the entries made while it was 1 show `packets= bytes=` after each
// direction's tuple, an entry made by hand then with zero counters, and they go on counting
// after it is turned off. (And it takes 0 or 1 only.)
//
// The packets are the same on both sides, byte for byte in length, since the counters count
// bytes: an ICMP echo of 56 data bytes (84 in all, harness/icmp-echo.pl with a fixed echo id,
// the engine's trace id), a UDP datagram of 4 bytes answered with the same 4 (32 in all) and a
// TCP handshake (a Linux SYN and SYN,ACK with their options are 60 bytes, the ACK 52) held open
// while the tables are listed. The kernel side's servers are our own (one script in b) rather
// than the harness agent's, which answers with text of another length or closes at once: the
// kernel lab is built from the document with b's listening ports left out, which is all that
// differs.
//
// Normalisations, as the other conntrack comparisons: the timeout (the kernel's clock runs on),
// the entry id of `-o id` and `-o xml` (the kernel's is a hash), and the order of the lines (the
// kernel dumps in hash order).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { checkKernelPrereqs } from './harness/netns.ts';
import { PAIR, TCP_CLIENT, UDP_CLIENT, echoPair, startScript } from './harness/node-scripts.ts';

const ICMP_ECHO = fileURLToPath(new URL('./harness/icmp-echo.pl', import.meta.url));
const { A, B, UDP_PORT, TCP_PORT } = PAIR;


/** The lines of a listing, normalised where the kernel's own choices show, sorted. */
function normal(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('<?xml') && l !== '<conntrack>' && l !== '</conntrack>')
    .map((l) =>
      l
        .replace(/^((?:ipv4 +2 +)?\w+ +\d+ +)\d+ /, '$1T ')
        .replace(/ id=\d+$/, ' id=*')
        .replace(/<timeout>\d+<\/timeout>/, '<timeout>T</timeout>')
        .replace(/<id>\d+<\/id>/, '<id>*</id>'),
    )
    .sort();
}

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

test('nf_conntrack_acct: counters for the entries made while it is on, in every listing, as the kernel shows them', async () => {
  const { engine, kernel, nsA, stops, destroy } = await echoPair();
  try {
    const acct = async (v: number) => {
      assert.equal((await kernel.exec('b', ['sysctl', '-w', `net.netfilter.nf_conntrack_acct=${v}`])).code, 0);
      assert.equal(engine.exec('b', ['sysctl', '-w', `net.netfilter.nf_conntrack_acct=${v}`], '').code, 0);
    };
    const ping = async (id: number) => {
      const k = await kernel.exec('a', ['perl', ICMP_ECHO, B, '-', '2000', '56', String(id)]);
      assert.equal(k.stdout.trim(), `reply ${B}`, `echo id ${id}: ${k.stderr}`);
      const t = engine.trace({ from: 'a', to: B, proto: 'icmp', sport: id, keep: true }).json;
      assert.equal(t.reply?.outcome, 'delivered', `engine echo id ${id}: ${t.outcome} ${t.reason}`);
    };
    const udp = async (sport: number) => {
      const k = await kernel.exec('a', [process.execPath, '--input-type=module', '-e', UDP_CLIENT, B, String(UDP_PORT), String(sport), '3000']);
      assert.equal(k.stdout.trim(), 'ok', `udp from ${sport}: ${k.stderr}`);
      const t = engine.trace({ from: 'a', to: `${B}:${UDP_PORT}`, proto: 'udp', sport, keep: true }).json;
      assert.equal(t.reply?.outcome, 'delivered', `engine udp from ${sport}: ${t.outcome} ${t.reason}`);
    };
    const tcp = async (sport: number) => {
      const c = await startScript(nsA, TCP_CLIENT, [B, String(TCP_PORT), String(sport)]);
      stops.push(c.stop);
      assert.equal(c.first, 'up', `tcp from ${sport}`);
      const t = engine.trace({ from: 'a', to: `${B}:${TCP_PORT}`, proto: 'tcp', sport, keep: true }).json;
      assert.equal(t.ack?.outcome, 'delivered', `engine tcp from ${sport}: ${t.outcome} ${t.reason}`);
    };
    const compare = async (what: string, args: string[] = []) => {
      const k = await kernel.exec('b', ['conntrack', '-L', ...args]);
      assert.equal(k.code, 0, k.stderr);
      const e = engine.exec('b', ['conntrack', '-L', ...args], '');
      assert.deepEqual(normal(e.stdout), normal(k.stdout), `${what}: conntrack -L ${args.join(' ')} of b\n--- kernel\n${k.stdout}--- engine\n${e.stdout}`);
      return k.stdout;
    };

    // 1. acct off: no counters
    await ping(7);
    await udp(40001);
    const off = await compare('made while off');
    assert.doesNotMatch(off, /packets=/);

    // 2. acct on: what is made now has counters; what was made before still has none
    await acct(1);
    // (0 and 1 are all it takes)
    for (const v of ['2', '-1']) {
      const argv = ['sysctl', '-w', `net.netfilter.nf_conntrack_acct=${v}`];
      const k = await kernel.exec('b', argv);
      const e = engine.exec('b', argv, '');
      assert.deepEqual([e.code, e.stdout, e.stderr], [k.code, k.stdout, k.stderr], argv.join(' '));
    }
    await compare('just turned on');
    await ping(8);
    await udp(40002);
    await tcp(40003);
    const insert = ['-I', '-p', 'udp', '-s', A, '-d', B, '--sport', '1000', '--dport', '2000', '-t', '100'];
    assert.equal((await kernel.exec('b', ['conntrack', ...insert])).code, 0);
    assert.equal(engine.exec('b', ['conntrack', ...insert], '').code, 0);
    const on = await compare('made while on');
    assert.match(on, / id=8 packets=1 bytes=84 src=.* id=8 packets=1 bytes=84 mark=0 use=1\n/);
    assert.match(on, / sport=40002 dport=5353 packets=1 bytes=32 src=.* packets=1 bytes=32 mark=0 use=1\n/);
    assert.match(on, / sport=40003 dport=8080 packets=2 bytes=112 src=.* packets=1 bytes=60 \[ASSURED\] mark=0 use=1\n/);
    assert.match(on, / dport=2000 packets=0 bytes=0 \[UNREPLIED\] src=.* packets=0 bytes=0 mark=0 use=1\n/);
    assert.doesNotMatch(on.split('\n').filter((l) => / id=7 | sport=40001 /.test(l)).join('\n'), /packets=/);
    for (const o of ['extended', 'id', 'extended,id', 'xml']) await compare('made while on', ['-o', o]);
    const get = ['-G', '-p', 'udp', '-s', A, '-d', B, '--sport', '40002', '--dport', String(UDP_PORT)];
    const kg = await kernel.exec('b', ['conntrack', ...get]);
    assert.deepEqual(normal(engine.exec('b', ['conntrack', ...get], '').stdout), normal(kg.stdout), 'conntrack -G');

    // 3. off again: the entries keep their counters and go on counting; new ones get none
    await acct(0);
    await ping(8);
    await ping(9);
    const again = await compare('after turning it off');
    assert.match(again, / id=8 packets=2 bytes=168 src=.* id=8 packets=2 bytes=168 mark=0 use=1\n/);
    assert.doesNotMatch(again.split('\n').filter((l) => / id=9 /.test(l)).join('\n'), /packets=/);
  } finally {
    await destroy();
  }
});
