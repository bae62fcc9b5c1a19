// Tab completion of a console line (no DOM: unit-tested under Node). The last word of the line
// is completed from what fits where it stands, as bash-completion does for these programs:
// command names first; then the program's options, table names after `iptables -t`, the host's
// chains after -L/-S/-A/-I/-D/-F/-j/-g/…, its ipsets after `ipset list|add|…` and
// `--match-set`, `ip` objects and their commands, kubectl verbs, resource types and the names
// of pods, Services, nodes and Deployments, calicoctl's verbs and resource types. Anything else
// completes from the lab's host, node, pod and Service names.

/** Command names the engine's shell knows (main/engine/shell/programs.ts, textutils.ts, the net clients), and `clear`. */
export const COMMANDS = [
  'calicoctl', 'cat', 'clear', 'column', 'conntrack', 'curl', 'dig', 'echo', 'egrep', 'false', 'grep', 'head', 'hostname', 'ip',
  'ipset', 'iptables', 'iptables-nft', 'iptables-nft-restore', 'iptables-nft-save', 'iptables-restore', 'iptables-save',
  'kubectl', 'nc', 'nfacct', 'nslookup', 'ping', 'sleep', 'sort', 'sysctl', 'tail', 'true', 'uniq', 'wc', 'wget',
];

/** What the cluster has, by kind (for kubectl and calicoctl). */
export interface KubeNames {
  pods: string[];
  services: string[];
  nodes: string[];
  deployments: string[];
  namespaces: string[];
}

/** The console host's netfilter chains per table and its ipset names (from LabApi.rules). */
export interface HostTables {
  chains: Partial<Record<string, string[]>>;
  sets: string[];
}

export interface CompletionContext {
  kube?: KubeNames;
  host?: HostTables;
}

export interface Completion {
  line: string;
  /** The candidates when the word is ambiguous and cannot be completed further (bash's second Tab). */
  candidates: string[];
}

/** The longest common prefix of some strings. */
export function commonPrefix(words: string[]): string {
  if (!words.length) return '';
  let p = words[0];
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}

// ---- the programs' words -------------------------------------------------------------------

