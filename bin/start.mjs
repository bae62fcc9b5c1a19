#!/usr/bin/env node
// `npm start`: builds the app if dist/ is missing or older than the sources, then opens it in
// Electron; when Electron cannot start (no binary, no display, ...) it falls back at once to
// browser mode and prints the URL. Never waits more than ELECTRON_TIMEOUT_MS on Electron.
//
//   npm start [-- --browser] [--port N] [--db PATH]
//
// --browser forces browser mode; --port picks its port (default: a free one); --db (or KPL_DB)
// picks the database the kpl command line uses too.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ELECTRON_TIMEOUT_MS = 10_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const say = (s) => process.stderr.write(`Kube Packet Lab: ${s}\n`);

function usage(code) {
  process.stderr.write('usage: npm start [-- --browser] [--port N] [--db PATH]\n');
  process.exit(code);
}
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--help' || a === '-h') usage(0);
  if (a === '--port' || a === '--db') {
    if (argv[i + 1] === undefined) usage(2);
    i++;
  } else if (a !== '--browser' && !a.startsWith('--port=') && !a.startsWith('--db=')) {
    say(`unknown option ${a}`);
    usage(2);
  }
}
const forceBrowser = argv.includes('--browser');
const dbIndex = argv.indexOf('--db');
const db = dbIndex >= 0 ? argv[dbIndex + 1] : argv.find((a) => a.startsWith('--db='))?.slice(5);
if (db) process.env.KPL_DB = db;

/** Newest modification time under the folders the bundles are made from. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules') continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.mtimeMs > newest) newest = st.mtimeMs;
    }
  };
  for (const d of ['renderer', 'shared', 'main', 'scripts', join('build', 'icons')]) if (existsSync(join(root, d))) walk(join(root, d));
  return newest;
}

async function ensureBuilt() {
  const stamp = join(root, 'dist', 'build.json');
  const needed = ['dist/renderer/index.html', 'dist/renderer/app.js', 'dist/web/server.mjs', 'dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/electron/worker.cjs'];
  const fresh = existsSync(stamp) && needed.every((f) => existsSync(join(root, f))) && statSync(stamp).mtimeMs >= newestSource();
  if (fresh) return;
  say('building the app (npm run build)...');
  const { build } = await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href);
  const r = await build({ quiet: true });
  say(`built in ${r.ms} ms`);
}

/** Resolves to null when Electron is up (and then waits for it to quit), or to the reason it could not start. */
function tryElectron() {
  return new Promise((resolve) => {
    let bin;
    const require = createRequire(import.meta.url);
    let pkgDir;
    try {
      pkgDir = dirname(require.resolve('electron/package.json'));
    } catch {
      resolve('the electron package is not installed');
      return;
    }
    const pathFile = join(pkgDir, 'path.txt');
    if (existsSync(pathFile) && existsSync(join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim()))) {
      bin = [join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim())];
    } else {
      // No binary yet: electron's own launcher fetches it (fails fast without the network).
      bin = [process.execPath, join(pkgDir, 'cli.js')];
    }
    const child = spawn(bin[0], [...bin.slice(1), join(root, 'dist', 'electron', 'main.cjs')], {
      cwd: root,
      env: { ...process.env, KPL_START: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let settled = false;
    let tail = '';
    const finish = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reason);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`Electron did not open a window within ${ELECTRON_TIMEOUT_MS / 1000} s`);
    }, ELECTRON_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      const s = d.toString();
      if (settled) process.stdout.write(s);
      else if (s.includes('KPL-READY')) {
        finish(null);
        process.stdout.write(s.replace(/KPL-READY\s*/, ''));
      } else tail = (tail + s).slice(-2000);
    });
    child.stderr.on('data', (d) => {
      if (settled) process.stderr.write(d);
      else tail = (tail + d.toString()).slice(-2000);
    });
    child.on('error', (e) => finish(`could not run Electron (${e.message})`));
    child.on('exit', (code, signal) => {
      if (!settled) {
        const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !/^Node\.js v/.test(l));
        const err = [...lines].reverse().find((l) => /Error\b/.test(l)) ?? lines.pop() ?? '';
        const why = /Downloading Electron|fetch failed|failed to install/.test(tail)
          ? 'the Electron binary is not installed and could not be downloaded (no network?)'
          : `Electron exited (${signal ?? `code ${code}`})${err ? `: ${err.replace(/^.*?Error:\s*/, '')}` : ''}`;
        finish(why);
      } else process.exit(code ?? 0);
    });
  });
}

await ensureBuilt();
if (!forceBrowser) {
  const why = await tryElectron();
  if (why === null) {
    // Electron is running; its exit ends this process (see tryElectron).
    await new Promise(() => undefined);
  }
  say(`${why}; starting browser mode instead (use --browser to skip Electron).`);
}
const { runBrowserMode } = await import(pathToFileURL(join(root, 'dist', 'web', 'server.mjs')).href);
await runBrowserMode(argv.filter((a) => a !== '--browser'), join(root, 'dist', 'renderer'));
