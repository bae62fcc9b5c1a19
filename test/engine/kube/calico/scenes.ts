// The article's scene (DIGEST section 10) and the standard network-policy test model
// (namespaces x, y, z; pods a, b, c), as generator inputs.

import type { NetworkPolicy } from '../../../../main/engine/kube/objects/types.ts';
import type { CalicoCluster, PodInfo } from '../../../../main/engine/kube/calico/model.ts';

export function netpol(namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

/** minikube with frontend, backend and db (the article's pod names and addresses). */
export function articleCluster(): CalicoCluster {
  const pod = (name: string, ip: string, labels: Record<string, string>): PodInfo => ({
    namespace: 'default', name, node: 'minikube', ip, labels, ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  return {
    namespaces: [{ name: 'default', labels: {} }],
    pods: [
      pod('backend-867fd6dff-mjf92', '10.88.0.27', { app: 'backend', 'networking/allow-db-access': 'true', 'pod-template-hash': '867fd6dff' }),
      pod('db-8d66ff5f7-bp6kf', '10.88.0.26', { app: 'db', 'pod-template-hash': '8d66ff5f7' }),
      pod('frontend-8b474f47-zdqdv', '10.88.0.24', { app: 'frontend', 'pod-template-hash': '8b474f47' }),
    ],
    policies: [
      netpol('default', 'allow-db-access', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { 'networking/allow-db-access': 'true' } } }] }],
      }),
    ],
    pools: [{ name: 'default-ipv4-ippool', cidr: '10.88.0.0/16', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Never' }],
    nodes: [{ name: 'minikube', ips: ['192.168.49.2'] }],
  };
}

/** The upstream e2e model: namespaces x, y, z, each with pods a, b, c (TCP/UDP 80 and 81). */
export function modelCluster(nodes: string[] = ['node1'], policies: NetworkPolicy[] = []): CalicoCluster {
  const nss = ['x', 'y', 'z'];
  const pods: PodInfo[] = [];
  let n = 0;
  for (const [i, ns] of nss.entries()) {
    for (const [j, p] of ['a', 'b', 'c'].entries()) {
      pods.push({
        namespace: ns, name: p, node: nodes[n++ % nodes.length], ip: `10.244.${i + 1}.${j + 10}`, labels: { pod: p },
        ports: [
          { name: 'serve-80-tcp', port: 80, protocol: 'TCP' }, { name: 'serve-80-udp', port: 80, protocol: 'UDP' },
          { name: 'serve-81-tcp', port: 81, protocol: 'TCP' }, { name: 'serve-81-udp', port: 81, protocol: 'UDP' },
        ],
      });
    }
  }
  return {
    namespaces: nss.map((name) => ({ name, labels: { ns: name, 'kubernetes.io/metadata.name': name } })),
    pods,
    policies,
    pools: [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Never' }],
    nodes: nodes.map((name, i) => ({ name, ips: [`192.168.49.${i + 2}`] })),
  };
}
