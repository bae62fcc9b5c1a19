// Self-tests of the kernel-lab harness against the real kernel (root, namespaces only). They
// fail, never skip, when not root or a tool is missing: CI runs them as root with the tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import process from 'node:process';
import { buildKernelLab, type KernelLab } from './harness/build.ts';
import { labDoc, type LabSketch } from './harness/labdoc.ts';
import { checkKernelPrereqs, listNamespaces, NS_PREFIX, run } from './harness/netns.ts';
import { parseTrace } from './harness/trace.ts';

async function withLab(sketch: LabSketch, body: (lab: KernelLab) => Promise<void>): Promise<void> {
  const lab = await buildKernelLab(labDoc(sketch));
  try {
    await body(lab);
  } finally {
    await lab.destroy();
  }
}

// client --lan1-- router --lan2-- srv1, srv2
const routed = (routerJournal: LabSketch['journal'] = [], forward = true): LabSketch => ({
  hosts: {
    client: { links: ['eth0 lan1 10.0.1.2/24'], routes: ['default via 10.0.1.1'] },
    router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward },
    srv1: { links: ['eth0 lan2 10.0.2.2/24'], listen: ['tcp/80', 'udp/53'], routes: ['default via 10.0.2.1'] },
    srv2: { links: ['eth0 lan2 10.0.2.3/24'], listen: ['tcp/80', 'udp/53'], routes: ['default via 10.0.2.1'] },
  },
  journal: routerJournal,
});

test('the kernel tests can run here: root and every tool present', () => {
  checkKernelPrereqs();
  // And a missing tool is reported clearly (here: all of them, with an empty PATH).
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    assert.throws(() => checkKernelPrereqs(), /kernel tests cannot run: missing tools: ip, iptables, .*xtables-monitor.* \(apt-get install iproute2 iptables/);
  } finally {
    process.env.PATH = path;
  }
});

test('labDoc builds LANs, hosts and journal entries from a sketch', () => {
  const doc = labDoc(routed([['router', 'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE'], ['router', ['iptables-restore'], '*filter\nCOMMIT\n']]));
  assert.deepEqual(doc.lans, [{ name: 'lan1' }, { name: 'lan2' }]);
  assert.deepEqual(doc.hosts[1], {
    name: 'router',
    listen: [],
    links: [
      { dev: 'eth0', lan: 'lan1', ip: '10.0.1.1/24' },
      { dev: 'eth1', lan: 'lan2', ip: '10.0.2.1/24' },
    ],
  });
  assert.deepEqual(doc.hosts[2].listen, [
    { proto: 'tcp', port: 80 },
    { proto: 'udp', port: 53 },
  ]);
  assert.deepEqual(doc.journal.slice(0, 2), [
    { host: 'client', argv: ['ip', 'route', 'add', 'default', 'via', '10.0.1.1'] },
    { host: 'router', argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] },
  ]);
  assert.deepEqual(doc.journal.at(-2), { host: 'router', argv: ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth1', '-j', 'MASQUERADE'] });
  assert.deepEqual(doc.journal.at(-1), { host: 'router', argv: ['iptables-restore'], stdin: '*filter\nCOMMIT\n' });
  assert.throws(() => labDoc({ hosts: { a: { links: ['eth0 lan1'] } } }), /DEV LAN/);
});

test('two hosts on one LAN: tcp, udp and icmp delivered with the right peer; closed ports refused', async () => {
  await withLab(
    {
      hosts: {
        a: { links: ['eth0 lan1 10.0.0.1/24'], listen: ['tcp/22'] },
        b: { links: ['eth0 lan1 10.0.0.2/24'], listen: ['tcp/80', 'udp/53', 'sctp/9'] },
      },
      journal: [
        ['a', 'ip addr add 10.0.0.11/24 dev eth0'],
        ['b', 'ip addr add 10.0.0.12/24 dev eth0'],
      ],
    },
    async (lab) => {
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp' }), {
        outcome: 'delivered',
        server: 'b',
        peer: '10.0.0.1:40000',
      });
      // Same 4-tuple again right away (the previous connection lingers in TIME_WAIT on b).
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp' })).server, 'b');
      assert.deepEqual(await lab.probe({ from: 'b', to: '10.0.0.1', port: 22, proto: 'tcp', sport: 5555 }), {
        outcome: 'delivered',
        server: 'a',
        peer: '10.0.0.2:5555',
      });
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 81, proto: 'tcp' })).outcome, 'refused');
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', port: 53, proto: 'udp', sport: 40001 }), {
        outcome: 'delivered',
        server: 'b',
        peer: '10.0.0.1:40001',
      });
      // ICMP port unreachable surfaces as ECONNREFUSED on the connected UDP socket.
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', port: 54, proto: 'udp' }), { outcome: 'refused', detail: 'ECONNREFUSED' });
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', proto: 'icmp' }), { outcome: 'delivered', detail: 'reply from 10.0.0.2' });
      // No route at all: the kernel refuses to send.
      assert.equal((await lab.probe({ from: 'a', to: '10.9.9.9', port: 80, proto: 'tcp' })).outcome, 'unreachable');
      assert.equal((await lab.probe({ from: 'a', to: '10.9.9.9', proto: 'icmp' })).outcome, 'unreachable');
      // A bound source address shows at the server.
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp', src: '10.0.0.11' })).peer, '10.0.0.11:40000');
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 53, proto: 'udp', src: '10.0.0.11' })).peer, '10.0.0.11:40000');
      // The UDP reply to an address the journal added leaves from that address (the connected
      // client would ignore a reply from b's primary 10.0.0.2).
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.12', port: 53, proto: 'udp' })).server, 'b');
      // A source address the host does not own cannot be bound.
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp', src: '10.0.0.77' })).outcome, 'error');
      assert.equal(lab.unsupported.length, 1);
      assert.match(lab.unsupported[0], /^b sctp\/9: /);
    },
  );
});

