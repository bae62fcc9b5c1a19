// A refused command or a failed `iptables-restore --noflush` changes the host's table in place
// and is then undone: the table must come back exactly (chains, their order, rules, counters,
// policies), and later changes must behave as on a copy that never saw the failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { restoreText } from '../../../main/engine/netfilter/restore.ts';
import { iptables, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import { words } from './sessions-data.ts';
import { Rng } from '../../../main/engine/random.ts';

/** Seeded numbers in [0, 1) (the engine's mulberry32). */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

// With counters: a zeroed rule that is not put back would show.
const save = (nf: Netfilter) => iptablesSave(['iptables-save', '-c'], '', nf, 0).stdout.replace(/^#.*\n/gm, '');
const restore = (nf: Netfilter, text: string) => restoreText(nf, text, { counters: true, noflush: true, test: false });

function base(): Netfilter {
  const nf = new Netfilter();
  const lines = ['*nat', ':PREROUTING ACCEPT [7:420]', ':OUTPUT DROP [3:180]'];
  for (let i = 0; i < 8; i++) lines.push(`:C${i} - [0:0]`);
  lines.push('[5:300] -A PREROUTING -j C0', '[2:120] -A OUTPUT -j C1');
  for (let i = 0; i < 7; i++) lines.push(`[${i}:${i * 60}] -A C${i} -d 10.0.0.${i}/32 -j C${i + 1}`);
  lines.push('-A C7 -p tcp -j DNAT --to-destination 10.1.1.1:80', 'COMMIT', '');
  assert.equal(restore(nf, lines.join('\n')).code, 0);
  return nf;
}

test('a restore that fails anywhere before COMMIT leaves the table exactly as it was', () => {
  // Each change alone, then the failure: a parse error, a missing chain, a loop (found at
  // COMMIT), a target the hook refuses, a chain that cannot be deleted.
  const changes = [':NEW - [0:0]\n-A NEW -j RETURN', ':C3 - [0:0]', '-X C7', '-F C2\n-X C2', '-E C5 C5b', '-Z C1', '-P OUTPUT ACCEPT', '-A C7 -j MASQUERADE', '-I PREROUTING 1 -j C4', '-D C0 1'];
  const failures = ['-A C1 --bogus', '-A C1 -j NOPE', '-A C7 -j C0', '-A PREROUTING -j SNAT --to-source 1.1.1.1', '-X C1'];
  let failed = 0;
  for (const change of changes) {
    for (const failure of failures) {
      const nf = base();
      const before = save(nf);
      const r = restore(nf, `*nat\n${change}\n${failure}\nCOMMIT\n`);
      // A loop may be broken by the change itself (`:C3` flushes a link of the path).
      if (r.code === 0) continue;
      failed++;
      assert.equal(save(nf), before, `${change} / ${failure}`);
      // The table still works: the same change made afterwards gives what a fresh copy gives.
      const fresh = base();
      const a = restore(nf, `*nat\n${change}\nCOMMIT\n`);
      const b = restore(fresh, `*nat\n${change}\nCOMMIT\n`);
      assert.equal(a.code, b.code, `${change} / ${failure}: ${a.stderr}`);
      assert.equal(save(nf), save(fresh), `${change} / ${failure}`);
    }
  }
  assert.ok(failed >= changes.length * (failures.length - 1), `only ${failed} restores failed`);
});

test('a command the kernel refuses changes nothing; one that succeeds keeps every other chain', () => {
  const nf = base();
  const before = save(nf);
  for (const line of ['iptables -t nat -A C7 -j C0', 'iptables -t nat -I C6 1 -j C0', 'iptables -t nat -A PREROUTING -j SNAT --to-source 1.1.1.1', 'iptables -t nat -R C3 1 -j C0']) {
    const r = iptables(words(line), '', nf);
    assert.notEqual(r.code, 0, line);
    assert.equal(save(nf), before, line);
  }
  // -Z alone cannot fail and zeroes in place; -X after -F works; the order of the rest stays.
  assert.equal(iptables(words('iptables -t nat -Z C2'), '', nf).code, 0);
  assert.equal(iptables(words('iptables -t nat -D C6 1'), '', nf).code, 0);
  assert.equal(iptables(words('iptables -t nat -F C7'), '', nf).code, 0);
  assert.equal(iptables(words('iptables -t nat -X C7'), '', nf).code, 0);
  const chains = [...nf.table('nat')!.chains.keys()].filter((c) => c.startsWith('C'));
  assert.deepEqual(chains, ['C0', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6']);
  assert.match(save(nf), /\[0:0\] -A C2 -d 10\.0\.0\.2\/32 -j C3/);
});

test('random restores that fail half way: the table as before, then as a copy would have it', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const r = rng(seed);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const names = Array.from({ length: 8 }, (_, i) => `C${i}`).concat(['N0', 'N1']);
    const nf = base();
    for (let step = 0; step < 40; step++) {
      const ref = nf.clone();
      const lines = ['*nat'];
      for (let k = 0; k < 1 + Math.floor(r() * 6); k++) {
        const y = r();
        const c = pick(names);
        if (y < 0.2) lines.push(`:${c} - [0:0]`);
        else if (y < 0.5) lines.push(`-A ${c} -j ${pick(names)}`);
        else if (y < 0.6) lines.push(`-X ${c}`);
        else if (y < 0.7) lines.push(`-F ${c}`);
        else if (y < 0.8) lines.push(`-Z ${c}`);
        else if (y < 0.9) lines.push(`-E ${c} ${pick(names)}x`);
        else lines.push(`-A ${c} -d 10.9.${step}.1/32 -j RETURN`);
      }
      lines.push('COMMIT', '');
      const text = lines.join('\n');
      const before = save(nf);
      const got = restore(nf, text);
      const want = restore(ref, text);
      assert.equal(got.code, want.code, `seed ${seed} step ${step}: ${got.stderr} / ${want.stderr}`);
      assert.equal(got.stderr, want.stderr, `seed ${seed} step ${step}`);
      if (got.code !== 0) assert.equal(save(nf), before, `seed ${seed} step ${step}: ${text}`);
      assert.equal(save(nf), save(ref), `seed ${seed} step ${step}`);
    }
  }
});
