// The cluster of a lab: the API server and controllers (KubeStore), and what the node agents
// make of its objects on the lab's hosts — a host per node (eth0 on the cluster LAN, Docker's
// rules, tunl0), a host per running pod cabled to its node with a Calico-style veth, routes
// between nodes, and kube-proxy's rules on every node. After every change to the objects the
// dataplane is brought in line (kube-proxy's sync, the CNI's ADD/DEL, Calico's routes).

import { CLUSTER_LAN, CLUSTER_VERSIONS, type ClusterDoc } from '../../../shared/cluster.ts';
import type { ListenSpec } from '../../../shared/lab.ts';
import type { Host } from '../host.ts';
import { KubeStore, type WatchEvent } from '../kube/objects/store.ts';
import { sharingReadings } from '../netfilter/restore.ts';
import { makeNode, nodeInternalIP } from '../kube/objects/node.ts';
import { ANN_POD_IP, type EndpointSlice, type Node, type Pod, type Service } from '../kube/objects/types.ts';
import { chainOrigins, currentLocalhostNodePorts, KubeProxySyncer, type GenerateInput, type ProxyConfig, type ProxySync, type ServicePort, type SharedText } from '../kube/proxy/index.ts';
import type { CalicoCluster } from '../kube/calico/index.ts';
import { formatIPv4, parseIPv4, parsePrefix, type IPv4 } from '../net/ipv4.ts';
import { Rng } from '../random.ts';
import { runProgram } from '../shell/programs.ts';
import { KUBE_PROXY_NFACCT, kubeProxyConntrackCleanup, kubeProxyNfacct, kubeProxyStart } from './kube-proxy-node.ts';
import { vethName as calicoInterfaceName } from '../kube/calico/index.ts';
import { Ipam, IpamError } from './ipam.ts';
import { nodeBootCommands } from './node-boot.ts';
import { calicoCluster, programNode, refreshNode, renderNode, setsAsProgrammed, type FelixRefresh, type FelixState } from './felix-sync.ts';
import type { CalicoctlEnv } from '../shell/calicoctl.ts';
import { ServicePortCache } from './service-ports.ts';
import { exportManifests } from './export.ts';
import { CLOUD_LB_HOST, lbRoutes } from './cloud-lb.ts';
import { healthCheckResponse, healthCheckService, localReadyEndpoints } from './health-check.ts';
import type { HttpResponse } from '../shell/netclients/curl.ts';
import { counterClock } from '../netfilter/counter-clock.ts';
import { ALL_CHAINS } from '../netfilter/ruleset.ts';
import { BUILTIN_CHAINS, type TableName } from '../netfilter/types.ts';

/** What the cluster needs from the lab: derived hosts and cables it can make and take away. */
export interface ClusterTopology {
  readonly hosts: Map<string, Host>;
  addDerivedHost(key: string, listen: ListenSpec[], hostname: string): Host;
  removeDerivedHost(key: string): void;
  addDerivedLink(host: string, lan: string, ip: string, dev: string): void;
  addDerivedVeth(a: { host: string; dev: string; ip?: string }, b: { host: string; dev: string }): void;
  ensureLan(name: string): void;
  now(): number;
}

/** The routes map's mark for a node's own block (BIRD's `blackhole … proto bird`). */
const BLACKHOLE = 'blackhole';

export class ClusterError extends Error {}

/** kube-proxy's syncPeriod, in seconds of lab time: the legacy proxier's full resync, the
 *  current one's canary check. */
const SYNC_PERIOD = 30;
/** Felix's IptablesRefreshInterval and IpsetsRefreshInterval (its defaults). */
const FELIX_IPTABLES_REFRESH = 90;
const FELIX_IPSETS_REFRESH = 10;
/** The current kube-proxy's full sync period (proxyutil.FullSyncPeriod): an hour. */
const FULL_SYNC_PERIOD = 3600;

/** minikube's names for the nodes `kpl new --cluster` makes: minikube, minikube-m02, … */
const bootNodeName = (i: number) => (i === 0 ? 'minikube' : `minikube-m${String(i + 1).padStart(2, '0')}`);

/** The journal/host key of a pod's host. */
export const podKey = (ns: string, name: string) => `${ns}/${name}`;

interface PodHost {
  key: string;
  node: string;
  ip: string;
  iface: string;
}

