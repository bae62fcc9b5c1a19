// Whole kube-proxy-style (v1.19 legacy layout) and Calico-style rulesets on the engine and on
// the real kernel: NodePort with externalTrafficPolicy Cluster (SNAT to the node, a hop to
// the node with the endpoint) and Local (client IP kept, KUBE-MARK-DROP on a node without a
// local endpoint), ClusterIP from a pod and from the node, hairpin masquerade, REJECT for a
// Service without endpoints; Calico's dispatch chains, policy marks, ipsets and the
// 169.254.1.1 proxy-ARP gateway.

import { test } from 'node:test';
import { labDoc } from './harness/labdoc.ts';
import { compareScenario } from './compare.ts';

const CLUSTER_CIDR = '10.244.0.0/16';

function kubeRules(localEndpoint: boolean): string {
  const W = 'KUBE-SVC-2IRACUALRELARSND'; // default/webapp
  const WSEP = 'KUBE-SEP-AO6KYGU752IZFEZ4'; // 10.244.120.102:80
  const L = 'KUBE-SVC-LOCALSVCHASH00001';
  const XLB = 'KUBE-XLB-LOCALSVCHASH00001';
  const LSEP = 'KUBE-SEP-PJFBSHHDX4VZAOXM'; // 10.244.120.103:80
  return `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -s ${CLUSTER_CIDR} -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-FORWARD -d ${CLUSTER_CIDR} -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-SERVICES -d 10.96.0.60/32 -p tcp -m comment --comment "default/noeps has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-DROP - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
:${W} - [0:0]
:${WSEP} - [0:0]
:${L} - [0:0]
:${XLB} - [0:0]
:${LSEP} - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/webapp" -m tcp --dport 31380 -j KUBE-MARK-MASQ
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/webapp" -m tcp --dport 31380 -j ${W}
-A KUBE-NODEPORTS -s 127.0.0.0/8 -p tcp -m comment --comment "default/local" -m tcp --dport 30080 -j KUBE-MARK-MASQ
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/local" -m tcp --dport 30080 -j ${XLB}
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SERVICES ! -s ${CLUSTER_CIDR} -d 10.103.46.104/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 10.103.46.104/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j ${W}
-A KUBE-SERVICES ! -s ${CLUSTER_CIDR} -d 10.96.0.50/32 -p tcp -m comment --comment "default/local cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/local cluster IP" -m tcp --dport 80 -j ${L}
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A ${WSEP} -s 10.244.120.102/32 -m comment --comment "default/webapp" -j KUBE-MARK-MASQ
-A ${WSEP} -p tcp -m comment --comment "default/webapp" -m tcp -j DNAT --to-destination 10.244.120.102:80
-A ${W} -m comment --comment "default/webapp" -j ${WSEP}
-A ${LSEP} -s 10.244.120.103/32 -m comment --comment "default/local" -j KUBE-MARK-MASQ
-A ${LSEP} -p tcp -m comment --comment "default/local" -m tcp -j DNAT --to-destination 10.244.120.103:80
-A ${L} -m comment --comment "default/local" -j ${LSEP}
-A ${XLB} -s ${CLUSTER_CIDR} -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -j ${L}
-A ${XLB} -m comment --comment "masquerade LOCAL traffic for default/local LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A ${XLB} -m comment --comment "route LOCAL traffic for default/local LB IP to service chain" -m addrtype --src-type LOCAL -j ${L}
${localEndpoint ? `-A ${XLB} -m comment --comment "Balancing rule 0 for default/local" -j ${LSEP}` : `-A ${XLB} -m comment --comment "default/local has no local endpoints" -j KUBE-MARK-DROP`}
COMMIT
`;
}

