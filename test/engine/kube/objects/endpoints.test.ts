import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSubsets, resolveTargetPort } from '../../../../main/engine/kube/objects/endpoints.ts';
import type { Pod, Service } from '../../../../main/engine/kube/objects/types.ts';
import { makeLab } from '../kubectl/cluster.ts';

function pod(name: string, ip: string | undefined, ports: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[], ready = true): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports }] },
    status: ip ? { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } : { phase: 'Pending' },
  };
}

const svc = (ports: Service['spec']['ports'], extra: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports, ...extra },
});

test('a named targetPort resolves per pod, by name and protocol (podutil.FindPort)', () => {
  const sp = { port: 80, targetPort: 'http', protocol: 'TCP' as const };
  assert.equal(resolveTargetPort(sp, pod('a', '10.0.0.1', [{ name: 'http', containerPort: 8080 }])), 8080);
  assert.equal(resolveTargetPort(sp, pod('b', '10.0.0.2', [{ name: 'http', containerPort: 9090, protocol: 'UDP' }])), null);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 81 }, pod('c', '10.0.0.3', [])), 81);
});

test('pods whose named port differs land in different subsets; pods without it are left out', () => {
  const pods = [
    pod('a', '10.0.0.1', [{ name: 'http', containerPort: 8080 }]),
    pod('b', '10.0.0.2', [{ name: 'http', containerPort: 9090 }]),
    pod('c', '10.0.0.3', [{ name: 'http', containerPort: 8080 }]),
    pod('d', '10.0.0.4', [{ name: 'other', containerPort: 8080 }]),
  ];
  const subsets = deriveSubsets(svc([{ port: 80, targetPort: 'http', protocol: 'TCP' }]), pods, false);
  assert.deepEqual(
    subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((p) => p.port)]),
    [
      [['10.0.0.1', '10.0.0.3'], [8080]],
      [['10.0.0.2'], [9090]],
    ],
  );
});

test('not-ready pods are notReadyAddresses, pods without an IP are nowhere; addresses sort as strings', () => {
  const pods = [pod('a', '10.0.0.9', [], true), pod('b', '10.0.0.10', [], false), pod('c', undefined, [])];
  const [ss] = deriveSubsets(svc([{ port: 80, targetPort: 80, protocol: 'TCP' }]), pods, false);
  assert.deepEqual(ss.addresses?.map((a) => a.ip), ['10.0.0.9']);
  assert.deepEqual(ss.notReadyAddresses?.map((a) => a.ip), ['10.0.0.10']);
  const [both] = deriveSubsets(svc([{ port: 80, targetPort: 80, protocol: 'TCP' }], { publishNotReadyAddresses: true }), pods, false);
  assert.deepEqual(both.addresses?.map((a) => a.ip), ['10.0.0.10', '10.0.0.9']);
});

test('a headless Service without ports gets address-only subsets', () => {
  const [ss] = deriveSubsets(svc(undefined, { clusterIP: 'None' }), [pod('a', '10.0.0.1', [])], false);
  assert.deepEqual(ss, { addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }] });
});

const SELECTORLESS = `apiVersion: v1
kind: Service
metadata: {name: external-db}
spec:
  ports:
  - {port: 5432}
---
apiVersion: v1
kind: Endpoints
metadata: {name: external-db}
subsets:
- addresses:
  - ip: 192.168.49.100
  ports:
  - port: 5432
`;

test('a Service without selector keeps hand-made Endpoints, mirrored into an EndpointSlice', () => {
  const lab = makeLab({ nodes: ['minikube'] });
  assert.equal(lab.run('kubectl apply -f -', SELECTORLESS).code, 0);
  assert.equal(lab.run('kubectl get ep external-db').stdout.split('\n')[1].split(/ +/)[1], '192.168.49.100:5432');
  const slices = lab.store.list('EndpointSlice', 'default').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'external-db');
  assert.equal(slices.length, 1);
  assert.equal(slices[0].metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
  assert.deepEqual(slices[0].endpoints?.map((e) => e.addresses), [['192.168.49.100']]);
  lab.run('kubectl delete svc external-db');
  assert.equal(lab.store.get('Endpoints', 'default', 'external-db'), undefined);
  assert.equal(lab.store.list('EndpointSlice', 'default').filter((s) => s.metadata.name.startsWith('external-db')).length, 0);
});

test('a selected Service without ready pods: Endpoints <none>, one empty EndpointSlice <unset>', () => {
  const lab = makeLab({ nodes: ['minikube'] });
  lab.run('kubectl apply -f -', 'apiVersion: v1\nkind: Service\nmetadata: {name: lonely}\nspec:\n  selector: {app: nothing}\n  ports:\n  - {port: 80}\n');
  assert.equal(lab.run('kubectl get ep lonely').stdout, 'NAME     ENDPOINTS   AGE\nlonely   <none>      0s\n');
  const out = lab.run('kubectl get endpointslices').stdout;
  assert.match(out, /\nlonely-[a-z0-9]{5} {3}IPv4 {10}<unset> {3}<unset> {8}0s\n$/);
});
