// A Kubernetes NetworkPolicy as Calico sees it (libcalico-go K8sNetworkPolicyToCalico, ≤ v3.31):
// policy `knp.default.<name>` in the same namespace, order 1000, selectors with
// `projectcalico.org/orchestrator == 'k8s'`, and each k8s rule split into one Calico rule per
// (protocol × peer), protocols sorted, peers in order. Then the selectors Felix really matches
// (update processor): namespaced, namespace selectors with `pcns.` keys, all in canonical form.

import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../objects/types.ts';
import { formatPrefix, maskOf, parsePrefix } from '../../net/ipv4.ts';
import { knpName, policyId } from './names.ts';
import { parseSelector, prefixKeys, printSelector, type Sel } from './selector.ts';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICEACCOUNT = 'projectcalico.org/serviceaccount';

/** A Calico port: a number, a range "80:90" (min/max), or a named port. */
export interface CalicoPort {
  min?: number;
  max?: number;
  name?: string;
}

export interface EntityRule {
  /** The Calico selector string as calicoctl shows it (single quotes). */
  selector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
  ports?: CalicoPort[];
}

export interface CalicoRule {
  action: 'Allow';
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  source: EntityRule;
  destination: EntityRule;
  /** Index of the k8s rule in spec.ingress/egress, and of the peer (undefined: no peers). */
  k8sRule: number;
  k8sPeer?: number;
}

export interface CalicoPolicy {
  /** knp.default.<name> */
  name: string;
  namespace: string;
  /** Felix's ID: "<ns>/knp.default.<name>". */
  id: string;
  order: 1000;
  selector: string;
  types: ('Ingress' | 'Egress')[];
  ingress: CalicoRule[];
  egress: CalicoRule[];
  source: NetworkPolicy;
}

