// One node's full sync for 10,000 services with 50,000 endpoints, both layouts: what comes out
// at that scale. (How long it takes is measured by `npm run bench`, not by a timed test.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKubeProxyRules, type Layout, type ServicePort } from '../../../../main/engine/kube/proxy/index.ts';

function bigCluster(): ServicePort[] {
  const out: ServicePort[] = [];
  for (let i = 0; i < 10_000; i++) {
    const endpoints = [];
    for (let e = 0; e < 5; e++) {
      const n = i * 5 + e;
      endpoints.push({ ip: `10.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, port: 8080, nodeName: `node-${n % 50}` });
    }
    const nodePortService = i % 10 === 0;
    out.push({
      namespace: `ns${i % 100}`,
      name: `svc${i}`,
      portName: 'http',
      protocol: 'TCP',
      port: 80,
      type: nodePortService ? 'NodePort' : 'ClusterIP',
      nodePort: nodePortService ? 30000 + i / 10 : undefined,
      externalTrafficPolicy: i % 20 === 0 ? 'Local' : 'Cluster',
      clusterIPs: [`10.96.${i >> 8}.${i & 255}`],
      endpoints,
    });
  }
  return out;
}

const services = bigCluster();

for (const layout of ['legacy', 'current'] as Layout[]) {
  test(`${layout}: 10,000 services / 50,000 endpoints in one sync`, (t) => {
    const r = generateKubeProxyRules({ layout, services, node: { name: 'node-7', ips: ['192.168.0.7'] }, config: { clusterCIDR: '10.64.0.0/10' } });
    const natRules = r.stats.natRules;
    const text = r.text;
    assert.equal(r.stats.endpoints, 50_000);
    assert.equal(r.stats.largeClusterMode, true);
    t.diagnostic(`${layout}: ${natRules} nat rules, ${(text.length / 1e6).toFixed(1)} MB`);
    // Every service has its chain and every endpoint its KUBE-SEP chain with two rules.
    assert.equal(text.split('\n:KUBE-SEP-').length - 1, 50_000);
    assert.ok(natRules > 150_000);
    // Large-cluster mode: no comments on the endpoint rules.
    assert.ok(!/-A KUBE-SEP-\S+ -m comment/.test(text));
  });
}