test('kube-proxy legacy layout: NodePort Cluster and Local, ClusterIP, hairpin, no endpoints', async () => {
  const doc = labDoc({
    hosts: {
      node1: { links: ['eth0 lan 192.168.49.2/24', 'eth1 podnet 10.244.120.1/24'], forward: true, routes: ['default via 192.168.49.1'] },
      node2: { links: ['eth0 lan 192.168.49.3/24'], forward: true, routes: ['10.244.120.0/24 via 192.168.49.2'] },
      client: { links: ['eth0 lan 192.168.49.100/24'], routes: ['10.96.0.0/12 via 192.168.49.2'] },
      pod1: { links: ['eth0 podnet 10.244.120.102/24'], listen: ['tcp/80'], routes: ['default via 10.244.120.1'] },
      pod2: { links: ['eth0 podnet 10.244.120.103/24'], listen: ['tcp/80'], routes: ['default via 10.244.120.1'] },
    },
    journal: [
      ['node1', ['iptables-restore'], kubeRules(true)],
      ['node2', ['iptables-restore'], kubeRules(false)],
    ],
  });
  await compareScenario('kube', doc, [
    // NodePort, Cluster policy, on the node with the endpoint: masqueraded to the node
    { from: 'client', to: '192.168.49.2', port: 31380, proto: 'tcp', expect: 'delivered' },
    // NodePort, Cluster policy, on the other node: SNAT to that node, one hop more
    { from: 'client', to: '192.168.49.3', port: 31380, proto: 'tcp', sport: 40001, expect: 'delivered' },
    // NodePort, Local policy: the client's address reaches the pod
    { from: 'client', to: '192.168.49.2', port: 30080, proto: 'tcp', sport: 40002, expect: 'delivered' },
    // NodePort, Local policy, on the node without a local endpoint: KUBE-MARK-DROP
    { from: 'client', to: '192.168.49.3', port: 30080, proto: 'tcp', sport: 40003, expect: 'timeout' },
    // ClusterIP from a pod to a pod on the same L2 subnet: the answer goes straight back
    // (not through the node), is never un-DNATed, and the client drops it
    { from: 'pod1', to: '10.96.0.50', port: 80, proto: 'tcp', expect: 'timeout' },
    // ClusterIP from the node itself (masquerade)
    { from: 'node1', to: '10.103.46.104', port: 80, proto: 'tcp', sport: 40006, expect: 'delivered' },
    // hairpin: the endpoint reaches itself through its Service, masqueraded
    { from: 'pod1', to: '10.103.46.104', port: 80, proto: 'tcp', sport: 40004, expect: 'delivered' },
    // a Service without endpoints is REJECTed
    { from: 'client', to: '10.96.0.60', port: 80, proto: 'tcp', expect: 'refused' },
  ]);
});

