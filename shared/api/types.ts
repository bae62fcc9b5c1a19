// What the app's API carries: plain JSON values the renderer shows, whichever shell it runs in.

import type { StepAction } from '../guide.ts';

export type { ChainRow, IpsetRow, RuleRow, RulesQuery, RulesTableName, RulesView, TableRow } from '../rules-view.ts';
export type { ChainCompare, RulesCompare, TableCompare } from '../rules-compare.ts';
export type { PathEdge, PathGraph, PathHook, PathNode, PathQuery } from '../rules-path.ts';

export type HostKind = 'host' | 'client' | 'lb';

export interface ListenSpec {
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

export interface LabSummary {
  name: string;
  /** Hosts plus Kubernetes nodes, as the store counts them. */
  nodes: number;
  services: number;
  hosts: number;
  /** Last change, ms since the epoch. */
  changed: number;
  /** Bytes of history kept. */
  size: number;
}

export interface ViewLink {
  dev: string;
  lan: string;
  ip: string;
}

export interface ViewHost {
  name: string;
  kind: HostKind;
  listen: ListenSpec[];
  links: ViewLink[];
}

export interface ViewVethEnd {
  host: string;
  dev: string;
  ip?: string;
}

export interface ViewNode {
  name: string;
  ip?: string;
  podCIDR?: string;
}

export interface ViewPod {
  name: string;
  namespace: string;
  node?: string;
  ip?: string;
  phase?: string;
  labels: Record<string, string>;
  /** The Deployment (through its ReplicaSet) the pod belongs to. */
  owner?: string;
}

export interface ViewDeployment {
  name: string;
  namespace: string;
  replicas: number;
  selector: Record<string, string>;
}

export interface ViewServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol: string;
}

export interface ViewService {
  name: string;
  namespace: string;
  type: string;
  clusterIP?: string;
  ports: ViewServicePort[];
  selector: Record<string, string>;
  externalTrafficPolicy?: string;
}

export interface ViewEndpoint {
  service: string;
  namespace: string;
  pod?: string;
  ip: string;
  port?: number;
}

export interface ViewCluster {
  /** The LAN the nodes are cabled to, and its addresses. */
  lan?: string;
  nodeCIDR?: string;
  nodes: ViewNode[];
  pods: ViewPod[];
  deployments: ViewDeployment[];
  services: ViewService[];
  endpoints: ViewEndpoint[];
}

/** Positions and looks the editor authors; opaque to the engine. */
export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  kinds?: Record<string, HostKind>;
  zoom?: number;
  pan?: { x: number; y: number };
  /** The packet debugger's breakpoints (kept when a layout without this field is saved). */
  breakpoints?: Breakpoint[];
}

/**
 * A debugger breakpoint: on a rule, a chain (a trailing `*` matches a prefix: `KUBE-SEP-*`), a
 * hook (on a host, or any), any DROP/REJECT, any NAT, a conntrack state, a host being entered.
 */
export interface Breakpoint {
  kind: 'rule' | 'chain' | 'hook' | 'drop' | 'nat' | 'conntrack' | 'host';
  host?: string;
  table?: string;
  chain?: string;
  rule?: number;
  hook?: string;
  state?: string;
  enabled?: boolean;
}

/** Everything the canvas draws for one lab. */
export interface LabView {
  name: string;
  hosts: ViewHost[];
  lans: { name: string }[];
  veths: { a: ViewVethEnd; b: ViewVethEnd }[];
  cluster: ViewCluster | null;
  layout: Layout | null;
  canUndo: boolean;
  canRedo: boolean;
}