test('a DROP rule in the journal gives timeout; REJECT gives refused; other ports unaffected', async () => {
  await withLab(
    {
      hosts: {
        a: { links: ['eth0 lan1 10.0.0.1/24'] },
        b: { links: ['eth0 lan1 10.0.0.2/24'], listen: ['tcp/80', 'tcp/81', 'tcp/82', 'udp/53'] },
      },
      journal: [
        ['b', 'iptables -A INPUT -p tcp --dport 80 -j DROP'],
        ['b', 'iptables -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset'],
        ['b', 'iptables -A INPUT -p udp --dport 53 -j REJECT'],
        ['b', 'iptables -A INPUT -p icmp -j REJECT --reject-with icmp-host-prohibited'],
      ],
    },
    async (lab) => {
      const t0 = performance.now();
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp' }), { outcome: 'timeout' });
      const took = performance.now() - t0;
      assert.ok(took >= 550 && took < 5000, `timeout took ${took} ms`); // bounded, not a speed test
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 81, proto: 'tcp' })).outcome, 'refused');
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 82, proto: 'tcp' })).server, 'b');
      assert.equal((await lab.probe({ from: 'a', to: '10.0.0.2', port: 53, proto: 'udp' })).outcome, 'refused');
      assert.deepEqual(await lab.probe({ from: 'a', to: '10.0.0.2', proto: 'icmp' }), { outcome: 'unreachable', detail: 'icmp 3 10 from 10.0.0.2' });
      // The counters show which rule took the dropped SYN.
      assert.match(await lab.counters('b'), /^\[1:60\] -A INPUT -p tcp -m tcp --dport 80 -j DROP$/m);
      await lab.zeroCounters('b');
      assert.match(await lab.counters('b'), /^\[0:0\] -A INPUT -p tcp -m tcp --dport 80 -j DROP$/m);
    },
  );
});

