// The endpoint controllers look only at the Services whose inputs were written since their last
// pass, and the cloud controller runs only after a Service write. Random writes of every input
// (Services with and without selectors, LoadBalancers with too few addresses, pods and their
// labels, hand-made Endpoints and EndpointSlices moving between Services, nodes, deletions)
// must leave the store where full passes over every Service leave it: after each write, a full
// pass of both controllers finds nothing to write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeStore } from '../../../../main/engine/kube/objects/store.ts';
import { decodeObject } from '../../../../main/engine/kube/objects/decode.ts';
import { makeNode } from '../../../../main/engine/kube/objects/node.ts';
import { StatusError } from '../../../../main/engine/kube/objects/status.ts';
import { syncServiceEndpoints } from '../../../../main/engine/kube/objects/endpoint-sync.ts';
import { syncLoadBalancers } from '../../../../main/engine/kube/objects/cloud.ts';
import type { ControllerHost, KubeHooks } from '../../../../main/engine/kube/objects/controller-host.ts';
import type { Kind } from '../../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../../main/engine/random.ts';

function run(seed: number, steps: number): void {
  const rng = new Rng(seed);
  const int = (n: number) => Math.floor(rng.next() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  let ip = 10;
  // Two cloud addresses for up to four LoadBalancers: some wait for one to be freed.
  const hooks: KubeHooks = {
    assignIp: () => `10.244.0.${ip++}`,
    loadBalancerIP: () => {
      const taken = new Set(store.view('Service').flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)));
      return ['192.168.49.200', '192.168.49.201'].find((a) => !taken.has(a)) ?? null;
    },
  };
  const store: KubeStore = new KubeStore({ version: 'v1.28.3' }, { rng: new Rng(seed), clock: () => 0, hooks });
  store.bootstrap({ apiServer: '192.168.49.2', dns: true });
  const nodes = ['minikube', 'minikube-m02', 'minikube-m03'];
  store.apply(makeNode({ name: nodes[0], internalIP: '192.168.49.2', version: 'v1.28.3', controlPlane: true }));
  const host = (store as unknown as { host: ControllerHost }).host;
  const apply = (o: Record<string, unknown>) => {
    const r = decodeObject(o, store.minor, 'test');
    if (!r.ok) throw new Error(r.message);
    try {
      store.apply(r.obj);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
    }
  };
  const remove = (kind: Kind, name: string, ns?: string) => {
    try {
      store.delete(kind, name, ns);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
    }
  };
  const NS = ['default', 'team'];
  apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  const apps = ['web', 'api', 'db'];
  for (let step = 0; step < steps; step++) {
    const x = rng.next();
    const ns = pick(NS);
    const svc = `s${int(6)}`;
    if (x < 0.2) {
      const spec: Record<string, unknown> = { ports: [{ name: 'http', port: 80, targetPort: int(2) ? 8080 : 'http' }, ...(int(3) ? [] : [{ name: 'dns', port: 53, protocol: 'UDP' }])] };
      if (int(3)) spec.selector = { app: pick(apps) };
      if (!int(3)) spec.type = 'LoadBalancer';
      if (!int(8)) spec.clusterIP = 'None';
      apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace: ns, labels: { tier: pick(['a', 'b']) } }, spec });
    } else if (x < 0.42) {
      apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p${int(8)}`, namespace: ns, labels: { app: pick(apps) } },
        spec: { nodeName: pick(nodes.slice(0, 2)), containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] },
      });
    } else if (x < 0.52) {
      apply({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: svc, namespace: ns, ...(int(6) ? {} : { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }) },
        subsets: [{ addresses: [{ ip: `10.245.${step & 255}.${int(4) + 1}` }], ports: [{ name: 'http', port: 8080 }] }],
      });
    } else if (x < 0.62) {
      // A hand-made slice, now and then moved to another Service or made the controller's.
      const labels: Record<string, string> = { 'kubernetes.io/service-name': svc };
      if (!int(5)) labels['endpointslice.kubernetes.io/managed-by'] = pick(['endpointslice-controller.k8s.io', 'endpointslicemirroring-controller.k8s.io']);
      apply({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `hand${int(4)}`, namespace: ns, labels },
        addressType: 'IPv4',
        endpoints: [{ addresses: [`10.246.${step & 255}.1`], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    } else if (x < 0.67) {
      if (nodes.length && !store.view('Node').some((n) => n.metadata.name === 'minikube-m02')) {
        store.apply(makeNode({ name: 'minikube-m02', internalIP: '192.168.49.3', version: 'v1.28.3', controlPlane: false }));
      } else remove('Node', 'minikube-m02');
    } else if (x < 0.75) remove('Service', svc, ns);
    else if (x < 0.83) remove('Pod', `p${int(8)}`, ns);
    else if (x < 0.88) remove('Endpoints', svc, ns);
    else if (x < 0.93) {
      const slices = store.view('EndpointSlice', ns);
      if (slices.length) remove('EndpointSlice', pick(slices).metadata.name, ns);
    } else if (x < 0.97) {
      const pods = store.view('Pod', ns);
      if (pods.length) store.relabel('Pod', pick(pods).metadata.name, ns, { app: pick(apps) }, []);
    } else {
      remove('Namespace', 'team');
      apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    }
    // The slices' index by Service holds what a scan of the slices finds.
    for (const n of NS) {
      for (let k = 0; k < 6; k++) {
        const want = store.view('EndpointSlice', n).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === `s${k}`);
        assert.deepEqual(host.slicesOf(n, `s${k}`), want, `seed ${seed} step ${step}: the slices of ${n}/s${k}`);
      }
    }
    const before = store.view('Service').length + ':' + JSON.stringify(store.view('EndpointSlice')) + JSON.stringify(store.view('Endpoints')) + JSON.stringify(store.view('Service'));
    syncServiceEndpoints(host, null);
    syncLoadBalancers(host, hooks);
    const after = store.view('Service').length + ':' + JSON.stringify(store.view('EndpointSlice')) + JSON.stringify(store.view('Endpoints')) + JSON.stringify(store.view('Service'));
    assert.equal(after, before, `seed ${seed} step ${step}: a full pass still had work to do`);
  }
}

test('random writes: the scoped endpoint passes and the skipped cloud passes leave what full passes leave', () => {
  for (let seed = 1; seed <= 4; seed++) run(seed, 200);
});
