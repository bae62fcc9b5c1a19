// An ICMP error about a NATed connection comes back with both its outer header and the packet it
// quotes translated (nf_nat_icmp_reply_translation): the client then finds the quote RELATED to
// its own connection. And an error the router makes itself (REJECT, no route) is attached to the
// packet's conntrack entry even though that entry was never confirmed (the kernel un-DNATs it as
// test/kernel/icmp-error-compare.test.ts shows). A client that tracks its connections counts what
// comes back as RELATED or INVALID.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import { answerFor, walkPacket } from '../../../main/engine/datapath/walk.ts';
import { formatIPv4, parseIPv4 } from '../../../main/engine/net/ipv4.ts';
import { PROTO } from '../../../main/engine/netfilter/types.ts';

function lab(masquerade: boolean): Lab {
  const doc = emptyLab('icmp-nat');
  doc.lans = [{ name: 'a' }, { name: 'b' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.1.2/24' }] },
    { name: 'router', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.1.1/24' }, { dev: 'eth1', lan: 'b', ip: '10.0.2.1/24' }] },
    { name: 'server', listen: [], links: [{ dev: 'eth0', lan: 'b', ip: '10.0.2.2/24' }] },
  ];
  const j = (host: string, cmd: string) => ({ host, argv: cmd.split(' ') });
  doc.journal = [
    j('client', 'ip route add default via 10.0.1.1'),
    j('server', 'ip route add default via 10.0.2.1'),
    j('router', 'sysctl -w net.ipv4.ip_forward=1'),
    j('client', 'iptables -A INPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT'),
    j('client', 'iptables -A INPUT -p icmp -m conntrack --ctstate INVALID -j ACCEPT'),
    j('router', 'iptables -t nat -A PREROUTING -d 10.96.0.10/32 -p udp --dport 5354 -j DNAT --to-destination 10.0.2.2:54'),
    j('router', 'iptables -t nat -A PREROUTING -d 10.96.0.10/32 -p udp --dport 5356 -j DNAT --to-destination 10.0.2.2:56'),
    j('router', 'iptables -A FORWARD -p udp --dport 56 -j REJECT --reject-with icmp-port-unreachable'),
    j('router', 'iptables -t nat -A PREROUTING -d 10.96.0.10/32 -p tcp --dport 8083 -j DNAT --to-destination 10.0.2.2:83'),
    j('router', 'iptables -A FORWARD -p tcp --dport 83 -j REJECT --reject-with tcp-reset'),
    // (a rule that matches nothing here, and the policy set: nat POSTROUTING exists, hooked, and
    // its policy counts what walks it, as iptables-nft counts a policy only once set)
    j('router', 'iptables -t nat -A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE'),
    j('router', 'iptables -t nat -P POSTROUTING ACCEPT'),
    j('router', 'iptables -A OUTPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT'),
    ...(masquerade ? [j('router', 'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE')] : []),
  ];
  return Lab.fromDoc(doc);
}

/** The packet counts of the client's RELATED and INVALID rules. */
function clientCounts(l: Lab): string[] {
  return l
    .exec('client', ['iptables-save', '-c'], '')
    .stdout.split('\n')
    .filter((x) => x.includes('--ctstate'))
    .map((x) => x.replace(/^\[(\d+):\d+\] .*--ctstate (\w+).*$/, '$2 $1'));
}

for (const masquerade of [false, true]) {
  test(`a closed port's ICMP error through DNAT${masquerade ? ' and MASQUERADE' : ''}: the quote is un-NATed too, so the client finds it RELATED`, () => {
    const l = lab(masquerade);
    const t = l.trace({ from: 'client', to: '10.96.0.10:5354', proto: 'udp', sport: 43000, keep: true }).json;
    assert.equal(t.outcome, 'refused', t.reason);
    assert.equal(t.reply?.outcome, 'delivered', t.reply?.reason);
    assert.equal(t.reply?.final.src, '10.96.0.10');
    assert.equal(t.reply?.final.dst, '10.0.1.2');
    const ct = t.reply!.events.filter((e) => e.kind === 'conntrack').map((e) => `${e.host} ${e.text.split(' ')[0]}`);
    assert.deepEqual(ct, ['router RELATED', 'client RELATED']);
    assert.deepEqual(clientCounts(l), ['RELATED 1', 'INVALID 0']);
  });
}

test('the router\'s own ICMP error for a packet it REJECTs after DNAT is attached to the packet\'s (unconfirmed) entry: RELATED, un-DNATed', () => {
  const l = lab(false);
  const t = l.trace({ from: 'client', to: '10.96.0.10:5356', proto: 'udp', sport: 43001, keep: true }).json;
  assert.equal(t.outcome, 'rejected', t.reason);
  assert.equal(t.reply?.outcome, 'delivered', t.reply?.reason);
  assert.equal(t.reply?.final.src, '10.96.0.10', 'the outer source un-DNATed (the router made it from 10.0.1.1)');
  const ct = t.reply!.events.filter((e) => e.kind === 'conntrack').map((e) => `${e.host} ${e.text.split(' ')[0]}`);
  assert.deepEqual(ct, ['router RELATED', 'client RELATED']);
  assert.deepEqual(clientCounts(l), ['RELATED 1', 'INVALID 0']);
  assert.match(l.exec('router', ['iptables-save', '-c'], '').stdout, /\[1:60\] -A OUTPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT/);
  // the rejected connection was never confirmed, and its error confirms nothing
  assert.equal(l.exec('router', ['conntrack', '-L'], '').stdout.trim(), '');
});

test('REJECT --reject-with tcp-reset after DNAT: the RST is attached to the SYN\'s entry, RELATED, un-DNATed, and walks nat POSTROUTING (that manip not set up yet)', () => {
  const l = lab(false);
  const t = l.trace({ from: 'client', to: '10.96.0.10:8083', proto: 'tcp', sport: 43003, keep: true }).json;
  assert.equal(t.outcome, 'rejected', t.reason);
  assert.equal(t.reply?.outcome, 'delivered', t.reply?.reason);
  assert.equal(`${t.reply?.final.flags} from ${t.reply?.final.src}:${t.reply?.final.sport}`, 'RST,ACK from 10.96.0.10:8083');
  assert.equal(t.reply?.events.find((e) => e.kind === 'conntrack' && e.host === 'router')?.text.split(' ')[0], 'RELATED');
  assert.ok(t.reply?.steps.some((s) => s.host === 'router' && s.table === 'nat' && s.chain === 'POSTROUTING'), 'nat POSTROUTING walked for the RST');
  // (the SYN never reached it: rejected in FORWARD)
  assert.match(l.exec('router', ['iptables-save', '-c', '-t', 'nat'], '').stdout, /^:POSTROUTING ACCEPT \[1:40\]$/m);
});

test('a packet with TTL 1 to be forwarded: the router sends time exceeded, attached to its entry and un-DNATed', () => {
  const l = lab(false);
  const pkt = { src: parseIPv4('10.0.1.2')!, dst: parseIPv4('10.96.0.10')!, proto: PROTO.udp, sport: 43010, dport: 5354, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 1, len: 32, mark: 0 };
  const w = walkPacket(l, { host: 'client', pkt }, { now: 0 });
  assert.equal(w.outcome, 'dropped');
  assert.match(w.reason, /TTL exceeded on router/);
  const back = answerFor(w, pkt)!;
  assert.deepEqual([back.pkt.icmpType, back.pkt.icmpCode, back.pkt.len, back.ct?.dir], [11, 0, 60, 'REPLY']);
  const r = walkPacket(l, back, { now: 0 });
  assert.equal(r.outcome, 'delivered', r.reason);
  assert.equal(formatIPv4(r.final.src), '10.96.0.10', 'un-DNATed on its way out of the router');
});
