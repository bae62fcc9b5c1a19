// The headless example: its checks can fail. Before the hand-written Endpoints exist the
// selector-less Services have no backends and no A records; Endpoints with the wrong port, or
// pointing at the old server, leave the exercise unsolved.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { service as labService, stepIndex } from './helpers.ts';
import type { ProxyLayout } from '../../shared/cluster.ts';

const service = (t: TestContext, layout: ProxyLayout) => labService(t, 'headless', layout);

const endpoints = (ip: string, port: number) => `apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets: [{addresses: [{ip: ${ip}}], ports: [{port: ${port}}]}]
`;

for (const layout of ['legacy', 'current'] as ProxyLayout[]) {
  test(`headless (${layout}): the selector-less steps fail until the Endpoints are written`, (t) => {
    const svc = service(t, layout);
    const write = stepIndex(svc, 'No selector: write the Endpoints yourself');
    const later = ['kube-proxy uses them', 'From a pod to db', 'Headless without a selector: A records from the Endpoints'].map((s) => stepIndex(svc, s));
    const before = svc.checkStep('lab', write);
    assert.equal(before.pass, false);
    assert.match(before.detail, /"192\.168\.49\.100:8080" was not printed/);
    for (const i of later) assert.equal(svc.checkStep('lab', i).pass, false, `step ${i + 1} passes before the Endpoints exist`);
    // No Endpoints: kube-proxy REJECTs the ClusterIP ("has no endpoints").
    assert.match(svc.exec('lab', 'minikube', ['kubectl', 'get', 'ep', 'db'], '').stderr, /endpoints "db" not found/);
    const j = svc.trace('lab', { from: 'pod/default/dnsutils', to: 'db:80', proto: 'tcp' }).json;
    assert.equal(j.outcome, 'rejected');
    assert.match(svc.exec('lab', 'minikube', ['iptables', '-L', 'KUBE-SERVICES'], '').stdout, /REJECT .*\/\* default\/db has no endpoints \*\//);
    svc.runStep('lab', write);
    assert.ok(svc.checkStep('lab', write).pass);
    for (const i of later) {
      const r = svc.checkStep('lab', i);
      assert.ok(r.pass, `step ${i + 1}: ${r.detail}`);
    }
  });

  test(`headless (${layout}): a headless Service has no address to trace to`, (t) => {
    const svc = service(t, layout);
    assert.throws(() => svc.trace('lab', { from: 'pod/default/dnsutils', to: 'webapp-hs:80', proto: 'tcp' }), /headless \(clusterIP None\)/);
    assert.throws(() => svc.trace('lab', { from: 'pod/default/dnsutils', to: 'search:80', proto: 'tcp' }), /ExternalName/);
  });

  test(`headless (${layout}): wrong Endpoints leave the exercise unsolved`, (t) => {
    // The right address, the Service's port instead of the server's: connection refused.
    const svc = service(t, layout);
    svc.apply('lab', endpoints('192.168.49.101', 80));
    const res = svc.checkExercises('lab', 0)[0];
    assert.equal(res.pass, false);
    assert.match(res.checks[0].detail, /refused, expected allowed/);
    // The old server: reachable, but not the new one.
    const svc2 = service(t, layout);
    svc2.apply('lab', endpoints('192.168.49.100', 8080));
    const res2 = svc2.checkExercises('lab', 0)[0];
    assert.equal(res2.pass, false);
    assert.ok(res2.checks[0].pass);
    assert.match(res2.checks[1].detail, /not delivered to db-new/);
  });
}
