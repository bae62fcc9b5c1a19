// iptables-save's caches (save.ts): the sorted order of a table's user chains is reused only
// while the table has the same chains under the same names; comments are saved by the comment
// module, quoted as xtables_save_string quotes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { iptables, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import { commentMatch } from '../../../main/engine/netfilter/matches/comment.ts';
import { ruleSpec } from '../../../main/engine/netfilter/save.ts';
import { words } from './sessions-data.ts';

const sh = (nf: Netfilter, line: string) => iptables(words(line), '', nf);
const save = (nf: Netfilter) => iptablesSave(['iptables-save', '-t', 'filter'], '', nf, 0).stdout.replace(/^#.*\n/gm, '');
const declared = (nf: Netfilter) => save(nf).split('\n').filter((l) => l.startsWith(':')).map((l) => l.split(' ')[0].slice(1));

test('the kept chain order follows new, deleted and renamed chains (a table of 1,500 chains)', () => {
  const nf = new Netfilter();
  const names = Array.from({ length: 1500 }, (_, i) => `C${(i * 7919) % 1500}`);
  restoreText(nf, `*filter\n${names.map((n) => `:${n} - [0:0]`).join('\n')}\n-A INPUT -j C5\nCOMMIT\n`, { counters: false, noflush: false, test: false });
  const sorted = [...names].sort();
  assert.deepEqual(declared(nf), ['INPUT', 'FORWARD', 'OUTPUT', ...sorted]);
  assert.deepEqual(declared(nf), ['INPUT', 'FORWARD', 'OUTPUT', ...sorted]); // from the kept order
  assert.equal(sh(nf, 'iptables -N B0').code, 0);
  assert.deepEqual(declared(nf).slice(3, 5), ['B0', 'C0']);
  assert.equal(sh(nf, 'iptables -X B0').code, 0);
  assert.equal(sh(nf, 'iptables -E C0 Z0').code, 0); // same count, one name changed
  const after = declared(nf);
  assert.equal(after.at(-1), 'Z0');
  assert.ok(!after.includes('C0'));
  assert.equal(sh(nf, 'iptables -E C5 C0').code, 0); // back to the old name on another chain
  assert.deepEqual(save(nf).match(/^-A INPUT .*$/m)?.[0], '-A INPUT -j C0');
  assert.deepEqual(declared(nf), ['INPUT', 'FORWARD', 'OUTPUT', ...[...sorted.filter((n) => n !== 'C5'), 'Z0'].sort()]);
});

test('comments are saved as the comment module saves them', () => {
  const texts = ['plain', 'with space', 'q"uote', "apo'strophe", 'back\\slash', 'ns/svc:port cluster IP', '', '-', '한국어', 'a$b`c'];
  for (const text of texts) {
    const nf = new Netfilter();
    const r = iptables(['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', text, '-j', 'ACCEPT'], '', nf);
    if (r.code !== 0) continue; // (an empty comment is refused by iptables too)
    const rule = nf.table('filter')!.chains.get('INPUT')!.rules[0];
    const data = rule.matches[0].data as Parameters<typeof commentMatch.save>[0];
    assert.equal(ruleSpec(rule), ` -m comment${commentMatch.save(data)} -j ACCEPT`, text);
  }
  // xtables_save_string: bare when only [_-0-9a-zA-Z], else quoted with \ before " \ and '.
  const saved = (text: string) => {
    const nf = new Netfilter();
    assert.equal(iptables(['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', text], '', nf).code, 0);
    return ruleSpec(nf.table('filter')!.chains.get('INPUT')!.rules[0]);
  };
  assert.equal(saved('plain-1_x'), ' -m comment --comment plain-1_x');
  assert.equal(saved('ns/svc:port cluster IP'), ' -m comment --comment "ns/svc:port cluster IP"');
  assert.equal(saved(`q"u'o\\te`), ` -m comment --comment "q\\"u\\'o\\\\te"`);
});
