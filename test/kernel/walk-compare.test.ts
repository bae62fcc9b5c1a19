// The engine's packet walk against the real kernel: the same hosts, commands and probes on
// both, compared probe by probe (who answered, what source they saw, refused / timed out /
// unreachable), then conntrack tuples and per-rule counters on every host. Each scenario
// covers a group of matches, targets and paths.

import { test } from 'node:test';
import { labDoc, rulesText, type LabSketch } from './harness/labdoc.ts';
import { checkKernelPrereqs } from './harness/netns.ts';
import assert from 'node:assert/strict';
import { compareScenario, compareTrace, type Probe } from './compare.ts';

const restore = (host: string, text: string): [string, string[], string] => [host, ['iptables-restore'], text];

// client --lan1-- router --lan2-- srv1, srv2     (client2 also on lan1)
function routed(journal: LabSketch['journal'] = [], forward = true): LabSketch {
  return {
    hosts: {
      client: { links: ['eth0 lan1 10.0.1.2/24'], routes: ['default via 10.0.1.1'] },
      client2: { links: ['eth0 lan1 10.0.1.3/24'], routes: ['default via 10.0.1.1'] },
      router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward },
      srv1: { links: ['eth0 lan2 10.0.2.2/24'], listen: ['tcp/80', 'tcp/443', 'tcp/8080', 'udp/53'], routes: ['default via 10.0.2.1'] },
      srv2: { links: ['eth0 lan2 10.0.2.3/24'], listen: ['tcp/80', 'udp/53'], routes: ['default via 10.0.2.1'] },
    },
    journal,
  };
}

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

test('one LAN: delivered, refused, ICMP echo', async () => {
  const doc = labDoc({
    hosts: {
      a: { links: ['eth0 lan1 192.168.5.10/24'] },
      b: { links: ['eth0 lan1 192.168.5.20/24'], listen: ['tcp/80', 'udp/53'] },
    },
  });
  const probes: Probe[] = [
    { from: 'a', to: '192.168.5.20', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'a', to: '192.168.5.20', port: 81, proto: 'tcp', expect: 'refused' },
    { from: 'a', to: '192.168.5.20', port: 53, proto: 'udp', expect: 'delivered' },
    { from: 'a', to: '192.168.5.20', port: 54, proto: 'udp', expect: 'refused' },
    { from: 'a', to: '192.168.5.20', proto: 'icmp', expect: 'delivered' },
    { from: 'a', to: '192.168.6.1', port: 80, proto: 'tcp', expect: 'unreachable' },
  ];
  await compareScenario('lan', doc, probes);
});

test('routing: forwarding on and off, no route on the router, a blackhole route', async () => {
  await compareScenario('fwd-on', labDoc(routed()), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', port: 53, proto: 'udp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', proto: 'icmp', expect: 'delivered' },
    { from: 'client', to: '10.9.9.9', port: 80, proto: 'tcp', expect: 'unreachable' },
  ]);
  await compareScenario('fwd-off', labDoc(routed([], false)), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'timeout' },
  ]);
  // A blackhole route (Calico's for a node's own block) drops silently: no ICMP, no martian.
  await compareScenario('blackhole', labDoc(routed([['router', ['ip', 'route', 'add', 'blackhole', '10.0.2.0/26', 'proto', 'bird']]])), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'timeout' },
    { from: 'client', to: '10.0.2.2', proto: 'icmp', expect: 'timeout' },
    // Outside the /26 the LAN route still applies (and nobody answers ARP there).
    { from: 'client', to: '10.0.2.200', port: 80, proto: 'tcp', expect: 'timeout' },
  ]);
});

