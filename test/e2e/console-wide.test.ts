// End-to-end: wide characters in a console, in browser mode. On node minikube of a cluster lab a
// command holding Hangul (two cells each in xterm.js) is typed, the cursor moved with ←/→,
// Home/End, text inserted and deleted in its middle, and the command run: the shell gets the line
// as edited, and after every key xterm's own cursor is on the cell of the character at the line's
// cursor (everything before it drawn before it). Then a line whose wide character would start in
// the last column (xterm moves it to the next row and leaves that cell blank), Ctrl+R and ↑ on
// Hangul history, and the dock made narrower (the line written again for the new width).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleFill, consoleIdle, consoleInput, consoleText, consoleWaitFor, cspViolations, openLab, openNodeConsole, type ConsoleState } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

/** The renderer's kplConsoles.cursor (console.ts): xterm's cursor and the cells of the prompt's rows. */
interface Cursor { x: number; y: number; cols: number; rows: string[][] }

describe('console: Hangul and other wide characters', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    new LabApiImpl(service).createLab('wide', { cluster: true });
  });
  const { shot } = suite;

  /**
   * Checks xterm's cursor against the line being edited: the prompt's rows hold the prompt and the
   * line, the cells before the cursor's the prompt and the line up to the cursor, the cursor's
   * cell the character at the cursor (blank at the line's end), and no pending wrap. Returns the
   * editor's state and the cursor (row from the prompt's, column).
   */
  async function shown(page: Page): Promise<{ s: ConsoleState; y: number; x: number; c: Cursor }> {
    await consoleIdle(page);
    const { s, c } = await page.evaluate(() => {
      const k = (globalThis as unknown as { kplConsoles: { state(): ConsoleState | null; cursor(): Cursor | null } }).kplConsoles;
      return { s: k.state(), c: k.cursor() };
    });
    if (!s || !c) throw new Error('no console on show');
    assert.ok(c.x < c.cols, `no pending wrap (cursor at column ${c.x} of ${c.cols})`);
    let all = '';
    let before: string | null = null;
    let under = '';
    c.rows.forEach((row, y) => row.forEach((ch, x) => {
      if (y === c.y && x === c.x) {
        before = all;
        under = ch;
      }
      all += ch;
    }));
    assert.equal(all.trimEnd(), (s.prompt + s.line).trimEnd(), 'the terminal shows the prompt and the line');
    assert.equal(before, s.prompt + s.line.slice(0, s.cursor), `before xterm's cursor (row ${c.y}, column ${c.x}): the prompt and the line up to the cursor`);
    const at = [...s.line.slice(s.cursor)][0];
    if (at !== undefined) assert.equal(under, at, "the cursor on the cursor's character");
    else assert.ok(under === '' || under === ' ', `the cursor after the line (on ${JSON.stringify(under)})`);
    return { s, y: c.y, x: c.x, c };
  }

  /** Presses keys one by one, checking the cursor after each. */
  async function press(page: Page, ...keys: string[]): Promise<void> {
    for (const k of keys) {
      await page.keyboard.press(k);
      await shown(page);
    }
  }

  it('edits a Hangul command in its middle: the shell gets the line as edited, xterm draws the cursor where the line has it', shot(async (page) => {
    await openLab(page, suite.app.url, 'wide', 'n:minikube');
    await openNodeConsole(page, 'minikube');
    const P = 'root@minikube:/# '.length;

    await consoleFill(page, 'echo 가나다라');
    assert.deepEqual((({ y, x }) => [y, x])(await shown(page)), [0, P + 5 + 8], 'four syllables: eight cells');
    await press(page, 'Home');
    assert.equal((await shown(page)).x, P);
    await press(page, 'End', 'ArrowLeft', 'ArrowLeft');
    const mid = await shown(page);
    assert.deepEqual([mid.s.line.slice(mid.s.cursor), mid.x], ['다라', P + 5 + 4]);
    await page.keyboard.insertText('한');
    assert.equal((await shown(page)).x, P + 5 + 6);
    await press(page, 'ArrowLeft', 'Backspace');
    assert.equal((await shown(page)).s.line, 'echo 가한다라');
    await press(page, 'Delete');
    await page.keyboard.insertText('글');
    await press(page, 'Control+a', 'Control+e', 'ArrowLeft', 'ArrowRight');
    const edited = await shown(page);
    assert.deepEqual([edited.s.line, edited.x], ['echo 가글다라', P + 5 + 8]);
    await consoleInput(page).press('Enter');
    await consoleWaitFor(page, /(^|\n)root@minikube:\/# echo 가글다라\n가글다라\nroot@minikube:\/#$/);
    assert.equal(suite.service.consoleHistory('wide', 'minikube').at(-1), 'echo 가글다라');
    await shown(page);

    // A rule with a Hangul comment, edited before it is added: as iptables-save keeps it.
    await consoleFill(page, 'iptables -A INPUT -m comment --comment "한글 규칙" -j ACCEPT');
    for (let i = 0; i < 13; i++) await press(page, 'ArrowLeft');
    const { s: at } = await shown(page);
    assert.equal(at.line.slice(at.cursor), '규칙" -j ACCEPT');
    await page.keyboard.insertText('새 ');
    await shown(page);
    await press(page, 'Control+ArrowLeft', 'Control+ArrowLeft', 'Control+ArrowRight', 'End');
    await consoleInput(page).press('Enter');
    await consoleIdle(page);
    assert.match(suite.service.exec('wide', 'minikube', ['iptables-save'], '').stdout, /--comment "한글 새 규칙" -j ACCEPT/);

    // A wide character that would start in the last column: on the next row, that cell left blank.
    const cols = (await shown(page)).s.cols;
    const k = (cols - (P + 5) - 1) % 2; // an ASCII letter or none, so that a syllable starts at the last column
    const n = (cols - (P + 5 + k) - 1) / 2;
    const wrapped = `echo ${'a'.repeat(k)}${'가'.repeat(n)}나다라`;
    await consoleFill(page, wrapped);
    const end = await shown(page);
    assert.deepEqual([end.y, end.x], [1, 6]);
    assert.equal(end.c.rows[0][cols - 1], '', 'the last column left blank');
    assert.equal(end.c.rows[1][0], '나');
    await press(page, 'ArrowLeft', 'ArrowLeft');
    assert.deepEqual((({ y, x }) => [y, x])(await shown(page)), [1, 2]);
    await press(page, 'ArrowLeft');
    assert.deepEqual((({ y, x }) => [y, x])(await shown(page)), [1, 0], 'on 나, not on the blank cell before it');
    await press(page, 'ArrowLeft');
    assert.deepEqual((({ y, x }) => [y, x])(await shown(page)), [0, cols - 3]);
    await page.keyboard.insertText('b');
    const pushed = await shown(page);
    assert.deepEqual([pushed.c.rows[0][cols - 2], pushed.c.rows[1][0]], ['가', '나'], 'the last 가 moved to the last two columns');
    await press(page, 'Backspace', 'Home', 'End');
    await consoleInput(page).press('Enter');
    await consoleWaitFor(page, `\n${'a'.repeat(k)}${'가'.repeat(n)}나다라\nroot@minikube:/#`);

    // History: Ctrl+R finds a Hangul line (the cursor on the match), ↑ brings the last one back.
    await consoleInput(page).press('Control+r');
    await page.keyboard.insertText('글다');
    const found = await shown(page);
    assert.deepEqual([found.s.prompt, found.s.line], ["(reverse-i-search)`글다': ", 'echo 가글다라']);
    assert.equal(found.x, found.s.prompt.length + 2 + 5 + 2, 'on 글 (the query in the prompt: two cells more)');
    await press(page, 'Escape', 'ArrowUp');
    assert.equal((await shown(page)).s.line, wrapped);
    await press(page, 'ArrowUp', 'ArrowUp', 'ArrowDown', 'ArrowDown', 'Home', 'ArrowRight');

    // A narrower dock: the line is written again for the new width.
    await page.keyboard.press('End');
    await page.setViewportSize({ width: 900, height: 860 });
    await page.waitForFunction((was) => (globalThis as unknown as { kplConsoles: { state(): ConsoleState } }).kplConsoles.state().cols < was, cols);
    const narrow = await shown(page);
    assert.equal(narrow.s.line, wrapped);
    await press(page, 'Home', 'End', 'ArrowLeft', 'ArrowLeft', 'ArrowLeft');
    await page.setViewportSize({ width: 1400, height: 860 });
    await page.waitForFunction((was) => (globalThis as unknown as { kplConsoles: { state(): ConsoleState } }).kplConsoles.state().cols === was, cols);
    await press(page, 'ArrowRight', 'Control+u');
    assert.equal((await shown(page)).s.line, '다라');
    assert.doesNotMatch(await consoleText(page), /\^C/);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(suite.b.errors, []);
  }));
});
