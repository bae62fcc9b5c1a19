// The `calicoctl` console command (v3.28, Kubernetes datastore): `get` of workload endpoints,
// IP pools, nodes, network policies (Kubernetes ones appear as `knp.default.<name>`) and global
// network policies, in calicoctl's table (Go tabwriter, minwidth 5, padding 3, every cell
// tab-terminated), `-o wide`, `-o yaml` and `-o json`; and `ipam show [--show-blocks]` in its
// bordered table. Data comes through CalicoctlEnv, so the command knows nothing of the lab.

import { calicoPolicies, workloadEndpoints } from '../kube/calico/felix.ts';
import type { CalicoPolicy, CalicoRule } from '../kube/calico/convert.ts';
import type { CalicoPort } from '../kube/calico/convert.ts';
import type { CalicoCluster, IPPool, WorkloadEndpoint } from '../kube/calico/model.ts';
import { formatIPv4, inPrefix, maskOf, parseIPv4, parsePrefix } from '../net/ipv4.ts';
import { toGoYaml } from './kubectl/goyaml.ts';
import { tabwrite } from './kubectl/tabwriter.ts';
import { fail, ok, type CommandResult } from './types.ts';

export interface CalicoctlEnv {
  cluster(): CalicoCluster;
  /** IPAM blocks with their affinity; without it, blocks are derived from the addresses in use. */
  blocks?(): { cidr: string; node: string }[];
  /** The datastore's list revision, printed as `metadata.resourceVersion` of lists (e.g. "56821/56821"). */
  resourceVersion?(): string;
  /** The AS number calicoctl prints for nodes without their own (default 64512). */
  asNumber?: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const USAGE = `Usage:
  calicoctl [options] <command> [<args>...]

    create       Create a resource by file, directory or stdin.
    replace      Replace a resource by file, directory or stdin.
    apply        Apply a resource by file, directory or stdin.  This creates a resource
                 if it does not exist, and replaces a resource if it does exists.
    patch        Patch a preexisting resource in place.
    delete       Delete a resource identified by file, directory, stdin or resource type and
                 name.
    get          Get a resource identified by file, directory, stdin or resource type and
                 name.
    label        Add or update labels of resources.
    convert      Convert config files between different API versions.
    ipam         IP address management.
    node         Calico node management.
    version      Display the version of this binary.
    datastore    Calico datastore management.

Options:
  -h --help                    Show this screen.
  -l --log-level=<level>       Set the log level (one of panic, fatal, error,
                               warn, info, debug) [default: panic]
     --context=<context>       The name of the kubeconfig context to use.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  The calicoctl command line tool is used to manage Calico network and security
  policy, to view and manage endpoint configuration, and to manage a Calico
  node instance.

  See 'calicoctl <command> --help' to read about a specific subcommand.
`;

const KINDS: Record<string, 'WorkloadEndpoint' | 'IPPool' | 'Node' | 'NetworkPolicy' | 'GlobalNetworkPolicy'> = {};
for (const a of ['workloadendpoint', 'workloadendpoints', 'wep', 'weps']) KINDS[a] = 'WorkloadEndpoint';
for (const a of ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools']) KINDS[a] = 'IPPool';
for (const a of ['node', 'nodes', 'no', 'nos']) KINDS[a] = 'Node';
for (const a of ['networkpolicy', 'networkpolicies', 'policy', 'np', 'policies', 'pol', 'pols']) KINDS[a] = 'NetworkPolicy';
for (const a of ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps']) KINDS[a] = 'GlobalNetworkPolicy';

const NAMESPACED = new Set(['WorkloadEndpoint', 'NetworkPolicy']);

interface Args {
  positional: string[];
  output: string;
  namespace: string;
  allNamespaces: boolean;
  showBlocks: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { positional: [], output: 'ps', namespace: 'default', allNamespaces: false, showBlocks: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const val = (name: string): string | null => {
      if (x.startsWith(`${name}=`)) return x.slice(name.length + 1);
      if (x === name) return argv[++i] ?? null;
      return null;
    };
    let v: string | null;
    if ((v = val('-o')) !== null || (v = val('--output')) !== null) a.output = v;
    else if (x.startsWith('-o') && x.length > 2 && !x.startsWith('--')) a.output = x.slice(2);
    else if ((v = val('-n')) !== null || (v = val('--namespace')) !== null) a.namespace = v;
    else if (x === '-A' || x === '--all-namespaces') a.allNamespaces = true;
    else if (x === '--show-blocks') a.showBlocks = true;
    else if (x.startsWith('-')) return `Invalid option: '${x}'.`;
    else a.positional.push(x);
  }
  return a;
}

// ------------------------------------------------------------------ resources

function wepName(ep: WorkloadEndpoint): string {
  const esc = (s: string) => s.replace(/-/g, '--');
  return `${esc(ep.pod.node)}-k8s-${esc(ep.pod.name)}-eth0`;
}

function wepObject(ep: WorkloadEndpoint): Json {
  const labels: Record<string, string> = { ...ep.pod.labels };
  labels['projectcalico.org/namespace'] = ep.pod.namespace;
  labels['projectcalico.org/orchestrator'] = 'k8s';
  labels['projectcalico.org/serviceaccount'] = ep.pod.serviceAccount ?? 'default';
  const spec: Record<string, Json> = {
    endpoint: 'eth0',
    interfaceName: ep.iface,
    ipNetworks: [`${ep.ip}/32`],
    node: ep.pod.node,
    orchestrator: 'k8s',
    pod: ep.pod.name,
    profiles: ep.profiles,
    serviceAccountName: ep.pod.serviceAccount ?? 'default',
  };
  const ports = (ep.pod.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }));
  if (ports.length) spec.ports = ports;
  return { apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { labels, name: wepName(ep), namespace: ep.pod.namespace }, spec };
}

function poolObject(p: IPPool): Json {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: p.name },
    spec: {
      allowedUses: ['Workload', 'Tunnel'],
      blockSize: p.blockSize ?? 26,
      cidr: p.cidr,
      ipipMode: p.ipipMode,
      natOutgoing: p.natOutgoing,
      nodeSelector: p.nodeSelector ?? 'all()',
      vxlanMode: p.vxlanMode,
      ...(p.disabled ? { disabled: true } : {}),
    },
  };
}

