// The lab: hosts cabled to LANs, built from a lab document by replaying its journal, plus the
// runtime that traces leave behind (conntrack, counters, recent lists, nth counters, the
// random generator). It is the engine's facade for the service: add things, run console
// commands, trace packets, and give back the document to save.

import { CLUSTER_CLIENT } from '../../shared/cluster.ts';
import { LAB_FORMAT, LAB_VERSION, type LabDoc, type ListenSpec, type VethEnd } from '../../shared/lab.ts';
import { Cluster, type ClusterTopology } from './cluster/cluster.ts';
import { DEFAULT_CLUSTER } from './kube/objects/store.ts';
import { resolveFrom, resolveTo, TraceEndError } from './cluster/trace-ends.ts';
import { NET_CLIENTS, resolvConfFor, runNetClient, type NetLab } from './cluster/net-clients.ts';
import { ConntrackTable, ctUndo, markConntrack, undoConntrack, type ConntrackJSON } from './conntrack/table.ts';
import { ctEvents, type CtEvent } from './conntrack/events.ts';
import type { Topology } from './datapath/ports.ts';
import { traceReport, type ReportEnv, type TraceReport } from './datapath/report.ts';
import { clientSocket, closeTcp, runLater, runTrace, type TraceHooks, type TracePhase, type TraceResult } from './datapath/trace.ts';
import { counterUndo, undoCounters } from './datapath/traverse.ts';
import { answerFor, walkPacket, type Injection, type PacketWalk } from './datapath/walk.ts';
import { Host, type LabContext } from './host.ts';
import { formatIPv4, parseIPv4, parsePrefix, type IPv4 } from './net/ipv4.ts';
import type { RecentJson } from './netfilter/recent-store.ts';
import type { NfacctJson } from './netfilter/nfacct-store.ts';
import { ruleSpec } from './netfilter/save.ts';
import { counterClock } from './netfilter/counter-clock.ts';
import { gatherCounters, type CounterEntry, type RuleStateEntry } from './netfilter/counter-gather.ts';
import { PROTO, TCP, type Packet, type Rule, type TableName } from './netfilter/types.ts';
import { tcpFlagList } from './netfilter/matches/tcp.ts';
import { Rng } from './random.ts';
import { followLines, runLine, runProgram, type FollowedLine, type ShellEnv } from './shell/programs.ts';
import type { CommandResult } from './shell/types.ts';

export class LabError extends Error {}

export interface TraceSpec {
  from: string; // HOST or IP@HOST
  to: string; // IP[:PORT]
  proto: 'tcp' | 'udp' | 'sctp' | 'icmp';
  sport?: number;
  iif?: string;
  seed?: number;
  allOutcomes?: boolean;
  keep?: boolean;
  /** Trace the connection's packet after this many later ones (1: the first after the
   *  handshake), walked through the conntrack entries the ones before it left. */
  later?: number;
  /** TCP: the first packet's flags, as iptables names them (`ACK`, `SYN,ACK`, `FIN,ACK`…);
   *  default SYN. */
  tcpFlags?: string;
}

const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const DEFAULT_SPORT = 40000;
/** The most later packets of a connection a trace walks before the one it shows. */
const MAX_LATER = 100;

interface HostRuntime {
  ct?: ConntrackJSON;
  recent?: RecentJson;
  counters?: CounterEntry[];
  ruleState?: RuleStateEntry[];
  /** nfacct objects' counters (the objects themselves come from the journal). */
  nfacct?: NfacctJson;
}

interface Runtime {
  clock: number;
  rng: number;
  hosts: Record<string, HostRuntime>;
}

export class Lab implements Topology, ClusterTopology {
  private readonly doc: LabDoc;
  readonly hosts = new Map<string, Host>();
  /** The Kubernetes cluster, when the lab has one. */
  cluster: Cluster | null = null;
  /** Hosts the cluster made (nodes, pods): not part of the document, rebuilt from it. */
  private readonly derived = new Set<string>();
  private readonly lanMembers = new Map<string, { host: string; dev: string }[]>();
  private readonly netnsIds = new Map<string, Map<string, number>>();
  clock = 0;
  /** Set when something outside the journal changed (the clock): the lab must be saved. */
  runtimeChanged = false;
  private rng: Rng;
  private decide: ((p: number) => boolean) | null = null;
  private readonly ctx: LabContext;

  private constructor(doc: LabDoc) {
    this.doc = { ...doc, lans: [], hosts: [], journal: [] };
    delete this.doc.runtime;
    delete this.doc.veths; // rebuilt by addVeth
    this.rng = new Rng(doc.seed);
    this.ctx = {
      now: () => this.clock,
      random: () => this.rng.next(),
      chance: (p) => (this.decide ? this.decide(p) : this.rng.next() < p),
      seed: doc.seed,
    };
  }

