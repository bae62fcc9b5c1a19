// What the walk needs of a host and of the topology. Hosts hand over their parts as they are
// (NetNs, the tables, ConntrackTable); only the cabling between hosts is the topology's.

import type { ConntrackTable } from '../conntrack/table.ts';
import type { NetNs } from '../net/netns.ts';
import type { IndexCache } from '../netfilter/rule-index.ts';
import type { HostEnv, Table, TableName } from '../netfilter/types.ts';
import type { IPv4 } from '../net/ipv4.ts';

export interface NfPort {
  /** The table, when it exists on the host and its built-in chain is hooked in the kernel
   *  (only hooked chains see packets). */
  hookedTable(table: TableName, chain: string): Table | undefined;
  /** Whether the chain's policy counts packets (see TableState.counted). */
  policyCounted(table: TableName, chain: string): boolean;
  generation: number;
}

export interface WalkHost {
  name: string;
  net: NetNs;
  nf: NfPort;
  ct: ConntrackTable;
  env: HostEnv;
  index: IndexCache;
  /** Seeded generator for NAT port choice. */
  rng: () => number;
  /** Whether conntrack runs in this host (a nat table or a conntrack-using rule loaded it). */
  tracking(): boolean;
  /** A socket bound to `port` for `proto` that accepts packets to `dst`. */
  listens(proto: number, port: number, dst: IPv4): boolean;
}

export interface Topology {
  host(name: string): WalkHost | undefined;
  /** The other ends of the cable or LAN that `dev` of `host` is attached to, in a fixed order. */
  peers(host: string, dev: string): { host: string; dev: string }[];
}
