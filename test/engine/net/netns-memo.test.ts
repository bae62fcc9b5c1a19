// The namespace remembers answers the walk asks for again and again (the FIB's answer for a
// destination, whether it answers ARP for an address, a device's sysctls) until something
// changes. A stale answer would route or answer ARP as the namespace was before, so: random
// changes of every kind (ip commands, sysctl writes, proxy ARP entries, the far end of a veth
// going down), and after each one every answer of the live namespace (memo warm from the round
// before) must equal the answer of a copy made from its state (memo empty).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNs } from '../../../main/engine/net/netns.ts';
import { formatIPv4 } from '../../../main/engine/net/ipv4.ts';
import { Rng } from '../../../main/engine/random.ts';
import { ip } from '../../../main/engine/shell/ip.ts';

const DEVS = ['eth0', 'eth1', 'cali1', 'cali2'];
const SYSCTLS = ['rp_filter', 'forwarding', 'arp_ignore', 'proxy_arp', 'ignore_routes_with_linkdown', 'accept_local', 'route_localnet', 'send_redirects', 'medium_id'];

function change(ns: NetNs, rng: Rng): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const dev = pick(DEVS);
  const net = `10.${pick([0, 1])}.${pick([0, 5])}`;
  const addr = `${net}.${1 + Math.floor(rng.next() * 3)}`;
  const r = Math.floor(rng.next() * 12);
  try {
    switch (r) {
      case 0:
      case 1: {
        const key = pick(SYSCTLS);
        const v = key === 'rp_filter' || key === 'arp_ignore' ? pick(['0', '1', '2']) : key === 'medium_id' ? pick(['0', '1', '-1']) : pick(['0', '1']);
        const segs = ['net', 'ipv4', 'conf', pick(['all', 'default', dev]), key];
        // (both ways in: the namespace's writeSysctl, and its sysctl tree directly, as tests do)
        if (r === 0) ns.writeSysctl(segs, v);
        else ns.sysctl.write(segs, v);
        return segs.join('.') + '=' + v;
      }
      case 2:
        ns.writeSysctl(['net', 'ipv4', 'ip_forward'], pick(['0', '1']));
        return 'ip_forward';
      case 3:
        ns.setRemoteUp(dev, rng.next() < 0.5);
        return `remote ${dev}`;
      case 4:
        ip(['ip', 'neigh', rng.next() < 0.6 ? 'add' : 'del', 'proxy', addr, 'dev', dev], '', ns);
        return `proxy ${addr} ${dev}`;
      case 5:
        ip(['ip', 'addr', 'add', `${addr}/${pick([16, 24, 32])}`, 'dev', dev], '', ns);
        return `addr add ${addr} ${dev}`;
      case 6:
        ip(['ip', 'addr', 'del', `${addr}/24`, 'dev', dev], '', ns);
        return `addr del ${addr} ${dev}`;
      case 7:
        ip(['ip', 'link', 'set', dev, pick(['up', 'down'])], '', ns);
        return `link ${dev}`;
      case 8:
        ip(['ip', 'route', 'add', `${net}.0/24`, 'dev', dev], '', ns);
        return `route add ${net}.0/24 ${dev}`;
      case 9:
        ip(['ip', 'route', 'del', `${net}.0/24`], '', ns);
        return `route del ${net}.0/24`;
      case 10:
        ip(['ip', 'route', 'add', 'default', 'via', addr], '', ns);
        return `default via ${addr}`;
      default:
        ip(['ip', 'route', 'add', pick(['blackhole', 'unreachable']), `${net}.64/26`], '', ns);
        return `blackhole ${net}`;
    }
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

/** What the walk asks of a namespace, as text. */
function answers(ns: NetNs): string {
  const out: string[] = [];
  for (const d of DEVS) out.push(`${d} rp ${ns.rpFilter(d)} fwd ${ns.forwarding(d)} parp ${ns.proxyArp(d)} lnet ${ns.routeLocalnet(d)}`);
  for (const a of [0, 1]) {
    for (const b of [0, 5, 77]) {
      for (const c of [1, 2, 3, 70, 200]) {
        const dst = (10 << 24) | (a << 16) | (b << 8) | c;
        out.push(`${formatIPv4(dst)} out ${JSON.stringify(ns.routeOutput({ dst }))} type ${ns.addrType(dst)} local ${ns.isLocal(dst)}`);
        for (const iif of ['eth0', 'cali1']) {
          const src = (10 << 24) | (b << 16) | (a << 8) | 9;
          out.push(`  in ${iif} ${JSON.stringify(ns.routeInput({ dst, src, iif }))} rp ${ns.rpCheck(src, iif, dst)} arp ${ns.answersArp(dst, iif, src)} probe ${ns.answersArp(dst, iif)}`);
        }
      }
    }
  }
  return out.join('\n');
}

test('remembered route, ARP and sysctl answers follow every change: live namespace vs a fresh copy', () => {
  let changed = 0;
  for (const seed of [11, 12, 13, 14]) {
    const rng = new Rng(seed);
    const ns = new NetNs('memo');
    for (const d of DEVS) ns.addLink({ name: d, kind: 'veth', remote: { ifindex: 9, netnsid: 0, up: true } });
    for (const d of DEVS) ns.setUp(d, true);
    ns.writeSysctl(['net', 'ipv4', 'ip_forward'], '1');
    for (let i = 0; i < 200; i++) {
      const before = answers(ns); // warm the memo, then change
      const what = change(ns, rng);
      const now = answers(ns);
      if (now !== before) changed++;
      assert.equal(now, answers(NetNs.fromJSON(ns.toJSON())), `seed ${seed}, step ${i}, after ${what}`);
    }
  }
  // the changes must have changed answers often, or the test proves nothing
  assert.ok(changed > 200, `only ${changed} changes changed an answer`);
});

test('the same question twice gives the same answer without a change, a new one after', () => {
  const ns = new NetNs('memo2');
  ns.addLink({ name: 'eth0', kind: 'veth', remote: { ifindex: 9, netnsid: 0, up: true } });
  ns.setUp('eth0', true);
  ip(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'], '', ns);
  const dst = (10 << 24) | 7;
  assert.equal(ns.answersArp(dst, 'eth0', (10 << 24) | 2), false);
  assert.equal(ns.answersArp(dst, 'eth0', (10 << 24) | 2), false);
  ip(['ip', 'addr', 'add', '10.0.0.7/24', 'dev', 'eth0'], '', ns);
  assert.equal(ns.answersArp(dst, 'eth0', (10 << 24) | 2), true);
  ns.writeSysctl(['net', 'ipv4', 'conf', 'eth0', 'arp_ignore'], '8');
  assert.equal(ns.answersArp(dst, 'eth0', (10 << 24) | 2), false);
  assert.equal(ns.addrType(dst), 'LOCAL');
  ip(['ip', 'addr', 'del', '10.0.0.7/24', 'dev', 'eth0'], '', ns);
  assert.equal(ns.addrType(dst), 'UNICAST');
});
