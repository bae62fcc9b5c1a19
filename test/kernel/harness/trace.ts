// Rule-by-rule tracing with `xtables-monitor --trace` inside one namespace (nf_tables backend).
// The caller adds `-t raw -A PREROUTING/OUTPUT ... -j TRACE` rules scoped to its probe; this
// module runs the monitor around a piece of work and parses what it printed. The monitor only
// sees packets once it has joined the NFNLGRP_NFTRACE netlink group, so we wait for that by
// reading its socket's group mask from /proc before running the work.
import { spawn } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import process from 'node:process';
import { killPid, trackPid, untrackPid, waitFor } from './netns.ts';

export interface TraceEvent {
  /** Trace id (8 hex digits); the kernel reuses ids across packets. */
  id: string;
  table: string;
  chain: string;
  /** rule: a rule matched; policy: a base chain's policy applied; return: a return was reported. */
  kind: 'rule' | 'policy' | 'return';
  ruleHandle?: number;
  /** The matched rule as iptables-save prints it ("-A CHAIN ..."). */
  rule?: string;
  /** ACCEPT, DROP, CONTINUE, RETURN, JUMP, GOTO, QUEUE, STOLEN... (rule events). */
  verdict?: string;
  /** Chain jumped or gone to (JUMP/GOTO), or the chain named by a return event. */
  target?: string;
  /** The base chain's policy (policy events). */
  policy?: string;
  /** The PACKET line the event belongs to (fields after the id: IN=... SRC=... DPORT=...). */
  packet?: string;
}

const TRACE_RE = /^ ?TRACE: (\d+) ([0-9a-f]{8}) ([^:\s]+):([^:\s]+):(rule|policy|return):(.*)$/;
const PACKET_RE = /^PACKET: (\d+) ([0-9a-f]{8}) (.*)$/;
// NFT_RETURN (-5 as u32): xtables-monitor prints it raw.
const RAW_VERDICTS: Record<string, string> = { '0xfffffffb': 'RETURN' };

function normaliseVerdict(v: string): { verdict: string; target?: string } {
  const named = RAW_VERDICTS[v];
  if (named) return { verdict: named };
  const colon = v.indexOf(':');
  if (colon > 0) return { verdict: v.slice(0, colon), target: v.slice(colon + 1) };
  return { verdict: v };
}

/** Parse xtables-monitor --trace output into events, in order. */
export function parseTrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const packets = new Map<string, string>();
  for (const line of text.split('\n')) {
    const p = PACKET_RE.exec(line);
    if (p) {
      packets.set(p[2], p[3].trim());
      continue;
    }
    const m = TRACE_RE.exec(line);
    if (!m) continue;
    const [, , id, table, chain, kind, rest] = m;
    const ev: TraceEvent = { id, table, chain, kind: kind as TraceEvent['kind'] };
    const packet = packets.get(id);
    if (packet !== undefined) ev.packet = packet;
    if (kind === 'rule') {
      const r = /^0x([0-9a-f]+):(\S+)\s*(.*)$/.exec(rest);
      if (r) {
        ev.ruleHandle = parseInt(r[1], 16);
        Object.assign(ev, normaliseVerdict(r[2]));
        // The monitor prints "-4 -t TABLE -A CHAIN ..."; keep the iptables-save form.
        const rule = r[3].trim().replace(/^-4 -t \S+ /, '');
        if (rule) ev.rule = rule;
      }
    } else if (kind === 'policy') {
      ev.policy = rest.trim();
    } else if (rest.trim()) {
      ev.target = rest.trim();
    }
    events.push(ev);
  }
  return events;
}

