// What kube-proxy does to its node besides writing rules: the sysctls it sets as it starts,
// and its conntrack housekeeping after each sync (kube/proxy/conntrack-cleanup.ts says which
// flows). Both go through the node's own tools or tables, as kube-proxy's do.

import type { Host } from '../host.ts';
import { asUserspace, standInPortid } from '../conntrack/events.ts';
import { legacyConntrackCleanup, staleUdpFlows } from '../kube/proxy/conntrack-cleanup.ts';
import type { Layout, ServicePort } from '../kube/proxy/index.ts';
import { formatIPv4 } from '../net/ipv4.ts';
import { PROTO } from '../netfilter/types.ts';
import { runProgram } from '../shell/programs.ts';

/** The conntrack timeouts of KubeProxyConfiguration's defaults (conntrack.tcpEstablishedTimeout
 *  24h, tcpCloseWaitTimeout 1h). */
const START_SYSCTLS: readonly [string, number][] = [
  ['net.netfilter.nf_conntrack_tcp_timeout_established', 86400],
  ['net.netfilter.nf_conntrack_tcp_timeout_close_wait', 3600],
];
const ROUTE_LOCALNET = 'route_localnet';

/** The nfacct counters the current kube-proxy counts into (metrics.go): INVALID packets it
 *  drops, and packets to localhost NodePorts it accepts. */
export const KUBE_PROXY_NFACCT = ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts'] as const;

/** The current kube-proxy's nfacct runner as it starts: each counter made unless it exists
 *  (through netlink, as `nfacct add` would). The legacy one (v1.19) has none. */
export function kubeProxyNfacct(host: Host): void {
  for (const name of KUBE_PROXY_NFACCT) if (!host.nfacct.has(name)) host.nfacct.add(name);
}

/**
 * What kube-proxy does to its node as it starts, before its first sync (server_others.go, the
 * proxier's constructor): those timeouts, and net.ipv4.conf.all.route_localnet=1 when it serves
 * NodePorts on 127.0.0.1 (always in v1.19; localhostNodePorts now); each written only where it
 * differs.
 */
export function kubeProxyStart(host: Host, localhostNodePorts: boolean, now: number): void {
  const sys = host.net.sysctl;
  for (const [key, value] of START_SYSCTLS) if (sys.globalInt(key) !== value) runProgram(['sysctl', '-w', `${key}=${value}`], '', { host, now });
  if (localhostNodePorts && sys.conf('all', ROUTE_LOCALNET) !== 1) runProgram(['sysctl', '-w', `net.ipv4.conf.all.${ROUTE_LOCALNET}=1`], '', { host, now });
}

/** kube-proxy's housekeeping after a sync from `prev` (undefined: it just started) to
 *  `services`: stale UDP flows out of the node's conntrack table. */
export function kubeProxyConntrackCleanup(host: Host, layout: Layout, prev: readonly ServicePort[] | undefined, services: readonly ServicePort[], now: number): void {
  if (layout === 'legacy') {
    // (exec'd as kube-proxy v1.19 does; "0 flow entries have been deleted" is no error to it)
    for (const argv of legacyConntrackCleanup(prev, services)) runProgram(argv, '', { host, now });
    return;
  }
  const flows = host.ct.list({ proto: PROTO.udp }, now).map((e) => ({ e, origDst: formatIPv4(e.orig.dst), origDport: e.orig.dport, replySrc: formatIPv4(e.reply.src) }));
  if (!flows.length) return;
  const stale = staleUdpFlows(services, flows);
  // (deleted through netlink: the DESTROY events name kube-proxy, whose pid the lab does not have)
  if (stale.length) asUserspace({ portid: standInPortid(now), progname: 'kube-proxy' }, () => stale.forEach((f) => host.ct.delete(f.e, now)));
}
