// The netfilter vocabulary shared by the rule parser, the text formats, the match/target
// modules and the datapath walk. A rule is stored parsed (never as text): the iptables-save
// text is printed from it, so every rule has exactly one canonical form.

import type { IPv4 } from '../net/ipv4.ts';

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Built-in chains of each table, in the order iptables-save prints them. */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly Hook[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export const PROTO = { icmp: 1, tcp: 6, udp: 17, sctp: 132 } as const;

/** TCP flag bits as in the TCP header (and in `--tcp-flags`). */
export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

// ---------------------------------------------------------------------------------------------
// Rules

export interface AddrSpec {
  addr: IPv4; // as given, host bits already cleared by the parser (iptables does that)
  len: number;
  neg: boolean;
}

export interface IfaceSpec {
  name: string; // may end in '+' (prefix wildcard)
  neg: boolean;
}

export interface ProtoSpec {
  num: number; // 0 = all
  neg: boolean;
}

/** One `-m NAME ...` (explicit or implicit, e.g. the `-m tcp` that `-p tcp --dport` loads). */
export interface MatchSpec<D = unknown> {
  module: string;
  data: D;
}

/** `-j NAME ...` / `-g CHAIN`. Standard verdicts and chain names have `data` undefined. */
export interface TargetSpec<D = unknown> {
  name: string;
  data: D;
  goto: boolean;
}

export interface Rule {
  src?: AddrSpec;
  dst?: AddrSpec;
  inIface?: IfaceSpec;
  outIface?: IfaceSpec;
  proto?: ProtoSpec;
  fragment?: { neg: boolean };
  matches: MatchSpec[];
  target?: TargetSpec; // absent: a counting-only rule
  packets: number;
  bytes: number;
  /** What produced the rule (kube-proxy service port, Calico policy, console). Opaque here. */
  origin?: unknown;
}

export interface Chain {
  name: string;
  builtin: boolean;
  policy?: 'ACCEPT' | 'DROP'; // built-in chains only
  packets: number; // policy counters
  bytes: number;
  rules: Rule[];
  /** TableState.validate's memo: the chain's summary (`vsum`) as of validation pass `vpass`.
   *  Nothing else reads them. */
  vpass?: number;
  vsum?: number;
  /** TableState's: the chain's place in its table (the order chains were made in; kept by
   *  a flush, a rename and a copy), for putting the order back when a change is undone. */
  seq?: number;
}

export interface Table {
  name: TableName;
  chains: Map<string, Chain>; // insertion order = builtin order, then creation order
}

// ---------------------------------------------------------------------------------------------
// Packets as the matches and targets see them

export interface Packet {
  src: IPv4;
  dst: IPv4;
  proto: number; // PROTO.*, or any other IP protocol number
  sport: number; // 0 when the protocol has no ports
  dport: number;
  tcpFlags: number; // TCP.* bits
  icmpType: number;
  icmpCode: number;
  icmpId: number;
  ttl: number;
  len: number; // bytes, for counters and `-m length`
  mark: number; // skb->mark (u32)
  /** ICMP errors: the tuple of the packet the error is about (what conntrack relates it to). */
  inner?: Tuple;
  /** Source MAC of the Ethernet frame the packet arrived in (`-m mac`), lower-case
   *  `aa:bb:cc:dd:ee:ff`; absent for locally generated packets. */
  srcMac?: string;
  /** SCTP chunks in packet order (`-m sctp --chunk-types`); absent: the module assumes an
   *  INIT chunk for a NEW association and one DATA chunk otherwise. */
  sctpChunks?: readonly { type: number; flags: number }[];
}

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
export type CtStatusBit = 'EXPECTED' | 'SEEN_REPLY' | 'ASSURED' | 'CONFIRMED' | 'SNAT' | 'DNAT';

export interface Tuple {
  src: IPv4;
  dst: IPv4;
  proto: number;
  sport: number; // icmp: echo id
  dport: number; // icmp: echo id as well (conntrack keys icmp by type/code/id)
}

/** The conntrack entry of the packet being walked, as `-m conntrack`, `-m state`,
 *  `-m connmark` and CONNMARK see it. */
export interface CtView {
  state: CtState;
  dir: 'ORIGINAL' | 'REPLY';
  orig: Tuple;
  reply: Tuple;
  status: ReadonlySet<CtStatusBit>;
  mark: number; // read/write through CONNMARK
  expires: number; // seconds left, for --ctexpire
  /** The entry's accounting counters per direction (the packet itself counted), when it has
   *  them: made while net.netfilter.nf_conntrack_acct was on. For -m connbytes. */
  readonly counters?: { readonly ORIGINAL: CtCount; readonly REPLY: CtCount } | null;
}

export interface CtCount {
  readonly packets: number;
  readonly bytes: number;
}

export type AddrType =
  | 'UNSPEC' | 'UNICAST' | 'LOCAL' | 'BROADCAST' | 'ANYCAST' | 'MULTICAST'
  | 'BLACKHOLE' | 'UNREACHABLE' | 'PROHIBIT' | 'THROW' | 'NAT' | 'XRESOLVE';

/** What `-m set` asks of a set besides membership: xt_set's flags and counter conditions. */
export interface SetTestOptions {
  /** Count the packet in the element that matched (default true; false: `! --update-counters`,
   *  or a dry run such as "why did this miss"). */
  updateCounters?: boolean;
  /** `! --update-subcounters`: the member sets of a list:set do not count it. */
  updateSubcounters?: boolean;
  /** `--return-nomatch`: in a set type with nomatch elements, a nomatch element matches and a
   *  plain one does not. */
  returnNomatch?: boolean;
  /** `--packets-*` / `--bytes-*`: what the matching element's counters (this packet counted)
   *  must pass, in a set with counters; an element that fails them is passed over. */
  counters?: (packets: bigint, bytes: bigint) => boolean;
}

/** What a match or target may ask of the host it runs on. Implemented by the datapath. */
export interface HostEnv {
  /** Route type of `addr` in this host's local/main tables; `iface` restricts the lookup
   *  to that device (`--limit-iface-in/out`). */
  addrType(addr: IPv4, iface?: string): AddrType;
  /** `undefined` when no set of that name exists. `dirs` are the src/dst flags in order. */
  ipsetTest(name: string, pkt: Packet, dirs: readonly ('src' | 'dst')[], opts?: SetTestOptions): boolean | undefined;
  /** `-j SET`: the packet's element added to or deleted from the set (what it refuses ignored). */
  ipsetAdt?(cmd: 'add' | 'del', name: string, pkt: Packet, dirs: readonly ('src' | 'dst')[], opts: { exist: boolean; timeout?: number }): void;
  /** Seeded uniform [0, 1) for `statistic --mode random`. */
  random(): number;
  /** A Bernoulli trial with probability `p`, for `statistic --mode random`: drawn from the
   *  seeded generator, or decided by the walk when it enumerates every outcome. Modules
   *  should prefer it to `random()` when present. */
  chance?(p: number): boolean;
  /** Per-rule persistent state (statistic nth counter, ...), kept with the host's runtime. */
  ruleState<T>(rule: Rule, key: string, init: () => T): T;
  /** `-m recent` lists of this host. */
  recent: RecentTables;
  /** `-m rpfilter`'s reverse-path lookup (kernel rpfilter_lookup_reverse): route `pkt.src`
   *  as a destination (with `pkt.mark` when `validMark`), from `pkt.dst`; true when the route
   *  is unicast (or local with `acceptLocal`) and leaves through `inIface` (any device when
   *  `loose`). The module itself handles loopback and 0.0.0.0 sources. Absent: every packet
   *  passes the check. */
  rpfilterCheck?(pkt: Packet, inIface: string, opts: { loose: boolean; validMark: boolean; acceptLocal: boolean }): boolean;
  /** The host's nfacct object of that name (`-m nfacct` adds to it). */
  nfacct?(name: string): { pkts: number; bytes: number } | undefined;
  /** Lab clock in seconds. */
  now(): number;
}

export interface RecentTables {
  /** Timestamps (seconds, oldest first) and last ttl seen for `addr` in list `name`. */
  get(name: string, addr: IPv4): { stamps: number[]; ttl: number } | undefined;
  set(name: string, addr: IPv4, stamp: number, ttl: number): void;
  remove(name: string, addr: IPv4): void;
  /** The least recently set/updated address of list `name` (the kernel's LRU head, which
   *  `--reap` may remove). Absent: `--reap` only considers the packet's own entry. */
  oldest?(name: string): IPv4 | undefined;
}

/** Everything a match sees for one packet at one point of the walk. */
export interface MatchCtx {
  hook: Hook;
  table: TableName;
  inIface?: string; // absent where the hook has none (OUTPUT has no in, PREROUTING no out)
  outIface?: string;
  pkt: Packet;
  ct: CtView | null; // null: untracked or not yet looked up
  host: HostEnv;
  rule: Rule;
}

/** A NAT request from DNAT/SNAT/MASQUERADE/REDIRECT; the walk binds it in conntrack. */
export interface NatRequest {
  kind: 'dnat' | 'snat' | 'masquerade' | 'redirect';
  minIp?: IPv4; // absent: keep the address (port-only DNAT) / pick one (MASQUERADE, REDIRECT)
  maxIp?: IPv4;
  minPort?: number;
  maxPort?: number;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

/** What a target tells the walk. Non-terminating targets (MARK, LOG, ...) return `continue`
 *  after changing `ctx.pkt.mark`, `ctx.ct.mark` or recording a log line through `log`. */
export type TargetResult =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'reject'; with: string; tcpReset: boolean }
  | { kind: 'return' }
  | { kind: 'continue' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'nat'; nat: NatRequest }
  | { kind: 'notrack' }
  | { kind: 'trace' };

export interface TargetCtx extends MatchCtx {
  log(line: string): void;
}

// ---------------------------------------------------------------------------------------------
// Match and target modules: one file each under matches/ and targets/.

/** Reads option arguments during parsing (`--tcp-flags` takes two, most take one). */
export interface ArgCursor {
  /** The next argument, consumed; throws the iptables "requires an argument" error if none. */
  next(): string;
  /** The next argument without consuming it, or undefined at the end / at the next option. */
  peek(): string | undefined;
}

/** Thrown by parsing with the exact message the real tool prints (and its exit status). */
export class IptablesError extends Error {
  readonly status: number;
  constructor(message: string, status = 2) {
    super(message);
    this.status = status;
  }
}

export interface ParseCtx {
  table: TableName;
  proto?: ProtoSpec; // the rule's -p, for modules that need it (tcp/udp/multiport)
  /** 'restore' when parsing an iptables-restore line (errors then name the line). */
  mode: 'command' | 'restore';
  /** Whether an ipset of that name exists on the host (`-m set` refuses unknown sets). */
  setExists?: (name: string) => boolean;
  /** Whether an nfacct object of that name exists on the host (`-m nfacct`). */
  nfacctExists?: (name: string) => boolean;
}

export interface ModuleBase<D> {
  name: string;
  /** Long option names this module owns, without the leading `--`, with the number of
   *  arguments each takes (0, 1, or 2 for --tcp-flags). */
  options: Readonly<Record<string, number>>;
  /** Options that accept a leading `!` (checked by the parser). */
  invertible?: readonly string[];
  /** A fresh, empty option record. */
  create(): D;
  /** Store one option. `args` holds exactly `options[opt]` arguments; the parser reuses
   *  the array for later options, so keep the strings, never the array. */
  parse(data: D, opt: string, args: string[], invert: boolean, ctx: ParseCtx): void;
  /** Checks after all options were seen (required options, conflicts); may fill defaults. */
  finish?(data: D, ctx: ParseCtx): void;
  /** The canonical iptables-save text after `-m NAME` / `-j NAME`, starting with a space
   *  when not empty (e.g. ` --dport 80`). */
  save(data: D): string;
  /** The text `iptables -L` shows in the last column; `numeric` for `-n`. Like `save`, it
   *  starts with a space when not empty (the framework adds one when it is missing). */
  list(data: D, numeric: boolean): string;
  /** The kernel's own check when the rule is loaded (its checkentry): false refuses the
   *  rule with EINVAL, which iptables reports as `RULE_APPEND failed (Invalid argument)`;
   *  'ENOENT' refuses it with that errno (an object the rule names does not exist).
   *  `hook` is given for built-in chains only: the kernel checks rules of user chains
   *  with no hook (only the static `tables`/`hooks` of targets are followed through jumps). */
  kernelCheck?(data: D, ctx: KernelCheckCtx): boolean | 'ENOENT';
  /** The kernel objects the rule holds a reference to through this module, by kind: the sets
   *  `-m set` and `-j SET` name (ipset's References), the nfacct object `-m nfacct` names. */
  refs?(data: D): readonly ModuleRef[];
}

/** A kernel object a rule's module names (see `ModuleBase.refs`). */
export interface ModuleRef {
  kind: 'set' | 'nfacct';
  name: string;
}

/** What a module's kernel-side check sees (see `ModuleBase.kernelCheck`). */
export interface KernelCheckCtx {
  table: TableName;
  hook?: Hook;
  proto?: ProtoSpec;
}

export interface MatchModule<D = unknown> extends ModuleBase<D> {
  kind: 'match';
  /** Whether the packet matches. Must not change anything but the module's ruleState and
   *  `-m recent`'s lists (which the kernel changes while matching, too). */
  match(data: D, ctx: MatchCtx): boolean;
  /** A short reason for a miss, computed only when asked (`dpt 80 != 443`). */
  why(data: D, ctx: MatchCtx): string;
  /** For the rule index: the single destination port this match requires, if it requires
   *  exactly one (not inverted). Optional; modules without it are never indexed by port. */
  exactDport?(data: D): number | undefined;
}

export interface TargetModule<D = unknown> extends ModuleBase<D> {
  kind: 'target';
  /** Tables (and hooks) where the target is valid, as the kernel checks at load. */
  tables?: readonly TableName[];
  hooks?: readonly Hook[];
  /** The name `iptables -L` shows in its target column when it is not `name`: aliases
   *  list as their real target (`-j NOTRACK` lists as `CT`, save and -S keep NOTRACK). */
  listName?: string;
  apply(data: D, ctx: TargetCtx): TargetResult;
}
