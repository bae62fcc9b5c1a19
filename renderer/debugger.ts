// The packet debugger: the walk of a traced packet (from a console command that sent packets, or
// the trace form) rule by rule, driven like a code debugger. Controls: step (next rule, F11 — and
// the "Step" button), step over (past the chain this rule jumps to, F10), step out (back in the
// calling chain, Shift+F11), next hook, next hop (next host), continue to the next breakpoint or
// the end (F5), step back (Shift+F10), reverse-continue to the previous breakpoint (Shift+F5),
// restart; F9 toggles a breakpoint on the current rule. Keys act from anywhere but a text field.
// The walk is recorded, so going back is exact. Chain nesting, breakpoints and the packet at a
// step come from renderer/trace-nav.ts; the panes (call stack, packet, conntrack and path,
// events, breakpoints, outcomes) from renderer/debugger-panes.ts. Breakpoints are saved in the
// lab's layout. The current host is highlighted on the canvas (class `stepping`), the path walked
// so far drawn across it (renderer/trace-path.ts). Text only.
// Save keeps the trace on show in the lab under a name, as shown, with the seed its walk used; the Saved traces pane lists the lab's and reopens one at a chosen step; Export downloads
// it as Markdown or JSON; Link gives the kpl:// and browser-mode links to the saved trace's step.
// Opened with such a link (#/lab/NAME?trace=T&step=N&node=H&rule=R), the editor's debugger opens
// that saved trace there (shared/api/trace-link.ts checks every parameter).

import type { Core } from 'cytoscape';
import type { LabApi, RuleRef, TraceResult } from '../shared/api/contract.ts';
import { rowAt, type StartedTrace } from './guide-steps.ts';
import { busy, clear, dialog, download, h, toast, errorText } from './ui.ts';
import { linkHash, linkRow, linkUrl, parseLinkHash, type TraceLink } from '../shared/api/trace-link.ts';
import { nextTraceName, savedList, traceNameProblem } from './saved-traces.ts';
import {
  anyHit, continueTo, decidingRow, navOf, nextHook, nextHop, originText, reverseContinueTo, ruleParts, stepOut, stepOver, walkOf, whyOf,
  type Breakpoint, type Nav, type Row, type Walk,
} from './trace-nav.ts';
import { hostNode, tracePath, type TracePath } from './trace-path.ts';
import { movePacket } from './packet-anim.ts';
import type { RuleBreakpoints } from './rules-browser.ts';
import { bpLabel, pane, renderBreakpoints, renderEvents, renderOutcomes, renderPacket, renderParts, renderStack, renderState, type CtTable } from './debugger-panes.ts';
import { createWhatIf } from './what-if.ts';
import { chainView } from './chain-view.ts';
import { chainMarks } from '../shared/api/chain-marks.ts';

export { rowAt, walkOf, type StartedTrace, type Row };

export function rowsOf(w: Walk): Row[] {
  return navOf(w).rows;
}

export function stepText(r: Row): string {
  const s = r.step;
  const where = `${s.host} › ${s.hook} › ${s.table} › ${s.chain}`;
  if (s.skipped !== undefined) return `${where}: ${s.skipped} rules skipped (cannot match)`;
  const rule = s.rule_spec ?? (s.rule === null ? `policy ${s.verdict ?? ''}` : `rule ${s.rule ?? '?'}`);
  const res = s.matched ? `matched${s.verdict ? ` → ${s.verdict}` : ''}` : `no match${s.why ? `: ${s.why}` : ''}`;
  return `${r.phase === 'packet' ? '' : `[${r.phase}] `}${where}\n  ${rule}\n  ${res}`;
}

/** A step in the list, under its host › hook › table header: chain, rule, result. */
function listText(r: Row): string {
  const s = r.step;
  if (s.skipped !== undefined) return `${s.chain}: ${s.skipped} rules skipped`;
  const rule = s.rule === null || s.rule === undefined ? `end → ${s.verdict ?? ''}` : `${s.rule}: ${(s.rule_spec ?? '').replace(/^-A \S+ /, '')}`;
  const res = s.matched ? (s.rule === null ? '' : `  ⇒ ${s.verdict ?? 'matched'}`) : `  ✗ ${s.why ?? ''}`;
  return `${s.chain} ${rule}${res}`;
}

const WINDOW = 150;

