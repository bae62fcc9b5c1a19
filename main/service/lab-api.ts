// LabApi on the lab service: the one implementation behind both shells (the Electron worker and
// browser mode's WebSocket). It turns the service's results into the plain values the renderer
// shows (the canvas view model among them), and the dispatcher validates every call against
// the shared schemas, runs it, maps errors to { code, message } and announces changes.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  checkCall, type ApiError, type ApplyResult, type Capabilities, type ConsoleFollowResult, type ConsoleResult, type EventName, type ExecResult, type ExportResult,
  type HistoryEntry, type HostKind, type LabEvents, type LabMethods, type LabSummary, type LabView, type Layout,
  type ListenSpec, type MethodName, type RemoveItem, type SavedTrace, type SavedTraceReport, type TraceRequest, type TraceResult, type UndoResult,
  type ViewCluster, type ExampleInfo, type StepRunResult, type CheckVerdict, type ExerciseVerdict, type Walkthrough, type Exercise,
} from '../../shared/api/contract.ts';
import type { RulesCompare, RulesQuery, RulesView } from '../../shared/api/contract.ts';
import type { ForkPoint } from '../../shared/api/types.ts';
import type { PathGraph, PathQuery } from '../../shared/api/contract.ts';
import { PathQueryError, pathGraph, tablesOf } from '../engine/netfilter/path-graph.ts';
import { CONSOLE_KEEP_CHARS } from '../../shared/api/contract.ts';
import { compareSaves } from '../../shared/rules-compare.ts';
import { hostView } from '../engine/host-view.ts';
import { traceMarkdown } from '../engine/datapath/report-markdown.ts';
import type { TraceJson } from '../../shared/trace-json.ts';
import type { Lab } from '../engine/lab.ts';
import type { LabDoc } from '../../shared/lab.ts';
import type { LabServicePort, StepRunRow } from './lab-api-port.ts';
import { clusterView } from './lab-api-view.ts';
import { CLUSTER_LAN, defaultCluster } from '../../shared/cluster.ts';
import { LabService } from './lab-service.ts';
import { defaultDbPath, looksLikeFile } from './lab-ref.ts';

type Sync<T> = { [K in keyof T]: T[K] extends (...a: infer A) => Promise<infer R> ? (...a: A) => R : never };

export class ApiCallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const ms = (t: number | string): number => (typeof t === 'number' ? t : Date.parse(t));

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toLayout(raw: unknown): Layout | null {
  if (!isObj(raw) || !isObj(raw.positions)) return null;
  return raw as unknown as Layout;
}

/** The next free address on a LAN: in the /N its members use, else in 10.0.K.0/24. */
export function nextLanAddress(doc: LabDoc, lan: string): string {
  const used = new Set<number>();
  let prefix: { base: number; len: number } | null = null;
  const toInt = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const toStr = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  for (const h of doc.hosts) {
    for (const l of h.links) {
      if (l.lan !== lan) continue;
      const [ip, len] = l.ip.split('/');
      used.add(toInt(ip));
      if (!prefix) {
        const n = Number(len);
        const size = 2 ** (32 - n);
        prefix = { base: Math.floor(toInt(ip) / size) * size, len: n };
      }
    }
  }
  if (!prefix) {
    // A /24 no other LAN uses.
    const taken = new Set<string>();
    for (const h of doc.hosts) for (const l of h.links) taken.add(l.ip.split('.').slice(0, 3).join('.'));
    let k = doc.lans.findIndex((l) => l.name === lan) + 1;
    while (taken.has(`10.0.${k % 256}`)) k++;
    prefix = { base: toInt(`10.0.${k % 256}.0`), len: 24 };
  }
  const size = 2 ** (32 - prefix.len);
  for (let i = 1; i < size - 1; i++) {
    if (!used.has(prefix.base + i)) return `${toStr(prefix.base + i)}/${prefix.len}`;
  }
  throw new ApiCallError('conflict', `LAN "${lan}" has no free address left`);
}

