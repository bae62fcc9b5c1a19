// What the Service registry does around storing a Service: take its ClusterIP (given or next
// free), its node ports (NodePort and LoadBalancer types, unless allocateLoadBalancerNodePorts
// is false) and its healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local); on an
// update keep what was allocated, take what is new, give back what is gone; on delete give back
// everything. Refusals carry the registry's wording for the release (`minor`).

import type { Rng } from '../../random.ts';
import { AllocError, ClusterIPAllocator, PortAllocator } from './allocators.ts';
import { invalidError } from './status.ts';
import type { Service } from './types.ts';
import { goValue, type FieldError } from './validate.ts';

function wantsNodePorts(svc: Service): boolean {
  const t = svc.spec.type;
  return t === 'NodePort' || (t === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
}

function wantsHealthCheck(svc: Service): boolean {
  return svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
}

function hasClusterIP(svc: Service): boolean {
  return svc.spec.type !== 'ExternalName' && svc.spec.clusterIP !== 'None';
}

/**
 * What the registry does to an update before validating it: fields the server set and the new
 * type or policy no longer uses go (node ports after a change to ClusterIP, since v1.20; the
 * healthCheckNodePort when it is no longer needed), and a changed clusterIP carries clusterIPs
 * along (since v1.20), so that the validation sees what the user changed.
 */
export function dropTypeDependentFields(svc: Service, old: Service, minor: number): void {
  const s = svc.spec;
  if (minor >= 20 && wantsNodePorts(old) && !wantsNodePorts(svc)) {
    for (const p of s.ports ?? []) {
      const prev = (old.spec.ports ?? []).find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (prev && p.nodePort === prev.nodePort) delete p.nodePort;
    }
  }
  if (wantsHealthCheck(old) && !wantsHealthCheck(svc) && s.healthCheckNodePort === old.spec.healthCheckNodePort) delete s.healthCheckNodePort;
  if (minor >= 20) {
    const sameIPs = JSON.stringify(s.clusterIPs ?? []) === JSON.stringify(old.spec.clusterIPs ?? []);
    if (s.clusterIP !== old.spec.clusterIP && sameIPs && s.clusterIP) s.clusterIPs = [s.clusterIP];
    if (s.type === 'ExternalName' && old.spec.type !== 'ExternalName' && s.clusterIP === old.spec.clusterIP) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
  }
}

export class ServiceAllocator {
  constructor(
    readonly ips: ClusterIPAllocator,
    readonly ports: PortAllocator,
    private rng: Rng,
    private minor: number,
  ) {}

  private ipError(svc: Service, ip: string, e: AllocError): FieldError {
    if (this.minor >= 20) {
      const detail = e.reason === 'range' ? `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.ips.range}` : e.message;
      return { type: 'Invalid value', field: 'spec.clusterIPs', value: goValue(svc.spec.clusterIPs ?? [ip]), detail: `failed to allocate IP ${ip}: ${detail}` };
    }
    return { type: 'Invalid value', field: 'spec.clusterIP', value: goValue(ip), detail: e.message };
  }

  /**
   * Allocates for a new Service (`old` undefined) or an updated one, writing the results into
   * `svc`. All-or-nothing: on a refusal nothing stays taken, and a StatusError is thrown.
   */
  allocate(svc: Service, old?: Service): void {
    const taken: (() => void)[] = [];
    const undo = () => taken.reverse().forEach((f) => f());
    try {
      this.allocateIP(svc, old, taken);
      this.allocatePorts(svc, old, taken);
    } catch (e) {
      undo();
      throw e;
    }
    // What the old version held and the new one no longer does goes back.
    if (old) this.releaseUnused(old, svc);
  }

  private allocateIP(svc: Service, old: Service | undefined, taken: (() => void)[]): void {
    const s = svc.spec;
    if (!hasClusterIP(svc)) {
      if (s.type === 'ExternalName') {
        delete s.clusterIP;
        delete s.clusterIPs;
      } else if (this.minor >= 20) s.clusterIPs = ['None'];
      if (this.minor >= 20 && s.type !== 'ExternalName') {
        s.ipFamilies = s.ipFamilies ?? ['IPv4'];
        s.ipFamilyPolicy = s.ipFamilyPolicy ?? 'SingleStack';
      }
      return;
    }
    const oldIP = old && hasClusterIP(old) ? old.spec.clusterIP : undefined;
    if (oldIP && (!s.clusterIP || s.clusterIP === oldIP)) {
      s.clusterIP = oldIP;
    } else if (s.clusterIP) {
      const ip = s.clusterIP;
      try {
        this.ips.allocate(ip);
      } catch (e) {
        if (e instanceof AllocError) throw invalidError('Service', svc.metadata.name, [this.ipError(svc, ip, e)]);
        throw e;
      }
      taken.push(() => this.ips.release(ip));
    } else {
      const ip = this.ips.allocateNext(this.rng);
      s.clusterIP = ip;
      taken.push(() => this.ips.release(ip));
    }
    if (this.minor >= 20) {
      s.clusterIPs = [s.clusterIP as string];
      s.ipFamilies = s.ipFamilies ?? ['IPv4'];
      s.ipFamilyPolicy = s.ipFamilyPolicy ?? 'SingleStack';
    }
  }

  private allocatePorts(svc: Service, old: Service | undefined, taken: (() => void)[]): void {
    const s = svc.spec;
    const oldPorts = old && wantsNodePorts(old) ? old.spec.ports ?? [] : [];
    if (wantsNodePorts(svc)) {
      (s.ports ?? []).forEach((p, i) => {
        const prev = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))?.nodePort;
        if (p.nodePort && p.nodePort === prev) return;
        if (!p.nodePort && prev) {
          p.nodePort = prev;
          return;
        }
        if (p.nodePort) {
          const n = p.nodePort;
          // The same port may serve two protocols of one Service.
          if (oldPorts.some((o) => o.nodePort === n) || (s.ports ?? []).some((q, j) => j < i && q.nodePort === n)) return;
          try {
            this.ports.allocate(n);
          } catch (e) {
            if (e instanceof AllocError) throw invalidError('Service', svc.metadata.name, [{ type: 'Invalid value', field: `spec.ports[${i}].nodePort`, value: String(n), detail: e.message }]);
            throw e;
          }
          taken.push(() => this.ports.release(n));
        } else {
          const n = this.ports.allocateNext(this.rng);
          p.nodePort = n;
          taken.push(() => this.ports.release(n));
        }
      });
    }
    const prevHc = old && wantsHealthCheck(old) ? old.spec.healthCheckNodePort : undefined;
    if (wantsHealthCheck(svc)) {
      if (s.healthCheckNodePort && s.healthCheckNodePort === prevHc) return;
      if (!s.healthCheckNodePort && prevHc) {
        s.healthCheckNodePort = prevHc;
        return;
      }
      if (s.healthCheckNodePort) {
        const n = s.healthCheckNodePort;
        try {
          this.ports.allocate(n);
        } catch (e) {
          if (e instanceof AllocError) throw invalidError('Service', svc.metadata.name, [{ type: 'Invalid value', field: 'spec.healthCheckNodePort', value: String(n), detail: e.message }]);
          throw e;
        }
        taken.push(() => this.ports.release(n));
      } else {
        const n = this.ports.allocateNext(this.rng);
        s.healthCheckNodePort = n;
        taken.push(() => this.ports.release(n));
      }
    } else if (prevHc) {
      delete s.healthCheckNodePort;
    }
  }

  private held(svc: Service): { ip?: string; ports: number[] } {
    const ports = wantsNodePorts(svc) ? (svc.spec.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n > 0) : [];
    if (wantsHealthCheck(svc) && svc.spec.healthCheckNodePort) ports.push(svc.spec.healthCheckNodePort);
    return { ip: hasClusterIP(svc) ? svc.spec.clusterIP : undefined, ports };
  }

  private releaseUnused(old: Service, now: Service): void {
    const a = this.held(old), b = this.held(now);
    if (a.ip && a.ip !== b.ip) this.ips.release(a.ip);
    for (const p of a.ports) if (!b.ports.includes(p)) this.ports.release(p);
  }

  release(svc: Service): void {
    const h = this.held(svc);
    if (h.ip) this.ips.release(h.ip);
    for (const p of h.ports) this.ports.release(p);
  }
}
