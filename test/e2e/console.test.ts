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
import { CHROMIUM, appSuite } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('consoles and the packet stepper', { skip, timeout: 60_000 }, () => {
  const suite = appSuite((service) => {
    new LabApiImpl(service).createLab('cons', { cluster: true });
  });
  const { shot } = suite;

  /** Types a line into the active console and waits until the console takes input again. */
  async function run(page: Page, line: string): Promise<void> {
    const input = page.locator('.console-pane:not([hidden]) [data-testid=console-input]');
    await input.fill(line);
    await input.press('Enter');
    await page.locator('.console-pane:not([hidden]) [data-testid=console-input]:not([disabled])').waitFor();
  }

  const output = (page: Page, text: string) => page.locator('.console-pane:not([hidden]) [data-testid=console-output]', { hasText: text }).waitFor({ timeout: 10_000 });

  it('runs kubectl, pipes and a here-document on node minikube, and steps a curl through the stepper', shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/cons`);
    await page.waitForFunction(() => {
      const ed = (window as unknown as { kplEditor?: { cy: import('cytoscape').Core } }).kplEditor;
      return !!ed && ed.cy.getElementById('n:minikube').nonempty();
    });
    // The first picture is on screen (the first layout done).
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    // Select the node, then "Open console" in the inspector.
    await page.evaluate(() => {
      // (returns nothing: Playwright would serialize the whole collection)
      (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.getElementById('n:minikube').select();
    });
    await page.getByTestId('open-console').click();
    await page.getByTestId('console-tab-minikube').waitFor();
    assert.equal((await page.getByTestId('console-prompt').textContent())?.trim(), 'root@minikube:/#');

    await run(page, 'kubectl get nodes');
    await output(page, 'v1.19.2');
    const out1 = (await page.getByTestId('console-output').textContent()) ?? '';
    assert.match(out1, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nminikube\s+Ready/);

    await run(page, 'iptables -t nat -L PREROUTING | head -3');
    await output(page, 'Chain PREROUTING (policy ACCEPT)');
    const out2 = (await page.getByTestId('console-output').textContent()) ?? '';
    const after = out2.slice(out2.indexOf('| head -3'));
    assert.match(after, /Chain PREROUTING \(policy ACCEPT\)\ntarget\s+prot opt source\s+destination\s*\n\S+/);
    assert.doesNotMatch(after.split('\n').slice(4).join('\n'), /\S/, 'head -3 printed three lines');

    // A here-document over several lines: the prompt turns to "> " until EOF.
    await run(page, 'iptables-restore --noflush <<EOF');
    assert.equal(await page.getByTestId('console-prompt').textContent(), '> ');
    await run(page, '*filter');
    await run(page, '-A INPUT -p tcp --dport 9999 -m comment --comment e2e-heredoc -j ACCEPT');
    await run(page, 'COMMIT');
    await run(page, 'EOF');
    assert.equal((await page.getByTestId('console-prompt').textContent())?.trim(), 'root@minikube:/#');
    await run(page, 'iptables -S INPUT | grep e2e-heredoc');
    await output(page, '-A INPUT -p tcp -m tcp --dport 9999');
    // Stored: the rule is in the lab, and the lines in the console history.
    assert.match(suite.service.exec('cons', 'minikube', ['iptables', '-S', 'INPUT'], '').stdout, /e2e-heredoc/);
    assert.ok(suite.service.consoleHistory('cons', 'minikube').some((l) => l.startsWith('iptables-restore --noflush <<EOF\n*filter\n') && l.endsWith('\nEOF')));
    // History: ↑ brings back the last line.
    const input = page.locator('.console-pane:not([hidden]) [data-testid=console-input]');
    await input.press('ArrowUp');
    assert.equal(await input.inputValue(), 'iptables -S INPUT | grep e2e-heredoc');
    await input.press('Escape');
    await input.fill('');

    // Ctrl+L clears the screen.
    await input.press('Control+l');
    assert.equal(await page.getByTestId('console-output').textContent(), '');

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
    await page.keyboard.press('F11');
    await page.locator('[data-testid=step-pos][data-step="4"]').waitFor();
    await page.keyboard.press('Shift+F10');
    await page.locator('[data-testid=step-pos][data-step="3"]').waitFor();
    assert.match((await page.getByTestId('step-current').textContent()) ?? '', /^minikube › OUTPUT › /);
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
    assert.equal((await page.locator('.console-pane:not([hidden]) [data-testid=console-prompt]').textContent())?.trim(), `root@${pod.name}:/#`);
    await run(page, 'hostname');
    await output(page, pod.name);
    assert.deepEqual(suite.b.errors, []);
  }));
});
