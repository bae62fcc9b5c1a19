// kpl:// links in the Electron main process, run without Electron (the real main bundle in a VM
// against a stand-in `electron`, as main.test.ts does): a link given at start opens the window
// at the renderer's #/lab/ fragment; macOS's open-url and a second instance's arguments reload
// the running window there; bad links are refused and the window left alone; a second instance
// started with a link hands it over and quits without a window; only packaged builds register
// the scheme.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';

const nodeRequire = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'dist', 'electron');
const LINK = 'kpl://open?lab=demo&trace=trace%201&step=3&node=server&rule=2';
const HASH = '/lab/demo?trace=trace%201&step=3&node=server&rule=2';

let bundle = '';

interface Booted {
  app: EventEmitter & { quits: number; registered: unknown[][] };
  loads: { file: string; hash: string | undefined }[];
  errors: string[];
  focused: number;
}

async function boot(opts: { argv?: string[]; lock?: boolean; packaged?: boolean } = {}): Promise<Booted> {
  const loads: Booted['loads'] = [];
  const errors: string[] = [];
  const state = { focused: 0 };
  const app = Object.assign(new EventEmitter(), {
    quits: 0,
    registered: [] as unknown[][],
    isPackaged: opts.packaged ?? false,
    enableSandbox() {},
    whenReady: () => Promise.resolve(),
    quit() { app.quits++; },
    exit() {},
    requestSingleInstanceLock: () => opts.lock ?? true,
    setAsDefaultProtocolClient(...a: unknown[]) { app.registered.push(a); return true; },
  });
  class BrowserWindow extends EventEmitter {
    static getAllWindows = (): unknown[] => [];
    webContents = Object.assign(new EventEmitter(), { id: 1, mainFrame: { url: '' }, setWindowOpenHandler() {}, send() {} });
    loadFile(file: string, o?: { hash?: string }): Promise<void> {
      loads.push({ file, hash: o?.hash });
      return Promise.resolve();
    }
    isDestroyed(): boolean { return false; }
    isMinimized(): boolean { return false; }
    restore(): void {}
    focus(): void { state.focused++; }
    show(): void {}
  }
  const fake = {
    app,
    BrowserWindow,
    ipcMain: { handle() {} },
    session: { defaultSession: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {} } },
    shell: { openExternal() {} },
    utilityProcess: { fork: () => Object.assign(new EventEmitter(), { postMessage() {}, kill() {} }) },
  };
  const proc = Object.create(process, { argv: { value: ['electron', 'main.cjs', ...(opts.argv ?? [])] }, env: { value: {} } }) as NodeJS.Process;
  const module = { exports: {} };
  runInNewContext(bundle, {
    require: (m: string) => (m === 'electron' ? fake : m.startsWith('node:') ? nodeRequire(m) : assert.fail(`main requires ${m}`)),
    module, exports: module.exports, __dirname: DIR, process: proc, console: { error: (s: string) => errors.push(s), log() {} }, Promise, setTimeout, URL,
  });
  await new Promise((r) => setTimeout(r, 10));
  return { app, loads, errors, get focused() { return state.focused; } };
}

describe('kpl:// links in the Electron main process', () => {
  before(async () => {
    const r = await esbuild.build({
      entryPoints: [join(ROOT, 'main/electron/main.ts')], bundle: true, write: false, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'silent',
    });
    bundle = r.outputFiles[0].text;
  });

  it('opens the window at the link given at start', async () => {
    const b = await boot({ argv: [LINK] });
    assert.deepEqual(b.loads.map((l) => l.hash), [HASH]);
    assert.equal(b.app.quits, 0);
  });

  it('starts at the page itself without a link, and refuses a bad one', async () => {
    assert.deepEqual((await boot()).loads.map((l) => l.hash), [undefined]);
    const bad = await boot({ argv: ['kpl://open?lab=%2Fetc%2Fpasswd&trace=x'] });
    assert.deepEqual(bad.loads.map((l) => l.hash), [undefined]);
    assert.match(bad.errors.join('\n'), /link refused: lab: expected a lab name/);
  });

  it('reloads the running window at links from open-url and from a second instance', async () => {
    const b = await boot();
    let prevented = 0;
    b.app.emit('open-url', { preventDefault: () => prevented++ }, LINK);
    b.app.emit('second-instance', {}, ['electron', 'main.cjs', '--flag', 'kpl://open?lab=other']);
    b.app.emit('second-instance', {}, ['electron', 'main.cjs']);
    b.app.emit('open-url', { preventDefault: () => prevented++ }, 'kpl://open?lab=demo&step=1&exec=x');
    b.app.emit('open-url', { preventDefault: () => prevented++ }, 'kpl://other?lab=demo');
    assert.equal(prevented, 3);
    assert.deepEqual(b.loads.map((l) => l.hash), [undefined, HASH, '/lab/other']);
    assert.equal(b.focused, 2);
    assert.equal(b.errors.length, 2);
    assert.match(b.errors[0], /unknown parameter "exec"/);
    assert.match(b.errors[1], /not a kpl:\/\/open/);
  });

  it('a second instance started with a link hands it over and quits, without a window', async () => {
    const b = await boot({ argv: [LINK], lock: false });
    assert.equal(b.app.quits, 1);
    assert.deepEqual(b.loads, []);
    // Without a link, a second instance runs as before.
    const c = await boot({ lock: false });
    assert.equal(c.app.quits, 0);
    assert.equal(c.loads.length, 1);
  });

  it('registers the scheme in packaged builds only', async () => {
    assert.deepEqual((await boot()).app.registered, []);
    assert.deepEqual((await boot({ packaged: true })).app.registered, [['kpl']]);
  });
});
