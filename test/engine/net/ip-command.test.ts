// The `ip` command over a NetNs: formats and errors as iproute2 6.1 prints them (expected texts
// taken from the reference machine; test/kernel/ip-format.test.ts compares many more against
// the live tools).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNs } from '../../../main/engine/net/netns.ts';
import { ip } from '../../../main/engine/shell/ip.ts';

function run(ns: NetNs, line: string): { stdout: string; stderr: string; code: number; changed: boolean } {
  return ip(line.split(' '), '', ns);
}

function ok(ns: NetNs, ...lines: string[]): void {
  for (const l of lines) {
    const r = run(ns, l);
    assert.equal(r.code, 0, `${l}: ${r.stderr}`);
  }
}

function pair(): NetNs {
  const ns = new NetNs('h');
  ok(ns, 'ip link add eth0 address 02:00:00:00:00:05 type veth peer name veth0 address 02:00:00:00:00:06');
  return ns;
}

test('ip addr of a veth pair with one end up', () => {
  const ns = pair();
  ok(ns, 'ip addr add 10.0.0.5/24 dev eth0', 'ip link set eth0 up');
  assert.equal(
    run(ns, 'ip addr').stdout,
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n' +
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n' +
      '    inet 127.0.0.1/8 scope host lo\n' +
      '       valid_lft forever preferred_lft forever\n' +
      '2: veth0@eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000\n' +
      '    link/ether 02:00:00:00:00:06 brd ff:ff:ff:ff:ff:ff\n' +
      '3: eth0@veth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default qlen 1000\n' +
      '    link/ether 02:00:00:00:00:05 brd ff:ff:ff:ff:ff:ff\n' +
      '    inet 10.0.0.5/24 scope global eth0\n' +
      '       valid_lft forever preferred_lft forever\n',
  );
  assert.equal(
    run(ns, 'ip -br a').stdout,
    'lo               UNKNOWN        127.0.0.1/8 \nveth0@eth0       DOWN           \neth0@veth0       LOWERLAYERDOWN 10.0.0.5/24 \n',
  );
  assert.equal(
    run(ns, 'ip -br l').stdout,
    'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n' +
      'veth0@eth0       DOWN           02:00:00:00:00:06 <BROADCAST,MULTICAST> \n' +
      'eth0@veth0       LOWERLAYERDOWN 02:00:00:00:00:05 <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> \n',
  );
  assert.equal(
    run(ns, 'ip route show table all').stdout,
    '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5 linkdown \n' +
      'local 10.0.0.5 dev eth0 table local proto kernel scope host src 10.0.0.5 \n' +
      'broadcast 10.0.0.255 dev eth0 table local proto kernel scope link src 10.0.0.5 linkdown \n' +
      'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
      'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
      'broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 \n',
  );
});

test('address flags in text and JSON: metric, brd, secondary, noprefixroute, label', () => {
  const ns = pair();
  ok(ns, 'ip addr add 10.0.0.5/24 dev eth0 metric 100', 'ip addr add 10.0.0.6/24 brd + dev eth0 noprefixroute', 'ip addr add 10.9.0.5/24 dev eth0 label eth0:x');
  assert.equal(
    run(ns, 'ip -4 addr show eth0').stdout,
    '3: eth0@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000\n' +
      '    inet 10.0.0.5/24 metric 100 scope global eth0\n       valid_lft forever preferred_lft forever\n' +
      '    inet 10.9.0.5/24 scope global eth0:x\n       valid_lft forever preferred_lft forever\n' +
      '    inet 10.0.0.6/24 brd 10.0.0.255 scope global secondary noprefixroute eth0\n       valid_lft forever preferred_lft forever\n',
  );
  const j = JSON.parse(run(ns, 'ip -j -4 addr show eth0').stdout) as { addr_info: Record<string, unknown>[] }[];
  assert.deepEqual(j[0].addr_info[2], {
    family: 'inet', local: '10.0.0.6', prefixlen: 24, broadcast: '10.0.0.255', scope: 'global', secondary: true,
    noprefixroute: true, label: 'eth0', valid_life_time: 4294967295, preferred_life_time: 4294967295,
  });
  assert.deepEqual(Object.keys(j[0]), ['ifindex', 'link', 'ifname', 'flags', 'mtu', 'qdisc', 'operstate', 'group', 'txqlen', 'addr_info']);
  assert.equal(run(ns, 'ip -o -4 addr show dev eth0').stdout.split('\n')[0], '3: eth0    inet 10.0.0.5/24 metric 100 scope global eth0\\       valid_lft forever preferred_lft forever');
});

