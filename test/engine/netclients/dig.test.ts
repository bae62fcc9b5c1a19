import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dig, parseDig, questionLine, recordLine } from '../../../main/engine/shell/netclients/dig.ts';
import type { DnsExchange } from '../../../main/engine/kube/dns/resolver.ts';
import { podEnv } from './env.ts';

function withRtt(ms: number): ReturnType<typeof podEnv> {
  const env = podEnv();
  const ask = env.ask;
  return { ...env, ask: (s, q): DnsExchange => ({ ...ask(s, q), rttMs: ms }) as DnsExchange };
}

test('dig NAME: the whole 9.18 output, with the lab clock, the query time and the wire size', () => {
  const r = dig(['dig', 'webapp.default.svc.cluster.local'], '', withRtt(3));
  const id = /id: (\d+)/.exec(r.stdout)?.[1];
  const cookie = /COOKIE: ([0-9a-f]{16}) \(echoed\)/.exec(r.stdout)?.[1];
  assert.ok(id && cookie);
  assert.equal(
    r.stdout,
    '\n; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> webapp.default.svc.cluster.local\n;; global options: +cmd\n;; Got answer:\n' +
      ';; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n' +
      `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ${id}\n;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n` +
      ';; WARNING: recursion requested but not available\n\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n' +
      `; COOKIE: ${cookie} (echoed)\n;; QUESTION SECTION:\n;webapp.default.svc.cluster.local. IN\tA\n\n` +
      ';; ANSWER SECTION:\nwebapp.default.svc.cluster.local. 30 IN\tA\t10.103.46.104\n\n' +
      ';; Query time: 3 msec\n;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)\n;; WHEN: Mon Jan 15 09:05:03 UTC 2024\n;; MSG SIZE  rcvd: 121\n\n',
  );
  assert.equal(r.code, 0);
});

test('NXDOMAIN shows the SOA in the authority section; +short prints only the data', () => {
  const nx = dig(['dig', 'nosuch.default.svc.cluster.local'], '', podEnv());
  assert.match(nx.stdout, /status: NXDOMAIN/);
  assert.match(nx.stdout, /;; AUTHORITY SECTION:\ncluster\.local\.\t\t30\tIN\tSOA\tns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. 1700000000 7200 1800 86400 30\n\n/);
  assert.doesNotMatch(nx.stdout, /ANSWER SECTION/);
  assert.equal(nx.code, 0);
  assert.equal(dig(['dig', '+short', 'webapp-hs.default.svc.cluster.local'], '', podEnv()).stdout, '10.244.120.102\n10.244.120.103\n');
  assert.equal(dig(['dig', '+short', '-x', '10.103.46.104'], '', podEnv()).stdout, 'webapp.default.svc.cluster.local.\n');
  assert.equal(dig(['dig', '+short', 'nosuch.default.svc.cluster.local'], '', podEnv()).stdout, '');
});

test('master-file columns: tabs to 24/32/40/48, one space past a column', () => {
  assert.equal(recordLine({ name: 'example.com.', ttl: 300, data: { type: 'A', address: '1.2.3.4' } }), 'example.com.\t\t300\tIN\tA\t1.2.3.4');
  assert.equal(
    recordLine({ name: '_http._tcp.webapp-hs.default.svc.cluster.local.', ttl: 30, data: { type: 'SRV', priority: 0, weight: 50, port: 80, target: 'x.' } }),
    '_http._tcp.webapp-hs.default.svc.cluster.local.\t30 IN SRV 0 50 80 x.',
  );
  assert.equal(questionLine('google.com.', 1), ';google.com.\t\t\tIN\tA');
  assert.equal(questionLine('_http._tcp.webapp-hs.default.svc.cluster.local.', 33), ';_http._tcp.webapp-hs.default.svc.cluster.local.\tIN SRV');
});

test('+search walks the search list; +noall +answer prints bare records', () => {
  const r = dig(['dig', '+search', '+noall', '+answer', 'webapp'], '', podEnv());
  assert.equal(r.stdout, 'webapp.default.svc.cluster.local. 30 IN\tA\t10.103.46.104\n');
  const srv = dig(['dig', 'SRV', '+noall', '+answer', '+additional', '_http._tcp.backend.default.svc.cluster.local'], '', podEnv());
  // Column 56 is a tab stop: the separator before the SRV data is a tab, not a space.
  assert.equal(srv.stdout, '_http._tcp.backend.default.svc.cluster.local. 30 IN SRV\t0 100 80 backend.default.svc.cluster.local.\nbackend.default.svc.cluster.local. 30 IN A\t10.96.100.20\n');
});

test('no reply: the communications errors, `no servers could be reached`, exit status 9', () => {
  const r = dig(['dig', '+tries=2', 'webapp.default.svc.cluster.local'], '', { ...podEnv(), ask: () => ({ kind: 'timeout' }) });
  assert.equal(
    r.stdout,
    ';; communications error to 10.96.0.10#53: timed out\n'.repeat(2) +
      '\n; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> +tries=2 webapp.default.svc.cluster.local\n;; global options: +cmd\n;; no servers could be reached\n',
  );
  assert.equal(r.code, 9);
});

test('the command line: types before or after the name, -x, @server, bad options', () => {
  const p = parseDig(['dig', '@10.96.0.10', 'AAAA', 'webapp.default.svc.cluster.local', '+short']);
  assert.ok(!('code' in p));
  if (!('code' in p)) assert.deepEqual([p.server, p.type, p.name, p.short], ['10.96.0.10', 28, 'webapp.default.svc.cluster.local', true]);
  const x = parseDig(['dig', '-x', '10.96.0.10']);
  if (!('code' in x)) assert.deepEqual([x.name, x.type], ['10.0.96.10.in-addr.arpa.', 12]);
  const bad = dig(['dig', '+bogus', 'x'], '', podEnv());
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Invalid option: \+bogus\nUsage: {2}dig \[@global-server\]/);
});
