// LabService: the one entry point every transport (the kpl CLI, the app) uses. A lab is
// either a file (a LAB argument that names an existing file, ends in .kpl/.json or has a path
// separator) or a lab in the store (any other name). Each change loads the lab, applies it
// through the engine and saves it: for a file, one atomic write; for a stored lab, one
// transaction that records a revision (the command and a timestamp), so it can be undone.
// The store is opened on first use, so constructing the service costs nothing.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClusterDoc, ProxyLayout } from '../../shared/cluster.ts';
import { matrixJson, matrixText, type Matrix, type MatrixOptions } from '../engine/cluster/matrix.ts';
import { threadedMatrix } from './matrix-threads.ts';
import { emptyLab, type LabDoc, type ListenSpec } from '../../shared/lab.ts';
import { LabFormatError, validateLab } from '../../shared/lab-validate.ts';
import { canonicalDoc, scanJson, serializeScenario, type Scenario, type SavedTraceDoc } from '../../shared/scenario.ts';
import { Lab, LabError, type TraceSpec } from '../engine/lab.ts';
import type { TraceReport } from '../engine/datapath/report.ts';
import type { CommandResult } from '../engine/shell/types.ts';
import { Store } from '../store/store.ts';
import { LabStoreError, type LabRow } from '../store/labs.ts';
import { StoreForeignError } from '../store/db.ts';
import { LabFileError, labFileExists, readScenarioFile, writeScenarioFile } from './lab-files.ts';
import { defaultDbPath, looksLikeFile, resolveRef, type LabTarget } from './lab-ref.ts';
import { commandText, labDiff, shellQuote, type LabDiff } from './lab-diff.ts';
import { parseScenarioText } from './scenario.ts';
import { actionOf, buildExample, checkExercises, checkStep, exampleList, findExample, performAction, rehearseWalkthrough, type ExampleInfo, type ExerciseResult, type StepRun } from './guides.ts';
import type { CheckResult, Exercise, StepAction, Walkthrough } from '../../shared/guide.ts';
import type { RulesQuery, RulesView } from '../../shared/rules-view.ts';
import type { ForkPoint } from '../../shared/api/types.ts';
import { hostView } from '../engine/host-view.ts';
import { ConsoleFollows, type FollowRun } from './console-follow.ts';

export { LabError, LabFileError, LabFormatError, LabStoreError, StoreForeignError };
export type { TraceSpec, TraceReport, CommandResult, ListenSpec, LabDiff, Matrix, MatrixOptions, ExampleInfo, ExerciseResult, CheckResult };

export type { StepRun };
export { matrixJson, matrixText };
export { traceMarkdown } from '../engine/datapath/report-markdown.ts';

export interface LabSummary {
  name: string;
  /** Hosts plus the cluster's nodes. */
  nodes: number;
  /** Kubernetes Services applied through the journal. */
  services: number;
  hosts: number;
  /** Last change (ISO 8601). */
  changed: string;
  /** Bytes of history kept in the store. */
  size: number;
}

export interface TrashEntry extends LabSummary {
  /** When it went to the trash (ISO 8601). */
  trashed: string;
}

export interface HistoryEntry {
  seq: number;
  /** The revision it was made from (null: the first). */
  parent: number | null;
  command: string;
  /** ISO 8601. */
  at: string;
  /** The revision the lab is at now. */
  current: boolean;
  /** Snapshot names pointing at this revision. */
  snapshots: string[];
}

export interface SavedTraceInfo {
  name: string;
  seed: number;
  at: string;
}

export interface LabServiceOptions {
  /** The database file (default: KPL_DB, then the per-user data folder). */
  db?: string;
  /** Told once when the store had to set a damaged database aside (the user must know). */
  onNotice?: (message: string) => void;
  /** Clock for revisions (tests). */
  now?: () => number;
}

/** Fields of the document the engine does not keep: carried from one revision to the next. */
const DOC_ONLY = ['notes', 'walkthrough', 'exercises'] as const;
const MAX_LAYOUT_BYTES = 5 * 1024 * 1024;
const MAX_CONSOLE_LINE = 64 * 1024;

type AnyEnd = { host: string; dev?: string; ip?: string };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function summary(r: LabRow): LabSummary {
  return { name: r.name, nodes: r.nodes, services: r.services, hosts: r.hosts, changed: iso(r.changedAt), size: r.size };
}

export class LabService {
  readonly dbPath: string;
  private opened: Store | undefined;
  private readonly onNotice?: (message: string) => void;
  private readonly now?: () => number;
  /** Notices not yet taken by a caller without `onNotice`. */
  readonly notices: string[] = [];
  /** The engine's lab for the newest revision used, so a change to a big lab need not replay it. */
  private engine: { id: number; seq: number; lab: Lab; extra: Partial<LabDoc> } | undefined;

  constructor(opts: LabServiceOptions = {}) {
    this.dbPath = opts.db ?? defaultDbPath();
    this.onNotice = opts.onNotice;
    this.now = opts.now;
  }

  // ---- the store ------------------------------------------------------------------------------