test('ip route show: types, tables, protocols, flags and selectors', () => {
  const ns = pair();
  ok(
    ns,
    'ip link set eth0 up',
    'ip link set veth0 up',
    'ip addr add 10.0.0.5/24 dev eth0',
    'ip route add default via 10.0.0.1',
    'ip route add blackhole 10.5.0.0/16',
    'ip route add 10.12.0.0/16 via 192.168.99.1 dev eth0 onlink metric 9',
    'ip route add 10.21.0.0/16 via 10.0.0.1 proto 42',
    'ip route add 10.14.0.0/16 via 10.0.0.1 table 100',
  );
  assert.equal(
    run(ns, 'ip r').stdout,
    'default via 10.0.0.1 dev eth0 \n' +
      '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5 \n' +
      'blackhole 10.5.0.0/16 \n' +
      '10.12.0.0/16 via 192.168.99.1 dev eth0 metric 9 onlink \n' +
      '10.21.0.0/16 via 10.0.0.1 dev eth0 proto babel \n',
  );
  assert.equal(run(ns, 'ip route show table all').stdout.split('\n')[0], '10.14.0.0/16 via 10.0.0.1 dev eth0 table 100 ');
  assert.equal(run(ns, 'ip route show dev eth0 proto kernel').stdout, '10.0.0.0/24 scope link src 10.0.0.5 \n');
  assert.equal(run(ns, 'ip route show via 10.0.0.1').stdout, 'default dev eth0 \n10.21.0.0/16 dev eth0 proto babel \n');
  assert.equal(run(ns, 'ip route show match 10.0.0.7').stdout, 'default via 10.0.0.1 dev eth0 \n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5 \n');
  assert.equal(
    run(ns, 'ip -j route show 10.12.0.0/16').stdout,
    '[{"dst":"10.12.0.0/16","gateway":"192.168.99.1","dev":"eth0","metric":9,"flags":["onlink"]}]\n',
  );
  assert.equal(
    run(ns, 'ip -j -p route show 10.0.0.0/24').stdout,
    '[ {\n        "dst": "10.0.0.0/24",\n        "dev": "eth0",\n        "protocol": "kernel",\n        "scope": "link",\n' +
      '        "prefsrc": "10.0.0.5",\n        "flags": [ ]\n    } ]\n',
  );
  assert.deepEqual(run(ns, 'ip route show table 9999'), { stdout: '', stderr: 'Error: ipv4: FIB table does not exist.\nDump terminated\n', code: 2, changed: false });
});

test('ip route get: output and input paths, flags, mark, JSON', () => {
  const ns = pair();
  ok(ns, 'ip link set eth0 up', 'ip link set veth0 up', 'ip addr add 10.0.0.5/24 dev eth0', 'ip route add default via 10.0.0.1');
  assert.equal(run(ns, 'ip route get 1.1.1.1').stdout, '1.1.1.1 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0 \n    cache \n');
  assert.equal(run(ns, 'ip route get 10.0.0.255').stdout, 'broadcast 10.0.0.255 dev eth0 src 10.0.0.5 uid 0 \n    cache <local,brd> \n');
  assert.equal(run(ns, 'ip ro g 10.0.0.5 from 10.0.0.5').stdout, 'local 10.0.0.5 from 10.0.0.5 dev lo uid 0 \n    cache <local> \n');
  assert.equal(run(ns, 'ip route get 8.8.8.8 mark 0x10').stdout, '8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.5 mark 0x10 uid 0 \n    cache \n');
  assert.equal(run(ns, 'ip route get 224.0.0.5').stdout, 'multicast 224.0.0.5 dev eth0 src 10.0.0.5 rt_offload_failed uid 0 \n    cache <mc> \n');
  assert.deepEqual(run(ns, 'ip route get 10.0.0.9 from 10.0.0.1 iif eth0'), { stdout: '', stderr: 'RTNETLINK answers: No route to host\n', code: 2, changed: false });
  ok(ns, 'ip link set eth0 up');
  assert.equal(run(ns, 'ip route get 10.0.0.5 from 10.0.0.1 iif eth0').stdout, 'local 10.0.0.5 from 10.0.0.1 dev lo \n    cache <local> iif eth0 \n');
  assert.equal(
    run(ns, 'ip -j route get 10.0.0.5 from 10.0.0.1 iif eth0').stdout,
    '[{"type":"local","dst":"10.0.0.5","from":"10.0.0.1","dev":"lo","flags":[],"cache":["local"],"iif":"eth0"}]\n',
  );
  const w = run(ns, 'ip route get 10.0.0.0/24');
  assert.equal(w.stderr, 'Warning: /24 as prefix is invalid, only /32 (or none) is supported.\n');
  assert.equal(w.code, 0);
  assert.equal(run(ns, 'ip -o route get 127.0.0.1').stdout, 'local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \\    cache <local> \n');
});

