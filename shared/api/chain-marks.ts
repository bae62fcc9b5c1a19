// The debugger's chain view (renderer/chain-view.ts) shows the whole chain a step is in, not
// only the rules the walk evaluated: which rule is current, and how this invocation of the chain
// met the rules before it. Pure: derived from the walk's rows and call stacks.

import { sameSeg, type Nav } from './trace-nav.ts';

export type RuleMark = 'hit' | 'miss' | 'skipped';

export interface ChainMarks {
  host: string;
  table: string;
  chain: string;
  /** The current rule (1-based), or null at the chain's end (its policy, or the return). */
  current: number | null;
  /** The rules this invocation of the chain tested so far (the current one included). */
  marks: Map<number, RuleMark>;
  /** Rules the walk skipped as a block (the rule index knew they cannot match): [first, last]. */
  skips: [number, number][];
  /** The row at which the walk entered this invocation of the chain. */
  entered: number;
}

/** How the invocation of the chain that row `i` is in met its rules, up to row `i`. The
 *  invocation's rows are those since the walk entered the chain (by the hook, a jump or a goto)
 *  in the same segment, at this depth; rows of the chains it called are passed over. */
export function chainMarks(nav: Nav, i: number): ChainMarks | null {
  const row = nav.rows[i];
  const stack = nav.stacks[i];
  if (!row || !stack) return null;
  const depth = stack.length;
  const s = row.step;
  const out: ChainMarks = { host: s.host, table: s.table, chain: s.chain, current: null, marks: new Map(), skips: [], entered: i };
  if (s.skipped !== undefined) out.current = s.from ?? null;
  else if (typeof s.rule === 'number') out.current = s.rule;
  for (let k = i; k >= 0; k--) {
    const st = nav.stacks[k];
    if (!sameSeg(nav, i, k) || st.length < depth || st[depth - 1].chain !== s.chain) break;
    out.entered = k;
    if (st.length !== depth) continue; // a called chain's row
    const r = nav.rows[k].step;
    if (r.skipped !== undefined && r.from !== undefined) out.skips.push([r.from, r.from + r.skipped - 1]);
    else if (typeof r.rule === 'number' && !out.marks.has(r.rule)) out.marks.set(r.rule, r.matched ? 'hit' : 'miss');
  }
  return out;
}

/** A rule's mark in the invocation, if it has one. */
export function markOf(m: ChainMarks, rule: number): RuleMark | undefined {
  const mark = m.marks.get(rule);
  if (mark) return mark;
  for (const [a, b] of m.skips) if (rule >= a && rule <= b) return 'skipped';
  return undefined;
}
