// Turning the input objects into what kube-proxy's service and endpoint caches hold: the
// IPv4 service ports it proxies (headless and ExternalName services are skipped), canonical
// addresses (kube-proxy parses "sloppy" IPs such as 172.30.0.041), endpoints deduplicated and
// sorted by their "ip:port" string as the EndpointSlice cache sorts them, and the small
// formatting helpers both layouts share (mark text, probabilities, the local-traffic detector).

import { formatIPv4, inPrefix, maskOf, type IPv4, type Prefix } from '../../net/ipv4.ts';
import { portProtoHash, sepChain, servicePortNameString } from './hash.ts';
import type { EndpointSource, ServiceRef } from './origin.ts';
import type { Endpoint, Layout, NodeInfo, ProxyConfig, ServicePort } from './model.ts';

/** An endpoint as the proxier sees it; it is also the EndpointRef origins point at. */
export interface EndpointInfo extends EndpointSource {
  /** "ip:port" — the DNAT target and the KUBE-SEP hash suffix. */
  readonly str: string;
  /** This endpoint's KUBE-SEP chain for this service port. */
  readonly sep: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
}

export interface PortInfo {
  ref: ServiceRef;
  /** Suffix shared by KUBE-SVC/SVL/EXT/FW/XLB. */
  hash: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  nodePort: number;
  clusterIP: string;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** As written after `-s` in KUBE-FW (current: canonical network; legacy: the trimmed text). */
  sourceRanges: string[];
  sourcePrefixes: Prefix[];
  /** Legacy: eTP=Local on a NodePort/LoadBalancer service (KUBE-XLB). */
  onlyNodeLocalEndpoints: boolean;
  /** Current: eTP=Local on an externally accessible service. */
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  clientIPAffinity: boolean;
  stickySeconds: number;
  healthCheckNodePort: number;
  endpoints: EndpointInfo[];
}

/**
 * Go's net.ParseIP through k8s.io/utils ParseIPSloppy: leading zeros are decimal. A
 * hand-rolled loop (no regex, no split) because it runs once per endpoint.
 */
export function parseIPv4Sloppy(s: string): IPv4 | null {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 32) start++;
  while (end > start && s.charCodeAt(end - 1) <= 32) end--;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return null;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return null;
  }
  if (digits === 0 || dots !== 3) return null;
  return (n * 256 + part) >>> 0;
}

