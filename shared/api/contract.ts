// LabApi: every method and event the renderer uses, the same in Electron (preload + IPC) and
// in browser mode (WebSocket). METHOD_ARGS is the runtime schema of each method's positional
// arguments; every transport validates a call against it before the service sees it, and the
// preload script builds one function per entry (never a generic invoke).

import { args, arr, bool, int, json, loose, nullable, num, obj, oneOf, opt, record, str, type Check } from './check.ts';
import type {
  ApplyResult, Capabilities, CheckVerdict, ConsoleFollowResult, ConsoleResult, ExampleInfo, ExecResult, ExerciseVerdict, ExportResult, HistoryEntry, HostKind,
  ForkPoint, LabSummary, LabView, Layout, ListenSpec, RemoveItem, SavedTrace, SavedTraceReport, StepRunResult, TraceRequest, TraceResult, UndoResult,
} from './types.ts';
import type { RulesCompare, RulesQuery, RulesView } from './types.ts';
import type { PathGraph, PathQuery } from './types.ts';
import type { Exercise, Walkthrough } from '../guide.ts';
import { exercisesCheck, walkthroughCheck } from '../guide-check.ts';

export * from './types.ts';
export type { Exercise, Expectation, RuleRef, StepAction, Walkthrough, WalkthroughStep } from '../guide.ts';

export const API_LIMITS = {
  /** A .kpl or YAML text crossing the boundary. */
  textBytes: 50 * 1024 * 1024,
  layoutBytes: 8 * 1024 * 1024,
  /** One WebSocket message (a call with its arguments). */
  messageBytes: 60 * 1024 * 1024,
};

const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const CIDR_RE = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/;
const DEV_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$/;

/**
 * A lab in the store, named by the user: 1-253 characters, no control characters or surrounding
 * spaces, and nothing that reads as a file path (no / or \\, not ending in .kpl or .json).
 */
