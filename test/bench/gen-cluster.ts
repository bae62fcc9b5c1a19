// The objects of the cluster benches (issues 3 and 5): selector-less Services, each with an
// EndpointSlice of 5 ready endpoints spread over the 3 nodes, as kube-proxy's scale tests use.

const PER = 5;
const NODES = ['minikube', 'minikube-m02', 'minikube-m03'];

const epIP = (n: number) => `10.245.${(n >> 8) & 255}.${n & 255}`;

export interface ClusterObjects {
  /** Every Service and its slice. */
  items: object[];
  /** Service i's slice, its endpoints' addresses moved by `shift` (an endpoint change). */
  slice(i: number, shift?: number): object;
}

export function clusterObjects(services: number): ClusterObjects {
  const slice = (i: number, shift = 0): object => ({
    apiVersion: 'discovery.k8s.io/v1beta1',
    kind: 'EndpointSlice',
    metadata: { name: `svc${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: PER }, (_, k) => ({ addresses: [epIP(i * PER + k + shift)], conditions: { ready: true }, nodeName: NODES[k % 3] })),
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
  });
  const items: object[] = [];
  for (let i = 0; i < services; i++) {
    items.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc${i}` }, spec: { ports: [{ port: 80, targetPort: 8080 }] } });
    items.push(slice(i));
  }
  return { items, slice };
}
