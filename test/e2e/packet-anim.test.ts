// The packet's dot on the canvas (renderer/packet-anim.ts): in the traffic-policy example (ETP
// Cluster, legacy proxy), a trace client → minikube-m02:30080 hops from minikube-m02 to the pod's
// node minikube. Stepped with F11, the dot rests on minikube-m02, flies to minikube at the hop
// (seen between the two) and rests centred on it; it follows pan and zoom; with reduced motion it
// jumps; it is no graph element; a new trace keeps one dot; closing the debugger removes it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, cspViolations, traceFromForm, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
type Cy = import('cytoscape').Core;
interface Sample { host: string; moving: boolean; x: number; y: number }

/** The dot's centre against its host's rendered position (container pixels), or null without a dot. */
async function dotOffset(page: Page): Promise<{ host: string; dx: number; dy: number; visible: boolean } | null> {
  return page.evaluate(() => {
    const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
    const dot = document.querySelector<HTMLElement>('[data-testid=packet-dot]');
    if (!dot) return null;
    const host = dot.dataset.host ?? '';
    const n = ['n:', 'p:', 'h:'].map((p) => cy.getElementById(p + host)).find((x) => x.nonempty());
    if (!n) throw new Error(`no canvas element for ${host}`);
    const rp = n.renderedPosition();
    const box = cy.container()!.getBoundingClientRect();
    const r = dot.getBoundingClientRect();
    return { host, dx: r.left + r.width / 2 - box.left - rp.x, dy: r.top + r.height / 2 - box.top - rp.y, visible: r.width > 0 && getComputedStyle(dot).display !== 'none' };
  });
}

async function assertCentred(page: Page, host: string): Promise<void> {
  await page.locator(`[data-testid=packet-dot][data-host="${host}"]:not([data-moving])`).waitFor({ timeout: 5000 });
  // A frame more: the dot is drawn on the frame after the step.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const o = await dotOffset(page);
  assert.ok(o?.visible, `the dot is shown on ${host}`);
  assert.equal(o.host, host);
  assert.ok(Math.abs(o.dx) <= 6 && Math.abs(o.dy) <= 6, `the dot is centred on ${host}: off by ${o.dx.toFixed(1)}, ${o.dy.toFixed(1)}`);
}

