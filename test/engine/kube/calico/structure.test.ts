// The shape of what the generator writes: origins line up with the rules of every chain, a
// resync with chainsText leaves a node exactly as a fresh restore did, the dispatch chains
// become a tree past one endpoint per next character, hostNetwork pods get nothing, and the
// pool, host and named-port sets hold what Felix would put in them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFelix } from '../../../../main/engine/kube/calico/felix.ts';
import { iptablesRestore } from '../../../../main/engine/shell/iptables.ts';
import { vethName } from '../../../../main/engine/kube/calico/names.ts';
import { articleCluster, modelCluster, netpol } from './scenes.ts';
import { grep, loadNode, save } from './helpers.ts';

test('origins: one per rule, per table and chain, in order', () => {
  const c = modelCluster(['node1'], [netpol('x', 'p', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }], ports: [{ port: 80 }, { port: 'serve-81-tcp' }] }], egress: [{}] })]);
  const r = renderFelix(c, 'node1');
  for (const table of ['raw', 'mangle', 'nat', 'filter'] as const) {
    const perChain = new Map<string, number>();
    for (const x of r.rules) if (x.table === table) perChain.set(x.chain, (perChain.get(x.chain) ?? 0) + 1);
    for (const [chain, n] of perChain) assert.equal(r.origins[table].get(chain)?.length, n, `${table} ${chain}`);
  }
  const blocks = r.rules.filter((x) => x.origin.kind === 'policy' && x.origin.role === 'block');
  // port block (init, 80, named port) then the negated CIDR block (two excepts); the chain's
  // comment goes on its first rule, whatever that is (Felix: rules[0].Comment)
  assert.deepEqual(blocks.map((b) => b.spec.replace(/cali40n:\S+/, 'cali40n:…')), [
    '-m comment --comment "Policy x/knp.default.p ingress" --jump MARK --set-mark 0x0/0xc0000',
    '-p tcp -m multiport --destination-ports 80 --jump MARK --set-mark 0x40000/0x40000',
    '-m set --match-set cali40n:… dst,dst --jump MARK --set-mark 0x40000/0x40000',
    '--source 10.1.0.0/16 --jump MARK --set-mark 0/0x40000',
    '--source 10.2.0.0/16 --jump MARK --set-mark 0/0x40000',
  ]);
  const allow = r.rules.find((x) => x.origin.kind === 'policy' && x.origin.role === 'allow' && x.origin.direction === 'ingress');
  assert.equal(allow?.spec, '-p tcp --source 10.0.0.0/8 -m mark --mark 0x40000/0x40000 --jump MARK --set-mark 0x10000/0x10000');
  const named = r.ipsets.find((s) => s.type === 'hash:ip,port');
  assert.equal(named?.members.length, 9);
  assert.ok(named?.members.every((m) => /^10\.244\.\d\.\d+,tcp:81$/.test(m.entry)));
});

test('a resync with chainsText leaves the node as the first restore did', () => {
  const r = renderFelix(articleCluster(), 'minikube');
  const h = loadNode(r);
  const first = save(h);
  const again = iptablesRestore(['iptables-restore', '--noflush'], r.chainsText, h.nf);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(save(h), first);
});

test('dispatch: direct gotos, a child chain per shared next character, Unknown interface last', () => {
  const c = modelCluster(['node1']);
  const r = renderFelix(c, 'node1');
  const ifaces = r.endpoints.map((e) => e.iface).sort();
  const bins = new Map<string, string[]>();
  for (const i of ifaces) bins.set(i[4], [...(bins.get(i[4]) ?? []), i]);
  const root = grep(r.restore, '-A cali-from-wl-dispatch ').map((l) => l.replace(/-m comment --comment "cali:[\w-]{16}" /, ''));
  const want: string[] = [];
  for (const [ch, list] of [...bins.entries()].sort()) {
    if (list.length === 1) want.push(`-A cali-from-wl-dispatch --in-interface ${list[0]} --goto cali-fw-${list[0]}`);
    else want.push(`-A cali-from-wl-dispatch --in-interface cali${ch}+ --goto cali-from-wl-dispatch-${ch}`);
  }
  want.push('-A cali-from-wl-dispatch -m comment --comment "Unknown interface" --jump DROP');
  assert.deepEqual(root, want);
  assert.ok([...bins.values()].some((l) => l.length > 1), 'the model has a shared next character');
});

