// Opening the store's database file safely. A file that is not ours is never overwritten:
// a damaged one (not SQLite, or failing quick_check) is moved aside as
// `<file>.corrupt-<timestamp>` and reported, and a healthy SQLite file that belongs to another
// application (different application_id, or tables without our id) is refused untouched.

import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { LATEST_VERSION, migrate, userVersion } from './migrations.ts';

/** "KPL1": stamped in the SQLite header so we can tell our files from anyone else's. */
export const APPLICATION_ID = 0x4b504c31;

export class StoreForeignError extends Error {}

export interface OpenReport {
  path: string;
  /** The file did not exist (or was set aside) and a new database was made. */
  created: boolean;
  /** Schema version found on disk before migrating (0 for a new file). */
  migratedFrom: number;
  version: number;
  /** Set when a damaged file was moved aside; the caller must tell the user. */
  corrupt?: { movedTo: string; reason: string };
}

export interface OpenOptions {
  /** Milliseconds a writer waits for another connection's lock. */
  busyTimeoutMs?: number;
  /** For tests of the corrupt-file path: a fixed clock for the backup name. */
  now?: () => number;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

type Verdict = { kind: 'ours' | 'empty' } | { kind: 'corrupt'; reason: string } | { kind: 'foreign'; reason: string };

/** Looks at an existing file without changing it (only reads and quick_check). */
function inspect(path: string): Verdict {
  if (statSync(path).size === 0) return { kind: 'empty' };
  if (readHeader(path) !== SQLITE_MAGIC) return { kind: 'corrupt', reason: 'not an SQLite database (bad header)' };
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const check = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    const problems = check.map((r) => r.quick_check).filter((s) => s !== 'ok');
    if (problems.length) return { kind: 'corrupt', reason: `quick_check: ${problems.slice(0, 3).join('; ')}` };
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId === APPLICATION_ID) {
      const v = userVersion(db);
      if (v > LATEST_VERSION) return { kind: 'foreign', reason: `schema version ${v} is newer than this program supports (${LATEST_VERSION})` };
      return { kind: 'ours' };
    }
    if (appId !== 0) return { kind: 'foreign', reason: `application_id 0x${(appId >>> 0).toString(16)} is not Kube Packet Lab's` };
    const objects = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
    if (objects > 0 || userVersion(db) !== 0) return { kind: 'foreign', reason: 'an SQLite database of another application (it has tables but no Kube Packet Lab id)' };
    return { kind: 'empty' };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_IOERR')) return { kind: 'corrupt', reason: `${code}: ${(e as Error).message}` };
    throw e;
  } finally {
    db?.close();
  }
}

function setAside(path: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let movedTo = `${path}.corrupt-${stamp}`;
  for (let i = 1; existsSync(movedTo); i++) movedTo = `${path}.corrupt-${stamp}-${i}`;
  renameSync(path, movedTo);
  // The WAL and shared-memory files belong to the damaged database; keep them beside it.
  for (const side of ['-wal', '-shm']) if (existsSync(path + side)) renameSync(path + side, movedTo + side);
  return movedTo;
}

/**
 * Opens (creating if needed) the store database at `path` and migrates it to the latest
 * schema. Throws StoreForeignError for another application's file, leaving it untouched.
 */
export function openDatabase(path: string, opts: OpenOptions = {}): { db: Database.Database; report: OpenReport } {
  let corrupt: OpenReport['corrupt'];
  let created = !existsSync(path);
  if (!created) {
    const v = inspect(path);
    if (v.kind === 'foreign') throw new StoreForeignError(`${path}: ${v.reason}; refusing to use it (choose another file with --db or KPL_DB)`);
    if (v.kind === 'corrupt') {
      corrupt = { movedTo: setAside(path, (opts.now ?? Date.now)()), reason: v.reason };
      created = true;
    }
    if (v.kind === 'empty') created = true;
  }
  const db = new Database(path);
  try {
    // WAL: readers never block the writer and a commit is one sequential append.
    db.pragma('journal_mode = WAL');
    // FULL: each commit fsyncs the WAL, so an acknowledged change survives a power cut, not
    // only a process crash (NORMAL may lose the last commits on power loss). Changes are
    // human-paced, so one fsync per change is affordable.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    const from = userVersion(db);
    if (from === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    migrate(db);
    return { db, report: { path, created, migratedFrom: from, version: userVersion(db), ...(corrupt ? { corrupt } : {}) } };
  } catch (e) {
    db.close();
    throw e;
  }
}
