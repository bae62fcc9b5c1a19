// Conntrack timeouts come from the namespace's net.netfilter.nf_conntrack_*_timeout* sysctls,
// read at each packet (as the kernel reads its per-namespace values): a change applies from an
// entry's next packet. The kernel comparison is phase 8 of test/kernel/conntrack-events-compare.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../../main/engine/lab.ts';
import { TRACK, twoHosts } from '../two-hosts.ts';

const pair = (): Lab => twoHosts([{ port: 80, proto: 'tcp' }, { port: 53, proto: 'udp' }], [['server', TRACK]]);

const sh = (lab: Lab, host: string, line: string) => {
  const r = lab.console(host, [line]);
  assert.equal(r?.code, 0, `${line}: ${r?.stderr}`);
  return r!.stdout;
};
const timeoutOf = (lab: Lab, proto: string) => Number(/^\w+ +\d+ (\d+) /.exec(sh(lab, 'server', `conntrack -L -p ${proto}`))?.[1]);

describe('conntrack timeouts', () => {
  it('are the sysctls: ICMP, UDP, and each TCP state', () => {
    const lab = pair();
    for (const [k, v] of [['icmp_timeout', 20], ['udp_timeout', 45], ['tcp_timeout_time_wait', 77]]) sh(lab, 'server', `sysctl -w net.netfilter.nf_conntrack_${k}=${v}`);
    sh(lab, 'client', 'ping -c1 10.0.0.20');
    sh(lab, 'client', 'echo hi | nc -u -w1 10.0.0.20 53');
    sh(lab, 'client', 'curl -s 10.0.0.20');
    assert.equal(timeoutOf(lab, 'icmp'), 20);
    assert.equal(timeoutOf(lab, 'udp'), 45);
    assert.equal(timeoutOf(lab, 'tcp'), 77);
  });

  it('a change applies from an entry\'s next packet; the entry dies when its timeout says', () => {
    const lab = pair();
    sh(lab, 'client', 'ping -c1 10.0.0.20');
    assert.equal(timeoutOf(lab, 'icmp'), 30);
    sh(lab, 'server', 'sysctl -w net.netfilter.nf_conntrack_icmp_timeout=100');
    assert.equal(timeoutOf(lab, 'icmp'), 30, 'no packet since: as it was');
    sh(lab, 'client', 'ping -c1 10.0.0.20');
    assert.equal(timeoutOf(lab, 'icmp'), 100);
    sh(lab, 'server', 'sleep 99');
    assert.equal(timeoutOf(lab, 'icmp'), 1);
    sh(lab, 'server', 'sleep 1');
    assert.equal(sh(lab, 'server', 'conntrack -L -p icmp'), '');
  });

  it('are saved as the sysctls they are, not with the table: a reopened lab reads them again', () => {
    const lab = pair();
    sh(lab, 'server', 'sysctl -w net.netfilter.nf_conntrack_icmp_timeout=100');
    sh(lab, 'client', 'ping -c1 10.0.0.20');
    const doc = lab.toDoc() as unknown as { runtime: { hosts: Record<string, { ct: { settings: object } }> } };
    assert.deepEqual(Object.keys(doc.runtime.hosts.server.ct.settings).sort(), ['acct', 'tcpLoose']);
    const again = Lab.fromDoc(lab.toDoc());
    assert.equal(timeoutOf(again, 'icmp'), 100);
    sh(again, 'client', 'ping -c1 10.0.0.20');
    assert.equal(timeoutOf(again, 'icmp'), 100);
  });

  it('an unanswered mid-stream pick-up is capped by tcp_timeout_unacknowledged', () => {
    const lab = pair();
    sh(lab, 'server', 'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_unacknowledged=42');
    // (the server's RST to the stray ACK would end the entry at once: dropped before conntrack)
    sh(lab, 'server', 'iptables -t raw -A OUTPUT -p tcp --tcp-flags RST RST -j DROP');
    lab.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', tcpFlags: 'ACK', keep: true });
    assert.equal(timeoutOf(lab, 'tcp'), 42);
  });
});
