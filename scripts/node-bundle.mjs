// One-file Node bundles of TypeScript entry points, made as the app's own Node bundles are
// (esbuild, plain output): the kpl command and `npm run bench` run the engine as it ships.
// Running the sources through tsx instead costs the engine's hot paths up to a third more:
// tsx compiles with esbuild's keepNames, which names every closure with a defineProperty call
// each time one is made.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time of the files in or under `dirs` (relative to the root). */
export function newestUnder(dirs) {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) {
    const p = join(root, d);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) walk(p);
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when `outfile` is missing or older than a file under `dirs`. */
export function stale(outfile, dirs) {
  return !existsSync(outfile) || statSync(outfile).mtimeMs < newestUnder(dirs);
}

/**
 * Bundles `entry` (relative to the root) into the ES module `outfile`, npm packages left to
 * node_modules, and (unless `matrixWorker` is false) the connectivity matrix's worker,
 * `matrix-worker.mjs`, beside it. Each file is written
 * whole and then renamed, so processes building at once never read half of one. Place
 * `outfile` two folders below the root: modules that find files next to their sources (the .kpl
 * schema) look two levels up from their own URL.
 */
export async function bundle(entry, outfile, { matrixWorker = true } = {}) {
  const esbuild = await import('esbuild');
  // (the connectivity matrix's worker threads run a bundle of their own, found beside this one)
  const worker = matrixWorker ? [write(esbuild, 'main/service/matrix-threads.ts', join(dirname(outfile), 'matrix-worker.mjs'))] : [];
  await Promise.all([write(esbuild, entry, outfile), ...worker]);
}

async function write(esbuild, entry, outfile) {
  const r = await esbuild.build({
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, r.outputFiles[0].contents);
  renameSync(tmp, outfile);
}
