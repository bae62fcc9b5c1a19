// Felix's periodic refresh (IptablesRefreshInterval 90 s, IpsetsRefreshInterval 10 s): it reads
// the dataplane back and repairs only what differs from what it programmed — a chain whose
// rules' cali hashes differ is written again, the others keep their rules and counters; a set
// gets back the members it lost and loses the ones added by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab, WEBAPP_NODEPORT } from './lab-cluster.ts';

const CLIENT = `apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: minikube, containers: [{name: c, image: busybox}]}
`;

/** A one-node cluster where two connections were counted in Felix's chains; its filter table. */
function counted() {
  const c = clusterLab({ nodes: 1, proxy: 'current' });
  c.apply(WEBAPP_NODEPORT);
  c.apply(CLIENT);
  for (let i = 0; i < 2; i++) assert.equal(c.sh('default/client', 'curl -s -m 1 http://webapp').code, 0);
  return { c, filter: () => c.sh('minikube', 'iptables-save -c -t filter').stdout };
}

/** One chain's rule lines of an iptables-save. */
const chain = (save: string, name: string) => save.split('\n').filter((l) => l.includes(`-A ${name} `));

test('Felix repairs its IP sets every 10 s and its chains every 90 s, only where they differ', () => {
  const { c, filter } = counted();
  const members = () => c.sh('minikube', 'ipset save cali40all-ipam-pools').stdout;
  const before = filter();
  const pools = members();
  assert.match(chain(before, 'cali-FORWARD')[0], /^\[[1-9]\d*:\d+\] /, 'cali-FORWARD counted the connections');
  // Hand edits: a rule of ours at the top of a cali chain, a pool gone from a set, a stranger added.
  assert.equal(c.sh('minikube', 'iptables -I cali-OUTPUT 1 -s 192.0.2.1 -j RETURN').code, 0);
  assert.equal(c.sh('minikube', 'ipset del cali40all-ipam-pools 10.244.0.0/16').code, 0);
  assert.equal(c.sh('minikube', 'ipset add cali40all-ipam-pools 192.0.2.0/24').code, 0);
  c.sh('minikube', 'sleep 11');
  assert.equal(members(), pools, 'the set is repaired within 10 s');
  assert.match(chain(filter(), 'cali-OUTPUT')[0], /192\.0\.2\.1/, 'the chains are not looked at yet');
  c.sh('minikube', 'sleep 30');
  assert.match(chain(filter(), 'cali-OUTPUT')[0], /192\.0\.2\.1/, 'nor at 30 s');
  c.sh('minikube', 'sleep 50');
  const after = filter();
  assert.doesNotMatch(after, /192\.0\.2\.1/, 'repaired by the 90 s refresh');
  assert.deepEqual(chain(after, 'cali-OUTPUT'), chain(before, 'cali-OUTPUT'));
  // Chains that were not touched were not written: their counts stand.
  assert.deepEqual(chain(after, 'cali-FORWARD'), chain(before, 'cali-FORWARD'));
  assert.deepEqual(c.lab.cluster!.agentErrors, []);
});

test('Felix tells a changed rule by its cali hash: a rule replaced keeping its comment is not repaired', () => {
  const c = clusterLab({ nodes: 1, proxy: 'current' });
  const rules = c.sh('minikube', 'iptables -S cali-OUTPUT').stdout.split('\n').filter((l) => l.startsWith('-A '));
  const first = rules[0];
  const comment = /--comment "?(cali:[^" ]+)/.exec(first)![1];
  // The same hash on another rule: Felix's read-back sees its own rule.
  assert.equal(c.sh('minikube', `iptables -R cali-OUTPUT 1 -m comment --comment ${comment} -j RETURN`).code, 0);
  // A second chain edited without its hash: repaired.
  assert.equal(c.sh('minikube', 'iptables -D cali-OUTPUT 2').code, 0);
  c.sh('minikube', 'sleep 91');
  const now = c.sh('minikube', 'iptables -S cali-OUTPUT').stdout.split('\n').filter((l) => l.startsWith('-A '));
  assert.deepEqual(now, rules, 'a hash missing from the chain: the whole chain is written again');
  // Now only the replaced rule, keeping its hash: left as it is.
  assert.equal(c.sh('minikube', `iptables -R cali-OUTPUT 1 -m comment --comment ${comment} -j RETURN`).code, 0);
  c.sh('minikube', 'sleep 91');
  const kept = c.sh('minikube', 'iptables -S cali-OUTPUT').stdout.split('\n').filter((l) => l.startsWith('-A '));
  assert.equal(kept[0], `-A cali-OUTPUT -m comment --comment "${comment}" -j RETURN`);
  assert.deepEqual(kept.slice(1), rules.slice(1));
});

test('a Felix update writes only the chains it changes: counters elsewhere stand, hand edits wait for the refresh', () => {
  const { c, filter } = counted();
  const before = filter();
  assert.equal(c.sh('minikube', 'iptables -I cali-OUTPUT 1 -s 192.0.2.1 -j RETURN').code, 0);
  // A new pod behind the Service: new workload chains (Felix) and endpoints (kube-proxy).
  c.apply(`apiVersion: v1
kind: Pod
metadata: {name: extra, labels: {app: webapp}}
spec: {nodeName: minikube, containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
`);
  const after = filter();
  assert.match(after, /cali-tw-cali\w+/);
  const workloads = (save: string) => save.split('\n').filter((l) => / -g cali-fw-cali/.test(l)).length;
  assert.equal(workloads(after), workloads(before) + 1, 'the dispatch chains got the new pod');
  assert.deepEqual(chain(after, 'cali-FORWARD'), chain(before, 'cali-FORWARD'), 'an unchanged chain keeps its counts');
  assert.match(chain(after, 'cali-OUTPUT')[0], /192\.0\.2\.1/, 'a hand edit outside the update stays');
  c.sh('minikube', 'sleep 91');
  assert.doesNotMatch(chain(filter(), 'cali-OUTPUT')[0], /192\.0\.2\.1/, 'until the refresh');
  assert.deepEqual(c.lab.cluster!.agentErrors, []);
});
