// The Electron main process wiring, run without Electron: the real main bundle in a VM against
// a stand-in `electron` module. It must open one window with the secure webPreferences, start
// the service in a utilityProcess, register one IPC handler per API method, refuse calls from a
// foreign sender or with a bad payload, forward good ones to the service and pass back its
// answer, and refuse navigation and new windows. (Values from the VM are compared as JSON:
// their prototypes belong to another realm.)

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';
import { IPC_PREFIX, METHOD_NAMES } from '../../shared/api/contract.ts';

const nodeRequire = createRequire(import.meta.url);
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'dist', 'electron');
const PAGE = pathToFileURL(join(ROOT, 'dist', 'renderer', 'index.html')).href;

type Handler = (e: unknown, ...args: unknown[]) => Promise<unknown>;
type Contents = EventEmitter & { id: number; mainFrame: { url: string } };

describe('Electron main process', () => {
  const handlers = new Map<string, Handler>();
  const windows: { opts: Record<string, unknown>; contents: Contents; loaded?: string }[] = [];
  const worker = Object.assign(new EventEmitter(), { posted: [] as unknown[], postMessage(m: unknown) { this.posted.push(m); }, kill() {} });
  let forkedPath = '';
  let windowOpen: ((d: { url: string }) => { action: string }) | undefined;

  before(async () => {
    const r = await esbuild.build({
      entryPoints: [join(ROOT, 'main/electron/main.ts')], bundle: true, write: false, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'silent',
    });
    const app = Object.assign(new EventEmitter(), {
      enableSandbox() {},
      whenReady: () => Promise.resolve(),
      quit() {},
      exit() {},
    });
    class BrowserWindow extends EventEmitter {
      static getAllWindows = (): unknown[] => windows;
      webContents: Contents;
      constructor(opts: Record<string, unknown>) {
        super();
        const contents = Object.assign(new EventEmitter(), {
          id: 7,
          mainFrame: { url: PAGE },
          setWindowOpenHandler(fn: (d: { url: string }) => { action: string }) { windowOpen = fn; },
          send() {},
        });
        this.webContents = contents;
        windows.push({ opts, contents });
      }
      loadFile(f: string): Promise<void> {
        windows[windows.length - 1].loaded = f;
        return Promise.resolve();
      }
      isDestroyed(): boolean { return false; }
      show(): void {}
    }
    const fake = {
      app,
      BrowserWindow,
      ipcMain: { handle: (ch: string, fn: Handler) => handlers.set(ch, fn) },
      session: { defaultSession: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {} } },
      shell: { openExternal() {} },
      utilityProcess: { fork: (p: string) => { forkedPath = p; return worker; } },
    };
    const module = { exports: {} };
    runInNewContext(r.outputFiles[0].text, {
      require: (m: string) => (m === 'electron' ? fake : m.startsWith('node:') ? nodeRequire(m) : assert.fail(`main requires ${m}`)),
      module, exports: module.exports, __dirname: DIR, process, console, Promise, setTimeout, URL,
    });
    await new Promise((r2) => setTimeout(r2, 10));
  });

  it('opens a window with contextIsolation, sandbox and no nodeIntegration, loading our page', () => {
    assert.equal(windows.length, 1);
    const wp = windows[0].opts.webPreferences as Record<string, unknown>;
    assert.equal(wp.contextIsolation, true);
    assert.equal(wp.sandbox, true);
    assert.equal(wp.nodeIntegration, false);
    assert.equal(wp.webSecurity, true);
    assert.equal(wp.preload, join(DIR, 'preload.cjs'));
    assert.equal(windows[0].loaded, join(ROOT, 'dist', 'renderer', 'index.html'));
  });

  it('runs the service in a utilityProcess', () => {
    assert.equal(forkedPath, join(DIR, 'worker.cjs'));
  });

  it('handles exactly one channel per API method', () => {
    assert.deepEqual([...handlers.keys()].sort(), METHOD_NAMES.map((m) => IPC_PREFIX + m).sort());
  });

  it('refuses foreign senders and bad payloads, and forwards good calls to the service', async () => {
    const contents = windows[0].contents;
    const good = { sender: contents, senderFrame: contents.mainFrame };
    const foreign = { sender: contents, senderFrame: { url: 'https://evil.example/' } };
    const listLabs = handlers.get(`${IPC_PREFIX}listLabs`)!;
    assert.deepEqual(plain(await listLabs(foreign)), { error: { code: 'forbidden', message: "listLabs: refused: the call does not come from the app's own page" } });
    const createLab = handlers.get(`${IPC_PREFIX}createLab`)!;
    const bad = (await createLab(good, '../etc')) as { error: { code: string } };
    assert.equal(bad.error.code, 'invalid');
    assert.equal(worker.posted.length, 0, 'nothing reached the service');
    const pending = listLabs(good);
    await new Promise((r) => setTimeout(r, 5));
    const msg = worker.posted[0] as { id: number; method: string; params: unknown[] };
    assert.equal(msg.method, 'listLabs');
    assert.deepEqual(plain(msg.params), []);
    worker.emit('message', { id: msg.id, result: [{ name: 'a' }] });
    assert.deepEqual(plain(await pending), { id: msg.id, result: [{ name: 'a' }] });
  });

  it('refuses navigation away from our page and every new window', () => {
    const contents = windows[0].contents;
    let prevented = 0;
    contents.emit('will-navigate', { preventDefault: () => prevented++ }, 'https://evil.example/');
    contents.emit('will-navigate', { preventDefault: () => prevented++ }, `${PAGE}#/lab/x`);
    assert.equal(prevented, 1);
    assert.deepEqual(plain(windowOpen?.({ url: 'https://example.com/' })), { action: 'deny' });
    assert.deepEqual(plain(windowOpen?.({ url: 'file:///etc/passwd' })), { action: 'deny' });
  });
});
