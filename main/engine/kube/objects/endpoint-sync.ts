// The endpoints, endpointslice and endpointslice-mirroring controllers: they keep, for every
// Service with a selector, an Endpoints object of the same name and EndpointSlices
// `<service>-<5 random chars>` in step with the selected pods; for a Service without selector
// they leave hand-made Endpoints alone and mirror them into EndpointSlices, which is how
// kube-proxy (reading slices) sees them.

import type { ControllerHost } from './controller-host.ts';
import { deriveSliceGroups, deriveSubsets, type SliceGroup } from './endpoints.ts';
import { randomString } from './hash.ts';
import { fromMap, matches } from './selector.ts';
import type { EndpointSlice, EndpointSubset, Endpoints, Node, Pod, Service } from './types.ts';
import { clone, deepEqual } from './types.ts';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRROR_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
const LABEL_HEADLESS = 'service.kubernetes.io/headless';

const hasSelector = (svc: Service) => svc.spec.type !== 'ExternalName' && Object.keys(svc.spec.selector ?? {}).length > 0;
const same = deepEqual;

function serviceLabels(svc: Service): Record<string, string> {
  const l = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec.clusterIP === 'None') l[LABEL_HEADLESS] = '';
  return l;
}

function syncEndpoints(host: ControllerHost, svc: Service, subsets: EndpointSubset[]): void {
  const ns = svc.metadata.namespace as string;
  const name = svc.metadata.name;
  const existing = host.get('Endpoints', ns, name);
  const labels = serviceLabels(svc);
  if (!existing) {
    const ep: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns } };
    if (Object.keys(labels).length) ep.metadata.labels = labels;
    if (subsets.length) ep.subsets = subsets;
    host.create(ep);
    return;
  }
  const want = subsets.length ? subsets : undefined;
  const wantLabels = Object.keys(labels).length ? labels : undefined;
  if (!same(existing.subsets, want) || !same(existing.metadata.labels, wantLabels)) {
    const ep = clone(existing);
    if (want) ep.subsets = want;
    else delete ep.subsets;
    if (wantLabels) ep.metadata.labels = wantLabels;
    else delete ep.metadata.labels;
    host.update(ep);
  }
}

function sliceApiVersion(minor: number): string {
  return minor >= 21 ? 'discovery.k8s.io/v1' : 'discovery.k8s.io/v1beta1';
}

/** Makes the slices of one Service (managed by `controller`) equal to `groups`, reusing names.
 *  `mine`: the slices labelled with the Service's name. */
function syncSlices(host: ControllerHost, svc: Service, groups: SliceGroup[], controller: string, mine: readonly EndpointSlice[]): void {
  const ns = svc.metadata.namespace as string;
  const name = svc.metadata.name;
  const existing = mine.filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === controller).sort((a, b) => host.seqOf(a) - host.seqOf(b));
  // A Service with no endpoints still has one empty slice (the mirroring controller keeps none).
  const wanted: SliceGroup[] = groups.length || controller === MIRROR_CONTROLLER ? groups : [{ ports: [], endpoints: [] }];
  const labels = { ...(controller === SLICE_CONTROLLER ? serviceLabels(svc) : {}), [LABEL_MANAGED_BY]: controller, [LABEL_SERVICE_NAME]: name };
  const unused = [...existing];
  for (const g of wanted) {
    const portsKey = JSON.stringify(g.ports);
    let i = unused.findIndex((s) => JSON.stringify(s.ports ?? []) === portsKey);
    if (i < 0) i = unused.length ? 0 : -1;
    const endpoints = g.endpoints.length ? g.endpoints : null;
    const ports = g.ports.length ? g.ports : null;
    if (i >= 0) {
      const cur = unused.splice(i, 1)[0];
      if (!same(cur.endpoints, endpoints) || !same(cur.ports ?? null, ports) || !same(cur.metadata.labels, labels)) {
        host.update({ ...clone(cur), metadata: { ...clone(cur.metadata), labels }, endpoints, ports } as EndpointSlice);
      }
      continue;
    }
    let sliceName: string;
    do sliceName = `${name}-${randomString(host.rng, 5)}`;
    while (host.get('EndpointSlice', ns, sliceName));
    host.create<EndpointSlice>({
      apiVersion: sliceApiVersion(host.minor),
      kind: 'EndpointSlice',
      metadata: {
        name: sliceName,
        generateName: `${name}-`,
        namespace: ns,
        labels,
        ownerReferences: [{ apiVersion: 'v1', blockOwnerDeletion: true, controller: true, kind: 'Service', name, uid: svc.metadata.uid as string }],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    });
  }
  for (const s of unused) host.remove('EndpointSlice', ns, s.metadata.name);
}

