// What the client tools print when an ICMP error answers them, on the real kernel and in the
// lab: `nc -zv` (connect()'s errno for every REJECT --reject-with on a router, and for a SYN
// whose TTL runs out there), `nc -zuv` and `dig` (a UDP socket's error, or none, for each of
// them), `ping` (iputils' name for each error, and a time exceeded for an echo request sent
// with -t 1; -I with an address or a device), and what the client's own OUTPUT rules make of
// its writes. The same lab on both sides (client, router, server); stdout, stderr and exit
// status compared command by command. ping's times are the only thing normalised: the
// kernel's clock runs. Each command sends from an address of its
// own: the kernel rate-limits the ICMP errors it sends to one address (six at once, then one a
// second: icmp_ratelimit), which the lab does not model.
//
// Needs root and the real tools; fails (does not skip) without them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../main/engine/lab.ts';
import { labDoc, rulesText } from './harness/labdoc.ts';
import { buildKernelLab } from './harness/build.ts';
import { checkKernelPrereqs } from './harness/netns.ts';

const REJECTS = ['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited'];

const router = rulesText({
  mangle: ['-A PREROUTING -p tcp -m tcp --dport 81 -j TTL --ttl-set 1'],
  filter: [
    ...REJECTS.map((w, i) => `-A FORWARD -p tcp -m tcp --dport ${91 + i} -j REJECT --reject-with ${w}`),
    ...REJECTS.map((w, i) => `-A FORWARD -s 10.0.1.${40 + i}/32 -p icmp -j REJECT --reject-with ${w}`),
    ...REJECTS.map((w, i) => `-A FORWARD -p udp -m udp --dport ${91 + i} -j REJECT --reject-with ${w}`),
  ],
});

const doc = labDoc({
  hosts: {
    client: { links: ['eth0 lan1 10.0.1.2/24'], routes: ['default via 10.0.1.1'] },
    router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward: true },
    server: { links: ['eth0 lan2 10.0.2.2/24'], listen: ['tcp/80'], routes: ['default via 10.0.2.1'] },
  },
  // (the client's other addresses: a source for each command)
  journal: [
    ['router', ['iptables-restore'], router],
    ...Array.from({ length: 40 }, (_, i): [string, string[]] => ['client', ['ip', 'addr', 'add', `10.0.1.${10 + i}/24`, 'dev', 'eth0']]),
    // the client's own rules: what it sends to port 99 dropped, to 98 rejected, on the way out
    ['client', ['iptables-restore'], rulesText({ filter: ['-A OUTPUT -p udp -m udp --dport 99 -j DROP', '-A OUTPUT -p tcp -m tcp --dport 99 -j DROP', '-A OUTPUT -p udp -m udp --dport 98 -j REJECT'] })],
  ],
});

const norm = (s: string) => s.replace(/, time \d+ms/g, ', time Nms').replace(/time=[\d.]+ ms/g, 'time=T ms').replace(/^rtt .*$/m, 'rtt T');

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

test('nc and ping answered by ICMP errors: the same errno texts, messages and exit statuses as on the kernel', { timeout: 120_000 }, async () => {
  const kernel = await buildKernelLab(doc);
  try {
    const lab = Lab.fromDoc(doc);
    const commands: string[][] = [
      ...REJECTS.map((_, i) => ['nc', '-zv', '-w', '3', '-s', `10.0.1.${10 + i}`, '10.0.2.2', String(91 + i)]),
      ['nc', '-zv', '-w', '3', '-s', '10.0.1.20', '10.0.2.2', '81'],
      // a UDP socket fails on the fatal errors only (net and host unreachable are soft)
      ...REJECTS.map((_, i) => ['nc', '-zuv', '-w', '1', '-s', `10.0.1.${25 + i}`, '10.0.2.2', String(91 + i)]),
      // the client's own OUTPUT: a dropped write fails with EPERM (udptest's first write: the
      // port fails, silently), a dropped SYN is retransmitted until -w gives up
      ['nc', '-zuv', '-w', '1', '10.0.2.2', '99'],
      ['nc', '-zuv', '-w', '1', '10.0.2.2', '98'],
      ['nc', '-zv', '-w', '1', '10.0.2.2', '99'],
      ['dig', '+tries=1', '+time=1', '@10.0.2.2', '-p', '99', 'example.com'],
      // dig from the client's own address (five errors: within the kernel's burst of six)
      ...[93, 96, 91, 94, 95].map((port) => ['dig', '+tries=1', '+time=1', '@10.0.2.2', '-p', String(port), 'example.com']),
      ['ping', '-c', '1', '-W', '1', '-t', '1', '-I', '10.0.1.21', '10.0.2.2'],
      ...REJECTS.map((_, i) => ['ping', '-c', '1', '-W', '1', '-I', `10.0.1.${40 + i}`, '10.0.2.2']),
      // -I: a device (its primary address named), an address not the host's, no such device
      ['ping', '-c', '1', '-W', '1', '-I', 'eth0', '10.0.2.2'],
      ['ping', '-c', '1', '-W', '1', '-I', '10.9.9.9', '10.0.2.2'],
      ['ping', '-c', '1', '-W', '1', '-I', 'nosuch', '10.0.2.2'],
    ];
    for (const argv of commands) {
      const real = await kernel.exec('client', argv);
      const mine = lab.exec('client', argv, '');
      const cmd = argv.join(' ');
      assert.deepEqual([norm(mine.stdout), mine.stderr, mine.code], [norm(real.stdout), real.stderr, real.code], cmd);
    }
  } finally {
    await kernel.destroy();
  }
});
