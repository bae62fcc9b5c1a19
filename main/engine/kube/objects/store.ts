// The lab's API server and controller manager in one: objects by kind, namespace and name, with
// the server's bookkeeping (uid, resourceVersion, generation, creationTimestamp from the lab
// clock), defaulting, validation and allocation on every write, `kubectl apply` semantics
// (create, or three-way merge into the live object), garbage collection of owned objects, and
// the controllers run to a fixed point after each change. Everything random comes from the
// lab's seeded generator, so replaying a lab's commands rebuilds the same names and addresses.

import type { Rng } from '../../random.ts';
import { parsePrefix } from '../../net/ipv4.ts';
import { ClusterIPAllocator, PortAllocator } from './allocators.ts';
import type { ControllerHost, KubeHooks, ObjectOf } from './controller-host.ts';
import type { Decoded } from './decode.ts';
import { applyDefaults, defaultPodSpec } from './defaults.ts';
import { syncDeployments, syncDeploymentStatus } from './deployments.ts';
import { cleanupServiceEndpoints, LABEL_SERVICE_NAME, syncServiceEndpoints } from './endpoint-sync.ts';
import { lastAppliedOf, readLastApplied, threeWayMerge } from './merge.ts';
import { minorOf, newUid, rfc3339 } from './meta.ts';
import { syncPods } from './pods.ts';
import { syncLoadBalancers } from './cloud.ts';
import { dropTypeDependentFields, ServiceAllocator } from './service-alloc.ts';
import { alreadyExists, invalidError, notFound, StatusError } from './status.ts';
import type { Kind, KubeObject, KubeProxyConfiguration, Node, Pod } from './types.ts';
import { ANN_LAST_APPLIED, apiVersionOf, clone, deepEqual, isObject, KINDS } from './types.ts';
import { validateObject, validateUpdate, unsupported } from './validate.ts';

export interface ClusterConfig {
  /** Cluster release, e.g. `v1.19.2`: decides defaults, messages and printed versions. */
  version: string;
  serviceCIDR: string;
  nodePortRange: [number, number];
  /** Unix time (seconds) of lab clock 0: creationTimestamps are epoch + clock. */
  epoch: number;
  /** The pods' address range: kube-proxy's clusterCIDR (minikube passes its --pod-network-cidr). */
  podCIDR: string;
}

export const DEFAULT_CLUSTER: ClusterConfig = {
  version: 'v1.19.2',
  serviceCIDR: '10.96.0.0/12',
  nodePortRange: [30000, 32767],
  epoch: 1604553987, // 2020-11-05T05:26:27Z, the article's calicoctl timestamp
  podCIDR: '10.244.0.0/16',
};

export interface StoreOptions {
  rng: Rng;
  /** The lab clock, in seconds. */
  clock: () => number;
  hooks?: KubeHooks;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface WriteResult {
  action: ApplyAction;
  object: Decoded;
  /** A kubectl warning to print on stderr (e.g. apply on an object made by `create`). */
  warning?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The store's object: read it, never change it. */
  object: Readonly<KubeObject | KubeProxyConfiguration>;
  /** MODIFIED: the object it replaced. */
  old?: Readonly<KubeObject | KubeProxyConfiguration>;
}

/** minikube's kube-proxy settings (its ConfigMap), the base every applied configuration merges into. */
function defaultProxyConfig(minor: number, podCIDR: string): KubeProxyConfiguration {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    metadata: { name: 'kube-proxy' },
    clusterCIDR: podCIDR,
    detectLocalMode: '',
    mode: '',
    nodePortAddresses: null,
    iptables: { masqueradeAll: false, masqueradeBit: null, minSyncPeriod: minor < 20 ? '0s' : '1s', syncPeriod: '0s', ...(minor >= 27 ? { localhostNodePorts: null } : {}) },
  };
}

const keyOf = (kind: Kind, ns: string | undefined, name: string) => `${kind}/${KINDS[kind].namespaced ? ns ?? '' : ''}/${name}`;
const same = deepEqual;

