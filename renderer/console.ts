// The console panel: a tab per open host (node, pod as namespace/name, or Linux host), each a
// root shell on that machine run by the engine's shell (api.consoleLine): pipes, here-documents
// (a line that leaves one open keeps reading with a `> ` prompt; a multi-line paste is fed line
// by line), history with ↑/↓ from the store, Tab completion, Ctrl+L. A plain <pre> and <input>:
// output is text only, appended in chunks so a big output never freezes the window.

import type { ConsoleResult, LabApi, TraceResult } from '../shared/api/contract.ts';
import { complete } from './completion.ts';
import { clear, errorText, h } from './ui.ts';

export interface ConsoleDeps {
  api: LabApi;
  lab: string;
  /** Names to complete after the command: hosts, nodes, pods, services. */
  names(): string[];
  /** A command sent packets: their walks, for the stepper. */
  onPackets(traces: TraceResult[], line: string): void;
  /** A command ran to its end (every line of it, a here-document whole), with what it printed. */
  onLine?(host: string, line: string, result: ConsoleResult): void;
}

export interface ConsolePanel {
  el: HTMLElement;
  open(host: string, hostname: string): void;
  has(host: string): boolean;
  /**
   * Opens the host's console and runs `text` there as if typed (each line echoed after the
   * prompt): the walkthrough's "Run in console". Resolves with the results of the commands run.
   */
  run(host: string, hostname: string, text: string): Promise<ConsoleResult[]>;
  dispose(): void;
}

interface Tab {
  host: string;
  prompt: string;
  button: HTMLElement;
  pane: HTMLElement;
  out: HTMLElement;
  promptEl: HTMLElement;
  input: HTMLInputElement;
  /** Lines of an unfinished command (an open here-document). */
  pending: string[];
  history: string[];
  /** Position in history while browsing with ↑/↓ (history.length: the new line). */
  at: number;
  draft: string;
  /** Output waiting to be appended (chunked). */
  queue: string[];
  flushing: boolean;
  busy: boolean;
}

const CHUNK = 64 * 1024;
const MAX_CHARS = 4 * 1024 * 1024;

