// The Netfilter state: what exists when, the generation the datapath keys its caches on,
// references, the kernel's validation (loops, depth, hooks), counters kept aside for a trace,
// independent copies, and iptables-restore's one-transaction-per-table behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { parseArgs } from '../../../main/engine/netfilter/parse.ts';
import { saveTable } from '../../../main/engine/netfilter/save.ts';
import { KernelError, OpError } from '../../../main/engine/netfilter/errors.ts';
import { iptables, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import { IptablesError, type Rule, type TableName } from '../../../main/engine/netfilter/types.ts';
import { words } from './sessions-data.ts';

const rules = (spec: string, table: TableName = 'filter'): Rule[] =>
  parseArgs(['-A', 'X', ...words(spec)], { mode: 'command', table }).rules;
const sh = (nf: Netfilter, line: string) => iptables(words(line), '', nf);
const restore = (nf: Netfilter, text: string, noflush = false) =>
  restoreText(nf, text, { counters: false, noflush, test: false });

test('a fresh host has no tables; a table appears when something creates it', () => {
  const nf = new Netfilter();
  assert.equal(nf.table('filter'), undefined);
  assert.equal(sh(nf, 'iptables -L -n').code, 0); // listing shows built-ins but creates nothing
  assert.equal(sh(nf, 'iptables -F').code, 0);
  assert.equal(nf.exists('filter'), false);
  assert.equal(iptablesSave(['iptables-save'], '', nf, 0).stdout, '');
  sh(nf, 'iptables -t nat -N KUBE-SERVICES');
  assert.ok(nf.table('nat'));
  assert.deepEqual([...nf.table('nat')!.chains.keys()], ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-SERVICES']);
  assert.equal(nf.exists('filter'), false);
  // An empty section of iptables-restore removes the table.
  assert.equal(restore(nf, '*nat\nCOMMIT\n').code, 0);
  assert.equal(nf.table('nat'), undefined);
});

test('every change bumps the generation; reads and refused commands do not', () => {
  const nf = new Netfilter();
  let g = nf.generation;
  const changed = (line: string) => {
    const r = sh(nf, line);
    assert.equal(r.code, 0, `${line}: ${r.stderr}`);
    assert.ok(nf.generation > g, line);
    g = nf.generation;
  };
  const same = (line: string) => {
    sh(nf, line);
    assert.equal(nf.generation, g, line);
  };
  changed('iptables -N X');
  changed('iptables -A X -j ACCEPT');
  changed('iptables -I X -j DROP');
  changed('iptables -R X 1 -j RETURN');
  changed('iptables -D X 1');
  changed('iptables -A INPUT -j X');
  changed('iptables -Z');
  changed('iptables -P FORWARD DROP');
  changed('iptables -E X Y');
  changed('iptables -F');
  changed('iptables -X');
  same('iptables -L');
  same('iptables -S');
  same('iptables -C INPUT -j ACCEPT');
  same('iptables -A NOPE -j ACCEPT');
  same('iptables -A INPUT -j DNAT --to 1.2.3.4');
  assert.equal(restore(nf, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n').code, 0);
  assert.ok(nf.generation > g);
});

test('references count jumps and gotos; rename follows them; deleting a referenced chain fails', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -N A');
  sh(nf, 'iptables -N B');
  sh(nf, 'iptables -A INPUT -j A');
  sh(nf, 'iptables -A OUTPUT -g A');
  sh(nf, 'iptables -A A -j B');
  assert.equal(nf.references('filter', 'A'), 2);
  assert.equal(nf.references('filter', 'B'), 1);
  sh(nf, 'iptables -E B C');
  assert.equal(nf.chain('filter', 'A')!.rules[0].target!.name, 'C');
  assert.equal(nf.references('filter', 'C'), 1);
  const r = sh(nf, 'iptables -X C');
  assert.equal(r.code, 4);
  assert.equal(r.stderr, 'iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain C\n');
  assert.ok(nf.chain('filter', 'C'));
});

test('the kernel refuses loops and jumps 16 deep from a built-in chain, at the rule that makes them', () => {
  const nf = new Netfilter();
  for (let i = 1; i <= 17; i++) sh(nf, `iptables -N c${i}`);
  for (let i = 1; i < 17; i++) sh(nf, `iptables -A c${i} -j c${i + 1}`);
  // INPUT -> c2 .. c17 is 16 jumps: refused; from c3 it is 15: accepted.
  assert.throws(() => nf.append('filter', 'INPUT', rules('-j c2')), (e: unknown) => e instanceof KernelError && e.failures[0].errno === 'EMLINK');
  assert.equal(nf.chain('filter', 'INPUT')!.rules.length, 0);
  nf.append('filter', 'INPUT', rules('-j c3'));
  // A loop not reachable from a built-in chain is fine; once reachable it is refused.
  sh(nf, 'iptables -N L1');
  sh(nf, 'iptables -N L2');
  sh(nf, 'iptables -A L1 -j L2');
  assert.equal(sh(nf, 'iptables -A L2 -j L1').code, 0);
  const r = sh(nf, 'iptables -A OUTPUT -j L1');
  assert.equal(r.stderr, 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain OUTPUT\n');
});

test('a target reached from a hook it does not allow is refused; so is one outside its table', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -t nat -N D');
  sh(nf, 'iptables -t nat -A D -p tcp -j DNAT --to-destination 10.0.0.1:80');
  assert.equal(sh(nf, 'iptables -t nat -A PREROUTING -j D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -A POSTROUTING -j D').code, 4);
  // and the other way round: a chain already reached from POSTROUTING gets a DNAT rule
  sh(nf, 'iptables -t nat -N E');
  sh(nf, 'iptables -t nat -A POSTROUTING -j E');
  const r = sh(nf, 'iptables -t nat -A E -j DNAT --to-destination 10.0.0.1');
  assert.equal(r.stderr, 'iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain E\n');
  assert.equal(sh(nf, 'iptables -N F').code, 0);
  assert.equal(sh(nf, 'iptables -A F -j DNAT --to-destination 10.0.0.1').code, 4);
  assert.equal(sh(nf, 'iptables -t mangle -A INPUT -j REJECT').code, 4);
});

test('userspace refusals carry the iptables texts and statuses', () => {
  const nf = new Netfilter();
  const err = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof IptablesError);
      return `${e.status} ${e.message}`;
    }
    return 'no error';
  };
  assert.equal(err(() => nf.append('filter', 'NOPE', rules('-j ACCEPT'))), '1 iptables: No chain/target/match by that name.');
  assert.equal(err(() => nf.insert('filter', 'INPUT', 2, rules('-j ACCEPT'))), '1 iptables: Index of insertion too big.');
  assert.equal(err(() => nf.append('filter', 'INPUT', rules('-j NOPE'))), "2 Chain 'NOPE' does not exist");
  assert.equal(err(() => nf.setPolicy('filter', 'INPUT', 'FOO')), "1 iptables: Bad policy name. Run `dmesg' for more information.");
  assert.equal(err(() => nf.setPolicy('filter', 'X', 'DROP')), '1 iptables: Bad built-in chain name.');
  nf.newChain('filter', 'X');
  assert.equal(err(() => nf.newChain('filter', 'X')), '1 iptables: Chain already exists.');
  assert.equal(err(() => nf.renameChain('filter', 'X', 'INPUT')), '1 iptables: File exists.');
  assert.equal(err(() => nf.check('filter', 'INPUT', rules('-j ACCEPT'))), '1 iptables: Bad rule (does a matching rule exist in that chain?).');
  assert.ok(OpError);
});

