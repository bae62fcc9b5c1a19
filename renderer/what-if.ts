// "What if…" in the debugger: Fork here remembers the walk on show (kept as recorded: it is data,
// the lab changes after it), its request and seed, and the current step. The user then changes
// the lab — a rule edited or deleted in a node's console, a pod relabelled, a NetworkPolicy
// deleted or a Deployment scaled with kubectl, anything from the inspector — and Replay traces
// the same request (same from, to, protocol, source port and seed, so the random picks of
// endpoints are the same): for a walk traced at a known revision, from the host of the forked
// step (LabApi.forkTrace: the lab as it was up to that host, the changed lab from there on),
// else from its first packet on the changed lab. The compare view shows both walks side by side,
// aligned by shared/api/trace-diff.ts, the first divergence marked and scrolled to, each side's
// outcome and the rule that decided it with the Kubernetes object behind it. While the compare
// view is open, every further change of the lab replays again (the view follows the lab); before
// it, changes are only counted, so a change made in several commands does not flash half-done
// comparisons. A click on a step opens that walk in the debugger at that step; Back returns to
// the single view, Compare to the comparison; × ends the fork. Text only.

import type { ForkPoint, LabApi, TraceRequest, TraceResult } from '../shared/api/contract.ts';
import { alignRows, decisionOf, decisionText, foldPairs, forkAt, replayRequest, type Alignment, type Decision } from '../shared/api/trace-diff.ts';
import { navOf, walkOf, type Nav, type Row, type Walk } from '../shared/api/trace-nav.ts';
import { busy, clear, h, toast } from './ui.ts';

export interface WhatIfBase {
  /** The walk on show (a trace report's JSON). */
  walk: Walk & { seed?: unknown };
  /** What the trace form (or a walkthrough step) asked, when the walk came from there. */
  asked: { from: string; to: string; proto: TraceRequest['proto'] } | null;
  /** The current step (0-based row). */
  step: number;
  title: string;
  /** The lab's revision the walk was traced on (a trace of a stored lab's): Replay then forks at
   *  the host of the current step; without it, the request is replayed from its first packet. */
  rev?: number;
}

export interface WhatIf {
  /** "What if…": forks the trace at the current step. */
  button: HTMLButtonElement;
  /** The fork's bar: what was forked, Replay, Compare/Back, end. */
  bar: HTMLElement;
  /** The compare view (in place of the single view while shown). */
  view: HTMLElement;
  /** The debugger shows another walk (a console's packets, the form): the single view comes back. */
  single(): void;
  dispose(): void;
}

interface Side {
  walk: Walk;
  nav: Nav;
  decision: Decision;
}

/** One step in a compare column: number, chain, rule and result. */
function cellText(k: number, r: Row): string {
  const s = r.step;
  if (s.skipped !== undefined) return `${k + 1}. ${s.chain}: ${s.skipped} rules skipped`;
  const rule = s.rule === null || s.rule === undefined ? `end → ${s.verdict ?? ''}` : `${s.rule}: ${(s.rule_spec ?? '').replace(/^-A \S+ /, '').replace(/-m comment --comment "cali:[^"]*" /g, '')}`;
  const res = s.matched ? (s.rule === null || s.rule === undefined ? '' : `  ⇒ ${s.verdict ?? 'matched'}`) : '  ✗';
  return `${k + 1}. ${s.chain} ${rule}${res}`;
}

function where(r: Row): string {
  const s = r.step;
  return `${r.phase === 'packet' ? '' : `[${r.phase}] `}${s.host} › ${s.hook ?? '?'} › ${s.table}`;
}

function outcomeLine(w: Walk): string {
  const p = w.packet;
  return `${p ? `${p.proto} ${p.src}:${p.sport ?? ''} → ${p.dst}:${p.dport ?? ''}  ` : ''}${w.outcome ?? '?'}${w.reason ? ` — ${w.reason}` : ''}`;
}

