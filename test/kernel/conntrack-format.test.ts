// The engine's conntrack table and `conntrack -L` against the real kernel and conntrack-tools.
//
// Two fresh network namespaces (client A 10.0.0.1 + .5-.7, server B 10.0.0.2 + .20/.30-.32 on
// lo) joined by a veth pair. Node scripts make real connections: a full TCP handshake held open,
// a UDP exchange, a SYN whose reply is blocked (B drops it in INPUT), a SYN to a closed port
// (answered by RST), TCP through a DNAT rule, through a DNAT address range from several client
// addresses, and through an SNAT address range. The same packets are walked through the engine
// (one ConntrackTable per namespace) and both tables are listed with `conntrack -L`.
//
// Normalisations (documented): the timeout field (3rd column) is replaced by "T" because the
// kernel's clock ran on while the scripts worked (we check separately that it is within a few
// seconds of the engine's); lines are compared as sorted sets because the kernel dumps in hash
// order, which depends on a per-boot random seed (the engine lists oldest first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConntrackTable } from '../../main/engine/conntrack/table.ts';
import { conntrack } from '../../main/engine/shell/conntrack.ts';
import { ACK, PSH, RST, SYN, dnat, ip, pass, snat, tcp, udp } from '../engine/conntrack/helpers.ts';
import type { Packet } from '../../main/engine/netfilter/types.ts';

const NS = `kpl${process.pid}ct`;
const A = `${NS}a`;
const B = `${NS}b`;

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, input, stdio: ['pipe', 'pipe', 'pipe'] });
}
function inNs(ns: string, cmd: string[]): { stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { stdout, stderr: '' };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    throw new Error(`${cmd.join(' ')} in ${ns} failed (${err.status}): ${err.stderr ?? ''}`, { cause: e });
  }
}
/** The real `conntrack` in a namespace (it exits 0 for -L); stdout only. */
function realConntrack(ns: string, args: string[]): { stdout: string } {
  return { stdout: execFileSync('ip', ['netns', 'exec', ns, 'conntrack', ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }) };
}

const SERVER = `
import net from 'node:net'; import dgram from 'node:dgram';
const ports = process.argv.slice(2).map(Number);
let pending = ports.length + 1;
const ready = () => { if (--pending === 0) console.log('ready'); };
for (const p of ports) { const s = net.createServer((c) => { c.on('data', (d) => c.write(d)); c.on('error', () => {}); }); s.listen(p, '0.0.0.0', ready); }
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(53, '10.0.0.2', ready);
setTimeout(() => process.exit(0), 20000);
`;

const CLIENT = `
import net from 'node:net'; import dgram from 'node:dgram';
const jobs = JSON.parse(process.argv[2]);
const keep = [];
function tcpJob(j) {
  return new Promise((res) => {
    const c = net.connect({ host: j.host, port: j.port, localPort: j.lport, localAddress: j.laddr });
    keep.push(c);
    const t = setTimeout(() => { if (j.mode === 'syn') c.destroy(); res(j.mode === 'syn' ? 'ok' : 'timeout'); }, j.mode === 'syn' ? 400 : 3000);
    c.on('connect', () => c.write('hi'));
    c.on('data', () => { clearTimeout(t); res('ok'); });
    c.on('error', (e) => { clearTimeout(t); res(e.code === 'ECONNREFUSED' && j.mode === 'rst' ? 'ok' : e.code); });
  });
}
function udpJob(j) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4'); keep.push(s);
    const t = setTimeout(() => res('timeout'), 3000);
    s.bind(j.lport, j.laddr, () => s.connect(j.port, j.host, () => s.send('hi')));
    s.on('message', () => { clearTimeout(t); res('ok'); });
    s.on('error', (e) => { clearTimeout(t); res(e.code); });
  });
}
const out = [];
for (const j of jobs) out.push(await (j.proto === 'tcp' ? tcpJob(j) : udpJob(j)));
console.log(JSON.stringify(out));
setTimeout(() => process.exit(0), 20000);
`;

interface Job {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  lport: number;
  laddr: string;
  mode?: 'hold' | 'syn' | 'rst';
}

/** Waits (bounded) for the first stdout line of a child. */
function firstLine(child: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no output within ${ms} ms`)), ms);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before output`));
    });
  });
}

const norm = (lines: string) =>
  lines
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^(\S+ +\d+ )(\d+) /, '$1T '))
    .sort();
const timeouts = (lines: string) =>
  new Map(
    lines
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.replace(/^(\S+ +\d+ )(\d+) /, '$1T '), Number(/^\S+ +\d+ (\d+) /.exec(l)?.[1])]),
  );

