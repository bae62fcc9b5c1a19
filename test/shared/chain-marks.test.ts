// chainMarks: the debugger's chain view of the chain a step is in — its current rule, and how
// this invocation of the chain met the rules before it — against walks the engine recorded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chainMarks, markOf } from '../../shared/api/chain-marks.ts';
import { navOf, sameSeg, walkOf, type Nav } from '../../shared/api/trace-nav.ts';
import { clusterLab, WEBAPP_NODEPORT } from '../engine/cluster/lab-cluster.ts';

function services(n: number): string {
  return Array.from({ length: n }, (_, i) => `apiVersion: v1
kind: Service
metadata: {name: s${i}}
spec: {selector: {app: webapp}, ports: [{port: ${1000 + i}, targetPort: 80}]}
`).join('---\n');
}

/** A pod's request to a Service among 40 others, with the reply: every kind of row. */
function walk(): Nav {
  const { lab, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_NODEPORT);
  apply(services(40));
  apply('apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {nodeName: minikube-m02, containers: [{name: c, image: busybox}]}\n');
  const t = lab.trace({ from: 'pod/default/client', to: 's39:1039', proto: 'tcp' });
  assert.equal(t.json.outcome, 'delivered', t.json.reason);
  return navOf(walkOf(t));
}

describe('chainMarks', () => {
  const nav = walk();

  it('marks every rule before the current one: tested (hit or miss) or skipped as a block', () => {
    let checked = 0;
    let skippedSeen = 0;
    for (let i = 0; i < nav.rows.length; i++) {
      const s = nav.rows[i].step;
      const m = chainMarks(nav, i)!;
      assert.equal(m.chain, s.chain);
      assert.equal(m.host, s.host);
      if (s.skipped !== undefined) {
        assert.equal(m.current, s.from);
        for (let r = s.from!; r < s.from! + s.skipped; r++) assert.equal(markOf(m, r), 'skipped');
        skippedSeen++;
        continue;
      }
      if (typeof s.rule !== 'number') {
        assert.equal(m.current, null);
        continue;
      }
      assert.equal(m.current, s.rule);
      assert.equal(markOf(m, s.rule), s.matched ? 'hit' : 'miss');
      // A walk goes through a chain in order: each rule before this one was met once.
      for (let r = 1; r < s.rule; r++) assert.ok(markOf(m, r) !== undefined, `row ${i}: ${s.chain} rule ${r} unmarked before rule ${s.rule}`);
      for (const k of m.marks.keys()) assert.ok(k <= s.rule, `row ${i}: ${s.chain} rule ${k} marked past the current one`);
      checked++;
    }
    assert.ok(checked > 50, `rows checked: ${checked}`);
    assert.ok(skippedSeen > 0, 'no rows skipped by the index: KUBE-SERVICES should have some');
  });

  it('counts only this invocation of a chain, not the rows of the chains it called', () => {
    // A row right after a jump came back: in the caller, whose marks go on from before the jump.
    let found = 0;
    for (let i = 1; i < nav.rows.length; i++) {
      const prev = nav.stacks[i - 1];
      const here = nav.stacks[i];
      if (!sameSeg(nav, i - 1, i) || here.length >= prev.length || nav.rows[i].step.chain !== here[here.length - 1].chain) continue;
      const m = chainMarks(nav, i)!;
      assert.ok(m.entered < i - 1, `row ${i}: the caller's invocation starts before the callee's rows`);
      // No mark names a rule of the callee (its rows are at a greater depth).
      for (let k = m.entered; k <= i; k++) if (nav.stacks[k].length > here.length) assert.notEqual(nav.rows[k].step.chain, m.chain);
      found++;
    }
    assert.ok(found > 3, `returns found: ${found}`);
    // The same chain met again in another hook or host is another invocation.
    const firsts = nav.rows.map((r, i) => [r, i] as const).filter(([r]) => r.step.chain === 'PREROUTING' && r.step.table === 'nat');
    assert.ok(firsts.length >= 2);
    for (const [, i] of firsts) {
      const m = chainMarks(nav, i)!;
      assert.ok(nav.rows[m.entered].step.host === nav.rows[i].step.host && nav.rows[m.entered].phase === nav.rows[i].phase);
    }
  });
});
