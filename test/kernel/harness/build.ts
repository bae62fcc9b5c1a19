// The real-kernel twin of a lab document: each LAN a Linux bridge in a namespace of its own,
// each host a namespace prepared like a fresh Linux host, each link a veth between them, each
// listening port a real server, then the journal replayed with the real tools. Comparison tests
// run the same commands and probes on the simulator and on this twin.
import { readFileSync } from 'node:fs';
import type { HostDoc, LabDoc } from '../../../shared/lab.ts';
import {
  addNamespace,
  checkKernelPrereqs,
  deleteNamespace,
  linksSettled,
  newLabPrefix,
  run,
  runOk,
  sweepStaleNamespaces,
  type RunResult,
} from './netns.ts';
import { HostAgent, icmpProbe, type ProbeResult, type ProbeSpec } from './probe.ts';
import { traceInNamespace, type TraceEvent, type TraceOptions } from './trace.ts';

export type ExecResult = RunResult;

export interface BuildOptions {
  /** Keep IPv6 on in host namespaces (default off: the simulator models IPv4 only). */
  ipv6?: boolean;
  /** Bound for the servers of all hosts to listen (default 5000 ms). */
  readyTimeoutMs?: number;
  /** Bound for each command (journal entries, exec) (default 10000 ms). */
  commandTimeoutMs?: number;
}

export interface KernelLab {
  readonly doc: LabDoc;
  /** Prefix shared by every namespace of this lab. */
  readonly prefix: string;
  /** Namespace of each host, by host name. */
  readonly hostNamespaces: ReadonlyMap<string, string>;
  /** Namespace of each LAN (holding its bridge `br0`), by LAN name. */
  readonly lanNamespaces: ReadonlyMap<string, string>;
  /** Listening ports that could not be served, with why (e.g. no SCTP in this kernel). */
  readonly unsupported: readonly string[];
  /** Run `argv` in the host's namespace (LC_ALL=C); never throws for a non-zero exit. */
  exec(host: string, argv: string[], stdin?: string): Promise<ExecResult>;
  probe(spec: ProbeSpec): Promise<ProbeResult>;
  /** `iptables-save -c` of the host. */
  counters(host: string): Promise<string>;
  /** Zero rule and policy counters of every table the host has. */
  zeroCounters(host: string): Promise<void>;
  /** `conntrack -L` of the host (stdout only). */
  conntrack(host: string): Promise<string>;
  flushConntrack(host: string): Promise<void>;
  /**
   * Run `work` while xtables-monitor traces in the host's namespace. The caller must have
   * added TRACE rules (raw PREROUTING/OUTPUT) scoped to its probe.
   */
  trace<T>(host: string, work: () => Promise<T>, opts?: TraceOptions): Promise<{ result: T; events: TraceEvent[] }>;
  /** Kill every server by PID and delete every namespace; idempotent. */
  destroy(): Promise<void>;
}

const HOST_SYSCTLS = [
  // A namespace copies the root namespace's conf/* at creation: reset what a fresh host has,
  // BEFORE its links exist so the devices inherit it.
  'net.ipv4.ip_forward=0',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  // Redirects would change later routing after a router forwards back out the same LAN.
  'net.ipv4.conf.all.send_redirects=0',
  'net.ipv4.conf.default.send_redirects=0',
  'net.ipv4.conf.all.accept_redirects=0',
  'net.ipv4.conf.default.accept_redirects=0',
];
const NO_IPV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
// A LAN is a plain switch: bridged frames must not go through its namespace's iptables.
const LAN_SYSCTLS = [
  // The bridge has no address: an IGMP report it sent from 0.0.0.0 would reach every host's
  // PREROUTING (a packet the lab's LANs never send).
  'net.ipv4.igmp_link_local_mcast_reports=0',
  'net.bridge.bridge-nf-call-iptables=0',
  'net.bridge.bridge-nf-call-ip6tables=0',
  'net.bridge.bridge-nf-call-arptables=0',
];

