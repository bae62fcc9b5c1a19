// Chain deletion and the reference counts it checks (TableState keeps them once counted, until
// rules or chains change): -X of a chain something jumps to is refused, in single commands
// and in restores that delete many chains, whatever changed the jumps before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { iptables, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import { words } from './sessions-data.ts';

const sh = (nf: Netfilter, line: string) => iptables(words(line), '', nf);
const restore = (nf: Netfilter, text: string) => restoreText(nf, text, { counters: false, noflush: true, test: false });
const save = (nf: Netfilter) => iptablesSave(['iptables-save', '-t', 'nat'], '', nf, 0).stdout.replace(/^#.*\n/gm, '');

test('-X after every kind of change to the jumps: refused while referenced, done once not', () => {
  const nf = new Netfilter();
  for (const c of ['A', 'B', 'C', 'D']) assert.equal(sh(nf, `iptables -t nat -N ${c}`).code, 0);
  assert.equal(sh(nf, 'iptables -t nat -A A -j B').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -X C').code, 0); // counts made here
  assert.notEqual(sh(nf, 'iptables -t nat -X B').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -I A 1 -j D').code, 0); // after the counts were made
  assert.notEqual(sh(nf, 'iptables -t nat -X D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -D A -j D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -X D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -N D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -R A 1 -j D').code, 0); // B no longer referenced, D is
  assert.equal(sh(nf, 'iptables -t nat -X B').code, 0);
  assert.notEqual(sh(nf, 'iptables -t nat -X D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -F A').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -X D').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -N E').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -A A -j E').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -E E F').code, 0); // the jump follows the new name
  assert.notEqual(sh(nf, 'iptables -t nat -X F').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -D A 1').code, 0);
  assert.equal(sh(nf, 'iptables -t nat -X F').code, 0);
  assert.deepEqual(save(nf), '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:A - [0:0]\nCOMMIT\n');
});

test('a restore deleting many chains: each -X sees the jumps as the lines before it left them', () => {
  const nf = new Netfilter();
  const chains = Array.from({ length: 6 }, (_, i) => `KUBE-SEP-${i}`);
  const r0 = (restore(nf, `*nat\n:KUBE-SVC - [0:0]\n${chains.map((c) => `:${c} - [0:0]`).join('\n')}\n${chains.map((c) => `-A KUBE-SVC -j ${c}\n-A ${c} -j DNAT --to-destination 10.0.0.1`).join('\n')}\nCOMMIT\n`)); assert.equal(r0.code, 0, r0.stderr);
  // KUBE-SVC is refilled without SEP-0..2: those can go; SEP-3 is still jumped to, so the whole
  // restore fails and nothing changes.
  const before = save(nf);
  const bad = restore(nf, `*nat\n:KUBE-SVC - [0:0]\n:KUBE-SEP-0 - [0:0]\n:KUBE-SEP-1 - [0:0]\n:KUBE-SEP-2 - [0:0]\n:KUBE-SEP-3 - [0:0]\n-A KUBE-SVC -j KUBE-SEP-3\n-A KUBE-SVC -j KUBE-SEP-4\n-A KUBE-SVC -j KUBE-SEP-5\n-X KUBE-SEP-0\n-X KUBE-SEP-1\n-X KUBE-SEP-2\n-X KUBE-SEP-3\nCOMMIT\n`);
  assert.notEqual(bad.code, 0);
  assert.equal(save(nf), before);
  // A rule removed between two -X lines frees its chain for the second.
  const ok = restore(nf, `*nat\n:KUBE-SVC - [0:0]\n:KUBE-SEP-0 - [0:0]\n:KUBE-SEP-1 - [0:0]\n-A KUBE-SVC -j KUBE-SEP-1\n-A KUBE-SVC -j KUBE-SEP-2\n-X KUBE-SEP-0\n-D KUBE-SVC -j KUBE-SEP-1\n-X KUBE-SEP-1\nCOMMIT\n`);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(
    [...nf.table('nat')!.chains.keys()].filter((c) => c.startsWith('KUBE-')),
    ['KUBE-SVC', 'KUBE-SEP-2', 'KUBE-SEP-3', 'KUBE-SEP-4', 'KUBE-SEP-5'],
  );
  assert.equal(nf.references('nat', 'KUBE-SEP-2'), 1);
  assert.equal(nf.references('nat', 'KUBE-SEP-3'), 0);
  assert.equal(nf.references('nat', 'DNAT'), 0);
});
