// The deployment and replicaset controllers, collapsed into one synchronous step: a Deployment's
// template hash names its ReplicaSet (`webapp-7759cc5c66`), which owns `replicas` pods named
// `<rs>-<5 random chars>`; a template change makes a new ReplicaSet and replaces the pods at once
// (no rolling pace). The lab annotations pin pod names and IPs in replica order:
// `lab.kpl.dev/pod-names: "db-8d66ff5f7-bp6kf"`, `lab.kpl.dev/pod-ips: "10.88.0.26"`.

import type { ControllerHost } from './controller-host.ts';
import { randomString } from './hash.ts';
import { computePodTemplateHash } from './template-hash.ts';
import type { Deployment, OwnerReference, Pod, ReplicaSet } from './types.ts';
import { ANN_POD_IP, ANN_POD_IPS, ANN_POD_NAMES, clone, deepEqual } from './types.ts';

const HASH_LABEL = 'pod-template-hash';

function ownedBy(obj: { metadata: { ownerReferences?: OwnerReference[] } }, uid: string | undefined): boolean {
  return !!uid && (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
}

function ownerRef(kind: string, apiVersion: string, o: { metadata: { name: string; uid?: string } }): OwnerReference {
  return { apiVersion, blockOwnerDeletion: true, controller: true, kind, name: o.metadata.name, uid: o.metadata.uid as string };
}

function pinned(d: Deployment, ann: string): string[] {
  const v = d.metadata.annotations?.[ann];
  return v ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
}

/** The ReplicaSet for the Deployment's current template, created or rescaled. */
/** The pod-template-hash of live Deployments, by object: the store replaces an object when it
 *  changes, and the controllers ask on every pass (hashing spews the whole template). */
const hashes = new WeakMap<Deployment, string>();
function templateHash(d: Deployment): string {
  let h = hashes.get(d);
  if (h === undefined) hashes.set(d, (h = computePodTemplateHash(d.spec.template, d.status?.collisionCount)));
  return h;
}

function currentReplicaSet(host: ControllerHost, d: Deployment, ns: string): ReplicaSet {
  const hash = templateHash(d);
  const name = `${d.metadata.name}-${hash}`;
  const replicas = d.spec.replicas ?? 1;
  const existing = host.get('ReplicaSet', ns, name);
  const revision = String(
    1 + Math.max(0, ...host.list('ReplicaSet', ns).filter((r) => ownedBy(r, d.metadata.uid)).map((r) => Number(r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))),
  );
  if (existing) {
    if (existing.spec.replicas !== replicas) {
      const rs = clone(existing);
      rs.spec.replicas = replicas;
      const ann = rs.metadata.annotations ?? {};
      ann['deployment.kubernetes.io/desired-replicas'] = String(replicas);
      ann['deployment.kubernetes.io/max-replicas'] = String(replicas + Math.ceil(replicas / 4));
      rs.metadata.annotations = ann;
      return host.update(rs);
    }
    return existing;
  }
  const template = clone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
  const selector = clone(d.spec.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  return host.create<ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: ns,
      labels: { ...(d.spec.template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(replicas),
        'deployment.kubernetes.io/max-replicas': String(replicas + Math.ceil(replicas / 4)),
        'deployment.kubernetes.io/revision': revision,
      },
      ownerReferences: [ownerRef('Deployment', 'apps/v1', d)],
    },
    spec: { replicas, selector, template },
  });
}

