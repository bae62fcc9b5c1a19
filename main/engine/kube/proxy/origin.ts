// Every rule the generator writes carries an origin: the service port, endpoint or node setting
// that made kube-proxy write it. Origins are kept per table and chain in the same order as the
// chain's `-A` lines, so the lab can name the Kubernetes object behind rule N of any chain.

export interface ServiceRef {
  namespace: string;
  name: string;
  /** '' for an unnamed port. */
  portName: string;
  /** "ns/name" or "ns/name:port", as kube-proxy prints it in comments. */
  servicePortName: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface EndpointRef {
  readonly ip: string;
  readonly port: number;
  readonly nodeName?: string;
  /** The endpoint runs on this node. */
  readonly local: boolean;
}

/** Why a service-port rule exists. */
export type ServiceRole =
  | 'clusterIP' // KUBE-SERVICES match on the cluster IP
  | 'clusterIPMasquerade' // masquerade for off-cluster (or all, masqueradeAll) cluster-IP traffic
  | 'externalIP'
  | 'externalIPMasquerade'
  | 'loadBalancerIP'
  | 'loadBalancerMasquerade'
  | 'loadBalancerSourceRange' // KUBE-FW: allowed source range (or the LB IP itself)
  | 'loadBalancerFirewallEnd' // KUBE-FW last rule (DROP mark / comment-only fall-through)
  | 'loadBalancerFirewallDrop' // filter KUBE-PROXY-FIREWALL
  | 'nodePort'
  | 'nodePortLocalhost' // nfacct-counted 127.0.0.0/8 NodePort rule
  | 'nodePortMasquerade'
  | 'healthCheckNodePort'
  | 'noEndpoints' // REJECT
  | 'noLocalEndpoints' // DROP (or KUBE-MARK-DROP in the legacy XLB chain)
  | 'externalMasquerade' // KUBE-EXT: eTP=Cluster masquerade
  | 'podShortCircuit' // pod traffic to an external destination goes to the cluster chain
  | 'localMasquerade' // host-originated traffic to an external destination is masqueraded
  | 'localShortCircuit' // … and goes to the cluster chain
  | 'externalPolicy'; // KUBE-EXT falls through to its policy chain

/** Why an endpoint rule exists. */
export type EndpointRole =
  | 'affinity' // -m recent --rcheck: stick to the endpoint chosen before
  | 'loadBalance' // statistic (or final) jump to the KUBE-SEP chain
  | 'hairpinMasquerade' // -s <endpoint IP> -j KUBE-MARK-MASQ
  | 'dnat';

/** Why a rule that belongs to no single service exists. */
export type NodeRole =
  | 'postrouting' // KUBE-POSTROUTING (masquerade marked packets)
  | 'markMasquerade' // KUBE-MARK-MASQ
  | 'forward' // KUBE-FORWARD
  | 'localnetFirewall' // KUBE-FIREWALL "block incoming localnet connections"
  | 'nodePortsDispatch' // KUBE-SERVICES last rule -> KUBE-NODEPORTS
  | 'jump' // a static jump from a built-in chain
  | 'markDrop' // kubelet's KUBE-MARK-DROP
  | 'dropMarked'; // kubelet's KUBE-FIREWALL drop of marked packets

export type Origin =
  | { kind: 'service'; service: ServiceRef; role: ServiceRole; address?: string }
  | { kind: 'endpoint'; service: ServiceRef; endpoint: EndpointRef; role: EndpointRole }
  | { kind: 'node'; role: NodeRole; setting?: string };

/** An endpoint that knows its service port: endpoint origins are made from it on demand. */
export interface EndpointSource extends EndpointRef {
  readonly service: ServiceRef;
}

export interface OriginTable {
  filter: Map<string, Origin[]>;
  nat: Map<string, Origin[]>;
}

export function nodeOrigin(role: NodeRole, setting?: string): Origin {
  return setting === undefined ? { kind: 'node', role } : { kind: 'node', role, setting };
}

export function serviceOrigin(p: { ref: ServiceRef }, role: ServiceRole, address?: string): Origin {
  return address === undefined ? { kind: 'service', service: p.ref, role } : { kind: 'service', service: p.ref, role, address };
}

/**
 * Text collected as pieces that are joined into a flat chunk every few thousand pieces, then
 * the chunks once at the end. A 10,000-service sync writes about 200,000 lines (18 MB); keeping
 * every line alive as its own string until one final join makes the garbage collector copy
 * them all, while short-lived pieces die young and cost almost nothing.
 */
class ChunkedText {
  private readonly chunks: string[] = [];
  private pending: string[] = [];

