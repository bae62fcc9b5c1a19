// The debugger's saved traces: the lab's list (name, seed, when) in a pane, each reopened at the
// step chosen above the list; the next free name ("trace N", as the service names them) and the
// names that can be saved. Text only.

import type { LabApi, SavedTrace } from '../shared/api/contract.ts';
import { clear, errorText, h, relativeTime } from './ui.ts';

/** The next free "trace N" (N from the count up, as the service picks its default). */
export function nextTraceName(taken: readonly string[]): string {
  const set = new Set(taken);
  let i = taken.length + 1;
  while (set.has(`trace ${i}`)) i++;
  return `trace ${i}`;
}

/** Whether a name can be saved (what the API takes, without control characters). */
export function traceNameProblem(name: string): string | null {
  if (!name) return 'A name, please.';
  if (name.length > 200) return 'At most 200 characters.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'No control characters.';
  return null;
}

export interface SavedList {
  /** Reads the lab's saved traces again and redraws the list. */
  refresh(): Promise<SavedTrace[]>;
  /** The traces as last read. */
  list(): readonly SavedTrace[];
}

/** The list in a pane's body: "at step [N]", then one row per trace (click: reopen it at that step). */
export function savedList(body: HTMLElement, deps: { api: LabApi; lab: string; open(name: string, step: number): void; current(): string | null }): SavedList {
  let items: SavedTrace[] = [];
  const step = h('input', { type: 'number', min: '1', value: '1', 'data-testid': 'saved-step', 'aria-label': 'Open at step', title: 'The step a saved trace opens at' });
  step.addEventListener('keydown', (e) => e.stopPropagation());
  const rows = h('div', { 'data-testid': 'saved-list' });
  body.append(h('div', { class: 'muted' }, 'open at step ', step), rows);

  function draw(): void {
    clear(rows);
    if (!items.length) {
      rows.append(h('div', { class: 'muted' }, 'none saved yet'));
      return;
    }
    const on = deps.current();
    for (const t of items) {
      const row = h('div', { class: `dbg-frame${t.name === on ? ' top' : ''}`, 'data-testid': 'saved-trace', 'data-name': t.name, title: `Reopen "${t.name}" at the step above` },
        h('span', { class: 'chain' }, t.name), h('span', { class: 'muted' }, ` seed ${t.seed} · ${relativeTime(t.at)}`));
      row.addEventListener('click', () => {
        const n = Math.floor(Number(step.value));
        deps.open(t.name, Number.isFinite(n) && n >= 1 ? n : 1);
      });
      rows.append(row);
    }
  }

  return {
    async refresh() {
      try {
        items = await deps.api.traces(deps.lab);
      } catch (e) {
        clear(rows);
        rows.append(h('div', { class: 'error' }, `Could not read the saved traces: ${errorText(e)}`));
        return items;
      }
      draw();
      return items;
    },
    list: () => items,
  };
}
