import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askCoreDns, CoreDns } from '../../../../main/engine/kube/dns/coredns.ts';
import { decodeMessage, encodeMessage, makeQuery, RCODE, TYPE_CODES, EDNS_COOKIE, type DnsMessage } from '../../../../main/engine/kube/dns/message.ts';
import { articleCluster } from './fixtures.ts';

const { A, AAAA, SRV } = TYPE_CODES;
const DIG_EDNS = { udpSize: 1232, version: 0, do: false, extendedRcode: 0, options: [{ code: EDNS_COOKIE, data: [1, 2, 3, 4, 5, 6, 7, 8] }] };

test('the wire form round-trips, and compression shortens repeated names', () => {
  const dns = new CoreDns(articleCluster());
  const reply = dns.serve(makeQuery(0x1234, 'webapp-hs.default.svc.cluster.local', A));
  const plain = encodeMessage(reply, false);
  const packed = encodeMessage(reply, true);
  assert.ok(packed.length < plain.length);
  for (const bytes of [plain, packed]) {
    const back = decodeMessage(bytes);
    assert.deepEqual(back.answer, reply.answer);
    assert.equal(back.id, 0x1234);
    assert.equal(back.aa, true);
  }
  assert.throws(() => decodeMessage(plain.subarray(0, 20)));
});

test("dig's query gets the answer real dig sized at 121 bytes (uncompressed, cookie echoed)", () => {
  const dns = new CoreDns(articleCluster());
  const q = makeQuery(3027, 'webapp.default.svc.cluster.local', A, { edns: DIG_EDNS });
  const bytes = dns.serveBytes(encodeMessage(q, true));
  assert.ok(bytes);
  assert.equal(bytes.length, 121);
  const r = decodeMessage(bytes);
  assert.equal(r.id, 3027);
  assert.equal(r.qr && r.aa && r.rd, true);
  assert.equal(r.ra, false);
  assert.deepEqual(r.edns?.options, DIG_EDNS.options);
  assert.equal(r.edns?.udpSize, 1232);
});

test('NXDOMAIN carries the SOA; names outside the cluster go to forward (NXDOMAIN by default, RA set)', () => {
  const dns = new CoreDns(articleCluster());
  const nx = dns.serve(makeQuery(1, 'nosuch.default.svc.cluster.local', A));
  assert.equal(nx.rcode, RCODE.NXDOMAIN);
  assert.equal(nx.aa, true);
  assert.equal(nx.authority[0]?.data.type, 'SOA');
  const out = dns.serve(makeQuery(2, 'example.com', A));
  assert.equal(out.rcode, RCODE.NXDOMAIN);
  assert.equal(out.ra, true);
  assert.equal(out.aa, false);
  const offline = new CoreDns(articleCluster(), { forward: () => null });
  assert.equal(offline.serve(makeQuery(3, 'example.com', A)).rcode, RCODE.SERVFAIL);
  const online = new CoreDns(articleCluster(), { forward: (q) => ({ rcode: 0, answer: [{ name: q.name, ttl: 60, data: { type: 'A', address: '93.184.216.34' } }] }) });
  const ext = online.serve(makeQuery(4, 'ext.default.svc.cluster.local', A));
  assert.deepEqual(
    ext.answer.map((r) => r.data.type),
    ['CNAME', 'A'],
  );
});

test('a reply too big for 512 bytes is compressed, then truncated with TC', () => {
  const data = articleCluster();
  const addresses = Array.from({ length: 60 }, (_, i) => ({ ip: `10.244.${i >> 8}.${(i & 255) + 1}` }));
  data.endpoints.push({ namespace: 'default', name: 'big', addresses, ports: [{ port: 80 }] });
  data.services.push({ namespace: 'default', name: 'big', clusterIP: 'None', ports: [{ port: 80 }] });
  const dns = new CoreDns(data);
  const small = dns.serve(makeQuery(1, 'big.default.svc.cluster.local', A));
  assert.equal(small.tc, true);
  assert.ok(encodeMessage(small, true).length <= 512);
  const bigBuffer = dns.serve(makeQuery(1, 'big.default.svc.cluster.local', A, { edns: DIG_EDNS }));
  assert.equal(bigBuffer.tc, false);
  assert.equal(bigBuffer.answer.length, 60);
  assert.equal(dns.serve(makeQuery(1, 'big.default.svc.cluster.local', A), 'tcp').answer.length, 60);
});

test('loadbalance shuffles address records with the lab random source', () => {
  let s = 3;
  const dns = new CoreDns(articleCluster(), { random: () => (s = (s * 16807) % 2147483647) / 2147483647 });
  const orders = new Set<string>();
  for (let i = 0; i < 20; i++) orders.add(dns.serve(makeQuery(i, 'webapp-hs.default.svc.cluster.local', A)).answer.map((r) => (r.data.type === 'A' ? r.data.address : '')).join(','));
  assert.equal(orders.size, 2);
});

test('askCoreDns reports the wire size and a timeout for an unreachable server', () => {
  const ask = askCoreDns(new CoreDns(articleCluster()), (s) => s === '10.96.0.10');
  const ok = ask('10.96.0.10', makeQuery(1, '_http._tcp.webapp-hs.default.svc.cluster.local', SRV));
  assert.equal(ok.kind, 'reply');
  if (ok.kind === 'reply') {
    assert.equal(ok.reply.additional.length, 2);
    assert.equal(ok.size, encodeMessage(ok.reply as DnsMessage, false).length);
  }
  assert.equal(ask('10.96.0.11', makeQuery(1, 'x', AAAA)).kind, 'timeout');
});

test('minikube hosts entry answers before the kubernetes plugin', () => {
  const dns = new CoreDns(articleCluster(), { hosts: [{ ip: '192.168.49.1', names: ['host.minikube.internal'] }] });
  const r = dns.serve(makeQuery(1, 'host.minikube.internal', A));
  assert.deepEqual(r.answer, [{ name: 'host.minikube.internal.', ttl: 3600, data: { type: 'A', address: '192.168.49.1' } }]);
});
