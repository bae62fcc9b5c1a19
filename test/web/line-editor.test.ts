// The console's line discipline (renderer/line-editor.ts) and its output text
// (renderer/terminal-text.ts), without a DOM: what each key does to the line and the cursor, as
// bash's readline does it, and that the escape sequences it writes show exactly the prompt and
// the line with the cursor in its place — checked on a small model of a terminal screen (xterm's
// wrapping, with its "pending wrap" at the last column), for fixed cases and random edits of
// lines that wrap over several rows.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineEditor, isPrintable } from '../../renderer/line-editor.ts';
import { terminalText } from '../../renderer/terminal-text.ts';

/** A terminal screen as xterm keeps one: printing at the last column leaves the cursor there, wrap pending. */
class Screen {
  cells: string[][] = [];
  x = 0;
  y = 0;
  pending = false;
  constructor(readonly cols: number) {}

  private row(y: number): string[] {
    while (this.cells.length <= y) this.cells.push(Array.from({ length: this.cols }, () => ' '));
    return this.cells[y];
  }

  write(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '\x1b') {
        // eslint-disable-next-line no-control-regex
        const m = /^\x1b\[(\d*)([A-Za-z])/.exec(s.slice(i));
        if (!m) throw new Error(`unexpected escape ${JSON.stringify(s.slice(i, i + 8))}`);
        const n = m[1] ? Number(m[1]) : 1;
        this.pending = false;
        if (m[2] === 'A') this.y = Math.max(0, this.y - n);
        else if (m[2] === 'B') this.y += n;
        else if (m[2] === 'C') this.x = Math.min(this.cols - 1, this.x + n);
        else if (m[2] === 'J') {
          // Erase below: from the cursor to the end of the screen.
          const r = this.row(this.y);
          for (let x = this.x; x < this.cols; x++) r[x] = ' ';
          this.cells.length = Math.min(this.cells.length, this.y + 1);
        } else throw new Error(`unexpected CSI ${m[2]}`);
        i += m[0].length - 1;
      } else if (c === '\r') {
        this.x = 0;
        this.pending = false;
      } else if (c === '\n') {
        this.y++;
        this.pending = false;
      } else {
        if (c.charCodeAt(0) < 0x20) throw new Error(`unexpected control ${c.charCodeAt(0)}`);
        if (this.pending) {
          this.x = 0;
          this.y++;
          this.pending = false;
        }
        this.row(this.y)[this.x] = c;
        if (this.x === this.cols - 1) this.pending = true;
        else this.x++;
      }
    }
  }

  /** Everything from the first row on, as one string (rows of `cols` cells), trailing blanks left out. */
  text(): string {
    return this.cells.map((r) => r.join('')).join('').replace(/ +$/, '');
  }

  /** The cursor as cells from the screen's start. */
  at(): number {
    return this.y * this.cols + this.x;
  }
}

/** An editor and a screen it writes to, started with `prompt` and `line`. */
function setup(cols: number, prompt = '$ ', line = '', cursor = line.length): { ed: LineEditor; screen: Screen; feed(...keys: string[]): void } {
  const ed = new LineEditor(cols);
  const screen = new Screen(cols);
  screen.write(ed.start(prompt, prompt, line, cursor));
  return {
    ed,
    screen,
    feed: (...keys) => {
      for (const k of keys) {
        const out = ed.feed(k);
        assert.notEqual(out, null, `${JSON.stringify(k)} is an editing key`);
        screen.write(out as string);
      }
    },
  };
}

/** The screen shows the prompt and the line, and the cursor is in the line's cursor cell. */
function assertShown(ed: LineEditor, screen: Screen): void {
  assert.equal(screen.text(), (ed.promptText + ed.line).replace(/ +$/, ''), 'the screen shows the prompt and the line');
  assert.equal(screen.pending, false, 'no pending wrap');
  assert.equal(screen.at(), [...ed.promptText].length + [...ed.line.slice(0, ed.cursor)].length, 'the cursor in its cell');
}

const LEFT = '\x1b[D';
const RIGHT = '\x1b[C';
const HOME = '\x1b[H';
const END = '\x1b[F';
const DEL = '\x1b[3~';
const BS = '\x7f';

