// Size and speed of history on a big lab: 10,000 Services' worth of journal text (one
// kube-proxy iptables-restore plus 10,000 single commands), then 1,000 small changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { Store } from '../../main/store/store.ts';
import { emptyLab, type LabDoc } from '../../shared/lab.ts';
import { kubeNatDump } from '../bench/gen-kube.ts';
import { tmpDbPath } from './tmp.ts';

function bigLab(): LabDoc {
  const doc = emptyLab('big');
  doc.hosts.push({ name: 'node1', listen: [], links: [] });
  doc.journal.push({ host: 'node1', argv: ['iptables-restore'], stdin: kubeNatDump(10_000).text });
  for (let i = 0; i < 10_000; i++) doc.journal.push({ host: 'node1', argv: ['ipset', 'add', 'KUBE-CLUSTER-IP', `10.96.${i >> 8}.${i & 255},tcp:80`] });
  return doc;
}

/** Database plus WAL: what the change really cost on disk (the WAL is checkpointed on close). */
function bytesOnDisk(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      // no WAL yet
    }
  }
  return n;
}

test('1,000 small changes to a 10,000-Service lab grow the database by under 5 MB; a save is fast', (t) => {
  const path = tmpDbPath(t);
  const s = Store.open(path);
  try {
    const doc = bigLab();
    const docBytes = Buffer.byteLength(JSON.stringify(doc));
    let t0 = performance.now();
    s.labs.createLab('big', doc);
    const createMs = performance.now() - t0;
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = bytesOnDisk(path);

    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      doc.journal.push({ host: 'node1', argv: ['iptables', '-A', 'INPUT', '-s', `192.168.${i >> 8}.${i & 255}`, '-j', 'ACCEPT'] });
      if (i % 10 === 0) doc.runtime = { clock: i, counters: { INPUT: i } };
      t0 = performance.now();
      const r = s.labs.saveChange('big', `iptables -A INPUT ... #${i}`, doc);
      times.push(performance.now() - t0);
      assert.equal(r.changed, true);
    }
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const after = bytesOnDisk(path);
    const growth = after - before;
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[500], p95 = sorted[950];
    t0 = performance.now();
    const reopened = s.labs.getLab('big');
    const loadMs = performance.now() - t0;
    assert.equal(JSON.stringify(reopened), JSON.stringify(doc));
    const fulls = s.labs.revisions('big').filter((r) => r.kind === 'full').length;

    // A cold save: a fresh connection has no cached document and must rebuild it first.
    const s2 = Store.open(path);
    doc.journal.push({ host: 'node1', argv: ['true'] });
    t0 = performance.now();
    s2.labs.saveChange('big', 'cold', doc);
    const coldMs = performance.now() - t0;
    s2.close();

    t.diagnostic(`lab document ${(docBytes / 1e6).toFixed(2)} MB (${doc.journal.length} journal entries); create ${createMs.toFixed(1)} ms`);
    t.diagnostic(`save one change (warm): median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${sorted[999].toFixed(2)} ms; cold save ${coldMs.toFixed(1)} ms; getLab ${loadMs.toFixed(1)} ms`);
    t.diagnostic(`growth after 1,000 changes: ${(growth / 1e6).toFixed(3)} MB (${fulls} full copies in history)`);
    assert.ok(growth < 5 * 1024 * 1024, `growth ${growth} bytes`);
    assert.equal(fulls, 1, 'small changes never rewrite the whole document');
  } finally {
    s.close();
  }
});