/** Socket inodes of a process, by fd. */
async function socketFds(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
      if (m) out.set(m[1], Number(fd));
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

const NETLINK_NETFILTER = '12';
const NFNLGRP_NFTRACE_BIT = 1 << (9 - 1);

interface TraceSocket {
  fd: number;
  inode: string;
  /** Bytes queued on the socket, not yet read by the monitor. */
  rmem: number;
}

/** The monitor's NETLINK_NETFILTER socket subscribed to the trace group, once it exists. */
async function traceSocket(pid: number): Promise<TraceSocket | undefined> {
  const fds = await socketFds(pid);
  if (!fds.size) return undefined;
  let table: string;
  try {
    // /proc/PID/net is the view of PID's own network namespace.
    table = await readFile(`/proc/${pid}/net/netlink`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    const fd = fds.get(f[9]);
    if (f.length < 10 || f[1] !== NETLINK_NETFILTER || fd === undefined) continue;
    if (parseInt(f[3], 16) & NFNLGRP_NFTRACE_BIT) return { fd, inode: f[9], rmem: Number(f[4]) };
  }
  return undefined;
}

// recvmsg(2), where libmnl waits for the next batch of events.
const RECVMSG_NR: Partial<Record<string, number>> = { x64: 47, arm64: 212 };

/**
 * True when the monitor has printed everything the kernel queued so far: nothing is left on
 * its trace socket and it sleeps in recvmsg() on that socket (it prints and flushes each event
 * before reading again). Without a known syscall number only the queue is checked.
 */
async function monitorIdle(pid: number, fd: number): Promise<boolean> {
  const sock = await traceSocket(pid);
  if (!sock || sock.rmem !== 0) return false;
  const nr = RECVMSG_NR[process.arch];
  if (nr === undefined) return true;
  try {
    const [call, arg0] = (await readFile(`/proc/${pid}/syscall`, 'utf8')).trim().split(/\s+/);
    return Number(call) === nr && parseInt(arg0, 16) === fd;
  } catch {
    return false;
  }
}

export interface TraceOptions {
  /** Max wait for the monitor to subscribe (default 3000 ms). */
  startTimeoutMs?: number;
  /** After the work, wait until the monitor is idle and has been quiet this long (default 40 ms)... */
  settleMs?: number;
  /** ...but no longer than this (default 2000 ms). */
  maxSettleMs?: number;
}

/**
 * Run `work` while `xtables-monitor --trace` listens in namespace `ns`; returns the work's
 * result and the trace events seen meanwhile.
 */
export async function traceInNamespace<T>(
  ns: string,
  work: () => Promise<T>,
  opts: TraceOptions = {},
): Promise<{ result: T; events: TraceEvent[] }> {
  // `ip netns exec` execs the command, so the child pid is the monitor itself.
  const child = spawn('ip', ['netns', 'exec', ns, 'xtables-monitor', '--trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start xtables-monitor');
  trackPid(pid);
  let out = '';
  let err = '';
  let lastOutput = performance.now();
  let exited = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => ((exited = true), resolve())));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    lastOutput = performance.now();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  let result: T;
  try {
    let sock: TraceSocket | undefined;
    await waitFor(async () => exited || (sock = await traceSocket(pid)) !== undefined, opts.startTimeoutMs ?? 3000);
    if (!sock || exited) throw new Error(`xtables-monitor in ${ns} did not start listening: ${err.trim()}`);
    const fd = sock.fd;
    result = await work();
    // Packets the work caused are traced synchronously into the socket; wait until the monitor
    // has printed them all (it fetches each rule's text with a query of its own, which a busy
    // machine can delay well beyond a fixed pause).
    const settleMs = opts.settleMs ?? 40;
    lastOutput = Math.max(lastOutput, performance.now());
    await waitFor(
      async () => performance.now() - lastOutput >= settleMs && (await monitorIdle(pid, fd)),
      opts.maxSettleMs ?? 2000,
      10,
    );
  } finally {
    killPid(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    if (!exited) killPid(pid, 'SIGKILL');
    untrackPid(pid);
  }
  // 'close' came after the monitor's stdout reached its end: every printed line is in `out`.
  return { result, events: parseTrace(out) };
}
