// NetworkPolicy in a cluster lab: Felix's rules on the nodes decide, packets walked through
// them; the article's frontend/backend/db scene, and connectivity matrices of the e2e tests'
// x/y/z model checked cell by cell against the NetworkPolicy semantics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectivityMatrix, matrixText } from '../../../main/engine/cluster/matrix.ts';
import { calicoCluster } from '../../../main/engine/cluster/felix-sync.ts';
import { forgetRenders, PolicyIndex, renderFelix, type Protocol } from '../../../main/engine/kube/calico/index.ts';
import { clusterLab, type ClusterLab } from './lab-cluster.ts';
import { modelYaml, NAMESPACES, PLACEMENT, podYaml, POLICY_SETS, type PolicySet } from './policy-sets.ts';

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

// The e2e tests' model (policy-sets.ts), built once: each set is applied, its matrices taken
// and checked, and the set deleted again (`kubectl delete -f` of the same YAML), so every set
// starts from a model without policies.
let shared: ClusterLab | null = null;
function xyz(): ClusterLab {
  if (!shared) {
    shared = clusterLab({ nodes: 2, proxy: 'current' }, 11);
    shared.apply(modelYaml());
  }
  return shared;
}

const namespaces = [...NAMESPACES];
const policyCount = (l: ClusterLab) => l.lab.cluster!.store.list('NetworkPolicy').length;

test('the x/y/z model: pods where placed, and without policy everything reaches everything (TCP, UDP, SCTP on 80 and 81)', () => {
  const l = xyz();
  for (const [key, at] of Object.entries(PLACEMENT)) {
    const [ns, name] = key.split('/');
    assert.equal(l.sh('@cluster', `kubectl get pod ${name} -n ${ns} -o jsonpath={.spec.nodeName},{.status.podIP}`).stdout, `${at.node},${at.ip}`, key);
  }
  for (const proto of ['tcp', 'udp', 'sctp'] as const) {
    for (const port of [80, 81]) {
      const m = connectivityMatrix(l.lab, { port, proto, namespaces });
      assert.equal(m.pods.length, 9);
      const blocked = m.pods.flatMap((f) => m.pods.filter((t) => !m.cells[f][t].allowed).map((t) => `${f} -> ${t}: ${m.cells[f][t].reason}`));
      assert.deepEqual(blocked, [], `${proto}/${port}`);
    }
  }
  // A port nothing listens on is refused, not allowed: the matrix sees the socket.
  const closed = connectivityMatrix(l.lab, { port: 82, proto: 'tcp', namespaces });
  assert.ok(closed.pods.every((f) => closed.pods.every((t) => !closed.cells[f][t].allowed)));
  const m = connectivityMatrix(l.lab, { port: 80, proto: 'tcp', namespaces });
  assert.equal(matrixText(m).split('\n')[0], ['-', 'x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'].join('\t'));
});

/** "FROM TO PORT[/PROTO] ." or "… X" → the cell's key and the expected verdict. */
function spot(s: string): { key: string; allowed: boolean } {
  const [from, to, where, mark] = s.split(' ');
  const [port, proto = 'tcp'] = where.split('/');
  if (mark !== '.' && mark !== 'X') throw new Error(`bad spot check: ${s}`);
  return { key: `${from} ${to} ${port}/${proto.toUpperCase()}`, allowed: mark === '.' };
}

