// Examples, walkthroughs and exercises over the engine: building an example's lab, performing
// a walkthrough step's action on a lab, and checking expected states. Checks always run on a
// fresh copy of the lab's current revision, so checking never changes the lab.

import { defaultCluster, type ProxyLayout } from '../../shared/cluster.ts';
import { stepAction, type CheckResult, type Exercise, type StepAction, type WalkthroughStep } from '../../shared/guide.ts';
import { emptyLab, type LabDoc } from '../../shared/lab.ts';
import { Lab, LabError, type TraceSpec } from '../engine/lab.ts';
import type { CommandResult } from '../engine/shell/types.ts';
import type { TraceJson } from '../../shared/trace-json.ts';
import { checkExpectation } from '../engine/guide/expect.ts';
import { EXAMPLES } from '../examples/index.ts';
import type { Example, SetupStep } from '../examples/example.ts';
import type { ExampleInfo } from '../../shared/api/types.ts';

export type { ExampleInfo };


export function exampleList(): ExampleInfo[] {
  return EXAMPLES.map((e) => {
    const layout = e.layouts?.[0] ?? 'legacy';
    return {
      name: e.name,
      title: e.title,
      ...(e.ko ? { ko: e.ko } : {}),
      summary: e.summary,
      scene: e.scene,
      layouts: e.cluster ? [...(e.layouts ?? ['legacy'])] : [],
      cluster: e.cluster !== undefined,
      steps: e.walkthrough(layout).steps.length,
      exercises: e.exercises?.(layout).length ?? 0,
    };
  });
}

export function findExample(name: string): Example {
  const e = EXAMPLES.find((x) => x.name === name);
  if (!e) throw new LabError(`no example named "${name}" (kpl examples lists them: ${EXAMPLES.map((x) => x.name).join(', ')})`);
  return e;
}

function runSetup(lab: Lab, s: SetupStep): void {
  const fail = (what: string) => {
    throw new LabError(`${what.trimEnd()}`);
  };
  switch (s.kind) {
    case 'apply': {
      const r = lab.applyManifests(s.yaml);
      if (r.code !== 0) fail(r.stderr);
      if (r.agentErrors.length) fail(r.agentErrors.join('; '));
      return;
    }
    case 'lan':
      lab.addLan(s.name);
      return;
    case 'host':
      lab.addHost(s.name, s.listen ?? []);
      return;
    case 'link':
      lab.addLink(s.host, s.lan, s.ip, s.dev);
      return;
    case 'console': {
      const r = lab.console(s.host, s.command.split('\n'));
      if (!r) fail(`${s.command}: incomplete command`);
      else if (r.code !== 0) fail(`${s.command}: ${r.stderr || `exit code ${r.code}`}`);
      return;
    }
  }
}

/** The lab an example makes, with its walkthrough and exercises, for `name`. */
export function buildExample(ex: Example, name: string, layout?: ProxyLayout): LabDoc {
  const layouts = ex.layouts ?? ['legacy'];
  const lay = layout ?? layouts[0];
  if (ex.cluster && !layouts.includes(lay)) throw new LabError(`example ${ex.name} offers the ${layouts.join(' and ')} layout${layouts.length > 1 ? 's' : ''}, not ${lay}`);
  if (!ex.cluster && layout !== undefined) throw new LabError(`example ${ex.name} has no cluster: --proxy does not apply`);
  const doc = emptyLab(name);
  doc.seed = ex.seed ?? 1;
  if (ex.cluster) doc.cluster = { ...defaultCluster(), ...ex.cluster, proxy: lay };
  const lab = Lab.fromDoc(doc);
  ex.setup(lay).forEach((s, i) => {
    try {
      runSetup(lab, s);
    } catch (e) {
      throw new LabError(`example ${ex.name}: setup step ${i + 1} (${s.kind}) failed: ${(e as Error).message}`);
    }
  });
  const out = lab.toDoc();
  out.walkthrough = ex.walkthrough(lay);
  const exercises = ex.exercises?.(lay) ?? [];
  if (exercises.length) out.exercises = exercises;
  if (ex.notes) out.notes = ex.notes;
  return out;
}

