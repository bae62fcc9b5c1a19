// The debugger's and console's speed rows (issue 7), printed by `npm run bench` after the app's:
//   - one step of the debugger on a 60,000-rule node: a trace through kube-proxy's nat rules of
//     20,000 Services opened from the trace form, then stepped with F11; each step timed from
//     the key to the next painted frame (median and worst of 40);
//   - the engine's own iptables-save of those 100,000 rules, first (rule texts not made yet) and
//     again, through LabApi.exec in this process;
//   - a 100,000-rule `iptables-save` typed in that node's console: from Enter to its last line
//     drawn on the terminal's screen (only the last 2 MiB come; the console writes them to xterm
//     in chunks, each after the terminal took the one before).
// Needs /usr/bin/chromium (or KPL_CHROMIUM); prints n/a rows without it. Alone:
// `node --import tsx test/bench/debugger.ts`.

import { existsSync } from 'node:fs';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { kubeNatDump } from './gen-kube.ts';
import { printTable } from './table.ts';
import { CHROMIUM, ensureBuilt, openBrowser, startApp } from '../e2e/harness.ts';

const rows: string[][] = [];
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** Polls `check` (a page script run through the debugger protocol: the app's CSP forbids
 *  Playwright's string predicates) until it is true. */
async function until(check: () => Promise<unknown>, timeoutMs: number, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function measure(): Promise<void> {
  const app = await startApp();
  const svc = new LabService({ db: app.db });
  const api = new LabApiImpl(svc);
  const step = kubeNatDump(20_000);
  const big = kubeNatDump(33_334);
  for (const [lab, dump] of [['steps', step], ['stream', big]] as const) {
    api.createLab(lab);
    api.addLan(lab, 'lan');
    api.addHost(lab, 'node1');
    api.addLink(lab, 'node1', 'lan', '10.0.0.2/24');
    api.exec(lab, 'node1', ['ip', 'route', 'add', 'default', 'via', '10.0.0.1']);
    const r = api.exec(lab, 'node1', ['iptables-restore'], dump.text);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  // The engine's share of the stream below: its first iptables-save of the 100,000 rules (their
  // texts not made yet, as in the app's service after it rebuilt the lab), then a second one.
  const saves: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const r = api.exec('stream', 'node1', ['iptables-save'], '');
    saves.push(performance.now() - t0);
    if (r.code !== 0 || !r.stdout.includes('\nCOMMIT\n')) throw new Error(`iptables-save failed: ${r.stderr}`);
  }
  rows.push([`the engine's \`iptables-save\` of ${big.rules.toLocaleString('en')} rules (LabApi.exec): first / again`, `${ms(saves[0])} / ${ms(saves[1])}`, '']);
  svc.close();
  const b = await openBrowser();
  try {
    const page = b.page;
    const open = async (lab: string): Promise<void> => {
      await page.goto(`${app.url}#/lab/${lab}`);
      // (Page scripts are passed as text: this file is type-checked without the DOM library.)
      await until(() => page.evaluate("!!window.kplEditor && window.kplEditor.cy.getElementById('h:node1').nonempty()"), 60_000);
      await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
      await page.evaluate("window.kplEditor.cy.getElementById('h:node1').select()");
      // The service builds its engine of the lab (replaying the big restore) on the first
      // command: the lab's cost, not the window's, so it is paid before measuring.
      await page.getByTestId('command').fill('iptables -t nat -L INPUT -n');
      await page.getByTestId('command').press('Enter');
      await page.getByTestId('command-output').filter({ hasText: 'Chain INPUT (policy ACCEPT)' }).waitFor({ timeout: 120_000 });
    };

    // Steps on the 60,000-rule node.
    await open('steps');
    const to = `${step.vip(19_999)}:80`;
    await page.getByTestId('open-stepper').click();
    await page.getByTestId('trace-from').fill('node1');
    await page.getByTestId('trace-to').fill(to);
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid=step-current]').click(); // keys to the page, not the form
    // Forward with F11 to the end, back with Shift+F10 to the start, and again (the walk has
    // few steps: kube-proxy's index skips the Services that cannot match as one step).
    const times = (await page.evaluate(`(async () => {
      const out = [];
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const at = () => document.querySelector('[data-testid=step-pos]').getAttribute('data-step');
      let forward = true;
      for (let i = 0; i < 60 && out.length < 40; i++) {
        const was = at();
        const t0 = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', forward ? { key: 'F11', code: 'F11', bubbles: true } : { key: 'F10', code: 'F10', shiftKey: true, bubbles: true }));
        await frame();
        if (at() === was) forward = !forward;
        else out.push(performance.now() - t0);
      }
      return out;
    })()`)) as number[];
    if (times.length < 20) throw new Error(`only ${times.length} steps taken`);
    rows.push([`one debugger step on a ${step.rules.toLocaleString('en')}-rule node (F11 to the next painted frame), median / worst of ${times.length}`, `${ms(median(times))} / ${ms(Math.max(...times))}`, '< 50 ms']);
    // The same with the Chain tab on: F11 until the step's chain is drawn around its current rule
    // (read from the node a page at a time when the chain or page changes).
    await page.getByTestId('dbg-tab-chain').click();
    await page.locator('[data-testid=chain-rows] .cv-row.current').waitFor({ timeout: 30_000 });
    const chainTimes = (await page.evaluate(`(async () => {
      const out = [];
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const at = () => document.querySelector('[data-testid=step-pos]').getAttribute('data-step');
      const cur = () => document.querySelector('[data-testid=chain-rows] .cv-row.current');
      let forward = true;
      for (let i = 0; i < 60 && out.length < 40; i++) {
        const was = at();
        const before = cur();
        const t0 = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', forward ? { key: 'F11', code: 'F11', bubbles: true } : { key: 'F10', code: 'F10', shiftKey: true, bubbles: true }));
        await frame();
        if (at() === was) { forward = !forward; continue; }
        for (let k = 0; k < 400 && (cur() === null || cur() === before); k++) await frame();
        out.push(performance.now() - t0);
      }
      return out;
    })()`)) as number[];
    if (chainTimes.length < 20) throw new Error(`only ${chainTimes.length} steps taken with the Chain tab`);
    rows.push([`  the same with the Chain tab on (F11 until the step's whole chain is drawn around its rule, pages of 200 rules read as needed), median / worst of ${chainTimes.length}`, `${ms(median(chainTimes))} / ${ms(Math.max(...chainTimes))}`, '< 50 ms']);

    // A 100,000-rule iptables-save streamed to the console.
    await open('stream');
    await page.getByTestId('open-console').click();
    await page.getByTestId('console-tab-node1').waitFor();
    // The terminal's hidden text area takes the keys; the console is ready once its prompt is written.
    await until(() => page.evaluate('(() => { const s = window.kplConsoles && window.kplConsoles.state(); return !!s && s.idle && !s.busy; })()'), 30_000);
    await page.locator('.console-pane:not([hidden]) [data-testid=console-input]').focus();
    await page.keyboard.insertText('iptables-save');
    const t0 = performance.now();
    await page.keyboard.press('Enter');
    // Done: the command over, all its output written to the terminal, and iptables-save's closing
    // lines among the rows the terminal has drawn on screen (xterm's DOM renderer: .xterm-rows).
    const done = `(() => {
      const s = window.kplConsoles.state();
      if (!s || s.busy || !s.idle) return false;
      const rows = document.querySelector('.console-pane:not([hidden]) [data-testid=console-output] .xterm-rows');
      const shown = (rows ? rows.textContent : '').replace(/\u00a0/g, ' ');
      return shown.includes('COMMIT') && shown.includes('# Completed on');
    })()`;
    // (The command's share: until the console has its result and starts writing it.)
    await until(() => page.evaluate('!window.kplConsoles.state().busy'), 120_000, 10);
    const commandMs = performance.now() - t0;
    await until(() => page.evaluate(done), 120_000, 10).catch(async (e: Error) => {
      const tail = (await page.evaluate("(() => { const s = window.kplConsoles.state(); const r = document.querySelector('.console-pane:not([hidden]) [data-testid=console-output] .xterm-rows'); return JSON.stringify(s) + ' ' + (r ? r.textContent : 'no rows').slice(-400); })()")) as string;
      throw new Error(`${e.message}; console: ${JSON.stringify(tail)}`);
    });
    const streamMs = performance.now() - t0;
    rows.push([`\`iptables-save\` of ${big.rules.toLocaleString('en')} rules (${(big.text.length / 1e6).toFixed(1)} MB) in the console, Enter to its last line on screen (the command / the terminal writing its last 2 MiB)`, `${ms(streamMs)} (${ms(commandMs)} / ${ms(streamMs - commandMs)})`, '< 2 s']);
    if (b.errors.length) throw new Error(b.errors.join('\n'));
  } finally {
    await b.close();
    await app.stop();
  }
}

await ensureBuilt();
if (existsSync(CHROMIUM)) await measure().catch((e: unknown) => rows.push(['debugger and console measurements', `n/a (${(e as Error).message.split('\n')[0]})`, '']));
else rows.push(['debugger and console measurements', `n/a (no chromium at ${CHROMIUM})`, '']);

printTable(['debugger and console (issue 7)', 'measured', 'target'], rows);
