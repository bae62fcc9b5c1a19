// The packet stepper: the walk of a traced packet (from a console command that sent packets, or
// the trace form) rule by rule, with Step / Back / Run to end (F10, Shift+F10, F5 — from
// anywhere but a text field). The current step shows its host, hook, table, chain, rule and
// whether it matched (or why not); the current host is highlighted on the canvas (class
// `stepping`). The walk is recorded, so going back is exact. Text only, never HTML.

import type { Core } from 'cytoscape';
import type { LabApi, RuleRef, TraceResult } from '../shared/api/contract.ts';
import { rowAt, type StartedTrace } from './guide-steps.ts';

export { rowAt, type StartedTrace };
import { busy, clear, h } from './ui.ts';
import type { StepJson, WalkJson } from '../shared/trace-json.ts';

type RuleStep = StepJson;

/** A walk as the stepper reads it (a saved trace may lack parts). */
type Walk = Partial<Pick<WalkJson, 'outcome' | 'reason' | 'packet' | 'steps'>> & { reply?: Walk | null; ack?: Walk | null };

/** One row of the stepper: a step of the packet, its reply or its ACK. */
export interface Row {
  phase: 'packet' | 'reply' | 'ack';
  step: RuleStep;
}

/** The trace report's JSON (the API gives `{ json, text }`, a saved one may be the bare JSON). */
export function walkOf(t: TraceResult): Walk {
  const j = (t as { json?: unknown }).json;
  return (j && typeof j === 'object' ? j : t) as Walk;
}

export function rowsOf(w: Walk): Row[] {
  const rows: Row[] = (w.steps ?? []).map((step) => ({ phase: 'packet', step }));
  for (const phase of ['reply', 'ack'] as const) for (const step of w[phase]?.steps ?? []) rows.push({ phase, step });
  return rows;
}

export function stepText(r: Row): string {
  const s = r.step;
  const where = `${s.host} › ${s.hook} › ${s.table} › ${s.chain}`;
  if (s.skipped !== undefined) return `${where}: ${s.skipped} rules skipped (cannot match)`;
  const rule = s.rule_spec ?? (s.rule === null ? `policy ${s.verdict ?? ''}` : `rule ${s.rule ?? '?'}`);
  const res = s.matched ? `matched${s.verdict ? ` → ${s.verdict}` : ''}` : `no match${s.why ? `: ${s.why}` : ''}`;
  return `${r.phase === 'packet' ? '' : `[${r.phase}] `}${where}\n  ${rule}\n  ${res}`;
}

const WINDOW = 150;

export interface Stepper {
  el: HTMLElement;
  show(traces: TraceResult[], title: string): void;
  open(): void;
  /** Traces a packet and shows its walk; with `stepTo`, steps on to that rule. Null when it failed. */
  trace(spec: StartedTrace['spec'], stepTo?: RuleRef): Promise<StartedTrace | null>;
  /** The trace on show (started from the form or a step), or null (none, or a console's packets). */
  current(): StartedTrace | null;
  dispose(): void;
}

