import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPing, ping, parsePing, type PingRequest, type ProbeOutcome } from '../../../main/engine/shell/netclients/ping.ts';
import { podEnv } from './env.ts';

function req(extra: Partial<PingRequest> = {}): PingRequest {
  return { host: '10.244.120.102', interval: 1, waitSec: 10, size: 56, numeric: false, quiet: false, ...extra };
}

const resolved = { ok: true as const, addresses: ['10.244.120.102'], canonicalName: '10.244.120.102' };

test('ping: replies, statistics with %g loss and mdev, exit 0', () => {
  const probes: ProbeOutcome[] = [
    { kind: 'reply', from: '10.244.120.102', ttl: 63, rttUs: 80 },
    { kind: 'reply', from: '10.244.120.102', ttl: 63, rttUs: 40 },
    { kind: 'lost' },
  ];
  const r = formatPing(req(), { resolution: resolved, probes, elapsedMs: 2003 });
  assert.equal(
    r.stdout,
    'PING 10.244.120.102 (10.244.120.102) 56(84) bytes of data.\n' +
      '64 bytes from 10.244.120.102: icmp_seq=1 ttl=63 time=0.080 ms\n' +
      '64 bytes from 10.244.120.102: icmp_seq=2 ttl=63 time=0.040 ms\n\n' +
      '--- 10.244.120.102 ping statistics ---\n3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms\n' +
      'rtt min/avg/max/mdev = 0.040/0.060/0.080/0.020 ms\n',
  );
  assert.equal(r.code, 0);
});

test('reply times lose precision as they grow, as iputils prints them', () => {
  const times = [999, 1234, 12345, 123456];
  const r = formatPing(req(), { resolution: resolved, probes: times.map((t) => ({ kind: 'reply', from: '10.244.120.102', ttl: 64, rttUs: t })), elapsedMs: 3000 });
  assert.deepEqual(
    [...r.stdout.matchAll(/time=(\S+) ms/g)].map((m) => m[1]),
    ['0.999', '1.23', '12.3', '123'],
  );
});

test('no reply at all: 100% loss, an empty rtt line, exit 1; ICMP errors count as errors', () => {
  const lost = formatPing(req(), { resolution: resolved, probes: [{ kind: 'lost' }, { kind: 'lost' }], elapsedMs: 1010 });
  assert.ok(lost.stdout.endsWith('\n--- 10.244.120.102 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1010ms\n\n'));
  assert.equal(lost.code, 1);
  const unreach = formatPing(req(), { resolution: resolved, probes: [{ kind: 'error', from: '10.244.120.1', message: 'Destination Host Unreachable' }], elapsedMs: 0 });
  assert.match(unreach.stdout, /From 10\.244\.120\.1 icmp_seq=1 Destination Host Unreachable\n\n--- .* ---\n1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time 0ms\n\n$/);
});

test('ping by name: the canonical name, and each reply named by its PTR record', () => {
  const env = { ...podEnv(), echo: (ip: string): ProbeOutcome => ({ kind: 'reply', from: ip, ttl: 64, rttUs: 50 }) };
  const r = ping(['ping', '-c', '1', 'webapp-hs'], '', env);
  assert.equal(
    r.stdout,
    'PING webapp-hs.default.svc.cluster.local (10.244.120.102) 56(84) bytes of data.\n' +
      '64 bytes from 10-244-120-102.webapp.default.svc.cluster.local (10.244.120.102): icmp_seq=1 ttl=64 time=0.050 ms\n\n' +
      '--- webapp-hs.default.svc.cluster.local ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n' +
      'rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n',
  );
  assert.match(ping(['ping', '-n', '-c', '1', 'webapp-hs'], '', env).stdout, /64 bytes from 10\.244\.120\.102: icmp_seq=1/);
});

test('ping errors: unknown host (exit 2), usage, bad counts', () => {
  const env = { ...podEnv(), echo: (): ProbeOutcome => ({ kind: 'lost' }) };
  assert.deepEqual(ping(['ping', '-c', '1', 'nosuch'], '', env), { stdout: '', stderr: 'ping: nosuch: Name or service not known\n', code: 2, changed: false });
  const err = (argv: string[]): [string, number] => {
    const r = parsePing(argv);
    return 'code' in r ? [r.stderr, r.code] : ['', 0];
  };
  assert.deepEqual(err(['ping']), ['ping: usage error: Destination address required\n', 1]);
  assert.deepEqual(err(['ping', '-c', 'abc', 'x']), ["ping: invalid argument: 'abc'\n", 1]);
  assert.deepEqual(err(['ping', '-c', '0', 'x']), ["ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n", 1]);
});
