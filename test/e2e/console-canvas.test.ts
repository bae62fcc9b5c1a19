// End-to-end: a change made in a console shows at once on the canvas and in the inspector, and
// a change made in the inspector shows in the console. In a cluster lab with a Deployment of one
// replica: `kubectl scale` typed in minikube's console adds a pod to the canvas and to the
// Deployment's inspector; the inspector's Replicas field set back to 1 and applied removes it,
// which `kubectl get pods` in the console then says.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleRun, consoleText, openLab } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
type Cy = import('cytoscape').Core;

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}
`;

/** The canvas's pods of the Deployment web. */
const webPods = (page: Page): Promise<string[]> =>
  page.evaluate(() => (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.nodes('[kind = "pod"]').map((n) => n.data('name') as string).filter((n) => n.startsWith('web-')).sort());

describe('consoles and the canvas follow each other', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('sync', { cluster: true });
    api.apply('sync', WEB);
  });

  it('kubectl scale in a console adds a pod to the canvas and the inspector; the inspector scales back, the console sees it', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'sync', 'n:minikube');
    await page.getByTestId('open-console').click();
    await page.getByTestId('console-tab-minikube').waitFor();
    assert.equal((await webPods(page)).length, 1);

    await consoleRun(page, 'kubectl scale deployment web --replicas=2');
    assert.match(await consoleText(page), /deployment\.apps\/web scaled\n/);
    await page.waitForFunction(() => (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.nodes('[kind = "pod"]').filter((n) => (n.data('name') as string).startsWith('web-')).length === 2, undefined, { timeout: 10_000 });
    const two = await webPods(page);

    // The Deployment's inspector says 2 replicas and lists both pods.
    await page.evaluate(() => {
      const cy = (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      cy.elements().unselect();
      cy.getElementById('d:default/web').select();
    });
    await page.getByTestId('replicas').waitFor();
    assert.equal(await page.getByTestId('replicas').inputValue(), '2');
    const inspector = (await page.locator('.inspector').textContent()) ?? '';
    for (const p of two) assert.ok(inspector.includes(p), `${p} in the inspector`);

    // Back to 1 from the inspector: the canvas and the console follow.
    await page.getByTestId('replicas').fill('1');
    await page.locator('.inspector button.primary').first().click();
    await page.waitForFunction(() => (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy.nodes('[kind = "pod"]').filter((n) => (n.data('name') as string).startsWith('web-')).length === 1, undefined, { timeout: 10_000 });
    const left = await webPods(page);
    await page.getByTestId('console-tab-minikube').click();
    await consoleRun(page, 'kubectl get pods -o name');
    const after = (await consoleText(page)).split('kubectl get pods -o name\n').at(-1)!;
    const listed = after.split('\n').filter((l) => l.startsWith('pod/web-')).map((l) => l.slice(4));
    assert.deepEqual(listed, left);
    assert.deepEqual(suite.b.errors, []);
  }));
});
