// The Kubernetes API objects the lab stores, as the API server returns them (JSON shapes, field
// names as in the API). Only the fields the lab reads are typed; the rest of what a manifest
// carries is kept as it came (`[field: string]: unknown`) so `-o yaml` can show it back.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  generateName?: string;
  selfLink?: string;
  [field: string]: unknown;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

// ---------------------------------------------------------------------------------------------
// Namespace, Node

export interface Namespace extends TypeMeta {
  kind: 'Namespace';
  metadata: ObjectMeta;
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname' | 'InternalDNS' | 'ExternalDNS';
  address: string;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface NodeSystemInfo {
  kubeletVersion: string;
  kubeProxyVersion?: string;
  osImage?: string;
  kernelVersion?: string;
  containerRuntimeVersion?: string;
  operatingSystem?: string;
  architecture?: string;
  [field: string]: unknown;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface Node extends TypeMeta {
  kind: 'Node';
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: Taint[]; [field: string]: unknown };
  status?: {
    addresses?: NodeAddress[];
    conditions?: NodeCondition[];
    nodeInfo?: NodeSystemInfo;
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    [field: string]: unknown;
  };
}

// ---------------------------------------------------------------------------------------------
// Pods and their templates

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: Protocol;
  hostPort?: number;
  hostIP?: string;
}

export interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPort[];
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  hostNetwork?: boolean;
  restartPolicy?: string;
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  imageID?: string;
  containerID?: string;
  started?: boolean;
  state?: Record<string, Json>;
  lastState?: Record<string, Json>;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: PodCondition[];
  hostIP?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  qosClass?: string;
  [field: string]: unknown;
}

export interface Pod extends TypeMeta {
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

// ---------------------------------------------------------------------------------------------
// Workloads

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  [field: string]: unknown;
}

export interface Deployment extends TypeMeta {
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: DeploymentSpec;
  status?: {
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    collisionCount?: number;
    [field: string]: unknown;
  };
}

/** Kept implicitly: the lab does not list ReplicaSets, it only needs their names for pods. */
export interface ReplicaSet extends TypeMeta {
  kind: 'ReplicaSet';
  metadata: ObjectMeta;
  spec: DeploymentSpec;
  status?: { replicas?: number; readyReplicas?: number; [field: string]: unknown };
}

// ---------------------------------------------------------------------------------------------
// Services and their endpoints

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  /** A number or the name of a container port. */
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface ServiceSpec {
  type?: ServiceType;
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  externalIPs?: string[];
  externalName?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  sessionAffinity?: 'None' | 'ClientIP';
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  allocateLoadBalancerNodePorts?: boolean;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  [field: string]: unknown;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface Service extends TypeMeta {
  kind: 'Service';
  metadata: ObjectMeta;
  spec: ServiceSpec;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: Protocol;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends TypeMeta {
  kind: 'Endpoints';
  metadata: ObjectMeta;
  subsets?: EndpointSubset[];
}

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
}

export interface EndpointSlice extends TypeMeta {
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: Protocol; appProtocol?: string }[] | null;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy (stored; enforcement belongs to the dataplane)

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicy extends TypeMeta {
  kind: 'NetworkPolicy';
  metadata: ObjectMeta;
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

// ---------------------------------------------------------------------------------------------
// kube-proxy's configuration: one cluster-wide object, merged on apply.

export interface KubeProxyConfiguration {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1';
  kind: 'KubeProxyConfiguration';
  metadata?: Partial<ObjectMeta>;
  mode?: string;
  clusterCIDR?: string;
  detectLocalMode?: string;
  nodePortAddresses?: string[] | null;
  iptables?: {
    masqueradeAll?: boolean;
    masqueradeBit?: number | null;
    localhostNodePorts?: boolean | null;
    minSyncPeriod?: string;
    syncPeriod?: string;
  };
  [field: string]: unknown;
}

export type KubeObject =
  | Namespace
  | Node
  | Pod
  | Deployment
  | ReplicaSet
  | Service
  | Endpoints
  | EndpointSlice
  | NetworkPolicy;

export type Kind = KubeObject['kind'];

/** Every kind the store keeps, with what the API calls it. */
export interface KindInfo {
  kind: Kind;
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespaced: boolean;
}

export const KINDS: Record<Kind, KindInfo> = {
  Namespace: { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  Node: { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false },
  Pod: { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true },
  Deployment: { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  ReplicaSet: { kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  Service: { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  Endpoints: { kind: 'Endpoints', group: '', version: 'v1', plural: 'endpoints', namespaced: true },
  EndpointSlice: { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  NetworkPolicy: { kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
};

export function apiVersionOf(info: KindInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** The lab's own annotations (pinning names and addresses so scenes are reproducible). */
export const ANN_POD_NAMES = 'lab.kpl.dev/pod-names';
export const ANN_POD_IPS = 'lab.kpl.dev/pod-ips';
export const ANN_POD_IP = 'lab.kpl.dev/ip';
export const ANN_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A deep copy of JSON data (the store never hands out its own objects): what
 * JSON.parse(JSON.stringify(v)) gives — members that are undefined (or functions) left out,
 * such array items null, non-finite numbers null, -0 as 0 — without making the text (an
 * apply of 20,000 objects copies each several times).
 */
export function clone<T>(v: T): T {
  return v === undefined ? v : (copyJson(v) as T);
}

function copyJson(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : null;
  if (typeof v !== 'object' || v === null) return v;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v));
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      out[i] = x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : copyJson(x);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    // An own "__proto__" member stays a member (an assignment would set the prototype).
    if (k === '__proto__') Object.defineProperty(out, k, { value: copyJson(x), enumerable: true, writable: true, configurable: true });
    else out[k] = copyJson(x);
  }
  return out;
}

/** Structural equality of JSON data (key order ignored, `undefined` members ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
