// The lab's stand-in for kube-scheduler when no other placement is given: a Ready, schedulable
// node carrying the fewest pods (so a Deployment's replicas spread), ties broken by name.
// Taints with NoSchedule are respected unless the pod tolerates them.

import type { Node, Pod, Taint } from './types.ts';
import { nodeReady } from './node.ts';

function tolerates(pod: Pod, t: Taint): boolean {
  const tol = Array.isArray(pod.spec.tolerations) ? (pod.spec.tolerations as Record<string, unknown>[]) : [];
  return tol.some(
    (x) =>
      (x.operator === 'Exists' && (x.key === undefined || x.key === '' || x.key === t.key)) ||
      (x.key === t.key && (x.value ?? '') === (t.value ?? '')) &&
        (x.effect === undefined || x.effect === '' || x.effect === t.effect),
  );
}

export function pickNode(pod: Pod, nodes: Node[], podsOnNode: (node: string) => number): string | null {
  const ok = nodes.filter(
    (n) =>
      nodeReady(n) &&
      !n.spec?.unschedulable &&
      (n.spec?.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || t.effect === 'NoExecute' || tolerates(pod, t)),
  );
  if (!ok.length) return null;
  ok.sort((a, b) => podsOnNode(a.metadata.name) - podsOnNode(b.metadata.name) || (a.metadata.name < b.metadata.name ? -1 : 1));
  return ok[0].metadata.name;
}