export class Cluster {
  readonly store: KubeStore;
  readonly doc: ClusterDoc;
  private readonly ipam: Ipam;
  private readonly pods = new Map<string, PodHost>();
  private readonly nodes = new Set<string>();
  /** Per node: the input of the last kube-proxy sync applied (its ServicePorts, node and settings). */
  private readonly synced = new Map<string, { services: ServicePort[]; nodeKey: string }>();
  /** Per node: its kube-proxy, which remembers what it wrote for each service port. */
  private readonly proxies = new Map<string, KubeProxySyncer>();
  /** The nodes' kube-proxies write the same text when their rules are the same: joined once. */
  private readonly proxyTexts: SharedText = { last: null };
  /** Nodes whose kube-proxy restarts at its next sync (`resync`): it writes every chain. */
  private readonly restarted = new Set<string>();
  /** Per node, net.netfilter.nf_conntrack_tcp_be_liberal as its kube-proxy read it at start. */
  private readonly beLiberal = new Map<string, boolean>();
  /** Per node, whether its kube-proxy's nfacct counters were there as it started (it counts
   *  into them from then on: one deleted later fails its syncs, as on a real node). */
  private readonly nfacctOn = new Map<string, boolean>();
  /** Nodes where one of kube-proxy's commands failed since it last wrote every chain: their
   *  rules may not be what it thinks. */
  private readonly proxyFailed = new Set<string>();
  /** The ServicePorts made from each Service and its EndpointSlices, reused while they stay the same. */
  private readonly servicePorts = new ServicePortCache();
  /** Nodes where a console command touched a cali chain or a kernel chain since Felix last
   *  wrote or repaired all of its chains there (its IP sets tell their own changes). */
  private readonly felixChainsEdited = new Set<string>();
  /** What Felix's refresh looks at in the sync under way (a periodic one). */
  private felixDue: FelixRefresh | null = null;
  /** Lab clock of the last periodic run of each agent's refresh. */
  private readonly lastRefresh = { proxy: 0, felixChains: 0, felixSets: 0 };
  /** Nodes changed from a console since kube-proxy last wrote every chain there (its partial
   *  syncs leave hand edits in the chains they do not write). */
  private readonly proxyEdited = new Set<string>();
  /** Nodes where a console command changed a built-in chain since kube-proxy's last full
   *  sync: that sync checks its jumps from them (`iptables -C`) even on an untouched node. */
  private readonly jumpsTouched = new Set<string>();
  /** Per node: the lab time of kube-proxy's last full sync. */
  private readonly lastFullSync = new Map<string, number>();
  /** Per node: the counter clock when kube-proxy's chains (`all`) or its top-level ones last
   *  counted from zero (a pass that would find nothing counted since is skipped). */
  private readonly zeroedAt = new Map<string, { all: number; top: number }>();
  /** Per node: the cluster routes it holds (destination CIDR → gateway). */
  private readonly routes = new Map<string, Map<string, string>>();
  /** Per node: the last Felix programming applied. */
  private readonly felix = new Map<string, FelixState>();
  private syncing = false;
  private refresh = false;
  /** What the writes since the agents last read the objects touched (see noteChange). */
  private changes = noChanges();
  /** The cloud LB's routes as last worked out (null: to be worked out again). */
  private lbRoutes: Map<string, string | null> | null = null;
  private dirty = false;
  /** What the agents read at the last sync that saw the objects change. */
  private read: { healthPorts: ListenSpec[]; services: ServicePort[]; proxyConfig: ProxyConfig; calico: CalicoCluster | null } | null = null;
  /** The cloud LB's routes: LoadBalancer address → node address (null: no healthy node). */
  private lb = new Map<string, string | null>();
  /** The cloud LB's backend link to each node: node → the LB's device. */
  private readonly lbLinks = new Map<string, string>();
  /** Errors the node agents met (shown by `kpl` and in events); the last few only. */
  readonly agentErrors: string[] = [];
  private readonly unseen: string[] = [];

  constructor(doc: ClusterDoc, seed: number, private readonly topo: ClusterTopology) {
    this.doc = doc;
    const version = CLUSTER_VERSIONS[doc.proxy];
    const [lo, hi] = doc.nodePortRange.split('-').map(Number);
    const ipamRng = new Rng((seed ^ 0x1ba3) >>> 0);
    this.ipam = new Ipam(doc.podCIDR, () => ipamRng.next());
    this.store = new KubeStore(
      { version, serviceCIDR: doc.serviceCIDR, nodePortRange: [lo, hi], podCIDR: doc.podCIDR },
      {
        rng: new Rng((seed ^ 0x6b756265) >>> 0),
        clock: () => topo.now(),
        hooks: { assignIp: (pod) => this.assignIp(pod), releaseIp: (pod) => this.releaseIp(pod), loadBalancerIP: () => this.nextLbAddress() },
      },
    );
    topo.ensureLan(CLUSTER_LAN);
    // Changes are collected and the agents run once the command that made them is done
    // (`flush`): an apply of a thousand objects is one sync, not a thousand.
    this.store.watch((events) => {
      this.dirty = true;
      for (const e of events) this.noteChange(e);
    });
    const first = this.nodeAddress(0);
    this.store.bootstrap({ apiServer: first, dns: true });
    for (let i = 0; i < doc.nodes; i++) {
      const name = bootNodeName(i);
      this.store.apply(makeNode({ name, internalIP: this.nodeAddress(i), version, controlPlane: i === 0 }));
    }
    this.flush();
  }

  /** The cluster's objects as manifests (`kpl export --k8s`). */
  manifests(): string {
    const boot = new Set(Array.from({ length: this.doc.nodes }, (_, i) => bootNodeName(i)));
    return exportManifests(this.store, boot);
  }

  /**
   * A console command changed this host: on a node, the agents' rules may have been edited.
   * kube-proxy's are when the command touched a `KUBE-*` chain (or replaced a table); a
   * built-in chain touched may have lost one of its jumps, which its next full sync checks.
   * Felix's are when it touched a `cali-*` or a built-in chain (its IP sets count their own
   * changes: see setsAsProgrammed).
   */
  hostEdited(name: string): void {
    if (!this.nodes.has(name)) return;
    const touched = this.topo.hosts.get(name)?.nf.touched;
    if (!touched) {
      this.proxyEdited.add(name);
      this.felixChainsEdited.add(name);
      return;
    }
    for (const key of touched) {
      const slash = key.indexOf('/');
      const table = key.slice(0, slash) as TableName;
      const chain = key.slice(slash + 1);
      const all = key === ALL_CHAINS;
      if (all || chain.startsWith('KUBE-')) this.proxyEdited.add(name);
      if (all || chain.startsWith('cali-')) this.felixChainsEdited.add(name);
      if (!all && (BUILTIN_CHAINS[table] as readonly string[]).includes(chain)) {
        this.jumpsTouched.add(name);
        this.felixChainsEdited.add(name);
      }
    }
    touched.clear();
  }

