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
import { CHROMIUM, appSuite } from './harness.ts';

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

  const input = (page: Page) => page.locator('.console-pane:not([hidden]) [data-testid=console-input]');
  const prompt = (page: Page) => page.locator('.console-pane:not([hidden]) [data-testid=console-prompt]');
  const outText = async (page: Page) => (await page.locator('.console-pane:not([hidden]) [data-testid=console-output]').textContent()) ?? '';

  async function run(page: Page, line: string): Promise<void> {
    await input(page).fill(line);
    await input(page).press('Enter');
    await page.locator('.console-pane:not([hidden]) [data-testid=console-input]:not([disabled])').waitFor();
  }

  /** Presses Tab and waits until the line becomes `want` (completion asks the service first). */
  async function tab(page: Page, want: string): Promise<void> {
    await input(page).press('Tab');
    await page.waitForFunction((w) => (document.querySelector('.console-pane:not([hidden]) [data-testid=console-input]') as HTMLInputElement).value === w, want, { timeout: 5000 })
      .catch(async () => assert.equal(await input(page).inputValue(), want));
  }

  it('Ctrl+R finds an earlier command and runs it; Tab completes tables and chains and lists them on the second Tab', shot(async (page) => {
    await openConsole(page, 'keys', 'minikube');
    await run(page, 'kubectl get nodes');
    await run(page, 'hostname');
    await run(page, 'iptables -S INPUT | head -2');
    await run(page, 'true');

    // Ctrl+R, then typing: the newest line holding the query.
    await input(page).fill('half typed');
    await input(page).press('Control+r');
    assert.equal(await prompt(page).textContent(), "(reverse-i-search)`': ");
    assert.equal(await input(page).inputValue(), 'half typed');
    await page.keyboard.type('h');
    assert.equal(await prompt(page).textContent(), "(reverse-i-search)`h': ");
    assert.equal(await input(page).inputValue(), 'iptables -S INPUT | head -2');
    // Ctrl+R again: the next older match.
    await input(page).press('Control+r');
    assert.equal(await input(page).inputValue(), 'hostname');
    // No older one: the search fails and keeps the last match.
    await input(page).press('Control+r');
    assert.equal(await prompt(page).textContent(), "(failed reverse-i-search)`h': ");
    assert.equal(await input(page).inputValue(), 'hostname');
    // Esc gives the line back as it was.
    await input(page).press('Escape');
    assert.equal((await prompt(page).textContent())?.trim(), 'root@minikube:/#');
    assert.equal(await input(page).inputValue(), 'half typed');
    // Typing refines; Enter runs the match.
    await input(page).fill('');
    await input(page).press('Control+r');
    await page.keyboard.type('get');
    assert.equal(await input(page).inputValue(), 'kubectl get nodes');
    await page.keyboard.type(' x');
    assert.equal(await prompt(page).textContent(), "(failed reverse-i-search)`get x': ");
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    assert.equal(await prompt(page).textContent(), "(reverse-i-search)`get': ");
    await input(page).press('Enter');
    await page.locator('.console-pane:not([hidden]) [data-testid=console-input]:not([disabled])').waitFor();
    assert.equal((await prompt(page).textContent())?.trim(), 'root@minikube:/#');
    const out = await outText(page);
    assert.equal(out.split('v1.19.2').length - 1, 2, 'kubectl get nodes ran twice');
    assert.equal(suite.service.consoleHistory('keys', 'minikube').at(-1), 'kubectl get nodes');
    // Ctrl+R on an empty query reuses the last search, as bash does.
    await input(page).press('Control+r');
    await input(page).press('Control+r');
    assert.equal(await input(page).inputValue(), 'kubectl get nodes');
    await input(page).press('Control+g');
    assert.equal(await input(page).inputValue(), '');

    // Tab: a table after -t.
    await input(page).fill('iptables -t n');
    await tab(page, 'iptables -t nat ');
    // The KUBE-SVC chains of the node's nat table: their common prefix, then the list.
    const svcChains = api.rules('keys', 'minikube', { table: 'nat', limit: 0 }).tables.find((t) => t.name === 'nat')!.chains.map((c) => c.name).filter((n) => n.startsWith('KUBE-SVC-'));
    assert.ok(svcChains.length >= 2, `KUBE-SVC chains: ${svcChains.join(' ')}`);
    await input(page).fill('iptables -t nat -L KUBE-SVC');
    await tab(page, 'iptables -t nat -L KUBE-SVC-');
    const before = await outText(page);
    await input(page).press('Tab');
    await page.waitForFunction((n) => (document.querySelector('.console-pane:not([hidden]) [data-testid=console-output]')?.textContent ?? '').length > n, before.length);
    const listed = (await outText(page)).slice(before.length);
    assert.match(listed, /^root@minikube:\/# iptables -t nat -L KUBE-SVC-\n/);
    for (const c of svcChains) assert.ok(listed.includes(c), `${c} listed`);
    assert.doesNotMatch(listed, /KUBE-SEP-/);
    assert.equal(await input(page).inputValue(), 'iptables -t nat -L KUBE-SVC-', 'the line stays');
    // Completing a whole chain name, then running it.
    await input(page).fill(`iptables -t nat -L ${svcChains[0].slice(0, -2)}`);
    await tab(page, `iptables -t nat -L ${svcChains[0]} `);
    await input(page).press('Enter');
    await page.locator('.console-pane:not([hidden]) [data-testid=console-output]', { hasText: `Chain ${svcChains[0]} (` }).waitFor();
    // Options and kubectl names.
    await input(page).fill('iptables -t nat --line-n');
    await tab(page, 'iptables -t nat --line-numbers ');
    await input(page).fill('kubectl get deploy cor');
    await tab(page, 'kubectl get deploy coredns ');

    // Copy: a selection of the output, Ctrl+Shift+C (and not the canvas's copy).
    await page.evaluate(() => {
      const pre = document.querySelector('.console-pane:not([hidden]) [data-testid=console-output]') as HTMLElement;
      const node = [...pre.childNodes].find((n) => n.textContent?.includes('v1.19.2'));
      if (!node) throw new Error('no kubectl output');
      const r = document.createRange();
      r.selectNodeContents(node);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(r);
      pre.focus();
    });
    const selected = await page.evaluate(() => getSelection()?.toString() ?? '');
    await page.keyboard.press('Control+Shift+C');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), selected);
    assert.match(selected, /minikube\s+Ready/);
    // Ctrl+C on the selection is the browser's copy (not the canvas's copy of selected elements).
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await page.keyboard.press('Control+c');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), selected);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('completes an ipset name on a Calico node', shot(async (page) => {
    await openConsole(page, 'np', 'minikube');
    const sets = api.rules('np', 'minikube', { limit: 0 }).ipsets.map((s) => s.name);
    assert.ok(sets.includes('cali40all-hosts-net'), sets.join(' '));
    await input(page).fill('ipset list cali40a');
    await tab(page, 'ipset list cali40all-');
    await input(page).fill('ipset list cali40all-h');
    await tab(page, 'ipset list cali40all-hosts-net ');
    await input(page).press('Enter');
    await page.locator('.console-pane:not([hidden]) [data-testid=console-output]', { hasText: 'Name: cali40all-hosts-net' }).waitFor();
    // Two Tabs on the shared prefix list every cali40 set.
    await input(page).fill('ipset list cali40');
    await input(page).press('Tab');
    const before = await outText(page);
    await input(page).press('Tab');
    await page.waitForFunction((n) => (document.querySelector('.console-pane:not([hidden]) [data-testid=console-output]')?.textContent ?? '').length > n, before.length);
    const listed = (await outText(page)).slice(before.length);
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
