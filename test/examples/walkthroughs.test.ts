// Every built-in example, in every kube-proxy layout it offers, runs its own walkthrough
// headlessly through the service: each step's action is performed as the user would, then its
// expected state must hold. Every exercise starts unsolved and is solved by its own solution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { service } from './helpers.ts';

const svc0 = new LabService({ db: ':memory:' });
const list = svc0.examples();
svc0.close();

test('nine examples, one per scene of the article, each with a walkthrough', () => {
  assert.equal(list.length, 9);
  assert.equal(new Set(list.map((e) => e.name)).size, 9);
  for (const e of list) assert.ok(e.steps >= 3, `${e.name}: ${e.steps} walkthrough steps`);
});

for (const ex of list) {
  for (const layout of ex.cluster ? ex.layouts : [undefined]) {
    test(`example ${ex.name}${layout ? ` (${layout})` : ''}: every walkthrough step reaches its expected state`, (t) => {
      const svc = service(t);
      svc.createExample(ex.name, 'lab', layout ? { proxy: layout } : {});
      const steps = svc.doc('lab').walkthrough!.steps;
      steps.forEach((step, i) => {
        if (step.action || step.command) {
          const run = svc.runStep('lab', i);
          if (run.output) assert.equal(run.output.stderr.includes('command not found'), false, `step ${i + 1} ${step.title}: ${run.output.stderr}`);
        }
        const r = svc.checkStep('lab', i);
        assert.ok(r.pass, `step ${i + 1} "${step.title}": ${r.detail}`);
      });
    });

    test(`example ${ex.name}${layout ? ` (${layout})` : ''}: exercises start unsolved and their solution solves them`, (t) => {
      const svc = service(t);
      svc.createExample(ex.name, 'lab', layout ? { proxy: layout } : {});
      const exercises = svc.doc('lab').exercises ?? [];
      exercises.forEach((e, i) => {
        const before = svc.checkExercises('lab', i)[0];
        assert.equal(before.pass, false, `exercise "${e.title}" is solved before anything was done`);
        assert.ok(e.solutionActions?.length, `exercise "${e.title}" has no solution to prove`);
        svc.applySolution('lab', i);
        const after = svc.checkExercises('lab', i)[0];
        assert.ok(after.pass, `exercise "${e.title}" after its solution: ${after.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
      });
    });
  }
}