test('conntrack -L of real connections matches the engine (client and server side, DNAT, SNAT, SYN-only, RST)', { timeout: 60_000 }, async () => {
  assert.equal(process.getuid?.(), 0, 'kernel tests must run as root');
  for (const tool of ['ip', 'iptables', 'conntrack']) sh('sh', ['-c', `command -v ${tool}`]);
  const dir = mkdtempSync(join(tmpdir(), 'kpl-ct-'));
  const children: ChildProcess[] = [];
  const cleanup = () => {
    for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    for (const ns of [A, B]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGTERM', cleanup);
  try {
    writeFileSync(join(dir, 'server.mjs'), SERVER);
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    for (const ns of [A, B]) {
      sh('ip', ['netns', 'add', ns]);
      for (const k of ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']) inNs(ns, ['sysctl', '-qw', k]);
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    sh('ip', ['-n', A, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', B]);
    for (const a of ['10.0.0.1/24', '10.0.0.5/24', '10.0.0.6/24', '10.0.0.7/24']) inNs(A, ['ip', 'addr', 'add', a, 'dev', 'v0']);
    inNs(B, ['ip', 'addr', 'add', '10.0.0.2/24', 'dev', 'v1']);
    for (const a of ['10.0.0.20/32', '10.0.0.30/32', '10.0.0.31/32', '10.0.0.32/32']) inNs(B, ['ip', 'addr', 'add', a, 'dev', 'lo']);
    inNs(A, ['ip', 'link', 'set', 'v0', 'up']);
    inNs(B, ['ip', 'link', 'set', 'v1', 'up']);
    // Rules: conntrack users in both (a namespace tracks only once something needs it), the
    // blocked port, DNAT in B, SNAT range in A.
    const rulesA = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -p tcp --dport 8083 -j SNAT --to-source 10.0.0.5-10.0.0.7\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m conntrack --ctstate NEW\nCOMMIT\n';
    const rulesB = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.20:80\n-A PREROUTING -p tcp --dport 8082 -j DNAT --to-destination 10.0.0.30-10.0.0.32:80\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 82 -j DROP\nCOMMIT\n';
    execFileSync('ip', ['netns', 'exec', A, 'iptables-restore'], { input: rulesA, timeout: 10_000 });
    execFileSync('ip', ['netns', 'exec', B, 'iptables-restore'], { input: rulesB, timeout: 10_000 });

    const server = spawn('ip', ['netns', 'exec', B, process.execPath, join(dir, 'server.mjs'), '80', '8083'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(server);
    assert.equal(await firstLine(server, 8000), 'ready');
    // nothing listens on 84: the SYN there is answered by a RST
    const jobs: Job[] = [
      { proto: 'tcp', host: '10.0.0.2', port: 80, lport: 45001, laddr: '10.0.0.1', mode: 'hold' },
      { proto: 'udp', host: '10.0.0.2', port: 53, lport: 45002, laddr: '10.0.0.1' },
      { proto: 'tcp', host: '10.0.0.2', port: 82, lport: 45003, laddr: '10.0.0.1', mode: 'syn' },
      { proto: 'tcp', host: '10.0.0.2', port: 84, lport: 45004, laddr: '10.0.0.1', mode: 'rst' },
      { proto: 'tcp', host: '10.0.0.2', port: 8080, lport: 45005, laddr: '10.0.0.1', mode: 'hold' },
      { proto: 'tcp', host: '10.0.0.2', port: 8082, lport: 45006, laddr: '10.0.0.1', mode: 'hold' },
      { proto: 'tcp', host: '10.0.0.2', port: 8082, lport: 45007, laddr: '10.0.0.5', mode: 'hold' },
      { proto: 'tcp', host: '10.0.0.2', port: 8082, lport: 45008, laddr: '10.0.0.6', mode: 'hold' },
      { proto: 'tcp', host: '10.0.0.2', port: 8082, lport: 45009, laddr: '10.0.0.7', mode: 'hold' },
      { proto: 'tcp', host: '10.0.0.2', port: 8083, lport: 45010, laddr: '10.0.0.1', mode: 'hold' },
    ];
    const client = spawn('ip', ['netns', 'exec', A, process.execPath, join(dir, 'client.mjs'), JSON.stringify(jobs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(client);
    const results = JSON.parse(await firstLine(client, 15000)) as string[];
    assert.deepEqual(results, jobs.map(() => 'ok'));

    const realA = realConntrack(A, ['-L']).stdout;
    const realB = realConntrack(B, ['-L']).stdout;

    // --- the same packets through the engine -------------------------------------------------
    const tA = new ConntrackTable();
    const tB = new ConntrackTable();
    const now = 0;
    const dnatB = (p: Packet) =>
      p.proto === 6 && p.dport === 8080 ? dnat('10.0.0.20', 80) : p.proto === 6 && p.dport === 8082 ? dnat('10.0.0.30', 80, { maxIp: ip('10.0.0.32') }) : undefined;
    const snatA = (p: Packet) => (p.proto === 6 && p.dport === 8083 ? snat('10.0.0.5', '10.0.0.7') : undefined);
    const rng = () => 0.5;
    /** client -> server packet: A's OUTPUT/POSTROUTING, then B's PREROUTING/INPUT. */
    const up = (p: Packet, dropInB = false) => {
      const a = pass(tA, p, now, { snat: snatA(p), rng });
      if (dropInB) {
        // B's filter INPUT drops it: B's entry is never confirmed.
        const r = tB.track(a.out, now);
        assert.equal(r.kind === 'tracked' && r.isNew, true);
        return a.out;
      }
      return pass(tB, a.out, now, { dnat: dnatB(a.out), rng }).out;
    };
    /** server -> client packet (the server answers the address it saw). */
    const down = (p: Packet) => pass(tA, pass(tB, p, now, { rng }).out, now, { rng }).out;
    const handshake = (laddr: string, lport: number, port: number) => {
      const seen = up(tcp(laddr, lport, '10.0.0.2', port, SYN));
      const back = (flags: number) => tcp(fmt(seen.dst), seen.dport, fmt(seen.src), seen.sport, flags);
      down(back(SYN | ACK));
      up(tcp(laddr, lport, '10.0.0.2', port, ACK));
      up(tcp(laddr, lport, '10.0.0.2', port, PSH | ACK));
      down(back(ACK));
      down(back(PSH | ACK));
      up(tcp(laddr, lport, '10.0.0.2', port, ACK));
    };
    handshake('10.0.0.1', 45001, 80);
    up(udp('10.0.0.1', 45002, '10.0.0.2', 53));
    down(udp('10.0.0.2', 53, '10.0.0.1', 45002));
    up(tcp('10.0.0.1', 45003, '10.0.0.2', 82, SYN), true);
    up(tcp('10.0.0.1', 45004, '10.0.0.2', 84, SYN));
    down(tcp('10.0.0.2', 84, '10.0.0.1', 45004, RST | ACK));
    handshake('10.0.0.1', 45005, 8080);
    for (const [laddr, lport] of [['10.0.0.1', 45006], ['10.0.0.5', 45007], ['10.0.0.6', 45008], ['10.0.0.7', 45009]] as const) handshake(laddr, lport, 8082);
    handshake('10.0.0.1', 45010, 8083);

    const engineA = conntrack(['conntrack', '-L'], '', tA, now);
    const engineB = conntrack(['conntrack', '-L'], '', tB, now);
    assert.deepEqual(norm(engineA.stdout), norm(realA), 'client namespace');
    assert.deepEqual(norm(engineB.stdout), norm(realB), 'server namespace');
    // the timeouts differ only by the seconds the scripts took
    for (const [real, eng] of [[realA, engineA.stdout], [realB, engineB.stdout]]) {
      const rt = timeouts(real);
      for (const [k, v] of timeouts(eng)) assert.ok(v - (rt.get(k) ?? -100) >= 0 && v - (rt.get(k) ?? -100) <= 10, `${k}: engine ${v} kernel ${rt.get(k)}`);
    }
    // states: SYN only -> SYN_SENT [UNREPLIED]; full handshake -> ESTABLISHED [ASSURED]
    assert.match(realA, /SYN_SENT src=10\.0\.0\.1 dst=10\.0\.0\.2 sport=45003 dport=82 \[UNREPLIED\]/);
    assert.match(realA, /ESTABLISHED src=10\.0\.0\.1 dst=10\.0\.0\.2 sport=45001 dport=80 src=10\.0\.0\.2 dst=10\.0\.0\.1 sport=80 dport=45001 \[ASSURED\]/);
    assert.doesNotMatch(realB, /dport=82 /);
    assert.doesNotMatch(realA + realB, /dport=84 /);
    // the summary line is the tool's
    const summary = execFileSync('sh', ['-c', `ip netns exec ${A} conntrack -L 2>&1 >/dev/null`], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(engineA.stderr, summary);
    // filtered and extended listings agree too
    for (const args of [['-L', '-p', 'tcp', '--state', 'ESTABLISHED'], ['-L', '-g'], ['-L', '-n'], ['-L', '-o', 'extended'], ['-L', '-u', 'UNREPLIED'], ['-L', '-p', 'udp', '-o', 'save']]) {
      const ns = args.includes('-g') ? B : A;
      const t = ns === A ? tA : tB;
      const real = realConntrack(ns, args).stdout.replace(/ -t \d+ /g, ' -t T ').replace(/^(ipv4 +2 \S+ +\d+ )(\d+) /gm, '$1T ');
      const eng = conntrack(['conntrack', ...args], '', t, now).stdout.replace(/ -t \d+ /g, ' -t T ').replace(/^(ipv4 +2 \S+ +\d+ )(\d+) /gm, '$1T ');
      assert.deepEqual(norm(eng), norm(real), args.join(' '));
    }
  } finally {
    cleanup();
    process.removeListener('SIGTERM', cleanup);
  }
});

function fmt(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