export function createWhatIf(deps: {
  api: LabApi;
  lab: string;
  /** The walk on show, or null. */
  base(): WhatIfBase | null;
  /** The debugger's single view (its outcome line and body), hidden while the compare view shows. */
  single: HTMLElement[];
  /** Shows a walk in the debugger at a row (a click on a compared step). */
  open(report: TraceResult, title: string, row: number): void;
}): WhatIf {
  const button = h('button', { type: 'button', 'data-testid': 'whatif-fork', title: 'What if…: fork the trace here. Change the lab (a rule in a console, kubectl, the inspector), then Replay: the same packet and seed on the changed lab, compared with this walk side by side.' }, 'What if…');
  const info = h('span', { class: 'wi-info', 'data-testid': 'whatif-info' });
  const changes = h('span', { class: 'muted', 'data-testid': 'whatif-changes' });
  const replayBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'whatif-replay', title: 'Trace the same request and seed on the lab as it is now and compare the two walks' }, 'Replay');
  const toggleBtn = h('button', { type: 'button', 'data-testid': 'whatif-toggle', title: 'Switch between the comparison and the single view' }, 'Compare');
  const endBtn = h('button', { type: 'button', 'data-testid': 'whatif-end', title: 'End the fork' }, '×');
  const bar = h('div', { class: 'wi-bar', 'data-testid': 'whatif-bar' }, h('strong', {}, 'What if: '), info, ' ', changes, replayBtn, toggleBtn, endBtn);
  bar.hidden = true;

  const headA = h('div', { class: 'wi-head', 'data-testid': 'whatif-head-a' });
  const headB = h('div', { class: 'wi-head', 'data-testid': 'whatif-head-b' });
  const divergence = h('div', { class: 'wi-divergence', 'data-testid': 'whatif-divergence' });
  const rows = h('div', { class: 'wi-rows', 'data-testid': 'whatif-rows' });
  const back = h('button', { type: 'button', 'data-testid': 'whatif-back', title: 'Back to the single view' }, '← Back to the debugger');
  const view = h('div', { class: 'wi-view', 'data-testid': 'whatif-view' },
    h('div', { class: 'wi-top' }, divergence, back), h('div', { class: 'wi-heads' }, headA, headB), rows);
  view.hidden = true;

  /** `at`: where the replay leaves the lab as it was for the lab as it is (null: it replays the
   *  request from its first packet, on the lab as it is); `host`: that host, for the words. */
  interface Fork { base: Side; request: TraceRequest; step: number; title: string; at: ForkPoint | null; host: string }
  let fork: Fork | null = null;
  let replay: Side | null = null;
  let al: Alignment | null = null;
  let changed = 0;
  let expanded = new Set<number>();
  let disposed = false;

  const side = (w: Walk): Side => {
    const nav = navOf(w);
    return { walk: w, nav, decision: decisionOf(nav) };
  };

  function setBar(): void {
    bar.hidden = !fork;
    if (!fork) return;
    const r = fork.request;
    const how = fork.at
      ? ` from ${fork.host} (the lab as it was before it, as it is from there on)`
      : ' from its first packet on the lab as it is';
    info.title = `forked at step ${fork.step + 1} of ${fork.title}; replays ${r.from} → ${r.to} ${r.proto}${r.sport ? ` sport ${r.sport}` : ''}${r.seed !== undefined ? ` seed ${r.seed}` : ''}${how}.`;
    info.textContent = info.title;
    changes.textContent = changed ? `The lab changed ${changed} time${changed > 1 ? 's' : ''} since.` : 'Now change the lab, then Replay.';
    toggleBtn.hidden = !replay;
    toggleBtn.textContent = view.hidden ? 'Compare' : 'Single view';
  }

  function showCompare(on: boolean): void {
    view.hidden = !on;
    for (const e of deps.single) e.hidden = on;
    setBar();
  }

  function doFork(): void {
    const b = deps.base();
    if (!b || !b.walk.packet) {
      toast('What if: trace a packet first, then fork it at a step.', 'error');
      return;
    }
    const request = replayRequest(b.walk, b.asked);
    if (typeof request === 'string') {
      toast(`What if: ${request}.`, 'error');
      return;
    }
    // The base is kept as recorded: a copy, whatever the debugger shows next.
    const walk = JSON.parse(JSON.stringify(b.walk)) as Walk;
    const base = side(walk);
    const point = forkAt(base.nav, b.step);
    const at = b.rev !== undefined && point ? { rev: b.rev, ...point } : null;
    const f: Fork = { base, request, step: b.step, title: b.title, at, host: base.nav.rows[b.step]?.step.host ?? '' };
    fork = f;
    replay = null;
    al = null;
    changed = 0;
    showCompare(false);
    toast(`Forked at step ${b.step + 1}. Change the lab, then Replay to compare.`);
  }

  let replaying: Promise<void> | null = null;
  let again = false;
  async function doReplay(): Promise<void> {
    if (!fork) return;
    if (replaying) {
      again = true;
      return replaying;
    }
    replaying = (async () => {
      do {
        again = false;
        const f: Fork | null = fork;
        if (!f) return;
        const at = f.at;
        const t = await busy(() => (at ? deps.api.forkTrace(deps.lab, f.request, at) : deps.api.trace(deps.lab, f.request)));
        if (!t || disposed || fork !== f) return;
        const w = walkOf(t);
        replay = side(w);
        al = alignRows(f.base.nav.rows, replay.nav.rows);
        expanded = new Set();
        render();
        showCompare(true);
      } while (again);
    })().finally(() => {
      replaying = null;
    });
    return replaying;
  }

  function head(el: HTMLElement, label: string, s: Side, which: 'a' | 'b'): void {
    clear(el);
    const go = h('button', { type: 'button', 'data-testid': `whatif-decider-${which}`, title: 'Open this walk in the debugger at the rule that decided it' }, 'deciding rule ⇢');
    go.addEventListener('click', () => openSide(which, s.decision.row));
    el.append(
      h('div', { class: 'wi-label' }, label),
      h('div', { class: `wi-outcome ${s.walk.outcome ?? ''}`, 'data-testid': `whatif-outcome-${which}` }, outcomeLine(s.walk)),
      h('div', { class: 'wi-why', 'data-testid': `whatif-why-${which}` }, decisionText(s.walk.outcome, s.decision), ' ', s.decision.row >= 0 ? go : null),
    );
  }

  function openSide(which: 'a' | 'b', row: number): void {
    if (!fork) return;
    const s = which === 'a' ? fork.base : replay;
    if (!s) return;
    showCompare(false);
    deps.open(s.walk as unknown as TraceResult, which === 'a' ? `${fork.title} (as forked)` : `replay of ${fork.request.from} → ${fork.request.to} on the changed lab`, Math.max(0, row));
    setBar();
  }

  function render(): void {
    if (!fork || !replay || !al) return;
    const a = fork.base;
    const b = replay;
    head(headA, 'Before: as recorded', a, 'a');
    head(headB, fork.at ? `After: replayed on the changed lab from ${fork.host}` : 'After: replayed on the changed lab', b, 'b');
    const d = al.divergence;
    clear(divergence);
    if (d < 0) {
      divergence.textContent = a.walk.outcome === b.walk.outcome && a.walk.reason === b.walk.reason
        ? 'The walks are the same: the change does not touch this packet.'
        : `The rules walked are the same, the outcomes are not: ${a.walk.outcome ?? '?'} before, ${b.walk.outcome ?? '?'} after (routing, addresses or conntrack changed).`;
    }
    else {
      const p = al.pairs[d];
      const ra = p.a !== null ? a.nav.rows[p.a] : null;
      const rb = p.b !== null ? b.nav.rows[p.b] : null;
      const at = (r: Row | null, k: number | null): string => (r && k !== null ? `step ${k + 1} (${r.step.host} › ${r.step.table} › ${r.step.chain}${typeof r.step.rule === 'number' ? ` rule ${r.step.rule}` : ' end'})` : 'no step');
      divergence.append(h('span', { class: 'wi-mark' }, '≠ '), `First divergence: before ${at(ra, p.a)}, after ${at(rb, p.b)}`);
      // Forked at a host, the replay is the recorded walk up to that host and walks the host
      // itself on the changed lab from where the packet entered it; replayed from the first
      // packet, the change may reach the walk earlier. Either is said.
      const early = p.a !== null && p.a < fork.step;
      const text = fork.at
        ? early
          ? ` — on ${fork.host} before the forked step (${fork.step + 1}): the replay walks ${fork.host} on the changed lab from where the packet entered it`
          : ` — from the forked step (${fork.step + 1}) on: up to it the replay is the recorded walk`
        : early
          ? ` — before the forked step (${fork.step + 1}): the change alters the walk earlier than where it was forked`
          : ` — from the forked step (${fork.step + 1}) on: up to it the replay is the recorded walk`;
      divergence.append(h('span', { class: 'muted', 'data-testid': 'whatif-where' }, text));
      divergence.dataset.a = p.a === null ? '' : String(p.a + 1);
      divergence.dataset.b = p.b === null ? '' : String(p.b + 1);
    }
    clear(rows);
    let lastSeg = '';
    let divEl: HTMLElement | null = null;
    const pinned = new Set(al.pairs.flatMap((p, k) => (p.a === fork?.step ? [k] : [])));
    const lines = foldPairs(al, 2, pinned).flatMap((l) => ('fold' in l && expanded.has(l.fold[0]) ? Array.from({ length: l.fold[1] - l.fold[0] }, (_, k) => ({ pair: l.fold[0] + k })) : [l]));
    for (const l of lines) {
      if ('fold' in l) {
        const [s, e] = l.fold;
        const f = h('div', { class: 'wi-fold', 'data-testid': 'whatif-fold', title: 'Show these steps' }, `⋯ ${e - s} identical steps (${s + 1}–${e})`);
        f.addEventListener('click', () => {
          expanded.add(s);
          render();
        });
        rows.append(f);
        lastSeg = '';
        continue;
      }
      const k = l.pair;
      const p = al.pairs[k];
      const ra = p.a !== null ? a.nav.rows[p.a] : null;
      const rb = p.b !== null ? b.nav.rows[p.b] : null;
      const seg = where((ra ?? rb) as Row);
      const segB = rb ? where(rb) : seg;
      if (seg !== lastSeg || (ra && rb && segB !== seg)) {
        rows.append(h('div', { class: 'wi-seg' }, h('span', {}, ra ? where(ra) : ''), h('span', {}, rb ? segB : '')));
        lastSeg = seg;
      }
      const cell = (r: Row | null, i: number | null, which: 'a' | 'b'): HTMLElement => {
        const c = h('div', { class: `wi-cell${r && r.step.matched && r.step.skipped === undefined ? ' hit' : ''}${which === 'a' && i === fork?.step ? ' forked' : ''}`, 'data-testid': `whatif-cell-${which}` }, r && i !== null ? cellText(i, r) : '');
        if (r && i !== null) {
          c.title = `${where(r)} › ${r.step.chain}\n${r.step.rule_spec ?? ''}${r.step.why ? `\nno match: ${r.step.why}` : ''}\nClick: open in the debugger here`;
          c.addEventListener('click', () => openSide(which, i));
        }
        return c;
      };
      const row = h('div', { class: `wi-row ${p.kind}${k === d ? ' first' : ''}`, 'data-testid': 'whatif-row', 'data-kind': p.kind }, cell(ra, p.a, 'a'), cell(rb, p.b, 'b'));
      rows.append(row);
      if (k === d) divEl = row;
    }
    const target = divEl as HTMLElement | null;
    if (target) requestAnimationFrame(() => (rows.scrollTop = Math.max(0, target.offsetTop - rows.offsetTop - 48)));
  }

  function end(): void {
    fork = null;
    replay = null;
    al = null;
    showCompare(false);
  }

  button.addEventListener('click', doFork);
  replayBtn.addEventListener('click', () => void doReplay());
  toggleBtn.addEventListener('click', () => showCompare(!!view.hidden));
  back.addEventListener('click', () => showCompare(false));
  endBtn.addEventListener('click', () => end());

  let timer: ReturnType<typeof setTimeout> | null = null;
  const off = deps.api.onLabChanged((e) => {
    if (e.lab !== deps.lab || !fork) return;
    changed++;
    setBar();
    // The comparison follows the lab while it is on show.
    if (!view.hidden) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void doReplay(), 150);
    }
  });

  return {
    button,
    bar,
    view,
    single: () => {
      if (!view.hidden) showCompare(false);
    },
    dispose: () => {
      disposed = true;
      if (timer) clearTimeout(timer);
      off();
    },
  };
}
