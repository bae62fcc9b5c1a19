// The lab's cluster DNS and client tools against the real ones. A network namespace gets the
// kube-dns VIP (10.96.0.10) on its loopback, answered by the engine's CoreDNS (a small UDP
// server run with node inside the namespace), and a pod-like /etc/resolv.conf (bind-mounted
// in a private mount namespace). Then the real nslookup, dig, curl, busybox wget, nc and ping
// run there, and the engine's versions run on the same data with the outcome the kernel
// produced (refused, timed out, unreachable, the reply times); stdout, stderr and exit status
// must match. The queries the real resolvers sent are compared with the engine's search walk.
//
// Normalised, and only this: dig's random ID and cookie, its query time and date; elapsed
// times are read from the real output and handed to the engine as the lab would.
//
// Network: namespace A holds lo (10.96.0.10, 10.20.0.2 with a python http.server, 10.103.46.104
// and 10.244.120.102 with nothing listening) and a veth to namespace B, where nothing answers:
// 10.20.0.5 (a static neighbour) swallows SYNs, and net.ipv4.tcp_syn_retries=1 makes the
// kernel give up after ~3 s. 10.30.0.1 has no route.
//
// Safety: only namespaces named kpn<pid>x<n> are touched, deleted in `after` and on exit;
// the servers are killed by their pid. Needs root, iproute2, util-linux (unshare), dnsutils,
// netcat-openbsd, iputils-ping, curl, busybox and python3; fails (never skips) without them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { askCoreDns, CoreDns } from '../../main/engine/kube/dns/coredns.ts';
import { TYPE_CODES } from '../../main/engine/kube/dns/message.ts';
import type { KubeDnsData } from '../../main/engine/kube/dns/records.ts';
import { parseResolvConf, stubResolve, type DnsAsk } from '../../main/engine/kube/dns/resolver.ts';
import type { ConnectOutcome, NetEnv } from '../../main/engine/shell/netclients/common.ts';
import { curl, nginxResponse } from '../../main/engine/shell/netclients/curl.ts';
import { dig } from '../../main/engine/shell/netclients/dig.ts';
import { nc } from '../../main/engine/shell/netclients/nc.ts';
import { nslookup } from '../../main/engine/shell/netclients/nslookup.ts';
import { ping, type ProbeOutcome } from '../../main/engine/shell/netclients/ping.ts';
import { wget } from '../../main/engine/shell/netclients/wget.ts';
import type { CommandResult } from '../../main/engine/shell/types.ts';

