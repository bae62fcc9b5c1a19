// `kubectl describe` for pods, services, nodes, deployments and endpoints: the describers of
// k8s.io/kubectl/pkg/describe, written as lines with tab-separated cells and aligned by Go's
// tabwriter (padding 2), so the column blocks fall where kubectl's do. The lab records no
// events, so every object ends with `Events: <none>`.

import { formatLabels, formatLabelSelector } from '../../kube/objects/selector.ts';
import type { Container, Deployment, Endpoints, Kind, KubeObject, Node, Pod, Service } from '../../kube/objects/types.ts';
import { ANN_LAST_APPLIED } from '../../kube/objects/types.ts';
import type { KubeStore } from '../../kube/objects/store.ts';
import { DESCRIBE, tabwrite } from './tabwriter.ts';
import { formatEndpoints } from './printers.ts';
import { ageOf } from './age.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** time.RFC1123Z in UTC: `Thu, 05 Nov 2020 05:26:27 +0000`. */
export function rfc1123z(ts: unknown): string {
  const ms = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(ms)) return '<unknown>';
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

class Writer {
  private lines = '';
  write(level: number, text: string): void {
    this.lines += '  '.repeat(level) + text;
  }
  labels(title: string, m: Record<string, string> | undefined, level = 0): void {
    const keys = Object.keys(m ?? {}).sort();
    this.write(level, `${title}:\t`);
    if (!keys.length) return this.write(0, '<none>\n');
    keys.forEach((k, i) => this.write(i === 0 ? 0 : level, `${i === 0 ? '' : '\t'}${k}=${(m as Record<string, string>)[k]}\n`));
  }
  annotations(title: string, m: Record<string, string> | undefined, level = 0): void {
    const keys = Object.keys(m ?? {}).filter((k) => k !== ANN_LAST_APPLIED).sort();
    this.write(level, `${title}:\t`);
    if (!keys.length) return this.write(0, '<none>\n');
    keys.forEach((k, i) => {
      let line = `${k}: ${(m as Record<string, string>)[k]}`;
      if (line.length > 140) line = line.slice(0, 140) + '...';
      this.write(i === 0 ? 0 : level, `${i === 0 ? '' : '\t'}${line}\n`);
    });
  }
  events(level = 0): void {
    this.write(level, 'Events:\t<none>\n');
  }
  toString(): string {
    return tabwrite(this.lines, DESCRIBE);
  }
}

function containerPorts(c: Container): [string, string] {
  const ports = c.ports ?? [];
  if (!ports.length) return ['<none>', '<none>'];
  return [ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', '), ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ')];
}

