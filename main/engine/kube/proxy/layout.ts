// The two rule layouts (v1.19's "legacy", the current one) as values of one shape: what the
// full generator (index.ts) and the incremental syncer (incremental.ts) call, so neither
// branches on the layout's name.

import {
  CURRENT_OURS,
  currentContext,
  currentEpilogue,
  currentLargeClusterMode,
  currentPrologue,
  currentSetup,
  writeCurrentPort,
  type CurrentContext,
} from './current.ts';
import {
  LEGACY_OURS,
  legacyContext,
  legacyEpilogue,
  legacyLargeClusterMode,
  legacyNodeFreeKey,
  legacyPrologue,
  legacySetup,
  writeLegacyPort,
  type LegacyContext,
} from './legacy.ts';
import type { PortInfo } from './normalize.ts';
import { TableWriter, type LayoutOutput, type RuleSink } from './origin.ts';
import type { EnsuredChain, GenerateInput, StaticRule } from './model.ts';

export interface LayoutImpl<C> {
  large(total: number): boolean;
  context(input: GenerateInput, largeClusterMode: boolean): C;
  prologue(input: GenerateInput, ctx: C, filter: RuleSink, nat: RuleSink): void;
  port(ctx: C, p: PortInfo, filter: RuleSink, nat: RuleSink, active: Set<string> | null): void;
  epilogue(input: GenerateInput, ctx: C, filter: RuleSink, nat: RuleSink): void;
  /** The key of what a port's rules depend on besides the port when they are the same on every
   *  node (see incremental.ts's Template); null (or no function): written on each node. */
  nodeFreeKey?(ctx: C, p: PortInfo): string | null;
  /** The prefixes of the nat chains kube-proxy takes for its own (stale ones are deleted). */
  ours: readonly string[];
  setup(): { ensureChains: EnsuredChain[]; staticRules: StaticRule[] };
}

const CURRENT: LayoutImpl<CurrentContext> = {
  large: currentLargeClusterMode,
  context: currentContext,
  prologue: currentPrologue,
  port: writeCurrentPort,
  epilogue: currentEpilogue,
  ours: CURRENT_OURS,
  setup: currentSetup,
};

const LEGACY: LayoutImpl<LegacyContext> = {
  large: legacyLargeClusterMode,
  context: legacyContext,
  prologue: legacyPrologue,
  port: writeLegacyPort,
  epilogue: legacyEpilogue,
  nodeFreeKey: legacyNodeFreeKey,
  ours: LEGACY_OURS,
  setup: legacySetup,
};

/** The layout `input` asks for. */
export function layoutOf(input: GenerateInput): LayoutImpl<unknown> {
  return (input.layout === 'legacy' ? LEGACY : CURRENT) as LayoutImpl<unknown>;
}

/** A full sync's rules for `ports` (normalized and sorted) in layout `L`. */
export function generateFull(L: LayoutImpl<unknown>, input: GenerateInput, ports: readonly PortInfo[]): LayoutOutput {
  const filter = new TableWriter();
  const nat = new TableWriter();
  let endpoints = 0;
  for (const p of ports) endpoints += p.endpoints.length;
  const largeClusterMode = L.large(endpoints);
  const ctx = L.context(input, largeClusterMode);
  L.prologue(input, ctx, filter, nat);
  // Active chains matter only for deleting stale ones, so they are tracked only then.
  const track = (input.existingNatChains?.length ?? 0) > 0;
  const active = new Set<string>();
  for (const p of ports) L.port(ctx, p, filter, nat, track ? active : null);
  // Stale service chains (kube-proxy finds them with iptables-save): a chain line flushes
  // them, -X deletes them.
  for (const chain of [...(input.existingNatChains ?? [])].sort()) {
    if (active.has(chain) || !L.ours.some((pre) => chain.startsWith(pre))) continue;
    nat.declare(chain);
    nat.raw(`-X ${chain}`);
  }
  L.epilogue(input, ctx, filter, nat);
  return { filter, nat, largeClusterMode, endpoints };
}