/** The mirroring controller's slices for a selector-less Service's hand-made Endpoints. */
function mirrorGroups(ep: Endpoints | undefined): SliceGroup[] {
  const out: SliceGroup[] = [];
  for (const ss of ep?.subsets ?? []) {
    const ports = (ss.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? ('TCP' as const), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    const endpoints = [
      ...(ss.addresses ?? []).map((a) => ({ a, ready: true })),
      ...(ss.notReadyAddresses ?? []).map((a) => ({ a, ready: false })),
    ].map(({ a, ready }) => ({
      addresses: [a.ip],
      conditions: { ready },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      ...(a.targetRef ? { targetRef: a.targetRef } : {}),
    }));
    if (endpoints.length) out.push({ ports, endpoints });
  }
  return out;
}

/**
 * Which Services a pass must look at: those named (`ns/name`: their object, Endpoints or
 * slices were written) and, in the namespaces listed in `podNamespaces`, those with a
 * selector (a pod there was written). A Service out of scope had none of its inputs written
 * since a pass last looked at it, so looking again would write nothing.
 */
export interface EndpointScope {
  services: ReadonlySet<string>;
  podNamespaces: ReadonlySet<string>;
}

/** One pass of the controllers: over every Service, or (`scope`) only those whose inputs were written. */
export function syncServiceEndpoints(host: ControllerHost, scope: EndpointScope | null = null): void {
  const nodes = new Map(host.list('Node').map((n) => [n.metadata.name, n]));
  // Read once per pass, not once per Service (10,000 Services would make it quadratic).
  const podsByNs = new Map<string, ReturnType<ControllerHost['list']>>();
  const podsIn = (ns: string) => {
    let l = podsByNs.get(ns);
    if (!l) podsByNs.set(ns, (l = host.list('Pod', ns).sort((a, b) => host.seqOf(a) - host.seqOf(b))));
    return l as Pod[];
  };
  if (scope) {
    syncScoped(host, scope, nodes, podsIn);
    return;
  }
  // The slices and hand-made Endpoints as the pass starts, by namespace, then Service name (no
  // key string built per Service: a pass looks at all of them). Each Service's sync changes
  // only its own, so what it finds here is current.
  const slices = new Map<string, Map<string, EndpointSlice[]>>();
  for (const sl of host.list('EndpointSlice')) {
    const l = inner(slices, sl.metadata.namespace as string);
    const svc = sl.metadata.labels?.[LABEL_SERVICE_NAME] ?? '';
    const list = l.get(svc);
    if (list) list.push(sl);
    else l.set(svc, [sl]);
  }
  const handMade = new Map<string, Map<string, Endpoints>>();
  for (const ep of host.list('Endpoints')) inner(handMade, ep.metadata.namespace as string).set(ep.metadata.name, ep);
  for (const svc of host.list('Service')) {
    const ns = svc.metadata.namespace as string;
    syncService(host, svc, slices.get(ns)?.get(svc.metadata.name) ?? [], handMade.get(ns)?.get(svc.metadata.name), nodes, podsIn);
  }
}

/** A pass over the Services in `scope`, in the order of a full pass, each found by its key and
 *  its slices by their label (no look at the others). */
function syncScoped(host: ControllerHost, scope: EndpointScope, nodes: Map<string, Node>, podsIn: (ns: string) => Pod[]): void {
  const picked = new Map<string, Service>();
  for (const key of scope.services) {
    const slash = key.indexOf('/');
    const svc = host.get('Service', key.slice(0, slash), key.slice(slash + 1));
    if (svc) picked.set(key, svc);
  }
  for (const ns of scope.podNamespaces) for (const svc of host.list('Service', ns)) if (hasSelector(svc)) picked.set(`${ns}/${svc.metadata.name}`, svc);
  const services = [...picked.values()].sort(byNsName);
  for (const svc of services) {
    const ns = svc.metadata.namespace as string;
    syncService(host, svc, host.slicesOf(ns, svc.metadata.name), host.get('Endpoints', ns, svc.metadata.name), nodes, podsIn);
  }
}

function byNsName(a: Service, b: Service): number {
  const na = a.metadata.namespace ?? '', nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** One Service's sync: `mine`, its slices (labelled with its name); `ep`, its Endpoints. */
function syncService(host: ControllerHost, svc: Service, mine: readonly EndpointSlice[], ep: Endpoints | undefined, nodes: Map<string, Node>, podsIn: (ns: string) => Pod[]): void {
  const ns = svc.metadata.namespace as string;
  if (hasSelector(svc)) {
    const sel = fromMap(svc.spec.selector);
    const pods = podsIn(ns).filter((p) => matches(sel, p.metadata.labels));
    syncEndpoints(host, svc, deriveSubsets(svc, pods, host.minor < 22));
    syncSlices(host, svc, deriveSliceGroups(svc, pods, nodes), SLICE_CONTROLLER, mine);
  } else if (svc.spec.type !== 'ExternalName') {
    if (ep?.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true') return;
    if (ep) syncSlices(host, svc, mirrorGroups(ep), MIRROR_CONTROLLER, mine);
    else for (const sl of mine) if (sl.metadata.labels?.[LABEL_MANAGED_BY] === MIRROR_CONTROLLER) host.remove('EndpointSlice', ns, sl.metadata.name);
  }
}

function inner<T>(outer: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let m = outer.get(key);
  if (!m) outer.set(key, (m = new Map()));
  return m;
}

/** What goes with a deleted Service: its Endpoints and the controllers' slices. */
export function cleanupServiceEndpoints(host: ControllerHost, ns: string, name: string): void {
  if (host.get('Endpoints', ns, name)) host.remove('Endpoints', ns, name);
  for (const s of host.list('EndpointSlice', ns)) {
    const l = s.metadata.labels ?? {};
    if (l[LABEL_SERVICE_NAME] === name && (l[LABEL_MANAGED_BY] === SLICE_CONTROLLER || l[LABEL_MANAGED_BY] === MIRROR_CONTROLLER)) {
      host.remove('EndpointSlice', ns, s.metadata.name);
    }
  }
}
