// The console panel: a tab per open host (node, pod as namespace/name, or Linux host), each a
// terminal (xterm.js) with a root shell on that machine run by the engine's shell
// (api.consoleLine): pipes, here-documents (a line that leaves one open keeps reading with a `> `
// prompt; a multi-line paste is fed line by line), a line editor as bash's (line-editor.ts),
// history with ↑/↓ and Ctrl+R (reverse-i-search) from the store, Tab completion as bash does it
// (completion.ts: the common prefix on one Tab, the candidates listed on the second), Ctrl+C,
// Ctrl+L, copy (selection, Ctrl+Shift+C, Ctrl+C on a selection) and paste (Ctrl+V, Ctrl+Shift+V).
// Output is written as text: control characters in it are shown (`^[`), never interpreted, and a
// big output is written in chunks, each after the terminal has taken the one before. A command
// that runs on (`conntrack -E`) keeps its tab busy, printing what happens on its host, until
// Ctrl+C ends it (api.consoleFollow, api.consoleInterrupt).

import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { CONSOLE_KEEP_CHARS, type ConsoleResult, type LabApi, type RulesQuery, type TraceResult } from '../shared/api/contract.ts';
import { chainsTable, complete, formatColumns, needsHost, reverseSearch, type HostTables, type KubeNames } from './completion.ts';
import { LineEditor, isPrintable } from './line-editor.ts';
import { xtermWidth, type CellWidth } from './cell-width.ts';
import { terminalText } from './terminal-text.ts';
import { cssomCellStyles, withAdoptedStyles } from './xterm-csp.ts';
import { errorText, h } from './ui.ts';

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
  /** The terminal's element (data-idle: all output written; data-busy: a command running). */
  box: HTMLElement;
  term: Terminal;
  fit: FitAddon;
  ed: LineEditor;
  /** Lines of an unfinished command (an open here-document), or of a paste still running. */
  pending: string[];
  /** The first lines of `pending` already shown after their prompts. */
  echoed: number;
  history: string[];
  /** Position in history while browsing with ↑/↓ (history.length: the new line). */
  at: number;
  draft: string;
  /** The history entry on the line (a multi-line one shows its first line; Enter runs it whole), or -1. */
  entry: number;
  /** Terminal data waiting to be written (each chunk after the terminal took the one before). */
  queue: string[];
  writing: boolean;
  /** The last thing written ended a row (a prompt starts on a new row). */
  col0: boolean;
  busy: boolean;
  closed: boolean;
  /** The line as the last Tab left it (a second Tab on it lists the candidates). */
  tabbed: string | null;
  /** Ctrl+R in progress: the query, the matching entry (-1: none), the line before the search. */
  search: { query: string; at: number; original: string; failed: boolean } | null;
  lastQuery: string;
  /** The host's chains and sets for completion, briefly cached (one Tab after another). */
  tables: { key: string; time: number; value: HostTables } | null;
  resize: ResizeObserver;
  /** A command that runs on (`conntrack -E`): its watch, and how its wait ends (Ctrl+C). */
  follow: { id: number; timer: ReturnType<typeof setInterval>; done: () => void } | null;
}

/** How often a console following a command asks for its new output. */
const FOLLOW_MS = 250;

