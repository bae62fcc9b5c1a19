// Incremental validation: a table validated again after changes reuses the summaries of the
// chains nothing changed below. Random restores and commands (jumps that make loops, paths
// deeper than the kernel allows, targets refused in some hooks) must be accepted or refused
// exactly as on a fresh copy of the same table, whose first validation looks at every chain.
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

const save = (nf: Netfilter) => iptablesSave(['iptables-save'], '', nf, 0).stdout.replace(/^#.*\n/gm, '');

/** `fan` chains F0… between C0–C3 (which jump to them) and C20–C23 (which they jump to):
 *  with them, few chains change per step compared to the table, so validation works up from
 *  the changed ones (and stops where a summary stays the same) instead of summarizing all. */
function randomSessions(fan: number, seeds: number): void {
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const names = Array.from({ length: 24 }, (_, i) => `C${i}`);
    const nf = new Netfilter();
    // A chain of 20 jumps: adding a link at the end goes past the depth the kernel allows.
    const fanLines: string[] = [];
    for (let i = 0; i < fan; i++) fanLines.push(`:F${i} - [0:0]`);
    for (let i = 0; i < fan; i++) fanLines.push(`-A C${i % 4} -j F${i}`, `-A F${i} -j C${20 + (i % 4)}`);
    const base = ['*nat', ...names.map((n) => `:${n} - [0:0]`), ...fanLines, '-A PREROUTING -j C0', '-A OUTPUT -j C1', 'COMMIT', ''].join('\n');
    assert.equal(restoreText(nf, base, { counters: false, noflush: true, test: false }).code, 0);
    for (let step = 0; step < 60; step++) {
      const ref = nf.clone();
      const x = r();
      let run: (n: Netfilter) => { code: number; stderr: string };
      if (x < 0.6) {
        const lines = ['*nat'];
        const refill = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(names));
        for (const c of new Set(refill)) lines.push(`:${c} - [0:0]`);
        for (let k = 0; k < 1 + Math.floor(r() * 6); k++) {
          const from = r() < 0.7 ? pick(refill) : pick(['PREROUTING', 'OUTPUT', 'POSTROUTING']);
          const y = r();
          if (y < 0.75) lines.push(`-A ${from} -j ${pick(names)}`);
          else if (y < 0.85) lines.push(`-A ${from} -p tcp -j DNAT --to-destination 10.0.0.1:80`);
          else if (y < 0.95) lines.push(`-A ${from} -j MASQUERADE`);
          else lines.push(`-A ${from} -j RETURN`);
        }
        lines.push('COMMIT', '');
        const text = lines.join('\n');
        run = (n) => restoreText(n, text, { counters: false, noflush: true, test: false });
      } else if (x < 0.8) {
        const line = `iptables -t nat -A ${pick(names)} -j ${pick(names)}`;
        run = (n) => iptables(words(line), '', n);
      } else if (x < 0.9) {
        const line = `iptables -t nat -F ${pick(names)}`;
        run = (n) => iptables(words(line), '', n);
      } else {
        const line = `iptables -t nat -I ${pick(names)} 1 -j MASQUERADE`;
        run = (n) => iptables(words(line), '', n);
      }
      const got = run(nf);
      const want = run(ref);
      assert.equal(got.code, want.code, `seed ${seed} step ${step}: ${got.stderr} / ${want.stderr}`);
      assert.equal(got.stderr, want.stderr, `seed ${seed} step ${step}`);
      assert.equal(save(nf), save(ref), `seed ${seed} step ${step}`);
    }
  }
}

test('random restores and commands: the same verdicts as a fresh copy validating every chain', () => {
  randomSessions(0, 12);
});

test('the same in a table of hundreds of chains, validated from the few that changed', () => {
  randomSessions(400, 8);
});