  static fromDoc(doc: LabDoc): Lab {
    const lab = new Lab(doc);
    for (const l of doc.lans) lab.addLan(l.name);
    // The cluster's nodes come before the user's hosts, as they did when the lab was made.
    if (doc.cluster) lab.cluster = new Cluster(doc.cluster, doc.seed, lab);
    for (const h of doc.hosts) {
      lab.addHost(h.name, h.listen);
      for (const k of h.links) lab.addLink(h.name, k.lan, k.ip, k.dev);
    }
    for (const v of doc.veths ?? []) lab.addVeth(v.a, v.b);
    doc.journal.forEach((e, i) => {
      const r = e.host === CLUSTER_CLIENT && lab.cluster ? lab.clusterCommand(e.argv, e.stdin ?? '') : runProgram(e.argv, e.stdin ?? '', lab.shellEnv(lab.hostOrThrow(e.host)));
      if (r.code !== 0) throw new LabError(`journal entry ${i + 1} (${e.host}: ${e.argv.join(' ')}) failed on load: ${r.stderr.trim()}`);
      if (r.changed) {
        lab.cluster?.hostEdited(e.host);
        lab.cluster?.sync();
      } else lab.cluster?.flush();
      lab.doc.journal.push(e.stdin === undefined ? { host: e.host, argv: [...e.argv] } : { host: e.host, argv: [...e.argv], stdin: e.stdin });
    });
    if (doc.runtime !== undefined) lab.applyRuntime(doc.runtime);
    return lab;
  }

  // ---- topology -------------------------------------------------------------------------------

  host(name: string): Host | undefined {
    const h = this.hosts.get(name);
    if (h) for (const save of this.savers) save(h);
    return h;
  }

  /** Snapshots being taken (see `snapshot`): each saves a host the first time it is reached. */
  private readonly savers: ((h: Host) => void)[] = [];

  private hostOrThrow(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new LabError(`no host named "${name}"`);
    return h;
  }

  peers(host: string, dev: string): { host: string; dev: string }[] {
    const attach = this.hosts.get(host)?.net.link(dev)?.attach;
    if (attach?.peer) return [attach.peer];
    const lan = attach?.lan;
    if (!lan) return [];
    return (this.lanMembers.get(lan) ?? []).filter((m) => !(m.host === host && m.dev === dev));
  }

  // ---- what the cluster makes (not recorded in the document: it rebuilds them) ---------------

  now(): number {
    return this.clock;
  }

  ensureLan(name: string): void {
    if (!this.lanMembers.has(name)) this.addLan(name);
  }

  addDerivedHost(key: string, listen: ListenSpec[], hostname: string): Host {
    if (this.hosts.has(key)) throw new LabError(`host "${key}" already exists`);
    const h = new Host(key, [...listen], this.ctx);
    h.hostname = hostname;
    this.hosts.set(key, h);
    this.derived.add(key);
    return h;
  }

  removeDerivedHost(key: string): void {
    const h = this.hosts.get(key);
    if (!h || !this.derived.has(key)) return;
    for (const l of h.net.links()) {
      const a = l.attach;
      if (a?.peer) {
        const peer = this.hosts.get(a.peer.host);
        if (peer?.net.link(a.peer.dev)) peer.net.delLink(a.peer.dev);
      } else if (a?.lan) {
        const members = this.lanMembers.get(a.lan);
        if (members) this.lanMembers.set(a.lan, members.filter((m) => m.host !== key));
      }
    }
    this.hosts.delete(key);
    this.derived.delete(key);
    this.netnsIds.delete(key);
  }

  addDerivedLink(hostName: string, lan: string, ip: string, dev: string): void {
    this.cable(hostName, lan, ip, dev);
  }

  addDerivedVeth(a: { host: string; dev: string; ip?: string }, b: { host: string; dev: string }): void {
    this.pair(a, b);
  }

  isDerived(host: string): boolean {
    return this.derived.has(host);
  }

  addLan(name: string): void {
    if (!NAME_RE.test(name)) throw new LabError(`invalid LAN name "${name}"`);
    if (this.lanMembers.has(name)) throw new LabError(`LAN "${name}" already exists`);
    this.lanMembers.set(name, []);
    this.doc.lans.push({ name });
  }

  addHost(name: string, listen: ListenSpec[]): void {
    if (!NAME_RE.test(name) || name.length > 63) throw new LabError(`invalid host name "${name}"`);
    if (this.hosts.has(name)) throw new LabError(`host "${name}" already exists`);
    this.hosts.set(name, new Host(name, [...listen], this.ctx));
    this.doc.hosts.push({ name, listen: listen.map((l) => ({ ...l })), links: [] });
  }

  /** Cable HOST to LAN with a new interface holding `ip` (A.B.C.D/N); returns its name. */
  addLink(hostName: string, lan: string, ip: string, dev?: string): string {
    if (this.derived.has(hostName)) throw new LabError(`host "${hostName}" belongs to the cluster: change it with its own tools`);
    const name = this.cable(hostName, lan, ip, dev);
    this.doc.hosts.find((h) => h.name === hostName)!.links.push({ dev: name, lan, ip });
    return name;
  }

