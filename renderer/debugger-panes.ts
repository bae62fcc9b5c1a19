// The debugger's panes at a step (text only, never HTML): the call stack, the packet's headers
// (fields this step changes highlighted, before → after), the host's conntrack event and the path
// so far, the event list (every hop and verdict, a click jumps there), the breakpoints (enable,
// disable, remove, add) and the outcomes of an all-outcomes trace (a click replays one).

import { clear, h } from './ui.ts';
import {
  conntrackAt, ctEntryAt, ctTuple, eventsSoFar, outcomeTree, type OutcomeNode, type RulePart, packetAt, pathSoFar, rowOfEvent, type Breakpoint, type Nav, type PacketState, type Walk,
} from './trace-nav.ts';

export function pane(title: string, testid: string): { el: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'dbg-pane-body' });
  return { el: h('section', { class: 'dbg-pane', 'data-testid': testid }, h('h4', {}, title), body), body };
}

/** The call stack: host › hook › table, then the chains, the innermost first (as a debugger shows it). */
export function renderStack(body: HTMLElement, nav: Nav, i: number, go: (row: number) => void): void {
  clear(body);
  const r = nav.rows[i];
  if (!r) return;
  const s = r.step;
  body.append(h('div', { class: 'dbg-where' }, `${r.phase === 'packet' ? '' : `[${r.phase}] `}${s.host} › ${s.hook ?? '?'} › ${s.table}`));
  const frames = [...(nav.stacks[i] ?? [])].reverse();
  frames.forEach((f, k) => {
    const st = nav.rows[f.row]?.step;
    const at = st?.rule === null || st?.rule === undefined ? (st?.skipped !== undefined ? 'skipped rules' : 'end') : `rule ${st.rule}`;
    const row = h('div', { class: `dbg-frame${k === 0 ? ' top' : ''}`, 'data-testid': 'dbg-frame', title: 'Go to this frame' }, h('span', { class: 'chain' }, f.chain), h('span', { class: 'muted' }, ` ${at}`));
    row.addEventListener('click', () => go(f.row));
    body.append(row);
  });
}

const FIELDS: [keyof PacketState, string][] = [['proto', 'proto'], ['src', 'src'], ['sport', 'sport'], ['dst', 'dst'], ['dport', 'dport'], ['mark', 'mark']];

function fmt(f: keyof PacketState, v: unknown): string {
  if (f === 'mark') return `0x${(v as number).toString(16)}`;
  return v === null || v === undefined ? '—' : String(v);
}

/** The packet's headers as the rule sees them; a field this step changes shows before → after. */
export function renderPacket(body: HTMLElement, nav: Nav, i: number): void {
  clear(body);
  const p = packetAt(nav, i);
  if (!p) return;
  const t = h('table', { class: 'dbg-packet' });
  for (const [f, label] of FIELDS) {
    const changed = p.changed.includes(f);
    const cell = h('td', { 'data-testid': `pkt-${label}`, class: changed ? 'changed' : '' }, changed ? `${fmt(f, p.before[f])} → ${fmt(f, p.after[f])}` : fmt(f, p.before[f]));
    t.append(h('tr', {}, h('th', {}, label), cell));
  }
  if (p.before.flags) t.append(h('tr', {}, h('th', {}, 'flags'), h('td', { 'data-testid': 'pkt-flags' }, p.before.flags)));
  // Against the packet as it was sent: what NAT has done so far.
  const ph = nav.phases.find((x) => i >= x.start && i < x.end);
  const sent = ph?.walk.packet;
  const notes: string[] = [];
  if (sent && (sent.src !== p.after.src || sent.sport !== p.after.sport)) notes.push(`source translated (sent from ${sent.src}:${sent.sport ?? ''})`);
  else if (sent) notes.push('source as sent');
  if (sent && (sent.dst !== p.after.dst || sent.dport !== p.after.dport)) notes.push(`destination translated (sent to ${sent.dst}:${sent.dport ?? ''})`);
  body.append(t, h('div', { class: 'muted dbg-note', 'data-testid': 'pkt-note' }, notes.join('; ')));
}

/** The current rule's parts, each marked: ✓ passed, ✗ failed (with why), · not tested. */
export function renderParts(body: HTMLElement, parts: RulePart[]): void {
  clear(body);
  for (const p of parts) {
    const mark = p.hit === true ? '✓' : p.hit === false ? '✗' : '·';
    const cls = p.hit === true ? 'hit' : p.hit === false ? 'miss' : 'untested';
    body.append(h('span', { class: `dbg-part ${cls}`, 'data-testid': 'step-part', 'data-hit': p.hit === null ? 'untested' : String(p.hit), title: p.why ?? (p.hit === null ? 'not tested' : p.hit ? 'passed' : 'failed') }, `${mark} ${p.text}`));
  }
}

/** A host's conntrack table as `conntrack -L` lists it now (from the lab), null while asked for. */
export interface CtTable {
  lines: string[];
  count: number;
}

/** The host's conntrack event, the entry the packet uses as listed at that point, the host's
 *  table (now) with that connection marked, and the hosts the packet has crossed. */
