import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeDns, addressFromReverse, reverseName } from '../../../../main/engine/kube/dns/records.ts';
import { rdataText, TYPE_CODES, type ResourceRecord } from '../../../../main/engine/kube/dns/message.ts';
import { articleCluster } from './fixtures.ts';

const { A, AAAA, SRV, PTR, CNAME, SOA, TXT, MX } = TYPE_CODES;

function texts(rrs: ResourceRecord[]): string[] {
  return rrs.map((r) => `${r.name} ${r.ttl} ${r.data.type} ${rdataText(r.data)}`);
}

const SOA_TEXT = 'cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30';

test('a ClusterIP Service answers one A record with its ClusterIP (kubeadm ttl 30)', () => {
  const k = new KubeDns(articleCluster());
  const r = k.answer('webapp.default.svc.cluster.local', A);
  assert.equal(r?.rcode, 'noerror');
  assert.deepEqual(texts(r?.answer ?? []), ['webapp.default.svc.cluster.local. 30 A 10.103.46.104']);
  assert.deepEqual(r?.authority, []);
  // Names are matched case-insensitively and answered with the case asked.
  assert.deepEqual(texts(new KubeDns(articleCluster()).answer('WebApp.Default.svc.cluster.local.', A)?.answer ?? []), ['WebApp.Default.svc.cluster.local. 30 A 10.103.46.104']);
});

test('a headless Service answers one A per ready endpoint; publishNotReadyAddresses adds the others', () => {
  const data = articleCluster();
  assert.deepEqual(texts(new KubeDns(data).answer('webapp-hs.default.svc.cluster.local.', A)?.answer ?? []), [
    'webapp-hs.default.svc.cluster.local. 30 A 10.244.120.102',
    'webapp-hs.default.svc.cluster.local. 30 A 10.244.120.103',
  ]);
  const svc = data.services.find((s) => s.name === 'webapp-hs');
  if (svc) svc.publishNotReadyAddresses = true;
  assert.equal(new KubeDns(data).answer('webapp-hs.default.svc.cluster.local.', A)?.answer.length, 3);
});

test('a headless Service without endpoints is NXDOMAIN, a ClusterIP one without endpoints still answers', () => {
  const k = new KubeDns(articleCluster());
  const r = k.answer('empty-hs.default.svc.cluster.local.', A);
  assert.equal(r?.rcode, 'nxdomain');
  assert.deepEqual(texts(r?.authority ?? []), [SOA_TEXT]);
  assert.deepEqual(texts(k.answer('db.default.svc.cluster.local.', A)?.answer ?? []), ['db.default.svc.cluster.local. 30 A 10.96.100.30']);
});

test('ExternalName answers a CNAME, followed by what the upstream returns for the target', () => {
  const alone = new KubeDns(articleCluster());
  assert.deepEqual(texts(alone.answer('ext.default.svc.cluster.local.', A)?.answer ?? []), ['ext.default.svc.cluster.local. 30 CNAME example.com.']);
  const withUpstream = new KubeDns(articleCluster(), (name, type) => (type === A ? [{ name, ttl: 300, data: { type: 'A', address: '93.184.216.34' } }] : []));
  assert.deepEqual(texts(withUpstream.answer('ext.default.svc.cluster.local.', A)?.answer ?? []), [
    'ext.default.svc.cluster.local. 30 CNAME example.com.',
    'example.com. 300 A 93.184.216.34',
  ]);
  assert.deepEqual(texts(alone.answer('ext.default.svc.cluster.local.', CNAME)?.answer ?? []), ['ext.default.svc.cluster.local. 30 CNAME example.com.']);
  // The plugin drops ExternalName Services from SRV answers: NODATA.
  const srv = alone.answer('ext.default.svc.cluster.local.', SRV);
  assert.equal(srv?.rcode, 'noerror');
  assert.equal(srv?.answer.length, 0);
});

test('SRV: _port._proto for a named port points at the Service, with its A as additional', () => {
  const k = new KubeDns(articleCluster());
  const r = k.answer('_http._tcp.backend.default.svc.cluster.local.', SRV);
  assert.deepEqual(texts(r?.answer ?? []), ['_http._tcp.backend.default.svc.cluster.local. 30 SRV 0 100 80 backend.default.svc.cluster.local.']);
  assert.deepEqual(texts(r?.additional ?? []), ['backend.default.svc.cluster.local. 30 A 10.96.100.20']);
  // A port name that does not exist: NXDOMAIN.
  assert.equal(k.answer('_https._tcp.backend.default.svc.cluster.local.', SRV)?.rcode, 'nxdomain');
  // The bare Service name lists every port, named or not.
  assert.deepEqual(texts(k.answer('webapp.default.svc.cluster.local.', SRV)?.answer ?? []), ['webapp.default.svc.cluster.local. 30 SRV 0 100 80 webapp.default.svc.cluster.local.']);
});