  /** Every agent rewrites all of its rules on every node (kube-proxy's full sync after a restart). */
  resync(): void {
    for (const n of this.nodes) this.restarted.add(n);
    this.synced.clear();
    this.felix.clear();
    this.read = null;
    this.lbRoutes = null;
    this.sync(true);
  }

  /** Runs the agents if the objects changed since they last ran. */
  flush(): void {
    if (this.dirty) this.sync();
  }

  /** Node N's address on the cluster LAN: .2, .3, … (the gateway is .1). */
  nodeAddress(i: number): string {
    const p = parsePrefix(this.doc.nodeCIDR)!;
    return formatIPv4((p.addr + 2 + i) >>> 0);
  }

  gateway(): string {
    const p = parsePrefix(this.doc.nodeCIDR)!;
    return formatIPv4((p.addr + 1) >>> 0);
  }

  isPodHost(key: string): boolean {
    return this.pods.has(key);
  }

  isNode(name: string): boolean {
    return this.nodes.has(name);
  }

  /** A CoreDNS pod (k8s-app=kube-dns), which answers DNS queries. */
  isDnsPod(key: string): boolean {
    if (!this.pods.has(key)) return false;
    const [ns, name] = key.split('/');
    return this.store.peek('Pod', ns, name)?.metadata.labels?.['k8s-app'] === 'kube-dns';
  }

  /** The node a pod host runs on. */
  podNode(key: string): string | undefined {
    return this.pods.get(key)?.node;
  }

  // ---- IPAM hooks (called by the pod controller) -------------------------------------------

  private assignIp(pod: Pod): string | null {
    const node = pod.spec.nodeName;
    if (!node) return null;
    const owner = `pod:${podKey(pod.metadata.namespace ?? 'default', pod.metadata.name)}`;
    const pinned = pod.metadata.annotations?.[ANN_POD_IP];
    try {
      if (pinned !== undefined) {
        const ip = parseIPv4(pinned);
        if (ip === null || !this.ipam.inPool(ip)) throw new IpamError(`${ANN_POD_IP} "${pinned}" is not in the pod pool ${this.doc.podCIDR}`);
        this.ipam.reserve(pinned, owner, node);
        return pinned;
      }
      const nodeObj = this.store.get('Node', undefined, node);
      // calico-node takes the tunnel's address before any pod on the node gets one.
      if (this.doc.tunnel === 'ipip') this.tunnelAddress(node, nodeObj?.spec?.podCIDR);
      return formatIPv4(this.ipam.allocate(node, owner, nodeObj?.spec?.podCIDR));
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      this.agentError(`calico-ipam: pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e.message}`);
      return null;
    }
  }

  private releaseIp(pod: Pod): void {
    const ip = pod.status?.podIP ? parseIPv4(pod.status.podIP) : null;
    const owner = `pod:${podKey(pod.metadata.namespace ?? 'default', pod.metadata.name)}`;
    if (ip !== null && this.ipam.owner(ip) === owner) this.ipam.release(ip);
  }

  private agentError(msg: string): void {
    this.agentErrors.push(msg);
    this.unseen.push(msg);
    if (this.agentErrors.length > 20) this.agentErrors.shift();
  }

  /** The agents' errors since the last call (what `kpl apply` reports after applying). */
  takeErrors(): string[] {
    return this.unseen.splice(0);
  }

  // ---- the node agents -----------------------------------------------------------------------

  /**
   * The lab clock moved: the agents' periodic work falls due even when nothing changed in the
   * API — kube-proxy's every syncPeriod (30 s), Felix's refresh of its chains every 90 s and of
   * its IP sets every 10 s, which put back what a user changed by hand there.
   */
  tick(now: number): boolean {
    const last = this.lastRefresh;
    const proxy = now - last.proxy >= SYNC_PERIOD;
    const felix = { chains: now - last.felixChains >= FELIX_IPTABLES_REFRESH, sets: now - last.felixSets >= FELIX_IPSETS_REFRESH };
    if (!proxy && !felix.chains && !felix.sets) return false;
    if (proxy) last.proxy = now;
    if (felix.chains) last.felixChains = now;
    if (felix.sets) last.felixSets = now;
    this.felixDue = felix;
    try {
      this.sync(proxy);
    } finally {
      this.felixDue = null;
    }
    return true;
  }

