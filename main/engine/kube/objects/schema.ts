// The fields each kind accepts, for strict decoding: an unknown field or a value of the wrong
// type is refused the way the API server (strict field validation, v1.25+) or kubectl's
// client-side OpenAPI validation (older clusters) refuses it. Deep parts of the pod spec the lab
// never reads (probes, security contexts, volume sources, affinity) are accepted as they come.

import { isObject } from './types.ts';

type Scalar = 'string' | 'int32' | 'int64' | 'bool' | 'intstr' | 'quantity' | 'number';
export type FieldType = Scalar | 'any' | 'strmap' | { obj: string } | { list: FieldType } | { map: FieldType };

interface Schema {
  /** Go type name, as `json: cannot unmarshal ... Go struct field X.path` prints it. */
  go: string;
  /** OpenAPI definition name, as kubectl's ValidationError prints it. */
  openapi: string;
  fields: Record<string, FieldType>;
  required?: string[];
}

const S = 'string' as const, I32 = 'int32' as const, I64 = 'int64' as const, B = 'bool' as const;
const ANY = 'any' as const, SMAP = 'strmap' as const;
const o = (name: string) => ({ obj: name });
const l = (t: FieldType) => ({ list: t });
const SL = l(S);
const core = (n: string) => `io.k8s.api.core.v1.${n}`;
const meta = (n: string) => `io.k8s.apimachinery.pkg.apis.meta.v1.${n}`;

