// End-to-end: the debugger's Chain tab — the whole chain of the current step as the node holds
// it. A cluster of 2 nodes with 300 Services: a trace from a pod on minikube-m02 to the last
// Service is stepped to the KUBE-SERVICES rule that matched; the Chain tab shows that chain
// (300+ rules, only those in sight drawn) with the current rule highlighted and the rules before
// it marked missed or skipped (the rule index's block), the rules after it unmarked, and its end.
// A gutter click sets a breakpoint on a rule the walk never reached. A built-in chain's end shows
// its policy. A rule deleted in the node's console shows the chain changed since the trace.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { defaultCluster } from '../../shared/cluster.ts';
import { CHROMIUM, appSuite, consoleRun, openLab, traceFromForm, openNodeConsole, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
const SERVICES = 300;

const manifests = [
  'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {nodeName: minikube, containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}\n',
  'apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {nodeName: minikube-m02, containers: [{name: c, image: busybox}]}\n',
  ...Array.from({ length: SERVICES }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n`),
].join('---\n');

describe('the debugger\'s chain view', { skip, timeout: 180_000 }, () => {
  const suite = appSuite((service) => {
    service.create('chains', { cluster: { ...defaultCluster(), nodes: 2 } });
    const r = service.apply('chains', manifests);
    assert.equal(r.code, 0, r.stderr);
  });
  const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';
  const loc = (page: Page, id: string) => page.getByTestId(id);
  /** F11 until the current step's text matches (a bounded walk). */
  async function stepUntil(page: Page, re: RegExp): Promise<string> {
    for (let k = 0; k < 400; k++) {
      const t = await text(page, 'step-current');
      if (re.test(t)) return t;
      const was = await page.getByTestId('step-pos').getAttribute('data-step');
      await page.keyboard.press('F11');
      await page.waitForFunction((w) => document.querySelector('[data-testid=step-pos]')?.getAttribute('data-step') !== w, was, { timeout: 5000 });
    }
    throw new Error(`no step matches ${re}`);
  }
  const rows = (page: Page) => page.getByTestId('chain-rows').locator('.cv-row');

  it('shows the whole chain around the current rule, marks what the walk met, and its end', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'chains', 'p:default/client');
    await page.getByTestId('open-stepper').click();
    await traceFromForm(page, 'pod/default/client', `s${SERVICES - 1}:80`);
    await seeText(loc(page, 'step-outcome'), /delivered/);
    await page.locator('[data-testid=step-current]').click();

    // A built-in chain with no rules of its own: the view is its policy, current.
    const first = await stepUntil(page, /› (raw|mangle|nat|filter) › [A-Z]+\n {2}policy ACCEPT/);
    await page.getByTestId('dbg-tab-chain').click();
    const builtin = first.split('\n')[0].split(' › ').pop()!;
    // The head names the chain at once and its size once the rules have come: wait for both.
    await page.getByTestId('chain-head').filter({ hasText: new RegExp(`^${builtin} .*rules?, policy ACCEPT$`) }).waitFor();
    const end = rows(page).and(page.locator('[data-num=end]'));
    await seeText(end, 'policy ACCEPT');
    assert.match((await end.getAttribute('class')) ?? '', /\bcurrent\b/);

    // The KUBE-SERVICES rule of the last Service on minikube-m02.
    const cur = await stepUntil(page, /minikube-m02 › PREROUTING › nat › KUBE-SERVICES\n.*\n {2}matched → KUBE-SVC-/);
    const spec = cur.split('\n')[1].trim().replace(/^-A KUBE-SERVICES /, '');
    assert.match(spec, new RegExp(`default/s${SERVICES - 1} cluster IP`));
    await page.getByTestId('chain-head').filter({ hasText: /^KUBE-SERVICES nat on minikube-m02 · [\d,]+ rules$/ }).waitFor();
    const count = Number(/· ([\d,]+) rules/.exec(await text(page, 'chain-head'))![1].replace(/,/g, ''));
    assert.ok(count > SERVICES, `KUBE-SERVICES has ${count} rules`);
    const current = rows(page).and(page.locator('.current'));
    await current.waitFor();
    const num = Number(await current.getAttribute('data-num'));
    assert.ok(num > 1 && num < count, `current rule ${num}`);
    await seeValue(() => current.getAttribute('data-mark'), 'hit');
    assert.ok(((await current.textContent()) ?? '').endsWith(spec), 'the current row is the step\'s rule');
    await seeValue(() => page.getByTestId('chain-note').isVisible(), false, 'the chain is as traced');
    // Only the rows in sight are drawn.
    const drawn = await rows(page).count();
    assert.ok(drawn > 5 && drawn < 120, `${drawn} rows drawn of ${count}`);
    // Every drawn rule before the current one was met: missed, or skipped by the index; none after it.
    const marks = await rows(page).evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.num ?? '', (e as HTMLElement).dataset.mark ?? '']));
    for (const [n, m] of marks) {
      if (n === 'end' || Number(n) === num) continue;
      if (Number(n) < num) assert.match(m, /^(miss|skipped)$/, `rule ${n} before the current one: ${m}`);
      else assert.equal(m, '', `rule ${n} after the current one`);
    }

    // Scrolled to the top: rule 1, met; a block the index skipped is marked so.
    await page.getByTestId('chain-rows').evaluate((el) => (el.scrollTop = 0));
    await rows(page).and(page.locator('[data-num="1"]')).waitFor();
    assert.match((await rows(page).and(page.locator('[data-num="1"]')).getAttribute('data-mark')) ?? '', /^(miss|skipped)$/);
    await page.getByTestId('chain-rows').evaluate((el, n) => (el.scrollTop = Math.max(0, (n - 40) * 18)), num);
    await rows(page).and(page.locator('[data-mark=skipped]')).first().waitFor();

    // Scrolled to the end (pages read as they come into sight): the last rule, never reached, and the return.
    await page.getByTestId('chain-rows').evaluate((el) => (el.scrollTop = el.scrollHeight));
    const endRow = rows(page).and(page.locator('[data-num=end]'));
    await seeText(endRow, 'end of chain: back to the caller');
    const lastRule = rows(page).and(page.locator(`[data-num="${count}"]`));
    await lastRule.filter({ hasText: '-j' }).waitFor();
    await seeValue(() => lastRule.getAttribute('data-mark'), null);

    // A breakpoint on it, from its gutter: listed in the Breakpoints pane.
    await lastRule.getByTestId('chain-gutter').click();
    await page.getByTestId('dbg-breakpoints').filter({ hasText: `rule ${count} of nat KUBE-SERVICES` }).waitFor();
    await rows(page).and(page.locator(`[data-num="${count}"]`)).locator('.gutter.on').waitFor();

    // The Steps tab comes back as it was.
    await page.getByTestId('dbg-tab-steps').click();
    await seeValue(() => page.getByTestId('step-list').isVisible(), true);
    await seeValue(() => page.getByTestId('chain-view').isVisible(), false);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('says when the chain changed since the trace', suite.shot(async (page) => {
    // The first rule of KUBE-SERVICES deleted on minikube-m02, in its console.
    await openNodeConsole(page, 'minikube-m02');
    await consoleRun(page, 'iptables -t nat -D KUBE-SERVICES 1');
    await page.getByTestId('dbg-tab-chain').click();
    await page.getByTestId('chain-note').filter({ hasText: /^The chain changed since this trace: rule \d+ is now different\.$/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(suite.b.errors, []);
  }));
});