export function createStepper(deps: { cy: Core; api: LabApi; lab: string; onTrace?(t: StartedTrace): void }): Stepper {
  const title = h('strong', { 'data-testid': 'step-title' });
  const pick = h('select', { 'data-testid': 'step-packet', 'aria-label': 'Packet' });
  const pos = h('span', { class: 'muted', 'data-testid': 'step-pos' });
  const back = h('button', { 'data-testid': 'step-back', title: 'Step back (Shift+F10)', onclick: () => go(cur - 1) }, '◀ Back');
  const next = h('button', { 'data-testid': 'step-next', title: 'Step (F10)', onclick: () => go(cur + 1) }, 'Step ▶');
  const end = h('button', { 'data-testid': 'step-end', title: 'Run to end (F5)', onclick: () => go(rows.length - 1) }, 'Run to end ⏭');
  const closeBtn = h('button', { title: 'Close the stepper', onclick: () => hide() }, '×');
  const current = h('pre', { class: 'step-current', 'data-testid': 'step-current' });
  const list = h('div', { class: 'step-list', 'data-testid': 'step-list' });
  const outcome = h('div', { class: 'step-outcome', 'data-testid': 'step-outcome' });
  const from = h('input', { placeholder: 'from (host, node, ns/pod)', 'data-testid': 'trace-from', spellcheck: 'false' });
  const to = h('input', { placeholder: 'to IP:PORT or name:port', 'data-testid': 'trace-to', spellcheck: 'false' });
  const proto = h('select', { 'data-testid': 'trace-proto' }, ...['tcp', 'udp', 'sctp', 'icmp'].map((p) => h('option', { value: p }, p)));
  const form = h('form', { class: 'trace-form', 'data-testid': 'trace-form' }, from, to, proto, h('button', { type: 'submit' }, 'Trace'));
  const el = h('div', { class: 'stepper', 'data-testid': 'stepper' },
    h('div', { class: 'step-bar' }, title, pick, pos, back, next, end, closeBtn),
    form, outcome, current, list);
  el.hidden = true;
  pos.textContent = 'no trace yet';

  let walks: Walk[] = [];
  let rows: Row[] = [];
  let cur = 0;

  let started: StartedTrace | null = null;

  async function traceNow(spec: StartedTrace['spec'], stepTo?: RuleRef): Promise<StartedTrace | null> {
    const t = await busy(() => deps.api.trace(deps.lab, { ...spec }));
    if (!t) return null;
    from.value = spec.from;
    to.value = spec.to;
    proto.value = spec.proto;
    show([t], `trace ${spec.from} → ${spec.to}`);
    const w = walkOf(t);
    started = { spec: { ...spec }, ...(typeof w.outcome === 'string' ? { outcome: w.outcome } : {}) };
    if (stepTo) {
      const k = rowAt(rows, stepTo);
      if (k >= 0) go(k);
    }
    return started;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!from.value.trim() || !to.value.trim()) return;
    void traceNow({ from: from.value.trim(), to: to.value.trim(), proto: proto.value as StartedTrace['spec']['proto'] }).then((t) => {
      if (t) deps.onTrace?.(t);
    });
  });
  form.addEventListener('keydown', (e) => e.stopPropagation());
  pick.addEventListener('change', () => load(Number(pick.value)));

  function load(i: number): void {
    const w = walks[i];
    rows = w ? rowsOf(w) : [];
    const p = w?.packet;
    outcome.textContent = w ? `${p ? `${p.proto} ${p.src}:${p.sport ?? ''} → ${p.dst}:${p.dport ?? ''}   ` : ''}${w.outcome ?? ''}${w.reason ? ` — ${w.reason}` : ''}` : '';
    go(0, true);
  }

  function hostId(host: string): string | null {
    for (const id of [`n:${host}`, `p:${host}`, `h:${host}`]) if (deps.cy.getElementById(id).nonempty()) return id;
    return null;
  }

  function go(i: number, force = false): void {
    const n = Math.max(0, Math.min(rows.length - 1, i));
    if (n === cur && !force) return;
    cur = n;
    const r = rows[cur];
    pos.textContent = rows.length ? `step ${cur + 1} / ${rows.length}` : 'no steps';
    pos.dataset.step = String(rows.length ? cur + 1 : 0);
    back.disabled = cur <= 0;
    next.disabled = end.disabled = cur >= rows.length - 1;
    current.textContent = r ? stepText(r) : '';
    current.classList.toggle('miss', !!r && r.step.skipped === undefined && !r.step.matched);
    deps.cy.elements('.stepping').removeClass('stepping');
    const id = r ? hostId(r.step.host) : null;
    if (id) deps.cy.getElementById(id).addClass('stepping');
    current.dataset.host = r?.step.host ?? '';
    // The list around the current step (a walk may have thousands).
    clear(list);
    const a = Math.max(0, cur - WINDOW / 2);
    for (let k = a; k < Math.min(rows.length, a + WINDOW); k++) {
      const row = h('div', { class: `step${k === cur ? ' current' : ''}${rows[k].step.matched ? ' hit' : ''}`, 'data-index': String(k) }, `${k + 1}. ${stepText(rows[k]).replace(/\n\s*/g, '  ')}`);
      row.addEventListener('click', () => go(k));
      list.append(row);
      if (k === cur) requestAnimationFrame(() => row.scrollIntoView({ block: 'nearest' }));
    }
  }

  function show(traces: TraceResult[], what: string): void {
    started = null;
    walks = traces.map(walkOf);
    clear(pick);
    walks.forEach((w, i) => pick.append(h('option', { value: String(i) }, `packet ${i + 1}${w.outcome ? ` (${w.outcome})` : ''}`)));
    pick.hidden = walks.length < 2;
    title.textContent = what;
    el.hidden = false;
    load(0);
  }

  function hide(): void {
    el.hidden = true;
    deps.cy.elements('.stepping').removeClass('stepping');
  }

  const onKey = (e: KeyboardEvent): void => {
    if (el.hidden || !rows.length) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && !t.classList.contains('console-input')) || t.isContentEditable)) return;
    if (e.key === 'F10') go(cur + (e.shiftKey ? -1 : 1));
    else if (e.key === 'F5') go(rows.length - 1);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  window.addEventListener('keydown', onKey, true);

  return {
    el,
    show,
    open: () => {
      el.hidden = false;
      from.focus();
    },
    trace: traceNow,
    current: () => started,
    dispose: () => window.removeEventListener('keydown', onKey, true),
  };
}