  /**
   * Brings the hosts in line with the objects (idempotent). Without `refresh`, a node whose
   * inputs did not change keeps its rules as they are (hand edits included); with it,
   * kube-proxy's periodic work runs (see syncKubeProxy); Felix's runs when `felixDue` says.
   */
  sync(refresh = false): void {
    if (this.syncing) return;
    this.syncing = true;
    // The agents' own writes are not hand edits: nothing logs them (a restore of 60,000
    // chains would log every one).
    for (const n of this.nodes) {
      const nf = this.topo.hosts.get(n)?.nf;
      if (nf) nf.touched = null;
    }
    // A sync after a console command on a host (objects unchanged) reuses what the agents read.
    const objectsChanged = this.dirty || !this.read;
    this.dirty = false;
    this.refresh = refresh;
    const ch = this.changes;
    this.changes = noChanges();
    // The LB's routes read Services, nodes and the slices of LoadBalancer Services only.
    if (ch.all || ch.serviceWritten || ch.nodeWritten || [...ch.services].some((key) => this.serviceOf(key)?.spec.type === 'LoadBalancer')) this.lbRoutes = null;
    try {
      const nodes = this.store.view('Node') as Node[];
      this.syncNodes(nodes);
      this.syncPods();
      this.syncRoutes(nodes);
      this.syncCloudLb(nodes);
      // What every node's agents read, taken once per sync.
      if (objectsChanged) {
        // A few Services changed in place (their objects or slices): only those are remade.
        const few = this.read && !ch.all ? this.servicePorts.ofFew(ch.services, (key) => this.serviceOf(key), (key) => this.slicesOf(key)) : null;
        const services = few ?? this.servicePorts.of(this.store.view('Service') as Service[], this.store.view('EndpointSlice') as EndpointSlice[]);
        // kube-proxy's health check server listens on every LoadBalancer Service's health port.
        let healthPorts = this.read?.healthPorts;
        if (!healthPorts || ch.all || ch.serviceWritten) {
          healthPorts = [];
          for (const s of this.store.view('Service')) if (s.spec.healthCheckNodePort) healthPorts.push({ port: s.spec.healthCheckNodePort, proto: 'tcp' });
        }
        this.read = { healthPorts, services, proxyConfig: this.proxyConfig(), calico: null };
      }
      const r = this.read!;
      // (the nodes' restores of the same text read it once)
      sharingReadings(() => {
        for (const n of nodes) if (this.nodes.has(n.metadata.name)) this.syncKubeProxy(n, r.healthPorts, r.services, r.proxyConfig);
      });
      this.proxyTexts.last = null; // (15 MB not kept once every node has it)
      // (A node kube-proxy did not sync now restarts with nothing to keep.)
      this.restarted.clear();
      // Felix after kube-proxy: its `-I … 1` jumps sit above KUBE-SERVICES, as on a real node.
      // Its input is the objects only: unchanged objects and untouched rules need no render.
      for (const n of nodes) {
        const name = n.metadata.name;
        if (!this.nodes.has(name)) continue;
        const last = this.felix.get(name);
        // Felix's refresh finds nothing to repair on a node no console changed since.
        const due = this.felixDue;
        const host = this.topo.hosts.get(name);
        const repair = due && host && (due.chains || due.sets) ? { chains: due.chains && this.felixChainsEdited.has(name), sets: due.sets && !setsAsProgrammed(host) } : null;
        const repairs = repair !== null && (repair.chains || repair.sets);
        if (!objectsChanged && last && !repairs) continue;
        r.calico ??= calicoCluster(this.store, { podCIDR: this.doc.podCIDR, ipip: this.doc.tunnel === 'ipip', tunnelIPs: this.tunnelIPs() });
        this.syncFelix(name, r.calico, repairs ? repair : null);
      }
    } finally {
      this.syncing = false;
      // What console commands change on a node from now on is logged (see hostEdited).
      for (const n of this.nodes) {
        const nf = this.topo.hosts.get(n)?.nf;
        if (nf) nf.touched = new Set();
      }
    }
  }

  /**
   * Notes what a write touched, for the next sync: the Services (`ns/name`) whose object or
   * slices changed in place, whether a Service or a node was written; `all` when a Service
   * came or went or too many changed (the next sync reads everything).
   */
  private noteChange(e: WatchEvent): void {
    const ch = this.changes;
    if (ch.all) return;
    const o = e.object;
    if (o.kind === 'Service') {
      if (e.type !== 'MODIFIED') ch.all = true;
      ch.serviceWritten = true;
      ch.services.add(`${o.metadata.namespace}/${o.metadata.name}`);
    } else if (o.kind === 'EndpointSlice') {
      for (const x of e.old ? [o, e.old] : [o]) {
        const svc = (x as EndpointSlice).metadata.labels?.['kubernetes.io/service-name'];
        if (svc) ch.services.add(`${x.metadata!.namespace}/${svc}`);
      }
    } else if (o.kind === 'Node') ch.nodeWritten = true;
    if (ch.services.size > MANY_CHANGES) ch.all = true;
  }

  private serviceOf(key: string): Readonly<Service> | undefined {
    const slash = key.indexOf('/');
    return this.store.peek('Service', key.slice(0, slash), key.slice(slash + 1));
  }

  private slicesOf(key: string): readonly EndpointSlice[] {
    const slash = key.indexOf('/');
    return this.store.slicesOf(key.slice(0, slash), key.slice(slash + 1)) as EndpointSlice[];
  }