export class LabApiImpl implements Sync<LabMethods> {
  constructor(readonly service: LabServicePort) {}

  capabilities(): Capabilities {
    const apply = typeof this.service.apply === 'function';
    return { apply, remove: true, cluster: apply };
  }

  listLabs(): LabSummary[] {
    return this.service.list().map((r) => ({ name: r.name, nodes: r.nodes, services: r.services, hosts: r.hosts, changed: ms(r.changed), size: r.size }));
  }

  private summary(name: string): LabSummary {
    const row = this.listLabs().find((r) => r.name === name);
    if (!row) throw new ApiCallError('notfound', `no lab ${JSON.stringify(name)}`);
    return row;
  }

  createLab(name: string, opts: { seed?: number; cluster?: boolean; nodes?: number } = {}): LabSummary {
    const cluster = opts.cluster ? { ...defaultCluster(), ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}) } : undefined;
    this.service.create(name, { ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(cluster ? { cluster } : {}) });
    return this.summary(name);
  }

  renameLab(ref: string, newName: string): void {
    this.service.rename(ref, newName);
  }

  duplicateLab(ref: string, newName: string): void {
    this.service.duplicate(ref, newName);
  }

  deleteLab(ref: string): void {
    this.service.remove(ref);
  }

  view(ref: string): LabView {
    const doc = this.service.doc(ref);
    const layout = toLayout(this.service.layout(ref));
    const kinds = layout?.kinds ?? {};
    let cluster: ViewCluster | null = null;
    if ((doc as unknown as { cluster?: unknown }).cluster) {
      // The service's own engine instance (no journal replay) when it offers one.
      cluster = this.service.inspect ? this.service.inspect(ref, clusterView) : clusterView(this.service.load(ref));
    }
    const lans = doc.lans.map((l) => ({ name: l.name }));
    if (cluster) {
      cluster.lan = CLUSTER_LAN;
      const cdoc = (doc as unknown as { cluster?: { nodeCIDR?: string } }).cluster;
      if (cdoc?.nodeCIDR) cluster.nodeCIDR = cdoc.nodeCIDR;
      if (!lans.some((l) => l.name === CLUSTER_LAN)) lans.unshift({ name: CLUSTER_LAN });
    }
    return {
      name: doc.name,
      hosts: doc.hosts.map((h) => ({ name: h.name, kind: kinds[h.name] ?? 'host', listen: h.listen.map((l) => ({ ...l })), links: h.links.map((l) => ({ ...l })) })),
      lans,
      veths: (doc.veths ?? []).map((v) => ({ a: { ...v.a }, b: { ...v.b } })),
      cluster,
      layout,
      canUndo: this.service.canUndo(ref),
      canRedo: this.service.canRedo(ref),
    };
  }

  doc(ref: string): unknown {
    return this.service.doc(ref);
  }

  history(ref: string): HistoryEntry[] {
    return this.service.history(ref).map((h) => ({ seq: h.seq, command: h.command, at: ms(h.at), current: h.current }));
  }

  undo(ref: string): UndoResult {
    return { changed: this.service.undo(ref) };
  }

  redo(ref: string): UndoResult {
    return { changed: this.service.redo(ref) };
  }

  exportLab(ref: string): ExportResult {
    const safe = ref.replace(/[^A-Za-z0-9._-]+/g, '_') || 'lab';
    return { fileName: `${safe}.kpl`, text: this.service.exportScenario(ref) };
  }

  importLab(text: string, opts: { name?: string } = {}): LabSummary {
    const name = this.service.importScenario(text, opts.name === undefined ? {} : { name: opts.name });
    return this.summary(name);
  }

  layout(ref: string): Layout | null {
    return toLayout(this.service.layout(ref));
  }

  setLayout(ref: string, layout: Layout): void {
    // The debugger's breakpoints live in the layout: a layout saved without them keeps them.
    if (layout.breakpoints === undefined) {
      const bps = toLayout(this.service.layout(ref))?.breakpoints;
      if (bps !== undefined) layout = { ...layout, breakpoints: bps };
    }
    this.service.setLayout(ref, layout);
  }

  addLan(ref: string, name: string): void {
    this.service.addLan(ref, name);
  }

  addHost(ref: string, name: string, opts: { listen?: ListenSpec[]; kind?: HostKind } = {}): void {
    this.service.addHost(ref, name, opts.listen ?? []);
    if (opts.kind && opts.kind !== 'host') {
      const layout = toLayout(this.service.layout(ref)) ?? { positions: {} };
      this.service.setLayout(ref, { ...layout, kinds: { ...(layout.kinds ?? {}), [name]: opts.kind } });
    }
  }

  addLink(ref: string, host: string, lan: string, ip?: string, dev?: string): { dev: string; ip: string } {
    const addr = ip ?? nextLanAddress(this.service.doc(ref), lan);
    return { dev: this.service.addLink(ref, host, lan, addr, dev), ip: addr };
  }

  addVeth(ref: string, a: { host: string; dev?: string; ip?: string }, b: { host: string; dev?: string; ip?: string }): [string, string] {
    return this.service.addVeth(ref, a, b);
  }

  remove(ref: string, items: RemoveItem[]): void {
    const kube = items.filter((i) => i.kind === 'node' || i.kind === 'pod' || i.kind === 'deployment' || i.kind === 'service');
    const plain = items.filter((i) => !kube.includes(i));
    if (kube.length) {
      if (!this.service.apply) throw new ApiCallError('unsupported', 'this lab has no Kubernetes cluster to delete objects from');
      for (const k of kube) {
        const res = this.service.exec(ref, '@cluster', ['kubectl', 'delete', k.kind, k.name, '-n', k.namespace ?? 'default'], '');
        if (res.code !== 0) throw new ApiCallError('failed', res.stderr.trim() || `kubectl delete ${k.kind} ${k.name} failed`);
      }
    }
    if (!plain.length) return;
    const what = plain.map((i) => (i.dev ? `${i.kind} ${i.name}:${i.dev}` : `${i.kind} ${i.name}`)).join(', ');
    this.service.update(ref, `remove ${what}`, (doc) => {
      let d: LabDoc = structuredClone(doc);
      for (const it of plain) d = removeFromDoc(d, it);
      return d;
    });
  }

  apply(ref: string, yaml: string): ApplyResult {
    if (!this.service.apply) throw new ApiCallError('unsupported', 'Kubernetes manifests need the cluster layer, which this build of the service does not have yet');
    const nodes = this.clusterNodes(ref);
    const before = nodes.map((n) => this.ruleLines(ref, n));
    const r = this.service.apply(ref, yaml);
    // kubectl's own words: a refused manifest is an error, shown inline by the inspector.
    if (r.code !== 0) throw new ApiCallError('invalid', (r.stderr || r.stdout).trim() || 'the manifest was refused');
    const rules = nodes.map((node, i) => ({ node, ...lineDiff(before[i], this.ruleLines(ref, node)) }));
    return { output: r.stdout, rules };
  }

  /** The cluster's nodes (none when there are more than 10: comparing their rules would cost too much). */
  private clusterNodes(ref: string): string[] {
    const doc = this.service.doc(ref) as unknown as { cluster?: unknown };
    if (!doc.cluster) return [];
    const c = this.service.inspect ? this.service.inspect(ref, clusterView) : clusterView(this.service.load(ref));
    const names = c?.nodes.map((n) => n.name) ?? [];
    return names.length <= 10 ? names : [];
  }

  private ruleLines(ref: string, node: string): string[] {
    try {
      const r = this.service.exec(ref, node, ['iptables-save'], '');
      return r.stdout.split('\n').filter((l) => l.startsWith('-A '));
    } catch {
      return [];
    }
  }

  exec(ref: string, host: string, argv: string[], stdin = ''): ExecResult {
    const r = this.service.exec(ref, host, argv, stdin);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  }

  trace(ref: string, spec: TraceRequest): TraceResult {
    const r = JSON.parse(JSON.stringify(this.service.trace(ref, { ...spec }))) as TraceResult;
    const rev = this.service.currentRev?.(ref);
    return rev === undefined ? r : { ...r, rev };
  }

  forkTrace(ref: string, spec: TraceRequest, at: ForkPoint): TraceResult {
    if (!this.service.traceForked) throw new ApiCallError('unsupported', 'a forked replay needs the lab store (revisions)');
    return JSON.parse(JSON.stringify(this.service.traceForked(ref, { ...spec }, at))) as TraceResult;
  }

  consoleLine(ref: string, host: string, lines: string[]): ConsoleResult {
    if (!this.service.console) throw new ApiCallError('unsupported', 'this service has no console shell');
    const r = this.service.console(ref, host, lines, { follow: true });
    if (!r) return { stdout: '', stderr: '', code: 0, more: true, consumed: 0, changed: false, packets: 0 };
    const packets = this.service.consoleTraces ? this.service.consoleTraces(ref).length : 0;
    // Only the tail a console keeps travels (from a line start): 15 MB of iptables-save would
    // take seconds to carry and parse for a screen that shows its last 2 MiB.
    let stdout = r.stdout;
    let cut = 0;
    if (stdout.length > CONSOLE_KEEP_CHARS) {
      const nl = stdout.indexOf('\n', stdout.length - CONSOLE_KEEP_CHARS);
      cut = nl < 0 ? stdout.length - CONSOLE_KEEP_CHARS : nl + 1;
      stdout = stdout.slice(cut);
    }
    return { stdout, stderr: r.stderr, code: r.code, more: false, consumed: r.consumed, changed: r.changed, packets, ...(cut ? { stdoutCut: cut } : {}), ...(r.watch !== undefined ? { follow: r.watch } : {}) };
  }

  consoleFollow(ref: string, id: number): ConsoleFollowResult {
    if (!this.service.consoleFollow) throw new ApiCallError('unsupported', 'this service has no console shell');
    return this.service.consoleFollow(ref, id);
  }

  consoleInterrupt(ref: string, id: number): ExecResult {
    if (!this.service.consoleInterrupt) throw new ApiCallError('unsupported', 'this service has no console shell');
    const r = this.service.consoleInterrupt(ref, id);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  }

  consoleTraces(ref: string): TraceResult[] {
    return (this.service.consoleTraces?.(ref) ?? []).map((t) => JSON.parse(JSON.stringify(t)) as TraceResult);
  }

  consoleHistory(ref: string, host: string): string[] {
    return this.service.consoleHistory(ref, host);
  }

  appendConsoleHistory(ref: string, host: string, line: string): void {
    this.service.appendConsoleHistory(ref, host, line);
  }

  traces(ref: string): SavedTrace[] {
    return this.service.traces(ref).map((t) => ({ name: t.name, seed: t.seed, at: ms(t.at) }));
  }

  saveTrace(ref: string, name: string, spec: TraceRequest): void {
    const report = this.trace(ref, { ...spec, keep: false });
    // The seed the walk used (the lab's random state when the spec gave none), so it replays.
    const json = isObj(report.json) ? report.json : report;
    this.service.saveTrace(ref, name, typeof json.seed === 'number' ? json.seed : (spec.seed ?? 1), report);
  }

  saveTraceReport(ref: string, name: string, report: TraceResult): void {
    // The schema checked the report's shape and its seed (0..2^32-1).
    this.service.saveTrace(ref, name, typeof report.seed === 'number' ? report.seed : 0, report);
  }

  savedTrace(ref: string, name: string): SavedTraceReport {
    const t = this.service.traces(ref).find((x) => x.name === name);
    if (!t) throw new ApiCallError('notfound', `no saved trace ${JSON.stringify(name)} in lab ${JSON.stringify(ref)}`);
    if (!isObj(t.report)) throw new ApiCallError('failed', `saved trace ${JSON.stringify(name)} has no report`);
    return { name: t.name, seed: t.seed, at: ms(t.at), trace: JSON.parse(JSON.stringify(t.report)) as TraceResult };
  }

  exportTrace(ref: string, report: TraceResult, format: 'markdown' | 'json', name?: string): ExportResult {
    const base = `${ref}-${name ?? 'trace'}`.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'trace';
    if (format === 'json') return { fileName: `${base}.json`, text: JSON.stringify(report, null, 2) + '\n' };
    // The API's schema checked the fields the Markdown reads; the optional parts default here.
    const t = { ...report, reply: report.reply ?? null, ack: report.ack ?? null, outcomes: report.outcomes ?? [] } as unknown as TraceJson;
    return { fileName: `${base}.md`, text: traceMarkdown(t) };
  }

  // ---- examples, walkthroughs, exercises ------------------------------------------------------

  private guides(): Required<Pick<LabServicePort, 'examples' | 'createExample' | 'runStep' | 'checkStep' | 'checkExercises' | 'applySolution' | 'setWalkthrough' | 'setExercises'>> {
    const s = this.service;
    if (!s.examples || !s.createExample || !s.runStep || !s.checkStep || !s.checkExercises || !s.applySolution || !s.setWalkthrough || !s.setExercises) {
      throw new ApiCallError('unsupported', 'this service has no examples, walkthroughs or exercises');
    }
    return s as Required<LabServicePort>;
  }

  examples(): ExampleInfo[] {
    return this.guides().examples().map((e) => ({ ...e, layouts: [...e.layouts] }));
  }

  createExample(example: string, name: string, opts: { proxy?: 'legacy' | 'current' } = {}): LabSummary {
    this.guides().createExample(example, name, opts.proxy ? { proxy: opts.proxy } : {});
    return this.summary(name);
  }

  runStep(ref: string, i: number): StepRunResult {
    return stepRun(this.guides().runStep(ref, i));
  }

  checkStep(ref: string, i: number): CheckVerdict {
    const r = this.guides().checkStep(ref, i);
    return { name: r.name, pass: r.pass, detail: r.detail };
  }

  checkExercises(ref: string, only?: number): ExerciseVerdict[] {
    return this.guides().checkExercises(ref, only).map((x) => ({ index: x.index, title: x.title, pass: x.pass, checks: x.checks.map((c) => ({ name: c.name, pass: c.pass, detail: c.detail })) }));
  }

  applySolution(ref: string, i: number): StepRunResult[] {
    return this.guides().applySolution(ref, i).map(stepRun);
  }

  setWalkthrough(ref: string, walkthrough: Walkthrough | null): void {
    this.guides().setWalkthrough(ref, walkthrough ?? null);
  }

  setExercises(ref: string, list: Exercise[]): void {
    this.guides().setExercises(ref, list);
  }

  // ---- the rules browser ----------------------------------------------------------------------

  rules(ref: string, host: string, q: RulesQuery = {}): RulesView {
    const query: RulesQuery = {};
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) (query as Record<string, unknown>)[k] = v;
    if (this.service.rules) return this.service.rules(ref, host, query);
    const read = (lab: Lab): RulesView => {
      const h = lab.hosts.get(host);
      if (!h) throw new ApiCallError('notfound', `no host named "${host}"`);
      return hostView(h, lab.clock, query);
    };
    return this.service.inspect ? this.service.inspect(ref, read) : read(this.service.load(ref));
  }

  compareRules(ref: string, a: string, b: string, opts: { rev?: number } = {}): RulesCompare {
    const save = (host: string): string => {
      const r = this.service.exec(ref, host, ['iptables-save'], '');
      if (r.code !== 0) throw new ApiCallError('failed', r.stderr.trim() || `iptables-save on ${host} failed`);
      return r.stdout;
    };
    if (opts.rev === undefined) return compareSaves(save(a), save(b), { a, b });
    if (!this.service.rulesAt) throw new ApiCallError('unsupported', 'revisions need the lab store');
    return compareSaves(save(a), this.service.rulesAt(ref, opts.rev, b), { a, b: `${b} at revision ${opts.rev}` });
  }

  pathGraph(ref: string, host: string, q: PathQuery): PathGraph {
    const query: PathQuery = {};
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') (query as Record<string, unknown>)[k] = v;
    const read = (lab: Lab): PathGraph => {
      const h = lab.hosts.get(host);
      if (!h) throw new ApiCallError('notfound', `no host named "${host}"`);
      try {
        return pathGraph({ tables: tablesOf((t) => h.nf.table(t)), env: h.env, isLocal: (a) => h.net.isLocal(a) }, query);
      } catch (e) {
        if (e instanceof PathQueryError) throw new ApiCallError('invalid', e.message);
        throw e;
      }
    };
    return this.service.inspect ? this.service.inspect(ref, read) : read(this.service.load(ref));
  }
}

