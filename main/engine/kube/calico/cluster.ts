// The generator's input built from the lab's Kubernetes objects (what the store holds).

import type { Namespace, NetworkPolicy, Node, Pod } from '../objects/types.ts';
import type { CalicoCluster, CalicoNode, IPPool, NamedPort, PodInfo } from './model.ts';

export interface KubeObjects {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
  nodes: Node[];
  pools: IPPool[];
  /** tunl0 addresses per node name (IPIP), when the lab has given them. */
  tunnelIPs?: Record<string, string>;
}

export function podInfo(p: Pod): PodInfo {
  const ports: NamedPort[] = [];
  for (const c of p.spec.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name) ports.push({ name: cp.name, port: cp.containerPort, protocol: cp.protocol ?? 'TCP' });
  }
  const sa = (p.spec.serviceAccountName ?? p.spec.serviceAccount) as string | undefined;
  const info: PodInfo = {
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    labels: { ...(p.metadata.labels ?? {}) },
    ports,
    serviceAccount: sa ?? 'default',
  };
  if (p.status?.podIP) info.ip = p.status.podIP;
  if (p.spec.hostNetwork) info.hostNetwork = true;
  return info;
}

export function nodeInfo(n: Node, tunnelIP?: string): CalicoNode {
  const ips = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  const out: CalicoNode = { name: n.metadata.name, ips };
  if (tunnelIP) out.tunnelIP = tunnelIP;
  return out;
}

export function fromKube(o: KubeObjects): CalicoCluster {
  return {
    namespaces: o.namespaces.map((n) => ({ name: n.metadata.name, labels: { ...(n.metadata.labels ?? {}) } })),
    pods: o.pods.map(podInfo),
    policies: o.policies,
    pools: o.pools,
    nodes: o.nodes.map((n) => nodeInfo(n, o.tunnelIPs?.[n.metadata.name])),
  };
}

/** The pool a calico.yaml install creates from CALICO_IPV4POOL_CIDR (IPIP Always, natOutgoing). */
export function defaultPool(cidr: string, ipip: boolean): IPPool {
  return { name: 'default-ipv4-ippool', cidr, natOutgoing: true, ipipMode: ipip ? 'Always' : 'Never', vxlanMode: 'Never', blockSize: 26 };
}
