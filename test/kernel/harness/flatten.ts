// A cluster lab as a plain lab document: every host the cluster made (nodes, pods) becomes a
// plain host with the same links, veths, addresses, routes, sysctls, ipsets and rules, replayed
// with the real tools. The kernel twin can build that, so whole generated nodes are compared
// with the real kernel packet by packet.

import type { LabDoc, HostDoc, VethDoc, JournalEntry } from '../../../shared/lab.ts';
import { emptyLab } from '../../../shared/lab.ts';
import type { Lab } from '../../../main/engine/lab.ts';
import { formatIPv4 } from '../../../main/engine/net/ipv4.ts';

/** Host names the plain document can hold: a pod's NS/NAME becomes NS-NAME. */
export const plainName = (h: string) => h.replace('/', '-');

export function flattenCluster(lab: Lab): LabDoc {
  const src = lab.toDoc();
  const doc = emptyLab(`${src.name}-flat`);
  doc.seed = src.seed;
  doc.lans = src.lans.map((l) => ({ ...l }));
  const hosts: HostDoc[] = [];
  const veths: VethDoc[] = [];
  const journal: JournalEntry[] = [];
  const seenPairs = new Set<string>();
  for (const [key, h] of [...lab.hosts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const name = plainName(key);
    const hd: HostDoc = { name, listen: h.listen.map((l) => ({ ...l })), links: [] };
    hosts.push(hd);
    for (const l of h.net.links()) {
      const a = l.attach;
      const addrs = h.net.addrs(l.name).map((x) => `${formatIPv4(x.local)}/${x.prefixlen}`);
      if (a?.lan) hd.links.push({ dev: l.name, lan: a.lan, ip: addrs[0] });
      else if (a?.peer) {
        const id = [key, l.name, a.peer.host, a.peer.dev].join('|');
        const rev = [a.peer.host, a.peer.dev, key, l.name].join('|');
        if (seenPairs.has(rev)) continue;
        seenPairs.add(id);
        const peerHost = lab.hosts.get(a.peer.host)!;
        const peerAddrs = peerHost.net.addrs(a.peer.dev).map((x) => `${formatIPv4(x.local)}/${x.prefixlen}`);
        const end = (host: string, dev: string, ip: string | undefined) => (ip ? { host: plainName(host), dev, ip } : { host: plainName(host), dev });
        veths.push({ a: end(key, l.name, addrs[0]), b: end(a.peer.host, a.peer.dev, peerAddrs[0]) });
      }
    }
  }
  // Per host, after every cable exists: sysctls, routes, sets, rules.
  for (const [key, h] of [...lab.hosts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const name = plainName(key);
    const run = (argv: string[], stdin?: string) => journal.push(stdin === undefined ? { host: name, argv } : { host: name, argv, stdin });
    const ex = (argv: string[]) => lab.exec(key, argv, '').stdout;
    if (ex(['sysctl', '-n', 'net.ipv4.ip_forward']).trim() === '1') run(['sysctl', '-w', 'net.ipv4.ip_forward=1']);
    // What the agents set besides (kube-proxy as it starts, Felix per workload interface).
    const set = (key: string, unless: string) => {
      const v = ex(['sysctl', '-n', key]).trim();
      if (v !== unless && v !== '') run(['sysctl', '-w', `${key}=${v}`]);
    };
    set('net.ipv4.conf.all.route_localnet', '0');
    set('net.netfilter.nf_conntrack_tcp_timeout_established', '432000');
    set('net.netfilter.nf_conntrack_tcp_timeout_close_wait', '60');
    for (const l of h.net.links()) {
      if (l.kind === 'loopback') continue;
      if (ex(['sysctl', '-n', `net.ipv4.conf.${l.name}.proxy_arp`]).trim() === '1') run(['sysctl', '-w', `net.ipv4.conf.${l.name}.proxy_arp=1`]);
      if (ex(['sysctl', '-n', `net.ipv4.neigh.${l.name}.proxy_delay`]).trim() === '0') run(['sysctl', '-w', `net.ipv4.neigh.${l.name}.proxy_delay=0`]);
      set(`net.ipv4.conf.${l.name}.rp_filter`, '0');
      set(`net.ipv4.conf.${l.name}.route_localnet`, '0');
    }
    // Routes to devices first: a gateway must be reachable when a route through it is added.
    const routes = ex(['ip', 'route', 'show']).split('\n').filter((l) => l.trim() && !l.includes('proto kernel'));
    for (const line of [...routes.filter((l) => !l.includes(' via ')), ...routes.filter((l) => l.includes(' via '))]) {
      run(['ip', 'route', 'add', ...line.trim().split(/\s+/)]);
    }
    const sets = ex(['ipset', 'save']);
    if (sets.trim()) run(['ipset', 'restore'], sets);
    // (the accounting objects the rules count into, made as kube-proxy makes them)
    for (const line of ex(['nfacct', 'list']).split('\n')) {
      const m = / = (\S+);$/.exec(line);
      if (m) run(['nfacct', 'add', m[1]]);
    }
    const rules = ex(['iptables-save']).split('\n').filter((l) => !l.startsWith('#')).join('\n');
    if (rules.includes('COMMIT')) run(['iptables-restore'], rules);
  }
  doc.hosts = hosts;
  doc.veths = veths;
  doc.journal = journal;
  return doc;
}
