// Every generated rule names what produced it: the origins run parallel to the `-A` lines of
// each chain, in order, for both layouts and every golden scene; spot checks name the service
// port, endpoint or node setting behind particular rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainRules, gen, parseDump } from './helpers.ts';
import { CURRENT, LEGACY } from './scenes.ts';
import type { GenerateResult, Origin } from '../../../../main/engine/kube/proxy/index.ts';

function originAt(r: GenerateResult, table: 'filter' | 'nat', chain: string, i: number): Origin {
  const list = r.origins[table].get(chain);
  assert.ok(list, `${table} ${chain} has origins`);
  assert.ok(list[i], `${table} ${chain} rule ${i + 1} has an origin`);
  return list[i];
}

test('one origin per -A line of every chain, in every golden scene', () => {
  for (const [name, make] of [...Object.entries(LEGACY), ...Object.entries(CURRENT)]) {
    const r = gen(make());
    let total = 0;
    for (const t of parseDump(r.text)) {
      const table = t.name as 'filter' | 'nat';
      for (const c of t.chains) {
        assert.equal(r.origins[table].get(c.name)?.length ?? 0, c.rules.length, `${name}: ${table} ${c.name}`);
        total += c.rules.length;
      }
    }
    assert.equal(total, r.stats.filterRules + r.stats.natRules, name);
    for (const s of r.staticRules) assert.equal(s.origin.kind, 'node');
  }
});

test('legacy article scene: the objects behind the rules', () => {
  const r = gen(LEGACY.articleNodePort());
  assert.deepEqual(originAt(r, 'nat', 'KUBE-SERVICES', 0), {
    kind: 'service',
    service: { namespace: 'default', name: 'webapp', portName: '', servicePortName: 'default/webapp', protocol: 'tcp' },
    role: 'clusterIPMasquerade',
    address: '10.103.46.104',
  });
  const sep = originAt(r, 'nat', 'KUBE-SEP-AO6KYGU752IZFEZ4', 0);
  assert.equal(sep.kind, 'endpoint');
  if (sep.kind === 'endpoint') {
    assert.equal(sep.role, 'hairpinMasquerade');
    const { ip, port, nodeName, local } = sep.endpoint;
    assert.deepEqual({ ip, port, nodeName, local }, { ip: '10.244.120.102', port: 80, nodeName: 'minikube', local: true });
  }
  const dnat = originAt(r, 'nat', 'KUBE-SEP-PJFBSHHDX4VZAOXM', 1);
  assert.ok(dnat.kind === 'endpoint' && dnat.role === 'dnat' && dnat.endpoint.ip === '10.244.120.103');
  const lb = originAt(r, 'nat', 'KUBE-SVC-2IRACUALRELARSND', 0);
  assert.ok(lb.kind === 'endpoint' && lb.role === 'loadBalance' && lb.endpoint.ip === '10.244.120.102');
  const np = originAt(r, 'nat', 'KUBE-NODEPORTS', 1);
  assert.ok(np.kind === 'service' && np.role === 'nodePort' && np.address === '31380');
  const npMasq = originAt(r, 'nat', 'KUBE-NODEPORTS', 0);
  assert.ok(npMasq.kind === 'service' && npMasq.role === 'nodePortMasquerade');
  assert.deepEqual(originAt(r, 'nat', 'KUBE-POSTROUTING', 0), { kind: 'node', role: 'postrouting', setting: 'iptables.masqueradeBit' });
  assert.deepEqual(originAt(r, 'nat', 'KUBE-SERVICES', 2), { kind: 'node', role: 'nodePortsDispatch', setting: 'nodePortAddresses' });
  assert.deepEqual(originAt(r, 'filter', 'KUBE-FORWARD', 1), { kind: 'node', role: 'forward', setting: 'iptables.masqueradeBit' });

  const m02 = gen(LEGACY.articleLocalWithoutPod());
  const last = originAt(m02, 'nat', 'KUBE-XLB-2IRACUALRELARSND', 3);
  assert.ok(last.kind === 'service' && last.role === 'noLocalEndpoints');
  assert.equal(chainRules(m02.text, 'nat', 'KUBE-XLB-2IRACUALRELARSND')[3].endsWith('-j KUBE-MARK-DROP'), true);
});

