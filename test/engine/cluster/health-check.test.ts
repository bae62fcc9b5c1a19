// kube-proxy's health check server on a LoadBalancer Service's healthCheckNodePort
// (externalTrafficPolicy Local): curl to NODE:PORT gets 200 with localEndpoints 1 on the node
// with the pod and 503 with 0 on the other, in each release's format (v1.28 added the
// X-Load-Balancing-Endpoint-Weight header and "serviceProxyHealthy"). Other ports of the node
// and the pods' web servers are not affected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyLayout } from '../../../shared/cluster.ts';
import { clusterLab, WEBAPP_LOCAL } from './lab-cluster.ts';

function lbLab(proxy: ProxyLayout) {
  const c = clusterLab({ nodes: 2, proxy });
  c.apply(WEBAPP_LOCAL.replace('type: NodePort', 'type: LoadBalancer').replace('  externalTrafficPolicy: Local\n', '  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000\n'));
  c.lab.addHost('client', []);
  c.lab.addLink('client', 'minikube', '192.168.49.100/24');
  return c;
}

test('v1.19: the node with the pod answers 200, the other 503, as kube-proxy v1.19 wrote it', () => {
  const { sh } = lbLab('legacy');
  const body = (n: number) => `{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "webapp"\n\t},\n\t"localEndpoints": ${n}\n}`;
  const head = (status: string) =>
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nDate: Thu, 05 Nov 2020 05:26:27 GMT\r\nContent-Length: 87\r\n\r\n`;
  assert.equal(sh('client', 'curl -si http://192.168.49.2:32000/healthz').stdout, head('200 OK') + body(1));
  assert.equal(sh('client', 'curl -si http://192.168.49.3:32000/').stdout, head('503 Service Unavailable') + body(0));
  assert.equal(sh('client', 'curl -sf http://192.168.49.3:32000/').code, 22);
});

test('v1.34: the weight header and serviceProxyHealthy (Content-Length 117 for default/webapp)', () => {
  const { sh } = lbLab('current');
  const r = sh('client', 'curl -si http://192.168.49.3:32000/healthz').stdout;
  assert.equal(
    r,
    'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nX-Load-Balancing-Endpoint-Weight: 0\r\n' +
      'Date: Thu, 05 Nov 2020 05:26:27 GMT\r\nContent-Length: 117\r\n\r\n' +
      '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "webapp"\n\t},\n\t"localEndpoints": 0,\n\t"serviceProxyHealthy": true\n}',
  );
  assert.equal(sh('client', 'curl -s -w " %{http_code}" http://192.168.49.2:32000/').stdout.endsWith('"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n} 200'), true);
});

test('the health check follows the pod; the pod itself still answers as nginx', () => {
  const { sh, apply } = lbLab('legacy');
  assert.equal(sh('client', 'curl -s http://192.168.49.200/').stdout, 'nginx-deployment-7759cc5c66-p45tz\n');
  sh('@cluster', 'kubectl delete pod nginx-deployment-7759cc5c66-p45tz');
  apply(WEBAPP_LOCAL.split('---')[0].replace('nodeName: minikube', 'nodeName: minikube-m02'));
  assert.match(sh('client', 'curl -si http://192.168.49.2:32000/').stdout, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(sh('client', 'curl -si http://192.168.49.3:32000/').stdout, /^HTTP\/1\.1 200 OK\r\n[^]*"localEndpoints": 1\n}$/);
});
