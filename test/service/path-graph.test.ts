// LabApi.pathGraph: the chain graph of one packet's paths on a cluster node, through the API
// implementation and the dispatcher (arguments checked, unknown hosts and chains refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl, createDispatcher } from '../../main/service/lab-api.ts';
import type { PathGraph } from '../../shared/api/contract.ts';

test('pathGraph: kube-dns’s ClusterIP from a node reaches its Service’s chains; bad queries refused', async () => {
  const service = new LabService({ db: ':memory:' });
  try {
    const api = new LabApiImpl(service);
    api.createLab('c', { cluster: true, nodes: 2 });
    const g = api.pathGraph('c', 'minikube', { proto: 'udp', dst: '10.96.0.10', dport: 53 });
    const svc = g.edges.filter((e) => e.from === 'nat/KUBE-SERVICES' && e.to.startsWith('nat/KUBE-SVC-'));
    assert.equal(svc.length, 1, JSON.stringify(svc));
    assert.match(svc[0].cond, /-d 10\.96\.0\.10\/32 -p udp --dport 53/);
    assert.match(svc[0].comment ?? '', /kube-system\/kube-dns:dns cluster IP/);
    assert.ok(g.edges.some((e) => e.to === 'verdict/DNAT' && /--to-destination 10\.244\.\d+\.\d+:53/.test(e.target ?? '')));
    assert.match(g.packet, /^udp any → 10\.96\.0\.10:53$/);
    // Empty fields are left open, as if not given.
    const same = api.pathGraph('c', 'minikube', { proto: 'udp', dst: '10.96.0.10', dport: 53, src: '', in: '' } as never);
    assert.equal(same.edges.length, g.edges.length);
    // A start chain.
    const chain = api.pathGraph('c', 'minikube', { table: 'nat', chain: 'KUBE-SERVICES', proto: 'tcp', dst: '10.96.0.1', dport: 443 });
    assert.deepEqual(chain.hooks, []);
    assert.ok(chain.nodes.some((n) => n.id === 'nat/KUBE-SERVICES' && n.depth === 0));
    // Through the dispatcher.
    const d = createDispatcher(api);
    const ok = await d.call('pathGraph', ['c', 'minikube-m02', { hook: 'INPUT' }]);
    assert.ok('result' in ok && (ok.result as PathGraph).hooks[0] === 'INPUT', JSON.stringify(ok).slice(0, 200));
    const badAddr = await d.call('pathGraph', ['c', 'minikube', { dst: '10.96.0.300' }]);
    assert.ok('error' in badAddr && /address A\.B\.C\.D/.test(badAddr.error.message), JSON.stringify(badAddr));
    const badHook = await d.call('pathGraph', ['c', 'minikube', { hook: 'NOWHERE' }]);
    assert.ok('error' in badHook && badHook.error.code === 'invalid', JSON.stringify(badHook));
    const noHost = await d.call('pathGraph', ['c', 'nosuch', {}]);
    assert.ok('error' in noHost && /nosuch/.test(noHost.error.message), JSON.stringify(noHost));
    const noChain = await d.call('pathGraph', ['c', 'minikube', { table: 'nat', chain: 'NOPE' }]);
    assert.ok('error' in noChain && /no chain NOPE in table nat/.test(noChain.error.message), JSON.stringify(noChain));
  } finally {
    service.close();
  }
});
