// The cloud controller's service loop: a LoadBalancer Service gets an address on the cloud's
// load balancer (status.loadBalancer.ingress), which the lab's cloud LB then serves; one that
// stops being a LoadBalancer loses it. Addresses a user wrote into the status are kept.

import type { ControllerHost, KubeHooks } from './controller-host.ts';
import { clone } from './types.ts';

export function syncLoadBalancers(host: ControllerHost, hooks: KubeHooks): void {
  if (!hooks.loadBalancerIP) return;
  for (const live of host.list('Service')) {
    const isLb = live.spec.type === 'LoadBalancer';
    const ingress = live.status?.loadBalancer?.ingress ?? [];
    if (isLb && !ingress.length) {
      const ip = hooks.loadBalancerIP(live);
      if (!ip) continue;
      const s = clone(live);
      s.status = { loadBalancer: { ingress: [{ ip }] } };
      host.update(s);
    } else if (!isLb && ingress.length) {
      const s = clone(live);
      s.status = { loadBalancer: {} };
      host.update(s);
    }
  }
}
