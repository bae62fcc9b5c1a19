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
// CR, CUF) always start from a known cell. One cell per code point (wide characters not measured).

/** Terminal input (xterm's onData) that is text to insert: no C0 controls, DEL or C1 controls. */
export function isPrintable(data: string): boolean {
// eslint-disable-next-line no-control-regex
  return data.length > 0 && !/[\x00-\x1f\x7f-\x9f]/.test(data);
}

const cells = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // a low surrogate is the second half of the code point before it
  }
  return n;
};

const isSpace = (c: string): boolean => c === ' ' || c === '\t';
const isWordChar = (c: string): boolean => /[\p{L}\p{N}]/u.test(c);

export class LineEditor {
  /** The line being typed. */
  line = '';
  /** The cursor's index in `line` (UTF-16 units, never inside a surrogate pair). */
  cursor = 0;
  /** The last text killed by Ctrl+U/K/W (Ctrl+Y yanks it back). */
  killed = '';
  private prompt = '';
  private styled = '';

  constructor(public cols = 80) {}

  /** The prompt on show (without its colours). */
  get promptText(): string {
    return this.prompt;
  }

  /** Cells from the prompt's start to the cursor. */
  private offset(cursor = this.cursor): number {
    return cells(this.prompt) + cells(this.line.slice(0, cursor));
  }

  private end(): number {
    return cells(this.prompt) + cells(this.line);
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
    this.cursor = Math.max(0, Math.min(line.length, cursor));
    return this.draw();
  }

  /** The same prompt and line written again at the terminal's cursor (a row's start): after Ctrl+L or a listing. */
  show(): string {
    return this.draw();
  }

  /** Replaces the prompt (the search's, then the shell's again) and the line, in place. */
  setPrompt(prompt: string, styled = prompt, line = this.line, cursor = line.length): string {
    const from = this.offset();
    this.prompt = prompt;
    this.styled = styled;
    this.line = line;
    this.cursor = Math.max(0, Math.min(line.length, cursor));
    return this.redraw(from);
  }

  /** Replaces the line (history, completion), the cursor at `cursor` (its end by default). */
  set(line: string, cursor = line.length): string {
    return this.setPrompt(this.prompt, this.styled, line, cursor);
  }

  /** Leaves the line: the cursor after its end, then `suffix` (`^C`) and a new row. */
  finish(suffix = ''): string {
    const end = this.end();
    return this.move(this.offset(), end) + suffix + '\r\n';
  }

  /** Erases prompt and line from the screen, the cursor left at the prompt's start (a row's start). */
  erase(): string {
    return this.move(this.offset(), 0) + '\x1b[J';
  }

  /** The terminal's width changed (it reflows the line itself). */
  resize(cols: number): void {
    this.cols = cols;
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
    if (after) return this.edit(before + text + after, this.cursor + text.length);
    // At the end of the line: only the new text (and the step off a full row).
    this.line += text;
    this.cursor = this.line.length;
    return text + this.unwrap(this.end());
  }

  /** The index one code point before / after `i`. */
  private prev(i: number): number {
    if (i <= 0) return 0;
    const c = this.line.charCodeAt(i - 1);
    return c >= 0xdc00 && c <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  }

  private next(i: number): number {
    if (i >= this.line.length) return this.line.length;
    const c = this.line.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff && i + 2 <= this.line.length ? i + 2 : i + 1;
  }

  private wordLeft(): number {
    let i = this.cursor;
    while (i > 0 && !isWordChar(this.line[i - 1])) i--;
    while (i > 0 && isWordChar(this.line[i - 1])) i--;
    return i;
  }

  private wordRight(): number {
    let i = this.cursor;
    while (i < this.line.length && !isWordChar(this.line[i])) i++;
    while (i < this.line.length && isWordChar(this.line[i])) i++;
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
        while (i > 0 && isSpace(this.line[i - 1])) i--;
        while (i > 0 && !isSpace(this.line[i - 1])) i--;
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
