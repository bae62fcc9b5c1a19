import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curl, formatCurl, nginxResponse, parseCurl, type CurlEnv, type CurlProfile, type HttpResponse } from '../../../main/engine/shell/netclients/curl.ts';
import type { ConnectOutcome } from '../../../main/engine/shell/netclients/common.ts';
import { podEnv } from './env.ts';

// The article's NetworkPolicy scene: backend answers with its pod name, db drops the SYN.
function scene(profile: CurlProfile, byIp: Record<string, (ip: string) => ConnectOutcome>, response: HttpResponse = nginxResponse('backend-867fd6dff-mjf92\n')): CurlEnv {
  return {
    ...podEnv(),
    profile,
    connect: (ip) => (byIp[ip] ?? ((x: string) => ({ kind: 'unreachable', ip: x, errno: 'EHOSTUNREACH' }) as ConnectOutcome))(ip),
    http: () => response,
  };
}

const BACKEND = '10.96.100.20';
const DB = '10.96.100.30';
const article = (p: CurlProfile): CurlEnv =>
  scene(p, {
    [BACKEND]: (ip) => ({ kind: 'connected', ip, elapsedMs: 1 }),
    [DB]: (ip) => ({ kind: 'timeout', ip, elapsedMs: 129302 }),
  });

test("the article: `curl backend` prints the pod name, `curl db` the timeout line (curl 7.64, exit 7)", () => {
  const ok = curl(['curl', 'backend'], '', article('curl-7.64'));
  assert.deepEqual([ok.stdout, ok.stderr, ok.code], ['backend-867fd6dff-mjf92\n', '', 0]);
  const db = curl(['curl', 'db'], '', article('curl-7.64'));
  assert.deepEqual([db.stdout, db.stderr, db.code], ['', 'curl: (7) Failed to connect to db port 80: Connection timed out\n', 7]);
});

test('curl 7.88 reports the same timeout as (28), with the time spent and libcurl\'s text', () => {
  const db = curl(['curl', 'db'], '', article('curl-7.88'));
  assert.deepEqual([db.stderr, db.code], ["curl: (28) Failed to connect to db port 80 after 129302 ms: Couldn't connect to server\n", 28]);
});

test('refused, unreachable and unresolvable, in both releases', () => {
  const refused = (p: CurlProfile): CurlEnv => scene(p, { [BACKEND]: (ip) => ({ kind: 'refused', ip, elapsedMs: 2 }) });
  assert.equal(curl(['curl', 'backend'], '', refused('curl-7.64')).stderr, 'curl: (7) Failed to connect to backend port 80: Connection refused\n');
  assert.equal(curl(['curl', 'backend:8080'], '', refused('curl-7.88')).stderr, "curl: (7) Failed to connect to backend port 8080 after 2 ms: Couldn't connect to server\n");
  const unreach = curl(['curl', 'http://10.9.9.9/'], '', scene('curl-7.64', {}));
  assert.deepEqual([unreach.stderr, unreach.code], ['curl: (7) Failed to connect to 10.9.9.9 port 80: No route to host\n', 7]);
  for (const p of ['curl-7.64', 'curl-7.88'] as const) {
    const r = curl(['curl', 'nosuch'], '', scene(p, {}));
    assert.deepEqual([r.stderr, r.code], ['curl: (6) Could not resolve host: nosuch\n', 6]);
  }
});

test('-s hides the error line, -sS shows it; the exit status stays', () => {
  const s = curl(['curl', '-s', 'db'], '', article('curl-7.64'));
  assert.deepEqual([s.stdout, s.stderr, s.code], ['', '', 7]);
  const sS = curl(['curl', '-sS', 'db'], '', article('curl-7.64'));
  assert.equal(sS.stderr, 'curl: (7) Failed to connect to db port 80: Connection timed out\n');
});

test("curl's own timers: --connect-timeout and -m fire before the kernel gives up", () => {
  assert.equal(curl(['curl', '--connect-timeout', '5', 'db'], '', article('curl-7.64')).stderr, 'curl: (28) Connection timed out after 5001 milliseconds\n');
  assert.equal(curl(['curl', '--connect-timeout', '5', 'db'], '', article('curl-7.88')).stderr, 'curl: (28) Failed to connect to db port 80 after 5001 ms: Timeout was reached\n');
  const m = curl(['curl', '-m', '2', 'db'], '', article('curl-7.88'));
  assert.deepEqual([m.stderr, m.code], ['curl: (28) Connection timed out after 2001 milliseconds\n', 28]);
});

