// End-to-end: the console panel and the packet stepper in browser mode. A cluster lab made
// through the API adapter (as `kpl new --cluster`); the console of node minikube opened from the
// inspector; kubectl, a pipe, a here-document over several lines (the `> ` prompt), history, and a
// curl whose walk is stepped through in the stepper (buttons and F11 / Shift+F10), the current
// host highlighted on the canvas.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleInput, consoleLine, consoleRun, consoleText, consoleWaitFor, cspViolations, openNodeConsole, seeText } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('consoles and the packet stepper', { skip, timeout: 60_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('cons', { cluster: true });
    // A rule whose comment holds control characters (an ESC sequence that would clear the screen).
    assert.equal(api.exec('cons', 'minikube', ['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', 'esc\x1b[2Jcr\rbel\x07', '-j', 'ACCEPT'], '').code, 0);
  });
  const { shot } = suite;

  const run = consoleRun;
  const output = (page: Page, text: string | RegExp) => consoleWaitFor(page, text);
  const prompt = async (page: Page) => (await consoleLine(page)).prompt;

  it('runs kubectl, pipes and a here-document on node minikube, and steps a curl through the stepper', shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/cons`);
    await page.waitForFunction(() => {
      const ed = (window as unknown as { kplEditor?: { cy: import('cytoscape').Core } }).kplEditor;
      return !!ed && ed.cy.getElementById('n:minikube').nonempty();
    });
    // The first picture is on screen (the first layout done).
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    // The CSP listener sees violations (an inline <style> is refused), so the check at the end can fail.
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'b { color: red }';
      document.head.append(style);
    });
    await page.waitForFunction(() => ((globalThis as unknown as { __kplCsp?: string[] }).__kplCsp?.length ?? 0) > 0);
    assert.match((await cspViolations(page)).join('\n'), /^style-src-elem blocked inline/);
    await page.evaluate(() => {
      (globalThis as unknown as { __kplCsp: string[] }).__kplCsp.length = 0;
      document.querySelector('head > style')?.remove();
    });
    suite.b.errors.splice(0);
    // Select the node, then "Open console" in the inspector.
    await openNodeConsole(page, 'minikube');
    // A terminal: the prompt on its last line, and the keys go to it.
    assert.equal(await prompt(page), 'root@minikube:/# ');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'console-input');

    await run(page, 'kubectl get nodes');
    await output(page, 'v1.19.2');
    const out1 = await consoleText(page);
    assert.match(out1, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nminikube\s+Ready/);

    await run(page, 'iptables -t nat -L PREROUTING | head -3');
    await output(page, 'Chain PREROUTING (policy ACCEPT)');
    const out2 = await consoleText(page);
    const after = out2.slice(out2.indexOf('| head -3'));
    assert.match(after, /Chain PREROUTING \(policy ACCEPT\)\ntarget\s+prot opt source\s+destination\s*\n\S+/);
    assert.deepEqual(after.split('\n').slice(4), ['root@minikube:/#'], 'head -3 printed three lines, then the prompt');

    // A here-document over several lines: the prompt turns to "> " until EOF.
    await run(page, 'iptables-restore --noflush <<EOF');
    assert.equal(await prompt(page), '> ');
    await run(page, '*filter');
    await run(page, '-A INPUT -p tcp --dport 9999 -m comment --comment e2e-heredoc -j ACCEPT');
    await run(page, 'COMMIT');
    await run(page, 'EOF');
    assert.equal(await prompt(page), 'root@minikube:/# ');
    assert.match(await consoleText(page), /\nroot@minikube:\/# iptables-restore --noflush <<EOF\n> \*filter\n> -A INPUT -p tcp --dport 9999 -m comment --comment e2e-heredoc -j ACCEPT\n> COMMIT\n> EOF\nroot@minikube:\/#$/);
    await run(page, 'iptables -S INPUT | grep e2e-heredoc');
    await output(page, '-A INPUT -p tcp -m tcp --dport 9999');
    // Stored: the rule is in the lab, and the lines in the console history.
    assert.match(suite.service.exec('cons', 'minikube', ['iptables', '-S', 'INPUT'], '').stdout, /e2e-heredoc/);
    assert.ok(suite.service.consoleHistory('cons', 'minikube').some((l) => l.startsWith('iptables-restore --noflush <<EOF\n*filter\n') && l.endsWith('\nEOF')));
    // History: ↑ brings back the last line.
    const input = consoleInput(page);
    await input.press('ArrowUp');
    assert.deepEqual(await consoleLine(page), { prompt: 'root@minikube:/# ', line: 'iptables -S INPUT | grep e2e-heredoc' });
    await input.press('ArrowUp');
    assert.equal((await consoleLine(page)).line, 'iptables-restore --noflush <<EOF', 'a here-document shows its first line');
    await input.press('ArrowDown');
    await input.press('ArrowDown');
    assert.equal((await consoleLine(page)).line, '');

    // Ctrl+L clears the screen: the prompt (and the line) on top, nothing else.
    await page.keyboard.insertText('echo half');
    await input.press('Control+l');
    assert.equal(await consoleText(page), 'root@minikube:/# echo half');
    // Ctrl+C drops the line as bash does: ^C after it, a new prompt.
    await input.press('Control+c');
    assert.equal(await consoleText(page), 'root@minikube:/# echo half^C\nroot@minikube:/#');
    // `clear` too.
    await run(page, 'clear');
    assert.equal(await consoleText(page), 'root@minikube:/#');

    // Output is text: control characters in it are shown, never taken as the terminal's.
    await run(page, 'iptables -S INPUT | grep esc');
    await output(page, '-A INPUT -m comment --comment "esc^[[2Jcr^Mbel^G" -j ACCEPT');

    // A paste of several lines runs them one by one (a here-document among them); the last,
    // unfinished, stays on the line.
    await page.evaluate(() => {
      const ta = document.querySelector('.console-pane:not([hidden]) [data-testid=console-input]') as HTMLTextAreaElement;
      const data = new DataTransfer();
      data.setData('text/plain', 'cat <<EOF\npasted one\npasted two\nEOF\necho next\nhalf');
      ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await output(page, /\nroot@minikube:\/# cat <<EOF\n> pasted one\n> pasted two\n> EOF\npasted one\npasted two\nroot@minikube:\/# echo next\nnext\nroot@minikube:\/# half$/);
    assert.equal((await consoleLine(page)).line, 'half');
    await run(page, '');

    // A curl sends packets: the stepper shows the walk.
    await run(page, 'curl -s -m 1 10.96.0.1:443');
    await page.getByTestId('stepper').waitFor();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    const total = Number(/\/ (\d+)/.exec((await page.getByTestId('step-pos').textContent()) ?? '')?.[1]);
    assert.ok(total >= 4, `the walk has ${total} steps`);
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /tcp 192\.168\.49\.2:\d+ → 10\.96\.0\.1:443/);
    const first = (await page.getByTestId('step-current').textContent()) ?? '';
    assert.match(first, /^minikube › OUTPUT › raw › OUTPUT/);
    await page.getByTestId('step-next').click();
    await page.locator('[data-testid=step-pos][data-step="2"]').waitFor();
    await page.getByTestId('step-next').click();
    await page.locator('[data-testid=step-pos][data-step="3"]').waitFor();
    // The debugger's keys work from the console's terminal too.
    await consoleInput(page).focus();
    await page.keyboard.press('F11');
    await page.locator('[data-testid=step-pos][data-step="4"]').waitFor();
    await page.keyboard.press('Shift+F10');
    await page.locator('[data-testid=step-pos][data-step="3"]').waitFor();
    await seeText(page.getByTestId('step-current'), /^minikube › OUTPUT › /);
    assert.equal((await page.locator('.step-list .step.current').textContent())?.startsWith('3. '), true);
    // The current host is highlighted on the canvas.
    const stepping = await page.evaluate(() => (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.$('.stepping').map((n) => n.id()));
    assert.deepEqual(stepping, ['n:minikube']);
    await page.getByTestId('step-end').click();
    await page.locator(`[data-testid=step-pos][data-step="${total}"]`).waitFor();
    assert.equal(await page.getByTestId('step-next').isDisabled(), true);

    // The Trace form starts a walk too.
    await page.getByTestId('trace-from').fill('minikube');
    await page.getByTestId('trace-to').fill('10.96.0.1:443');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.getByTestId('step-title').filter({ hasText: 'trace minikube → 10.96.0.1:443' }).waitFor();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();

    // Double-clicking a pod on the canvas opens its console (namespace/name; the pod's name in the prompt).
    const pod = await page.evaluate(() => {
      const cy = (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy;
      const p = cy.nodes('[kind = "pod"]').first();
      // Bring it into the middle of the visible canvas (the console dock covers its lower part).
      cy.center(p);
      const box = document.getElementById('cy')!.getBoundingClientRect();
      return { id: p.id(), name: p.data('name') as string, x: box.left + p.renderedPosition().x, y: box.top + p.renderedPosition().y };
    });
    await page.mouse.dblclick(pod.x, pod.y);
    await page.getByTestId(`console-tab-${pod.id.slice(2)}`).waitFor();
    assert.equal(await prompt(page), `root@${pod.name}:/# `);
    await run(page, 'hostname');
    await output(page, pod.name);
    assert.deepEqual(suite.b.errors, []);
    // The terminal kept to the app's CSP (style-src 'self': its CSS in constructed stylesheets).
    assert.deepEqual(await cspViolations(page), []);
  }));
});
