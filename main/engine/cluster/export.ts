// `kpl export LAB --k8s`: the cluster's objects as manifests a real cluster accepts: each as it
// is now (a scaled Deployment with its new replica count), cleaned of what the API server
// fills in (uid, resourceVersion, status, the last-applied annotation, …). What the cluster
// made itself — system namespaces and Services, controllers' ReplicaSets, pods, Endpoints and
// EndpointSlices, the nodes `kpl new` made — is left out.

import { stringify } from 'yaml';
import type { KubeStore } from '../kube/objects/store.ts';
import { ANN_LAST_APPLIED, type Kind, type KubeObject } from '../kube/objects/types.ts';

const ORDER: Kind[] = ['Namespace', 'Node', 'NetworkPolicy', 'Service', 'Endpoints', 'EndpointSlice', 'Deployment', 'Pod'];
const SYSTEM_NS = new Set(['kube-system', 'kube-public', 'kube-node-lease']);
const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp'];

function isSystem(o: KubeObject, bootNodes: ReadonlySet<string>): boolean {
  const m = o.metadata;
  if (m.ownerReferences?.length) return true;
  if (m.namespace && SYSTEM_NS.has(m.namespace)) return true;
  if (o.kind === 'Namespace') return ['default', ...SYSTEM_NS].includes(m.name);
  if (o.kind === 'Node') return bootNodes.has(m.name);
  if (m.namespace === 'default' && m.name === 'kubernetes') return true;
  // Endpoints and slices the controllers keep (mirrored or derived).
  if ((o.kind === 'Endpoints' || o.kind === 'EndpointSlice') && !m.annotations?.[ANN_LAST_APPLIED]) return true;
  return false;
}

function cleaned(o: KubeObject): Record<string, unknown> {
  const c = JSON.parse(JSON.stringify(o)) as Record<string, unknown> & { metadata: Record<string, unknown> };
  for (const k of SERVER_FIELDS) delete c.metadata[k];
  const ann = c.metadata.annotations as Record<string, string> | undefined;
  if (ann) {
    delete ann[ANN_LAST_APPLIED];
    if (!Object.keys(ann).length) delete c.metadata.annotations;
  }
  delete c.status;
  return c;
}

export function exportManifests(store: KubeStore, bootNodes: ReadonlySet<string>): string {
  const docs: string[] = [];
  for (const kind of ORDER) {
    for (const o of store.view(kind) as readonly KubeObject[]) {
      if (isSystem(o, bootNodes)) continue;
      docs.push(stringify(cleaned(o), { lineWidth: 0 }));
    }
  }
  return docs.map((d) => (d.endsWith('\n') ? d : d + '\n')).join('---\n');
}
