// Crash safety, proven: a child applying a stream of changes is SIGKILLed at random moments
// (seeded, a bounded number of times); after each kill the database passes integrity_check and
// holds every change the child acknowledged, and the next child carries on from there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { LabService } from '../../main/service/lab-service.ts';
import { Rng } from '../../main/engine/random.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** Seeded numbers in [0, 1) (the engine's mulberry32). */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

/** Runs the child until it has acknowledged something, waits `delayMs` more, then SIGKILLs it. */
function runAndKill(db: string, delayMs: number): Promise<{ acked: number[]; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = /^ack (\d+)$/.exec(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m) acked.push(Number(m[1]));
      }
      if (acked.length && !timer) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      resolve({ acked, signal, stderr });
    });
  });
}

test('SIGKILL at random moments: the database stays whole and keeps every acknowledged change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'labs.db');
  const r = rng(20261126);
  const acked = new Set<number>();
  const KILLS = 6;
  for (let k = 0; k < KILLS; k++) {
    const res = await runAndKill(db, Math.floor(r() * 400));
    assert.equal(res.signal, 'SIGKILL', `child ${k} was not killed: ${res.stderr}`);
    assert.ok(res.acked.length > 0, `child ${k} acknowledged nothing: ${res.stderr}`);
    for (const i of res.acked) acked.add(i);

    const raw = new Database(db);
    try {
      assert.deepEqual(raw.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      assert.deepEqual(raw.pragma('foreign_key_check'), []);
    } finally {
      raw.close();
    }
    const svc = new LabService({ db });
    try {
      const doc = svc.doc('crash');
      const lans = new Set(doc.lans.map((l) => l.name));
      const comments = new Set(doc.journal.map((e) => e.argv[e.argv.indexOf('--comment') + 1]));
      for (const i of acked) assert.ok(i % 2 === 0 ? lans.has(`l${i}`) : comments.has(`c${i}`), `acknowledged change ${i} is missing after kill ${k}`);
      // Nothing beyond the last acknowledgement but at most the one in flight.
      const max = Math.max(...acked);
      assert.ok(doc.lans.length + doc.journal.length <= max + 2);
      // Every revision still rebuilds (history intact) and the lab loads.
      assert.equal(svc.history('crash').length, doc.lans.length + doc.journal.length + 2);
      svc.load('crash');
    } finally {
      svc.close();
    }
  }
  assert.ok(acked.size >= KILLS);
});
