// The canvas's view of a lab's Kubernetes cluster: nodes, pods (with their node and IP),
// Deployments, Services and their endpoints, read from the KubeStore the loaded lab holds
// (`lab.kube`). Labs without a cluster have none.

import type { ViewCluster, ViewEndpoint } from '../../shared/api/types.ts';
import type { KubeStore } from '../engine/kube/objects/store.ts';
import type { Lab } from '../engine/lab.ts';

export function clusterView(lab: Lab): ViewCluster | null {
  const l = lab as unknown as { cluster?: { store?: KubeStore } | null; kube?: KubeStore | null };
  const kube = l.cluster?.store ?? l.kube;
  if (!kube || typeof kube.list !== 'function') return null;
  return kubeView(kube);
}

export function kubeView(kube: KubeStore): ViewCluster {
  const nodes = kube.list('Node').map((n) => {
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    return { name: n.metadata.name, ...(ip ? { ip } : {}), ...(n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR } : {}) };
  });
  const rsOwner = new Map<string, string>();
  for (const rs of kube.list('ReplicaSet')) {
    const dep = rs.metadata.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
    if (dep) rsOwner.set(`${rs.metadata.namespace ?? 'default'}/${rs.metadata.name}`, dep);
  }
  const pods = kube.list('Pod').map((p) => {
    const ns = p.metadata.namespace ?? 'default';
    const rs = p.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
    const owner = rs ? rsOwner.get(`${ns}/${rs}`) : undefined;
    return {
      name: p.metadata.name,
      namespace: ns,
      ...(p.spec.nodeName ? { node: p.spec.nodeName } : {}),
      ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
      ...(p.status?.phase ? { phase: p.status.phase } : {}),
      labels: { ...(p.metadata.labels ?? {}) },
      ...(owner ? { owner } : {}),
    };
  });
  const deployments = kube.list('Deployment').map((d) => ({
    name: d.metadata.name,
    namespace: d.metadata.namespace ?? 'default',
    replicas: d.spec.replicas ?? 1,
    selector: { ...(d.spec.selector.matchLabels ?? {}) },
  }));
  const services = kube.list('Service').map((s) => ({
    name: s.metadata.name,
    namespace: s.metadata.namespace ?? 'default',
    type: s.spec.type ?? 'ClusterIP',
    ...(s.spec.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
    ports: (s.spec.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
      protocol: p.protocol ?? 'TCP',
    })),
    selector: { ...(s.spec.selector ?? {}) },
    ...(s.spec.externalTrafficPolicy ? { externalTrafficPolicy: s.spec.externalTrafficPolicy } : {}),
  }));
  const endpoints: ViewEndpoint[] = [];
  for (const slice of kube.list('EndpointSlice')) {
    const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const port = slice.ports?.[0]?.port;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0];
      if (!ip) continue;
      const pod = e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined;
      endpoints.push({ service: svc, namespace: slice.metadata.namespace ?? 'default', ip, ...(pod ? { pod } : {}), ...(port !== undefined ? { port } : {}) });
    }
  }
  return { nodes, pods, deployments, services, endpoints };
}