test('current layout: health-check port, local policy chain, firewall and no-endpoint rules', () => {
  const r = gen(CURRENT.overall());
  const hc = originAt(r, 'filter', 'KUBE-NODEPORTS', 0);
  assert.ok(hc.kind === 'service' && hc.role === 'healthCheckNodePort' && hc.address === '30000' && hc.service.servicePortName === 'ns2/svc2:p80');
  const reject = originAt(r, 'filter', 'KUBE-SERVICES', 0);
  assert.ok(reject.kind === 'service' && reject.role === 'noEndpoints' && reject.service.name === 'svc6');
  const drop = originAt(r, 'filter', 'KUBE-EXTERNAL-SERVICES', 0);
  assert.ok(drop.kind === 'service' && drop.role === 'noLocalEndpoints' && drop.address === '192.168.99.22');
  const fwDrop = originAt(r, 'filter', 'KUBE-PROXY-FIREWALL', 0);
  assert.ok(fwDrop.kind === 'service' && fwDrop.role === 'loadBalancerFirewallDrop' && fwDrop.address === '5.6.7.8');
  const affinity = originAt(r, 'nat', 'KUBE-SVC-NUKIZ6OKUXPJNT4C', 1);
  assert.ok(affinity.kind === 'endpoint' && affinity.role === 'affinity' && affinity.endpoint.ip === '10.180.0.3');
  const firewall = originAt(r, 'filter', 'KUBE-FIREWALL', 0);
  assert.deepEqual(firewall, { kind: 'node', role: 'localnetFirewall', setting: 'iptables.localhostNodePorts' });

  const local = gen(CURRENT.externalTrafficPolicyLocal());
  const svl = originAt(local, 'nat', 'KUBE-SVL-XPGD46QRK7WJZT7O', 0);
  assert.ok(svl.kind === 'endpoint' && svl.endpoint.local && svl.endpoint.nodeName === 'test-node');
  const pod = originAt(local, 'nat', 'KUBE-EXT-XPGD46QRK7WJZT7O', 0);
  assert.ok(pod.kind === 'service' && pod.role === 'podShortCircuit');
});

test('current layout, the article\'s eTP=Local scene on both nodes', () => {
  const withPod = gen(CURRENT.articleLocalCurrentMinikube());
  const without = gen(CURRENT.articleLocalCurrentM02());
  const h = '2IRACUALRELARSND';
  assert.equal(chainRules(withPod.text, 'nat', `KUBE-EXT-${h}`).at(-1), `-A KUBE-EXT-${h} -j KUBE-SVL-${h}`);
  assert.deepEqual(chainRules(withPod.text, 'nat', `KUBE-SVL-${h}`), [`-A KUBE-SVL-${h} -m comment --comment "default/webapp -> 10.244.120.111:80" -j KUBE-SEP-5T4S2ILYSXWY3R2J`]);
  assert.deepEqual(chainRules(withPod.text, 'filter', 'KUBE-EXTERNAL-SERVICES'), []);
  // Without a local pod: no KUBE-SVL, KUBE-EXT only short-circuits pods and the host, and the
  // filter table drops what falls through.
  assert.ok(!without.text.includes(`KUBE-SVL-${h}`));
  assert.equal(chainRules(without.text, 'nat', `KUBE-EXT-${h}`).length, 3);
  assert.deepEqual(chainRules(without.text, 'filter', 'KUBE-EXTERNAL-SERVICES'), [
    '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/webapp has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP',
  ]);
  const o = originAt(without, 'filter', 'KUBE-EXTERNAL-SERVICES', 0);
  assert.ok(o.kind === 'service' && o.role === 'noLocalEndpoints' && o.address === '30080');
});