test('rules compare by their saved text: -D and -C find them however they were written', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -m comment --comment "x y" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j ACCEPT');
  assert.equal(sh(nf, 'iptables -C INPUT -d 10.0.0.1/32 -p tcp -m comment --comment "x y" -m tcp --dport 80 -j ACCEPT').code, 0);
  assert.equal(sh(nf, 'iptables -C INPUT -d 10.0.0.1/32 -p tcp --dport 80 -j ACCEPT').code, 1);
  assert.equal(sh(nf, 'iptables -D INPUT -p tcp -d 10.0.0.1 -m comment --comment "x y" --dport 80 -j ACCEPT').code, 0);
  assert.equal(nf.chain('filter', 'INPUT')!.rules.length, 0);
});

test('insert, replace and delete by number', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -s 1.1.1.1');
  sh(nf, 'iptables -A INPUT -s 3.3.3.3');
  sh(nf, 'iptables -I INPUT 2 -s 2.2.2.2');
  sh(nf, 'iptables -I INPUT -s 0.0.0.1');
  sh(nf, 'iptables -R INPUT 4 -s 4.4.4.4');
  sh(nf, 'iptables -D INPUT 1');
  assert.deepEqual(
    nf.chain('filter', 'INPUT')!.rules.map((r) => r.src!.addr >>> 24),
    [1, 2, 4],
  );
});

test('counters can be kept aside and put back; clones are independent', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -c 5 300 -j ACCEPT');
  const r = nf.chain('filter', 'INPUT')!.rules[0];
  const snap = nf.snapshotCounters();
  r.packets += 10;
  r.bytes += 600;
  nf.chain('filter', 'INPUT')!.packets = 7;
  nf.restoreCounters(snap);
  assert.equal(r.packets, 5);
  assert.equal(r.bytes, 300);
  assert.equal(nf.chain('filter', 'INPUT')!.packets, 0);
  const copy = nf.clone();
  assert.equal(saveTable(copy.table('filter')!, { counters: true, clock: 0 }), saveTable(nf.table('filter')!, { counters: true, clock: 0 }));
  sh(copy, 'iptables -A INPUT -j DROP');
  copy.chain('filter', 'INPUT')!.rules[0].packets = 99;
  assert.equal(nf.chain('filter', 'INPUT')!.rules.length, 1);
  assert.equal(r.packets, 5);
  assert.equal(copy.generation, nf.generation + 1);
});

