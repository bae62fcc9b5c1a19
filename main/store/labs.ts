// The labs repository: labs, their revisions (every change), undo/redo position and named
// snapshots. A revision stores either the full document or a patch against the revision it
// was made from; a full copy is written again only when the patches since the last one add up
// to half its size (or get too many), so small changes to a big lab cost bytes, not megabytes.
// Revisions form a tree (a change after an undo branches off); undo follows the parent, redo
// the newest child, and the position is stored so both survive restarts.

import type Database from 'better-sqlite3';
import type { LabDoc } from '../../shared/lab.ts';
import { labCounts } from '../../shared/scenario.ts';
import { applyPatch, diff, patchRebuilds, type Json, type PatchOp } from './json-patch.ts';

export class LabStoreError extends Error {}

/** A lab by id (number) or by name among labs not in the trash (string). */
export type LabRef = number | string;

export interface LabRow {
  id: number;
  name: string;
  createdAt: number;
  changedAt: number;
  /** Bytes of history stored for the lab. */
  size: number;
  /** Hosts plus a cluster's nodes. */
  nodes: number;
  hosts: number;
  services: number;
  currentSeq: number;
  headSeq: number;
  trashedAt: number | null;
}

export interface RevisionRow {
  seq: number;
  parent: number | null;
  command: string;
  at: number;
  kind: 'full' | 'patch';
  bytes: number;
  /** The revision the lab is at now (undo/redo position). */
  current: boolean;
}

export interface SnapshotRow {
  name: string;
  seq: number;
  at: number;
}

export interface SaveResult {
  seq: number;
  /** False when the document equalled the current one and nothing was written. */
  changed: boolean;
  kind: 'full' | 'patch';
  bytes: number;
}

export interface LabRepoOptions {
  now?: () => number;
  /** Most patches between two full copies (bounds the work of rebuilding a revision). */
  maxChain?: number;
  /** Patch bytes always allowed before a new full copy, however small the document. */
  minChainBytes?: number;
}

interface DbLab {
  id: number; name: string; created_at: number; changed_at: number; size: number; nodes: number; hosts: number; services: number;
  current_seq: number; head_seq: number; trashed_at: number | null;
}
interface DbRev { seq: number; parent: number | null; command: string; at: number; kind: 'full' | 'patch'; bytes: number; base_seq: number; chain_len: number; chain_bytes: number }

const MAX_NAME = 253;
const CACHE_LABS = 4;

function toRow(r: DbLab): LabRow {
  return {
    id: r.id, name: r.name, createdAt: r.created_at, changedAt: r.changed_at, size: r.size, nodes: r.nodes, hosts: r.hosts, services: r.services,
    currentSeq: r.current_seq, headSeq: r.head_seq, trashedAt: r.trashed_at,
  };
}

function checkName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.trim() !== name || name.length === 0 || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new LabStoreError(`invalid lab name ${JSON.stringify(name)}: 1-${MAX_NAME} characters, no control characters or surrounding spaces`);
  }
  return name;
}

