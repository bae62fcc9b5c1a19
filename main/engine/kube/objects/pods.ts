// Pod lifecycle in the lab: the scheduler places a pod (unless `spec.nodeName` did), the node's
// network gives it an IP (a hook into the network engine; `lab.kpl.dev/ip` pins one), and once
// both are there its containers run and it is Ready at once. The status is shaped like the
// kubelet's, so `kubectl get pods` and `describe` read it as they read a real one.

import type { ControllerHost, KubeHooks } from './controller-host.ts';
import { nodeInternalIP } from './node.ts';
import { pickNode } from './scheduler.ts';
import type { ContainerStatus, Node, Pod, PodCondition, PodStatus } from './types.ts';
import { ANN_POD_IP, deepEqual } from './types.ts';

function qosClass(pod: Pod): string {
  let any = false;
  for (const c of pod.spec.containers) {
    const r = c.resources as { limits?: Record<string, unknown>; requests?: Record<string, unknown> } | undefined;
    if (r && (Object.keys(r.limits ?? {}).length || Object.keys(r.requests ?? {}).length)) any = true;
  }
  return any ? 'Burstable' : 'BestEffort';
}

function cond(type: string, ok: boolean, ts: string, extra: Partial<PodCondition> & Record<string, unknown> = {}): PodCondition {
  return { lastProbeTime: null, lastTransitionTime: ts, status: ok ? 'True' : 'False', type, ...extra } as PodCondition;
}

/** The status the kubelet would report now; timestamps of an unchanged phase are kept. */
export function podStatusFor(pod: Pod, node: Node | undefined, nodeCount: number, ts: string): PodStatus {
  const prev = pod.status ?? {};
  const since = (phase: string) => (prev.phase === phase && prev.startTime ? prev.startTime : ts);
  if (!pod.spec.nodeName) {
    return {
      conditions: [
        cond('PodScheduled', false, prev.conditions?.[0]?.lastTransitionTime ?? ts, {
          message: `0/${nodeCount} nodes are available: ${nodeCount === 0 ? 'no nodes available to schedule pods' : `${nodeCount} node(s) were unschedulable`}.`,
          reason: 'Unschedulable',
        }),
      ],
      phase: 'Pending',
      qosClass: qosClass(pod),
    };
  }
  const hostIP = node ? nodeInternalIP(node) : undefined;
  const running = !!node && !!pod.status?.podIP;
  const start = running ? since('Running') : since('Pending');
  const containers = (list: typeof pod.spec.containers, init: boolean): ContainerStatus[] =>
    list.map((c) => {
      const s: ContainerStatus = { image: c.image, lastState: {}, name: c.name, ready: running && !init, restartCount: 0 };
      if (running) {
        s.containerID = `docker://${hex64(`${pod.metadata.uid}/${c.name}`)}`;
        s.imageID = `docker-pullable://${(c.image ?? '').replace(/:[^/:]*$/, '')}@sha256:${hex64(c.image ?? '')}`;
      }
      if (init) s.state = running ? { terminated: { exitCode: 0, finishedAt: start, reason: 'Completed', startedAt: start } } : { waiting: { reason: 'PodInitializing' } };
      else {
        s.started = running;
        s.state = running ? { running: { startedAt: start } } : { waiting: { reason: 'ContainerCreating' } };
      }
      return s;
    });
  const status: PodStatus = {
    conditions: [
      cond('Initialized', true, start),
      cond('Ready', running, start, running ? {} : { message: `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(' ')}]`, reason: 'ContainersNotReady' }),
      cond('ContainersReady', running, start, running ? {} : { message: `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(' ')}]`, reason: 'ContainersNotReady' }),
      cond('PodScheduled', true, prev.startTime ?? start),
    ],
    containerStatuses: containers(pod.spec.containers, false),
    phase: running ? 'Running' : 'Pending',
    qosClass: qosClass(pod),
    startTime: prev.startTime ?? start,
  };
  if (hostIP) status.hostIP = hostIP;
  if (pod.spec.initContainers?.length) status.initContainerStatuses = containers(pod.spec.initContainers, true);
  if (running) {
    status.podIP = pod.status?.podIP;
    status.podIPs = [{ ip: pod.status?.podIP as string }];
  }
  return status;
}

const same = deepEqual;

/** A stable 64-hex-digit id derived from `seed` (container and image ids look like sha256s). */
function hex64(seed: string): string {
  let out = '';
  let h = 0x811c9dc5;
  for (let round = 0; out.length < 64; round++) {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ round, 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}

/** Schedules, addresses and starts every pod that can move forward. */
export function syncPods(host: ControllerHost, hooks: KubeHooks): void {
  const nodes = host.list('Node');
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const pods = host.list('Pod');
  const load = new Map<string, number>();
  for (const p of pods) if (p.spec.nodeName) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
  for (const live of pods) {
    if (live.metadata.deletionTimestamp) continue;
    const pod = JSON.parse(JSON.stringify(live)) as Pod;
    if (!pod.spec.nodeName) {
      const chosen = hooks.schedule ? hooks.schedule(pod) : pickNode(pod, nodes, (n) => load.get(n) ?? 0);
      if (chosen) {
        pod.spec.nodeName = chosen;
        load.set(chosen, (load.get(chosen) ?? 0) + 1);
      }
    }
    const node = pod.spec.nodeName ? byName.get(pod.spec.nodeName) : undefined;
    if (node && !pod.status?.podIP) {
      let ip: string | null;
      if (pod.spec.hostNetwork) ip = nodeInternalIP(node) ?? null;
      else if (hooks.assignIp) ip = hooks.assignIp(pod);
      else ip = pod.metadata.annotations?.[ANN_POD_IP] ?? null;
      if (ip) pod.status = { ...(pod.status ?? {}), podIP: ip };
    }
    pod.status = podStatusFor(pod, node, nodes.length, host.timestamp());
    if (!same(pod.spec, live.spec) || !same(pod.status, live.status)) host.update(pod);
  }
}
