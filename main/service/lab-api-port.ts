// What the app's API adapter needs from the lab service, by the service's own method names
// (LabService provides them; tests may hand the adapter a stand-in).

import type { LabDoc, ListenSpec, VethEnd } from '../../shared/lab.ts';
import type { CommandResult } from '../engine/shell/types.ts';
import type { TraceSpec } from '../engine/lab.ts';
import type { TraceReport } from '../engine/datapath/report.ts';
import type { Lab } from '../engine/lab.ts';
import type { CheckResult, Exercise, StepAction, Walkthrough } from '../../shared/guide.ts';
import type { ExampleInfo, ExerciseResult } from './guides.ts';
import type { RulesQuery, RulesView } from '../../shared/rules-view.ts';
import type { ForkPoint } from '../../shared/api/types.ts';

/** What a guide action did (the service's StepRun). */
export interface StepRunRow {
  action: StepAction;
  output?: { stdout: string; stderr: string; code: number };
  trace?: unknown;
}

export interface LabListRow {
  name: string;
  nodes: number;
  services: number;
  hosts: number;
  /** ms since the epoch, or ISO 8601. */
  changed: number | string;
  size: number;
}

export interface HistoryRow {
  seq: number;
  command: string;
  at: number | string;
  current: boolean;
}

export interface LabServicePort {
  list(): LabListRow[];
  create(ref: string, opts?: { seed?: number }): unknown;
  rename(ref: string, newName: string): unknown;
  duplicate(ref: string, newName: string): unknown;
  remove(ref: string): unknown;
  doc(ref: string): LabDoc;
  /** The engine's lab, loaded (for the view of a cluster). */
  load(ref: string): Lab;
  /** Reads the engine's lab of the current revision without rebuilding it (big labs). */
  inspect?<T>(ref: string, fn: (lab: Lab) => T): T;
  history(ref: string): HistoryRow[];
  /** Whether anything moved. */
  undo(ref: string): boolean;
  redo(ref: string): boolean;
  canUndo(ref: string): boolean;
  canRedo(ref: string): boolean;
  exportScenario(ref: string): string;
  importScenario(text: string, opts: { name?: string }): string;
  layout(ref: string): unknown;
  setLayout(ref: string, layout: unknown): void;
  consoleHistory(ref: string, host: string): string[];
  appendConsoleHistory(ref: string, host: string, line: string): void;
  saveTrace(ref: string, name: string, seed: number, report: unknown): unknown;
  /** Saved traces; `report` is the saved walk (LabService gives it). */
  traces(ref: string): { name: string; seed: number; at: number | string; report?: unknown }[];
  exec(ref: string, host: string, argv: string[], stdin: string): CommandResult;
  trace(ref: string, spec: TraceSpec): TraceReport;
  /** A console line (pipes, here-documents); null when more lines are needed. */
  console?(ref: string, host: string, lines: string[], opts?: { follow?: boolean }): (Omit<CommandResult, 'follow'> & { consumed: number; watch?: number }) | null;
  consoleFollow?(ref: string, id: number): { stdout: string; stderr: string; running: boolean };
  consoleInterrupt?(ref: string, id: number): Omit<CommandResult, 'follow'>;
  consoleTraces?(ref: string): TraceReport[];
  addLan(ref: string, name: string): void;
  addHost(ref: string, name: string, listen: ListenSpec[]): void;
  addLink(ref: string, host: string, lan: string, ip: string, dev?: string): string;
  addVeth(ref: string, a: Omit<VethEnd, 'dev'> & { dev?: string }, b: Omit<VethEnd, 'dev'> & { dev?: string }): [string, string];
  /** Records a document edited outside the engine's add* calls (removals), as one change. */
  update(ref: string, command: string, fn: (doc: LabDoc) => LabDoc): void;
  /** Kubernetes manifests (when the cluster layer is wired in). */
  apply?(ref: string, yamlText: string): CommandResult;
  /** Examples, walkthroughs and exercises (guides.ts). */
  examples?(): ExampleInfo[];
  createExample?(example: string, ref: string, opts?: { proxy?: 'legacy' | 'current' }): void;
  runStep?(ref: string, i: number): StepRunRow;
  checkStep?(ref: string, i: number): CheckResult;
  checkExercises?(ref: string, only?: number): ExerciseResult[];
  applySolution?(ref: string, i: number): StepRunRow[];
  setWalkthrough?(ref: string, w: Walkthrough | null): void;
  setExercises?(ref: string, list: Exercise[]): void;
  /** The rules browser's view of a host (host-view.ts). */
  rules?(ref: string, host: string, q?: RulesQuery): RulesView;
  /** A host's iptables-save at a revision of a stored lab. */
  rulesAt?(ref: string, rev: number, host: string): string;
  /** The revision a stored lab is at (what its traces are made on). */
  currentRev?(ref: string): number | undefined;
  /** What if: a trace walked on revision `at.rev` of a stored lab until a host, on the lab as it is from there on. */
  traceForked?(ref: string, spec: TraceSpec, at: ForkPoint): TraceReport;
  close?(): void;
}
