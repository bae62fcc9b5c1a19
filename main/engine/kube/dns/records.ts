// Cluster DNS as CoreDNS's `kubernetes` plugin serves it (the Kubernetes DNS-based service
// discovery spec), computed from plain Service/Endpoints/Pod data:
//
//   <svc>.<ns>.svc.<zone>            A per ClusterIP; for a headless Service one A per ready endpoint
//   <ep>.<svc>.<ns>.svc.<zone>       A for an endpoint (its hostname, or its IP with dashes)
//   _<port>._<proto>.<svc>.<ns>.svc  SRV for a named port (per endpoint when headless)
//   <svc>.<ns>.svc.<zone>            CNAME to spec.externalName for type ExternalName
//   a-b-c-d.<ns>.pod.<zone>          A a.b.c.d (`pods insecure`, kubeadm's and minikube's Corefile)
//   d.c.b.a.in-addr.arpa             PTR to the Service owning a ClusterIP, else to each endpoint
//
// The answers follow the plugin's code paths (plugin/kubernetes and plugin/backend_lookup.go):
// which names are NXDOMAIN (no such Service, namespace, or malformed name) and which are NODATA
// (the name exists, the type does not), and the SOA put in the authority section of both. The
// defaults are kubeadm's Corefile (`kubernetes cluster.local in-addr.arpa ip6.arpa { pods
// insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }`).

import { fqdn, TYPE_CODES, parseIPv6Bytes, type RData, type ResourceRecord } from './message.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface DnsPort {
  name?: string;
  port: number;
  protocol?: Protocol;
}

export interface DnsService {
  namespace: string;
  name: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** `None` makes the Service headless. */
  clusterIP?: string;
  /** Dual-stack ClusterIPs; defaults to [clusterIP]. */
  clusterIPs?: string[];
  externalName?: string;
  ports?: DnsPort[];
  /** Endpoints that are not ready are published too (StatefulSet peer discovery). */
  publishNotReadyAddresses?: boolean;
}

export interface DnsEndpointAddress {
  ip: string;
  /** spec.hostname of the pod when its spec.subdomain names the Service. */
  hostname?: string;
  nodeName?: string;
  /** Defaults to true. */
  ready?: boolean;
  targetRef?: { kind?: string; name: string; namespace?: string };
}

/** The Endpoints object (or the EndpointSlices) of a Service: same namespace and name. */
export interface DnsEndpoints {
  namespace: string;
  name: string;
  addresses: DnsEndpointAddress[];
  ports?: DnsPort[];
}

export interface DnsPod {
  namespace: string;
  name: string;
  ip: string;
}

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface KubeDnsData {
  services: DnsService[];
  endpoints: DnsEndpoints[];
  pods?: DnsPod[];
  /** Namespaces that exist besides those of the objects above (default, kube-system, ... always do). */
  namespaces?: string[];
  /** Cluster domain; `cluster.local`. */
  zone?: string;
  /** The plugin's `ttl`: kubeadm and minikube write 30 (the plugin's own default is 5). */
  ttl?: number;
  /** `pods insecure` in kubeadm's and minikube's Corefile. */
  podMode?: PodMode;
  /** `endpoint_pod_names`: name endpoints after their pod instead of their dashed IP. */
  endpointPodNames?: boolean;
  /** SOA serial: the unix time of the last change CoreDNS saw. */
  serial?: number;
}

/** What the plugin answers: `nxdomain` and `nodata` carry the zone's SOA as authority. */
export interface PluginAnswer {
  rcode: 'noerror' | 'nxdomain';
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** The zone of the plugin that matched the name. */
  zone: string;
}

/** A lookup the plugin hands to CoreDNS itself (for ExternalName targets outside the zone). */
export type UpstreamLookup = (name: string, type: number) => ResourceRecord[];

const ALWAYS_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

// One backend entry, as the plugin's msg.Service: an address or a name, a port, and the
// owner name SRV targets and additional records use.
interface Entry {
  host: string;
  port: number;
  key: string;
}

interface RecordRequest {
  port: string;
  protocol: string;
  endpoint: string;
  service: string;
  namespace: string;
  podOrSvc: string;
}

class NameError extends Error {}

function lower(s: string): string {
  return s.toLowerCase();
}

/** `1-2-3-4` style name of an address, as the plugin names endpoints without a hostname. */
export function dashedIP(ip: string): string {
  return ip.includes('.') ? ip.replace(/\./g, '-') : ip.replace(/:/g, '-');
}

function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

function isIPv6(s: string): boolean {
  return s.includes(':') && parseIPv6Bytes(s) !== null;
}