export interface Stepper {
  el: HTMLElement;
  /** Shows walks (a console command's packets), opened on walk `at` (default the first). */
  show(traces: TraceResult[], title: string, at?: number): void;
  open(): void;
  /** Traces a packet and shows its walk; with `stepTo`, steps on to that rule. Null when it failed. */
  trace(spec: StartedTrace['spec'], stepTo?: RuleRef): Promise<StartedTrace | null>;
  /** The trace on show (started from the form or a step), or null (none, or a console's packets). */
  current(): StartedTrace | null;
  /** The rule breakpoints, for the rules browser's gutter. */
  breakpoints: RuleBreakpoints;
  /** Reopens a saved trace at a step (1-based), narrowed by node and rule as a link does; false when it failed. */
  openSaved(name: string, at?: Omit<TraceLink, 'lab' | 'trace'>): Promise<boolean>;
  /** The lab changed: what was read of the nodes (chains, conntrack tables) is read again. */
  labChanged(): void;
  dispose(): void;
}

type Outcome = Walk & { probability?: number };

export function createStepper(deps: { cy: Core; api: LabApi; lab: string; onTrace?(t: StartedTrace): void }): Stepper {
  const btn = (testid: string, label: string, title: string, fn: () => void): HTMLButtonElement =>
    h('button', { 'data-testid': testid, title, onclick: fn }, label);
  const title = h('strong', { 'data-testid': 'step-title' });
  const pick = h('select', { 'data-testid': 'step-packet', 'aria-label': 'Packet' });
  const pos = h('span', { class: 'muted', 'data-testid': 'step-pos' });
  const restart = btn('step-restart', '⟲', 'Restart: the first step', () => go(0));
  const rcont = btn('step-rcontinue', '◀◀', 'Reverse-continue: back to the previous breakpoint (Shift+F5)', () => go(reverseContinueTo(nav, cur, bps)));
  const back = btn('step-back', '◀', 'Step back (Shift+F10)', () => go(cur - 1));
  const next = btn('step-next', 'Step', 'Step: the next rule (F11)', () => go(cur + 1));
  const over = btn('step-over', 'Over', 'Step over: past the chain this rule jumps to (F10)', () => go(stepOver(nav, cur)));
  const out = btn('step-out', 'Out', 'Step out: back in the calling chain (Shift+F11)', () => go(stepOut(nav, cur)));
  const hook = btn('step-hook', 'Hook', 'Next hook', () => go(nextHook(nav, cur)));
  const hop = btn('step-hop', 'Hop', 'Next hop: the next host', () => go(nextHop(nav, cur)));
  const end = btn('step-end', 'Continue ▶▶', 'Continue to the next breakpoint or the end (F5)', () => go(continueTo(nav, cur, bps)));
  const closeBtn = h('button', { title: 'Close the debugger', onclick: () => hide() }, '×');
  const current = h('pre', { class: 'step-current', 'data-testid': 'step-current' });
  const why = h('div', { class: 'dbg-why', 'data-testid': 'step-why' });
  const behind = h('div', { class: 'dbg-origin muted', 'data-testid': 'step-origin', title: 'The Kubernetes object behind this rule' });
  const parts = h('div', { class: 'dbg-parts', 'data-testid': 'step-parts' });
  const list = h('div', { class: 'step-list', 'data-testid': 'step-list' });
  // Steps: the rules the walk evaluated; Chain: the whole chain of the current step (renderer/chain-view.ts).
  const cv = chainView({ api: deps.api, lab: deps.lab, hasBp: (...a) => ruleBreakpoints.has(...a), toggleBp: (...a) => ruleBreakpoints.toggle(...a) });
  cv.el.hidden = true;
  let tab: 'steps' | 'chain' = 'steps';
  const tabSteps = h('button', { type: 'button', class: 'dbg-tab on', role: 'tab', 'aria-selected': 'true', 'data-testid': 'dbg-tab-steps', title: 'The rules the walk evaluated, in order', onclick: () => showTab('steps') }, 'Steps');
  const tabChain = h('button', { type: 'button', class: 'dbg-tab', role: 'tab', 'aria-selected': 'false', 'data-testid': 'dbg-tab-chain', title: 'The whole chain of the current step, as the node holds it', onclick: () => showTab('chain') }, 'Chain');
  function showTab(t: 'steps' | 'chain'): void {
    tab = t;
    list.hidden = t !== 'steps';
    cv.el.hidden = t !== 'chain';
    tabSteps.classList.toggle('on', t === 'steps');
    tabChain.classList.toggle('on', t === 'chain');
    tabSteps.setAttribute('aria-selected', String(t === 'steps'));
    tabChain.setAttribute('aria-selected', String(t === 'chain'));
    if (nav.rows.length) go(cur, true);
  }
  const outcome = h('span', { 'data-testid': 'step-outcome' });
  const decider = btn('step-decider', 'deciding rule ⇢', 'Go to the rule that decided the outcome', () => go(decidingRow(nav)));
  const reply = h('span', { class: 'muted', 'data-testid': 'step-reply' });
  const outcomeBar = h('div', { class: 'step-outcome' }, outcome, ' ', decider, ' ', reply);
  const from = h('input', { placeholder: 'from (host, node, ns/pod)', 'data-testid': 'trace-from', spellcheck: 'false' });
  const to = h('input', { placeholder: 'to IP:PORT or name:port', 'data-testid': 'trace-to', spellcheck: 'false' });
  const proto = h('select', { 'data-testid': 'trace-proto' }, ...['tcp', 'udp', 'sctp', 'icmp'].map((p) => h('option', { value: p }, p)));
  const sport = h('input', { type: 'number', min: 1, max: 65535, placeholder: 'sport', title: 'Source port (default 40000; not for icmp)', 'data-testid': 'trace-sport', class: 'trace-sport' });
  // TCP: the first segment's flags (a SYN opens a connection; the others test what conntrack and
  // the socket make of a segment out of nowhere).
  const flags = h('select', { 'data-testid': 'trace-flags', title: 'TCP flags of the first packet', 'aria-label': 'TCP flags' },
    ...['SYN', 'ACK', 'SYN,ACK', 'PSH,ACK', 'FIN,ACK', 'RST'].map((f) => h('option', { value: f }, f)));
  proto.addEventListener('change', () => (flags.hidden = proto.value !== 'tcp'));
  const all = h('input', { type: 'checkbox', 'data-testid': 'trace-all' });
  const form = h('form', { class: 'trace-form', 'data-testid': 'trace-form' }, from, to, proto, flags, sport,
    h('label', { title: 'Trace every branch (random picks of endpoints) with its probability' }, all, ' all outcomes'), h('button', { type: 'submit' }, 'Trace'));
  // The connection's next packet, through the conntrack entries the ones before it left.
  const laterBtn = h('button', {
    type: 'button', 'data-testid': 'step-later', disabled: true, title: 'Trace the connection\'s next packet (found ESTABLISHED in conntrack)',
    onclick: () => {
      if (started) void traceNow({ ...started.spec, later: (started.spec.later ?? 0) + 1 });
    },
  }, 'Next packet ▸');
  const play = h('button', { type: 'button', 'data-testid': 'step-play', title: 'Play: step rule by rule (stops at a breakpoint or the end)', onclick: () => togglePlay() }, '▷ Play');
  const speed = h('select', { 'data-testid': 'step-speed', 'aria-label': 'Speed', title: 'Speed of Play' },
    h('option', { value: '900' }, 'slow'), h('option', { value: '300', selected: true }, 'normal'), h('option', { value: '60' }, 'fast'));
  const stackP = pane('Call stack', 'dbg-stack');
  const packetP = pane('Packet', 'dbg-packet');
  const stateP = pane('Conntrack and path', 'dbg-state');
  const eventsP = pane('Events', 'dbg-events');
  const bpP = pane('Breakpoints', 'dbg-breakpoints');
  const outcomesP = pane('Outcomes', 'dbg-outcomes');
  const savedP = pane('Saved traces', 'dbg-saved');
  const saveBtn = h('button', { type: 'button', 'data-testid': 'step-save', title: 'Save this trace in the lab, as shown, with the seed its walk used', onclick: () => void saveCurrent() }, 'Save');
  const mdBtn = h('button', { type: 'button', 'data-testid': 'step-export-md', title: 'Export this trace as Markdown (a readable walk with the rules)', onclick: () => void exportAs('markdown') }, '⇩ MD');
  const jsonBtn = h('button', { type: 'button', 'data-testid': 'step-export-json', title: 'Export this trace as JSON (as kpl trace --json)', onclick: () => void exportAs('json') }, '⇩ JSON');
  const linkBtn = h('button', { type: 'button', 'data-testid': 'step-link', title: 'A link that opens the lab at this saved trace and step', onclick: () => void showLink() }, 'Link');
  const body = h('div', { class: 'dbg-body' },
    h('div', { class: 'dbg-main' }, current, parts, why, behind, h('div', { class: 'dbg-tabs', role: 'tablist' }, tabSteps, tabChain), list, cv.el),
    h('div', { class: 'dbg-side' }, stackP.el, packetP.el, stateP.el, eventsP.el, bpP.el, outcomesP.el, savedP.el));
  // What if…: fork the walk on show at this step, change the lab, replay and compare (renderer/what-if.ts).
  const whatIf = createWhatIf({
    api: deps.api,
    lab: deps.lab,
    single: [outcomeBar, body],
    base: () => {
      const w = walks[Number(pick.value) || 0];
      const rev = revs[Number(pick.value) || 0];
      return w ? { walk: w, asked: started?.spec ?? null, step: cur, title: title.textContent ?? 'the trace', ...(rev !== undefined ? { rev } : {}) } : null;
    },
    open: (t, what, row) => {
      show([t], what);
      go(row, true);
    },
  });
  const el = h('div', { class: 'stepper dbg', 'data-testid': 'stepper' },
    h('div', { class: 'step-bar' }, title, pick, pos, restart, rcont, back, next, over, out, hook, hop, end, closeBtn),
    h('div', { class: 'step-bar trace-bar' }, form, laterBtn, play, speed, saveBtn, mdBtn, jsonBtn, linkBtn, whatIf.button), whatIf.bar, outcomeBar, body, whatIf.view);
  el.hidden = true;
  pos.textContent = 'no trace yet';

  let walks: Walk[] = [];
  /** The lab's revision each walk was traced on, when the API said (what if forks there). */
  let revs: (number | undefined)[] = [];
  let nav: Nav = navOf({});
  let cur = 0;
  let started: StartedTrace | null = null;
  /** The name of the saved trace on show (reopened or just saved), or null. */
  let savedName: string | null = null;
  /** The branches of an all-outcomes trace, and which is on show (-1: the traced walk). */
  let outcomes: Outcome[] = [];
  let branch = -1;
  let bps: Breakpoint[] = [];
  let disposed = false;
  let timer: ReturnType<typeof setInterval> | null = null;

  // ---- play: the walk animated rule by rule (the current host moving on the canvas) -------------
  function stopPlay(): void {
    if (timer) clearInterval(timer);
    timer = null;
    play.textContent = '▷ Play';
    play.classList.remove('on');
  }
  function togglePlay(): void {
    if (timer) return stopPlay();
    if (!nav.rows.length) return;
    if (cur >= nav.rows.length - 1) go(0);
    play.textContent = '❚❚ Pause';
    play.classList.add('on');
    timer = setInterval(() => {
      const j = cur + 1;
      if (j >= nav.rows.length) return stopPlay();
      go(j);
      if (j >= nav.rows.length - 1 || anyHit(nav, j, bps)) stopPlay();
    }, Number(speed.value));
  }
  speed.addEventListener('change', () => {
    if (timer) {
      stopPlay();
      togglePlay();
    }
  });

  // ---- breakpoints, saved in the lab's layout ----------------------------------------------------
  void deps.api.layout(deps.lab).then((l) => {
    if (!disposed && Array.isArray(l?.breakpoints)) {
      bps = l.breakpoints;
      renderBps();
      if (nav.rows.length) go(cur, true);
    }
  }).catch(() => undefined);

  let saving: Promise<void> = Promise.resolve();
  const bpWatchers = new Set<() => void>();
  function setBps(next: Breakpoint[]): void {
    bps = next;
    renderBps();
    for (const fn of bpWatchers) fn();
    if (nav.rows.length) go(cur, true);
    const copy = bps.map((b) => ({ ...b }));
    saving = saving.then(async () => {
      try {
        const l = (await deps.api.layout(deps.lab)) ?? { positions: {} };
        await deps.api.setLayout(deps.lab, { ...l, breakpoints: copy });
      } catch (e) {
        toast(`Could not save the breakpoints: ${errorText(e)}`, 'error');
      }
    });
  }
  function renderBps(): void {
    renderBreakpoints(bpP.body, bps, setBps, (b) => nav.rows.length > 0 && anyHit(nav, cur, [b]));
  }
  function ruleBp(r: Row): Breakpoint | null {
    const s = r.step;
    if (s.skipped !== undefined || s.rule === null || s.rule === undefined) return null;
    return { kind: 'rule', host: s.host, table: s.table, chain: s.chain, rule: s.rule, enabled: true };
  }
  function sameRule(a: Breakpoint, b: Breakpoint): boolean {
    return a.kind === 'rule' && b.kind === 'rule' && a.host === b.host && a.table === b.table && a.chain === b.chain && a.rule === b.rule;
  }
  /** F9 or a gutter click: a breakpoint on a step's rule (on its chain's end: on the chain). */
  function toggleBp(k: number): void {
    const r = nav.rows[k];
    if (!r) return;
    const b = ruleBp(r) ?? { kind: 'chain' as const, host: r.step.host, table: r.step.table, chain: r.step.chain, enabled: true };
    flipBp(b, (x) => (b.kind === 'rule' ? sameRule(x, b) : x.kind === 'chain' && x.chain === b.chain && x.host === b.host && x.table === b.table));
  }
  /** Removes the breakpoint `same` finds, or adds `b`. */
  function flipBp(b: Breakpoint, same: (x: Breakpoint) => boolean): void {
    const at = bps.findIndex(same);
    setBps(at >= 0 ? bps.filter((_, j) => j !== at) : [...bps, b]);
    toast(at >= 0 ? `Breakpoint removed: ${bpLabel(b)}` : `Breakpoint: ${bpLabel(b)}`);
  }

  const ruleBreakpoints: RuleBreakpoints = {
    has: (host, table, chain, rule) => bps.some((b) => sameRule(b, { kind: 'rule', host, table, chain, rule })),
    toggle: (host, table, chain, rule) => {
      const b: Breakpoint = { kind: 'rule', host, table, chain, rule, enabled: true };
      flipBp(b, (x) => sameRule(x, b));
    },
    watch: (fn) => {
      bpWatchers.add(fn);
      return () => bpWatchers.delete(fn);
    },
  };

  // ---- tracing ----------------------------------------------------------------------------------
  async function traceNow(spec: StartedTrace['spec'], stepTo?: RuleRef): Promise<StartedTrace | null> {
    const t = await busy(() => deps.api.trace(deps.lab, { ...spec, ...(all.checked && !spec.later ? { allOutcomes: true } : {}) }));
    if (!t) return null;
    from.value = spec.from;
    to.value = spec.to;
    proto.value = spec.proto;
    sport.value = spec.sport === undefined ? '' : String(spec.sport);
    flags.value = spec.tcpFlags ?? 'SYN';
    flags.hidden = spec.proto !== 'tcp';
    const later = (t as { json?: { later?: { packet: number; opened: boolean } } }).json?.later;
    show([t], `trace ${spec.from} → ${spec.to}${later?.opened ? `, packet ${later.packet}` : ''}`);
    if (later && !later.opened) toast(`the connection did not open, so packet ${later.packet} was never sent: this is its first packet`, 'error', 6000);
    const w = walkOf(t);
    // (with the seed its walk used: a later packet of it picks the same endpoints)
    const seed = (t as { json?: { seed?: number } }).json?.seed;
    started = { spec: { ...spec, ...(spec.seed === undefined && typeof seed === 'number' ? { seed } : {}) }, ...(typeof w.outcome === 'string' ? { outcome: w.outcome } : {}) };
    laterBtn.disabled = spec.tcpFlags !== undefined || !(later ? later.opened : w.outcome === 'delivered');
    if (stepTo) {
      const k = rowAt(nav.rows, stepTo);
      if (k >= 0) go(k);
    }
    return started;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!from.value.trim() || !to.value.trim()) return;
    // (the field's own checks refuse a port out of range before this, the API's after)
    const sp = sport.value.trim() === '' || proto.value === 'icmp' ? undefined : Number(sport.value);
    const tf = proto.value === 'tcp' && flags.value !== 'SYN' ? { tcpFlags: flags.value } : {};
    void traceNow({ from: from.value.trim(), to: to.value.trim(), proto: proto.value as StartedTrace['spec']['proto'], ...(sp !== undefined ? { sport: sp } : {}), ...tf }).then((t) => {
      if (t) deps.onTrace?.(t);
    });
  });
  form.addEventListener('keydown', (e) => e.stopPropagation());
  pick.addEventListener('change', () => {
    load(Number(pick.value));
    setTraceButtons();
  });

  function load(i: number): void {
    const w = walks[i];
    outcomes = ((w as { outcomes?: Outcome[] } | undefined)?.outcomes ?? []).filter((o) => o && typeof o === 'object');
    if (outcomes.length < 2 && !all.checked) outcomes = [];
    branch = -1;
    loadWalk(w ?? {});
  }

  let path: TracePath | null = null;

  function loadWalk(w: Walk): void {
    stopPlay();
    nav = navOf(w);
    path?.clear();
    path = tracePath(deps.cy, nav);
    const p = w.packet;
    outcome.textContent = w.outcome || p ? `${p ? `${p.proto} ${p.src}:${p.sport ?? ''} → ${p.dst}:${p.dport ?? ''}   ` : ''}${w.outcome ?? ''}${w.reason ? ` — ${w.reason}` : ''}` : '';
    decider.hidden = !nav.rows.length;
    const rp = w.reply;
    reply.textContent = rp ? `reply: ${rp.outcome ?? '?'}${rp.final ? `, from ${rp.final.src}:${rp.final.sport ?? ''}` : ''}${rp.reason && rp.outcome !== 'delivered' ? ` — ${rp.reason}` : ''}` : '';
    renderOutcomes(outcomesP.body, outcomes, branch, (k) => {
      branch = k;
      const o = outcomes[k];
      loadWalk(o);
      toast(`Replaying branch ${k + 1} of ${outcomes.length} (p=${(o.probability ?? 0).toFixed(2)})`);
    });
    go(0, true);
  }


  function go(i: number, force = false): void {
    const rows = nav.rows;
    const n = Math.max(0, Math.min(rows.length - 1, i));
    if (n === cur && !force) return;
    cur = n;
    const r = rows[cur];
    pos.textContent = rows.length ? `step ${cur + 1} / ${rows.length}` : 'no steps';
    pos.dataset.step = String(rows.length ? cur + 1 : 0);
    back.disabled = rcont.disabled = restart.disabled = cur <= 0;
    next.disabled = end.disabled = over.disabled = out.disabled = hook.disabled = hop.disabled = cur >= rows.length - 1;
    current.textContent = r ? stepText(r) : '';
    current.classList.toggle('miss', !!r && r.step.skipped === undefined && !r.step.matched);
    current.classList.toggle('bp', !!r && anyHit(nav, cur, bps));
    why.textContent = r ? whyOf(nav, cur) : '';
    renderParts(parts, r ? ruleParts(r.step) : []);
    const o = r ? originText(r.step.origin) : '';
    behind.textContent = o ? `behind it: ${o}` : '';
    behind.hidden = !o;
    deps.cy.elements('.stepping').removeClass('stepping');
    if (r) hostNode(deps.cy, r.step.host)?.addClass('stepping');
    path?.show(cur);
    // The packet's dot flies to the current host on the canvas (renderer/packet-anim.ts).
    movePacket({ cy: deps.cy, panel: el, walk: nav, host: r?.step.host ?? null, playMs: timer ? Number(speed.value) : null });
    current.dataset.host = r?.step.host ?? '';
    renderStack(stackP.body, nav, cur, (k) => go(k));
    renderPacket(packetP.body, nav, cur);
    renderState(stateP.body, nav, cur, r ? ctTableOf(r.step.host) : null);
    renderEvents(eventsP.body, nav, cur, (k) => go(k));
    renderBps();
    tabChain.textContent = r ? `Chain ${r.step.chain}` : 'Chain';
    if (tab === 'chain') {
      cv.show(r ? chainMarks(nav, cur) : null, r?.step.rule_spec);
      return;
    }
    // The list around the current step (a walk may have thousands), indented by chain depth.
    clear(list);
    const a = Math.max(0, cur - WINDOW / 2);
    const ruleBps = bps.filter((b) => b.kind === 'rule' && b.enabled !== false);
    for (let k = a; k < Math.min(rows.length, a + WINDOW); k++) {
      const rk = rows[k];
      const rb = ruleBp(rk);
      const marked = rb !== null && ruleBps.some((b) => sameRule(b, rb));
      const gutter = h('span', { class: `gutter${marked ? ' on' : ''}`, title: 'Toggle a breakpoint on this rule (F9)', 'data-testid': 'bp-gutter' });
      gutter.addEventListener('click', (e) => {
        e.stopPropagation();
        toggleBp(k);
      });
      const indent = h('span', { class: 'indent' }, ' '.repeat(2 * ((nav.stacks[k]?.length ?? 1) - 1)));
      const s = rk.step;
      const hit = s.skipped === undefined && s.matched;
      // A header where the host, hook or table changes; the rows then show chain, rule and result.
      if (k === a || rows[k - 1].phase !== rk.phase || rows[k - 1].step.host !== s.host || rows[k - 1].step.hook !== s.hook || rows[k - 1].step.table !== s.table) {
        list.append(h('div', { class: 'step-seg' }, `${rk.phase === 'packet' ? '' : `[${rk.phase}] `}${s.host} › ${s.hook ?? '?'} › ${s.table}`));
      }
      const row = h('div', { class: `step${k === cur ? ' current' : ''}${hit ? ' hit' : ''}`, 'data-index': String(k), title: stepText(rk) },
        gutter, `${k + 1}. `, indent, listText(rk));
      row.addEventListener('click', () => go(k));
      list.append(row);
      if (k === cur) requestAnimationFrame(() => (list.scrollTop = Math.max(0, row.offsetTop - list.clientHeight / 2)));
    }
  }

  // The hosts' conntrack tables as the lab holds them now, asked for once per host and trace.
  let ctTables = new Map<string, CtTable | null>();
  function ctTableOf(host: string): CtTable | null {
    if (ctTables.has(host)) return ctTables.get(host) ?? null;
    ctTables.set(host, null);
    const mine = ctTables;
    void deps.api.rules(deps.lab, host, { table: 'raw', chain: 'PREROUTING', limit: 1, chainLimit: 1 }).then((v) => {
      if (ctTables !== mine) return;
      ctTables.set(host, { lines: v.conntrack, count: v.conntrackCount });
      const r = nav.rows[cur];
      if (r?.step.host === host) renderState(stateP.body, nav, cur, ctTables.get(host));
    }, () => undefined);
    return null;
  }

  function show(traces: TraceResult[], what: string, at = 0): void {
    whatIf.single();
    started = null;
    laterBtn.disabled = true;
    savedName = null;
    ctTables = new Map();
    cv.reset();
    walks = traces.map(walkOf);
    revs = traces.map((t) => (typeof t.rev === 'number' ? t.rev : undefined));
    clear(pick);
    walks.forEach((w, i) => pick.append(h('option', { value: String(i) }, `packet ${i + 1}${w.outcome ? ` (${w.outcome})` : ''}`)));
    pick.hidden = walks.length < 2;
    title.textContent = what;
    el.hidden = false;
    const k = Math.max(0, Math.min(at, walks.length - 1));
    pick.value = String(k);
    load(k);
    setTraceButtons();
  }

  // ---- saving, the saved list, export and links ----------------------------------------------------
  const saved = savedList(savedP.body, { api: deps.api, lab: deps.lab, open: (name, step) => void openSaved(name, { step }), current: () => savedName });
  function setTraceButtons(): void {
    const w = walks[Number(pick.value) || 0];
    saveBtn.disabled = !w || savedName !== null;
    mdBtn.disabled = jsonBtn.disabled = !w;
    linkBtn.disabled = savedName === null;
  }
  /** The walk on show as the API knows it (the traced one, not a replayed branch), with the
   *  revision it ran on when known (kept when it is saved: What if forks a reopened one there). */
  function shownReport(): TraceResult | null {
    const i = Number(pick.value) || 0;
    const w = walks[i];
    if (!w) return null;
    const rev = revs[i];
    return (rev === undefined ? w : { ...w, rev }) as unknown as TraceResult;
  }

  async function saveCurrent(): Promise<void> {
    const report = shownReport();
    if (!report) return;
    const list = await saved.refresh();
    const taken = list.map((t) => t.name);
    const v = await dialog('Save trace', [{ name: 'name', label: 'Name', value: nextTraceName(taken) }], {
      ok: 'Save',
      check: (x) => traceNameProblem(x.name ?? '') ?? (taken.includes(x.name) ? `A saved trace is already named "${x.name}".` : null),
    });
    if (!v) return;
    const done = await busy(async () => {
      await deps.api.saveTraceReport(deps.lab, v.name, report);
      return true;
    });
    if (!done) return;
    savedName = v.name;
    title.textContent = `saved trace "${v.name}"`;
    setTraceButtons();
    await saved.refresh();
    toast(`Saved as "${v.name}"${typeof report.seed === 'number' ? ` (seed ${report.seed})` : ''}`);
  }

  async function exportAs(format: 'markdown' | 'json'): Promise<void> {
    const report = shownReport();
    if (!report) return;
    const r = await busy(() => deps.api.exportTrace(deps.lab, report, format, savedName ?? undefined));
    if (r) download(r.fileName, new Blob([r.text], { type: format === 'json' ? 'application/json' : 'text/markdown' }));
  }

  function linkHere(): TraceLink | null {
    if (savedName === null) return null;
    const s = nav.rows[cur]?.step;
    return { lab: deps.lab, trace: savedName, step: cur + 1, ...(s ? { node: s.host } : {}), ...(s && s.skipped === undefined && typeof s.rule === 'number' ? { rule: s.rule } : {}) };
  }

  async function showLink(): Promise<void> {
    const l = linkHere();
    if (!l) {
      toast('Save the trace first: a link names a saved trace.', 'error');
      return;
    }
    await dialog(`Link to "${l.trace ?? ''}" at step ${l.step ?? 1}`, [
      { name: 'app', label: 'Desktop app', value: linkUrl(l) },
      { name: 'web', label: 'Browser mode (after the address)', value: linkHash(l) },
    ], { ok: 'Close' });
  }

  async function openSaved(name: string, at: Omit<TraceLink, 'lab' | 'trace'> = {}): Promise<boolean> {
    const t = await busy(() => deps.api.savedTrace(deps.lab, name));
    if (!t || disposed) return false;
    show([t.trace], `saved trace "${name}" (seed ${t.seed})`);
    savedName = name;
    setTraceButtons();
    void saved.refresh();
    const k = linkRow(nav, at);
    if (typeof k === 'string') {
      toast(`Saved trace "${name}": ${k}`, 'error');
      return false;
    }
    go(k, true);
    return true;
  }

  function hide(): void {
    stopPlay();
    el.hidden = true;
    deps.cy.elements('.stepping').removeClass('stepping');
    path?.clear();
  }

  const onKey = (e: KeyboardEvent): void => {
    if (el.hidden || !nav.rows.length) return;
    const t = e.target as HTMLElement | null;
    if (t && (((t.tagName === 'TEXTAREA' || t.tagName === 'INPUT') && !t.closest('.console')) || t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'F10') go(e.shiftKey ? cur - 1 : stepOver(nav, cur));
    else if (e.key === 'F11') go(e.shiftKey ? stepOut(nav, cur) : cur + 1);
    else if (e.key === 'F5') go(e.shiftKey ? reverseContinueTo(nav, cur, bps) : continueTo(nav, cur, bps));
    else if (e.key === 'F9' && !e.shiftKey) toggleBp(cur);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  window.addEventListener('keydown', onKey, true);
  renderBps();
  renderOutcomes(outcomesP.body, [], -1, () => undefined);
  setTraceButtons();
  void saved.refresh();

  // Opened with a link to a saved trace (#/lab/NAME?trace=T&step=N&node=H&rule=R): show it there.
  const link = parseLinkHash(location.hash);
  if (typeof link === 'string') toast(`The link was not opened: ${link}`, 'error');
  else if (link && link.lab === deps.lab && link.trace !== undefined) {
    const at = { ...(link.step !== undefined ? { step: link.step } : {}), ...(link.node !== undefined ? { node: link.node } : {}), ...(link.rule !== undefined ? { rule: link.rule } : {}) };
    void openSaved(link.trace, at);
  }

  return {
    el,
    show,
    open: () => {
      el.hidden = false;
      from.focus();
    },
    trace: traceNow,
    current: () => started,
    openSaved,
    breakpoints: ruleBreakpoints,
    labChanged: () => {
      ctTables = new Map();
      cv.reset();
      if (!el.hidden && nav.rows.length) go(cur, true);
    },
    dispose: () => {
      disposed = true;
      stopPlay();
      whatIf.dispose();
      window.removeEventListener('keydown', onKey, true);
    },
  };
}
