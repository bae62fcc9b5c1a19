// Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), straight from the API's meaning
// and not from Calico's rules, so tests and the connectivity matrix can check the rendered
// dataplane against it. A connection A -> B on (port, protocol) is allowed iff A's egress
// allows it (A not isolated for egress, or some rule of some Egress policy selecting A matches)
// and B's ingress allows it (likewise). Pods without a workload endpoint (hostNetwork, or no
// IP yet) are never isolated and, as peers, are only their IP (only ipBlock can match them).

import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../objects/types.ts';
import { inPrefix, parseIPv4, parsePrefix } from '../../net/ipv4.ts';
import type { CalicoCluster, PodInfo, Protocol } from './model.ts';

export interface RuleRef {
  policy: string; // "<ns>/<name>"
  direction: 'ingress' | 'egress';
  rule: number;
}

export interface SideVerdict {
  /** Some policy with this policyType selects the pod. */
  isolated: boolean;
  allowed: boolean;
  /** Every rule that allows the connection (empty when not isolated or denied). */
  allowedBy: RuleRef[];
  /** The policies that isolate the pod in this direction. */
  policies: string[];
}

export interface Verdict {
  allowed: boolean;
  egress: SideVerdict;
  ingress: SideVerdict;
}

/** A pod ("ns/name") or a bare IP address. */
export type Peer = string;

function labelMatch(sel: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (!has(k) || labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has(e.key) || !vals.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has(e.key) && vals.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has(e.key)) return false;
        break;
      case 'DoesNotExist':
        if (has(e.key)) return false;
        break;
    }
  }
  return true;
}

interface Party {
  ip: string;
  /** The pod when it has a workload endpoint (policy applies to it, selectors see it). */
  pod?: PodInfo;
}

export class PolicyIndex {
  private readonly nsLabels = new Map<string, Record<string, string>>();
  private readonly byName = new Map<string, PodInfo>();
  private readonly byIp = new Map<string, PodInfo>();

  constructor(private readonly cluster: CalicoCluster) {
    for (const n of cluster.namespaces) this.nsLabels.set(n.name, n.labels);
    for (const p of cluster.pods) {
      this.byName.set(`${p.namespace}/${p.name}`, p);
      if (p.ip && !p.hostNetwork) this.byIp.set(p.ip, p);
    }
  }

  party(x: Peer): Party {
    const pod = this.byName.get(x);
    if (pod) return pod.hostNetwork || !pod.ip ? { ip: pod.ip ?? '' } : { ip: pod.ip, pod };
    return { ip: x, pod: this.byIp.get(x) };
  }

  private nsLabelsOf(ns: string): Record<string, string> {
    return this.nsLabels.get(ns) ?? {};
  }

  private peerMatches(peer: NetworkPolicyPeer, policyNs: string, other: Party): boolean {
    if (peer.ipBlock) {
      const ip = parseIPv4(other.ip);
      const cidr = parsePrefix(peer.ipBlock.cidr);
      if (ip === null || !cidr || !inPrefix(ip, cidr)) return false;
      return !(peer.ipBlock.except ?? []).some((e) => {
        const p = parsePrefix(e);
        return p !== null && inPrefix(ip, p);
      });
    }
    const pod = other.pod;
    if (!pod) return false;
    if (peer.namespaceSelector) {
      if (!labelMatch(peer.namespaceSelector, this.nsLabelsOf(pod.namespace))) return false;
    } else if (pod.namespace !== policyNs) {
      return false;
    }
    return labelMatch(peer.podSelector, pod.labels);
  }

  private portMatches(ports: NetworkPolicyPort[] | undefined, dst: Party, port: number, proto: Protocol): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== proto) return false;
      if (p.port === undefined || p.port === null) return true;
      if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) {
        const named = dst.pod?.ports?.find((cp) => cp.name === p.port && cp.protocol === proto);
        return named !== undefined && named.port === port;
      }
      const n = Number(p.port);
      return p.endPort !== undefined ? port >= n && port <= p.endPort : port === n;
    });
  }

  private side(dir: 'ingress' | 'egress', self: Party, other: Party, dst: Party, port: number, proto: Protocol): SideVerdict {
    const out: SideVerdict = { isolated: false, allowed: true, allowedBy: [], policies: [] };
    const pod = self.pod;
    if (!pod) return out;
    const type = dir === 'ingress' ? 'Ingress' : 'Egress';
    for (const np of this.cluster.policies) {
      const ns = np.metadata.namespace ?? 'default';
      if (ns !== pod.namespace || !labelMatch(np.spec.podSelector, pod.labels)) continue;
      if (!policyTypes(np).includes(type)) continue;
      out.isolated = true;
      out.policies.push(`${ns}/${np.metadata.name}`);
      const rules = dir === 'ingress' ? (np.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (np.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
      rules.forEach((r, i) => {
        const peerOk = !r.peers || r.peers.length === 0 || r.peers.some((p) => this.peerMatches(p, ns, other));
        if (peerOk && this.portMatches(r.ports, dst, port, proto)) out.allowedBy.push({ policy: `${ns}/${np.metadata.name}`, direction: dir, rule: i });
      });
    }
    out.allowed = !out.isolated || out.allowedBy.length > 0;
    return out;
  }

  /** A new connection from `src` to `dst` on destination `port`/`proto`. */
  verdict(src: Peer, dst: Peer, port: number, proto: Protocol): Verdict {
    const s = this.party(src);
    const d = this.party(dst);
    const egress = this.side('egress', s, d, d, port, proto);
    const ingress = this.side('ingress', d, s, d, port, proto);
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }
}

/** spec.policyTypes as the API server defaults it. */
export function policyTypes(np: NetworkPolicy): ('Ingress' | 'Egress')[] {
  const t = np.spec.policyTypes;
  if (t && t.length) return t;
  return ['Ingress', ...(np.spec.egress && np.spec.egress.length ? (['Egress'] as const) : [])];
}

/** The verdict of the NetworkPolicy semantics for one new connection. */
export function policyVerdict(cluster: CalicoCluster, src: Peer, dst: Peer, port: number, proto: Protocol): Verdict {
  return new PolicyIndex(cluster).verdict(src, dst, port, proto);
}
