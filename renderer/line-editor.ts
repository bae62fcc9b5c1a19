// The console's line discipline: the line being typed after the prompt, edited as bash's readline
// edits it (printable input inserted at the cursor, Backspace, Delete, ←/→, Home/End, Ctrl+A/E/B/F,
// Ctrl+U/K/W and Ctrl+Y to yank the last kill, Alt+B/F and Ctrl+←/→ by words), and the escape
// sequences that show each change in the terminal. Pure: no DOM, no xterm; the console writes what
// it returns.
//
// The prompt starts at column 0 of a row and the line may wrap over several rows of `cols`
// columns. After every sequence returned here the terminal's cursor is at the cursor's cell and
// never in the "pending wrap" state (a line ending exactly at the last column is followed by a
// space and a carriage return that move the cursor to the next row), so relative moves (CUU, CUD,
// CR, CUF) always start from a known cell.
//
// Cells are measured as xterm.js measures them (`CellWidth`: by default its Unicode 6 tables, the
// console's terminal's own when it has one): Hangul, CJK and fullwidth forms take two cells,
// combining marks (and the other zero-width code points of its table) none — they join the cell of
// the character before them. Prompt and line are laid out row by row as the terminal prints them:
// a wide character that would start in a row's last column goes to the next row and leaves that
// cell blank. A character for the keys (←/→, Backspace, Delete) is a code point with the
// zero-width ones after it, as readline steps over a multibyte character and its combining marks.

import { xtermWidth, type CellWidth } from './cell-width.ts';

/** Terminal input (xterm's onData) that is text to insert: no C0 controls, DEL or C1 controls. */
export function isPrintable(data: string): boolean {
// eslint-disable-next-line no-control-regex
  return data.length > 0 && !/[\x00-\x1f\x7f-\x9f]/.test(data);
}