test('iproute2 abbreviations and unknown words', () => {
  const ns = pair();
  assert.equal(run(ns, 'ip a').stdout, run(ns, 'ip address show').stdout);
  assert.equal(run(ns, 'ip l').stdout, run(ns, 'ip link list').stdout);
  assert.equal(run(ns, 'ip r s').stdout, run(ns, 'ip route').stdout);
  assert.equal(run(ns, 'ip n').stdout, run(ns, 'ip neighbour show').stdout);
  assert.deepEqual(run(ns, 'ip foo'), { stdout: '', stderr: 'Object "foo" is unknown, try "ip help".\n', code: 1, changed: false });
  assert.deepEqual(run(ns, 'ip addr foo'), { stdout: '', stderr: 'Command "foo" is unknown, try "ip address help".\n', code: 255, changed: false });
  assert.deepEqual(run(ns, 'ip -x link'), { stdout: '', stderr: 'Option "-x" is unknown, try "ip -help".\n', code: 255, changed: false });
  assert.equal(run(ns, 'ip -V').stdout, 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n');
  assert.equal(run(ns, 'ip').code, 255);
  assert.match(run(ns, 'ip route help').stderr, /^Usage: ip route \{ list \| flush \} SELECTOR/);
});

test('errors carry iproute2 texts and statuses; failed commands change nothing', () => {
  const ns = pair();
  const cases: [string, string, number][] = [
    ['ip addr add 10.0.0.6/24 dev eth9', 'Cannot find device "eth9"\n', 1],
    ['ip addr add foo dev eth0', 'Error: any valid prefix is expected rather than "foo".\n', 1],
    ['ip addr add 10.0.0.7/24', 'Not enough information: "dev" argument is required.\n', 1],
    ['ip addr add 10.1.1.1/24 dev lo metric x', 'Error: argument "x" is wrong: "metric" value is invalid\n\n', 255],
    ['ip route add 10.1.0.0/24 dev eth0 bogus', 'Error: either "to" is duplicate, or "bogus" is a garbage.\n', 255],
    ['ip route add 10.1.0.0/24 dev', 'Command line is not complete. Try option "help"\n', 255],
    ['ip route show table foo', 'Error: argument "foo" is wrong: table id value is invalid\n\n', 255],
    ['ip route del 10.99.0.0/16', 'RTNETLINK answers: No such process\n', 2],
    ['ip link set eth0 mtu 70000', 'Error: mtu greater than device maximum.\n', 2],
    ['ip link del lo', 'RTNETLINK answers: Operation not supported\n', 2],
    ['ip link add v7 type foo', 'Error: Unknown device type.\n', 2],
    ['ip neigh add 10.0.0.15 lladdr 02:aa:bb:cc:dd:0f', 'Device and destination are required arguments.\n', 255],
    ['ip neigh add 10.0.0.14 lladdr zz dev eth0', '"zz" is invalid lladdr.\n', 1],
    ['ip route flush', '"ip route flush" requires arguments.\n', 1],
  ];
  for (const [line, stderr, code] of cases) assert.deepEqual(run(ns, line), { stdout: '', stderr, code, changed: false }, line);
  const before = JSON.stringify(ns.toJSON());
  assert.equal(run(ns, 'ip link set eth0 down name eth8 mtu 50').code, 2);
  assert.equal(JSON.stringify(ns.toJSON()), before);
  const del = run(ns, 'ip addr del 10.0.0.6 dev eth0');
  assert.match(del.stderr, /^Warning: Executing wildcard deletion to stay compatible with old scripts\.\n/);
  assert.match(del.stderr, /Error: ipv4: Address not found\.\n$/);
  assert.equal(del.code, 2);
});

test('successful changes are flagged for the journal, reads are not', () => {
  const ns = pair();
  assert.equal(run(ns, 'ip addr add 10.0.0.5/24 dev eth0').changed, true);
  assert.equal(run(ns, 'ip addr').changed, false);
  assert.equal(run(ns, 'ip route get 10.0.0.9').changed, false);
  assert.equal(run(ns, 'ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0').changed, true);
  assert.equal(run(ns, 'ip link set eth0 up').changed, true);
});

test('dummy and ipip devices', () => {
  const ns = new NetNs('h');
  ok(ns, 'ip link add dummy0 address 02:00:00:00:00:aa type dummy', 'ip link add tunl0 type ipip');
  assert.equal(
    run(ns, 'ip link show dummy0').stdout,
    '2: dummy0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
      '    link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff\n',
  );
  ok(ns, 'ip link set dummy0 up', 'ip link set tunl0 up', 'ip addr add 10.244.1.0/32 dev tunl0');
  assert.equal(
    run(ns, 'ip link show dummy0').stdout,
    '2: dummy0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
      '    link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff\n',
  );
  assert.equal(
    run(ns, 'ip addr show tunl0').stdout,
    '3: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000\n' +
      '    link/ipip 0.0.0.0 brd 0.0.0.0\n' +
      '    inet 10.244.1.0/32 scope global tunl0\n' +
      '       valid_lft forever preferred_lft forever\n',
  );
});

test('ip neigh: entries, states, proxy, flush, JSON', () => {
  const ns = pair();
  ok(
    ns,
    'ip link set eth0 up',
    'ip neigh add 10.0.0.9 lladdr 02:aa:bb:cc:dd:ee dev eth0',
    'ip neigh add 10.0.0.10 lladdr 2:a:b:c:d:e dev eth0 nud stale',
    'ip neigh add 10.0.0.40 lladdr 02:00:00:00:00:40 dev eth0 router nud reachable',
    'ip neigh add proxy 10.0.0.50 dev eth0',
  );
  const text = run(ns, 'ip neigh').stdout.split('\n').sort().join('\n');
  assert.equal(
    text,
    '\n10.0.0.10 dev eth0 lladdr 02:0a:0b:0c:0d:0e STALE \n10.0.0.40 dev eth0 lladdr 02:00:00:00:00:40 router REACHABLE \n10.0.0.9 dev eth0 lladdr 02:aa:bb:cc:dd:ee PERMANENT ',
  );
  assert.equal(run(ns, 'ip neigh show dev eth0 10.0.0.9').stdout, '10.0.0.9 lladdr 02:aa:bb:cc:dd:ee PERMANENT \n');
  assert.equal(run(ns, 'ip neigh show proxy').stdout, '10.0.0.50 dev eth0 proxy \n');
  assert.equal(run(ns, 'ip -j neigh show 10.0.0.9').stdout, '[{"dst":"10.0.0.9","dev":"eth0","lladdr":"02:aa:bb:cc:dd:ee","state":["PERMANENT"]}]\n');
  ok(ns, 'ip neigh flush dev eth0');
  assert.equal(run(ns, 'ip neigh').stdout, '10.0.0.9 dev eth0 lladdr 02:aa:bb:cc:dd:ee PERMANENT \n');
  assert.deepEqual(run(ns, 'ip neigh del 10.0.0.8 dev eth0'), { stdout: '', stderr: 'RTNETLINK answers: No such file or directory\n', code: 2, changed: false });
});
