// Numbered schema migrations driven by `PRAGMA user_version`. Migration N moves a database
// from version N-1 to N; each runs in one transaction together with the user_version bump, so
// a crash leaves the database at N-1 or N, never in between. Append new migrations; never edit
// a shipped one. Tables are STRICT so a wrong type is an error, not silently stored.

import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  /** What the migration adds, for messages and tests. */
  what: string;
  /** Tables this migration creates (tests check they exist). */
  tables: string[];
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'labs, revisions, snapshots, settings',
    tables: ['meta', 'labs', 'revisions', 'snapshots', 'settings'],
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE labs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: caches key on (id, revision)
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        changed_at INTEGER NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,      -- bytes of revision bodies stored for this lab
        nodes INTEGER NOT NULL DEFAULT 0,
        services INTEGER NOT NULL DEFAULT 0,
        current_seq INTEGER NOT NULL DEFAULT 0, -- the undo/redo position
        head_seq INTEGER NOT NULL DEFAULT 0,    -- highest revision number
        trashed_at INTEGER
      ) STRICT;
      -- Names are unique among labs that are not in the trash.
      CREATE UNIQUE INDEX labs_live_name ON labs(name) WHERE trashed_at IS NULL;
      CREATE TABLE revisions (
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        parent INTEGER,               -- revision this one was made from (NULL: the first)
        command TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('full', 'patch')),
        body TEXT NOT NULL,           -- the document (full) or a patch against parent
        bytes INTEGER NOT NULL,       -- UTF-8 length of body
        base_seq INTEGER NOT NULL,    -- the full revision this one's chain starts from
        chain_len INTEGER NOT NULL,   -- patches between base_seq and here
        chain_bytes INTEGER NOT NULL, -- bytes of those patches
        PRIMARY KEY (lab_id, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX revisions_parent ON revisions(lab_id, parent);
      CREATE TABLE snapshots (
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (lab_id, name),
        FOREIGN KEY (lab_id, seq) REFERENCES revisions(lab_id, seq) ON DELETE CASCADE
      ) STRICT;
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    `,
  },
  {
    version: 2,
    what: 'saved traces, console history, editor layout',
    tables: ['traces', 'console_history', 'layouts'],
    sql: `
      CREATE TABLE traces (
        id INTEGER PRIMARY KEY,
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        seed INTEGER NOT NULL,
        body TEXT NOT NULL,           -- the trace report JSON (all step records)
        at INTEGER NOT NULL,
        UNIQUE (lab_id, name)
      ) STRICT;
      CREATE TABLE console_history (
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        seq INTEGER NOT NULL,
        line TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (lab_id, host, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE layouts (
        lab_id INTEGER PRIMARY KEY REFERENCES labs(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    what: 'host count per lab (nodes now also counts a cluster\'s nodes)',
    tables: [],
    sql: `
      ALTER TABLE labs ADD COLUMN hosts INTEGER NOT NULL DEFAULT 0;
      -- Until now nodes counted the hosts (no lab had a cluster yet).
      UPDATE labs SET hosts = nodes;
    `,
  },
  {
    version: 4,
    what: 'revisions as a rowid table with the body as the last column',
    tables: [],
    // A WITHOUT ROWID table keeps whole rows in its key b-tree, and a lab's full copies are
    // megabytes: every lookup by (lab, seq) then cost milliseconds (measured: 8 ms with one
    // 4.5 MB revision), and columns after a big body could only be read by walking it. Rebuilt
    // as a rowid table (the key is an index) with the body last. Snapshots reference revisions
    // (ON DELETE CASCADE), so they are set aside while the old table is dropped, and put back.
    sql: `
      CREATE TABLE snapshots_keep AS SELECT lab_id, name, seq, at FROM snapshots;
      DROP TABLE snapshots;
      CREATE TABLE revisions_new (
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        parent INTEGER,
        command TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('full', 'patch')),
        bytes INTEGER NOT NULL,
        base_seq INTEGER NOT NULL,
        chain_len INTEGER NOT NULL,
        chain_bytes INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (lab_id, seq)
      ) STRICT;
      INSERT INTO revisions_new (lab_id, seq, parent, command, at, kind, bytes, base_seq, chain_len, chain_bytes, body)
        SELECT lab_id, seq, parent, command, at, kind, bytes, base_seq, chain_len, chain_bytes, body FROM revisions;
      DROP TABLE revisions;
      ALTER TABLE revisions_new RENAME TO revisions;
      CREATE INDEX revisions_parent ON revisions(lab_id, parent);
      CREATE TABLE snapshots (
        lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (lab_id, name),
        FOREIGN KEY (lab_id, seq) REFERENCES revisions(lab_id, seq) ON DELETE CASCADE
      ) STRICT;
      INSERT INTO snapshots (lab_id, name, seq, at) SELECT lab_id, name, seq, at FROM snapshots_keep;
      DROP TABLE snapshots_keep;
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to `target` (default: the latest). Returns the version it started
 * from. A database newer than this code knows is refused rather than touched.
 */
export function migrate(db: Database.Database, target = LATEST_VERSION): number {
  const from = userVersion(db);
  if (from > LATEST_VERSION) throw new Error(`database schema version ${from} is newer than this program supports (${LATEST_VERSION})`);
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      // user_version takes no bound parameters; the value is our own integer.
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return from;
}