function portJson(p: CalicoPort): Json {
  if (p.name !== undefined) return p.name;
  return p.min === p.max ? (p.min as number) : `${p.min}:${p.max}`;
}

function entityJson(e: CalicoRule['source']): Json {
  const out: Record<string, Json> = {};
  if (e.namespaceSelector) out.namespaceSelector = e.namespaceSelector;
  if (e.nets && e.nets.length) out.nets = e.nets;
  if (e.notNets && e.notNets.length) out.notNets = e.notNets;
  if (e.ports && e.ports.length) out.ports = e.ports.map(portJson);
  if (e.selector) out.selector = e.selector;
  return out;
}

function ruleJson(r: CalicoRule): Json {
  const out: Record<string, Json> = { action: r.action, destination: entityJson(r.destination), source: entityJson(r.source) };
  if (r.protocol) out.protocol = r.protocol;
  return out;
}

function policyObject(p: CalicoPolicy): Json {
  const md = p.source.metadata;
  const metadata: Record<string, Json> = {};
  if (md.creationTimestamp) metadata.creationTimestamp = md.creationTimestamp;
  metadata.name = p.name;
  metadata.namespace = p.namespace;
  if (md.resourceVersion) metadata.resourceVersion = `/${md.resourceVersion}`;
  if (md.uid) metadata.uid = md.uid;
  const spec: Record<string, Json> = {};
  if (p.egress.length) spec.egress = p.egress.map(ruleJson);
  if (p.ingress.length) spec.ingress = p.ingress.map(ruleJson);
  spec.order = p.order;
  spec.selector = p.selector;
  spec.types = p.types;
  return { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata, spec };
}

interface Item {
  name: string;
  namespace?: string;
  obj: Json;
  cells: Record<string, string>;
}

