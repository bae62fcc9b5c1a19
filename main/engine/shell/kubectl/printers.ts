// The table columns `kubectl get` prints per kind (the server-side printers of
// pkg/printers/internalversion), normal and `-o wide`, with their `<none>`, `<pending>`,
// `<unset>` and "+ N more..." conventions.

import { nodeInternalIP, nodeRoles } from '../../kube/objects/node.ts';
import { formatLabels, formatLabelSelector } from '../../kube/objects/selector.ts';
import type { Deployment, EndpointSlice, Endpoints, Kind, KubeObject, Namespace, NetworkPolicy, Node, Pod, ReplicaSet, Service } from '../../kube/objects/types.ts';
import { ageOf } from './age.ts';

export interface Columns {
  headers: string[];
  wideHeaders: string[];
  row: (obj: KubeObject, now: number, wide: boolean) => string[];
}

function moreString(list: string[], more: boolean, count: number, max: number, empty: string): string {
  const s = list.join(',');
  if (more) return `${s} + ${count - max} more...`;
  return s === '' ? empty : s;
}

/** formatEndpoints: `ip:port` pairs, at most three, then "+ N more...". `ports` filters by port name. */
export function formatEndpoints(ep: Endpoints | undefined, ports?: Set<string>): string {
  if (!ep || !ep.subsets?.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false, count = 0;
  for (const ss of ep.subsets) {
    if (!ss.ports?.length) {
      for (const a of ss.addresses ?? []) {
        if (list.length === max) more = true;
        if (!more) list.push(a.ip);
        count++;
      }
      continue;
    }
    for (const p of ss.ports) {
      if (ports && !ports.has(p.name ?? '')) continue;
      for (const a of ss.addresses ?? []) {
        if (list.length === max) more = true;
        if (!more) list.push(`${a.ip}:${p.port}`);
        count++;
      }
    }
  }
  return more ? `${list.join(',')} + ${count - max} more...` : list.join(',');
}

function podStatusReason(pod: Pod): string {
  let reason: string = (pod.status?.reason as string | undefined) || pod.status?.phase || 'Unknown';
  let initializing = false;
  const inits = (pod.status?.initContainerStatuses ?? []) as { state?: Record<string, Record<string, unknown>> }[];
  const initTotal = pod.spec.initContainers?.length ?? 0;
  inits.forEach((c, i) => {
    if (initializing) return;
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) return;
    initializing = true;
    if (term) reason = `Init:${term.reason || `ExitCode:${term.exitCode}`}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${initTotal}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
      const st = (c.state ?? {}) as Record<string, Record<string, unknown>>;
      if (st.waiting?.reason) reason = String(st.waiting.reason);
      else if (st.terminated) reason = String(st.terminated.reason || `ExitCode:${st.terminated.exitCode}`);
      else if (st.running && c.ready) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

const podCols: Columns = {
  headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  wideHeaders: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
  row: (o, now, wide) => {
    const pod = o as Pod;
    const statuses = pod.status?.containerStatuses ?? [];
    const ready = statuses.filter((c) => c.ready).length;
    const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const r = [pod.metadata.name, `${ready}/${pod.spec.containers.length}`, podStatusReason(pod), String(restarts), ageOf(pod.metadata.creationTimestamp, now)];
    if (wide) {
      const gates = (pod.spec.readinessGates as { conditionType: string }[] | undefined) ?? [];
      r.push(pod.status?.podIP || '<none>', pod.spec.nodeName || '<none>', (pod.status?.nominatedNodeName as string | undefined) || '<none>', gates.length ? `0/${gates.length}` : '<none>');
    }
    return r;
  },
};

function lbIngress(svc: Service, wide: boolean): string {
  const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((s) => s !== '');
  const s = ips.join(',');
  return !wide && s.length > 16 ? s.slice(0, 13) + '...' : s;
}

function externalIP(svc: Service, wide: boolean): string {
  const ext = svc.spec.externalIPs ?? [];
  switch (svc.spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = lbIngress(svc, wide);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export function portString(svc: Service): string {
  return (svc.spec.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

const svcCols: Columns = {
  headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
  wideHeaders: ['SELECTOR'],
  row: (o, now, wide) => {
    const svc = o as Service;
    const r = [svc.metadata.name, svc.spec.type ?? 'ClusterIP', svc.spec.clusterIPs?.[0] || svc.spec.clusterIP || '<none>', externalIP(svc, wide), portString(svc) || '<none>', ageOf(svc.metadata.creationTimestamp, now)];
    if (wide) r.push(formatLabels(svc.spec.selector));
    return r;
  },
};

const epCols: Columns = {
  headers: ['NAME', 'ENDPOINTS', 'AGE'],
  wideHeaders: [],
  row: (o, now) => [o.metadata.name, formatEndpoints(o as Endpoints), ageOf(o.metadata.creationTimestamp, now)],
};

const sliceCols: Columns = {
  headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
  wideHeaders: [],
  row: (o, now) => {
    const es = o as EndpointSlice;
    const max = 3;
    const ports: string[] = [];
    let count = 0;
    for (const p of es.ports ?? []) {
      if (ports.length < max) ports.push(p.port !== undefined ? String(p.port) : p.name || '*');
      count++;
    }
    const addrs: string[] = [];
    let acount = 0;
    for (const e of es.endpoints ?? []) for (const a of e.addresses) {
      if (addrs.length < max) addrs.push(a);
      acount++;
    }
    return [es.metadata.name, es.addressType, moreString(ports, count > max, count, max, '<unset>'), moreString(addrs, acount > max, acount, max, '<unset>'), ageOf(es.metadata.creationTimestamp, now)];
  },
};

const nodeCols: Columns = {
  headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wideHeaders: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  row: (o, now, wide) => {
    const n = o as Node;
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (n.spec?.unschedulable) status.push('SchedulingDisabled');
    const roles = nodeRoles(n).join(',') || '<none>';
    const info = n.status?.nodeInfo;
    const r = [n.metadata.name, status.join(','), roles, ageOf(n.metadata.creationTimestamp, now), info?.kubeletVersion ?? ''];
    if (wide) {
      const ext = n.status?.addresses?.find((a) => a.type === 'ExternalIP')?.address;
      r.push(nodeInternalIP(n) ?? '<none>', ext ?? '<none>', info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>');
    }
    return r;
  },
};

function containersAndImages(spec: { containers: { name: string; image?: string }[] } | undefined): [string, string] {
  const cs = spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

const deployCols: Columns = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (o, now, wide) => {
    const d = o as Deployment;
    const r = [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`,
      String(d.status?.updatedReplicas ?? 0),
      String(d.status?.availableReplicas ?? 0),
      ageOf(d.metadata.creationTimestamp, now),
    ];
    if (wide) r.push(...containersAndImages(d.spec.template.spec), formatLabelSelector(d.spec.selector));
    return r;
  },
};

