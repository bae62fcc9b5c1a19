// The chain graph of one packet's possible paths (path-graph.ts): on kube-proxy's two layouts and
// Calico's rules as the cluster writes them, and on small hand-made tables for the three-way
// decisions (left out, certain, maybe) and the end of a chain after a rule that always decides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../main/engine/host.ts';
import { iptables } from '../../../main/engine/shell/iptables.ts';
import { ipset } from '../../../main/engine/shell/ipset.ts';
import { pathGraph, tablesOf, type PathHost } from '../../../main/engine/netfilter/path-graph.ts';
import type { PathEdge, PathGraph, PathQuery } from '../../../shared/rules-path.ts';
import type { Lab } from '../../../main/engine/lab.ts';
import { clusterLab, WEBAPP_LOCAL, WEBAPP_NODEPORT } from '../cluster/lab-cluster.ts';
import { words } from './sessions-data.ts';
import { formatIPv4 } from '../../../main/engine/net/ipv4.ts';

function hostOf(h: Host): PathHost {
  return { tables: tablesOf((t) => h.nf.table(t)), env: h.env, isLocal: (a) => h.net.isLocal(a) };
}
const graphOn = (lab: Lab, host: string, q: PathQuery): PathGraph => pathGraph(hostOf(lab.hosts.get(host)!), q);
const from = (g: PathGraph, id: string): PathEdge[] => g.edges.filter((e) => e.from === id);
const edge = (g: PathGraph, fromId: string, to: string | RegExp): PathEdge | undefined =>
  g.edges.find((e) => e.from === fromId && (typeof to === 'string' ? e.to === to : to.test(e.to)));

function plainHost(lines: string[]): Host {
  const h = new Host('h', [], { now: () => 0, random: () => 0.5, chance: () => true, seed: 1 } as never);
  for (const l of lines) {
    const argv = words(l);
    const r = argv[0] === 'ipset' ? ipset(argv, '', h.ipsets) : iptables(argv, '', h.nf);
    assert.equal(r.code, 0, `${l}: ${r.stderr}`);
  }
  return h;
}

test('kube-proxy (legacy layout): a ClusterIP packet reaches its Service, both endpoints (one maybe, by statistic) and their DNATs; other Services are left out', () => {
  const { lab, apply } = clusterLab({ nodes: 2, proxy: 'legacy' });
  apply(WEBAPP_NODEPORT);
  const g = graphOn(lab, 'minikube', { proto: 'tcp', dst: '10.103.46.104', dport: 80 });
  // Neither a source nor an interface: arriving (forwarded, as the VIP is not local) and made here.
  assert.deepEqual(g.hooks, ['PREROUTING', 'FORWARD', 'POSTROUTING', 'OUTPUT']);
  const svcEdges = from(g, 'nat/KUBE-SERVICES').filter((e) => e.kind === 'jump');
  const svc = svcEdges.find((e) => e.to.startsWith('nat/KUBE-SVC-'));
  assert.ok(svc, JSON.stringify(svcEdges));
  assert.match(svc.cond, /^-d 10\.103\.46\.104\/32 -p tcp --dport 80$/);
  assert.equal(svc.comment, 'default/webapp cluster IP');
  assert.deepEqual(svc.maybe, []);
  assert.equal(svcEdges.filter((e) => e.to.startsWith('nat/KUBE-SVC-')).length, 1, 'kube-dns and the API server’s Services cannot match');
  assert.ok(g.excluded > 5);
  const seps = from(g, svc.to).filter((e) => e.to.startsWith('nat/KUBE-SEP-'));
  assert.equal(seps.length, 2);
  assert.deepEqual(seps.map((e) => e.maybe), [['statistic'], []]);
  assert.ok(seps[0].rule! < seps[1].rule!);
  // The last endpoint's jump always happens and KUBE-SEP never returns (its DNAT always
  // applies to tcp): nothing after it, no end-of-chain edge from the KUBE-SVC chain.
  assert.ok(!edge(g, svc.to, 'verdict/RETURN'));
  const dnats = seps.map((s) => edge(g, s.to, 'verdict/DNAT')!);
  assert.deepEqual(dnats.map((d) => d.target).sort(), ['DNAT --to-destination 10.244.120.102:80', 'DNAT --to-destination 10.244.120.103:80']);
  assert.ok(dnats.every((d) => d.maybe.length === 0));
  // The masquerade mark on the way out: POSTROUTING's KUBE-POSTROUTING decides by the mark.
  const post = edge(g, 'nat/KUBE-POSTROUTING', 'verdict/RETURN');
  assert.ok(post && post.maybe.includes('mark'), JSON.stringify(from(g, 'nat/KUBE-POSTROUTING')));
  // Hooks chained in order, nat only for a connection's first packet.
  const next = g.edges.filter((e) => e.kind === 'next').map((e) => `${e.from}>${e.to}`);
  assert.ok(next.includes('raw/PREROUTING>mangle/PREROUTING') && next.includes('mangle/PREROUTING>nat/PREROUTING'), next.join(' '));
  assert.deepEqual(edge(g, 'mangle/PREROUTING', 'nat/PREROUTING')?.maybe, ['first packet only']);
  // Every edge's ends are nodes; chains name their table.
  const ids = new Set(g.nodes.map((n) => n.id));
  assert.ok(g.edges.every((e) => ids.has(e.from) && ids.has(e.to)));
  assert.ok(!g.truncated);
});