/** Where prompt and line fall on the screen, in cells from the prompt's first one (row × cols + column). */
interface Layout {
  /** The cursor's cell at each UTF-16 index of the line (and at its end). */
  at: number[];
  /** The cell after the line (the next row's first when the line fills its last row exactly). */
  end: number;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t';
const isWordChar = (c: string): boolean => /[\p{L}\p{N}]/u.test(c);
/** A styled prompt that ends with an escape sequence: the terminal joins nothing to its last character. */
// eslint-disable-next-line no-control-regex
const endsInEscape = (s: string): boolean => /\x1b\[[0-?]*[ -/]*[@-~]$/.test(s);

/** `cursor` within `line`, and not inside a surrogate pair (at the pair's start). */
function clamp(line: string, cursor: number): number {
  const i = Math.max(0, Math.min(line.length, cursor));
  const c = line.charCodeAt(i);
  return i > 0 && c >= 0xdc00 && c <= 0xdfff && line.charCodeAt(i - 1) >= 0xd800 && line.charCodeAt(i - 1) <= 0xdbff ? i - 1 : i;
}

export class LineEditor {
  /** The line being typed. */
  line = '';
  /** The cursor's index in `line` (UTF-16 units, never inside a surrogate pair). */
  cursor = 0;
  /** The last text killed by Ctrl+U/K/W (Ctrl+Y yanks it back). */
  killed = '';
  private prompt = '';
  private styled = '';
  private readonly width: CellWidth;
  /** Prompt and line are on show, the terminal's cursor in the cursor's cell (not after finish or erase). */
  private shown = false;
  private laid: { prompt: string; styled: string; line: string; cols: number; layout: Layout } | null = null;

  /**
   * `width` measures a code point as the terminal does (the console passes its xterm's own);
   * control characters, never printed by the editor, count as one cell as before.
   */
  constructor(public cols = 80, width: CellWidth = xtermWidth) {
    this.width = (cp) => (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? 1 : width(cp));
  }

  /** The prompt on show (without its colours). */
  get promptText(): string {
    return this.prompt;
  }

  /**
   * Prompt and line printed as xterm prints them (InputHandler.print): a zero-width code point
   * joins the cell of the one before it (when that one takes cells, else it takes a cell of its
   * own, as xterm does); a character too wide for the cells left in the row goes to the next row.
   */
  private layout(): Layout {
    const cols = Math.max(1, this.cols);
    const l = this.laid;
    if (l && l.prompt === this.prompt && l.styled === this.styled && l.line === this.line && l.cols === cols) return l.layout;
    let row = 0;
    let x = 0; // cols: pending wrap
    let join = 0; // width of the cell a zero-width code point would join (0: none)
    const cell = (): number => (x >= cols ? (row + 1) * cols : row * cols + x);
    const put = (w: number): void => {
      if (w === 0) {
        if (join) return;
        if (x < cols) x++; // (in pending wrap xterm puts it nowhere)
        return;
      }
      if (x + w > cols) {
        row++;
        x = 0;
      }
      x += w;
      join = w;
    };
    for (const ch of this.prompt) put(this.width(ch.codePointAt(0) as number));
    if (endsInEscape(this.styled)) join = 0;
    const at: number[] = [];
    const joined: number[] = [];
    const s = this.line;
    for (let i = 0; i < s.length;) {
      const cp = s.codePointAt(i) as number;
      const w = this.width(cp);
      const n = cp > 0xffff ? 2 : 1;
      const here = w > 0 && x < cols && x + w > cols ? (row + 1) * cols : cell();
      for (let k = 0; k < n; k++) at.push(here);
      if (w === 0 && join) joined.push(i);
      put(w);
      i += n;
    }
    const end = cell();
    at.push(end);
    // Before a code point joined to the cell before it, the cursor is where the next character starts.
    for (let k = joined.length - 1; k >= 0; k--) {
      const i = joined[k];
      const next = i + ((s.codePointAt(i) as number) > 0xffff ? 2 : 1);
      for (let j = i; j < next; j++) at[j] = at[next];
    }
    const layout = { at, end };
    this.laid = { prompt: this.prompt, styled: this.styled, line: this.line, cols, layout };
    return layout;
  }

  /** Cells from the prompt's start to the cursor. */
  private offset(cursor = this.cursor): number {
    return this.layout().at[cursor];
  }

  private end(): number {
    return this.layout().end;
  }

  /** Relative move from the cell `from` cells after the prompt's start to the one `to` cells after it. */
  private move(from: number, to: number): string {
    const cols = Math.max(1, this.cols);
    const rows = Math.floor(to / cols) - Math.floor(from / cols);
    let s = rows < 0 ? `\x1b[${-rows}A` : rows > 0 ? `\x1b[${rows}B` : '';
    const col = to % cols;
    if (rows !== 0 || col !== from % cols) s += `\r${col ? `\x1b[${col}C` : ''}`;
    return s;
  }

  /** A line that ends exactly at the last column: step onto the next row (out of pending wrap). */
  private unwrap(end: number): string {
    return end > 0 && end % Math.max(1, this.cols) === 0 ? ' \r' : '';
  }

  /** Prompt and line written from the prompt's start, the cursor put back in its place. */
  private draw(): string {
    const end = this.end();
    return this.styled + this.line + this.unwrap(end) + this.move(end, this.offset());
  }

  /** Back to the prompt's start, everything below it erased, prompt and line written again. */
  private redraw(from: number): string {
    return this.move(from, 0) + '\x1b[J' + this.draw();
  }

  /**
   * A new prompt at the terminal's cursor (which must be at a row's start), with `line` on it
   * and the cursor at `cursor` (the line's end by default).
   */
  start(prompt: string, styled = prompt, line = '', cursor = line.length): string {
    this.prompt = prompt;
    this.styled = styled;
    this.line = line;
    this.cursor = clamp(line, cursor);
    this.shown = true;
    return this.draw();
  }

  /** The same prompt and line written again at the terminal's cursor (a row's start): after Ctrl+L or a listing. */
  show(): string {
    this.shown = true;
    return this.draw();
  }

  /** Replaces the prompt (the search's, then the shell's again) and the line, in place. */
  setPrompt(prompt: string, styled = prompt, line = this.line, cursor = line.length): string {
    const from = this.offset();
    this.prompt = prompt;
    this.styled = styled;
    this.line = line;
    this.cursor = clamp(line, cursor);
    return this.redraw(from);
  }

  /** Replaces the line (history, completion), the cursor at `cursor` (its end by default). */
  set(line: string, cursor = line.length): string {
    return this.setPrompt(this.prompt, this.styled, line, cursor);
  }

  /** Leaves the line: the cursor after its end, then `suffix` (`^C`) and a new row. */
  finish(suffix = ''): string {
    const end = this.end();
    this.shown = false;
    return this.move(this.offset(), end) + suffix + '\r\n';
  }

  /** Erases prompt and line from the screen, the cursor left at the prompt's start (a row's start). */
  erase(): string {
    this.shown = false;
    return this.move(this.offset(), 0) + '\x1b[J';
  }

  /**
   * The terminal's width changed. xterm 6 reflows the rows above but not the ones holding its
   * cursor (its reflowCursorLine option, off: "shells usually handle this themselves"): they are
   * cut or widened as they are, the cursor on the same row (at the same column or the last one).
   * So, as readline does, back to the prompt's row, everything below erased, prompt and line
   * written again for the new width ('' when they are not on show).
   */
  resize(cols: number): string {
    const row = Math.floor(this.offset() / Math.max(1, this.cols));
    const was = this.cols;
    this.cols = cols;
    if (!this.shown || cols === was) return '';
    return `${row ? `\x1b[${row}A` : ''}\r\x1b[J${this.draw()}`;
  }

  private moveTo(cursor: number): string {
    const from = this.offset();
    this.cursor = Math.max(0, Math.min(this.line.length, cursor));
    return this.move(from, this.offset());
  }

  private edit(line: string, cursor: number): string {
    const from = this.offset();
    this.line = line;
    this.cursor = cursor;
    return this.redraw(from);
  }

  insert(text: string): string {
    if (!text) return '';
    const before = this.line.slice(0, this.cursor);
    const after = this.line.slice(this.cursor);
    // In the middle, or text that starts with a zero-width code point (which joins the character
    // before it only when printed right after it): prompt and line again.
    if (after || this.width(text.codePointAt(0) as number) === 0) return this.edit(before + text + after, this.cursor + text.length);
    // At the end of the line: only the new text (and the step off a full row).
    this.line += text;
    this.cursor = this.line.length;
    return text + this.unwrap(this.end());
  }

  /** The index of the code point before `i` (a surrogate pair is one). */
  private prevPoint(i: number): number {
    if (i <= 0) return 0;
    const c = this.line.charCodeAt(i - 1);
    return c >= 0xdc00 && c <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  }

  private zeroAt(i: number): boolean {
    return i < this.line.length && this.width(this.line.codePointAt(i) as number) === 0;
  }

  /** The index one character before / after `i`: a code point and the zero-width ones after it (combining marks). */
  private prev(i: number): number {
    do i = this.prevPoint(i);
    while (i > 0 && this.zeroAt(i));
    return i;
  }

  private next(i: number): number {
    if (i >= this.line.length) return this.line.length;
    do {
      const c = this.line.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 2 <= this.line.length ? 2 : 1;
    } while (this.zeroAt(i));
    return i;
  }

  /** The character at `i` is a letter or digit (by its first code point). */
  private wordAt(i: number): boolean {
    return isWordChar(String.fromCodePoint(this.line.codePointAt(i) as number));
  }

  private wordLeft(): number {
    let i = this.cursor;
    while (i > 0 && !this.wordAt(this.prev(i))) i = this.prev(i);
    while (i > 0 && this.wordAt(this.prev(i))) i = this.prev(i);
    return i;
  }

  private wordRight(): number {
    let i = this.cursor;
    while (i < this.line.length && !this.wordAt(i)) i = this.next(i);
    while (i < this.line.length && this.wordAt(i)) i = this.next(i);
    return i;
  }

  private kill(from: number, to: number): string {
    if (from === to) return '';
    this.killed = this.line.slice(from, to);
    return this.edit(this.line.slice(0, from) + this.line.slice(to), from);
  }

  /**
   * One piece of terminal input (xterm's onData: a key's bytes, or typed or pasted text without
   * line breaks). Returns what to write to show its effect ('' when it changes nothing, such as ←
   * at the line's start), or null when it is not an editing key (Enter, Tab, ↑/↓, Ctrl+C, Ctrl+R…:
   * the console's).
   */
  feed(data: string): string | null {
    switch (data) {
      case '\x7f': case '\b': // Backspace (Ctrl+H)
        return this.cursor > 0 ? this.edit(this.line.slice(0, this.prev(this.cursor)) + this.line.slice(this.cursor), this.prev(this.cursor)) : '';
      case '\x1b[3~': // Delete
        return this.cursor < this.line.length ? this.edit(this.line.slice(0, this.cursor) + this.line.slice(this.next(this.cursor)), this.cursor) : '';
      case '\x04': // Ctrl+D: deletes the character under the cursor (on an empty line bash would exit: nothing here)
        return this.cursor < this.line.length ? this.edit(this.line.slice(0, this.cursor) + this.line.slice(this.next(this.cursor)), this.cursor) : '';
      case '\x1b[D': case '\x1bOD': case '\x02': // ←, Ctrl+B
        return this.moveTo(this.prev(this.cursor));
      case '\x1b[C': case '\x1bOC': case '\x06': // →, Ctrl+F
        return this.moveTo(this.next(this.cursor));
      case '\x1b[H': case '\x1bOH': case '\x1b[1~': case '\x01': // Home, Ctrl+A
        return this.moveTo(0);
      case '\x1b[F': case '\x1bOF': case '\x1b[4~': case '\x05': // End, Ctrl+E
        return this.moveTo(this.line.length);
      case '\x1bb': case '\x1b[1;5D': case '\x1b[1;3D': // Alt+B, Ctrl+←
        return this.moveTo(this.wordLeft());
      case '\x1bf': case '\x1b[1;5C': case '\x1b[1;3C': // Alt+F, Ctrl+→
        return this.moveTo(this.wordRight());
      case '\x15': // Ctrl+U: kills from the line's start to the cursor (unix-line-discard)
        return this.kill(0, this.cursor);
      case '\x0b': // Ctrl+K: kills from the cursor to the line's end
        return this.kill(this.cursor, this.line.length);
      case '\x17': { // Ctrl+W: kills the whitespace-delimited word before the cursor (unix-word-rubout)
        let i = this.cursor;
        while (i > 0 && isSpace(this.line[this.prev(i)])) i = this.prev(i);
        while (i > 0 && !isSpace(this.line[this.prev(i)])) i = this.prev(i);
        return this.kill(i, this.cursor);
      }
      case '\x1bd': // Alt+D: kills the word after the cursor
        return this.kill(this.cursor, this.wordRight());
      case '\x1b\x7f': // Alt+Backspace: kills the word before the cursor
        return this.kill(this.wordLeft(), this.cursor);
      case '\x19': // Ctrl+Y: yanks the last kill
        return this.insert(this.killed);
    }
    return isPrintable(data) ? this.insert(data) : null;
  }
}
