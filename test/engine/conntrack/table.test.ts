import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConntrackTable } from '../../../main/engine/conntrack/table.ts';
import { formatLine } from '../../../main/engine/conntrack/format.ts';
import { ACK, FIN, PSH, RST, SYN, dnat, icmp, ip, pass, snat, tcp, udp } from './helpers.ts';

test('TCP handshake, data and teardown walk the kernel states and timeouts', () => {
  const t = new ConntrackTable();
  const c = '10.0.0.1';
  const s = '10.0.0.2';
  let st = pass(t, tcp(c, 40000, s, 80, SYN), 0);
  assert.equal(st.state, 'NEW');
  assert.equal(st.isNew, true);
  const e = st.entry!;
  assert.equal(e.tcp?.state, 'SYN_SENT');
  assert.equal(formatLine(e, 0), 'tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1');

  st = pass(t, tcp(s, 80, c, 40000, SYN | ACK), 1);
  assert.equal(st.state, 'ESTABLISHED');
  assert.equal(st.dir, 'REPLY');
  assert.equal(e.tcp?.state, 'SYN_RECV');
  assert.equal(formatLine(e, 1), 'tcp      6 60 SYN_RECV src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1');

  st = pass(t, tcp(c, 40000, s, 80, ACK), 1);
  assert.equal(st.state, 'ESTABLISHED');
  assert.equal(e.tcp?.state, 'ESTABLISHED');
  assert.ok(e.status.has('ASSURED'));
  assert.equal(formatLine(e, 1.5), 'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1');

  pass(t, tcp(c, 40000, s, 80, PSH | ACK), 2);
  pass(t, tcp(c, 40000, s, 80, FIN | ACK), 3);
  assert.equal(e.tcp?.state, 'FIN_WAIT');
  assert.equal(e.expires, 3 + 120);
  pass(t, tcp(s, 80, c, 40000, ACK), 3);
  assert.equal(e.tcp?.state, 'CLOSE_WAIT');
  assert.equal(e.expires, 3 + 60);
  pass(t, tcp(s, 80, c, 40000, FIN | ACK), 4);
  assert.equal(e.tcp?.state, 'LAST_ACK');
  assert.equal(e.expires, 4 + 30);
  pass(t, tcp(c, 40000, s, 80, ACK), 4);
  assert.equal(e.tcp?.state, 'TIME_WAIT');
  assert.equal(formatLine(e, 4), 'tcp      6 120 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1');
  assert.equal(t.count(), 1);
});

test('SYN retransmits do not refresh an unanswered entry; a RST as the only answer removes it', () => {
  const t = new ConntrackTable();
  const e = pass(t, tcp('10.0.0.1', 41000, '10.0.0.2', 82, SYN), 0).entry!;
  pass(t, tcp('10.0.0.1', 41000, '10.0.0.2', 82, SYN), 1);
  pass(t, tcp('10.0.0.1', 41000, '10.0.0.2', 82, SYN), 3);
  assert.equal(formatLine(e, 3), 'tcp      6 117 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=41000 dport=82 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=82 dport=41000 mark=0 use=1');
  const r = pass(t, tcp('10.0.0.2', 82, '10.0.0.1', 41000, RST | ACK), 3);
  assert.equal(r.state, 'ESTABLISHED'); // the RST itself still passes with its conntrack
  assert.equal(t.count(), 0);
});

test('loose pickup: a first ACK opens ESTABLISHED with the 300 s unacknowledged timeout; FIN, RST, SYN/ACK open nothing', () => {
  const t = new ConntrackTable();
  const st = pass(t, tcp('10.0.0.1', 50001, '10.0.0.2', 9001, ACK), 0);
  assert.equal(st.state, 'NEW');
  assert.equal(formatLine(st.entry!, 0), 'tcp      6 300 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=50001 dport=9001 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=9001 dport=50001 mark=0 use=1');
  for (const f of [FIN | ACK, RST, SYN | ACK, FIN, 0]) {
    assert.equal(pass(t, tcp('10.0.0.1', 50002, '10.0.0.2', 9002, f), 0).state, 'INVALID');
  }
  assert.equal(t.count(), 1);
  // The answer and the next original packet make it ASSURED with the full timeout.
  pass(t, tcp('10.0.0.2', 9001, '10.0.0.1', 50001, ACK), 1);
  assert.equal(st.entry!.expires, 1 + 300);
  pass(t, tcp('10.0.0.1', 50001, '10.0.0.2', 9001, ACK), 2);
  assert.ok(st.entry!.status.has('ASSURED'));
  assert.equal(st.entry!.expires, 2 + 432000);

  const strict = new ConntrackTable({ tcpLoose: false });
  assert.equal(pass(strict, tcp('10.0.0.1', 50001, '10.0.0.2', 9001, ACK), 0).state, 'INVALID');
});