function hostType(host: string): 'A' | 'AAAA' | 'CNAME' {
  if (isIPv4(host)) return 'A';
  if (isIPv6(host)) return 'AAAA';
  return 'CNAME';
}

/** Whether `name` is `zone` or below it (both presentation form, case-insensitive). */
export function inZone(name: string, zone: string): boolean {
  const n = lower(fqdn(name));
  const z = lower(fqdn(zone));
  return z === '.' || n === z || n.endsWith('.' + z);
}

export class KubeDns {
  readonly zone: string;
  readonly ttl: number;
  readonly podMode: PodMode;
  private readonly namespaces: Set<string>;

  constructor(
    readonly data: KubeDnsData,
    private readonly upstream: UpstreamLookup = () => [],
  ) {
    this.zone = lower(fqdn(data.zone ?? 'cluster.local'));
    this.ttl = Math.min(3600, Math.max(0, data.ttl ?? 30));
    this.podMode = data.podMode ?? 'insecure';
    this.namespaces = new Set([
      ...ALWAYS_NAMESPACES,
      ...(data.namespaces ?? []),
      ...data.services.map((s) => s.namespace),
      ...data.endpoints.map((e) => e.namespace),
      ...(data.pods ?? []).map((p) => p.namespace),
    ]);
  }

  /** The zones of `kubernetes cluster.local in-addr.arpa ip6.arpa`, longest match wins. */
  zoneOf(name: string): string | undefined {
    const zones = [this.zone, 'in-addr.arpa.', 'ip6.arpa.'].filter((z) => inZone(name, z));
    return zones.sort((a, b) => b.length - a.length)[0];
  }