export function renderState(body: HTMLElement, nav: Nav, i: number, table?: CtTable | null): void {
  clear(body);
  const r = nav.rows[i];
  if (!r) return;
  const ct = conntrackAt(nav, i);
  body.append(h('div', { 'data-testid': 'dbg-conntrack' }, h('span', { class: 'muted' }, 'conntrack: '), ct ? `${ct.host}: ${ct.text}` : 'no entry looked up on this host yet'));
  const used = ctEntryAt(nav, i);
  // A new connection's entry is listed once confirmed (after POSTROUTING or INPUT).
  const pending = ct && !used && /new connection/.test(ct.text);
  if (used) body.append(h('pre', { class: 'dbg-ct-entry', 'data-testid': 'dbg-ct-entry', title: `the entry as conntrack -L listed it then (${used.kind === 'confirm' ? 'made by this packet' : 'found by this packet'})` }, used.entry ?? ''));
  else if (pending) body.append(h('div', { class: 'muted', 'data-testid': 'dbg-ct-entry' }, 'a new entry: in the table once the packet is confirmed (after POSTROUTING or INPUT)'));
  if (table) {
    const mine = used?.entry ? ctTuple(used.entry) : null;
    const list = h('pre', { class: 'dbg-ct-table', 'data-testid': 'dbg-ct-table' });
    for (const l of table.lines) list.append(h('div', { class: mine && ctTuple(l) === mine ? 'here' : '' }, l));
    if (!table.lines.length) list.append(h('div', { class: 'muted' }, '(empty)'));
    body.append(h('div', { class: 'muted' }, `${r.step.host}'s table now (conntrack -L, ${table.count} ${table.count === 1 ? 'entry' : 'entries'}${table.count > table.lines.length ? `, the first ${table.lines.length}` : ''}):`), list);
  }
  const path = pathSoFar(nav, i);
  const line = h('div', { class: 'dbg-path', 'data-testid': 'dbg-path' }, h('span', { class: 'muted' }, 'path: '));
  path.forEach((host, k) => {
    if (k) line.append(' → ');
    line.append(h('span', { class: host === r.step.host ? 'here' : '' }, host));
  });
  body.append(line);
}

/** Every hop and verdict of the walk (as Packet Tracer lists them); a click jumps there. */
export function renderEvents(body: HTMLElement, nav: Nav, i: number, go: (row: number) => void): void {
  clear(body);
  const past = new Set(eventsSoFar(nav, i));
  let lastPast: HTMLElement | null = null;
  for (const e of nav.events) {
    const row = h('div', { class: `dbg-event ${e.kind}${past.has(e) ? ' past' : ''}`, 'data-testid': 'dbg-event', 'data-kind': e.kind },
      `${e.phase === 'packet' ? '' : `[${e.phase}] `}${e.host}${e.hook ? ` ${e.hook}` : ''} · ${e.kind}: ${e.text}`);
    row.addEventListener('click', () => go(rowOfEvent(nav, e)));
    body.append(row);
    if (past.has(e)) lastPast = row;
  }
  if (lastPast) {
    const el = lastPast;
    requestAnimationFrame(() => {
      const box = body.getBoundingClientRect();
      const b = el.getBoundingClientRect();
      if (b.top < box.top || b.bottom > box.bottom) body.scrollTop += b.top - box.top - box.height / 2;
    });
  }
}

export function bpLabel(b: Breakpoint): string {
  const on = b.host ? ` on ${b.host}` : '';
  switch (b.kind) {
    case 'rule':
      return `rule ${b.rule ?? '?'} of ${b.table ?? ''} ${b.chain ?? ''}${on}`;
    case 'chain':
      return `chain ${b.chain ?? ''}${b.table ? ` (${b.table})` : ''}${on}`;
    case 'hook':
      return `hook ${b.hook ?? ''}${on}`;
    case 'drop':
      return 'any DROP / REJECT';
    case 'nat':
      return 'any NAT (DNAT, SNAT, MASQUERADE)';
    case 'conntrack':
      return `conntrack ${b.state ?? 'any state'}${on}`;
    case 'host':
      return b.host ? `entering ${b.host}` : 'entering any host';
  }
  return b.kind;
}

