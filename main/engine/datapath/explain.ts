// "Why not?" for a rule that did not match, computed only when asked: from the state the
// step was evaluated against (its snapshot), the first test of the rule that fails and the
// module's own words for it (`dpt 80 != 443`, `src 10.0.0.5 not in set cali40s:…`).

import { MATCHES } from '../netfilter/matches/index.ts';
import type { Chain, HostEnv, MatchCtx, Rule } from '../netfilter/types.ts';
import { coreMatches, whyCore, type RuleStep, type Snapshot } from './traverse.ts';

function ctxFor(step: RuleStep, rule: Rule, env: HostEnv): MatchCtx {
  const s: Snapshot = step.snap;
  return { hook: step.hook, table: step.table, inIface: s.inIface, outIface: s.outIface, pkt: { ...s.pkt }, ct: s.ct, host: env, rule };
}

/** Matches whose evaluation changes state: never re-run to explain, only described. */
const STATEFUL = new Set(['statistic', 'recent', 'limit', 'hashlimit', 'connlimit', 'quota']);

/** Why `rule` does not match the packet as it was at `step` (empty when it would match).
 *  `failedAt` (from the walk) names the failing test; without it the tests are re-run in
 *  order, stateless ones only. */
export function whyNotRule(step: RuleStep, rule: Rule, env: HostEnv, failedAt?: number): string {
  const ctx = ctxFor(step, rule, env);
  if (failedAt === -1 || !coreMatches(rule, ctx)) return whyCore(rule, step.snap);
  for (let i = 0; i < rule.matches.length; i++) {
    const m = rule.matches[i];
    const mod = MATCHES.get(m.module);
    if (!mod) return `unknown match ${m.module}`;
    if (failedAt !== undefined) {
      if (i === failedAt) return mod.why(m.data, ctx);
      continue;
    }
    if (STATEFUL.has(m.module)) return mod.why(m.data, ctx);
    if (!mod.match(m.data, ctx)) return mod.why(m.data, ctx);
  }
  return '';
}

/** The reason of a missed rule step. */
export function whyNot(step: RuleStep, env: HostEnv): string {
  if (!step.ruleObj || step.matched) return '';
  return whyNotRule(step, step.ruleObj, env, step.failedAt);
}

/** Every rule of a folded `skipped` step with the reason it could not match. */
export function whySkipped(step: RuleStep, chain: Chain, env: HostEnv): { rule: number; why: string }[] {
  if (step.skipped === undefined || step.from === undefined) return [];
  const out: { rule: number; why: string }[] = [];
  for (let i = step.from - 1; i < step.from - 1 + step.skipped && i < chain.rules.length; i++) {
    out.push({ rule: i + 1, why: whyNotRule(step, chain.rules[i], env) });
  }
  return out;
}
