// LabApi's examples, walkthroughs and exercises: validation of the arguments (the shared schema
// every transport applies, walkthroughs and exercises by shared/guide-check.ts), and the
// dispatcher's calls on the Pod-to-Pod example: the list, a lab made from it, a step run and
// checked, an exercise failed, solved and passed, an authored walkthrough and exercise stored in
// the lab (and in its export), and the change events of each.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import {
  checkCall, type CheckVerdict, type ExampleInfo, type Exercise, type ExerciseVerdict, type LabSummary, type StepRunResult, type Walkthrough,
} from '../../shared/api/contract.ts';

const walk: Walkthrough = {
  title: 'Mine',
  steps: [
    { title: 'hostname', text: '', action: { kind: 'command', host: 'minikube', command: 'hostname' }, expect: { kind: 'output', contains: ['minikube'] } },
    { title: 'trace', text: 'a trace', ko: { text: '트레이스' }, action: { kind: 'trace', from: 'minikube', to: '10.96.0.1:443', stepTo: { chain: 'KUBE-SERVICES' } }, expect: { kind: 'trace', outcome: 'delivered' } },
  ],
};
const exercise: Exercise = {
  title: 'Reach', goal: 'g', checks: [{ name: 'c', expect: { kind: 'trace', from: 'minikube', to: '10.96.0.1:443', proto: 'tcp', outcome: 'delivered' } }], hints: ['h'],
};

describe('guide methods: argument validation', () => {
  const good = (method: string, params: unknown[]): void => assert.equal(checkCall(method, params), null, `${method} ${JSON.stringify(params).slice(0, 80)}`);
  const bad = (method: string, params: unknown[], re: RegExp): void => {
    const e = checkCall(method, params);
    assert.ok(e, `refused: ${method} ${JSON.stringify(params).slice(0, 80)}`);
    assert.equal(e.code, 'invalid');
    assert.match(e.message, re);
  };

  it('takes what the app sends', () => {
    good('examples', []);
    good('createExample', ['pod-to-pod', 'my lab']);
    good('createExample', ['pod-to-pod', 'my lab', { proxy: 'current' }]);
    good('createExample', ['pod-to-pod', 'my lab', {}]);
    good('runStep', ['lab', 0]);
    good('checkStep', ['lab', 4]);
    good('checkExercises', ['lab']);
    good('checkExercises', ['lab', 0]);
    good('checkExercises', ['lab', null]);
    good('applySolution', ['lab', 0]);
    good('setWalkthrough', ['lab', walk]);
    good('setWalkthrough', ['lab', null]);
    good('setWalkthrough', ['lab', { title: '', steps: [] }]);
    good('setExercises', ['lab', [exercise]]);
    good('setExercises', ['lab', []]);
  });

  it('refuses anything else', () => {
    bad('examples', ['x'], /at most 0/);
    bad('createExample', [], /argument 1: missing/);
    bad('createExample', ['pod-to-pod'], /argument 2: missing/);
    bad('createExample', ['Pod To Pod', 'lab'], /example name/);
    bad('createExample', ['../pod', 'lab'], /example name/);
    bad('createExample', ['pod-to-pod', '/etc/passwd'], /lab name/);
    bad('createExample', ['pod-to-pod', 'x.kpl'], /lab name/);
    bad('createExample', ['pod-to-pod', 'lab', { proxy: 'nftables' }], /"legacy", "current"/);
    bad('createExample', ['pod-to-pod', 'lab', { layout: 'legacy' }], /unknown field "layout"/);
    bad('runStep', ['lab'], /argument 2: missing/);
    bad('runStep', ['lab', -1], /integer/);
    bad('runStep', ['lab', 1.5], /integer/);
    bad('runStep', ['lab', '0'], /integer/);
    bad('checkStep', ['lab', 10_000], /integer/);
    bad('checkStep', ['../x', 0], /lab name/);
    bad('checkExercises', ['lab', 'all'], /integer/);
    bad('checkExercises', ['lab', 0, 1], /at most 2/);
    bad('applySolution', ['lab', null], /argument 2: missing/);
    bad('setWalkthrough', ['lab'], /argument 2: missing/);
    bad('setWalkthrough', ['lab', { title: 'x' }], /steps: missing/);
    bad('setWalkthrough', ['lab', { title: 'x', steps: [{ title: 't', text: '', evil: 1 }] }], /unknown field "evil"/);
    bad('setWalkthrough', ['lab', { title: 'x', steps: [{ title: 't', text: '', action: { kind: 'shell', command: 'rm -rf /' } }] }], /"command", "trace", "apply", "show"/);
    bad('setWalkthrough', ['lab', { title: 'x', steps: [{ title: 't', text: '', action: { kind: 'command', host: '', command: 'ls' } }] }], /host/);
    bad('setWalkthrough', ['lab', { title: 'x', steps: [{ title: 't', text: '', expect: { kind: 'trace', outcome: 'lost' } }] }], /outcome/);
    bad('setWalkthrough', ['lab', { title: 'x', steps: Array.from({ length: 1001 }, () => ({ title: 't', text: '' })) }], /limit/);
    bad('setWalkthrough', ['lab', 'steps'], /expected an object/);
    bad('setExercises', ['lab', null], /argument 2: missing/);
    bad('setExercises', ['lab', exercise], /expected an array/);
    bad('setExercises', ['lab', [{ ...exercise, checks: [{ name: 'c' }] }]], /expect: missing/);
    bad('setExercises', ['lab', [{ ...exercise, hints: [3] }]], /hints\[0\]/);
    bad('setExercises', ['lab', [{ ...exercise, solutionActions: [{ kind: 'apply' }] }]], /yaml: missing/);
  });
});

