// What kube-proxy deletes from its node's conntrack table after a sync: UDP flows that would
// go on to an endpoint that is gone (UDP has no handshake to fail: without the cleanup a
// client's stream keeps its stale DNAT until the entry times out, the DNS blackhole after a
// CoreDNS pod is replaced).
//
//  - legacy (v1.19, pkg/proxy/iptables/proxier.go "Finish housekeeping"): from what changed
//    since the last sync, `conntrack` commands run as kube-proxy runs them: for a UDP Service
//    port deleted, or one that had no ready endpoint and now has, `conntrack -D --orig-dst IP
//    -p udp` for its cluster IP (and external IPs); for each ready endpoint a UDP port lost,
//    `conntrack -D -p udp --dport NODEPORT --dst-nat EP` when the port has a NodePort, else
//    `conntrack -D --orig-dst CLUSTERIP --dst-nat EP -p udp`, and the same for its external
//    and load-balancer IPs. A restarted kube-proxy knows no last sync: every UDP Service with
//    endpoints is cleared.
//  - current (v1.32+, pkg/proxy/conntrack/cleanup.go CleanStaleEntries): every sync scans the
//    UDP entries and deletes, through netlink, those sent to a Service's cluster, external or
//    load-balancer IP and port, or to its NodePort, whose reply does not come from one of the
//    port's serving endpoints (a port without serving endpoints is left alone).

import { formatIPv4 } from '../../net/ipv4.ts';
import type { Layout, ServicePort } from './model.ts';
import { loadBalancerIPs, serviceClusterIP } from './normalize.ts';

const key = (sp: ServicePort): string => `${sp.namespace}/${sp.name}:${sp.portName ?? ''}/${sp.protocol}`;
const clusterIP = (sp: ServicePort, layout: Layout): string | undefined => {
  const ip = serviceClusterIP(sp, layout);
  return ip === null ? undefined : formatIPv4(ip);
};

/** v1.19's endpoints map: the ready endpoints (as ip:port) of each UDP Service port. */
function readyEndpoints(ports: readonly ServicePort[] | undefined): Map<string, { sp: ServicePort; eps: string[] }> {
  const m = new Map<string, { sp: ServicePort; eps: string[] }>();
  for (const sp of ports ?? []) {
    if (sp.protocol !== 'UDP' || !clusterIP(sp, 'legacy')) continue;
    m.set(key(sp), { sp, eps: sp.endpoints.filter((e) => e.ready !== false).map((e) => `${e.ip}:${e.port}`) });
  }
  return m;
}

/** The legacy layout's `conntrack` commands after a sync from `prev` (undefined: kube-proxy
 *  just started) to `next`, in the order kube-proxy runs them. */
export function legacyConntrackCleanup(prev: readonly ServicePort[] | undefined, next: readonly ServicePort[]): string[][] {
  const before = readyEndpoints(prev);
  const after = readyEndpoints(next);
  const staleIPs = new Set<string>();
  for (const [k, { sp }] of before) if (!after.has(k)) staleIPs.add(clusterIP(sp, 'legacy')!);
  for (const [k, { sp, eps }] of after) {
    if (eps.length === 0 || (before.get(k)?.eps.length ?? 0) > 0) continue;
    staleIPs.add(clusterIP(sp, 'legacy')!);
    for (const ip of sp.externalIPs ?? []) staleIPs.add(ip);
  }
  const cmds: string[][] = [...staleIPs].sort().map((ip) => ['conntrack', '-D', '--orig-dst', ip, '-p', 'udp']);
  for (const [k, { eps }] of before) {
    const now = after.get(k);
    if (!now) continue;
    for (const ep of eps) {
      if (now.eps.includes(ep)) continue;
      const sp = now.sp;
      const ip = ep.slice(0, ep.lastIndexOf(':'));
      if (sp.nodePort) cmds.push(['conntrack', '-D', '-p', 'udp', '--dport', String(sp.nodePort), '--dst-nat', ip]);
      else cmds.push(['conntrack', '-D', '--orig-dst', clusterIP(sp, 'legacy')!, '--dst-nat', ip, '-p', 'udp']);
      for (const x of sp.externalIPs ?? []) cmds.push(['conntrack', '-D', '--orig-dst', x, '--dst-nat', ip, '-p', 'udp']);
      for (const x of loadBalancerIPs(sp, 'legacy')) cmds.push(['conntrack', '-D', '--orig-dst', x, '--dst-nat', ip, '-p', 'udp']);
    }
  }
  return cmds;
}

/** A UDP flow as the current layout's reconciler looks at it. */
export interface UdpFlow {
  origDst: string;
  origDport: number;
  replySrc: string;
}

/** The current layout's reconciler: which of `flows` (UDP entries) kube-proxy deletes. */
export function staleUdpFlows<F extends UdpFlow>(ports: readonly ServicePort[], flows: readonly F[]): F[] {
  const byFrontend = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  for (const sp of ports) {
    if (sp.protocol !== 'UDP') continue;
    const serving = new Set(sp.endpoints.filter((e) => e.serving !== false).map((e) => e.ip));
    if (serving.size === 0) continue;
    const cip = clusterIP(sp, 'current');
    for (const ip of [...(cip ? [cip] : []), ...loadBalancerIPs(sp, 'current'), ...(sp.externalIPs ?? [])]) byFrontend.set(`${ip}:${sp.port}`, serving);
    if (sp.nodePort) byNodePort.set(sp.nodePort, serving);
  }
  if (byFrontend.size === 0 && byNodePort.size === 0) return [];
  return flows.filter((f) => {
    const front = byFrontend.get(`${f.origDst}:${f.origDport}`);
    if (front && !front.has(f.replySrc)) return true;
    const np = byNodePort.get(f.origDport);
    return np !== undefined && !np.has(f.replySrc);
  });
}
