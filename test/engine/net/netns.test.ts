// The namespace model: devices, addresses and their kernel routes, the FIB's insert/delete
// rules, route lookups (output and input), source selection, rp_filter, address types, ARP
// answers, neighbours, and serialisation. Expected values come from the reference kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNs } from '../../../main/engine/net/netns.ts';
import { formatIPv4, parseIPv4 } from '../../../main/engine/net/ipv4.ts';
import { KernelError } from '../../../main/engine/net/errno.ts';
import { macFromSeed, formatIPv6, linkLocalBytes } from '../../../main/engine/net/iface.ts';
import { ip } from '../../../main/engine/shell/ip.ts';
import { sysctl } from '../../../main/engine/shell/sysctl.ts';

const A = (s: string): number => parseIPv4(s) as number;

/** Run console lines on a namespace; each must succeed. */
function sh(ns: NetNs, ...lines: string[]): void {
  for (const line of lines) {
    const argv = line.split(' ');
    const r = argv[0] === 'ip' ? ip(argv, '', ns) : sysctl(argv, '', ns);
    assert.equal(r.code, 0, `${line}: ${r.stderr}`);
  }
}

/** lo up, eth0 (10.0.0.5/24) and eth1 (10.1.0.5/24) cabled to up peers in other namespaces. */
function host(): NetNs {
  const ns = new NetNs('h1');
  ns.addLink({ name: 'eth0', kind: 'veth', remote: { ifindex: 9, netnsid: 0, up: true }, attach: { lan: 'lan1' } });
  ns.addLink({ name: 'eth1', kind: 'veth', remote: { ifindex: 9, netnsid: 1, up: true } });
  sh(ns, 'ip link set eth0 up', 'ip link set eth1 up', 'ip addr add 10.0.0.5/24 dev eth0', 'ip addr add 10.1.0.5/24 dev eth1');
  return ns;
}

function routeText(ns: NetNs, table = 'all'): string {
  return ip(['ip', 'route', 'show', 'table', table], '', ns).stdout;
}

test('a new host has lo up with 127.0.0.1/8 and its local routes, forwarding and rp_filter off', () => {
  const ns = new NetNs('h');
  assert.deepEqual(ns.links().map((d) => [d.ifindex, d.name, d.adminUp]), [[1, 'lo', true]]);
  assert.equal(formatIPv4(ns.addrs('lo')[0].local), '127.0.0.1');
  assert.equal(
    routeText(ns),
    'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
      'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
      'broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 \n',
  );
  assert.equal(ns.forwarding('lo'), false);
  assert.equal(ns.rpFilter('lo'), 0);
  assert.equal(ns.sysctl.global('net.ipv4.ip_local_port_range'), '32768\t60999');
});

test('a bare namespace starts with lo down and no address', () => {
  const ns = new NetNs('h', { loopbackUp: false });
  assert.equal(ns.link('lo')?.adminUp, false);
  assert.equal(ns.addrs('lo').length, 0);
  assert.equal(routeText(ns), '');
});

