// Small Node servers and clients run inside the kernel tests' namespaces (`ip netns exec`),
// where the packets must be exactly the same as the engine's: a UDP echo of the same bytes, a
// TCP server that accepts and holds, a one-shot UDP client and a held TCP connection. Every
// script ends when its stdin closes, and after 60 s in any case.

import { spawn } from 'node:child_process';
import process from 'node:process';
import { Lab } from '../../../main/engine/lab.ts';
import { buildKernelLab, type KernelLab } from './build.ts';
import { labDoc } from './labdoc.ts';
import { killPid, trackPid, untrackPid, waitFor } from './netns.ts';

/** Servers on ADDR: UDP echo on UPORT (the same bytes back), TCP on TPORT accepting and
 *  holding; prints `ready` once both listen. Arguments: ADDR UPORT TPORT. */
export const ECHO_SERVERS = `
import net from 'node:net'; import dgram from 'node:dgram';
const [addr, uport, tport] = process.argv.slice(1);
const held = [];
let n = 2;
const ready = () => { if (--n === 0) console.log('ready'); };
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(m, r.port, r.address));
u.bind(Number(uport), addr, ready);
const t = net.createServer((s) => { held.push(s); s.on('error', () => {}); });
t.listen(Number(tport), addr, ready);
process.stdin.on('close', () => process.exit(0)).resume();
setTimeout(() => process.exit(0), 60000);
`;

/** One UDP exchange from SPORT: 4 bytes out, the echo back; prints `ok`, `timeout` (after
 *  WAIT ms) or `error CODE`. Arguments: TO PORT SPORT WAIT. */
export const UDP_CLIENT = `
import dgram from 'node:dgram';
const [to, port, sport, wait] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(wait));
s.on('message', () => { clearTimeout(t); console.log('ok'); process.exit(0); });
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
s.bind(Number(sport), () => s.send(Buffer.from('kpl\\n'), Number(port), to));
`;

/** A TCP connection from SPORT, held open (no data, no FIN); prints `up` or `error CODE`.
 *  Arguments: TO PORT SPORT. */
export const TCP_CLIENT = `
import net from 'node:net';
const [to, port, sport] = process.argv.slice(1);
const c = net.connect({ host: to, port: Number(port), localPort: Number(sport), family: 4 });
c.on('connect', () => console.log('up'));
c.on('error', (e) => console.log('error ' + e.code));
process.stdin.on('close', () => process.exit(0)).resume();
setTimeout(() => process.exit(0), 60000);
`;

/** A node script in a namespace, running until stop(); started once it printed its first line. */
export async function startScript(ns: string, script: string, args: string[]): Promise<{ first: string; stop: () => void }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.NODE_OPTIONS;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const pid = child.pid;
  if (pid !== undefined) trackPid(pid);
  const stop = () => {
    child.stdin.end();
    if (pid !== undefined) {
      killPid(pid, 'SIGKILL');
      untrackPid(pid);
    }
  };
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.on('error', () => undefined);
  const ok = await waitFor(() => out.includes('\n') || child.exitCode !== null, 10_000, 20);
  if (!ok || !out.includes('\n')) {
    stop();
    throw new Error(`script in ${ns} did not start: ${out}${err}`);
  }
  return { first: out.split('\n')[0], stop };
}

/** Client a and server b on one LAN, in the engine and in namespaces (see echoPair). */
export const PAIR = { A: '192.168.9.10', B: '192.168.9.20', UDP_PORT: 5353, TCP_PORT: 8080 } as const;

export interface EchoPair {
  engine: Lab;
  kernel: KernelLab;
  nsA: string;
  nsB: string;
  /** Stops the scripts started (push more) and removes the namespaces. */
  stops: (() => void)[];
  destroy(): Promise<void>;
}

/**
 * Hosts a and b of PAIR, b tracking connections (an INVALID drop in its INPUT) with
 * net.netfilter.nf_conntrack_acct 0 (a new namespace's default, said in case the machine's
 * module has acct=1), in the engine (b listening on the two ports) and in namespaces (b's
 * ECHO_SERVERS, which answer with the engine's bytes, rather than the harness agent).
 */
export async function echoPair(): Promise<EchoPair> {
  const { A, B, UDP_PORT, TCP_PORT } = PAIR;
  const doc = labDoc({
    hosts: {
      a: { links: [`eth0 lan1 ${A}/24`] },
      b: { links: [`eth0 lan1 ${B}/24`], listen: [`udp/${UDP_PORT}`, `tcp/${TCP_PORT}`] },
    },
    journal: [
      ['b', ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']],
      ['b', ['sysctl', '-w', 'net.netfilter.nf_conntrack_acct=0']],
    ],
  });
  const engine = Lab.fromDoc(doc);
  const kernel = await buildKernelLab({ ...doc, hosts: doc.hosts.map((h) => ({ ...h, listen: [] })) });
  const stops: (() => void)[] = [];
  const destroy = async () => {
    for (const stop of stops) stop();
    await kernel.destroy();
  };
  try {
    const nsA = kernel.hostNamespaces.get('a')!;
    const nsB = kernel.hostNamespaces.get('b')!;
    const servers = await startScript(nsB, ECHO_SERVERS, [B, String(UDP_PORT), String(TCP_PORT)]);
    stops.push(servers.stop);
    if (servers.first !== 'ready') throw new Error(`b's servers: ${servers.first}`);
    return { engine, kernel, nsA, nsB, stops, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
