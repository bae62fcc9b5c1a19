// The speed table of the Linux lab core (`npm run bench`, first of its tables), each engine
// number printed beside the same measurement on the real kernel (in a namespace of its own,
// when run as root with iptables installed). It prints; it does not assert — targets are shown
// beside the numbers. (kernel-connect.mjs is found from the source folder and from the
// bundle's, dist/bench.)

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emptyLab } from '../../shared/lab.ts';
import { Lab } from '../../main/engine/lab.ts';
import { Host } from '../../main/engine/host.ts';
import { IndexCache } from '../../main/engine/netfilter/rule-index.ts';
import { walkPacket } from '../../main/engine/datapath/walk.ts';
import { parseIPv4 } from '../../main/engine/net/ipv4.ts';
import { iptablesRestore } from '../../main/engine/shell/iptables.ts';
import { PROTO, TCP, type Packet } from '../../main/engine/netfilter/types.ts';
import { kubeNatDump } from './gen-kube.ts';

type Row = [string, string, string, string];
const rows: Row[] = [];
const ms = (x: number) => `${x.toFixed(1)} ms`;
const us = (x: number) => `${x.toFixed(1)} µs`;

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const ctx = { now: () => 0, random: Math.random, chance: (p: number) => Math.random() < p, seed: 1 };

/** Restore a dump into a fresh host and build the index of every chain (what a first walk needs). */
function loadHost(text: string): { host: Host; loadMs: number; indexMs: number } {
  const host = new Host('bench', [], ctx);
  const t0 = performance.now();
  const r = iptablesRestore(['iptables-restore'], text, host.nf);
  const t1 = performance.now();
  if (r.code !== 0) throw new Error(`engine restore failed: ${r.stderr}`);
  const nat = host.nf.table('nat')!;
  for (const c of nat.chains.values()) host.index.get(c, host.nf.generation);
  return { host, loadMs: t1 - t0, indexMs: performance.now() - t1 };
}

/** The median of 5 loads after 2 warm-up loads (the JIT compiles the parser during the
 *  first ones), and the very first load, JIT-cold, shown beside it. Each load starts on a
 *  collected heap, as the first one does: otherwise the hosts of the loads before it, garbage
 *  by then, are collected during it (a 100,000-rule host is 60 MB), and a load costs more
 *  the later it comes. */
function engineLoad(services: number): { load: number; index: number; coldLoad: number; coldIndex: number } {
  const dump = kubeNatDump(services);
  const loads: number[] = [];
  const idx: number[] = [];
  let coldLoad = 0;
  let coldIndex = 0;
  for (let i = 0; i < 7; i++) {
    gc();
    const { loadMs, indexMs } = loadHost(dump.text);
    if (i === 0) {
      coldLoad = loadMs;
      coldIndex = indexMs;
    }
    if (i < 2) continue;
    loads.push(loadMs);
    idx.push(indexMs);
  }
  return { load: median(loads), index: median(idx), coldLoad, coldIndex };
}

const loadText = (l: ReturnType<typeof engineLoad>) =>
  `${ms(l.load)} + index ${ms(l.index)} = ${ms(l.load + l.index)} (JIT-cold first run: ${ms(l.coldLoad + l.coldIndex)})`;

function memoryFor(services: number): number {
  const dump = kubeNatDump(services);
  gc();
  const before = process.memoryUsage().heapUsed;
  const { host } = loadHost(dump.text);
  gc();
  const after = process.memoryUsage().heapUsed;
  void host.name;
  return (after - before) / 1024 / 1024;
}