/** Output is handed to the terminal in chunks of this many characters, each after it took the last. */
const CHUNK = 64 * 1024;
/** Rows kept above the screen: the last CONSOLE_KEEP_CHARS of an output (2 MiB of ~100-character lines), and the commands around it. */
const SCROLLBACK = 40_000;
const FONT = 'ui-monospace, "DejaVu Sans Mono", monospace';
const RESET = '\x1b[0m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const PROMPT_STYLE = '\x1b[1;32m';

/** The terminal's colours from the app's theme (styles.css variables). */
function theme(): ITheme {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string): string => s.getPropertyValue(name).trim() || fallback;
  const text = v('--text', '#e3e7ee');
  const bg = v('--bg', '#14171c');
  const accent = v('--accent', '#4c9cff');
  return {
    background: bg, foreground: text, cursor: text, cursorAccent: bg,
    selectionBackground: /^#[0-9a-f]{6}$/i.test(accent) ? `${accent}66` : accent,
    black: bg, red: v('--danger', '#ff6b6b'), green: v('--ok', '#4fd18b'), yellow: v('--warn', '#ffc861'), blue: accent,
    brightBlack: v('--muted', '#8f99a8'), brightRed: v('--danger', '#ff6b6b'), brightGreen: v('--ok', '#4fd18b'), brightYellow: v('--warn', '#ffc861'), brightBlue: accent,
    white: text, brightWhite: text,
  };
}

