import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeStore } from '../../../../main/engine/kube/objects/store.ts';
import { decodeObject } from '../../../../main/engine/kube/objects/decode.ts';
import { parseManifests } from '../../../../main/engine/kube/objects/manifest.ts';
import { makeNode } from '../../../../main/engine/kube/objects/node.ts';
import { StatusError } from '../../../../main/engine/kube/objects/status.ts';
import { ANN_POD_IP } from '../../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../../main/engine/random.ts';

function cluster(version = 'v1.19.2', seed = 1, nodes = ['minikube', 'minikube-m02']) {
  const clock = { t: 0 };
  let ip = 10;
  const store = new KubeStore({ version }, { rng: new Rng(seed), clock: () => clock.t, hooks: { assignIp: (p) => p.metadata.annotations?.[ANN_POD_IP] ?? `10.244.0.${ip++}` } });
  store.bootstrap({ apiServer: '192.168.49.2', dns: true });
  nodes.forEach((n, i) => store.apply(makeNode({ name: n, internalIP: `192.168.49.${i + 2}`, version, controlPlane: i === 0 })));
  const apply = (yaml: string, create = false) => {
    const out = [];
    for (const d of parseManifests(yaml, 'STDIN').docs) {
      const r = decodeObject(d.obj, store.minor, 'STDIN');
      if (!r.ok) throw new Error(r.message);
      out.push(create ? store.create(r.obj) : store.apply(r.obj));
    }
    return out;
  };
  return { store, clock, apply };
}

const errorOf = (fn: () => unknown): StatusError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('no error');
};

const deploy = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${extra}spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: nginx:1.14.2
        ports:
        - containerPort: 8080
          name: http
`;

const nodePortSvc = (name: string, nodePort?: number, clusterIP?: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: NodePort
${clusterIP ? `  clusterIP: ${clusterIP}\n` : ''}  selector: {app: ${name}}
  ports:
  - port: 80
    targetPort: http
${nodePort ? `    nodePort: ${nodePort}\n` : ''}`;