function stepRun(r: StepRunRow): StepRunResult {
  return JSON.parse(JSON.stringify({ action: r.action, ...(r.output ? { output: r.output } : {}), ...(r.trace !== undefined ? { trace: r.trace } : {}) })) as StepRunResult;
}

/** Lines added and removed between two lists (as multisets). */
export function lineDiff(before: string[], after: string[]): { added: number; removed: number } {
  const count = new Map<string, number>();
  for (const l of before) count.set(l, (count.get(l) ?? 0) + 1);
  let added = 0;
  for (const l of after) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else added++;
  }
  let removed = 0;
  for (const n of count.values()) removed += n;
  return { added, removed };
}

function removeFromDoc(doc: LabDoc, it: RemoveItem): LabDoc {
  const has = (cond: boolean): void => {
    if (!cond) throw new ApiCallError('notfound', `no ${it.kind} ${JSON.stringify(it.name)}${it.dev ? ` with device ${it.dev}` : ''}`);
  };
  switch (it.kind) {
    case 'host':
      has(doc.hosts.some((h) => h.name === it.name));
      doc.hosts = doc.hosts.filter((h) => h.name !== it.name);
      if (doc.veths) doc.veths = doc.veths.filter((v) => v.a.host !== it.name && v.b.host !== it.name);
      doc.journal = doc.journal.filter((e) => e.host !== it.name);
      break;
    case 'lan':
      has(doc.lans.some((l) => l.name === it.name));
      doc.lans = doc.lans.filter((l) => l.name !== it.name);
      for (const h of doc.hosts) h.links = h.links.filter((l) => l.lan !== it.name);
      break;
    case 'link': {
      const h = doc.hosts.find((x) => x.name === it.name);
      has(!!h && h.links.some((l) => l.dev === it.dev));
      if (h) h.links = h.links.filter((l) => l.dev !== it.dev);
      break;
    }
    case 'veth':
      has((doc.veths ?? []).some((v) => (v.a.host === it.name && v.a.dev === it.dev) || (v.b.host === it.name && v.b.dev === it.dev)));
      doc.veths = (doc.veths ?? []).filter((v) => !((v.a.host === it.name && v.a.dev === it.dev) || (v.b.host === it.name && v.b.dev === it.dev)));
      break;
    default:
      throw new ApiCallError('unsupported', `cannot remove a ${it.kind} here`);
  }
  return doc;
}

