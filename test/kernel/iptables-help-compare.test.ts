// `iptables -h` with modules loaded before it, against the real iptables 1.8.9: the help of
// every match and target module the lab has (main/engine/shell/iptables-module-help.ts), and
// how the tool puts them together (the target's first, then the matches in order; a protocol's
// when no match was named, by name only; nothing for a chain, or for modules after -h).
// Runs in a network namespace of its own; needs root and iptables, fails (does not skip)
// without them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MATCHES } from '../../main/engine/netfilter/matches/index.ts';
import { TARGETS } from '../../main/engine/netfilter/targets/index.ts';
import { Netfilter } from '../../main/engine/netfilter/ruleset.ts';
import { iptables, iptablesRestore } from '../../main/engine/shell/iptables.ts';

const NS = `kplhelp${process.pid}`;

const sh = (argv: string[]) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
};

before(() => assert.equal(sh(['ip', 'netns', 'add', NS]).code, 0));
after(() => sh(['ip', 'netns', 'del', NS]));

test('iptables -h after -m/-p/-j: every module\'s help, in the real tool\'s order', () => {
  const lines = [
    ...[...MATCHES.keys()].map((m) => `-m ${m} -h`),
    ...[...TARGETS.keys()].map((t) => `-j ${t} -h`),
    '-j ACCEPT -h', '-j DROP -h', '-j FOO -h', '-g FOO -h', '-h -m ttl', '--help -m ttl', '-m ttl --help',
    '-p tcp -h', '-p UDP -h', '-p 6 -h', '-p all -h', '-p icmp -h',
    '-m ttl -p tcp -m quota -j TTL -h', '-p udp -m conntrack -h', '-m recent -m statistic -j CT -h', '-p sctp -j MASQUERADE -h',
  ];
  for (const line of lines) {
    const argv = ['iptables', ...line.split(' ')];
    const real = sh(['ip', 'netns', 'exec', NS, ...argv]);
    const mine = iptables(argv, '', new Netfilter());
    assert.deepEqual([mine.stdout, mine.stderr, mine.code], [real.stdout, real.stderr, real.code], line);
  }
});

test('iptables-restore -h: iptables-nft-restore\'s usage, on stderr', () => {
  for (const flag of ['-h', '--help']) {
    const real = sh(['ip', 'netns', 'exec', NS, 'iptables-restore', flag]);
    const mine = iptablesRestore(['iptables-restore', flag], '', new Netfilter());
    assert.deepEqual([mine.stdout, mine.stderr, mine.code], [real.stdout, real.stderr, real.code], flag);
  }
});
