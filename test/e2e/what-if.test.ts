// End-to-end: "What if…" in the debugger, on the example 'network-policy' (legacy layout) with
// its allow-db-access policy applied. A trace frontend → db:80 is dropped by Calico in db's
// cali-tw chain; it is forked at a step, the policy is deleted with kubectl in minikube's console,
// and Replay compares the recorded walk with the replay on the changed lab: the first divergence
// is in cali-tw-<db's interface>, the left side dropped by "Drop if no policies passed packet"
// with the NetworkPolicy named, the right side delivered. A click on a compared step opens that
// walk in the debugger; Back returns to the single view. With the comparison open, applying
// the deletion undone (Undo) replays by itself: the walks are the same.
// Takes test-results/what-if.png (docs/what-if.png with KPL_DOCS=1).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, ROOT, appSuite, consoleRun, openNodeConsole, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
const FRONTEND = 'frontend-8b474f47-zdqdv';
const TW = 'cali-tw-cali95aa86cbb2a';
describe('what if: a forked trace replayed on the changed lab', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'np', { proxy: 'legacy' });
    // The walkthrough's steps 1-3: curl backend, curl db, the policy applied.
    for (let i = 0; i < 3; i++) api.runStep('np', i);
    api.createExample('traffic-policy', 'np2', { proxy: 'legacy' });
  });
  const { shot } = suite;
  const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';
  const loc = (page: Page, id: string) => page.getByTestId(id);

  it('forks a dropped trace, deletes the NetworkPolicy, replays and compares', shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/np`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();

    // The trace frontend → db:80: dropped by Calico on minikube.
    await page.getByTestId('open-stepper').click();
    await page.getByTestId('trace-from').fill(`pod/default/${FRONTEND}`);
    await page.getByTestId('trace-to').fill('db:80');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    await seeText(page.getByTestId('step-outcome'), /dropped/);
    // Forked at step 3 (the What if bar says so).
    await page.locator('[data-testid=step-current]').click();
    await page.keyboard.press('F11');
    await page.keyboard.press('F11');
    await page.locator('[data-testid=step-pos][data-step="3"]').waitFor();
    await page.getByTestId('whatif-fork').click();
    await page.getByTestId('whatif-bar').waitFor();
    await seeText(page.getByTestId('whatif-info'), new RegExp(`^forked at step 3 of trace pod/default/${FRONTEND} → db:80; replays pod/default/${FRONTEND} → db:80 tcp sport 40000 seed \\d+ from minikube \\(the lab as it was before it, as it is from there on\\)\\.$`));

    // The lab changes: the policy deleted in minikube's console.
    await openNodeConsole(page, 'minikube');
    await consoleRun(page, 'kubectl delete networkpolicy allow-db-access');
    await page.getByTestId('whatif-changes').filter({ hasText: 'The lab changed 1 time since.' }).waitFor();
    // The compare view is not open yet: a change only counts until Replay.
    await seeValue(() => page.getByTestId('whatif-view').isVisible(), false);

    await page.getByTestId('whatif-replay').click();
    await page.getByTestId('whatif-view').waitFor();
    await seeValue(() => page.locator('.dbg-body').isVisible(), false, 'the compare view takes the single view’s place');
    await seeText(loc(page, 'whatif-outcome-a'), /^tcp 10\.88\.0\.24:40000 → 10\.106\.125\.191:80\s+dropped — dropped by rule 7 of filter cali-tw-cali95aa86cbb2a on minikube/);
    await seeText(loc(page, 'whatif-outcome-b'), /delivered — delivered to default\/db-8d66ff5f7-bp6kf 10\.88\.0\.26:80/);
    const whyA = await text(page, 'whatif-why-a');
    assert.match(whyA, new RegExp(`^dropped — DROP by rule 7 of filter ${TW} on minikube \\(“Drop if no policies passed packet”\\)`));
    assert.match(whyA, /ingress of pod default\/db-8d66ff5f7-bp6kf/);
    assert.match(whyA, /NetworkPolicy default\/allow-db-access did not allow it/);
    await seeText(loc(page, 'whatif-why-b'), /^delivered — /);
    // The first divergence: in db's endpoint chain, where the policy's rules were.
    const div = await text(page, 'whatif-divergence');
    assert.match(div, new RegExp(`First divergence: before step \\d+ \\(minikube › filter › ${TW} rule \\d+\\), after step \\d+ \\(minikube › filter › ${TW} rule \\d+\\)`));
    // Forked at step 3, long before the policy's chain: up to the fork the replay is the walk.
    await seeText(loc(page, 'whatif-where'), ' — from the forked step (3) on: up to it the replay is the recorded walk');
    const first = page.locator('[data-testid=whatif-row].first');
    await seeValue(() => first.count(), 1);
    assert.match((await first.locator('[data-testid=whatif-cell-a]').textContent()) ?? '', new RegExp(`^\\d+\\. ${TW} \\d+: `));
    // Everything before it is the same, folded or shown; the forked step is marked.
    const kinds = await page.locator('[data-testid=whatif-row]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-kind')));
    const at = kinds.findIndex((k) => k !== 'same');
    assert.ok(at > 0 && kinds.slice(0, at).every((k) => k === 'same'), kinds.join(' '));
    assert.ok(await page.locator('[data-testid=whatif-fold]').count() >= 1);
    assert.match((await page.locator('[data-testid=whatif-cell-a].forked').textContent()) ?? '', /^3\. /);
    // The first divergence is scrolled into view.
    assert.ok(await first.evaluate((r) => {
      const box = r.closest('[data-testid=whatif-rows]')?.getBoundingClientRect();
      const me = r.getBoundingClientRect();
      return !!box && me.top >= box.top && me.bottom <= box.bottom;
    }), 'the first divergence is in view');

    const docs = join(ROOT, process.env.KPL_DOCS === '1' ? 'docs' : 'test-results');
    mkdirSync(docs, { recursive: true });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(docs, 'what-if.png') });

    // The left side's deciding rule opens the recorded walk in the debugger at Calico's DROP.
    await page.getByTestId('whatif-decider-a').click();
    await page.locator('.dbg-body').waitFor();
    await seeValue(() => page.getByTestId('whatif-view').isVisible(), false);
    await seeText(loc(page, 'step-current'), new RegExp(`^minikube › FORWARD › filter › ${TW}\\n.*Drop if no policies passed packet.*\\n {2}matched → DROP`));
    // Compare again, then Back to the single view.
    await page.getByTestId('whatif-toggle').click();
    await page.getByTestId('whatif-view').waitFor();
    await page.getByTestId('whatif-back').click();
    await page.locator('.dbg-body').waitFor();
    await page.getByTestId('whatif-toggle').click();
    await page.getByTestId('whatif-view').waitFor();

    // With the comparison open, the lab changing replays by itself: the deletion undone (the
    // editor's Undo), the policy is back and so is the same walk.
    await page.getByTestId('undo').click();
    await page.getByTestId('whatif-divergence').filter({ hasText: 'The walks are the same' }).waitFor({ timeout: 10_000 });
    await seeText(loc(page, 'whatif-outcome-b'), /dropped/);
    await seeValue(() => page.locator('[data-testid=whatif-row].first').count(), 0);

    // A new trace from the form shows in the single view; the fork stays.
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.locator('.dbg-body').waitFor();
    await seeValue(() => page.getByTestId('whatif-view').isVisible(), false);
    await seeValue(() => page.getByTestId('whatif-bar').isVisible(), true);
    await page.getByTestId('whatif-toggle').click();
    await page.getByTestId('whatif-view').waitFor();

    // × ends the fork: the single view is back, the bar gone.
    await page.getByTestId('whatif-end').click();
    await page.locator('.dbg-body').waitFor();
    await seeValue(() => page.getByTestId('whatif-bar').isVisible(), false);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('replays from the host of the forked step: a change on a host passed before it stays out of the request\'s way', shot(async (page) => {
    // client → minikube-m02:30080 (externalTrafficPolicy: Cluster) goes on to the pod on minikube.
    await page.goto(`${suite.app.url}#/lab/np2`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    await page.getByTestId('open-stepper').click();
    await page.getByTestId('trace-from').fill('client');
    await page.getByTestId('trace-to').fill('minikube-m02:30080');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.getByTestId('step-title').filter({ hasText: 'trace client → minikube-m02:30080' }).waitFor();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    await seeText(page.getByTestId('step-outcome'), /delivered/);
    // Stepped to where the packet reaches minikube (Next hop), forked there.
    await page.locator('[data-testid=step-current]').click();
    for (let k = 0; k < 10 && !/^minikube › /.test(await text(page, 'step-current')); k++) await page.getByTestId('step-hop').click();
    await seeText(loc(page, 'step-current'), /^minikube › PREROUTING › /);
    const step = Number(await page.getByTestId('step-pos').getAttribute('data-step'));
    await page.getByTestId('whatif-fork').click();
    await seeText(loc(page, 'whatif-info'), new RegExp(`^forked at step ${step} of trace client → minikube-m02:30080; .* from minikube \\(the lab as it was before it, as it is from there on\\)\\.$`));

    // minikube-m02 now drops what it forwards: traced afresh, the request would die there.
    await openNodeConsole(page, 'minikube-m02');
    await consoleRun(page, 'iptables -I FORWARD -p tcp -j DROP');
    await page.getByTestId('whatif-changes').filter({ hasText: 'The lab changed 1 time since.' }).waitFor();
    await page.getByTestId('whatif-replay').click();
    await page.getByTestId('whatif-view').waitFor();
    await seeText(loc(page, 'whatif-head-b'), /^After: replayed on the changed lab from minikube/);
    // The request passed minikube-m02 as it was and is delivered; its reply meets the DROP there.
    await seeText(loc(page, 'whatif-outcome-b'), /delivered — delivered to default\/nginx-deployment-/);
    await seeText(loc(page, 'whatif-divergence'), /First divergence: before step \d+ \(minikube-m02 › filter › FORWARD rule 1\), after step \d+ \(minikube-m02 › filter › FORWARD rule 1\)/);
    const firstB = page.locator('[data-testid=whatif-row].first [data-testid=whatif-cell-b]');
    assert.match((await firstB.textContent()) ?? '', /^\d+\. FORWARD 1: -p tcp -j DROP {2}⇒ DROP$/);
    await seeText(loc(page, 'whatif-where'), ` — from the forked step (${step}) on: up to it the replay is the recorded walk`);
    assert.deepEqual(suite.b.errors, []);
  }));
});