describe('the packet debugger moves a dot along the path', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    new LabApiImpl(service).createExample('traffic-policy', 'tp', { proxy: 'legacy' });
  });
  const pos = async (page: Page): Promise<number> => Number(await page.getByTestId('step-pos').getAttribute('data-step'));
  const stepHost = async (page: Page): Promise<string> => (await page.getByTestId('step-current').getAttribute('data-host')) ?? '';
  async function press(page: Page, key: string): Promise<void> {
    const was = await pos(page);
    await page.keyboard.press(key);
    await page.waitForFunction((w) => document.querySelector('[data-testid=step-pos]')?.getAttribute('data-step') !== String(w), was);
  }
  /** Presses `key` until the step's host changes; returns the new host. */
  async function toNextHost(page: Page, key: string): Promise<string> {
    const was = await stepHost(page);
    for (let guard = 0; guard < 1000; guard++) {
      await press(page, key);
      const now = await stepHost(page);
      if (now !== was) return now;
    }
    throw new Error(`the walk never left ${was}`);
  }
  /** Starts recording the dot at every change of it (read with `samples`). */
  const record = (page: Page): Promise<void> => page.evaluate(() => {
    // (No named functions here: tsx's keepNames would wrap them in a helper the page lacks.)
    const g = window as unknown as { __dot: Sample[]; __dotWatch?: MutationObserver };
    g.__dot = [];
    g.__dotWatch?.disconnect();
    const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
    g.__dotWatch = new MutationObserver(() => {
      const dot = document.querySelector<HTMLElement>('[data-testid=packet-dot]');
      if (!dot || dot.style.display === 'none') return;
      const box = cy.container()!.getBoundingClientRect();
      const r = dot.getBoundingClientRect();
      g.__dot.push({ host: dot.dataset.host ?? '', moving: dot.dataset.moving !== undefined, x: r.left + r.width / 2 - box.left, y: r.top + r.height / 2 - box.top });
    });
    g.__dotWatch.observe(cy.container()!, { subtree: true, attributes: true, attributeFilter: ['style', 'data-host', 'data-moving'] });
  });
  const samples = (page: Page): Promise<Sample[]> => page.evaluate(() => (window as unknown as { __dot: Sample[] }).__dot);
  const rendered = (page: Page, id: string): Promise<{ x: number; y: number }> =>
    page.evaluate((i) => (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.getElementById(i).renderedPosition(), id);

  it('flies from host to host, follows the viewport and goes with the debugger', suite.shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/tp`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    const count = (): Promise<number> => page.evaluate(() => (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.elements().length);
    const elements = await count();

    await page.getByTestId('open-stepper').click();
    await traceFromForm(page, 'client', 'minikube-m02:30080');
    await page.getByTestId('step-current').click();
    // The dock leaves a strip of canvas: the two nodes fitted in it.
    await page.evaluate(() => {
      const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      cy.fit(cy.getElementById('n:minikube').union(cy.getElementById('n:minikube-m02')), 20);
    });
    assert.equal(await stepHost(page), 'minikube-m02');
    // At rest on the first step's host.
    await assertCentred(page, 'minikube-m02');

    // Stepped by hand to the hop: the dot flies (seen between the two hosts), then rests on minikube.
    await record(page);
    const from = await rendered(page, 'n:minikube-m02');
    const next = await toNextHost(page, 'F11');
    assert.equal(next, 'minikube');
    await page.getByTestId('packet-dot').waitFor({ state: 'visible' });
    await assertCentred(page, 'minikube');
    const to = await rendered(page, 'n:minikube');
    const between = (await samples(page)).filter((s) => s.host === 'minikube' && s.moving &&
      Math.hypot(s.x - from.x, s.y - from.y) > 6 && Math.hypot(s.x - to.x, s.y - to.y) > 6);
    assert.ok(between.length >= 2, `the dot was seen in flight ${between.length} times`);
    // On along minikube's steps: it stays put.
    await press(page, 'F11');
    if ((await stepHost(page)) === 'minikube') await assertCentred(page, 'minikube');

    // Pan and zoom: it stays on its host.
    await page.evaluate(() => {
      const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: 200, y: 150 } });
      cy.panBy({ x: 35, y: -20 });
    });
    await assertCentred(page, await stepHost(page));
    // Never a graph element: the canvas counts what it did.
    assert.equal(await count(), elements);
    assert.equal(await page.evaluate(() => (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.elements('.packet-dot').length), 0);

    // Reduced motion: back over the hop, the dot jumps. (The two nodes fitted again first: the
    // zoom above may have left minikube-m02 outside the strip of canvas, where the dot hides.)
    await page.evaluate(() => {
      const cy = (window as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      cy.fit(cy.getElementById('n:minikube').union(cy.getElementById('n:minikube-m02')), 20);
    });
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await record(page);
    let back = await stepHost(page);
    while (back !== 'minikube-m02') back = await toNextHost(page, 'Shift+F10');
    await assertCentred(page, 'minikube-m02');
    assert.deepEqual((await samples(page)).filter((s) => s.host === 'minikube-m02' && s.moving), [], 'no flight');
    await page.emulateMedia({ reducedMotion: 'no-preference' });

    // A new trace: one dot, on its first host.
    await traceFromForm(page, 'client', 'minikube:30080');
    await assertCentred(page, 'minikube');
    await seeValue(() => page.getByTestId('packet-dot').count(), 1);

    // Closing the debugger removes it.
    await page.locator('[data-testid=stepper] button[title="Close the debugger"]').click();
    await page.getByTestId('packet-dot').waitFor({ state: 'detached', timeout: 5000 });
    await seeValue(() => page.getByTestId('packet-dot').count(), 0);

    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(suite.b.errors, []);
  }));
});
