// What kube-proxy's change trackers make of the API objects: one ServicePort per port of each
// Service, with the endpoints of that port from the Service's EndpointSlices (matched by port
// name and protocol, as the endpoints change tracker does). ExternalName Services get no rules.

import type { EndpointSlice, Service } from '../kube/objects/types.ts';
import type { Endpoint, ServicePort } from '../kube/proxy/index.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function servicePortsOf(services: readonly Service[], slices: readonly EndpointSlice[]): ServicePort[] {
  const byService = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    if (s.addressType !== 'IPv4') continue;
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    let list = byService.get(key);
    if (!list) byService.set(key, (list = []));
    list.push(s);
  }
  const out: ServicePort[] = [];
  for (const svc of services) {
    const spec = svc.spec;
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') continue;
    const ns = svc.metadata.namespace ?? 'default';
    const mySlices = byService.get(`${ns}/${svc.metadata.name}`) ?? [];
    const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const p of spec.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      const endpoints: Endpoint[] = [];
      const seen = new Set<string>();
      for (const slice of mySlices) {
        const sp = (slice.ports ?? []).find((x) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP') === protocol);
        if (!sp || sp.port === undefined) continue;
        for (const e of slice.endpoints ?? []) {
          for (const ip of e.addresses.slice(0, 1)) {
            const key = `${ip}:${sp.port}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const ep: Endpoint = { ip, port: sp.port };
            if (e.nodeName) ep.nodeName = e.nodeName;
            if (e.conditions?.ready !== undefined) ep.ready = e.conditions.ready;
            if (e.conditions?.serving !== undefined) ep.serving = e.conditions.serving;
            if (e.conditions?.terminating !== undefined) ep.terminating = e.conditions.terminating;
            endpoints.push(ep);
          }
        }
      }
      const sp: ServicePort = {
        namespace: ns,
        name: svc.metadata.name,
        protocol,
        port: p.port,
        type,
        clusterIPs,
        endpoints,
      };
      if (p.name) sp.portName = p.name;
      if (p.nodePort !== undefined) sp.nodePort = p.nodePort;
      if (spec.externalIPs?.length) sp.externalIPs = spec.externalIPs;
      const ingress = svc.status?.loadBalancer?.ingress;
      if (ingress?.length) sp.loadBalancerIngress = ingress.map((i) => ({ ...(i.ip !== undefined ? { ip: i.ip } : {}), ...(i.hostname !== undefined ? { hostname: i.hostname } : {}) }));
      if (spec.loadBalancerSourceRanges?.length) sp.loadBalancerSourceRanges = spec.loadBalancerSourceRanges;
      if (spec.externalTrafficPolicy) sp.externalTrafficPolicy = spec.externalTrafficPolicy;
      if (spec.internalTrafficPolicy) sp.internalTrafficPolicy = spec.internalTrafficPolicy;
      if (spec.sessionAffinity) sp.sessionAffinity = spec.sessionAffinity;
      const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
      if (timeout !== undefined) sp.sessionAffinityTimeoutSeconds = timeout;
      if (spec.healthCheckNodePort !== undefined) sp.healthCheckNodePort = spec.healthCheckNodePort;
      out.push(sp);
    }
  }
  return out;
}
