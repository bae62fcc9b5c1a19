// The resource types kubectl resolves on the lab's API server: plural, singular, short names
// and `kind.group` forms (`po`, `svc`, `deploy`, `deployment.apps`, `netpol` ...).

import type { Kind } from '../../kube/objects/types.ts';
import { KINDS } from '../../kube/objects/types.ts';

export interface ResourceType {
  kind: Kind;
  plural: string;
  singular: string;
  group: string;
  short: string[];
}

const TYPES: ResourceType[] = [
  { kind: 'Pod', plural: 'pods', singular: 'pod', group: '', short: ['po'] },
  { kind: 'Service', plural: 'services', singular: 'service', group: '', short: ['svc'] },
  { kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', group: '', short: ['ep'] },
  { kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', group: 'discovery.k8s.io', short: [] },
  { kind: 'Node', plural: 'nodes', singular: 'node', group: '', short: ['no'] },
  { kind: 'Deployment', plural: 'deployments', singular: 'deployment', group: 'apps', short: ['deploy'] },
  { kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', group: 'apps', short: ['rs'] },
  { kind: 'NetworkPolicy', plural: 'networkpolicies', singular: 'networkpolicy', group: 'networking.k8s.io', short: ['netpol'] },
  { kind: 'Namespace', plural: 'namespaces', singular: 'namespace', group: '', short: ['ns'] },
];

/** `kubectl get all` in the lab: the kinds of that category the lab has. */
export const ALL: Kind[] = ['Pod', 'Service', 'Deployment', 'ReplicaSet'];

export function resolveResource(arg: string): ResourceType | null {
  const a = arg.toLowerCase();
  for (const t of TYPES) {
    const names = [t.plural, t.singular, ...t.short];
    if (names.includes(a)) return t;
    if (t.group && names.some((n) => a === `${n}.${t.group}` || a.startsWith(`${n}.${t.group}/`))) return t;
    if (t.group && (a === `${t.plural}.${t.group.split('.')[0]}` || a === `${t.singular}.${t.group.split('.')[0]}`)) return t;
  }
  return null;
}

export function typeOf(kind: Kind): ResourceType {
  return TYPES.find((t) => t.kind === kind) as ResourceType;
}

/** `service`, `deployment.apps`, `networkpolicy.networking.k8s.io`: the prefix of `-o name`. */
export function qualifiedSingular(kind: Kind): string {
  const t = typeOf(kind);
  return t.group ? `${t.singular}.${t.group}` : t.singular;
}

export function isNamespaced(kind: Kind): boolean {
  return KINDS[kind].namespaced;
}