// eslint-disable-next-line no-control-regex
const labRef: Check = str({ min: 1, max: 253, re: /^(?!\s)(?![.-]$)(?!\.\.$)[^\u0000-\u001f\u007f/\\]*(?<!\s)(?<!\.kpl)(?<!\.json)$/i, what: 'a lab name (no / or \\, not ending in .kpl or .json)' });
const name: Check = str({ min: 1, max: 253, re: NAME_RE, what: 'a name (letters, digits, . _ -)' });
const dev: Check = str({ min: 1, max: 15, re: DEV_RE, what: 'a device name' });
const cidr: Check = str({ max: 18, re: CIDR_RE, what: 'an address A.B.C.D/N' });
const listen: Check = arr(obj({ port: int(1, 65535), proto: oneOf('tcp', 'udp', 'sctp') }), 1024);
/** A console's host: a host or node name, or a pod as namespace/name. */
const consoleHost: Check = str({ min: 1, max: 507, re: /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\/[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$/, what: 'a host, node or namespace/pod name' });
const hostKind: Check = oneOf('host', 'client', 'lb');
const vethEnd: Check = obj({ host: name, dev: opt(dev), ip: opt(cidr) });
const text: Check = str({ max: API_LIMITS.textBytes });
const breakpoint: Check = obj({
  kind: oneOf('rule', 'chain', 'hook', 'drop', 'nat', 'conntrack', 'host'),
  host: opt(str({ min: 1, max: 507 })),
  table: opt(oneOf('raw', 'mangle', 'nat', 'filter', 'security')),
  chain: opt(str({ min: 1, max: 64, re: /^[^\s]+$/, what: 'a chain name' })),
  rule: opt(int(1, 1_000_000)),
  hook: opt(oneOf('PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING')),
  state: opt(str({ min: 1, max: 32, re: /^[A-Za-z_]+$/, what: 'a conntrack state' })),
  enabled: opt(bool),
});
const layout: Check = (v, where) =>
  json(API_LIMITS.layoutBytes)(v, where) ??
  obj({
    positions: record(str({ max: 600 }), obj({ x: num(), y: num() })),
    kinds: opt(record(name, hostKind)),
    zoom: opt(num(0, 1000)),
    pan: opt(obj({ x: num(), y: num() })),
    breakpoints: opt(arr(breakpoint, 500)),
  })(v, where);
const removeItem: Check = obj({
  kind: oneOf('host', 'lan', 'link', 'veth', 'node', 'pod', 'deployment', 'service'),
  name,
  namespace: opt(name),
  dev: opt(dev),
});
const traceReq: Check = obj({
  from: str({ min: 1, max: 300 }),
  to: str({ min: 1, max: 300 }),
  proto: oneOf('tcp', 'udp', 'sctp', 'icmp'),
  sport: opt(int(1, 65535)),
  seed: opt(int(0, 2 ** 32 - 1)),
  allOutcomes: opt(bool),
  keep: opt(bool),
  later: opt(int(0, 100)),
  tcpFlags: opt(str({ min: 1, max: 40, re: /^[A-Za-z]+(,[A-Za-z]+)*$/, what: 'TCP flags such as SYN or FIN,ACK' })),
});

/** A built-in example's name (lower-case words and dashes). */
const exampleName: Check = str({ min: 1, max: 64, re: /^[a-z0-9]+(-[a-z0-9]+)*$/, what: 'an example name (lower-case words and dashes)' });
/** A 0-based position in a walkthrough's steps or a lab's exercises. */
const index: Check = int(0, 9999);

/** A chain name as iptables takes it (up to 28 characters, no spaces). */
const chainName: Check = str({ min: 1, max: 28, re: /^[^\s!-][^\s]*$/, what: 'a chain name' });
/** What the rules browser asks of a host (shared/rules-view.ts). */
const rulesQuery: Check = obj({
  table: opt(oneOf('raw', 'mangle', 'nat', 'filter', 'security')),
  chain: opt(chainName),
  filter: opt(str({ max: 200 })),
  limit: opt(int(0, 100_000)),
  chainLimit: opt(int(0, 100_000)),
  offset: opt(int(0, 100_000_000)),
});

/** The packet of the rules browser's path graph (shared/rules-path.ts): every field optional. */
const IPV4_RE = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const pathQuery: Check = obj({
  src: opt(str({ max: 15, re: IPV4_RE, what: 'an address A.B.C.D' })),
  dst: opt(str({ max: 15, re: IPV4_RE, what: 'an address A.B.C.D' })),
  proto: opt(str({ max: 16, re: /^(tcp|udp|sctp|icmp|all|[0-9]{1,3})$/i, what: 'tcp, udp, sctp, icmp or a protocol number' })),
  sport: opt(int(0, 65535)),
  dport: opt(int(0, 65535)),
  in: opt(dev),
  out: opt(dev),
  hook: opt(oneOf('PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING')),
  chain: opt(chainName),
  table: opt(oneOf('raw', 'mangle', 'nat', 'filter', 'security')),
});

/** A saved trace's name, as saveTrace takes it. */
const traceName: Check = str({ min: 1, max: 200 });

/**
 * The checks a deep link's parameters pass (shared/api/trace-link.ts): a lab name as the API
 * takes it, a saved trace's name without control characters, a host, node or namespace/pod.
 */
export const linkChecks = {
  lab: labRef,
  // eslint-disable-next-line no-control-regex
  trace: str({ min: 1, max: 200, re: /^[^\u0000-\u001f\u007f]+$/, what: 'a trace name (no control characters)' }),
  node: consoleHost,
} as const;

/** A trace report (`kpl trace --json`): the fields the Markdown export reads are checked, others let through. */
const shortText: Check = str({ max: 100_000 });
const packetJson: Check = loose({ src: str({ max: 64 }), dst: str({ max: 64 }), proto: str({ max: 16 }), sport: nullable(int(0, 65535)), dport: nullable(int(0, 65535)) });
const stepJson: Check = loose({
  host: str({ max: 507 }), hook: opt(nullable(str({ max: 32 }))), table: str({ max: 32 }), chain: str({ max: 64 }),
  rule: opt(nullable(int(0, 10_000_000))), rule_spec: opt(nullable(shortText)), matched: opt(bool), verdict: opt(nullable(str({ max: 64 }))),
  why: opt(shortText), skipped: opt(int(0, 100_000_000)), from: opt(int(0, 100_000_000)),
});
const walkShape = {
  outcome: str({ max: 32 }), reason: shortText, packet: packetJson, steps: arr(stepJson, 5_000_000),
  events: arr(loose({ host: str({ max: 507 }), kind: str({ max: 32 }), hook: opt(nullable(str({ max: 32 }))), text: shortText, at: int(0, 100_000_000), entry: opt(shortText) }), 5_000_000),
  dnat: opt(nullable(str({ max: 64 }))), snat: opt(nullable(str({ max: 64 }))), masquerade: opt(bool),
  delivered: opt(nullable(loose({ host: str({ max: 507 }), ip: str({ max: 64 }), port: nullable(int(0, 65535)) }))),
};
const walkJson: Check = loose(walkShape);
const traceReport: Check = (v, where) =>
  json(API_LIMITS.textBytes)(v, where) ??
  loose({
    ...walkShape, seed: int(0, 2 ** 32 - 1), reply: opt(nullable(walkJson)), ack: opt(nullable(walkJson)),
    outcomes: opt(arr(loose({ ...walkShape, probability: num(0, 1), reply: opt(nullable(walkJson)) }), 100_000)),
  })(v, where);

/** The runtime schema of every method: its positional arguments. */
export const METHOD_ARGS = {
  capabilities: args(),
  listLabs: args(),
  createLab: args(labRef, opt(obj({ seed: opt(int(0, 2 ** 32 - 1)), cluster: opt(bool), nodes: opt(int(0, 250)) }))),
  renameLab: args(labRef, labRef),
  duplicateLab: args(labRef, labRef),
  deleteLab: args(labRef),
  view: args(labRef),
  doc: args(labRef),
  history: args(labRef),
  undo: args(labRef),
  redo: args(labRef),
  exportLab: args(labRef),
  importLab: args(text, opt(obj({ name: opt(labRef) }))),
  layout: args(labRef),
  setLayout: args(labRef, layout),
  addLan: args(labRef, name),
  addHost: args(labRef, name, opt(obj({ listen: opt(listen), kind: opt(hostKind) }))),
  addLink: args(labRef, name, name, opt(cidr), opt(dev)),
  addVeth: args(labRef, vethEnd, vethEnd),
  remove: args(labRef, arr(removeItem, 10_000)),
  apply: args(labRef, text),
  exec: args(labRef, name, arr(str({ max: 1_000_000 }), 4096), opt(str({ max: 20 * 1024 * 1024 }))),
  trace: args(labRef, traceReq),
  forkTrace: args(labRef, traceReq, obj({ rev: int(0, 1_000_000_000), phase: oneOf('packet', 'reply', 'ack'), hop: int(0, 64) })),
  consoleLine: args(labRef, consoleHost, arr(str({ max: 20 * 1024 * 1024 }), 100_000)),
  consoleTraces: args(labRef),
  consoleFollow: args(labRef, int(1, Number.MAX_SAFE_INTEGER)),
  consoleInterrupt: args(labRef, int(1, Number.MAX_SAFE_INTEGER)),
  consoleHistory: args(labRef, name),
  appendConsoleHistory: args(labRef, name, str({ max: 100_000 })),
  traces: args(labRef),
  saveTrace: args(labRef, str({ min: 1, max: 200 }), traceReq),
  saveTraceReport: args(labRef, traceName, traceReport),
  savedTrace: args(labRef, traceName),
  exportTrace: args(labRef, traceReport, oneOf('markdown', 'json'), opt(traceName)),
  examples: args(),
  createExample: args(exampleName, labRef, opt(obj({ proxy: opt(oneOf('legacy', 'current')) }))),
  runStep: args(labRef, index),
  checkStep: args(labRef, index),
  checkExercises: args(labRef, opt(index)),
  applySolution: args(labRef, index),
  setWalkthrough: args(labRef, nullable(walkthroughCheck)),
  setExercises: args(labRef, exercisesCheck),
  rules: args(labRef, consoleHost, opt(rulesQuery)),
  compareRules: args(labRef, consoleHost, consoleHost, opt(obj({ rev: opt(int(0, 1_000_000_000)) }))),
  pathGraph: args(labRef, consoleHost, pathQuery),
} as const satisfies Record<string, (v: unknown) => string | null>;

export type MethodName = keyof typeof METHOD_ARGS;
export const METHOD_NAMES = Object.keys(METHOD_ARGS) as MethodName[];

/** The methods, as the renderer calls them (always asynchronous). */
export interface LabMethods {
  capabilities(): Promise<Capabilities>;
  listLabs(): Promise<LabSummary[]>;
  /** `cluster`: a Kubernetes cluster of `nodes` nodes (default 1), as `kpl new --cluster`. */
  createLab(name: string, opts?: { seed?: number; cluster?: boolean; nodes?: number }): Promise<LabSummary>;
  renameLab(ref: string, newName: string): Promise<void>;
  duplicateLab(ref: string, newName: string): Promise<void>;
  /** Moves the lab to the store's trash. */
  deleteLab(ref: string): Promise<void>;
  view(ref: string): Promise<LabView>;
  doc(ref: string): Promise<unknown>;
  history(ref: string): Promise<HistoryEntry[]>;
  undo(ref: string): Promise<UndoResult>;
  redo(ref: string): Promise<UndoResult>;
  exportLab(ref: string): Promise<ExportResult>;
  importLab(text: string, opts?: { name?: string }): Promise<LabSummary>;
  layout(ref: string): Promise<Layout | null>;
  setLayout(ref: string, layout: Layout): Promise<void>;
  addLan(ref: string, name: string): Promise<void>;
  addHost(ref: string, name: string, opts?: { listen?: ListenSpec[]; kind?: HostKind }): Promise<void>;
  /** Without an address, the next free one on the LAN's /24 is taken. Returns the device. */
  addLink(ref: string, host: string, lan: string, ip?: string, dev?: string): Promise<{ dev: string; ip: string }>;
  addVeth(ref: string, a: { host: string; dev?: string; ip?: string }, b: { host: string; dev?: string; ip?: string }): Promise<[string, string]>;
  remove(ref: string, items: RemoveItem[]): Promise<void>;
  apply(ref: string, yaml: string): Promise<ApplyResult>;
  exec(ref: string, host: string, argv: string[], stdin?: string): Promise<ExecResult>;
  /** Traces a packet (nothing is kept unless `keep`). For a stored lab the result carries `rev`,
   *  the revision it was traced on. */
  trace(ref: string, spec: TraceRequest): Promise<TraceResult>;
  /**
   * What if: the request walked on revision `at.rev` of the lab until phase `at.phase`'s walk
   * enters its host number `at.hop`, and on the lab as it is now from there on (that host, the
   * rest of the path, the phases after); the hosts passed before keep the conntrack entries the
   * packet made there. Its JSON says `fork: {phase, hop, switched}`. Stored labs only.
   */
  forkTrace(ref: string, spec: TraceRequest, at: ForkPoint): Promise<TraceResult>;
  /**
   * Runs a console line on a host (or pod, as namespace/name) with the engine's shell: pipes,
   * lists, here-documents over several lines (`more` when the here-document is still open).
   * Records the line in the host's console history.
   */
  consoleLine(ref: string, host: string, lines: string[]): Promise<ConsoleResult>;
  /** The walks (trace reports) of the packets the last console command on this lab sent. */
  consoleTraces(ref: string): Promise<TraceResult[]>;
  /** What a console line that runs on (ConsoleResult.follow) printed since the last call:
   *  the events of its host as `conntrack -E` prints them, through the rest of its pipe. */
  consoleFollow(ref: string, id: number): Promise<ConsoleFollowResult>;
  /** Ctrl+C on a line that runs on: the rest of its output and the program's last words
   *  (`N flow events have been shown.` on stderr); it ends. */
  consoleInterrupt(ref: string, id: number): Promise<ExecResult>;
  consoleHistory(ref: string, host: string): Promise<string[]>;
  appendConsoleHistory(ref: string, host: string, line: string): Promise<void>;
  traces(ref: string): Promise<SavedTrace[]>;
  saveTrace(ref: string, name: string, spec: TraceRequest): Promise<void>;
  /**
   * Saves a trace as the debugger shows it (a report from `trace` or `consoleTraces`, with the
   * seed its walk used) under a name; a trace of that name is replaced.
   */
  saveTraceReport(ref: string, name: string, report: TraceResult): Promise<void>;
  /** A saved trace with its report (the walk the debugger steps through), by name. */
  savedTrace(ref: string, name: string): Promise<SavedTraceReport>;
  /**
   * A trace report (`trace`'s `json`, or a saved one) as a file to download: Markdown (a
   * readable walk with the rules, as `kpl trace --markdown`) or two-space JSON (as
   * `kpl trace --json`); `name` (a saved trace's) goes into the file name.
   */
  exportTrace(ref: string, report: TraceResult, format: 'markdown' | 'json', name?: string): Promise<ExportResult>;
  /** The built-in examples (`kpl examples`). */
  examples(): Promise<ExampleInfo[]>;
  /** A new lab `name` holding the example (its walkthrough and exercises with it), as `kpl example`. */
  createExample(example: string, name: string, opts?: { proxy?: 'legacy' | 'current' }): Promise<LabSummary>;
  /** Performs walkthrough step `i`'s action (0-based) as the user would; a `show` step changes nothing. */
  runStep(ref: string, i: number): Promise<StepRunResult>;
  /** Whether the lab, as it is now, shows what step `i` expects (checked on a copy: the lab never changes). */
  checkStep(ref: string, i: number): Promise<CheckVerdict>;
  /** Every exercise's checks (or exercise `only`'s), each on a copy of the lab. */
  checkExercises(ref: string, only?: number): Promise<ExerciseVerdict[]>;
  /** Performs exercise `i`'s solutionActions in order. */
  applySolution(ref: string, i: number): Promise<StepRunResult[]>;
  /** Replaces the lab's walkthrough (null removes it). */
  setWalkthrough(ref: string, walkthrough: Walkthrough | null): Promise<void>;
  /** Replaces the lab's exercises (an empty list removes them). */
  setExercises(ref: string, list: Exercise[]): Promise<void>;
  /**
   * The rules browser's view of a host, node or pod (namespace/name): every table with its
   * chains (policy, policy counters, references) and rules (`iptables -S` text without the
   * `-A CHAIN ` prefix, counters, target), its ipsets with members and its `conntrack -L`
   * lines. At most `q.limit` rules (default 5,000), chain by chain; ask for one chain's rules
   * with `q.table` and `q.chain`, or for the rules containing a string with `q.filter`.
   */
  rules(ref: string, host: string, q?: RulesQuery): Promise<RulesView>;
  /**
   * Two hosts' rules compared (the rules browser's Compare): per table, the chains that differ,
   * with the rules (`-A CHAIN ` stripped) only one side has, from their `iptables-save`. With
   * `rev`, host `b` as it was at that revision of the lab (its history), rebuilt.
   */
  compareRules(ref: string, a: string, b: string, opts?: { rev?: number }): Promise<RulesCompare>;
  /**
   * The chain graph of one packet's possible paths on a host, node or pod (the rules browser's
   * Paths tab): from the built-in chains of the hooks the packet passes (or `q.hook`, or the
   * chain `q.chain` of `q.table`), an edge for every jump, goto and verdict whose rule could
   * match it (rules that certainly cannot are left out; those depending on state the graph
   * cannot know, such as conntrack or marks, are kept as "maybe"), with rule numbers and short
   * conditions. Fields left out of `q` may be anything. At most 600 edges (`truncated`).
   */
  pathGraph(ref: string, host: string, q: PathQuery): Promise<PathGraph>;
}

/** Events pushed to the renderer. */
export interface LabEvents {
  /** A lab's content changed (by this window, another window, or the service). */
  labChanged: { lab: string };
  /** Labs were created, renamed or deleted. */
  labsChanged: Record<string, never>;
}
export type EventName = keyof LabEvents;
export const EVENT_NAMES: readonly EventName[] = ['labChanged', 'labsChanged'];

export type Unsubscribe = () => void;

/** `window.lab`: the methods plus one subscription function per event. */
export interface LabApi extends LabMethods {
  onLabChanged(cb: (e: LabEvents['labChanged']) => void): Unsubscribe;
  onLabsChanged(cb: (e: LabEvents['labsChanged']) => void): Unsubscribe;
}

/** The subscription function of each event on LabApi. */
export const EVENT_SUBSCRIBERS: Record<EventName, 'onLabChanged' | 'onLabsChanged'> = {
  labChanged: 'onLabChanged',
  labsChanged: 'onLabsChanged',
};

// Both lists name the same methods: a method added to one and not the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameMethods: Same<MethodName, keyof LabMethods> = true;
void _sameMethods;

/** Validates one call; returns the message to send back, or null when it may go through. */
export function checkCall(method: unknown, params: unknown): { code: string; message: string } | null {
  if (typeof method !== 'string' || !Object.prototype.hasOwnProperty.call(METHOD_ARGS, method)) {
    return { code: 'invalid', message: `unknown method ${JSON.stringify(method)?.slice(0, 60)}` };
  }
  const e = METHOD_ARGS[method as MethodName](params);
  return e ? { code: 'invalid', message: `${method}: ${e}` } : null;
}

export const IPC_PREFIX = 'kpl:';
export const IPC_EVENT = 'kpl:event';