/** ParseCIDRSloppy: "203.0.113.000/025" is 203.0.113.0/25. Host bits are kept in `addr`. */
export function parseCIDRSloppy(s: string): Prefix | null {
  const t = s.trim();
  const slash = t.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIPv4Sloppy(t.slice(0, slash));
  const lenText = t.slice(slash + 1);
  if (addr === null || !/^[0-9]{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  return len > 32 ? null : { addr, len };
}

/** The network form Go's (*net.IPNet).String() prints. */
export function cidrString(p: Prefix): string {
  return `${formatIPv4((p.addr & maskOf(p.len)) >>> 0)}/${p.len}`;
}

/** The masquerade mark as kube-proxy formats 1<<bit: Go's %#08x ("0x00004000"). */
export function goMark(bit: number): string {
  return `0x${((1 << bit) >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Go's fmt %0.10f of 1/n. JavaScript's toFixed rounds exact ties up while Go rounds them to
 * even; among 1/n the only exact tie at ten decimals is 1/2048 = 0.00048828125.
 */
export function probability(n: number): string {
  const x = 1 / n;
  const scaled = x * 2048;
  if (Number.isInteger(scaled) && scaled % 2 === 1) {
    const eleven = x.toFixed(11); // exact: x = k/2048 has 11 decimals
    const digits = eleven.slice(0, -1);
    const lastKept = Number(digits[digits.length - 1]);
    if (lastKept % 2 === 0) return digits;
    return (Number(digits) + 1e-10).toFixed(10);
  }
  return x.toFixed(10);
}

const probCache: string[] = [];
export function cachedProbability(n: number): string {
  let p = probCache[n];
  if (p === undefined) {
    p = probability(n);
    probCache[n] = p;
  }
  return p;
}

const jumpCache: string[] = [];
/** "-m statistic --mode random --probability P -j " for the i-th of n endpoints (P = 1/n). */
export function statisticJump(n: number): string {
  let s = jumpCache[n];
  if (s === undefined) {
    s = `-m statistic --mode random --probability ${probability(n)} -j `;
    jumpCache[n] = s;
  }
  return s;
}

export interface LocalDetector {
  /** Words that match pod traffic, e.g. "-s 10.244.0.0/16". */
  ifLocal: string;
  /** Words that match non-pod traffic, e.g. "! -s 10.244.0.0/16". */
  ifNotLocal: string;
  setting: string;
}

/** proxyutil local-traffic detectors; null when none is configured (NoOp). */
export function localDetector(config: ProxyConfig, node: NodeInfo, layout: Layout): LocalDetector | null {
  const mode = config.detectLocalMode || 'ClusterCIDR';
  if (mode === 'ClusterCIDR' || layout === 'legacy') {
    // Dual-stack configs list one CIDR per family; the IPv4 proxier uses the IPv4 one.
    const cidr = (config.clusterCIDR ?? '')
      .split(',')
      .map((c) => c.trim())
      .find((c) => parseCIDRSloppy(c) !== null);
    return cidr ? { ifLocal: `-s ${cidr}`, ifNotLocal: `! -s ${cidr}`, setting: 'clusterCIDR' } : null;
  }
  if (mode === 'NodeCIDR') {
    const cidr = node.podCIDR?.trim();
    return cidr && parseCIDRSloppy(cidr) ? { ifLocal: `-s ${cidr}`, ifNotLocal: `! -s ${cidr}`, setting: 'detectLocalMode: NodeCIDR' } : null;
  }
  if (mode === 'BridgeInterface') {
    const br = config.detectLocal?.bridgeInterface;
    return br ? { ifLocal: `-i ${br}`, ifNotLocal: `! -i ${br}`, setting: 'detectLocal.bridgeInterface' } : null;
  }
  const prefix = config.detectLocal?.interfaceNamePrefix;
  return prefix ? { ifLocal: `-i ${prefix}+`, ifNotLocal: `! -i ${prefix}+`, setting: 'detectLocal.interfaceNamePrefix' } : null;
}

/** The node's first IPv4 address (kube-proxy's nodeIP), if any. */
export function nodeIPv4(node: NodeInfo): IPv4 | null {
  for (const ip of node.ips) {
    const a = parseIPv4Sloppy(ip);
    if (a !== null) return a;
  }
  return null;
}

function canonicalIPs(list: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const s of list ?? []) {
    const ip = canonicalIPv4(s);
    if (ip !== null) out.push(ip);
  }
  return out;
}

function protocolOf(p: ServicePort['protocol']): PortInfo['protocol'] {
  return p === 'UDP' ? 'udp' : p === 'SCTP' ? 'sctp' : 'tcp';
}

const NO_HINTS: readonly string[] = [];

/** The canonical dotted quad: the input itself when it already is one (the common case). */
function canonicalIPv4(s: string): string | null {
  // Canonical means: only digits and three dots, no part with a leading zero.
  const n = s.length;
  let canonical = n >= 7 && n <= 15;
  for (let i = 0; canonical && i < n; i++) {
    const c = s.charCodeAt(i);
    if (c !== 46 && (c < 48 || c > 57)) canonical = false;
    else if (c === 48 && (i === 0 || s.charCodeAt(i - 1) === 46) && i + 1 < n && s.charCodeAt(i + 1) !== 46) canonical = false;
  }
  const a = parseIPv4Sloppy(s);
  if (a === null) return null;
  return canonical ? s : formatIPv4(a);
}

/** What every node's kube-proxy makes alike of one endpoint: its canonical address, "ip:port"
 *  and KUBE-SEP chain for the service port (ip null: not an IPv4 endpoint), for `raw`. */
interface Named {
  raw: Endpoint;
  rawIp: string;
  rawPort: number;
  ip: string | null;
  str: string;
  sep: string;
}

/** Per endpoint list (a ServicePort's) and service port ("ns/name:port\0proto"), its endpoints
 *  named once for all the nodes: hashing the names was most of the work here. */
const namedLists = new WeakMap<readonly Endpoint[], { port: string; named: Named[] }>();

function namedList(eps: readonly Endpoint[], service: ServiceRef): Named[] {
  const port = service.servicePortName + '\0' + service.protocol;
  let list = namedLists.get(eps);
  if (!list || list.port !== port) namedLists.set(eps, (list = { port, named: [] }));
  return list.named;
}

function nameOf(list: Named[], k: number, ep: Endpoint, service: ServiceRef): Named {
  const n = list[k];
  // (kept while the endpoint is the same, unchanged)
  if (n !== undefined && n.raw === ep && n.rawIp === ep.ip && n.rawPort === ep.port) return n;
  const ip = Number.isInteger(ep.port) && ep.port > 0 && ep.port <= 65535 ? canonicalIPv4(ep.ip) : null;
  const str = ip === null ? '' : ip + ':' + ep.port;
  return (list[k] = { raw: ep, rawIp: ep.ip, rawPort: ep.port, ip, str, sep: ip === null ? '' : sepChain(service.servicePortName, service.protocol, str) });
}

/**
 * Endpoints as the EndpointSlice cache hands them to the proxier: IPv4 only, one per "ip:port"
 * (the last one wins), sorted by that string. The legacy (v1.19) cache also drops endpoints
 * whose ready condition is false.
 */
function endpointInfos(eps: readonly Endpoint[], node: NodeInfo, layout: Layout, service: ServiceRef): EndpointInfo[] {
  const out: EndpointInfo[] = [];
  const names = namedList(eps, service);
  for (let k = 0; k < eps.length; k++) {
    const ep = eps[k];
    const { ip, str, sep } = nameOf(names, k, ep, service);
    if (ip === null) continue;
    const ready = ep.ready !== false;
    if (layout === 'legacy' && !ready) continue;
    out.push({
      ip,
      port: ep.port,
      nodeName: ep.nodeName,
      local: ep.nodeName !== undefined && ep.nodeName !== '' && ep.nodeName === node.name,
      str,
      sep,
      service,
      ready,
      serving: ep.serving !== false,
      terminating: ep.terminating === true,
      zoneHints: ep.zoneHints ?? NO_HINTS,
      nodeHints: ep.nodeHints ?? NO_HINTS,
    });
  }
  // Stable sort (by insertion: a port has a few endpoints, and the general sort's bookkeeping
  // cost more than the sorting), then keep the last of equal "ip:port" entries.
  if (out.length > 32) out.sort((x, y) => (x.str < y.str ? -1 : x.str > y.str ? 1 : 0));
  else {
    for (let i = 1; i < out.length; i++) {
      const e = out[i];
      let j = i;
      for (; j > 0 && out[j - 1].str > e.str; j--) out[j] = out[j - 1];
      out[j] = e;
    }
  }
  let w = 0;
  for (let i = 0; i < out.length; i++) {
    if (i + 1 < out.length && out[i + 1].str === out[i].str) continue;
    out[w++] = out[i];
  }
  out.length = w;
  return out;
}

function isExternallyAccessibleType(sp: ServicePort): boolean {
  return sp.type === 'LoadBalancer' || sp.type === 'NodePort' || (sp.type === 'ClusterIP' && (sp.externalIPs?.length ?? 0) > 0);
}

/** Per ServicePort, its name as origins point at it and its chains' hash: the same on every node. */
const portRefs = new WeakMap<ServicePort, { ref: ServiceRef; hash: string }>();

function portRefOf(sp: ServicePort, protocol: PortInfo['protocol']): { ref: ServiceRef; hash: string } {
  const portName = sp.portName ?? '';
  const known = portRefs.get(sp);
  // (kept while the port keeps its name)
  if (known && known.ref.namespace === sp.namespace && known.ref.name === sp.name && known.ref.portName === portName && known.ref.protocol === protocol) return known;
  const servicePortName = servicePortNameString(sp.namespace, sp.name, portName);
  const made = { ref: { namespace: sp.namespace, name: sp.name, portName, servicePortName, protocol }, hash: portProtoHash(servicePortName, protocol) };
  portRefs.set(sp, made);
  return made;
}

/** The cluster IP kube-proxy serves a port on (null: headless, none, or not IPv4). */
export function serviceClusterIP(sp: ServicePort, layout: Layout): IPv4 | null {
  const text = layout === 'legacy' ? sp.clusterIPs[0] : sp.clusterIPs.find((c) => parseIPv4Sloppy(c) !== null);
  if (!text || text === 'None') return null;
  return parseIPv4Sloppy(text);
}

/** Load-balancer ingress: IPs only; the current proxier skips ipMode Proxy. */
export function loadBalancerIPs(sp: ServicePort, layout: Layout): string[] {
  const out: string[] = [];
  for (const ing of sp.loadBalancerIngress ?? []) {
    const o = typeof ing === 'string' ? { ip: ing } : ing;
    if (!o.ip) continue;
    if (layout === 'current' && o.ipMode === 'Proxy') continue;
    const a = parseIPv4Sloppy(o.ip);
    if (a !== null) out.push(formatIPv4(a));
  }
  return out;
}

/** The service ports kube-proxy proxies, sorted by "ns/name:port" then protocol. */
export function normalizeServices(services: readonly ServicePort[], node: NodeInfo, layout: Layout): PortInfo[] {
  const out: PortInfo[] = [];
  for (const sp of services) {
    if (sp.type === 'ExternalName') continue;
    const clusterIP = serviceClusterIP(sp, layout);
    if (clusterIP === null) continue;
    const protocol = protocolOf(sp.protocol);
    const { ref, hash } = portRefOf(sp, protocol);

    const lbIPs = loadBalancerIPs(sp, layout);

    const sourceRanges: string[] = [];
    const sourcePrefixes: Prefix[] = [];
    for (const raw of sp.loadBalancerSourceRanges ?? []) {
      const p = parseCIDRSloppy(raw);
      if (!p) continue;
      sourcePrefixes.push(p);
      sourceRanges.push(layout === 'legacy' ? raw.trim() : cidrString(p));
    }
    // Current: a zero-length range means "allow all", the same as no ranges at all.
    if (layout === 'current' && sourcePrefixes.some((p) => p.len === 0)) {
      sourceRanges.length = 0;
      sourcePrefixes.length = 0;
    }

    const etpLocal = sp.externalTrafficPolicy === 'Local';
    const externalPolicyLocal = etpLocal && isExternallyAccessibleType(sp);
    const clientIPAffinity = sp.sessionAffinity === 'ClientIP';
    out.push({
      ref,
      hash,
      protocol,
      port: sp.port,
      nodePort: sp.nodePort ?? 0,
      clusterIP: formatIPv4(clusterIP),
      externalIPs: canonicalIPs(sp.externalIPs),
      loadBalancerIPs: lbIPs,
      sourceRanges,
      sourcePrefixes,
      onlyNodeLocalEndpoints: etpLocal && (sp.type === 'NodePort' || sp.type === 'LoadBalancer'),
      externalPolicyLocal,
      internalPolicyLocal: sp.internalTrafficPolicy === 'Local',
      clientIPAffinity,
      stickySeconds: clientIPAffinity ? sp.sessionAffinityTimeoutSeconds ?? 10800 : 0,
      healthCheckNodePort: sp.type === 'LoadBalancer' && externalPolicyLocal ? sp.healthCheckNodePort ?? 0 : 0,
      endpoints: endpointInfos(sp.endpoints, node, layout, ref),
    });
  }
  return out.sort((a, b) => {
    const x = a.ref.servicePortName;
    const y = b.ref.servicePortName;
    if (x !== y) return x < y ? -1 : 1;
    return a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0;
  });
}

/** Does any source range contain this address? */
export function rangesContain(prefixes: readonly Prefix[], ip: IPv4 | null): boolean {
  return ip !== null && prefixes.some((p) => inPrefix(ip, p));
}

/** A comment kube-proxy writes with fmt %q-like quoting: `"text"` (text never holds quotes). */
export function quoted(s: string): string {
  return `"${s}"`;
}

export interface NodePortAddressing {
  /** No usable nodePortAddresses (or a 0.0.0.0/0 among them): NodePorts on every local address. */
  matchAll: boolean;
  /** Some selected CIDR covers 127.0.0.0 (current layout: localhost NodePorts possible). */
  containsLoopback: boolean;
  /** The node's addresses inside the selected CIDRs (loopback first), when not matchAll. */
  ips: string[];
}

/**
 * nodePortAddresses as kube-proxy resolves them against the node's addresses. kube-proxy
 * collects the matching addresses in a Go map (random order); here loopback comes first and
 * then the node's addresses in the order given, so the output is deterministic.
 */
export function nodePortAddressing(config: ProxyConfig, node: NodeInfo, layout: Layout): NodePortAddressing {
  const nodeIP = nodeIPv4(node);
  const cidrs: Prefix[] = [];
  for (const raw of config.nodePortAddresses ?? []) {
    const t = raw.trim();
    if (layout === 'current' && t === 'primary') {
      if (nodeIP !== null) cidrs.push({ addr: nodeIP, len: 32 });
      continue;
    }
    const p = parseCIDRSloppy(t);
    if (p) cidrs.push(p);
  }
  const loopback = 0x7f000000;
  // Go: cidr.IP.IsLoopback() || cidr.Contains(127.0.0.0).
  const containsLoopback = cidrs.length === 0 || cidrs.some((p) => ((p.addr & maskOf(p.len)) >>> 24) === 127 || inPrefix(loopback, p));
  if (cidrs.length === 0 || cidrs.some((p) => p.len === 0)) return { matchAll: true, containsLoopback: true, ips: [] };
  const locals = [0x7f000001, ...node.ips.map(parseIPv4Sloppy).filter((a): a is IPv4 => a !== null)];
  const ips: string[] = [];
  for (const p of cidrs) {
    for (const a of locals) {
      const s = formatIPv4(a);
      if (inPrefix(a, p) && !ips.includes(s)) ips.push(s);
    }
  }
  return { matchAll: false, containsLoopback, ips };
}