export const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'];
const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};
const IPTABLES_OPTS = [
  '-t', '--table', '-L', '--list', '-S', '--list-rules', '-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace',
  '-C', '--check', '-N', '--new-chain', '-X', '--delete-chain', '-F', '--flush', '-Z', '--zero', '-P', '--policy', '-E', '--rename-chain',
  '-n', '--numeric', '-v', '--verbose', '-x', '--exact', '--line-numbers', '-j', '--jump', '-g', '--goto', '-p', '--protocol',
  '-s', '--source', '-d', '--destination', '-i', '--in-interface', '-o', '--out-interface', '-m', '--match', '-w', '--wait',
  '--dport', '--sport', '--dports', '--sports', '--to-destination', '--to-source', '--to-ports', '--comment', '--match-set',
  '--ctstate', '--state', '--mark', '--set-xmark', '--set-mark', '--mode', '--probability', '--every', '--random', '--random-fully',
  '--src-type', '--dst-type', '--physdev-is-in', '--reject-with', '--tcp-flags', '--syn', '--log-prefix',
];
/** Options followed by a chain of the table. */
const CHAIN_OPTS = new Set([
  '-L', '--list', '-S', '--list-rules', '-A', '--append', '-I', '--insert', '-D', '--delete', '-R', '--replace', '-C', '--check',
  '-N', '--new-chain', '-X', '--delete-chain', '-F', '--flush', '-Z', '--zero', '-E', '--rename-chain',
]);
const TARGETS = ['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'LOG', 'NOTRACK', 'CT'];
const MATCHES = ['addrtype', 'comment', 'conntrack', 'connmark', 'icmp', 'limit', 'mark', 'multiport', 'physdev', 'recent', 'set', 'state', 'statistic', 'tcp', 'udp', 'sctp'];
const PROTOS = ['tcp', 'udp', 'icmp', 'sctp', 'all'];
const CTSTATES = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'];
const SAVE_OPTS = ['-t', '--table', '-c', '--counters'];
const RESTORE_OPTS = ['-n', '--noflush', '-c', '--counters', '-T', '--table', '-t', '--test', '-w', '--wait', '-v', '--verbose'];

const IPSET_CMDS = ['create', 'add', 'del', 'test', 'destroy', 'list', 'save', 'restore', 'flush', 'rename', 'swap', 'help', 'version'];
/** ipset commands whose next word is a set (aliases included). */
const IPSET_SET_CMDS = new Set(['add', 'del', 'test', 'destroy', 'x', 'list', 'save', 'flush', 'rename', 'e', 'swap', 'w']);
const IPSET_OPTS = ['-exist', '-output', '-o', '-quiet', '-q', '-resolve', '-r', '-sorted', '-s', '-name', '-n', '-terse', '-t', '-file', '-f'];
const IPSET_TYPES = ['hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'hash:net', 'hash:net,port', 'hash:net,iface', 'hash:mac', 'bitmap:ip', 'bitmap:port', 'list:set'];
const IPSET_CREATE_OPTS = ['family', 'hashsize', 'maxelem', 'timeout', 'counters', 'comment', 'skbinfo'];

const CONNTRACK_OPTS = [
  '-L', '--dump', '-D', '--delete', '-F', '--flush', '-E', '--event', '-G', '--get', '-I', '--create', '-U', '--update', '-C', '--count',
  '-S', '--stats', '-p', '--proto', '-s', '--src', '--orig-src', '-d', '--dst', '--orig-dst', '-r', '--reply-src', '-q', '--reply-dst',
  '--sport', '--orig-port-src', '--dport', '--orig-port-dst', '--reply-port-src', '--reply-port-dst', '-m', '--mark', '--state',
  '-n', '--src-nat', '-g', '--dst-nat', '-z', '--zero', '-o', '--output', '-f', '--family', '-u', '--status', '-t', '--timeout',
];
const CT_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'LISTEN'];

const IP_OBJECTS = ['address', 'addr', 'link', 'neighbor', 'neigh', 'route', 'rule'];
const IP_OPTS = ['-4', '-6', '-s', '-d', '-o', '-br', '-brief', '-details', '-j', '-json', '-p', '-pretty', '-c', '-color', '-f', '-family'];
const IP_COMMANDS: Record<string, string[]> = {
  address: ['show', 'add', 'del', 'flush'],
  link: ['show', 'set', 'add', 'del'],
  neighbor: ['show', 'add', 'del', 'replace', 'flush'],
  route: ['show', 'list', 'get', 'add', 'del', 'replace', 'flush'],
  rule: ['show', 'list', 'add', 'del', 'flush'],
};

const KUBECTL_VERBS = ['get', 'describe', 'apply', 'create', 'delete', 'scale', 'label'];
const KUBECTL_OPTS = [
  '-n', '--namespace', '-o', '--output', '-l', '--selector', '-A', '--all-namespaces', '--show-labels', '--no-headers', '--show-kind',
  '-f', '--filename', '--replicas', '--show-events', '--context', '--kubeconfig',
];
/** Resource types (plural, singular, short) and the cluster names they take. */
const KUBE_TYPES: [string[], keyof KubeNames | null][] = [
  [['pods', 'pod', 'po'], 'pods'],
  [['services', 'service', 'svc'], 'services'],
  [['endpoints', 'ep'], 'services'],
  [['endpointslices', 'endpointslice'], null],
  [['nodes', 'node', 'no'], 'nodes'],
  [['deployments', 'deployment', 'deploy'], 'deployments'],
  [['replicasets', 'replicaset', 'rs'], null],
  [['networkpolicies', 'networkpolicy', 'netpol'], null],
  [['namespaces', 'namespace', 'ns'], 'namespaces'],
];
const KUBE_TYPE_WORDS = ['all', 'pods', 'services', 'svc', 'endpoints', 'endpointslices', 'nodes', 'deployments', 'deploy', 'replicasets', 'networkpolicies', 'netpol', 'namespaces'];
const KUBE_OUTPUTS = ['wide', 'yaml', 'json', 'name', 'jsonpath='];

const CALICO_VERBS = ['get', 'create', 'apply', 'replace', 'delete', 'patch', 'label', 'ipam', 'node', 'version'];
const CALICO_TYPES = ['workloadendpoints', 'wep', 'ippools', 'nodes', 'networkpolicies', 'globalnetworkpolicies', 'gnp'];
const CALICO_OPTS = ['-o', '--output', '-n', '--namespace', '-A', '--all-namespaces', '--allow-version-mismatch', '--show-blocks', '-f', '--filename'];

const SYSCTL_KEYS = [
  'net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.all.route_localnet', 'net.ipv4.conf.default.rp_filter',
  'net.bridge.bridge-nf-call-iptables', 'net.netfilter.nf_conntrack_max', 'net.ipv4.ip_local_port_range',
];

// ---- where the word stands -----------------------------------------------------------------

/** What the word being completed can be. */
type Slot =
  | { kind: 'commands' }
  | { kind: 'names' }
  | { kind: 'words'; words: string[] }
  | { kind: 'chains'; table: string; targets: boolean; builtinOnly?: boolean }
  | { kind: 'sets' }
  | { kind: 'kube'; of: keyof KubeNames; prefix?: string };

interface Parsed {
  /** The words before the one being completed, in this command (after the last | ; && ||). */
  args: string[];
  word: string;
  /** The line up to the word. */
  before: string;
}

function parse(line: string): Parsed {
  const m = /(\S*)$/.exec(line);
  const word = m ? m[1] : '';
  const before = line.slice(0, line.length - word.length);
  const seg = before.replace(/^[\s\S]*(\|\||&&|[|;&])/, '');
  return { args: seg.split(/\s+/).filter(Boolean), word, before };
}

function valueOf(args: string[], ...opts: string[]): string | undefined {
  for (let i = args.length - 2; i >= 0; i--) if (opts.includes(args[i])) return args[i + 1];
  for (const a of args) for (const o of opts) if (o.startsWith('--') && a.startsWith(`${o}=`)) return a.slice(o.length + 1);
  return undefined;
}

/** The positional words after the command (skipping options, and the values of `withValue` options). */
function positionals(args: string[], withValue: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-')) {
      if (withValue.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function iptablesSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  const table = valueOf(args, '-t', '--table') ?? 'filter';
  if (prev === '-t' || prev === '--table') return { kind: 'words', words: TABLES };
  if (prev === '--match-set') return { kind: 'sets' };
  if (args[args.length - 2] === '--match-set') return { kind: 'words', words: ['src', 'dst', 'src,dst', 'dst,src', 'src,src', 'dst,dst'] };
  if (prev === '-P' || prev === '--policy') return { kind: 'chains', table, targets: false, builtinOnly: true };
  if (args[args.length - 2] === '-P' || args[args.length - 2] === '--policy') return { kind: 'words', words: ['ACCEPT', 'DROP'] };
  if (CHAIN_OPTS.has(prev)) return { kind: 'chains', table, targets: false };
  if (prev === '-j' || prev === '--jump' || prev === '-g' || prev === '--goto') return { kind: 'chains', table, targets: prev === '-j' || prev === '--jump' };
  if (prev === '-m' || prev === '--match') return { kind: 'words', words: MATCHES };
  if (prev === '-p' || prev === '--protocol') return { kind: 'words', words: PROTOS };
  if (prev === '--ctstate' || prev === '--state') return { kind: 'words', words: CTSTATES };
  if (prev === '--src-type' || prev === '--dst-type') return { kind: 'words', words: ['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE'] };
  if (prev === '--mode') return { kind: 'words', words: ['random', 'nth'] };
  if (prev === '--reject-with') return { kind: 'words', words: ['icmp-port-unreachable', 'icmp-host-unreachable', 'icmp-net-unreachable', 'icmp-admin-prohibited', 'tcp-reset'] };
  return { kind: 'words', words: word.startsWith('-') || !word ? IPTABLES_OPTS : [] };
}

function ipsetSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  if (prev === '-o' || prev === '-output') return { kind: 'words', words: ['plain', 'save', 'xml'] };
  if (prev === '-f' || prev === '-file') return { kind: 'words', words: [] };
  if (word.startsWith('-')) return { kind: 'words', words: IPSET_OPTS };
  const pos = positionals(args, new Set(['-o', '-output', '-f', '-file']));
  if (!pos.length) return { kind: 'words', words: IPSET_CMDS };
  const cmd = pos[0];
  if (IPSET_SET_CMDS.has(cmd) && (pos.length === 1 || (pos.length === 2 && (cmd === 'swap' || cmd === 'w')))) return { kind: 'sets' };
  if ((cmd === 'create' || cmd === 'n') && pos.length === 2) return { kind: 'words', words: IPSET_TYPES };
  if ((cmd === 'create' || cmd === 'n') && pos.length >= 3) {
    if (prev === 'family') return { kind: 'words', words: ['inet', 'inet6'] };
    return { kind: 'words', words: IPSET_CREATE_OPTS };
  }
  return { kind: 'words', words: [] };
}

function conntrackSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  if (prev === '-p' || prev === '--proto') return { kind: 'words', words: ['tcp', 'udp', 'icmp', 'sctp'] };
  if (prev === '--state') return { kind: 'words', words: CT_STATES };
  if (prev === '-f' || prev === '--family') return { kind: 'words', words: ['ipv4', 'ipv6'] };
  if (prev === '-o' || prev === '--output') return { kind: 'words', words: ['extended', 'xml', 'timestamp', 'id', 'ktimestamp', 'labels', 'userspace'] };
  if (['-L', '--dump', '-F', '--flush', '-E', '--event', '-C', '--count', '-S', '--stats'].includes(prev) && !word.startsWith('-')) return { kind: 'words', words: ['conntrack', 'expect'] };
  return { kind: 'words', words: word.startsWith('-') || !word ? CONNTRACK_OPTS : [] };
}

function ipSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  if (prev === 'table') return { kind: 'words', words: ['main', 'local', 'default', 'all'] };
  if (prev === 'proto') return { kind: 'words', words: ['kernel', 'boot', 'static', 'bird'] };
  if (prev === 'scope') return { kind: 'words', words: ['global', 'link', 'host'] };
  if (word.startsWith('-')) return { kind: 'words', words: IP_OPTS };
  const pos = positionals(args, new Set(['-f', '-family']));
  if (!pos.length) return { kind: 'words', words: IP_OBJECTS };
  const obj = ['address', 'link', 'neighbor', 'route', 'rule'].find((o) => o.startsWith(pos[0]) || (pos[0] === 'neighbour' && o === 'neighbor'));
  if (pos.length === 1 && obj) return { kind: 'words', words: IP_COMMANDS[obj] };
  if (obj === 'route' && ['add', 'del', 'replace', 'show', 'list', 'get', 'flush'].includes(pos[1])) return { kind: 'words', words: ['via', 'dev', 'src', 'table', 'proto', 'scope', 'metric', 'blackhole', 'unreachable', 'default'] };
  if (obj === 'link' && pos[1] === 'set') return { kind: 'words', words: pos.length === 2 ? ['dev'] : ['up', 'down', 'mtu', 'address'] };
  if (obj === 'rule' && ['add', 'del'].includes(pos[1])) return { kind: 'words', words: ['from', 'to', 'fwmark', 'iif', 'oif', 'lookup', 'table', 'priority', 'pref'] };
  if (pos.length >= 2) return { kind: 'words', words: ['dev', 'to', 'table', 'scope'] };
  return { kind: 'words', words: [] };
}

