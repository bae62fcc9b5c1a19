// pkg/proxy/topology.go CategorizeEndpoints (current layout): which endpoints the "Cluster" and
// "Local" traffic-policy chains use on this node, and whether the service has usable endpoints
// anywhere. Ready endpoints first; serving+terminating ones only when no ready one is left.

import type { EndpointInfo, PortInfo } from './normalize.ts';

export interface Categorized {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  /** Endpoints that get a KUBE-SEP chain on this node (cluster ∪ local). */
  reachable: EndpointInfo[];
  hasAny: boolean;
}

export function externallyAccessible(p: PortInfo): boolean {
  return p.nodePort !== 0 || p.loadBalancerIPs.length > 0 || p.externalIPs.length > 0;
}

export function usesClusterEndpoints(p: PortInfo): boolean {
  return !p.internalPolicyLocal || externallyAccessible(p);
}

export function usesLocalEndpoints(p: PortInfo): boolean {
  return p.internalPolicyLocal || (p.externalPolicyLocal && externallyAccessible(p));
}

type TopologyMode = '' | 'PreferSameNode' | 'PreferSameZone';

/** Hints apply only when every ready endpoint carries one and at least one is for us. */
function topologyMode(eps: readonly EndpointInfo[], nodeName: string, zone: string): TopologyMode {
  let allNode = true;
  let forNode = false;
  let allZone = true;
  let forZone = false;
  for (const ep of eps) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNode = false;
    else if (ep.nodeHints.includes(nodeName)) forNode = true;
    if (ep.zoneHints.length === 0) allZone = false;
    else if (ep.zoneHints.includes(zone)) forZone = true;
  }
  if (allNode && forNode) return 'PreferSameNode';
  if (allZone && forZone) return 'PreferSameZone';
  return '';
}

export function categorizeEndpoints(p: PortInfo, nodeName: string, zone: string): Categorized {
  const eps = p.endpoints;
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAny = false;
  let mode: TopologyMode = '';
  let servingTerminating = false;

  if (usesClusterEndpoints(p)) {
    mode = topologyMode(eps, nodeName, zone);
    cluster = eps.filter(
      (ep) => ep.ready && (mode === '' || (mode === 'PreferSameNode' ? ep.nodeHints.includes(nodeName) : ep.zoneHints.includes(zone))),
    );
    if (cluster.length === 0) cluster = eps.filter((ep) => ep.serving && ep.terminating);
    if (cluster.length > 0) hasAny = true;
  }
  if (!usesLocalEndpoints(p)) return { cluster, local, reachable: cluster, hasAny };

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of eps) {
    if (ep.ready) {
      hasAny = true;
      if (ep.local) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAny = true;
      if (ep.local) localServingTerminating = true;
    }
  }
  if (localReady) local = eps.filter((ep) => ep.local && ep.ready);
  else if (localServingTerminating) {
    servingTerminating = true;
    local = eps.filter((ep) => ep.local && ep.serving && ep.terminating);
  }
  if (!usesClusterEndpoints(p)) return { cluster, local, reachable: local, hasAny };
  if (mode === '' && !servingTerminating) return { cluster, local, reachable: cluster, hasAny };

  // kube-proxy merges the two lists through a Go map (random order); sorted here.
  const merged = new Map<string, EndpointInfo>();
  for (const ep of cluster) merged.set(ep.str, ep);
  for (const ep of local) merged.set(ep.str, ep);
  const reachable = [...merged.values()].sort((a, b) => (a.str < b.str ? -1 : a.str > b.str ? 1 : 0));
  return { cluster, local, reachable, hasAny };
}
