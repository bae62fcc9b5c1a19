// The connectivity matrix on more than one core. Every cell is still a connection traced
// through the lab (engine/cluster/matrix.ts); the rows are shared out between this thread and
// worker threads, each holding its own copy of the lab built from the same document. The engine
// is deterministic (the same document makes the same lab) and every cell starts from that state
// and is undone, so which thread traces a row changes nothing — a test compares the two.
//
// The caller stays synchronous (kpl and the service API are): rows are claimed from a shared
// counter, finished rows come back on message ports read with receiveMessageOnPort, and a row a
// worker claimed but never finished (a worker that failed) is traced here after all.

import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { Lab } from '../engine/lab.ts';
import { matrixOf, matrixPods, matrixRow, type Matrix, type MatrixCell, type MatrixOptions } from '../engine/cluster/matrix.ts';
import type { LabDoc } from '../../shared/lab.ts';

/** Below this many cells one thread is done before a worker has built its lab. */
const MIN_CELLS = 10_000;
/** How long the caller waits for workers once it has no row left to trace itself. */
const WAIT_MS = 120_000;

// The shared counters: the next row to claim, events (a row posted or a worker gone: bumped
// and notified), workers gone.
const NEXT = 0;
const EVENTS = 1;
const GONE = 2;

// A worker starts with this plain script, which imports the worker's module — the sources
// through tsx's loader, which a worker thread does not inherit. A module that cannot load still
// counts its worker as gone, so the caller never waits for it.
const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch(() => {
  const s = workerData.shared;
  Atomics.add(s, ${GONE}, 1);
  Atomics.add(s, ${EVENTS}, 1);
  Atomics.notify(s, ${EVENTS});
  workerData.port.close();
});`;

interface Job {
  kind: 'kpl-matrix';
  doc: LabDoc;
  opts: MatrixOptions;
  pods: number;
  /** The caller's pods, in order, and its lab's fingerprint: a worker's must be the same. */
  keys: string[];
  fingerprint: string;
  shared: Int32Array;
  port: MessagePort;
}

/** The module a worker runs: this one (the sources, run through tsx) or the worker bundle
 *  made beside a bundle of the CLI (matrix-worker.mjs); none in the app's bundles. */
function workerEntry(): URL | null {
  const self = new URL(import.meta.url);
  if (self.pathname.endsWith('.ts')) return self;
  const beside = new URL('./matrix-worker.mjs', self);
  return existsSync(fileURLToPath(beside)) ? beside : null;
}

/** Worker threads to use for `cells` cells: one less than the cores, at most 3. */
export function matrixThreads(cells: number): number {
  if (cells < MIN_CELLS || !workerEntry()) return 0;
  return Math.max(0, Math.min(3, availableParallelism() - 1));
}

export interface ThreadOptions {
  /** Worker threads (default: matrixThreads). */
  threads?: number;
  /** The lab's document (default: lab.toDoc()). */
  doc?: LabDoc;
  /** The caller traces only the rows the workers leave (tests: every row from a worker). */
  workersOnly?: boolean;
  /** Filled in: how many rows the workers traced. */
  stats?: { workerRows: number };
}

/** `connectivityMatrix` with its rows shared out among worker threads and this one. */
export function threadedMatrix(lab: Lab, opts: MatrixOptions, o: ThreadOptions = {}): Matrix {
  const pods = matrixPods(lab, opts);
  const n = pods.length;
  const entry = workerEntry();
  const threads = entry ? (o.threads ?? matrixThreads(n * n)) : 0;
  const rows: (Record<string, MatrixCell> | undefined)[] = new Array(n);
  const trace = (i: number) => (rows[i] = matrixRow(lab, pods, pods[i], opts));
  if (o.stats) o.stats.workerRows = 0;
  if (threads === 0) {
    for (let i = 0; i < n; i++) trace(i);
    return matrixOf(opts, pods, rows as Record<string, MatrixCell>[]);
  }
  const shared = new Int32Array(new SharedArrayBuffer(12));
  const tsx = entry!.pathname.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null;
  const doc = o.doc ?? lab.toDoc();
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  for (let k = 0; k < threads; k++) {
    const { port1, port2 } = new MessageChannel();
    const job: Job = { kind: 'kpl-matrix', doc, opts, pods: n, keys: pods.map((p) => p.key), fingerprint: fingerprint(lab), shared, port: port2 };
    const w = new Worker(BOOT, { eval: true, workerData: { ...job, entry: entry!.href, tsx }, transferList: [port2] });
    // (a worker that fails leaves its rows to this thread; its error must not end the process)
    w.on('error', () => {});
    w.unref();
    workers.push(w);
    ports.push(port1);
  }
  let left = n;
  const take = () => {
    for (const p of ports) {
      for (let m = receiveMessageOnPort(p); m; m = receiveMessageOnPort(p)) {
        const { i, row } = m.message as { i: number; row: Record<string, MatrixCell> };
        if (rows[i] === undefined) left--;
        rows[i] = row;
        if (o.stats) o.stats.workerRows++;
      }
    }
  };
  try {
    if (!o.workersOnly) {
      for (let i = Atomics.add(shared, NEXT, 1); i < n; i = Atomics.add(shared, NEXT, 1)) {
        trace(i);
        left--;
      }
    }
    // Then the workers' rows: every one posted, or every worker gone (or out of time), after
    // which the rows still missing (claimed by a worker that failed) are traced here.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const seen = Atomics.load(shared, EVENTS);
      take();
      if (left === 0 || Atomics.load(shared, GONE) === threads || Date.now() >= deadline) break;
      Atomics.wait(shared, EVENTS, seen, deadline - Date.now());
    }
    take();
    for (let i = 0; i < n; i++) if (rows[i] === undefined) trace(i);
  } finally {
    for (const w of workers) void w.terminate();
    for (const p of ports) p.close();
  }
  return matrixOf(opts, pods, rows as Record<string, MatrixCell>[]);
}

/**
 * What tells two copies of a lab apart cheaply: its clock, the API's write count and every
 * host's count of rule changes. A lab changed outside its journal (an object written to the
 * API store directly, as the bench's label changes are) is not what its document rebuilds.
 */
function fingerprint(lab: Lab): string {
  const hosts = [...lab.hosts.values()].map((h) => `${h.name}:${h.nf.generation}`).join(',');
  return `${lab.clock}|${lab.cluster?.store.revision ?? 0}|${hosts}`;
}

/** Bumps the event counter and wakes the caller. */
function signal(shared: Int32Array): void {
  Atomics.add(shared, EVENTS, 1);
  Atomics.notify(shared, EVENTS);
}

/** A worker's part: build the lab, then trace rows until none is left. */
function workerMain(job: Job): void {
  const { shared, port, opts } = job;
  try {
    const lab = Lab.fromDoc(job.doc);
    const pods = matrixPods(lab, opts);
    // (a lab that came out otherwise than the caller's takes no rows: the caller traces them)
    if (pods.length !== job.pods || pods.some((p, i) => p.key !== job.keys[i]) || fingerprint(lab) !== job.fingerprint) return;
    for (let i = Atomics.add(shared, NEXT, 1); i < pods.length; i = Atomics.add(shared, NEXT, 1)) {
      port.postMessage({ i, row: matrixRow(lab, pods, pods[i], opts) });
      signal(shared);
    }
  } finally {
    Atomics.add(shared, GONE, 1);
    signal(shared);
    port.close();
  }
}

if (!isMainThread && (workerData as Job | null)?.kind === 'kpl-matrix') workerMain(workerData as Job);
