// From the lab's API objects to Felix: the article's Deployments and NetworkPolicy applied to a
// KubeStore (pinned pod names and addresses), turned into the generator's input by fromKube,
// rendered for the node, and checked against the article's names and the semantics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeStore } from '../../../../main/engine/kube/objects/store.ts';
import { decodeObject } from '../../../../main/engine/kube/objects/decode.ts';
import { parseManifests } from '../../../../main/engine/kube/objects/manifest.ts';
import { makeNode } from '../../../../main/engine/kube/objects/node.ts';
import { ANN_POD_IP } from '../../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../../main/engine/random.ts';
import { defaultPool, fromKube, policyVerdict, renderFelix } from '../../../../main/engine/kube/calico/index.ts';
import { calicoctl } from '../../../../main/engine/shell/calicoctl.ts';
import { ipset } from '../../../../main/engine/shell/ipset.ts';
import { ipsetUpdate } from '../../../../main/engine/kube/calico/ipsets.ts';
import { articleCluster } from './scenes.ts';
import { Dataplane, ipsetList, loadNode } from './helpers.ts';

const deploy = (name: string, podName: string, ip: string, labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  annotations:
    lab.kpl.dev/pod-names: ${podName}
    lab.kpl.dev/pod-ips: ${ip}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}${labels}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
`;

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-access
spec:
  podSelector:
    matchLabels:
      app: "db"
  ingress:
  - from:
    - podSelector:
        matchLabels:
          networking/allow-db-access: "true"
`;

test('the article from manifests: store -> fromKube -> Felix, calicoctl and the semantics', () => {
  let ip = 2;
  const store = new KubeStore({ version: 'v1.19.2' }, { rng: new Rng(1), clock: () => 0, hooks: { assignIp: (p) => p.metadata.annotations?.[ANN_POD_IP] ?? `10.88.0.${ip++}` } });
  store.bootstrap({ apiServer: '192.168.49.2', dns: true });
  store.apply(makeNode({ name: 'minikube', internalIP: '192.168.49.2', version: 'v1.19.2', controlPlane: true }));
  const yaml = [
    deploy('frontend', 'frontend-8b474f47-zdqdv', '10.88.0.24', ''),
    deploy('backend', 'backend-867fd6dff-mjf92', '10.88.0.27', ', networking/allow-db-access: "true"'),
    deploy('db', 'db-8d66ff5f7-bp6kf', '10.88.0.26', ''),
    POLICY,
  ].join('---\n');
  for (const d of parseManifests(yaml, 'STDIN').docs) {
    const r = decodeObject(d.obj, store.minor, 'STDIN');
    if (!r.ok) throw new Error(r.message);
    store.apply(r.obj);
  }
  const cluster = fromKube({
    namespaces: store.list('Namespace'), pods: store.list('Pod'), policies: store.list('NetworkPolicy'), nodes: store.list('Node'),
    pools: [defaultPool('10.88.0.0/16', false)],
  });
  const r = renderFelix(cluster, 'minikube');
  const ifaces = r.endpoints.map((e) => `${e.pod.name} ${e.iface}`);
  for (const want of ['db-8d66ff5f7-bp6kf cali95aa86cbb2a', 'backend-867fd6dff-mjf92 cali2b1490aa46a', 'frontend-8b474f47-zdqdv cali505cfbeac50']) assert.ok(ifaces.includes(want), want);
  assert.ok(r.restore.includes(':cali-pi-_tTE-E7yY40ogArNVgKt - [0:0]'));
  assert.ok(r.ipsetRestore.includes('create cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge hash:net family inet hashsize 1024 maxelem 1048576\nadd cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge 10.88.0.27\n'));
  // policyTypes defaulted by the API server; the converted policy as calicoctl prints it
  const y = calicoctl(['calicoctl', 'get', 'networkpolicy', '-o', 'yaml'], '', { cluster: () => cluster }).stdout;
  assert.ok(y.includes("    selector: projectcalico.org/orchestrator == 'k8s' && app == 'db'\n    types:\n    - Ingress\n"), y);
  const f = 'default/frontend-8b474f47-zdqdv', b = 'default/backend-867fd6dff-mjf92', d = 'default/db-8d66ff5f7-bp6kf';
  const dp = new Dataplane(cluster);
  for (const [s, t, allowed] of [[f, d, false], [b, d, true], [f, b, true]] as const) {
    assert.equal(policyVerdict(cluster, s, t, 80, 'TCP').allowed, allowed);
    assert.equal(dp.allowed(s, t, 80, 'TCP'), allowed);
  }
  // CoreDNS pods (kube-system) are workload endpoints too, with their own profile
  assert.ok(r.endpoints.some((e) => e.pod.namespace === 'kube-system'));
  assert.ok(r.restore.includes(':cali-pri-kns.kube-system - [0:0]'));
});

test('ipsetUpdate: a relabelled pod leaves and joins selector sets with del/add, unused sets are destroyed after', () => {
  const c1 = articleCluster();
  const r1 = renderFelix(c1, 'minikube');
  const h = loadNode(r1);
  const c2 = articleCluster();
  c2.pods[0].labels = { app: 'backend' }; // backend loses networking/allow-db-access
  c2.pods[2].labels = { ...c2.pods[2].labels, 'networking/allow-db-access': 'true' }; // frontend gains it
  const r2 = renderFelix(c2, 'minikube');
  const u = ipsetUpdate(r1.ipsets, r2.ipsets);
  assert.equal(u.before, 'del cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge 10.88.0.27\nadd cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge 10.88.0.24\n');
  assert.equal(u.after, '');
  assert.equal(ipset(['ipset', 'restore'], u.before, h.ipsets).code, 0);
  assert.ok(ipsetList(h, 'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge').endsWith('Members:\n10.88.0.24\n'));
  const c3 = articleCluster();
  c3.policies = [];
  const u3 = ipsetUpdate(r1.ipsets, renderFelix(c3, 'minikube').ipsets);
  assert.equal(u3.after, 'destroy cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge\n');
});
