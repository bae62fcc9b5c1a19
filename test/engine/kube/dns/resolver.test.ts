import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askCoreDns, CoreDns } from '../../../../main/engine/kube/dns/coredns.ts';
import { TYPE_CODES, type DnsMessage } from '../../../../main/engine/kube/dns/message.ts';
import {
  formatResolvConf,
  gaiError,
  parseResolvConf,
  podResolvConf,
  resolveInCluster,
  searchCandidates,
  stubResolve,
  type DnsAsk,
} from '../../../../main/engine/kube/dns/resolver.ts';
import { articleCluster } from './fixtures.ts';

const { A, AAAA } = TYPE_CODES;
const rc = podResolvConf({ namespace: 'default' });

test("a pod's resolv.conf: cluster DNS, namespace search list, ndots:5, in the runtime's order", () => {
  assert.equal(formatResolvConf(rc), 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  assert.equal(formatResolvConf(rc, 'docker'), 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  const host = parseResolvConf('nameserver 192.168.49.1\nsearch example.internal\n');
  assert.deepEqual(podResolvConf({ namespace: 'kube-system', host }).search, ['kube-system.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.internal']);
  assert.deepEqual(podResolvConf({ namespace: 'default', host, hostNetwork: true }).nameservers, ['192.168.49.1']);
  assert.deepEqual(podResolvConf({ namespace: 'default', host, dnsPolicy: 'Default' }).search, ['example.internal']);
  const parsed = parseResolvConf(formatResolvConf(rc));
  assert.deepEqual([parsed.nameservers, parsed.search, parsed.ndots], [rc.nameservers, rc.search, 5]);
});

test('search order: fewer dots than ndots walk the list first; glibc tries a long name as is first', () => {
  assert.deepEqual(searchCandidates('webapp.default', rc), [
    'webapp.default.default.svc.cluster.local.',
    'webapp.default.svc.cluster.local.',
    'webapp.default.cluster.local.',
    'webapp.default.',
  ]);
  assert.deepEqual(searchCandidates('a.b.c.d.e.f', rc, 'glibc'), [
    'a.b.c.d.e.f.',
    'a.b.c.d.e.f.default.svc.cluster.local.',
    'a.b.c.d.e.f.svc.cluster.local.',
    'a.b.c.d.e.f.cluster.local.',
  ]);
  assert.deepEqual(searchCandidates('a.b.c.d.e.f', rc, 'musl'), ['a.b.c.d.e.f.']);
  assert.deepEqual(searchCandidates('webapp.default.svc.cluster.local.', rc), ['webapp.default.svc.cluster.local.']);
});

function recorder(ask: DnsAsk): { ask: DnsAsk; log: string[] } {
  const log: string[] = [];
  return {
    log,
    ask: (s, q: DnsMessage) => {
      log.push(`${q.question[0].name} ${q.question[0].type === A ? 'A' : 'AAAA'}`);
      return ask(s, q);
    },
  };
}

test('stubResolve: `webapp.default` answers on the second name, A and AAAA asked together', () => {
  const r = recorder(askCoreDns(new CoreDns(articleCluster())));
  const res = stubResolve('webapp.default', rc, r.ask, { types: [A, AAAA] });
  assert.equal(res.verdict, 'answer');
  assert.deepEqual(res.addresses, ['10.103.46.104']);
  assert.equal(res.canonicalName, 'webapp.default.svc.cluster.local.');
  assert.deepEqual(r.log, [
    'webapp.default.default.svc.cluster.local. A',
    'webapp.default.default.svc.cluster.local. AAAA',
    'webapp.default.svc.cluster.local. A',
    'webapp.default.svc.cluster.local. AAAA',
  ]);
});

test('stubResolve: an unknown name walks the whole list and fails with NXDOMAIN', () => {
  const r = recorder(askCoreDns(new CoreDns(articleCluster())));
  const res = stubResolve('db2', rc, r.ask);
  assert.equal(res.verdict, 'nxdomain');
  assert.equal(r.log.length, 4);
  assert.equal(gaiError(res.verdict).message, 'Name or service not known');
  assert.equal(gaiError(res.verdict, 'musl').message, 'Name does not resolve');
});

test('glibc goes on after NODATA and retries SERVFAIL; musl stops at the first non-NXDOMAIN', () => {
  // default.svc.cluster.local.<search>: NXDOMAIN; the search domain `svc.cluster.local` itself: NODATA.
  const ask = askCoreDns(new CoreDns(articleCluster(), { forward: () => null }));
  const glibc = recorder(ask);
  const g = stubResolve('default', { ...rc, search: ['svc.cluster.local', 'cluster.local'] }, glibc.ask, { flavor: 'glibc' });
  // default.svc.cluster.local NODATA, default.cluster.local NXDOMAIN, default. SERVFAIL (twice).
  assert.deepEqual(glibc.log, ['default.svc.cluster.local. A', 'default.cluster.local. A', 'default. A', 'default. A']);
  assert.equal(g.verdict, 'nodata');
  const musl = recorder(ask);
  const m = stubResolve('default', { ...rc, search: ['svc.cluster.local', 'cluster.local'] }, musl.ask, { flavor: 'musl' });
  assert.deepEqual(musl.log, ['default.svc.cluster.local. A']);
  assert.equal(m.verdict, 'nodata');
});

test('a CNAME without addresses ends the walk; a timeout ends it for every flavor', () => {
  const r = recorder(askCoreDns(new CoreDns(articleCluster())));
  const res = stubResolve('ext', rc, r.ask);
  assert.equal(res.verdict, 'nodata');
  assert.deepEqual(r.log, ['ext.default.svc.cluster.local. A']);
  const t = stubResolve('webapp', rc, () => ({ kind: 'timeout' }));
  assert.equal(t.verdict, 'timeout');
  assert.equal(t.queries.length, 1);
  assert.equal(gaiError('timeout').message, 'Temporary failure in name resolution');
});

test('resolve(name, type) for any type: SRV through the search list, queries and records', () => {
  const r = resolveInCluster(articleCluster(), 'default', '_http._tcp.backend', TYPE_CODES.SRV);
  assert.equal(r.verdict, 'answer');
  assert.deepEqual(
    r.queries.map((q) => q.name),
    ['_http._tcp.backend.default.svc.cluster.local.'],
  );
  assert.deepEqual(r.records, [{ name: '_http._tcp.backend.default.svc.cluster.local.', ttl: 30, data: { type: 'SRV', priority: 0, weight: 100, port: 80, target: 'backend.default.svc.cluster.local.' } }]);
  // From another namespace the short name misses: `backend.kube-system.svc...` is NXDOMAIN first.
  const other = resolveInCluster(articleCluster(), 'kube-system', 'backend.default', TYPE_CODES.A);
  assert.deepEqual(other.queries.map((q) => q.name), ['backend.default.kube-system.svc.cluster.local.', 'backend.default.svc.cluster.local.']);
  assert.deepEqual(other.addresses, ['10.96.100.20']);
});