test('iptables-restore commits each table on its own, and a failed table changes nothing', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -s 9.9.9.9 -j ACCEPT');
  const before = saveTable(nf.table('filter')!, { counters: false, clock: 0 });
  const r = restore(nf, '*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DNAT --to 1.1.1.1\nCOMMIT\n');
  assert.equal(r.code, 4);
  assert.equal(r.stderr, 'iptables-restore v1.8.9 (nf_tables): \nline 6: RULE_APPEND failed (Invalid argument): rule in chain INPUT\n');
  assert.equal(r.changed, true); // the nat table was committed
  assert.ok(nf.table('nat'));
  assert.equal(saveTable(nf.table('filter')!, { counters: false, clock: 0 }), before);
  // --noflush keeps what is there; -t only tests.
  assert.equal(restore(nf, '*filter\n-A INPUT -j DROP\nCOMMIT\n', true).code, 0);
  assert.equal(nf.chain('filter', 'INPUT')!.rules.length, 2);
  const t = restoreText(nf, '*filter\nCOMMIT\n', { counters: false, noflush: false, test: true });
  assert.equal(t.code, 0);
  assert.equal(t.changed, false);
  assert.equal(nf.chain('filter', 'INPUT')!.rules.length, 2);
});

test('a failing validation names the first rule after which the table is invalid', () => {
  const nf = new Netfilter();
  const text = ['*filter', ':A - [0:0]', ':B - [0:0]', '-A INPUT -j A', '-A A -j ACCEPT', '-A A -j B', '-A B -j ACCEPT', '-A B -j A', '-A B -j DROP', 'COMMIT', ''].join('\n');
  const r = restore(nf, text);
  assert.equal(
    r.stderr,
    'iptables-restore v1.8.9 (nf_tables): \nline 8: RULE_APPEND failed (Too many links): rule in chain B\n' +
      'line 9: RULE_APPEND failed (Too many links): rule in chain B\n',
  );
  assert.equal(nf.table('filter'), undefined);
});

test('a failing validation is replayed from the section alone: comments, blank lines and an earlier section keep the line numbers', () => {
  const text = [
    '# a comment', '*nat', ':X - [0:0]', 'COMMIT', '', '*filter', '# inside', ':A - [0:0]', '', ':B - [0:0]', '-A INPUT -j A',
    '-A A -m comment --comment "to B" -j B', '# between', '-A B -j A', '', '-A B -j ACCEPT', '-D B 2', '-A B -j RETURN', 'COMMIT', '',
  ].join('\n');
  for (const noflush of [false, true]) {
    const nf = new Netfilter();
    const r = restore(nf, text, noflush);
    assert.equal(
      r.stderr,
      'iptables-restore v1.8.9 (nf_tables): \nline 14: RULE_APPEND failed (Too many links): rule in chain B\n' +
        'line 16: RULE_APPEND failed (Too many links): rule in chain B\nline 18: RULE_APPEND failed (Too many links): rule in chain B\n',
    );
    assert.equal(r.code, 4);
    assert.ok(nf.chain('nat', 'X')); // the nat section was committed before
    assert.equal(nf.table('filter'), undefined);
  }
});

test('the iptables-save header is dated by the clock given', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -N X');
  const out = iptablesSave(['iptables-save'], '', nf, Date.UTC(2026, 10, 6, 9, 5, 3) / 1000).stdout;
  assert.match(out, /^# Generated by iptables-save v1\.8\.9 \(nf_tables\) on Fri Nov {2}6 09:05:03 2026\n\*filter\n/);
  assert.match(out, /\nCOMMIT\n# Completed on Fri Nov {2}6 09:05:03 2026\n$/);
});

test('the legacy service names profile prints www for port 80, as the article does', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -p tcp --dport 80 -j ACCEPT');
  assert.match(sh(nf, 'iptables -L INPUT').stdout, /tcp dpt:http\n$/);
  nf.services = 'legacy';
  assert.match(sh(nf, 'iptables -L INPUT').stdout, /tcp dpt:www\n$/);
  assert.match(sh(nf, 'iptables -L INPUT -n').stdout, /tcp dpt:80\n$/);
});

test('the datapath sees the same rule objects until a change', () => {
  const nf = new Netfilter();
  sh(nf, 'iptables -A INPUT -j ACCEPT');
  const t1 = nf.table('filter')!;
  const r1 = t1.chains.get('INPUT')!.rules[0];
  sh(nf, 'iptables -L');
  assert.equal(nf.table('filter')!.chains.get('INPUT')!.rules[0], r1);
});
