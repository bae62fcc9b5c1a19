// The rules browser's JSON: one host's netfilter tables (chains with policies, counters and
// references, rules as `iptables -S` prints them with their counters), its ipsets and its
// conntrack table. Written by the engine's reader (main/engine/host-view.ts), carried by
// LabApi.rules and shown by the renderer's rules browser.

export type RulesTableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';

export interface RulesQuery {
  /** Only this table's chains (the other tables come with their counts only). */
  table?: RulesTableName;
  /** Only this chain (with `table`, else in every table that has it), all its rules up to the
   *  limit (the filter does not apply); no other chain is listed. */
  chain?: string;
  /** Only rules whose text contains it (case-insensitive), and every rule of a chain whose
   *  name contains it. Chains with neither are left out of the answer. */
  filter?: string;
  /** How many rules the answer carries at most (default 5,000; at most 100,000). Rules are
   *  taken chain by chain in listing order; a chain whose rules did not all fit says so. */
  limit?: number;
  /** How many chains the answer lists at most, all tables together (default 2,000; at most
   *  100,000): a table with more says how many it has (`chainCount`), and the filter or a
   *  query for one chain reaches the others. The chains that built-in chains jump to are
   *  listed even past it (without a filter). */
  chainLimit?: number;
  /** With `chain`: leave out its first `offset` rules (a window of a long chain, as the
   *  debugger's chain view pages through one: the rows keep their own `num`). */
  offset?: number;
}

export interface RuleRow {
  /** 1-based position in its chain (as `iptables -L --line-numbers`). */
  num: number;
  /** The rule as `iptables -S` prints it, without the `-A CHAIN ` prefix
   *  (`-d 10.96.0.1/32 -p tcp -m comment --comment "…" -m tcp --dport 443 -j KUBE-SVC-…`). */
  spec: string;
  packets: number;
  bytes: number;
  /** The target's name (`ACCEPT`, `DNAT`, a chain), or null for a counting-only rule. */
  target: string | null;
  /** `-g CHAIN` rather than `-j`. */
  goto: boolean;
  /** Whether the target is a chain of the same table (a jump or goto to follow). */
  targetChain: boolean;
}

export interface ChainRow {
  name: string;
  builtin: boolean;
  /** Built-in chains only. */
  policy?: 'ACCEPT' | 'DROP';
  /** The policy's counters (0 for user chains, as iptables-save prints `[0:0]`). */
  packets: number;
  bytes: number;
  /** Rules of the table that jump or go to this chain (`iptables -L`'s "(N references)"). */
  references: number;
  /** All the chain's rules, however many are carried. */
  ruleCount: number;
  /** The rules carried (all of them unless `partial`). With a filter: only the matching ones. */
  rules: RuleRow[];
  /** Some rules (that match) were left out by the limit, or not asked for. */
  partial: boolean;
}

export interface TableRow {
  name: RulesTableName;
  /** Built-in chains in hook order, then user chains by name (iptables -L's order). */
  chains: ChainRow[];
  /** All the table's chains and rules, however many are listed. */
  chainCount: number;
  ruleCount: number;
}

export interface IpsetRow {
  name: string;
  type: string;
  /** `ipset list`'s "Header:" line without the word (`family inet hashsize 1024 maxelem 65536 …`). */
  header: string;
  references: number;
  /** Number of entries. */
  elements: number;
  /** Members as `ipset list` prints them (at most the cap; `elements` says how many there are). */
  members: string[];
}

export interface RulesView {
  host: string;
  /** The tables that exist on the host, in the order raw, mangle, nat, filter, security. */
  tables: TableRow[];
  ipsets: IpsetRow[];
  /** `conntrack -L` lines (at most the cap) and how many entries there are. */
  conntrack: string[];
  conntrackCount: number;
  /** Rules on the host, all tables. */
  totalRules: number;
  /** Rules carried in this answer. */
  carriedRules: number;
  /** The rule and chain budgets the answer was made with. */
  limit: number;
  chainLimit: number;
  /** Whether rules or chains that were asked for were left out (ChainRow.partial, and
   *  tables listing fewer chains than chainCount). */
  truncated: boolean;
}