const rsCols: Columns = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (o, now, wide) => {
    const rs = o as ReplicaSet;
    const r = [rs.metadata.name, String(rs.spec.replicas ?? 1), String(rs.status?.replicas ?? 0), String(rs.status?.readyReplicas ?? 0), ageOf(rs.metadata.creationTimestamp, now)];
    if (wide) r.push(...containersAndImages(rs.spec.template.spec), formatLabelSelector(rs.spec.selector));
    return r;
  },
};

const netpolCols: Columns = {
  headers: ['NAME', 'POD-SELECTOR', 'AGE'],
  wideHeaders: [],
  row: (o, now) => {
    const np = o as NetworkPolicy;
    return [np.metadata.name, formatLabelSelector(np.spec.podSelector), ageOf(np.metadata.creationTimestamp, now)];
  },
};

const nsCols: Columns = {
  headers: ['NAME', 'STATUS', 'AGE'],
  wideHeaders: [],
  row: (o, now) => [o.metadata.name, (o as Namespace).status?.phase ?? 'Active', ageOf(o.metadata.creationTimestamp, now)],
};

export const COLUMNS: Record<Kind, Columns> = {
  Pod: podCols,
  Service: svcCols,
  Endpoints: epCols,
  EndpointSlice: sliceCols,
  Node: nodeCols,
  Deployment: deployCols,
  ReplicaSet: rsCols,
  NetworkPolicy: netpolCols,
  Namespace: nsCols,
};
