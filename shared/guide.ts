// Walkthroughs and exercises as data: what a lab file carries so that whoever opens it is guided
// through it (steps with an action and an expected state) or set a goal the lab checks with real
// traces. Written by hand, recorded in the app, shipped in the examples; all of it travels inside
// `.kpl` files, so every field here is also in shared/schema/kpl.schema.json.

import type { TraceOutcome } from './trace-json.ts';

export type GuideProto = 'tcp' | 'udp' | 'sctp' | 'icmp';

/** A rule of a trace the stepper should stop at (the first step matching every given field). */
export interface RuleRef {
  host?: string;
  table?: string;
  chain: string;
  /** 1-based rule number in the chain. */
  rule?: number;
}

/** What a step does when the user presses its button. */
export type StepAction =
  /** Open this host's console (a pod as NS/NAME, `@cluster` for the cluster's own kubectl) and run the line. */
  | { kind: 'command'; host: string; command: string }
  /** Start this trace in the stepper, optionally stepping on to a rule. */
  | { kind: 'trace'; from: string; to: string; proto?: GuideProto; seed?: number; stepTo?: RuleRef }
  /** Apply these manifests to the lab's cluster (`kpl apply`). */
  | { kind: 'apply'; yaml: string }
  /** Point at a host, node or pod on the canvas. */
  | { kind: 'show'; target: string };

/**
 * An expected state, checked against the lab as it is now. Fields left out of an `output` or
 * `trace` expectation are taken from the step's action (the command it runs, the trace it starts).
 */
export type Expectation =
  | {
      kind: 'output';
      host?: string;
      command?: string;
      /** Lines that must appear in the output, in this order (other lines may come between). */
      lines?: string[];
      /** Fragments that must appear somewhere in the output. */
      contains?: string[];
      /** Fragments that must not appear. */
      absent?: string[];
      /** The exit code (default: any). */
      code?: number;
    }
  | {
      kind: 'trace';
      from?: string;
      to?: string;
      proto?: GuideProto;
      seed?: number;
      outcome?: TraceOutcome;
      /** The host (a pod as NS/NAME) the packet was delivered to. */
      deliveredTo?: string;
      /** Chains entered or targets taken (`KUBE-MARK-DROP`, `DNAT`, `cali-pi-…` prefixes end in `*`). */
      passes?: string[];
      /** Chains or targets the walk must not reach. */
      avoids?: string[];
      /** The source address the receiver saw: `preserved` (the sender's), `translated`, or an IP. */
      source?: string;
      /** The reply's outcome (for a delivered TCP or UDP packet). */
      replyOutcome?: TraceOutcome;
      /** The source address the reply had when it reached the sender (conntrack's reverse translation). */
      replySource?: string;
    }
  | {
      kind: 'reach';
      /** Connectivity cells, each one traced: allowed means the connection is delivered. */
      cells: { from: string; to: string; proto?: GuideProto; allowed: boolean }[];
    };

/** One step of a guided walkthrough. */
export interface WalkthroughStep {
  title: string;
  text: string;
  /** The step in Korean (the article's own scenes). */
  ko?: { title?: string; text?: string };
  /** Version 2's first form of a command step (kept readable): the host of `command`. */
  host?: string;
  /** Version 2's first form of a command step: a console line to try. */
  command?: string;
  action?: StepAction;
  /** What the lab checks before it marks the step done. */
  expect?: Expectation;
}

export interface Walkthrough {
  title: string;
  ko?: { title?: string };
  steps: WalkthroughStep[];
}

/** A goal the lab checks against its current state. */
export interface Exercise {
  title: string;
  goal: string;
  ko?: { title?: string; goal?: string };
  /** Every check must pass for the exercise to be solved. */
  checks: { name: string; expect: Expectation }[];
  /** Shown one at a time, on request. */
  hints?: string[];
  /** The answer, shown when the user gives up. */
  solution?: string;
  /** The answer as actions the lab can perform ("apply the solution"); tests prove it solves the exercise. */
  solutionActions?: StepAction[];
}

/** The verdict on one expectation. */
export interface CheckResult {
  name: string;
  pass: boolean;
  /** What was seen (why it failed, or what passed). */
  detail: string;
}

/** The action a step runs, also for version 2's `host` + `command` form. */
export function stepAction(step: WalkthroughStep): StepAction | undefined {
  if (step.action) return step.action;
  if (step.command !== undefined && step.host !== undefined) return { kind: 'command', host: step.host, command: step.command };
  return undefined;
}