  /** The store, opened on first use (a damaged file is set aside and reported). */
  get store(): Store {
    if (!this.opened) {
      mkdirSync(dirname(this.dbPath), { recursive: true });
      this.opened = Store.open(this.dbPath, this.now ? { now: this.now } : {});
      const c = this.opened.report.corrupt;
      if (c) this.notice(`the lab database ${this.dbPath} was damaged (${c.reason}); it was kept as ${c.movedTo} and a new, empty one was started`);
    }
    return this.opened;
  }

  private notice(message: string): void {
    if (this.onNotice) this.onNotice(message);
    else this.notices.push(message);
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
    this.engine = undefined;
  }

  private stored(ref: string, what: string): string {
    const t = resolveRef(ref);
    if (t.kind === 'file') throw new LabStoreError(`${what} works on labs in the store; ${ref} is a file (kpl import ${ref} stores it)`);
    return t.name;
  }

  private static checkStoredName(name: string): void {
    if (looksLikeFile(name)) throw new LabStoreError(`invalid lab name ${JSON.stringify(name)}: a stored lab's name cannot contain / or \\ or end in .kpl or .json (that names a file)`);
  }

  // ---- labs -----------------------------------------------------------------------------------

  list(): LabSummary[] {
    return this.store.labs.listLabs().map(summary);
  }

  create(ref: string, opts: { name?: string; seed?: number; cluster?: ClusterDoc } = {}): void {
    const t = resolveRef(ref);
    const command = `new ${shellQuote(t.kind === 'file' ? t.path : t.name)}${opts.seed !== undefined ? ` --seed ${opts.seed}` : ''}${opts.cluster ? ' --cluster' : ''}`;
    this.createFrom(ref, (name) => withCluster(emptyLab(opts.name ?? name), opts), command);
  }

  /** A new lab (stored, or a `.kpl` file that must not exist yet) holding the document `make` builds for its name. */
  createFrom(ref: string, make: (name: string) => LabDoc, command: string): void {
    const t = resolveRef(ref);
    if (t.kind === 'file') {
      if (labFileExists(t.path)) throw new LabFileError(`${t.path}: already exists`);
      writeScenarioFile(t.path, { doc: make(defaultName(t.path)) });
      return;
    }
    LabService.checkStoredName(t.name);
    if (this.store.labs.listLabs().some((r) => r.name === t.name)) throw new LabStoreError(`a lab named ${JSON.stringify(t.name)} already exists`);
    const doc = make(t.name);
    doc.name = t.name;
    this.store.labs.createLab(t.name, doc, command);
  }

  /** `kpl matrix`: pod-to-pod reachability, each cell a traced connection (nothing is kept);
   *  a big matrix is shared out among worker threads holding copies of the lab. */
  matrix(ref: string, opts: MatrixOptions, threads?: number): Matrix {
    return this.inspect(ref, (lab) => {
      if (!lab.cluster) throw new LabError('matrix: this lab has no cluster (kpl new LAB --cluster makes one)');
      return threadedMatrix(lab, opts, { threads });
    });
  }

  /**
   * The rules browser's view of a host, node or pod (NS/NAME): its tables, chains and rules with
   * counters and references, ipsets and conntrack entries (host-view.ts; reads only).
   */
  rules(ref: string, host: string, q: RulesQuery = {}): RulesView {
    return this.inspect(ref, (lab) => {
      const h = lab.hosts.get(host);
      if (!h) throw new LabError(`no host named "${host}"`);
      return hostView(h, lab.clock, q);
    });
  }

  /** `kpl export --k8s`: the lab's cluster as manifests a real cluster accepts. */
  exportK8s(ref: string): string {
    return this.inspect(ref, (lab) => {
      if (!lab.cluster) throw new LabError('export --k8s: this lab has no cluster (kpl new LAB --cluster makes one)');
      return lab.cluster.manifests();
    });
  }

  /** `kpl apply`: Kubernetes manifests (multi-document YAML or JSON) into the lab's cluster. */
  apply(ref: string, manifests: string): CommandResult {
    return this.change(
      ref,
      (lab) => {
        // (kube-proxy's housekeeping after it deletes flows: consoles following conntrack -E see it)
        const { agentErrors: _, ...r } = this.followed(ref, lab, () => lab.applyManifests(manifests));
        return r;
      },
      (r) => r.changed,
      'apply',
    );
  }

  rename(ref: string, newName: string): void {
    LabService.checkStoredName(newName);
    this.store.labs.renameLab(this.stored(ref, 'rename'), newName);
    this.follows.forget(ref);
  }

  duplicate(ref: string, newName: string): void {
    LabService.checkStoredName(newName);
    this.store.labs.duplicateLab(this.stored(ref, 'cp'), newName);
  }

  /** Moves a stored lab to the trash (it can be restored until the trash is emptied). */
  remove(ref: string): void {
    this.store.labs.trashLab(this.stored(ref, 'rm'));
    this.engine = undefined;
    this.follows.forget(ref);
  }

