// iptables-restore remembers the append lines it parsed (agents write the same lines again on
// every sync and on every node). A remembered line must give rules of their own — counters,
// renamed jumps, per-rule state — and the same refusals as a fresh parse in another table or
// for a set that no longer exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { iptables, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import { words } from './sessions-data.ts';

const restore = (nf: Netfilter, text: string) => restoreText(nf, text, { counters: false, noflush: true, test: false });
const save = (nf: Netfilter) => iptablesSave(['iptables-save', '-c'], '', nf, 0).stdout.replace(/^#.*\n/gm, '');

// A line no other test writes, so the first restore below parses it.
const DUMP = [
  '*nat',
  ':KPL-CACHE-SVC - [0:0]',
  ':KPL-CACHE-SEP - [0:0]',
  '-A PREROUTING -d 10.99.0.1/32 -p tcp -m tcp --dport 8443 -j KPL-CACHE-SVC',
  '-A KPL-CACHE-SVC -m statistic --mode nth --every 2 --packet 0 -j KPL-CACHE-SEP',
  '-A KPL-CACHE-SEP -p tcp -m tcp -j DNAT --to-destination 10.244.9.9:8443',
  'COMMIT',
  '',
].join('\n');

test('the same lines restored on two hosts give each host rules of its own', () => {
  const a = new Netfilter();
  const b = new Netfilter();
  assert.equal(restore(a, DUMP).code, 0);
  assert.equal(restore(b, DUMP).code, 0);
  assert.equal(save(a), save(b));
  const ra = a.chain('nat', 'KPL-CACHE-SVC')!.rules[0];
  const rb = b.chain('nat', 'KPL-CACHE-SVC')!.rules[0];
  assert.notEqual(ra, rb);
  assert.notEqual(ra.target, rb.target);
  // Counters and a rename on one host leave the other as it was.
  ra.packets = 5;
  ra.bytes = 300;
  assert.equal(rb.packets, 0);
  assert.equal(iptables(words('iptables -t nat -E KPL-CACHE-SEP KPL-CACHE-SEP2'), '', a).code, 0);
  assert.equal(rb.target!.name, 'KPL-CACHE-SEP');
  assert.match(save(b), /\[0:0\] -A KPL-CACHE-SVC -m statistic --mode nth --every 2 --packet 0 -j KPL-CACHE-SEP\n/);
  // Restored again on the first host: fresh rules, zero counters, the jump as written.
  assert.equal(restore(a, DUMP.replace(':KPL-CACHE-SEP - [0:0]', ':KPL-CACHE-SEP - [0:0]\n-F KPL-CACHE-SEP2\n-X KPL-CACHE-SEP2')).code, 0);
  assert.match(save(a), /\[0:0\] -A KPL-CACHE-SVC -m statistic --mode nth --every 2 --packet 0 -j KPL-CACHE-SEP\n/);
});

test('a remembered line is still refused where a fresh parse would refuse it', () => {
  // DNAT is a nat target: the line read in nat is refused in filter, with iptables' words.
  const nat = new Netfilter();
  const line = '-A OUTPUT -d 10.99.0.2/32 -j DNAT --to-destination 10.244.9.8';
  assert.equal(restore(nat, `*nat\n${line}\nCOMMIT\n`).code, 0);
  const filter = new Netfilter();
  const r = restore(filter, `*filter\n${line}\nCOMMIT\n`);
  const fresh = restore(new Netfilter(), `*filter\n${line.replace('10.244.9.8', '10.244.9.7')}\nCOMMIT\n`);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr, fresh.stderr);
  // A set match is checked against the host's sets every time.
  const withSet = new Netfilter();
  withSet.setExists = (n) => n === 'kpl-cache-set';
  const setLine = '-A INPUT -m set --match-set kpl-cache-set src -j ACCEPT';
  assert.equal(restore(withSet, `*filter\n${setLine}\nCOMMIT\n`).code, 0);
  const without = new Netfilter();
  without.setExists = () => false;
  const refused = restore(without, `*filter\n${setLine}\nCOMMIT\n`);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /kpl-cache-set/);
});
