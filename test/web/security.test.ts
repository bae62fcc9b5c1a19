// Browser mode's gate: token, Host, Origin and CSP checks, as pure functions and on a running
// server (HTTP and WebSocket), plus refusal of malformed calls.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import { allowedOrigins, contentSecurityPolicy, hostOk, originOk, requestToken, tokenOk } from '../../main/web/security.ts';
import { startWebServer, type WebServer } from '../../main/web/server.ts';

describe('security checks', () => {
  it('reads the token from the query or the cookie, and compares it exactly', () => {
    assert.equal(requestToken('/?token=abc', undefined), 'abc');
    assert.equal(requestToken('/app.js', 'x=1; kpl_token=abc'), 'abc');
    assert.equal(requestToken('/app.js', 'kpl_tokenx=abc'), null);
    assert.equal(tokenOk('/?token=abc', undefined, 'abc'), true);
    assert.equal(tokenOk('/?token=abd', undefined, 'abc'), false);
    assert.equal(tokenOk('/?token=ab', undefined, 'abc'), false);
    assert.equal(tokenOk('/', undefined, 'abc'), false);
    assert.equal(tokenOk('/?token=', 'kpl_token=abc', 'abc'), true);
  });

  it('accepts only our own host and origin', () => {
    assert.equal(hostOk('127.0.0.1:8080', 8080), true);
    assert.equal(hostOk('localhost:8080', 8080), true);
    assert.equal(hostOk('evil.example:8080', 8080), false);
    assert.equal(hostOk('127.0.0.1:8081', 8080), false);
    assert.equal(hostOk(undefined, 8080), false);
    assert.deepEqual(allowedOrigins(80), ['http://127.0.0.1:80', 'http://localhost:80']);
    assert.equal(originOk('http://127.0.0.1:8080', 8080, true), true);
    assert.equal(originOk('http://evil.example', 8080, false), false);
    assert.equal(originOk('null', 8080, false), false);
    assert.equal(originOk(undefined, 8080, true), false, 'a WebSocket must name its origin');
    assert.equal(originOk(undefined, 8080, false), true, 'a plain navigation may come without');
  });

  it('has a strict content security policy', () => {
    const csp = contentSecurityPolicy(1234);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:1234/);
    assert.match(csp, /frame-ancestors 'none'/);
  });
});

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with it when open, or with the HTTP status that refused it. */
function ws(url: string, headers: Record<string, string>): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const sock = new WebSocket(url, { headers });
    sock.once('open', () => resolve(sock));
    sock.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    sock.once('error', () => resolve(-1));
  });
}

function call(sock: WebSocket, msg: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMsg = (d: WebSocket.RawData): void => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if ('event' in m) return;
      sock.off('message', onMsg);
      resolve(m);
    };
    sock.on('message', onMsg);
    sock.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

