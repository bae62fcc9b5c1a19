import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../main/store/store.ts';
import { LabStoreError } from '../../main/store/labs.ts';
import { emptyLab, type LabDoc } from '../../shared/lab.ts';
import { randomEdit, rng } from './random-lab.ts';
import { tmpDbPath } from './tmp.ts';

function withHost(doc: LabDoc, name: string): LabDoc {
  return { ...doc, hosts: [...doc.hosts, { name, listen: [], links: [] }] };
}

function clock(): () => number {
  let t = 1_700_000_000_000;
  return () => (t += 1000);
}

test('create, save and get round-trip; listLabs shows counts and last change', (t) => {
  const path = tmpDbPath(t);
  const s = Store.open(path, { now: clock() });
  try {
    const doc0 = emptyLab('web');
    const row = s.labs.createLab('web', doc0);
    assert.equal(row.currentSeq, 1);
    assert.deepEqual(s.labs.getLab('web'), doc0);
    const doc1 = withHost(withHost(doc0, 'a'), 'b');
    const r = s.labs.saveChange('web', 'host add a b', doc1);
    assert.deepEqual(r, { seq: 2, changed: true, kind: 'patch', bytes: r.bytes });
    assert.deepEqual(s.labs.getLab(row.id), doc1);
    // Saving the same document again records nothing.
    assert.equal(s.labs.saveChange('web', 'noop', doc1).changed, false);
    // services are counted when the document carries them.
    s.labs.saveChange('web', 'svc', { ...doc1, services: [{}, {}, {}] } as unknown as LabDoc);
    const [l] = s.labs.listLabs();
    assert.equal(l.name, 'web');
    assert.equal(l.nodes, 2);
    assert.equal(l.services, 3);
    assert.ok(l.changedAt > l.createdAt);
    assert.ok(l.size > 0);
    // The returned document is the caller's to change: it must not leak into the store.
    const got = s.labs.getLab('web');
    got.hosts.length = 0;
    assert.equal(s.labs.getLab('web').hosts.length, 2);
  } finally {
    s.close();
  }
  const s2 = Store.open(path);
  try {
    assert.equal(s2.labs.getLab('web').hosts.length, 2);
    assert.deepEqual(s2.labs.revisions('web').map((r) => [r.seq, r.command, r.current]), [[1, 'create', false], [2, 'host add a b', false], [3, 'svc', true]]);
  } finally {
    s2.close();
  }
});

test('a caller mutating its document after saving does not corrupt the next diff', (t) => {
  const s = Store.open(tmpDbPath(t));
  try {
    const doc = emptyLab('m');
    s.labs.createLab('m', doc);
    doc.hosts.push({ name: 'a', listen: [], links: [] });
    s.labs.saveChange('m', 'add a', doc);
    doc.hosts.push({ name: 'b', listen: [], links: [] }); // same object, changed again
    s.labs.saveChange('m', 'add b', doc);
    assert.deepEqual(s.labs.getRevision('m', 2).hosts.map((h) => h.name), ['a']);
    assert.deepEqual(s.labs.getRevision('m', 3).hosts.map((h) => h.name), ['a', 'b']);
  } finally {
    s.close();
  }
});

