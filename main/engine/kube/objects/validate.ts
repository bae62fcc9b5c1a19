// API-server validation (pkg/apis/core/validation and friends) for the kinds the lab stores, with
// the field errors worded as the server words them, and kubectl's rendering of an Invalid status:
// `The Service "webapp" is invalid: spec.ports[0].nodePort: Invalid value: 31380: ...`.
// `minor` is the cluster's minor version where a message changed between releases.

import { parseIPv4, parsePrefix } from '../../net/ipv4.ts';
import type { Container, Deployment, EndpointSlice, Endpoints, KubeObject, NetworkPolicy, Pod, PodSpec, Service } from './types.ts';
import { fromLabelSelector, matches } from './selector.ts';
import { deepEqual, isObject } from './types.ts';

export type FieldErrorType = 'Invalid value' | 'Required value' | 'Unsupported value' | 'Duplicate value' | 'Forbidden' | 'Not found' | 'Too long';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** Already in Go's `%v`/`%q`/`%#v` form (see goValue). */
  value?: string;
  detail?: string;
}

/** A bad value the way field.Error prints it: numbers and bools bare, strings quoted. */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  if (isObject(v) && Object.values(v).every((x) => typeof x === 'string')) return goStringMap(v as Record<string, string>);
  return JSON.stringify(v);
}

/** Go's `%#v` of a map[string]string. */
export function goStringMap(m: Record<string, string> | undefined): string {
  if (!m) return 'map[string]string(nil)';
  return 'map[string]string{' + Object.keys(m).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ') + '}';
}

export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'Invalid value', field, value: goValue(value), detail });
export const required = (field: string, detail?: string): FieldError => ({ type: 'Required value', field, detail });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'Duplicate value', field, value: goValue(value) });
export const unsupported = (field: string, value: unknown, allowed: string[]): FieldError => ({
  type: 'Unsupported value',
  field,
  value: goValue(value),
  detail: 'supported values: ' + allowed.map((a) => JSON.stringify(a)).join(', '),
});

/** field.Error.ErrorBody(), prefixed with the field path. */
export function formatFieldError(e: FieldError): string {
  let s = e.type;
  if (e.type !== 'Required value' && e.type !== 'Forbidden' && e.value !== undefined) s += `: ${e.value}`;
  if (e.detail) s += `: ${e.detail}`;
  return `${e.field}: ${s}`;
}