interface Out {
  stdout: string;
  stderr: string;
  code: number;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' };
const live = new Set<string>();
const children: ChildProcess[] = [];
let counter = 0;
let nsA = '';
let nsB = '';
let tmp = '';
let resolvPath = '';
let dnsLog = '';

const BODY = 'backend-867fd6dff-mjf92\n';
const RESOLV = 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n';
const DATA: KubeDnsData = {
  serial: 1700000000,
  services: [
    { namespace: 'default', name: 'webapp', type: 'NodePort', clusterIP: '10.103.46.104', ports: [{ port: 80, protocol: 'TCP' }] },
    { namespace: 'default', name: 'webapp-hs', clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { namespace: 'default', name: 'backend', clusterIP: '10.20.0.2', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { namespace: 'default', name: 'ext', type: 'ExternalName', externalName: 'example.com' },
    { namespace: 'kube-system', name: 'kube-dns', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
  ],
  endpoints: [
    { namespace: 'default', name: 'webapp', addresses: [{ ip: '10.244.120.102' }, { ip: '10.244.120.103' }], ports: [{ port: 80, protocol: 'TCP' }] },
    { namespace: 'default', name: 'webapp-hs', addresses: [{ ip: '10.244.120.102' }, { ip: '10.244.120.103' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  ],
};

const SERVER = `
const { CoreDns } = await import(process.env.KPL_COREDNS);
const { decodeMessage } = await import(process.env.KPL_MESSAGE);
const dgram = await import('node:dgram');
const dns = new CoreDns(JSON.parse(process.env.KPL_DNS_DATA), {});
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  try {
    const q = decodeMessage(msg).question[0];
    process.stdout.write(JSON.stringify([q.name, q.type]) + '\\n');
  } catch {}
  const out = dns.serveBytes(msg);
  if (out) sock.send(out, rinfo.port, rinfo.address);
});
sock.bind(53, '10.96.0.10', () => process.stdout.write('ready\\n'));
setTimeout(() => process.exit(0), 600000);
`;

function sh(argv: string[], opts: { input?: string; timeout?: number } = {}): Out {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: ENV, timeout: opts.timeout ?? 20_000, input: opts.input ?? '' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? 124 };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function mustOk(argv: string[]): void {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

function cleanup(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
  for (const n of live) sh(['ip', 'netns', 'del', n]);
  live.clear();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = '';
}
process.on('exit', cleanup);

function addNs(): string {
  const name = `kpn${process.pid}x${counter++}`;
  live.add(name);
  mustOk(['ip', 'netns', 'add', name]);
  return name;
}

/** Runs a command in namespace A with the pod's resolv.conf. */
function inPod(argv: string[], timeout = 20_000, input = ''): Out {
  return sh(['ip', 'netns', 'exec', nsA, 'unshare', '-m', 'sh', '-c', `mount --bind ${resolvPath} /etc/resolv.conf && exec "$@"`, 'sh', ...argv], { timeout, input });
}

function waitFor(pred: () => boolean, what: string, ms = 10_000): void {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(50);
  }
}

before(() => {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error('netclients-format tests must run as root');
  for (const tool of ['ip', 'unshare', 'mount', 'dig', 'nslookup', 'nc', 'ping', 'curl', 'busybox', 'python3']) {
    if (sh(['sh', '-c', `command -v ${tool}`]).code !== 0) throw new Error(`netclients-format tests need ${tool} (apt-get install iproute2 util-linux dnsutils netcat-openbsd iputils-ping curl busybox python3)`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'kpl-netclients-'));
  resolvPath = join(tmp, 'resolv.conf');
  writeFileSync(resolvPath, RESOLV);
  mkdirSync(join(tmp, 'www'));
  writeFileSync(join(tmp, 'www', 'index.html'), BODY);
  nsA = addNs();
  nsB = addNs();
  mustOk(['ip', '-n', nsA, 'link', 'set', 'lo', 'up']);
  for (const a of ['10.96.0.10/32', '10.20.0.2/32', '10.103.46.104/32', '10.244.120.102/32']) mustOk(['ip', '-n', nsA, 'addr', 'add', a, 'dev', 'lo']);
  mustOk(['ip', '-n', nsA, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', nsB]);
  mustOk(['ip', '-n', nsA, 'link', 'set', 'v0', 'up']);
  mustOk(['ip', '-n', nsB, 'link', 'set', 'v1', 'up']);
  mustOk(['ip', '-n', nsA, 'addr', 'add', '10.20.0.1/24', 'dev', 'v0']);
  mustOk(['ip', '-n', nsA, 'neigh', 'add', '10.20.0.5', 'lladdr', '02:00:00:00:00:05', 'dev', 'v0', 'nud', 'permanent']);
  mustOk(['ip', 'netns', 'exec', nsA, 'sysctl', '-qw', 'net.ipv4.tcp_syn_retries=1']);

  const dnsProc = spawn('ip', ['netns', 'exec', nsA, process.execPath, '--import', 'tsx', '--input-type=module', '-e', SERVER], {
    cwd: REPO,
    env: {
      ...ENV,
      KPL_DNS_DATA: JSON.stringify(DATA),
      KPL_COREDNS: join(REPO, 'main/engine/kube/dns/coredns.ts'),
      KPL_MESSAGE: join(REPO, 'main/engine/kube/dns/message.ts'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(dnsProc);
  dnsProc.stdout?.setEncoding('utf8');
  dnsProc.stdout?.on('data', (d: string) => (dnsLog += d));
  const httpProc = spawn('ip', ['netns', 'exec', nsA, 'python3', '-m', 'http.server', '80', '--bind', '10.20.0.2'], { cwd: join(tmp, 'www'), env: ENV, stdio: 'ignore' });
  children.push(httpProc);
});

after(cleanup);

/** Waits (bounded) for the DNS server, then for the http server, before the first command. */
async function started(): Promise<void> {
  const until = Date.now() + 20_000;
  while (!dnsLog.includes('ready\n')) {
    if (Date.now() > until) throw new Error('the DNS server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  waitFor(() => sh(['ip', 'netns', 'exec', nsA, 'nc', '-z', '10.20.0.2', '80']).code === 0, 'the http server');
}

let seed = 7;
function env(): NetEnv {
  return {
    resolvConf: parseResolvConf(RESOLV),
    ask: askCoreDns(new CoreDns(DATA)),
    nowMs: Date.UTC(2024, 0, 1),
    random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
  };
}

function normDig(s: string): string {
  return s
    .replace(/id: \d+/g, 'id: N')
    .replace(/COOKIE: [0-9a-f]+/g, 'COOKIE: X')
    .replace(/Query time: \d+ msec/g, 'Query time: N msec')
    .replace(/WHEN: .*/g, 'WHEN: D');
}

function same(ours: CommandResult, real: Out, norm: (s: string) => string = (s) => s, label = ''): void {
  assert.deepEqual({ stdout: norm(ours.stdout), stderr: norm(ours.stderr), code: ours.code }, { stdout: norm(real.stdout), stderr: norm(real.stderr), code: real.code }, label);
}

/** The queries the real resolver sent while `fn` ran (the server's log arrives asynchronously). */
async function queriesDuring(fn: () => void): Promise<[string, number][]> {
  await new Promise((r) => setTimeout(r, 200));
  const mark = dnsLog.length;
  fn();
  await new Promise((r) => setTimeout(r, 200));
  return dnsLog
    .slice(mark)
    .split('\n')
    .filter((l) => l.startsWith('['))
    .map((l) => JSON.parse(l) as [string, number]);
}

// ---- DNS: nslookup and dig --------------------------------------------------------------

const NSLOOKUP_CASES = [
  'nslookup webapp.default',
  'nslookup webapp',
  'nslookup nosuch',
  'nslookup webapp-hs',
  'nslookup ext',
  'nslookup 10.103.46.104',
  'nslookup 10.244.120.102',
  'nslookup 10.1.2.3',
  'nslookup webapp.default.svc.cluster.local 10.96.0.10',
  'nslookup webapp.default.svc.cluster.local.',
  'nslookup -type=srv _http._tcp.webapp-hs',
  'nslookup -type=srv webapp',
  'nslookup -type=a webapp',
  'nslookup -type=aaaa webapp',
  'nslookup -type=soa cluster.local',
  'nslookup -type=cname ext',
  'nslookup -type=ptr 104.46.103.10.in-addr.arpa',
  'nslookup default.svc.cluster.local',
  'nslookup a.b.c.d.e.f',
  'nslookup 10-1-2-3.default.pod',
];

const DIG_CASES = [
  'dig webapp.default.svc.cluster.local',
  'dig nosuch.default.svc.cluster.local',
  'dig +short webapp-hs.default.svc.cluster.local',
  'dig SRV _http._tcp.webapp-hs.default.svc.cluster.local',
  'dig kube-dns.kube-system.svc.cluster.local srv',
  'dig -x 10.103.46.104',
  'dig +search webapp',
  'dig ext.default.svc.cluster.local',
  'dig default.svc.cluster.local',
  'dig +noall +answer webapp-hs.default.svc.cluster.local',
  'dig cluster.local SOA',
  'dig @10.96.0.10 webapp.default.svc.cluster.local',
  'dig webapp.default.svc.cluster.local AAAA',
  'dig +nocookie webapp.default.svc.cluster.local',
  'dig +noedns webapp.default.svc.cluster.local',
  'dig +norecurse webapp.default.svc.cluster.local',
  'dig dns-version.cluster.local TXT',
];

test('nslookup (BIND 9.18): the engine prints what the real tool prints', async () => {
  await started();
  for (const c of NSLOOKUP_CASES) {
    const argv = c.split(' ');
    const real = inPod(argv);
    same(nslookup(argv, '', { ...env(), profile: 'bind9.18' }), real, undefined, c);
  }
});

test('nslookup sends the queries of BIND search walk, in order', async () => {
  await started();
  for (const name of ['webapp.default', 'nosuch', 'a.b.c.d.e.f', 'webapp.default.svc.cluster.local.']) {
    const sent = await queriesDuring(() => inPod(['nslookup', '-type=a', name]));
    const ours: [string, number][] = [];
    const e = env();
    nslookup(['nslookup', '-type=a', name], '', {
      ...e,
      profile: 'bind9.18',
      ask: (s, q) => {
        ours.push([q.question[0].name, q.question[0].type]);
        return e.ask(s, q);
      },
    });
    assert.deepEqual(ours, sent, name);
  }
});

test('dig (9.18): header, flags, OPT, sections, columns and MSG SIZE as the real tool', async () => {
  await started();
  for (const c of DIG_CASES) {
    const argv = c.split(' ');
    same(dig(argv, '', env()), inPod(argv), normDig, c);
  }
});

test('nslookup and dig when the server does not answer or refuses', async () => {
  await started();
  const ask: DnsAsk = (server) => (server === '10.20.0.2' ? { kind: 'refused' } : { kind: 'timeout' });
  for (const c of [
    'nslookup -timeout=1 -retry=1 webapp.default.svc.cluster.local. 10.20.0.5',
    'nslookup -timeout=1 -retry=2 webapp.default.svc.cluster.local. 10.20.0.2',
    'dig +time=1 +tries=2 @10.20.0.5 webapp.default.svc.cluster.local',
    'dig +time=1 +tries=2 @10.20.0.2 webapp.default.svc.cluster.local',
  ]) {
    const argv = c.split(' ');
    const ours = argv[0] === 'dig' ? dig(argv, '', { ...env(), ask }) : nslookup(argv, '', { ...env(), ask, profile: 'bind9.18' });
    same(ours, inPod(argv), normDig, c);
  }
});

test('glibc getaddrinfo walks the search list as the engine stub resolver does', async () => {
  await started();
  for (const name of ['webapp.default', 'nosuch', 'a.b.c.d.e.f', 'webapp-hs', 'default.svc.cluster.local', 'ext']) {
    const sent = await queriesDuring(() => inPod(['curl', '-sS', '--connect-timeout', '1', `http://${name}:9/`]));
    const e = env();
    const r = stubResolve(name, e.resolvConf, e.ask, { flavor: 'glibc', types: [TYPE_CODES.A, TYPE_CODES.AAAA] });
    assert.deepEqual(
      r.queries.map((q) => [q.name, q.type]),
      sent,
      name,
    );
  }
});

// ---- TCP clients -------------------------------------------------------------------------

function afterMs(s: string): number {
  const m = /after (\d+) ms/.exec(s);
  return m ? Number(m[1]) : 0;
}

function connectFor(outcomes: Record<string, (ip: string) => ConnectOutcome>): (ip: string) => ConnectOutcome {
  return (ip) => (outcomes[ip] ?? ((x: string) => ({ kind: 'unreachable', ip: x, errno: 'ENETUNREACH' }) as ConnectOutcome))(ip);
}

test('curl 7.88: bodies, and the error line and exit status of each connect outcome', async () => {
  await started();
  const http404 = { version: 'HTTP/1.0', status: 404, reason: 'File not found', headers: [], body: '' };
  const cases: { argv: string[]; outcome: (real: Out) => Record<string, (ip: string) => ConnectOutcome> }[] = [
    { argv: ['curl', '-sS', 'http://10.20.0.2/'], outcome: () => ({ '10.20.0.2': (ip) => ({ kind: 'connected', ip }) }) },
    { argv: ['curl', '-sS', 'backend'], outcome: () => ({ '10.20.0.2': (ip) => ({ kind: 'connected', ip }) }) },
    { argv: ['curl', '-sS', 'http://10.20.0.2:81/'], outcome: (r) => ({ '10.20.0.2': (ip) => ({ kind: 'refused', ip, elapsedMs: afterMs(r.stderr) }) }) },
    { argv: ['curl', '-sS', 'webapp'], outcome: (r) => ({ '10.103.46.104': (ip) => ({ kind: 'refused', ip, elapsedMs: afterMs(r.stderr) }) }) },
    { argv: ['curl', '-sS', 'http://10.20.0.5/'], outcome: (r) => ({ '10.20.0.5': (ip) => ({ kind: 'timeout', ip, elapsedMs: afterMs(r.stderr) }) }) },
    { argv: ['curl', '-sS', '--connect-timeout', '1', 'http://10.20.0.5/'], outcome: () => ({ '10.20.0.5': (ip) => ({ kind: 'timeout', ip, elapsedMs: 3000 }) }) },
    { argv: ['curl', '-sS', '-m', '1', 'http://10.20.0.5/'], outcome: () => ({ '10.20.0.5': (ip) => ({ kind: 'timeout', ip, elapsedMs: 3000 }) }) },
    { argv: ['curl', '-sS', 'http://10.30.0.1/'], outcome: (r) => ({ '10.30.0.1': (ip) => ({ kind: 'unreachable', ip, errno: 'ENETUNREACH', elapsedMs: afterMs(r.stderr) }) }) },
    { argv: ['curl', '-sS', 'nosuch'], outcome: () => ({}) },
    { argv: ['curl', '-s', 'nosuch'], outcome: () => ({}) },
    { argv: ['curl', '-sSf', 'http://10.20.0.2/nope'], outcome: () => ({ '10.20.0.2': (ip) => ({ kind: 'connected', ip }) }) },
    { argv: ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://10.20.0.2/'], outcome: () => ({ '10.20.0.2': (ip) => ({ kind: 'connected', ip }) }) },
    { argv: ['curl', '--foo', 'x'], outcome: () => ({}) },
    { argv: ['curl', '-m', 'abc', 'x'], outcome: () => ({}) },
    { argv: ['curl', 'http://a:99999/'], outcome: () => ({}) },
  ];
  for (const c of cases) {
    const real = inPod(c.argv);
    const connect = connectFor(c.outcome(real));
    const ours = curl(c.argv, '', {
      ...env(),
      profile: 'curl-7.88',
      connect: (ip) => connect(ip),
      http: (_ip, req) => (req.path === '/nope' ? http404 : nginxResponse(BODY)),
    });
    // curl's own 1 s timer fires a little late on a busy machine: not a different format.
    const norm = (s: string): string => (c.argv.includes('1') ? s.replace(/after 1\d{3} (ms|milliseconds)/, 'after 1xxx $1') : s);
    same(ours, real, norm, c.argv.join(' '));
  }
});

test('busybox wget: body, progress lines, and each failure', async () => {
  await started();
  const http404 = { version: 'HTTP/1.0', status: 404, reason: 'File not found', headers: [], body: '' };
  const cases: { argv: string[]; outcome: Record<string, (ip: string) => ConnectOutcome> }[] = [
    { argv: ['wget', '-qO-', 'http://10.20.0.2/'], outcome: { '10.20.0.2': (ip) => ({ kind: 'connected', ip }) } },
    { argv: ['wget', '-O-', 'http://10.20.0.2/'], outcome: { '10.20.0.2': (ip) => ({ kind: 'connected', ip }) } },
    { argv: ['wget', '-O-', 'backend'], outcome: { '10.20.0.2': (ip) => ({ kind: 'connected', ip }) } },
    { argv: ['wget', '-qO-', 'http://10.20.0.2/nope'], outcome: { '10.20.0.2': (ip) => ({ kind: 'connected', ip }) } },
    { argv: ['wget', '-qO-', 'http://10.20.0.2:81/'], outcome: { '10.20.0.2': (ip) => ({ kind: 'refused', ip }) } },
    { argv: ['wget', '-qO-', 'http://10.20.0.5/'], outcome: { '10.20.0.5': (ip) => ({ kind: 'timeout', ip, elapsedMs: 3000 }) } },
    { argv: ['wget', '-O-', 'webapp'], outcome: { '10.103.46.104': (ip) => ({ kind: 'refused', ip }) } },
    { argv: ['wget', '-qO-', 'http://10.30.0.1/'], outcome: {} },
    { argv: ['wget', '-qO-', 'nosuch'], outcome: {} },
    { argv: ['wget'], outcome: {} },
  ];
  for (const c of cases) {
    const real = inPod(['busybox', ...c.argv]);
    const connect = connectFor(c.outcome);
    const ours = wget(c.argv, '', { ...env(), connect: (ip) => connect(ip), http: (_ip, req) => (req.path === '/nope' ? http404 : nginxResponse(BODY)) });
    same(ours, real, undefined, c.argv.join(' '));
  }
});

test('openbsd nc -z: success, refusal, timeouts, names with their addresses', async () => {
  await started();
  const listening = (port: number) => (ip: string) => ({ kind: port === 80 && ip === '10.20.0.2' ? 'connected' : 'refused', ip }) as ConnectOutcome;
  const cases: { argv: string[]; outcome: (ip: string, port: number) => ConnectOutcome }[] = [
    { argv: ['nc', '-zv', '10.20.0.2', '80'], outcome: (ip, p) => listening(p)(ip) },
    { argv: ['nc', '-z', '10.20.0.2', '80'], outcome: (ip, p) => listening(p)(ip) },
    { argv: ['nc', '-z', '10.20.0.2', '81'], outcome: (ip, p) => listening(p)(ip) },
    { argv: ['nc', 'webapp', '80'], outcome: (ip) => ({ kind: 'refused', ip }) },
    { argv: ['nc', '-zv', '10.20.0.2', '79-81'], outcome: (ip, p) => listening(p)(ip) },
    { argv: ['nc', '-zv', 'backend', 'http'], outcome: (ip, p) => listening(p)(ip) },
    { argv: ['nc', '-zv', 'webapp', '80'], outcome: (ip) => ({ kind: 'refused', ip }) },
    { argv: ['nc', '-zv', 'webapp-hs', '80'], outcome: (ip) => (ip === '10.244.120.102' ? { kind: 'refused', ip } : { kind: 'unreachable', ip, errno: 'ENETUNREACH' }) },
    { argv: ['nc', '-zv', '10.20.0.5', '80'], outcome: (ip) => ({ kind: 'timeout', ip, elapsedMs: 3000 }) },
    { argv: ['nc', '-zv', '-w', '1', '10.20.0.5', '80'], outcome: (ip) => ({ kind: 'timeout', ip, elapsedMs: 3000 }) },
    { argv: ['nc', '-zv', '10.30.0.1', '80'], outcome: (ip) => ({ kind: 'unreachable', ip, errno: 'ENETUNREACH' }) },
    { argv: ['nc', '-zv', 'nosuch', '80'], outcome: (ip) => ({ kind: 'refused', ip }) },
    { argv: ['nc', '-zv', '10.20.0.2'], outcome: (ip) => ({ kind: 'refused', ip }) },
    { argv: ['nc', '-zv', '10.20.0.2', 'abc'], outcome: (ip) => ({ kind: 'refused', ip }) },
    { argv: ['nc'], outcome: (ip) => ({ kind: 'refused', ip }) },
  ];
  for (const c of cases) {
    same(nc(c.argv, '', { ...env(), connect: (ip, port) => c.outcome(ip, port) }), inPod(c.argv), undefined, c.argv.join(' '));
  }
});

test('openbsd nc -u: a UDP socket, tested with X datagrams only under -v, refused by ICMP', async () => {
  await started();
  // The DNS server listens on 10.96.0.10 udp/53 (an X is no query: it answers nothing); nothing
  // listens on 10.20.0.2 udp/5353 (ICMP port unreachable).
  const open = (ip: string, port: number): ConnectOutcome => (ip === '10.96.0.10' && port === 53 ? { kind: 'timeout', ip, elapsedMs: 0 } : { kind: 'refused', ip });
  const cases: { argv: string[]; stdin?: string }[] = [
    { argv: ['nc', '-zuv', '-w', '1', '10.96.0.10', '53'] },
    { argv: ['nc', '-zuv', '-w', '1', '10.20.0.2', '5353'] },
    { argv: ['nc', '-zu', '-w', '1', '10.20.0.2', '5353'] },
    { argv: ['nc', '-zuv', '-w', '1', '10.20.0.2', '5353-5354'] },
    { argv: ['nc', '-uv', '-w', '1', '10.20.0.2', '5353'], stdin: 'hello\n' },
    { argv: ['nc', '-u', '-w', '1', '10.20.0.2', '5353'], stdin: 'hello\n' },
    { argv: ['nc', '-uv', '-w', '1', 'kube-dns.kube-system', 'domain'], stdin: 'hello\n' },
  ];
  for (const c of cases) {
    const ours = nc(c.argv, c.stdin ?? '', { ...env(), connect: (ip) => ({ kind: 'refused', ip }), udp: (ip, port) => ({ send: () => open(ip, port) }) });
    same(ours, inPod(c.argv, 20_000, c.stdin ?? ''), undefined, c.argv.join(' '));
  }
});

function replyTimes(s: string): number[] {
  return [...s.matchAll(/time=([\d.]+) ms/g)].map((m) => Math.round(Number(m[1]) * 1000));
}

test('iputils ping: replies, reverse names, losses, statistics', async () => {
  await started();
  const cases: { argv: string[]; reply: boolean }[] = [
    { argv: ['ping', '-c', '2', '-i', '0.2', '10.20.0.2'], reply: true },
    { argv: ['ping', '-c', '2', '-i', '0.2', '-q', '10.20.0.2'], reply: true },
    { argv: ['ping', '-c', '1', 'webapp'], reply: true },
    { argv: ['ping', '-c', '1', 'webapp-hs'], reply: true },
    { argv: ['ping', '-c', '1', '-n', 'webapp'], reply: true },
    { argv: ['ping', '-c', '2', '-i', '0.2', '-W', '1', '10.20.0.5'], reply: false },
    { argv: ['ping', '-c', '1', 'nosuch'], reply: false },
    { argv: ['ping'], reply: false },
    { argv: ['ping', '-c', 'abc', '10.20.0.2'], reply: false },
  ];
  for (const c of cases) {
    const real = inPod(c.argv);
    // With -q the two reply times are the statistics' min and max.
    const rtt = /= ([\d.]+)\/[\d.]+\/([\d.]+)\//.exec(real.stdout);
    const times = c.argv.includes('-q') && rtt ? [Math.round(Number(rtt[1]) * 1000), Math.round(Number(rtt[2]) * 1000)] : replyTimes(real.stdout);
    const elapsed = Number(/time (\d+)ms/.exec(real.stdout)?.[1] ?? 0);
    let n = 0;
    const ours = ping(c.argv, '', {
      ...env(),
      echo: (ip): ProbeOutcome => (c.reply ? { kind: 'reply', from: ip, ttl: 64, rttUs: times[n++] ?? 30 } : { kind: 'lost' }),
    });
    // The engine's own elapsed time is (count-1)*interval; the kernel's is a little more.
    const fix = (s: string): string => s.replace(/time \d+ms/, `time ${elapsed}ms`);
    same({ ...ours, stdout: fix(ours.stdout) }, real, undefined, c.argv.join(' '));
  }
});
