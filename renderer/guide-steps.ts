// The guide's pure parts (no DOM): the steps Record makes from a console line or a started
// trace, an action in one line, and the stepper's search for a step's `stepTo` rule.

import type { ConsoleResult, Expectation, RuleRef, StepAction, TraceRequest, WalkthroughStep } from '../shared/api/contract.ts';
import type { StepJson } from '../shared/trace-json.ts';

export const OUTCOMES: ReadonlySet<string> = new Set(['delivered', 'refused', 'dropped', 'rejected', 'unroutable']);

/** A trace the user started (the stepper's form, or a walkthrough step), with its walk's outcome. */
export interface StartedTrace {
  spec: { from: string; to: string; proto: TraceRequest['proto']; sport?: number; seed?: number; later?: number; tcpFlags?: string };
  outcome?: string;
}

/** The first row of a walk at a rule (every given field of the reference matching), or -1. */
export function rowAt(rows: readonly { step: StepJson }[], ref: RuleRef): number {
  return rows.findIndex(({ step: s }) => s.skipped === undefined && s.chain === ref.chain && (ref.host === undefined || s.host === ref.host) && (ref.table === undefined || s.table === ref.table) && (ref.rule === undefined || s.rule === ref.rule));
}

/** What a step's action does, in one line. */
export function actionLine(a: StepAction | undefined): string {
  if (!a) return '';
  switch (a.kind) {
    case 'command':
      return `${a.host}$ ${a.command}`;
    case 'trace':
      return `trace ${a.from} → ${a.to}${a.proto && a.proto !== 'tcp' ? ` (${a.proto})` : ''}${a.stepTo ? `, to ${[a.stepTo.host, a.stepTo.table, a.stepTo.chain, a.stepTo.rule].filter((x) => x !== undefined).join(' › ')}` : ''}`;
    case 'apply':
      return `kubectl apply (${a.yaml.split('\n').filter((l) => /^kind:/.test(l.trim())).map((l) => l.trim().slice(5).trim()).join(', ') || 'manifests'})`;
    case 'show':
      return `show ${a.target}`;
  }
}

/** The step a console line makes while recording: its output's first line is what it expects. */
export function recordedCommandStep(host: string, line: string, r: ConsoleResult): WalkthroughStep {
  const first = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
  const expect: Expectation = first !== undefined ? { kind: 'output', contains: [first.slice(0, 2000)] } : { kind: 'output', code: Math.max(0, Math.min(255, r.code)) };
  return { title: line.split('\n')[0].slice(0, 200), text: '', action: { kind: 'command', host, command: line }, expect };
}

/** The step a started trace makes while recording: its outcome is what it expects. */
export function recordedTraceStep(t: StartedTrace): WalkthroughStep {
  const { from, to, proto } = t.spec;
  const expect: Expectation = { kind: 'trace', ...(t.outcome && OUTCOMES.has(t.outcome) ? { outcome: t.outcome as 'delivered' } : {}) };
  return { title: `trace ${from} → ${to}`, text: '', action: { kind: 'trace', from, to, ...(proto !== 'tcp' ? { proto } : {}) }, expect };
}

