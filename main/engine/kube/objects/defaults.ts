// The API server's defaulting (pkg/apis/*/v1/defaults.go and the admission plugins that always
// run: ServiceAccount, DefaultTolerationSeconds, Priority), for the kinds the lab stores. Some
// defaults only exist from a given release on; `minor` is the cluster's minor version.

import type { Container, Deployment, KubeObject, NetworkPolicy, Pod, PodSpec, PodTemplateSpec, Service } from './types.ts';
import { isObject } from './types.ts';

/** kube's parsers.ParseImageName: an image without a tag (or digest) means `latest`. */
function imageTag(image: string): string {
  if (image.includes('@')) return '';
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

function defaultContainer(c: Container, hostNetwork: boolean): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const p of c.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (hostNetwork && p.hostPort === undefined) p.hostPort = p.containerPort;
  }
  if (c.resources === undefined) c.resources = {};
}

/** SetDefaults_PodSpec plus the per-container and per-volume defaults. */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  const hostNet = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNet);
  for (const c of spec.containers ?? []) defaultContainer(c, hostNet);
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes as Record<string, unknown>[]) {
      // A volume with no source is an emptyDir.
      if (Object.keys(v).every((k) => k === 'name')) v.emptyDir = {};
    }
  }
}

export function defaultPodTemplate(t: PodTemplateSpec): void {
  if (!t.metadata) t.metadata = {};
  if (t.metadata.creationTimestamp === undefined) t.metadata.creationTimestamp = null;
  defaultPodSpec(t.spec);
}

function defaultPod(pod: Pod, _minor: number): void {
  defaultPodSpec(pod.spec);
  const s = pod.spec;
  if (s.enableServiceLinks === undefined) s.enableServiceLinks = true;
  // ServiceAccount admission.
  if (!s.serviceAccountName) s.serviceAccountName = 'default';
  if (!s.serviceAccount) s.serviceAccount = s.serviceAccountName;
  // Priority admission.
  if (s.priority === undefined) s.priority = 0;
  if (s.preemptionPolicy === undefined) s.preemptionPolicy = 'PreemptLowerPriority';
  // DefaultTolerationSeconds admission.
  const tol = Array.isArray(s.tolerations) ? (s.tolerations as Record<string, unknown>[]) : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tol.some((t) => t.key === key)) tol.push({ effect: 'NoExecute', key, operator: 'Exists', tolerationSeconds: 300 });
  }
  s.tolerations = tol;
}

function defaultService(svc: Service, minor: number): void {
  const s = svc.spec;
  if (!s.type) s.type = 'ClusterIP';
  if (!s.sessionAffinity) s.sessionAffinity = 'None';
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP') {
    const cfg = s.sessionAffinityConfig ?? {};
    cfg.clientIP = cfg.clientIP ?? {};
    if (cfg.clientIP.timeoutSeconds === undefined) cfg.clientIP.timeoutSeconds = 10800;
    s.sessionAffinityConfig = cfg;
  }
  for (const p of s.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
  if (minor >= 22 && s.type !== 'ExternalName' && !s.internalTrafficPolicy) s.internalTrafficPolicy = 'Cluster';
  if (minor >= 24 && s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) s.allocateLoadBalancerNodePorts = true;
  if (!svc.status) svc.status = { loadBalancer: {} };
}

function defaultDeployment(d: Deployment): void {
  const s = d.spec;
  if (s.replicas === undefined) s.replicas = 1;
  const st = (isObject(s.strategy) ? s.strategy : {}) as Record<string, unknown>;
  if (!st.type) st.type = 'RollingUpdate';
  if (st.type === 'RollingUpdate') {
    const ru = (isObject(st.rollingUpdate) ? st.rollingUpdate : {}) as Record<string, unknown>;
    if (ru.maxUnavailable === undefined) ru.maxUnavailable = '25%';
    if (ru.maxSurge === undefined) ru.maxSurge = '25%';
    st.rollingUpdate = ru;
  }
  s.strategy = st;
  if (s.revisionHistoryLimit === undefined) s.revisionHistoryLimit = 10;
  if (s.progressDeadlineSeconds === undefined) s.progressDeadlineSeconds = 600;
  defaultPodTemplate(s.template);
}

function defaultNetworkPolicy(np: NetworkPolicy): void {
  const s = np.spec;
  if (!s.policyTypes || s.policyTypes.length === 0) {
    s.policyTypes = ['Ingress'];
    if (s.egress && s.egress.length) s.policyTypes.push('Egress');
  }
  for (const r of [...(s.ingress ?? []), ...(s.egress ?? [])]) for (const p of r.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
}

/** Applies the defaults in place. */
export function applyDefaults(obj: KubeObject, minor: number): void {
  switch (obj.kind) {
    case 'Pod':
      defaultPod(obj, minor);
      break;
    case 'Service':
      defaultService(obj, minor);
      break;
    case 'Deployment':
      defaultDeployment(obj);
      break;
    case 'NetworkPolicy':
      defaultNetworkPolicy(obj);
      break;
    case 'Namespace':
      obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
      obj.status = { phase: 'Active' };
      if (minor >= 21) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      break;
    default:
      break;
  }
}
