// kube-proxy's per-Service health check server (pkg/proxy/healthcheck/service_health.go): on
// every node it listens on the healthCheckNodePort of each LoadBalancer Service with
// externalTrafficPolicy Local and answers any path with the number of the Service's ready
// endpoints on that node — 200 when there is one, 503 Service Unavailable when there is none.
// Go's net/http writes the handler's headers sorted, then Date and Content-Length. v1.28 added
// the X-Load-Balancing-Endpoint-Weight header and "serviceProxyHealthy" to the body.

import type { EndpointSlice, Service } from '../kube/objects/types.ts';
import type { HttpResponse } from '../shell/netclients/curl.ts';

/** The Service whose health check listens on `port`, if any. */
export function healthCheckService(services: readonly Service[], port: number): Service | undefined {
  return services.find((s) => s.spec.type === 'LoadBalancer' && s.spec.externalTrafficPolicy === 'Local' && s.spec.healthCheckNodePort === port);
}

/** The Service's ready endpoints on `node` (what kube-proxy reports as localEndpoints). */
export function localReadyEndpoints(svc: Service, node: string, slices: readonly EndpointSlice[]): number {
  const ns = svc.metadata.namespace ?? 'default';
  const ips = new Set<string>();
  for (const s of slices) {
    if (s.metadata.namespace !== ns || s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
    for (const e of s.endpoints ?? []) if (e.nodeName === node && e.conditions?.ready !== false) for (const a of e.addresses ?? []) ips.add(a);
  }
  return ips.size;
}

/** kube-proxy's answer (release `minor`, lab time `dateMs`) for a Service with `count` local endpoints. */
export function healthCheckResponse(svc: Service, count: number, minor: number, dateMs: number): HttpResponse {
  const ns = svc.metadata.namespace ?? 'default';
  const modern = minor >= 28;
  const lines = ['{', '\t"service": {', `\t\t"namespace": ${JSON.stringify(ns)},`, `\t\t"name": ${JSON.stringify(svc.metadata.name)}`, '\t},'];
  if (modern) lines.push(`\t"localEndpoints": ${count},`, '\t"serviceProxyHealthy": true');
  else lines.push(`\t"localEndpoints": ${count}`);
  lines.push('}');
  const body = lines.join('\n');
  const headers: [string, string][] = [['Content-Type', 'application/json'], ['X-Content-Type-Options', 'nosniff']];
  if (modern) headers.push(['X-Load-Balancing-Endpoint-Weight', String(count)]);
  headers.push(['Date', new Date(dateMs).toUTCString()], ['Content-Length', String(body.length)]);
  return { version: 'HTTP/1.1', status: count ? 200 : 503, reason: count ? 'OK' : 'Service Unavailable', headers, body };
}
