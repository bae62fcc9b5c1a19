// Inputs and outputs of the kube-proxy (iptables mode) rule generator. The inputs mirror the
// Kubernetes objects kube-proxy watches (one ServicePort per Service port, with the endpoints
// of that port from its EndpointSlices), the node it runs on, and its KubeProxyConfiguration
// (v1alpha1 field names). The output is kube-proxy's iptables-restore input for one full sync.

import type { Origin, OriginTable } from './origin.ts';

export type Layout = 'legacy' | 'current';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  /** status.loadBalancer.ingress[].ipMode; "Proxy" ingresses get no rule (current layout). */
  ipMode?: 'VIP' | 'Proxy';
}

/** One endpoint of one service port (EndpointSlice endpoint address + port). */
export interface Endpoint {
  ip: string;
  port: number;
  /** EndpointSlice endpoints[].nodeName; an endpoint is local when it equals the node's name. */
  nodeName?: string;
  /** conditions.ready; unset counts as ready. */
  ready?: boolean;
  /** conditions.serving; unset counts as serving. */
  serving?: boolean;
  /** conditions.terminating; unset counts as not terminating. */
  terminating?: boolean;
  /** hints.forZones[].name (topology-aware routing, current layout). */
  zoneHints?: string[];
  /** hints.forNodes[].name (PreferSameNode, current layout). */
  nodeHints?: string[];
}

/** One port of one Service, with the endpoints kube-proxy has for it. */
export interface ServicePort {
  namespace: string;
  name: string;
  /** spec.ports[].name; empty or unset for the single unnamed port. */
  portName?: string;
  protocol: Protocol;
  port: number;
  type: ServiceType;
  /** spec.clusterIPs (spec.clusterIP first). "None" or empty = headless: no rules at all. */
  clusterIPs: string[];
  nodePort?: number;
  externalIPs?: string[];
  loadBalancerIngress?: Array<LoadBalancerIngress | string>;
  loadBalancerSourceRanges?: string[];
  externalTrafficPolicy?: TrafficPolicy;
  internalTrafficPolicy?: TrafficPolicy;
  sessionAffinity?: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (default 10800). */
  sessionAffinityTimeoutSeconds?: number;
  /** spec.healthCheckNodePort (only used for LoadBalancer + externalTrafficPolicy Local). */
  healthCheckNodePort?: number;
  endpoints: Endpoint[];
}

/** The facts about this node that kube-proxy's rules depend on. */
export interface NodeInfo {
  /** The node name (kube-proxy's hostname-override); decides which endpoints are local. */
  name: string;
  /** The node's addresses; the first IPv4 one is the "node IP". 127.0.0.1 is always local. */
  ips: string[];
  /** spec.podCIDR, for detectLocalMode NodeCIDR. */
  podCIDR?: string;
  /** The topology.kubernetes.io/zone label, for zone hints. */
  zone?: string;
  /** The iptables binary supports MASQUERADE --random-fully (iptables >= 1.6.2). Default true. */
  randomFully?: boolean;
  /** kube-proxy could create its nfacct counters (current layout). Default true. */
  nfacct?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal is non-zero (current layout drops no INVALID). */
  conntrackTCPBeLiberal?: boolean;
}

/** KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), the fields that shape the rules. */
export interface ProxyConfig {
  mode?: 'iptables' | '';
  clusterCIDR?: string;
  detectLocalMode?: 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | '';
  detectLocal?: { bridgeInterface?: string; interfaceNamePrefix?: string };
  iptables?: {
    masqueradeAll?: boolean;
    /** Default 14 (mark 0x4000). */
    masqueradeBit?: number;
    /** Default true. */
    localhostNodePorts?: boolean;
  };
  /** CIDRs (or "primary") whose node addresses accept NodePorts; empty = all local addresses. */
  nodePortAddresses?: string[];
}

export interface GenerateInput {
  layout: Layout;
  services: ServicePort[];
  node: NodeInfo;
  config: ProxyConfig;
  /**
   * Chains that exist in the nat table before the sync (what kube-proxy reads with
   * iptables-save). Stale KUBE-SVC/SEP/… chains among them are flushed and deleted (-X).
   */
  existingNatChains?: string[];
  /**
   * The mark text as written (kube-proxy formats 1<<bit with Go's %#08x: "0x00004000").
   * The upstream unit tests inject "0x4000"; this reproduces them.
   */
  masqueradeMarkText?: string;
}

/** A rule kube-proxy (or, for the legacy layout, kubelet) installs with `iptables -I/-A`. */
export interface StaticRule {
  table: 'filter' | 'nat';
  chain: string;
  /** -I: prepend at position 1 unless the same rule exists (EnsureRule Prepend); -A: append. */
  op: '-I' | '-A';
  /** The rule arguments after the chain name, as separate words (no shell quoting). */
  args: string[];
  owner: 'kube-proxy' | 'kubelet';
  origin: Origin;
}

/** A chain kube-proxy (or kubelet) makes sure exists before anything else (EnsureChain). */
export interface EnsuredChain {
  table: 'filter' | 'nat' | 'mangle';
  chain: string;
  owner: 'kube-proxy' | 'kubelet';
}

export interface GenerateStats {
  servicePorts: number;
  endpoints: number;
  filterRules: number;
  natRules: number;
  natChains: number;
  largeClusterMode: boolean;
}

export interface GenerateResult {
  layout: Layout;
  /** The iptables-restore input (`*filter … COMMIT`, `*nat … COMMIT`), for --noflush. */
  text: string;
  /** Per table and chain, one origin per `-A` line of that chain in the text, in order. */
  origins: OriginTable;
  /** Chains ensured before the restore (in order), then the static jump rules (in order). */
  ensureChains: EnsuredChain[];
  staticRules: StaticRule[];
  stats: GenerateStats;
}