test('out-of-state packets are INVALID or ignored, and an invalid first packet is never inserted', () => {
  const t = new ConntrackTable();
  const e = pass(t, tcp('10.0.0.1', 40000, '10.0.0.2', 80, SYN), 0).entry!;
  // an ACK from the client before any SYN/ACK
  assert.equal(pass(t, tcp('10.0.0.1', 40000, '10.0.0.2', 80, ACK), 0).state, 'INVALID');
  // FIN without ACK is a bad flag combination
  assert.equal(pass(t, tcp('10.0.0.2', 80, '10.0.0.1', 40000, FIN), 0).state, 'INVALID');
  assert.equal(e.tcp?.state, 'SYN_SENT');
  pass(t, tcp('10.0.0.2', 80, '10.0.0.1', 40000, SYN | ACK), 0);
  pass(t, tcp('10.0.0.1', 40000, '10.0.0.2', 80, ACK), 0);
  // a SYN inside an established connection is ignored: passes, changes nothing
  const r = t.track(tcp('10.0.0.1', 40000, '10.0.0.2', 80, SYN), 1);
  assert.equal(r.kind, 'tracked');
  assert.equal(r.kind === 'tracked' && r.verdict, 'ignore');
  assert.equal(e.tcp?.state, 'ESTABLISHED');
  assert.equal(t.stats.invalid, 2);
});

test('a new SYN on a TIME_WAIT tuple replaces the old entry (reopen)', () => {
  const t = new ConntrackTable();
  const c = '10.0.0.1';
  const s = '10.0.0.2';
  const old = pass(t, tcp(c, 40000, s, 80, SYN), 0).entry!;
  for (const [from, flags] of [[s, SYN | ACK], [c, ACK], [c, FIN | ACK], [s, FIN | ACK], [c, ACK]] as const) {
    pass(t, from === c ? tcp(c, 40000, s, 80, flags) : tcp(s, 80, c, 40000, flags), 1);
  }
  assert.equal(old.tcp?.state, 'TIME_WAIT');
  const st = pass(t, tcp(c, 40000, s, 80, SYN), 5);
  assert.equal(st.state, 'NEW');
  assert.equal(st.isNew, true);
  assert.notEqual(st.entry, old);
  assert.equal(t.has(old), false);
  assert.equal(st.entry?.tcp?.state, 'SYN_SENT');
  assert.equal(t.count(), 1);
});

test('UDP: 30 s until answered, 120 s and ASSURED for a stream still alive after 2 s', () => {
  const t = new ConntrackTable();
  const e = pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 0).entry!;
  assert.equal(formatLine(e, 0), 'udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=40001 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=40001 mark=0 use=1');
  assert.equal(pass(t, udp('10.0.0.2', 53, '10.0.0.1', 40001), 0).state, 'ESTABLISHED');
  assert.equal(formatLine(e, 1), 'udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=40001 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=40001 mark=0 use=1');
  pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 1); // within 2 s: still not a stream
  assert.equal(e.status.has('ASSURED'), false);
  pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 5);
  assert.equal(formatLine(e, 5), 'udp      17 120 src=10.0.0.1 dst=10.0.0.2 sport=40001 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=40001 [ASSURED] mark=0 use=1');
});

test('ICMP echo is keyed by id/type/code; an unmatched echo reply is INVALID', () => {
  const t = new ConntrackTable();
  const e = pass(t, icmp('10.0.0.1', '10.0.0.2', 8, 0, 777), 0).entry!;
  const r = pass(t, icmp('10.0.0.2', '10.0.0.1', 0, 0, 777), 0);
  assert.equal(r.entry, e);
  assert.equal(r.dir, 'REPLY');
  assert.equal(formatLine(e, 1), 'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=777 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=777 mark=0 use=1');
  assert.equal(pass(t, icmp('10.0.0.2', '10.0.0.1', 0, 0, 778), 0).state, 'INVALID');
  // another id is another connection
  assert.notEqual(pass(t, icmp('10.0.0.1', '10.0.0.2', 8, 0, 778), 0).entry, e);
  assert.equal(t.count(), 2);
});