test('SRV of a headless Service: one record per endpoint, weights split, endpoint names as targets', () => {
  const k = new KubeDns(articleCluster());
  const r = k.answer('_http._tcp.webapp-hs.default.svc.cluster.local.', SRV);
  assert.deepEqual(texts(r?.answer ?? []), [
    '_http._tcp.webapp-hs.default.svc.cluster.local. 30 SRV 0 50 80 10-244-120-102.webapp-hs.default.svc.cluster.local.',
    '_http._tcp.webapp-hs.default.svc.cluster.local. 30 SRV 0 50 80 10-244-120-103.webapp-hs.default.svc.cluster.local.',
  ]);
  assert.deepEqual(texts(r?.additional ?? []), [
    '10-244-120-102.webapp-hs.default.svc.cluster.local. 30 A 10.244.120.102',
    '10-244-120-103.webapp-hs.default.svc.cluster.local. 30 A 10.244.120.103',
  ]);
});

test('endpoint names: dashed IP, spec.hostname, or the pod name with endpoint_pod_names', () => {
  const data = articleCluster();
  data.endpoints[1].addresses[0].hostname = 'web-0';
  let k = new KubeDns(data);
  assert.deepEqual(texts(k.answer('web-0.webapp-hs.default.svc.cluster.local.', A)?.answer ?? []), ['web-0.webapp-hs.default.svc.cluster.local. 30 A 10.244.120.102']);
  assert.deepEqual(texts(k.answer('10-244-120-103.webapp-hs.default.svc.cluster.local.', A)?.answer ?? []), ['10-244-120-103.webapp-hs.default.svc.cluster.local. 30 A 10.244.120.103']);
  // Endpoint names work for ClusterIP Services too.
  assert.equal(k.answer('10-244-120-102.webapp.default.svc.cluster.local.', A)?.answer[0]?.data.type, 'A');
  assert.equal(k.answer('10-244-120-111.backend.default.svc.cluster.local.', A)?.answer.length, 1);
  k = new KubeDns({ ...data, endpointPodNames: true });
  assert.equal(k.answer('backend-867fd6dff-mjf92.backend.default.svc.cluster.local.', A)?.answer.length, 1);
  assert.equal(k.answer('nope.webapp-hs.default.svc.cluster.local.', A)?.rcode, 'nxdomain');
});

test('PTR: a ClusterIP names its Service; a pod IP names every endpoint it is; others fall through', () => {
  const k = new KubeDns(articleCluster());
  assert.deepEqual(texts(k.answer(reverseName('10.103.46.104'), PTR)?.answer ?? []), ['104.46.103.10.in-addr.arpa. 30 PTR webapp.default.svc.cluster.local.']);
  assert.deepEqual(
    (k.answer('102.120.244.10.in-addr.arpa.', PTR)?.answer ?? []).map((r) => rdataText(r.data)),
    ['10-244-120-102.webapp.default.svc.cluster.local.', '10-244-120-102.webapp-hs.default.svc.cluster.local.'],
  );
  // `fallthrough in-addr.arpa`: the plugin does not answer, forward does.
  assert.equal(k.answer('3.2.1.10.in-addr.arpa.', PTR), null);
  assert.equal(addressFromReverse('104.46.103.10.in-addr.arpa.'), '10.103.46.104');
  assert.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa.');
});

test('pod records: `pods insecure` answers any dashed address, disabled and verified do not', () => {
  const data = articleCluster();
  assert.deepEqual(texts(new KubeDns(data).answer('10-244-1-5.default.pod.cluster.local.', A)?.answer ?? []), ['10-244-1-5.default.pod.cluster.local. 30 A 10.244.1.5']);
  assert.equal(new KubeDns(data).answer('blah.default.pod.cluster.local.', A)?.rcode, 'nxdomain');
  assert.equal(new KubeDns(data).answer('10-244-1-5.nosuchns.pod.cluster.local.', A)?.rcode, 'nxdomain');
  assert.equal(new KubeDns({ ...data, podMode: 'disabled' }).answer('10-244-1-5.default.pod.cluster.local.', A)?.rcode, 'nxdomain');
  const verified = new KubeDns({ ...data, podMode: 'verified' });
  assert.equal(verified.answer('10-244-1-5.default.pod.cluster.local.', A)?.rcode, 'nxdomain');
  assert.equal(verified.answer('10-244-120-111.default.pod.cluster.local.', A)?.answer.length, 1);
});