describe('line editor: keys as bash has them', () => {
  it('inserts typed text at the cursor, in the middle too', () => {
    const { ed, screen, feed } = setup(80);
    feed('e', 'c', 'h', 'o', ' ', 'world');
    assert.equal(ed.line, 'echo world');
    feed(LEFT, LEFT, LEFT, LEFT, LEFT, 'hello ');
    assert.equal(ed.line, 'echo hello world');
    assert.equal(ed.cursor, 'echo hello '.length);
    assertShown(ed, screen);
  });

  it('Backspace and Delete, Home and End, Ctrl+A/E/B/F', () => {
    const { ed, screen, feed } = setup(80, '$ ', 'abcdef');
    feed(BS);
    assert.deepEqual([ed.line, ed.cursor], ['abcde', 5]);
    feed(HOME, DEL);
    assert.deepEqual([ed.line, ed.cursor], ['bcde', 0]);
    feed(BS); // nothing before the cursor
    assert.deepEqual([ed.line, ed.cursor], ['bcde', 0]);
    feed(END, DEL); // nothing after it
    assert.deepEqual([ed.line, ed.cursor], ['bcde', 4]);
    feed('\x01');
    assert.equal(ed.cursor, 0);
    feed('\x06', '\x06');
    assert.equal(ed.cursor, 2);
    feed('\x02');
    assert.equal(ed.cursor, 1);
    feed('\x05');
    assert.equal(ed.cursor, 4);
    feed('\x1bOH');
    assert.equal(ed.cursor, 0);
    feed('\x1b[4~');
    assert.equal(ed.cursor, 4);
    feed(LEFT, '\x04'); // Ctrl+D deletes under the cursor
    assert.deepEqual([ed.line, ed.cursor], ['bcd', 3]);
    assertShown(ed, screen);
  });

  it('Ctrl+U kills to the line start, Ctrl+K to its end, Ctrl+Y yanks the last kill', () => {
    const { ed, screen, feed } = setup(80, '$ ', 'iptables -t nat -L');
    feed(LEFT, LEFT, LEFT, '\x0b');
    assert.deepEqual([ed.line, ed.cursor], ['iptables -t nat', 15]);
    feed(HOME, '\x19');
    assert.deepEqual([ed.line, ed.cursor], [' -Liptables -t nat', 3]);
    feed(RIGHT, RIGHT, '\x15');
    assert.deepEqual([ed.line, ed.cursor], ['tables -t nat', 0]);
    feed(END, '\x19');
    assert.equal(ed.line, 'tables -t nat -Lip');
    assertShown(ed, screen);
  });

  it('Ctrl+W kills the whitespace-delimited word before the cursor (unix-word-rubout)', () => {
    const { ed, screen, feed } = setup(80, '$ ', 'iptables -t nat -L KUBE-SVC-ABC  ');
    feed('\x17');
    assert.equal(ed.line, 'iptables -t nat -L ');
    feed('\x17');
    assert.equal(ed.line, 'iptables -t nat ');
    feed(LEFT, LEFT, '\x17');
    assert.deepEqual([ed.line, ed.cursor], ['iptables -t t ', 12]);
    feed(HOME, '\x17');
    assert.equal(ed.line, 'iptables -t t ');
    feed('\x19');
    assert.equal(ed.line, 'naiptables -t t ', 'Ctrl+Y gives back what Ctrl+W killed last');
    assertShown(ed, screen);
  });

  it('Alt+B/F and Ctrl+←/→ move by words', () => {
    const { ed, feed } = setup(80, '$ ', 'kubectl get pods -n kube-system');
    feed('\x1bb');
    assert.equal(ed.cursor, 'kubectl get pods -n kube-'.length);
    feed('\x1b[1;5D', '\x1b[1;5D');
    assert.equal(ed.cursor, 'kubectl get pods -'.length);
    feed('\x1bf');
    assert.equal(ed.cursor, 'kubectl get pods -n'.length);
    feed('\x1b[1;5C');
    assert.equal(ed.cursor, 'kubectl get pods -n kube'.length);
  });

  it('steps over a surrogate pair as one character', () => {
    const { ed, screen, feed } = setup(80, '$ ', 'a😀b');
    feed(LEFT, LEFT);
    assert.equal(ed.cursor, 1);
    feed(RIGHT);
    assert.equal(ed.cursor, 3);
    feed(BS);
    assert.deepEqual([ed.line, ed.cursor], ['ab', 1]);
    assertShown(ed, screen);
  });

  it('leaves Enter, Tab, the arrows up and down, Ctrl+C/L/R and unknown sequences to the console', () => {
    const ed = new LineEditor(80);
    ed.start('$ ', '$ ', 'x');
    for (const k of ['\r', '\t', '\x1b[A', '\x1b[B', '\x03', '\x0c', '\x12', '\x1b', '\x1b[23~', 'a\x1bb']) assert.equal(ed.feed(k), null, JSON.stringify(k));
    assert.equal(ed.line, 'x');
    assert.equal(ed.feed(LEFT), '\r\x1b[2C');
    assert.equal(ed.feed(LEFT), '', 'nothing to do at the start');
  });

  it('tells printable input from controls', () => {
    assert.equal(isPrintable('iptables -L'), true);
    assert.equal(isPrintable('한국어 😀'), true);
    for (const s of ['', '\x1b[A', 'a\tb', '\x7f', 'a\r', '\x9b2J']) assert.equal(isPrintable(s), false, JSON.stringify(s));
  });
});

