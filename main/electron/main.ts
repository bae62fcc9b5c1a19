// Electron's main process: one window (contextIsolation, sandbox, no nodeIntegration, strict
// CSP, navigation and new windows refused), the service in a utilityProcess, and one IPC
// handler per API method that checks the sender and the payload before forwarding the call.
// `kpl://open?lab=…&trace=…&step=…` links (registered for packaged builds; macOS `open-url`, an
// argument elsewhere, handed to the running instance) are checked and opened as the renderer's
// `#/lab/NAME?trace=…` fragment, which the debugger reads (shared/api/trace-link.ts).

import { app, BrowserWindow, ipcMain, session, shell, utilityProcess, type IpcMainInvokeEvent, type UtilityProcess } from 'electron';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_EVENT, IPC_PREFIX, METHOD_NAMES } from '../../shared/api/contract.ts';
import { RENDERER_CSP, guardCall, navigationAllowed, type SenderInfo } from './ipc-guard.ts';
import { linkHash, parseLinkUrl } from '../../shared/api/trace-link.ts';

const here = __dirname; // dist/electron (bundled as CommonJS)
const pageFile = join(here, '..', 'renderer', 'index.html');
const pageUrl = pathToFileURL(pageFile).href;
const trusted = new Set<number>();
const windows = new Set<BrowserWindow>();

let worker: UtilityProcess | null = null;
// `npm start` waits for "KPL-READY" (the window shown and the service up) before it stops
// considering browser mode; an early exit makes it fall back and say why.
let serviceUp = false;
let windowUp = false;
function announceReady(): void {
  if (serviceUp && windowUp && process.env.KPL_START) process.stdout.write('KPL-READY\n');
}
let nextId = 1;
const pending = new Map<number, (r: unknown) => void>();

function startWorker(): UtilityProcess {
  const w = utilityProcess.fork(join(here, 'worker.cjs'), [], { serviceName: 'Kube Packet Lab service', env: { ...process.env }, stdio: 'inherit' });
  w.on('message', (m: { id?: number; event?: string; data?: unknown; fatal?: string; ready?: boolean }) => {
    if (m.ready) {
      serviceUp = true;
      announceReady();
      return;
    }
    if (m.fatal) {
      console.error(`Kube Packet Lab: the service could not start: ${m.fatal}`);
      app.exit(1);
      return;
    }
    if (m.event) {
      for (const win of windows) if (!win.isDestroyed()) win.webContents.send(IPC_EVENT, { event: m.event, data: m.data });
      return;
    }
    if (typeof m.id === 'number') {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  w.on('exit', (code) => {
    for (const resolve of pending.values()) resolve({ error: { code: 'failed', message: `the lab service stopped (exit ${code})` } });
    pending.clear();
    worker = null;
    if (!quitting) worker = startWorker();
  });
  return w;
}

function callWorker(method: string, params: unknown[]): Promise<unknown> {
  if (!worker) worker = startWorker();
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker?.postMessage({ id, method, params });
  });
}

function senderOf(e: IpcMainInvokeEvent): SenderInfo | null {
  const f = e.senderFrame;
  if (!f) return null;
  return { url: f.url, isMainFrame: f === e.sender.mainFrame, webContentsId: e.sender.id };
}

for (const method of METHOD_NAMES) {
  ipcMain.handle(IPC_PREFIX + method, async (e, ...params: unknown[]) => {
    const bad = guardCall(senderOf(e), trusted, pageUrl, method, params);
    if (bad) return { error: bad };
    return callWorker(method, params);
  });
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Kube Packet Lab',
    backgroundColor: '#14171c',
    show: false,
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      spellcheck: false,
    },
  });
  windows.add(win);
  trusted.add(win.webContents.id);
  const id = win.webContents.id;
  win.on('closed', () => {
    windows.delete(win);
    trusted.delete(id);
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!navigationAllowed(url, pageUrl)) e.preventDefault();
  });
  win.webContents.on('will-redirect', (e, url) => {
    if (!navigationAllowed(url, pageUrl)) e.preventDefault();
  });
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links to the documentation open in the user's browser; nothing opens inside the app.
    if (/^https:\/\/[^/]+\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => {
    win.show();
    windowUp = true;
    announceReady();
  });
  void win.loadFile(pageFile, pendingHash ? { hash: pendingHash } : undefined);
  pendingHash = undefined;
}

// ---- kpl:// links ----------------------------------------------------------------------------
const PROTOCOL = 'kpl';
/** The fragment a link asked for before the window existed. */
let pendingHash: string | undefined;
const linkArg = (argv: readonly string[]): string | undefined => argv.find((a) => typeof a === 'string' && /^kpl:\/\//i.test(a));

/** Opens a checked link in the window (at start: when it opens); a bad link is refused and said so. */
function openLink(url: string): void {
  const link = parseLinkUrl(url);
  if (typeof link === 'string') {
    console.error(`Kube Packet Lab: link refused: ${link}`);
    return;
  }
  const hash = linkHash(link).slice(1);
  const win = [...windows].find((w) => !w.isDestroyed());
  if (!win) {
    pendingHash = hash;
    return;
  }
  if (win.isMinimized()) win.restore();
  win.focus();
  void win.loadFile(pageFile, { hash });
}

// A link opened while the app runs starts a second instance (Windows, Linux): it hands the link
// to the first one and quits. Instances started without a link run side by side as before.
const startLink = linkArg(process.argv);
const primary = typeof app.requestSingleInstanceLock === 'function' ? app.requestSingleInstanceLock() : true;
const handOver = startLink !== undefined && !primary;
if (handOver) app.quit();
else if (startLink !== undefined) openLink(startLink);
app.on('second-instance', (_e, argv: string[]) => {
  const url = linkArg(argv);
  if (url) openLink(url);
});
app.on('open-url', (e, url: string) => {
  e.preventDefault();
  openLink(url);
});
// Packaged builds become the handler of kpl:// (a development run does not touch the desktop's settings).
if (app.isPackaged && typeof app.setAsDefaultProtocolClient === 'function') {
  if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient(PROTOCOL, process.execPath, [resolve(process.argv[1])]);
  else app.setAsDefaultProtocolClient(PROTOCOL);
}

let quitting = false;
app.enableSandbox();
app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (ev, url) => {
    if (!navigationAllowed(url, pageUrl)) ev.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});
app.whenReady().then(() => {
  if (handOver) return;
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  worker = startWorker();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}).catch((e: unknown) => {
  console.error(e);
  app.exit(1);
});
app.on('before-quit', () => {
  quitting = true;
  worker?.kill();
});
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
