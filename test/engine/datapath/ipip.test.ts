// IPIP (Calico's tunl0): a packet routed out of the tunnel is wrapped, crosses the LAN as
// protocol 4 between the nodes, and comes out of the peer's tunl0. (No kernel comparison: the
// machines that run CI have no ipip module.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';

function cluster(withTunnelOnNode2 = true): Lab {
  const doc = emptyLab('ipip');
  doc.lans = [{ name: 'lan' }];
  doc.hosts = [
    { name: 'node1', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '192.168.49.2/24' }] },
    { name: 'node2', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '192.168.49.3/24' }] },
    { name: 'pod', listen: [{ port: 80, proto: 'tcp' }], links: [] },
  ];
  doc.veths = [{ a: { host: 'pod', dev: 'eth0', ip: '10.244.2.5/32' }, b: { host: 'node2', dev: 'cali0' } }];
  const j = (host: string, cmd: string) => ({ host, argv: cmd.split(' ') });
  doc.journal = [
    j('node1', 'ip link add tunl0 type ipip'),
    j('node1', 'ip link set tunl0 up'),
    j('node1', 'ip addr add 10.244.1.1/32 dev tunl0'),
    j('node1', 'ip route add 10.244.2.0/24 via 192.168.49.3 dev tunl0 onlink'),
    ...(withTunnelOnNode2
      ? [j('node2', 'ip link add tunl0 type ipip'), j('node2', 'ip link set tunl0 up'), j('node2', 'ip addr add 10.244.2.1/32 dev tunl0'), j('node2', 'ip route add 10.244.1.0/24 via 192.168.49.2 dev tunl0 onlink')]
      : []),
    j('node2', 'sysctl -w net.ipv4.ip_forward=1'),
    j('node2', 'ip route add 10.244.2.5 dev cali0 scope link'),
    j('node2', 'sysctl -w net.ipv4.conf.cali0.proxy_arp=1'),
    j('node2', 'ip route add default via 192.168.49.1'),
    j('pod', 'ip route add 169.254.1.1 dev eth0 scope link'),
    j('pod', 'ip route add default via 169.254.1.1 dev eth0'),
  ];
  return Lab.fromDoc(doc);
}

test('a pod on another node is reached through tunl0, and answers back through it', () => {
  const j = cluster().trace({ from: 'node1', to: '10.244.2.5:80', proto: 'tcp' }).json;
  assert.equal(j.outcome, 'delivered', j.reason);
  assert.deepEqual(j.delivered, { host: 'pod', ip: '10.244.2.5', port: 80 });
  // the source is tunl0's address, as the kernel picks it for a route out of tunl0
  assert.equal(j.final.src, '10.244.1.1');
  const texts = j.events.map((e) => `${e.host}: ${e.text}`);
  assert.ok(texts.includes('node1: encapsulated in IPIP on tunl0 to 192.168.49.3'), texts.join('\n'));
  assert.ok(texts.some((t) => t.startsWith('node2: decapsulated from IPIP (outer 192.168.49.2 -> 192.168.49.3) on tunl0')), texts.join('\n'));
  assert.equal(j.reply?.outcome, 'delivered', j.reply?.reason);
  assert.ok(j.reply!.events.some((e) => e.text === 'encapsulated in IPIP on tunl0 to 192.168.49.2'));
});

test('without tunl0 on the receiving node the outer packet finds no protocol handler', () => {
  const j = cluster(false).trace({ from: 'node1', to: '10.244.2.5:80', proto: 'tcp' }).json;
  assert.equal(j.outcome, 'refused');
  assert.equal(j.reason, 'node2 has no handler for IP protocol 4');
  // node2 answers with ICMP protocol unreachable
  assert.deepEqual(j.reply?.packet.icmp, { type: 3, code: 2 });
});