test('MACs are deterministic per host and device, locally administered and unicast', () => {
  const a = new NetNs('alpha').addLink({ name: 'eth0', kind: 'veth' }).mac;
  assert.equal(a, new NetNs('alpha').addLink({ name: 'eth0', kind: 'veth' }).mac);
  assert.equal(a, macFromSeed('alpha/eth0'));
  assert.notEqual(a, new NetNs('beta').addLink({ name: 'eth0', kind: 'veth' }).mac);
  const first = parseInt(a.slice(0, 2), 16);
  assert.equal(first & 3, 2);
  assert.match(a, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(formatIPv6(linkLocalBytes('02:00:00:00:00:05')), 'fe80::ff:fe00:5');
});

test('an address on a down device adds only its local route; the rest comes with the link', () => {
  const ns = new NetNs('h');
  ns.addLink({ name: 'eth0', kind: 'veth', remote: { ifindex: 3, netnsid: 0, up: true } });
  sh(ns, 'ip addr add 10.0.0.5/24 dev eth0');
  assert.match(routeText(ns), /^local 10\.0\.0\.5 dev eth0 table local/);
  assert.doesNotMatch(routeText(ns), /10\.0\.0\.0\/24/);
  sh(ns, 'ip link set eth0 up');
  assert.equal(
    routeText(ns, 'main'),
    '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5 \n',
  );
  assert.match(routeText(ns), /broadcast 10\.0\.0\.255 dev eth0 table local proto kernel scope link src 10\.0\.0\.5 \n/);
});

test('secondaries: local route with the primary as source, deleted with their primary', () => {
  const ns = host();
  sh(ns, 'ip addr add 10.0.0.6/24 dev eth0');
  assert.equal(ns.addrs('eth0')[1].secondary, true);
  assert.match(routeText(ns), /local 10\.0\.0\.6 dev eth0 table local proto kernel scope host src 10\.0\.0\.5 /);
  sh(ns, 'ip addr del 10.0.0.5/24 dev eth0');
  assert.equal(ns.addrs('eth0').length, 0);
  assert.doesNotMatch(routeText(ns), /10\.0\.0\./);
});

test('promote_secondaries keeps the next address as primary with its routes', () => {
  const ns = host();
  sh(ns, 'sysctl -w net.ipv4.conf.eth0.promote_secondaries=1', 'ip addr add 10.0.0.6/24 dev eth0', 'ip addr add 10.0.0.7/24 dev eth0');
  sh(ns, 'ip addr del 10.0.0.5/24 dev eth0');
  assert.deepEqual(ns.addrs('eth0').map((a) => [formatIPv4(a.local), a.secondary]), [['10.0.0.6', false], ['10.0.0.7', true]]);
  assert.match(routeText(ns, 'main'), /10\.0\.0\.0\/24 dev eth0 proto kernel scope link src 10\.0\.0\.6 /);
  assert.match(routeText(ns), /local 10\.0\.0\.7 dev eth0 table local proto kernel scope host src 10\.0\.0\.6 /);
});

test('deleting the last address of a device flushes every route through it', () => {
  const ns = host();
  sh(ns, 'ip route add 10.9.0.0/16 via 10.0.0.1', 'ip addr del 10.0.0.5/24 dev eth0');
  assert.doesNotMatch(routeText(ns), /eth0/);
});

test('link down removes routes through the device but keeps host-scope ones; up restores kernel routes', () => {
  const ns = host();
  sh(ns, 'ip route add default via 10.0.0.1', 'ip route add 10.24.0.0/16 dev eth0 scope host');
  sh(ns, 'ip link set eth0 down');
  const down = routeText(ns);
  assert.doesNotMatch(down, /default|10\.0\.0\.0\/24|broadcast 10\.0\.0\.255/);
  assert.match(down, /10\.24\.0\.0\/16 dev eth0 scope host/);
  assert.match(down, /local 10\.0\.0\.5 dev eth0/);
  sh(ns, 'ip link set eth0 up');
  assert.match(routeText(ns), /10\.0\.0\.0\/24 dev eth0 proto kernel/);
  assert.doesNotMatch(routeText(ns), /default/);
});

test('carrier loss marks routes linkdown; ignore_routes_with_linkdown skips them', () => {
  const ns = host();
  sh(ns, 'ip route add 10.9.0.0/16 via 10.0.0.1');
  ns.setRemoteUp('eth0', false);
  assert.match(routeText(ns, 'main'), /10\.9\.0\.0\/16 via 10\.0\.0\.1 dev eth0 linkdown /);
  assert.equal(ns.lookup(A('10.9.1.1')).ok, true);
  sh(ns, 'sysctl -w net.ipv4.conf.all.ignore_routes_with_linkdown=1');
  const r = ns.lookup(A('10.9.1.1'));
  assert.deepEqual(r, { ok: false, errno: 'ENETUNREACH' });
});

test('route insertion order follows the trie: key, longer prefix first, metric, add/append/prepend', () => {
  const ns = host();
  sh(
    ns,
    'ip route add default via 10.0.0.1',
    'ip route add default via 10.0.0.2 metric 100',
    'ip route append default via 10.0.0.3',
    'ip route prepend default via 10.0.0.4',
    'ip route add 0.0.0.0/8 dev eth0',
    'ip route add 10.0.0.0/8 dev eth0',
    'ip route add 10.0.0.0/24 dev eth0 metric 5',
  );
  assert.equal(
    routeText(ns, 'main'),
    [
      '0.0.0.0/8 dev eth0 scope link ',
      'default via 10.0.0.4 dev eth0 ',
      'default via 10.0.0.1 dev eth0 ',
      'default via 10.0.0.3 dev eth0 ',
      'default via 10.0.0.2 dev eth0 metric 100 ',
      '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.5 ',
      '10.0.0.0/24 dev eth0 scope link metric 5 ',
      '10.0.0.0/8 dev eth0 scope link ',
      '10.1.0.0/24 dev eth1 proto kernel scope link src 10.1.0.5 ',
      '',
    ].join('\n'),
  );
  assert.throws(() => ns.addRoute({ table: 254, type: 'unicast', dst: 0, plen: 0, metric: 0, proto: 3, scope: 0, gateway: A('10.0.0.9') }), (e: KernelError) => e.errno === 'EEXIST');
});

test('route add validation: gateways must be on link, prefsrc local, types without devices', () => {
  const ns = host();
  const err = (line: string): string => ip(line.split(' '), '', ns).stderr;
  assert.equal(err('ip route add 10.13.0.0/16 via 192.168.99.1'), 'Error: Nexthop has invalid gateway.\n');
  assert.equal(err('ip route add 10.16.0.0/16 dev eth0 src 10.0.0.99'), 'Error: Invalid prefsrc address.\n');
  assert.equal(err('ip route add 10.17.1.0/16 dev eth0'), 'Error: Invalid prefix for given prefix length.\n');
  assert.equal(err('ip route add blackhole 10.41.0.0/16 dev eth0'), 'Error: Gateway, device and multipath can not be specified for this route type.\n');
  assert.equal(err('ip route add 10.45.0.0/16 via 10.0.0.1 onlink'), 'Error: Nexthop device required for onlink.\n');
  assert.equal(err('ip route add 10.12.0.0/16 via 192.168.99.1 dev eth0 onlink'), '');
  assert.equal(err('ip route add 10.20.0.0/16'), 'RTNETLINK answers: No such device\n');
});

test('output lookups: longest prefix, metric, local table first, errors of reject routes', () => {
  const ns = host();
  sh(
    ns,
    'ip route add default via 10.0.0.1',
    'ip route add 10.50.0.0/16 via 10.1.0.1 metric 10',
    'ip route add 10.50.0.0/16 via 10.0.0.1 metric 20',
    'ip route add blackhole 10.5.0.0/16',
    'ip route add unreachable 10.6.0.0/16',
    'ip route add prohibit 10.7.0.0/16',
    'ip route add throw 10.8.0.0/16',
  );
  const r = ns.lookup(A('10.50.1.1'));
  assert.ok(r.ok);
  assert.deepEqual([r.type, r.dev, formatIPv4(r.gateway ?? 0), formatIPv4(r.prefsrc), r.table], ['unicast', 'eth1', '10.1.0.1', '10.1.0.5', 254]);
  const viaOif = ns.lookup(A('10.50.1.1'), { oif: 'eth0' });
  assert.ok(viaOif.ok && viaOif.dev === 'eth0' && viaOif.gateway === A('10.0.0.1'));
  const local = ns.lookup(A('10.1.0.5'));
  assert.ok(local.ok && local.type === 'local' && local.dev === 'lo' && local.table === 255);
  const brd = ns.lookup(A('10.0.0.255'));
  assert.ok(brd.ok && brd.type === 'broadcast' && brd.dev === 'eth0' && brd.flags.brd);
  assert.deepEqual(ns.lookup(A('10.5.0.1')), { ok: false, errno: 'EINVAL' });
  assert.deepEqual(ns.lookup(A('10.6.0.1')), { ok: false, errno: 'EHOSTUNREACH' });
  assert.deepEqual(ns.lookup(A('10.7.0.1')), { ok: false, errno: 'EACCES' });
  assert.deepEqual(ns.lookup(A('10.8.0.1')), { ok: false, errno: 'ENETUNREACH' });
  assert.deepEqual(ns.lookup(A('10.50.1.1'), { src: A('10.9.9.9') }), { ok: false, errno: 'ENETUNREACH' });
  sh(ns, 'ip route del default');
  assert.deepEqual(ns.lookup(A('8.8.8.8')), { ok: false, errno: 'ENETUNREACH' });
});

test('input lookups: forwarding switch, martians, local delivery, redirects', () => {
  const ns = host();
  sh(ns, 'ip route add 10.50.0.0/16 via 10.1.0.1');
  assert.deepEqual(ns.lookup(A('10.50.1.1'), { src: A('10.0.0.9'), iif: 'eth0' }), { ok: false, errno: 'EHOSTUNREACH' });
  const loc = ns.lookup(A('10.1.0.5'), { src: A('10.0.0.9'), iif: 'eth0' });
  assert.ok(loc.ok && loc.type === 'local' && loc.input);
  sh(ns, 'sysctl -w net.ipv4.ip_forward=1');
  const fwd = ns.lookup(A('10.50.1.1'), { src: A('10.0.0.9'), iif: 'eth0' });
  assert.ok(fwd.ok && fwd.dev === 'eth1' && fwd.gateway === A('10.1.0.1') && !fwd.flags.redirect);
  const back = ns.lookup(A('10.50.1.1'), { src: A('10.1.0.9'), iif: 'eth1' });
  assert.ok(back.ok && back.flags.redirect);
  assert.deepEqual(ns.lookup(A('10.0.0.9'), { src: A('127.0.0.1'), iif: 'eth0' }), { ok: false, errno: 'EINVAL' });
  assert.deepEqual(ns.lookup(A('10.0.0.9'), { src: A('10.0.0.5'), iif: 'eth0' }), { ok: false, errno: 'EINVAL' });
});

test('rp_filter: strict needs the reverse route through the input device, loose any route; max(all, dev)', () => {
  const ns = host();
  sh(ns, 'ip route add default via 10.0.0.1', 'sysctl -w net.ipv4.ip_forward=1');
  assert.equal(ns.rpCheck(A('10.1.0.9'), 'eth0'), true);
  sh(ns, 'sysctl -w net.ipv4.conf.eth0.rp_filter=1');
  assert.equal(ns.rpFilter('eth0'), 1);
  assert.equal(ns.rpCheck(A('10.1.0.9'), 'eth0'), false);
  assert.equal(ns.rpCheck(A('8.8.8.8'), 'eth0'), true);
  assert.equal(ns.rpCheck(A('8.8.8.8'), 'eth1'), true, 'rp_filter of eth1 is still 0');
  sh(ns, 'sysctl -w net.ipv4.conf.all.rp_filter=2');
  assert.equal(ns.rpFilter('eth0'), 2);
  assert.equal(ns.rpCheck(A('10.1.0.9'), 'eth0'), true);
  sh(ns, 'ip route del default');
  assert.equal(ns.rpCheck(A('8.8.8.8'), 'eth0'), false);
});

test('addrType as -m addrtype sees it; blackhole routes report UNICAST like the kernel', () => {
  const ns = host();
  sh(ns, 'ip route add blackhole 10.5.0.0/16', 'ip route add unreachable 10.6.0.0/16');
  assert.equal(ns.addrType(A('10.0.0.5')), 'LOCAL');
  assert.equal(ns.addrType(A('127.0.0.9')), 'LOCAL');
  assert.equal(ns.addrType(A('10.0.0.255')), 'BROADCAST');
  assert.equal(ns.addrType(A('255.255.255.255')), 'BROADCAST');
  assert.equal(ns.addrType(A('0.1.2.3')), 'BROADCAST');
  assert.equal(ns.addrType(A('224.0.0.5')), 'MULTICAST');
  assert.equal(ns.addrType(A('10.0.0.9')), 'UNICAST');
  assert.equal(ns.addrType(A('10.5.0.1')), 'UNICAST');
  assert.equal(ns.addrType(A('10.6.0.1')), 'UNICAST');
  assert.equal(ns.addrType(A('10.0.0.5'), 'eth0'), 'LOCAL');
  assert.equal(ns.addrType(A('10.0.0.5'), 'eth1'), 'UNICAST');
  assert.equal(ns.isLocal(A('10.1.0.5')), true);
  assert.equal(ns.isLocal(A('10.1.0.6')), false);
});

test('source selection: primary in the gateway subnet, else the first, else any device', () => {
  const ns = host();
  sh(ns, 'ip addr add 172.16.0.1/24 dev eth0', 'ip addr add 10.0.0.6/24 dev eth0');
  assert.equal(formatIPv4(ns.selectSrc('eth0', A('172.16.0.9'), 0)), '172.16.0.1');
  assert.equal(formatIPv4(ns.selectSrc('eth0', A('8.8.8.8'), 0)), '10.0.0.5');
  ns.addLink({ name: 'cali0', kind: 'veth', remote: { ifindex: 4, netnsid: 2, up: true } });
  assert.equal(formatIPv4(ns.selectSrc('cali0', 0, 0)), '10.0.0.5');
});

test('answersArp: own addresses, and Calico-style proxy ARP for 169.254.1.1', () => {
  const ns = host();
  ns.addLink({ name: 'cali0', kind: 'veth', mac: 'ee:ee:ee:ee:ee:ee', remote: { ifindex: 4, netnsid: 2, up: true } });
  sh(ns, 'ip link set cali0 up', 'ip route add default via 10.0.0.1');
  const pod = A('10.244.1.5');
  assert.equal(ns.answersArp(A('10.0.0.5'), 'cali0', pod), true);
  assert.equal(ns.answersArp(A('169.254.1.1'), 'cali0', pod), false);
  sh(ns, 'sysctl -w net.ipv4.conf.cali0.proxy_arp=1');
  assert.equal(ns.answersArp(A('169.254.1.1'), 'cali0', pod), false, 'proxy ARP needs forwarding');
  sh(ns, 'sysctl -w net.ipv4.ip_forward=1');
  assert.equal(ns.answersArp(A('169.254.1.1'), 'cali0', pod), true);
  assert.equal(ns.answersArp(A('10.0.0.77'), 'eth0', A('10.0.0.9')), false, 'no proxy_arp on eth0');
  sh(ns, 'sysctl -w net.ipv4.conf.cali0.rp_filter=1');
  assert.equal(ns.answersArp(A('169.254.1.1'), 'cali0', pod), false, 'the pod source fails strict rp_filter');
  sh(ns, 'ip route add 10.244.1.5 dev cali0 scope link');
  assert.equal(ns.answersArp(A('169.254.1.1'), 'cali0', pod), true);
  sh(ns, 'sysctl -w net.ipv4.conf.cali0.arp_ignore=1');
  assert.equal(ns.answersArp(A('10.0.0.5'), 'cali0', pod), false);
  ns.addProxy(A('10.0.0.77'), 'eth0');
  assert.equal(ns.answersArp(A('10.0.0.77'), 'eth0', A('10.0.0.9')), false, 'proxy entries need the route through another device');
});

test('veth pairs in one namespace: peer naming, carrier, M-DOWN, both ends deleted together', () => {
  const ns = new NetNs('h');
  const [eth0, veth0] = ns.addVethPair('eth0', 'veth0');
  assert.deepEqual([veth0.ifindex, eth0.ifindex], [2, 3]);
  sh(ns, 'ip link set eth0 up');
  assert.equal(ns.carrier('eth0'), false);
  assert.match(ip(['ip', 'link', 'show', 'eth0'], '', ns).stdout, /^3: eth0@veth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN /);
  sh(ns, 'ip link set veth0 up');
  assert.equal(ns.carrier('eth0'), true);
  sh(ns, 'ip link del veth0');
  assert.deepEqual(ns.links().map((d) => d.name), ['lo']);
  const [v] = ns.addVethPair(undefined, undefined);
  assert.equal(v.name, 'veth1');
  assert.equal(ns.link('veth0')?.vethPeer, v.ifindex);
});

test('renaming keeps addresses; the first label takes the new name, others keep their suffix', () => {
  const ns = host();
  sh(ns, 'ip addr add 10.0.0.6/24 dev eth0 label eth0:9', 'ip addr add 10.7.0.1/24 dev eth0');
  ns.rename('eth0', 'ens3');
  assert.deepEqual(ns.addrs('ens3').map((a) => [formatIPv4(a.local), a.label]), [['10.0.0.5', 'ens3'], ['10.7.0.1', 'ens3:2'], ['10.0.0.6', 'ens3:9']]);
  assert.equal(ns.sysctl.conf('ens3', 'forwarding'), 0);
  assert.throws(() => ns.rename('ens3', 'eth1'), (e: KernelError) => e.errno === 'EEXIST');
});

test('neighbours: add/replace/change/del, flush on link down', () => {
  const ns = host();
  ns.setNeighbour(A('10.0.0.9'), 'eth0', '02:aa:bb:cc:dd:ee', 'PERMANENT', 'add');
  assert.throws(() => ns.setNeighbour(A('10.0.0.9'), 'eth0', '02:aa:bb:cc:dd:ee', 'PERMANENT', 'add'), (e: KernelError) => e.errno === 'EEXIST');
  assert.throws(() => ns.setNeighbour(A('10.0.0.8'), 'eth0', null, 'PERMANENT', 'add'), (e: KernelError) => e.extack === 'No link layer address given');
  assert.throws(() => ns.setNeighbour(A('10.0.0.7'), 'eth0', '02:00:00:00:00:07', 'STALE', 'change'), (e: KernelError) => e.errno === 'ENOENT');
  ns.setNeighbour(A('10.0.0.9'), 'eth0', '02:00:00:00:00:01', 'REACHABLE', 'replace');
  assert.equal(ns.neighbour(A('10.0.0.9'), 'eth0')?.lladdr, '02:00:00:00:00:01');
  sh(ns, 'ip link set eth0 down');
  assert.equal(ns.neighbours().length, 0);
});

test('clone and JSON round trip give an independent, equal namespace', () => {
  const ns = host();
  sh(ns, 'ip route add default via 10.0.0.1', 'sysctl -w net.ipv4.ip_forward=1', 'ip neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0');
  const copy = NetNs.fromJSON(JSON.parse(JSON.stringify(ns.toJSON())));
  assert.deepEqual(copy.toJSON(), ns.toJSON());
  assert.equal(routeText(copy), routeText(ns));
  assert.equal(ip(['ip', 'addr'], '', copy).stdout, ip(['ip', 'addr'], '', ns).stdout);
  const c = ns.clone();
  sh(c, 'ip route del default', 'sysctl -w net.ipv4.ip_forward=0', 'ip link set eth1 down');
  assert.match(routeText(ns), /default via 10\.0\.0\.1/);
  assert.equal(ns.forwarding('eth0'), true);
  assert.equal(ns.link('eth1')?.adminUp, true);
  assert.equal(c.link('eth0')?.attach?.lan, 'lan1');
});

test('IPv6 on: link-local addresses once up with carrier, kept on carrier loss, gone when down', () => {
  const ns = new NetNs('h', { ipv6: true });
  assert.deepEqual(ns.link('lo')?.v6 !== null, true);
  ns.addLink({ name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:05', remote: { ifindex: 5, netnsid: 0, up: false } });
  sh(ns, 'ip link set eth0 up');
  assert.equal(ns.link('eth0')?.v6, null);
  ns.setRemoteUp('eth0', true);
  assert.notEqual(ns.link('eth0')?.v6, null);
  assert.match(ip(['ip', 'addr', 'show', 'eth0'], '', ns).stdout, /inet6 fe80::ff:fe00:5\/64 scope link \n/);
  ns.setRemoteUp('eth0', false);
  assert.notEqual(ns.link('eth0')?.v6, null);
  assert.match(routeText(ns), /fe80::\/64 dev eth0 proto kernel metric 256 linkdown pref medium\n/);
  sh(ns, 'ip link set eth0 down');
  assert.equal(ns.link('eth0')?.v6, null);
  sh(ns, 'sysctl -w net.ipv6.conf.all.disable_ipv6=1');
  assert.equal(ns.link('lo')?.v6, null);
});

test('device counters feed ip -s link; wide numbers widen their column (size_columns)', () => {
  const ns = new NetNs('h');
  ns.count('lo', 'rx', 336, 4);
  ns.count('lo', 'tx', 12345678901, 4);
  assert.equal(
    ip(['ip', '-s', 'link', 'show', 'lo'], '', ns).stdout,
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n' +
      '    RX:   bytes packets errors dropped  missed   mcast           \n' +
      '            336       4      0       0       0       0 \n' +
      '    TX:   bytes packets errors dropped carrier collsns           \n' +
      '    12345678901       4      0       0       0       0 \n',
  );
});
