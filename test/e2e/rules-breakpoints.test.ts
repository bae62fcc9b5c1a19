// End-to-end: a debugger breakpoint set from the rules browser's gutter. On minikube's nat
// table, the dot of the kubernetes Service's rule in KUBE-SERVICES sets a rule breakpoint: the
// debugger's Breakpoints pane lists it, a trace minikube → 10.96.0.1:443 continued (F5) stops on
// that rule, and a second click clears it (in the pane too). Breakpoints are the debugger's: the
// dot shows them whichever side set them. The current rule shows in parts: every part passed on
// the rule stopped at; a rule that did not match shows the one part that failed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, openLab, traceFromForm, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('breakpoints from the rules browser', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    new LabApiImpl(service).createLab('bp', { cluster: true });
  });

  it('the gutter dot of a KUBE-SERVICES rule sets a breakpoint the debugger stops at, and clears it', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'bp', 'n:minikube');
    await page.getByTestId('open-rules').click();
    const rb = page.getByTestId('rules-browser');
    await page.getByTestId('rules-status').filter({ hasText: /rules in \d+ tables/ }).waitFor();
    const rule = rb.locator('section.rb-chain[data-chain=KUBE-SERVICES] .rb-rule', { hasText: 'default/kubernetes:https cluster IP', has: page.locator('a.rb-target[data-target^="KUBE-SVC-"]') });
    const num = Number(await rule.getAttribute('data-num'));
    assert.ok(num >= 1);
    const dot = rule.getByTestId('rules-bp');
    await seeValue(() => dot.getAttribute('class'), 'rb-bp');
    await dot.click();
    await rule.locator('.rb-bp.on').waitFor();
    await page.getByTestId('rules-close').click();

    // The debugger lists it and stops there.
    await page.getByTestId('open-stepper').click();
    const pane = page.getByTestId('dbg-breakpoints');
    await seeText(pane, new RegExp(`rule ${num} of nat KUBE-SERVICES on minikube|KUBE-SERVICES.*${num}`));
    await traceFromForm(page, 'minikube', '10.96.0.1:443');
    await page.locator('[data-testid=step-current]').click();
    await page.keyboard.press('F5');
    await page.getByTestId('step-current').filter({ hasText: /^minikube › OUTPUT › nat › KUBE-SERVICES\n/ }).waitFor({ timeout: 5000 });
    assert.match((await page.getByTestId('step-current').textContent()) ?? '', /default\/kubernetes:https cluster IP/);
    // The rule in parts: it matched, so every part passed.
    const hits = await page.getByTestId('step-part').evaluateAll((els) => els.map((e) => e.getAttribute('data-hit')));
    assert.ok(hits.length >= 3 && hits.every((x) => x === 'true'), hits.join());
    // Back to rules that did not match: each shows exactly the one part that failed.
    let misses = 0;
    for (let k = 0; k < 40 && misses < 3; k++) {
      await page.keyboard.press('Shift+F10');
      const marks = await page.getByTestId('step-part').evaluateAll((els) => els.map((e) => e.getAttribute('data-hit')));
      if (!(await page.getByTestId('step-current').getAttribute('class'))?.includes('miss') || !marks.length) continue;
      assert.equal(marks.filter((x) => x === 'false').length, 1, marks.join());
      misses++;
    }
    assert.ok(misses > 0, 'a missed rule on the way');

    // Cleared from the gutter, it leaves the pane.
    await page.getByTestId('open-rules').click();
    await page.getByTestId('rules-status').filter({ hasText: /rules in \d+ tables/ }).waitFor();
    await rule.locator('.rb-bp.on').waitFor();
    await rule.getByTestId('rules-bp').click();
    await rule.locator('.rb-bp:not(.on)').waitFor();
    await page.waitForFunction(() => !(document.querySelector('[data-testid=dbg-breakpoints]')?.textContent ?? '').includes('KUBE-SERVICES'));
    assert.deepEqual(suite.b.errors, []);
  }));
});