test('undo and redo survive a close and reopen; a change after undo branches', (t) => {
  const path = tmpDbPath(t);
  const d1 = emptyLab('u');
  const d2 = withHost(d1, 'a');
  const d3 = withHost(d2, 'b');
  let s = Store.open(path);
  s.labs.createLab('u', d1);
  s.labs.saveChange('u', 'add a', d2);
  s.labs.saveChange('u', 'add b', d3);
  assert.equal(s.labs.undo('u'), 2);
  s.close();

  s = Store.open(path);
  assert.deepEqual(s.labs.getLab('u'), d2, 'undo position kept across restart');
  assert.equal(s.labs.undo('u'), 1);
  assert.equal(s.labs.undo('u'), null, 'nothing before the first revision');
  s.close();

  s = Store.open(path);
  assert.deepEqual(s.labs.getLab('u'), d1);
  assert.equal(s.labs.redo('u'), 2);
  s.close();

  s = Store.open(path);
  try {
    assert.equal(s.labs.redo('u'), 3);
    assert.deepEqual(s.labs.getLab('u'), d3);
    assert.equal(s.labs.redo('u'), null);
    // Undo twice, then a new change: it is made from revision 1 and redo has nowhere to go.
    s.labs.undo('u');
    s.labs.undo('u');
    const dx = withHost(d1, 'x');
    const r = s.labs.saveChange('u', 'add x', dx);
    assert.equal(r.seq, 4);
    assert.deepEqual(s.labs.getLab('u'), dx);
    assert.equal(s.labs.redo('u'), null);
    assert.equal(s.labs.undo('u'), 1);
    assert.equal(s.labs.redo('u'), 4, 'redo goes to the newest branch');
    // The undone branch is still in the history, exactly.
    assert.deepEqual(s.labs.getRevision('u', 3), d3);
    assert.deepEqual(s.labs.revisions('u').map((x) => [x.seq, x.parent]), [[1, null], [2, 1], [3, 2], [4, 1]]);
    // Restoring an old revision is itself a change that can be undone.
    const back = s.labs.restoreRevision('u', 3);
    assert.deepEqual(s.labs.getLab('u'), d3);
    assert.equal(s.labs.revisions('u').at(-1)?.command, 'restore revision 3');
    assert.equal(s.labs.undo('u'), 4);
    assert.equal(back.seq, 5);
  } finally {
    s.close();
  }
});

test('snapshots name revisions and come back exactly', (t) => {
  const s = Store.open(tmpDbPath(t));
  try {
    const d1 = emptyLab('s');
    s.labs.createLab('s', d1);
    s.labs.snapshot('s', 'empty');
    const d2 = withHost(d1, 'a');
    s.labs.saveChange('s', 'add a', d2);
    s.labs.snapshot('s', 'one host');
    s.labs.saveChange('s', 'add b', withHost(d2, 'b'));
    assert.throws(() => s.labs.snapshot('s', 'empty'), /already has a snapshot/);
    assert.deepEqual(s.labs.snapshots('s').map((x) => [x.name, x.seq]), [['empty', 1], ['one host', 2]]);
    assert.deepEqual(s.labs.getSnapshot('s', 'empty'), d1);
    assert.deepEqual(s.labs.getSnapshot('s', 'one host'), d2);
    assert.throws(() => s.labs.getSnapshot('s', 'nope'), LabStoreError);
  } finally {
    s.close();
  }
});

