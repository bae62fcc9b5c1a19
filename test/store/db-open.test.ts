import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import { openDatabase, StoreForeignError, APPLICATION_ID } from '../../main/store/db.ts';
import { Store } from '../../main/store/store.ts';
import { emptyLab } from '../../shared/lab.ts';
import { tmpDbPath } from './tmp.ts';

const FIXED = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function siblings(path: string): string[] {
  return readdirSync(dirname(path)).filter((n) => n.startsWith(basename(path))).sort();
}

test('a file that is not SQLite is moved aside as <file>.corrupt-<timestamp> and reported', (t) => {
  const path = tmpDbPath(t);
  const junk = 'this is not a database\n'.repeat(100);
  writeFileSync(path, junk);
  const s = Store.open(path, { now: () => FIXED });
  try {
    const movedTo = `${path}.corrupt-2026-01-02T03-04-05-678Z`;
    assert.deepEqual(s.report.corrupt, { movedTo, reason: 'not an SQLite database (bad header)' });
    assert.equal(s.report.created, true);
    assert.equal(readFileSync(movedTo, 'utf8'), junk, 'the old file is kept byte for byte');
    s.labs.createLab('fresh', emptyLab('fresh'));
    assert.deepEqual(s.labs.listLabs().map((l) => l.name), ['fresh']);
  } finally {
    s.close();
  }
});

test('an SQLite file of ours with damaged pages fails quick_check and is set aside, never overwritten', (t) => {
  const path = tmpDbPath(t);
  const s1 = Store.open(path);
  for (let i = 0; i < 50; i++) s1.labs.createLab(`lab${i}`, { ...emptyLab(`lab${i}`), journal: [{ host: 'h', argv: ['echo', 'x'.repeat(2000)] }] });
  s1.close();
  const before = readFileSync(path);
  // Scribble over pages 3.. (the b-trees), keeping the header so it still looks like SQLite.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096 * 6, 0xa5), 0, 4096 * 6, 4096 * 2);
  closeSync(fd);
  const damaged = readFileSync(path);
  assert.notDeepEqual(damaged, before);
  // Make two reports in a row: the second backup must not clobber the first.
  const s2 = Store.open(path, { now: () => FIXED });
  try {
    assert.ok(s2.report.corrupt, 'reported');
    assert.match(s2.report.corrupt.reason, /quick_check|SQLITE_CORRUPT|SQLITE_NOTADB/);
    assert.deepEqual(readFileSync(s2.report.corrupt.movedTo), damaged);
    assert.deepEqual(s2.labs.listLabs(), []);
  } finally {
    s2.close();
  }
  writeFileSync(path, 'junk again');
  const s3 = Store.open(path, { now: () => FIXED });
  s3.close();
  assert.equal(s3.report.corrupt?.movedTo, `${path}.corrupt-2026-01-02T03-04-05-678Z-1`);
  assert.ok(existsSync(`${path}.corrupt-2026-01-02T03-04-05-678Z`));
});

test("another application's SQLite file (its own tables) is refused and left untouched", (t) => {
  const path = tmpDbPath(t);
  const other = new Database(path);
  other.exec("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO contacts (name) VALUES ('ada')");
  other.close();
  const before = readFileSync(path);
  const listing = siblings(path);
  assert.throws(() => Store.open(path), (e: unknown) => e instanceof StoreForeignError && /another application/.test((e as Error).message));
  assert.deepEqual(readFileSync(path), before, 'file bytes unchanged');
  assert.deepEqual(siblings(path), listing, 'nothing moved, nothing left beside it');
});

test('an SQLite file with a different application_id is refused untouched', (t) => {
  const path = tmpDbPath(t);
  const other = new Database(path);
  other.pragma('application_id = 1234');
  other.exec('CREATE TABLE t (x)');
  other.close();
  const before = readFileSync(path);
  assert.throws(() => openDatabase(path), /application_id 0x4d2/);
  assert.deepEqual(readFileSync(path), before);
});

test('a database of ours from a newer version is refused untouched', (t) => {
  const path = tmpDbPath(t);
  Store.open(path).close();
  const db = new Database(path);
  db.pragma('user_version = 99');
  db.close();
  const before = readFileSync(path);
  assert.throws(() => Store.open(path), /schema version 99 is newer/);
  assert.deepEqual(readFileSync(path), before);
});

test('an empty file (0 bytes) becomes a new store', (t) => {
  const path = tmpDbPath(t);
  writeFileSync(path, '');
  const s = Store.open(path);
  try {
    assert.equal(s.report.created, true);
    assert.equal(s.report.corrupt, undefined);
    assert.equal(s.db.pragma('application_id', { simple: true }), APPLICATION_ID);
  } finally {
    s.close();
  }
});