/** A breakpoint from the add form: a kind and its text ("CHAIN", "CHAIN@host", "HOOK@host", "host", "NEW"). */
export function parseBreakpoint(kind: Breakpoint['kind'], text: string): Breakpoint | string {
  const t = text.trim();
  const [what, host] = t.split('@').map((x) => x.trim());
  const withHost = host ? { host } : {};
  switch (kind) {
    case 'chain':
      if (!what || /\s/.test(what)) return 'a chain name (KUBE-SEP-* for a prefix), optionally @host';
      return { kind, chain: what, ...withHost, enabled: true };
    case 'hook': {
      const hook = what.toUpperCase();
      if (!['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(hook)) return 'a hook: PREROUTING, INPUT, FORWARD, OUTPUT or POSTROUTING, optionally @host';
      return { kind, hook, ...withHost, enabled: true };
    }
    case 'host':
      return t ? { kind, host: t.replace(/^@/, ''), enabled: true } : { kind, enabled: true };
    case 'conntrack':
      if (what && !/^[A-Za-z_]+$/.test(what)) return 'a conntrack state: NEW, ESTABLISHED, RELATED, INVALID';
      return { kind, ...(what ? { state: what.toUpperCase() } : {}), ...withHost, enabled: true };
    case 'drop':
    case 'nat':
      return { kind, enabled: true };
    case 'rule':
      return 'rules: click a step’s gutter, or F9 on the current step';
  }
  return 'unknown kind';
}

export function renderBreakpoints(body: HTMLElement, bps: Breakpoint[], change: (next: Breakpoint[]) => void, hitNow: (b: Breakpoint) => boolean): void {
  clear(body);
  if (!bps.length) body.append(h('div', { class: 'muted' }, 'No breakpoints. F9 or a step’s gutter: the current rule.'));
  bps.forEach((b, k) => {
    const box = h('input', { type: 'checkbox', title: 'Enabled', 'data-testid': 'bp-enabled' });
    box.checked = b.enabled !== false;
    box.addEventListener('change', () => change(bps.map((x, j) => (j === k ? { ...x, enabled: box.checked } : x))));
    const rm = h('button', { class: 'bp-remove', title: 'Remove', 'data-testid': 'bp-remove', onclick: () => change(bps.filter((_, j) => j !== k)) }, '×');
    body.append(h('div', { class: `dbg-bp${hitNow(b) ? ' hit' : ''}${b.enabled === false ? ' off' : ''}`, 'data-testid': 'bp' }, box, h('span', { class: 'bp-label' }, bpLabel(b)), rm));
  });
  const kind = h('select', { 'data-testid': 'bp-kind', 'aria-label': 'Breakpoint kind' },
    ...([['chain', 'chain'], ['hook', 'hook'], ['host', 'entering host'], ['drop', 'DROP/REJECT'], ['nat', 'NAT'], ['conntrack', 'conntrack state']] as const).map(([v, l]) => h('option', { value: v }, l)));
  const text = h('input', { 'data-testid': 'bp-text', placeholder: 'KUBE-SEP-*  or  INPUT@minikube', spellcheck: 'false' });
  const err = h('div', { class: 'dbg-err', 'data-testid': 'bp-error' });
  const form = h('form', { class: 'dbg-bp-add', 'data-testid': 'bp-add' }, kind, text, h('button', { type: 'submit' }, 'Add'));
  form.addEventListener('keydown', (e) => e.stopPropagation());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const b = parseBreakpoint(kind.value as Breakpoint['kind'], text.value);
    if (typeof b === 'string') {
      err.textContent = b;
      return;
    }
    change([...bps, b]);
  });
  body.append(form, err);
}

/** An all-outcomes trace: every branch with its probability; a click replays it. */
export function renderOutcomes(body: HTMLElement, outcomes: (Walk & { probability?: number })[], current: number, pick: (k: number) => void): void {
  clear(body);
  if (!outcomes.length) {
    body.append(h('div', { class: 'muted' }, 'Tick “all outcomes” and trace to list every branch with its probability.'));
    return;
  }
  const pct = (p: number): string => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
  const row = (k: number): HTMLElement => {
    const o = outcomes[k];
    const r = h('div', { class: `dbg-outcome${k === current ? ' current' : ''} ${o.outcome ?? ''}`, 'data-testid': 'dbg-outcome', title: 'Replay this branch' },
      h('span', { class: 'p' }, pct(o.probability ?? 0)),
      ` ${o.outcome ?? '?'}`,
      h('span', { class: 'muted' }, ` — ${o.dnat ? `DNAT ${o.dnat}; ` : ''}${o.reason ?? ''}`));
    r.addEventListener('click', () => pick(k));
    return r;
  };
  // The tree of random choices (statistic rules' draws), each outcome at the end of its own.
  const weight = (n: OutcomeNode): number => n.outcomes.reduce((s, k) => s + (outcomes[k].probability ?? 0), 0) + n.edges.reduce((s, e) => s + weight(e.node), 0);
  const draw = (n: OutcomeNode, into: HTMLElement): void => {
    for (const k of n.outcomes) into.append(row(k));
    for (const e of n.edges) {
      const d = e.decision;
      const sub = h('div', { class: 'dbg-branch-kids' });
      into.append(h('div', { class: 'dbg-branch', 'data-testid': 'dbg-branch' },
        h('div', { class: 'dbg-branch-head', title: `${d.host} › ${d.table} › ${d.chain}, rule ${d.rule}: statistic --mode random --probability ${d.p}` },
          h('span', { class: 'p' }, pct(weight(e.node))), ` ${d.chain} rule ${d.rule} (p=${Number(d.p).toFixed(3)}) `, h('strong', {}, d.taken ? 'matched' : 'missed'), h('span', { class: 'muted' }, ` on ${d.host}`)),
        sub));
      draw(e.node, sub);
    }
  };
  draw(outcomeTree(outcomes), body);
}
