// Nodes that sync the same ServicePort objects share what the first one wrote for a port whose
// rules do not depend on the node: each still gets its own full sync's rules, and origins that
// name its own endpoints (local to it or not).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeProxySyncer, chainOrigins, generateKubeProxyRules, type GenerateInput, type Origin, type ServicePort, type SharedText } from '../../../../main/engine/kube/proxy/index.ts';

const endpoints = [
  { ip: '10.244.1.5', port: 8080, nodeName: 'node-a' },
  { ip: '10.244.2.5', port: 8080, nodeName: 'node-b' },
];
const services: ServicePort[] = [
  { namespace: 'default', name: 'web', type: 'ClusterIP', clusterIPs: ['10.96.0.10'], port: 80, protocol: 'TCP', endpoints },
  { namespace: 'default', name: 'local', type: 'NodePort', nodePort: 30080, externalTrafficPolicy: 'Local', clusterIPs: ['10.96.0.11'], port: 80, protocol: 'TCP', endpoints },
];
/** Each table's chains and their rules, as a restore of `text` on a fresh node leaves them. */
function chains(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) out.set(`${table}/${line.slice(1, line.indexOf(' '))}`, []);
    else if (line.startsWith('-A ')) out.get(`${table}/${line.split(' ')[1]}`)!.push(line);
  }
  return out;
}

const input = (node: string, ports = services): GenerateInput => ({ layout: 'legacy', services: ports, node: { name: node, ips: [node === 'node-a' ? '192.168.49.2' : '192.168.49.3'] }, config: { clusterCIDR: '10.244.0.0/16' } });

test("each node's sync of shared ServicePorts: its own full sync's rules and origins", () => {
  const endpointOrigins = new Map<string, Origin[]>();
  for (const node of ['node-a', 'node-b']) {
    const res = new KubeProxySyncer().sync(input(node), false, () => []);
    const want = generateKubeProxyRules({ ...input(node), existingNatChains: [] });
    assert.deepEqual(chains(res.text!), chains(want.text), node);
    const mine: Origin[] = [];
    for (const w of res.rewritten) {
      const origins = chainOrigins(w.parts);
      assert.deepEqual(origins, want.origins[w.table].get(w.chain), `${node} ${w.chain}`);
      for (const o of origins) if (o.kind === 'endpoint') mine.push(o);
    }
    for (const o of mine) assert.equal(o.kind === 'endpoint' && o.endpoint.local, o.kind === 'endpoint' && o.endpoint.nodeName === node);
    endpointOrigins.set(node, mine);
  }
  // (node-b's endpoints are its own objects, not node-a's)
  const a = new Set(endpointOrigins.get('node-a')!.map((o) => (o.kind === 'endpoint' ? o.endpoint : null)));
  assert.ok(endpointOrigins.get('node-b')!.every((o) => o.kind === 'endpoint' && !a.has(o.endpoint)));
});

test('nodes sharing their texts: each full sync writes its own rules, the same text when the rules are the same', () => {
  for (const ports of [services.slice(0, 1), services]) {
    const texts: SharedText = { last: null };
    const [a, b] = ['node-a', 'node-b'].map((node) => {
      const res = new KubeProxySyncer(texts).sync(input(node, ports), false, () => []);
      assert.deepEqual(chains(res.text!), chains(generateKubeProxyRules({ ...input(node, ports), existingNatChains: [] }).text), node);
      return res.text!;
    });
    // (the eTP=Local port's rules depend on the node)
    assert.equal(a === b, ports.length === 1);
  }
});
