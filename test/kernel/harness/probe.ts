// The probe client and servers of a kernel lab, seen from the test process: one agent process
// per host (agent.mjs, inside the host's namespace) serves the host's ports and runs TCP/UDP
// probes; ICMP echo goes through icmp-echo.pl (raw socket) in the same namespace.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { killPid, run, trackPid, untrackPid } from './netns.ts';

export type ProbeProto = 'tcp' | 'udp' | 'icmp';
export type ProbeOutcome = 'delivered' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ProbeSpec {
  /** Host name (as in the lab document) the probe leaves from. */
  from: string;
  /** Destination IPv4 address. */
  to: string;
  /** Destination port (tcp, udp). */
  port?: number;
  proto: ProbeProto;
  /** Fixed source port (tcp, udp); default 40000. */
  sport?: number;
  /** Source address to bind; default: chosen by routing. */
  src?: string;
  /** Default 600 ms: shorter than the first SYN retransmit (1 s), so a dropped SYN times out cleanly. */
  timeoutMs?: number;
}

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Name of the host whose server answered (tcp, udp). */
  server?: string;
  /** "ip:port" of the client as the server saw it (reveals SNAT). */
  peer?: string;
  /** Errno code, ICMP type/code, echo reply source, or what went wrong. */
  detail?: string;
}

export const DEFAULT_SPORT = 40000;
export const DEFAULT_PROBE_TIMEOUT_MS = 600;

const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
const ICMP_ECHO = fileURLToPath(new URL('./icmp-echo.pl', import.meta.url));

interface AgentReply {
  id?: number;
  ready?: boolean;
  fatal?: string;
  error?: string;
  addresses?: string[];
  outcome?: ProbeOutcome;
  server?: string;
  peer?: string;
  detail?: string;
}

/** The agent process of one host: its servers, and the client that probes from the host. */
export class HostAgent {
  readonly host: string;
  readonly ns: string;
  private child: ChildProcessWithoutNullStreams;
  private pending = new Map<number, (r: AgentReply) => void>();
  private nextId = 1;
  private stderr = '';
  private readyWaiters: Array<(r: AgentReply) => void> = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;

