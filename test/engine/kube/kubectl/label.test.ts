// kubectl label: set, overwrite, remove; kubectl's messages and refusals; the Service's endpoints
// follow a pod's labels (the controllers re-select).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab } from './cluster.ts';

const POD = (name: string, app: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: ${app}}}\nspec:\n  nodeName: minikube\n  containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]\n`;
const SVC = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n';

test('kubectl label: labeled, overwrite refused then allowed, unlabeled, not labeled; endpoints follow', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', POD('a', 'web') + '---\n' + POD('b', 'db') + '---\n' + SVC);
  const endpoints = () => (l.store.get('Endpoints', 'default', 'web')?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.targetRef?.name));
  assert.deepEqual(endpoints(), ['a']);

  assert.deepEqual(l.run('kubectl label pods b tier=back'), { stdout: 'pod/b labeled\n', stderr: '', code: 0, changed: true });
  assert.deepEqual(l.store.get('Pod', 'default', 'b')?.metadata.labels, { app: 'db', tier: 'back' });
  // A key with a value needs --overwrite (the same value too, as kubectl checks before sending).
  const refused = l.run('kubectl label pod/b app=web');
  assert.deepEqual([refused.stdout, refused.stderr, refused.code, refused.changed], ['', "error: 'app' already has a value (db), and --overwrite is false\n", 1, false]);
  assert.equal(l.run('kubectl label pod b app=db').stderr, "error: 'app' already has a value (db), and --overwrite is false\n");
  assert.equal(l.run('kubectl label --overwrite pod b app=web').stdout, 'pod/b labeled\n');
  assert.deepEqual(endpoints().sort(), ['a', 'b'], 'the relabelled pod is selected by the Service');
  assert.equal(l.run('kubectl label pod b tier-').stdout, 'pod/b unlabeled\n');
  assert.equal(l.run('kubectl label pod b tier-').stdout, 'pod/b not labeled\n');
  assert.equal(l.run('kubectl label pod b app- --overwrite').stdout, 'pod/b labeled\n');
  assert.deepEqual(endpoints(), ['a']);
  // Namespaces and nodes too (what namespaceSelectors and nodeSelectors read).
  assert.equal(l.run('kubectl label namespace default team=red').stdout, 'namespace/default labeled\n');
  assert.equal(l.store.get('Namespace', undefined, 'default')?.metadata.labels?.team, 'red');
  assert.equal(l.run('kubectl -n kube-system label no minikube disk=ssd').stdout, 'node/minikube labeled\n');
});

test('kubectl label: its errors', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', POD('a', 'web'));
  assert.equal(l.run('kubectl label pod a').stderr, 'error: at least one label update is required\n');
  assert.equal(l.run('kubectl label pod a x=y=z').stderr, 'error: invalid label spec: x=y=z\n');
  assert.equal(l.run('kubectl label pod nope x=y').stderr, 'Error from server (NotFound): pods "nope" not found\n');
  assert.equal(l.run('kubectl label pod nope x=y').code, 1);
  assert.equal(l.run('kubectl label widgets a x=y').stderr, 'error: the server doesn\'t have a resource type "widgets"\n');
  // The API server validates the value.
  const bad = l.run('kubectl label pod a x=not%valid');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^The Pod "a" is invalid: metadata\.labels: Invalid value: "not%valid"/);
  assert.deepEqual(l.store.get('Pod', 'default', 'a')?.metadata.labels, { app: 'web' }, 'a refused change leaves the pod as it was');
});