export interface HistoryEntry {
  seq: number;
  command: string;
  at: number;
  current: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** One console line run by the engine's shell (pipes, lists, here-documents). */
export interface ConsoleResult {
  stdout: string;
  stderr: string;
  code: number;
  /** The lines are an unfinished command (an open here-document): send them again with more. */
  more: boolean;
  /** How many of the lines the command used (the rest start the next command). */
  consumed: number;
  /** Whether the lab changed (the canvas and inspector refresh). */
  changed: boolean;
  /** Packets the command sent (curl, ping, nc, nslookup…): their walks come from consoleTraces. */
  packets: number;
  /** Characters left out at the start of `stdout`: a console keeps the last CONSOLE_KEEP_CHARS,
   *  like a terminal's scrollback (`exec` gives the whole output). */
  stdoutCut?: number;
  /** The command runs on (`conntrack -E`): its output comes from consoleFollow(ref, follow)
   *  until consoleInterrupt (Ctrl+C) ends it. */
  follow?: number;
}

/** What a followed console line printed since the last look; `running` false: it has ended. */
export interface ConsoleFollowResult {
  stdout: string;
  stderr: string;
  running: boolean;
}

/** What a console keeps of an output (and so what consoleLine sends of a bigger one). */
export const CONSOLE_KEEP_CHARS = 2 * 1024 * 1024;

export interface TraceRequest {
  from: string;
  to: string;
  proto: 'tcp' | 'udp' | 'sctp' | 'icmp';
  sport?: number;
  seed?: number;
  allOutcomes?: boolean;
  keep?: boolean;
  /** Trace the connection's packet after this many later ones (1: the first after the handshake). */
  later?: number;
  /** TCP: the first packet's flags (`ACK`, `SYN,ACK`, `FIN,ACK`…; default SYN). */
  tcpFlags?: string;
}

/** The engine's trace report (see `kpl trace --json` in the README). */
export type TraceResult = Record<string, unknown>;

/** Where a forked replay (what if) leaves the lab as it was for the lab as it is: revision `rev`
 *  of the stored lab walks the packet until phase `phase`'s walk enters its host number `hop`
 *  (0: where it starts; shared/api/trace-diff.ts forkAt finds it for a row). */
export interface ForkPoint {
  rev: number;
  phase: 'packet' | 'reply' | 'ack';
  hop: number;
}

export interface ApplyResult {
  /** kubectl's lines ("deployment.apps/web created"). */
  output: string;
  /** What the apply changed in each node's rules (`-A` lines of iptables-save), for up to 10 nodes. */
  rules?: { node: string; added: number; removed: number }[];
}

/** What the service behind this API can do today (the Kubernetes wiring lands separately). */
export interface Capabilities {
  apply: boolean;
  remove: boolean;
  cluster: boolean;
}

export interface UndoResult {
  changed: boolean;
}

export interface ExportResult {
  fileName: string;
  text: string;
}

export interface SavedTrace {
  name: string;
  seed: number;
  at: number;
}

/** A saved trace with its report (`kpl trace --json`'s shape), as the debugger reopens it. */
export interface SavedTraceReport extends SavedTrace {
  trace: TraceResult;
}

/** Element of a removal: a host, a LAN, a link of a host, or a Kubernetes object. */
export interface RemoveItem {
  kind: 'host' | 'lan' | 'link' | 'veth' | 'node' | 'pod' | 'deployment' | 'service';
  name: string;
  namespace?: string;
  /** link: the host's device; veth: the device on `name`. */
  dev?: string;
}

export interface ApiError {
  message: string;
  /** 'invalid' (refused payload), 'notfound', 'conflict', 'unsupported', 'failed'. */
  code: string;
}

// ---- examples, walkthroughs, exercises ------------------------------------------------------

/** A built-in example lab (the article's scenes). */
export interface ExampleInfo {
  name: string;
  title: string;
  /** The title in Korean. */
  ko?: string;
  summary: string;
  /** Where in the article the scene is. */
  scene: string;
  /** The kube-proxy layouts offered, the default first (empty for a lab without a cluster). */
  layouts: ('legacy' | 'current')[];
  cluster: boolean;
  /** Steps of its walkthrough, and its exercises. */
  steps: number;
  exercises: number;
}

/** What a walkthrough step's action (or a solution's) did: a command's output or a trace. */
export interface StepRunResult {
  action: StepAction;
  output?: ExecResult;
  trace?: TraceResult;
}

/** The verdict on one expected state. */
export interface CheckVerdict {
  name: string;
  pass: boolean;
  /** What was seen (why it failed, or what passed). */
  detail: string;
}

/** One exercise's checks against the lab as it is now. */
export interface ExerciseVerdict {
  index: number;
  title: string;
  pass: boolean;
  checks: CheckVerdict[];
}
