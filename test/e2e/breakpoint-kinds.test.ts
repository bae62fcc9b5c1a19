// End-to-end: breakpoints of the kinds the pane's form adds, on frontend → db under the
// article's NetworkPolicy (example 'network-policy', the policy applied): a hook on a host
// (FORWARD@minikube), any DROP/REJECT, a conntrack state; each one F5 stops at from the start,
// a disabled one does not, and the form refuses a hook that does not exist in the debugger's words.
// Then a host being entered (minikube), on client → minikube-m02:30080 (example 'traffic-policy'):
// F5 stops where the packet comes over from minikube-m02, then where the reply and the ACK start.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, openLab, traceFromForm, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
const FRONTEND = 'frontend-8b474f47-zdqdv';

describe('breakpoint kinds', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'bpk', { proxy: 'legacy' });
    assert.equal(api.runStep('bpk', 2).action.kind, 'apply'); // allow-db-access
    api.createExample('traffic-policy', 'hostbp', { proxy: 'legacy' });
  });
  const current = async (page: Page): Promise<string> => (await page.getByTestId('step-current').textContent()) ?? '';
  const pos = async (page: Page): Promise<number> => Number(await page.getByTestId('step-pos').getAttribute('data-step'));
  /** From the first step, F5: where it stops. */
  async function fromStartContinue(page: Page): Promise<number> {
    if (await page.getByTestId('step-restart').isEnabled()) await page.getByTestId('step-restart').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    await page.locator('[data-testid=step-current]').click();
    await page.keyboard.press('F5');
    await page.waitForFunction(() => document.querySelector('[data-testid=step-pos]')?.getAttribute('data-step') !== '1');
    return pos(page);
  }
  async function add(page: Page, kind: string, text: string): Promise<void> {
    await page.getByTestId('bp-kind').selectOption(kind);
    await page.getByTestId('bp-text').fill(text);
    await page.getByTestId('bp-add').locator('button[type=submit]').click();
  }

  it('stops at a hook, at the DROP and at a conntrack state; not at a disabled one', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'bpk', `p:default/${FRONTEND}`);
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    await page.getByTestId('open-stepper').click();
    await traceFromForm(page, `pod/default/${FRONTEND}`, 'db:80');
    const last = Number((/\/ (\d+)$/.exec((await page.getByTestId('step-pos').textContent()) ?? '') ?? [])[1]);
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /dropped/);

    // A hook that does not exist is refused in words.
    await add(page, 'hook', 'MIDDLE');
    assert.match((await page.getByTestId('bp-error').textContent()) ?? '', /^a hook: PREROUTING, INPUT, FORWARD, OUTPUT or POSTROUTING/);

    await add(page, 'hook', 'FORWARD@minikube');
    const atHook = await fromStartContinue(page);
    assert.match(await current(page), /^minikube › FORWARD › /);
    assert.ok(atHook < last);

    // Disabled, it no longer stops there: F5 goes on to the end (the DROP).
    await page.getByTestId('bp').filter({ hasText: 'FORWARD' }).getByTestId('bp-enabled').uncheck();
    assert.equal(await fromStartContinue(page), last);
    assert.match(await current(page), /matched → DROP/);

    // Any DROP: stops on the deciding rule, the last step.
    await add(page, 'drop', '');
    assert.equal(await fromStartContinue(page), last);

    // A conntrack state: where minikube first sees the packet as NEW.
    await add(page, 'conntrack', 'NEW@minikube');
    const atNew = await fromStartContinue(page);
    assert.ok(atNew > 1 && atNew < last, `stopped at ${atNew} of ${last}`);
    assert.match((await page.getByTestId('dbg-conntrack').textContent()) ?? '', /^conntrack: minikube: NEW \(new connection/);
    await seeValue(() => page.getByTestId('bp').count(), 3);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('stops where the packet enters a host, in each phase of the walk', suite.shot(async (page) => {
    // client → minikube-m02:30080 (externalTrafficPolicy: Cluster): minikube-m02 sends it on to
    // the endpoint's node, minikube, through the IPIP tunnel; the reply and the ACK come back.
    await openLab(page, suite.app.url, 'hostbp', 'n:minikube');
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    await page.getByTestId('open-stepper').click();
    await traceFromForm(page, 'client', 'minikube-m02:30080');
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /delivered/);
    assert.match(await current(page), /^minikube-m02 › PREROUTING › /);
    await add(page, 'host', 'minikube');
    await page.getByTestId('bp').filter({ hasText: 'entering minikube' }).waitFor();
    const at = await fromStartContinue(page);
    assert.match(await current(page), /^minikube › PREROUTING › /);
    await page.getByTestId('step-back').click();
    await page.locator(`[data-testid=step-pos][data-step="${at - 1}"]`).waitFor();
    assert.match(await current(page), /^minikube-m02 › POSTROUTING › /, 'the step before: leaving minikube-m02');
    // F5 from there: the entry again; then the reply starts on minikube (a new phase enters it
    // again), then the ACK.
    await page.locator('[data-testid=step-current]').click();
    await page.keyboard.press('F5');
    await page.locator(`[data-testid=step-pos][data-step="${at}"]`).waitFor({ timeout: 5000 });
    await page.keyboard.press('F5');
    await page.getByTestId('step-current').filter({ hasText: /^\[reply\] minikube › / }).waitFor({ timeout: 5000 });
    await page.keyboard.press('F5');
    await page.getByTestId('step-current').filter({ hasText: /^\[ack\] minikube › PREROUTING › / }).waitFor({ timeout: 5000 });
    // Disabled: F5 from the start runs to the end.
    await page.getByTestId('bp').filter({ hasText: 'entering minikube' }).getByTestId('bp-enabled').uncheck();
    const end = Number((/\/ (\d+)$/.exec((await page.getByTestId('step-pos').textContent()) ?? '') ?? [])[1]);
    assert.equal(await fromStartContinue(page), end);
    assert.deepEqual(suite.b.errors, []);
  }));
});
