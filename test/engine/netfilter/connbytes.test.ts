// -m connbytes: option parsing with iptables 1.8.9's messages and exit statuses, the
// iptables-save / -S / -L / -L -n -v texts (as the real tool printed them: see
// test/kernel/modules-extra-format.test.ts and test/kernel/connbytes-compare.test.ts), and the
// kernel's matching on the conntrack entry's counters, through walks of a lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../../main/engine/lab.ts';
import { connbytesMatch } from '../../../main/engine/netfilter/matches/connbytes.ts';
import { MATCHES } from '../../../main/engine/netfilter/matches/index.ts';
import { labDoc, type JournalSketch } from '../../kernel/harness/labdoc.ts';
import { ctView, fakeHost, matchCtx, parseError, parseOpts } from './modules-extra-driver.ts';

const A = '192.168.9.10';
const B = '192.168.9.20';

function lab(journal: JournalSketch[] = [], acct = true): Lab {
  return Lab.fromDoc(
    labDoc({
      hosts: {
        a: { links: [`eth0 lan1 ${A}/24`] },
        b: { links: [`eth0 lan1 ${B}/24`], listen: ['udp/5353', 'tcp/8080'] },
      },
      journal: [['b', `sysctl -w net.netfilter.nf_conntrack_acct=${acct ? 1 : 0}`], ...journal],
    }),
  );
}

function sh(l: Lab, host: string, cmd: string) {
  return l.exec(host, cmd.trim().split(/\s+/), '');
}

