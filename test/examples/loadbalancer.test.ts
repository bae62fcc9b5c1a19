// The loadbalancer example: its checks can fail. Without a ready pod anywhere no node passes the
// health check (kube-proxy answers 503 on both) and the LB's steps fail; a pod on minikube-m02 that the Service does not select
// does not move the LB; Cluster instead of Local loses the client's address.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { service as labService, stepIndex } from './helpers.ts';
import type { ProxyLayout } from '../../shared/cluster.ts';

const service = (t: TestContext, layout: ProxyLayout) => labService(t, 'loadbalancer', layout);

for (const layout of ['legacy', 'current'] as ProxyLayout[]) {
  test(`loadbalancer (${layout}): with no ready pod anywhere, no node passes the health check and the LB steps fail`, (t) => {
    const svc = service(t, layout);
    const route = stepIndex(svc, 'The load balancer sends only to minikube');
    const trace = stepIndex(svc, 'From the client to the load balancer');
    const healthy = stepIndex(svc, 'The health check on minikube: 200');
    assert.ok(svc.checkStep('lab', healthy).pass);
    assert.ok(svc.checkStep('lab', route).pass);
    assert.ok(svc.checkStep('lab', trace).pass);
    const r = svc.console('lab', 'minikube', ['kubectl scale deployment nginx-deployment --replicas=0']);
    assert.equal(r?.code, 0, r?.stderr);
    const healthyAfter = svc.checkStep('lab', healthy);
    assert.equal(healthyAfter.pass, false);
    assert.match(healthyAfter.detail, /the line "HTTP\/1\.1 200 OK" was not printed/);
    assert.match(svc.exec('lab', 'cloud-lb', ['curl', '-si', 'http://192.168.49.2:32000/healthz'], '').stdout, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*"localEndpoints": 0/);
    const routeAfter = svc.checkStep('lab', route);
    assert.equal(routeAfter.pass, false);
    assert.match(routeAfter.detail, /"192\.168\.49\.200 via 192\.168\.49\.2 dev lb0 onlink" was not printed/);
    assert.match(svc.exec('lab', 'cloud-lb', ['ip', 'route'], '').stdout, /^blackhole 192\.168\.49\.200 $/m);
    const traceAfter = svc.checkStep('lab', trace);
    assert.equal(traceAfter.pass, false);
    assert.match(traceAfter.detail, /expected delivered/);
  });

  test(`loadbalancer (${layout}): wrong changes leave the exercise unsolved`, (t) => {
    // A pod on minikube-m02 the Service does not select: minikube-m02 still has no endpoint.
    const svc = service(t, layout);
    svc.apply('lab', `apiVersion: v1
kind: Pod
metadata: {name: nginx-m02, labels: {app: web}}
spec: {nodeName: minikube-m02, containers: [{name: nginx, image: nginx:1.14.2, ports: [{containerPort: 80}]}]}
`);
    const res = svc.checkExercises('lab', 0)[0];
    assert.equal(res.pass, false);
    assert.match(res.checks[0].detail, /the line "HTTP\/1\.1 200 OK" was not printed/);
    assert.match(res.checks[1].detail, /"192\.168\.49\.200 via 192\.168\.49\.3" was not printed/);

    // Cluster instead of Local: every node passes, but the client's address is lost.
    const svc2 = service(t, layout);
    svc2.apply('lab', `apiVersion: v1
kind: Service
metadata: {name: webapp}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  clusterIP: 10.111.243.62
  selector: {app: webserver}
  ports: [{port: 80, targetPort: 80, nodePort: 30080}]
`);
    const res2 = svc2.checkExercises('lab', 0)[0];
    assert.equal(res2.pass, false);
    assert.match(res2.checks[2].detail, /expected 192\.168\.49\.100 \(preserved\)/);
  });

  test(`loadbalancer (${layout}): the solution moves the LB to minikube-m02 and minikube-m02 delivers with the client's address`, (t) => {
    const svc = service(t, layout);
    svc.applySolution('lab', 0);
    const j = svc.trace('lab', { from: 'client', to: '192.168.49.200:80', proto: 'tcp' }).json;
    assert.equal(j.outcome, 'delivered', j.reason);
    assert.match(j.delivered!.host, /^default\/nginx-deployment-/);
    assert.ok(j.steps.some((s) => s.host === 'minikube-m02'), 'through minikube-m02');
    assert.ok(!j.steps.some((s) => s.host === 'minikube'), 'never through minikube');
    assert.equal(j.final.src, '192.168.49.100');
  });
}
