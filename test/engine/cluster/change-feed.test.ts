// After a write, the cluster's next sync remakes only the ServicePorts of the Services the
// write touched (found from the store's watch events), keeps kube-proxy's health ports unless a
// Service was written, and the cloud LB's routes unless a Service, a node or a LoadBalancer's
// slice was. Random writes of Services (LoadBalancers with externalTrafficPolicy Local among
// them), hand-made EndpointSlices (moving between Services), pods and nodes: after each, what
// the agents read equals what is made from scratch from the store, and at the end every node's
// rules equal those a full resync writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab } from './lab-cluster.ts';
import { servicePortsOf } from '../../../main/engine/cluster/service-ports.ts';
import { lbRoutes } from '../../../main/engine/cluster/cloud-lb.ts';
import type { EndpointSlice, Node, Service } from '../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../main/engine/random.ts';

interface Inner {
  read: { services: unknown; healthPorts: unknown } | null;
  lbRoutes: Map<string, string | null> | null;
}

function run(seed: number, steps: number): void {
  const { lab, sh } = clusterLab({ nodes: 2 }, seed);
  const rng = new Rng(seed);
  const int = (n: number) => Math.floor(rng.next() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const cluster = lab.cluster!;
  const store = cluster.store;
  const inner = cluster as unknown as Inner;
  const kubectl = (args: string, stdin?: string) => {
    const r = sh('@cluster', `kubectl ${args}`, stdin);
    // (A delete may find nothing to delete; a Service may not turn from LoadBalancer to ClusterIP.)
    if (r.code !== 0 && !/NotFound|is invalid/.test(r.stderr)) throw new Error(`kubectl ${args}: ${r.stderr}`);
  };
  const nodes = ['minikube', 'minikube-m02'];
  for (let step = 0; step < steps; step++) {
    const x = rng.next();
    const svc = `s${int(5)}`;
    if (x < 0.25) {
      const lb = int(2) === 0;
      const spec: Record<string, unknown> = { ports: [{ name: 'http', port: 80 + int(2), targetPort: 8080 }], ...(lb ? { type: 'LoadBalancer' } : {}) };
      if (lb && int(2)) spec.externalTrafficPolicy = 'Local';
      if (int(3) === 0) spec.selector = { app: 'web' };
      kubectl('apply -f -', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: svc }, spec }));
    } else if (x < 0.6) {
      kubectl(
        'apply -f -',
        JSON.stringify({
          apiVersion: 'discovery.k8s.io/v1beta1',
          kind: 'EndpointSlice',
          metadata: { name: `hand${int(4)}`, labels: { 'kubernetes.io/service-name': svc } },
          addressType: pick(['IPv4', 'IPv4', 'IPv4', 'IPv6']),
          endpoints: Array.from({ length: int(3) }, (_, k) => ({
            addresses: [`10.245.${step & 255}.${k + 1}`],
            conditions: { ready: int(4) > 0 },
            nodeName: pick(nodes),
          })),
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        }),
      );
    } else if (x < 0.7) kubectl(`delete endpointslice hand${int(4)}`);
    else if (x < 0.78) kubectl(`delete service ${svc}`);
    else if (x < 0.88) {
      kubectl(
        'apply -f -',
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${int(3)}`, labels: { app: 'web' } }, spec: { nodeName: pick(nodes), containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }] }] } }),
      );
    } else if (x < 0.93) kubectl(`delete pod p${int(3)}`);
    else {
      // A node goes NotReady and back (the LB's health checks follow).
      const node = store.get('Node', undefined, pick(nodes)) as Node;
      const ready = node.status!.conditions!.find((c) => c.type === 'Ready')!;
      ready.status = ready.status === 'True' ? 'False' : 'True';
      store.apply(node as never);
      cluster.flush();
    }
    const services = store.view('Service') as Service[];
    const slices = store.view('EndpointSlice') as EndpointSlice[];
    assert.deepEqual(inner.read!.services, servicePortsOf(services, slices), `seed ${seed} step ${step}: ServicePorts`);
    const health = services.filter((s) => s.spec.healthCheckNodePort).map((s) => ({ port: s.spec.healthCheckNodePort, proto: 'tcp' }));
    assert.deepEqual(inner.read!.healthPorts, health, `seed ${seed} step ${step}: health ports`);
    if (inner.lbRoutes) assert.deepEqual(inner.lbRoutes, lbRoutes(services, store.view('Node') as Node[], slices), `seed ${seed} step ${step}: LB routes`);
  }
  const saves = () => nodes.map((n) => lab.exec(n, ['iptables-save'], '').stdout.replace(/^#.*\n/gm, ''));
  const before = saves();
  cluster.resync();
  assert.deepEqual(saves(), before, `seed ${seed}: the rules of a full resync`);
}

test('random writes: the ServicePorts, health ports and LB routes a sync reads equal those made from scratch', () => {
  for (let seed = 1; seed <= 3; seed++) run(seed, 150);
});
