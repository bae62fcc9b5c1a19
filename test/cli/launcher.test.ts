// The kpl launcher runs a bundle of the CLI made again when a source is newer (bin/kpl.mjs,
// scripts/node-bundle.mjs): the bundle is the CLI, staleness follows the sources' times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
// @ts-expect-error: a plain ES module of the build scripts, without types
import { bundle, newestUnder, root, stale } from '../../scripts/node-bundle.mjs';

test('a bundle of the CLI runs as the CLI does, and is stale once a source is newer', async () => {
  // (inside the repository, two levels down as dist/cli is: its packages come from node_modules)
  mkdirSync(join(root, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(root, 'dist', 'test-bundle-'));
  try {
    const out = join(dir, 'kpl.mjs');
    assert.equal(stale(out, ['main']), true, 'a missing bundle is stale');
    await bundle('main/cli/kpl.ts', out);
    const mod = (await import(pathToFileURL(out).href)) as { runKpl: (a: string[], s: () => string, o: { stdout(s: string): void; stderr(s: string): void }) => number };
    let stdout = '';
    const code = mod.runKpl(['--help'], () => '', { stdout: (s) => (stdout += s), stderr: () => {} });
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: kpl COMMAND/);
    assert.equal(stale(out, ['main', 'shared']), false);
    // A source folder of this test's own with a file newer than the bundle makes it stale.
    const src = mkdtempSync(join(root, 'test-results-src-'));
    try {
      mkdirSync(join(src, 'x'));
      writeFileSync(join(src, 'x', 'f.ts'), '');
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(src, 'x', 'f.ts'), later, later);
      assert.ok(Math.abs(newestUnder([relative(root, src)]) - later.getTime()) < 1, 'the newest time is the file\'s (to the precision of a float of milliseconds)');
      assert.equal(stale(out, ['main', relative(root, src)]), true);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/kpl.mjs answers as the CLI, with its exit codes', () => {
  const bin = join(root, 'bin', 'kpl.mjs');
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: kpl COMMAND/);
  const bad = spawnSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no-such-command/);
});
