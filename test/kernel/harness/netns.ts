// Network-namespace lifecycle for kernel tests: unique names, bounded command runs, and cleanup
// that also happens when the test process is interrupted. Nothing here touches the root
// namespace: every namespace we create is recorded BEFORE it exists, so a failure half-way
// still removes it, and helper processes are killed by the PIDs we spawned.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import process from 'node:process';

/** All namespaces of this harness start with this; the pid that made them follows. */
export const NS_PREFIX = 'kth';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  stdin?: string;
  /** Kill the command (SIGKILL, by pid) after this long; code becomes 124. */
  timeoutMs?: number;
}

const ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' };

/** Run a program with bounded time; never throws for a non-zero exit. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: ENV });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killPid(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ stdout, stderr: stderr + String(err.message), code: 127 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ stdout, stderr: `${stderr}(killed after ${timeoutMs} ms)\n`, code: 124 });
      else resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) });
    });
    // A command that does not read stdin may close it early: ignore EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Like run() but a non-zero exit throws with the command's stderr. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

export function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// ---- prerequisites -------------------------------------------------------------------------

/** Tools the harness runs, with the Debian package that brings each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  ip: 'iproute2',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  'xtables-monitor': 'iptables',
  ipset: 'ipset',
  conntrack: 'conntrack',
  sysctl: 'procps',
  perl: 'perl-base', // ICMP echo probe (ping is not installed on these machines)
};

function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Throws a clear error when the kernel tests cannot run here: not root, or a tool missing. */
export function checkKernelPrereqs(): void {
  const problems: string[] = [];
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    problems.push(`must run as root (uid is ${typeof process.getuid === 'function' ? process.getuid() : 'unknown'})`);
  }
  const missing = Object.keys(REQUIRED_TOOLS).filter((t) => !onPath(t));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => REQUIRED_TOOLS[t]))];
    problems.push(`missing tools: ${missing.join(', ')} (apt-get install ${pkgs.join(' ')})`);
  }
  if (problems.length) throw new Error(`kernel tests cannot run: ${problems.join('; ')}`);
}

// ---- namespace registry and cleanup --------------------------------------------------------

const liveNamespaces = new Set<string>();
const livePids = new Set<number>();
let hooksInstalled = false;
let labCounter = 0;

/** A fresh prefix for one lab: `kth<pid>x<n>`; namespace names append a short suffix. */
export function newLabPrefix(): string {
  labCounter += 1;
  return `${NS_PREFIX}${process.pid}x${labCounter}`;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupAllSync();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

/** Kill every helper and delete every namespace still registered (used on exit/signals). */
export function cleanupAllSync(): void {
  for (const pid of livePids) killPid(pid, 'SIGKILL');
  livePids.clear();
  for (const ns of liveNamespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
  liveNamespaces.clear();
}

export function trackPid(pid: number): void {
  installHooks();
  livePids.add(pid);
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

/** Create a namespace (registered for cleanup before it exists). */
export async function addNamespace(name: string): Promise<void> {
  if (!name.startsWith(NS_PREFIX)) throw new Error(`namespace ${name} lacks the harness prefix ${NS_PREFIX}`);
  installHooks();
  liveNamespaces.add(name);
  await runOk(['ip', 'netns', 'add', name]);
}

/** Delete a namespace we created; killing its processes first is the caller's job. */
export async function deleteNamespace(name: string): Promise<void> {
  if (!liveNamespaces.has(name)) return;
  const r = await run(['ip', 'netns', 'del', name]);
  // "No such file" means it is already gone, which is what we want.
  if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new Error(`ip netns del ${name}: ${r.stderr.trim()}`);
  liveNamespaces.delete(name);
}

export async function listNamespaces(): Promise<string[]> {
  const r = await runOk(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove namespaces this harness left behind in earlier runs that were killed (SIGKILL leaves
 * no chance to clean up). Only names of our own form whose creating pid is dead are touched.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const swept: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = new RegExp(`^${NS_PREFIX}(\\d+)x\\d+`).exec(ns);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    const pids = await run(['ip', 'netns', 'pids', ns]);
    for (const p of pids.stdout.split(/\s+/).filter(Boolean)) killPid(Number(p), 'SIGKILL');
    await run(['ip', 'netns', 'del', ns]);
    swept.push(ns);
  }
  return swept;
}

/** Poll `check` every `everyMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether every link set up in the namespace carries traffic: its carrier is on and, for a
 *  bridge port, the bridge forwards on it. */
async function linksCarry(ns: string): Promise<boolean> {
  const r = await run(['ip', '-n', ns, '-j', '-d', 'link', 'show']);
  if (r.code !== 0) return false;
  const links = JSON.parse(r.stdout) as Array<{ flags?: string[]; operstate?: string; linkinfo?: { info_slave_kind?: string; info_slave_data?: { state?: string } } }>;
  return links.every((l) => {
    if (!l.flags?.includes('UP')) return true;
    if (!l.flags.includes('LOWER_UP') || l.operstate === 'DOWN' || l.operstate === 'LOWERLAYERDOWN') return false;
    return l.linkinfo?.info_slave_kind !== 'bridge' || l.linkinfo.info_slave_data?.state === 'forwarding';
  });
}

/**
 * Waits (bounded) until the links of the namespaces carry traffic. `ip link set up` returns
 * before the carrier comes on: that, and a bridge port's move to forwarding, happen later in a
 * kernel worker, which a busy machine runs late. A first ARP request sent meanwhile is lost,
 * and the next goes a second later, after a probe has given up. Returns false if they never
 * settle (a link whose peer stays down on purpose), which the probes will then show.
 */
export async function linksSettled(namespaces: readonly string[], timeoutMs = 3000): Promise<boolean> {
  const pending = new Set(namespaces);
  return waitFor(async () => {
    for (const ns of [...pending]) if (await linksCarry(ns)) pending.delete(ns);
    return pending.size === 0;
  }, timeoutMs, 20);
}