  private run(host: Host, argv: string[], stdin = ''): boolean {
    const r = runProgram(argv, stdin, { host, now: this.topo.now() });
    if (r.code !== 0) this.agentError(`${host.name}: ${argv.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  private syncNodes(nodes: Node[]): void {
    const want = new Set<string>();
    const lan = parsePrefix(this.doc.nodeCIDR)!;
    for (const n of nodes) {
      const name = n.metadata.name;
      const ip = nodeInternalIP(n);
      if (!ip) continue;
      want.add(name);
      if (this.nodes.has(name)) continue;
      if (this.topo.hosts.has(name)) {
        this.agentError(`node ${name}: a host of that name already exists in the lab`);
        continue;
      }
      const host = this.topo.addDerivedHost(name, nodeListen(n), name);
      // The article's v1.19 node image names ports and networks as its `iptables -L` showed.
      if (this.doc.proxy === 'legacy') host.nf.services = 'legacy';
      this.topo.addDerivedLink(name, CLUSTER_LAN, `${ip}/${lan.len}`, 'eth0');
      for (const c of nodeBootCommands({ ip, prefixLen: lan.len, gateway: this.gateway(), tunnel: this.doc.tunnel === 'ipip' })) this.run(host, c.argv, c.stdin);
      this.nodes.add(name);
      this.routes.set(name, new Map());
      if (this.doc.tunnel === 'ipip') this.startTunnel(name, host, n);
    }
    for (const name of [...this.nodes]) {
      if (want.has(name)) continue;
      for (const [key, p] of this.pods) if (p.node === name) this.removePod(key);
      this.topo.removeDerivedHost(name);
      this.nodes.delete(name);
      this.routes.delete(name);
      this.synced.delete(name);
      this.proxies.delete(name);
      this.proxyEdited.delete(name);
      this.proxyFailed.delete(name);
      this.jumpsTouched.delete(name);
      this.lastFullSync.delete(name);
      this.zeroedAt.delete(name);
      this.felixChainsEdited.delete(name);
      this.felix.delete(name);
      this.ipam.releaseNode(name);
    }
  }

  private syncPods(): void {
    const want = new Map<string, Pod>();
    for (const p of this.store.view('Pod')) {
      if (p.spec.hostNetwork || !p.spec.nodeName || !p.status?.podIP || p.metadata.deletionTimestamp) continue;
      if (!this.nodes.has(p.spec.nodeName)) continue;
      want.set(podKey(p.metadata.namespace ?? 'default', p.metadata.name), p);
    }
    for (const key of [...this.pods.keys()]) {
      const p = want.get(key);
      const have = this.pods.get(key)!;
      if (!p || p.status!.podIP !== have.ip || p.spec.nodeName !== have.node) this.removePod(key);
    }
    for (const [key, p] of want) if (!this.pods.has(key)) this.addPod(key, p);
  }

  private addPod(key: string, pod: Pod): void {
    const ns = pod.metadata.namespace ?? 'default';
    const node = pod.spec.nodeName!;
    const ip = pod.status!.podIP!;
    if (this.topo.hosts.has(key)) {
      this.agentError(`pod ${key}: a host of that name already exists in the lab`);
      return;
    }
    const iface = calicoInterfaceName(ns, pod.metadata.name);
    const host = this.topo.addDerivedHost(key, podListen(pod), pod.metadata.name);
    this.topo.addDerivedVeth({ host: key, dev: 'eth0', ip: `${ip}/32` }, { host: node, dev: iface });
    // The CNI plugin's work: the pod's routes through the 169.254.1.1 gateway (answered by
    // proxy ARP on the host side), the host route to the pod, the host side's sysctls.
    this.run(host, ['ip', 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    this.run(host, ['ip', 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    const nodeHost = this.topo.hosts.get(node)!;
    this.run(nodeHost, ['sysctl', '-q', '-w', `net.ipv4.conf.${iface}.proxy_arp=1`]);
    // Calico's CNI answers the pod's ARP at once (the default delays proxy replies up to 0.8 s).
    this.run(nodeHost, ['sysctl', '-q', '-w', `net.ipv4.neigh.${iface}.proxy_delay=0`]);
    this.run(nodeHost, ['sysctl', '-q', '-w', `net.ipv4.conf.${iface}.forwarding=1`]);
    // Felix's configuration of a workload interface (endpoint manager): strict reverse-path
    // filtering (a pod cannot spoof its source) and routing to localhost (NAT to the host).
    this.run(nodeHost, ['sysctl', '-q', '-w', `net.ipv4.conf.${iface}.rp_filter=1`]);
    this.run(nodeHost, ['sysctl', '-q', '-w', `net.ipv4.conf.${iface}.route_localnet=1`]);
    this.run(nodeHost, ['ip', 'route', 'add', `${ip}`, 'dev', iface, 'scope', 'link']);
    this.pods.set(key, { key, node, ip, iface });
  }

  private removePod(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.topo.removeDerivedHost(key); // takes the veth pair (and the host route with it)
    this.pods.delete(key);
    // Felix, seeing the workload route go (felix/routetable, felix/conntrack): the address's
    // flows out of the node's table, those it started and those it answered.
    const node = this.topo.hosts.get(p.node);
    if (!node) return;
    for (const dir of ['--orig-src', '--reply-src']) runProgram(['conntrack', '--family', 'ipv4', '--delete', dir, p.ip], '', { host: node, now: this.topo.now() });
  }

  /** Routes to other nodes' blocks (and borrowed addresses) through tunl0 or eth0; own blocks blackholed. */
  private syncRoutes(nodes: Node[]): void {
    const ipip = this.doc.tunnel === 'ipip';
    // Where every block and borrowed address lives.
    const dests = new Map<string, string>(); // cidr -> node
    for (const n of this.nodes) for (const b of this.ipam.blocksOf(n)) dests.set(b, n);
    for (const p of this.pods.values()) {
      const ip = parseIPv4(p.ip)!;
      if (this.ipam.blockOwner(ip) !== p.node) dests.set(`${p.ip}/32`, p.node);
    }
    const nodeIP = new Map(nodes.map((n) => [n.metadata.name, nodeInternalIP(n)]));
    for (const name of this.nodes) {
      const host = this.topo.hosts.get(name)!;
      const have = this.routes.get(name)!;
      const want = new Map<string, string>();
      for (const [cidr, owner] of dests) {
        // A node's own blocks get BIRD's blackhole route (the pods' /32s are more specific):
        // an unused address of the block goes nowhere rather than out to the gateway.
        if (owner === name) {
          if (cidr.endsWith('/32')) continue;
          want.set(cidr, BLACKHOLE);
          continue;
        }
        const gw = nodeIP.get(owner);
        if (gw) want.set(cidr, gw);
      }
      for (const [cidr, gw] of have) {
        if (want.get(cidr) === gw) continue;
        this.run(host, gw === BLACKHOLE ? ['ip', 'route', 'del', 'blackhole', cidr] : ['ip', 'route', 'del', cidr]);
        have.delete(cidr);
      }
      for (const [cidr, gw] of want) {
        if (have.get(cidr) === gw) continue;
        if (gw === BLACKHOLE) this.run(host, ['ip', 'route', 'add', 'blackhole', cidr, 'proto', 'bird']);
        else this.run(host, ipip ? ['ip', 'route', 'add', cidr, 'via', gw, 'dev', 'tunl0', 'proto', 'bird', 'onlink'] : ['ip', 'route', 'add', cidr, 'via', gw, 'dev', 'eth0', 'proto', 'bird']);
        have.set(cidr, gw);
      }
    }
  }

  /** The node's tunnel address: the first one of its first block. */
  private tunnelAddress(node: string, podCIDR?: string): IPv4 {
    return this.ipam.addressOf(`tunnel:${node}`) ?? this.ipam.allocate(node, `tunnel:${node}`, podCIDR);
  }

  /** calico-node at start: tunl0 gets its address, and comes up. */
  private startTunnel(name: string, host: Host, node: Node): void {
    try {
      const ip = this.tunnelAddress(name, node.spec?.podCIDR);
      this.run(host, ['ip', 'addr', 'add', `${formatIPv4(ip)}/32`, 'dev', 'tunl0']);
      this.run(host, ['ip', 'link', 'set', 'tunl0', 'up']);
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
      this.agentError(`calico-node ${name}: ${e.message}`);
    }
  }

  /** What calicoctl reads: the cluster as Calico's datastore has it, and the IPAM blocks. */
  calicoctlEnv(): CalicoctlEnv {
    return {
      cluster: () => calicoCluster(this.store, { podCIDR: this.doc.podCIDR, ipip: this.doc.tunnel === 'ipip', tunnelIPs: this.tunnelIPs() }),
      blocks: () => [...this.nodes].flatMap((n) => this.ipam.blocksOf(n).map((cidr) => ({ cidr, node: n }))),
    };
  }

  private tunnelIPs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of this.nodes) {
      const ip = this.ipam.addressOf(`tunnel:${n}`);
      if (ip !== undefined) out[n] = formatIPv4(ip);
    }
    return out;
  }

  // ---- the cloud load balancer ---------------------------------------------------------------

  /** LoadBalancer addresses come from the top of the nodes' LAN: .200, .201, … on a /24. */
  private nextLbAddress(): string | null {
    const p = parsePrefix(this.doc.nodeCIDR)!;
    const size = 2 ** (32 - p.len);
    const taken = new Set(this.store.view('Service').flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)));
    for (let i = Math.floor((size * 25) / 32); i < size - 2; i++) {
      const ip = formatIPv4((p.addr + i) >>> 0);
      if (!taken.has(ip)) return ip;
    }
    return null;
  }

  /** The LB appliance: made with the first LoadBalancer address; routes follow health. */
  private syncCloudLb(nodes: Node[]): void {
    const routes = (this.lbRoutes ??= lbRoutes(this.store.view('Service') as Service[], nodes, this.store.view('EndpointSlice') as EndpointSlice[]));
    let host = this.topo.hosts.get(CLOUD_LB_HOST);
    if (!routes.size && !host) return;
    if (!host) {
      if (this.topo.hosts.has(CLOUD_LB_HOST)) return;
      const p = parsePrefix(this.doc.nodeCIDR)!;
      host = this.topo.addDerivedHost(CLOUD_LB_HOST, [], CLOUD_LB_HOST);
      this.topo.addDerivedLink(CLOUD_LB_HOST, CLUSTER_LAN, `${formatIPv4((p.addr + 2 ** (32 - p.len) - 2) >>> 0)}/${p.len}`, 'eth0');
      this.run(host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      this.lb = new Map();
    }
    // A backend link to every node (the cloud's fabric): proxy ARP answers on eth0 only for
    // addresses routed out of another interface, as the kernel's arp_process requires.
    for (const n of nodes) {
      const name = n.metadata.name;
      if (!this.nodes.has(name) || this.lbLinks.has(name)) continue;
      const dev = host.net.freeName('lb%d');
      this.topo.addDerivedVeth({ host: CLOUD_LB_HOST, dev }, { host: name, dev: 'cloudlb0' });
      this.lbLinks.set(name, dev);
    }
    for (const name of [...this.lbLinks.keys()]) if (!this.nodes.has(name)) this.lbLinks.delete(name);
    const nodeOf = new Map(nodes.map((n) => [nodeInternalIP(n), n.metadata.name]));
    for (const [ip] of this.lb) {
      if (routes.has(ip)) continue;
      this.run(host, ['ip', 'route', 'del', `${ip}/32`]);
      this.run(host, ['ip', 'neigh', 'del', 'proxy', ip, 'dev', 'eth0']);
      this.lb.delete(ip);
    }
    for (const [ip, via] of routes) {
      const had = this.lb.get(ip);
      if (had === undefined) this.run(host, ['ip', 'neigh', 'add', 'proxy', ip, 'dev', 'eth0']);
      if (had === via) continue;
      const dev = via ? this.lbLinks.get(nodeOf.get(via) ?? '') : undefined;
      this.run(host, via && dev ? ['ip', 'route', 'replace', `${ip}/32`, 'via', via, 'dev', dev, 'onlink'] : ['ip', 'route', 'replace', 'blackhole', `${ip}/32`]);
      this.lb.set(ip, via);
    }
  }

  /** What kube-proxy's health check server on node `host` answers on `port` (undefined: not one of its ports). */
  healthCheckAnswer(host: string, port: number, dateMs: number): HttpResponse | undefined {
    if (!this.nodes.has(host)) return undefined;
    const svc = healthCheckService(this.store.view('Service') as Service[], port);
    if (!svc) return undefined;
    return healthCheckResponse(svc, localReadyEndpoints(svc, host, this.store.view('EndpointSlice') as EndpointSlice[]), this.store.minor, dateMs);
  }

  // ---- Felix ---------------------------------------------------------------------------------

  /** Felix on a node: programs a changed rendering; with `repair` (a periodic refresh due),
   *  then repairs what still differs in the dataplane. */
  private syncFelix(name: string, calico: CalicoCluster, repair: FelixRefresh | null): void {
    const host = this.topo.hosts.get(name);
    if (!host) return;
    const r = renderNode(calico, name, this.doc.proxy === 'legacy' ? 'article' : 'v3.28');
    const key = r.restore + '\0' + r.ipsetRestore;
    const last = this.felix.get(name);
    if (!last || last.key !== key) {
      // Fresh: Felix's jumps are not in the kernel chains yet (not after a resync).
      const fresh = !last && !host.nf.chain('filter', 'cali-FORWARD');
      const p = programNode(host, r, this.topo.now(), fresh);
      for (const e of p.errors) this.agentError(`calico-node ${name}: ${e}`);
      this.felix.set(name, { key });
      if (p.rewroteAll) {
        this.felixChainsEdited.delete(name);
        return;
      }
    }
    if (!repair) return;
    for (const e of refreshNode(host, r, this.topo.now(), repair)) this.agentError(`calico-node ${name}: ${e}`);
    if (repair.chains) this.felixChainsEdited.delete(name);
  }

  // ---- kube-proxy ----------------------------------------------------------------------------

  private proxyConfig(): ProxyConfig {
    const c = this.store.proxyConfiguration() as unknown as Record<string, unknown>;
    const ipt = (c.iptables ?? {}) as Record<string, unknown>;
    const cfg: ProxyConfig = {};
    if (typeof c.clusterCIDR === 'string') cfg.clusterCIDR = c.clusterCIDR;
    if (typeof c.detectLocalMode === 'string') cfg.detectLocalMode = c.detectLocalMode as ProxyConfig['detectLocalMode'];
    if (c.mode === 'iptables' || c.mode === '') cfg.mode = c.mode;
    cfg.iptables = {};
    if (typeof ipt.masqueradeAll === 'boolean') cfg.iptables.masqueradeAll = ipt.masqueradeAll;
    if (typeof ipt.masqueradeBit === 'number') cfg.iptables.masqueradeBit = ipt.masqueradeBit;
    if (typeof ipt.localhostNodePorts === 'boolean') cfg.iptables.localhostNodePorts = ipt.localhostNodePorts;
    if (Array.isArray(c.nodePortAddresses)) cfg.nodePortAddresses = c.nodePortAddresses.filter((x): x is string => typeof x === 'string');
    return cfg;
  }

  /**
   * One kube-proxy sync on a node, as the proxier of the cluster's version syncs:
   * - legacy (v1.19): every sync writes every chain and checks its jumps from the built-in
   *   chains (iptables -C), at every change and every syncPeriod;
   * - current: a full sync like that at start, after a failed sync, a restart, when the
   *   canary chain is gone from mangle (its monitor looks every syncPeriod) and an hour after
   *   the last one; every other sync is partial: the top-level chains (KUBE-SERVICES, …) and
   *   the chains of the service ports that changed, no jump checked — hand edits elsewhere stay.
   * A full sync on a node that holds exactly what kube-proxy last wrote (no hand edit, no failed
   * command since) is the partial one plus every other chain's counters set back to zero: what
   * flushing and refilling them with the same rules leaves. Likewise a partial sync zeroes the
   * top-level chains it did not need to write.
   */
  private syncKubeProxy(node: Node, healthPorts: readonly ListenSpec[], services: ServicePort[], config: ProxyConfig): void {
    const name = node.metadata.name;
    const host = this.topo.hosts.get(name);
    if (!host) return;
    host.listen = [...nodeListen(node), ...healthPorts];
    const ips = host.net.links().flatMap((l) => (l.kind === 'loopback' ? [] : host.net.addrs(l.name).map((a) => formatIPv4(a.local))));
    const last = this.synced.get(name);
    // (read as kube-proxy starts, which is when it looks: the INVALID drop rule follows it)
    if (!last || this.restarted.has(name)) {
      this.beLiberal.set(name, host.net.sysctl.globalInt('net.netfilter.nf_conntrack_tcp_be_liberal') !== 0);
      if (this.doc.proxy !== 'legacy') kubeProxyNfacct(host);
      this.nfacctOn.set(name, KUBE_PROXY_NFACCT.every((c) => host.nfacct.has(c)));
    }
    const input: GenerateInput = {
      layout: this.doc.proxy,
      services,
      node: { name, ips, ...(node.spec?.podCIDR ? { podCIDR: node.spec.podCIDR } : {}), nfacct: this.nfacctOn.get(name) ?? false, ...(this.beLiberal.get(name) ? { conntrackTCPBeLiberal: true } : {}) },
      config,
    };
    const nodeKey = JSON.stringify([input.node, input.config]);
    const legacy = this.doc.proxy === 'legacy';
    const now = this.topo.now();
    const restart = this.restarted.delete(name);
    const failed = this.proxyFailed.has(name);
    const handEdited = this.proxyEdited.has(name);
    const changed = !last || last.nodeKey !== nodeKey || !sameServicePorts(last.services, services);
    // (the canary is looked at by the monitor, every syncPeriod: on a refresh)
    const canaryGone = !legacy && this.refresh && !host.nf.chain('mangle', 'KUBE-PROXY-CANARY');
    const hourly = !legacy && now - (this.lastFullSync.get(name) ?? -Infinity) >= FULL_SYNC_PERIOD;
    const full = legacy || !last || restart || failed || canaryGone || hourly;
    // When kube-proxy syncs at all: on a change, a restart, and on the periodic refresh (legacy:
    // always; current: a failed sync's retry, the canary, the hourly sync).
    if (!changed && !restart && !(this.refresh && (legacy || failed || canaryGone || hourly))) return;
    let syncer = this.proxies.get(name);
    if (!syncer) this.proxies.set(name, (syncer = new KubeProxySyncer(this.proxyTexts)));
    if (!last || restart) kubeProxyStart(host, legacy || currentLocalhostNodePorts(input), now);
    // (kept over a restart: the syncer remembers what it last wrote)
    const untouched = !handEdited && !failed && syncer.synced();
    // Stale service chains are looked for among the node's chains (what iptables-save shows).
    const natChains = () => [...(host.nf.table('nat')?.chains.keys() ?? [])];
    const res = syncer.sync(input, untouched || (!full && last !== undefined), natChains, !full && !untouched);
    // The jumps from the built-in chains stay where the last full sync checked them unless a
    // console edited this node since (kube-proxy's own `iptables -C` would find them all).
    const ok = this.applyProxyRules(host, res, full && (!untouched || this.jumpsTouched.has(name)));
    if (!ok) this.proxyFailed.add(name);
    else if (full) {
      this.proxyFailed.delete(name);
      this.proxyEdited.delete(name);
      this.jumpsTouched.delete(name);
      this.lastFullSync.set(name, now);
    }
    if (ok) {
      // (a written chain counts from zero too)
      const z = this.zeroedAt.get(name) ?? { all: -1, top: -1 };
      const ticks = counterClock.ticks;
      if (untouched && z.all !== ticks && (full || z.top !== ticks)) zeroCounters(host, (table, chain) => syncer.declares(table, chain, !full));
      if (full) z.all = ticks;
      z.top = ticks;
      this.zeroedAt.set(name, z);
      kubeProxyConntrackCleanup(host, this.doc.proxy, restart ? undefined : last?.services, services, now);
    }
    this.synced.set(name, { services, nodeKey });
  }

  /** Applies a kube-proxy sync; false: one of its commands failed. */
  private applyProxyRules(host: Host, res: ProxySync, checkJumps: boolean): boolean {
    let ok = true;
    for (const c of res.ensureChains) {
      if (!host.nf.chain(c.table, c.chain)) ok = this.run(host, ['iptables', '-t', c.table, '-N', c.chain]) && ok;
    }
    for (const r of checkJumps ? res.staticRules : []) {
      const check = runProgram(['iptables', '-t', r.table, '-C', r.chain, ...r.args], '', { host, now: this.topo.now() });
      if (check.code === 0) continue;
      ok = this.run(host, r.op === '-I' ? ['iptables', '-t', r.table, '-I', r.chain, '1', ...r.args] : ['iptables', '-t', r.table, '-A', r.chain, ...r.args]) && ok;
    }
    if (res.text !== null) ok = this.run(host, ['iptables-restore', '--noflush'], res.text) && ok;
    // Each rule remembers what made it (rewritten chains only: the others kept their rules).
    for (const w of res.rewritten) {
      const c = host.nf.chain(w.table, w.chain);
      if (!c) continue;
      const origins = chainOrigins(w.parts);
      for (let i = 0; i < origins.length && i < c.rules.length; i++) c.rules[i].origin = origins[i];
    }
    return ok;
  }
}

/** What `:chain - [0:0]` in iptables-restore --noflush does to the counters of the chains
 *  it declares (`ours`) when their rules are written again the same: the rules count from zero.
 *  Only chains with a count are looked up (most of kube-proxy's tens of thousands have none). */
function zeroCounters(host: Host, ours: (table: string, chain: string) => boolean): void {
  for (const t of ['filter', 'nat'] as const) {
    const table = host.nf.table(t);
    if (!table) continue;
    for (const c of table.chains.values()) {
      let counted = c.packets !== 0 || c.bytes !== 0;
      for (let i = 0; !counted && i < c.rules.length; i++) counted = c.rules[i].packets !== 0 || c.rules[i].bytes !== 0;
      if (!counted || !ours(t, c.name)) continue;
      c.packets = 0;
      c.bytes = 0;
      for (const r of c.rules) {
        r.packets = 0;
        r.bytes = 0;
      }
    }
  }
}

/** More Services changed than the next sync looks at one by one. */
const MANY_CHANGES = 64;

function noChanges(): { all: boolean; services: Set<string>; serviceWritten: boolean; nodeWritten: boolean } {
  return { all: false, services: new Set(), serviceWritten: false, nodeWritten: false };
}

/** The same ServicePorts (the same objects, or equal ones). */
function sameServicePorts(a: readonly ServicePort[], b: readonly ServicePort[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && JSON.stringify(a[i]) !== JSON.stringify(b[i])) return false;
  return true;
}

/** A node's own servers: the kubelet (10250), kube-proxy's health check (10256), and on the
 *  control plane the API server (8443, minikube's port). */
function nodeListen(n: Node): ListenSpec[] {
  const out: ListenSpec[] = [{ port: 10250, proto: 'tcp' }, { port: 10256, proto: 'tcp' }];
  const labels = n.metadata.labels ?? {};
  if ('node-role.kubernetes.io/master' in labels || 'node-role.kubernetes.io/control-plane' in labels) out.unshift({ port: 8443, proto: 'tcp' });
  return out;
}

/** The sockets a pod listens on: its containers' ports, or a web server on 80 when none is declared. */
function podListen(pod: Pod): ListenSpec[] {
  const out: ListenSpec[] = [];
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      const proto = (p.protocol ?? 'TCP').toLowerCase() as ListenSpec['proto'];
      if (!out.some((x) => x.port === p.containerPort && x.proto === proto)) out.push({ port: p.containerPort, proto });
    }
  }
  if (!out.length) out.push({ port: 80, proto: 'tcp' });
  return out;
}
