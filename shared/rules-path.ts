// The rules browser's chain graph of one packet's possible paths through a host's netfilter
// tables: which chains a packet described in part (addresses, protocol, ports, interfaces) or
// started at a hook or chain could traverse, by which rules, to which verdicts. Written by the
// engine (main/engine/netfilter/path-graph.ts), carried by LabApi.pathGraph, drawn by the
// renderer's rules browser.

import type { RulesTableName } from './rules-view.ts';

export type PathHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** The packet, as far as it is known (every field may be left out: then any value is possible). */
export interface PathQuery {
  /** Source and destination addresses (A.B.C.D). */
  src?: string;
  dst?: string;
  /** `tcp`, `udp`, `sctp`, `icmp` or a protocol number. */
  proto?: string;
  sport?: number;
  dport?: number;
  /** The interfaces it arrives on and leaves by. */
  in?: string;
  out?: string;
  /** Start at this hook only: every table's built-in chain of it, in the kernel's order. */
  hook?: PathHook;
  /** Start at this chain only (of `table`, default filter), as if entered from `hook` when given. */
  chain?: string;
  table?: RulesTableName;
}

export interface PathNode {
  /** `TABLE/CHAIN` for chains, `verdict/NAME` for verdicts. */
  id: string;
  kind: 'chain' | 'verdict';
  /** Chains: their table and name. */
  table?: RulesTableName;
  chain?: string;
  builtin?: boolean;
  policy?: 'ACCEPT' | 'DROP';
  /** Chains: all their rules; `matching`: those that could match the packet (each an edge or
   *  a rule that only changes it, such as MARK). */
  rules?: number;
  /** Verdicts: ACCEPT, DROP, REJECT, QUEUE, RETURN (back to the calling chain), DNAT, SNAT,
   *  MASQUERADE, REDIRECT, … */
  verdict?: string;
  /** Hooks the chain is reached from. */
  hooks: PathHook[];
  /** The shortest number of edges from a start chain: a layer of the drawing. */
  depth: number;
}

export interface PathEdge {
  from: string;
  to: string;
  /** `jump`/`goto` to a chain, `verdict` of a rule, `policy` (a built-in chain's end),
   *  `end` (a user chain's end: back to the caller), `next` (the packet goes on to the next
   *  table's chain of the hook, or to the next hook). */
  kind: 'jump' | 'goto' | 'verdict' | 'policy' | 'end' | 'next';
  /** The rule's 1-based number in its chain (jump, goto, verdict). */
  rule?: number;
  /** The rule's conditions, short (`-d 10.96.0.1/32 -p tcp --dport 443`), '' for none. */
  cond: string;
  /** The rule's comment, if any. */
  comment?: string;
  /** The target with its options (`DNAT --to-destination 10.244.1.5:8080`). */
  target?: string;
  /** Why the edge is only possible ([] when the packet certainly takes it once it gets there):
   *  state the graph cannot know (`ctstate`, `mark`, `statistic`, `recent`, …) or fields the
   *  query left open (`dst?`, `dport?`). */
  maybe: string[];
}

export interface PathGraph {
  /** The hooks passed, in order (the branches INPUT and FORWARD both when the destination is
   *  not known). */
  hooks: PathHook[];
  nodes: PathNode[];
  edges: PathEdge[];
  /** Rules left out because they certainly cannot match this packet, or cannot be reached
   *  (after a rule that always decides). */
  excluded: number;
  /** The graph was cut at the edge cap (ask with more of the packet known). */
  truncated: boolean;
  /** What the query said, in words (`tcp 10.0.0.5 → 10.96.0.1:80, in eth0`). */
  packet: string;
}