  private cable(hostName: string, lan: string, ip: string, dev?: string): string {
    const host = this.hostOrThrow(hostName);
    const members = this.lanMembers.get(lan);
    if (!members) throw new LabError(`no LAN named "${lan}"`);
    const pfx = parseCidrOrThrow(ip);
    const name = dev ?? host.net.freeName('eth%d');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/.test(name) || name === 'lo') throw new LabError(`invalid interface name "${name}"`);
    if (host.net.link(name)) throw new LabError(`host "${hostName}" already has an interface "${name}"`);
    // Like the kernel twin: a veth whose peer sits on the LAN's bridge in another namespace.
    host.net.addLink({ name, kind: 'veth', remote: { ifindex: members.length + 2, netnsid: this.netnsId(hostName, `lan:${lan}`), up: true }, attach: { lan } });
    host.net.setUp(name, true);
    host.net.addAddr(name, { local: pfx.addr, prefixlen: pfx.len });
    members.push({ host: hostName, dev: name });
    return name;
  }

  /** The id a host's namespace gives a peer namespace (`link-netnsid`), in order of first use. */
  private netnsId(host: string, peer: string): number {
    let ids = this.netnsIds.get(host);
    if (!ids) this.netnsIds.set(host, (ids = new Map()));
    let id = ids.get(peer);
    if (id === undefined) ids.set(peer, (id = ids.size));
    return id;
  }

  /** Cable two hosts with a veth pair (each end optionally addressed). */
  addVeth(a: VethEnd | (Omit<VethEnd, 'dev'> & { dev?: string }), b: VethEnd | (Omit<VethEnd, 'dev'> & { dev?: string })): [string, string] {
    for (const e of [a, b]) if (this.derived.has(e.host)) throw new LabError(`host "${e.host}" belongs to the cluster: change it with its own tools`);
    const [an, bn] = this.pair(a, b);
    const doc = (e: VethEnd): VethEnd => (e.ip !== undefined ? { host: e.host, dev: e.dev, ip: e.ip } : { host: e.host, dev: e.dev });
    (this.doc.veths ??= []).push({ a: doc({ ...a, dev: an }), b: doc({ ...b, dev: bn }) });
    return [an, bn];
  }

  private pair(a: VethEnd | (Omit<VethEnd, 'dev'> & { dev?: string }), b: VethEnd | (Omit<VethEnd, 'dev'> & { dev?: string })): [string, string] {
    const ha = this.hostOrThrow(a.host);
    const hb = this.hostOrThrow(b.host);
    // defaults: the first host gets eth<N> (a pod's side), the second veth<N>
    a = { ...a, dev: a.dev ?? ha.net.freeName('eth%d') };
    b = { ...b, dev: b.dev ?? hb.net.freeName('veth%d') };
    if (a.host === b.host) throw new LabError('a veth pair between two hosts needs two different hosts');
    const pa = a.ip !== undefined ? parseCidrOrThrow(a.ip) : null;
    const pb = b.ip !== undefined ? parseCidrOrThrow(b.ip) : null;
    const an = a.dev!;
    const bn = b.dev!;
    for (const [h, n, host] of [[ha, an, a.host], [hb, bn, b.host]] as const) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/.test(n) || n === 'lo') throw new LabError(`invalid interface name "${n}"`);
      if (h.net.link(n)) throw new LabError(`host "${host}" already has an interface "${n}"`);
    }
    const da = ha.net.addLink({ name: an, kind: 'veth', remote: { ifindex: 0, netnsid: this.netnsId(a.host, `host:${b.host}`), up: true }, attach: { peer: { host: b.host, dev: bn } } });
    const db = hb.net.addLink({ name: bn, kind: 'veth', remote: { ifindex: da.ifindex, netnsid: this.netnsId(b.host, `host:${a.host}`), up: true }, attach: { peer: { host: a.host, dev: an } } });
    da.remote!.ifindex = db.ifindex;
    for (const [h, n, p] of [[ha, an, pa], [hb, bn, pb]] as const) {
      h.net.setUp(n, true);
      if (p) h.net.addAddr(n, { local: p.addr, prefixlen: p.len });
    }
    return [an, bn];
  }

  // ---- consoles -------------------------------------------------------------------------------

  /** Runs one command on a host as its console would; journals it when it changed the host. */
  exec(hostName: string, argv: string[], stdin: string): CommandResult {
    // (the agents' work after it too: kube-proxy deleting stale conntrack entries)
    return this.listening(() => {
      const r = hostName === CLUSTER_CLIENT ? this.clusterCommand(argv, stdin) : runProgram(argv, stdin, this.shellEnv(this.hostOrThrow(hostName)));
      // The input of a command that changed something is part of what it did (iptables-restore,
      // kubectl apply -f -): replayed with it.
      if (r.changed) {
        this.doc.journal.push(stdin ? { host: hostName, argv: [...argv], stdin } : { host: hostName, argv: [...argv] });
        this.cluster?.hostEdited(hostName);
        this.cluster?.sync(); // the agents follow a node's new addresses
      }
      return r;
    });
  }

  /** Runs a console line (pipes, lists, here-documents); null when more lines are needed.
   *  `follow`: an interactive console, where `conntrack -E` goes on running (`followed`). */
  console(hostName: string, lines: readonly string[], opts: { follow?: boolean } = {}): (CommandResult & { consumed: number; followed?: FollowedLine }) | null {
    const env = this.shellEnv(this.hostOrThrow(hostName));
    env.follow = opts.follow === true;
    return this.listening(() => {
      const r = runLine(lines, env);
      if (!r) return null;
      for (const c of r.commands) if (c.changed) this.doc.journal.push(c.stdin !== undefined ? { host: hostName, argv: c.argv, stdin: c.stdin } : { host: hostName, argv: c.argv });
      if (r.changed) {
        this.cluster?.hostEdited(hostName);
        this.cluster?.sync();
      }
      return r;
    });
  }

  /**
   * Where the conntrack events of console and exec commands go (host, event), for consoles
   * following `conntrack -E` (console's `follow`); null: nowhere. Replays and what-if
   * experiments make no events (see conntrack/events.ts).
   */
  onCtEvent: ((host: string, ev: CtEvent) => void) | null = null;

  /** Runs `fn` with its conntrack events going to onCtEvent. */
  private listening<T>(fn: () => T): T {
    const listen = this.onCtEvent;
    if (!listen) return fn();
    const was = ctEvents.sink;
    ctEvents.sink = (table, ev) => {
      for (const h of this.hosts.values()) if (h.ct === table) return listen(h.name, ev);
    };
    try {
      return fn();
    } finally {
      ctEvents.sink = was;
    }
  }

  /** A followed console line's output for some events of its host (see runLine's `followed`). */
  followLines(hostName: string, f: FollowedLine, events: readonly CtEvent[]): { stdout: string; stderr: string; shown: number } {
    return followLines(f, events, this.shellEnv(this.hostOrThrow(hostName)));
  }

  /** What a console on `host` works with: the clock, and kubectl where the cluster's admin is. */
  shellEnv(host: Host): ShellEnv {
    const epoch = this.cluster?.store.config.epoch ?? DEFAULT_CLUSTER.epoch;
    const env: ShellEnv = { host, now: this.clock, advance: (s) => this.advance(s), wallMs: (at) => (epoch + at) * 1000 };
    const c = this.cluster;
    env.netClient = (name, argv, stdin) => {
      if (!NET_CLIENTS.includes(name)) return null;
      const podNs = c?.isPodHost(host.name) ? host.name.slice(0, host.name.indexOf('/')) : undefined;
      const gw = c?.isNode(host.name) ? c.gateway() : null;
      return runNetClient(name, argv, stdin, this.netLab(), host.name, resolvConfFor(c?.store ?? null, host.name, podNs, gw));
    };
    if (c && !c.isPodHost(host.name)) {
      env.kube = c.store;
      env.calico = c.calicoctlEnv();
      env.kubeExec = (ns, pod, argv, stdin) => {
        const h = this.hosts.get(`${ns}/${pod}`);
        if (!h) return { stdout: '', stderr: `error: unable to upgrade connection: container not found ("${pod}")\n`, code: 1, changed: false };
        return runProgram(argv, stdin, this.shellEnv(h));
      };
    }
    return env;
  }

  /** Packets the console's client tools sent (their walks, for the debugger), newest last. */
  readonly consoleTraces: TraceReport[] = [];

  private netLab(): NetLab {
    const nowMs = () => ((this.cluster?.store.config.epoch ?? DEFAULT_CLUSTER.epoch) + this.clock) * 1000;
    return {
      probe: (host, pkt, opts) => {
        const hooks = { topo: this, decider: { set: (fn: ((p: number) => boolean) | null) => (this.decide = fn) }, snapshot: () => this.snapshot() };
        const t = runTrace(hooks, { host, pkt }, { now: this.clock, allOutcomes: false });
        if (opts?.close) closeTcp(hooks, { host, pkt }, t, { now: this.clock });
        this.runtimeChanged = true;
        this.consoleTraces.push(traceReport(t, this.rng.state, { text: ruleText, env: (h) => this.hosts.get(h)?.env }));
        if (this.consoleTraces.length > 50) this.consoleTraces.shift();
        return t;
      },
      hostnameOf: (h) => this.hosts.get(h)?.hostname ?? h,
      random: () => this.rng.next(),
      nowMs,
      kube: this.cluster?.store ?? null,
      isDnsServer: (h) => this.cluster?.isDnsPod(h) ?? false,
      serverAnswer: (h, port) => this.cluster?.healthCheckAnswer(h, port, nowMs()),
      interfaces: (h) => {
        const net = this.hosts.get(h)?.net;
        return net ? net.links().map((l) => ({ dev: l.name, addrs: net.addrs(l.name).map((a) => formatIPv4(a.local)) })) : [];
      },
    };
  }

  /**
   * `kpl apply`: manifests into the cluster as the cluster's admin (`kubectl apply -f -`). What
   * the node agents could not do (a pinned address taken, say) is said at once, as `warning:`
   * lines after kubectl's, and listed in `agentErrors`.
   */
  applyManifests(manifests: string): CommandResult & { agentErrors: string[] } {
    this.cluster?.takeErrors();
    const r = this.exec(CLUSTER_CLIENT, ['kubectl', 'apply', '-f', '-'], manifests);
    const agentErrors = this.cluster?.takeErrors() ?? [];
    return { ...r, stderr: r.stderr + agentErrors.map((e) => `warning: ${e}\n`).join(''), agentErrors };
  }

  /** `kpl apply` and friends: kubectl as the cluster's admin, outside any host. */
  clusterCommand(argv: string[], stdin: string): CommandResult {
    if (!this.cluster) throw new LabError('this lab has no cluster (create it with kpl new LAB --cluster)');
    const env: ShellEnv = { host: new Host(CLUSTER_CLIENT, [], this.ctx), now: this.clock, kube: this.cluster.store };
    env.kubeExec = this.shellEnv(env.host).kubeExec;
    return runProgram(argv, stdin, env);
  }

  /** Moves the lab clock: connections and set entries age, expired ones go. */
  advance(seconds: number): boolean {
    this.clock += seconds;
    this.runtimeChanged = true;
    for (const h of this.hosts.values()) h.ct.expire(this.clock);
    // In a cluster lab time drives the agents' resyncs: the journal keeps every `sleep` so a
    // replay resyncs at the same moments.
    if (!this.cluster) return false;
    this.cluster.tick(this.clock);
    return true;
  }

  // ---- traces ---------------------------------------------------------------------------------

  trace(spec: TraceSpec): TraceReport {
    const inj = this.injection(spec);
    const seed = spec.seed ?? this.rng.state;
    const later = spec.later ?? 0;
    if (!Number.isInteger(later) || later < 0 || later > MAX_LATER) throw new LabError(`--later: expected a whole number from 0 to ${MAX_LATER}, got ${spec.later}`);
    if (later && spec.allOutcomes) throw new LabError('--later: trace one packet of a connection, not all outcomes');
    // (a kept trace changes the hosts' conntrack tables as a command's packets do: its events go out)
    return this.listening(() => this.experiment(spec, () => {
      const opts = { now: this.clock, virtualPeers: inj.virtualPeers };
      let result: TraceResult;
      if (later) {
        const r = runLater(this.traceHooks(), inj.injection, opts, later);
        result = { walk: r.walk, reply: r.reply, ack: r.ack, outcomes: null, later: { packet: later + 1, opened: !r.notOpened } };
      } else result = runTrace(this.traceHooks(), inj.injection, { ...opts, allOutcomes: spec.allOutcomes === true });
      return traceReport(result, seed, this.reportEnv());
    }));
  }

  /**
   * What if, forked at a host: `spec` walked on `base` (this lab as it was, e.g. at an earlier
   * revision) until phase `at.phase`'s walk enters its host number `at.hop`, and on this lab from
   * there on — that host, the rest of the path, and the phases after (reply, ACK). The packet
   * goes on as it was then (addresses, mark, NAT done so far), the hosts it passed keep the
   * conntrack entries it made there (their tables are base's, for the walk), and the random
   * choices go on from base's generator. Nothing is kept.
   */
  traceForked(base: Lab, spec: TraceSpec, at: { phase: TracePhase; hop: number }): TraceReport {
    if (spec.allOutcomes || spec.later) throw new LabError('a forked replay walks one packet and its answer (no --all-outcomes, no --later)');
    if (!Number.isInteger(at.hop) || at.hop < 0) throw new LabError(`fork: expected a host number from 0, got ${at.hop}`);
    const inj = base.injection(spec);
    const seed = spec.seed ?? base.rng.state;
    const order: TracePhase[] = ['packet', 'reply', 'ack'];
    const forkPhase = order.indexOf(at.phase);
    return this.experiment({ seed }, () => base.experiment({ seed }, () => {
      let switched = false;
      const passed = new Set<string>();
      const swapped: [Host, ConntrackTable][] = [];
      const switchNow = (): void => {
        for (const name of passed) {
          const from = base.hosts.get(name);
          const to = this.hosts.get(name);
          if (!from || !to) continue;
          swapped.push([to, to.ct]);
          to.ct = ConntrackTable.fromJSON(from.ct.toJSON());
        }
        this.rng.state = base.rng.state;
        switched = true;
      };
      const watch = (phase: TracePhase, hop: number, host: string): void => {
        const p = order.indexOf(phase);
        if (!switched && (p > forkPhase || (p === forkPhase && hop >= at.hop))) switchNow();
        if (!switched) passed.add(host);
      };
      const topo: Topology = { host: (n) => (switched ? this : base).host(n), peers: (h, d) => (switched ? this : base).peers(h, d) };
      const hooks: TraceHooks = { topo, decider: { set: () => undefined }, snapshot: () => () => undefined };
      try {
        const result = runTrace(hooks, inj.injection, { now: this.clock, virtualPeers: inj.virtualPeers, allOutcomes: false, watch });
        const report = traceReport(result, seed, this.reportEnv());
        report.json.fork = { phase: at.phase, hop: at.hop, switched };
        return report;
      } finally {
        for (const [h, t] of swapped.reverse()) h.ct = t;
      }
    }));
  }

  // What traces are given, made once: under tsx every arrow made per trace also costs an
  // Object.defineProperty (esbuild's keepNames).
  private hooks?: TraceHooks;
  private report?: ReportEnv;

  private traceHooks(): TraceHooks {
    return (this.hooks ??= { topo: this, decider: { set: (fn) => (this.decide = fn) }, snapshot: () => this.snapshot() });
  }

  private reportEnv(): ReportEnv {
    return (this.report ??= { text: ruleText, env: (h) => this.hosts.get(h)?.env });
  }

  /**
   * A connection attempt as the connectivity matrix makes it: the first packet and the answer
   * it gets (SYN-ACK, UDP reply, INIT-ACK, RST or ICMP error), walked and then forgotten — the
   * same walks a trace makes, without the client's ACK or a report, and without recording
   * (outcomes, deliveries and reasons only: no steps but a deciding one, no events, no counters).
   */
  connect(spec: Omit<TraceSpec, 'allOutcomes' | 'keep'>): { walk: PacketWalk; reply: PacketWalk | null } {
    return this.probe(spec, this.injection(spec));
  }

  /**
   * `connect` from a host to an address and port, for the connectivity matrix's cells: the
   * same connection as connect({ from, to: `${IP}:${port}`, proto }) without reading the
   * address back from text for every cell.
   */
  connectTo(from: string, dst: IPv4, port: number, proto: 'tcp' | 'udp' | 'sctp'): { walk: PacketWalk; reply: PacketWalk | null } {
    const host = endsResolved(() => resolveFrom(this.cluster, from, (h) => this.hosts.has(h)));
    this.hostOrThrow(host);
    if (port < 1 || port > 65535) throw new LabError(`--to: port ${port} out of range`);
    return this.probe({}, { injection: { host, pkt: firstPacket(PROTO[proto], 0, dst, port, DEFAULT_SPORT) }, virtualPeers: [] });
  }

  private probe(spec: Pick<TraceSpec, 'seed'>, inj: { injection: Injection; virtualPeers: { host: string; dev: string; ip: IPv4 }[] }): { walk: PacketWalk; reply: PacketWalk | null } {
    return this.experiment(spec, () => {
      const opts = { now: this.clock, virtualPeers: inj.virtualPeers, record: false };
      const walk = walkPacket(this, inj.injection, opts);
      const back = answerFor(walk, inj.injection.pkt);
      return { walk, reply: back ? walkPacket(this, back, { ...opts, socket: clientSocket(inj.injection, walk) }) : null };
    });
  }

  /** Runs `fn` (walks) and, unless `spec.keep`, puts back everything the packets changed. */
  private experiment<T>(spec: Pick<TraceSpec, 'seed' | 'keep'>, fn: () => T): T {
    const keep = spec.keep === true;
    const undoDepth = counterUndo.depth;
    const ctDepth = ctUndo.depth;
    const savers = this.savers.length;
    const restore = keep ? null : this.snapshot();
    const savedRng = this.rng;
    if (spec.seed !== undefined) this.rng = new Rng(spec.seed);
    try {
      return fn();
    } finally {
      if (spec.seed !== undefined && !keep) this.rng = savedRng;
      if (restore) restore(true);
      // Snapshots taken inside (all-outcomes enumeration) end with the trace.
      counterUndo.depth = undoDepth;
      ctUndo.depth = ctDepth;
      this.savers.length = savers;
      if (undoDepth === 0) counterUndo.log.length = 0;
      if (ctDepth === 0) {
        ctUndo.log.length = 0;
        markConntrack();
      }
    }
  }

  private injection(spec: TraceSpec): { injection: Injection; virtualPeers: { host: string; dev: string; ip: IPv4 }[] } {
    spec = endsResolved(() => ({ ...spec, from: resolveFrom(this.cluster, spec.from, (h) => this.hosts.has(h)), to: resolveTo(this.cluster, spec.to) }));
    const proto = PROTO[spec.proto];
    const at = spec.from.lastIndexOf('@');
    const hostName = at >= 0 ? spec.from.slice(at + 1) : spec.from;
    const host = this.hostOrThrow(hostName);
    let src: IPv4 = 0;
    if (at >= 0) {
      const s = parseIPv4(spec.from.slice(0, at));
      if (s === null) throw new LabError(`--from: invalid address "${spec.from.slice(0, at)}"`);
      src = s;
    }
    const tm = /^([0-9.]+)(?::([0-9]+))?$/.exec(spec.to);
    const dst = tm ? parseIPv4(tm[1]) : null;
    if (!tm || dst === null) throw new LabError(`--to: expected IP[:PORT], got "${spec.to}"`);
    const hasPorts = proto !== PROTO.icmp;
    if (hasPorts && tm[2] === undefined) throw new LabError(`--to: a ${spec.proto} trace needs a port (IP:PORT)`);
    if (!hasPorts && tm[2] !== undefined) throw new LabError('--to: an icmp trace takes no port');
    const dport = hasPorts ? Number(tm[2]) : 0;
    if (hasPorts && (dport < 1 || dport > 65535)) throw new LabError(`--to: port ${tm[2]} out of range`);
    const pkt = firstPacket(proto, src, dst, dport, spec.sport ?? DEFAULT_SPORT);
    if (spec.tcpFlags !== undefined) {
      if (proto !== PROTO.tcp) throw new LabError(`--tcp-flags: only a tcp packet has TCP flags (this one is ${spec.proto})`);
      pkt.tcpFlags = tcpFlagsOf(spec.tcpFlags);
      if (spec.later) throw new LabError('--tcp-flags: a later packet of a connection is a data segment (PSH,ACK): give no flags with --later');
    }
    const local = at < 0 || host.net.isLocal(src) || src >>> 24 === 127;
    if (local) {
      if (spec.iif) throw new LabError('--in applies only to a packet arriving from outside (IP@HOST with a foreign IP)');
      return { injection: { host: hostName, pkt }, virtualPeers: [] };
    }
    const iif = spec.iif ?? host.net.links().find((l) => l.kind !== 'loopback')?.name;
    if (!iif || !host.net.link(iif)) throw new LabError(spec.iif ? `host "${hostName}" has no interface "${spec.iif}"` : `host "${hostName}" has no interface to receive on`);
    return { injection: { host: hostName, iif, pkt }, virtualPeers: [{ host: hostName, dev: iif, ip: src }] };
  }

  // ---- runtime --------------------------------------------------------------------------------

  /**
   * Saves everything a packet can change; the returned function puts it back. Called with
   * `last`, it hands the saved copies over instead of copying them again (the snapshot is then
   * used up): a plain trace restores once, the all-outcomes enumeration once per branch.
   */
  snapshot(): (last?: boolean) => void {
    const clock = this.clock;
    const rngState = this.rng.state;
    const rng = this.rng;
    // Counters and conntrack are put back from the walks' undo logs (a big ruleset has too
    // many counters to copy, a busy host too many connections).
    counterUndo.depth++;
    ctUndo.depth++;
    const mark = counterUndo.log.length;
    const ctMark = markConntrack();
    // The rest of a host is saved when the walk first reaches it (through `host()`): a trace
    // across three hosts of a big lab copies three hosts' state, not every host's.
    type Saved = { h: Host; ipsets: Host['ipsets']; recent: RecentJson; ruleState: Host['ruleState']; nfacct: NfacctJson };
    const saved: Saved[] = [];
    const seen = new Set<Host>();
    // (an arrow in an argument: a named one costs an Object.defineProperty under tsx)
    this.savers.push((h: Host) => {
      if (seen.has(h)) return;
      seen.add(h);
      saved.push({
        h,
        ipsets: h.ipsets.cloneForWalk(), // element counters change while matching
        recent: h.recent.toJSON(),
        ruleState: copyRuleState(h.ruleState),
        nfacct: h.nfacct.toJSON(), // -m nfacct counts while matching
      });
    });
    return (last = false) => {
      undoCounters(mark);
      undoConntrack(ctMark);
      this.clock = clock;
      this.rng = rng;
      this.rng.state = rngState;
      for (const s of saved) {
        s.h.ipsets = last ? s.ipsets : s.ipsets.cloneForWalk();
        s.h.recent.load(s.recent);
        s.h.ruleState = last ? s.ruleState : copyRuleState(s.ruleState);
        s.h.nfacct.loadCounters(s.nfacct);
      }
    };
  }

  private runtimeJson(): Runtime | undefined {
    const hosts: Record<string, HostRuntime> = {};
    let any = this.clock !== 0 || this.rng.state !== (this.doc.seed >>> 0);
    for (const h of this.hosts.values()) {
      const hr: HostRuntime = {};
      if (h.ct.count() > 0) hr.ct = h.ct.toJSON();
      const recent = h.recent.toJSON();
      if (Object.keys(recent).length) hr.recent = recent;
      const { counters, states } = gatherCounters(h.nf, h.ruleState);
      if (counters.length) hr.counters = counters;
      if (states.length) hr.ruleState = states;
      const acct = h.nfacct.toJSON();
      if (acct.length) hr.nfacct = acct;
      if (Object.keys(hr).length) {
        hosts[h.name] = hr;
        any = true;
      }
    }
    return any ? { clock: this.clock, rng: this.rng.state, hosts } : undefined;
  }

  private applyRuntime(raw: unknown): void {
    const bad = (why: string) => new LabError(`runtime: ${why}`);
    if (typeof raw !== 'object' || raw === null) throw bad('expected an object');
    const rt = raw as Partial<Runtime>;
    if (typeof rt.clock !== 'number' || !Number.isFinite(rt.clock) || rt.clock < 0) throw bad('bad clock');
    if (typeof rt.rng !== 'number' || !Number.isInteger(rt.rng)) throw bad('bad rng state');
    if (typeof rt.hosts !== 'object' || rt.hosts === null) throw bad('bad hosts');
    this.clock = rt.clock;
    this.rng.state = rt.rng;
    for (const [name, hr] of Object.entries(rt.hosts)) {
      const h = this.hosts.get(name);
      if (!h) throw bad(`no host named "${name}"`);
      try {
        if (hr.ct) h.ct = ConntrackTable.fromJSON(hr.ct);
        if (hr.recent) h.recent.load(hr.recent);
        const lookup = (t: TableName, chain: string, i: number) => {
          const c = h.nf.chain(t, chain);
          if (!c) throw bad(`host ${name}: no chain ${t}/${chain}`);
          if (i === -1) return c;
          const r = c.rules[i];
          if (!r) throw bad(`host ${name}: no rule ${i + 1} in ${t}/${chain}`);
          return r;
        };
        counterClock.ticks++;
        for (const [t, chain, i, p, b] of hr.counters ?? []) {
          const o = lookup(t, chain, i);
          o.packets = p;
          o.bytes = b;
        }
        if (hr.nfacct !== undefined) {
          const ok = Array.isArray(hr.nfacct) && hr.nfacct.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isSafeInteger(e[1]) && e[1] >= 0 && Number.isSafeInteger(e[2]) && e[2] >= 0);
          if (!ok) throw bad(`host ${name}: bad nfacct counters`);
          h.nfacct.loadCounters(hr.nfacct);
        }
        for (const [t, chain, i, k, v] of hr.ruleState ?? []) {
          const r = lookup(t, chain, i) as Rule;
          let m = h.ruleState.get(r);
          if (!m) h.ruleState.set(r, (m = new Map()));
          m.set(k, v);
        }
      } catch (e) {
        if (e instanceof LabError) throw e;
        throw bad(`host ${name}: ${(e as Error).message}`);
      }
    }
  }

  toDoc(): LabDoc {
    const doc: LabDoc = {
      format: LAB_FORMAT,
      version: LAB_VERSION,
      name: this.doc.name,
      seed: this.doc.seed,
      lans: this.doc.lans.map((l) => ({ ...l })),
      hosts: this.doc.hosts.map((h) => ({ name: h.name, listen: h.listen.map((l) => ({ ...l })), links: h.links.map((k) => ({ ...k })) })),
      ...(this.doc.veths ? { veths: this.doc.veths.map((v) => ({ a: { ...v.a }, b: { ...v.b } })) } : {}),
      journal: this.doc.journal.map((e) => ({ ...e, argv: [...e.argv] })),
    };
    if (this.cluster) doc.cluster = { ...this.cluster.doc };
    const rt = this.runtimeJson();
    if (rt) doc.runtime = rt;
    return doc;
  }

}

