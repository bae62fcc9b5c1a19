// The console panel: a tab per open host (node, pod as namespace/name, or Linux host), each a
// root shell on that machine run by the engine's shell (api.consoleLine): pipes, here-documents
// (a line that leaves one open keeps reading with a `> ` prompt; a multi-line paste is fed line
// by line), history with ↑/↓ and Ctrl+R (reverse-i-search) from the store, Tab completion as
// bash does it (completion.ts: the common prefix on one Tab, the candidates listed on the
// second), Ctrl+L, copy (selection, Ctrl+Shift+C) and paste (Ctrl+V, Ctrl+Shift+V). A plain
// <pre> and <input>: output is text only, appended in chunks so a big output never freezes the window.

import { CONSOLE_KEEP_CHARS, type ConsoleResult, type LabApi, type RulesQuery, type TraceResult } from '../shared/api/contract.ts';
import { chainsTable, complete, formatColumns, needsHost, reverseSearch, type HostTables, type KubeNames } from './completion.ts';
import { clear, errorText, h } from './ui.ts';

export interface ConsoleDeps {
  api: LabApi;
  lab: string;
  /** Names to complete after the command: hosts, nodes, pods, services. */
  names(): string[];
  /** The cluster's names by kind (kubectl and calicoctl complete them). */
  kube?(): KubeNames;
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
  /** Output waiting to be appended (chunked), and its characters. */
  queue: string[];
  queued: number;
  /** Characters on screen (kept to MAX_CHARS). */
  size: number;
  flushing: boolean;
  busy: boolean;
  /** The line as the last Tab left it (a second Tab on it lists the candidates). */
  tabbed: string | null;
  /** Ctrl+R in progress: the query, the matching entry (-1: none), the line before the search. */
  search: { query: string; at: number; original: string; failed: boolean } | null;
  lastQuery: string;
  /** The host's chains and sets for completion, briefly cached (one Tab after another). */
  tables: { key: string; time: number; value: HostTables } | null;
}

