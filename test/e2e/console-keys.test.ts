// End-to-end: the console's keys in browser mode, and the layered layout. On node minikube of a
// cluster lab: Ctrl+R finds an earlier command (Ctrl+R again for an older one, typing refines,
// Esc gives the line back, a failed search says so) and Enter runs it; Tab completes a table
// after `iptables -t`, the common prefix of the KUBE-SVC chains and lists them on the second Tab;
// a selection of the output copies with Ctrl+Shift+C. On a Calico node (the network-policy
// example) `ipset list cali40…` completes a set name. Then the Layout menu's dagre moves the
// elements into layers (the LAN above the node, the Service below its pod).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleFill, consoleIdle, consoleInput, consoleLine, consoleRun, consoleText, consoleWaitFor, cspViolations } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

type Cy = import('cytoscape').Core;

describe('console keys and the layered layout', { skip, timeout: 120_000 }, () => {
  let api: LabApiImpl;
  const suite = appSuite(async (service) => {
    await suite.b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.app.origin });
    api = new LabApiImpl(service);
    api.createLab('keys', { cluster: true });
    api.createExample('network-policy', 'np');
  });
  const { shot } = suite;

  async function openConsole(page: Page, lab: string, node: string): Promise<void> {
    await page.goto(`${suite.app.url}#/lab/${lab}`);
    await page.waitForFunction((id) => {
      const ed = (window as unknown as { kplEditor?: { cy: Cy; lab: string } }).kplEditor;
      return !!ed && ed.cy.getElementById(id).nonempty();
    }, `n:${node}`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    await page.evaluate((id) => {
      (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.getElementById(id).select();
    }, `n:${node}`);
    await page.getByTestId('open-console').click();
    await page.getByTestId(`console-tab-${node}`).waitFor();
  }

  const input = consoleInput;
  const run = consoleRun;
  const fill = consoleFill;
  /** The prompt on show (the terminal's last line starts with it). */
  const prompt = async (page: Page) => (await consoleLine(page)).prompt;
  /** The line being edited (the terminal's last line ends with it). */
  const value = async (page: Page) => (await consoleLine(page)).line;

  /** Presses Tab and waits until the line becomes `want` (completion asks the service first). */
  async function tab(page: Page, want: string): Promise<void> {
    await input(page).press('Tab');
    await page.waitForFunction((w) => (globalThis as unknown as { kplConsoles: { state(): { line: string } | null } }).kplConsoles.state()?.line === w, want, { timeout: 5000 })
      .catch(async () => assert.equal(await value(page), want));
  }

  it('Ctrl+R finds an earlier command and runs it; Tab completes tables and chains and lists them on the second Tab', shot(async (page) => {
    await openConsole(page, 'keys', 'minikube');
    await run(page, 'kubectl get nodes');
    await run(page, 'hostname');
    await run(page, 'iptables -S INPUT | head -2');
    await run(page, 'true');

    // Ctrl+R, then typing: the newest line holding the query.
    await fill(page, 'half typed');
    await input(page).press('Control+r');
    assert.equal(await prompt(page), "(reverse-i-search)`': ");
    assert.equal(await value(page), 'half typed');
    await page.keyboard.type('h');
    assert.equal(await prompt(page), "(reverse-i-search)`h': ");
    assert.equal(await value(page), 'iptables -S INPUT | head -2');
    // Ctrl+R again: the next older match.
    await input(page).press('Control+r');
    assert.equal(await value(page), 'hostname');
    // No older one: the search fails and keeps the last match.
    await input(page).press('Control+r');
    assert.equal(await prompt(page), "(failed reverse-i-search)`h': ");
    assert.equal(await value(page), 'hostname');
    // Esc gives the line back as it was.
    await input(page).press('Escape');
    assert.equal(await prompt(page), 'root@minikube:/# ');
    assert.equal(await value(page), 'half typed');
    // Typing refines; Enter runs the match.
    await fill(page, '');
    await input(page).press('Control+r');
    await page.keyboard.type('get');
    assert.equal(await value(page), 'kubectl get nodes');
    await page.keyboard.type(' x');
    assert.equal(await prompt(page), "(failed reverse-i-search)`get x': ");
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    assert.equal(await prompt(page), "(reverse-i-search)`get': ");
    await input(page).press('Enter');
    await consoleIdle(page);
    assert.equal(await prompt(page), 'root@minikube:/# ');
    const out = await consoleText(page);
    assert.equal(out.split('v1.19.2').length - 1, 2, 'kubectl get nodes ran twice');
    assert.equal(suite.service.consoleHistory('keys', 'minikube').at(-1), 'kubectl get nodes');
    // Ctrl+R on an empty query reuses the last search, as bash does.
    await input(page).press('Control+r');
    await input(page).press('Control+r');
    assert.equal(await value(page), 'kubectl get nodes');
    await input(page).press('Control+g');
    assert.equal(await value(page), '');

    // Tab: a table after -t.
    await fill(page, 'iptables -t n');
    await tab(page, 'iptables -t nat ');
    // The KUBE-SVC chains of the node's nat table: their common prefix, then the list.
    const svcChains = api.rules('keys', 'minikube', { table: 'nat', limit: 0 }).tables.find((t) => t.name === 'nat')!.chains.map((c) => c.name).filter((n) => n.startsWith('KUBE-SVC-'));
    assert.ok(svcChains.length >= 2, `KUBE-SVC chains: ${svcChains.join(' ')}`);
    await fill(page, 'iptables -t nat -L KUBE-SVC');
    await tab(page, 'iptables -t nat -L KUBE-SVC-');
    const before = (await consoleText(page)).split('\n').length;
    await input(page).press('Tab');
    // As bash: the candidates under the line, then the prompt and the line again.
    await consoleWaitFor(page, /\n[^\n]*KUBE-SVC-[^\n]*\nroot@minikube:\/# iptables -t nat -L KUBE-SVC-$/);
    const listed = (await consoleText(page)).split('\n').slice(before - 1).join('\n');
    assert.match(listed, /^root@minikube:\/# iptables -t nat -L KUBE-SVC-\n/);
    for (const c of svcChains) assert.ok(listed.includes(c), `${c} listed`);
    assert.doesNotMatch(listed, /KUBE-SEP-/);
    assert.equal(await value(page), 'iptables -t nat -L KUBE-SVC-', 'the line stays');
    // Completing a whole chain name, then running it.
    await fill(page, `iptables -t nat -L ${svcChains[0].slice(0, -2)}`);
    await tab(page, `iptables -t nat -L ${svcChains[0]} `);
    await input(page).press('Enter');
    await consoleWaitFor(page, `Chain ${svcChains[0]} (`);
    // Options and kubectl names.
    await fill(page, 'iptables -t nat --line-n');
    await tab(page, 'iptables -t nat --line-numbers ');
    await fill(page, 'kubectl get deploy cor');
    await tab(page, 'kubectl get deploy coredns ');

    // The line editor: insertion in the middle, ←/→, Home/End, Ctrl+A/E/U/K/W, Backspace and Delete.
    await fill(page, 'echo world');
    await page.keyboard.press('Home');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.insertText('hello ');
    assert.equal(await value(page), 'echo hello world');
    await page.keyboard.press('Control+e');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    assert.equal(await value(page), 'cho hello worl');
    await page.keyboard.press('Control+w');
    assert.equal(await value(page), 'cho hello worl', 'Ctrl+W at the start kills nothing');
    await page.keyboard.press('Control+e');
    await page.keyboard.press('Control+w');
    assert.equal(await value(page), 'cho hello ');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Control+k');
    assert.equal(await value(page), 'cho hell');
    await page.keyboard.press('Control+u');
    assert.equal(await value(page), '');
    // A line longer than the terminal is wide wraps, and edits in its middle still show right.
    const cols = await page.evaluate(() => (globalThis as unknown as { kplConsoles: { state(): { cols: number } } }).kplConsoles.state().cols);
    const long = `echo ${'x'.repeat(cols)}END`;
    await fill(page, long);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.insertText('yz');
    assert.equal(await value(page), `echo ${'x'.repeat(cols)}yzEND`);
    await page.keyboard.press('Home');
    await page.keyboard.press('Delete');
    assert.equal(await value(page), `cho ${'x'.repeat(cols)}yzEND`);
    await fill(page, '');

    // Copy: a selection of the output, Ctrl+Shift+C (and not the canvas's copy).
    assert.ok(await page.evaluate(() => (globalThis as unknown as { kplConsoles: { select(t: string): boolean } }).kplConsoles.select('minikube   Ready')));
    const selected = await page.evaluate(() => (globalThis as unknown as { kplConsoles: { selection(): string } }).kplConsoles.selection());
    assert.equal(selected, 'minikube   Ready');
    await input(page).focus();
    await page.keyboard.press('Control+Shift+C');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), selected);
    // Ctrl+C on the selection copies too (not the canvas's copy of selected elements, and no ^C).
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await page.keyboard.press('Control+c');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), selected);
    assert.doesNotMatch(await consoleText(page), /\^C/);
    // Ctrl+V pastes into the line.
    await page.evaluate(() => navigator.clipboard.writeText('pasted text'));
    await page.keyboard.press('Control+v');
    await page.waitForFunction(() => (globalThis as unknown as { kplConsoles: { state(): { line: string } } }).kplConsoles.state().line === 'pasted text', undefined, { timeout: 5000 })
      .catch(async () => assert.equal(await value(page), 'pasted text'));
    await fill(page, '');
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('completes an ipset name on a Calico node', shot(async (page) => {
    await openConsole(page, 'np', 'minikube');
    const sets = api.rules('np', 'minikube', { limit: 0 }).ipsets.map((s) => s.name);
    assert.ok(sets.includes('cali40all-hosts-net'), sets.join(' '));
    await fill(page, 'ipset list cali40a');
    await tab(page, 'ipset list cali40all-');
    await fill(page, 'ipset list cali40all-h');
    await tab(page, 'ipset list cali40all-hosts-net ');
    await input(page).press('Enter');
    await consoleWaitFor(page, 'Name: cali40all-hosts-net');
    // Two Tabs on the shared prefix list every cali40 set.
    await fill(page, 'ipset list cali40');
    await input(page).press('Tab');
    await consoleIdle(page);
    const before = (await consoleText(page)).split('\n').length;
    await input(page).press('Tab');
    await consoleWaitFor(page, /\n[^\n]*cali40[^\n]*\nroot@minikube:\/# ipset list cali40$/);
    const listed = (await consoleText(page)).split('\n').slice(before).join('\n');
    for (const s of sets.filter((x) => x.startsWith('cali40'))) assert.ok(listed.includes(s), `${s} listed`);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('lays the lab out in layers with dagre from the Layout menu', shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/keys`);
    await page.waitForFunction(() => !!(window as unknown as { kplEditor?: { cy: Cy } }).kplEditor?.cy.getElementById('n:minikube').nonempty());
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    const positions = () => page.evaluate(() => {
      const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      return Object.fromEntries(cy.nodes().map((n) => [n.id(), { ...n.position() }] as const).filter((_, i) => !cy.nodes()[i].isParent()));
    });
    const was = await positions();
    await page.getByTestId('layout-kind').selectOption('dagre');
    await page.locator('[data-testid=status][data-layout-kind=dagre]').waitFor({ state: 'attached' });
    await page.waitForFunction(() => {
      const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      return !cy.nodes().map((n) => n.animated()).some(Boolean);
    });
    const now = await positions();
    const moved = Object.keys(now).filter((id) => was[id] && (Math.abs(was[id].x - now[id].x) > 1 || Math.abs(was[id].y - now[id].y) > 1));
    assert.ok(moved.length >= 3, `moved: ${moved.join(' ')}`);
    // Layers: the LAN above the node's pod, the Service and the Deployment below it.
    const pod = Object.keys(now).find((id) => id.startsWith('p:kube-system/coredns-'))!;
    assert.ok(now['l:minikube'].y < now[pod].y, 'LAN above the pod');
    assert.ok(now['s:kube-system/kube-dns'].y > now[pod].y, 'Service below its pod');
    assert.ok(now['d:kube-system/coredns'].y > now[pod].y, 'Deployment below its pod');
    // The choice is kept and L lays out with it again.
    assert.equal(await page.evaluate(() => localStorage.getItem('kpl.layoutKind')), 'dagre');
    await page.reload();
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    assert.equal(await page.getByTestId('layout-kind').inputValue(), 'dagre');
    // The saved positions came back (the layout was stored).
    const again = await positions();
    assert.ok(Math.abs(again['l:minikube'].y - now['l:minikube'].y) < 1 && Math.abs(again[pod].y - now[pod].y) < 1);
    assert.deepEqual(suite.b.errors, []);
  }));
});