test('an ICMP error quoting a packet of a known connection is RELATED, in the direction it travels', () => {
  const t = new ConntrackTable();
  const e = pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 0).entry!;
  const err = icmp('10.0.0.2', '10.0.0.1', 3, 3, 0);
  const inner = { src: ip('10.0.0.1'), dst: ip('10.0.0.2'), proto: 17, sport: 40001, dport: 53 };
  const ref = t.lookupRelated(err, inner);
  assert.equal(ref?.entry, e);
  assert.equal(ref?.dir, 'REPLY');
  assert.equal(t.state(e, 'REPLY', err), 'RELATED');
  const r = t.track(err, 0, inner);
  assert.equal(r.kind === 'tracked' && r.state, 'RELATED');
  // an error about an unknown connection has no conntrack
  const r2 = t.track(err, 0, { ...inner, sport: 1 });
  assert.equal(r2.kind, 'invalid');
  assert.equal(e.status.has('SEEN_REPLY'), false);
});

test('DNAT: the reply tuple is rewritten and replies are de-NATed (client pod -> service -> server pod)', () => {
  const t = new ConntrackTable();
  const client = '1.1.1.10';
  const svc = '2.2.2.10';
  const pod = '1.1.1.20';
  const st = pass(t, tcp(client, 35000, svc, 80, SYN), 0, { dnat: dnat(pod, 80) });
  assert.equal(st.out.dst, ip(pod));
  assert.equal(st.out.dport, 80);
  const e = st.entry!;
  assert.ok(e.status.has('DNAT'));
  assert.equal(e.status.has('SNAT'), false);
  assert.equal(formatLine(e, 0), 'tcp      6 120 SYN_SENT src=1.1.1.10 dst=2.2.2.10 sport=35000 dport=80 [UNREPLIED] src=1.1.1.20 dst=1.1.1.10 sport=80 dport=35000 mark=0 use=1');
  // the reply from the pod is found by the reply tuple and rewritten to come from the service
  const r = pass(t, tcp(pod, 80, client, 35000, SYN | ACK), 0);
  assert.equal(r.entry, e);
  assert.equal(r.dir, 'REPLY');
  assert.equal(r.out.src, ip(svc));
  assert.equal(r.out.sport, 80);
  assert.deepEqual(t.natFor(e, 'REPLY'), { src: { addr: ip(svc), port: 80 } });
  assert.deepEqual(t.natFor(e, 'ORIGINAL'), { dst: { addr: ip(pod), port: 80 } });
  // next client packet is rewritten without a new binding
  const a = pass(t, tcp(client, 35000, svc, 80, ACK), 0);
  assert.equal(a.isNew, false);
  assert.equal(a.out.dst, ip(pod));
});