function newPod(host: ControllerHost, d: Deployment, rs: ReplicaSet, ns: string, taken: Set<string>, takenIPs: Set<string>): Pod {
  const names = pinned(d, ANN_POD_NAMES);
  const ips = pinned(d, ANN_POD_IPS);
  // A pinned name another pod already holds is skipped (the API server would refuse it).
  let index = names.findIndex((n) => !taken.has(n) && !host.get('Pod', ns, n));
  let name: string;
  if (index >= 0) name = names[index];
  else {
    index = ips.findIndex((ip) => !takenIPs.has(ip));
    do name = `${rs.metadata.name}-${randomString(host.rng, 5)}`;
    while (taken.has(name) || host.get('Pod', ns, name));
  }
  const t = clone(rs.spec.template);
  const annotations = { ...(t.metadata?.annotations ?? {}) } as Record<string, string>;
  const ip = index >= 0 ? ips[index] : undefined;
  if (ip) annotations[ANN_POD_IP] = ip;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name}-`,
      name,
      namespace: ns,
      labels: { ...(t.metadata?.labels ?? {}) } as Record<string, string>,
      ownerReferences: [ownerRef('ReplicaSet', 'apps/v1', rs)],
    },
    spec: t.spec,
  };
  if (Object.keys(annotations).length) pod.metadata.annotations = annotations;
  return pod;
}

/** Brings every Deployment's pods to its replica count (new pods get `defaultPod` first). */
export function syncDeployments(host: ControllerHost, defaultPod: (pod: Pod) => void): void {
  for (const d of host.list('Deployment')) {
    const ns = d.metadata.namespace as string;
    const rs = currentReplicaSet(host, d, ns);
    // The Deployment carries the revision of its current ReplicaSet.
    const rev = rs.metadata.annotations?.['deployment.kubernetes.io/revision'];
    if (rev && d.metadata.annotations?.['deployment.kubernetes.io/revision'] !== rev) {
      host.update({ ...clone(d), metadata: { ...clone(d.metadata), annotations: { ...(d.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': rev } } });
    }
    // Older ReplicaSets of this Deployment drain at once.
    for (const old of host.list('ReplicaSet', ns)) {
      if (old.metadata.uid === rs.metadata.uid || !ownedBy(old, d.metadata.uid)) continue;
      for (const p of host.list('Pod', ns)) if (ownedBy(p, old.metadata.uid)) host.remove('Pod', ns, p.metadata.name);
      if (old.spec.replicas !== 0) host.update({ ...clone(old), spec: { ...clone(old.spec), replicas: 0 } });
    }
    const mine = host.list('Pod', ns).filter((p) => ownedBy(p, rs.metadata.uid) && !p.metadata.deletionTimestamp);
    const want = d.spec.replicas ?? 1;
    if (mine.length > want) {
      // Newest go first.
      const doomed = [...mine].sort((a, b) => host.seqOf(b) - host.seqOf(a)).slice(0, mine.length - want);
      for (const p of doomed) host.remove('Pod', ns, p.metadata.name);
    } else if (mine.length < want) {
      const taken = new Set(mine.map((p) => p.metadata.name));
      const takenIPs = new Set(mine.map((p) => p.metadata.annotations?.[ANN_POD_IP] ?? p.status?.podIP ?? ''));
      for (let i = mine.length; i < want; i++) {
        const pod = newPod(host, d, rs, ns, taken, takenIPs);
        defaultPod(pod);
        taken.add(pod.metadata.name);
        const ip = pod.metadata.annotations?.[ANN_POD_IP];
        if (ip) takenIPs.add(ip);
        host.create(pod);
      }
    }
  }
}

/** Deployment and ReplicaSet status from their pods (what `kubectl get deploy` reads). */
export function syncDeploymentStatus(host: ControllerHost): void {
  for (const d of host.list('Deployment')) {
    const ns = d.metadata.namespace as string;
    const sets = host.list('ReplicaSet', ns).filter((r) => ownedBy(r, d.metadata.uid));
    let replicas = 0, ready = 0, updated = 0;
    const hash = templateHash(d);
    for (const rs of sets) {
      const pods = host.list('Pod', ns).filter((p) => ownedBy(p, rs.metadata.uid));
      const r = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      replicas += pods.length;
      ready += r;
      if (rs.metadata.labels?.[HASH_LABEL] === hash) updated += pods.length;
      const rsStatus: Record<string, unknown> = { fullyLabeledReplicas: pods.length, observedGeneration: rs.metadata.generation ?? 1, replicas: pods.length };
      if (r) {
        rsStatus.availableReplicas = r;
        rsStatus.readyReplicas = r;
      }
      if (!deepEqual(rs.status, rsStatus)) host.update({ ...clone(rs), status: rsStatus });
    }
    const want = d.spec.replicas ?? 1;
    const ts = host.timestamp();
    const prev = d.status ?? {};
    const prevConds = (prev.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[];
    const available = ready >= want - Math.floor(want / 4) || want === 0;
    const keep = (type: string, status: string) => {
      const p = prevConds.find((c) => c.type === type);
      return p && p.status === status ? p.lastTransitionTime : ts;
    };
    const rsName = `${d.metadata.name}-${hash}`;
    const status: Record<string, unknown> = {
      conditions: [
        {
          lastTransitionTime: keep('Available', available ? 'True' : 'False'),
          lastUpdateTime: keep('Available', available ? 'True' : 'False'),
          message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          status: available ? 'True' : 'False',
          type: 'Available',
        },
        {
          lastTransitionTime: keep('Progressing', 'True'),
          lastUpdateTime: keep('Progressing', 'True'),
          message: ready >= want ? `ReplicaSet "${rsName}" has successfully progressed.` : `ReplicaSet "${rsName}" is progressing.`,
          reason: ready >= want ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          status: 'True',
          type: 'Progressing',
        },
      ],
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
    };
    if (ready) {
      status.availableReplicas = ready;
      status.readyReplicas = ready;
    }
    if (replicas - ready > 0) status.unavailableReplicas = replicas - ready;
    const cmp = (s: Record<string, unknown>) => ({ ...s, conditions: (s.conditions as Record<string, unknown>[] | undefined)?.map((c) => ({ ...c, lastTransitionTime: 0, lastUpdateTime: 0 })) });
    if (!deepEqual(cmp(status), cmp(prev as Record<string, unknown>))) host.update({ ...clone(d), status });
  }
}
