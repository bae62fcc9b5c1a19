// A node rendered by the Calico generator (main/engine/kube/calico), loaded as Felix would load
// it — `ipset restore`, then `iptables-restore --noflush` with the kernel-chain jumps — into a
// network namespace with its pods on veth-like links (Calico's 169.254.1.1 proxy-ARP gateway),
// and the same lab on the engine: every probe must get the same result on both sides, and the
// result the NetworkPolicy semantics predict. Conntrack tuples and rule counters are compared
// too (compareScenario).

import { test } from 'node:test';
import type { JournalSketch } from './harness/labdoc.ts';
import { labDoc } from './harness/labdoc.ts';
import { compareScenario, type Probe } from './compare.ts';
import { renderFelix } from '../../main/engine/kube/calico/felix.ts';
import { policyVerdict } from '../../main/engine/kube/calico/semantics.ts';
import type { CalicoCluster, FelixConfig } from '../../main/engine/kube/calico/model.ts';
import type { NetworkPolicy } from '../../main/engine/kube/objects/types.ts';
import { articleCluster, netpol } from '../engine/kube/calico/scenes.ts';

const CLIENT = '192.168.49.100';

/** x/a, x/b, y/a, y/b (a smaller standard model: probes are slow); pod b of each namespace on
 *  `nodeB` (node1 unless given). */