test('hostNetwork pods and pods without an address have no endpoint; pools and hosts sets', () => {
  const c = articleCluster();
  c.pods.push({ namespace: 'kube-system', name: 'kube-proxy-x', node: 'minikube', ip: '192.168.49.2', labels: {}, hostNetwork: true });
  c.pods.push({ namespace: 'default', name: 'pending', node: 'minikube', labels: {} });
  c.pools = [
    { name: 'default-ipv4-ippool', cidr: '10.88.0.0/16', natOutgoing: true, ipipMode: 'Always', vxlanMode: 'Never' },
    { name: 'internal', cidr: '10.99.0.0/16', natOutgoing: false, ipipMode: 'Never', vxlanMode: 'Never' },
  ];
  c.nodes = [{ name: 'minikube', ips: ['192.168.49.2'], tunnelIP: '10.88.120.64' }, { name: 'minikube-m02', ips: ['192.168.49.3'] }];
  const r = renderFelix(c, 'minikube');
  assert.equal(r.endpoints.length, 3);
  assert.ok(!r.restore.includes(vethName('kube-system', 'kube-proxy-x')));
  assert.ok(!r.restore.includes(vethName('default', 'pending')));
  const set = (n: string) => r.ipsets.find((s) => s.name === n)?.members.map((m) => m.entry);
  assert.deepEqual(set('cali40all-ipam-pools'), ['10.88.0.0/16', '10.99.0.0/16']);
  assert.deepEqual(set('cali40masq-ipam-pools'), ['10.88.0.0/16']);
  assert.deepEqual(set('cali40all-hosts-net'), ['192.168.49.2', '192.168.49.3']);
  const h = loadNode(r);
  assert.deepEqual(grep(save(h, 'filter'), 'IPIP').map((l) => l.replace(/"cali:[\w-]{16}"/, '"cali:…"')), [
    '-A cali-INPUT -p ipencap -m comment --comment "cali:…" -m comment --comment "Allow IPIP packets from Calico hosts" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT',
    '-A cali-INPUT -p ipencap -m comment --comment "cali:…" -m comment --comment "Drop IPIP packets from non-Calico hosts" -j DROP',
    '-A cali-OUTPUT -p ipencap -m comment --comment "cali:…" -m comment --comment "Allow IPIP packets to other Calico hosts" -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL -j ACCEPT',
  ]);
  assert.deepEqual(grep(save(h, 'nat'), 'tunl0').map((l) => l.replace(/"cali:[\w-]{16}"/, '"cali:…"')), [
    '-A cali-POSTROUTING -o tunl0 -m comment --comment "cali:…" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully',
  ]);
});

test('egress to a selector on named ports only: the named-port set is built over the selector, no selector set (rule_scanner)', () => {
  const c = modelCluster(['node1'], [
    netpol('x', 'np', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 'serve-80-tcp' }] }] }),
  ]);
  const r = renderFelix(c, 'node1');
  const allow = r.rules.find((x) => x.origin.kind === 'policy' && x.origin.role === 'allow');
  assert.match(allow?.spec ?? '', /^-m comment --comment "Policy x\/knp.default.np egress" -p tcp -m set --match-set cali40n:[\w-]{23} dst,dst --jump MARK --set-mark 0x10000\/0x10000$/);
  const set = r.ipsets.find((s) => s.type === 'hash:ip,port');
  assert.equal(set?.selector, '(projectcalico.org/namespace == "x" && (projectcalico.org/orchestrator == "k8s" && pod == "b"))');
  assert.deepEqual(set?.members.map((m) => m.entry), ['10.244.1.11,tcp:80']);
  assert.ok(!r.ipsets.some((s) => s.type === 'hash:net' && s.selector === set?.selector));
});
