// The cloud load balancer in front of LoadBalancer Services, modelled as a passthrough LB
// (GCP's network LB, MetalLB in L2 mode): one appliance on the nodes' LAN answers ARP for
// every LoadBalancer address and forwards the packets, destination unchanged, to a node that
// passes its health check — kube-proxy's rules on that node then do the rest. With
// externalTrafficPolicy Local the check is the Service's healthCheckNodePort, which
// kube-proxy answers 200 only on nodes with a ready local endpoint; with Cluster every
// ready node passes. The reply leaves the node straight to the client.

import type { EndpointSlice, Node, Service } from '../kube/objects/types.ts';
import { nodeInternalIP, nodeReady } from '../kube/objects/node.ts';

export const CLOUD_LB_HOST = 'cloud-lb';

/** The nodes the LB sends a Service's traffic to, by name (sorted): those passing the check. */
export function healthyNodes(svc: Service, nodes: readonly Node[], slices: readonly EndpointSlice[]): string[] {
  const ready = nodes.filter((n) => nodeReady(n) && nodeInternalIP(n));
  if (svc.spec.externalTrafficPolicy !== 'Local') return ready.map((n) => n.metadata.name).sort();
  const ns = svc.metadata.namespace ?? 'default';
  const local = new Set<string>();
  for (const s of slices) {
    if (s.metadata.namespace !== ns || s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
    for (const e of s.endpoints ?? []) if (e.nodeName && e.conditions?.ready !== false) local.add(e.nodeName);
  }
  return ready.filter((n) => local.has(n.metadata.name)).map((n) => n.metadata.name).sort();
}

/** Where each LoadBalancer address goes: the first healthy node's InternalIP, or null (dropped). */
export function lbRoutes(services: readonly Service[], nodes: readonly Node[], slices: readonly EndpointSlice[]): Map<string, string | null> {
  const ipOf = new Map(nodes.map((n) => [n.metadata.name, nodeInternalIP(n)]));
  const out = new Map<string, string | null>();
  for (const svc of services) {
    if (svc.spec.type !== 'LoadBalancer') continue;
    const healthy = healthyNodes(svc, nodes, slices);
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      if (!ing.ip) continue;
      out.set(ing.ip, healthy.length ? (ipOf.get(healthy[0]) ?? null) : null);
    }
  }
  return out;
}
