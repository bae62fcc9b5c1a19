import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { LATEST_VERSION, MIGRATIONS, migrate, userVersion } from '../../main/store/migrations.ts';
import { APPLICATION_ID, openDatabase } from '../../main/store/db.ts';
import { emptyLab } from '../../shared/lab.ts';
import { Store } from '../../main/store/store.ts';
import { tmpDbPath } from './tmp.ts';

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

test('migrations are numbered 1..N without gaps', () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  assert.equal(LATEST_VERSION, MIGRATIONS.length);
});

test('an empty database opens at the latest version with every table, STRICT', (t) => {
  const path = tmpDbPath(t);
  const { db, report } = openDatabase(path);
  try {
    assert.equal(report.created, true);
    assert.equal(report.migratedFrom, 0);
    assert.equal(userVersion(db), LATEST_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    const have = tables(db);
    for (const m of MIGRATIONS) for (const name of m.tables) assert.ok(have.includes(name), `table ${name} of migration ${m.version}`);
    // STRICT: a wrong type is refused rather than stored.
    assert.throws(() => db.prepare("INSERT INTO settings (key, value) VALUES ('k', x'00')").run(), /cannot store BLOB/);
  } finally {
    db.close();
  }
});

for (const m of MIGRATIONS) {
  test(`migration ${m.version} (${m.what}): a database at version ${m.version - 1} is migrated, data kept`, (t) => {
    const path = tmpDbPath(t);
    {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma(`application_id = ${APPLICATION_ID}`);
      migrate(db, m.version - 1);
      assert.equal(userVersion(db), m.version - 1);
      for (const name of m.tables) assert.ok(!tables(db).includes(name), `${name} must not exist before migration ${m.version}`);
      // Data written at N-1 must survive the migration.
      if (m.version - 1 >= 1) {
        db.prepare("INSERT INTO labs (name, created_at, changed_at) VALUES ('old', 1, 1)").run();
        db.prepare("INSERT INTO settings (key, value) VALUES ('theme', '\"dark\"')").run();
      }
      db.close();
    }
    const { db, report } = openDatabase(path);
    try {
      assert.equal(report.migratedFrom, m.version - 1);
      assert.equal(report.created, false); // the file existed (ours, at version N-1)
      assert.equal(userVersion(db), LATEST_VERSION);
      for (const name of m.tables) assert.ok(tables(db).includes(name), `table ${name}`);
      if (m.version - 1 >= 1) {
        assert.deepEqual(db.prepare('SELECT name FROM labs').all(), [{ name: 'old' }]);
        assert.deepEqual(db.prepare('SELECT value FROM settings').all(), [{ value: '"dark"' }]);
      }
    } finally {
      db.close();
    }
  });
}

test('a failing migration leaves the database at the previous version', (t) => {
  const path = tmpDbPath(t);
  const db = new Database(path);
  try {
    migrate(db, 1);
    db.exec('CREATE TABLE traces (x INTEGER) STRICT'); // makes migration 2 fail half-way
    assert.throws(() => migrate(db), /already exists/);
    assert.equal(userVersion(db), 1);
    assert.ok(!tables(db).includes('console_history'), 'migration 2 rolled back as a whole');
  } finally {
    db.close();
  }
});

test('reopening a current database migrates nothing and keeps labs', (t) => {
  const path = tmpDbPath(t);
  const s1 = Store.open(path);
  s1.labs.createLab('a', emptyLab('a'));
  s1.close();
  const s2 = Store.open(path);
  try {
    assert.equal(s2.report.created, false);
    assert.equal(s2.report.migratedFrom, LATEST_VERSION);
    assert.deepEqual(s2.labs.listLabs().map((l) => l.name), ['a']);
  } finally {
    s2.close();
  }
});
