#!/usr/bin/env node
// npm run build: bundles the app with esbuild.
//   dist/renderer/  index.html, app.js, app.css   (the renderer, browser code only)
//   dist/electron/  main.cjs, preload.cjs, worker.cjs (Electron main, sandboxed preload, service worker)
//   dist/web/       server.mjs                    (browser mode: HTTP + WebSocket on 127.0.0.1)
// `build()` is exported so tests can build in-process. Native and runtime packages stay external
// (better-sqlite3, electron, ws and the rest of node_modules for the Node-side bundles).

import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function build({ quiet = false, only } = {}) {
  const t0 = performance.now();
  const out = join(root, 'dist');
  const common = { bundle: true, logLevel: quiet ? 'silent' : 'warning', absWorkingDir: root, legalComments: 'none' };
  const jobs = [];
  if (!only || only.includes('renderer')) {
    mkdirSync(join(out, 'renderer'), { recursive: true });
    jobs.push(
      esbuild.build({
        ...common,
        entryPoints: { app: 'renderer/main.ts' },
        outdir: join(out, 'renderer'),
        platform: 'browser',
        format: 'iife',
        target: 'chrome120',
        minify: process.env.KPL_NO_MINIFY ? false : true,
        sourcemap: false,
        loader: { '.css': 'css' },
        metafile: true,
      }),
      esbuild.build({
        ...common,
        entryPoints: { app: 'renderer/styles.css' },
        outdir: join(out, 'renderer'),
        minify: true,
      }),
    );
    copyFileSync(join(root, 'renderer', 'index.html'), join(out, 'renderer', 'index.html'));
    copyFileSync(join(root, 'build', 'icons', 'icon.svg'), join(out, 'renderer', 'icon.svg'));
  }
  if (!only || only.includes('electron')) {
    // CommonJS has no import.meta: files the service reads next to its sources (the .kpl JSON
    // Schema) are found from the bundle's own path, which sits two levels below the root too.
    const node = {
      ...common, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outdir: join(out, 'electron'),
      define: { 'import.meta.url': '__kplModuleUrl' },
      banner: { js: "const __kplModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    };
    jobs.push(
      esbuild.build({ ...node, entryPoints: { main: 'main/electron/main.ts' }, outExtension: { '.js': '.cjs' } }),
      // The sandboxed preload may only require('electron'): everything else is bundled in.
      esbuild.build({ ...common, platform: 'node', target: 'node20', format: 'cjs', external: ['electron'], entryPoints: { preload: 'main/electron/preload.ts' }, outdir: join(out, 'electron'), outExtension: { '.js': '.cjs' } }),
      esbuild.build({ ...node, entryPoints: { worker: 'main/electron/worker.ts' }, outExtension: { '.js': '.cjs' } }),
    );
  }
  if (!only || only.includes('web')) {
    jobs.push(
      esbuild.build({
        ...common,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // One file (only the native module outside): resolving and loading dozens of packages'
        // files costs more at start than parsing one bundle. CommonJS dependencies get a require.
        external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
        minify: true,
        banner: { js: "import { createRequire as __kplCreateRequire } from 'node:module'; const require = __kplCreateRequire(import.meta.url);" },
        entryPoints: { server: 'main/web/main.ts' },
        outdir: join(out, 'web'),
        outExtension: { '.js': '.mjs' },
      }),
    );
  }
  const results = await Promise.all(jobs);
  const stamp = { builtAt: new Date().toISOString(), ms: Math.round(performance.now() - t0) };
  writeFileSync(join(out, 'build.json'), JSON.stringify(stamp) + '\n');
  const meta = results[0]?.metafile;
  return { ms: stamp.ms, rendererBytes: meta ? readFileSync(join(out, 'renderer', 'app.js')).length : undefined };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await build();
  console.log(`built dist/ in ${r.ms} ms${r.rendererBytes ? ` (renderer ${(r.rendererBytes / 1024).toFixed(0)} KiB)` : ''}`);
}