  constructor(ns: string, host: string, listen: ReadonlyArray<{ port: number; proto: string }>) {
    this.ns = ns;
    this.host = host;
    const served = listen.filter((l) => l.proto === 'tcp' || l.proto === 'udp');
    // A plain node: whatever NODE_OPTIONS the test runner has (loaders) only slows the start.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, host, JSON.stringify(served)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    const pid = this.child.pid;
    if (pid !== undefined) trackPid(pid);
    // The agent must not keep the test process alive: a lab that was never destroyed is
    // cleaned up by the exit hook instead of hanging the run. Pending requests hold timers,
    // which keep the loop alive while an answer is awaited.
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    this.exitPromise = new Promise((resolve) => {
      this.child.on('close', () => {
        this.exited = true;
        if (pid !== undefined) untrackPid(pid);
        const gone: AgentReply = { fatal: `agent of ${host} exited: ${this.stderr.trim()}` };
        for (const w of this.readyWaiters) w(gone);
        for (const w of this.pending.values()) w({ error: gone.fatal });
        this.readyWaiters = [];
        this.pending.clear();
        resolve();
      });
    });
    this.child.on('error', (err) => (this.stderr += String(err.message)));
    this.child.stdin.on('error', () => undefined);
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    let buf = '';
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.onLine(line);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(line: string): void {
    let msg: AgentReply;
    try {
      msg = JSON.parse(line) as AgentReply;
    } catch {
      this.stderr += `bad agent output: ${line}\n`;
      return;
    }
    if (msg.id !== undefined) {
      const w = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      w?.(msg);
    } else if (msg.ready || msg.fatal) {
      for (const w of this.readyWaiters) w(msg);
      this.readyWaiters = [];
    }
  }

  /** Resolves once every server of the host listens; throws on failure or after timeoutMs. */
  async ready(timeoutMs = 5000): Promise<void> {
    const msg = await new Promise<AgentReply>((resolve) => {
      const timer = setTimeout(
        () => resolve({ fatal: `agent of ${this.host} not ready after ${timeoutMs} ms ${this.stderr.trim()}` }),
        timeoutMs,
      );
      this.readyWaiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    if (!msg.ready) throw new Error(`servers of host ${this.host}: ${msg.fatal ?? 'not ready'}`);
  }

  private request(cmd: Record<string, unknown>, timeoutMs: number): Promise<AgentReply> {
    if (this.exited) return Promise.resolve({ error: `agent of ${this.host} has exited: ${this.stderr.trim()}` });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ error: `agent of ${this.host} did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
  }

  /** Bind UDP servers to addresses added since the start (e.g. by the journal). */
  async rescan(): Promise<string[]> {
    const r = await this.request({ op: 'rescan' }, 5000);
    if (r.error) throw new Error(r.error);
    return r.addresses ?? [];
  }

  async probe(spec: ProbeSpec): Promise<ProbeResult> {
    const timeoutMs = spec.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    if (spec.port === undefined) return { outcome: 'error', detail: `${spec.proto} probe needs a port` };
    const r = await this.request(
      { op: 'probe', proto: spec.proto, to: spec.to, port: spec.port, sport: spec.sport ?? DEFAULT_SPORT, src: spec.src, timeoutMs },
      timeoutMs + 6000, // bind retries, the wait for a connected server's answer, a busy CPU
    );
    if (r.error) return { outcome: 'error', detail: r.error };
    const out: ProbeResult = { outcome: r.outcome ?? 'error' };
    if (r.server !== undefined) out.server = r.server;
    if (r.peer !== undefined) out.peer = r.peer;
    if (r.detail !== undefined) out.detail = r.detail;
    return out;
  }

  /** Kill the agent by its PID and wait (bounded) until it is gone. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (this.exited || pid === undefined) return;
    killPid(pid, 'SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitPromise, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }
}

// Linux errno numbers that sendto() reports for routing failures.
const SEND_ERRNO: Record<number, { outcome: ProbeOutcome; name: string }> = {
  101: { outcome: 'unreachable', name: 'ENETUNREACH' },
  113: { outcome: 'unreachable', name: 'EHOSTUNREACH' },
  1: { outcome: 'error', name: 'EPERM' },
  13: { outcome: 'error', name: 'EACCES' },
};

/**
 * ICMP echo from `ns`. An echo reply = delivered (detail: the reply's source). Destination
 * unreachable code 3 (port unreachable, as `-j REJECT` sends by default) = refused, like a
 * refused connection; other ICMP errors = unreachable (detail "icmp TYPE CODE from X").
 */
export async function icmpProbe(ns: string, spec: ProbeSpec): Promise<ProbeResult> {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  // (the engine's echo: ping's 84-byte packet, the probe's source port as its id)
  const r = await run(['ip', 'netns', 'exec', ns, 'perl', ICMP_ECHO, spec.to, spec.src ?? '-', String(timeoutMs), '56', String(spec.sport ?? DEFAULT_SPORT)], {
    timeoutMs: timeoutMs + 5000,
  });
  const line = r.stdout.trim();
  const [word, ...rest] = line.split(/\s+/);
  switch (word) {
    case 'reply':
      return { outcome: 'delivered', detail: `reply from ${rest[0]}` };
    case 'icmp': {
      const [type, code, from] = rest;
      const refused = type === '3' && code === '3';
      return { outcome: refused ? 'refused' : 'unreachable', detail: `icmp ${type} ${code} from ${from}` };
    }
    case 'senderr': {
      const known = SEND_ERRNO[Number(rest[0])];
      return { outcome: known?.outcome ?? 'error', detail: known?.name ?? rest.slice(1).join(' ') };
    }
    case 'timeout':
      return { outcome: 'timeout' };
    default:
      return { outcome: 'error', detail: line || r.stderr.trim() || `icmp-echo exited ${r.code}` };
  }
}
