// Property: for random NetworkPolicies over the standard model (namespaces x, y, z; pods a, b,
// c; two nodes), every new connection gets the same verdict from the semantics evaluator and
// from walking the rules Calico renders (loaded into engine hosts with their IP sets).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../../main/engine/random.ts';
import { policyVerdict } from '../../../../main/engine/kube/calico/semantics.ts';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../../../../main/engine/kube/objects/types.ts';
import { modelCluster, netpol } from './scenes.ts';
import { Dataplane } from './helpers.ts';

const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];

export function randomPolicies(rng: Rng, count: number): NetworkPolicy[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const chance = (p: number) => rng.next() < p;
  const selector = (key: 'pod' | 'ns', values: string[]): LabelSelector => {
    const r = rng.next();
    if (r < 0.25) return {};
    if (r < 0.6) return { matchLabels: { [key]: pick(values) } };
    const op = pick(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
    const vals = op === 'In' || op === 'NotIn' ? values.filter(() => chance(0.5)).concat(pick(values)) : undefined;
    return { matchExpressions: [{ key: chance(0.85) ? key : 'other', operator: op, ...(vals ? { values: vals } : {}) }] };
  };
  const peer = (): NetworkPolicyPeer => {
    const r = rng.next();
    if (r < 0.2) {
      const base = pick(['10.244.0.0/16', '10.244.1.0/24', '10.244.2.0/24', '0.0.0.0/0', '192.168.100.0/24']);
      const except = chance(0.5) ? [pick(['10.244.1.10/32', '10.244.2.11/32', '10.244.3.0/24', '10.244.1.8/29'])].filter((e) => base === '0.0.0.0/0' || e.startsWith(base.split('.').slice(0, 3).join('.')) || base === '10.244.0.0/16') : [];
      return { ipBlock: except.length ? { cidr: base, except } : { cidr: base } };
    }
    if (r < 0.45) return { podSelector: selector('pod', PODS) };
    if (r < 0.7) return { namespaceSelector: selector('ns', NS) };
    return { namespaceSelector: selector('ns', NS), podSelector: selector('pod', PODS) };
  };
  const port = (): NetworkPolicyPort => {
    const r = rng.next();
    const protocol = chance(0.3) ? pick(['TCP', 'UDP', 'SCTP'] as const) : undefined;
    const out: NetworkPolicyPort = protocol ? { protocol } : {};
    if (r < 0.45) out.port = pick([80, 81]);
    else if (r < 0.7) out.port = pick(['serve-80-tcp', 'serve-81-udp', 'serve-80-udp', 'nope']);
    else if (r < 0.85) Object.assign(out, { port: 79, endPort: pick([80, 81]) });
    return out;
  };
  const rules = <K extends 'from' | 'to'>(k: K) => {
    const r = rng.next();
    if (r < 0.15) return undefined;
    if (r < 0.3) return [];
    const n = 1 + Math.floor(rng.next() * 2);
    return Array.from({ length: n }, () => {
      const rule: Record<string, unknown> = {};
      if (chance(0.7)) rule[k] = Array.from({ length: 1 + Math.floor(rng.next() * 2) }, peer);
      if (chance(0.6)) rule.ports = Array.from({ length: 1 + Math.floor(rng.next() * 2) }, port);
      return rule;
    });
  };
  return Array.from({ length: count }, (_, i) => {
    const types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress'], undefined] as const);
    const spec: NetworkPolicy['spec'] = { podSelector: selector('pod', PODS) };
    if (types) spec.policyTypes = [...types];
    const ing = rules('from');
    const eg = rules('to');
    if (ing !== undefined) spec.ingress = ing;
    if (eg !== undefined) spec.egress = eg;
    return netpol(pick(NS), `p${i}`, spec);
  });
}

test('random policies: the semantics and the rendered Calico rules agree on every connection', () => {
  const rng = new Rng(20261126);
  const parties = [...NS.flatMap((n) => PODS.map((p) => `${n}/${p}`)), '192.168.100.7', '10.9.9.9'];
  const probes: [number, 'TCP' | 'UDP' | 'SCTP'][] = [[80, 'TCP'], [81, 'TCP'], [80, 'UDP'], [81, 'UDP'], [80, 'SCTP']];
  let compared = 0;
  let denied = 0;
  for (let round = 0; round < 40; round++) {
    const cluster = modelCluster(['node1', 'node2'], randomPolicies(rng, 1 + Math.floor(rng.next() * 4)));
    for (const flavor of ['v3.28', 'article'] as const) {
      const dp = new Dataplane(cluster, { flavor });
      for (const src of parties) {
        for (const dst of parties) {
          if (src === dst || (!src.includes('/') && !dst.includes('/'))) continue;
          const [port, proto] = probes[Math.floor(rng.next() * probes.length)];
          const want = policyVerdict(cluster, src, dst, port, proto).allowed;
          const got = dp.allowed(src, dst, port, proto);
          if (want !== got) {
            assert.fail(`round ${round} ${flavor}: ${src} -> ${dst} ${proto}/${port}: semantics ${want}, dataplane ${got}\n${JSON.stringify(cluster.policies.map((p) => [p.metadata.namespace, p.spec]), null, 1)}`);
          }
          compared++;
          if (!want) denied++;
        }
      }
    }
  }
  assert.ok(compared > 5000 && denied > compared / 10 && denied < compared * 0.9, `compared ${compared}, denied ${denied}`);
});