test('kube-proxy: ETP Local on the node without an endpoint — the NodePort goes to KUBE-MARK-DROP (legacy) and to the drop of the current layout', () => {
  for (const proxy of ['legacy', 'current'] as const) {
    const { lab, apply } = clusterLab({ nodes: 2, proxy });
    apply(WEBAPP_LOCAL);
    const m02 = lab.hosts.get('minikube-m02')!;
    const nodeIP = m02.net.addrs('eth0')[0]?.local;
    assert.ok(nodeIP !== undefined, 'the node has an address on eth0');
    const g = graphOn(lab, 'minikube-m02', { proto: 'tcp', src: '192.168.49.100', dst: formatIPv4(nodeIP), dport: 30080, in: 'eth0' });
    assert.deepEqual(g.hooks, ['PREROUTING', 'INPUT'], proxy);
    const np = from(g, 'nat/KUBE-NODEPORTS').filter((e) => e.kind === 'jump');
    assert.equal(np.length, 1, `${proxy}: ${JSON.stringify(np)}`);
    assert.match(np[0].cond, /--dport 30080/);
    if (proxy === 'legacy') {
      assert.match(np[0].to, /^nat\/KUBE-XLB-/);
      const drop = edge(g, np[0].to, 'nat/KUBE-MARK-DROP');
      assert.ok(drop, JSON.stringify(from(g, np[0].to)));
      assert.match(drop.comment ?? '', /has no local endpoints/);
    } else {
      // The current layout drops in filter: KUBE-EXTERNAL-SERVICES rejects/drops the NodePort.
      const chains = g.nodes.filter((n) => n.kind === 'chain').map((n) => n.id);
      assert.ok(chains.some((c) => /^nat\/KUBE-(EXT|XLB)-/.test(c)) || g.edges.some((e) => e.to === 'verdict/DROP' || e.to === 'verdict/REJECT'), chains.join(' '));
    }
    // The KUBE-SERVICES jump to KUBE-NODEPORTS is decided by addrtype: the destination is local.
    const toNp = edge(g, 'nat/KUBE-SERVICES', 'nat/KUBE-NODEPORTS');
    assert.ok(toNp && toNp.maybe.length === 0, JSON.stringify(toNp));
  }
});

test('Calico: a packet forwarded to the db pod passes the dispatch to its interface only, and its policy may drop it (by mark)', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 2 });
  const deploy = (name: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${extra}}}
    spec: {containers: [{name: nginx, image: nginx:1.14.2, ports: [{containerPort: 80}]}]}
`;
  apply(deploy('frontend') + '---\n' + deploy('db'));
  apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-db-access}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {networking/allow-db-access: "true"}}}]}]
`);
  const pod = (app: string) => sh('@cluster', `kubectl get pods -l app=${app} -o jsonpath={.items[0].metadata.name},{.items[0].spec.nodeName},{.items[0].status.podIP}`).stdout.split(',');
  const [, dbNode, dbIP] = pod('db');
  const [, , feIP] = pod('frontend');
  const save = sh(dbNode, 'iptables-save').stdout;
  const iface = /-A cali-to-wl-dispatch -o (cali\w+) /.exec(save)?.[1];
  assert.ok(iface, 'the db pod’s interface in the dispatch chain');
  const g = graphOn(lab, dbNode, { proto: 'tcp', src: feIP, dst: dbIP, dport: 80, out: iface });
  assert.ok(g.hooks.includes('FORWARD'));
  const dispatch = from(g, 'filter/cali-to-wl-dispatch');
  assert.deepEqual(dispatch.map((e) => e.to), [`filter/cali-tw-${iface}`], 'only the db pod’s interface');
  assert.equal(dispatch[0].kind, 'goto');
  assert.match(dispatch[0].cond, new RegExp(`-o ${iface}`));
  const tw = from(g, `filter/cali-tw-${iface}`);
  const policy = tw.find((e) => e.to.startsWith('filter/cali-pi-'));
  assert.ok(policy, JSON.stringify(tw));
  const drop = tw.find((e) => e.to === 'verdict/DROP' && e.comment === 'Drop if no policies passed packet');
  assert.ok(drop && drop.maybe.includes('mark'), JSON.stringify(tw));
  assert.deepEqual(tw.at(-1)?.maybe, [], 'the profiles’ last drop always applies');
  assert.ok(tw.some((e) => e.to === 'verdict/ACCEPT' && e.maybe.includes('ctstate')));
  // Without the outgoing interface, the workload's dispatch rule may match, and the unknown
  // interface's drop follows it.
  const open = from(graphOn(lab, dbNode, { proto: 'tcp', src: feIP, dst: dbIP, dport: 80 }), 'filter/cali-to-wl-dispatch');
  assert.deepEqual(open.map((e) => [e.to, e.maybe]), [[`filter/cali-tw-${iface}`, ['out?']], ['verdict/DROP', []]]);
  assert.equal(open[1].comment, 'Unknown interface');
});