  trash(): TrashEntry[] {
    return this.store.labs.listLabs({ trashed: true }).map((r) => ({ ...summary(r), trashed: iso(r.trashedAt ?? 0) }));
  }

  emptyTrash(): number {
    return this.store.labs.emptyTrash();
  }

  /** Takes the most recently trashed lab of that name out of the trash. */
  restoreFromTrash(name: string, newName?: string): void {
    const rows = this.store.labs.listLabs({ trashed: true }).filter((r) => r.name === name);
    if (!rows.length) throw new LabStoreError(`no lab ${JSON.stringify(name)} in the trash`);
    rows.sort((a, b) => (b.trashedAt ?? 0) - (a.trashedAt ?? 0) || b.id - a.id);
    if (newName !== undefined) LabService.checkStoredName(newName);
    this.store.labs.restoreLab(rows[0].id, newName);
  }

  // ---- documents --------------------------------------------------------------------------------

  /** The lab's current document. */
  doc(ref: string): LabDoc {
    const t = resolveRef(ref);
    if (t.kind === 'file') return readScenarioFile(t.path).doc;
    const row = this.store.labs.find(t.name);
    return this.storedDoc(row);
  }

  /** The lab as the engine runs it (a fresh instance the caller owns). */
  load(ref: string): Lab {
    return Lab.fromDoc(this.doc(ref));
  }

  /**
   * Runs `fn` on the engine's lab for the lab's current revision without building a new one
   * (for a stored lab it is the instance changes reuse, so repeated views of a big lab cost
   * nothing). `fn` must only read: what it changes would be saved with the next change.
   */
  inspect<T>(ref: string, fn: (lab: Lab) => T): T {
    const t = resolveRef(ref);
    if (t.kind === 'file') return fn(this.load(ref));
    return fn(this.engineFor(this.store.labs.find(t.name)).lab);
  }

  private storedDoc(row: LabRow, seq?: number): LabDoc {
    const doc = seq === undefined ? this.store.labs.getLab(row.id) : this.store.labs.getRevision(row.id, seq);
    // The store's name is the lab's name (a rename does not rewrite history).
    doc.name = row.name;
    return doc;
  }

  /**
   * One change: `fn` runs on the engine's lab; when `changed` says so (or the lab clock moved)
   * the result is saved — for a stored lab as one revision, in one transaction.
   */
  private change<T>(ref: string, fn: (lab: Lab) => T, changed: (r: T) => boolean = () => true, command = 'change'): T {
    const t = resolveRef(ref);
    if (t.kind === 'file') return this.changeFile(t.path, fn, changed);
    const store = this.store;
    try {
      return store.db.transaction(() => {
        const row = store.labs.find(t.name);
        const eng = this.engineFor(row);
        const r = fn(eng.lab);
        if (changed(r) || eng.lab.runtimeChanged) {
          eng.lab.runtimeChanged = false;
          const next = withExtra(eng.lab.toDoc(), eng.extra);
          next.name = row.name;
          const res = store.labs.saveChange(row.id, command, next);
          this.engine = { ...eng, seq: res.seq };
        }
        return r;
      }).immediate();
    } catch (e) {
      // The engine's lab may be half changed: rebuild it next time.
      this.engine = undefined;
      throw e;
    }
  }

  private changeFile<T>(path: string, fn: (lab: Lab) => T, changed: (r: T) => boolean): T {
    const s = readScenarioFile(path);
    const lab = Lab.fromDoc(s.doc);
    const r = fn(lab);
    if (changed(r) || lab.runtimeChanged) writeScenarioFile(path, { ...s, doc: withExtra(lab.toDoc(), s.doc) });
    return r;
  }

  private engineFor(row: LabRow): { id: number; seq: number; lab: Lab; extra: Partial<LabDoc> } {
    if (this.engine && this.engine.id === row.id && this.engine.seq === row.currentSeq) return this.engine;
    this.engine = undefined;
    const doc = this.storedDoc(row);
    const lab = Lab.fromDoc(doc);
    this.engine = { id: row.id, seq: row.currentSeq, lab, extra: extraOf(doc) };
    return this.engine;
  }

  /** Records a document edited outside the engine's calls (removals, settings) as one change. */
  update(ref: string, command: string, fn: (doc: LabDoc) => LabDoc): void {
    const t = resolveRef(ref);
    const next = validateLab(fn(this.doc(ref)), 'lab');
    const lab = Lab.fromDoc(next); // the journal must still replay
    const doc = withExtra(lab.toDoc(), next);
    if (t.kind === 'file') {
      const s = readScenarioFile(t.path);
      writeScenarioFile(t.path, { ...s, doc });
      return;
    }
    const row = this.store.labs.find(t.name);
    doc.name = row.name;
    this.store.labs.saveChange(row.id, command, doc);
  }

  addLan(ref: string, name: string): void {
    this.change(ref, (lab) => lab.addLan(name), undefined, `lan add ${shellQuote(name)}`);
  }

