// `nc -u` in a lab: its datagrams walked like any packet. What each form sends was counted on
// the real kernel (netcat-openbsd 1.219, conntrack accounting on, the same commands in a
// namespace): no -v, no test; -v, udptest's X datagrams (one when an ICMP port unreachable
// answers the first, else two and one a second for -w seconds, 3 by default); then, without
// -z, stdin as one datagram. The text and exit status are compared with the real tool in
// test/kernel/netclients-format.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lab } from '../../../main/engine/lab.ts';
import { TRACK, twoHosts } from '../two-hosts.ts';

const lab = (): Lab => twoHosts([{ port: 5454, proto: 'udp' }], [['server', 'sysctl -w net.netfilter.nf_conntrack_acct=1'], ['server', TRACK]]);

describe('nc -u', () => {
  const cases: [string, number, string, string][] = [
    // line, exit status, stderr, what the server's conntrack counted (original direction)
    ['nc -zu -w1 10.0.0.20 5353', 0, '', ''],
    ['nc -zuv -w1 10.0.0.20 5353', 1, '', 'packets=1 bytes=29'],
    ['nc -zuv -w1 10.0.0.20 5454', 0, 'Connection to 10.0.0.20 5454 port [udp/*] succeeded!\n', 'packets=3 bytes=87'],
    ['nc -zuv 10.0.0.20 5454', 0, 'Connection to 10.0.0.20 5454 port [udp/*] succeeded!\n', 'packets=5 bytes=145'],
    ['echo hello | nc -u -w1 10.0.0.20 5353', 0, '', 'packets=1 bytes=34'],
    ['echo hello | nc -uv -w1 10.0.0.20 5353', 1, '', 'packets=1 bytes=29'],
    ['echo hello | nc -uv -w1 10.0.0.20 5454', 0, 'Connection to 10.0.0.20 5454 port [udp/*] succeeded!\n', 'packets=4 bytes=121'],
  ];
  for (const [line, code, stderr, counted] of cases) {
    it(`${line}: exit ${code}, ${counted || 'nothing sent'}`, () => {
      const l = lab();
      const r = l.console('client', [line])!;
      assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, '']);
      const ct = l.exec('server', ['conntrack', '-L', '-p', 'udp'], '').stdout;
      assert.equal(/packets=\d+ bytes=\d+/.exec(ct)?.[0] ?? '', counted);
      if (counted) assert.match(ct, /^udp {6}17 \d+ src=10\.0\.0\.10 dst=10\.0\.0\.20 sport=\d+ dport=5[34]5[34] /, 'UDP, not a TCP SYN');
    });
  }

  it('the datagrams are walked: a DROP rule on the server turns the test into a success, as without an ICMP error', () => {
    const l = lab();
    assert.equal(l.exec('server', ['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '5353', '-j', 'DROP'], '').code, 0);
    const r = l.console('client', ['nc -zuv -w1 10.0.0.20 5353'])!;
    assert.deepEqual([r.code, r.stderr], [0, 'Connection to 10.0.0.20 5353 port [udp/mdns] succeeded!\n']);
    assert.match(l.exec('server', ['iptables', '-L', 'INPUT', '-v', '-n', '-x'], '').stdout, /^ +3 +87 DROP /m);
  });
});