describe('line editor: what the terminal shows', () => {
  it('a line that fills its row exactly leaves the cursor on the next row, not in pending wrap', () => {
    const { ed, screen, feed } = setup(10, '$ ');
    feed('12345678');
    assert.equal(screen.pending, false);
    assert.deepEqual([screen.y, screen.x], [1, 0]);
    assertShown(ed, screen);
    feed('9', LEFT, LEFT, LEFT);
    assertShown(ed, screen);
  });

  it('redraws a line wrapped over rows when it is edited in its middle, and erases what it no longer covers', () => {
    const { ed, screen, feed } = setup(8, 'root@m:/# ', 'abcdefghijklmnopqrstu');
    feed(HOME, RIGHT, RIGHT, 'XYZ');
    assertShown(ed, screen);
    feed('\x15');
    assert.equal(ed.line, 'cdefghijklmnopqrstu');
    assertShown(ed, screen);
    feed('\x0b');
    assert.equal(ed.line, '');
    assertShown(ed, screen);
  });

  it('set, setPrompt and show: history, the search prompt, a listing', () => {
    const { ed, screen } = setup(12, 'root@m:/# ', 'draft');
    screen.write(ed.set('iptables -t nat -L KUBE-SERVICES'));
    assertShown(ed, screen);
    screen.write(ed.setPrompt("(reverse-i-search)`nat': ", "(reverse-i-search)`nat': ", 'iptables -t nat -L', 12));
    assertShown(ed, screen);
    assert.equal(ed.cursor, 12);
    screen.write(ed.setPrompt('> ', '> ', 'x'));
    assertShown(ed, screen);
    // finish: the cursor after the line, on a new row; show draws it again there.
    screen.write(ed.finish('^C'));
    assert.equal(screen.x, 0);
    const top = screen.y;
    screen.write(ed.show());
    assert.equal(screen.at() - top * 12, 3);
  });

  it('a coloured prompt is written as given and measured by its text', () => {
    const ed = new LineEditor(40);
    const out = ed.start('root@m:/# ', '\x1b[1;32mroot@m:/#\x1b[0m ', 'ls');
    assert.equal(out, '\x1b[1;32mroot@m:/#\x1b[0m ls');
    assert.equal(ed.feed(HOME), '\r\x1b[10C');
  });

  it('random edits of lines that wrap: the screen always shows prompt and line, the cursor in place', () => {
    const key = fc.oneof(
      fc.constantFrom(LEFT, RIGHT, HOME, END, DEL, BS, '\x01', '\x05', '\x02', '\x06', '\x15', '\x0b', '\x17', '\x19', '\x04', '\x1bb', '\x1bf', '\x1bd', '\x1b\x7f'),
      fc.stringMatching(/^[a-z -]{1,12}$/),
    );
    fc.assert(fc.property(fc.integer({ min: 4, max: 30 }), fc.stringMatching(/^[a-z@:/#$> ]{0,12}$/), fc.array(key, { maxLength: 40 }), (cols, prompt, keys) => {
      const { ed, screen, feed } = setup(cols, prompt);
      for (const k of keys) {
        feed(k);
        assertShown(ed, screen);
      }
    }), { numRuns: 400 });
  });
});

describe('terminal text: output never drives the terminal', () => {
  it('shows control characters in caret notation as cat -v does, and turns newlines into CR LF', () => {
    assert.equal(terminalText('a\x1b[2Jb\rc\x07\n'), 'a^[[2Jb^Mc^G\r\n');
    assert.equal(terminalText('tab\tkept\x00\x7f'), 'tab\tkept^@^?');
    assert.equal(terminalText('\x9b31m\x90\x9f'), 'M-^[31mM-^PM-^?');
    assert.equal(terminalText('plain 한국어\nline\n'), 'plain 한국어\r\nline\r\n');
  });

  it('leaves no ESC, C0 control but tab, CR before LF, or C1 control in any text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const out = terminalText(s);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(out.replace(/\r\n/g, ''), /[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
    }));
  });
});
