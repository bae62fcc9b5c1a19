import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { APPLICATION_ID } from '../../main/store/db.ts';
import { migrate } from '../../main/store/migrations.ts';
import { Store } from '../../main/store/store.ts';
import { emptyLab } from '../../shared/lab.ts';
import { tmpDbPath } from './tmp.ts';

test('migration 4 rebuilds revisions with the body last, keeping revisions and snapshots', (t) => {
  const p = tmpDbPath(t);
  const db = new Database(p);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(db, 3);
  db.prepare("INSERT INTO labs (name, created_at, changed_at, current_seq, head_seq) VALUES ('a', 1, 1, 2, 2)").run();
  db.prepare("INSERT INTO revisions (lab_id, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes) VALUES (1, 1, NULL, 'new', 1, 'full', ?, 3, 1, 0, 0)").run(JSON.stringify(emptyLab('a')));
  db.prepare(`INSERT INTO revisions (lab_id, seq, parent, command, at, kind, body, bytes, base_seq, chain_len, chain_bytes) VALUES (1, 2, 1, 'lan', 2, 'patch', ?, 2, 1, 1, 2)`)
    .run(JSON.stringify([{ op: 'splice', p: ['lans'], i: 0, n: 0, v: [{ name: 'l' }] }]));
  db.prepare("INSERT INTO snapshots (lab_id, name, seq, at) VALUES (1, 's', 2, 5)").run();
  db.close();
  const s = Store.open(p);
  t.after(() => s.close());
  assert.equal(s.report.migratedFrom, 3);
  assert.deepEqual(s.labs.snapshots('a'), [{ name: 's', seq: 2, at: 5 }]);
  assert.deepEqual(s.labs.getSnapshot('a', 's').lans, [{ name: 'l' }]);
  assert.deepEqual(s.labs.revisions('a').map((r) => r.command), ['new', 'lan']);
  const cols = (s.db.prepare('SELECT name FROM pragma_table_info(?)').all('revisions') as { name: string }[]).map((c) => c.name);
  assert.equal(cols.at(-1), 'body');
  assert.deepEqual(s.db.pragma('foreign_key_check'), []);
  assert.deepEqual(s.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  // the cascade still works: deleting the lab removes its revisions and snapshots
  s.labs.trashLab('a');
  s.labs.emptyTrash();
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 0);
  assert.equal((s.db.prepare('SELECT count(*) AS n FROM revisions').get() as { n: number }).n, 0);
});