function validate(doc: LabDoc): void {
  const lanNames = new Set<string>();
  for (const l of doc.lans) {
    if (lanNames.has(l.name)) throw new Error(`duplicate LAN ${l.name}`);
    lanNames.add(l.name);
  }
  const hostNames = new Set<string>();
  for (const h of doc.hosts) {
    if (hostNames.has(h.name)) throw new Error(`duplicate host ${h.name}`);
    hostNames.add(h.name);
    const devs = new Set<string>();
    for (const l of h.links) {
      if (!lanNames.has(l.lan)) throw new Error(`host ${h.name}: link ${l.dev} to unknown LAN ${l.lan}`);
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(l.dev) || l.dev === 'lo') throw new Error(`host ${h.name}: bad device name ${l.dev}`);
      if (devs.has(l.dev)) throw new Error(`host ${h.name}: duplicate device ${l.dev}`);
      devs.add(l.dev);
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(l.ip)) throw new Error(`host ${h.name}: ${l.dev} address ${l.ip} is not A.B.C.D/N`);
    }
  }
  for (const e of doc.journal) {
    if (!hostNames.has(e.host)) throw new Error(`journal entry for unknown host ${e.host}`);
    if (!e.argv.length) throw new Error(`empty journal entry for host ${e.host}`);
  }
}

function kernelHasSctp(): boolean {
  try {
    return /^SCTP\s/m.test(readFileSync('/proc/net/protocols', 'utf8'));
  } catch {
    return false;
  }
}

/** Run `ip -batch` in a namespace: one process for many iproute2 commands. */
async function ipBatch(ns: string, lines: string[]): Promise<void> {
  if (!lines.length) return;
  await runOk(['ip', '-n', ns, '-batch', '-'], { stdin: `${lines.join('\n')}\n` });
}

