import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLab } from './cluster.ts';

const SVC = (nodePort = 31380, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  selector:
    app: webapp
  ports:
  - port: 80
    targetPort: 80
    nodePort: ${nodePort}
${extra}`;

test('apply prints created, then unchanged, then configured; changed only when something changed', () => {
  const l = makeLab({ nodes: ['minikube'] });
  const a = l.run('kubectl apply -f -', SVC());
  assert.deepEqual([a.stdout, a.code, a.changed], ['service/webapp created\n', 0, true]);
  const b = l.run('kubectl apply -f -', SVC());
  assert.deepEqual([b.stdout, b.changed], ['service/webapp unchanged\n', false]);
  assert.equal(l.run('kubectl apply -f -', SVC(31381)).stdout, 'service/webapp configured\n');
  assert.equal(l.store.get('Service', 'default', 'webapp')?.spec.ports?.[0].nodePort, 31381);
});

test('apply -f FILE reads the files the caller hands over; a missing one is an error', () => {
  const l = makeLab({ nodes: ['minikube'] });
  assert.equal(l.run('kubectl apply -f web.yaml', '', { 'web.yaml': SVC() }).stdout, 'service/webapp created\n');
  const r = l.run('kubectl apply -f nope.yaml', '', {});
  assert.deepEqual([r.stderr, r.code], ['error: the path "nope.yaml" does not exist\n', 1]);
});

test('a taken nodePort: The Service "..." is invalid, exit status 1', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', SVC());
  const r = l.run('kubectl apply -f -', SVC().replace('name: webapp', 'name: webapp2'));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'The Service "webapp2" is invalid: spec.ports[0].nodePort: Invalid value: 31380: provided port is already allocated\n');
});

test('unknown fields: client-side ValidationError on v1.19, strict decoding on current releases', () => {
  const bad = SVC(31380, '  foo: bar\n');
  const old = makeLab({ nodes: ['minikube'] }).run('kubectl apply -f -', bad);
  assert.equal(
    old.stderr,
    'error: error validating "STDIN": error validating data: ValidationError(Service.spec): unknown field "foo" in io.k8s.api.core.v1.ServiceSpec; if you choose to ignore these errors, turn validation off with --validate=false\n',
  );
  const cur = makeLab({ version: 'v1.34.1', nodes: ['minikube'] }).run('kubectl apply -f -', bad);
  assert.equal(
    cur.stderr,
    'Error from server (BadRequest): error when creating "STDIN": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.foo"\n',
  );
  assert.equal(cur.code, 1);
  const typed = makeLab({ version: 'v1.34.1' }).run('kubectl apply -f -', SVC().replace('port: 80\n', 'port: "80"\n'));
  assert.equal(
    typed.stderr,
    'Error from server (BadRequest): error when creating "STDIN": Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32\n',
  );
});

test('unknown kinds and versions, missing kind, YAML syntax errors', () => {
  const l = makeLab({ version: 'v1.34.1' });
  assert.equal(
    l.run('kubectl apply -f -', 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n').stderr,
    'error: resource mapping not found for name: "x" namespace: "" from "STDIN": no matches for kind "Deployment" in version "extensions/v1beta1"\nensure CRDs are installed first\n',
  );
  const old = makeLab();
  assert.equal(old.run('kubectl apply -f -', 'apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n').stderr, 'error: unable to recognize "STDIN": no matches for kind "Foo" in version "v1"\n');
  assert.match(old.run('kubectl apply -f -', 'apiVersion: v1\nmetadata: {name: x}\n').stderr, /^error: error validating "STDIN": error validating data: kind not set;/);
  assert.equal(old.run('kubectl apply -f -', 'apiVersion: v1\nkind: Service\nmetadata: name: x\n').stderr, 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context\n');
});

test('create refuses an existing object; --namespace must agree with the manifest', () => {
  const l = makeLab({ nodes: ['minikube'] });
  assert.equal(l.run('kubectl create -f -', SVC()).stdout, 'service/webapp created\n');
  assert.equal(l.run('kubectl create -f -', SVC()).stderr, 'Error from server (AlreadyExists): error when creating "STDIN": services "webapp" already exists\n');
  const warn = l.run('kubectl apply -f -', SVC());
  assert.match(warn.stderr, /^Warning: resource services\/webapp is missing the kubectl.kubernetes.io\/last-applied-configuration annotation/);
  assert.equal(
    l.run('kubectl apply -n other -f -', SVC().replace('name: webapp', 'name: webapp\n  namespace: default')).stderr,
    'error: the namespace from the provided object "default" does not match the namespace "other". You must pass \'--namespace=default\' to perform this operation.\n',
  );
  assert.equal(
    l.run('kubectl apply -n ghost -f -', SVC()).stderr,
    'Error from server (NotFound): error when creating "STDIN": namespaces "ghost" not found\n',
  );
});

test('delete by name, by TYPE/NAME, by file; NotFound otherwise', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', SVC());
  assert.equal(l.run('kubectl delete svc webapp').stdout, 'service "webapp" deleted\n');
  const r = l.run('kubectl delete svc webapp');
  assert.deepEqual([r.stderr, r.code], ['Error from server (NotFound): services "webapp" not found\n', 1]);
  assert.equal(l.run('kubectl delete svc webapp --ignore-not-found').code, 0);
  l.run('kubectl apply -f -', SVC());
  assert.equal(l.run('kubectl delete -f -', SVC()).stdout, 'service "webapp" deleted\n');
  assert.equal(l.run('kubectl delete -f -', SVC()).stderr, 'Error from server (NotFound): error when deleting "STDIN": services "webapp" not found\n');
  assert.equal(l.run('kubectl delete pods').stderr, 'error: resource(s) were provided, but no name was specified\n');
});

test('scale a Deployment; pods follow', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: nginx}]\n');
  assert.equal(l.run('kubectl scale deploy/web --replicas=3').stdout, 'deployment.apps/web scaled\n');
  assert.equal(l.store.list('Pod', 'default').length, 3);
  assert.equal(l.run('kubectl scale deployment web --replicas 0').stdout, 'deployment.apps/web scaled\n');
  assert.equal(l.store.list('Pod', 'default').length, 0);
  assert.equal(l.run('kubectl scale deploy/web').stderr, 'error: required flag(s) "replicas" not set\n');
  assert.equal(l.run('kubectl scale deploy/nope --replicas=1').stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');
});

test('describe svc: the v1.19 layout, and the IP family lines of current releases', () => {
  const l = makeLab({ nodes: ['minikube'] });
  l.run('kubectl apply -f -', SVC().replace('spec:\n', 'spec:\n  clusterIP: 10.103.46.104\n'));
  assert.equal(
    l.run('kubectl describe svc webapp').stdout,
    `Name:                     webapp
Namespace:                default
Labels:                   <none>
Annotations:              <none>
Selector:                 app=webapp
Type:                     NodePort
IP:                       10.103.46.104
Port:                     <unset>  80/TCP
TargetPort:               80/TCP
NodePort:                 <unset>  31380/TCP
Endpoints:                <none>
Session Affinity:         None
External Traffic Policy:  Cluster
Events:                   <none>
`,
  );
  const c = makeLab({ version: 'v1.34.1', nodes: ['minikube'] });
  c.run('kubectl apply -f -', SVC().replace('spec:\n', 'spec:\n  clusterIP: 10.103.46.104\n'));
  const out = c.run('kubectl describe service webapp').stdout;
  assert.ok(out.includes('IP Family Policy:         SingleStack\nIP Families:              IPv4\nIP:                       10.103.46.104\nIPs:                      10.103.46.104\n'));
  assert.ok(out.includes('Internal Traffic Policy:  Cluster\n'));
  assert.equal(c.run('kubectl describe svc nope').stderr, 'Error from server (NotFound): services "nope" not found\n');
});