test('bootstrap: kubernetes on the first service address, kube-dns on the tenth', () => {
  const { store } = cluster();
  assert.equal(store.get('Service', 'default', 'kubernetes')?.spec.clusterIP, '10.96.0.1');
  assert.equal(store.get('Service', 'kube-system', 'kube-dns')?.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(store.list('Namespace').map((n) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
});

test('same seed, same commands: same pod names, ClusterIPs, node ports and uids', () => {
  const run = () => {
    const c = cluster('v1.19.2', 99);
    c.apply(deploy('web', 3) + '---\n' + nodePortSvc('web'));
    return JSON.stringify([c.store.list('Pod').map((p) => [p.metadata.name, p.metadata.uid]), c.store.get('Service', 'default', 'web')?.spec]);
  };
  assert.equal(run(), run());
  const c = cluster('v1.19.2', 100);
  c.apply(deploy('web', 3));
  for (const p of c.store.list('Pod', 'default')) assert.match(p.metadata.name, /^web-[4-9bcdf]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test('allocated ClusterIPs and node ports stay inside their ranges', () => {
  const { store, apply } = cluster('v1.34.1');
  for (let i = 0; i < 20; i++) apply(nodePortSvc(`s${i}`));
  for (const s of store.list('Service', 'default').filter((x) => x.metadata.name !== 'kubernetes')) {
    const [a, b, c, d] = (s.spec.clusterIP as string).split('.').map(Number);
    assert.ok(a === 10 && b >= 96 && b <= 111, s.spec.clusterIP);
    assert.ok(!(b === 96 && c === 0 && d <= 1));
    for (const p of s.spec.ports ?? []) if (p.nodePort) assert.ok(p.nodePort >= 30000 && p.nodePort <= 32767);
  }
});

test('a taken or out-of-range nodePort is refused with the API server text', () => {
  const { apply } = cluster();
  apply(nodePortSvc('webapp', 31380));
  assert.equal(errorOf(() => apply(nodePortSvc('other', 31380))).message, 'The Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 31380: provided port is already allocated');
  assert.equal(
    errorOf(() => apply(nodePortSvc('far', 40000))).message,
    'The Service "far" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
});

test('ClusterIP refusals: v1.19 and current wording', () => {
  const legacy = cluster('v1.19.2');
  assert.equal(errorOf(() => legacy.apply(nodePortSvc('a', undefined, '10.96.0.10'))).message, 'The Service "a" is invalid: spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated');
  assert.equal(
    errorOf(() => legacy.apply(nodePortSvc('b', undefined, '10.0.0.10'))).message,
    'The Service "b" is invalid: spec.clusterIP: Invalid value: "10.0.0.10": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  );
  const current = cluster('v1.34.1');
  assert.equal(
    errorOf(() => current.apply(nodePortSvc('a', undefined, '10.96.0.10'))).message,
    'The Service "a" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
  );
});

test('a refused Service leaves nothing allocated', () => {
  const { apply, store } = cluster();
  apply(nodePortSvc('webapp', 31380));
  const svc2 = `apiVersion: v1\nkind: Service\nmetadata: {name: two}\nspec:\n  type: NodePort\n  clusterIP: 10.100.0.5\n  ports:\n  - {port: 80, nodePort: 31380}\n`;
  assert.throws(() => apply(svc2));
  // 10.100.0.5 was given back: a Service can take it now.
  apply(nodePortSvc('three', 31381, '10.100.0.5'));
  assert.equal(store.get('Service', 'default', 'three')?.spec.clusterIP, '10.100.0.5');
});

test('apply: unchanged, configured, node ports kept, immutable clusterIP', () => {
  const { apply, store } = cluster();
  assert.equal(apply(nodePortSvc('webapp'))[0].action, 'created');
  const np = store.get('Service', 'default', 'webapp')?.spec.ports?.[0].nodePort;
  assert.ok(np);
  assert.equal(apply(nodePortSvc('webapp'))[0].action, 'unchanged');
  assert.equal(apply(nodePortSvc('webapp').replace('metadata: {name: webapp}', 'metadata: {name: webapp, labels: {tier: web}}'))[0].action, 'configured');
  assert.equal(store.get('Service', 'default', 'webapp')?.spec.ports?.[0].nodePort, np);
  assert.equal(store.get('Service', 'default', 'webapp')?.metadata.labels?.tier, 'web');
  assert.equal(
    errorOf(() => apply(nodePortSvc('webapp', undefined, '10.100.100.100'))).message,
    'The Service "webapp" is invalid: spec.clusterIP: Invalid value: "10.100.100.100": field is immutable',
  );
  const cur = cluster('v1.34.1');
  cur.apply(nodePortSvc('webapp'));
  assert.equal(
    errorOf(() => cur.apply(nodePortSvc('webapp', undefined, '10.100.100.100'))).message,
    'The Service "webapp" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.100.100.100"}: may not change once set',
  );
});

test('apply is a three-way merge: a field dropped from the config goes away', () => {
  const { apply, store } = cluster();
  apply(nodePortSvc('webapp').replace('metadata: {name: webapp}', 'metadata: {name: webapp, labels: {a: "1", b: "2"}}'));
  apply(nodePortSvc('webapp').replace('metadata: {name: webapp}', 'metadata: {name: webapp, labels: {a: "1"}}'));
  assert.deepEqual(store.get('Service', 'default', 'webapp')?.metadata.labels, { a: '1' });
});

test('create refuses an existing name; a missing namespace is NotFound', () => {
  const { apply } = cluster();
  apply(nodePortSvc('webapp'));
  const e = errorOf(() => apply(nodePortSvc('webapp'), true));
  assert.equal(e.reason, 'AlreadyExists');
  assert.equal(e.message, 'services "webapp" already exists');
  const ns = errorOf(() => apply(nodePortSvc('x').replace('metadata: {name: x}', 'metadata: {name: x, namespace: nope}')));
  assert.equal(ns.message, 'namespaces "nope" not found');
});

test('pinned pod names and IPs, scaling, and deletion cascading to pods', () => {
  const { apply, store } = cluster();
  apply(deploy('db', 1, '  annotations:\n    lab.kpl.dev/pod-names: db-8d66ff5f7-bp6kf\n    lab.kpl.dev/pod-ips: 10.88.0.26\n'));
  const pods = store.list('Pod', 'default');
  assert.deepEqual(pods.map((p) => [p.metadata.name, p.status?.podIP, p.status?.phase]), [['db-8d66ff5f7-bp6kf', '10.88.0.26', 'Running']]);
  store.scale('db', 'default', 3);
  assert.equal(store.list('Pod', 'default').length, 3);
  const newest = store.list('Pod', 'default').filter((p) => p.metadata.name !== 'db-8d66ff5f7-bp6kf');
  store.scale('db', 'default', 1);
  assert.deepEqual(store.list('Pod', 'default').map((p) => p.metadata.name), ['db-8d66ff5f7-bp6kf']);
  assert.equal(newest.length, 2);
  store.delete('Deployment', 'db', 'default');
  assert.equal(store.list('Pod', 'default').length, 0);
  assert.equal(store.list('ReplicaSet', 'default').length, 0);
});

test('pods stay Pending without nodes and start when a node joins', () => {
  const { apply, store } = cluster('v1.19.2', 1, []);
  apply(deploy('web', 1));
  const [p] = store.list('Pod', 'default');
  assert.equal(p.status?.phase, 'Pending');
  assert.equal(p.status?.conditions?.[0].type, 'PodScheduled');
  store.apply(makeNode({ name: 'n1', internalIP: '192.168.49.2', version: 'v1.19.2' }));
  const [q] = store.list('Pod', 'default');
  assert.equal(q.spec.nodeName, 'n1');
  assert.equal(q.status?.phase, 'Running');
  assert.equal(q.status?.hostIP, '192.168.49.2');
});

test('LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort, released when it goes', () => {
  const { apply, store } = cluster();
  const lb = (etp: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: ${etp}\n  selector: {app: x}\n  ports:\n  - {port: 80, nodePort: 31000}\n`;
  apply(lb('Local'));
  const hc = store.get('Service', 'default', 'lb')?.spec.healthCheckNodePort;
  assert.ok(hc && hc >= 30000 && hc <= 32767 && hc !== 31000);
  apply(lb('Cluster'));
  assert.equal(store.get('Service', 'default', 'lb')?.spec.healthCheckNodePort, undefined);
  apply(nodePortSvc('reuse', hc));
  assert.equal(store.get('Service', 'default', 'reuse')?.spec.ports?.[0].nodePort, hc);
});

test('the watch reports each write once per operation', () => {
  const { apply, store } = cluster();
  const seen: string[][] = [];
  store.watch((evs) => seen.push(evs.map((e) => `${e.type} ${e.object.kind}`)));
  apply(nodePortSvc('webapp'));
  assert.equal(seen.length, 1);
  assert.ok(seen[0].includes('ADDED Service'));
  assert.ok(seen[0].includes('ADDED Endpoints'));
  assert.ok(seen[0].includes('ADDED EndpointSlice'));
});

test('KubeProxyConfiguration merges over the minikube defaults; other modes refused', () => {
  const { store } = cluster();
  const r = decodeObject({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', iptables: { masqueradeAll: true } }, store.minor, 'STDIN');
  assert.ok(r.ok);
  if (r.ok) assert.equal(store.apply(r.obj).action, 'configured');
  assert.equal(store.proxyConfiguration().iptables?.masqueradeAll, true);
  assert.equal(store.proxyConfiguration().clusterCIDR, '10.244.0.0/16');
  const ipvs = decodeObject({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'ipvs' }, store.minor, 'STDIN');
  if (ipvs.ok) assert.match(errorOf(() => store.apply(ipvs.obj)).message, /mode: Unsupported value: "ipvs"/);
});

test('a pinned pod name held by another pod is skipped, not a failed apply', () => {
  const { apply, store } = cluster();
  apply('apiVersion: v1\nkind: Pod\nmetadata: {name: db-0}\nspec:\n  containers: [{name: c, image: nginx}]\n');
  const [r] = apply(deploy('db', 2, '  annotations:\n    lab.kpl.dev/pod-names: "db-0,db-1"\n'));
  assert.equal(r.action, 'created');
  const names = store.list('Pod', 'default').map((p) => p.metadata.name);
  assert.ok(names.includes('db-1'));
  assert.equal(names.length, 3);
});

test('cached lists follow every write in place: random applies, scales and deletes, cached vs freshly scanned', () => {
  const { store, apply } = cluster();
  const rng = new Rng(7);
  const KINDS_SEEN = ['Pod', 'ReplicaSet', 'Deployment', 'Service', 'Endpoints', 'EndpointSlice', 'Namespace', 'Node'] as const;
  const names = (kind: (typeof KINDS_SEEN)[number], ns?: string) => store.view(kind, ns).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  const lists = (store as unknown as { lists: Map<string, unknown> }).lists; // the cache under test
  let writes = 0;
  for (let i = 0; i < 60; i++) {
    const name = ['web', 'api', 'db', 'zz', 'a'][Math.floor(rng.next() * 5)];
    const r = rng.next();
    if (r < 0.45) apply(deploy(name, 1 + Math.floor(rng.next() * 3)));
    else if (r < 0.7) apply(nodePortSvc(name));
    else if (r < 0.85 && store.get('Deployment', 'default', name)) store.delete('Deployment', name, 'default');
    else if (store.get('Service', 'default', name)) store.delete('Service', name, 'default');
    else continue;
    writes++;
    // read every list (cached now), then compare each with a scan from scratch
    const cached = KINDS_SEEN.flatMap((k) => [names(k), names(k, 'default'), names(k, 'kube-system')]);
    lists.clear();
    const fresh = KINDS_SEEN.flatMap((k) => [names(k), names(k, 'default'), names(k, 'kube-system')]);
    assert.deepEqual(cached, fresh, `after write ${writes}`);
  }
  assert.ok(writes > 30, `${writes} writes`);
  assert.ok(store.view('Pod', 'default').length > 0);
});

test('a cached list that many writes put objects in or took out of is made again, the same as a scan', () => {
  const { store, apply } = cluster();
  const lists = (store as unknown as { lists: Map<string, unknown> }).lists; // the cache under test
  const names = () => store.view('Service', 'default').map((o) => o.metadata.name);
  const svc = (i: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec: {ports: [{port: 80}]}\n`;
  // out of name order, so that most go in between others
  const order = Array.from({ length: 700 }, (_, i) => (i * 389) % 700);
  apply(svc(order[0]));
  names(); // cached
  for (const i of order.slice(1)) apply(svc(i));
  assert.equal(lists.has('Service/default'), false, 'dropped after many writes');
  const cached = names();
  assert.equal(cached.length, 701); // (the 700 and kubernetes)
  lists.clear();
  assert.deepEqual(cached, names());
  for (const i of order.slice(0, 400)) store.delete('Service', `s${i}`, 'default');
  const after = names();
  lists.clear();
  assert.deepEqual(after, names());
  assert.equal(after.length, 301);
});