function counts(doc: LabDoc): { nodes: number; hosts: number; services: number } {
  return labCounts(doc);
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class LabRepo {
  private readonly now: () => number;
  private readonly maxChain: number;
  private readonly minChainBytes: number;
  /** Private parsed copies of recent current documents, so a save need not rebuild one. */
  private readonly cache = new Map<number, { seq: number; doc: Json }>();

  constructor(private readonly db: Database.Database, opts: LabRepoOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxChain = opts.maxChain ?? 2000;
    this.minChainBytes = opts.minChainBytes ?? 256 * 1024;
  }

  // ---- labs ----

  find(ref: LabRef, opts: { trashed?: boolean } = {}): LabRow {
    const r = (typeof ref === 'number'
      ? this.db.prepare('SELECT * FROM labs WHERE id = ?').get(ref)
      : this.db.prepare('SELECT * FROM labs WHERE name = ? AND trashed_at IS NULL').get(ref)) as DbLab | undefined;
    if (!r) throw new LabStoreError(`no lab ${typeof ref === 'number' ? `with id ${ref}` : JSON.stringify(ref)}`);
    if (r.trashed_at !== null && !opts.trashed) throw new LabStoreError(`lab ${JSON.stringify(r.name)} is in the trash`);
    return toRow(r);
  }

  createLab(name: string, doc: LabDoc, command = 'create'): LabRow {
    checkName(name);
    const text = JSON.stringify(doc);
    const bytes = Buffer.byteLength(text);
    const t = this.now();
    const c = counts(doc);
    const id = this.db.transaction(() => {
      let labId: number;
      try {
        labId = Number(this.db.prepare('INSERT INTO labs (name, created_at, changed_at, size, nodes, hosts, services, current_seq, head_seq) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1)')
          .run(name, t, t, bytes, c.nodes, c.hosts, c.services).lastInsertRowid);
      } catch (e) {
        if (isUniqueViolation(e)) throw new LabStoreError(`a lab named ${JSON.stringify(name)} already exists`);
        throw e;
      }
      this.db.prepare("INSERT INTO revisions (lab_id, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes) VALUES (?, 1, NULL, ?, ?, 'full', ?, ?, 1, 0, 0)")
        .run(labId, command, t, text, bytes);
      return labId;
    }).immediate();
    this.remember(id, 1, JSON.parse(text) as Json);
    return this.find(id);
  }

  /** Labs not in the trash (or only those in it), by name. */
  listLabs(opts: { trashed?: boolean } = {}): LabRow[] {
    const sql = `SELECT * FROM labs WHERE trashed_at IS ${opts.trashed ? 'NOT NULL' : 'NULL'} ORDER BY name, id`;
    return (this.db.prepare(sql).all() as DbLab[]).map(toRow);
  }

  renameLab(ref: LabRef, newName: string): LabRow {
    checkName(newName);
    const lab = this.find(ref);
    try {
      this.db.prepare('UPDATE labs SET name = ? WHERE id = ?').run(newName, lab.id);
    } catch (e) {
      if (isUniqueViolation(e)) throw new LabStoreError(`a lab named ${JSON.stringify(newName)} already exists`);
      throw e;
    }
    return this.find(lab.id);
  }

  /** A copy with the whole history, snapshots, traces, console history and layout. */
  duplicateLab(ref: LabRef, newName: string): LabRow {
    checkName(newName);
    const src = this.find(ref);
    const t = this.now();
    const id = this.db.transaction(() => {
      let id: number;
      try {
        id = Number(this.db.prepare(`INSERT INTO labs (name, created_at, changed_at, size, nodes, hosts, services, current_seq, head_seq)
          SELECT ?, ?, ?, size, nodes, hosts, services, current_seq, head_seq FROM labs WHERE id = ?`).run(newName, t, t, src.id).lastInsertRowid);
      } catch (e) {
        if (isUniqueViolation(e)) throw new LabStoreError(`a lab named ${JSON.stringify(newName)} already exists`);
        throw e;
      }
      this.db.prepare(`INSERT INTO revisions (lab_id, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes)
        SELECT ?, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes FROM revisions WHERE lab_id = ?`).run(id, src.id);
      this.db.prepare('INSERT INTO snapshots (lab_id, name, seq, at) SELECT ?, name, seq, at FROM snapshots WHERE lab_id = ?').run(id, src.id);
      this.db.prepare('INSERT INTO traces (lab_id, name, seed, body, at) SELECT ?, name, seed, body, at FROM traces WHERE lab_id = ?').run(id, src.id);
      this.db.prepare('INSERT INTO console_history (lab_id, host, seq, line, at) SELECT ?, host, seq, line, at FROM console_history WHERE lab_id = ?').run(id, src.id);
      this.db.prepare('INSERT INTO layouts (lab_id, body, at) SELECT ?, body, at FROM layouts WHERE lab_id = ?').run(id, src.id);
      return id;
    }).immediate();
    return this.find(id);
  }

  trashLab(ref: LabRef): LabRow {
    const lab = this.find(ref);
    this.db.prepare('UPDATE labs SET trashed_at = ? WHERE id = ?').run(this.now(), lab.id);
    this.cache.delete(lab.id);
    return this.find(lab.id, { trashed: true });
  }

  /** Takes a lab out of the trash (by id: several trashed labs may share a name). */
  restoreLab(id: number, newName?: string): LabRow {
    const lab = this.find(id, { trashed: true });
    if (lab.trashedAt === null) throw new LabStoreError(`lab ${JSON.stringify(lab.name)} is not in the trash`);
    const name = checkName(newName ?? lab.name);
    try {
      this.db.prepare('UPDATE labs SET trashed_at = NULL, name = ? WHERE id = ?').run(name, lab.id);
    } catch (e) {
      if (isUniqueViolation(e)) throw new LabStoreError(`a lab named ${JSON.stringify(name)} already exists; restore it under another name`);
      throw e;
    }
    return this.find(lab.id);
  }

  /** Deletes every lab in the trash for good; returns how many. */
  emptyTrash(): number {
    const n = this.db.prepare('DELETE FROM labs WHERE trashed_at IS NOT NULL').run().changes;
    this.cache.clear();
    return n;
  }

  // ---- documents and revisions ----

  /** The lab's current document (a fresh copy the caller may change). */
  getLab(ref: LabRef): LabDoc {
    const lab = this.find(ref);
    return structuredClone(this.current(lab)) as unknown as LabDoc;
  }

  /**
   * Records one change: `doc` becomes the lab's current document as a new revision made
   * from the current one (dropping nothing: an undone branch stays in the history).
   */
  saveChange(ref: LabRef, command: string, doc: LabDoc): SaveResult {
    // IMMEDIATE: the write lock is taken before reading the position, so another process
    // saving to the same lab cannot slip a revision in between.
    const { result, labId, next } = this.db.transaction(() => this.saveInTx(ref, command, doc)).immediate();
    // Only a committed revision is remembered; revisions never change and lab ids are never
    // reused (AUTOINCREMENT), so a (lab, seq) entry stays true even if another process writes.
    if (next) this.remember(labId, result.seq, next);
    return result;
  }

  private saveInTx(ref: LabRef, command: string, doc: LabDoc): { result: SaveResult; labId: number; next?: Json } {
    const lab = this.find(ref);
    const prev = this.current(lab);
    let ops: PatchOp[] = diff(prev, doc);
    const parent = this.rev(lab.id, lab.currentSeq);
    if (ops.length === 0) return { result: { seq: lab.currentSeq, changed: false, kind: parent.kind, bytes: 0 }, labId: lab.id };
    // From here the cached copy is being turned into the new document; forget it until commit.
    this.cache.delete(lab.id);
    let kind: 'full' | 'patch' = 'patch';
    let body = '';
    let next: Json | undefined;
    if (ops.length === 1 && ops[0].op === 'set' && ops[0].p.length === 0) kind = 'full';
    else {
      body = JSON.stringify(ops);
      const baseBytes = this.rev(lab.id, parent.base_seq).bytes;
      const chainBytes = parent.chain_bytes + Buffer.byteLength(body);
      if (parent.chain_len + 1 > this.maxChain || chainBytes > Math.max(this.minChainBytes, baseBytes / 2)) kind = 'full';
      else {
        ops = JSON.parse(body) as PatchOp[]; // private values, detached from the caller's doc
        next = applyPatch(prev, ops);
        // Belt and braces: a patch that would not rebuild the document exactly is not stored.
        if (!patchRebuilds(next, doc, ops)) kind = 'full';
      }
    }
    if (kind === 'full') {
      body = JSON.stringify(doc);
      next = JSON.parse(body) as Json;
    }
    const bytes = Buffer.byteLength(body);
    const seq = lab.headSeq + 1;
    const base = kind === 'full' ? seq : parent.base_seq;
    const chainLen = kind === 'full' ? 0 : parent.chain_len + 1;
    const chainBytes = kind === 'full' ? 0 : parent.chain_bytes + bytes;
    const t = this.now();
    const c = counts(doc);
    this.db.prepare('INSERT INTO revisions (lab_id, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(lab.id, seq, lab.currentSeq, command, t, kind, body, bytes, base, chainLen, chainBytes);
    this.db.prepare('UPDATE labs SET current_seq = ?, head_seq = ?, changed_at = ?, size = size + ?, nodes = ?, hosts = ?, services = ? WHERE id = ?')
      .run(seq, seq, t, bytes, c.nodes, c.hosts, c.services, lab.id);
    return { result: { seq, changed: true, kind, bytes }, labId: lab.id, next };
  }

  /** Every revision, oldest first, with the command that made it. */
  revisions(ref: LabRef): RevisionRow[] {
    const lab = this.find(ref, { trashed: true });
    const rows = this.db.prepare('SELECT seq, parent, command, at, kind, bytes FROM revisions WHERE lab_id = ? ORDER BY seq').all(lab.id) as DbRev[];
    return rows.map((r) => ({ seq: r.seq, parent: r.parent, command: r.command, at: r.at, kind: r.kind, bytes: r.bytes, current: r.seq === lab.currentSeq }));
  }

  /** The document exactly as it was at revision `seq`. */
  getRevision(ref: LabRef, seq: number): LabDoc {
    const lab = this.find(ref, { trashed: true });
    return this.rebuild(lab.id, seq) as unknown as LabDoc;
  }

  /** Moves to the revision before the current one; returns the new position, or null at the start. */
  undo(ref: LabRef): number | null {
    const lab = this.find(ref);
    const parent = this.rev(lab.id, lab.currentSeq).parent;
    if (parent === null) return null;
    this.moveTo(lab.id, parent);
    return parent;
  }

  /** Moves forward to the newest revision made from the current one; null when there is none. */
  redo(ref: LabRef): number | null {
    const lab = this.find(ref);
    const r = this.db.prepare('SELECT max(seq) AS seq FROM revisions WHERE lab_id = ? AND parent = ?').get(lab.id, lab.currentSeq) as { seq: number | null };
    if (r.seq === null) return null;
    this.moveTo(lab.id, r.seq);
    return r.seq;
  }

  /** Makes revision `seq` current again as a new change (so it can itself be undone). */
  restoreRevision(ref: LabRef, seq: number): SaveResult {
    const lab = this.find(ref);
    return this.saveChange(lab.id, `restore revision ${seq}`, this.rebuild(lab.id, seq) as unknown as LabDoc);
  }

  // ---- snapshots ----

  /** Names a revision (default: the current one). */
  snapshot(ref: LabRef, name: string, seq?: number): SnapshotRow {
    checkName(name);
    const lab = this.find(ref);
    const at = seq ?? lab.currentSeq;
    this.rev(lab.id, at);
    try {
      this.db.prepare('INSERT INTO snapshots (lab_id, name, seq, at) VALUES (?, ?, ?, ?)').run(lab.id, name, at, this.now());
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new LabStoreError(`lab ${JSON.stringify(lab.name)} already has a snapshot named ${JSON.stringify(name)}`);
      throw e;
    }
    return { name, seq: at, at: this.now() };
  }

  snapshots(ref: LabRef): SnapshotRow[] {
    const lab = this.find(ref, { trashed: true });
    return this.db.prepare('SELECT name, seq, at FROM snapshots WHERE lab_id = ? ORDER BY seq, name').all(lab.id) as SnapshotRow[];
  }

  getSnapshot(ref: LabRef, name: string): LabDoc {
    const lab = this.find(ref, { trashed: true });
    const r = this.db.prepare('SELECT seq FROM snapshots WHERE lab_id = ? AND name = ?').get(lab.id, name) as { seq: number } | undefined;
    if (!r) throw new LabStoreError(`lab ${JSON.stringify(lab.name)} has no snapshot named ${JSON.stringify(name)}`);
    return this.rebuild(lab.id, r.seq) as unknown as LabDoc;
  }

  // ---- internals ----

  private rev(labId: number, seq: number): DbRev {
    const r = this.db.prepare('SELECT seq, parent, command, at, kind, bytes, base_seq, chain_len, chain_bytes FROM revisions WHERE lab_id = ? AND seq = ?').get(labId, seq) as DbRev | undefined;
    if (!r) throw new LabStoreError(`lab ${labId} has no revision ${seq}`);
    return r;
  }

  /** Moves the undo/redo position; the counts follow the revision now current. */
  private moveTo(labId: number, seq: number): void {
    const doc = this.rebuild(labId, seq);
    const c = counts(doc as unknown as LabDoc);
    this.db.prepare('UPDATE labs SET current_seq = ?, changed_at = ?, nodes = ?, hosts = ?, services = ? WHERE id = ?').run(seq, this.now(), c.nodes, c.hosts, c.services, labId);
    this.remember(labId, seq, doc);
  }

  private remember(labId: number, seq: number, doc: Json): void {
    this.cache.delete(labId);
    this.cache.set(labId, { seq, doc });
    while (this.cache.size > CACHE_LABS) this.cache.delete(this.cache.keys().next().value as number);
  }

  /** The current document as a private copy held in the cache (never hand it out). */
  private current(lab: LabRow): Json {
    const hit = this.cache.get(lab.id);
    if (hit && hit.seq === lab.currentSeq) return hit.doc;
    const doc = this.rebuild(lab.id, lab.currentSeq);
    this.remember(lab.id, lab.currentSeq, doc);
    return doc;
  }

  /** Rebuilds a revision: its chain's full copy, then each patch along the parents. */
  private rebuild(labId: number, seq: number): Json {
    const chain = this.db.prepare(`
      WITH RECURSIVE chain(seq, parent, kind, body, depth) AS (
        SELECT seq, parent, kind, body, 0 FROM revisions WHERE lab_id = @lab AND seq = @seq
        UNION ALL
        SELECT r.seq, r.parent, r.kind, r.body, c.depth + 1 FROM revisions r JOIN chain c ON r.lab_id = @lab AND r.seq = c.parent
        WHERE c.kind = 'patch'
      ) SELECT kind, body FROM chain ORDER BY depth DESC`).all({ lab: labId, seq }) as { kind: string; body: string }[];
    if (chain.length === 0) throw new LabStoreError(`lab ${labId} has no revision ${seq}`);
    if (chain[0].kind !== 'full') throw new LabStoreError(`lab ${labId} revision ${seq}: history is broken (no full copy at the start of its chain)`);
    let doc = JSON.parse(chain[0].body) as Json;
    for (let i = 1; i < chain.length; i++) doc = applyPatch(doc, JSON.parse(chain[i].body) as PatchOp[]);
    return doc;
  }
}