/** libcalico-go k8sSelectorToCalico. */
export function k8sSelectorToCalico(s: LabelSelector | undefined | null, type: 'pod' | 'namespace'): string {
  const parts: string[] = [];
  if (type === 'pod') parts.push(`${LABEL_ORCHESTRATOR} == 'k8s'`);
  if (!s) return parts.join(' && ');
  const ml = s.matchLabels ?? {};
  const me = s.matchExpressions ?? [];
  if (type === 'namespace' && Object.keys(ml).length === 0 && me.length === 0) return 'all()';
  for (const k of Object.keys(ml).sort()) parts.push(`${k} == '${ml[k]}'`);
  for (const e of me) {
    const list = (e.values ?? []).join("', '");
    if (e.operator === 'In') parts.push(`${e.key} in { '${list}' }`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} not in { '${list}' }`);
    else if (e.operator === 'Exists') parts.push(`has(${e.key})`);
    else parts.push(`! has(${e.key})`);
  }
  return parts.join(' && ');
}

function normCidr(c: string): string {
  const p = parsePrefix(c);
  return p ? formatPrefix({ ...p, addr: (p.addr & maskOf(p.len)) >>> 0 }) : c;
}

function portOf(p: NetworkPolicyPort): { protocol: 'TCP' | 'UDP' | 'SCTP'; port: CalicoPort | null } {
  const protocol = p.protocol ?? 'TCP';
  if (p.port === undefined || p.port === null) return { protocol, port: null };
  if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) return { protocol, port: { name: p.port } };
  const n = Number(p.port);
  return { protocol, port: { min: n, max: p.endPort ?? n } };
}

/** libcalico-go SimplifyPorts: named ports kept, numeric ones sorted and merged into ranges. */
function simplifyPorts(ports: CalicoPort[] | null): CalicoPort[] | undefined {
  if (!ports) return undefined;
  if (ports.length <= 1) return ports;
  const named = ports.filter((p) => p.name !== undefined);
  const nums = ports.filter((p) => p.name === undefined).map((p) => ({ min: p.min as number, max: p.max as number })).sort((a, b) => a.min - b.min || a.max - b.max);
  const merged: CalicoPort[] = [];
  for (const p of nums) {
    const last = merged[merged.length - 1];
    if (last && p.min <= (last.max as number) + 1) last.max = Math.max(last.max as number, p.max);
    else merged.push({ ...p });
  }
  return [...named, ...merged];
}

function peerFields(peer: NetworkPolicyPeer | null): EntityRule {
  if (!peer) return {};
  if (peer.ipBlock) return { nets: [normCidr(peer.ipBlock.cidr)], notNets: (peer.ipBlock.except ?? []).map(normCidr) };
  const out: EntityRule = { selector: k8sSelectorToCalico(peer.podSelector, 'pod') };
  const ns = k8sSelectorToCalico(peer.namespaceSelector, 'namespace');
  if (ns) out.namespaceSelector = ns;
  return out;
}

function convertRules(peersIn: NetworkPolicyPeer[] | undefined, portsIn: NetworkPolicyPort[] | undefined, ingress: boolean, k8sRule: number): CalicoRule[] {
  const peers: (NetworkPolicyPeer | null)[] = peersIn && peersIn.length ? peersIn : [null];
  const byProto = new Map<string, CalicoPort[] | null>();
  if (!portsIn || portsIn.length === 0) {
    byProto.set('', null);
  } else {
    for (const p of portsIn) {
      const { protocol, port } = portOf(p);
      if (port === null) byProto.set(protocol, null);
      else if (!byProto.has(protocol) || (byProto.get(protocol)?.length ?? 0) > 0) byProto.set(protocol, [...(byProto.get(protocol) ?? []), port]);
    }
  }
  const out: CalicoRule[] = [];
  for (const proto of [...byProto.keys()].sort()) {
    const ports = simplifyPorts(byProto.get(proto) ?? null);
    peers.forEach((peer, pi) => {
      const f = peerFields(peer);
      const r: CalicoRule = {
        action: 'Allow',
        source: ingress ? f : {},
        destination: ingress ? (ports ? { ports } : {}) : { ...(ports ? { ports } : {}), ...f },
        k8sRule,
      };
      if (proto) r.protocol = proto as CalicoRule['protocol'];
      if (peer) r.k8sPeer = pi;
      out.push(r);
    });
  }
  return out;
}

export function k8sPolicyToCalico(np: NetworkPolicy): CalicoPolicy {
  const ns = np.metadata.namespace ?? 'default';
  const spec = np.spec;
  const typesIn = spec.policyTypes && spec.policyTypes.length ? spec.policyTypes : ['Ingress', ...(spec.egress && spec.egress.length ? ['Egress'] : [])];
  const types: ('Ingress' | 'Egress')[] = [];
  if (typesIn.includes('Ingress')) types.push('Ingress');
  if (typesIn.includes('Egress')) types.push('Egress');
  return {
    name: knpName(np.metadata.name),
    namespace: ns,
    id: policyId(ns, np.metadata.name),
    order: 1000,
    selector: k8sSelectorToCalico(spec.podSelector, 'pod'),
    types,
    ingress: (spec.ingress ?? []).flatMap((r, i) => convertRules(r.from, r.ports, true, i)),
    egress: (spec.egress ?? []).flatMap((r, i) => convertRules(r.to, r.ports, false, i)),
    source: np,
  };
}

/** The selector Felix evaluates for one side of a rule of a policy in `ns`, or null (no selector). */
export function felixRuleSelector(e: EntityRule, ns: string): Sel | null {
  let nsSel: Sel | null = null;
  if (e.namespaceSelector) {
    nsSel = e.namespaceSelector === 'all()' ? { op: 'has', key: LABEL_NAMESPACE } : prefixKeys(parseSelector(e.namespaceSelector), 'pcns.');
  } else if (e.selector) {
    nsSel = { op: 'eq', key: LABEL_NAMESPACE, value: ns };
  }
  if (!e.selector) return nsSel;
  const sel = parseSelector(e.selector);
  return nsSel ? { op: 'and', operands: [nsSel, sel] } : sel;
}

export function canonicalRuleSelector(e: EntityRule, ns: string): string | null {
  const s = felixRuleSelector(e, ns);
  return s ? printSelector(s) : null;
}

const policySelectors = new WeakMap<CalicoPolicy, Sel>();

/** The selector of the endpoints a policy applies to (parsed once per policy). */
export function felixPolicySelector(p: CalicoPolicy): Sel {
  let sel = policySelectors.get(p);
  if (!sel) {
    sel = { op: 'and', operands: [{ op: 'eq', key: LABEL_NAMESPACE, value: p.namespace }, parseSelector(p.selector)] };
    policySelectors.set(p, sel);
  }
  return sel;
}
