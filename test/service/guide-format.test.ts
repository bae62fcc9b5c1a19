// Walkthroughs and exercises in lab files: the JSON Schema (file import) and the runtime check
// (documents, the app's calls) accept and refuse the same shapes, and a lab's walkthrough and
// exercises survive export and import unchanged.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabFormatError, LabService } from '../../main/service/lab-service.ts';
import { parseScenarioText } from '../../main/service/scenario.ts';
import { exercisesCheck, walkthroughCheck } from '../../shared/guide-check.ts';
import { emptyLab } from '../../shared/lab.ts';

function service(t: TestContext): LabService {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-guidefmt-'));
  const svc = new LabService({ db: join(dir, 'labs.db') });
  t.after(() => {
    svc.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return svc;
}

const WALK = {
  title: 'Tour',
  ko: { title: '둘러보기' },
  steps: [
    { title: 'Rules', text: 'Look', ko: { text: '보기' }, action: { kind: 'command', host: 'a', command: 'iptables -S' }, expect: { kind: 'output', lines: ['-P INPUT ACCEPT'], code: 0 } },
    { title: 'Trace', text: 't', action: { kind: 'trace', from: 'a', to: '10.0.0.2:80', proto: 'tcp', stepTo: { chain: 'INPUT', table: 'filter', rule: 1 } }, expect: { kind: 'trace', outcome: 'refused', passes: ['INPUT'], replySource: '10.0.0.2' } },
    { title: 'Old form', text: 'v2', host: 'a', command: 'ip route' },
    { title: 'Show', text: 's', action: { kind: 'show', target: 'a' } },
  ],
};
const EXERCISES = [
  {
    title: 'Block it',
    goal: 'a cannot reach 10.0.0.2:80',
    checks: [{ name: 'blocked', expect: { kind: 'reach', cells: [{ from: 'a', to: '10.0.0.2:80', allowed: false }] } }],
    hints: ['iptables'],
    solution: 'iptables -A OUTPUT -j DROP',
    solutionActions: [{ kind: 'command', host: 'a', command: 'iptables -A OUTPUT -j DROP' }],
  },
];

function file(walkthrough: unknown, exercises: unknown): string {
  const doc = { ...emptyLab('fmt'), hosts: [{ name: 'a', listen: [], links: [] }], walkthrough, exercises };
  return JSON.stringify(doc);
}

/** Each breaks one rule of the shape; both checks must refuse it. */
const BROKEN: [string, (w: typeof WALK, e: typeof EXERCISES) => void][] = [
  ['an unknown action kind', (w) => ((w.steps[0].action as Record<string, unknown>).kind = 'ssh')],
  ['an unknown field in an action', (w) => ((w.steps[0].action as Record<string, unknown>).sudo = true)],
  ['a bad protocol', (w) => ((w.steps[1].action as Record<string, unknown>).proto = 'gre')],
  ['an unknown outcome', (w) => ((w.steps[1].expect as Record<string, unknown>).outcome = 'maybe')],
  ['a rule number 0', (w) => (((w.steps[1].action as Record<string, unknown>).stepTo as Record<string, unknown>).rule = 0)],
  ['lines that are not strings', (w) => ((w.steps[0].expect as Record<string, unknown>).lines = [1])],
  ['an exercise without checks', (_w, e) => delete (e[0] as Partial<(typeof EXERCISES)[0]>).checks],
  ['a reach cell without its verdict', (_w, e) => delete (e[0].checks[0].expect.cells[0] as Partial<(typeof EXERCISES)[0]['checks'][0]['expect']['cells'][0]>).allowed],
  ['a Korean text that is not a string', (w) => ((w.steps[0].ko as Record<string, unknown>).text = 5)],
];

test('the schema and the runtime check accept a full walkthrough and exercises', () => {
  const s = parseScenarioText(file(WALK, EXERCISES), 'fmt.kpl');
  assert.deepEqual(s.doc.walkthrough, WALK);
  assert.deepEqual(s.doc.exercises, EXERCISES);
  assert.equal(walkthroughCheck(WALK, 'w'), null);
  assert.equal(exercisesCheck(EXERCISES, 'e'), null);
});

for (const [what, breakIt] of BROKEN) {
  test(`the schema and the runtime check both refuse ${what}`, (t) => {
    const w = structuredClone(WALK);
    const e = structuredClone(EXERCISES);
    breakIt(w, e);
    assert.throws(() => parseScenarioText(file(w, e), 'fmt.kpl'), LabFormatError);
    assert.notEqual(walkthroughCheck(w, 'w') ?? exercisesCheck(e, 'e'), null);
    const svc = service(t);
    svc.create('lab');
    svc.addHost('lab', 'a', []);
    assert.throws(() => {
      svc.setWalkthrough('lab', w as never);
      svc.setExercises('lab', e as never);
    }, LabFormatError);
    // Nothing half-saved: the lab still has neither.
    const doc = svc.doc('lab');
    assert.equal(doc.exercises, undefined);
    assert.ok(doc.walkthrough === undefined || walkthroughCheck(doc.walkthrough, 'w') === null);
  });
}

test('a lab\'s walkthrough and exercises travel through export and import unchanged', (t) => {
  const svc = service(t);
  svc.create('lab');
  svc.addHost('lab', 'a', []);
  svc.setWalkthrough('lab', WALK as never);
  svc.setExercises('lab', EXERCISES as never);
  const text = svc.exportScenario('lab');
  const name = svc.importScenario(text, { name: 'copy' });
  assert.deepEqual(svc.doc(name).walkthrough, WALK);
  assert.deepEqual(svc.doc(name).exercises, EXERCISES);
  assert.equal(svc.exportScenario(name).replace('"copy"', '"lab"'), text);
  svc.setWalkthrough('lab', null);
  svc.setExercises('lab', []);
  assert.equal(svc.doc('lab').walkthrough, undefined);
  assert.equal(svc.doc('lab').exercises, undefined);
});