  addHost(ref: string, name: string, listen: ListenSpec[]): void {
    const l = listen.length ? ` --listen ${listen.map((s) => (s.proto === 'tcp' ? `${s.port}` : `${s.port}/${s.proto}`)).join(',')}` : '';
    this.change(ref, (lab) => lab.addHost(name, listen), undefined, `host add ${shellQuote(name)}${l}`);
  }

  addLink(ref: string, host: string, lan: string, ip: string, dev?: string): string {
    return this.change(ref, (lab) => lab.addLink(host, lan, ip, dev), undefined, `link add ${shellQuote(host)} ${shellQuote(lan)} --ip ${shellQuote(ip)}${dev ? ` --dev ${shellQuote(dev)}` : ''}`);
  }

  addVeth(ref: string, a: AnyEnd, b: AnyEnd): [string, string] {
    const end = (e: AnyEnd) => `${e.host}${e.dev ? `:${e.dev}` : ''}${e.ip ? ` ${e.ip}` : ''}`;
    return this.change(ref, (lab) => lab.addVeth(a, b), undefined, `veth add ${shellQuote(end(a))} ${shellQuote(end(b))}`);
  }

  exec(ref: string, host: string, argv: string[], stdin: string): CommandResult {
    return this.change(ref, (lab) => this.followed(ref, lab, () => lab.exec(host, argv, stdin)), (r) => r.changed, `exec ${commandText({ host, argv, ...(stdin ? { stdin } : {}) }).replace(': ', ' -- ')}`);
  }

  /** Consoles following commands that run on (`conntrack -E`), see console's `follow`. */
  private readonly follows = new ConsoleFollows();

  /** Runs `fn` on the lab with its conntrack events going to the consoles that follow them. */
  private followed<T>(ref: string, lab: Lab, fn: () => T): T {
    lab.onCtEvent = this.follows.sinkFor(ref);
    try {
      return fn();
    } finally {
      lab.onCtEvent = null;
    }
  }

  /** A followed console line's output since the last look (`running` false: it ended). */
  consoleFollow(ref: string, id: number): { stdout: string; stderr: string; running: boolean } {
    return this.follows.take(ref, id, this.followRun(ref));
  }

  /** Ctrl+C on a followed console line: the rest of its output and the program's last words. */
  consoleInterrupt(ref: string, id: number): CommandResult {
    return this.follows.interrupt(ref, id, this.followRun(ref));
  }

  /** How a watch on lab `ref` turns its events into text: on the lab as it is now. */
  private followRun(ref: string): FollowRun {
    return (host, line, events) => this.inspect(ref, (lab) => lab.followLines(host, line, events));
  }

  /**
   * Runs a console line (pipes, lists, here-documents) as exec does: one change, journaled when
   * it changed the host. Null when more lines are needed (an open here-document). The line goes
   * into the host's console history; the packets it sent are kept for consoleTraces. With
   * `follow` (a console in the app), a command that runs on (`conntrack -E`) is followed:
   * `watch` names it for consoleFollow and consoleInterrupt.
   */
  console(ref: string, host: string, lines: string[], opts: { follow?: boolean } = {}): (Omit<CommandResult, 'follow'> & { consumed: number; watch?: number }) | null {
    let sent: TraceReport[] = [];
    const r = this.change(ref, (lab) => {
      const last = lab.consoleTraces.at(-1);
      const res = this.followed(ref, lab, () => lab.console(host, lines, opts));
      const i = last ? lab.consoleTraces.lastIndexOf(last) : -1;
      sent = lab.consoleTraces.slice(i + 1);
      return res;
    }, (res) => res?.changed === true, `console ${shellQuote(host)} -- ${shellQuote(lines.join('\n'))}`);
    if (!r) return null;
    this.lastConsoleTraces.set(ref, sent);
    const text = lines.slice(0, r.consumed).join('\n');
    if (text.trim() && text.length <= MAX_CONSOLE_LINE) this.appendConsoleHistory(ref, host, text);
    const { followed, follow: _running, ...res } = r;
    return followed ? { ...res, watch: this.follows.start(ref, host, followed) } : res;
  }

  private readonly lastConsoleTraces = new Map<string, TraceReport[]>();

  /** The walks of the packets the last console command on this lab sent (see console). */
  consoleTraces(ref: string): TraceReport[] {
    return this.lastConsoleTraces.get(ref) ?? [];
  }

  trace(ref: string, spec: TraceSpec): TraceReport {
    const cmd = `trace --from ${shellQuote(spec.from)} --to ${shellQuote(spec.to)} --proto ${spec.proto}${spec.seed !== undefined ? ` --seed ${spec.seed}` : ''}${spec.later ? ` --later ${spec.later}` : ''}${spec.tcpFlags ? ` --tcp-flags ${shellQuote(spec.tcpFlags)}` : ''} --keep`;
    return this.change(ref, (lab) => this.followed(ref, lab, () => lab.trace(spec)), () => spec.keep === true, cmd);
  }