export async function buildKernelLab(doc: LabDoc, opts: BuildOptions = {}): Promise<KernelLab> {
  checkKernelPrereqs();
  validate(doc);
  await sweepStaleNamespaces();

  const prefix = newLabPrefix();
  const commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  const hostNs = new Map<string, string>(doc.hosts.map((h, i) => [h.name, `${prefix}h${i}`]));
  const lanNs = new Map<string, string>(doc.lans.map((l, i) => [l.name, `${prefix}l${i}`]));
  const agents = new Map<string, HostAgent>();
  const unsupported: string[] = [];
  let destroyed = false;

  const nsOf = (host: string): string => {
    const ns = hostNs.get(host);
    if (!ns) throw new Error(`no host ${host} in lab ${doc.name}`);
    return ns;
  };

  const exec = (host: string, argv: string[], stdin?: string): Promise<ExecResult> =>
    run(['ip', 'netns', 'exec', nsOf(host), ...argv], { stdin: stdin ?? '', timeoutMs: commandTimeoutMs });

  const execOk = async (host: string, argv: string[], stdin?: string): Promise<ExecResult> => {
    const r = await exec(host, argv, stdin);
    if (r.code !== 0) throw new Error(`${host}: \`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim()}`);
    return r;
  };

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await Promise.all([...hostNs.values(), ...lanNs.values()].map((ns) => deleteNamespace(ns)));
  };

  const lab: KernelLab = {
    doc,
    prefix,
    hostNamespaces: hostNs,
    lanNamespaces: lanNs,
    unsupported,
    exec,
    async probe(spec) {
      const agent = agents.get(spec.from);
      if (!agent) throw new Error(`no host ${spec.from} in lab ${doc.name}`);
      if (spec.proto === 'icmp') return icmpProbe(agent.ns, spec);
      return agent.probe(spec);
    },
    async counters(host) {
      return (await execOk(host, ['iptables-save', '-c'])).stdout;
    },
    async zeroCounters(host) {
      const saved = (await execOk(host, ['iptables-save'])).stdout;
      const tables = saved.split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1));
      for (const t of tables) await execOk(host, ['iptables', '-t', t, '-Z']);
    },
    async conntrack(host) {
      return (await execOk(host, ['conntrack', '-L'])).stdout;
    },
    async flushConntrack(host) {
      await execOk(host, ['conntrack', '-F']);
    },
    trace(host, work, traceOpts) {
      return traceInNamespace(nsOf(host), work, traceOpts);
    },
    destroy,
  };

  try {
    // Namespaces, then the fresh-host sysctls, before any link exists.
    await Promise.all([...hostNs.values(), ...lanNs.values()].map((ns) => addNamespace(ns)));
    // Servers on every host (the agent also probes from the host, so every host has one).
    // Node takes a while to start: start them now, in parallel with the network set-up; they
    // listen on wildcard addresses and bind per-address UDP sockets after the journal.
    const sctp = kernelHasSctp();
    for (const h of doc.hosts) {
      for (const l of h.listen) {
        if (l.proto === 'sctp') {
          unsupported.push(
            `${h.name} sctp/${l.port}: ${sctp ? 'no SCTP server available (Node has no SCTP sockets)' : 'this kernel has no SCTP (module not loaded)'}`,
          );
        }
      }
      agents.set(h.name, new HostAgent(nsOf(h.name), h.name, h.listen));
    }
    const agentsReady = Promise.all([...agents.values()].map((a) => a.ready(opts.readyTimeoutMs ?? 5000)));
    // Do not let a failure here go unhandled while the set-up below is still running.
    agentsReady.catch(() => undefined);

    const hostSysctls = opts.ipv6 ? HOST_SYSCTLS : [...HOST_SYSCTLS, ...NO_IPV6];
    await Promise.all([
      ...[...hostNs.values()].map((ns) => runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...hostSysctls])),
      // -e: the bridge keys exist only while br_netfilter is loaded.
      ...[...lanNs.values()].map((ns) => runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-e', '-w', ...LAN_SYSCTLS, ...NO_IPV6])),
    ]);

    // Bridges; loopback and veths created inside each host, peers moved straight into the LAN.
    const portName = (hostIdx: number, linkIdx: number): string => `p${hostIdx}x${linkIdx}`;
    await Promise.all([
      ...[...lanNs.values()].map((ns) => ipBatch(ns, ['link add br0 type bridge', 'link set br0 up'])),
      ...doc.hosts.map((h: HostDoc, i) =>
        ipBatch(nsOf(h.name), [
          'link set lo up',
          ...h.links.map((l, j) => `link add ${l.dev} type veth peer name ${portName(i, j)} netns ${lanNs.get(l.lan)}`),
        ]),
      ),
    ]);
    const lanPorts = new Map<string, string[]>();
    doc.hosts.forEach((h, i) =>
      h.links.forEach((l, j) => {
        const ns = lanNs.get(l.lan) as string;
        lanPorts.set(ns, [...(lanPorts.get(ns) ?? []), `link set ${portName(i, j)} master br0`, `link set ${portName(i, j)} up`]);
      }),
    );
    await Promise.all([
      ...[...lanPorts].map(([ns, lines]) => ipBatch(ns, lines)),
      ...doc.hosts.map((h) =>
        ipBatch(nsOf(h.name), h.links.flatMap((l) => [`addr add ${l.ip} dev ${l.dev}`, `link set ${l.dev} up`])),
      ),
    ]);
    // Veth pairs between hosts: made in the first host, the peer moved straight into the other.
    for (const v of doc.veths ?? []) {
      await ipBatch(nsOf(v.a.host), [`link add ${v.a.dev} type veth peer name ${v.b.dev} netns ${nsOf(v.b.host)}`]);
      for (const e of [v.a, v.b]) await ipBatch(nsOf(e.host), [...(e.ip ? [`addr add ${e.ip} dev ${e.dev}`] : []), `link set ${e.dev} up`]);
    }

    // The servers were starting meanwhile; every one must listen before the journal runs.
    await agentsReady;

    // The journal, in order; a failing entry fails the build with its stderr.
    for (const [i, e] of doc.journal.entries()) {
      const r = await exec(e.host, e.argv, e.stdin);
      if (r.code !== 0) {
        throw new Error(`journal entry ${i} on ${e.host}: \`${e.argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
      }
    }
    // UDP servers answer from the address a datagram was sent to: bind the addresses the
    // journal added too.
    await Promise.all([...agents.values()].map((a) => a.rescan()));
    await linksSettled([...hostNs.values(), ...lanNs.values()]);
    return lab;
  } catch (err) {
    await destroy();
    throw err;
  }
}