test('Calico-style policy: dispatch chains, policy mark, ipset, proxy-ARP gateway', async () => {
  const rules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:cali-FORWARD - [0:0]
:cali-from-wl-dispatch - [0:0]
:cali-to-wl-dispatch - [0:0]
:cali-fw-cali1111111111a - [0:0]
:cali-fw-cali2222222222b - [0:0]
:cali-fw-cali3333333333c - [0:0]
:cali-tw-cali1111111111a - [0:0]
:cali-tw-cali2222222222b - [0:0]
:cali-tw-cali3333333333c - [0:0]
:cali-pi-_tTE-E7yY40ogArNVgKt - [0:0]
:cali-pri-kns.default - [0:0]
-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000
-A cali-FORWARD -i cali+ -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch
-A cali-FORWARD -o cali+ -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch
-A cali-FORWARD -m comment --comment "cali:MH9kMp5aNICL-Olv" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-from-wl-dispatch -i cali1111111111a -m comment --comment "cali:a" -g cali-fw-cali1111111111a
-A cali-from-wl-dispatch -i cali2222222222b -m comment --comment "cali:b" -g cali-fw-cali2222222222b
-A cali-from-wl-dispatch -i cali3333333333c -m comment --comment "cali:c" -g cali-fw-cali3333333333c
-A cali-from-wl-dispatch -m comment --comment "cali:zTj6P0TIgYvgz-md" -m comment --comment "Unknown interface" -j DROP
-A cali-to-wl-dispatch -o cali1111111111a -m comment --comment "cali:d" -g cali-tw-cali1111111111a
-A cali-to-wl-dispatch -o cali2222222222b -m comment --comment "cali:e" -g cali-tw-cali2222222222b
-A cali-to-wl-dispatch -o cali3333333333c -m comment --comment "cali:f" -g cali-tw-cali3333333333c
-A cali-to-wl-dispatch -m comment --comment "cali:7KNphB1nNHw80nIO" -m comment --comment "Unknown interface" -j DROP
-A cali-fw-cali1111111111a -m comment --comment "cali:g" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cali1111111111a -m comment --comment "cali:h" -m conntrack --ctstate INVALID -j DROP
-A cali-fw-cali1111111111a -m comment --comment "cali:i" -j MARK --set-xmark 0x0/0x10000
-A cali-fw-cali1111111111a -m comment --comment "cali:j" -j cali-pri-kns.default
-A cali-fw-cali1111111111a -m comment --comment "cali:k" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali1111111111a -m comment --comment "cali:l" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-fw-cali2222222222b -m comment --comment "cali:m" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cali2222222222b -m comment --comment "cali:n" -j MARK --set-xmark 0x0/0x10000
-A cali-fw-cali2222222222b -m comment --comment "cali:o" -j cali-pri-kns.default
-A cali-fw-cali2222222222b -m comment --comment "cali:p" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali2222222222b -m comment --comment "cali:q" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-fw-cali3333333333c -m comment --comment "cali:r" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cali3333333333c -m comment --comment "cali:s" -j MARK --set-xmark 0x0/0x10000
-A cali-fw-cali3333333333c -m comment --comment "cali:t" -j cali-pri-kns.default
-A cali-fw-cali3333333333c -m comment --comment "cali:u" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali3333333333c -m comment --comment "cali:v" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-tw-cali1111111111a -m comment --comment "cali:w" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cali1111111111a -m comment --comment "cali:x" -j MARK --set-xmark 0x0/0x10000
-A cali-tw-cali1111111111a -m comment --comment "cali:y" -j cali-pri-kns.default
-A cali-tw-cali1111111111a -m comment --comment "cali:z" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali1111111111a -m comment --comment "cali:A" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-tw-cali2222222222b -m comment --comment "cali:B" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cali2222222222b -m comment --comment "cali:C" -j MARK --set-xmark 0x0/0x10000
-A cali-tw-cali2222222222b -m comment --comment "cali:D" -j cali-pri-kns.default
-A cali-tw-cali2222222222b -m comment --comment "cali:E" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali2222222222b -m comment --comment "cali:F" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-tw-cali3333333333c -m comment --comment "cali:G" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cali3333333333c -m comment --comment "cali:H" -m conntrack --ctstate INVALID -j DROP
-A cali-tw-cali3333333333c -m comment --comment "cali:I" -j MARK --set-xmark 0x0/0x30000
-A cali-tw-cali3333333333c -m comment --comment "cali:J" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x20000
-A cali-tw-cali3333333333c -m comment --comment "cali:K" -m mark --mark 0x0/0x20000 -j cali-pi-_tTE-E7yY40ogArNVgKt
-A cali-tw-cali3333333333c -m comment --comment "cali:L" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali3333333333c -m comment --comment "cali:M" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP
-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:M4Und37HGrw6jUk8" -m set --match-set cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge src -j MARK --set-xmark 0x10000/0x10000
-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:sEnlfZagUFRSPRoe" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-pri-kns.default -m comment --comment "cali:7Fnh7Pv3_98FtLW7" -j MARK --set-xmark 0x10000/0x10000
-A cali-pri-kns.default -m comment --comment "cali:ZbV6bJXWSRefjK0u" -m mark --mark 0x10000/0x10000 -j RETURN
COMMIT
`;
  // node with three pod veths; pods use Calico's 169.254.1.1 trick (proxy ARP on the node side)
  const pod = (ip: string, lan: string) => ({
    links: [`eth0 ${lan} ${ip}/32`],
    listen: ['tcp/80'],
  });
  const podRoutes = (name: string): [string, string][] => [
    [name, 'ip route add 169.254.1.1 dev eth0 scope link'],
    [name, 'ip route add default via 169.254.1.1 dev eth0'],
  ];
  const doc = labDoc({
    hosts: {
      node: {
        links: ['eth0 uplink 192.168.49.2/24', 'cali1111111111a w1 10.88.0.1/32', 'cali2222222222b w2 10.88.0.2/32', 'cali3333333333c w3 10.88.0.3/32'],
        forward: true,
        // proxy ARP answers for 169.254.1.1 only with a route to it through another device
        routes: ['default via 192.168.49.1'],
      },
      frontend: pod('10.88.0.11', 'w1'),
      backend: pod('10.88.0.12', 'w2'),
      db: pod('10.88.0.13', 'w3'),
    },
    journal: [
      ['node', 'ipset create cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge hash:net family inet hashsize 1024 maxelem 1048576'],
      ['node', 'ipset add cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge 10.88.0.12'],
      ['node', 'ip route add 10.88.0.11 dev cali1111111111a scope link'],
      ['node', 'ip route add 10.88.0.12 dev cali2222222222b scope link'],
      ['node', 'ip route add 10.88.0.13 dev cali3333333333c scope link'],
      ['node', 'sysctl -w net.ipv4.conf.cali1111111111a.proxy_arp=1'],
      // as Calico does: answer at once (the default proxy_delay holds the reply up to 0.8 s)
      ['node', 'sysctl -w net.ipv4.neigh.cali1111111111a.proxy_delay=0'],
      ['node', 'sysctl -w net.ipv4.conf.cali2222222222b.proxy_arp=1'],
      ['node', 'sysctl -w net.ipv4.neigh.cali2222222222b.proxy_delay=0'],
      ['node', 'sysctl -w net.ipv4.conf.cali3333333333c.proxy_arp=1'],
      ['node', 'sysctl -w net.ipv4.neigh.cali3333333333c.proxy_delay=0'],
      ...podRoutes('frontend'),
      ...podRoutes('backend'),
      ...podRoutes('db'),
      ['node', ['iptables-restore'], rules],
    ],
  });
  await compareScenario('calico', doc, [
    { from: 'frontend', to: '10.88.0.12', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'frontend', to: '10.88.0.13', port: 80, proto: 'tcp', expect: 'timeout' },
    { from: 'backend', to: '10.88.0.13', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'db', to: '10.88.0.11', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'db', to: '10.88.0.12', port: 81, proto: 'tcp', expect: 'refused' },
  ]);
});