/** Every cell of the set's matrices against the semantics; returns the cells (key -> allowed). */
function checkSet(l: ClusterLab, set: PolicySet): Map<string, boolean> {
  const cluster = calicoCluster(l.lab.cluster!.store, { podCIDR: '10.244.0.0/16', ipip: true, tunnelIPs: {} });
  const semantics = new PolicyIndex(cluster);
  const cells = new Map<string, boolean>();
  const wrong: string[] = [];
  for (const proto of set.protocols ?? (['TCP'] as Protocol[])) {
    for (const port of [80, 81]) {
      const m = connectivityMatrix(l.lab, { port, proto: proto.toLowerCase() as 'tcp' | 'udp' | 'sctp', namespaces });
      assert.equal(m.pods.length, 9);
      const want: string[] = [];
      for (const from of m.pods) {
        for (const to of m.pods) {
          // A pod reaches itself over loopback: no policy sees it.
          const expected = from === to || semantics.verdict(from, to, port, proto).allowed;
          const got = m.cells[from][to].allowed;
          cells.set(`${from} ${to} ${port}/${proto}`, got);
          if (got !== expected) wrong.push(`${proto}/${port} ${from} -> ${to}: matrix ${got ? 'allowed' : 'blocked'} (${m.cells[from][to].reason}), semantics ${expected ? 'allowed' : 'blocked'}`);
        }
        want.push([from, ...m.pods.map((to) => (from === to || semantics.verdict(from, to, port, proto).allowed ? '.' : 'X'))].join('\t'));
      }
      if (wrong.length) assert.fail(`${wrong.join('\n')}\nmatrix ${proto}/${port}:\n${matrixText(m)}semantics:\n${want.join('\n')}`);
    }
  }
  return cells;
}

let blockedInAll = 0;
for (const set of POLICY_SETS) {
  test(`policy set: ${set.name}`, () => {
    const l = xyz();
    assert.equal(policyCount(l), 0, 'the model starts without policies');
    l.apply(set.yaml);
    try {
      const cells = checkSet(l, set);
      blockedInAll += [...cells.values()].filter((v) => !v).length;
      for (const s of set.spot) {
        const { key, allowed } = spot(s);
        assert.ok(cells.has(key), `spot check ${s}: no such cell among the matrices taken`);
        assert.equal(cells.get(key), allowed, `spot check ${s}`);
      }
    } finally {
      const r = l.sh('@cluster', 'kubectl delete -f -', set.yaml);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(policyCount(l), 0, 'the set is gone again');
    }
  });
}

test('a pod label change moves the pod in and out of the ipsets: the matrix follows', () => {
  const l = xyz();
  const set = POLICY_SETS.find((s) => s.name.startsWith('matchExpressions Exists'))!;
  l.apply(set.yaml);
  try {
    assert.equal(checkSet(l, set).get('y/c x/a 80/TCP'), false, 'y/c has no tier: blocked');
    l.apply(podYaml('y', 'c', 'tier: front'));
    const cells = checkSet(l, set);
    assert.equal(cells.get('y/c x/a 80/TCP'), true, 'y/c with a tier: allowed');
    assert.equal(cells.get('y/c x/c 80/TCP'), true);
    l.apply(podYaml('y', 'a', ''));
    assert.equal(checkSet(l, set).get('y/a x/b 81/TCP'), false, 'y/a without its tier: blocked');
  } finally {
    l.apply(podYaml('y', 'c'));
    l.apply(podYaml('y', 'a'));
    l.sh('@cluster', 'kubectl delete -f -', set.yaml);
  }
  assert.equal(policyCount(l), 0);
  assert.equal(checkSet(l, { name: 'none', yaml: '', spot: [] }).get('y/c x/a 80/TCP'), true);
});

/** A node's rules by "table chain" (rule order kept, counters and comments dropped) and its
 *  IP sets' members (sorted): what Felix programmed, whatever order it was written in. */
function dataplane(l: ClusterLab, node: string): { chains: Record<string, string[]>; sets: Record<string, string[]> } {
  const chains: Record<string, string[]> = {};
  let table = '';
  for (const line of l.sh(node, 'iptables-save').stdout.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) chains[`${table} ${line.slice(1).split(' ')[0]}`] ??= [];
    else if (line.startsWith('-A ')) (chains[`${table} ${line.split(' ')[1]}`] ??= []).push(line);
  }
  const sets: Record<string, string[]> = {};
  for (const line of l.sh(node, 'ipset save').stdout.split('\n')) {
    const [op, name, entry] = line.split(' ');
    if (op === 'create') sets[name] ??= [];
    else if (op === 'add') (sets[name] ??= []).push(entry);
  }
  for (const k of Object.keys(sets)) sets[k].sort();
  return { chains, sets };
}

