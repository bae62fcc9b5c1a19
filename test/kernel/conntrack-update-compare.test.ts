// `conntrack -U` (and the -m/-u options it shares with -I, -L and -D) on the real kernel and
// conntrack-tools 1.4.7 against the lab's `conntrack`, command by command: stdout, stderr and
// exit status. Entries are made by hand (-I) in a network namespace of its own; nothing else
// runs there.
//
// What it pins down (see main/engine/shell/conntrack.ts, update):
// - without an address or -f the update carries no family and the kernel refuses it;
// - the mark is (mark & ~mask) ^ value, a -u after -m writes its bits into that value (and
//   into the mark -I sets and userspace filters with), status bits accumulate over -u options;
// - -t and a TCP --state are set too; only the entries that change are sent and counted;
// - which updated entries are printed: the 1st, 4th, 7th… update prints the 1st, 3rd, 5th…
//   entry (conntrack reads one answer per request, the get is answered twice).
//
// Normalised: timeouts (the kernel's clock runs on between commands: "T"), the kernel's entry
// ids (random), and the order of dumped entries (the kernel's is by hash, with a per-boot
// seed): -L output is compared as a sorted set, and an update of several entries by how many
// lines it printed and that each of them is one of the updated entries as -L shows them next.
//
// Needs root and the conntrack tool; fails (does not skip) without them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConntrackTable } from '../../main/engine/conntrack/table.ts';
import { conntrack } from '../../main/engine/shell/conntrack.ts';

const NS = `kplctu${process.pid}t`;

interface Out {
  stdout: string;
  stderr: string;
  code: number;
}

function sh(args: string[]): Out {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

const norm = (s: string): string =>
  s
    .replace(/^(ipv4 +2 +)?(\w+ +\d+) \d+ /gm, '$1$2 T ')
    .replace(/-t \d+ /g, '-t T ')
    .replace(/<timeout>\d+<\/timeout>/g, '<timeout>T</timeout>')
    .replace(/<id>\d+<\/id>/g, '<id/>');
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** How a step's stdout is compared: exactly, as a set of lines, or (an update of several
 *  entries, printed in the table's order) by count and membership in the next listing. */
type Mode = 'exact' | 'set' | 'some';

const STEPS: [string, Mode?][] = [
  ['-I -s 10.9.0.2 -d 10.9.1.1 -p tcp --sport 1 --dport 2 --state ESTABLISHED -t 100 -m 0x1234'],
  ['-I -s 10.9.0.2 -d 10.9.1.2 -p udp --sport 1 --dport 2 -t 100'],
  ['-I -s 10.9.0.2 -d 10.9.1.3 -p udp --sport 3 --dport 2 -t 100 -m 9 -u ASSURED'],
  ['-I -s 10.9.0.2 -d 10.9.1.4 -p tcp --sport 1 --dport 2 --state ESTABLISHED -t 100 -u ASSURED -u SEEN_REPLY'],
  ['-I -s 10.9.0.2 -d 10.9.1.5 -p udp --sport 5 --dport 2 -t 100'],
  ['-I -s 10.9.0.2 -d 10.9.1.6 -p udp --sport 6 --dport 2 -t 100'],
  ['-I -s 10.9.0.2 -d 10.9.1.7 -p udp --sport 7 --dport 2 -t 100'],
  ['-L', 'set'],
  // no family: refused
  ['-U -m 7'],
  ['-U -p tcp --status ASSURED'],
  ['-U -p udp -t 30'],
  // one entry: printed
  ['-U -s 10.9.0.2 -d 10.9.1.1 -m 0x70/0xf0 --status SEEN_REPLY'],
  ['-U -d 10.9.1.1 -m 0x50 --status ASSURED,SEEN_REPLY'],
  ['-U -d 10.9.1.1 -m 0x60 --status ASSURED --status SEEN_REPLY'],
  ['-U -d 10.9.1.1 -u ASSURED -m 0x99 -u SEEN_REPLY'],
  ['-L -d 10.9.1.1 -m 5 -u ASSURED,SEEN_REPLY'],
  ['-L -d 10.9.1.1 -m 6 -u ASSURED,SEEN_REPLY'],
  ['-L -d 10.9.1.1 -m 6 -u SEEN_REPLY'],
  ['-L -u ASSURED -u SEEN_REPLY', 'set'],
  ['-L -u SEEN_REPLY', 'set'],
  ['-D -d 10.9.1.1 -m 5 -u ASSURED,SEEN_REPLY'],
  ['-U -d 10.9.1.1 -p tcp --state CLOSE -m 3'],
  ['-U -f ipv6 -m 3'],
  ['-U -s 10.9.0.9 -m 3'],
  ['-U -d 10.9.1.5 -t 50'],
  ['-U -d 10.9.1.5 -t 50'],
  ['-U -d 10.9.1.5 -m 2 -o xml'],
  ['-U -d 10.9.1.5 -m 3 -o save'],
  ['-U -d 10.9.1.5 -m 4 -o extended'],
  // several entries: how many lines, and which ones
  ['-U -p udp -f ipv4 -m 6', 'some'],
  ['-L', 'set'],
  ['-U -p udp -f ipv4 -m 6'],
  ['-U -s 10.9.0.2 -m 0x10/0x10', 'some'],
  ['-L', 'set'],
  ['-G -s 10.9.0.2 -d 10.9.1.2 -p udp --sport 1 --dport 2 -o xml'],
  ['-D -d 10.9.1.2 -o xml'],
  ['-L -o xml', 'set'],
];

before(() => {
  const r = sh(['ip', 'netns', 'add', NS]);
  assert.equal(r.code, 0, `ip netns add ${NS}: ${r.stderr}`);
});

after(() => {
  sh(['ip', 'netns', 'del', NS]);
});

test('conntrack -U, -I, -L and -D with -m and -u: the same output as conntrack-tools 1.4.7 on the kernel', () => {
  const table = new ConntrackTable();
  let pending: { cmd: string; real: string[]; lab: string[] } | null = null;
  for (const [cmd, mode = 'exact'] of STEPS) {
    const argv = cmd.split(' ');
    const real = sh(['ip', 'netns', 'exec', NS, 'conntrack', ...argv]);
    const lab = conntrack(['conntrack', ...argv], '', table, 0);
    const [r, l] = [norm(real.stdout), norm(lab.stdout)];
    assert.deepEqual([lab.stderr, lab.code], [real.stderr, real.code], `${cmd}: stderr and status`);
    if (mode === 'exact') assert.equal(l, r, `${cmd}: stdout`);
    else if (mode === 'set') assert.deepEqual(lines(l).sort(), lines(r).sort(), `${cmd}: stdout (as a set)`);
    else {
      assert.equal(lines(l).length, lines(r).length, `${cmd}: lines printed`);
      pending = { cmd, real: lines(r), lab: lines(l) };
    }
    // an update's printed entries are among those the next listing shows (use=2 there: held)
    if (pending && cmd === '-L') {
      const listed = (s: string) => new Set(lines(s).map((x) => x.replace(/ use=1$/, ' use=2')));
      for (const x of pending.real) assert.ok(listed(r).has(x), `${pending.cmd}: the kernel printed ${x}`);
      for (const x of pending.lab) assert.ok(listed(l).has(x), `${pending.cmd}: the lab printed ${x}`);
      pending = null;
    }
  }
});