function describeContainers(w: Writer, title: string, cs: Container[], statuses: Record<string, Record<string, unknown>>, level: number, template: boolean): void {
  w.write(level, `${title}:\n`);
  for (const c of cs) {
    w.write(level + 1, `${c.name}:\n`);
    const st = statuses[c.name];
    if (!template && st?.containerID) w.write(level + 2, `Container ID:\t${String(st.containerID)}\n`);
    w.write(level + 2, `Image:\t${c.image ?? ''}\n`);
    if (!template) w.write(level + 2, `Image ID:\t${String(st?.imageID ?? '')}\n`);
    const [port, hostPort] = containerPorts(c);
    w.write(level + 2, `Port:\t${port}\n`);
    w.write(level + 2, `Host Port:\t${hostPort}\n`);
    if (c.command?.length) {
      w.write(level + 2, 'Command:\n');
      for (const x of c.command) w.write(level + 3, `${x}\n`);
    }
    if (c.args?.length) {
      w.write(level + 2, 'Args:\n');
      for (const x of c.args) w.write(level + 3, `${x}\n`);
    }
    if (!template) {
      const state = (st?.state ?? {}) as Record<string, Record<string, unknown>>;
      if (state.running) {
        w.write(level + 2, 'State:\tRunning\n');
        w.write(level + 3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
      } else if (state.terminated) {
        w.write(level + 2, 'State:\tTerminated\n');
        w.write(level + 3, `Reason:\t${String(state.terminated.reason ?? '')}\n`);
        w.write(level + 3, `Exit Code:\t${String(state.terminated.exitCode ?? 0)}\n`);
        w.write(level + 3, `Started:\t${rfc1123z(state.terminated.startedAt)}\n`);
        w.write(level + 3, `Finished:\t${rfc1123z(state.terminated.finishedAt)}\n`);
      } else if (state.waiting) {
        w.write(level + 2, 'State:\tWaiting\n');
        w.write(level + 3, `Reason:\t${String(state.waiting.reason ?? '')}\n`);
      }
      w.write(level + 2, `Ready:\t${st?.ready ? 'True' : 'False'}\n`);
      w.write(level + 2, `Restart Count:\t${String(st?.restartCount ?? 0)}\n`);
    }
    const env = (c.env as { name: string; value?: string }[] | undefined) ?? [];
    if (!env.length) w.write(level + 2, 'Environment:\t<none>\n');
    else {
      w.write(level + 2, 'Environment:\n');
      for (const e of env) w.write(level + 3, `${e.name}:\t${e.value ?? ''}\n`);
    }
    const mounts = (c.volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[] | undefined) ?? [];
    if (!mounts.length) w.write(level + 2, 'Mounts:\t<none>\n');
    else {
      w.write(level + 2, 'Mounts:\n');
      for (const m of mounts) w.write(level + 3, `${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'})\n`);
    }
  }
}

function describeVolumes(w: Writer, vols: Record<string, unknown>[] | undefined, level: number): void {
  if (!vols?.length) return w.write(level, 'Volumes:\t<none>\n');
  w.write(level, 'Volumes:\n');
  for (const v of vols) {
    w.write(level + 1, `${String(v.name)}:\n`);
    if (v.emptyDir !== undefined) {
      const ed = (v.emptyDir ?? {}) as { medium?: string; sizeLimit?: string };
      w.write(level + 2, 'Type:\tEmptyDir (a temporary directory that shares a pod\'s lifetime)\n');
      w.write(level + 2, `Medium:\t${ed.medium ?? ''}\n`);
      w.write(level + 2, `SizeLimit:\t${ed.sizeLimit ?? '<unset>'}\n`);
    } else {
      const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      w.write(level + 2, `Type:\t${type}\n`);
    }
  }
}

function describePod(pod: Pod, store: KubeStore): string {
  const w = new Writer();
  w.write(0, `Name:\t${pod.metadata.name}\n`);
  w.write(0, `Namespace:\t${pod.metadata.namespace}\n`);
  w.write(0, `Priority:\t${String(pod.spec.priority ?? 0)}\n`);
  if (store.minor >= 26) w.write(0, `Service Account:\t${String(pod.spec.serviceAccountName ?? 'default')}\n`);
  const hostIP = pod.status?.hostIP;
  w.write(0, `Node:\t${pod.spec.nodeName ? `${pod.spec.nodeName}/${hostIP ?? ''}` : '<none>'}\n`);
  if (pod.status?.startTime) w.write(0, `Start Time:\t${rfc1123z(pod.status.startTime)}\n`);
  w.labels('Labels', pod.metadata.labels);
  w.annotations('Annotations', pod.metadata.annotations);
  w.write(0, `Status:\t${pod.status?.phase ?? 'Unknown'}\n`);
  w.write(0, `IP:\t${pod.status?.podIP ?? ''}\n`);
  const ips = pod.status?.podIPs ?? [];
  if (!ips.length) w.write(0, 'IPs:\t<none>\n');
  else {
    w.write(0, 'IPs:\n');
    for (const ip of ips) w.write(1, `IP:\t${ip.ip}\n`);
  }
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller);
  if (owner) w.write(0, `Controlled By:\t${owner.kind}/${owner.name}\n`);
  const statuses = Object.fromEntries([...(pod.status?.containerStatuses ?? []), ...((pod.status?.initContainerStatuses as { name: string }[] | undefined) ?? [])].map((s) => [s.name, s as unknown as Record<string, unknown>]));
  if (pod.spec.initContainers?.length) describeContainers(w, 'Init Containers', pod.spec.initContainers, statuses, 0, false);
  describeContainers(w, 'Containers', pod.spec.containers, statuses, 0, false);
  const conds = pod.status?.conditions ?? [];
  if (conds.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\n');
    for (const c of conds) w.write(1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, pod.spec.volumes as Record<string, unknown>[] | undefined, 0);
  w.write(0, `QoS Class:\t${pod.status?.qosClass ?? 'BestEffort'}\n`);
  w.write(0, `Node-Selectors:\t${formatLabels(pod.spec.nodeSelector as Record<string, string> | undefined)}\n`);
  const tol = (pod.spec.tolerations as { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }[] | undefined) ?? [];
  if (!tol.length) w.write(0, 'Tolerations:\t<none>\n');
  tol.forEach((t, i) => {
    let s = t.key ?? '';
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) s += ' op=Exists';
    if (t.tolerationSeconds !== undefined) s += ` for ${t.tolerationSeconds}s`;
    w.write(0, `${i === 0 ? 'Tolerations:' : ''}\t${s}\n`);
  });
  w.events();
  return w.toString();
}