/** One recorded walk of a new connection from the node to a Service (OUTPUT -> DNAT -> out). */
function walkBench(services: number, indexed: boolean, target: 'first' | 'last', runs: number): number {
  const dump = kubeNatDump(services);
  const doc = emptyLab('bench');
  doc.lans = [{ name: 'lan' }];
  doc.hosts = [
    { name: 'node', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.2/24' }] },
    { name: 'gw', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.1/24' }] },
  ];
  doc.journal = [
    { host: 'node', argv: ['ip', 'route', 'add', 'default', 'via', '10.0.0.1'] },
    { host: 'node', argv: ['iptables-restore'], stdin: dump.text },
  ];
  const lab = Lab.fromDoc(doc);
  const node = lab.host('node')!;
  if (!indexed) node.index = new IndexCache(Infinity);
  const dst = parseIPv4(dump.vip(target === 'first' ? 0 : services - 1))!;
  // Finish the collection the lab's 30,000-rule restore started: its marking would
  // otherwise run through the timed walks (which of the walk rows it slowed was chance).
  gc();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const pkt: Packet = { src: 0, dst, proto: PROTO.tcp, sport: 1024 + (i % 60000), dport: 80, tcpFlags: TCP.SYN, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0 };
    if (i % 60000 === 0) node.ct.flush();
    const t0 = performance.now();
    const w = walkPacket(lab, { host: 'node', pkt }, { now: 0 });
    times.push((performance.now() - t0) * 1000);
    if (!w.dnat) throw new Error(`bench walk did not DNAT: ${w.reason}`);
  }
  return median(times.slice(Math.floor(runs / 5)));
}

// ---- the real kernel, for comparison ------------------------------------------------------------

function canUseKernel(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const t of ['ip', 'iptables-restore']) if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} missing`;
  return null;
}

async function kernelMeasures(services: number): Promise<{ restoreMs: number; firstUs: number; lastUs: number } | string> {
  const why = canUseKernel();
  if (why) return why;
  const ns = `kplbench${process.pid}`;
  const sh = (cmd: string, input?: string) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { input, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  spawnSync('ip', ['netns', 'add', ns]);
  let server: ReturnType<typeof spawn> | undefined;
  try {
    // endpoints are local (10.244/16 on lo); the Service range needs a route for connect()
    sh('ip link set lo up && ip addr add 10.244.0.1/16 dev lo && ip route add 10.96.0.0/12 dev lo');
    const dump = kubeNatDump(services);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      sh('iptables -t nat -F; iptables -t nat -X; true');
      const t0 = performance.now();
      sh('iptables-restore', dump.text);
      times.push(performance.now() - t0);
    }
    server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', "require('net').createServer((s) => s.destroy()).listen(8080, () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('bench server did not start')), 5000);
      server!.stdout!.once('data', () => {
        clearTimeout(t);
        resolve();
      });
    });
    const script = fileURLToPath(new URL('../../test/bench/kernel-connect.mjs', import.meta.url));
    const first = `${dump.vip(0)}:80`;
    const last = `${dump.vip(services - 1)}:80`;
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, script, '400', first, last], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`kernel connect probe failed: ${r.stderr}`);
    const med = JSON.parse(r.stdout) as Record<string, number>;
    return { restoreMs: median(times), firstUs: med[first], lastUs: med[last] };
  } catch (e) {
    return (e as Error).message;
  } finally {
    server?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// ---- run ----------------------------------------------------------------------------------------

const SERVICES = 10_000;
const BIG = 33_334; // three rules each: 100,000 nat rules

const k = await kernelMeasures(SERVICES);
const l30 = engineLoad(SERVICES);
const l100 = engineLoad(BIG);
const kernelRestore = typeof k === 'string' ? `n/a (${k})` : ms(k.restoreMs);
rows.push([`load ${kubeNatDump(SERVICES).rules.toLocaleString('en')} nat rules (iptables-restore), median of 5 after 2 warm-up`, loadText(l30), kernelRestore, '< 150 ms']);
rows.push([`load ${kubeNatDump(BIG).rules.toLocaleString('en')} nat rules, the same`, loadText(l100), '', '< 500 ms']);
const wFirst = walkBench(SERVICES, true, 'first', 5000);
const wLast = walkBench(SERVICES, true, 'last', 5000);
const lFirst = walkBench(SERVICES, false, 'first', 300);
const lLast = walkBench(SERVICES, false, 'last', 300);
const kernelWalk = typeof k === 'string' ? 'n/a' : `connect() first ${us(k.firstUs)}, last ${us(k.lastUs)}: +${us(k.lastUs - k.firstUs)}`;
rows.push(['recorded walk, new connection to the first of 10,000 Services (indexed)', us(wFirst), kernelWalk, '']);
rows.push(['recorded walk, new connection to the last of 10,000 Services (indexed)', us(wLast), '', '< 50 µs median']);
rows.push(['the same walks, plain linear evaluation: first / last', `${us(lFirst)} / ${us(lLast)}`, '', '(reference)']);
rows.push(['memory of a host holding 100,000 nat rules (heap)', `${memoryFor(BIG).toFixed(0)} MB`, '', '< 300 MB']);

const widths = [0, 1, 2, 3].map((i) => Math.max(...[['measure', 'engine', 'kernel (same run)', 'target'], ...rows].map((r) => r[i].length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
console.log(line(['measure', 'engine', 'kernel (same run)', 'target']));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
