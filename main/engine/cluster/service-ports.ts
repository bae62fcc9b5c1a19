// What kube-proxy's change trackers make of the API objects: one ServicePort per port of each
// Service, with the endpoints of that port from the Service's EndpointSlices (matched by port
// name and protocol, as the endpoints change tracker does). ExternalName Services get no rules.

import type { EndpointSlice, Service } from '../kube/objects/types.ts';
import type { Endpoint, ServicePort } from '../kube/proxy/index.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A Service's ports as last made, with the objects (and their versions) they were made from. */
interface Made {
  svc: Service;
  rv: string | undefined;
  slices: EndpointSlice[];
  rvs: Array<string | undefined>;
  ports: ServicePort[];
}

/**
 * servicePortsOf, remembered per Service: a Service whose object and EndpointSlices are the
 * same (same objects, same resourceVersions) gets the same ServicePort objects as before, and
 * so does one remade with equal content — which lets kube-proxy's syncer reuse what it wrote
 * for them.
 */
export class ServicePortCache {
  private made = new Map<string, Made>();

  of(services: readonly Service[], slices: readonly EndpointSlice[]): ServicePort[] {
    const byService = slicesByService(slices);
    const next = new Map<string, Made>();
    const out: ServicePort[] = [];
    for (const svc of services) {
      const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
      const mine = byService.get(key) ?? NO_SLICES;
      const old = this.made.get(key);
      let m: Made;
      if (old && old.svc === svc && old.rv === svc.metadata.resourceVersion && sameSlices(old, mine)) m = old;
      else {
        let ports = portsOfService(svc, mine);
        if (old && old.ports.length === ports.length && JSON.stringify(old.ports) === JSON.stringify(ports)) ports = old.ports;
        m = { svc, rv: svc.metadata.resourceVersion, slices: mine, rvs: mine.map((s) => s.metadata.resourceVersion), ports };
      }
      next.set(key, m);
      for (const p of m.ports) out.push(p);
    }
    this.made = next;
    return out;
  }
}

const NO_SLICES: EndpointSlice[] = [];

function sameSlices(m: Made, slices: readonly EndpointSlice[]): boolean {
  if (m.slices.length !== slices.length) return false;
  for (let i = 0; i < slices.length; i++) if (m.slices[i] !== slices[i] || m.rvs[i] !== slices[i].metadata.resourceVersion) return false;
  return true;
}

export function servicePortsOf(services: readonly Service[], slices: readonly EndpointSlice[]): ServicePort[] {
  const byService = slicesByService(slices);
  const out: ServicePort[] = [];
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    for (const p of portsOfService(svc, byService.get(`${ns}/${svc.metadata.name}`) ?? NO_SLICES)) out.push(p);
  }
  return out;
}

function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
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
  return byService;
}

/** One Service's ServicePorts, from its EndpointSlices. */
function portsOfService(svc: Service, mySlices: readonly EndpointSlice[]): ServicePort[] {
  const out: ServicePort[] = [];
  {
    const spec = svc.spec;
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') return out;
    const ns = svc.metadata.namespace ?? 'default';
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