/** A trace's ends resolved from names (pods, Services, nodes), a failure in the lab's words. */
function endsResolved<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TraceEndError) throw new LabError(e.message);
    throw e;
  }
}

/** `SYN,ACK` and the like (iptables' flag names, comma-separated) as TCP header bits. */
function tcpFlagsOf(text: string): number {
  const bits = tcpFlagList(text.replace(/\s+/g, ''));
  if (typeof bits !== 'number') throw new LabError(`--tcp-flags: unknown flag "${bits.unknown}" (FIN, SYN, RST, PSH, ACK, URG, ALL, NONE, comma-separated)`);
  return bits;
}

/** A trace's first packet: a TCP SYN, a UDP or SCTP datagram, an ICMP echo request. */
function firstPacket(proto: number, src: IPv4, dst: IPv4, dport: number, sport: number): Packet {
  const hasPorts = proto !== PROTO.icmp;
  return {
    src,
    dst,
    proto,
    sport: hasPorts ? sport : 0,
    dport,
    tcpFlags: proto === PROTO.tcp ? TCP.SYN : 0,
    icmpType: proto === PROTO.icmp ? 8 : 0,
    icmpCode: 0,
    icmpId: proto === PROTO.icmp ? sport : 0,
    ttl: 64,
    len: proto === PROTO.tcp ? 60 : proto === PROTO.icmp ? 84 : 32,
    mark: 0,
  };
}

function parseCidrOrThrow(ip: string): { addr: IPv4; len: number } {
  const pfx = /^([0-9.]+)\/([0-9]{1,2})$/.test(ip) ? parsePrefix(ip) : null;
  if (!pfx) throw new LabError(`invalid address "${ip}": expected A.B.C.D/N`);
  return pfx;
}

/** A host's per-rule match state, deep (the matches change their records in place). */
function copyRuleState(m: Host['ruleState']): Host['ruleState'] {
  const out: Host['ruleState'] = new Map();
  for (const [r, st] of m) out.set(r, new Map([...st].map(([k, v]) => [k, structuredClone(v)])));
  return out;
}

function ruleText(chain: string, rule: Rule): string {
  return `-A ${chain}${ruleSpec(rule)}`;
}
