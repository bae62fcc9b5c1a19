// A restart of kube-proxy (Cluster.resync) writes every chain. On a node that holds exactly what
// kube-proxy last wrote, the cluster does the partial sync and sets the counters of every other
// chain it writes back to zero instead of restoring them all; on a node edited from its console
// it writes everything. The two must leave the same rules, counters and origins: the same
// cluster is built twice, packets are counted, objects change without a sync, and one lab
// restarts kube-proxy as on an untouched node, the other as on an edited one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab, WEBAPP_NODEPORT } from './lab-cluster.ts';

const POD = (name: string, node: string, labels = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}${labels}}
spec: {nodeName: ${node}, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
`;

function build(edited: boolean) {
  const a = clusterLab({ nodes: 2 }, 5);
  a.apply(WEBAPP_NODEPORT);
  a.apply(POD('client', 'minikube-m02'));
  a.apply(POD('server', 'minikube', ', labels: {app: server}'));
  a.apply('apiVersion: v1\nkind: Service\nmetadata: {name: server}\nspec: {selector: {app: server}, ports: [{port: 80}]}\n');
  a.apply('apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec: {selector: {app: server}, ports: [{port: 8080, targetPort: 80}]}\n');
  for (let i = 0; i < 3; i++) {
    for (const url of ['http://server', 'http://other:8080', 'http://webapp']) assert.equal(a.sh('default/client', `curl -s -m 1 ${url}`).code, 0, url);
    assert.equal(a.sh('default/client', 'nc -z kubernetes 443').code, 0);
  }
  // A hand edit of one of kube-proxy's chains (a rule that changes nothing a packet sees):
  // kube-proxy can no longer trust its chains to hold what it wrote, and writes them all.
  if (edited) for (const n of ['minikube', 'minikube-m02']) assert.equal(a.sh(n, `iptables -t nat -A KUBE-MARK-MASQ -j RETURN`).code, 0);
  // Objects changed since the last sync: the restart's partial sync has work to do.
  const store = a.lab.cluster!.store;
  store.delete('Service', 'other', 'default');
  return a;
}

const saves = (a: ReturnType<typeof clusterLab>) =>
  ['minikube', 'minikube-m02'].map((n) => a.lab.exec(n, ['iptables-save', '-c'], '').stdout.replace(/^#.*\n/gm, ''));

test('a kube-proxy restart on an untouched node leaves what it leaves on an edited one: rules, counters, origins', () => {
  const kept = build(false);
  const full = build(true);
  const before = saves(kept);
  assert.match(before[1], /^\[[1-9]\d*:\d+\] -A KUBE-SVC-/m, 'packets were counted in a service chain');
  const mine = /^\[0:0\] -A KUBE-MARK-MASQ -j RETURN\n/m;
  assert.deepEqual(before, saves(full).map((s) => s.replace(mine, '')), 'the same before the restart, but for the hand edit');
  kept.lab.cluster!.resync();
  full.lab.cluster!.resync();
  const after = saves(kept);
  assert.deepEqual(after, saves(full));
  assert.doesNotMatch(after[1], /^\[[1-9]\d*:\d+\] -A KUBE-(SVC|SEP)-/m, 'kube-proxy\'s rules count from zero');
  assert.match(after[1], /^\[[1-9]\d*:\d+\] -A (?!KUBE-)/m, 'the kernel chains keep their counts');
  // The rules remember what made them alike.
  for (const to of ['server:80', 'webapp:80']) {
    const a = kept.lab.trace({ from: 'pod/default/client', to, proto: 'tcp', sport: 40000 }).json;
    const b = full.lab.trace({ from: 'pod/default/client', to, proto: 'tcp', sport: 40000 }).json;
    assert.deepEqual(a, b, to);
  }
});