test('SNAT keeps the source port when free and reallocates it on a clash', () => {
  const t = new ConntrackTable();
  const rng = (() => {
    let x = 0.25;
    return () => (x = (x * 7.13 + 0.37) % 1);
  })();
  const a = pass(t, tcp('10.0.1.5', 40000, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1'), rng });
  assert.equal(a.out.src, ip('192.168.0.1'));
  assert.equal(a.out.sport, 40000);
  assert.ok(a.entry!.status.has('SNAT'));
  // another client with the same source port to the same server: the tuple would clash
  const b = pass(t, tcp('10.0.1.6', 40000, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1'), rng });
  assert.equal(b.out.src, ip('192.168.0.1'));
  assert.notEqual(b.out.sport, 40000);
  assert.ok(b.out.sport >= 1024 && b.out.sport <= 65535);
  assert.equal(b.dropped, false);
  assert.equal(t.count(), 2);
  // the reply to the second one finds it by its own port and is de-NATed to the client
  const rb = pass(t, tcp('8.8.8.8', 443, '192.168.0.1', b.out.sport, SYN | ACK), 0);
  assert.equal(rb.entry, b.entry);
  assert.equal(rb.out.dst, ip('10.0.1.6'));
  assert.equal(rb.out.dport, 40000);
  // ports below 1024 stay below 1024 (and below 512 when they were)
  const c = pass(t, tcp('10.0.1.7', 40000, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1'), rng });
  const d1 = pass(t, tcp('10.0.1.5', 700, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1'), rng });
  const d2 = pass(t, tcp('10.0.1.6', 700, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1'), rng });
  assert.notEqual(c.out.sport, b.out.sport);
  assert.equal(d1.out.sport, 700);
  assert.ok(d2.out.sport >= 600 && d2.out.sport <= 1023 && d2.out.sport !== 700);
});

test('SNAT port range, --random-fully and the same-source mapping', () => {
  const t = new ConntrackTable();
  const rng = () => 0.999;
  const range = snat('10.0.0.1', undefined, { minPort: 20000, maxPort: 20010 });
  const a = pass(t, tcp('10.0.0.1', 44001, '10.0.0.2', 8081, SYN), 0, { snat: range, rng });
  // not in range -> random offset into the range (65470 % 11 = 9)
  assert.equal(a.out.sport, 20009);
  // the same source port to another destination reuses its mapping
  const b = pass(t, tcp('10.0.0.1', 44001, '10.0.0.3', 8081, SYN), 0, { snat: range, rng });
  assert.equal(b.out.sport, 20009);
  // --random-fully skips keeping the port even when it would be free
  const t2 = new ConntrackTable();
  const c = pass(t2, tcp('10.0.1.5', 40000, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1', undefined, { randomFully: true }), rng: () => 0 });
  assert.equal(c.out.sport, 1024);
});

test('address ranges pick the address the kernel picks (jhash of the addresses)', () => {
  // Observed on Linux 6.18: SNAT --to-source 10.0.0.5-10.0.0.7 for 10.0.0.1 -> 10.0.0.2 chose .5;
  // DNAT --to-destination 10.0.0.30-10.0.0.32 for 10.0.0.5 -> 10.0.0.2 chose .31.
  const t = new ConntrackTable();
  const a = pass(t, tcp('10.0.0.1', 44002, '10.0.0.2', 8082, SYN), 0, { snat: snat('10.0.0.5', '10.0.0.7') });
  assert.equal(a.out.src, ip('10.0.0.5'));
  const b = pass(t, tcp('10.0.0.5', 44002, '10.0.0.2', 8082, SYN), 0, { dnat: dnat('10.0.0.30', 80, { maxIp: ip('10.0.0.32') }) });
  assert.equal(b.out.dst, ip('10.0.0.31'));
});

test('MASQUERADE uses the address the walk chose, and drops without one', () => {
  const t = new ConntrackTable();
  const masq = { kind: 'masquerade' as const, random: false, randomFully: false, persistent: false };
  const a = pass(t, tcp('10.244.1.5', 40000, '1.1.1.1', 443, SYN), 0, { snat: masq, masqAddr: ip('192.168.1.10') });
  assert.equal(a.out.src, ip('192.168.1.10'));
  const e = t.createUnconfirmed(tcp('10.244.1.6', 40000, '1.1.1.1', 443, SYN), 0)!;
  const r = t.bindNat(e, 'src', masq, { rng: () => 0 });
  assert.equal(r.ok, false);
});

test('the null binding reallocates a source port that a NATed connection already took', () => {
  const t = new ConntrackTable();
  // a host-NATed connection occupies 192.168.0.1:40000 -> 8.8.8.8:443
  pass(t, tcp('10.0.1.5', 40000, '8.8.8.8', 443, SYN), 0, { snat: snat('192.168.0.1') });
  // the host itself now connects from that very tuple: no rule NATs it, the null binding does
  const own = pass(t, tcp('192.168.0.1', 40000, '8.8.8.8', 443, SYN), 0, { rng: () => 0.5 });
  assert.ok(own.entry!.status.has('SNAT'));
  assert.notEqual(own.out.sport, 40000);
  assert.equal(own.dropped, false);
});

test('a reply-tuple clash: the null binding moves the newcomer to another port; without NAT it is dropped at confirm', () => {
  const t = new ConntrackTable();
  const first = pass(t, tcp('10.0.0.1', 40000, '10.96.0.10', 80, SYN), 0, { dnat: dnat('10.0.0.20', 80) }).entry!;
  // the same client straight to the pod from the same port: its reply tuple is taken
  const direct = pass(t, tcp('10.0.0.1', 40000, '10.0.0.20', 80, SYN), 0, { rng: () => 0.1 });
  assert.equal(direct.dropped, false);
  assert.notEqual(direct.out.sport, 40000);
  assert.ok(direct.entry!.status.has('SNAT'));
  assert.equal(t.count(), 2);
  // a host without NAT hooks has no null binding: the kernel drops the packet at confirm
  const plain = new ConntrackTable();
  // the server side opened a connection that holds our reply tuple as its original one
  const other = tcp('10.0.0.20', 80, '10.0.0.1', 40000, ACK);
  const o = plain.createUnconfirmed(other, 0)!;
  plain.update(o, 'ORIGINAL', other, 0);
  plain.confirm(o, 0);
  const e = plain.createUnconfirmed(tcp('10.0.0.1', 40000, '10.0.0.20', 80, SYN), 0)!;
  assert.equal(plain.update(e, 'ORIGINAL', tcp('10.0.0.1', 40000, '10.0.0.20', 80, SYN), 0).verdict, 'accept');
  assert.equal(plain.confirm(e, 0), undefined);
  assert.equal(plain.stats.insert_failed, 1);
  assert.equal(plain.count(), 1);
  assert.equal(first.status.has('DNAT'), true);
});

test('timeouts run on the lab clock; expire() removes the dead and list(now) hides them', () => {
  const t = new ConntrackTable();
  pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 100);
  pass(t, icmp('10.0.0.1', '10.0.0.2', 8, 0, 1), 110);
  assert.equal(t.list({}, 129.5).length, 2);
  assert.equal(t.list({}, 130).length, 1);
  assert.deepEqual(t.expire(135).map((e) => e.orig.proto), [17]);
  assert.equal(t.count(), 1);
  assert.equal(t.expire(140).length, 1);
  assert.equal(t.count(), 0);
  // a packet of an expired but not yet reaped entry starts a new connection
  const e = pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 200).entry!;
  const again = pass(t, udp('10.0.0.1', 40001, '10.0.0.2', 53), 300);
  assert.equal(again.isNew, true);
  assert.notEqual(again.entry, e);
});

test('clone() is a deep copy and JSON round-trips', () => {
  const t = new ConntrackTable();
  const e = pass(t, tcp('10.0.0.1', 40000, '10.0.0.2', 80, SYN), 0, { dnat: dnat('10.0.0.3', 8080) }).entry!;
  const c = t.clone();
  pass(c, tcp('10.0.0.3', 8080, '10.0.0.1', 40000, SYN | ACK), 1);
  c.list()[0].mark = 7;
  assert.equal(e.tcp?.state, 'SYN_SENT');
  assert.equal(e.mark, 0);
  assert.equal(c.list()[0].tcp?.state, 'SYN_RECV');
  const back = ConntrackTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.toJSON(), t.toJSON());
  assert.equal(formatLine(back.list()[0], 0), formatLine(e, 0));
  // ids keep counting after a round trip
  const n = pass(back, udp('10.0.0.1', 1, '10.0.0.2', 2), 0).entry!;
  assert.equal(n.id, e.id + 1);
});

test('view() exposes state and tuples, and CONNMARK writes through to the entry', () => {
  const t = new ConntrackTable();
  const p = tcp('10.0.0.1', 40000, '10.0.0.2', 80, SYN);
  const e = pass(t, p, 0).entry!;
  const v = t.view(e, 'ORIGINAL', p, 10);
  assert.equal(v.state, 'NEW');
  assert.equal(v.expires, 110);
  assert.ok(v.status.has('CONFIRMED'));
  v.mark = 0x4000;
  assert.equal(e.mark, 0x4000);
  assert.equal(t.view(e, 'REPLY', undefined, 10).mark, 0x4000);
  assert.equal(t.view(e, 'REPLY', undefined, 10).state, 'ESTABLISHED');
});

test('delete() and flush()', () => {
  const t = new ConntrackTable();
  pass(t, tcp('10.0.0.1', 1, '10.0.0.2', 80, SYN), 0);
  pass(t, udp('10.0.0.1', 2, '10.0.0.3', 53), 0);
  assert.equal(t.delete({ proto: 17 }).length, 1);
  assert.equal(t.lookup(udp('10.0.0.1', 2, '10.0.0.3', 53)), undefined);
  assert.equal(t.flush(), 1);
  assert.equal(t.count(), 0);
});