test('three-way decisions: -d and sets leave rules out, state keeps them as maybe, a certain verdict ends the chain', () => {
  const h = plainHost([
    'ipset create allowed hash:ip',
    'ipset add allowed 10.0.0.1',
    'iptables -N CHECK',
    'iptables -N DENY',
    'iptables -A INPUT -d 10.9.9.9/32 -j DROP',
    'iptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    'iptables -A INPUT -p tcp --dport 22 -j CHECK',
    'iptables -A INPUT -j LOG',
    'iptables -A INPUT -j REJECT',
    'iptables -A INPUT -j ACCEPT',
    'iptables -A CHECK -m set --match-set allowed src -j ACCEPT',
    'iptables -A CHECK -m statistic --mode random --probability 0.5 -j RETURN',
    'iptables -A CHECK ! -i lo -g DENY',
    'iptables -A DENY -j DROP',
  ]);
  const q = (src?: string): PathQuery => ({ hook: 'INPUT', proto: 'tcp', dst: '10.0.0.2', dport: 22, in: 'eth0', ...(src ? { src } : {}) });
  const g = pathGraph(hostOf(h), q('10.0.0.1'));
  assert.deepEqual(g.hooks, ['INPUT']);
  const input = from(g, 'filter/INPUT');
  assert.deepEqual(input.map((e) => [e.rule, e.to, e.maybe]), [
    [2, 'verdict/ACCEPT', ['ctstate']],
    [3, 'filter/CHECK', []],
  ]);
  // src in the set: CHECK always accepts, so the jump never returns and the rules after it are left out.
  assert.deepEqual(from(g, 'filter/CHECK').map((e) => [e.rule, e.to, e.maybe]), [[1, 'verdict/ACCEPT', []]]);
  assert.equal(g.excluded, 1 + 2 + 3); // -d 10.9.9.9; CHECK's rules after its ACCEPT; INPUT's after the jump
  // Not in the set: statistic may return, else the goto to DENY always drops.
  const g2 = pathGraph(hostOf(h), q('10.0.0.7'));
  assert.deepEqual(from(g2, 'filter/CHECK').map((e) => [e.rule, e.to, e.maybe]), [
    [2, 'verdict/RETURN', ['statistic']],
    [3, 'filter/DENY', []],
  ]);
  assert.equal(edge(g2, 'filter/CHECK', 'filter/DENY')?.kind, 'goto');
  assert.deepEqual(from(g2, 'filter/DENY').map((e) => e.to), ['verdict/DROP']);
  // CHECK may return: INPUT goes on to its REJECT, which always applies (rule 6 is left out).
  assert.deepEqual(from(g2, 'filter/INPUT').map((e) => [e.rule, e.to]), [[2, 'verdict/ACCEPT'], [3, 'filter/CHECK'], [5, 'verdict/REJECT']]);
  // Source left open: the set decides nothing.
  const g3 = pathGraph(hostOf(h), q());
  assert.deepEqual(edge(g3, 'filter/CHECK', 'verdict/ACCEPT')?.maybe, ['set allowed']);
  // Another destination port: CHECK is never entered.
  const g4 = pathGraph(hostOf(h), { ...q('10.0.0.1'), dport: 80 });
  assert.ok(!g4.nodes.some((n) => n.id === 'filter/CHECK'));
  // A start chain, and bad queries refused.
  const g5 = pathGraph(hostOf(h), { chain: 'DENY' });
  assert.deepEqual(g5.nodes.map((n) => n.id).sort(), ['filter/DENY', 'verdict/DROP']);
  assert.throws(() => pathGraph(hostOf(h), { chain: 'NOPE' }), /no chain NOPE in table filter/);
  assert.throws(() => pathGraph(hostOf(h), { src: '10.0.0.300' }), /not an address/);
});

test('a 100,000-rule kube-proxy table: a packet with a destination is graphed quickly, one without is capped', async () => {
  const { kubeNatDump } = await import('../../bench/gen-kube.ts');
  const { iptablesRestore } = await import('../../../main/engine/shell/iptables.ts');
  const dump = kubeNatDump(33_334);
  const h = plainHost([]);
  assert.equal(iptablesRestore(['iptables-restore'], dump.text, h.nf).code, 0);
  const t0 = performance.now();
  const g = pathGraph(hostOf(h), { proto: 'tcp', dst: dump.vip(20_000), dport: 80 });
  const ms = performance.now() - t0;
  const svc = from(g, 'nat/KUBE-SERVICES').filter((e) => e.to.startsWith('nat/KUBE-SVC-'));
  assert.equal(svc.length, 1);
  assert.ok(ms < 2000, `${ms} ms`);
  const open = pathGraph(hostOf(h), { proto: 'tcp' });
  assert.ok(open.truncated);
  assert.ok(open.edges.length <= 600);
});