function items(kind: string, c: CalicoCluster, env: CalicoctlEnv): Item[] {
  switch (kind) {
    case 'WorkloadEndpoint':
      return workloadEndpoints(c)
        .map((ep) => ({
          name: wepName(ep),
          namespace: ep.pod.namespace,
          obj: wepObject(ep),
          cells: { NAME: wepName(ep), WORKLOAD: ep.pod.name, NODE: ep.pod.node, NETWORKS: `${ep.ip}/32`, INTERFACE: ep.iface, PROFILES: ep.profiles.join(','), NATS: '' },
        }))
        .sort((a, b) => (a.namespace === b.namespace ? cmp(a.cells.WORKLOAD, b.cells.WORKLOAD) : cmp(a.namespace, b.namespace)));
    case 'IPPool':
      return [...c.pools]
        .sort((a, b) => cmp(a.name, b.name))
        .map((p) => ({
          name: p.name,
          obj: poolObject(p),
          cells: {
            NAME: p.name, CIDR: p.cidr, SELECTOR: p.nodeSelector ?? 'all()', NAT: String(p.natOutgoing), IPIPMODE: p.ipipMode, VXLANMODE: p.vxlanMode,
            DISABLED: String(!!p.disabled), DISABLEBGPEXPORT: 'false',
          },
        }));
    case 'Node':
      return [...c.nodes]
        .sort((a, b) => cmp(a.name, b.name))
        .map((n) => {
          const v4 = n.ipv4Address ?? (n.ips[0] ? `${n.ips[0]}/24` : '');
          const bgp: Record<string, Json> = {};
          if (v4) bgp.ipv4Address = v4;
          if (n.tunnelIP) bgp.ipv4IPIPTunnelAddr = n.tunnelIP;
          const addresses: Json[] = [];
          if (v4) addresses.push({ address: v4, type: 'CalicoNodeIP' });
          for (const ip of n.ips) addresses.push({ address: ip, type: 'InternalIP' });
          return {
            name: n.name,
            obj: { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: n.name }, spec: { addresses, bgp, orchRefs: [{ nodeName: n.name, orchestrator: 'k8s' }] }, status: {} },
            cells: { NAME: n.name, ASN: n.asn ?? `(${env.asNumber ?? 64512})`, IPV4: v4, IPV6: '' },
          };
        });
    case 'NetworkPolicy':
      return calicoPolicies(c)
        .map((p) => ({ name: p.name, namespace: p.namespace, obj: policyObject(p), cells: { NAME: p.name, ORDER: String(p.order), SELECTOR: p.selector } }))
        .sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace as string, b.namespace as string)));
    default:
      return [];
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const HEADINGS: Record<string, [string[], string[]]> = {
  WorkloadEndpoint: [['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'], ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS']],
  IPPool: [['NAME', 'CIDR', 'SELECTOR'], ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR']],
  Node: [['NAME'], ['NAME', 'ASN', 'IPV4', 'IPV6']],
  NetworkPolicy: [['NAME'], ['NAME', 'ORDER', 'SELECTOR']],
  GlobalNetworkPolicy: [['NAME'], ['NAME', 'ORDER', 'SELECTOR']],
};

function get(a: Args, env: CalicoctlEnv): CommandResult {
  const [, typ, ...names] = a.positional;
  if (!typ) return fail(`Invalid option: 'calicoctl get'. Resource type is required.\n`);
  const kind = KINDS[typ.toLowerCase()];
  if (!kind) return fail(`Failed to get resources: resource type '${typ}' is not supported\n`);
  const namespaced = NAMESPACED.has(kind);
  let list = items(kind, env.cluster(), env);
  if (namespaced && !a.allNamespaces) list = list.filter((x) => x.namespace === a.namespace);
  if (names.length) {
    const found: Item[] = [];
    for (const n of names) {
      const it = list.find((x) => x.name === n);
      if (!it) return fail(`Failed to get resources: resource does not exist: ${kind}(${namespaced ? `${a.namespace}/` : ''}${n}) with error: ${kind === 'NetworkPolicy' ? `networkpolicies.crd.projectcalico.org "${n}" not found` : `${kind.toLowerCase()}s "${n}" not found`}\n`);
      found.push(it);
    }
    list = found;
  }
  const single = names.length === 1;
  if (a.output === 'yaml' || a.output === 'json') {
    let doc: Json;
    if (single) doc = list[0].obj;
    else {
      const rv = env.resourceVersion?.() ?? '';
      doc = { apiVersion: 'projectcalico.org/v3', items: list.map((x) => x.obj), kind: `${kind}List`, metadata: rv ? { resourceVersion: rv } : {} };
    }
    return ok(a.output === 'yaml' ? toGoYaml(doc) : JSON.stringify(doc, null, 2) + '\n');
  }
  if (a.output !== 'ps' && a.output !== 'wide') return fail(`Unrecognized output type '${a.output}'\n`);
  let heads = HEADINGS[kind][a.output === 'wide' ? 1 : 0];
  if (namespaced && a.allNamespaces) heads = ['NAMESPACE', ...heads];
  let text = heads.map((h) => h + '\t').join('') + '\n';
  for (const it of list) text += heads.map((h) => (h === 'NAMESPACE' ? it.namespace ?? '' : it.cells[h] ?? '') + '\t').join('') + '\n';
  return ok(tabwrite(text, { minwidth: 5, padding: 3 }));
}

// ------------------------------------------------------------------ ipam show

/** Go's %.5g for the counts calicoctl prints. */
function g5(n: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 5) {
    const m = (n / 10 ** exp).toPrecision(5).replace(/\.?0+$/, '');
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(Number(n.toPrecision(5)));
}

/** Go's %.0f: round half to even. */
function pct(x: number): string {
  const f = Math.floor(x);
  const d = x - f;
  return String(d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f);
}

const NUMBER = /^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$/;

/** olekukonko/tablewriter with calicoctl's settings: borders, centred headers, numbers right. */
function borderTable(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const sep = '+' + w.map((x) => '-'.repeat(x + 2)).join('+') + '+\n';
  const center = (s: string, n: number) => {
    const gap = n - s.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  let out = sep + '|' + header.map((h, i) => ` ${center(h, w[i])} `).join('|') + '|\n' + sep;
  for (const r of rows) out += '|' + r.map((c, i) => ` ${NUMBER.test(c) ? c.padStart(w[i]) : c.padEnd(w[i])} `).join('|') + '|\n';
  return out + sep;
}

function ipamShow(a: Args, env: CalicoctlEnv): CommandResult {
  const c = env.cluster();
  const used: number[] = [];
  for (const p of c.pods) if (p.ip && !p.hostNetwork) used.push(parseIPv4(p.ip) as number);
  for (const n of c.nodes) if (n.tunnelIP) used.push(parseIPv4(n.tunnelIP) as number);
  const row = (kind: string, cidr: string, inUse: number, capacity: number) => [
    kind, cidr, g5(capacity), `${g5(inUse)} (${pct((100 * inUse) / capacity)}%)`, `${g5(capacity - inUse)} (${pct((100 * (capacity - inUse)) / capacity)}%)`,
  ];
  const rows: string[][] = [];
  for (const pool of [...c.pools].sort((x, y) => cmp(x.cidr, y.cidr))) {
    const pp = parsePrefix(pool.cidr);
    if (!pp) continue;
    const cap = 2 ** (32 - pp.len);
    rows.push(row('IP Pool', pool.cidr, used.filter((ip) => inPrefix(ip, pp)).length, cap));
    if (a.showBlocks) {
      const size = pool.blockSize ?? 26;
      const blocks = new Set<string>((env.blocks?.() ?? []).map((b) => b.cidr).filter((b) => {
        const bp = parsePrefix(b);
        return bp !== null && inPrefix(bp.addr, pp);
      }));
      for (const ip of used) if (inPrefix(ip, pp)) blocks.add(`${formatIPv4((ip & maskOf(size)) >>> 0)}/${size}`);
      const sorted = [...blocks].sort((x, y) => (parsePrefix(x) as { addr: number }).addr - (parsePrefix(y) as { addr: number }).addr);
      for (const b of sorted) {
        const bp = parsePrefix(b) as { addr: number; len: number };
        rows.push(row('Block', b, used.filter((ip) => inPrefix(ip, bp)).length, 2 ** (32 - bp.len)));
      }
    }
  }
  return ok(borderTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows));
}

/** `calicoctl ARGS…` against the lab's cluster. */
export function calicoctl(argv: string[], _stdin: string, env: CalicoctlEnv): CommandResult {
  const parsed = parseArgs(argv.slice(1));
  if (typeof parsed === 'string') return fail(parsed + '\n' + USAGE);
  const [cmd, sub] = parsed.positional;
  switch (cmd) {
    case 'get':
      return get(parsed, env);
    case 'ipam':
      if (sub === 'show') return ipamShow(parsed, env);
      return fail(`Usage:
  calicoctl ipam <command> [<args>...]

    release          Release an IP address from IPAM
    show             Show details of a Calico configuration,
                     IP address or IP pool.
`);
    case undefined:
      return fail(USAGE);
    default:
      return fail(`Invalid option: '${cmd}'.\n` + USAGE);
  }
}