/** The buffer's text as lines (rows a long line wrapped onto joined), trailing blanks left out. */
function bufferText(term: Terminal): string {
  const b = term.buffer.active;
  const lines: string[] = [];
  let cur = '';
  for (let y = 0; y < b.length; y++) {
    const row = b.getLine(y);
    if (!row) continue;
    const next = b.getLine(y + 1);
    const continued = !!next?.isWrapped;
    cur += row.translateToString(!continued);
    if (!continued) {
      lines.push(cur.replace(/ +$/, ''));
      cur = '';
    }
  }
  if (cur) lines.push(cur.replace(/ +$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/**
 * The terminal's own width of a code point, so the line editor lays the line out as it prints it
 * (its Unicode service follows the active Unicode version: '6', as no unicode11 addon is loaded).
 * xterm 6 has it only on an internal (Terminal.unicode has no width, and is proposed API), reached
 * as xterm-csp.ts reaches its renderer; checked on three code points, and when it is not there the
 * editor's copy of xterm's default table measures.
 */
function terminalWidth(term: Terminal): CellWidth {
  const u = (term as unknown as { _core?: { unicodeService?: { wcwidth?: unknown } } })._core?.unicodeService;
  const wcwidth = u?.wcwidth;
  if (typeof wcwidth !== 'function') return xtermWidth;
  const f = (cp: number): number => (wcwidth as (cp: number) => number).call(u, cp);
  try {
    if (f(0x61) === 1 && f(0xac00) === 2 && f(0x301) === 0) return f;
  } catch {
    // (not the service this version had)
  }
  return xtermWidth;
}

export function createConsole(deps: ConsoleDeps): ConsolePanel {
  const tabsBar = h('div', { class: 'console-tabs', role: 'tablist' });
  const panes = h('div', { class: 'console-panes' });
  const el = h('div', { class: 'console', 'data-testid': 'console' }, tabsBar, panes);
  el.hidden = true;
  const tabs = new Map<string, Tab>();
  let active: Tab | null = null;

  // The theme follows the app's (T toggles data-theme on <html>).
  const themes = new MutationObserver(() => {
    const th = theme();
    for (const t of tabs.values()) t.term.options.theme = th;
  });
  themes.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });

  /** Queues terminal data (already safe: built here, or command text through terminalText). */
  function emit(t: Tab, data: string): void {
    if (!data || t.closed) return;
    for (let i = 0; i < data.length; i += CHUNK) t.queue.push(data.slice(i, i + CHUNK));
    if (!t.writing) pump(t);
  }

  /** Writes the next chunk once the terminal has parsed the last one (its flow control). */
  function pump(t: Tab): void {
    const chunk = t.queue.shift();
    if (chunk === undefined || t.closed) {
      t.writing = false;
      t.box.dataset.idle = 'true';
      return;
    }
    t.writing = true;
    t.box.dataset.idle = 'false';
    t.term.write(chunk, () => pump(t));
  }

  /** Command output (or a message) as text, optionally in a colour. */
  function print(t: Tab, text: string, color = ''): void {
    if (!text) return;
    emit(t, color ? `${color}${terminalText(text)}${RESET}` : terminalText(text));
    t.col0 = text.endsWith('\n');
  }

  function setBusy(t: Tab, busy: boolean): void {
    t.busy = busy;
    t.box.dataset.busy = String(busy);
  }

  const promptText = (t: Tab): string => (t.pending.length ? '> ' : `${t.prompt} `);
  const promptStyled = (t: Tab): string => (t.pending.length ? '> ' : `${PROMPT_STYLE}${t.prompt}${RESET} `);

  /** A new prompt on a new row with `line` on it. */
  function prompt(t: Tab, line = '', cursor = line.length): void {
    if (!t.col0) emit(t, '\r\n');
    emit(t, t.ed.start(promptText(t), promptStyled(t), line, cursor));
    t.col0 = false;
  }

  /** Empties the screen and the scrollback (clear, Ctrl+L); the prompt comes back on top. */
  function wipe(t: Tab): void {
    emit(t, '\x1b[H\x1b[2J\x1b[3J');
    t.col0 = true;
  }

  function fit(t: Tab): void {
    if (t.closed || t.pane.hidden || !t.box.clientWidth || !t.box.clientHeight) return;
    try {
      t.fit.fit();
    } catch {
      // (not laid out yet)
    }
  }

  function activate(t: Tab): void {
    active = t;
    for (const x of tabs.values()) {
      x.pane.hidden = x !== t;
      x.button.classList.toggle('active', x === t);
      x.button.setAttribute('aria-selected', String(x === t));
    }
    fit(t);
    t.term.focus();
  }

  /**
   * A command that runs on: its new output is asked for every FOLLOW_MS (what other consoles,
   * the inspector and the lab's agents did meanwhile) until Ctrl+C ends it.
   */
  function following(t: Tab, id: number): Promise<void> {
    return new Promise((done) => {
      let asking = false;
      const timer = setInterval(() => {
        if (asking || !t.follow) return;
        asking = true;
        deps.api.consoleFollow(deps.lab, id).then((r) => {
          print(t, r.stdout);
          if (r.stderr) print(t, r.stderr, RED);
          if (!r.running) stop(t);
        }, () => stop(t)).finally(() => (asking = false));
      }, FOLLOW_MS);
      t.follow = { id, timer, done };
    });
  }

  function stop(t: Tab): void {
    const f = t.follow;
    if (!f) return;
    clearInterval(f.timer);
    t.follow = null;
    f.done();
  }

  /** Ctrl+C on a command that runs on: ^C, the rest of its output and its last words. */
  async function interrupt(t: Tab): Promise<void> {
    const f = t.follow;
    if (!f) return;
    clearInterval(f.timer);
    if (!t.closed) {
      emit(t, '^C\r\n');
      t.col0 = true;
    }
    try {
      const r = await deps.api.consoleInterrupt(deps.lab, f.id);
      if (!t.closed) {
        print(t, r.stdout);
        if (r.stderr) print(t, r.stderr, RED);
      }
    } catch (e) {
      if (!t.closed) print(t, `${errorText(e)}\n`, RED);
    }
    stop(t);
  }

  function close(t: Tab): void {
    if (t.follow) void interrupt(t);
    tabs.delete(t.host);
    t.closed = true;
    t.resize.disconnect();
    t.term.dispose();
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
    setBusy(t, true);
    const results: ConsoleResult[] = [];
    try {
      while (t.pending.length) {
        const lines = [...t.pending];
        const r = await deps.api.consoleLine(deps.lab, t.host, lines);
        if (r.more) {
          echo(t, lines, t.echoed, lines.length);
          t.echoed = lines.length;
          break;
        }
        const used = t.pending.splice(0, Math.max(1, r.consumed));
        // The command's lines as bash shows a paste: each after its prompt, then what it printed.
        echo(t, used, t.echoed, used.length);
        t.echoed = Math.max(0, t.echoed - used.length);
        const text = used.join('\n');
        t.tables = null;
        if (text.trim()) {
          t.history.push(text);
          if (t.history.length > 1000) t.history.shift();
        }
        if (r.stdoutCut) print(t, `[${(r.stdoutCut / 1024 / 1024).toFixed(1)} MB of output above this scrolled out of the console, which keeps the last ${(CONSOLE_KEEP_CHARS / 1024 / 1024).toFixed(0)} MB; pipe into grep, head or tail to see the rest]\n`, YELLOW);
        print(t, r.stdout);
        if (r.stderr) print(t, r.stderr, RED);
        if (r.packets > 0) {
          const traces = await deps.api.consoleTraces(deps.lab);
          if (traces.length) deps.onPackets(traces, text);
        }
        results.push(r);
        if (text.trim()) deps.onLine?.(t.host, text, r);
        if (r.follow !== undefined) await following(t, r.follow);
      }
    } catch (e) {
      t.pending = [];
      t.echoed = 0;
      print(t, `${errorText(e)}\n`, RED);
    } finally {
      setBusy(t, false);
      t.at = t.history.length;
    }
    return results;
  }

  /** Shows lines `from` to `to` of a command after their prompts (the first line's, then `> `). */
  function echo(t: Tab, lines: string[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      emit(t, i === 0 ? `${PROMPT_STYLE}${t.prompt}${RESET} ` : '> ');
      print(t, `${lines[i]}\n`);
    }
  }

  /**
   * Runs lines as typed: the line on show is replaced by the first one after its prompt, then the
   * commands run (each line shown as the shell reads it); the new prompt comes back with `keep`
   * on it (the rest of a paste, or the line the user was typing when "Run in console" ran something).
   */
  async function submit(t: Tab, lines: string[], keep = ''): Promise<ConsoleResult[]> {
    t.tabbed = null;
    t.entry = -1;
    emit(t, t.ed.erase());
    t.col0 = true;
    let rest = lines;
    // A blank line with nothing pending only brings a new prompt.
    if (!t.pending.length && rest.length && rest[0].trim() === '') {
      echo(t, rest, 0, 1);
      rest = rest.slice(1);
    }
    let results: ConsoleResult[] = [];
    if (!t.pending.length && lines.length === 1 && /^\s*clear\s*$/.test(lines[0])) wipe(t);
    else if (rest.length) {
      const first = t.pending.length;
      t.pending.push(...rest);
      echo(t, t.pending, first, first + 1);
      t.echoed = first + 1;
      results = await run(t);
    }
    if (!t.closed) prompt(t, keep);
    return results;
  }

  function enter(t: Tab): void {
    const line = t.ed.line;
    // A multi-line entry chosen from the history (a here-document) runs whole.
    const entry = t.entry >= 0 ? t.history[t.entry] : undefined;
    void submit(t, entry?.includes('\n') && entry.split('\n')[0] === line ? entry.split('\n') : [line]);
  }

  function browse(t: Tab, up: boolean): void {
    if (t.at === t.history.length) t.draft = t.ed.line;
    t.at = Math.max(0, Math.min(t.history.length, t.at + (up ? -1 : 1)));
    // A multi-line entry (a here-document) shows its first line; Enter runs it whole.
    emit(t, t.ed.set(t.at === t.history.length ? t.draft : t.history[t.at].split('\n')[0]));
    t.entry = t.at === t.history.length ? -1 : t.at;
  }

  /** Input from the terminal (xterm's onData: a key's bytes, typed or pasted text). */
  function onData(t: Tab, data: string): void {
    if (t.follow && data === '\x03') return void interrupt(t);
    if (t.busy || t.closed) return;
    // Text of more than one character that is no key's sequence: typed at once or pasted.
    if (data.length > 1 && data[0] !== '\x1b' && !isPrintable(data)) {
      paste(t, data);
      return;
    }
    if (data !== '\t') t.tabbed = null;
    if (t.search && searchData(t, data)) return;
    switch (data) {
      case '\r':
        enter(t);
        return;
      case '\x1b[A': case '\x1bOA': case '\x10': // ↑, Ctrl+P
        browse(t, true);
        return;
      case '\x1b[B': case '\x1bOB': case '\x0e': // ↓, Ctrl+N
        browse(t, false);
        return;
      case '\t':
        void tab(t);
        return;
      case '\x0c': // Ctrl+L
        wipe(t);
        emit(t, t.ed.show());
        t.col0 = false;
        return;
      case '\x03': // Ctrl+C: drops the line (and an unfinished here-document), as bash: ^C
        emit(t, t.ed.finish('^C'));
        t.col0 = true;
        t.pending = [];
        t.echoed = 0;
        t.entry = -1;
        t.at = t.history.length;
        prompt(t);
        return;
      case '\x12': // Ctrl+R
        t.search = { query: '', at: -1, original: t.ed.line, failed: false };
        showSearch(t);
        return;
    }
    const before = t.ed.line;
    const out = t.ed.feed(data);
    if (out === null) return; // (a key the shell does not use: F-keys, Esc, Insert…)
    emit(t, out);
    if (t.ed.line !== before && t.entry >= 0 && !t.history[t.entry]?.includes('\n')) t.entry = -1;
  }

  /** Pasted text: one line goes into the line being typed; several lines run one by one. */
  function paste(t: Tab, text: string): void {
    if (t.busy || !text) return;
    if (t.search) endSearch(t, true);
    // (xterm turns a paste's line breaks into CR; other control characters are left out, tabs kept in the lines run)
// eslint-disable-next-line no-control-regex
    const clean = text.replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
    const lines = (t.ed.line.slice(0, t.ed.cursor) + clean + t.ed.line.slice(t.ed.cursor)).split('\n');
    const rest = (lines.pop() ?? '').replace(/\t/g, ' ');
    if (lines.length) void submit(t, lines, rest);
    else {
      const tail = t.ed.line.slice(t.ed.cursor);
      emit(t, t.ed.set(rest, rest.length - tail.length));
    }
  }

  /** Tab: the common prefix; a second Tab on an ambiguous word lists the candidates under the prompt. */
  async function tab(t: Tab): Promise<void> {
    const line = t.ed.line;
    const host = needsHost(line) ? await hostTables(t, chainsTable(line)).catch(() => undefined) : undefined;
    if (t.ed.line !== line || t.busy || t.closed) return;
    const r = complete(line, deps.names(), { ...(deps.kube ? { kube: deps.kube() } : {}), ...(host ? { host } : {}) });
    if (r.line !== line) emit(t, t.ed.set(r.line));
    else if (r.candidates.length && t.tabbed === line) {
      // As bash: the candidates under the line, then the prompt and the line again.
      emit(t, t.ed.finish());
      t.col0 = true;
      print(t, formatColumns(r.candidates, Math.max(40, t.term.cols - 1)).replace(/\n?$/, '\n'));
      emit(t, t.ed.show());
      t.col0 = false;
    }
    t.tabbed = t.ed.line;
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
    const p = `(${s.failed ? 'failed ' : ''}reverse-i-search)\`${s.query}': `;
    const entry = s.at >= 0 ? t.history[s.at] : undefined;
    if (entry !== undefined) {
      const line = entry.split('\n')[0];
      t.entry = s.at;
      const i = line.indexOf(s.query);
      emit(t, t.ed.setPrompt(p, p, line, i >= 0 ? i : line.length));
    } else {
      // Nothing found yet: the line as it was (bash shows it after the search prompt).
      t.entry = -1;
      emit(t, t.ed.setPrompt(p, p, s.original));
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
      t.entry = -1;
      emit(t, t.ed.setPrompt(promptText(t), promptStyled(t), s.original));
    } else {
      if (s.at >= 0) t.at = s.at;
      emit(t, t.ed.setPrompt(promptText(t), promptStyled(t), t.ed.line, t.ed.cursor));
    }
  }

  /** Input while Ctrl+R searches; false when it ends the search and still does its own work. */
  function searchData(t: Tab, data: string): boolean {
    const s = t.search;
    if (!s) return false;
    if (data === '\x12') { // Ctrl+R again: an older match (on an empty query, the last search's)
      if (!s.query && t.lastQuery) {
        s.query = t.lastQuery;
        seek(t, t.history.length - 1);
      } else seek(t, s.at >= 0 ? s.at - 1 : t.history.length - 1);
    } else if (data === '\x1b' || data === '\x07' || data === '\x03') { // Esc, Ctrl+G, Ctrl+C: the line as it was
      endSearch(t, false);
    } else if (data === '\x7f' || data === '\b') {
      s.query = s.query.slice(0, -1);
      s.at = -1;
      seek(t, t.history.length - 1);
    } else if (isPrintable(data)) {
      s.query += data;
      seek(t, s.at >= 0 ? s.at : t.history.length - 1);
    } else {
      // Enter runs the match; any other key (arrows, Tab, Home, End…) leaves it on the line to edit.
      endSearch(t, true);
      return false;
    }
    return true;
  }

  /** Copies the terminal's selection. */
  function copy(t: Tab): void {
    const text = t.term.getSelection();
    const cb = navigator.clipboard as Clipboard | undefined;
    if (text) void cb?.writeText(text).catch(() => undefined);
  }

  /** Keys seen before xterm turns them into input: copy and paste. */
  function onKeyEvent(t: Tab, e: KeyboardEvent): boolean {
    if (e.type !== 'keydown') return true;
    const k = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && (k === 'c' || k === 'insert') && (e.shiftKey || k === 'insert' || t.term.hasSelection())) {
      // Ctrl+Shift+C (and Ctrl+C or Ctrl+Insert on a selection) copies; Ctrl+C without one is ^C.
      e.preventDefault();
      copy(t);
      if (!e.shiftKey) t.term.clearSelection();
      return false;
    }
    if ((mod && !e.altKey && k === 'v') || (e.shiftKey && k === 'insert')) {
      // The browser pastes into xterm's text area; its paste event comes back as input (onData).
      return false;
    }
    return true;
  }

  function open(host: string, hostname: string): void {
    const have = tabs.get(host);
    if (have) {
      el.hidden = false;
      activate(have);
      return;
    }
    const box = h('div', { class: 'console-term', 'data-testid': 'console-output', 'data-host': host, 'data-idle': 'true', 'data-busy': 'false' });
    const pane = h('div', { class: 'console-pane', 'data-host': host }, box);
    const button = h('button', { class: 'console-tab', role: 'tab', 'data-testid': `console-tab-${host}`, title: host }, hostname);
    const x = h('span', { class: 'close', title: 'Close this console', 'aria-label': 'Close' }, '×');
    button.append(x);
    const term = new Terminal({
      scrollback: SCROLLBACK, fontFamily: FONT, fontSize: 12, lineHeight: 1.2, theme: theme(), cursorBlink: true,
      allowProposedApi: false, convertEol: false, rightClickSelectsWord: false, minimumContrastRatio: 1,
    });
    const fitAddon = new FitAddon();
    term.loadAddon(fitAddon);
    const t: Tab = {
      host, prompt: `root@${hostname}:/#`, button, pane, box, term, fit: fitAddon, ed: new LineEditor(80, terminalWidth(term)), pending: [], echoed: 0, history: [], at: 0, draft: '', entry: -1,
      queue: [], writing: false, col0: true, busy: false, closed: false, tabbed: null, search: null, lastQuery: '', tables: null,
      resize: new ResizeObserver(() => fit(t)), follow: null,
    };
    x.addEventListener('click', (e) => {
      e.stopPropagation();
      close(t);
    });
    button.addEventListener('click', () => activate(t));
    tabs.set(host, t);
    tabsBar.append(button);
    panes.append(pane);
    el.hidden = false;
    active = t;
    for (const o of tabs.values()) o.pane.hidden = o !== t;
    // xterm writes its CSS into constructed stylesheets here (the CSP forbids inline <style>).
    withAdoptedStyles(() => term.open(box));
    cssomCellStyles(term);
    term.textarea?.setAttribute('data-testid', 'console-input');
    term.textarea?.setAttribute('aria-label', `Console on ${host}`);
    term.attachCustomKeyEventHandler((e) => onKeyEvent(t, e));
    term.onData((d) => onData(t, d));
    // (xterm leaves the rows of the line being typed as they were: the editor writes them again)
    term.onResize(({ cols }) => emit(t, t.ed.resize(cols)));
    // Keys typed in the console are the shell's, not the canvas's shortcuts (Delete, Ctrl+C, L…).
    box.addEventListener('keydown', (e) => e.stopPropagation());
    t.resize.observe(box);
    fit(t);
    t.ed.resize(term.cols);
    activate(t);
    prompt(t);
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
    if (t.search) endSearch(t, true);
    // The line being typed comes back after the commands.
    const keep = t.ed.line;
    if (t.pending.length) {
      emit(t, t.ed.finish('^C'));
      t.col0 = true;
      t.pending = [];
      t.echoed = 0;
      prompt(t);
    }
    return submit(t, text.replace(/\r\n?/g, '\n').split('\n'), keep);
  }

  // What the terminals show, for the end-to-end tests and the bench: the buffer's text, the
  // prompt and line being edited, and whether output is still being written.
  (globalThis as unknown as { kplConsoles?: unknown }).kplConsoles = {
    hosts: () => [...tabs.keys()],
    active: () => active?.host ?? null,
    text: (host?: string) => {
      const t = host ? tabs.get(host) : active;
      return t ? bufferText(t.term) : null;
    },
    state: (host?: string) => {
      const t = host ? tabs.get(host) : active;
      return t ? { prompt: t.ed.promptText, line: t.ed.line, cursor: t.ed.cursor, busy: t.busy, idle: !t.writing && !t.queue.length, cols: t.term.cols, rows: t.term.rows } : null;
    },
    /**
     * The terminal's cursor and the rows of the prompt it is on (from the prompt's first row to
     * the last the line wrapped onto), each as its cells' characters ('' for a blank cell and for
     * a wide character's second one): where the cursor sits in the line as the terminal drew it.
     */
    cursor: (host?: string) => {
      const t = host ? tabs.get(host) : active;
      if (!t) return null;
      const b = t.term.buffer.active;
      const y = b.baseY + b.cursorY;
      let top = y;
      while (top > 0 && b.getLine(top)?.isWrapped) top--;
      let bottom = y;
      while (b.getLine(bottom + 1)?.isWrapped) bottom++;
      const rows: string[][] = [];
      for (let r = top; r <= bottom; r++) {
        const line = b.getLine(r);
        const cells: string[] = [];
        for (let x = 0; x < t.term.cols; x++) cells.push(line?.getCell(x)?.getChars() ?? '');
        rows.push(cells);
      }
      return { x: b.cursorX, y: y - top, cols: t.term.cols, rows };
    },
    selection: (host?: string) => (host ? tabs.get(host) : active)?.term.getSelection() ?? '',
    /** Selects the last occurrence of `text` on one row of the buffer (as a mouse drag would). */
    select: (text: string, host?: string) => {
      const t = host ? tabs.get(host) : active;
      if (!t) return false;
      const b = t.term.buffer.active;
      for (let y = b.length - 1; y >= 0; y--) {
        const x = b.getLine(y)?.translateToString(false).indexOf(text) ?? -1;
        if (x >= 0) {
          t.term.select(x, y, text.length);
          return true;
        }
      }
      return false;
    },
  };

  return {
    el,
    open,
    run: runText,
    has: (host) => tabs.has(host),
    dispose: () => {
      themes.disconnect();
      for (const t of [...tabs.values()]) close(t);
    },
  };
}
