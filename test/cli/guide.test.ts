// `kpl examples`, `kpl example`, `kpl check` from the command line: the listing, creating an
// example as a stored lab and as a .kpl file, exit codes of checks that fail and pass, and the
// errors of bad input.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKpl } from '../../main/cli/kpl.ts';
import { LabService } from '../../main/service/lab-service.ts';

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-guide-'));
  const svc = new LabService({ db: join(dir, 'labs.db') });
  t.after(() => {
    svc.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kpl = (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = runKpl(args, () => '', { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, svc);
    return { code, stdout, stderr };
  };
  return { dir, svc, kpl };
}

test('kpl examples lists the nine built-in labs as a table and as JSON', (t) => {
  const { kpl } = setup(t);
  const r = kpl('examples');
  assert.equal(r.code, 0);
  const rows = r.stdout.trimEnd().split('\n');
  assert.match(rows[0], /^NAME +LAYOUTS +STEPS +EXERCISES +TITLE$/);
  assert.equal(rows.length, 10);
  assert.match(r.stdout, /^pod-to-pod +legacy,current +\d+ +\d+ +Pod to Pod/m);
  const json = JSON.parse(kpl('examples', '--json').stdout) as { name: string; steps: number }[];
  assert.deepEqual(json.map((e) => e.name), rows.slice(1).map((l) => l.split(/\s+/)[0]));
});

test('kpl example creates the lab with its walkthrough; kpl check fails, then passes once solved', (t) => {
  const { kpl, svc } = setup(t);
  assert.equal(kpl('example', 'pod-to-pod', 'p2p', '--proxy', 'current').code, 0);
  const doc = svc.doc('p2p');
  assert.equal(doc.cluster?.proxy, 'current');
  assert.ok((doc.walkthrough?.steps.length ?? 0) >= 3);
  const before = kpl('check', 'p2p');
  assert.equal(before.code, 1);
  assert.match(before.stdout, /^exercise 1: Cut the tunnel: not solved$/m);
  assert.match(before.stdout, /^ {2}PASS {2}client still reaches web-a: /m);
  assert.match(before.stdout, /^ {2}FAIL {2}client no longer reaches web-b: .*delivered, expected blocked$/m);
  assert.match(before.stdout, /^1 passed, 1 failed\n$/m);
  // A wrong change: the route to the node's own pods, not the other node's block.
  assert.equal(kpl('exec', 'p2p', 'minikube', '--', 'ip', 'route', 'del', '10.244.120.71').code, 0);
  const wrong = kpl('check', 'p2p');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /FAIL {2}client still reaches web-a/);
  assert.match(wrong.stdout, /FAIL {2}client no longer reaches web-b/);
  assert.equal(kpl('undo', 'p2p').code, 0);
  assert.equal(kpl('exec', 'p2p', 'minikube', '--', 'ip', 'route', 'del', '10.244.205.128/26').code, 0);
  const after = kpl('check', 'p2p', '--json');
  assert.equal(after.code, 0, after.stdout);
  const j = JSON.parse(after.stdout) as { passed: number; failed: number; exercises: { pass: boolean }[] };
  assert.deepEqual([j.passed, j.failed, j.exercises[0].pass], [2, 0, true]);
});

test('kpl check --walkthrough rehearses the walkthrough on a copy and leaves the lab as it was', (t) => {
  const { kpl, svc, dir } = setup(t);
  const file = join(dir, 'p2p.kpl');
  assert.equal(kpl('example', 'pod-to-pod', file).code, 0);
  const text = readFileSync(file, 'utf8');
  const r = kpl('check', file, '--walkthrough');
  const steps = svc.doc(file).walkthrough!.steps.length;
  assert.match(r.stdout, new RegExp(`^${steps + 1} passed, 1 failed$`, 'm'));
  for (let i = 1; i <= steps; i++) assert.match(r.stdout, new RegExp(`^ {2}PASS {2}step ${i}: `, 'm'));
  assert.equal(readFileSync(file, 'utf8'), text, 'the lab file is unchanged');
});

test('bad input: unknown example, taken name, bad --proxy, missing exercise, a lab without exercises', (t) => {
  const { kpl } = setup(t);
  const unknown = kpl('example', 'nope', 'x');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^kpl: no example named "nope" \(kpl examples lists them: pod-to-pod, /);
  assert.equal(kpl('example', 'pod-to-pod', 'x').code, 0);
  assert.deepEqual(kpl('example', 'pod-to-pod', 'x'), { code: 1, stdout: '', stderr: 'kpl: a lab named "x" already exists\n' });
  assert.deepEqual(kpl('example', 'pod-to-pod', 'y', '--proxy', 'ipvs'), { code: 2, stdout: '', stderr: 'kpl: --proxy: expected legacy or current, got "ipvs"\n' });
  assert.equal(kpl('example', 'pod-to-pod').code, 2);
  assert.deepEqual(kpl('check', 'x', '--exercise', '7'), { code: 1, stdout: '', stderr: 'kpl: the lab has no exercise 7 (it has 1)\n' });
  assert.equal(kpl('new', 'empty').code, 0);
  assert.deepEqual(kpl('check', 'empty'), { code: 1, stdout: '', stderr: 'kpl: empty: the lab has no exercises to check\n' });
  assert.equal(kpl('check', 'nolab').code, 1);
});