function kubeTypeOf(word: string): keyof KubeNames | null | undefined {
  const w = word.toLowerCase().replace(/\..*$/, '');
  for (const [names, of] of KUBE_TYPES) if (names.includes(w)) return of;
  return undefined;
}

function kubectlSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  if (prev === '-n' || prev === '--namespace') return { kind: 'kube', of: 'namespaces' };
  if (prev === '-o' || prev === '--output') return { kind: 'words', words: KUBE_OUTPUTS };
  if (prev === '-f' || prev === '--filename') return { kind: 'words', words: ['-'] };
  if (prev === '-l' || prev === '--selector' || prev === '--context' || prev === '--kubeconfig') return { kind: 'words', words: [] };
  if (word.startsWith('-')) return { kind: 'words', words: KUBECTL_OPTS };
  const pos = positionals(args, new Set(['-n', '--namespace', '-o', '--output', '-l', '--selector', '-f', '--filename', '--context', '--kubeconfig', '-s', '--server']));
  if (!pos.length) return { kind: 'words', words: KUBECTL_VERBS };
  const verb = pos[0];
  if (!['get', 'describe', 'delete', 'scale', 'label'].includes(verb)) return { kind: 'words', words: [] };
  // TYPE/NAME in one word.
  const slash = word.indexOf('/');
  if (slash > 0) {
    const of = kubeTypeOf(word.slice(0, slash));
    return of ? { kind: 'kube', of, prefix: word.slice(0, slash + 1) } : { kind: 'words', words: [] };
  }
  if (pos.length === 1) return { kind: 'words', words: verb === 'scale' ? ['deployments', 'deployment', 'deploy', 'replicasets'] : KUBE_TYPE_WORDS };
  const of = kubeTypeOf(pos[1]);
  return of ? { kind: 'kube', of } : { kind: 'words', words: [] };
}

