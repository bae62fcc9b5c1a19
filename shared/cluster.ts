// The cluster part of a lab document: the settings `kpl new --cluster` was given. The
// Kubernetes objects themselves are not stored here: they come from the journal (every
// `kubectl apply`, `kpl apply`, `kubectl delete` … is an entry), replayed like console edits.

export type ProxyLayout = 'legacy' | 'current';

export interface ClusterDoc {
  /** kube-proxy's rule layout: `legacy` is a v1.19.2 cluster throughout, `current` the newest. */
  proxy: ProxyLayout;
  /** Nodes made when the lab is created (minikube, minikube-m02, …); more come from Node manifests. */
  nodes: number;
  podCIDR: string;
  serviceCIDR: string;
  /** The nodes' LAN; node N gets address N+1 (.2, .3, …), the gateway .1. */
  nodeCIDR: string;
  /** "30000-32767" */
  nodePortRange: string;
  /** How pod traffic crosses nodes: IPIP through tunl0 (Calico's default) or plain routes. */
  tunnel: 'ipip' | 'none';
}

/** Kubernetes releases the two layouts stand for. */
export const CLUSTER_VERSIONS: Record<ProxyLayout, string> = { legacy: 'v1.19.2', current: 'v1.34.1' };

/** The journal's name for the cluster's own API client (`kpl apply`), outside any host. */
export const CLUSTER_CLIENT = '@cluster';

/** The LAN the nodes are cabled to (minikube's docker network is named after the profile). */
export const CLUSTER_LAN = 'minikube';

export function defaultCluster(): ClusterDoc {
  return {
    proxy: 'legacy',
    nodes: 1,
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    nodeCIDR: '192.168.49.0/24',
    nodePortRange: '30000-32767',
    tunnel: 'ipip',
  };
}

const CIDR_RE = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/;

/** Checks cluster settings; returns the problem in words (with the field's path) or null. */
export function clusterProblem(raw: unknown, where: string): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where}: expected an object`;
  const c = raw as Record<string, unknown>;
  const known = ['proxy', 'nodes', 'podCIDR', 'serviceCIDR', 'nodeCIDR', 'nodePortRange', 'tunnel'];
  for (const k of Object.keys(c)) if (!known.includes(k)) return `${where}.${k}: unknown field`;
  if (c.proxy !== 'legacy' && c.proxy !== 'current') return `${where}.proxy: expected "legacy" or "current"`;
  if (typeof c.nodes !== 'number' || !Number.isInteger(c.nodes) || c.nodes < 0 || c.nodes > 250) return `${where}.nodes: expected an integer 0..250`;
  for (const k of ['podCIDR', 'serviceCIDR', 'nodeCIDR']) {
    if (typeof c[k] !== 'string' || !CIDR_RE.test(c[k] as string)) return `${where}.${k}: expected A.B.C.D/N`;
  }
  const len = (k: string) => Number((c[k] as string).split('/')[1]);
  if (len('serviceCIDR') < 8 || len('serviceCIDR') > 30) return `${where}.serviceCIDR: prefix length must be 8..30`;
  if (len('podCIDR') > 26) return `${where}.podCIDR: prefix length must be at most 26 (one /26 block per node)`;
  if (len('nodeCIDR') > 29) return `${where}.nodeCIDR: prefix length must be at most 29`;
  const m = typeof c.nodePortRange === 'string' ? /^([0-9]{1,5})-([0-9]{1,5})$/.exec(c.nodePortRange) : null;
  if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) return `${where}.nodePortRange: expected A-B within 1-65535`;
  if (c.tunnel !== 'ipip' && c.tunnel !== 'none') return `${where}.tunnel: expected "ipip" or "none"`;
  return null;
}