const CHUNK = 64 * 1024;
/** The screen keeps this much output, like a terminal's scrollback. */
const MAX_CHARS = CONSOLE_KEEP_CHARS + 256 * 1024; // (room for the command lines around an output cut to CONSOLE_KEEP_CHARS)
/** Output appended per frame at most (the browser lays the screen out once per frame). */
const FRAME_CHARS = 1024 * 1024;

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
      t.size += text.length;
      scroll(t);
      return;
    }
    for (let i = 0; i < text.length; i += CHUNK) t.queue.push(text.slice(i, i + CHUNK));
    t.queued += text.length;
    // What would scroll out of the kept screen before it is even drawn is never drawn (a
    // terminal streaming 15 MB shows the end of it, not every frame of it).
    if (t.queued > MAX_CHARS) {
      while (t.queue.length > 1 && t.queued - t.queue[0].length >= MAX_CHARS) t.queued -= (t.queue.shift() as string).length;
      wipe(t);
    }
    if (!t.flushing) flush(t);
  }

  function flush(t: Tab): void {
    if (!t.queue.length) {
      t.flushing = false;
      t.out.dataset.idle = 'true';
      return;
    }
    t.flushing = true;
    t.out.dataset.idle = 'false';
    let text = '';
    while (t.queue.length && text.length < FRAME_CHARS) text += t.queue.shift() as string;
    t.queued -= text.length;
    t.out.append(document.createTextNode(text));
    t.size += text.length;
    // Keep the screen to the last MAX_CHARS.
    while (t.size > MAX_CHARS && t.out.firstChild) {
      t.size -= t.out.firstChild.textContent?.length ?? 0;
      t.out.firstChild.remove();
    }
    scroll(t);
    requestAnimationFrame(() => flush(t));
  }

  /** Empties the screen (clear, Ctrl+L, or output that replaces all of it). */
  function wipe(t: Tab): void {
    clear(t.out);
    t.size = 0;
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
        t.tables = null;
        if (text.trim()) {
          t.history.push(text);
          if (t.history.length > 1000) t.history.shift();
        }
        if (r.stdoutCut) write(t, `[${(r.stdoutCut / 1024 / 1024).toFixed(1)} MB of output above this scrolled out of the console, which keeps the last ${(CONSOLE_KEEP_CHARS / 1024 / 1024).toFixed(0)} MB; pipe into grep, head or tail to see the rest]\n`, 'cut');
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
      wipe(t);
      return [];
    }
    t.pending.push(...real);
    return run(t);
  }

  function onKey(t: Tab, e: KeyboardEvent): void {
    e.stopPropagation();
    if (t.busy) return;
    if (e.key !== 'Tab') t.tabbed = null;
    if (t.search && searchKey(t, e)) return;
    if (e.key === 'r' && e.ctrlKey) {
      e.preventDefault();
      t.search = { query: '', at: -1, original: t.input.value, failed: false };
      showSearch(t);
    } else if ((e.key === 'C' || e.key === 'V') && e.ctrlKey && e.shiftKey) {
      e.preventDefault();
      clipboard(t, e.key === 'C');
    } else if (e.key === 'Enter') {
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
      void tab(t);
    } else if (e.key === 'l' && e.ctrlKey) {
      e.preventDefault();
      wipe(t);
    } else if (e.key === 'c' && e.ctrlKey && t.input.selectionStart === t.input.selectionEnd) {
      // Ctrl+C without a selection: drop the line (and an unfinished here-document).
      e.preventDefault();
      write(t, `${t.pending.length ? '> ' : `${t.prompt} `}${t.input.value}^C\n`, 'echo');
      t.pending = [];
      t.input.value = '';
      setPrompt(t);
    }
  }

  /** Tab: the common prefix; a second Tab on an ambiguous word lists the candidates under the prompt. */
  async function tab(t: Tab): Promise<void> {
    const line = t.input.value;
    const host = needsHost(line) ? await hostTables(t, chainsTable(line)).catch(() => undefined) : undefined;
    if (t.input.value !== line) return;
    const r = complete(line, deps.names(), { ...(deps.kube ? { kube: deps.kube() } : {}), ...(host ? { host } : {}) });
    if (r.line !== line) t.input.value = r.line;
    else if (r.candidates.length && t.tabbed === line) {
      const cols = Math.floor(t.out.clientWidth / charWidth(t)) - 2;
      write(t, `${t.prompt} ${line}\n${formatColumns(r.candidates, Math.max(40, cols))}`, 'echo');
    }
    t.tabbed = t.input.value;
  }

  function charWidth(t: Tab): number {
    const text = t.promptEl.textContent ?? '';
    return text.length ? Math.max(4, t.promptEl.getBoundingClientRect().width / text.length) : 7.5;
  }

  /** The host's chains (of one table) and ipset names, from LabApi.rules (reads only, no history). */
  async function hostTables(t: Tab, table: string | null): Promise<HostTables> {
    const key = table ?? '';
    if (t.tables && t.tables.key === key && performance.now() - t.tables.time < 3000) return t.tables.value;
    const v = await deps.api.rules(deps.lab, t.host, { ...(table ? { table: table as RulesQuery['table'] } : {}), limit: 0, chainLimit: 100_000 });
    const value: HostTables = { chains: {}, sets: v.ipsets.map((s) => s.name) };
    for (const tb of v.tables) if (tb.chains.length) value.chains[tb.name] = tb.chains.map((c) => c.name);
    t.tables = { key, time: performance.now(), value };
    return value;
  }

  function showSearch(t: Tab): void {
    const s = t.search;
    if (!s) return;
    t.promptEl.textContent = `(${s.failed ? 'failed ' : ''}reverse-i-search)\`${s.query}': `;
    const entry = s.at >= 0 ? t.history[s.at] : undefined;
    if (entry !== undefined) {
      t.input.value = entry.split('\n')[0];
      t.input.dataset.entry = String(s.at);
      const i = t.input.value.indexOf(s.query);
      if (i >= 0) t.input.setSelectionRange(i, i);
    } else {
      // Nothing found yet: the line as it was (bash shows it after the search prompt).
      t.input.value = s.original;
      t.input.dataset.entry = '';
    }
  }

  /** Moves the search to the newest entry at or before `from` holding the query (and not the one shown). */
  function seek(t: Tab, from: number): void {
    const s = t.search;
    if (!s) return;
    let i = reverseSearch(t.history, s.query, from);
    while (i >= 0 && s.at >= 0 && i !== s.at && t.history[i] === t.history[s.at]) i = reverseSearch(t.history, s.query, i - 1);
    s.failed = i < 0 && s.query !== '';
    if (i >= 0) s.at = i;
    showSearch(t);
  }

  function endSearch(t: Tab, keep: boolean): void {
    const s = t.search;
    if (!s) return;
    t.search = null;
    if (s.query) t.lastQuery = s.query;
    if (!keep) {
      t.input.value = s.original;
      t.input.dataset.entry = '';
    } else if (s.at >= 0) t.at = s.at;
    setPrompt(t);
  }

  /** A key while Ctrl+R searches; false when the key ends the search and still does its own work. */
  function searchKey(t: Tab, e: KeyboardEvent): boolean {
    const s = t.search;
    if (!s) return false;
    if (e.key === 'r' && e.ctrlKey) {
      e.preventDefault();
      if (!s.query && t.lastQuery) {
        s.query = t.lastQuery;
        seek(t, t.history.length - 1);
      } else seek(t, s.at >= 0 ? s.at - 1 : t.history.length - 1);
    } else if (e.key === 'Escape' || (e.key === 'g' && e.ctrlKey) || (e.key === 'c' && e.ctrlKey)) {
      e.preventDefault();
      endSearch(t, false);
    } else if (e.key === 'Backspace') {
      e.preventDefault();
      s.query = s.query.slice(0, -1);
      s.at = -1;
      seek(t, t.history.length - 1);
    } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      s.query += e.key;
      seek(t, s.at >= 0 ? s.at : t.history.length - 1);
    } else if (['Shift', 'Control', 'Alt', 'Meta'].includes(e.key)) {
      return true;
    } else {
      // Enter runs the match; any other key (arrows, Tab, Home, End…) leaves it on the line to edit.
      endSearch(t, true);
      return false;
    }
    return true;
  }

  /** Ctrl+Shift+C copies the selection (output or line); Ctrl+Shift+V pastes as Ctrl+V does. */
  function clipboard(t: Tab, copy: boolean): void {
    const cb = navigator.clipboard as Clipboard | undefined;
    if (copy) {
      const inLine = t.input.selectionStart !== t.input.selectionEnd ? t.input.value.slice(t.input.selectionStart ?? 0, t.input.selectionEnd ?? 0) : '';
      const text = inLine || (getSelection()?.toString() ?? '');
      if (text) void cb?.writeText(text).catch(() => undefined);
    } else void cb?.readText().then((text) => paste(t, text)).catch(() => undefined);
  }

  /** Pasted text: one line goes into the line being typed; several lines run one by one. */
  function paste(t: Tab, text: string): void {
    if (t.busy || !text) return;
    const start = t.input.selectionStart ?? t.input.value.length;
    const end = t.input.selectionEnd ?? start;
    const lines = (t.input.value.slice(0, start) + text.replace(/\r\n?/g, '\n') + t.input.value.slice(end)).split('\n');
    t.input.value = lines.pop() ?? '';
    if (lines.length) void submit(t, lines);
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
    const t: Tab = { host, prompt: `root@${hostname}:/#`, button, pane, out, promptEl, input, pending: [], history: [], at: 0, draft: '', queue: [], queued: 0, size: 0, flushing: false, busy: false, tabbed: null, search: null, lastQuery: '', tables: null };
    x.addEventListener('click', (e) => {
      e.stopPropagation();
      close(t);
    });
    button.addEventListener('click', () => activate(t));
    input.addEventListener('keydown', (e) => onKey(t, e));
    input.addEventListener('paste', (e) => {
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (t.search) endSearch(t, true);
      if (!text.includes('\n') || t.busy) return;
      e.preventDefault();
      paste(t, text);
    });
    out.addEventListener('click', () => {
      if (!getSelection()?.toString()) input.focus();
    });
    // Copying a selection of the output (Ctrl+C, Ctrl+Shift+C) is the browser's, not the
    // canvas's copy; Ctrl+V pastes into the line.
    out.addEventListener('keydown', (e) => {
      const k = e.key.toLowerCase();
      if (!(e.ctrlKey || e.metaKey) || !['c', 'v', 'insert'].includes(k)) return;
      e.stopPropagation();
      if (k === 'c' && e.shiftKey) {
        e.preventDefault();
        clipboard(t, true);
      } else if (k === 'v') {
        if (e.shiftKey) {
          e.preventDefault();
          clipboard(t, false);
        }
        input.focus();
      }
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