test('a router forwards between two LANs with ip_forward=1 and not with ip_forward=0', async () => {
  await withLab(routed([], false), async (lab) => {
    const probe = { from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp' } as const;
    assert.deepEqual(await lab.probe(probe), { outcome: 'timeout' });
    const r = await lab.exec('router', ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await lab.probe({ ...probe, sport: 40002 }), { outcome: 'delivered', server: 'srv1', peer: '10.0.1.2:40002' });
    assert.equal((await lab.probe({ from: 'client', to: '10.0.2.3', port: 53, proto: 'udp' })).server, 'srv2');
  });
});

test('DNAT on the router redirects to another server, and conntrack shows the entry', async () => {
  await withLab(
    routed([
      ['router', 'iptables -t nat -A PREROUTING -d 10.0.2.2 -p tcp --dport 80 -j DNAT --to-destination 10.0.2.3:80'],
      ['router', 'iptables -t nat -A PREROUTING -d 10.0.1.1 -p udp --dport 5353 -j DNAT --to-destination 10.0.2.3:53'],
    ]),
    async (lab) => {
      assert.deepEqual(await lab.probe({ from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp' }), {
        outcome: 'delivered',
        server: 'srv2',
        peer: '10.0.1.2:40000',
      });
      const ct = await lab.conntrack('router');
      assert.match(ct, /^tcp +6 \d+ \S+ src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=40000 dport=80 src=10\.0\.2\.3 dst=10\.0\.1\.2 sport=80 dport=40000 /m);
      // The UDP reply leaves srv2 from the address it was sent to, so the router's reverse NAT
      // turns it back into 10.0.1.1:5353 and the client's connected socket accepts it.
      assert.deepEqual(await lab.probe({ from: 'client', to: '10.0.1.1', port: 5353, proto: 'udp' }), {
        outcome: 'delivered',
        server: 'srv2',
        peer: '10.0.1.2:40000',
      });
      assert.match(await lab.conntrack('router'), /^udp +17 \d+ src=10\.0\.1\.2 dst=10\.0\.1\.1 sport=40000 dport=5353 src=10\.0\.2\.3 dst=10\.0\.1\.2 sport=53 dport=40000 /m);
      await lab.flushConntrack('router');
      assert.equal(await lab.conntrack('router'), '');
      // srv1 itself is still reachable on a port the rule does not touch.
      assert.equal((await lab.probe({ from: 'client', to: '10.0.2.2', port: 53, proto: 'udp' })).server, 'srv1');
    },
  );
});

test('MASQUERADE on the router makes the server see the router address', async () => {
  await withLab(routed([['router', 'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE']]), async (lab) => {
    const tcp = await lab.probe({ from: 'client', to: '10.0.2.2', port: 80, proto: 'tcp' });
    assert.equal(tcp.server, 'srv1');
    assert.match(tcp.peer ?? '', /^10\.0\.2\.1:\d+$/);
    const udp = await lab.probe({ from: 'client', to: '10.0.2.3', port: 53, proto: 'udp' });
    assert.equal(udp.server, 'srv2');
    assert.match(udp.peer ?? '', /^10\.0\.2\.1:\d+$/);
    assert.match(await lab.conntrack('router'), /src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=40000 dport=80 src=10\.0\.2\.2 dst=10\.0\.2\.1 /);
  });
});

test('xtables-monitor traces the rules one probe matched, in order', async () => {
  await withLab(
    {
      hosts: {
        a: { links: ['eth0 lan1 10.0.0.1/24'] },
        b: { links: ['eth0 lan1 10.0.0.2/24'], listen: ['tcp/80'] },
      },
      journal: [
        [
          'b',
          ['iptables-restore'],
          [
            '*raw',
            '-A PREROUTING -p tcp --dport 80 --tcp-flags SYN,ACK SYN -j TRACE',
            'COMMIT',
            '*filter',
            ':CHK - [0:0]',
            '-A INPUT -p udp -j DROP',
            '-A INPUT -p tcp --dport 80 -j CHK',
            '-A CHK -s 10.0.0.9 -j DROP',
            '-A CHK -s 10.0.0.1 -j ACCEPT',
            'COMMIT',
            '',
          ].join('\n'),
        ],
      ],
    },
    async (lab) => {
      const { result, events } = await lab.trace('b', () => lab.probe({ from: 'a', to: '10.0.0.2', port: 80, proto: 'tcp' }));
      assert.equal(result.server, 'b');
      const summary = events.map((e) => [e.table, e.chain, e.kind, e.verdict ?? e.policy, e.target ?? '', e.rule ?? '']);
      assert.deepEqual(summary, [
        ['raw', 'PREROUTING', 'rule', 'CONTINUE', '', '-A PREROUTING -p tcp -m tcp --dport 80 --tcp-flags SYN,ACK SYN -j TRACE'],
        ['raw', 'PREROUTING', 'policy', 'ACCEPT', '', ''],
        ['filter', 'INPUT', 'rule', 'JUMP', 'CHK', '-A INPUT -p tcp -m tcp --dport 80 -j CHK'],
        ['filter', 'CHK', 'rule', 'ACCEPT', '', '-A CHK -s 10.0.0.1/32 -j ACCEPT'],
      ]);
      assert.ok(events.every((e) => e.id === events[0].id));
      assert.match(events[0].packet ?? '', /SRC=10\.0\.0\.1 DST=10\.0\.0\.2 .*SPORT=40000 DPORT=80 SYN/);
      assert.equal(typeof events[2].ruleHandle, 'number');
    },
  );
});

test('parseTrace reads RETURN, GOTO, policy and return lines', () => {
  const text = [
    'PACKET: 2 0000abcd IN=eth0 SRC=1.1.1.1 DST=2.2.2.2 LEN=60 SPORT=1 DPORT=2 SYN ',
    ' TRACE: 2 0000abcd filter:FOO:rule:0x6:0xfffffffb  -4 -t filter -A FOO -p tcp -j RETURN',
    ' TRACE: 2 0000abcd filter:INPUT:rule:0x5:GOTO:BAR  -4 -t filter -A INPUT -g BAR',
    ' TRACE: 2 0000abcd filter:BAR:return:',
    ' TRACE: 2 0000abcd filter:INPUT:policy:DROP ',
  ].join('\n');
  assert.deepEqual(parseTrace(text), [
    { id: '0000abcd', table: 'filter', chain: 'FOO', kind: 'rule', ruleHandle: 6, verdict: 'RETURN', rule: '-A FOO -p tcp -j RETURN', packet: 'IN=eth0 SRC=1.1.1.1 DST=2.2.2.2 LEN=60 SPORT=1 DPORT=2 SYN' },
    { id: '0000abcd', table: 'filter', chain: 'INPUT', kind: 'rule', ruleHandle: 5, verdict: 'GOTO', target: 'BAR', rule: '-A INPUT -g BAR', packet: 'IN=eth0 SRC=1.1.1.1 DST=2.2.2.2 LEN=60 SPORT=1 DPORT=2 SYN' },
    { id: '0000abcd', table: 'filter', chain: 'BAR', kind: 'return', packet: 'IN=eth0 SRC=1.1.1.1 DST=2.2.2.2 LEN=60 SPORT=1 DPORT=2 SYN' },
    { id: '0000abcd', table: 'filter', chain: 'INPUT', kind: 'policy', policy: 'DROP', packet: 'IN=eth0 SRC=1.1.1.1 DST=2.2.2.2 LEN=60 SPORT=1 DPORT=2 SYN' },
  ]);
});

test('a failing journal entry throws with its stderr and leaves nothing behind', async () => {
  // Only this process's namespaces: other test files may be building labs meanwhile.
  const ours = async () => (await listNamespaces()).filter((n) => n.startsWith(`${NS_PREFIX}${process.pid}x`));
  const before = await ours();
  await assert.rejects(
    buildKernelLab(labDoc({ hosts: { a: { links: ['eth0 lan1 10.0.0.1/24'], listen: ['tcp/80'] } }, journal: [['a', 'iptables -A INPUT -j NOSUCHTARGET']] })),
    /journal entry 0 on a: `iptables -A INPUT -j NOSUCHTARGET` exited 2: .*NOSUCHTARGET/s,
  );
  assert.deepEqual(await ours(), before);
  assert.deepEqual(before, []);
});

test('destroy removes every namespace of the lab and kills its servers; it is idempotent', async () => {
  const lab = await buildKernelLab(
    labDoc({ hosts: { a: { links: ['eth0 lan1 10.0.0.1/24'], listen: ['tcp/80'] }, b: { links: ['eth0 lan1 10.0.0.2/24', 'eth1 lan2 10.0.9.1/24'] } } }),
  );
  const mine = (list: string[]) => list.filter((n) => n.startsWith(lab.prefix));
  let pids: number[];
  try {
    assert.equal(mine(await listNamespaces()).length, 4);
    // Fresh-host settings were applied inside the namespace, before the links.
    const sys = await lab.exec('b', ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv4.conf.eth1.rp_filter', 'net.ipv4.conf.eth0.send_redirects', 'net.ipv4.conf.eth0.accept_redirects']);
    assert.equal(sys.stdout, '0\n0\n0\n0\n');
    assert.match((await lab.exec('a', ['ss', '-Htln'])).stdout, /0\.0\.0\.0:80 /);
    const nsOfA = lab.hostNamespaces.get('a') ?? '';
    pids = (await run(['ip', 'netns', 'pids', nsOfA])).stdout.split(/\s+/).filter(Boolean).map(Number);
    assert.equal(pids.length, 1, 'the agent of host a runs inside its namespace');
  } finally {
    await lab.destroy();
  }
  await lab.destroy();
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `server ${pid} was killed`);
  assert.deepEqual(mine(await listNamespaces()), []);
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n.startsWith(`${NS_PREFIX}${process.pid}x`)),
    [],
    'every lab built by this file has been destroyed',
  );
});
