// The counters a saved lab keeps (gatherCounters) are found by looking again only at the chains
// that had a count, when nothing was counted since. After any sequence of rule changes, kept
// traces, traces put back, zeroing, renames and restores with counters, what it finds must be
// what looking at every rule finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import { gatherCounters, type CounterEntry } from '../../../main/engine/netfilter/counter-gather.ts';
import { TABLE_NAMES } from '../../../main/engine/netfilter/types.ts';
import { Rng } from '../../../main/engine/random.ts';

function lab(): Lab {
  const doc = emptyLab('gather');
  doc.lans = [{ name: 'lan' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.10/24' }] },
    { name: 'server', listen: [{ port: 80, proto: 'tcp' }, { port: 81, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.20/24' }] },
  ];
  return Lab.fromDoc(doc);
}

/** Every rule and chain with a count, looked at one by one, in the gathering's order. */
function everyCount(l: Lab, host: string): CounterEntry[] {
  const nf = l.host(host)!.nf;
  const out: CounterEntry[] = [];
  for (const t of TABLE_NAMES) {
    const table = nf.table(t);
    if (!table) continue;
    for (const c of table.chains.values()) {
      if (c.packets || c.bytes) out.push([t, c.name, -1, c.packets, c.bytes]);
      c.rules.forEach((r, i) => (r.packets || r.bytes) && out.push([t, c.name, i, r.packets, r.bytes]));
    }
  }
  return out.sort((a, b) => TABLE_NAMES.indexOf(a[0]) - TABLE_NAMES.indexOf(b[0]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2]);
}

test('the counters gathered for a save are those of every rule, whatever happened since the last save', () => {
  for (let seed = 1; seed <= 4; seed++) {
    const rng = new Rng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
    const l = lab();
    const sh = (host: string, line: string, stdin = '') => l.exec(host, line.split(' '), stdin);
    let chains = ['A', 'B'];
    for (const c of chains) sh('server', `iptables -N ${c}`);
    sh('server', 'iptables -A INPUT -p tcp --dport 80 -j A');
    sh('server', 'iptables -A INPUT -p tcp -j B');
    let renamed = 0;
    for (let step = 0; step < 60; step++) {
      const x = rng.next();
      const chain = pick(chains);
      if (x < 0.3) l.trace({ from: 'client', to: `10.0.0.20:${pick([80, 81])}`, proto: 'tcp', sport: 30000 + step, keep: true });
      else if (x < 0.4) l.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', sport: 31000 + step }); // put back
      else if (x < 0.5) sh('server', `iptables -A ${chain} -s 10.0.0.${pick([10, 11])}`);
      else if (x < 0.58) sh('server', `iptables -I ${chain} 1 -p tcp`);
      else if (x < 0.64) sh('server', `iptables -D ${chain} 1`);
      else if (x < 0.7) sh('server', `iptables -Z ${chain}`);
      else if (x < 0.74) sh('server', `iptables -F ${chain}`);
      else if (x < 0.8) {
        const name = `R${renamed++}`;
        if (sh('server', `iptables -E ${chain} ${name}`).code === 0) chains = chains.map((c) => (c === chain ? name : c));
      } else if (x < 0.86) sh('server', 'iptables-restore --noflush --counters', `*filter\n[7:420] -A ${chain} -p udp\nCOMMIT\n`);
      else if (x < 0.9) sh('server', `iptables -A ${chain} -c 3 180 -p icmp`);
      else if (x < 0.94) sh('server', 'iptables -Z');
      // else: nothing
      if (rng.next() < 0.6) {
        const h = l.host('server')!;
        assert.deepEqual(gatherCounters(h.nf, h.ruleState).counters, everyCount(l, 'server'), `seed ${seed} step ${step}`);
      }
    }
  }
});