  /**
   * A live node's `iptables-save` (and `ipset save`) output becomes a host's state: the host is
   * added when missing, then `ipset restore` and `iptables-restore` of the dumps are journaled —
   * all one change. Returns whether the host was added.
   */
  importNode(ref: string, node: string, dumps: { iptables: string; ipset?: string }): { added: boolean } {
    return this.change(ref, (lab) => {
      const added = !lab.host(node);
      if (added) lab.addHost(node, []);
      if (dumps.ipset !== undefined && dumps.ipset.trim() !== '') {
        const r = lab.exec(node, ['ipset', 'restore', '-exist'], dumps.ipset);
        if (r.code !== 0) throw new LabError(`ipset restore of the node's sets failed: ${r.stderr.trim()}`);
      }
      // The accounting objects the rules count into (kube-proxy makes its two as it starts;
      // iptables-save does not show them): made first, or the kernel would refuse the rules.
      for (const name of nfacctNames(dumps.iptables)) {
        if (lab.exec(node, ['nfacct', 'get', name], '').code === 0) continue;
        const made = lab.exec(node, ['nfacct', 'add', name], '');
        if (made.code !== 0) throw new LabError(`nfacct add ${name} failed: ${made.stderr.trim()}`);
      }
      const r = lab.exec(node, ['iptables-restore'], dumps.iptables);
      if (r.code !== 0) throw new LabError(`iptables-restore of the node's rules failed: ${r.stderr.trim()}`);
      return { added };
    }, undefined, `import-node ${shellQuote(node)}${dumps.ipset !== undefined ? ' --ipset' : ''} --iptables`);
  }

  notes(ref: string): string {
    return this.doc(ref).notes ?? '';
  }

  setNotes(ref: string, text: string): void {
    if (typeof text !== 'string') throw new LabFormatError('notes: expected a string');
    this.update(ref, 'notes', (d) => {
      const next = { ...d };
      if (text === '') delete next.notes;
      else next.notes = text;
      return next;
    });
  }

  // ---- examples, walkthroughs, exercises -------------------------------------------------------

  /** `kpl examples`: the built-in labs. */
  examples(): ExampleInfo[] {
    return exampleList();
  }

  /** `kpl example NAME LAB`: a new lab holding the example, built now from its manifests. */
  createExample(example: string, ref: string, opts: { proxy?: ProxyLayout } = {}): void {
    const ex = findExample(example);
    this.createFrom(ref, (name) => buildExample(ex, name, opts.proxy), `example ${shellQuote(example)}${opts.proxy ? ` --proxy ${opts.proxy}` : ''}`);
  }

  /**
   * Performs walkthrough step `i`'s action as the user would (a console line, a kept trace, an
   * apply); a `show` step changes nothing. Returns what the action printed or sent.
   */
  runStep(ref: string, i: number): StepRun {
    return this.perform(ref, actionOf(this.doc(ref), i));
  }

  /** Performs exercise `i`'s solution (its solutionActions, in order): the app's "show me". */
  applySolution(ref: string, i: number): StepRun[] {
    const ex = this.doc(ref).exercises?.[i];
    if (!ex) throw new LabError(`the lab has no exercise ${i + 1}`);
    if (!ex.solutionActions?.length) throw new LabError(`exercise ${i + 1} has no solution the lab can apply`);
    return ex.solutionActions.map((a) => this.perform(ref, a));
  }

  /** Performs one guide action on the lab, as the user would (saved, as their changes are). */
  perform(ref: string, a: StepAction): StepRun {
    return performAction({ console: (h, l) => this.console(ref, h, l), trace: (s) => this.trace(ref, s), apply: (y) => this.apply(ref, y) }, a);
  }

  /** Whether the lab, as it is now, shows what walkthrough step `i` expects. */
  checkStep(ref: string, i: number): CheckResult {
    return checkStep(this.doc(ref), i);
  }

  /** `kpl check`: every exercise's checks against the lab as it is now (or exercise `only`, 0-based). */
  checkExercises(ref: string, only?: number): ExerciseResult[] {
    return checkExercises(this.doc(ref), only);
  }

  /** `kpl check --walkthrough`: the walkthrough performed on a copy of the lab, each step checked. */
  rehearseWalkthrough(ref: string): CheckResult[] {
    return rehearseWalkthrough(this.doc(ref));
  }

  /** Replaces (or with null removes) the lab's walkthrough. */
  setWalkthrough(ref: string, w: Walkthrough | null): void {
    this.update(ref, 'walkthrough', (d) => {
      const next = { ...d };
      if (w === null) delete next.walkthrough;
      else next.walkthrough = w;
      return next;
    });
  }

  /** Replaces the lab's exercises (an empty list removes them). */
  setExercises(ref: string, list: Exercise[]): void {
    this.update(ref, 'exercises', (d) => {
      const next = { ...d };
      if (list.length === 0) delete next.exercises;
      else next.exercises = list;
      return next;
    });
  }

  // ---- history ----------------------------------------------------------------------------------

