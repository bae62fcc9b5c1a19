// What kube-proxy's change trackers make of the API objects: one ServicePort per port of each
// Service, with the endpoints of that port from the Service's EndpointSlices (matched by port
// name and protocol, as the endpoints change tracker does). ExternalName Services get no rules.

import type { EndpointSlice, Service } from '../kube/objects/types.ts';
import type { Endpoint, ServicePort } from '../kube/proxy/index.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A Service's ports as last made, with the version of the object they were made from. */
interface Made {
  key: string;
  rv: string | undefined;
  ports: ServicePort[];
}

/** Where an EndpointSlice object belongs: its Service's key, and the pass that last saw it. */
interface SliceSeen {
  key: string | undefined;
  pass: number;
}

/**
 * servicePortsOf, remembered per Service: a Service whose object and EndpointSlices are the
 * same objects as last time gets the same ServicePort objects, and so does one remade with
 * equal content — which lets kube-proxy's syncer reuse what it wrote for them. The store
 * replaces an object when it changes, so a change is found by identity: a pass looks each
 * Service and slice up by object and remakes only the Services that changed or whose slices
 * came, went or changed (one endpoint change in 10,000 Services remakes one Service).
 */
export class ServicePortCache {
  private made = new WeakMap<Service, Made>();
  /** The last ports made per Service key: a Service remade (a new object) compares its new
   *  ports with them. */
  private byKey = new Map<string, Made>();
  private slices = new Map<EndpointSlice, SliceSeen>();
  /** The last pass's lists and what it found for each object, by position. */
  private lastSlices: readonly EndpointSlice[] = [];
  private lastSeen: SliceSeen[] = [];
  private lastServices: Service[] = [];
  private lastMade: Made[] = [];
  private pass = 0;
  /** The last answer, and where each Service's ports start in it (made when first needed). */
  private lastOut: ServicePort[] | null = null;
  private at: { pos: Map<string, number>; start: Int32Array } | null = null;

  /**
   * What `of` answers, when since the last answer only the Services of `keys` (`ns/name`) may
   * have changed — their objects (in place: none came or went) or their slices — remaking
   * those only, without a look at the others. `service` and `slicesOf` read the store (the
   * slices labelled with the Service's name, in the store's order). null: it cannot tell (no
   * last answer, a Service came or went, or its number of ports changed): `of` must run.
   */
  ofFew(keys: Iterable<string>, service: (key: string) => Service | undefined, slicesOf: (key: string) => readonly EndpointSlice[]): ServicePort[] | null {
    const last = this.lastOut;
    if (!last) return null;
    if (!this.at) {
      const pos = new Map<string, number>();
      const start = new Int32Array(this.lastMade.length);
      let n = 0;
      for (let i = 0; i < this.lastMade.length; i++) {
        pos.set(this.lastMade[i].key, i);
        start[i] = n;
        n += this.lastMade[i].ports.length;
      }
      this.at = { pos, start };
    }
    const { pos, start } = this.at;
    let out: ServicePort[] | null = null;
    for (const key of keys) {
      const i = pos.get(key);
      const svc = service(key);
      if (i === undefined || !svc) {
        if (i === undefined && !svc) continue; // slices of no Service
        return null;
      }
      const mine = slicesOf(key).filter((sl) => sl.addressType === 'IPv4');
      const old = this.lastMade[i];
      let ports = portsOfService(svc, mine);
      if (old.ports.length !== ports.length) return null;
      if (JSON.stringify(old.ports) === JSON.stringify(ports)) ports = old.ports;
      const m: Made = { key, rv: svc.metadata.resourceVersion, ports };
      this.made.set(svc, m);
      this.byKey.set(key, m);
      this.lastServices[i] = svc;
      this.lastMade[i] = m;
      if (ports === old.ports) continue;
      out ??= last.slice();
      for (let j = 0; j < ports.length; j++) out[start[i] + j] = ports[j];
    }
    if (!out) return last;
    this.lastOut = out;
    return out;
  }

  of(services: readonly Service[], slices: readonly EndpointSlice[]): ServicePort[] {
    const pass = ++this.pass;
    // Services whose slices changed: new slice objects, and those no longer listed.
    const touched = new Set<string>();
    let kept = 0;
    // Most objects are where they were last time: compared by position before a lookup.
    const lastSlices = this.lastSlices;
    const seenAt: SliceSeen[] = [];
    for (let i = 0; i < slices.length; i++) {
      const sl = slices[i];
      let seen = lastSlices[i] === sl ? this.lastSeen[i] : this.slices.get(sl);
      if (seen === undefined) {
        seen = { key: serviceKeyOf(sl), pass };
        this.slices.set(sl, seen);
        if (seen.key !== undefined) touched.add(seen.key);
      } else {
        seen.pass = pass;
        kept++;
      }
      seenAt.push(seen);
    }
    this.lastSlices = slices.slice();
    this.lastSeen = seenAt;
    if (kept !== this.slices.size - (slices.length - kept)) {
      for (const [sl, seen] of this.slices) {
        if (seen.pass === pass) continue;
        this.slices.delete(sl);
        if (seen.key !== undefined) touched.add(seen.key);
      }
    }
    // The slices of those Services, in the store's order.
    const byService = new Map<string, EndpointSlice[]>();
    if (touched.size) {
      for (let i = 0; i < slices.length; i++) {
        const sl = slices[i];
        const key = seenAt[i].key;
        if (key === undefined || !touched.has(key)) continue;
        const list = byService.get(key);
        if (list) list.push(sl);
        else byService.set(key, [sl]);
      }
    }
    // A Service remade with untouched slices finds them here (made once per pass, if needed).
    let all: Map<string, EndpointSlice[]> | undefined;
    const out: ServicePort[] = [];
    const lastServices = this.lastServices;
    const madeAt: Made[] = [];
    for (let i = 0; i < services.length; i++) {
      const svc = services[i];
      let m = lastServices[i] === svc ? this.lastMade[i] : this.made.get(svc);
      if (m === undefined || m.rv !== svc.metadata.resourceVersion || touched.has(m.key)) {
        const key = m?.key ?? `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
        const mine = byService.get(key) ?? (touched.has(key) ? undefined : (all ??= slicesByService(slices)).get(key)) ?? NO_SLICES;
        let ports = portsOfService(svc, mine);
        const old = m ?? this.byKey.get(key);
        if (old && old.ports.length === ports.length && JSON.stringify(old.ports) === JSON.stringify(ports)) ports = old.ports;
        m = { key, rv: svc.metadata.resourceVersion, ports };
        this.made.set(svc, m);
        this.byKey.set(key, m);
      }
      madeAt.push(m);
      for (const p of m.ports) out.push(p);
    }
    this.lastServices = services.slice();
    this.lastMade = madeAt;
    this.lastOut = out;
    this.at = null;
    return out;
  }
}

const NO_SLICES: EndpointSlice[] = [];

/** The Service an IPv4 EndpointSlice belongs to (undefined: none kube-proxy would use). */
function serviceKeyOf(s: EndpointSlice): string | undefined {
  if (s.addressType !== 'IPv4') return undefined;
  const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${s.metadata.namespace}/${svc}` : undefined;
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
    const key = serviceKeyOf(s);
    if (key === undefined) continue;
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
