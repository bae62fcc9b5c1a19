// The two ends of a cluster trace in Kubernetes terms, turned into what the walk takes:
//   --from pod/NS/NAME | node/NAME | host/NAME | IP@NODE | HOST
//   --to   SERVICE[.NS]:PORT | pod/NS/NAME:PORT | NODE:NODEPORT | IP[:PORT]
// (a Service by name means its cluster IP and port; a node by name, its InternalIP).

import { nodeInternalIP } from '../kube/objects/node.ts';
import type { Cluster } from './cluster.ts';
import { podKey } from './cluster.ts';

export class TraceEndError extends Error {}

const IP_RE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

/** `from` as HOST or IP@HOST (host keys of pods are NS/NAME). */
export function resolveFrom(cluster: Cluster | null, from: string, hostExists: (h: string) => boolean): string {
  const m = /^(pod|node|host)\/(.+)$/.exec(from);
  if (!m) return from;
  const [, kind, rest] = m;
  if (kind === 'pod') {
    if (!cluster) throw new TraceEndError(`--from ${from}: this lab has no cluster`);
    const parts = rest.split('/');
    const [ns, name] = parts.length === 2 ? parts : ['default', parts[0]];
    const key = podKey(ns, name);
    const pod = cluster.store.peek('Pod', ns, name);
    if (!pod) throw new TraceEndError(`--from ${from}: pods "${name}" not found in namespace "${ns}"`);
    if (pod.spec.hostNetwork) {
      if (!pod.spec.nodeName) throw new TraceEndError(`--from ${from}: the pod is not scheduled`);
      return pod.spec.nodeName;
    }
    if (!hostExists(key)) throw new TraceEndError(`--from ${from}: the pod is not running (no IP yet)`);
    return key;
  }
  if (kind === 'node' && cluster && !cluster.isNode(rest)) throw new TraceEndError(`--from ${from}: no node named "${rest}"`);
  if (!hostExists(rest)) throw new TraceEndError(`--from ${from}: no host named "${rest}"`);
  return rest;
}

/** `to` as IP[:PORT]. */
export function resolveTo(cluster: Cluster | null, to: string): string {
  const colon = to.lastIndexOf(':');
  const target = colon >= 0 ? to.slice(0, colon) : to;
  const port = colon >= 0 ? to.slice(colon) : '';
  if (IP_RE.test(target) || !cluster) return to;
  if (target.startsWith('pod/')) {
    const parts = target.slice(4).split('/');
    const [ns, name] = parts.length === 2 ? parts : ['default', parts[0]];
    const pod = cluster.store.peek('Pod', ns, name);
    if (!pod) throw new TraceEndError(`--to ${to}: pods "${name}" not found in namespace "${ns}"`);
    if (!pod.status?.podIP) throw new TraceEndError(`--to ${to}: the pod has no IP yet`);
    return pod.status.podIP + port;
  }
  const node = cluster.store.peek('Node', undefined, target.startsWith('node/') ? target.slice(5) : target);
  if (node) {
    const ip = nodeInternalIP(node);
    if (!ip) throw new TraceEndError(`--to ${to}: node ${node.metadata.name} has no InternalIP`);
    return ip + port;
  }
  const svcName = target.startsWith('svc/') ? target.slice(4) : target;
  const dot = svcName.indexOf('.');
  const name = dot >= 0 ? svcName.slice(0, dot) : svcName;
  let ns = dot >= 0 ? svcName.slice(dot + 1) : 'default';
  ns = ns.replace(/\.svc(\.cluster\.local)?$/, '');
  const svc = cluster.store.peek('Service', ns, name);
  if (!svc) throw new TraceEndError(`--to ${to}: no node, and services "${name}" not found in namespace "${ns}"`);
  if (svc.spec.type === 'ExternalName') throw new TraceEndError(`--to ${to}: ${ns}/${name} is an ExternalName Service (a DNS alias for ${svc.spec.externalName}): it has no address to send to`);
  const ip = svc.spec.clusterIP;
  if (!ip || ip === 'None') throw new TraceEndError(`--to ${to}: ${ns}/${name} is headless (clusterIP None): send to one of its pods instead (pod/NS/NAME:PORT)`);
  return ip + port;
}