function calicoctlSlot(args: string[], word: string): Slot {
  const prev = args[args.length - 1];
  if (prev === '-o' || prev === '--output') return { kind: 'words', words: ['ps', 'wide', 'yaml', 'json', 'custom-columns='] };
  if (prev === '-n' || prev === '--namespace') return { kind: 'kube', of: 'namespaces' };
  if (word.startsWith('-')) return { kind: 'words', words: CALICO_OPTS };
  const pos = positionals(args, new Set(['-o', '--output', '-n', '--namespace', '-f', '--filename']));
  if (!pos.length) return { kind: 'words', words: CALICO_VERBS };
  if (pos[0] === 'ipam') return { kind: 'words', words: pos.length === 1 ? ['show', 'check', 'release'] : [] };
  if (!['get', 'delete', 'label', 'patch'].includes(pos[0])) return { kind: 'words', words: [] };
  if (pos.length === 1) return { kind: 'words', words: CALICO_TYPES };
  return ['nodes', 'node', 'no'].includes(pos[1].toLowerCase()) ? { kind: 'kube', of: 'nodes' } : { kind: 'words', words: [] };
}

function slotOf(p: Parsed): Slot {
  const { args, word } = p;
  if (!args.length) return { kind: 'commands' };
  switch (args[0]) {
    case 'iptables':
      return iptablesSlot(args, word);
    case 'iptables-save':
      return args[args.length - 1] === '-t' || args[args.length - 1] === '--table' ? { kind: 'words', words: TABLES } : { kind: 'words', words: SAVE_OPTS };
    case 'iptables-restore':
      return { kind: 'words', words: RESTORE_OPTS };
    case 'ipset':
      return ipsetSlot(args, word);
    case 'conntrack':
      return conntrackSlot(args, word);
    case 'ip':
      return ipSlot(args, word);
    case 'kubectl':
      return kubectlSlot(args, word);
    case 'calicoctl':
      return calicoctlSlot(args, word);
    case 'sysctl':
      return { kind: 'words', words: word.startsWith('-') ? ['-w', '-n', '-a', '-p'] : SYSCTL_KEYS };
    default:
      return { kind: 'names' };
  }
}