  /** The zone's SOA as the plugin builds it (TTL min(ttl, 300), minimum = ttl). */
  soa(zone = this.zone): ResourceRecord {
    return {
      name: zone,
      ttl: Math.min(this.ttl, 300),
      data: {
        type: 'SOA',
        mname: 'ns.dns.' + zone,
        rname: 'hostmaster.' + zone,
        serial: (this.data.serial ?? 0) >>> 0,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  /**
   * The plugin's answer for a question, or null when the name is outside its zones, or a
   * reverse name it does not know (kubeadm's `fallthrough in-addr.arpa ip6.arpa` passes those
   * to `forward`).
   */
  answer(qname: string, qtype: number): PluginAnswer | null {
    const name = fqdn(qname);
    const zone = this.zoneOf(name);
    if (!zone) return null;
    const reverse = zone !== this.zone;
    const out = (answer: ResourceRecord[], additional: ResourceRecord[] = []): PluginAnswer =>
      answer.length
        ? { rcode: 'noerror', answer, authority: [], additional, zone }
        : { rcode: 'noerror', answer: [], authority: [this.soa(zone)], additional: [], zone };
    try {
      switch (qtype) {
        case TYPE_CODES.A:
          return out(this.address(name, zone, 'A', []));
        case TYPE_CODES.AAAA:
          return out(this.address(name, zone, 'AAAA', []));
        case TYPE_CODES.PTR:
          return out(this.ptr(name, zone));
        case TYPE_CODES.SRV: {
          const [records, extra] = this.srv(name, zone);
          return out(records, extra);
        }
        case TYPE_CODES.CNAME:
          return out(this.cname(name, zone));
        case TYPE_CODES.TXT:
          return out(this.txt(name, zone));
        case TYPE_CODES.SOA:
          // plugin.SOA answers the zone's SOA whatever name in the zone was asked.
          return out([this.soa(zone)]);
        case TYPE_CODES.NS:
          if (lower(name) === zone) return out(this.ns(zone, name), this.nsAddresses(zone));
          this.address(name, zone, 'A', []);
          return out([]);
        default:
          // Other types: a fake A lookup tells NODATA from NXDOMAIN.
          this.address(name, zone, 'A', []);
          return out([]);
      }
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      if (reverse) return null;
      return { rcode: 'nxdomain', answer: [], authority: [this.soa(zone)], additional: [], zone };
    }
  }

  // ---- the backend: msg.Service entries for a name ------------------------------------

  private parseRequest(name: string, zone: string): RecordRequest {
    const r: RecordRequest = { port: '', protocol: '', endpoint: '', service: '', namespace: '', podOrSvc: '' };
    const lname = lower(name);
    const base = lname === zone ? '' : lname.slice(0, lname.length - zone.length - 1);
    if (base === '' || base === 'svc' || base === 'pod') return r;
    const segs = base.split('.');
    let last = segs.length - 1;
    r.podOrSvc = segs[last];
    if (r.podOrSvc !== 'pod' && r.podOrSvc !== 'svc') throw new NameError();
    if (--last < 0) return r;
    r.namespace = segs[last];
    if (--last < 0) return r;
    r.service = segs[last];
    if (--last < 0) return r;
    if (last === 0) r.endpoint = segs[0];
    else if (last === 1) {
      r.protocol = segs[1].replace(/^_/, '');
      r.port = segs[0].replace(/^_/, '');
    } else throw new NameError();
    return r;
  }

  private namespaceExposed(ns: string): boolean {
    return this.namespaces.has(ns);
  }

  private isDefaultNS(name: string, zone: string): boolean {
    return lower(name) === 'ns.dns.' + zone;
  }

  /** The kube-dns Service's ClusterIPs: where `ns.dns.<zone>` points. */
  private dnsServiceIPs(): string[] {
    const svc = this.data.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
    return svc ? clusterIPsOf(svc) : [];
  }

  private services(name: string, zone: string): Entry[] {
    if (this.isDefaultNS(name, zone)) return this.dnsServiceIPs().map((ip) => ({ host: ip, port: 0, key: 'ns.dns.' + zone }));
    const r = this.parseRequest(name, zone);
    if (r.podOrSvc === '') return [];
    if (!this.namespaceExposed(r.namespace)) throw new NameError();
    return r.podOrSvc === 'pod' ? this.findPods(r, zone) : this.findServices(r, zone);
  }

  private findPods(r: RecordRequest, zone: string): Entry[] {
    if (this.podMode === 'disabled') throw new NameError();
    const podname = r.service;
    if (podname === '') return [];
    const ip = (podname.match(/-/g) ?? []).length === 3 && !podname.includes('--') ? podname.replace(/-/g, '.') : podname.replace(/-/g, ':');
    const key = `${podname}.${r.namespace}.pod.${zone}`;
    if (this.podMode === 'insecure') {
      if (!isIPv4(ip) && !isIPv6(ip)) throw new NameError();
      return [{ host: ip, port: 0, key }];
    }
    const found = (this.data.pods ?? []).filter((p) => p.ip === ip && lower(p.namespace) === r.namespace);
    if (!found.length) throw new NameError();
    return found.map(() => ({ host: ip, port: 0, key }));
  }

  private endpointName(a: DnsEndpointAddress): string {
    if (a.hostname) return a.hostname;
    if (this.data.endpointPodNames && a.targetRef?.name) return a.targetRef.name;
    return dashedIP(a.ip);
  }

  private publishedAddresses(svc: DnsService, ep: DnsEndpoints): DnsEndpointAddress[] {
    return ep.addresses.filter((a) => a.ready !== false || svc.publishNotReadyAddresses);
  }

  private endpointsOf(svc: DnsService): DnsEndpoints[] {
    return this.data.endpoints.filter((e) => e.namespace === svc.namespace && e.name === svc.name);
  }

  private findServices(r: RecordRequest, zone: string): Entry[] {
    if (r.service === '') return [];
    let found = false;
    const out: Entry[] = [];
    for (const svc of this.data.services) {
      if (lower(svc.namespace) !== r.namespace || lower(svc.name) !== r.service) continue;
      const base = `${svc.name}.${svc.namespace}.svc.${zone}`;
      if (svc.type === 'ExternalName') {
        if (r.endpoint !== '') continue;
        if (svc.externalName && hostType(svc.externalName) === 'CNAME') {
          out.push({ host: svc.externalName, port: -1, key: base });
          found = true;
        }
        continue;
      }
      if (isHeadless(svc) || r.endpoint !== '') {
        for (const ep of this.endpointsOf(svc)) {
          const ports = ep.ports?.length ? ep.ports : [{ port: -1 } as DnsPort];
          for (const a of this.publishedAddresses(svc, ep)) {
            const hostLabel = this.endpointName(a);
            if (r.endpoint !== '' && r.endpoint !== lower(hostLabel)) continue;
            for (const p of ports) {
              if (!matchPortProto(r, p)) continue;
              out.push({ host: a.ip, port: p.port, key: `${hostLabel}.${base}` });
              found = true;
            }
          }
        }
        continue;
      }
      const ports = svc.ports?.length ? svc.ports : [{ port: -1 } as DnsPort];
      for (const p of ports) {
        if (!matchPortProto(r, p)) continue;
        found = true;
        for (const ip of clusterIPsOf(svc)) out.push({ host: ip, port: p.port, key: base });
      }
    }
    if (!found) throw new NameError();
    return out;
  }

  // ---- record builders (plugin/backend_lookup.go) -----------------------------------------

  private rr(name: string, data: RData): ResourceRecord {
    return { name, ttl: this.ttl, data };
  }

  private address(qname: string, zone: string, want: 'A' | 'AAAA', previous: ResourceRecord[]): ResourceRecord[] {
    // At the zone apex the plugin first looks for `apex.dns.<zone>`, which never exists here.
    const entries = this.services(qname, zone);
    const records: ResourceRecord[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      const t = hostType(e.host);
      if (t === 'CNAME') {
        const target = fqdn(e.host);
        if (lower(target) === lower(fqdn(qname))) continue;
        const cname = this.rr(qname, { type: 'CNAME', target });
        if (previous.length > 7) continue;
        if (previous.some((p) => p.data.type === 'CNAME' && lower(p.name) === lower(cname.name) && lower(p.data.target) === lower(target))) continue;
        if (inZone(target, zone)) {
          try {
            const next = this.address(target, zone, want, [...previous, cname]);
            if (next.length) records.push(cname, ...next);
          } catch (err) {
            if (!(err instanceof NameError)) throw err;
          }
          continue;
        }
        records.push(cname, ...this.upstream(target, TYPE_CODES[want]));
        continue;
      }
      if (t !== want || seen.has(e.host)) continue;
      seen.add(e.host);
      records.push(this.rr(qname, { type: want, address: e.host } as RData));
    }
    return records;
  }

  private srv(qname: string, zone: string): [ResourceRecord[], ResourceRecord[]] {
    // SRV for ExternalName Services is not implemented by the plugin: it drops them.
    const entries = this.services(qname, zone).filter((e) => hostType(e.host) !== 'CNAME');
    const records: ResourceRecord[] = [];
    const extra: ResourceRecord[] = [];
    const seen = new Set<string>();
    // All entries share priority 0 and the default weight 100: each gets floor(100 / n).
    const weight = entries.length ? Math.max(1, Math.floor((100 / (100 * entries.length)) * 100)) : 0;
    for (const e of entries) {
      if (e.port === -1) continue;
      const target = fqdn(e.key);
      const srvKey = `${lower(target)}|${e.port}`;
      if (!seen.has(srvKey)) {
        seen.add(srvKey);
        records.push(this.rr(qname, { type: 'SRV', priority: 0, weight, port: e.port, target }));
      }
      const addrKey = `${lower(target)}|@${e.host}`;
      if (!seen.has(addrKey)) {
        seen.add(addrKey);
        extra.push(this.rr(target, { type: hostType(e.host) === 'A' ? 'A' : 'AAAA', address: e.host } as RData));
      }
    }
    return [records, extra];
  }

  private cname(qname: string, zone: string): ResourceRecord[] {
    const entries = this.services(qname, zone);
    if (entries.length && hostType(entries[0].host) === 'CNAME') return [this.rr(qname, { type: 'CNAME', target: fqdn(entries[0].host) })];
    return [];
  }

  private txt(qname: string, zone: string): ResourceRecord[] {
    const base = lower(qname).slice(0, -zone.length - 1);
    if (base === 'dns-version') return [{ name: qname, ttl: 28800, data: { type: 'TXT', texts: ['1.1.0'] } }];
    this.services(qname, zone);
    return [];
  }

  private ns(zone: string, qname: string): ResourceRecord[] {
    return this.dnsServiceIPs().length ? [this.rr(qname, { type: 'NS', target: 'ns.dns.' + zone })] : [];
  }

  private nsAddresses(zone: string): ResourceRecord[] {
    return this.dnsServiceIPs().map((ip) => this.rr('ns.dns.' + zone, { type: hostType(ip) === 'A' ? 'A' : 'AAAA', address: ip } as RData));
  }

  private ptr(qname: string, zone: string): ResourceRecord[] {
    const ip = addressFromReverse(qname);
    if (ip === null) {
      // Not a reverse name: the plugin looks it up as a forward name, only for its verdict.
      this.services(qname, zone);
      return [];
    }
    const names = this.reverseNames(ip);
    if (!names.length) throw new NameError();
    return [...new Set(names)].map((n) => this.rr(qname, { type: 'PTR', target: n }));
  }

  /** The names a PTR query for `ip` answers: the Service owning the ClusterIP, else each endpoint. */
  reverseNames(ip: string): string[] {
    for (const svc of this.data.services) {
      if (!isHeadless(svc) && clusterIPsOf(svc).includes(ip)) return [`${svc.name}.${svc.namespace}.svc.${this.zone}`];
    }
    const out: string[] = [];
    for (const ep of this.data.endpoints) {
      const svc = this.data.services.find((s) => s.namespace === ep.namespace && s.name === ep.name);
      for (const a of ep.addresses) {
        if (a.ip !== ip) continue;
        if (a.ready === false && !svc?.publishNotReadyAddresses) continue;
        out.push(`${this.endpointName(a)}.${ep.name}.${ep.namespace}.svc.${this.zone}`);
      }
    }
    return out;
  }

  // ---- the enumerable record set (what the plugin's zone transfer lists) ------------------

  /**
   * Every record the zone holds for its Services and endpoints, in the order of the plugin's
   * AXFR: SOA, then per Service its A, its SRV records (the bare `<svc>.<ns>.svc` one per port,
   * `_port._proto` per named port), endpoint A records for headless Services, CNAMEs for
   * ExternalName. Pod records (`pods insecure`) exist for every address and are not listed.
   */
  recordSet(): ResourceRecord[] {
    const zone = this.zone;
    const out: ResourceRecord[] = [this.soa(zone)];
    const services = [...this.data.services].sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name));
    for (const svc of services) {
      const base = `${svc.name}.${svc.namespace}.svc.${zone}`;
      if (svc.type === 'ExternalName') {
        if (svc.externalName && hostType(svc.externalName) === 'CNAME') out.push(this.rr(base, { type: 'CNAME', target: fqdn(svc.externalName) }));
        continue;
      }
      if (!isHeadless(svc)) {
        for (const ip of clusterIPsOf(svc)) out.push(this.rr(base, { type: hostType(ip) === 'A' ? 'A' : 'AAAA', address: ip } as RData));
        for (const p of svc.ports ?? []) {
          out.push(this.rr(base, { type: 'SRV', priority: 0, weight: 100, port: p.port, target: base }));
          if (p.name) out.push(this.rr(`_${lower(p.name)}._${lower(p.protocol ?? 'TCP')}.${base}`, { type: 'SRV', priority: 0, weight: 100, port: p.port, target: base }));
        }
        continue;
      }
      for (const ep of this.endpointsOf(svc)) {
        const addrs = this.publishedAddresses(svc, ep);
        const weight = addrs.length ? Math.floor((100 / (100 * addrs.length)) * 100) : 0;
        for (const a of addrs) {
          const t = hostType(a.ip) === 'A' ? 'A' : 'AAAA';
          out.push(this.rr(base, { type: t, address: a.ip } as RData));
          const host = `${this.endpointName(a)}.${base}`;
          out.push(this.rr(host, { type: t, address: a.ip } as RData));
          for (const p of ep.ports ?? []) {
            if (!p.name) continue;
            out.push(this.rr(`_${lower(p.name)}._${lower(p.protocol ?? 'TCP')}.${base}`, { type: 'SRV', priority: 0, weight, port: p.port, target: host }));
          }
        }
      }
    }
    return out;
  }
}

export function isHeadless(svc: DnsService): boolean {
  return svc.clusterIP === 'None';
}

function clusterIPsOf(svc: DnsService): string[] {
  if (isHeadless(svc) || svc.type === 'ExternalName') return [];
  const ips = svc.clusterIPs?.length ? svc.clusterIPs : svc.clusterIP ? [svc.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None' && ip !== '');
}

function matchPortProto(r: RecordRequest, p: DnsPort): boolean {
  const portOk = r.port === '' || r.port === lower(p.name ?? '');
  const protoOk = r.protocol === '' || r.protocol === lower(p.protocol ?? 'TCP');
  return portOk && protoOk;
}

/** The address a reverse name stands for (`4.3.2.1.in-addr.arpa.` -> `1.2.3.4`), or null. */
export function addressFromReverse(name: string): string | null {
  const n = lower(fqdn(name));
  if (n.endsWith('.in-addr.arpa.')) {
    const parts = n.slice(0, -'.in-addr.arpa.'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
    return parts.reverse().map(Number).join('.');
  }
  if (n.endsWith('.ip6.arpa.')) {
    const nibbles = n.slice(0, -'.ip6.arpa.'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return null;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16).toString(16));
    return compressIPv6(groups);
  }
  return null;
}

function compressIPv6(groups: string[]): string {
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > len && j - i >= 2) {
      best = i;
      len = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + len).join(':');
}

/** The reverse name of an IPv4 address: `10.96.0.10` -> `10.0.96.10.in-addr.arpa.` */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return ip.split('.').reverse().join('.') + '.in-addr.arpa.';
  const b = parseIPv6Bytes(ip);
  if (!b) throw new Error(`not an IP address: ${ip}`);
  const nibbles: string[] = [];
  for (const x of b) nibbles.push((x >> 4).toString(16), (x & 15).toString(16));
  return nibbles.reverse().join('.') + '.ip6.arpa.';
}
