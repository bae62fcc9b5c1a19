// The debugger's chain view: the whole chain the current step is in, as the node holds it now —
// every rule with its number, the current one highlighted, the rules this invocation of the
// chain met marked hit, miss or skipped (shared/api/chain-marks.ts), the chain's end (its
// policy, or the return to the caller) — where the step list shows only the rules the walk
// evaluated. A chain of 10,000 rules (KUBE-SERVICES) is read from the node a page at a time and
// only the rows in sight are drawn (fixed-height rows over a spacer). A click on a rule's gutter
// toggles a breakpoint on it, also on rules the walk never reached.

import type { LabApi } from '../shared/api/contract.ts';
import type { RuleRow, RulesTableName } from '../shared/api/types.ts';
import { markOf, type ChainMarks } from '../shared/api/chain-marks.ts';
import { clear, h } from './ui.ts';

/** Rows per page read from the node, and the row height the list is laid out with (CSS). */
const PAGE = 200;
const ROW_PX = 18;
const OVERSCAN = 10;

interface ChainData {
  ruleCount: number;
  builtin: boolean;
  policy?: string;
  pages: Map<number, RuleRow[]>;
}

export interface ChainViewDeps {
  api: LabApi;
  lab: string;
  /** Whether a rule breakpoint is set on this rule; toggles one. */
  hasBp(host: string, table: string, chain: string, rule: number): boolean;
  toggleBp(host: string, table: string, chain: string, rule: number): void;
}

export interface ChainView {
  el: HTMLElement;
  /** Shows the chain of the current step (null: none); `spec` is the step's rule as recorded. */
  show(m: ChainMarks | null, spec: string | null | undefined): void;
  /** Forget what was read (another trace, or the lab changed). */
  reset(): void;
}

const key = (m: ChainMarks) => `${m.host}\u0000${m.table}\u0000${m.chain}`;

