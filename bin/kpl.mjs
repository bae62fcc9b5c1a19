#!/usr/bin/env node
// The kpl command. It runs a one-file bundle of the CLI (dist/cli/kpl.mjs), made again whenever
// a source under main/ or shared/ is newer; without esbuild (a production install) it runs the
// TypeScript sources through tsx's loader instead.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle, root, stale } from '../scripts/node-bundle.mjs';

async function cli() {
  const out = join(root, 'dist', 'cli', 'kpl.mjs');
  try {
    const worker = join(root, 'dist', 'cli', 'matrix-worker.mjs');
    if (stale(out, ['main', 'shared', 'scripts/node-bundle.mjs']) || stale(worker, [])) await bundle('main/cli/kpl.ts', out);
    return await import(pathToFileURL(out).href);
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes("'esbuild'")) throw e;
    const { register } = await import('tsx/esm/api');
    register();
    return import('../main/cli/kpl.ts');
  }
}

const { runKpl, readStdin } = await cli();
let stdinText;
const code = runKpl(process.argv.slice(2), () => (stdinText ??= readStdin()), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