const SCHEMAS: Record<string, Schema> = {
  ObjectMeta: {
    go: 'ObjectMeta', openapi: meta('ObjectMeta'),
    fields: {
      name: S, generateName: S, namespace: S, selfLink: S, uid: S, resourceVersion: S, generation: I64,
      creationTimestamp: ANY, deletionTimestamp: ANY, deletionGracePeriodSeconds: I64, labels: SMAP,
      annotations: SMAP, ownerReferences: l(ANY), finalizers: SL, clusterName: S, managedFields: l(ANY),
    },
  },
  LabelSelector: { go: 'LabelSelector', openapi: meta('LabelSelector'), fields: { matchLabels: SMAP, matchExpressions: l(o('LabelSelectorRequirement')) } },
  LabelSelectorRequirement: {
    go: 'LabelSelectorRequirement', openapi: meta('LabelSelectorRequirement'),
    fields: { key: S, operator: S, values: SL }, required: ['key', 'operator'],
  },
  // ----- core
  Namespace: { go: 'Namespace', openapi: core('Namespace'), fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: ANY, status: ANY } },
  Node: { go: 'Node', openapi: core('Node'), fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: o('NodeSpec'), status: o('NodeStatus') } },
  NodeSpec: {
    go: 'NodeSpec', openapi: core('NodeSpec'),
    fields: { podCIDR: S, podCIDRs: SL, providerID: S, unschedulable: B, taints: l(ANY), configSource: ANY, externalID: S },
  },
  NodeStatus: {
    go: 'NodeStatus', openapi: core('NodeStatus'),
    fields: {
      capacity: { map: 'quantity' }, allocatable: { map: 'quantity' }, phase: S, conditions: l(ANY), addresses: l(o('NodeAddress')),
      daemonEndpoints: ANY, nodeInfo: ANY, images: l(ANY), volumesInUse: SL, volumesAttached: l(ANY), config: ANY,
      runtimeHandlers: l(ANY), features: ANY,
    },
  },
  NodeAddress: { go: 'NodeAddress', openapi: core('NodeAddress'), fields: { type: S, address: S }, required: ['type', 'address'] },
  Pod: { go: 'Pod', openapi: core('Pod'), fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: o('PodSpec'), status: ANY } },
  PodTemplateSpec: { go: 'PodTemplateSpec', openapi: core('PodTemplateSpec'), fields: { metadata: o('ObjectMeta'), spec: o('PodSpec') } },
  PodSpec: {
    go: 'PodSpec', openapi: core('PodSpec'),
    fields: {
      volumes: l(o('Volume')), initContainers: l(o('Container')), containers: l(o('Container')), ephemeralContainers: l(ANY),
      restartPolicy: S, terminationGracePeriodSeconds: I64, activeDeadlineSeconds: I64, dnsPolicy: S, nodeSelector: SMAP,
      serviceAccountName: S, serviceAccount: S, automountServiceAccountToken: B, nodeName: S, hostNetwork: B, hostPID: B,
      hostIPC: B, shareProcessNamespace: B, securityContext: ANY, imagePullSecrets: l(ANY), hostname: S, subdomain: S,
      affinity: ANY, schedulerName: S, tolerations: l(ANY), hostAliases: l(ANY), priorityClassName: S, priority: I32,
      dnsConfig: ANY, readinessGates: l(ANY), runtimeClassName: S, enableServiceLinks: B, preemptionPolicy: S,
      overhead: { map: 'quantity' }, topologySpreadConstraints: l(ANY), setHostnameAsFQDN: B, os: ANY, hostUsers: B,
      schedulingGates: l(ANY), resourceClaims: l(ANY), resources: ANY,
    },
    required: ['containers'],
  },
  Volume: {
    go: 'Volume', openapi: core('Volume'),
    fields: {
      name: S, hostPath: ANY, emptyDir: ANY, gcePersistentDisk: ANY, awsElasticBlockStore: ANY, gitRepo: ANY, secret: ANY,
      nfs: ANY, iscsi: ANY, glusterfs: ANY, persistentVolumeClaim: ANY, rbd: ANY, flexVolume: ANY, cinder: ANY, cephfs: ANY,
      flocker: ANY, downwardAPI: ANY, fc: ANY, azureFile: ANY, configMap: ANY, vsphereVolume: ANY, quobyte: ANY, azureDisk: ANY,
      photonPersistentDisk: ANY, projected: ANY, portworxVolume: ANY, scaleIO: ANY, storageos: ANY, csi: ANY, ephemeral: ANY,
      image: ANY,
    },
    required: ['name'],
  },
  Container: {
    go: 'Container', openapi: core('Container'),
    fields: {
      name: S, image: S, command: SL, args: SL, workingDir: S, ports: l(o('ContainerPort')), envFrom: l(ANY), env: l(o('EnvVar')),
      resources: ANY, resizePolicy: l(ANY), restartPolicy: S, volumeMounts: l(o('VolumeMount')), volumeDevices: l(ANY),
      livenessProbe: ANY, readinessProbe: ANY, startupProbe: ANY, lifecycle: ANY, terminationMessagePath: S,
      terminationMessagePolicy: S, imagePullPolicy: S, securityContext: ANY, stdin: B, stdinOnce: B, tty: B,
    },
    required: ['name'],
  },
  ContainerPort: {
    go: 'ContainerPort', openapi: core('ContainerPort'),
    fields: { name: S, hostPort: I32, containerPort: I32, protocol: S, hostIP: S }, required: ['containerPort'],
  },
  EnvVar: { go: 'EnvVar', openapi: core('EnvVar'), fields: { name: S, value: S, valueFrom: ANY }, required: ['name'] },
  VolumeMount: {
    go: 'VolumeMount', openapi: core('VolumeMount'),
    fields: { name: S, readOnly: B, recursiveReadOnly: S, mountPath: S, subPath: S, mountPropagation: S, subPathExpr: S },
    required: ['name', 'mountPath'],
  },
  Service: { go: 'Service', openapi: core('Service'), fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: o('ServiceSpec'), status: o('ServiceStatus') } },
  ServiceSpec: {
    go: 'ServiceSpec', openapi: core('ServiceSpec'),
    fields: {
      ports: l(o('ServicePort')), selector: SMAP, clusterIP: S, clusterIPs: SL, type: S, externalIPs: SL, sessionAffinity: S,
      loadBalancerIP: S, loadBalancerSourceRanges: SL, externalName: S, externalTrafficPolicy: S, healthCheckNodePort: I32,
      publishNotReadyAddresses: B, sessionAffinityConfig: ANY, topologyKeys: SL, ipFamilies: SL, ipFamilyPolicy: S,
      allocateLoadBalancerNodePorts: B, loadBalancerClass: S, internalTrafficPolicy: S, trafficDistribution: S,
    },
  },
  ServicePort: {
    go: 'ServicePort', openapi: core('ServicePort'),
    fields: { name: S, protocol: S, appProtocol: S, port: I32, targetPort: 'intstr', nodePort: I32 }, required: ['port'],
  },
  ServiceStatus: { go: 'ServiceStatus', openapi: core('ServiceStatus'), fields: { loadBalancer: o('LoadBalancerStatus'), conditions: l(ANY) } },
  LoadBalancerStatus: { go: 'LoadBalancerStatus', openapi: core('LoadBalancerStatus'), fields: { ingress: l(o('LoadBalancerIngress')) } },
  LoadBalancerIngress: { go: 'LoadBalancerIngress', openapi: core('LoadBalancerIngress'), fields: { ip: S, hostname: S, ipMode: S, ports: l(ANY) } },
  Endpoints: { go: 'Endpoints', openapi: core('Endpoints'), fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), subsets: l(o('EndpointSubset')) } },
  EndpointSubset: {
    go: 'EndpointSubset', openapi: core('EndpointSubset'),
    fields: { addresses: l(o('EndpointAddress')), notReadyAddresses: l(o('EndpointAddress')), ports: l(o('EndpointPort')) },
  },
  EndpointAddress: { go: 'EndpointAddress', openapi: core('EndpointAddress'), fields: { ip: S, hostname: S, nodeName: S, targetRef: ANY }, required: ['ip'] },
  EndpointPort: { go: 'EndpointPort', openapi: core('EndpointPort'), fields: { name: S, port: I32, protocol: S, appProtocol: S }, required: ['port'] },
  // ----- apps
  Deployment: {
    go: 'Deployment', openapi: 'io.k8s.api.apps.v1.Deployment',
    fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: o('DeploymentSpec'), status: ANY },
  },
  DeploymentSpec: {
    go: 'DeploymentSpec', openapi: 'io.k8s.api.apps.v1.DeploymentSpec',
    fields: {
      replicas: I32, selector: o('LabelSelector'), template: o('PodTemplateSpec'), strategy: ANY, minReadySeconds: I32,
      revisionHistoryLimit: I32, paused: B, progressDeadlineSeconds: I32,
    },
    required: ['selector', 'template'],
  },
  // ----- discovery
  EndpointSlice: {
    go: 'EndpointSlice', openapi: 'io.k8s.api.discovery.v1.EndpointSlice',
    fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), addressType: S, endpoints: l(o('Endpoint')), ports: l(o('EndpointSlicePort')) },
    required: ['addressType', 'endpoints'],
  },
  Endpoint: {
    go: 'Endpoint', openapi: 'io.k8s.api.discovery.v1.Endpoint',
    fields: { addresses: SL, conditions: o('EndpointConditions'), hostname: S, targetRef: ANY, deprecatedTopology: SMAP, nodeName: S, zone: S, hints: ANY },
    required: ['addresses'],
  },
  EndpointConditions: { go: 'EndpointConditions', openapi: 'io.k8s.api.discovery.v1.EndpointConditions', fields: { ready: B, serving: B, terminating: B } },
  EndpointSlicePort: { go: 'EndpointPort', openapi: 'io.k8s.api.discovery.v1.EndpointPort', fields: { name: S, protocol: S, port: I32, appProtocol: S } },
  // ----- networking
  NetworkPolicy: {
    go: 'NetworkPolicy', openapi: 'io.k8s.api.networking.v1.NetworkPolicy',
    fields: { apiVersion: S, kind: S, metadata: o('ObjectMeta'), spec: o('NetworkPolicySpec'), status: ANY },
  },
  NetworkPolicySpec: {
    go: 'NetworkPolicySpec', openapi: 'io.k8s.api.networking.v1.NetworkPolicySpec',
    fields: { podSelector: o('LabelSelector'), ingress: l(o('NetworkPolicyIngressRule')), egress: l(o('NetworkPolicyEgressRule')), policyTypes: SL },
  },
  NetworkPolicyIngressRule: {
    go: 'NetworkPolicyIngressRule', openapi: 'io.k8s.api.networking.v1.NetworkPolicyIngressRule',
    fields: { ports: l(o('NetworkPolicyPort')), from: l(o('NetworkPolicyPeer')) },
  },
  NetworkPolicyEgressRule: {
    go: 'NetworkPolicyEgressRule', openapi: 'io.k8s.api.networking.v1.NetworkPolicyEgressRule',
    fields: { ports: l(o('NetworkPolicyPort')), to: l(o('NetworkPolicyPeer')) },
  },
  NetworkPolicyPort: { go: 'NetworkPolicyPort', openapi: 'io.k8s.api.networking.v1.NetworkPolicyPort', fields: { protocol: S, port: 'intstr', endPort: I32 } },
  NetworkPolicyPeer: {
    go: 'NetworkPolicyPeer', openapi: 'io.k8s.api.networking.v1.NetworkPolicyPeer',
    fields: { podSelector: o('LabelSelector'), namespaceSelector: o('LabelSelector'), ipBlock: o('IPBlock') },
  },
  IPBlock: { go: 'IPBlock', openapi: 'io.k8s.api.networking.v1.IPBlock', fields: { cidr: S, except: SL }, required: ['cidr'] },
  // ----- kube-proxy's configuration file
  KubeProxyConfiguration: {
    go: 'KubeProxyConfiguration', openapi: 'KubeProxyConfiguration',
    fields: {
      apiVersion: S, kind: S, metadata: ANY, featureGates: ANY, bindAddress: S, healthzBindAddress: S, metricsBindAddress: S,
      bindAddressHardFail: B, enableProfiling: B, showHiddenMetricsForVersion: S, clusterCIDR: S, hostnameOverride: S,
      clientConnection: ANY, iptables: o('KubeProxyIPTablesConfiguration'), ipvs: ANY, nftables: ANY, winkernel: ANY,
      oomScoreAdj: I32, mode: S, portRange: S, conntrack: ANY, configSyncPeriod: S, nodePortAddresses: SL,
      detectLocalMode: S, detectLocal: ANY, logging: ANY, udpIdleTimeout: S, linux: ANY, windows: ANY, syncPeriod: S,
      minSyncPeriod: S,
    },
  },
  KubeProxyIPTablesConfiguration: {
    go: 'KubeProxyIPTablesConfiguration', openapi: 'KubeProxyIPTablesConfiguration',
    fields: { masqueradeBit: I32, masqueradeAll: B, localhostNodePorts: B, syncPeriod: S, minSyncPeriod: S },
  },
};

