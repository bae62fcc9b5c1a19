import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectOutcome } from '../../../main/engine/shell/netclients/common.ts';
import { nginxResponse } from '../../../main/engine/shell/netclients/curl.ts';
import { nc, parseNc } from '../../../main/engine/shell/netclients/nc.ts';
import { parseWget, wget } from '../../../main/engine/shell/netclients/wget.ts';
import { podEnv } from './env.ts';

const BACKEND = '10.96.100.20';
const connect = (ip: string): ConnectOutcome =>
  ip === BACKEND ? { kind: 'connected', ip } : ip === '10.96.100.30' ? { kind: 'timeout', ip, elapsedMs: 129302 } : { kind: 'refused', ip };

const wenv = { ...podEnv(), connect, http: () => nginxResponse('backend-867fd6dff-mjf92\n') };

test('busybox wget -qO- prints the body; without -q it reports the connection and progress', () => {
  assert.deepEqual(wget(['wget', '-qO-', 'backend'], '', wenv), { stdout: 'backend-867fd6dff-mjf92\n', stderr: '', code: 0, changed: false });
  const loud = wget(['wget', '-O-', 'backend'], '', wenv);
  assert.equal(
    loud.stderr,
    'Connecting to backend (10.96.100.20:80)\nwriting to stdout\n-                    100% |********************************|    24  0:00:00 ETA\nwritten to stdout\n',
  );
  const file = wget(['wget', 'http://backend/'], '', wenv);
  assert.equal(file.stdout, '');
  assert.match(file.stderr, /^Connecting to backend \(10\.96\.100\.20:80\)\nsaving to 'index\.html'\nindex\.html {11}100% \|/);
});

test('busybox wget failures: bad address, each errno, HTTP errors; exit status 1', () => {
  const cases: [string[], string][] = [
    [['wget', '-qO-', 'nosuch'], "wget: bad address 'nosuch'\n"],
    [['wget', '-qO-', 'db'], "wget: can't connect to remote host (10.96.100.30): Connection timed out\n"],
    [['wget', '-qO-', 'webapp'], "wget: can't connect to remote host (10.103.46.104): Connection refused\n"],
    [['wget', '-qO-', '-T', '5', 'db'], 'wget: download timed out\n'],
  ];
  for (const [argv, err] of cases) assert.deepEqual([wget(argv, '', wenv).stderr, wget(argv, '', wenv).code], [err, 1], argv.join(' '));
  const notFound = wget(['wget', '-qO-', 'backend/x'], '', { ...wenv, http: () => ({ version: 'HTTP/1.1', status: 404, reason: 'Not Found', headers: [], body: '' }) });
  assert.deepEqual([notFound.stderr, notFound.code], ['wget: server returned error: HTTP/1.1 404 Not Found\n', 1]);
  const usage = parseWget(['wget']);
  assert.ok('code' in usage && usage.code === 1 && usage.stderr.startsWith('BusyBox v1.35.0'));
});

const nenv = { ...podEnv(), connect };

test('nc -zv: success names the service, a name shows its address, -z alone is silent', () => {
  assert.deepEqual(nc(['nc', '-zv', 'backend', '80'], '', nenv), { stdout: '', stderr: 'Connection to backend (10.96.100.20) 80 port [tcp/http] succeeded!\n', code: 0, changed: false });
  assert.equal(nc(['nc', '-zv', '10.96.100.20', '80'], '', nenv).stderr, 'Connection to 10.96.100.20 80 port [tcp/http] succeeded!\n');
  assert.equal(nc(['nc', '-zv', 'backend', '31380'], '', nenv).stderr, 'Connection to backend (10.96.100.20) 31380 port [tcp/*] succeeded!\n');
  assert.deepEqual(nc(['nc', '-z', 'backend', '80'], '', nenv), { stdout: '', stderr: '', code: 0, changed: false });
  // Without -v a failure shows only in the exit status.
  assert.deepEqual(nc(['nc', '-z', 'webapp', '80'], '', nenv), { stdout: '', stderr: '', code: 1, changed: false });
});

test('nc -zv failures: refused, kernel timeout, its own -w timeout, unknown host', () => {
  assert.deepEqual([nc(['nc', '-zv', 'webapp', '80'], '', nenv).stderr, nc(['nc', '-zv', 'webapp', '80'], '', nenv).code], ['nc: connect to webapp (10.103.46.104) port 80 (tcp) failed: Connection refused\n', 1]);
  assert.equal(nc(['nc', '-zv', 'db', '80'], '', nenv).stderr, 'nc: connect to db (10.96.100.30) port 80 (tcp) failed: Connection timed out\n');
  assert.equal(nc(['nc', '-zv', '-w', '3', 'db', '80'], '', nenv).stderr, 'nc: connect to db (10.96.100.30) port 80 (tcp) timed out: Operation now in progress\n');
  assert.deepEqual([nc(['nc', '-zv', 'nosuch', '80'], '', nenv).stderr, nc(['nc', '-zv', 'nosuch', '80'], '', nenv).code], ['nc: getaddrinfo for host "nosuch" port 80: Name or service not known\n', 1]);
});

test('nc: a headless name tries every address; ranges report each port; stdin is relayed without -z', () => {
  const hs = nc(['nc', '-zv', 'webapp-hs', '80'], '', nenv);
  assert.equal(hs.stderr, 'nc: connect to webapp-hs (10.244.120.102) port 80 (tcp) failed: Connection refused\nnc: connect to webapp-hs (10.244.120.103) port 80 (tcp) failed: Connection refused\n');
  const range = nc(['nc', '-zv', '10.96.100.20', '79-80'], '', { ...nenv, connect: (ip, port) => (port === 80 ? { kind: 'connected', ip } : { kind: 'refused', ip }) });
  assert.equal(range.stderr, 'nc: connect to 10.96.100.20 port 79 (tcp) failed: Connection refused\nConnection to 10.96.100.20 80 port [tcp/http] succeeded!\n');
  assert.equal(range.code, 0);
  const talk = nc(['nc', 'backend', '80'], 'GET / HTTP/1.0\r\n\r\n', { ...nenv, exchange: (_ip, _port, input) => (input.startsWith('GET') ? 'HTTP/1.1 200 OK\r\n\r\nbackend-867fd6dff-mjf92\n' : '') });
  assert.equal(talk.stdout, 'HTTP/1.1 200 OK\r\n\r\nbackend-867fd6dff-mjf92\n');
});

test('nc command-line errors are the real ones', () => {
  const err = (argv: string[]): string => {
    const r = parseNc(argv);
    return 'code' in r ? r.stderr : '';
  };
  assert.equal(err(['nc', '-zv', 'x']), 'nc: missing port number\n');
  assert.equal(err(['nc', '-zv', 'x', 'abc']), 'nc: port number invalid: abc\n');
  assert.ok(err(['nc']).startsWith('usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl]'));
  const svc = parseNc(['nc', '-zv', 'x', 'https']);
  assert.ok(!('code' in svc) && svc.ports[0] === 443);
});
