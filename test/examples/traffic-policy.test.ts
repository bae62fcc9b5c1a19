// The traffic-policy example: its checks can fail. The Local steps fail while the Service is
// still Cluster; Local alone (no pod on minikube-m02) leaves "no node drops" unsolved because
// minikube-m02 drops; a second pod without Local leaves "keep the client's address" unsolved
// because Cluster still masquerades.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { service, stepIndex as stepAt } from './helpers.ts';
import type { ProxyLayout } from '../../shared/cluster.ts';

const stepIndex = (svc: LabService, prefix: string) => stepAt(svc, prefix, true);

const LOCAL = `apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  externalTrafficPolicy: Local
  clusterIP: 10.111.243.62
  selector:
    app: webserver
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
`;

for (const layout of ['legacy', 'current'] as ProxyLayout[]) {
  test(`traffic-policy (${layout}): the Local steps fail while the Service is still Cluster`, (t) => {
    const svc = service(t);
    svc.createExample('traffic-policy', 'lab', { proxy: layout });
    const sw = stepIndex(svc, 'Switch to externalTrafficPolicy: Local');
    const drop = stepIndex(svc, 'Local: minikube-m02 drops the client');
    const keep = stepIndex(svc, 'Local: minikube delivers');
    const before = svc.checkStep('lab', sw);
    assert.equal(before.pass, false);
    assert.match(before.detail, /"Local" was not printed/);
    const dropBefore = svc.checkStep('lab', drop);
    assert.equal(dropBefore.pass, false);
    assert.match(dropBefore.detail, /delivered, expected dropped/);
    const keepBefore = svc.checkStep('lab', keep);
    assert.equal(keepBefore.pass, false);
    assert.match(keepBefore.detail, /reached KUBE-MARK-MASQ/);
    svc.runStep('lab', sw);
    assert.ok(svc.checkStep('lab', sw).pass);
    assert.ok(svc.checkStep('lab', drop).pass);
    assert.ok(svc.checkStep('lab', keep).pass);
    // ... and the Cluster step now fails: minikube-m02 no longer hops to minikube.
    assert.equal(svc.checkStep('lab', stepIndex(svc, 'Cluster: minikube-m02 SNATs')).pass, false);
  });

  test(`traffic-policy (${layout}): with Cluster the pod sees minikube-m02's tunnel address, with Local the client's`, (t) => {
    const svc = service(t);
    svc.createExample('traffic-policy', 'lab', { proxy: layout });
    const hop = svc.trace('lab', { from: 'client', to: 'minikube-m02:30080', proto: 'tcp' }).json;
    assert.equal(hop.outcome, 'delivered', hop.reason);
    assert.equal(hop.delivered?.ip, '10.244.120.111');
    const tunl0 = svc.exec('lab', 'minikube-m02', ['ip', '-4', '-br', 'addr', 'show', 'tunl0'], '').stdout;
    assert.ok(tunl0.includes(`${hop.final.src}/32`), `SNAT to tunl0's address: ${hop.final.src} vs ${tunl0}`);
    assert.equal(hop.reply?.final.src, '192.168.49.3');
    svc.apply('lab', LOCAL);
    const direct = svc.trace('lab', { from: 'client', to: 'minikube:30080', proto: 'tcp' }).json;
    assert.equal(direct.final.src, '192.168.49.100');
    assert.equal(direct.snat, null);
  });

  test(`traffic-policy (${layout}): wrong changes leave the exercises unsolved`, (t) => {
    const svc = service(t);
    svc.createExample('traffic-policy', 'lab', { proxy: layout });
    // A second pod on minikube-m02, policy still Cluster: both nodes deliver, both masquerade.
    svc.apply('lab', `apiVersion: v1
kind: Pod
metadata: {name: nginx-m02, labels: {app: webserver}}
spec: {nodeName: minikube-m02, containers: [{name: nginx, image: nginx:1.14.2, ports: [{containerPort: 80}]}]}
`);
    for (const r of svc.checkExercises('lab')) assert.equal(r.pass, false, `${r.title} solved by a second pod alone`);
    assert.match(svc.checkExercises('lab', 0)[0].checks[1].detail, /the receiver saw source .* expected 192\.168\.49\.100 \(preserved\)/);

    // Local only, on a fresh lab: exercise 1 is solved, exercise 2 is not (minikube-m02 drops).
    const svc2 = service(t);
    svc2.createExample('traffic-policy', 'lab', { proxy: layout });
    svc2.apply('lab', LOCAL);
    const [one, two] = svc2.checkExercises('lab');
    assert.ok(one.pass, one.checks.map((c) => c.detail).join('; '));
    assert.equal(two.pass, false);
    assert.ok(two.checks[0].pass);
    assert.match(two.checks[1].detail, /dropped, expected delivered/);
  });
}
