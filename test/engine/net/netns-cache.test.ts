// The namespace keeps derived lookup tables (the FIB by prefix length, devices by name, the
// owner of each local address) and rebuilds them after a change. A stale table would route
// with yesterday's routes, so: random `ip` commands, and after each one every lookup on the
// live namespace (tables warm from the previous round) must equal the same lookup on a copy
// made from its state (tables built fresh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNs } from '../../../main/engine/net/netns.ts';
import { formatIPv4 } from '../../../main/engine/net/ipv4.ts';
import { Rng } from '../../../main/engine/random.ts';
import { ip } from '../../../main/engine/shell/ip.ts';

const DEVS = ['eth0', 'eth1', 'cali1', 'cali2', 'tunl0x'];
const NAMES = [...DEVS, 'eth9', 'cali9'];

function command(rng: Rng): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const dev = pick(DEVS);
  const net = `10.${pick([0, 1, 2])}.${pick([0, 1, 5])}`;
  const addr = `${net}.${1 + Math.floor(rng.next() * 3)}`;
  const plen = pick([8, 16, 24, 26, 32]);
  switch (Math.floor(rng.next() * 10)) {
    case 0:
      return `ip addr add ${addr}/${plen} dev ${dev}`;
    case 1:
      return `ip addr del ${addr}/${plen} dev ${dev}`;
    case 2:
      return `ip link set ${dev} ${pick(['up', 'down'])}`;
    case 3:
      return `ip route add ${net}.0/${Math.min(plen, 24)} dev ${dev}${rng.next() < 0.3 ? ' metric 5' : ''}`;
    case 4:
      return `ip route add ${addr} via ${net}.${1 + Math.floor(rng.next() * 3)}${rng.next() < 0.5 ? ` dev ${dev} onlink` : ''}`;
    case 5:
      return `ip route ${pick(['del', 'replace'])} ${net}.0/24${rng.next() < 0.5 ? ` dev ${dev}` : ''}`;
    case 6:
      return `ip route add ${pick(['blackhole', 'unreachable'])} ${net}.${pick([0, 64, 128])}/26`;
    case 7:
      return `ip route add default via ${addr}`;
    case 8:
      return `ip addr flush dev ${dev}`;
    default:
      // (a device that is up cannot be renamed: down first, sometimes)
      return rng.next() < 0.5 ? `ip link set ${pick(NAMES)} down` : `ip link set ${pick(NAMES)} name ${pick(NAMES)}`;
  }
}

/** Every lookup the walk makes, as text. */
function lookups(ns: NetNs): string {
  const out: string[] = [];
  for (const d of NAMES) out.push(`${d}: ${ns.link(d)?.ifindex ?? '-'}`);
  out.push(ns.links().map((d) => d.name).join(','));
  for (const a of [0, 1, 2]) {
    for (const b of [0, 1, 5, 77]) {
      for (const c of [1, 2, 3, 70, 200]) {
        const dst = (10 << 24) | (a << 16) | (b << 8) | c;
        out.push(`${formatIPv4(dst)} out ${JSON.stringify(ns.lookup(dst))} type ${ns.addrType(dst)}`);
        for (const iif of ['eth0', 'cali1']) {
          const src = (10 << 24) | (b << 16) | (a << 8) | 9;
          out.push(`  in ${iif} ${JSON.stringify(ns.lookup(dst, { iif, src }))} rp ${ns.rpCheck(src, iif, dst)} arp ${ns.answersArp(dst, iif, src)}`);
        }
      }
    }
  }
  return out.join('\n');
}

test('derived lookup tables follow every change: random ip commands, live namespace vs a fresh copy', () => {
  for (const seed of [1, 2, 3]) {
    const rng = new Rng(seed);
    const ns = new NetNs('cache');
    for (const d of DEVS) ns.addLink({ name: d, kind: 'veth', remote: { ifindex: 9, netnsid: 0, up: true } });
    ns.sysctl.write(['net', 'ipv4', 'ip_forward'], '1');
    ns.sysctl.write(['net', 'ipv4', 'conf', 'all', 'rp_filter'], '1');
    let applied = 0;
    let renamed = 0;
    for (let i = 0; i < 150; i++) {
      const line = command(rng);
      if (ip(line.split(' '), '', ns).code === 0) {
        applied++;
        if (line.includes(' name ')) renamed++;
      }
      lookups(ns); // warm the tables, then change again next round
      assert.equal(lookups(ns), lookups(NetNs.fromJSON(ns.toJSON())), `seed ${seed}, after \`${line}\``);
    }
    assert.ok(applied > 40, `seed ${seed}: only ${applied} of 150 commands applied`);
    assert.ok(renamed > 0, `seed ${seed}: no rename applied`);
  }
});
