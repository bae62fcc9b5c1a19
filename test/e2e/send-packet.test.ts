// End-to-end: a trace started from the canvas. Right-click the frontend pod → "Send packet from
// here…", click the backend Service: the debugger opens with its form filled in (the pod, the
// Service's name and port) and the walk traced to a backend pod; the form then traces again from
// another source port. Esc cancels a send.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, openLab, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
type Cy = import('cytoscape').Core;

/** The page position of a canvas element's centre. */
async function at(page: Page, id: string): Promise<{ x: number; y: number }> {
  const p = await page.evaluate((el) => {
    const cy = (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
    cy.fit(undefined, 60);
    const n = cy.getElementById(el);
    if (n.empty()) throw new Error(`no element ${el}`);
    return n.renderedPosition();
  }, id);
  const box = await page.getByTestId('canvas').boundingBox();
  assert.ok(box);
  return { x: box.x + p.x, y: box.y + p.y };
}

describe('sending a packet from the canvas', { skip, timeout: 120_000 }, () => {
  let frontend = '';
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'send', { proxy: 'current' });
    frontend = api.view('send').cluster!.pods.find((p) => p.name.startsWith('frontend'))!.name;
  });

  it('right-click a pod, Send packet from here…, click a Service: the debugger traces it', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'send', `p:default/${frontend}`);
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    const pod = await at(page, `p:default/${frontend}`);

    // Esc cancels a send begun.
    await page.mouse.click(pod.x, pod.y, { button: 'right' });
    await page.getByTestId('menu-send').click();
    await page.getByTestId('send-hint').filter({ hasText: `Sending from ${frontend}` }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('send-hint').waitFor({ state: 'hidden' });
    await seeValue(() => page.getByTestId('stepper').isVisible(), false);

    // Then the send itself.
    await page.mouse.click(pod.x, pod.y, { button: 'right' });
    await page.getByTestId('menu-send').click();
    const svc = await at(page, 's:default/backend');
    await page.mouse.click(svc.x, svc.y);
    await page.getByTestId('stepper').waitFor();
    await page.getByTestId('step-title').filter({ hasText: `trace pod/default/${frontend} → backend.default:80` }).waitFor();
    assert.equal(await page.getByTestId('trace-from').inputValue(), `pod/default/${frontend}`);
    assert.equal(await page.getByTestId('trace-to').inputValue(), 'backend.default:80');
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /delivered/);
    await seeValue(() => page.getByTestId('send-hint').isVisible(), false);

    // The form traces again from another source port.
    await page.getByTestId('trace-sport').fill('12345');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.getByTestId('step-outcome').filter({ hasText: /:12345 → 10\.[0-9.]+:80\s+delivered/ }).waitFor();
    // A first segment with other flags: a plain ACK, picked up by conntrack, answered with a RST.
    await page.getByTestId('trace-flags').selectOption('ACK');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    // (the SYN's walk on show has a delivered reply too: wait for the ACK's own first step)
    await page.getByTestId('pkt-flags').filter({ hasText: /^ACK$/ }).waitFor();
    await page.getByTestId('step-reply').filter({ hasText: /^reply: delivered/ }).waitFor();
    assert.equal(await page.getByTestId('step-later').isDisabled(), true, 'no later packet of a segment out of nowhere');
    // Its answer, at the end of the walk: the listener's RST.
    await page.getByTestId('step-end').click();
    await page.getByTestId('pkt-flags').filter({ hasText: /^RST$/ }).waitFor();
    await page.getByTestId('trace-flags').selectOption('SYN');
    await page.getByTestId('trace-proto').selectOption('udp');
    await seeValue(() => page.getByTestId('trace-flags').isVisible(), false, 'flags are for tcp');
    await page.getByTestId('trace-proto').selectOption('tcp');

    // A port out of range is refused by the form itself: nothing is traced.
    const before = await page.getByTestId('step-outcome').textContent();
    await page.getByTestId('trace-sport').fill('70000');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    assert.equal(await page.getByTestId('trace-sport').evaluate((el) => (el as HTMLInputElement).checkValidity()), false);
    assert.equal(await page.getByTestId('step-outcome').textContent(), before);
  }));
});