/** The root schema of each kind the lab decodes. */
export function rootSchemaOf(kind: string): string | null {
  return kind in SCHEMAS && SCHEMAS[kind].fields.kind !== undefined ? kind : null;
}

export interface DecodeProblem {
  kind: 'unknown' | 'type' | 'required';
  /** Dotted path with indexes: `spec.ports[0].foo`. */
  path: string;
  /** Path of the struct holding the field, for kubectl's ValidationError: `spec.ports[0]`. */
  parent: string;
  field: string;
  schema: Schema;
  got?: string;
  expected?: string;
  goType?: string;
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v;
}

/** Whether `v` fits scalar type `t` (what the decoders take for it). */
function scalarOk(t: Scalar, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'int32':
    case 'int64':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'intstr':
      return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
    case 'quantity':
      return typeof v === 'string' || typeof v === 'number';
  }
}

/** What a problem with scalar type `t` says was expected, as JSON and as Go names it. */
function scalarExpected(t: Scalar): { expected: string; goType: string } {
  switch (t) {
    case 'string':
      return { expected: 'string', goType: 'string' };
    case 'int32':
    case 'int64':
      return { expected: 'integer', goType: t };
    case 'number':
      return { expected: 'number', goType: 'float64' };
    case 'bool':
      return { expected: 'boolean', goType: 'bool' };
    case 'intstr':
      return { expected: 'integer', goType: 'intstr.IntOrString' };
    case 'quantity':
      return { expected: 'string', goType: 'resource.Quantity' };
  }
}

