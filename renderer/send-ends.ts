// The two ends of a packet sent from the canvas (renderer/send-packet.ts), worked out from the
// lab's view alone: the source's name as `kpl trace --from` takes it, the destination's address
// and first port as `--to` takes it. No DOM: tested with the engine's own traces.

import type { LabView } from '../shared/api/contract.ts';
import type { StartedTrace } from './guide-steps.ts';

/** What the ends need of a canvas element (graph.ts's ElData has these). */
export interface CanvasEnd {
  id: string;
  kind: string;
  name: string;
  namespace?: string;
}

type Spec = StartedTrace['spec'];

/** Where a packet can start: a pod (its own network namespace), a node, a Linux host. */
export function canSend(d: CanvasEnd): boolean {
  return (d.kind === 'pod' && !!d.namespace) || d.kind === 'node' || d.kind === 'host' || d.kind === 'client' || d.kind === 'lb';
}

/** The trace form's `from` for a canvas element (null: it sends nothing). */
export function fromOf(d: CanvasEnd): string | null {
  if (!canSend(d)) return null;
  return d.kind === 'pod' ? `pod/${d.namespace}/${d.name}` : d.kind === 'node' ? `node/${d.name}` : d.name;
}

function proto(p: string | undefined): Spec['proto'] {
  const l = (p ?? 'tcp').toLowerCase();
  return l === 'udp' || l === 'sctp' ? l : 'tcp';
}

/**
 * The trace's ends for a packet from `src` to `dst`: the destination's first port (a Service's
 * first port; a pod's port as an endpoint of a Service, else 80; a node's first NodePort, else
 * 80; a host's first listening port, else 80) with its protocol. Null when `dst` takes no packet
 * (a LAN, a Deployment) or the two are the same element.
 */
export function traceEnds(view: LabView, src: CanvasEnd, dst: CanvasEnd): Spec | null {
  const from = fromOf(src);
  if (!from || src.id === dst.id) return null;
  const c = view.cluster;
  if (dst.kind === 'service') {
    const s = c?.services.find((x) => x.name === dst.name && x.namespace === dst.namespace);
    const p = s?.ports[0];
    return { from, to: `${dst.name}.${dst.namespace ?? 'default'}:${p?.port ?? 80}`, proto: proto(p?.protocol) };
  }
  if (dst.kind === 'pod' && dst.namespace) {
    const ep = c?.endpoints.find((e) => e.pod === dst.name && e.namespace === dst.namespace && e.port !== undefined);
    const svcPort = ep ? c?.services.find((s) => s.name === ep.service && s.namespace === ep.namespace)?.ports.find((p) => p.targetPort === ep.port || p.port === ep.port) : undefined;
    return { from, to: `pod/${dst.namespace}/${dst.name}:${ep?.port ?? 80}`, proto: proto(svcPort?.protocol) };
  }
  if (dst.kind === 'node') {
    const np = c?.services.flatMap((s) => s.ports).find((p) => p.nodePort !== undefined);
    return { from, to: `node/${dst.name}:${np?.nodePort ?? 80}`, proto: proto(np?.protocol) };
  }
  if (dst.kind === 'host' || dst.kind === 'client' || dst.kind === 'lb') {
    const host = view.hosts.find((x) => x.name === dst.name);
    const ip = host?.links.find((l) => l.ip)?.ip?.split('/')[0];
    if (!ip) return null;
    const l = host?.listen[0];
    return { from, to: `${ip}:${l?.port ?? 80}`, proto: proto(l?.proto) };
  }
  return null;
}