  history(ref: string): HistoryEntry[] {
    const name = this.stored(ref, 'history');
    const snaps = new Map<number, string[]>();
    for (const s of this.store.labs.snapshots(name)) snaps.set(s.seq, [...(snaps.get(s.seq) ?? []), s.name]);
    return this.store.labs.revisions(name).map((r) => ({ seq: r.seq, parent: r.parent, command: r.command, at: iso(r.at), current: r.current, snapshots: snaps.get(r.seq) ?? [] }));
  }

  /** Steps back one revision; false when the lab is at its first. */
  undo(ref: string): boolean {
    return this.store.labs.undo(this.stored(ref, 'undo')) !== null;
  }

  /** Steps forward to the newest revision made from the current one; false when there is none. */
  redo(ref: string): boolean {
    return this.store.labs.redo(this.stored(ref, 'redo')) !== null;
  }

  canUndo(ref: string): boolean {
    const row = this.store.labs.find(this.stored(ref, 'undo'));
    return this.store.labs.revisions(row.id).some((r) => r.seq === row.currentSeq && r.parent !== null);
  }

  canRedo(ref: string): boolean {
    const row = this.store.labs.find(this.stored(ref, 'redo'));
    return this.store.labs.revisions(row.id).some((r) => r.parent === row.currentSeq);
  }

  /** A revision number, or a snapshot's name. */
  private revOf(row: LabRow, rev: number | string): number {
    if (typeof rev === 'number') return rev;
    if (/^[0-9]+$/.test(rev)) return Number(rev);
    const s = this.store.labs.snapshots(row.id).find((x) => x.name === rev);
    if (!s) throw new LabStoreError(`lab ${JSON.stringify(row.name)} has no revision or snapshot ${JSON.stringify(rev)}`);
    return s.seq;
  }

  diff(ref: string, rev1: number | string, rev2: number | string): LabDiff {
    const row = this.store.labs.find(this.stored(ref, 'diff'));
    const a = this.revOf(row, rev1), b = this.revOf(row, rev2);
    return labDiff(a, this.storedDoc(row, a), b, this.storedDoc(row, b));
  }

  /** A host's `iptables-save` as it was at a revision (or snapshot) of a stored lab, rebuilt. */
  rulesAt(ref: string, rev: number | string, host: string): string {
    const row = this.store.labs.find(this.stored(ref, 'compare'));
    const seq = this.revOf(row, rev);
    // A revision never changes: the rules browser asks again on every change of the lab while
    // it compares, so the last answer is kept rather than the revision rebuilt each time.
    const key = `${row.id}\u0000${seq}\u0000${host}`;
    if (this.lastRulesAt?.key === key) return this.lastRulesAt.text;
    const lab = Lab.fromDoc(this.storedDoc(row, seq));
    if (!lab.hosts.has(host)) throw new LabStoreError(`no host named "${host}" at revision ${rev} of lab ${JSON.stringify(row.name)}`);
    const text = lab.exec(host, ['iptables-save'], '').stdout;
    this.lastRulesAt = { key, text };
    return text;
  }

  private lastRulesAt: { key: string; text: string } | null = null;

  currentRev(ref: string): number | undefined {
    const t = resolveRef(ref);
    return t.kind === 'file' ? undefined : this.store.labs.find(t.name).currentSeq;
  }

  /** What if: `spec` walked on revision `at.rev` until a host (see Lab.traceForked), on the lab
   *  as it is from there on. Nothing is kept. */
  traceForked(ref: string, spec: TraceSpec, at: ForkPoint): TraceReport {
    const row = this.store.labs.find(this.stored(ref, 'fork a trace of'));
    const seq = this.revOf(row, at.rev);
    // (the base is kept for the next replay of the same revision: the compare view replays on
    // every change of the lab)
    const key = `${row.id}\u0000${seq}`;
    const base = this.forkBase?.key === key ? this.forkBase.lab : Lab.fromDoc(this.storedDoc(row, seq));
    this.forkBase = { key, lab: base };
    return this.inspect(ref, (lab) => lab.traceForked(base, spec, { phase: at.phase, hop: at.hop }));
  }

  private forkBase: { key: string; lab: Lab } | null = null;

  /** Makes an old revision (or snapshot) current again, as a new change that can be undone. */
  restoreRevision(ref: string, rev: number | string): number {
    const row = this.store.labs.find(this.stored(ref, 'restore'));
    return this.store.labs.restoreRevision(row.id, this.revOf(row, rev)).seq;
  }

  /** Names the current revision. */
  snapshot(ref: string, name: string): number {
    return this.store.labs.snapshot(this.stored(ref, 'snapshot'), name).seq;
  }

  // ---- companions: layout, console history, traces ----------------------------------------

  layout(ref: string): unknown {
    const t = resolveRef(ref);
    if (t.kind === 'file') return readScenarioFile(t.path).layout;
    return this.store.layouts.get(this.store.labs.find(t.name).id);
  }

