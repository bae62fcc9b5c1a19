// The Electron shell's checks, without an Electron binary: the main process's sender and
// payload guard (pure functions), navigation rules, and the real preload bundle run in a VM
// against a fake `electron` module (one function per method, no generic invoke, bad payloads
// refused before they cross).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';
import { EVENT_SUBSCRIBERS, IPC_EVENT, IPC_PREFIX, METHOD_NAMES } from '../../shared/api/contract.ts';
import { RENDERER_CSP, guardCall, navigationAllowed, senderOk, type SenderInfo } from '../../main/electron/ipc-guard.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PAGE = 'file:///opt/Kube%20Packet%20Lab/resources/app.asar/dist/renderer/index.html';
const good: SenderInfo = { url: PAGE, isMainFrame: true, webContentsId: 7 };
const trusted = new Set([7]);

describe('IPC guard', () => {
  it('accepts calls only from our window\'s main frame showing our page', () => {
    assert.equal(senderOk(good, trusted, PAGE), true);
    assert.equal(senderOk({ ...good, url: `${PAGE}#/lab/x` }, trusted, PAGE), true);
    assert.equal(senderOk({ ...good, isMainFrame: false }, trusted, PAGE), false, 'subframe');
    assert.equal(senderOk({ ...good, webContentsId: 8 }, trusted, PAGE), false, 'another webContents');
    assert.equal(senderOk({ ...good, url: 'https://evil.example/' }, trusted, PAGE), false, 'remote page');
    assert.equal(senderOk({ ...good, url: 'file:///tmp/evil.html' }, trusted, PAGE), false, 'another file');
    assert.equal(senderOk({ ...good, url: 'not a url' }, trusted, PAGE), false);
    assert.equal(senderOk(null, trusted, PAGE), false);
  });

  it('refuses bad payloads for every kind of argument', () => {
    const refused = (method: string, params: unknown): void => {
      const e = guardCall(good, trusted, PAGE, method, params);
      assert.ok(e, `${method}(${JSON.stringify(params)}) should be refused`);
      assert.equal(e.code, 'invalid');
    };
    refused('createLab', []);
    refused('createLab', [null]);
    refused('createLab', [{}]);
    refused('createLab', ['x'.repeat(300)]);
    refused('createLab', ['bad\u0000name']);
    refused('createLab', [' padded']);
    refused('createLab', ['a/b']);
    refused('createLab', ['lab', { cluster: 'yes' }]);
    refused('addLan', ['lab', '-rf']);
    refused('addHost', ['lab', 'h', { listen: 'all' }]);
    refused('addVeth', ['lab', { host: 'a', dev: 'this-name-is-too-long' }, { host: 'b' }]);
    refused('exec', ['lab', 'h', [1, 2]]);
    refused('trace', ['lab', { from: 'a', to: 'b', proto: 'gre' }]);
    refused('setLayout', ['lab', { positions: {}, extra: 1 }]);
    refused('remove', ['lab', [{ kind: 'file', name: 'x' }]]);
    refused('nope', []);
    refused('toString', []);
    assert.equal(guardCall(good, trusted, PAGE, 'createLab', ['my lab', { cluster: true, nodes: 2 }]), null);
    assert.equal(guardCall(good, trusted, PAGE, 'addLink', ['my lab', 'h1', 'lan1', null, 'eth3']), null, 'null stands for a left-out argument');
  });

  it('refuses everything from a foreign sender, even a valid call', () => {
    const e = guardCall({ ...good, url: 'https://evil.example/' }, trusted, PAGE, 'listLabs', []);
    assert.equal(e?.code, 'forbidden');
  });

  it('allows navigation only to our own page', () => {
    assert.equal(navigationAllowed(`${PAGE}#/lab/a`, PAGE), true);
    assert.equal(navigationAllowed('https://example.com/', PAGE), false);
    assert.equal(navigationAllowed('file:///etc/passwd', PAGE), false);
    assert.equal(navigationAllowed('javascript:alert(1)', PAGE), false);
  });

  it('has a CSP without inline scripts or network access', () => {
    assert.match(RENDERER_CSP, /default-src 'none'/);
    assert.match(RENDERER_CSP, /connect-src 'none'/);
    assert.doesNotMatch(RENDERER_CSP, /unsafe/);
  });
});

describe('preload bundle', () => {
  let exposed: Record<string, unknown> = {};
  const invoked: { channel: string; args: unknown[] }[] = [];
  let emit: (msg: unknown) => void = () => undefined;

  before(async () => {
    const r = await esbuild.build({ entryPoints: [join(ROOT, 'main/electron/preload.ts')], bundle: true, write: false, platform: 'node', format: 'cjs', external: ['electron'], logLevel: 'silent' });
    const code = r.outputFiles[0].text;
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => { assert.equal(key, 'lab'); exposed = api; } },
      ipcRenderer: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push({ channel, args });
          return { result: channel === `${IPC_PREFIX}listLabs` ? [] : null };
        },
        on: (channel: string, fn: (e: unknown, msg: unknown) => void) => {
          assert.equal(channel, IPC_EVENT);
          emit = (msg) => fn({}, msg);
        },
        send: () => assert.fail('the preload must not use send'),
      },
    };
    const module = { exports: {} };
    runInNewContext(code, { require: (m: string) => (m === 'electron' ? fakeElectron : assert.fail(`preload requires ${m}`)), module, exports: module.exports, console });
  });

  it('exposes exactly one function per method and per event, and no generic invoke', () => {
    const keys = Object.keys(exposed).sort();
    assert.deepEqual(keys, [...METHOD_NAMES, ...Object.values(EVENT_SUBSCRIBERS)].sort());
    assert.ok(!('invoke' in exposed) && !('send' in exposed));
    for (const k of keys) assert.equal(typeof exposed[k], 'function');
  });

  it('calls each method on its own channel', async () => {
    assert.deepEqual(await (exposed.listLabs as () => Promise<unknown>)(), []);
    await (exposed.addLink as (...a: unknown[]) => Promise<unknown>)('lab', 'h1', 'lan1', undefined, undefined);
    assert.deepEqual(invoked.slice(-2), [{ channel: `${IPC_PREFIX}listLabs`, args: [] }, { channel: `${IPC_PREFIX}addLink`, args: ['lab', 'h1', 'lan1'] }]);
  });

  it('refuses bad payloads before they cross', async () => {
    const before = invoked.length;
    await assert.rejects((exposed.createLab as (...a: unknown[]) => Promise<unknown>)({ name: 'x' }), /lab name/);
    await assert.rejects((exposed.exec as (...a: unknown[]) => Promise<unknown>)('lab', 'h', 'rm -rf /'), /array/);
    assert.equal(invoked.length, before);
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const got: unknown[] = [];
    const off = (exposed.onLabChanged as (cb: (d: unknown) => void) => () => void)((d) => got.push(d));
    emit({ event: 'labChanged', data: { lab: 'a' } });
    emit({ event: 'labsChanged', data: {} });
    off();
    emit({ event: 'labChanged', data: { lab: 'b' } });
    assert.deepEqual(got, [{ lab: 'a' }]);
  });
});
