import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab } from './cluster.ts';

const APP = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    lab.kpl.dev/pod-names: web-a,web-b
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - {containerPort: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.100.0.10
  selector: {app: web}
  ports:
  - port: 80
`;

function lab(version = 'v1.19.2') {
  const l = makeLab({ version, nodes: ['minikube'] });
  const r = l.run('kubectl apply -f -', APP);
  assert.equal(r.code, 0, r.stderr);
  l.clock.t = 65;
  return l;
}

test('-o name, -l, --show-labels, --no-headers', () => {
  const l = lab();
  assert.equal(l.run('kubectl get pods -o name').stdout, 'pod/web-a\npod/web-b\n');
  assert.equal(l.run('kubectl get deploy,svc -o name').stdout, 'deployment.apps/web\nservice/kubernetes\nservice/web\n');
  assert.equal(l.run('kubectl get svc -l component=apiserver -o name').stdout, 'service/kubernetes\n');
  assert.equal(l.run('kubectl get pods -l tier=front,app!=db -o name').stdout, 'pod/web-a\npod/web-b\n');
  assert.equal(l.run('kubectl get svc --no-headers web').stdout, 'web   ClusterIP   10.100.0.10   <none>   80/TCP   65s\n');
  assert.match(l.run('kubectl get pod web-a --show-labels').stdout, /LABELS\nweb-a .* app=web,pod-template-hash=[4-9bcdf]+,tier=front\n$/);
});

test('-A adds the NAMESPACE column; empty lists say so on stderr', () => {
  const l = lab();
  const out = l.run('kubectl get svc -A').stdout.split('\n');
  assert.match(out[0], /^NAMESPACE {3}NAME {9}TYPE {8}CLUSTER-IP {4}EXTERNAL-IP {3}PORT\(S\) {3}AGE$/);
  assert.match(out[1], /^default {5}kubernetes {3}ClusterIP {3}10\.96\.0\.1 /);
  const empty = l.run('kubectl get netpol');
  assert.equal(empty.stdout, '');
  assert.equal(empty.stderr, 'No resources found in default namespace.\n');
  assert.equal(empty.code, 0);
  assert.equal(l.run('kubectl get netpol -A').stderr, 'No resources found\n');
});

test('missing objects: NotFound on stderr, exit 1, found ones still printed', () => {
  const l = lab();
  const r = l.run('kubectl get svc web nope');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error from server (NotFound): services "nope" not found\n');
  assert.match(r.stdout, /^NAME {3}TYPE/);
  assert.equal(l.run('kubectl get deploy/nope').stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');
});

test('usage errors: unknown type, unknown flag, no type, bad output format', () => {
  const l = lab();
  assert.deepEqual([l.run('kubectl get foo').stderr, l.run('kubectl get foo').code], ['error: the server doesn\'t have a resource type "foo"\n', 1]);
  assert.equal(l.run('kubectl get pods --bogus').stderr, "error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.\n");
  assert.equal(l.run('kubectl get pods -x').stderr, "error: unknown shorthand flag: 'x' in -x\nSee 'kubectl get --help' for usage.\n");
  assert.match(l.run('kubectl get').stderr, /^You must specify the type of resource to get/);
  assert.match(l.run('kubectl get pods -o toml').stderr, /^error: unable to match a printer suitable for the output format "toml", allowed formats are: /);
  assert.equal(l.run('kubectl frobnicate').stderr, 'error: unknown command "frobnicate" for "kubectl"\nRun \'kubectl --help\' for usage.\n');
});

test('-o yaml of one object; -o json of a list (List wrapper differs by release)', () => {
  const l = lab();
  const y = l.run('kubectl get svc web -o yaml').stdout;
  assert.ok(y.startsWith('apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"clusterIP":"10.100.0.10","ports":[{"port":80}],"selector":{"app":"web"}}}\n  creationTimestamp: "2020-11-05T05:26:27Z"\n'));
  assert.ok(y.includes('  selfLink: /api/v1/namespaces/default/services/web\n'));
  assert.ok(y.includes('spec:\n  clusterIP: 10.100.0.10\n  ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 80\n'));
  const j = JSON.parse(l.run('kubectl get pods -o json').stdout) as { kind: string; items: unknown[]; metadata: unknown };
  assert.equal(j.kind, 'List');
  assert.equal(j.items.length, 2);
  assert.deepEqual(j.metadata, { resourceVersion: '', selfLink: '' });
  const cur = lab('v1.34.1');
  assert.deepEqual((JSON.parse(cur.run('kubectl get pods -o json').stdout) as { metadata: unknown }).metadata, { resourceVersion: '' });
  assert.ok(!cur.run('kubectl get svc web -o yaml').stdout.includes('selfLink'));
  assert.ok(cur.run('kubectl get svc web -o yaml').stdout.includes('  clusterIPs:\n  - 10.100.0.10\n'));
});

test('several kinds: kind/ prefixes and a blank line between tables', () => {
  const l = lab();
  assert.equal(
    l.run('kubectl get deploy,ep web').stdout,
    `NAME                  READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/web   2/2     2            2           65s

NAME            ENDPOINTS                     AGE
endpoints/web   10.244.0.2:80,10.244.0.3:80   65s
`,
  );
});

test('v1.33+ warns that v1 Endpoints is deprecated', () => {
  const l = lab('v1.34.1');
  const r = l.run('kubectl get ep web');
  assert.equal(r.stderr, 'Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n');
  assert.equal(lab().run('kubectl get ep web').stderr, '');
});

test('deployments and replicasets, normal and wide', () => {
  const l = lab();
  const rs = l.store.list('ReplicaSet', 'default')[0].metadata.name;
  assert.equal(
    l.run('kubectl get deploy -o wide').stdout,
    'NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES         SELECTOR\nweb    2/2     2            2           65s   nginx        nginx:1.14.2   app=web\n',
  );
  assert.equal(l.run('kubectl get rs').stdout.split('\n')[1].replace(/ +/g, ' '), `${rs} 2 2 2 65s`);
});