function describeService(svc: Service, store: KubeStore): string {
  const w = new Writer();
  const ep = store.get('Endpoints', svc.metadata.namespace, svc.metadata.name);
  const s = svc.spec;
  w.write(0, `Name:\t${svc.metadata.name}\n`);
  w.write(0, `Namespace:\t${svc.metadata.namespace}\n`);
  w.labels('Labels', svc.metadata.labels);
  w.annotations('Annotations', svc.metadata.annotations);
  w.write(0, `Selector:\t${formatLabels(s.selector)}\n`);
  w.write(0, `Type:\t${s.type ?? 'ClusterIP'}\n`);
  if (store.minor >= 20) {
    if (s.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${s.ipFamilyPolicy}\n`);
    w.write(0, `IP Families:\t${s.ipFamilies?.length ? s.ipFamilies.join(',') : '<none>'}\n`);
  }
  w.write(0, `IP:\t${s.clusterIP ?? ''}\n`);
  if (store.minor >= 20) w.write(0, `IPs:\t${s.clusterIPs?.length ? s.clusterIPs.join(',') : '<none>'}\n`);
  if (s.externalIPs?.length) w.write(0, `External IPs:\t${s.externalIPs.join(',')}\n`);
  if (s.loadBalancerIP) w.write(0, `IP:\t${s.loadBalancerIP}\n`);
  if (s.externalName) w.write(0, `External Name:\t${s.externalName}\n`);
  const ing = svc.status?.loadBalancer?.ingress ?? [];
  if (ing.length) w.write(0, `LoadBalancer Ingress:\t${ing.map((i) => i.ip || i.hostname).join(', ')}\n`);
  for (const p of s.ports ?? []) {
    const name = p.name || '<unset>';
    w.write(0, `Port:\t${name}\t${p.port}/${p.protocol ?? 'TCP'}\n`);
    w.write(0, `TargetPort:\t${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${p.protocol ?? 'TCP'}\n`);
    w.write(0, `Endpoints:\t${formatEndpoints(ep, new Set([p.name ?? '']))}\n`);
  }
  w.write(0, `Session Affinity:\t${s.sessionAffinity ?? 'None'}\n`);
  if (s.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${s.externalTrafficPolicy}\n`);
  if (s.internalTrafficPolicy) w.write(0, `Internal Traffic Policy:\t${s.internalTrafficPolicy}\n`);
  if (s.healthCheckNodePort) w.write(0, `HealthCheck NodePort:\t${s.healthCheckNodePort}\n`);
  if (s.loadBalancerSourceRanges?.length) w.write(0, `LoadBalancer Source Ranges:\t${s.loadBalancerSourceRanges.join(',')}\n`);
  w.events();
  return w.toString();
}

function describeEndpoints(ep: Endpoints): string {
  const w = new Writer();
  w.write(0, `Name:\t${ep.metadata.name}\n`);
  w.write(0, `Namespace:\t${ep.metadata.namespace}\n`);
  w.labels('Labels', ep.metadata.labels);
  w.annotations('Annotations', ep.metadata.annotations);
  w.write(0, 'Subsets:\n');
  for (const ss of ep.subsets ?? []) {
    w.write(1, `Addresses:\t${(ss.addresses ?? []).map((a) => a.ip).join(',') || '<none>'}\n`);
    w.write(1, `NotReadyAddresses:\t${(ss.notReadyAddresses ?? []).map((a) => a.ip).join(',') || '<none>'}\n`);
    if (ss.ports?.length) {
      w.write(1, 'Ports:\n');
      w.write(2, 'Name\tPort\tProtocol\n');
      w.write(2, '----\t----\t--------\n');
      for (const p of ss.ports) w.write(2, `${p.name || '<unset>'}\t${p.port}\t${p.protocol ?? 'TCP'}\n`);
    }
    w.write(0, '\n');
  }
  w.events();
  return w.toString();
}

function describeNode(n: Node, store: KubeStore): string {
  const w = new Writer();
  w.write(0, `Name:\t${n.metadata.name}\n`);
  const roles = Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24)).sort();
  w.write(0, `Roles:\t${roles.join(',') || '<none>'}\n`);
  w.labels('Labels', n.metadata.labels);
  w.annotations('Annotations', n.metadata.annotations);
  w.write(0, `CreationTimestamp:\t${rfc1123z(n.metadata.creationTimestamp)}\n`);
  const taints = n.spec?.taints ?? [];
  w.write(0, `Taints:\t${taints.length ? taints.map((t) => `${t.key}${t.value ? '=' + t.value : ''}:${t.effect}`).join('\n\t') : '<none>'}\n`);
  w.write(0, `Unschedulable:\t${n.spec?.unschedulable ? 'true' : 'false'}\n`);
  w.write(0, 'Conditions:\n');
  w.write(1, 'Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
  w.write(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
  for (const c of n.status?.conditions ?? []) {
    w.write(1, `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`);
  }
  w.write(0, 'Addresses:\n');
  for (const a of n.status?.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  const info = n.status?.nodeInfo;
  w.write(0, 'System Info:\n');
  w.write(1, `Kernel Version:\t${info?.kernelVersion ?? ''}\n`);
  w.write(1, `OS Image:\t${info?.osImage ?? ''}\n`);
  w.write(1, `Operating System:\t${info?.operatingSystem ?? 'linux'}\n`);
  w.write(1, `Architecture:\t${info?.architecture ?? 'amd64'}\n`);
  w.write(1, `Container Runtime Version:\t${info?.containerRuntimeVersion ?? ''}\n`);
  w.write(1, `Kubelet Version:\t${info?.kubeletVersion ?? ''}\n`);
  w.write(1, `Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ''}\n`);
  if (n.spec?.podCIDR) w.write(0, `PodCIDR:\t${n.spec.podCIDR}\n`);
  if (n.spec?.podCIDRs?.length) w.write(0, `PodCIDRs:\t${n.spec.podCIDRs.join(',')}\n`);
  const pods = store.list('Pod').filter((p) => p.spec.nodeName === n.metadata.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  w.write(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(1, 'Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(1, '---------\t----\t------------\t----------\t---------------\t-------------\t---\n');
  for (const p of pods) w.write(1, `${p.metadata.namespace}\t${p.metadata.name}\t0 (0%)\t0 (0%)\t0 (0%)\t0 (0%)\t${ageOf(p.metadata.creationTimestamp, store.now())}\n`);
  w.events();
  return w.toString();
}

function describeDeployment(d: Deployment, store: KubeStore): string {
  const w = new Writer();
  const st = d.status ?? {};
  w.write(0, `Name:\t${d.metadata.name}\n`);
  w.write(0, `Namespace:\t${d.metadata.namespace}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
  w.labels('Labels', d.metadata.labels);
  w.annotations('Annotations', d.metadata.annotations);
  w.write(0, `Selector:\t${formatLabelSelector(d.spec.selector)}\n`);
  const total = st.replicas ?? 0, avail = st.availableReplicas ?? 0;
  w.write(0, `Replicas:\t${d.spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${total} total | ${avail} available | ${(st.unavailableReplicas as number | undefined) ?? 0} unavailable\n`);
  const strategy = (d.spec.strategy ?? {}) as { type?: string; rollingUpdate?: { maxUnavailable?: string | number; maxSurge?: string | number } };
  w.write(0, `StrategyType:\t${strategy.type ?? 'RollingUpdate'}\n`);
  w.write(0, `MinReadySeconds:\t${String(d.spec.minReadySeconds ?? 0)}\n`);
  if (strategy.rollingUpdate) w.write(0, `RollingUpdateStrategy:\t${strategy.rollingUpdate.maxUnavailable} max unavailable, ${strategy.rollingUpdate.maxSurge} max surge\n`);
  w.write(0, 'Pod Template:\n');
  w.labels('Labels', d.spec.template.metadata?.labels as Record<string, string> | undefined, 1);
  if (d.spec.template.spec.initContainers?.length) describeContainers(w, 'Init Containers', d.spec.template.spec.initContainers, {}, 1, true);
  describeContainers(w, 'Containers', d.spec.template.spec.containers, {}, 1, true);
  describeVolumes(w, d.spec.template.spec.volumes as Record<string, unknown>[] | undefined, 1);
  const conds = (st.conditions as { type: string; status: string; reason?: string }[] | undefined) ?? [];
  if (conds.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\n');
    w.write(1, '----\t------\t------\n');
    for (const c of conds) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
  }
  const sets = store.list('ReplicaSet', d.metadata.namespace).filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid));
  const hash = sets.find((r) => (r.spec.replicas ?? 0) > 0 || sets.length === 1);
  const old = sets.filter((r) => r !== hash && (r.status?.replicas ?? 0) > 0);
  w.write(0, `OldReplicaSets:\t${old.length ? old.map((r) => `${r.metadata.name} (${r.status?.replicas ?? 0}/${r.spec.replicas ?? 0} replicas created)`).join(', ') : '<none>'}\n`);
  w.write(0, `NewReplicaSet:\t${hash ? `${hash.metadata.name} (${hash.status?.replicas ?? 0}/${hash.spec.replicas ?? 0} replicas created)` : '<none>'}\n`);
  w.events();
  return w.toString();
}

export const DESCRIBABLE: Kind[] = ['Pod', 'Service', 'Node', 'Deployment', 'Endpoints'];

export function describeObject(obj: KubeObject, store: KubeStore): string {
  switch (obj.kind) {
    case 'Pod':
      return describePod(obj, store);
    case 'Service':
      return describeService(obj, store);
    case 'Node':
      return describeNode(obj, store);
    case 'Deployment':
      return describeDeployment(obj, store);
    case 'Endpoints':
      return describeEndpoints(obj);
    default:
      return '';
  }
}
