// What the example tests share: a service on a database of its own (removed after the test),
// optionally holding an example as lab "lab", and a walkthrough step found by its title.

import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabService } from '../../main/service/lab-service.ts';
import type { ProxyLayout } from '../../shared/cluster.ts';

export function service(t: TestContext, example?: string, layout?: ProxyLayout): LabService {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-example-'));
  const svc = new LabService({ db: join(dir, 'labs.db') });
  t.after(() => {
    svc.close();
    rmSync(dir, { recursive: true, force: true });
  });
  if (example) svc.createExample(example, 'lab', layout ? { proxy: layout } : {});
  return svc;
}

/** The index of lab "lab"'s walkthrough step whose title is `title` (or starts with it, with `prefix`). */
export function stepIndex(svc: LabService, title: string, prefix = false): number {
  const i = svc.doc('lab').walkthrough!.steps.findIndex((s) => (prefix ? s.title.startsWith(title) : s.title === title));
  assert.ok(i >= 0, `no step "${title}"${prefix ? '…' : ''}`);
  return i;
}