function smallModel(policies: NetworkPolicy[], nodeB = 'node1'): CalicoCluster {
  const pods = [];
  for (const [i, ns] of ['x', 'y'].entries()) {
    for (const [j, p] of ['a', 'b'].entries()) {
      pods.push({
        namespace: ns, name: p, node: p === 'b' ? nodeB : 'node1', ip: `10.244.${i + 1}.${j + 10}`, labels: { pod: p },
        ports: [{ name: 'serve-80-tcp', port: 80, protocol: 'TCP' as const }, { name: 'serve-81-tcp', port: 81, protocol: 'TCP' as const }, { name: 'serve-80-udp', port: 80, protocol: 'UDP' as const }],
      });
    }
  }
  const nodes = nodeB === 'node1' ? ['node1'] : ['node1', nodeB];
  return {
    namespaces: ['x', 'y'].map((name) => ({ name, labels: { ns: name, 'kubernetes.io/metadata.name': name } })),
    pods, policies,
    pools: [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Never' }],
    nodes: nodes.map((n, i) => ({ name: n, ips: [`192.168.49.${i + 2}`] })),
  };
}

function hostName(ns: string, pod: string): string {
  return `${ns}-${pod}`.replace(/[^a-z0-9-]/g, '').slice(0, 12);
}

/** Every node of the cluster rendered and loaded; pods on their node's cali links, nodes on one
 *  LAN with routes to each other's pods (no tunnel), an outside client on the same LAN. */
async function runNode(name: string, cluster: CalicoCluster, _node: string, cfg: FelixConfig, extraProbes: Probe[] = []): Promise<void> {
  const hosts: Parameters<typeof labDoc>[0]['hosts'] = {
    client: { links: [`eth0 uplink ${CLIENT}/24`], listen: ['tcp/80'], routes: [`${cluster.pools[0].cidr} via ${cluster.nodes[0].ips[0]}`] },
  };
  const journal: JournalSketch[] = [];
  const restores: JournalSketch[] = [];
  let lan = 0;
  const all = [];
  for (const n of cluster.nodes) {
    // MASQUERADE --random-fully picks a random port in the kernel; without it the source port
    // is kept (as the engine does), so the source the client sees can be compared
    const r = renderFelix(cluster, n.name, { randomFully: false, ...cfg });
    hosts[n.name] = { links: [`eth0 uplink ${n.ips[0]}/24`], forward: true, routes: ['default via 192.168.49.1'] };
    for (const ep of r.endpoints) {
      const h = hostName(ep.pod.namespace, ep.pod.name);
      const w = lan++;
      (hosts[n.name].links as string[]).push(`${ep.iface} w${w} 169.254.0.${w + 2}/32`);
      hosts[h] = { links: [`eth0 w${w} ${ep.ip}/32`], listen: ['tcp/80', 'tcp/81', 'udp/80'] };
      journal.push(
        [n.name, `ip route add ${ep.ip} dev ${ep.iface} scope link`],
        [n.name, `sysctl -w net.ipv4.conf.${ep.iface}.proxy_arp=1`],
        [n.name, `sysctl -w net.ipv4.neigh.${ep.iface}.proxy_delay=0`],
        [h, 'ip route add 169.254.1.1 dev eth0 scope link'],
        [h, 'ip route add default via 169.254.1.1 dev eth0'],
      );
      for (const other of cluster.nodes) if (other.name !== n.name) journal.push([other.name, `ip route add ${ep.ip} via ${n.ips[0]}`]);
      all.push(ep);
    }
    restores.push([n.name, ['ipset', 'restore'], r.ipsetRestore], [n.name, ['iptables-restore', '--noflush'], r.restore]);
  }
  const doc = labDoc({ name, hosts, journal: [...journal, ...restores] });
  const probes: Probe[] = [];
  let sport = 41000;
  for (const s of all) {
    for (const d of all) {
      if (s === d) continue;
      for (const [port, proto] of [[80, 'tcp'], [81, 'tcp'], [80, 'udp']] as const) {
        if (proto !== 'tcp' && s.ip.endsWith('11')) continue; // fewer probes
        const allowed = policyVerdict(cluster, `${s.pod.namespace}/${s.pod.name}`, `${d.pod.namespace}/${d.pod.name}`, port, proto === 'tcp' ? 'TCP' : 'UDP').allowed;
        probes.push({ from: hostName(s.pod.namespace, s.pod.name), to: d.ip, port, proto, sport: sport++, expect: allowed ? 'delivered' : 'timeout' });
      }
    }
    // to outside (natOutgoing) and from outside (through the first node)
    const out = policyVerdict(cluster, `${s.pod.namespace}/${s.pod.name}`, CLIENT, 80, 'TCP').allowed;
    probes.push({ from: hostName(s.pod.namespace, s.pod.name), to: CLIENT, port: 80, proto: 'tcp', sport: sport++, expect: out ? 'delivered' : 'timeout' });
    const inn = policyVerdict(cluster, CLIENT, `${s.pod.namespace}/${s.pod.name}`, 80, 'TCP').allowed;
    probes.push({ from: 'client', to: s.ip, port: 80, proto: 'tcp', sport: sport++, expect: inn ? 'delivered' : 'timeout' });
  }
  await compareScenario(name, doc, [...probes, ...extraProbes]);
}

test('the article scene, rendered by the generator (v3.28 and the article flavor)', async () => {
  const c = articleCluster();
  await runNode('calico-article', c, 'minikube', {});
  await runNode('calico-article-2020', c, 'minikube', { flavor: 'article' });
});

const SETS: [string, NetworkPolicy[]][] = [
  ['deny-all-ingress-x', [netpol('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] })]],
  ['ns-and-pod-selector', [netpol('x', 'p', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] })]],
  ['egress-ports-named-and-range', [
    netpol('y', 'e', { podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a'] }] }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-tcp' }, { protocol: 'UDP', port: 79, endPort: 80 }] }] }),
  ]],
  ['ipblock-except-and-groups', [
    netpol('x', 'c1', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.11/32'] } }], ports: [{ port: 80 }] }] }),
    netpol('x', 'c2', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '192.168.49.0/24' } }] }], egress: [{ to: [{ namespaceSelector: {} }] }] }),
  ]],
  ['all-namespaces-port-81', [netpol('y', 'p', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 81 }] }] })]],
  ['egress-deny-all-y', [netpol('y', 'deny', { podSelector: {}, policyTypes: ['Egress'] })]],
  ['notin-doesnotexist-or', [
    netpol('x', 'p', {
      podSelector: { matchExpressions: [{ key: 'pod', operator: 'NotIn', values: ['b'] }] }, policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }, { key: 'pod', operator: 'In', values: ['b'] }] } }, { namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'a' } } }] }],
    }),
  ]],
  ['udp-only', [netpol('x', 'udp', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'UDP', port: 80 }, { protocol: 'SCTP' }] }] })]],
  ['group-of-six', Array.from({ length: 6 }, (_, i) => netpol('y', `g${i}`, { podSelector: {}, policyTypes: ['Ingress'], ingress: i === 5 ? [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] : [{ from: [{ ipBlock: { cidr: `10.99.${i}.0/24` } }] }] }))],
  ['egress-and-ingress', [
    netpol('x', 'e', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] } }] }] }),
    netpol('y', 'i', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'x' } } }], ports: [{ port: 'serve-80-tcp' }] }] }),
  ]],
];

for (const [name, policies] of SETS) {
  test(`policy set ${name}: kernel, engine and semantics agree`, async () => {
    await runNode(`calico-${name}`, smallModel(policies), 'node1', {});
  });
}

// Two nodes: the source node applies the egress policy of its pod, the destination node the
// ingress policy of its pod (a packet between nodes crosses one cali interface on each).
for (const name of ['ns-and-pod-selector', 'egress-and-ingress', 'ipblock-except-and-groups']) {
  test(`two nodes, policy set ${name}: kernel, engine and semantics agree`, async () => {
    await runNode(`calico-2n-${name}`, smallModel(SETS.find(([n]) => n === name)?.[1] ?? [], 'node2'), 'node1', {});
  });
}