/** kubectl's message for an Invalid status (one error on the line, several as a list). */
export function formatInvalid(kind: string, name: string, errs: FieldError[]): string {
  const head = `The ${kind} ${JSON.stringify(name)} is invalid: `;
  if (errs.length === 1) return head + formatFieldError(errs[0]);
  return head + '\n' + errs.map((e) => `* ${formatFieldError(e)}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Names and labels (k8s.io/apimachinery/pkg/util/validation)

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const MSG_1123_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_1123_SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const MSG_1035_LABEL = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MSG_QUALIFIED = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

type NameRule = 'label' | 'subdomain' | 'dns1035';

function nameErrors(name: unknown, rule: NameRule, path = 'metadata.name'): FieldError[] {
  if (typeof name !== 'string' || name === '') return [required(path, 'name or generateName is required')];
  const out: FieldError[] = [];
  const [re, msg, max] =
    rule === 'label' ? [DNS1123_LABEL, MSG_1123_LABEL, 63] : rule === 'dns1035' ? [DNS1035_LABEL, MSG_1035_LABEL, 63] : [DNS1123_SUBDOMAIN, MSG_1123_SUBDOMAIN, 253];
  if (name.length > max) out.push(invalid(path, name, `must be no more than ${max} characters`));
  if (!re.test(name)) out.push(invalid(path, name, msg));
  return out;
}

function labelErrors(labels: unknown, path: string): FieldError[] {
  if (!isObject(labels)) return [];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.indexOf('/');
    const namePart = slash >= 0 ? k.slice(slash + 1) : k;
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    if (prefix && !DNS1123_SUBDOMAIN.test(prefix)) out.push(invalid(path, k, 'prefix part ' + MSG_1123_SUBDOMAIN));
    if (!QUALIFIED_NAME.test(namePart) || namePart.length > 63) out.push(invalid(path, k, MSG_QUALIFIED));
    if (typeof v === 'string' && (!LABEL_VALUE.test(v) || v.length > 63)) out.push(invalid(path, v, MSG_LABEL_VALUE));
  }
  return out;
}

function metaErrors(obj: KubeObject, rule: NameRule): FieldError[] {
  return [...nameErrors(obj.metadata?.name, rule), ...labelErrors(obj.metadata?.labels, 'metadata.labels')];
}

const isIP = (s: unknown): s is string => typeof s === 'string' && parseIPv4(s) !== null;
const MSG_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function portNumberErrors(v: unknown, path: string): FieldError[] {
  if (typeof v !== 'number' || v < 1 || v > 65535) return [invalid(path, v ?? 0, 'must be between 1 and 65535, inclusive')];
  return [];
}

/** validation.IsValidPortName, for named targetPorts and container port names. */
function portNameErrors(name: string, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (name.length > 15) out.push(invalid(path, name, 'must be no more than 15 characters'));
  if (!/^[-a-z0-9]+$/.test(name)) out.push(invalid(path, name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
  else if (!/[a-z]/.test(name)) out.push(invalid(path, name, 'must contain at least one letter (a-z)'));
  else if (name.includes('--')) out.push(invalid(path, name, "must not contain consecutive hyphens"));
  else if (name.startsWith('-') || name.endsWith('-')) out.push(invalid(path, name, 'must not begin or end with a hyphen'));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pods

function containerErrors(c: Container, path: string, names: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  if (!c.name) out.push(required(`${path}.name`));
  else {
    if (!DNS1123_LABEL.test(c.name)) out.push(invalid(`${path}.name`, c.name, MSG_1123_LABEL));
    if (names.has(c.name)) out.push(duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (!c.image) out.push(required(`${path}.image`));
  (c.ports ?? []).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    out.push(...portNumberErrors(p.containerPort, `${pp}.containerPort`));
    if (p.name) out.push(...portNameErrors(p.name, `${pp}.name`));
    if (p.protocol && !PROTOCOLS.includes(p.protocol)) out.push(unsupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
  });
  return out;
}

export function podSpecErrors(spec: PodSpec | undefined, path: string): FieldError[] {
  if (!spec) return [required(path)];
  const out: FieldError[] = [];
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) out.push(required(`${path}.containers`));
  else spec.containers.forEach((c, i) => out.push(...containerErrors(c, `${path}.containers[${i}]`, names)));
  (spec.initContainers ?? []).forEach((c, i) => out.push(...containerErrors(c, `${path}.initContainers[${i}]`, names)));
  const rp = spec.restartPolicy;
  if (rp && !['Always', 'OnFailure', 'Never'].includes(rp)) out.push(unsupported(`${path}.restartPolicy`, rp, ['Always', 'OnFailure', 'Never']));
  return out;
}

function podErrors(pod: Pod): FieldError[] {
  return [...metaErrors(pod, 'subdomain'), ...podSpecErrors(pod.spec, 'spec')];
}

// ---------------------------------------------------------------------------------------------
// Deployments

function deploymentErrors(d: Deployment): FieldError[] {
  const out = metaErrors(d, 'subdomain');
  const s = d.spec;
  if (!s) return [...out, required('spec')];
  if (typeof s.replicas === 'number' && s.replicas < 0) out.push(invalid('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  const sel = s.selector;
  if (!sel) out.push(required('spec.selector'));
  else if (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) {
    out.push(invalid('spec.selector', 'v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}', 'empty selector is invalid for deployment'));
  }
  const labels = s.template?.metadata?.labels;
  if (sel && !matches(fromLabelSelector(sel), labels as Record<string, string> | undefined)) {
    out.push({ type: 'Invalid value', field: 'spec.template.metadata.labels', value: goStringMap(labels as Record<string, string> | undefined), detail: '`selector` does not match template `labels`' });
  }
  out.push(...labelErrors(labels, 'spec.template.metadata.labels'));
  out.push(...podSpecErrors(s.template?.spec, 'spec.template.spec'));
  const rp = s.template?.spec?.restartPolicy;
  if (rp && rp !== 'Always') out.push(unsupported('spec.template.spec.restartPolicy', rp, ['Always']));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Services

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function serviceErrors(svc: Service, minor: number): FieldError[] {
  const out = metaErrors(svc, 'dns1035');
  const s = svc.spec;
  if (!s) return [...out, required('spec')];
  const type = s.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) out.push(unsupported('spec.type', type, SERVICE_TYPES));
  const headless = s.clusterIP === 'None';
  const ports = s.ports ?? [];
  if (type === 'ExternalName') {
    if (!s.externalName) out.push(required('spec.externalName'));
    else if (!DNS1123_SUBDOMAIN.test(s.externalName.replace(/\.$/, ''))) out.push(invalid('spec.externalName', s.externalName, MSG_1123_SUBDOMAIN));
  } else if (!ports.length && !headless) {
    out.push(required('spec.ports'));
  }
  if (s.clusterIP !== undefined && s.clusterIP !== '' && !headless && !isIP(s.clusterIP)) {
    out.push(invalid(minor >= 20 ? 'spec.clusterIPs[0]' : 'spec.clusterIP', s.clusterIP, minor >= 20 ? MSG_IP : "must be empty, 'None', or a valid IP address"));
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    out.push(invalid('spec.clusterIP', 'None', `may not be set to 'None' for ${type} services`));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) out.push(required(`${pp}.name`));
    if (p.name) {
      if (!DNS1123_LABEL.test(p.name)) out.push(invalid(`${pp}.name`, p.name, MSG_1123_LABEL));
      if (names.has(p.name)) out.push(duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    out.push(...portNumberErrors(p.port, `${pp}.port`));
    const proto = p.protocol ?? 'TCP';
    if (!PROTOCOLS.includes(proto)) out.push(unsupported(`${pp}.protocol`, proto, PROTOCOLS));
    if (typeof p.targetPort === 'number') out.push(...portNumberErrors(p.targetPort, `${pp}.targetPort`));
    else if (typeof p.targetPort === 'string') out.push(...portNameErrors(p.targetPort, `${pp}.targetPort`));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') out.push(forbidden(`${pp}.nodePort`, `may not be used when \`type\` is '${type}'`));
      else out.push(...portNumberErrors(p.nodePort, `${pp}.nodePort`));
    }
    const key = `${p.port}/${proto}`;
    if (seen.has(key)) out.push({ type: 'Duplicate value', field: pp, value: `core.ServicePort{Name:${JSON.stringify(p.name ?? '')}, Protocol:${JSON.stringify(proto)}, AppProtocol:(*string)(nil), Port:${p.port}, TargetPort:intstr.IntOrString{Type:${typeof p.targetPort === 'string' ? 1 : 0}, IntVal:${typeof p.targetPort === 'number' ? p.targetPort : 0}, StrVal:${JSON.stringify(typeof p.targetPort === 'string' ? p.targetPort : '')}}, NodePort:${p.nodePort ?? 0}}` });
    seen.add(key);
  });
  const etp = s.externalTrafficPolicy;
  if (etp) {
    const external = type === 'NodePort' || type === 'LoadBalancer';
    if (!external && !(minor >= 24 && (s.externalIPs ?? []).length)) {
      out.push(invalid('spec.externalTrafficPolicy', etp, minor >= 24 ? 'may only be set for externally-accessible services' : 'ExternalTrafficPolicy can only be set on NodePort and LoadBalancer service'));
    } else if (etp !== 'Cluster' && etp !== 'Local') out.push(unsupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  }
  const itp = s.internalTrafficPolicy;
  if (itp && itp !== 'Cluster' && itp !== 'Local') out.push(unsupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  if (s.healthCheckNodePort && !(type === 'LoadBalancer' && etp === 'Local')) {
    out.push(invalid('spec.healthCheckNodePort', s.healthCheckNodePort, 'HealthCheckNodePort can only be set on LoadBalancer service with ExternalTrafficPolicy=Local'));
  }
  const sa = s.sessionAffinity;
  if (sa && sa !== 'None' && sa !== 'ClientIP') out.push(unsupported('spec.sessionAffinity', sa, ['ClientIP', 'None']));
  const t = s.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (t !== undefined && (t <= 0 || t > 86400)) out.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400'));
  (s.externalIPs ?? []).forEach((ip, i) => {
    if (!isIP(ip)) out.push(invalid(`spec.externalIPs[${i}]`, ip, MSG_IP));
  });
  (s.loadBalancerSourceRanges ?? []).forEach((r, i) => {
    if (parsePrefix(r.trim()) === null || !r.includes('/')) out.push(invalid(`spec.loadBalancerSourceRanges[${i}]`, r, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '));
  });
  if (s.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer' && minor >= 20) {
    out.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Endpoints, EndpointSlices, NetworkPolicies

function endpointsErrors(ep: Endpoints): FieldError[] {
  const out = metaErrors(ep, 'subdomain');
  (ep.subsets ?? []).forEach((ss, i) => {
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      (ss[list] ?? []).forEach((a, j) => {
        if (!isIP(a.ip)) out.push(invalid(`subsets[${i}].${list}[${j}].ip`, a.ip ?? '', MSG_IP));
      });
    }
    (ss.ports ?? []).forEach((p, j) => {
      out.push(...portNumberErrors(p.port, `subsets[${i}].ports[${j}].port`));
      if (p.protocol && !PROTOCOLS.includes(p.protocol)) out.push(unsupported(`subsets[${i}].ports[${j}].protocol`, p.protocol, PROTOCOLS));
    });
  });
  return out;
}

function endpointSliceErrors(es: EndpointSlice): FieldError[] {
  const out = metaErrors(es, 'subdomain');
  const types = ['FQDN', 'IPv4', 'IPv6'];
  if (!es.addressType) out.push(required('addressType'));
  else if (!types.includes(es.addressType)) out.push(unsupported('addressType', es.addressType, types));
  (es.endpoints ?? []).forEach((e, i) => {
    if (!e.addresses?.length) out.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    (e.addresses ?? []).forEach((a, j) => {
      if (es.addressType === 'IPv4' && !isIP(a)) out.push(invalid(`endpoints[${i}].addresses[${j}]`, a, MSG_IP));
    });
  });
  (es.ports ?? []).forEach((p, i) => {
    if (p.port !== undefined) out.push(...portNumberErrors(p.port, `ports[${i}].port`));
  });
  return out;
}

function networkPolicyErrors(np: NetworkPolicy): FieldError[] {
  const out = metaErrors(np, 'subdomain');
  const s = np.spec;
  if (!s) return out;
  const types = s.policyTypes ?? [];
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') out.push(unsupported(`spec.policyTypes[${i}]`, t, ['Egress', 'Ingress']));
  });
  const peers = (rules: { from?: unknown[]; to?: unknown[] }[] | undefined, dir: 'ingress' | 'egress', key: 'from' | 'to') => {
    (rules ?? []).forEach((r, i) => {
      ((r[key] ?? []) as Record<string, unknown>[]).forEach((p, j) => {
        const ib = p.ipBlock as { cidr?: string } | undefined;
        if (ib && (typeof ib.cidr !== 'string' || !ib.cidr.includes('/') || parsePrefix(ib.cidr) === null)) {
          out.push(invalid(`spec.${dir}[${i}].${key}[${j}].ipBlock.cidr`, ib.cidr ?? '', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
        }
      });
    });
  };
  peers(s.ingress, 'ingress', 'from');
  peers(s.egress, 'egress', 'to');
  return out;
}

/** Validation on create (and the parts of it that also hold on update). */
export function validateObject(obj: KubeObject, minor: number): FieldError[] {
  switch (obj.kind) {
    case 'Namespace':
      return metaErrors(obj, 'label');
    case 'Node':
      return metaErrors(obj, 'subdomain');
    case 'Pod':
      return podErrors(obj);
    case 'Deployment':
      return deploymentErrors(obj);
    case 'Service':
      return serviceErrors(obj, minor);
    case 'Endpoints':
      return endpointsErrors(obj);
    case 'EndpointSlice':
      return endpointSliceErrors(obj);
    case 'NetworkPolicy':
      return networkPolicyErrors(obj);
    default:
      return [];
  }
}

const same = deepEqual;

/** The immutable-field checks of an update (`old` is the stored object, `obj` the new one). */
export function validateUpdate(obj: KubeObject, old: KubeObject, minor: number): FieldError[] {
  const out: FieldError[] = [];
  if (obj.kind === 'Service' && old.kind === 'Service') {
    const was = old.spec.clusterIP ?? '';
    const now = obj.spec.clusterIP ?? '';
    if (old.spec.type !== 'ExternalName' && obj.spec.type !== 'ExternalName' && was !== '' && now !== was) {
      if (minor >= 20) out.push({ type: 'Invalid value', field: 'spec.clusterIPs[0]', value: goValue(obj.spec.clusterIPs ?? [now]), detail: 'may not change once set' });
      else out.push(invalid('spec.clusterIP', now, 'field is immutable'));
    }
  }
  if (obj.kind === 'Deployment' && old.kind === 'Deployment' && !same(obj.spec.selector, old.spec.selector)) {
    const ml = goStringMap(obj.spec.selector?.matchLabels);
    out.push({ type: 'Invalid value', field: 'spec.selector', value: `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`, detail: 'field is immutable' });
  }
  if (obj.kind === 'EndpointSlice' && old.kind === 'EndpointSlice' && obj.addressType !== old.addressType) {
    out.push(invalid('addressType', obj.addressType, 'field is immutable'));
  }
  if (obj.kind === 'Pod' && old.kind === 'Pod') {
    const strip = (s: PodSpec) => {
      const c = JSON.parse(JSON.stringify(s)) as PodSpec;
      for (const x of [...c.containers, ...(c.initContainers ?? [])]) delete x.image;
      delete c.activeDeadlineSeconds;
      delete c.tolerations;
      delete c.terminationGracePeriodSeconds;
      delete c.nodeName;
      return c;
    };
    if (!same(strip(obj.spec), strip(old.spec))) {
      out.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
    }
  }
  return out;
}