test('filter matches: addresses, ports, interfaces, multiport, state, tcp flags, icmp, comment, iprange, length', async () => {
  const rules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:CHECKS - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m state --state INVALID -j DROP
-A FORWARD -i eth0 -o eth1 -p tcp -m tcp --tcp-flags SYN,RST,ACK,FIN SYN -j CHECKS
-A FORWARD -i eth+ -p udp -m udp --dport 53 -m comment --comment "dns to the servers" -j ACCEPT
-A FORWARD -p icmp -m icmp --icmp-type 8 -s 10.0.1.2/32 -j ACCEPT
-A CHECKS -s 10.0.1.3/32 -p tcp -m tcp --dport 443 -j DROP
-A CHECKS ! -s 10.0.1.0/24 -j DROP
-A CHECKS -p tcp -m multiport --dports 80,443 -d 10.0.2.2/32 -j ACCEPT
-A CHECKS -p tcp -m tcp --sport 41000:41999 -d 10.0.2.3/32 -j ACCEPT
-A CHECKS -m iprange --src-range 10.0.1.3-10.0.1.3 -p tcp --dport 8080 -j ACCEPT
-A CHECKS -p tcp -m length --length 0:40 -j ACCEPT
-A CHECKS -j RETURN
COMMIT
`;
  await compareScenario('filter', labDoc(routed([restore('router', rules)])), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 443, proto: 'tcp', expect: 'delivered' },
    { from: 'client2', to: '10.0.2.2', port: 443, proto: 'tcp', expect: 'timeout' },
    { from: 'client', to: '10.0.2.3', port: 80, proto: 'tcp', sport: 41500, expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', port: 80, proto: 'tcp', sport: 40000, expect: 'timeout' },
    { from: 'client2', to: '10.0.2.2', port: 8080, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 8080, proto: 'tcp', expect: 'timeout' },
    { from: 'client', to: '10.0.2.3', port: 53, proto: 'udp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', proto: 'icmp', expect: 'delivered' },
    { from: 'client2', to: '10.0.2.3', proto: 'icmp', expect: 'timeout' },
  ]);
});

test('NAT: DNAT, port-only DNAT, SNAT, MASQUERADE, REDIRECT, OUTPUT DNAT', async () => {
  const router = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80
-A PREROUTING -d 10.0.1.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.0.2.3:53
-A PREROUTING -d 10.0.2.3/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination :80
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 2222 -j REDIRECT --to-ports 22
-A POSTROUTING -s 10.0.1.3/32 -o eth1 -p tcp -j SNAT --to-source 10.0.2.1:5000
-A POSTROUTING -s 10.0.1.2/32 -d 10.0.2.3/32 -o eth1 -j MASQUERADE
COMMIT
`;
  const sk = routed([restore('router', router), ['client', 'iptables -t nat -A OUTPUT -d 10.99.0.1/32 -p tcp --dport 80 -j DNAT --to-destination 10.0.2.3:80']]);
  sk.hosts.router.listen = ['tcp/22'];
  await compareScenario('nat', labDoc(sk), [
    { from: 'client', to: '10.0.1.1', port: 8080, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 5353, proto: 'udp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', port: 8443, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 2222, proto: 'tcp', expect: 'delivered' },
    { from: 'client2', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.3', port: 80, proto: 'tcp', sport: 40006, expect: 'delivered' },
    { from: 'client', to: '10.99.0.1', port: 80, proto: 'tcp', sport: 40001, expect: 'delivered' },
  ]);
});

test('targets: REJECT variants, jumps, goto, RETURN, MARK and mark, CONNMARK and connmark, LOG, NOTRACK', async () => {
  const router = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -s 10.0.1.3/32 -j MARK --set-xmark 0x20/0xff
-A PREROUTING -p tcp -m tcp --dport 443 -j CONNMARK --set-xmark 0x7/0xffffffff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POLICY - [0:0]
:MARKED - [0:0]
-A FORWARD -m state --state UNTRACKED -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -j POLICY
-A POLICY -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset
-A POLICY -p tcp -m tcp --dport 82 -j REJECT
-A POLICY -p tcp -m tcp --dport 83 -j REJECT --reject-with icmp-host-prohibited
-A POLICY -p tcp -m tcp --dport 84 -j REJECT --reject-with icmp-net-unreachable
-A POLICY -m mark --mark 0x20/0xff -g MARKED
-A POLICY -m connmark --mark 0x7 -j LOG --log-prefix "connmark 7: "
-A POLICY -m connmark --mark 0x7 -j ACCEPT
-A POLICY -p tcp -m tcp --dport 80 -j ACCEPT
-A POLICY -j DROP
-A MARKED -p tcp -m tcp --dport 8080 -j ACCEPT
-A MARKED -j RETURN
COMMIT
`;
  const sk = routed([restore('router', router)]);
  await compareScenario('targets', labDoc(sk), [
    { from: 'client', to: '10.0.2.2', port: 81, proto: 'tcp', expect: 'refused' },
    { from: 'client', to: '10.0.2.2', port: 82, proto: 'tcp', expect: 'refused' },
    { from: 'client', to: '10.0.2.2', port: 83, proto: 'tcp', expect: 'unreachable' },
    { from: 'client', to: '10.0.2.2', port: 84, proto: 'tcp', expect: 'unreachable' },
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 443, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 8080, proto: 'tcp', expect: 'timeout' },
    { from: 'client2', to: '10.0.2.2', port: 8080, proto: 'tcp', expect: 'delivered' },
    // the request is NOTRACKed, its answer is not: a NEW reply that POLICY drops
    { from: 'client', to: '10.0.2.3', port: 53, proto: 'udp', expect: 'timeout' },
  ]);
});

test('ttl match and TTL target: set before routing (to 1: time exceeded), increment after the forward decrement', async () => {
  const router = rulesText({
    mangle: [
      '-A PREROUTING -p tcp -m tcp --dport 8080 -j TTL --ttl-set 30',
      '-A PREROUTING -p tcp -m tcp --dport 81 -j TTL --ttl-set 1',
      '-A FORWARD -p udp -j TTL --ttl-inc 100',
      '-A POSTROUTING -p icmp -j TTL --ttl-dec 200',
    ],
    filter: ['-A FORWARD -p tcp -m ttl --ttl-gt 63 -j DROP', '-A FORWARD -p tcp -m ttl --ttl-eq 63', '-A FORWARD -p udp -m ttl --ttl-lt 100 -j DROP'],
  });
  const srv1 = rulesText({
    filter: [
      '-A INPUT -p tcp -m tcp --dport 8080 -m ttl --ttl-eq 29 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 8080 -j DROP',
      '-A INPUT -p tcp -m tcp --dport 443 -m ttl --ttl-lt 64 -j REJECT --reject-with tcp-reset',
      '-A INPUT -p tcp -m tcp --dport 80 -m ttl ! --ttl-eq 63 -j DROP',
      '-A INPUT -p icmp -m ttl --ttl 0 -j ACCEPT',
      '-A INPUT -p icmp -j DROP',
    ],
  });
  const srv2 = rulesText({ filter: ['-A INPUT -p udp -m ttl --ttl-gt 150 -j ACCEPT', '-A INPUT -p udp -j DROP'] });
  await compareScenario('ttl', labDoc(routed([restore('router', router), restore('srv1', srv1), restore('srv2', srv2)])), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 8080, proto: 'tcp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', port: 443, proto: 'tcp', expect: 'refused' },
    { from: 'client', to: '10.0.2.2', port: 81, proto: 'tcp', expect: 'unreachable' },
    { from: 'client', to: '10.0.2.3', port: 53, proto: 'udp', expect: 'delivered' },
    { from: 'client', to: '10.0.2.2', proto: 'icmp', expect: 'delivered' },
  ]);
  // an echo request's TTL run out on the router comes back as a time exceeded
  const expire = rulesText({ mangle: ['-A PREROUTING -p icmp -m icmp --icmp-type 8 -j TTL --ttl-set 1', '-A PREROUTING -p udp -j TTL --ttl-set 1'] });
  await compareScenario('ttl-expire', labDoc(routed([restore('router', expire)])), [
    { from: 'client', to: '10.0.2.2', proto: 'icmp', expect: 'unreachable' },
    { from: 'client', to: '10.0.2.3', port: 53, proto: 'udp', expect: 'timeout' },
  ]);
});

test('statistic nth and recent: deterministic load balancing and affinity', async () => {
  const router = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:SEP1 - [0:0]
:SEP2 - [0:0]
:AFF - [0:0]
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 80 -j SVC
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 81 -j AFF
-A SVC -m statistic --mode nth --every 2 --packet 0 -j SEP1
-A SVC -j SEP2
-A SEP1 -p tcp -j DNAT --to-destination 10.0.2.2:80
-A SEP2 -p tcp -j DNAT --to-destination 10.0.2.3:80
-A AFF -m recent --rcheck --seconds 10800 --reap --name SEP2 --mask 255.255.255.255 --rsource -j SEP2
-A AFF -m recent --set --name SEP2 --mask 255.255.255.255 --rsource -j SEP2
COMMIT
`;
  await compareScenario('nth', labDoc(routed([restore('router', router)])), [
    { from: 'client', to: '10.0.1.1', port: 80, proto: 'tcp', sport: 40001, expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 80, proto: 'tcp', sport: 40002, expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 80, proto: 'tcp', sport: 40003, expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 81, proto: 'tcp', sport: 40004, expect: 'delivered' },
    { from: 'client', to: '10.0.1.1', port: 81, proto: 'tcp', sport: 40005, expect: 'delivered' },
  ]);
});

test('rp_filter strict on the router keeps a symmetric path working; local delivery through lo', async () => {
  const sk = routed([['router', 'sysctl -w net.ipv4.conf.all.rp_filter=1']]);
  await compareScenario('rpf', labDoc(sk), [
    { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'srv1', to: '10.0.2.2', port: 80, proto: 'tcp', sport: 40010, expect: 'delivered' },
    { from: 'srv1', to: '127.0.0.1', port: 80, proto: 'tcp', sport: 40011, expect: 'delivered' },
  ]);
});

test("the kernel's own trace (xtables-monitor) equals the engine's matched steps", async () => {
  const router = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 8080 -j TRACE
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -j MARK --set-xmark 0x1/0xff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 8080 -j SVC
-A SVC -m mark --mark 0x2 -j RETURN
-A SVC -p tcp -j DNAT --to-destination 10.0.2.2:80
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:FWD - [0:0]
-A FORWARD -j FWD
-A FWD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FWD -m mark --mark 0x1/0xff -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
`;
  const k = await compareTrace('trace', labDoc(routed([restore('router', router)])), 'router', { from: 'client', to: '10.0.1.1', port: 8080, proto: 'tcp', expect: 'delivered' });
  // the trace went through every table the packet crossed
  for (const t of ['raw', 'mangle', 'nat', 'filter']) assert.ok(k.some((l) => l.startsWith(t + ' ')), `no ${t} step in ${k.join('\n')}`);
});

test('veth pair between namespaces: a pod behind the 169.254.1.1 proxy-ARP gateway, MASQUERADE from a device without an address', async () => {
  const doc = labDoc({
    hosts: {
      node: { links: ['eth0 lan 192.168.49.2/24'], forward: true, routes: ['default via 192.168.49.1'] },
      server: { links: ['eth0 lan 192.168.49.50/24'], listen: ['tcp/80', 'udp/53'], routes: ['10.88.0.0/16 via 192.168.49.2'] },
      pod: { listen: ['tcp/80'] },
    },
    journal: [
      ['node', 'ip route add 10.88.0.5 dev cali12345678901 scope link'],
      ['node', 'sysctl -w net.ipv4.conf.cali12345678901.proxy_arp=1'],
      ['node', 'sysctl -w net.ipv4.neigh.cali12345678901.proxy_delay=0'],
      ['node', ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.88.0.0/16', '!', '-d', '10.88.0.0/16', '-j', 'MASQUERADE']],
      ['pod', 'ip route add 169.254.1.1 dev eth0 scope link'],
      ['pod', 'ip route add default via 169.254.1.1 dev eth0'],
    ],
  });
  doc.veths = [{ a: { host: 'pod', dev: 'eth0', ip: '10.88.0.5/32' }, b: { host: 'node', dev: 'cali12345678901' } }];
  // the journal's first entries need the veth: they run after the cabling on both sides
  await compareScenario('veth', doc, [
    { from: 'pod', to: '192.168.49.50', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'pod', to: '192.168.49.50', port: 53, proto: 'udp', expect: 'delivered' },
    { from: 'server', to: '10.88.0.5', port: 80, proto: 'tcp', expect: 'delivered' },
    { from: 'pod', to: '192.168.49.2', port: 22, proto: 'tcp', expect: 'refused' },
    { from: 'pod', to: '192.168.49.50', proto: 'icmp', expect: 'delivered' },
  ]);
});

test("ARP: a SNATed packet's request carries the sender's own address (arp_solicit), not the packet's", async () => {
  // a's packets leave as 10.99.0.1, an address b has no route back to. b answers a's ARP all
  // the same (the request's sender is 192.168.7.10, arp_announce 0 takes the packet's source
  // only when it is local), takes the SYN in raw PREROUTING, and drops it on its strict
  // rp_filter: a times out. A request sent with 10.99.0.1 would get no answer from b (a's
  // route lookup would say unreachable), and b's rule would count nothing.
  const doc = labDoc({
    hosts: {
      a: { links: ['eth0 lan1 192.168.7.10/24'] },
      b: { links: ['eth0 lan1 192.168.7.20/24'], listen: ['tcp/80'] },
    },
    journal: [
      ['a', 'iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 10.99.0.1'],
      ['b', 'sysctl -w net.ipv4.conf.all.rp_filter=1'],
      ['b', 'iptables -t raw -A PREROUTING -p tcp --dport 80'],
    ],
  });
  await compareScenario('arp-sender', doc, [{ from: 'a', to: '192.168.7.20', port: 80, proto: 'tcp', expect: 'timeout' }]);
});