/** Checks step `i`'s expected state on a fresh copy of the lab. */
export function checkStep(doc: LabDoc, i: number): CheckResult {
  const step = walkthroughStep(doc, i);
  if (!step.expect) return { name: step.title, pass: true, detail: 'nothing to check' };
  const v = checkExpectation(Lab.fromDoc(doc), step.expect, stepAction(step));
  return { name: step.title, ...v };
}

export function walkthroughStep(doc: LabDoc, i: number): WalkthroughStep {
  const steps = doc.walkthrough?.steps ?? [];
  if (!Number.isInteger(i) || i < 0 || i >= steps.length) throw new LabError(`the lab's walkthrough has no step ${i + 1} (it has ${steps.length})`);
  return steps[i];
}

export interface ExerciseResult {
  index: number;
  title: string;
  pass: boolean;
  checks: CheckResult[];
}

/** Every check of the lab's exercises (or of exercise `only`), each on a fresh copy of the lab. */
export function checkExercises(doc: LabDoc, only?: number): ExerciseResult[] {
  const all: Exercise[] = doc.exercises ?? [];
  if (only !== undefined && (only < 0 || only >= all.length)) throw new LabError(`the lab has no exercise ${only + 1} (it has ${all.length})`);
  return all.flatMap((ex, index) => {
    if (only !== undefined && index !== only) return [];
    const checks = ex.checks.map((c) => ({ name: c.name, ...checkExpectation(Lab.fromDoc(doc), c.expect) }));
    return [{ index, title: ex.title, pass: checks.every((c) => c.pass), checks }];
  });
}

/** The action step `i` performs, or an error when it has none. */
export function actionOf(doc: LabDoc, i: number): StepAction {
  const a = stepAction(walkthroughStep(doc, i));
  if (!a) throw new LabError(`step ${i + 1} of the walkthrough has no action`);
  return a;
}

/** What performing a walkthrough step did. */
export interface StepRun {
  action: StepAction;
  output?: { stdout: string; stderr: string; code: number };
  trace?: TraceJson;
}

/** Where a guide action is performed: a stored lab (through the service, saved) or an engine lab (a rehearsal). */
export interface ActionTarget {
  console(host: string, lines: string[]): CommandResult | null;
  trace(spec: TraceSpec): { json: TraceJson };
  apply(yaml: string): CommandResult;
}

/** Performs one guide action as the user would: the command typed, the trace started, the manifests applied. */
export function performAction(t: ActionTarget, a: StepAction): StepRun {
  switch (a.kind) {
    case 'command': {
      const r = t.console(a.host, a.command.split('\n'));
      if (!r) throw new LabError(`${a.command}: the command is not complete`);
      return { action: a, output: { stdout: r.stdout, stderr: r.stderr, code: r.code } };
    }
    case 'trace':
      return { action: a, trace: t.trace({ from: a.from, to: a.to, proto: a.proto ?? 'tcp', ...(a.seed !== undefined ? { seed: a.seed } : {}) }).json };
    case 'apply': {
      const r = t.apply(a.yaml);
      return { action: a, output: { stdout: r.stdout, stderr: r.stderr, code: r.code } };
    }
    case 'show':
      return { action: a };
  }
}

/** Performs one guide action on an engine lab (no store), for rehearsals: a refused manifest fails the step. */
function performOn(lab: Lab, a: StepAction): void {
  const r = performAction({ console: (h, l) => lab.console(h, l), trace: (s) => lab.trace(s), apply: (y) => lab.applyManifests(y) }, a);
  if (a.kind === 'apply' && r.output && r.output.code !== 0) throw new LabError(r.output.stderr.trim());
}

/**
 * `kpl check --walkthrough`: the walkthrough rehearsed on a copy of the lab (the lab itself is
 * not changed): every step's action performed in order, then its expected state checked.
 */
export function rehearseWalkthrough(doc: LabDoc): CheckResult[] {
  const lab = Lab.fromDoc(doc);
  return (doc.walkthrough?.steps ?? []).map((step, i) => {
    const name = `step ${i + 1}: ${step.title}`;
    const a = stepAction(step);
    try {
      if (a) performOn(lab, a);
    } catch (e) {
      return { name, pass: false, detail: `the action failed: ${(e as Error).message}` };
    }
    if (!step.expect) return { name, pass: true, detail: 'nothing to check' };
    // Checked on a copy of the rehearsal as it stands, so the check cannot change it.
    return { name, ...checkExpectation(Lab.fromDoc(lab.toDoc()), step.expect, a) };
  });
}