/** Whether completing this line needs the host's chains or ipsets (HostTables). */
export function needsHost(line: string): boolean {
  const s = slotOf(parse(line));
  return s.kind === 'chains' || s.kind === 'sets';
}

/** The table whose chains the line's word completes to, if any (to ask LabApi.rules for that table only). */
export function chainsTable(line: string): string | null {
  const s = slotOf(parse(line));
  return s.kind === 'chains' ? s.table : null;
}

// ---- completion ----------------------------------------------------------------------------

const MAX_CANDIDATES = 1000;

/**
 * Completion of the line's last word: the new line (the word completed, or extended to the
 * candidates' common prefix) and the candidates when nothing more can be added (bash shows them
 * on the second Tab). `names`: the lab's host, node, pod and Service names; `ctx`: the cluster's
 * names by kind and the console host's chains and sets.
 */
export function complete(line: string, names: string[], ctx: CompletionContext = {}): Completion {
  const p = parse(line);
  const { word, before } = p;
  const slot = slotOf(p);
  let pool: string[];
  let prefix = '';
  switch (slot.kind) {
    case 'commands':
      pool = COMMANDS;
      break;
    case 'names':
      pool = [...new Set([...names, ...COMMANDS])];
      break;
    case 'words':
      pool = slot.words;
      break;
    case 'chains': {
      const have = ctx.host?.chains[slot.table] ?? BUILTIN_CHAINS[slot.table] ?? [];
      const builtins = new Set(BUILTIN_CHAINS[slot.table] ?? []);
      pool = slot.builtinOnly ? have.filter((c) => builtins.has(c)) : [...have, ...(slot.targets ? TARGETS : [])];
      break;
    }
    case 'sets':
      pool = ctx.host?.sets ?? [];
      break;
    case 'kube':
      pool = ctx.kube?.[slot.of] ?? (slot.of === 'namespaces' ? ['default', 'kube-system'] : names);
      prefix = slot.prefix ?? '';
      break;
  }
  const stem = word.slice(prefix.length);
  const hits = [...new Set(pool)].filter((w) => w.startsWith(stem)).sort();
  if (!hits.length) return { line, candidates: [] };
  if (slot.kind === 'names' && !word && hits.length > 200) return { line, candidates: [] };
  if (hits.length === 1) {
    const done = hits[0].endsWith('=') || hits[0].endsWith('/');
    return { line: `${before}${prefix}${hits[0]}${done ? '' : ' '}`, candidates: [] };
  }
  const common = commonPrefix(hits);
  if (common.length > stem.length) return { line: before + prefix + common, candidates: [] };
  return { line, candidates: hits.slice(0, MAX_CANDIDATES).map((h) => prefix + h) };
}

/**
 * Candidates laid out as bash lists them: in columns (down, then across) as wide as the
 * longest word plus two spaces, as many as fit in `width` characters.
 */
export function formatColumns(words: string[], width: number): string {
  if (!words.length) return '';
  const colW = Math.max(...words.map((w) => w.length)) + 2;
  const cols = Math.max(1, Math.floor((width + 2) / colW));
  const rows = Math.ceil(words.length / cols);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let s = '';
    for (let c = 0; c < cols; c++) {
      const w = words[c * rows + r];
      if (w === undefined) continue;
      s += c * rows + r + rows < words.length ? w.padEnd(colW) : w;
    }
    lines.push(s.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

// ---- reverse-i-search ----------------------------------------------------------------------

/**
 * Ctrl+R: the newest history entry at or before `from` (an index into `history`, oldest first)
 * containing `query`, as bash's reverse-i-search finds it; -1 when there is none. An empty query
 * matches nothing (bash shows the prompt and waits).
 */
export function reverseSearch(history: readonly string[], query: string, from: number): number {
  if (!query) return -1;
  for (let i = Math.min(from, history.length - 1); i >= 0; i--) if (history[i].includes(query)) return i;
  return -1;
}
