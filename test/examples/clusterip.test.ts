// The clusterip example: its checks can fail. The scale step's listing is not there before the
// scale; a second port without a targetPort (it defaults to the port, 8080, where nginx does
// not listen) or one that replaces port 80 leaves the exercise unsolved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { service, stepIndex } from './helpers.ts';

const service8080 = (ports: string) => `apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  clusterIP: 10.101.186.196
  selector:
    app: webapp
  ports:
${ports}`;

for (const layout of ['legacy', 'current'] as const) {
  test(`clusterip (${layout}): the scale step fails until webapp has three replicas`, (t) => {
    const svc = service(t);
    svc.createExample('clusterip', 'lab', { proxy: layout });
    const i = stepIndex(svc, 'One more pod, new odds');
    const before = svc.checkStep('lab', i);
    assert.equal(before.pass, false);
    assert.match(before.detail, /--probability 0\.33333333349 -j KUBE-SEP-RFUPV75SXXL7W36Z" was not printed/);
    svc.runStep('lab', i);
    assert.ok(svc.checkStep('lab', i).pass);
  });
}

test('clusterip: the VIP step fails when an interface does hold the VIP', (t) => {
  const svc = service(t);
  svc.createExample('clusterip', 'lab');
  const i = stepIndex(svc, 'No interface has the VIP');
  assert.ok(svc.checkStep('lab', i).pass);
  // What kube-proxy's IPVS mode does (kube-ipvs0 holds every VIP): not this lab's iptables mode.
  svc.console('lab', 'minikube', ['ip link add kube-ipvs0 type dummy']);
  svc.console('lab', 'minikube', ['ip addr add 10.101.186.196/32 dev kube-ipvs0']);
  const after = svc.checkStep('lab', i);
  assert.equal(after.pass, false);
  assert.match(after.detail, /"10\.101\.186\.196" was printed/);
});

test('clusterip: a port 8080 without targetPort is refused by the pods (the exercise stays unsolved)', (t) => {
  const svc = service(t);
  svc.createExample('clusterip', 'lab');
  const r = svc.apply('lab', service8080('  - name: http\n    port: 80\n  - name: http-alt\n    port: 8080\n'));
  assert.equal(r.code, 0, r.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.match(res.checks[0].detail, /refused, expected delivered/);
  assert.ok(res.checks[1].pass, res.checks[1].detail);
});

test('clusterip: moving the port to 8080 breaks port 80 (the exercise stays unsolved)', (t) => {
  const svc = service(t);
  svc.createExample('clusterip', 'lab');
  const r = svc.apply('lab', service8080('  - port: 8080\n    targetPort: 80\n'));
  assert.equal(r.code, 0, r.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.ok(res.checks[0].pass, res.checks[0].detail);
  assert.equal(res.checks[1].pass, false);
});
