// Temporary database paths for store tests, removed when the test ends.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export function tmpDbPath(t: TestContext, name = 'labs.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}
