// Whole generated nodes on the real kernel: a two-node cluster lab (kube-proxy's and Felix's
// rules and ipsets as the lab's agents wrote them, Calico-style veths and routes) flattened
// into plain hosts and built in network namespaces; every probe must end the same on both
// sides, and the cluster lab itself must agree with its flat twin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareScenario, engineOutcome, type Probe } from './compare.ts';
import { flattenCluster, plainName } from './harness/flatten.ts';
import { clusterLab, WEBAPP_NODEPORT } from '../engine/cluster/lab-cluster.ts';

for (const proxy of ['legacy', 'current'] as const) test(`a generated two-node cluster (kube-proxy ${proxy} + Felix, NetworkPolicy) on the kernel`, async () => {
  const { lab, apply, sh } = clusterLab({ nodes: 2, tunnel: 'none', proxy }, 5);
  apply(WEBAPP_NODEPORT);
  // One endpoint: the kernel's statistic match draws its own random numbers.
  sh('minikube', 'kubectl scale deployment webapp --replicas=1');
  apply(`apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client, access: "true"}}
spec: {nodeName: minikube-m02, containers: [{name: c, image: busybox, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec: {nodeName: minikube-m02, containers: [{name: c, image: postgres, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, labels: {app: other}}
spec: {nodeName: minikube, containers: [{name: c, image: busybox, ports: [{containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-access}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {access: "true"}}}]}]
`);
  lab.addHost('client', []);
  lab.addLink('client', 'minikube', '192.168.49.100/24');
  const ip = (pod: string) => sh('minikube', `kubectl get pod ${pod} -o jsonpath={.status.podIP}`).stdout;
  const webapp = sh('minikube', 'kubectl get pods -l app=webapp -o name').stdout.trim().split('\n')[0].replace('pod/', '');
  const flat = flattenCluster(lab);
  // MASQUERADE --random-fully makes the kernel pick source ports at random, which no engine can
  // match; without it both keep the client's port when free. Everything else is as generated.
  for (const e of flat.journal) if (e.stdin) e.stdin = e.stdin.replaceAll(' --random-fully', '');
  const probes: Probe[] = [
    { from: 'client', to: '192.168.49.2', port: 31380, proto: 'tcp', sport: 41001, expect: 'delivered' },
    { from: 'client', to: '192.168.49.3', port: 31380, proto: 'tcp', sport: 41002, expect: 'delivered' },
    { from: plainName('default/client'), to: '10.103.46.104', port: 80, proto: 'tcp', sport: 41003, expect: 'delivered' },
    { from: plainName('default/client'), to: ip('db'), port: 5432, proto: 'tcp', sport: 41004, expect: 'delivered' },
    { from: plainName('default/other'), to: ip('db'), port: 5432, proto: 'tcp', sport: 41005, expect: 'timeout' },
    { from: plainName(`default/${webapp}`), to: ip('db'), port: 5432, proto: 'tcp', sport: 41006, expect: 'timeout' },
    { from: plainName('default/other'), to: ip('client'), port: 8080, proto: 'tcp', sport: 41007, expect: 'delivered' },
    { from: plainName('default/other'), to: ip('client'), port: 9999, proto: 'tcp', sport: 41008, expect: 'refused' },
    { from: plainName('default/client'), to: '192.168.49.2', port: 10250, proto: 'tcp', sport: 41009, expect: 'delivered' },
    // a NodePort on the node's own 127.0.0.1: route_localnet (set by kube-proxy) lets it out
    { from: 'minikube', to: '127.0.0.1', port: 31380, proto: 'tcp', sport: 41010, expect: 'delivered' },
  ];
  // The cluster lab itself agrees with its flat twin (which the kernel then checks).
  for (const p of probes) {
    const from = p.from.startsWith('default-') ? `pod/default/${p.from.slice(8)}` : p.from;
    const j = lab.trace({ from, to: `${p.to}:${p.port}`, proto: p.proto as 'tcp', sport: p.sport }).json;
    assert.equal(engineOutcome(j).outcome, p.expect, `cluster lab: ${from} -> ${p.to}:${p.port}: ${j.reason}`);
  }
  const nodes = ['minikube', 'minikube-m02'];
  await compareScenario('cluster', flat, probes, { conntrack: nodes, counters: nodes });
});