/** Walks `obj` against the kind's schema; problems come out in document order. */
export function decodeProblems(kind: string, obj: Record<string, unknown>): DecodeProblem[] {
  const out: DecodeProblem[] = [];
  const root = SCHEMAS[kind];
  if (root) walkObject(root, obj, '', out);
  return out;
}

function join(parent: string, field: string): string {
  return parent ? `${parent}.${field}` : field;
}

/** A value's path: member `key` of `base`, or item `index` of it (index >= 0). Made only when
 *  a problem is reported or a container is walked into: most values are scalars that fit. */
function pathOf(base: string, key: string, index: number): string {
  return index >= 0 ? `${base}[${index}]` : join(base, key);
}

function walkObject(schema: Schema, obj: Record<string, unknown>, path: string, out: DecodeProblem[]): void {
  for (const k of Object.keys(obj)) {
    const t = schema.fields[k];
    if (t === undefined) {
      out.push({ kind: 'unknown', path: join(path, k), parent: path, field: k, schema });
      continue;
    }
    const v = obj[k];
    if (v === null) continue; // null is "unset" for every field type
    walkValue(t, v, path, k, -1, path, k, schema, out);
  }
  for (const r of schema.required ?? []) {
    if (obj[r] === undefined) out.push({ kind: 'required', path: join(path, r), parent: path, field: r, schema });
  }
}