function ok(l: Lab, host: string, cmd: string): string {
  const r = sh(l, host, cmd);
  assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** The packet counts of the rules of `chain` in `table`, in rule order. */
function counts(l: Lab, host: string, table: string, chain: string): number[] {
  return ok(l, host, `iptables-save -c -t ${table}`)
    .split('\n')
    .filter((x) => x.includes(`-A ${chain} `))
    .map((x) => Number(/^\[(\d+):/.exec(x)?.[1]));
}

const ping = (l: Lab, id: number) => l.trace({ from: 'a', to: B, proto: 'icmp', sport: id, keep: true }).json;

const CB = (range: string, dir: string, mode: string) => `-m connbytes ${range} --connbytes-dir ${dir} --connbytes-mode ${mode}`;

test('connbytes is a registered match', () => {
  assert.equal(MATCHES.get('connbytes'), connbytesMatch);
});

test('iptables -S / iptables-save: range, then mode, then direction; the upper end left out when 0 or 2^64-1', () => {
  const l = lab();
  const rules: [string, string][] = [
    [CB('--connbytes 10:20', 'both', 'bytes') + ' -j ACCEPT', '-m connbytes --connbytes 10:20 --connbytes-mode bytes --connbytes-dir both -j ACCEPT'],
    [CB('! --connbytes 10', 'original', 'packets'), '-m connbytes ! --connbytes 10 --connbytes-mode packets --connbytes-dir original'],
    // a `!` swaps the ends; with equal ends there is nothing to tell, and it is lost
    [CB('! --connbytes 5:5', 'reply', 'avgpkt'), '-m connbytes --connbytes 5:5 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('--connbytes :7', 'reply', 'avgpkt'), '-m connbytes --connbytes 0:7 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('--connbytes 7:', 'reply', 'avgpkt'), '-m connbytes --connbytes 7 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('--connbytes 0:0', 'both', 'packets'), '-m connbytes --connbytes 0 --connbytes-mode packets --connbytes-dir both'],
    [CB('--connbytes 0x10:0x20', 'reply', 'avgpkt'), '-m connbytes --connbytes 16:32 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('--connbytes 0:18446744073709551615', 'reply', 'avgpkt'), '-m connbytes --connbytes 0 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('! --connbytes 3:18446744073709551615', 'reply', 'avgpkt'), '-m connbytes ! --connbytes 3 --connbytes-mode avgpkt --connbytes-dir reply'],
    [CB('--connbytes 3:18446744073709551614', 'reply', 'packets'), '-m connbytes --connbytes 3:18446744073709551614 --connbytes-mode packets --connbytes-dir reply'],
    [CB('! --connbytes 0', 'both', 'bytes'), '-m connbytes ! --connbytes 0 --connbytes-mode bytes --connbytes-dir both'],
  ];
  for (const [given] of rules) ok(l, 'b', `iptables -A INPUT ${given}`);
  const S = ok(l, 'b', 'iptables -S INPUT').split('\n');
  assert.deepEqual(S, ['-P INPUT ACCEPT', ...rules.map(([, want]) => `-A INPUT ${want}`), '']);
  const saved = ok(l, 'b', 'iptables-save -t filter').split('\n').filter((x) => x.startsWith('-A'));
  assert.deepEqual(saved, rules.map(([, want]) => `-A INPUT ${want}`));
  // and the saved text reads back to itself
  const l2 = lab();
  const r = l2.exec('b', ['iptables-restore'], ok(l, 'b', 'iptables-save -t filter'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ok(l2, 'b', 'iptables -S INPUT').split('\n'), S);
});

test('iptables -L and -L -n -v: "connbytes R connbytes mode M connbytes direction D", a `!` before', () => {
  const l = lab();
  ok(l, 'b', `iptables -A INPUT ${CB('--connbytes 10:20', 'both', 'bytes')} -j ACCEPT`);
  ok(l, 'b', `iptables -A INPUT ${CB('! --connbytes 10', 'original', 'packets')}`);
  assert.equal(
    ok(l, 'b', 'iptables -L INPUT'),
    'Chain INPUT (policy ACCEPT)\n' +
      'target     prot opt source               destination         \n' +
      'ACCEPT     all  --  anywhere             anywhere             connbytes 10:20 connbytes mode bytes connbytes direction both\n' +
      '           all  --  anywhere             anywhere             ! connbytes 10 connbytes mode packets connbytes direction original\n',
  );
  assert.equal(
    ok(l, 'b', 'iptables -L INPUT -n -v'),
    'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n' +
      ' pkts bytes target     prot opt in     out     source               destination         \n' +
      '    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            connbytes 10:20 connbytes mode bytes connbytes direction both\n' +
      '    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0            ! connbytes 10 connbytes mode packets connbytes direction original\n',
  );
});

test('parse errors: the real messages and exit status 2', () => {
  const l = lab();
  const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";
  const cases: [string, string][] = [
    ['--connbytes 10', 'connbytes: option "--connbytes-dir" must be specified\n\n'],
    ['--connbytes 10 --connbytes-dir both', 'connbytes: option "--connbytes-mode" must be specified\n\n'],
    ['--connbytes-dir both --connbytes-mode bytes', 'connbytes: option "--connbytes" must be specified\n\n'],
    ['--connbytes 20:10 --connbytes-dir both --connbytes-mode bytes', '20 should be less than 10\n'],
    ['--connbytes 10:0 --connbytes-dir both --connbytes-mode bytes', '10 should be less than 0\n'],
    ['--connbytes 10 --connbytes-dir Both --connbytes-mode bytes', "Unknown --connbytes-dir `Both'\n"],
    ['--connbytes 10 --connbytes-dir both --connbytes-mode pkts', "Unknown --connbytes-mode `pkts'\n"],
    ['--connbytes x --connbytes-dir both --connbytes-mode bytes', 'connbytes: bad value for option "--connbytes" near "x", or out of range (0-18446744073709551615).\n\n'],
    ['--connbytes -1 --connbytes-dir both --connbytes-mode bytes', 'connbytes: bad value for option "--connbytes" near "-1", or out of range (0-18446744073709551615).\n\n'],
    ['--connbytes 18446744073709551616 --connbytes-dir both --connbytes-mode bytes', 'connbytes: bad value for option "--connbytes" near "18446744073709551616", or out of range (0-18446744073709551615).\n\n'],
    ['--connbytes 1:2:3 --connbytes-dir both --connbytes-mode bytes', 'connbytes: Too many components for option "--connbytes" (max: 2)\n\n'],
    ['--connbytes 5x --connbytes-dir both --connbytes-mode bytes', 'connbytes: Argument to "--connbytes" has unexpected characters near "x".\n\n'],
    ['--connbytes 1 --connbytes 2 --connbytes-dir both --connbytes-mode bytes', 'connbytes: option "--connbytes" can only be used once.\n\n'],
    ['--connbytes 1 ! --connbytes-dir both --connbytes-mode bytes', 'connbytes: option "--connbytes-dir" cannot be inverted.\n\n'],
    ['--connbytes 1 --connbytes-dir both --connbytes-dir reply --connbytes-mode bytes', 'connbytes: option "--connbytes-dir" can only be used once.\n\n'],
  ];
  for (const [opts, msg] of cases) {
    const r = sh(l, 'b', `iptables -A INPUT -m connbytes ${opts}`);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', `iptables v1.8.9 (nf_tables): ${msg}${TRY}`], opts);
  }
  assert.equal(ok(l, 'b', 'iptables -S INPUT'), '-P INPUT ACCEPT\n');
  // an empty range is 0 (xtables reads no component as its default)
  assert.equal(parseError(connbytesMatch, ['--connbytes', '', '--connbytes-dir', 'both', '--connbytes-mode', 'bytes']), '');
  assert.equal(connbytesMatch.save(parseOpts(connbytesMatch, ['--connbytes', ':', '--connbytes-dir', 'both', '--connbytes-mode', 'bytes'])), ' --connbytes 0 --connbytes-mode bytes --connbytes-dir both');
});

test('the counters include the packet itself: conntrack counted it before mangle, nat and filter; raw sees no entry', () => {
  const l = lab([
    ['b', `iptables -t raw -A PREROUTING -p icmp ${CB('--connbytes 0', 'both', 'packets')}`],
    ['b', `iptables -t mangle -A PREROUTING -p icmp ${CB('--connbytes 1:1', 'original', 'packets')}`],
    ['b', `iptables -t mangle -A PREROUTING -p icmp ${CB('--connbytes 0:0', 'original', 'packets')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 2:2', 'original', 'packets')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 84:84', 'both', 'avgpkt')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 168', 'original', 'bytes')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 1:1', 'reply', 'packets')}`],
    ['b', `iptables -A OUTPUT -p icmp ${CB('--connbytes 1:1', 'reply', 'packets')}`],
    ['b', `iptables -A OUTPUT -p icmp ${CB('--connbytes 2', 'both', 'packets')}`],
  ]);
  for (let i = 0; i < 3; i++) assert.equal(ping(l, 7).reply?.outcome, 'delivered');
  assert.deepEqual(counts(l, 'b', 'raw', 'PREROUTING'), [0]);
  assert.deepEqual(counts(l, 'b', 'mangle', 'PREROUTING'), [1, 0]);
  // requests see original 1, 2, 3 (and reply 0, 1, 2); replies reply 1, 2, 3
  assert.deepEqual(counts(l, 'b', 'filter', 'INPUT'), [1, 3, 2, 1]);
  assert.deepEqual(counts(l, 'b', 'filter', 'OUTPUT'), [1, 3]);
});

test('inverted ranges, the lost `!` of equal ends, avgpkt over both directions, and a DROP on the fourth request', () => {
  const l = lab([
    ['b', `iptables -A INPUT -p icmp ${CB('! --connbytes 3', 'original', 'packets')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('! --connbytes 2:2', 'original', 'packets')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('! --connbytes 100:200', 'both', 'bytes')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 85', 'both', 'avgpkt')}`],
    ['b', `iptables -A INPUT -p icmp ${CB('--connbytes 4', 'original', 'packets')} -j DROP`],
  ]);
  const outcomes = [0, 1, 2, 3, 4].map(() => ping(l, 9).reply?.outcome ?? 'no reply');
  assert.deepEqual(outcomes, ['delivered', 'delivered', 'delivered', 'no reply', 'no reply']);
  // original packets 1..5: <3 twice; ==2 once; both bytes 84,252,420,588,672: outside 100:200
  // five times (168 is the reply's), avgpkt 84 never above 85
  assert.deepEqual(counts(l, 'b', 'filter', 'INPUT'), [2, 1, 5, 0, 2]);
});

test('loading a connbytes rule turns nf_conntrack_acct on; an entry made before has no counters and is never matched', () => {
  // (a conntrack match keeps b tracking before the connbytes rules come)
  const l = lab([['b', 'iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED']], false);
  ping(l, 3);
  assert.equal(ok(l, 'b', 'sysctl -n net.netfilter.nf_conntrack_acct'), '0\n');
  ok(l, 'b', `iptables -A INPUT -p icmp ${CB('--connbytes 0', 'both', 'packets')}`);
  ok(l, 'b', `iptables -A INPUT -p icmp ${CB('! --connbytes 0', 'both', 'packets')}`);
  assert.equal(ok(l, 'b', 'sysctl -n net.netfilter.nf_conntrack_acct'), '1\n', 'forced on, as xt_connbytes does');
  ping(l, 3); // the same entry: still no counters
  assert.deepEqual(counts(l, 'b', 'filter', 'INPUT').slice(1), [0, 0]);
  ping(l, 4); // a new entry: counters
  assert.deepEqual(counts(l, 'b', 'filter', 'INPUT').slice(1), [1, 0]);
  // (a rule that only names it in a comment forces nothing; iptables-restore forces it too)
  const m = lab([['b', 'iptables -A INPUT -m comment --comment connbytes -j ACCEPT']], false);
  assert.equal(ok(m, 'b', 'sysctl -n net.netfilter.nf_conntrack_acct'), '0\n');
  assert.equal(m.exec('b', ['iptables-restore', '--noflush'], `*mangle\n-A PREROUTING ${CB('--connbytes 1:1', 'original', 'packets')}\nCOMMIT\n`).code, 0);
  assert.equal(ok(m, 'b', 'sysctl -n net.netfilter.nf_conntrack_acct'), '1\n');
});

test('the module itself: no entry, an untracked or invalid packet, and the words of a miss', () => {
  const host = fakeHost();
  const d = parseOpts(connbytesMatch, ['--connbytes', '2:4', '--connbytes-dir', 'both', '--connbytes-mode', 'packets']);
  const entry = { acct: true, counters: { ORIGINAL: { packets: 2, bytes: 120 }, REPLY: { packets: 1, bytes: 60 } } };
  const withEntry = (e: { acct: boolean; counters: object } | undefined, state: 'ESTABLISHED' | 'INVALID' | 'UNTRACKED' = 'ESTABLISHED') =>
    matchCtx(host, { ct: Object.assign(ctView({ state }), { counters: e?.acct ? e.counters : null }) });
  assert.equal(connbytesMatch.match(d, withEntry(entry)), true);
  assert.equal(connbytesMatch.why(d, withEntry({ ...entry, counters: { ...entry.counters, REPLY: { packets: 3, bytes: 1 } } })), 'connbytes packets both = 5, not in connbytes 2:4');
  assert.equal(connbytesMatch.match(d, withEntry({ ...entry, acct: false })), false);
  assert.equal(connbytesMatch.why(d, withEntry({ ...entry, acct: false })), 'conntrack entry without counters (acct off when it was made)');
  assert.equal(connbytesMatch.match(d, withEntry(entry, 'UNTRACKED')), false);
  assert.equal(connbytesMatch.match(d, withEntry(entry, 'INVALID')), false);
  assert.equal(connbytesMatch.match(d, matchCtx(host, { ct: null })), false);
  assert.equal(connbytesMatch.why(d, matchCtx(host, { ct: null })), 'no conntrack entry');
  // avgpkt: integer division, 0 without packets
  const avg = parseOpts(connbytesMatch, ['--connbytes', '0:0', '--connbytes-dir', 'reply', '--connbytes-mode', 'avgpkt']);
  assert.equal(connbytesMatch.match(avg, withEntry({ acct: true, counters: { ORIGINAL: { packets: 1, bytes: 9 }, REPLY: { packets: 0, bytes: 0 } } })), true);
  const avg2 = parseOpts(connbytesMatch, ['--connbytes', '33:33', '--connbytes-dir', 'both', '--connbytes-mode', 'avgpkt']);
  assert.equal(connbytesMatch.match(avg2, withEntry({ acct: true, counters: { ORIGINAL: { packets: 2, bytes: 60 }, REPLY: { packets: 1, bytes: 40 } } })), true);
  // `! a:b` with b near 2^64: still what < a || what > b
  const big = parseOpts(connbytesMatch, ['!', '--connbytes', '18446744073709551614:18446744073709551615', '--connbytes-dir', 'both', '--connbytes-mode', 'bytes']);
  assert.equal(connbytesMatch.match(big, withEntry(entry)), true);
});