describe('browser mode server', () => {
  let dir: string;
  let api: ApiDispatcher;
  let server: WebServer;
  let origin: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-web-'));
    const renderer = join(dir, 'renderer');
    mkdirSync(renderer);
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(renderer, 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    api = openLabApi({ db: join(dir, 'labs.db') });
    server = await startWebServer({ api, rendererDir: renderer, port: 0 });
    origin = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and prints a URL with a long random token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers 401 without the token, 200 with it (and then by cookie)', async () => {
    assert.equal((await get(server.port, '/')).status, 401);
    assert.equal((await get(server.port, '/app.js')).status, 401);
    assert.equal((await get(server.port, '/?token=wrong')).status, 401);
    const ok = await get(server.port, `/?token=${server.token}`);
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(ok.headers['x-frame-options'], 'DENY');
    const cookie = String(ok.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const js = await get(server.port, '/app.js', { Cookie: cookie.split(';')[0] });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
  });

  it('refuses foreign hosts and origins, other methods and unknown paths', async () => {
    const t = `/?token=${server.token}`;
    assert.equal((await get(server.port, t, { Host: `evil.example:${server.port}` })).status, 403);
    assert.equal((await get(server.port, t, { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await get(server.port, t, {}, 'POST')).status, 405);
    assert.equal((await get(server.port, `/../secret.txt?token=${server.token}`)).status, 404);
    assert.equal((await get(server.port, `/%2e%2e/secret.txt?token=${server.token}`)).status, 404);
  });

  it('opens the API socket only with the token and our origin', async () => {
    const base = `ws://127.0.0.1:${server.port}/api`;
    assert.equal(await ws(`${base}`, { Origin: origin }), 401);
    assert.equal(await ws(`${base}?token=nope`, { Origin: origin }), 401);
    assert.equal(await ws(`${base}?token=${server.token}`, { Origin: 'http://evil.example' }), 403);
    assert.equal(await ws(`${base}?token=${server.token}`, {}), 403);
    assert.equal(await ws(`ws://127.0.0.1:${server.port}/other?token=${server.token}`, { Origin: origin }), 404);
    const sock = await ws(`${base}?token=${server.token}`, { Origin: origin });
    assert.ok(sock instanceof WebSocket);
    const r = await call(sock, { id: 1, method: 'listLabs', params: [] });
    assert.deepEqual(r, { id: 1, result: [] });
    sock.close();
  });

  it('refuses malformed and invalid calls before the service sees them', async () => {
    const sock = (await ws(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { Origin: origin })) as WebSocket;
    const bad = async (msg: unknown, re: RegExp): Promise<void> => {
      const r = await call(sock, msg);
      const err = r.error as { code: string; message: string } | undefined;
      assert.ok(err, `expected an error for ${JSON.stringify(msg)}`);
      assert.equal(err.code, 'invalid');
      assert.match(err.message, re);
    };
    await bad('not json', /not JSON/);
    await bad({ method: 'listLabs', params: [] }, /numeric id/);
    await bad({ id: 2, method: 'eval', params: ['1'] }, /unknown method/);
    await bad({ id: 3, method: 'constructor', params: [] }, /unknown method/);
    await bad({ id: 4, method: '__proto__', params: [] }, /unknown method/);
    await bad({ id: 5, method: 'createLab', params: [] }, /argument 1: missing/);
    await bad({ id: 6, method: 'createLab', params: [42] }, /expected a lab name/);
    await bad({ id: 7, method: 'createLab', params: ['../../etc/passwd'] }, /lab name/);
    await bad({ id: 8, method: 'createLab', params: ['x.kpl'] }, /lab name/);
    await bad({ id: 9, method: 'addHost', params: ['lab', 'bad name!'] }, /argument 2/);
    await bad({ id: 10, method: 'addHost', params: ['lab', 'h1', { listen: [{ port: 70000, proto: 'tcp' }] }] }, /port/);
    await bad({ id: 11, method: 'addHost', params: ['lab', 'h1', { evil: true }] }, /unknown field "evil"/);
    await bad({ id: 12, method: 'addLink', params: ['lab', 'h1', 'lan1', '10.0.0.300/24'] }, /address/);
    await bad({ id: 13, method: 'listLabs', params: ['extra'] }, /at most 0/);
    await bad({ id: 14, method: 'listLabs', params: 'x' }, /array/);
    await bad({ id: 15, method: 'setLayout', params: ['lab', { positions: { a: { x: 'NaN', y: 0 } } }] }, /number/);
    await bad({ id: 16, method: 'exec', params: ['lab', 'h1', 'iptables -L'] }, /array/);
    await bad({ id: 18, method: 'createExample', params: ['../pod-to-pod', 'x'] }, /example name/);
    await bad({ id: 19, method: 'runStep', params: ['lab', -1] }, /integer/);
    await bad({ id: 20, method: 'setWalkthrough', params: ['lab', { title: 't', steps: [{ title: 's', text: '', action: { kind: 'exec', argv: ['sh'] } }] }] }, /kind/);
    await bad({ id: 21, method: 'setExercises', params: ['lab', [{ title: 't', goal: 'g', checks: [], __proto__x: 1 }]] }, /unknown field/);
    await bad({ id: 22, method: 'setWalkthrough', params: ['lab'] }, /argument 2: missing/);
    const good = await call(sock, { id: 17, method: 'createLab', params: ['lab one'] });
    assert.equal((good.result as { name: string }).name, 'lab one');
    sock.close();
  });

  it('announces changes to every open socket', async () => {
    const a = (await ws(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { Origin: origin })) as WebSocket;
    const b = (await ws(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { Origin: origin })) as WebSocket;
    const seen = new Promise<unknown>((resolve) => b.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { event?: string; data?: unknown };
      if (m.event === 'labChanged') resolve(m.data);
    }));
    await call(a, { id: 1, method: 'createLab', params: ['events'] });
    await call(a, { id: 2, method: 'addLan', params: ['events', 'lan1'] });
    assert.deepEqual(await seen, { lab: 'events' });
    a.close();
    b.close();
  });
});
