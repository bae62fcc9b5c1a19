#!/usr/bin/env node
// `npm run bench [-- TABLE...] [--tsx]`: the speed tables, each printed by a script of test/bench
// run in a process of its own (its own heap and JIT: a table's memory row and timings do not
// depend on what ran before it). Tables: core (issue 2), store (5), app (6), debugger (7),
// cluster (3), policy (4); all of them, in that order, when none is named.
//
// Each table runs as a one-file bundle of its script (dist/bench/TABLE.mjs), made as the app's
// Node bundles are, so the engine is measured as it ships. `--tsx` runs the TypeScript sources
// through tsx instead (slower on closure-heavy paths: see scripts/node-bundle.mjs).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle, root } from './node-bundle.mjs';

const TABLES = ['core', 'store', 'app', 'debugger', 'cluster', 'policy'];
const args = process.argv.slice(2);
const viaTsx = args.includes('--tsx');
const unknown = args.filter((a) => a !== '--tsx' && !TABLES.includes(a));
if (unknown.length) {
  process.stderr.write(`bench: unknown table or option ${unknown.join(' ')} (tables: ${TABLES.join(', ')}; option: --tsx)\n`);
  process.exit(2);
}
const named = args.filter((a) => TABLES.includes(a));
let failed = false;
for (const table of named.length ? named : TABLES) {
  const source = join('test', 'bench', `${table}.ts`);
  let argv;
  if (viaTsx) argv = ['--expose-gc', '--import', 'tsx', join(root, source)];
  else {
    const out = join(root, 'dist', 'bench', `${table}.mjs`);
    // (only the policy table runs a matrix, and so needs the matrix's worker bundle)
    await bundle(source, out, { matrixWorker: table === 'policy' });
    argv = ['--expose-gc', out];
  }
  const r = spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    process.stderr.write(`bench: the ${table} table failed (${r.status ?? r.signal})\n`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