  add(s: string): void {
    this.pending.push(s);
  }

  /** Ends a line; every few thousand pieces become one flat chunk. */
  endLine(): void {
    const p = this.pending;
    p.push('\n');
    if (p.length >= 4096) {
      this.chunks.push(p.join(''));
      this.pending = [];
    }
  }

  /** Appends the finished chunks and the rest to `out` (one final join copies the text once). */
  collect(out: string[]): void {
    for (const c of this.chunks) out.push(c);
    out.push(this.pending.join(''));
  }
}

/** Where a layout generator writes one table's chain declarations and rules. */
export interface RuleSink {
  /** `:CHAIN - [0:0]` — declares (and, with --noflush, flushes) the chain. */
  declare(chain: string): void;
  /** `-A CHAIN args`; `args` is already joined with single spaces as kube-proxy writes them. */
  rule(chain: string, args: string, origin: Origin): void;
  /** `-A CHAIN` followed by the concatenation of the pieces. */
  ruleParts(chain: string, origin: Origin, a: string, b?: string, c?: string, d?: string, e?: string, f?: string, g?: string, h?: string, i?: string): void;
  /** A rule made for one endpoint (balancing, affinity, hairpin, DNAT). */
  endpointRule(chain: string, ep: EndpointSource, role: EndpointRole, a: string, b?: string, c?: string, d?: string, e?: string, f?: string, g?: string, h?: string, i?: string): void;
  /** An endpoint rule whose start `head` ("-A CHAIN " plus fixed words) the caller built. */
  endpointLine(chain: string, head: string, ep: EndpointSource, role: EndpointRole, a: string, b?: string, c?: string, d?: string, e?: string, f?: string): void;
}

/**
 * Collects one table's chain declarations and rule lines, with the origin of every rule.
 * Origins are kept as two flat arrays and grouped per chain only when someone asks.
 */
export class TableWriter implements RuleSink {
  private readonly decls = new ChunkedText();
  private readonly lines = new ChunkedText();
  private readonly ruleChains: string[] = [];
  // Per rule: the Origin, or (for the per-endpoint rules, most of the output) the endpoint and
  // its role, turned into an Origin only when the origins are read.
  private readonly ruleOrigins: Array<Origin | EndpointSource> = [];
  private readonly ruleRoles: Array<EndpointRole | ''> = [];
  private grouped: Map<string, Origin[]> | null = null;
  chainCount = 0;

  get rules(): number {
    return this.ruleChains.length;
  }

  /** `:CHAIN - [0:0]` — declares (and, with --noflush, flushes) the chain. */
  declare(chain: string): void {
    this.decls.add(':');
    this.decls.add(chain);
    this.decls.add(' - [0:0]');
    this.decls.endLine();
    this.chainCount++;
  }

  /** `-A CHAIN args`; `args` is already joined with single spaces as kube-proxy writes them. */
  rule(chain: string, args: string, origin: Origin): void {
    this.ruleParts(chain, origin, args);
  }

  /**
   * `-A CHAIN` followed by the concatenation of the pieces (for the per-endpoint rules, which
   * are most of the output: no intermediate string is built for them).
   */
  ruleParts(chain: string, origin: Origin, a: string, b?: string, c?: string, d?: string, e?: string, f?: string, g?: string, h?: string, i?: string): void {
    this.line(chain, a, b, c, d, e, f, g, h, i);
    this.ruleChains.push(chain);
    this.ruleOrigins.push(origin);
    this.ruleRoles.push('');
  }