test('rename, duplicate, trash, restore and empty the trash', (t) => {
  const s = Store.open(tmpDbPath(t));
  try {
    const d = withHost(emptyLab('a'), 'h');
    s.labs.createLab('a', emptyLab('a'));
    s.labs.saveChange('a', 'add h', d);
    s.labs.createLab('b', emptyLab('b'));
    assert.throws(() => s.labs.createLab('a', emptyLab('a')), /already exists/);
    assert.throws(() => s.labs.renameLab('a', 'b'), /already exists/);
    assert.throws(() => s.labs.createLab(' bad', emptyLab('x')), /invalid lab name/);
    s.labs.renameLab('a', 'alpha');
    assert.throws(() => s.labs.getLab('a'), /no lab "a"/);
    assert.deepEqual(s.labs.getLab('alpha'), d);

    s.layouts.set(s.labs.find('alpha').id, { zoom: 2 });
    s.traces.save(s.labs.find('alpha').id, 't1', 42, { steps: [1, 2] });
    const copy = s.labs.duplicateLab('alpha', 'alpha-copy');
    assert.deepEqual(s.labs.getLab('alpha-copy'), d);
    assert.equal(s.labs.revisions('alpha-copy').length, 2, 'history comes along');
    assert.equal(s.labs.undo('alpha-copy'), 1);
    assert.deepEqual(s.labs.getLab('alpha'), d, 'the original is independent');
    assert.deepEqual(s.layouts.get(copy.id), { zoom: 2 });
    assert.deepEqual(s.traces.get(copy.id, 't1'), { seed: 42, report: { steps: [1, 2] } });

    const trashed = s.labs.trashLab('alpha');
    assert.ok(trashed.trashedAt !== null);
    assert.deepEqual(s.labs.listLabs().map((l) => l.name), ['alpha-copy', 'b']);
    assert.deepEqual(s.labs.listLabs({ trashed: true }).map((l) => l.name), ['alpha']);
    assert.throws(() => s.labs.saveChange(trashed.id, 'x', d), /in the trash/);
    // The name is free again while the old lab sits in the trash.
    s.labs.createLab('alpha', emptyLab('alpha'));
    assert.throws(() => s.labs.restoreLab(trashed.id), /already exists; restore it under another name/);
    s.labs.restoreLab(trashed.id, 'alpha-old');
    assert.deepEqual(s.labs.getLab('alpha-old'), d);

    s.labs.trashLab('b');
    s.labs.trashLab('alpha-copy');
    assert.equal(s.labs.emptyTrash(), 2);
    assert.deepEqual(s.labs.listLabs({ trashed: true }), []);
    assert.deepEqual(s.labs.listLabs().map((l) => l.name), ['alpha', 'alpha-old']);
    // Everything that belonged to the deleted labs went with them.
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM revisions WHERE lab_id = ?').get(copy.id) as { n: number }).n, 0);
    assert.equal(s.layouts.get(copy.id), undefined);
    assert.equal(s.traces.list(copy.id).length, 0);
  } finally {
    s.close();
  }
});

test('every one of 200 random changes is rebuilt exactly, also after reopening', (t) => {
  const path = tmpDbPath(t);
  // Small chain limits so the test crosses many full copies as well as long patch chains.
  let s = Store.open(path, { maxChain: 17, minChainBytes: 2048 });
  const r = rng(12345);
  const docs: string[] = [];
  let doc = emptyLab('rnd');
  s.labs.createLab('rnd', doc);
  docs[1] = JSON.stringify(doc);
  const kinds = new Set<string>();
  for (let i = 0; i < 200; i++) {
    doc = randomEdit(doc, r);
    const res = s.labs.saveChange('rnd', `edit ${i}`, doc);
    kinds.add(res.kind);
    docs[res.seq] = JSON.stringify(doc);
    // Now and then undo a step, so the history has branches too.
    if (r() < 0.1) {
      const back = s.labs.undo('rnd');
      assert.ok(back !== null);
      doc = JSON.parse(docs[back]) as LabDoc;
    }
  }
  assert.deepEqual([...kinds].sort(), ['full', 'patch']);
  s.close();
  s = Store.open(path);
  try {
    const revs = s.labs.revisions('rnd');
    assert.equal(revs.length, docs.filter(Boolean).length);
    for (const rev of revs) assert.equal(JSON.stringify(s.labs.getRevision('rnd', rev.seq)), docs[rev.seq], `revision ${rev.seq}`);
    assert.equal(JSON.stringify(s.labs.getLab('rnd')), JSON.stringify(doc));
  } finally {
    s.close();
  }
});

test('a second connection sees committed changes and cannot interleave a revision', (t) => {
  const path = tmpDbPath(t);
  const a = Store.open(path);
  const b = Store.open(path);
  try {
    const d = emptyLab('c');
    a.labs.createLab('c', d);
    b.labs.saveChange('c', 'b adds', withHost(d, 'fromB'));
    // a's cache holds revision 1; it must notice the lab moved on and diff against revision 2.
    a.labs.saveChange('c', 'a adds', withHost(withHost(d, 'fromB'), 'fromA'));
    assert.deepEqual(b.labs.getLab('c').hosts.map((h) => h.name), ['fromB', 'fromA']);
    assert.deepEqual(b.labs.revisions('c').map((x) => x.parent), [null, 1, 2]);
  } finally {
    a.close();
    b.close();
  }
});
