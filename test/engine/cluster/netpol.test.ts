// NetworkPolicy in a cluster lab: Felix's rules on the nodes decide, packets walked through
// them; the article's frontend/backend/db scene, and connectivity matrices of the e2e tests'
// x/y/z model checked cell by cell against the NetworkPolicy semantics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectivityMatrix, matrixText } from '../../../main/engine/cluster/matrix.ts';
import { calicoCluster } from '../../../main/engine/cluster/felix-sync.ts';
import { policyVerdict } from '../../../main/engine/kube/calico/index.ts';
import { clusterLab } from './lab-cluster.ts';

const deploy = (name: string, extraLabels = '', pinned = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
${pinned ? `  annotations: {${pinned}}\n` : ''}spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}${extraLabels}}
    spec:
      containers: [{name: nginx, image: nginx:1.14.2, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: ${name}}, ports: [{port: 80}]}
`;

const ALLOW_DB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-access
spec:
  podSelector:
    matchLabels:
      app: "db"
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          networking/allow-db-access: "true"
`;

test('the article: frontend reaches backend, not db; backend reaches db; Calico names as printed', () => {
  const { sh, apply } = clusterLab({ nodes: 2 });
  apply(deploy('frontend') + '---\n' + deploy('backend', ', networking/allow-db-access: "true"') + '---\n' + deploy('db', '', 'lab.kpl.dev/pod-names: "db-8d66ff5f7-bp6kf"'));
  const pod = (app: string) => sh('minikube', `kubectl get pods -l app=${app} -o name`).stdout.trim().replace('pod/', '');
  const [frontend, backend, db] = ['frontend', 'backend', 'db'].map(pod);
  assert.equal(db, 'db-8d66ff5f7-bp6kf');
  const curl = (from: string, to: string) => sh('minikube', `kubectl exec ${from} -- curl ${to}`);
  assert.equal(curl(frontend, 'db').stdout.trim(), db, 'no policy yet: db answers');
  apply(ALLOW_DB);
  assert.equal(curl(frontend, 'backend').stdout.trim(), backend);
  const blocked = curl(frontend, 'db');
  assert.equal(blocked.code, 7);
  assert.match(blocked.stderr, /curl: \(7\) Failed to connect to db port 80: Connection timed out/);
  assert.equal(curl(backend, 'db').stdout.trim(), db);

  const dbNode = sh('minikube', `kubectl get pod ${db} -o jsonpath={.spec.nodeName}`).stdout;
  const save = sh(dbNode, 'iptables-save').stdout;
  assert.match(save, /-A cali-to-wl-dispatch -o cali95aa86cbb2a -m comment --comment "cali:[\w-]+" -g cali-tw-cali95aa86cbb2a/);
  assert.match(save, /-A cali-tw-cali95aa86cbb2a .*-j cali-pi-_tTE-E7yY40ogArNVgKt/);
  assert.match(save, /-A cali-pi-_tTE-E7yY40ogArNVgKt .*-m set --match-set cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge src -j MARK --set-xmark 0x10000\/0x10000/);
  const set = sh(dbNode, 'ipset list cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge').stdout;
  assert.match(set, /Type: hash:net\nRevision: \d+\nHeader: family inet hashsize 1024 maxelem 1048576/);
  const backendIP = sh('minikube', `kubectl get pod ${backend} -o jsonpath={.status.podIP}`).stdout;
  assert.match(set, new RegExp(`Members:\\n${backendIP.replace(/\./g, '\\.')}\\n`));
  // The policy as calicoctl shows it, and the db pod's endpoint.
  assert.match(sh('minikube', 'calicoctl get networkpolicy').stdout, /knp\.default\.allow-db-access/);
  assert.match(sh('minikube', 'calicoctl get workloadendpoints').stdout, new RegExp(`${db} +${dbNode} +[0-9.]+/32 +cali95aa86cbb2a`));
});

// The e2e tests' model: namespaces x, y, z with pods a, b, c, all serving TCP 80 and 81.
function model() {
  const l = clusterLab({ nodes: 2 }, 11);
  const docs: string[] = [];
  for (const ns of ['x', 'y', 'z']) {
    // Quoted: YAML 1.1, as kubectl reads it, takes a bare y for true.
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: "${ns}", labels: {ns: "${ns}"}}\n`);
    for (const p of ['a', 'b', 'c']) {
      docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: ${p}, namespace: "${ns}", labels: {pod: ${p}}}\nspec: {containers: [{name: c, image: agnhost, ports: [{containerPort: 80, name: serve-80}, {containerPort: 81, name: serve-81}]}]}\n`);
    }
  }
  l.apply(docs.join('---\n'));
  return l;
}

const POLICY_SETS: Record<string, string> = {
  'deny all ingress in x': `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n`,
  'x/a only from namespace y': `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-y, namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]}]\n`,
  'pod b in y, AND in one peer; port 81 only': `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: and-peer, namespace: z}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: "y"}}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: 81}]}]\n`,
  'egress of x/c denied but to pods c': `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: egress, namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: c}}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {matchLabels: {pod: c}}, namespaceSelector: {}}]}]\n`,
  'named port serve-80 from pods not a (NotIn)': `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: named, namespace: "y"}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}}], ports: [{port: serve-80}]}]\n`,
};

test('connectivity matrices of the x/y/z model agree with the NetworkPolicy semantics, cell by cell', () => {
  const l = model();
  const first = connectivityMatrix(l.lab, { port: 80, proto: 'tcp', namespaces: ['x', 'y', 'z'] });
  assert.equal(first.pods.length, 9);
  assert.ok(first.pods.every((f) => first.pods.every((t) => first.cells[f][t].allowed)), 'no policy: everything reaches everything');
  assert.equal(matrixText(first).split('\n')[0], ['-', 'x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'].join('\t'));
  let blockedSomewhere = 0;
  for (const [name, policy] of Object.entries(POLICY_SETS)) {
    l.apply(policy);
    const cluster = calicoCluster(l.lab.cluster!.store, { podCIDR: '10.244.0.0/16', ipip: true, tunnelIPs: {} });
    for (const port of [80, 81]) {
      const m = connectivityMatrix(l.lab, { port, proto: 'tcp', namespaces: ['x', 'y', 'z'] });
      for (const from of m.pods) {
        for (const to of m.pods) {
          const want = from === to || policyVerdict(cluster, from, to, port, 'TCP').allowed;
          assert.equal(m.cells[from][to].allowed, want, `${name}, port ${port}: ${from} -> ${to}: ${m.cells[from][to].reason}`);
          if (!want) blockedSomewhere++;
        }
      }
    }
  }
  assert.ok(blockedSomewhere > 20, 'the policy sets do block');
});