test('HTTP: -f on 404 (reason phrase only before 7.88), -i and -I headers, -w %{http_code}', () => {
  const notFound: HttpResponse = { version: 'HTTP/1.1', status: 404, reason: 'Not Found', headers: [['Content-Length', '0']], body: '' };
  const env = (p: CurlProfile): CurlEnv => scene(p, { [BACKEND]: (ip) => ({ kind: 'connected', ip }) }, notFound);
  assert.deepEqual(
    [curl(['curl', '-f', 'backend/x'], '', env('curl-7.64')).stderr, curl(['curl', '-f', 'backend/x'], '', env('curl-7.88')).stderr],
    ['curl: (22) The requested URL returned error: 404 Not Found\n', 'curl: (22) The requested URL returned error: 404\n'],
  );
  assert.equal(curl(['curl', '-f', 'backend/x'], '', env('curl-7.88')).code, 22);
  const ok = article('curl-7.88');
  const i = curl(['curl', '-i', 'backend'], '', ok);
  assert.ok(i.stdout.startsWith('HTTP/1.1 200 OK\r\nServer: nginx/1.14.2\r\n'));
  assert.ok(i.stdout.endsWith('\r\n\r\nbackend-867fd6dff-mjf92\n'));
  assert.ok(!curl(['curl', '-I', 'backend'], '', ok).stdout.includes('backend-867fd6dff'));
  const w = curl(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', 'backend'], '', ok);
  assert.deepEqual([w.stdout, w.stderr], ['200\n', '']);
  assert.equal(curl(['curl', '-s', '-w', '%{http_code}', 'db'], '', ok).stdout, '000');
});

test('the progress meter appears when the body goes to a file (or stdout is no terminal)', () => {
  const r = curl(['curl', '-o', '/dev/null', 'backend'], '', article('curl-7.88'));
  const lines = r.stderr.split('\n');
  assert.equal(lines[0], '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current');
  assert.match(lines[2], /\r100 {4}24 {2}100 {4}24 {4}0 {5}0 +\d+ {6}0 --:--:-- --:--:-- --:--:-- +\d+$/);
  assert.equal(curl(['curl', 'backend'], '', article('curl-7.88')).stderr, '');
});

test('the command line: bundled flags, unknown options, bad numbers, protocols and ports', () => {
  const p = parseCurl(['curl', '-sSfo', '/dev/null', '-H', 'Host: x', '--max-time=3', 'http://backend:8080/healthz']);
  assert.ok(!('code' in p));
  if (!('code' in p)) {
    assert.deepEqual([p.silent, p.showError, p.fail, p.output, p.timeoutSec, p.host, p.port, p.path], [true, true, true, '/dev/null', 3, 'backend', 8080, '/healthz']);
    assert.deepEqual(p.headers, [['Host', 'x']]);
  }
  const bad = (argv: string[]): [string, number] => {
    const r = parseCurl(argv);
    return 'code' in r ? [r.stderr, r.code] : ['', 0];
  };
  assert.deepEqual(bad(['curl']), ["curl: try 'curl --help' or 'curl --manual' for more information\n", 2]);
  assert.deepEqual(bad(['curl', '--foo', 'x']), ["curl: option --foo: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2]);
  assert.deepEqual(bad(['curl', '-m', 'abc', 'x']), ["curl: option -m: expected a proper numerical parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2]);
  assert.deepEqual(bad(['curl', 'ftpx://a']), ['curl: (1) Protocol "ftpx" not supported or disabled in libcurl\n', 1]);
  assert.deepEqual(bad(['curl', 'http://a:99999/']), ['curl: (3) URL using bad/illegal format or missing URL\n', 3]);
  // formatCurl alone: the lab can hand results it gathered itself.
  const r = formatCurl(p as Exclude<typeof p, { code: number }>, { resolution: { ok: false, code: 'EAI_AGAIN', message: '' }, attempts: [] });
  assert.equal(r.code, 6);
});
