// Shared set-up of the end-to-end tests: builds the app in-process (esbuild) when dist/ is
// missing or stale, starts `npm start -- --browser --port 0` on a fresh database, and opens
// Debian's chromium through playwright-core with a fresh profile. Screenshots of failures go
// to test-results/.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
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
  // Every Content-Security-Policy violation the pages report, from before their own scripts run
  // (cspViolations reads them): the app's CSP stays strict, and nothing it uses may break it.
  // (Page functions name globalThis: this file is also type-checked without the DOM library.)
  interface Violation { effectiveDirective: string; blockedURI: string; sourceFile: string; lineNumber: number; sample: string }
  await context.addInitScript(() => {
    const g = globalThis as unknown as { __kplCsp?: string[]; document: { addEventListener(type: string, fn: (e: Violation) => void): void } };
    g.__kplCsp = [];
    g.document.addEventListener('securitypolicyviolation', (e) => {
      g.__kplCsp?.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}: ${e.sample}`);
    });
  });
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

/** The Content-Security-Policy violations the page reported since it loaded (openBrowser listens). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((globalThis as unknown as { __kplCsp?: string[] }).__kplCsp ?? [])]);
}

/** What a console's terminal holds and edits (the renderer's kplConsoles hook, see console.ts). */
export interface ConsoleState {
  /** The prompt on show and the line being edited after it. */
  prompt: string;
  line: string;
  cursor: number;
  /** A command is running. */
  busy: boolean;
  /** Every output written to the terminal. */
  idle: boolean;
  cols: number;
  rows: number;
}

/** The line editor of the console on show (its terminal's hidden text area, where keys go). */
export function consoleInput(page: Page): Locator {
  return page.locator('.console-pane:not([hidden]) [data-testid=console-input]');
}

/** Waits until the console (on show, or `host`'s) runs nothing and has written all its output. */
export async function consoleIdle(page: Page, host?: string): Promise<void> {
  await page.waitForFunction((h) => {
    const s = (globalThis as unknown as { kplConsoles?: { state(h?: string): ConsoleState | null } }).kplConsoles?.state(h);
    return !!s && !s.busy && s.idle;
  }, host, { timeout: 60_000 });
}

/**
 * The text of a console's terminal: the scrollback and the screen, long lines that wrapped joined,
 * trailing blanks left out (what the user sees, scrolling up). Waits until it is idle.
 */
export async function consoleText(page: Page, host?: string): Promise<string> {
  await consoleIdle(page, host);
  return page.evaluate((h) => (globalThis as unknown as { kplConsoles: { text(h?: string): string | null } }).kplConsoles.text(h) ?? '', host);
}

/** Waits until a console's terminal shows `text` (a string or a pattern). */
export async function consoleWaitFor(page: Page, text: string | RegExp, host?: string, timeout = 10_000): Promise<void> {
  const src = typeof text === 'string' ? null : { source: text.source, flags: text.flags };
  await page.waitForFunction(({ h, t, re }) => {
    const all = (globalThis as unknown as { kplConsoles?: { text(h?: string): string | null } }).kplConsoles?.text(h) ?? '';
    return re ? new RegExp(re.source, re.flags).test(all) : all.includes(t as string);
  }, { h: host, t: typeof text === 'string' ? text : null, re: src }, { timeout }).catch(async (e: unknown) => {
    throw new Error(`the console never showed ${String(text)}:\n${(await page.evaluate((h) => (globalThis as unknown as { kplConsoles?: { text(h?: string): string | null } }).kplConsoles?.text(h) ?? '', host)).slice(-2000)}\n${String(e)}`);
  });
}

/**
 * The prompt and line being edited in the console on show, as its terminal shows them: the
 * terminal's last line must be the prompt followed by the line.
 */
export async function consoleLine(page: Page): Promise<{ prompt: string; line: string }> {
  await consoleIdle(page);
  const { s, text } = await page.evaluate(() => {
    const k = (globalThis as unknown as { kplConsoles: { state(): ConsoleState | null; text(): string | null } }).kplConsoles;
    return { s: k.state(), text: k.text() ?? '' };
  });
  if (!s) throw new Error('no console on show');
  const shown = text.split('\n').at(-1) ?? '';
  if (shown !== (s.prompt + s.line).trimEnd()) throw new Error(`the terminal shows ${JSON.stringify(shown)}, not the prompt ${JSON.stringify(s.prompt)} and the line ${JSON.stringify(s.line)}`);
  return { prompt: s.prompt, line: s.line };
}

/** Replaces the line being edited in the console on show (End, Ctrl+U, then the text typed). */
export async function consoleFill(page: Page, line: string): Promise<void> {
  await consoleInput(page).focus();
  await page.keyboard.press('End');
  await page.keyboard.press('Control+u');
  if (line) await page.keyboard.insertText(line);
}

/** Types a line into the console on show and waits until it has run and written its output. */
export async function consoleRun(page: Page, line: string): Promise<void> {
  await consoleFill(page, line);
  await page.keyboard.press('Enter');
  await consoleIdle(page);
}

/** Selects a node alone on the canvas and opens its console from the inspector. */
export async function openNodeConsole(page: Page, node: string): Promise<void> {
  await page.evaluate((id) => {
    const cy = (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
    // (returns nothing: Playwright would serialize the whole collection)
    cy.elements(':selected').unselect();
    cy.getElementById(id).select();
  }, `n:${node}`);
  await page.getByTestId('open-console').click();
  await page.getByTestId(`console-tab-${node}`).waitFor();
}

/**
 * The text of `loc` once it equals `want` (a string) or matches it (a pattern), polled for up to
 * `timeout` ms: an element drawn before its data has come shows a part of its text for a while.
 * Fails with the text it last showed.
 */
export async function seeText(loc: Locator, want: string | RegExp, timeout = 10_000): Promise<string> {
  const ok = (t: string) => (typeof want === 'string' ? t === want : want.test(t));
  const until = Date.now() + timeout;
  let last = '';
  for (;;) {
    last = (await loc.textContent({ timeout: Math.max(1, until - Date.now()) }).catch(() => null)) ?? last;
    if (ok(last) || Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (typeof want === 'string') assert.equal(last, want);
  else assert.match(last, want);
  return last;
}

/**
 * Waits until `get()` gives `want` (compared deeply), for up to `timeout` ms: what an element
 * shows (a count of rows, an attribute, whether it is visible) can lag the action that changes
 * it by a frame or a round trip. Fails with the value it last gave.
 */
export async function seeValue<T>(get: () => Promise<T>, want: T, message?: string, timeout = 10_000): Promise<void> {
  const until = Date.now() + timeout;
  let last: T = await get();
  while (!isDeepStrictEqual(last, want) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    last = await get();
  }
  assert.deepEqual(last, want, message);
}
