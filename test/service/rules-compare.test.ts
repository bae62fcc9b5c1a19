// LabApi.compareRules: two nodes of a cluster lab compared through their iptables-save. Calico's
// per-workload chains exist only on the node running the pod (CoreDNS on minikube), and the
// dispatch chains differ by that pod's interface; kube-proxy's rules are the same on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl, createDispatcher } from '../../main/service/lab-api.ts';

test('compareRules: the CoreDNS pod’s Calico chains only on minikube, kube-proxy alike, bad hosts refused', async () => {
  const service = new LabService({ db: ':memory:' });
  try {
    const api = new LabApiImpl(service);
    api.createLab('c', { cluster: true, nodes: 2 });
    const c = api.compareRules('c', 'minikube', 'minikube-m02');
    assert.deepEqual([c.a, c.b], ['minikube', 'minikube-m02']);
    const filter = c.tables.find((t) => t.name === 'filter');
    assert.ok(filter);
    const fw = filter.chains.find((x) => x.name.startsWith('cali-fw-cali'));
    assert.ok(fw && fw.inA && !fw.inB, 'a workload chain only on minikube');
    assert.match(fw.onlyA[0], /--ctstate RELATED,ESTABLISHED -j ACCEPT/);
    const dispatch = filter.chains.find((x) => x.name === 'cali-from-wl-dispatch');
    assert.ok(dispatch);
    assert.ok(dispatch.onlyA.some((r) => r.includes(`-g ${fw.name}`)));
    assert.ok(dispatch.onlyB.some((r) => r.includes('"Unknown interface" -j DROP')));
    const nat = c.tables.find((t) => t.name === 'nat');
    assert.ok(nat && !nat.chains.some((x) => x.name.startsWith('KUBE-')), 'kube-proxy writes the same nat rules on both');
    assert.ok(c.same > 50 && c.onlyA > c.onlyB);
    // Through the dispatcher: arguments checked, unknown hosts in the shell's words.
    const d = createDispatcher(api);
    const bad = await d.call('compareRules', ['c', 'minikube', '../etc']);
    assert.ok('error' in bad && /namespace\/pod name/.test(bad.error.message), JSON.stringify(bad));
    const none = await d.call('compareRules', ['c', 'minikube', 'nosuch']);
    assert.ok('error' in none && /nosuch/.test(none.error.message), JSON.stringify(none));
    const ok = await d.call('compareRules', ['c', 'minikube-m02', 'minikube']);
    assert.ok('result' in ok && (ok.result as { onlyB: number }).onlyB === c.onlyA, JSON.stringify(ok).slice(0, 200));
  } finally {
    service.close();
  }
});

test('compareRules with a revision: a host against itself earlier in the lab’s history', async () => {
  const service = new LabService({ db: ':memory:' });
  try {
    const api = new LabApiImpl(service);
    api.createLab('h');
    api.addHost('h', 'r1');
    assert.equal(api.exec('h', 'r1', ['iptables', '-A', 'INPUT', '-s', '10.0.0.1', '-j', 'ACCEPT']).code, 0);
    const before = api.history('h').find((x) => x.current)!.seq;
    assert.equal(api.exec('h', 'r1', ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'DROP']).code, 0);
    assert.equal(api.exec('h', 'r1', ['iptables', '-P', 'FORWARD', 'DROP']).code, 0);
    const c = api.compareRules('h', 'r1', 'r1', { rev: before });
    assert.equal(c.b, `r1 at revision ${before}`);
    const filter = c.tables.find((t) => t.name === 'filter');
    assert.ok(filter, JSON.stringify(c.tables.map((t) => t.name)));
    assert.deepEqual(filter.chains.map((x) => [x.name, x.onlyA, x.onlyB, x.policyA, x.policyB]), [
      ['INPUT', ['-p tcp -m tcp --dport 22 -j DROP'], [], 'ACCEPT', 'ACCEPT'],
      ['FORWARD', [], [], 'DROP', 'ACCEPT'],
    ]);
    assert.equal(filter.sameChains, 1); // OUTPUT
    assert.deepEqual([c.onlyA, c.onlyB, c.same], [1, 0, 1]);
    const d = createDispatcher(api);
    const bad = await d.call('compareRules', ['h', 'r1', 'r1', { rev: -1 }]);
    assert.ok('error' in bad, JSON.stringify(bad));
    const none = await d.call('compareRules', ['h', 'r1', 'r1', { rev: 99999 }]);
    assert.ok('error' in none && /revision/.test(none.error.message), JSON.stringify(none));
  } finally {
    service.close();
  }
});
