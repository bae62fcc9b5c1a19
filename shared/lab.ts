// The lab document: what the user declared. Everything else (rules, routes, sets, conntrack)
// is derived from it by replaying `journal` on fresh hosts, then applying `runtime`.
// This is also the body of a `.kpl` file (format "kube-packet-lab"); the file adds what goes
// with a lab outside its revisions (layout, console history, saved traces): see scenario.ts.

import type { ClusterDoc } from './cluster.ts';
import type { Exercise, Walkthrough } from './guide.ts';

export type { Exercise, Walkthrough, WalkthroughStep } from './guide.ts';

export const LAB_FORMAT = 'kube-packet-lab';
/** Version 2: the sharing format (notes, walkthrough, and in the file layout, console history, traces). */
export const LAB_VERSION = 2;

export interface ListenSpec {
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

export interface LinkDoc {
  dev: string; // eth0, eth1, ...
  lan: string;
  ip: string; // "A.B.C.D/N"
}

export interface HostDoc {
  name: string;
  listen: ListenSpec[];
  links: LinkDoc[];
}

export interface LanDoc {
  name: string;
}

/** One end of a veth pair: a device in a host, with an optional address. */
export interface VethEnd {
  host: string;
  dev: string;
  ip?: string; // "A.B.C.D/N"
}

/** A veth pair cabling two hosts (namespaces) directly, as a CNI does for a pod. */
export interface VethDoc {
  a: VethEnd;
  b: VethEnd;
}

/** A console command that changed a host, replayed in order on load. */
export interface JournalEntry {
  host: string;
  argv: string[];
  stdin?: string;
}

export interface LabDoc {
  format: typeof LAB_FORMAT;
  version: number;
  name: string;
  /** Seed of the lab's random generator (statistic --mode random, port choice). */
  seed: number;
  lans: LanDoc[];
  hosts: HostDoc[];
  /** Veth pairs between hosts (absent: none). */
  veths?: VethDoc[];
  journal: JournalEntry[];
  /** A Kubernetes cluster (`kpl new --cluster`): its settings; its objects come from the journal. */
  cluster?: ClusterDoc;
  /** What kept traces changed: conntrack, counters, recent lists, nth counters, clock. */
  runtime?: unknown;
  /** Free text about the lab (shown as text, never as HTML). */
  notes?: string;
  /** An optional guided walkthrough for whoever opens the lab. */
  walkthrough?: Walkthrough;
  /** Goals the lab checks with real traces (see shared/guide.ts). */
  exercises?: Exercise[];
}

export function emptyLab(name: string): LabDoc {
  return { format: LAB_FORMAT, version: LAB_VERSION, name, seed: 1, lans: [], hosts: [], journal: [] };
}