export function createConsole(deps: ConsoleDeps): ConsolePanel {
  const tabsBar = h('div', { class: 'console-tabs', role: 'tablist' });
  const panes = h('div', { class: 'console-panes' });
  const el = h('div', { class: 'console', 'data-testid': 'console' }, tabsBar, panes);
  el.hidden = true;
  const tabs = new Map<string, Tab>();
  let active: Tab | null = null;

  function write(t: Tab, text: string, cls?: string): void {
    if (!text) return;
    if (cls) {
      // Short lines (the echoed command, errors) go at once, in their own span.
      t.out.append(h('span', { class: cls }, text));
      scroll(t);
      return;
    }
    for (let i = 0; i < text.length; i += CHUNK) t.queue.push(text.slice(i, i + CHUNK));
    if (!t.flushing) flush(t);
  }

  function flush(t: Tab): void {
    const next = t.queue.shift();
    if (next === undefined) {
      t.flushing = false;
      t.out.dataset.idle = 'true';
      return;
    }
    t.flushing = true;
    t.out.dataset.idle = 'false';
    t.out.append(document.createTextNode(next));
    // Keep the screen to the last few MiB.
    let size = t.out.textContent?.length ?? 0;
    while (size > MAX_CHARS && t.out.firstChild) {
      size -= t.out.firstChild.textContent?.length ?? 0;
      t.out.firstChild.remove();
    }
    scroll(t);
    requestAnimationFrame(() => flush(t));
  }

  function scroll(t: Tab): void {
    t.out.scrollTop = t.out.scrollHeight;
  }

  function setPrompt(t: Tab): void {
    t.promptEl.textContent = t.pending.length ? '> ' : `${t.prompt} `;
  }

  function activate(t: Tab): void {
    active = t;
    for (const x of tabs.values()) {
      x.pane.hidden = x !== t;
      x.button.classList.toggle('active', x === t);
      x.button.setAttribute('aria-selected', String(x === t));
    }
    t.input.focus();
  }

  function close(t: Tab): void {
    tabs.delete(t.host);
    t.button.remove();
    t.pane.remove();
    if (active === t) {
      active = null;
      const next = [...tabs.values()].pop();
      if (next) activate(next);
    }
    el.hidden = tabs.size === 0;
  }

  /** Runs the pending lines; keeps what the command did not use for the next one. */
  async function run(t: Tab): Promise<ConsoleResult[]> {
    t.busy = true;
    t.input.disabled = true;
    const results: ConsoleResult[] = [];
    try {
      while (t.pending.length) {
        const lines = [...t.pending];
        const r = await deps.api.consoleLine(deps.lab, t.host, lines);
        if (r.more) break;
        const used = t.pending.splice(0, Math.max(1, r.consumed));
        const text = used.join('\n');
        if (text.trim()) {
          t.history.push(text);
          if (t.history.length > 1000) t.history.shift();
        }
        write(t, r.stdout);
        if (r.stderr) write(t, r.stderr, 'stderr');
        if (r.packets > 0) {
          const traces = await deps.api.consoleTraces(deps.lab);
          if (traces.length) deps.onPackets(traces, text);
        }
        results.push(r);
        if (text.trim()) deps.onLine?.(t.host, text, r);
      }
    } catch (e) {
      t.pending = [];
      write(t, `${errorText(e)}\n`, 'stderr');
    } finally {
      t.busy = false;
      t.input.disabled = false;
      t.at = t.history.length;
      setPrompt(t);
      t.input.focus();
    }
    return results;
  }

  async function submit(t: Tab, lines: string[]): Promise<ConsoleResult[]> {
    for (const line of lines) write(t, `${t.pending.length ? '> ' : `${t.prompt} `}${line}\n`, 'echo');
    const real = lines.filter((l, i) => t.pending.length > 0 || i > 0 || l.trim() !== '');
    if (!real.length) return [];
    if (t.pending.length === 0 && lines.length === 1 && /^\s*clear\s*$/.test(lines[0])) {
      clear(t.out);
      return [];
    }
    t.pending.push(...real);
    return run(t);
  }

  function onKey(t: Tab, e: KeyboardEvent): void {
    e.stopPropagation();
    if (t.busy) return;
    if (e.key === 'Enter') {
      e.preventDefault();
      const line = t.input.value;
      // A multi-line entry chosen from the history (a here-document) runs whole.
      const entry = t.input.dataset.entry ? t.history[Number(t.input.dataset.entry)] : undefined;
      t.input.value = '';
      t.input.dataset.entry = '';
      void submit(t, entry?.includes('\n') && entry.split('\n')[0] === line ? entry.split('\n') : [line]);
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      if (t.at === t.history.length) t.draft = t.input.value;
      t.at = Math.max(0, Math.min(t.history.length, t.at + (e.key === 'ArrowUp' ? -1 : 1)));
      // A multi-line entry (a here-document) shows its first line; Enter runs it whole.
      t.input.value = t.at === t.history.length ? t.draft : t.history[t.at].split('\n')[0];
      t.input.dataset.entry = t.at === t.history.length ? '' : String(t.at);
    } else if (e.key === 'Tab') {
      e.preventDefault();
      const r = complete(t.input.value, deps.names());
      t.input.value = r.line;
      if (r.candidates.length) write(t, `${t.prompt} ${t.input.value}\n${r.candidates.join('  ')}\n`, 'echo');
    } else if (e.key === 'l' && e.ctrlKey) {
      e.preventDefault();
      clear(t.out);
    } else if (e.key === 'c' && e.ctrlKey && t.input.selectionStart === t.input.selectionEnd) {
      // Ctrl+C without a selection: drop the line (and an unfinished here-document).
      e.preventDefault();
      write(t, `${t.pending.length ? '> ' : `${t.prompt} `}${t.input.value}^C\n`, 'echo');
      t.pending = [];
      t.input.value = '';
      setPrompt(t);
    }
  }

  function open(host: string, hostname: string): void {
    const have = tabs.get(host);
    if (have) {
      el.hidden = false;
      activate(have);
      return;
    }
    const out = h('pre', { class: 'console-out', 'data-testid': 'console-output', 'data-host': host, 'data-idle': 'true', tabindex: '-1' });
    const input = h('input', { class: 'console-input', 'data-testid': 'console-input', spellcheck: 'false', autocomplete: 'off', 'aria-label': `Console on ${host}` });
    const promptEl = h('span', { class: 'console-prompt', 'data-testid': 'console-prompt' });
    const pane = h('div', { class: 'console-pane', 'data-host': host }, out, h('div', { class: 'console-line' }, promptEl, input));
    const button = h('button', { class: 'console-tab', role: 'tab', 'data-testid': `console-tab-${host}`, title: host }, hostname);
    const x = h('span', { class: 'close', title: 'Close this console', 'aria-label': 'Close' }, '×');
    button.append(x);
    const t: Tab = { host, prompt: `root@${hostname}:/#`, button, pane, out, promptEl, input, pending: [], history: [], at: 0, draft: '', queue: [], flushing: false, busy: false };
    x.addEventListener('click', (e) => {
      e.stopPropagation();
      close(t);
    });
    button.addEventListener('click', () => activate(t));
    input.addEventListener('keydown', (e) => onKey(t, e));
    input.addEventListener('paste', (e) => {
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (!text.includes('\n') || t.busy) return;
      e.preventDefault();
      const lines = (t.input.value + text).replace(/\r\n?/g, '\n').split('\n');
      const last = lines.pop() ?? '';
      t.input.value = last;
      void submit(t, lines);
    });
    out.addEventListener('click', () => {
      if (!getSelection()?.toString()) input.focus();
    });
    tabs.set(host, t);
    tabsBar.append(button);
    panes.append(pane);
    setPrompt(t);
    el.hidden = false;
    activate(t);
    void deps.api.consoleHistory(deps.lab, host).then((hist) => {
      t.history = [...hist, ...t.history];
      t.at = t.history.length;
    }).catch(() => undefined);
  }

  async function runText(host: string, hostname: string, text: string): Promise<ConsoleResult[]> {
    open(host, hostname);
    const t = tabs.get(host);
    if (!t) return [];
    // Wait for a command still running on this console (typed, or a step's).
    for (let i = 0; t.busy && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
    if (t.pending.length) {
      write(t, '^C\n', 'echo');
      t.pending = [];
    }
    return submit(t, text.replace(/\r\n?/g, '\n').split('\n'));
  }

  return {
    el,
    open,
    run: runText,
    has: (host) => tabs.has(host),
    dispose: () => {
      for (const t of [...tabs.values()]) close(t);
    },
  };
}