/** The order of lists: by namespace, then name. */
function byNsName(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.namespace ?? '', nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** A create's result: the object is copied when read (an apply of thousands of objects reads none). */
function created(stored: KubeObject): WriteResult {
  return {
    action: 'created',
    get object() {
      return clone(stored);
    },
  };
}

const SPEC_KINDS = new Set<Kind>(['Deployment', 'ReplicaSet', 'NetworkPolicy', 'EndpointSlice']);

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = clone(base);
  for (const [k, v] of Object.entries(patch)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : clone(v);
  return out;
}

/** A cached list that had this many objects put in or taken out in place is made again instead
 *  (a splice into 10,000 sorted objects each time costs more than one sort). */
const LIST_EDITS = 256;

export class KubeStore {
  readonly config: ClusterConfig;
  readonly minor: number;
  readonly rng: Rng;
  private readonly clock: () => number;
  private readonly hooks: KubeHooks;
  private objects = new Map<string, KubeObject>();
  private seq = new Map<string, number>();
  private nextSeq = 0;
  private rv = 0;
  /** The last resourceVersion handed out (the API's write count). */
  get revision(): number {
    return this.rv;
  }
  private readonly alloc: ServiceAllocator;
  private proxy: KubeProxyConfiguration;
  private listeners = new Set<(events: WatchEvent[]) => void>();
  private pending: WatchEvent[] = [];
  private batchDepth = 0;
  private readonly host: ControllerHost;

  constructor(config: Partial<ClusterConfig>, opts: StoreOptions) {
    this.config = { ...DEFAULT_CLUSTER, ...config };
    this.minor = minorOf(this.config.version);
    this.rng = opts.rng;
    this.clock = opts.clock;
    this.hooks = opts.hooks ?? {};
    const cidr = parsePrefix(this.config.serviceCIDR);
    if (!cidr) throw new Error(`bad service CIDR ${this.config.serviceCIDR}`);
    const upper = this.minor >= 27;
    this.alloc = new ServiceAllocator(
      new ClusterIPAllocator(cidr, upper),
      new PortAllocator(this.config.nodePortRange[0], this.config.nodePortRange[1], upper),
      this.rng,
      this.minor,
    );
    this.proxy = defaultProxyConfig(this.minor, this.config.podCIDR);
    this.host = this.makeHost();
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  now(): number {
    return this.config.epoch + this.clock();
  }

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): ObjectOf<K> | undefined {
    const o = this.objects.get(keyOf(kind, namespace, name));
    return o ? (clone(o) as ObjectOf<K>) : undefined;
  }

  /** The live object itself, without copying (for hot read-only paths); callers must not change it. */
  peek<K extends Kind>(kind: K, namespace: string | undefined, name: string): Readonly<ObjectOf<K>> | undefined {
    return this.objects.get(keyOf(kind, namespace, name)) as ObjectOf<K> | undefined;
  }

  /** Objects of a kind, in a namespace or all (`undefined`), sorted by namespace then name. */
  list<K extends Kind>(kind: K, namespace?: string): ObjectOf<K>[] {
    return this.liveList(kind, namespace).map((o) => clone(o));
  }

  /**
   * The live objects themselves, without copying (the node agents read every object on every
   * sync; copying 60,000 objects each time costs seconds). Callers must not change them.
   */
  view<K extends Kind>(kind: K, namespace?: string): readonly Readonly<ObjectOf<K>>[] {
    return this.liveList(kind, namespace);
  }

  /** The live EndpointSlices of a namespace labelled with a Service's name, sorted by name
   *  (callers must not change them). */
  slicesOf(namespace: string, service: string): readonly Readonly<ObjectOf<'EndpointSlice'>>[] {
    const m = this.slicesByService.get(`${namespace}/${service}`);
    if (!m) return [];
    return ([...m.values()] as ObjectOf<'EndpointSlice'>[]).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }

  proxyConfiguration(): KubeProxyConfiguration {
    return clone(this.proxy);
  }

  /** The first address of the service CIDR (the kubernetes Service), the tenth (kube-dns), ... */
  serviceIP(n: number): string {
    return this.alloc.ips.nth(n);
  }

  /** Subscribes to changes (batched per operation); returns the unsubscribe function. */
  watch(fn: (events: WatchEvent[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ------------------------------------------------------------------------------------------
  // Writing (each public write runs the controllers and then tells the watchers)

  /** `kubectl apply`: create, or merge the configuration into the live object. `owned`: the
   *  caller hands `obj` over (it reads it no more than its kind and name): it is not copied. */
  apply(obj: Decoded, opts: { namespace?: string; owned?: boolean } = {}): WriteResult {
    return this.op(() => {
      if (obj.kind === 'KubeProxyConfiguration') return this.applyProxy(obj);
      const o = this.prepare(obj as KubeObject, opts.namespace, opts.owned);
      // (the configuration is `o` as prepared: only its annotations are replaced below, by a new object)
      const config = o as unknown as Record<string, unknown>;
      const live = this.objects.get(keyOf(o.kind, o.metadata.namespace, o.metadata.name));
      const annotation = lastAppliedOf(config);
      if (!live) {
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [ANN_LAST_APPLIED]: annotation };
        return created(this.createObject(o, true));
      }
      const original = readLastApplied(live);
      const warning = original
        ? undefined
        : `Warning: resource ${KINDS[o.kind].plural}/${o.metadata.name} is missing the ${ANN_LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.`;
      const merged = threeWayMerge(o.kind, original, config, live as unknown as Record<string, unknown>) as unknown as KubeObject;
      merged.metadata.annotations = { ...(merged.metadata.annotations ?? {}), [ANN_LAST_APPLIED]: annotation };
      const updated = this.updateObject(merged, live);
      return { action: updated ? 'configured' : 'unchanged', object: clone(updated ?? live), warning };
    });
  }

  /** `kubectl create`: refuses an existing name. */
  create(obj: Decoded, opts: { namespace?: string; saveConfig?: boolean; owned?: boolean } = {}): WriteResult {
    return this.op(() => {
      if (obj.kind === 'KubeProxyConfiguration') return this.applyProxy(obj);
      const o = this.prepare(obj as KubeObject, opts.namespace, opts.owned);
      if (opts.saveConfig) o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [ANN_LAST_APPLIED]: lastAppliedOf(o as unknown as Record<string, unknown>) };
      return created(this.createObject(o, true));
    });
  }

  /** Deletes an object and what it owns; returns the deleted object. */
  delete(kind: Kind, name: string, namespace?: string): KubeObject {
    return this.op(() => {
      const ns = KINDS[kind].namespaced ? namespace ?? 'default' : undefined;
      const live = this.objects.get(keyOf(kind, ns, name));
      if (!live) throw notFound(KINDS[kind].plural, name, KINDS[kind].group);
      this.removeCascade(live);
      return clone(live);
    });
  }

  /** `kubectl scale deployment NAME --replicas=N`. */
  scale(name: string, namespace: string, replicas: number): ObjectOf<'Deployment'> {
    return this.op(() => {
      const live = this.objects.get(keyOf('Deployment', namespace, name));
      if (!live || live.kind !== 'Deployment') throw notFound('deployments', name, 'apps');
      if (replicas < 0) throw invalidError('Deployment', name, [{ type: 'Invalid value', field: 'spec.replicas', value: String(replicas), detail: 'must be greater than or equal to 0' }]);
      const d = clone(live);
      d.spec.replicas = replicas;
      return clone(this.updateObject(d, live) ?? live) as ObjectOf<'Deployment'>;
    });
  }

  /**
   * `kubectl label`'s patch: sets and removes labels of one object (validated as any update).
   * Returns the object and whether anything changed.
   */
  relabel(kind: Kind, name: string, namespace: string | undefined, set: Record<string, string>, remove: string[]): { object: KubeObject; changed: boolean } {
    return this.op(() => {
      const ns = KINDS[kind].namespaced ? namespace ?? 'default' : undefined;
      const live = this.objects.get(keyOf(kind, ns, name));
      if (!live) throw notFound(KINDS[kind].plural, name, KINDS[kind].group);
      const labels = { ...(live.metadata.labels ?? {}) };
      for (const k of remove) delete labels[k];
      Object.assign(labels, set);
      const next = clone(live);
      if (Object.keys(labels).length) next.metadata.labels = labels;
      else delete next.metadata.labels;
      const updated = this.updateObject(next, live);
      return { object: clone(updated ?? live), changed: updated !== null };
    });
  }

  /**
   * What a fresh minikube has: the four namespaces, the `kubernetes` Service on the first
   * address of the service CIDR with its Endpoints (the API server, `apiServer` IP:8443), and,
   * with `dns`, the kube-dns Service on the tenth address and the CoreDNS Deployment.
   */
  bootstrap(opts: { apiServer?: string; dns?: boolean } = {}): void {
    this.op(() => {
      for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
        if (!this.objects.has(keyOf('Namespace', undefined, ns))) this.createObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      }
      this.createObject({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: this.serviceIP(1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }], sessionAffinity: 'None', type: 'ClusterIP' },
      });
      if (opts.apiServer) {
        this.createObject({
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
          subsets: [{ addresses: [{ ip: opts.apiServer }], ports: [{ name: 'https', port: 8443, protocol: 'TCP' }] }],
        });
        // The API server keeps its own slice, named like the Service.
        this.createObject({
          apiVersion: this.minor >= 21 ? 'discovery.k8s.io/v1' : 'discovery.k8s.io/v1beta1',
          kind: 'EndpointSlice',
          metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: [opts.apiServer], conditions: { ready: true } }],
          ports: [{ name: 'https', port: 8443, protocol: 'TCP' }],
        });
      }
      if (opts.dns) {
        const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'KubeDNS' };
        this.createObject({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'kube-dns', namespace: 'kube-system', labels, annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' } },
          spec: {
            clusterIP: this.serviceIP(10),
            ports: [
              { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
              { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
              { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
            ],
            selector: { 'k8s-app': 'kube-dns' },
            type: 'ClusterIP',
          },
        });
        const image = this.minor < 24 ? 'k8s.gcr.io/coredns:1.7.0' : 'registry.k8s.io/coredns/coredns:v1.11.3';
        this.createObject({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            template: {
              metadata: { labels: { 'k8s-app': 'kube-dns' } },
              spec: {
                containers: [
                  {
                    name: 'coredns',
                    image,
                    args: ['-conf', '/etc/coredns/Corefile'],
                    ports: [
                      { containerPort: 53, name: 'dns', protocol: 'UDP' },
                      { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                      { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
                    ],
                  },
                ],
                dnsPolicy: 'Default',
                priorityClassName: 'system-cluster-critical',
                serviceAccountName: 'coredns',
              },
            },
          },
        });
      }
      return undefined;
    });
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  private op<T>(fn: () => T): T {
    if (this.batchDepth > 0) return fn(); // reconciled once when the batch ends
    try {
      const r = fn();
      this.reconcile();
      return r;
    } finally {
      const events = this.pending;
      this.pending = [];
      if (events.length) for (const l of this.listeners) l(events);
    }
  }

  /**
   * Several writes with the controllers run once at the end (`kubectl apply` of a file of many
   * objects: the real controllers run asynchronously too, after the writes are accepted).
   */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.op(() => undefined);
    }
  }

  private emit(type: WatchEvent['type'], object: KubeObject | KubeProxyConfiguration, old?: KubeObject | KubeProxyConfiguration): void {
    // The store's own object (it is replaced, never changed, by a later write), as view() hands
    // them out: copying every object written for watchers that only note a change cost a
    // quarter of a big apply's copying.
    this.pending.push(old ? { type, object, old } : { type, object });
  }

  /** Sorted live lists by kind and namespace, kept in step with writes (controllers list often). */
  private readonly lists = new Map<string, KubeObject[]>();

  /** Per cached list, the objects put in or taken out of it in place since it was made. */
  private readonly listEdits = new Map<string, number>();

  private liveList<K extends Kind>(kind: K, namespace?: string): ObjectOf<K>[] {
    const key = `${kind}/${namespace ?? '*'}`;
    const cached = this.lists.get(key);
    if (cached) return cached.slice() as ObjectOf<K>[];
    const list = this.scanList(kind, namespace);
    this.lists.set(key, list);
    this.listEdits.set(key, 0);
    return list.slice();
  }

  private scanList<K extends Kind>(kind: K, namespace?: string): ObjectOf<K>[] {
    const out: ObjectOf<K>[] = [];
    for (const o of this.objects.values()) {
      if (o.kind === kind && (namespace === undefined || !KINDS[kind].namespaced || o.metadata.namespace === namespace)) out.push(o as ObjectOf<K>);
    }
    return out.sort(byNsName);
  }

  /**
   * Keeps the cached lists that hold `o`'s kind in step with one write (`gone`: deleted) in
   * place, instead of dropping them: one endpoint change among 10,000 Services would
   * otherwise re-scan and re-sort every list the controllers and agents read next.
   */
  private relist(o: KubeObject, gone: boolean, prev?: KubeObject): void {
    if (o.kind === 'Service') this.serviceWrites++;
    this.markEndpointInput(o);
    if (prev) this.markEndpointInput(prev);
    if (o.kind === 'EndpointSlice') {
      if (prev) this.indexSlice(prev, true);
      this.indexSlice(o, gone);
    }
    const prefix = `${o.kind}/`;
    const namespaced = KINDS[o.kind].namespaced;
    for (const [key, list] of this.lists) {
      if (!key.startsWith(prefix)) continue;
      const ns = key.slice(prefix.length);
      if (namespaced && ns !== '*' && ns !== o.metadata.namespace) continue;
      // binary search by (namespace, name)
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (byNsName(list[mid], o) < 0) lo = mid + 1;
        else hi = mid;
      }
      const found = lo < list.length && byNsName(list[lo], o) === 0;
      if (found && !gone) {
        list[lo] = o;
        continue;
      }
      if (!found && gone) continue;
      // Many objects put in or taken out (a big apply): made again, sorted once, when next read.
      const edits = (this.listEdits.get(key) ?? 0) + 1;
      if (edits > LIST_EDITS) {
        this.lists.delete(key);
        continue;
      }
      this.listEdits.set(key, edits);
      if (gone) list.splice(lo, 1);
      else list.splice(lo, 0, o);
    }
  }

  /** Namespace resolution and the checks every write makes before anything else. */
  private prepare(obj: KubeObject, namespace?: string, owned = false): KubeObject {
    const o = owned ? obj : clone(obj);
    if (!isObject(o.metadata)) (o as { metadata: unknown }).metadata = { name: '' };
    const info = KINDS[o.kind];
    if (info.namespaced) o.metadata.namespace = o.metadata.namespace || namespace || 'default';
    else delete o.metadata.namespace;
    if (!o.metadata.name) throw new StatusError('BadRequest', 'resource name may not be empty');
    return o;
  }

  private stamp(o: KubeObject): void {
    o.metadata.resourceVersion = String(++this.rv);
    if (this.minor < 20) {
      const info = KINDS[o.kind];
      const base = info.group ? `/apis/${o.apiVersion || apiVersionOf(info)}` : '/api/v1';
      o.metadata.selfLink = info.namespaced
        ? `${base}/namespaces/${o.metadata.namespace}/${info.plural}/${o.metadata.name}`
        : `${base}/${info.plural}/${o.metadata.name}`;
    }
  }

  /** Stores a new object (`owned`: the caller's own copy, taken over); returns the stored object
   *  itself, for the caller to copy before handing it out. */
  private createObject(obj: KubeObject, owned = false): KubeObject {
    const o = owned ? obj : clone(obj);
    const info = KINDS[o.kind];
    const ns = o.metadata.namespace;
    if (info.namespaced && !this.objects.has(keyOf('Namespace', undefined, ns as string))) throw notFound('namespaces', ns as string);
    const key = keyOf(o.kind, ns, o.metadata.name);
    if (this.objects.has(key)) throw alreadyExists(info.plural, o.metadata.name, info.group);
    if (o.kind === 'Pod') delete o.status;
    if (o.kind === 'Node') this.defaultNodeStatus(o);
    applyDefaults(o, this.minor);
    const errs = validateObject(o, this.minor);
    if (errs.length) throw invalidError(o.kind, o.metadata.name, errs);
    if (o.kind === 'Service') this.alloc.allocate(o);
    o.metadata.uid = newUid(this.rng);
    o.metadata.creationTimestamp = rfc3339(this.now());
    if (SPEC_KINDS.has(o.kind)) o.metadata.generation = 1;
    this.stamp(o);
    this.objects.set(key, o);
    this.relist(o, false);
    this.seq.set(key, this.nextSeq++);
    this.emit('ADDED', o);
    return o;
  }

  /** Writes `next` over `live` after validation; returns null when nothing changed. */
  private updateObject(next: KubeObject, live: KubeObject): KubeObject | null {
    const o = clone(next);
    // What a client may not set on an update: identity and the server's bookkeeping.
    const meta = o.metadata as Record<string, unknown>;
    for (const k of ['uid', 'creationTimestamp', 'resourceVersion', 'selfLink', 'generation']) {
      if (live.metadata[k] !== undefined) meta[k] = live.metadata[k];
    }
    if (o.kind === 'Pod' && live.kind === 'Pod') o.status = live.status;
    if (o.kind === 'Node') this.defaultNodeStatus(o);
    if (o.kind === 'Service' && live.kind === 'Service') dropTypeDependentFields(o, live, this.minor);
    applyDefaults(o, this.minor);
    const errs = [...validateObject(o, this.minor), ...validateUpdate(o, live, this.minor)];
    if (errs.length) throw invalidError(o.kind, o.metadata.name, errs);
    if (o.kind === 'Service' && live.kind === 'Service') this.alloc.allocate(o, live);
    if (same(o, live)) return null;
    if (SPEC_KINDS.has(o.kind) && !same((o as { spec?: unknown }).spec, (live as { spec?: unknown }).spec)) {
      o.metadata.generation = (live.metadata.generation ?? 1) + 1;
    }
    this.stamp(o);
    this.objects.set(keyOf(o.kind, o.metadata.namespace, o.metadata.name), o);
    this.relist(o, false, live);
    this.emit('MODIFIED', o, live);
    return clone(o);
  }

  private defaultNodeStatus(n: Node): void {
    const st = n.status ?? {};
    const ts = rfc3339(this.now());
    if (!st.conditions) {
      st.conditions = [
        { lastHeartbeatTime: ts, lastTransitionTime: ts, message: 'kubelet is posting ready status', reason: 'KubeletReady', status: 'True', type: 'Ready' },
      ];
    }
    st.nodeInfo = { kubeletVersion: this.config.version, kubeProxyVersion: this.config.version, operatingSystem: 'linux', architecture: 'amd64', ...(st.nodeInfo ?? {}) };
    n.status = st;
  }

  private removeOne(o: KubeObject): void {
    const key = keyOf(o.kind, o.metadata.namespace, o.metadata.name);
    if (!this.objects.delete(key)) return;
    this.relist(o, true);
    this.seq.delete(key);
    if (o.kind === 'Service') {
      this.alloc.release(o);
      cleanupServiceEndpoints(this.host, o.metadata.namespace as string, o.metadata.name);
    }
    if (o.kind === 'Pod' && o.status?.podIP) this.hooks.releaseIp?.(o);
    this.emit('DELETED', o);
  }

  /** Deletes an object, then what it owns (by ownerReferences) and, for a namespace, its contents. */
  private removeCascade(o: KubeObject): void {
    this.removeOne(o);
    const uid = o.metadata.uid;
    for (const other of [...this.objects.values()]) {
      const owned = !!uid && (other.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
      const inNs = o.kind === 'Namespace' && KINDS[other.kind].namespaced && other.metadata.namespace === o.metadata.name;
      if (owned || inNs) this.removeCascade(other);
    }
  }

  private applyProxy(obj: KubeProxyConfiguration): WriteResult {
    if (obj.mode !== undefined && obj.mode !== '' && obj.mode !== 'iptables') {
      const e = unsupported('mode', obj.mode, ['iptables']);
      e.detail += ' (the lab implements the iptables mode only)';
      throw invalidError('KubeProxyConfiguration', obj.metadata?.name ?? 'kube-proxy', [e]);
    }
    const patch = clone(obj) as unknown as Record<string, unknown>;
    delete patch.metadata;
    const next = deepMerge(this.proxy as unknown as Record<string, unknown>, patch) as unknown as KubeProxyConfiguration;
    if (same(next, this.proxy)) return { action: 'unchanged', object: clone(this.proxy) };
    const old = this.proxy;
    this.proxy = next;
    this.emit('MODIFIED', next, old);
    return { action: 'configured', object: clone(next) };
  }

  /** Service writes so far (every write goes through relist). */
  private serviceWrites = 0;
  /** What was written of the endpoint controllers' inputs since their last pass began: the
   *  Services it concerns (`ns/name`), namespaces where a pod was written, or everything (a
   *  Node or Namespace, whose writes concern every Service; and at first). */
  private endpointDirty = { all: true, services: new Set<string>(), podNamespaces: new Set<string>() };
  /** The Service writes when the cloud controller last ran (its only input). */
  private lbInputs = -1;

  /** The EndpointSlices by `namespace/service-name label`, then name (the endpoint
   *  controllers' look-up when they look at a few Services). */
  private readonly slicesByService = new Map<string, Map<string, KubeObject>>();

  private indexSlice(o: KubeObject, gone: boolean): void {
    const svc = o.metadata.labels?.[LABEL_SERVICE_NAME];
    if (svc === undefined) return;
    const key = `${o.metadata.namespace}/${svc}`;
    let m = this.slicesByService.get(key);
    if (gone) {
      if (m?.get(o.metadata.name) === o) m.delete(o.metadata.name);
      if (m && !m.size) this.slicesByService.delete(key);
      return;
    }
    if (!m) this.slicesByService.set(key, (m = new Map()));
    m.set(o.metadata.name, o);
  }

  private markEndpointInput(o: KubeObject): void {
    const d = this.endpointDirty;
    if (d.all) return;
    switch (o.kind) {
      case 'Service':
      case 'Endpoints':
        d.services.add(`${o.metadata.namespace}/${o.metadata.name}`);
        break;
      case 'EndpointSlice': {
        const svc = o.metadata.labels?.[LABEL_SERVICE_NAME];
        if (svc) d.services.add(`${o.metadata.namespace}/${svc}`);
        break;
      }
      case 'Pod':
        d.podNamespaces.add(o.metadata.namespace ?? 'default');
        break;
      case 'Node':
      case 'Namespace':
        d.all = true;
        break;
    }
  }

  /** Runs the controllers until nothing changes (bounded). */
  private reconcile(): void {
    for (let i = 0; i < 5; i++) {
      const before = this.rv + this.objects.size;
      // A controller's refused write (an invalid template, say) must not fail the user's write.
      for (const step of [
        () => syncDeployments(this.host, (pod) => this.defaultNewPod(pod)),
        () => syncPods(this.host, this.hooks),
        () => syncDeploymentStatus(this.host),
        () => {
          // Only the Services whose inputs were written since the last pass began (the pass's
          // own writes are looked at by the next one), none when nothing they read was written.
          // A pass cut short by a refused write leaves the next one to look at every Service.
          const d = this.endpointDirty;
          if (!d.all && d.services.size === 0 && d.podNamespaces.size === 0) return;
          this.endpointDirty = { all: false, services: new Set(), podNamespaces: new Set() };
          try {
            syncServiceEndpoints(this.host, d.all ? null : d);
          } catch (e) {
            this.endpointDirty.all = true;
            throw e;
          }
        },
        () => {
          // The cloud controller reads the Services only: skipped when none was written.
          // (Its own writes count: it looks again after them, as another Service may have
          // freed an address for one it left pending.)
          const services = this.serviceWrites;
          if (services === this.lbInputs) return;
          syncLoadBalancers(this.host, this.hooks);
          this.lbInputs = services;
        },
      ]) {
        try {
          step();
        } catch (e) {
          if (!(e instanceof StatusError)) throw e;
        }
      }
      if (this.rv + this.objects.size === before) return;
    }
  }

  private defaultNewPod(pod: Pod): void {
    defaultPodSpec(pod.spec);
    applyDefaults(pod, this.minor);
  }

  private makeHost(): ControllerHost {
    return {
      minor: this.minor,
      rng: this.rng,
      list: (kind, ns) => this.liveList(kind, ns),
      get: (kind, ns, name) => this.objects.get(keyOf(kind, ns, name)) as never,
      slicesOf: (ns, svc) => this.slicesOf(ns, svc) as ObjectOf<'EndpointSlice'>[],
      create: (obj) => this.createObject(obj) as typeof obj,
      update: (obj) => {
        const live = this.objects.get(keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name));
        if (!live) return obj;
        const o = clone(obj);
        o.metadata.resourceVersion = live.metadata.resourceVersion;
        if (same(o, live)) return live as typeof obj;
        if (SPEC_KINDS.has(o.kind) && !same((o as { spec?: unknown }).spec, (live as { spec?: unknown }).spec)) {
          o.metadata.generation = (live.metadata.generation ?? 1) + 1;
        }
        this.stamp(o);
        this.objects.set(keyOf(o.kind, o.metadata.namespace, o.metadata.name), o);
        this.relist(o, false, live);
        this.emit('MODIFIED', o, live);
        return o;
      },
      remove: (kind, ns, name) => {
        const live = this.objects.get(keyOf(kind, ns, name));
        if (live) this.removeCascade(live);
      },
      timestamp: () => rfc3339(this.now()),
      seqOf: (obj) => this.seq.get(keyOf(obj.kind, obj.metadata.namespace, obj.metadata.name)) ?? 0,
    };
  }
}