test('Felix reprograms only what changed: after sets, relabels and deletions each node holds what a fresh cluster of the same objects gets', () => {
  const l = xyz(); // every set before was applied and deleted on it, each time reprogrammed
  const sets = ['several policies on x/a', 'egress of the source and ingress', 'named ports: z takes', 'ipBlock with except, a podSelector'].map((p) => POLICY_SETS.find((s) => s.name.startsWith(p))!);
  const final = [sets[0].yaml, sets[2].yaml, sets[3].yaml, podYaml('z', 'c', 'tier: front'), podYaml('x', 'b', '')];
  try {
    for (const s of sets) l.apply(s.yaml);
    l.apply(final[3]);
    l.apply(final[4]);
    l.sh('@cluster', 'kubectl delete -f -', sets[1].yaml);
    const fresh = clusterLab({ nodes: 2, proxy: 'current' }, 11);
    fresh.apply(modelYaml());
    fresh.apply(final.join('---\n'));
    let relabeledIn = 0;
    for (const node of ['minikube', 'minikube-m02']) {
      const a = dataplane(l, node);
      const b = dataplane(fresh, node);
      relabeledIn += Object.values(a.sets).filter((m) => m.includes(PLACEMENT['z/c'].ip)).length;
      assert.deepEqual(a.sets, b.sets, `${node}: IP sets`);
      assert.deepEqual(a.chains, b.chains, `${node}: chains`);
    }
    assert.ok(relabeledIn > 0, 'the relabelled z/c joined a selector set');
    // And a render that reuses the kept chains and set members is a render from scratch.
    const cluster = calicoCluster(l.lab.cluster!.store, { podCIDR: '10.244.0.0/16', ipip: true, tunnelIPs: {} });
    const kept = renderFelix(cluster, 'minikube');
    forgetRenders();
    const scratch = renderFelix(cluster, 'minikube');
    assert.equal(kept.restore, scratch.restore);
    assert.equal(kept.ipsetRestore, scratch.ipsetRestore);
    assert.deepEqual(kept.ipsets, scratch.ipsets);
    assert.deepEqual(kept.rules, scratch.rules);
  } finally {
    l.apply(podYaml('z', 'c'));
    l.apply(podYaml('x', 'b'));
    for (const s of sets) l.sh('@cluster', 'kubectl delete --ignore-not-found -f -', s.yaml);
  }
  assert.equal(policyCount(l), 0);
});

test('a set changed by hand: the update the kernel refuses gives way to a full rewrite, without an agent error', () => {
  const l = xyz();
  const set = POLICY_SETS.find((s) => s.name.startsWith('matchExpressions Exists'))!;
  l.apply(set.yaml);
  try {
    const yb = PLACEMENT['y/b'].ip;
    const [name] = Object.entries(dataplane(l, 'minikube').sets).find(([, m]) => m.includes(yb))!;
    assert.equal(l.sh('minikube', `ipset del ${name} ${yb}`).code, 0);
    l.lab.cluster!.takeErrors();
    l.apply(podYaml('y', 'b', '')); // y/b leaves the set: Felix's update would delete it again
    assert.deepEqual(l.lab.cluster!.takeErrors(), []);
    const fresh = clusterLab({ nodes: 2, proxy: 'current' }, 11);
    fresh.apply(modelYaml());
    fresh.apply(set.yaml + '---\n' + podYaml('y', 'b', ''));
    assert.deepEqual(dataplane(l, 'minikube'), dataplane(fresh, 'minikube'));
  } finally {
    l.apply(podYaml('y', 'b'));
    l.sh('@cluster', 'kubectl delete -f -', set.yaml);
  }
});

test('the policy sets: at least 30, distinct names, each with spot checks, and they do block', () => {
  assert.ok(POLICY_SETS.length >= 30, `${POLICY_SETS.length} sets`);
  assert.equal(new Set(POLICY_SETS.map((s) => s.name)).size, POLICY_SETS.length);
  for (const s of POLICY_SETS) assert.ok(s.spot.length >= 2, s.name);
  assert.ok(blockedInAll > 500, `${blockedInAll} blocked cells`);
});