  setLayout(ref: string, layout: unknown): void {
    if (typeof layout !== 'object' || layout === null || Array.isArray(layout)) throw new LabFormatError('layout: expected an object');
    const text = JSON.stringify(layout);
    if (text.length > MAX_LAYOUT_BYTES) throw new LabFormatError(`layout: larger than ${MAX_LAYOUT_BYTES} bytes`);
    const clean = JSON.parse(text) as Record<string, unknown>;
    scanJson(clean, 'layout');
    const t = resolveRef(ref);
    if (t.kind === 'file') {
      const s = readScenarioFile(t.path);
      writeScenarioFile(t.path, { ...s, layout: clean });
      return;
    }
    this.store.layouts.set(this.store.labs.find(t.name).id, clean);
  }

  consoleHistory(ref: string, host: string): string[] {
    const t = resolveRef(ref);
    if (t.kind === 'file') return readScenarioFile(t.path).consoleHistory?.find((c) => c.host === host)?.lines ?? [];
    return this.store.consoleHistory.lines(this.store.labs.find(t.name).id, host);
  }

  appendConsoleHistory(ref: string, host: string, line: string): void {
    if (typeof line !== 'string' || line.length > MAX_CONSOLE_LINE) throw new LabFormatError(`console line: expected a string of at most ${MAX_CONSOLE_LINE} characters`);
    const t = resolveRef(ref);
    if (t.kind === 'file') {
      const s = readScenarioFile(t.path);
      const all = s.consoleHistory ? [...s.consoleHistory] : [];
      const i = all.findIndex((c) => c.host === host);
      const lines = [...(i >= 0 ? all[i].lines : []), line].slice(-1000);
      if (i >= 0) all[i] = { host, lines };
      else all.push({ host, lines });
      writeScenarioFile(t.path, { ...s, consoleHistory: all });
      return;
    }
    this.store.consoleHistory.append(this.store.labs.find(t.name).id, host, line);
  }

  /**
   * Saves a trace report under a name (default "trace N"). Also callable as
   * saveTrace(ref, name, seed, report).
   */
  saveTrace(ref: string, report: TraceReport | Record<string, unknown>, name?: string): SavedTraceInfo;
  saveTrace(ref: string, name: string, seed: number, report: unknown): SavedTraceInfo;
  saveTrace(ref: string, a: unknown, b?: unknown, c?: unknown): SavedTraceInfo {
    let name: string | undefined, seed: number, json: Record<string, unknown>;
    const report = typeof a === 'string' ? c : a;
    if (typeof a === 'string') {
      name = a;
      seed = Number(b);
      json = reportJson(c);
    } else {
      json = reportJson(a);
      name = typeof b === 'string' ? b : undefined;
      seed = typeof json.seed === 'number' ? json.seed : 0;
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) seed = 0;
    const t = resolveRef(ref);
    // The revision the trace ran on (the API's results carry it beside the report) is kept with
    // a stored lab's trace, for What if… to fork it there when it is reopened.
    const rev = t.kind === 'file' ? undefined : (report as { rev?: unknown }).rev ?? json.rev;
    json = unrevised(json);
    if (typeof rev === 'number' && Number.isInteger(rev) && rev > 0) json = { ...json, rev };
    const text = JSON.stringify(json);
    const clean = JSON.parse(text) as Record<string, unknown>;
    scanJson(clean, 'trace');
    if (t.kind === 'file') {
      const s = readScenarioFile(t.path);
      const all = s.traces ? [...s.traces] : [];
      const n = name ?? nextTraceName(all.map((x) => x.name));
      const rec: SavedTraceDoc = { name: n, seed, at: iso((this.now ?? Date.now)()), report: clean };
      const i = all.findIndex((x) => x.name === n);
      if (i >= 0) all[i] = rec;
      else all.push(rec);
      writeScenarioFile(t.path, { ...s, traces: all });
      return { name: n, seed, at: rec.at };
    }
    const id = this.store.labs.find(t.name).id;
    const n = name ?? nextTraceName(this.store.traces.list(id).map((x) => x.name));
    const row = this.store.traces.save(id, n, seed, clean);
    return { name: n, seed, at: iso(row.at) };
  }

  /** Saved traces with their reports, by name. */
  traces(ref: string): SavedTraceDoc[] {
    const t = resolveRef(ref);
    if (t.kind === 'file') return readScenarioFile(t.path).traces ?? [];
    const id = this.store.labs.find(t.name).id;
    return this.store.traces.list(id).map((r) => ({ name: r.name, seed: r.seed, at: iso(r.at), report: this.store.traces.get(id, r.name)!.report as Record<string, unknown> }));
  }

  // ---- scenario files ---------------------------------------------------------------------------

  /** The whole lab as a `.kpl` scenario file's text. */
  exportScenario(ref: string): string {
    return serializeScenario(this.scenarioOf(resolveRef(ref)));
  }

  private scenarioOf(t: LabTarget): Scenario {
    if (t.kind === 'file') return readScenarioFile(t.path);
    const store = this.store;
    return store.db.transaction(() => {
      const row = store.labs.find(t.name);
      const s: Scenario = { doc: this.storedDoc(row) };
      const layout = store.layouts.get(row.id);
      if (layout !== undefined) s.layout = layout as Record<string, unknown>;
      const hist = store.consoleHistory.hosts(row.id).map((host) => ({ host, lines: store.consoleHistory.lines(row.id, host) })).filter((c) => c.lines.length);
      if (hist.length) s.consoleHistory = hist;
      const traces = store.traces.list(row.id).map((r) => ({ name: r.name, seed: r.seed, at: iso(r.at), report: unrevised(store.traces.get(row.id, r.name)!.report as Record<string, unknown>) }));
      if (traces.length) s.traces = traces;
      return s;
    })();
  }