export function chainView(deps: ChainViewDeps): ChainView {
  const head = h('div', { class: 'cv-head', 'data-testid': 'chain-head' });
  const note = h('div', { class: 'cv-note', 'data-testid': 'chain-note', hidden: true });
  const spacer = h('div', { class: 'cv-spacer' });
  const box = h('div', { class: 'cv-rows', 'data-testid': 'chain-rows' }, spacer);
  const el = h('div', { class: 'chain-view', 'data-testid': 'chain-view' }, head, note, box);
  const cache = new Map<string, ChainData>();
  let marks: ChainMarks | null = null;
  let recorded: string | null = null;
  let data: ChainData | null = null;
  /** Bumped by every show: a page read for an older one is not drawn. */
  let seq = 0;

  async function page(m: ChainMarks, n: number): Promise<ChainData | null> {
    const v = await deps.api.rules(deps.lab, m.host, { table: m.table as RulesTableName, chain: m.chain, offset: n * PAGE, limit: PAGE, chainLimit: 1 });
    const c = v.tables.find((t) => t.name === m.table)?.chains[0];
    if (!c) return null;
    const k = key(m);
    const known = cache.get(k);
    // (a chain whose rule count changed since is read afresh)
    const d: ChainData = known && known.ruleCount === c.ruleCount ? known : { ruleCount: c.ruleCount, builtin: c.builtin, ...(c.policy ? { policy: c.policy } : {}), pages: new Map() };
    d.pages.set(n, c.rules);
    cache.set(k, d);
    return d;
  }

  function pageOf(rule: number): number {
    return Math.floor((rule - 1) / PAGE);
  }

  /** The rows in sight, with the pages they need read. */
  function draw(): void {
    const m = marks;
    const d = data;
    if (!m || !d) return;
    const total = d.ruleCount + 1; // the rules, then the chain's end
    const top = box.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + (box.clientHeight || 300)) / ROW_PX) + OVERSCAN);
    clearRows();
    const missing = new Set<number>();
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const num = i + 1;
      if (num > d.ruleCount) {
        frag.append(endRow(m, d, i));
        continue;
      }
      const p = d.pages.get(pageOf(num));
      const r = p?.[(num - 1) % PAGE];
      if (!r) missing.add(pageOf(num));
      frag.append(ruleRow(m, num, r, i));
    }
    box.append(frag);
    const mine = seq;
    for (const n of missing) {
      void page(m, n).then((got) => {
        if (mine === seq && got) present(m, got, false);
      }, () => undefined);
    }
  }

  function ruleRow(m: ChainMarks, num: number, r: RuleRow | undefined, i: number): HTMLElement {
    const mark = markOf(m, num);
    const cur = m.current === num;
    const on = deps.hasBp(m.host, m.table, m.chain, num);
    const gutter = h('span', { class: `gutter${on ? ' on' : ''}`, title: 'Toggle a breakpoint on this rule', 'data-testid': 'chain-gutter' });
    gutter.addEventListener('click', (e) => {
      e.stopPropagation();
      deps.toggleBp(m.host, m.table, m.chain, num);
      draw();
    });
    const sign = mark === 'hit' ? '✓' : mark === 'miss' ? '✗' : mark === 'skipped' ? '·' : ' ';
    const title = mark === 'skipped' ? 'skipped: the rule index knew it cannot match' : mark ? `${mark} in this walk` : cur ? '' : 'not reached by this walk';
    return h('div', {
      class: `cv-row${cur ? ' current' : ''}${mark ? ` ${mark}` : ''}`,
      style: `top:${i * ROW_PX}px`,
      'data-num': String(num),
      ...(mark ? { 'data-mark': mark } : {}),
      title: r ? `${num}: ${r.spec}${title ? `\n${title}` : ''}` : '',
    }, gutter, h('span', { class: 'cv-num' }, String(num).padStart(String(data?.ruleCount ?? num).length)), h('span', { class: 'cv-mark' }, sign), ' ', r ? r.spec : '…');
  }

  function endRow(m: ChainMarks, d: ChainData, i: number): HTMLElement {
    const text = d.builtin ? `policy ${d.policy ?? 'ACCEPT'}` : 'end of chain: back to the caller';
    return h('div', { class: `cv-row cv-end${m.current === null ? ' current' : ''}`, style: `top:${i * ROW_PX}px`, 'data-num': 'end' }, h('span', { class: 'gutter' }), text);
  }

  function headText(m: ChainMarks, d: ChainData | null): void {
    clear(head);
    head.append(h('strong', {}, m.chain), h('span', { class: 'muted' }, ` ${m.table} on ${m.host}${d ? ` · ${d.ruleCount.toLocaleString('en-US')} rule${d.ruleCount === 1 ? '' : 's'}${d.builtin ? `, policy ${d.policy ?? 'ACCEPT'}` : ''}` : ''}`));
  }

  /** The step's recorded rule against the node's rule at that place now. */
  function checkRecorded(): void {
    const m = marks;
    const d = data;
    note.hidden = true;
    if (!m || !d || m.current === null || !recorded) return;
    const page = d.pages.get(pageOf(m.current));
    if (!page) return;
    const now = page[(m.current - 1) % PAGE];
    const was = recorded.replace(/^-A \S+ /, '');
    if (now?.spec === was) return;
    note.hidden = false;
    note.textContent = now ? `The chain changed since this trace: rule ${m.current} is now different.` : `The chain changed since this trace: it has no rule ${m.current} now.`;
  }

  function clearRows(): void {
    for (const old of Array.from(box.querySelectorAll('.cv-row'))) old.remove();
  }

  /** Whether step `m`'s row is in sight as the list is scrolled now. */
  function inSight(m: ChainMarks, d: ChainData): boolean {
    const y = ((m.current ?? d.ruleCount + 1) - 1) * ROW_PX;
    return y >= box.scrollTop && y + ROW_PX <= box.scrollTop + box.clientHeight;
  }

  /** The chain's rows for step `m` from `d`: the list sized to the whole chain, scrolled to the
   *  current rule when asked, the rows in sight drawn. */
  function present(m: ChainMarks, d: ChainData, recenter: boolean): void {
    data = d;
    headText(m, d);
    spacer.style.height = `${(d.ruleCount + 1) * ROW_PX}px`;
    if (recenter) {
      const row = (m.current ?? d.ruleCount + 1) - 1;
      box.scrollTop = Math.max(0, row * ROW_PX - (box.clientHeight || 300) / 2 + ROW_PX / 2);
    }
    draw();
    checkRecorded();
  }

  box.addEventListener('scroll', () => requestAnimationFrame(draw));

  return {
    el,
    show(m, spec) {
      seq++;
      const was = marks ? key(marks) : null;
      // The same step drawn again (a breakpoint toggled): the list stays where it was scrolled.
      const same = !!m && !!marks && was === key(m) && marks.current === m.current && marks.entered === m.entered;
      marks = m;
      recorded = spec ?? null;
      if (!m) {
        data = null;
        clear(head);
        note.hidden = true;
        clearRows();
        return;
      }
      const k = key(m);
      const known = cache.get(k);
      const need = pageOf(m.current ?? 1);
      if (known && (m.current === null ? known.pages.size > 0 : known.pages.has(need))) {
        present(m, known, !same && (was !== k || !inSight(m, known)));
        return;
      }
      if (was !== k) {
        data = null;
        headText(m, null);
        clearRows();
      }
      const mine = seq;
      // The page of the current rule; at the chain's end, the first page tells the count, then the last.
      void page(m, m.current === null ? 0 : need).then(async (d) => {
        if (mine !== seq || !d) return;
        if (m.current === null && d.ruleCount > PAGE && !d.pages.has(pageOf(d.ruleCount))) d = (await page(m, pageOf(d.ruleCount))) ?? d;
        if (mine !== seq) return;
        present(m, d, true);
      }, (e: unknown) => {
        if (mine !== seq) return;
        note.hidden = false;
        note.textContent = `Could not read the chain: ${e instanceof Error ? e.message : String(e)}`;
      });
    },
    reset() {
      cache.clear();
      data = null;
    },
  };
}