/** Value `v` (at pathOf(base, key, index)) against type `t`; `parent` and `field` name the
 *  struct field it belongs to (for a list item, the list's). */
function walkValue(t: FieldType, v: unknown, base: string, key: string, index: number, parent: string, field: string, schema: Schema, out: DecodeProblem[]): void {
  if (t === 'any') return;
  if (typeof t === 'string' && t !== 'strmap') {
    if (!scalarOk(t, v)) out.push({ kind: 'type', path: pathOf(base, key, index), parent, field, schema, got: jsonTypeOf(v), ...scalarExpected(t) });
    return;
  }
  const path = pathOf(base, key, index);
  if (t === 'strmap' || 'map' in t) {
    if (!isObject(v)) {
      out.push({ kind: 'type', path, parent, field, schema, got: jsonTypeOf(v), expected: 'object', goType: 'map[string]string' });
      return;
    }
    const inner: FieldType = t === 'strmap' ? 'string' : t.map;
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x !== null) walkValue(inner, x, path, k, -1, path, k, schema, out);
    }
    return;
  }
  if ('list' in t) {
    if (!Array.isArray(v)) {
      out.push({ kind: 'type', path, parent, field, schema, got: jsonTypeOf(v), expected: 'array', goType: '[]' + goNameOf(t.list) });
      return;
    }
    for (let i = 0; i < v.length; i++) if (v[i] !== null) walkValue(t.list, v[i], path, '', i, parent, field, schema, out);
    return;
  }
  const s = SCHEMAS[t.obj];
  if (!isObject(v)) {
    out.push({ kind: 'type', path, parent, field, schema, got: jsonTypeOf(v), expected: 'object', goType: s.go });
    return;
  }
  walkObject(s, v, path, out);
}

function goNameOf(t: FieldType): string {
  if (typeof t === 'string') return t === 'strmap' ? 'map[string]string' : t === 'bool' ? 'bool' : t === 'any' ? 'interface {}' : t;
  if ('obj' in t) return 'v1.' + SCHEMAS[t.obj].go;
  if ('list' in t) return '[]' + goNameOf(t.list);
  return 'map[string]' + goNameOf(t.map);
}

/** `Service.spec.ports[0]` (kubectl's ValidationError path: kind, then the JSON path). */
function validationPath(kind: string, parent: string): string {
  return parent ? `${kind}.${parent}` : kind;
}

/**
 * kubectl's client-side OpenAPI validation message (clusters before v1.25), or null.
 * Required fields are only checked this way: the server's strict decoder ignores them.
 */
export function clientValidationError(kind: string, problems: DecodeProblem[], source: string): string | null {
  if (!problems.length) return null;
  const msgs = problems.map((p) => {
    const at = `ValidationError(${validationPath(kind, p.kind === 'type' ? p.path : p.parent)})`;
    if (p.kind === 'unknown') return `${at}: unknown field "${p.field}" in ${p.schema.openapi}`;
    if (p.kind === 'required') return `${at}: missing required field "${p.field}" in ${p.schema.openapi}`;
    return `${at}: invalid type for ${p.schema.openapi}.${p.field}: got "${p.got}", expected "${p.expected}"`;
  });
  const body = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  return `error validating "${source}": error validating data: ${body}; if you choose to ignore these errors, turn validation off with --validate=false`;
}

/** Strips `[n]` indexes: Go's json names a struct field by its path without them. */
function goPath(path: string): string {
  return path.replace(/\[\d+\]/g, '');
}

/**
 * The API server's strict decoding message (v1.25+), or null: type errors win (the JSON decoder
 * fails first), then every unknown field.
 */
export function strictDecodingError(kind: string, apiVersion: string, problems: DecodeProblem[]): string | null {
  const type = problems.find((p) => p.kind === 'type');
  const lead = `${kind} in version "${versionOf(apiVersion)}" cannot be handled as a ${kind}: `;
  if (type) {
    const got = type.got === 'integer' ? 'number' : type.got;
    return lead + `json: cannot unmarshal ${got} into Go struct field ${type.schema.go}.${goPath(type.path)} of type ${type.goType}`;
  }
  const unknown = problems.filter((p) => p.kind === 'unknown');
  if (!unknown.length) return null;
  return lead + 'strict decoding error: ' + unknown.map((p) => `unknown field "${p.path}"`).join(', ');
}

function versionOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}
