// Shared set-up of the end-to-end tests: builds the app in-process (esbuild) when dist/ is
// missing or stale, starts `npm start -- --browser --port 0` on a fresh database, and opens
// Debian's chromium through playwright-core with a fresh profile. Screenshots of failures go
// to test-results/.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LabService } from '../../main/service/lab-service.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CHROMIUM = process.env.KPL_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

let built: Promise<void> | null = null;

/** Builds dist/ once per process when it is missing or older than the sources. */
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const stamp = join(ROOT, 'dist', 'build.json');
    if (existsSync(stamp) && existsSync(join(ROOT, 'dist', 'web', 'server.mjs')) && statSync(stamp).mtimeMs >= newest()) return;
    const mod = (await import(join(ROOT, 'scripts', 'build.mjs'))) as { build(o: { quiet: boolean }): Promise<unknown> };
    await mod.build({ quiet: true });
  })();
  return built;
}

function newest(): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else n = Math.max(n, st.mtimeMs);
    }
  };
  for (const d of ['renderer', 'shared', 'main']) walk(join(ROOT, d));
  return n;
}


export interface App {
  url: string;
  origin: string;
  db: string;
  dir: string;
  proc: ChildProcess;
  /** Milliseconds from spawning `npm start` to the URL being printed. */
  startMs: number;
  stop(): Promise<void>;
}

/** Starts browser mode like a user: node bin/start.mjs --browser --port 0 (fresh KPL_DB). */
export async function startApp(opts: { db?: string } = {}): Promise<App> {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'kpl-e2e-'));
  const db = opts.db ?? join(dir, 'labs.db');
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'start.mjs'), '--browser', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, KPL_DB: db },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not print its URL in 20 s:\n${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`browser mode exited (${code}):\n${out}`));
    });
  });
  const startMs = performance.now() - t0;
  proc.removeAllListeners('exit');
  return {
    url,
    origin: new URL(url).origin,
    db,
    dir,
    proc,
    startMs,
    stop: async () => {
      if (proc.exitCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Browsing {
  context: BrowserContext;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browsing> {
  const profile = mkdtempSync(join(tmpdir(), 'kpl-chromium-'));
  // A fresh --user-data-dir (playwright passes it from launchPersistentContext).
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true, viewport: { width: 1400, height: 860 }, acceptDownloads: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot into test-results/ (used when a test fails). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}

/** What a suite shares: the app, a browser on it, and the lab service on the app's store. */
export interface AppSuite {
  readonly app: App;
  readonly b: Browsing;
  readonly service: LabService;
  /** A test body that leaves a screenshot in test-results/ when it fails. */
  shot(fn: (page: Page, t: TestContext) => Promise<void>): (t: TestContext) => Promise<void>;
}

/**
 * The app in browser mode, a browser and the lab service for the enclosing describe: started
 * before its tests (then `setup` makes the labs they need), stopped after them.
 */
export function appSuite(setup?: (service: LabService) => void | Promise<void>): AppSuite {
  let app: App | undefined;
  let b: Browsing | undefined;
  let service: LabService | undefined;
  before(async () => {
    app = await startApp();
    b = await openBrowser();
    service = new LabService({ db: app.db });
    await setup?.(service);
  });
  after(async () => {
    service?.close();
    await b?.close();
    await app?.stop();
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the suite has not started');
    return x;
  };
  return {
    get app() {
      return started(app);
    },
    get b() {
      return started(b);
    },
    get service() {
      return started(service);
    },
    shot: (fn) => async (t) => {
      const page = started(b).page;
      try {
        await fn(page, t);
      } catch (e) {
        t.diagnostic(`screenshot: ${await screenshot(page, `e2e-${t.name}`)}`);
        throw e;
      }
    },
  };
}

type Cy = import('cytoscape').Core;

/** Opens a lab in the page and selects one of its canvas elements once the editor is ready. */
export async function openLab(page: Page, url: string, lab: string, element: string): Promise<void> {
  await page.goto(`${url}#/lab/${encodeURIComponent(lab)}`);
  await page.waitForFunction((id) => {
    const ed = (globalThis as unknown as { kplEditor?: { cy: Cy } }).kplEditor;
    return !!ed && ed.cy.getElementById(id).nonempty();
  }, element, { timeout: 60_000 });
  await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.evaluate((id) => {
    (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.getElementById(id).select();
  }, element);
}

/** Traces from the debugger's form and waits for its first step. */
export async function traceFromForm(page: Page, from: string, to: string): Promise<void> {
  await page.getByTestId('trace-from').fill(from);
  await page.getByTestId('trace-to').fill(to);
  await page.getByTestId('trace-form').locator('button[type=submit]').click();
  await page.getByTestId('step-title').filter({ hasText: `trace ${from} → ${to}` }).waitFor();
  await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
}

/** Types a line into the console on show and waits until it has run. */
export async function consoleRun(page: Page, line: string): Promise<void> {
  const input = page.locator('.console-pane:not([hidden]) [data-testid=console-input]');
  await input.fill(line);
  await input.press('Enter');
  await page.locator('.console-pane:not([hidden]) [data-testid=console-input]:not([disabled])').waitFor();
}
