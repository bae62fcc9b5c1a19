import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nslookup, parseNslookup, bindCandidates } from '../../../main/engine/shell/netclients/nslookup.ts';
import { podEnv } from './env.ts';

test("the article's `kubectl exec -i -t dnsutils -- nslookup webapp.default`, byte for byte", () => {
  const r = nslookup(['nslookup', 'webapp.default'], '', podEnv());
  assert.equal(r.stdout, 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\twebapp.default.svc.cluster.local\nAddress: 10.103.46.104\n\n');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  // The article prints the same lines with the tabs flattened.
  const article = ['Server: 10.96.0.10', 'Address: 10.96.0.10#53', 'Name: webapp.default.svc.cluster.local', 'Address: 10.103.46.104'];
  assert.deepEqual(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/\s+/g, ' ')),
    article,
  );
});

test('BIND 9.18 remarks on the missing RA flag and asks AAAA after the A answer', () => {
  const asked: string[] = [];
  const env = podEnv();
  const r = nslookup(['nslookup', 'webapp.default'], '', {
    ...env,
    profile: 'bind9.18',
    ask: (s, q) => {
      asked.push(`${q.question[0].name}/${q.question[0].type}`);
      return env.ask(s, q);
    },
  });
  assert.equal(
    r.stdout,
    ';; Got recursion not available from 10.96.0.10\n;; Got recursion not available from 10.96.0.10\nServer:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n' +
      'Name:\twebapp.default.svc.cluster.local\nAddress: 10.103.46.104\n;; Got recursion not available from 10.96.0.10\n\n',
  );
  assert.deepEqual(asked, ['webapp.default.default.svc.cluster.local./1', 'webapp.default.svc.cluster.local./1', 'webapp.default.svc.cluster.local./28']);
});

test('NXDOMAIN: `** server can\'t find NAME: NXDOMAIN` and exit status 1', () => {
  const r = nslookup(['nslookup', 'db2'], '', podEnv());
  assert.equal(r.stdout, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can't find db2: NXDOMAIN\n\n");
  assert.equal(r.code, 1);
});

test('a headless Service lists every address; an ExternalName its canonical name', () => {
  const hs = nslookup(['nslookup', 'webapp-hs'], '', podEnv());
  assert.equal(
    hs.stdout,
    'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\twebapp-hs.default.svc.cluster.local\nAddress: 10.244.120.102\nName:\twebapp-hs.default.svc.cluster.local\nAddress: 10.244.120.103\n\n',
  );
  const ext = nslookup(['nslookup', 'ext'], '', podEnv({ forward: (q) => ({ rcode: 0, answer: q.type === 1 ? [{ name: q.name, ttl: 60, data: { type: 'A', address: '93.184.216.34' } }] : [] }) }));
  assert.equal(ext.stdout, 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\next.default.svc.cluster.local\tcanonical name = example.com.\nName:\texample.com\nAddress: 93.184.216.34\n\n');
  assert.equal(ext.code, 0);
});

test('reverse lookups: 9.9 prints the server header, 9.18 does not', () => {
  const old = nslookup(['nslookup', '10.103.46.104'], '', podEnv());
  assert.equal(old.stdout, 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n104.46.103.10.in-addr.arpa\tname = webapp.default.svc.cluster.local.\n\n');
  const modern = nslookup(['nslookup', '10.103.46.104'], '', { ...podEnv(), profile: 'bind9.18' });
  assert.equal(modern.stdout, ';; Got recursion not available from 10.96.0.10\n104.46.103.10.in-addr.arpa\tname = webapp.default.svc.cluster.local.\n\n');
});

test('-type=srv, -type=soa and NODATA (`*** Can\'t find: No answer`, still exit 0)', () => {
  const srv = nslookup(['nslookup', '-type=srv', '_http._tcp.backend'], '', podEnv());
  assert.equal(srv.stdout, 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n_http._tcp.backend.default.svc.cluster.local\tservice = 0 100 80 backend.default.svc.cluster.local.\n\n');
  const soa = nslookup(['nslookup', '-type=soa', 'cluster.local.'], '', podEnv());
  assert.match(soa.stdout, /cluster\.local\n\torigin = ns\.dns\.cluster\.local\n\tmail addr = hostmaster\.cluster\.local\n\tserial = 1700000000\n\trefresh = 7200\n\tretry = 1800\n\texpire = 86400\n\tminimum = 30\n/);
  const none = nslookup(['nslookup', '-type=aaaa', 'webapp'], '', podEnv());
  assert.equal(none.stdout, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n*** Can't find webapp: No answer\n\n");
  assert.equal(none.code, 0);
});

test('no server reachable: the 9.9 and 9.18 lines, exit status 1', () => {
  const old = nslookup(['nslookup', 'webapp'], '', { ...podEnv(), ask: () => ({ kind: 'timeout' }) });
  assert.deepEqual([old.stdout, old.code], [';; connection timed out; no servers could be reached\n\n', 1]);
  const modern = nslookup(['nslookup', 'webapp'], '', { ...podEnv(), profile: 'bind9.18', ask: () => ({ kind: 'timeout' }) });
  assert.equal(modern.stdout, ';; communications error to 10.96.0.10#53: timed out\n'.repeat(3) + ';; no servers could be reached\n\n');
});

test('options: unknown ones are reported and ignored; BIND walks only NXDOMAIN', () => {
  const r = nslookup(['nslookup', '-bogus', 'webapp'], '', podEnv());
  assert.ok(r.stdout.startsWith('*** Invalid option: bogus\nServer:'));
  const p = parseNslookup(['nslookup', '-type=TXT', '-port=5353', 'x', '10.96.0.10']);
  assert.ok(!('code' in p));
  if (!('code' in p)) assert.deepEqual([p.type, p.port, p.server, p.defaultLookups], [16, 5353, '10.96.0.10', false]);
  assert.deepEqual(bindCandidates('a.b.c.d.e.f', ['x.local'], 5), ['a.b.c.d.e.f.']);
});
