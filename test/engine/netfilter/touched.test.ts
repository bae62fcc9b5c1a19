// Netfilter.touched: the chains console commands changed (how the cluster's kube-proxy tells a
// hand edit of its chains from a command that left them alone). Counted: a rule added,
// removed or replaced, a chain made, flushed, renamed or deleted, a policy set, a table
// replaced whole by iptables-restore; not counted: counters zeroed, a refused command, a
// failed restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_CHAINS, Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { iptables } from '../../../main/engine/shell/iptables.ts';

function fresh(): Netfilter {
  const nf = new Netfilter();
  const r = restoreText(nf, '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-A\n-A KUBE-SVC-A -j RETURN\nCOMMIT\n', { counters: false, noflush: false, test: false });
  assert.equal(r.code, 0, r.stderr);
  nf.touched = new Set();
  return nf;
}

/** What one command (a line of words) touched. */
function touchedBy(line: string, nf = fresh()): string[] {
  const argv = line.split(' ');
  const r = iptables(argv, '', nf);
  assert.equal(r.code, 0, r.stderr);
  const out = [...nf.touched!].sort();
  nf.touched!.clear();
  return out;
}

test('the chains a command touched are logged; counters and refusals are not changes', () => {
  assert.deepEqual(touchedBy('iptables -A INPUT -s 192.0.2.1 -j ACCEPT'), ['filter/INPUT']);
  assert.deepEqual(touchedBy('iptables -t nat -I KUBE-SERVICES 1 -s 192.0.2.9 -j RETURN'), ['nat/KUBE-SERVICES']);
  assert.deepEqual(touchedBy('iptables -t nat -F KUBE-SVC-A'), ['nat/KUBE-SVC-A']);
  assert.deepEqual(touchedBy('iptables -t nat -F'), ['nat/INPUT', 'nat/KUBE-SERVICES', 'nat/KUBE-SVC-A', 'nat/OUTPUT', 'nat/POSTROUTING', 'nat/PREROUTING']);
  assert.deepEqual(touchedBy('iptables -t nat -N MINE'), ['nat/MINE']);
  // (the rule jumping to a renamed chain jumps by its new name)
  assert.deepEqual(touchedBy('iptables -t nat -E KUBE-SVC-A RENAMED'), ['nat/KUBE-SERVICES', 'nat/KUBE-SVC-A', 'nat/RENAMED']);
  assert.deepEqual(touchedBy('iptables -P FORWARD DROP'), ['filter/FORWARD']);
  assert.deepEqual(touchedBy('iptables -t nat -D PREROUTING 1'), ['nat/PREROUTING']);
  // Counters are not rules: zeroing touches nothing.
  assert.deepEqual(touchedBy('iptables -t nat -Z'), []);
  assert.deepEqual(touchedBy('iptables -t nat -Z KUBE-SVC-A'), []);
  // Refused (a chain still jumped to, a rule the kernel rejects): nothing changed.
  const nf = fresh();
  const busy = iptables(['iptables', '-t', 'nat', '-X', 'KUBE-SVC-A'], '', nf);
  assert.match(busy.stderr, /Too many links|in use|Device or resource busy/);
  const bad = iptables(['iptables', '-t', 'nat', '-A', 'KUBE-SVC-A', '-j', 'MASQUERADE'], '', nf);
  assert.notEqual(bad.code, 0, 'MASQUERADE is only valid in POSTROUTING');
  assert.deepEqual([...nf.touched!], []);
});

test('iptables-restore: --noflush logs the chains it wrote, a whole table replaced is every chain, a failed restore nothing', () => {
  const nf = fresh();
  assert.equal(restoreText(nf, '*nat\n:KUBE-SVC-B - [0:0]\n-A KUBE-SVC-B -j RETURN\n-Z KUBE-SERVICES\nCOMMIT\n', { counters: false, noflush: true, test: false }).code, 0);
  assert.deepEqual([...nf.touched!].sort(), ['nat/KUBE-SVC-B']);
  nf.touched!.clear();
  // A zeroed chain then changed in the same batch is touched.
  assert.equal(restoreText(nf, '*nat\n-Z KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n', { counters: false, noflush: true, test: false }).code, 0);
  assert.deepEqual([...nf.touched!], ['nat/KUBE-SERVICES']);
  nf.touched!.clear();
  assert.notEqual(restoreText(nf, '*nat\n:KUBE-SVC-C - [0:0]\n-A KUBE-SVC-C -j NOWHERE\nCOMMIT\n', { counters: false, noflush: true, test: false }).code, 0);
  assert.deepEqual([...nf.touched!], []);
  assert.equal(restoreText(nf, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', { counters: false, noflush: false, test: false }).code, 0);
  assert.deepEqual([...nf.touched!], [ALL_CHAINS]);
});