describe('guide methods on the service', () => {
  let dir: string;
  let api: ApiDispatcher;
  const events: string[] = [];

  const ok = async <T>(method: string, ...params: unknown[]): Promise<T> => {
    const r = await api.call(method, params);
    if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };
  const fails = async (method: string, params: unknown[], code: string, re: RegExp): Promise<void> => {
    const r = await api.call(method, params);
    assert.ok('error' in r, `${method} should fail`);
    assert.equal(r.error.code, code, r.error.message);
    assert.match(r.error.message, re);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-guide-api-'));
    api = openLabApi({ db: join(dir, 'labs.db') });
    api.subscribe((e, d) => events.push(`${e}:${JSON.stringify(d)}`));
  });
  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the examples and makes a lab from one', async () => {
    const list = await ok<ExampleInfo[]>('examples');
    const p2p = list.find((e) => e.name === 'pod-to-pod');
    assert.ok(p2p);
    assert.equal(p2p.ko, 'Pod - Pod 통신');
    assert.deepEqual(p2p.layouts, ['legacy', 'current']);
    assert.equal(p2p.steps, 5);
    assert.equal(p2p.exercises, 1);
    events.length = 0;
    const s = await ok<LabSummary>('createExample', 'pod-to-pod', 'p2p', { proxy: 'current' });
    assert.equal(s.name, 'p2p');
    assert.equal(s.nodes, 2);
    assert.deepEqual(events, ['labsChanged:{}']);
    const doc = await ok<{ walkthrough: Walkthrough; exercises: Exercise[]; cluster: { proxy: string } }>('doc', 'p2p');
    assert.equal(doc.walkthrough.steps.length, 5);
    assert.equal(doc.cluster.proxy, 'current');
    await fails('createExample', ['no-such-example', 'x'], 'failed', /no example named "no-such-example"/);
    await fails('createExample', ['pod-to-pod', 'p2p'], 'conflict', /already exists/);
  });

  it('runs and checks walkthrough steps', async () => {
    events.length = 0;
    const run = await ok<StepRunResult>('runStep', 'p2p', 0);
    assert.equal(run.action.kind, 'command');
    assert.match(run.output?.stdout ?? '', /10\.244\.205\.130/);
    assert.deepEqual(events, ['labChanged:{"lab":"p2p"}']);
    assert.equal((await ok<CheckVerdict>('checkStep', 'p2p', 0)).pass, true);
    events.length = 0;
    const tr = await ok<StepRunResult>('runStep', 'p2p', 2);
    assert.equal(tr.action.kind, 'trace');
    assert.equal((tr.trace as { outcome?: string }).outcome, 'delivered');
    assert.deepEqual(events, [], 'a trace step changes nothing');
    assert.equal((await ok<CheckVerdict>('checkStep', 'p2p', 2)).pass, true);
    // The last step expects web-a gone: not yet.
    const before = await ok<CheckVerdict>('checkStep', 'p2p', 4);
    assert.equal(before.pass, false);
    assert.match(before.detail, /web-a/);
    await ok('runStep', 'p2p', 4);
    assert.equal((await ok<CheckVerdict>('checkStep', 'p2p', 4)).pass, true);
    await fails('runStep', ['p2p', 5], 'failed', /no step 6/);
    await fails('checkStep', ['nope', 0], 'notfound', /no lab/);
  });

  it('checks an exercise, applies its solution, checks again', async () => {
    await ok('createExample', 'pod-to-pod', 'ex');
    let r = await ok<ExerciseVerdict[]>('checkExercises', 'ex');
    assert.equal(r.length, 1);
    assert.equal(r[0].pass, false);
    assert.deepEqual(r[0].checks.map((c) => c.pass), [true, false]);
    events.length = 0;
    const runs = await ok<StepRunResult[]>('applySolution', 'ex', 0);
    assert.equal(runs.length, 1);
    assert.deepEqual(events, ['labChanged:{"lab":"ex"}']);
    r = await ok<ExerciseVerdict[]>('checkExercises', 'ex', 0);
    assert.equal(r[0].pass, true);
    await fails('checkExercises', ['ex', 3], 'failed', /no exercise 4/);
    await fails('applySolution', ['ex', 1], 'failed', /no exercise 2/);
  });

  it('stores an authored walkthrough and exercises in the lab and its export', async () => {
    await ok('createLab', 'authored', { cluster: true });
    events.length = 0;
    await ok('setWalkthrough', 'authored', walk);
    await ok('setExercises', 'authored', [exercise]);
    assert.deepEqual(events, ['labChanged:{"lab":"authored"}', 'labChanged:{"lab":"authored"}']);
    const doc = await ok<{ walkthrough?: Walkthrough; exercises?: Exercise[] }>('doc', 'authored');
    assert.deepEqual(doc.walkthrough, walk);
    assert.deepEqual(doc.exercises, [exercise]);
    assert.equal((await ok<CheckVerdict>('checkStep', 'authored', 0)).pass, true);
    assert.equal((await ok<ExerciseVerdict[]>('checkExercises', 'authored'))[0].pass, true);
    const ex = await ok<{ text: string }>('exportLab', 'authored');
    await ok('importLab', ex.text, { name: 'authored copy' });
    assert.deepEqual((await ok<{ walkthrough?: Walkthrough }>('doc', 'authored copy')).walkthrough, walk);
    await ok('setWalkthrough', 'authored', null);
    await ok('setExercises', 'authored', []);
    const cleared = await ok<{ walkthrough?: Walkthrough; exercises?: Exercise[] }>('doc', 'authored');
    assert.equal(cleared.walkthrough, undefined);
    assert.equal(cleared.exercises, undefined);
  });
});