test('NXDOMAIN versus NODATA, both with the zone SOA as authority', () => {
  const k = new KubeDns(articleCluster());
  const cases: [string, number, 'noerror' | 'nxdomain'][] = [
    ['webapp.default.svc.cluster.local.', AAAA, 'noerror'], // the name exists, no AAAA
    ['webapp.default.svc.cluster.local.', MX, 'noerror'],
    ['default.svc.cluster.local.', A, 'noerror'], // a namespace alone
    ['svc.cluster.local.', A, 'noerror'],
    ['cluster.local.', A, 'noerror'],
    ['nosuch.default.svc.cluster.local.', A, 'nxdomain'],
    ['nosuch.default.svc.cluster.local.', AAAA, 'nxdomain'],
    ['webapp.nosuchns.svc.cluster.local.', A, 'nxdomain'],
    ['nosuchns.svc.cluster.local.', A, 'nxdomain'],
    ['webapp.default.default.svc.cluster.local.', A, 'nxdomain'], // the first search candidate of `webapp.default`
    ['foo.cluster.local.', A, 'nxdomain'],
    ['a.b.c.webapp.default.svc.cluster.local.', A, 'nxdomain'],
  ];
  for (const [name, type, rcode] of cases) {
    const r = k.answer(name, type);
    assert.equal(r?.rcode, rcode, `${name} ${type}`);
    assert.equal(r?.answer.length, 0, name);
    assert.deepEqual(texts(r?.authority ?? []), [SOA_TEXT], name);
  }
  // Outside the zones: not the plugin's business.
  assert.equal(k.answer('example.com.', A), null);
});

test('SOA answers the zone SOA for any name of the zone; TXT dns-version; NS for the apex', () => {
  const k = new KubeDns(articleCluster());
  assert.deepEqual(texts(k.answer('webapp.default.svc.cluster.local.', SOA)?.answer ?? []), [SOA_TEXT]);
  assert.deepEqual(texts(k.answer('dns-version.cluster.local.', TXT)?.answer ?? []), ['dns-version.cluster.local. 28800 TXT "1.1.0"']);
  const ns = k.answer('cluster.local.', TYPE_CODES.NS);
  assert.deepEqual(texts(ns?.answer ?? []), ['cluster.local. 30 NS ns.dns.cluster.local.']);
  assert.deepEqual(texts(ns?.additional ?? []), ['ns.dns.cluster.local. 30 A 10.96.0.10']);
  // A ttl of 500 keeps the SOA's own TTL at 300.
  assert.equal(new KubeDns({ ...articleCluster(), ttl: 500 }).soa().ttl, 300);
});

test('the record set lists what a zone transfer would: A, SRV per port, endpoint A, CNAME', () => {
  const set = texts(new KubeDns(articleCluster()).recordSet());
  assert.equal(set[0], SOA_TEXT);
  for (const line of [
    'webapp.default.svc.cluster.local. 30 A 10.103.46.104',
    'webapp.default.svc.cluster.local. 30 SRV 0 100 80 webapp.default.svc.cluster.local.',
    '_http._tcp.backend.default.svc.cluster.local. 30 SRV 0 100 80 backend.default.svc.cluster.local.',
    '10-244-120-103.webapp-hs.default.svc.cluster.local. 30 A 10.244.120.103',
    '_http._tcp.webapp-hs.default.svc.cluster.local. 30 SRV 0 50 80 10-244-120-102.webapp-hs.default.svc.cluster.local.',
    'ext.default.svc.cluster.local. 30 CNAME example.com.',
    '_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.',
  ]) {
    assert.ok(set.includes(line), line);
  }
  // Unnamed ports get no _port._proto record; not-ready endpoints are not listed.
  assert.ok(!set.some((l) => l.startsWith('_') && l.includes('.db.')));
  assert.ok(!set.some((l) => l.includes('10.244.120.104')));
});
