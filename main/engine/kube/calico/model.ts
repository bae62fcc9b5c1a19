// Inputs and outputs of the Calico (v3.28 classic, iptables dataplane) generator. The inputs are
// the facts Felix and calicoctl see: the cluster's namespaces, pods (workload endpoints),
// NetworkPolicies, IP pools and nodes. Pods and namespaces are plain data so the generator
// needs nothing from the store; `fromKube` in cluster.ts builds them from API objects.

import type { NetworkPolicy } from '../objects/types.ts';
import type { CalicoOrigin as RuleOrigin } from '../../../../shared/trace-json.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A named container port (spec.containers[].ports[] with a name). */
export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

export interface PodInfo {
  namespace: string;
  name: string;
  /** spec.nodeName */
  node: string;
  /** status.podIP; a pod without an address has no workload endpoint yet. */
  ip?: string;
  labels: Record<string, string>;
  /** hostNetwork pods get no workload endpoint: policy never applies to them. */
  hostNetwork?: boolean;
  /** Container ports (named ones matter for named-port rules). */
  ports?: NamedPort[];
  /** spec.serviceAccountName (default "default"). */
  serviceAccount?: string;
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface IPPool {
  /** e.g. default-ipv4-ippool */
  name: string;
  cidr: string;
  natOutgoing: boolean;
  ipipMode: 'Always' | 'CrossSubnet' | 'Never';
  vxlanMode: 'Always' | 'CrossSubnet' | 'Never';
  /** Default 26. */
  blockSize?: number;
  disabled?: boolean;
  /** Default all(). */
  nodeSelector?: string;
}

export interface CalicoNode {
  name: string;
  /** The node's addresses; the first is its BGP IPv4 address (calicoctl get nodes -o wide). */
  ips: string[];
  /** The tunl0 address (IPIP), when the node has one. */
  tunnelIP?: string;
  /** Subnet of the first address (for calicoctl -o wide), e.g. 192.168.49.2/24. */
  ipv4Address?: string;
  asn?: string;
}

export interface CalicoCluster {
  namespaces: NamespaceInfo[];
  pods: PodInfo[];
  /** networking.k8s.io/v1 NetworkPolicies, as the API server stores them (policyTypes filled). */
  policies: NetworkPolicy[];
  pools: IPPool[];
  nodes: CalicoNode[];
}

/**
 * Felix's configuration (the defaults are those of a calico.yaml install).
 * `flavor` picks the Felix release whose rendering is emulated: `v3.28` (default) or
 * `article` — the ~2020 Felix whose `iptables-save` the article shows (no policy chain
 * comment, trailing RETURN kept, endpoint chains clear only the accept bit and label the
 * pass-bit clear "Start of policies", no policy groups).
 */
export interface FelixConfig {
  flavor?: 'v3.28' | 'article';
  /** FELIX_DEFAULTENDPOINTTOHOSTACTION; calico.yaml sets ACCEPT (Felix's own default is DROP). */
  defaultEndpointToHostAction?: 'ACCEPT' | 'DROP' | 'RETURN';
  /** MASQUERADE --random-fully (iptables >= 1.6.2 and a kernel that has it). Default true. */
  randomFully?: boolean;
  disableConntrackInvalid?: boolean;
  allowIPIPPacketsFromWorkloads?: boolean;
  allowVXLANPacketsFromWorkloads?: boolean;
}

export type Table = 'raw' | 'mangle' | 'nat' | 'filter';

/** Why a rule exists: the object (policy rule, pod, pool, setting) behind it (the trace JSON
 *  carries it on each step). */
export type { CalicoOrigin as RuleOrigin } from '../../../../shared/trace-json.ts';

export interface RenderedRule {
  table: Table;
  chain: string;
  /** Felix's rendering after the hash comment (long options, as written to iptables-restore). */
  spec: string;
  hash: string;
  origin: RuleOrigin;
}

/** A rule Felix puts into a kernel chain (FORWARD, INPUT, …): inserted at the top or appended. */
export interface BuiltinRule {
  table: Table;
  chain: string;
  op: '-I' | '-A';
  /** The whole rule after the chain name, hash comment included. */
  spec: string;
  origin: RuleOrigin;
}

export interface IpsetMember {
  /** As `ipset add` takes it: `10.88.0.27`, `10.244.0.0/16`, `10.88.0.27,tcp:80`. */
  entry: string;
  /** The pod, pool or node behind the member, and why it is in the set. */
  origin: { kind: 'pod'; pod: string; labels: Record<string, string> } | { kind: 'pool'; pool: string } | { kind: 'node'; node: string };
}

export interface IpsetInfo {
  name: string;
  type: 'hash:net' | 'hash:ip,port';
  /** The canonical selector (selector sets), or what the set is. */
  selector?: string;
  namedPort?: { protocol: 'tcp' | 'udp' | 'sctp'; name: string };
  members: IpsetMember[];
}

export interface WorkloadEndpoint {
  pod: PodInfo;
  iface: string;
  ip: string;
  /** Pod labels plus the ones Calico adds (namespace, orchestrator, serviceaccount, profile labels). */
  labels: Record<string, string>;
  profiles: string[];
}

export interface FelixResult {
  node: string;
  /** iptables-restore --noflush input for a fresh node: every cali chain declared (flushed)
   *  and filled, plus the rules Felix puts into the kernel chains (`-I CHAIN n` / `-A`). */
  restore: string;
  /** Only the cali chains (for a resync: the kernel-chain rules are already in place). */
  chainsText: string;
  builtin: BuiltinRule[];
  /** `ipset restore` input (create + add for every set Felix programs on this node). */
  ipsetRestore: string;
  ipsets: IpsetInfo[];
  rules: RenderedRule[];
  /** Per table, per chain: the origin of each rule in order. */
  origins: Record<Table, Map<string, RuleOrigin[]>>;
  /** Per "table chain" (every chain declared, empty ones too): its rules as restore lines. */
  chainText: Map<string, string>;
  endpoints: WorkloadEndpoint[];
}