  /**
   * Stores a scenario file's text as a new lab; returns its name (`name`, else the file's own,
   * made unique with -2, -3, …). A bad file is refused whole (LabFormatError saying where and
   * why) and nothing is stored.
   */
  importScenario(text: string, opts: { name?: string; source?: string } = {}): string {
    const source = opts.source ?? 'import';
    const s = parseScenarioText(text, source);
    let lab: Lab;
    try {
      lab = Lab.fromDoc(s.doc); // the journal must replay, the runtime apply
    } catch (e) {
      if (!(e instanceof LabError)) throw new LabFormatError(`${source}: the lab does not load (${(e as Error)?.message ?? String(e)})`, '');
      const m = /journal entry (\d+)/.exec(e.message);
      const pointer = m ? `/journal/${Number(m[1]) - 1}` : '';
      throw new LabFormatError(`${source}: ${e.message}${pointer ? ` (at ${pointer})` : ''}`, pointer);
    }
    if (opts.name !== undefined) LabService.checkStoredName(opts.name);
    const store = this.store;
    const row = store.db.transaction(() => {
      let name = opts.name ?? s.doc.name;
      if (opts.name === undefined) {
        // The file's own name, made fit for the store: no path separators or file extension,
        // no control characters or surrounding spaces, and not one already taken.
        // eslint-disable-next-line no-control-regex
        const base = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().replace(/[\\/]/g, '-').replace(/\.(kpl|json)$/i, '').trim() || 'lab';
        const taken = new Set(store.labs.listLabs().map((r) => r.name));
        name = base;
        for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
      }
      const doc = canonicalDoc({ ...s.doc, name });
      const created = store.labs.createLab(name, doc, `import${opts.source ? ` ${shellQuote(opts.source)}` : ''}`);
      if (s.layout !== undefined) store.layouts.set(created.id, s.layout);
      for (const c of s.consoleHistory ?? []) for (const line of c.lines) store.consoleHistory.append(created.id, c.host, line);
      for (const tr of s.traces ?? []) store.traces.save(created.id, tr.name, tr.seed, unrevised(tr.report), Date.parse(tr.at));
      return created;
    }).immediate();
    this.engine = { id: row.id, seq: row.currentSeq, lab, extra: extraOf(s.doc) };
    return row.name;
  }
}

/** A saved trace's report without `rev`, the revision it ran on: a number of the history of the
 *  lab it was saved in, which a `.kpl` file does not carry (an imported lab's history starts
 *  again). What if then replays it from its first packet. */
function unrevised(report: Record<string, unknown>): Record<string, unknown> {
  if (!('rev' in report)) return report;
  const { rev: _rev, ...rest } = report;
  return rest;
}

/** The nfacct objects an iptables-save text's `-m nfacct` rules name, in order of use. */
function nfacctNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/-m nfacct --nfacct-name +(\S+)/g)) names.add(m[1]);
  return [...names];
}

function defaultName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? 'lab';
  return base.replace(/\.(kpl|json)$/, '') || 'lab';
}

function extraOf(doc: LabDoc): Partial<LabDoc> {
  const out: Record<string, unknown> = {};
  for (const k of DOC_ONLY) if (doc[k] !== undefined) out[k] = doc[k];
  return out as Partial<LabDoc>;
}

/** The engine's document plus the fields only the document keeps, in canonical order. */
function withExtra(doc: LabDoc, from: Partial<LabDoc>): LabDoc {
  const out: LabDoc = { ...doc };
  for (const k of DOC_ONLY) if (from[k] !== undefined && out[k] === undefined) (out as unknown as Record<string, unknown>)[k] = from[k];
  return canonicalDoc(out);
}

function reportJson(r: unknown): Record<string, unknown> {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new LabFormatError('trace report: expected an object');
  const j = (r as { json?: unknown }).json;
  if (typeof j === 'object' && j !== null && typeof (r as { text?: unknown }).text === 'string') return j as Record<string, unknown>;
  return r as Record<string, unknown>;
}

function nextTraceName(taken: string[]): string {
  const set = new Set(taken);
  let i = taken.length + 1;
  while (set.has(`trace ${i}`)) i++;
  return `trace ${i}`;
}

/** A new lab's document with its cluster settings (and the LAN the cluster makes). */
function withCluster(doc: LabDoc, opts: { seed?: number; cluster?: ClusterDoc }): LabDoc {
  if (opts.seed !== undefined) doc.seed = opts.seed;
  if (opts.cluster) {
    doc.cluster = opts.cluster;
    doc.lans = Lab.fromDoc(doc).toDoc().lans;
  }
  return doc;
}
