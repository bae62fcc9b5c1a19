// What the endpoints and endpointslice controllers derive from a Service with a selector and
// the pods it selects: per pod and Service port the target port (a number, or a container port
// looked up by name and protocol: podutil.FindPort), ready pods as addresses and the others as
// notReadyAddresses, repacked into subsets of pods that share a port set (RepackSubsets).

import type { EndpointAddress, EndpointPort, EndpointSubset, Node, Pod, Protocol, Service, ServicePort, SliceEndpoint } from './types.ts';

/** podutil.FindPort: the container port a Service port reaches on this pod, or null. */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | null {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  const proto = sp.protocol ?? 'TCP';
  const restartable = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...pod.spec.containers, ...restartable]) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
  }
  return null;
}

export function podIsReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Whether the pod belongs in endpoints at all (has an IP, is not finished or going away). */
export function podIsEndpointCandidate(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.status?.podIP && phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

function addressOf(pod: Pod, svc: Service, legacy: boolean): EndpointAddress {
  const a: EndpointAddress = { ip: pod.status?.podIP as string };
  const host = pod.spec.hostname;
  if (typeof host === 'string' && host && pod.spec.subdomain === svc.metadata.name) a.hostname = host;
  if (pod.spec.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  if (legacy) a.targetRef.resourceVersion = pod.metadata.resourceVersion;
  return a;
}

function endpointPort(sp: ServicePort, port: number): EndpointPort {
  const p: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
  if (sp.name) p.name = sp.name;
  if (sp.appProtocol) p.appProtocol = sp.appProtocol;
  return p;
}

/** LessEndpointAddress: the IP as a byte string, then the pod's uid. */
function lessAddress(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '', ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

const portKey = (p: EndpointPort) => `${p.name ?? ''}\u0000${p.port}\u0000${p.protocol ?? ''}\u0000${p.appProtocol ?? ''}`;

/**
 * The Endpoints subsets for `svc` (which has a selector) given the pods it selects.
 * `legacy` (before v1.22) keeps the pods' resourceVersion in targetRef as those releases did.
 */
export function deriveSubsets(svc: Service, pods: Pod[], legacy: boolean): EndpointSubset[] {
  const tolerate = svc.spec.publishNotReadyAddresses === true;
  // port -> address ip/uid -> [address, ready]
  const byPort = new Map<string, { port: EndpointPort | null; addrs: Map<string, [EndpointAddress, boolean]> }>();
  const add = (port: EndpointPort | null, addr: EndpointAddress, ready: boolean) => {
    const k = port ? portKey(port) : '-1';
    let e = byPort.get(k);
    if (!e) byPort.set(k, (e = { port, addrs: new Map() }));
    e.addrs.set(`${addr.ip}/${addr.targetRef?.uid ?? ''}`, [addr, ready]);
  };
  const ports = svc.spec.ports ?? [];
  for (const pod of pods) {
    if (!podIsEndpointCandidate(pod)) continue;
    const ready = tolerate || podIsReady(pod);
    const addr = addressOf(pod, svc, legacy);
    if (!ports.length) {
      if (svc.spec.clusterIP === 'None') add(null, addr, ready);
      continue;
    }
    for (const sp of ports) {
      const n = resolveTargetPort(sp, pod);
      if (n !== null) add(endpointPort(sp, n), addr, ready);
    }
  }
  // Ports that reach the same set of addresses share a subset.
  const groups = new Map<string, { addrs: [EndpointAddress, boolean][]; ports: EndpointPort[] }>();
  for (const { port, addrs } of byPort.values()) {
    const list = [...addrs.values()];
    const key = list.map(([a, r]) => `${a.ip}/${a.targetRef?.uid ?? ''}/${r}`).sort().join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs: list, ports: [] }));
    if (port) g.ports.push(port);
  }
  const subsets: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ss: EndpointSubset = {};
    const ready = g.addrs.filter(([, r]) => r).map(([a]) => a).sort(lessAddress);
    const notReady = g.addrs.filter(([, r]) => !r).map(([a]) => a).sort(lessAddress);
    if (ready.length) ss.addresses = ready;
    if (notReady.length) ss.notReadyAddresses = notReady;
    if (g.ports.length) ss.ports = g.ports.sort((a, b) => portKey(a).localeCompare(portKey(b)));
    subsets.push(ss);
  }
  // The real order is by a hash of each subset; the lab keeps a stable, readable one instead.
  subsets.sort((a, b) => {
    const fa = a.ports?.[0], fb = b.ports?.[0];
    const ka = fa ? portKey(fa) : '', kb = fb ? portKey(fb) : '';
    if (ka !== kb) return ka < kb ? -1 : 1;
    const ia = (a.addresses ?? a.notReadyAddresses ?? [])[0]?.ip ?? '', ib = (b.addresses ?? b.notReadyAddresses ?? [])[0]?.ip ?? '';
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  return subsets;
}

export interface SliceGroup {
  ports: { name: string; port: number; protocol: Protocol; appProtocol?: string }[];
  endpoints: SliceEndpoint[];
}

/**
 * The endpointslice controller's grouping: pods with the same resolved port list share slices
 * (at most `maxPerSlice` endpoints each). Order: the pods' order.
 */
export function deriveSliceGroups(svc: Service, pods: Pod[], nodes: Map<string, Node>, maxPerSlice = 100): SliceGroup[] {
  const groups = new Map<string, SliceGroup[]>();
  const order: string[] = [];
  const tolerate = svc.spec.publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!podIsEndpointCandidate(pod)) continue;
    const ports: SliceGroup['ports'] = [];
    for (const sp of svc.spec.ports ?? []) {
      const n = resolveTargetPort(sp, pod);
      if (n === null) continue;
      const p: SliceGroup['ports'][number] = { name: sp.name ?? '', port: n, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    if ((svc.spec.ports ?? []).length && !ports.length) continue;
    const ready = podIsReady(pod);
    const ep: SliceEndpoint = {
      addresses: [pod.status?.podIP as string],
      conditions: { ready: tolerate || ready, serving: ready, terminating: false },
    };
    if (typeof pod.spec.hostname === 'string' && pod.spec.hostname && pod.spec.subdomain === svc.metadata.name) ep.hostname = pod.spec.hostname;
    if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
    ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    const zone = pod.spec.nodeName ? nodes.get(pod.spec.nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'] : undefined;
    if (zone) ep.zone = zone;
    const key = JSON.stringify(ports);
    let list = groups.get(key);
    if (!list) {
      groups.set(key, (list = [{ ports, endpoints: [] }]));
      order.push(key);
    }
    let last = list[list.length - 1];
    if (last.endpoints.length >= maxPerSlice) list.push((last = { ports, endpoints: [] }));
    last.endpoints.push(ep);
  }
  return order.flatMap((k) => groups.get(k) as SliceGroup[]);
}