  /** A rule made for one endpoint (balancing, affinity, hairpin, DNAT). */
  endpointRule(chain: string, ep: EndpointSource, role: EndpointRole, a: string, b?: string, c?: string, d?: string, e?: string, f?: string, g?: string, h?: string, i?: string): void {
    this.line(chain, a, b, c, d, e, f, g, h, i);
    this.ruleChains.push(chain);
    this.ruleOrigins.push(ep);
    this.ruleRoles.push(role);
  }

  /**
   * An endpoint rule whose start, `head` = "-A CHAIN " plus any fixed words, the caller built
   * once and reuses (the two rules of a KUBE-SEP chain; the balancing rules of a KUBE-SVC).
   */
  endpointLine(chain: string, head: string, ep: EndpointSource, role: EndpointRole, a: string, b?: string, c?: string, d?: string, e?: string, f?: string): void {
    const t = this.lines;
    t.add(head);
    t.add(a);
    if (b !== undefined) t.add(b);
    if (c !== undefined) t.add(c);
    if (d !== undefined) t.add(d);
    if (e !== undefined) t.add(e);
    if (f !== undefined) t.add(f);
    t.endLine();
    this.ruleChains.push(chain);
    this.ruleOrigins.push(ep);
    this.ruleRoles.push(role);
  }

  private line(chain: string, a: string, b?: string, c?: string, d?: string, e?: string, f?: string, g?: string, h?: string, i?: string): void {
    const t = this.lines;
    t.add('-A ');
    t.add(chain);
    t.add(' ');
    t.add(a);
    if (b !== undefined) t.add(b);
    if (c !== undefined) t.add(c);
    if (d !== undefined) t.add(d);
    if (e !== undefined) t.add(e);
    if (f !== undefined) t.add(f);
    if (g !== undefined) t.add(g);
    if (h !== undefined) t.add(h);
    if (i !== undefined) t.add(i);
    t.endLine();
  }

  /** A line that is not a rule (`-X CHAIN`). */
  raw(line: string): void {
    this.lines.add(line);
    this.lines.endLine();
  }

  /** The declarations, then the rules, appended to `out` as pieces. */
  collect(out: string[]): void {
    this.decls.collect(out);
    this.lines.collect(out);
  }

  /** Per chain, the origins of its rules in order (built on first use). */
  origins(): Map<string, Origin[]> {
    if (this.grouped) return this.grouped;
    const m = new Map<string, Origin[]>();
    let lastChain = '';
    let last: Origin[] = [];
    for (let i = 0; i < this.ruleChains.length; i++) {
      const chain = this.ruleChains[i];
      if (chain !== lastChain) {
        let list = m.get(chain);
        if (!list) {
          list = [];
          m.set(chain, list);
        }
        lastChain = chain;
        last = list;
      }
      const role = this.ruleRoles[i];
      const o = this.ruleOrigins[i];
      last.push(role === '' ? (o as Origin) : { kind: 'endpoint', service: (o as EndpointSource).service, endpoint: o as EndpointSource, role });
    }
    this.grouped = m;
    return m;
  }
}

/** An OriginTable whose per-chain maps are built when first read. */
export function lazyOriginTable(filter: TableWriter, nat: TableWriter): OriginTable {
  return {
    get filter() {
      return filter.origins();
    },
    get nat() {
      return nat.origins();
    },
  };
}

/** The restore text exactly as kube-proxy assembles it: filter first, then nat. */
export function restoreText(filter: TableWriter, nat: TableWriter): string {
  const out = ['*filter\n'];
  filter.collect(out);
  out.push('COMMIT\n*nat\n');
  nat.collect(out);
  out.push('COMMIT\n');
  return out.join('');
}

/** What a layout generator hands back to the entry point. */
export interface LayoutOutput {
  filter: TableWriter;
  nat: TableWriter;
  largeClusterMode: boolean;
  /** Endpoints counted for large-cluster mode. */
  endpoints: number;
}
