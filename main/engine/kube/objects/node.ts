// Nodes as minikube registers them, so a lab's nodes print like the article's
// (`minikube   Ready   master   6d1h   v1.19.2`): the role label of the release (`master` up to
// v1.19, `control-plane` since v1.24; both in between), the kubelet version, the addresses.

import type { Node, NodeAddress } from './types.ts';
import { minorOf } from './meta.ts';

export interface NodeParams {
  name: string;
  internalIP: string;
  /** Cluster version, e.g. v1.19.2. */
  version: string;
  controlPlane?: boolean;
  podCIDR?: string;
  labels?: Record<string, string>;
}

/** A Ready node with the labels, addresses and system info minikube's kubelet reports. */
export function makeNode(p: NodeParams): Node {
  const minor = minorOf(p.version);
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': p.name,
    'kubernetes.io/os': 'linux',
  };
  if (p.controlPlane) {
    if (minor < 24) labels['node-role.kubernetes.io/master'] = '';
    if (minor >= 20) labels['node-role.kubernetes.io/control-plane'] = '';
    if (minor >= 24) labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  }
  Object.assign(labels, p.labels ?? {});
  const addresses: NodeAddress[] = [
    { address: p.internalIP, type: 'InternalIP' },
    { address: p.name, type: 'Hostname' },
  ];
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: p.name, labels },
    spec: {},
    status: {
      addresses,
      nodeInfo: {
        architecture: 'amd64',
        containerRuntimeVersion: minor < 24 ? 'docker://19.3.8' : 'docker://27.4.1',
        kernelVersion: minor < 24 ? '5.4.0-1029-gcp' : '6.1.0-28-amd64',
        kubeProxyVersion: p.version,
        kubeletVersion: p.version,
        operatingSystem: 'linux',
        osImage: minor < 24 ? 'Ubuntu 20.04 LTS' : 'Ubuntu 22.04.5 LTS',
      },
    },
  };
  if (p.podCIDR) node.spec = { podCIDR: p.podCIDR, podCIDRs: [p.podCIDR] };
  return node;
}

/** kubectl's ROLES column: `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

export function nodeInternalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

export function nodeReady(node: Node): boolean {
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? c.status === 'True' : true;
}
