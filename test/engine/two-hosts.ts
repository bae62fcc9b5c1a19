// Test fixture: a client (10.0.0.10) and a server (10.0.0.20) on one LAN, as a lab.

import { emptyLab, type ListenSpec } from '../../shared/lab.ts';
import { Lab } from '../../main/engine/lab.ts';

/** `listen`: the server's sockets; `journal`: commands run first, as `host: line` pairs. */
export function twoHosts(listen: ListenSpec[], journal: [string, string][] = []): Lab {
  const doc = emptyLab('two-hosts');
  doc.lans = [{ name: 'a' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.10/24' }] },
    { name: 'server', listen, links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.20/24' }] },
  ];
  doc.journal = journal.map(([host, line]) => ({ host, argv: line.split(' ') }));
  return Lab.fromDoc(doc);
}

/** A rule that makes a host track connections (conntrack is off in a namespace without one). */
export const TRACK = 'iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT';