// ---- the dispatcher -------------------------------------------------------------------------

export type CallReply = { result: unknown } | { error: ApiError };

export interface ApiDispatcher {
  call(method: string, params: unknown): Promise<CallReply>;
  subscribe(fn: (event: EventName, data: LabEvents[EventName]) => void): () => void;
  close(): void;
}

const LAB_LIST_CHANGES: ReadonlySet<MethodName> = new Set(['createLab', 'renameLab', 'duplicateLab', 'deleteLab', 'importLab', 'createExample']);
const LAB_CHANGES: ReadonlySet<MethodName> = new Set(['undo', 'redo', 'addLan', 'addHost', 'addLink', 'addVeth', 'remove', 'apply', 'exec', 'trace', 'consoleLine', 'runStep', 'applySolution', 'setWalkthrough', 'setExercises']);

/** Whether a guide action changes the lab (a trace is not kept, a `show` only points). */
const actionChanges = (r: StepRunResult): boolean => r.action.kind === 'command' || r.action.kind === 'apply';

function errorOf(e: unknown): ApiError {
  if (e instanceof ApiCallError) return { code: e.code, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  const code = /no lab|no host|no LAN|not found|no such/i.test(message) ? 'notfound' : /already exists/.test(message) ? 'conflict' : 'failed';
  return { code, message };
}

export function createDispatcher(impl: LabApiImpl): ApiDispatcher {
  const listeners = new Set<(event: EventName, data: LabEvents[EventName]) => void>();
  const emit = <E extends EventName>(event: E, data: LabEvents[E]): void => {
    for (const l of listeners) l(event, data);
  };
  return {
    async call(method, params) {
      const bad = checkCall(method, params);
      if (bad) return { error: bad };
      const m = method as MethodName;
      const argv = (params as unknown[]).map((a) => (a === null ? undefined : a));
      try {
        if (m !== 'listLabs' && m !== 'capabilities' && m !== 'importLab' && m !== 'examples' && m !== 'createExample') storeOnly(argv[0] as string);
        if (m === 'renameLab' || m === 'duplicateLab' || m === 'createExample') storeOnly(argv[1] as string);
        const fn = impl[m] as (...a: unknown[]) => unknown;
        const result = fn.apply(impl, argv);
        if (LAB_LIST_CHANGES.has(m)) emit('labsChanged', {});
        if (LAB_CHANGES.has(m)) {
          const changed = m === 'exec' ? true
            : m === 'consoleLine' ? (result as ConsoleResult).changed
            : m === 'trace' ? (argv[1] as TraceRequest).keep === true
            : m === 'undo' || m === 'redo' ? (result as UndoResult).changed
            : m === 'runStep' ? actionChanges(result as StepRunResult)
            : m === 'applySolution' ? (result as StepRunResult[]).some(actionChanges)
            : true;
          if (changed) emit('labChanged', { lab: argv[0] as string });
        }
        if (m === 'renameLab' || m === 'deleteLab' || m === 'duplicateLab') emit('labChanged', { lab: argv[0] as string });
        return { result: result === undefined ? null : result };
      } catch (e) {
        return { error: errorOf(e) };
      }
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      listeners.clear();
      impl.service.close?.();
    },
  };
}

/**
 * The app only ever names labs in the store. The service takes a name that looks like a path,
 * or names an existing file, as a lab file; a renderer must not reach files that way.
 */
export function storeOnly(ref: string): void {
  if (looksLikeFile(ref) || existsSync(ref)) {
    throw new ApiCallError('invalid', `${JSON.stringify(ref)} is not a lab name the app can use (it looks like a file path); rename the lab with kpl mv`);
  }
}

/**
 * Opens the service behind the API on the database the kpl command line uses too (--db, then
 * KPL_DB, then the per-user default). The shells' entry points also move the process into the
 * database's folder (appDbPath + chdir), so a lab name seldom collides with a file there.
 */
export function appDbPath(db?: string): string {
  const path = resolve(db ?? defaultDbPath());
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

export function openLabApi(opts: { db?: string; onNotice?: (message: string) => void } = {}): ApiDispatcher {
  const service = new LabService({ ...(opts.db ? { db: resolve(opts.db) } : {}), ...(opts.onNotice ? { onNotice: opts.onNotice } : {}) });
  return createDispatcher(new LabApiImpl(service));
}
