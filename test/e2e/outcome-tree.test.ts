// End-to-end: the debugger's all-outcomes view as a tree of random choices. A Service with three
// endpoints traced with "all outcomes": kube-proxy's first statistic rule matched (one endpoint)
// or missed, then its second matched or missed (the other two) — each branch with its share;
// choosing the deepest one replays that walk (its DNAT to that endpoint).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, openLab, traceFromForm, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('the all-outcomes tree', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('tree', { cluster: true, nodes: 2 });
    api.apply('tree', [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}',
    ].join('\n---\n'));
  });

  it('lists the branches as a tree of the statistic rules\' draws, and replays the one chosen', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'tree', 'n:minikube');
    await page.getByTestId('open-stepper').click();
    await page.getByTestId('trace-all').check();
    await traceFromForm(page, 'minikube', 'web:80');
    const pane = page.getByTestId('dbg-outcomes');
    await pane.getByTestId('dbg-outcome').nth(2).waitFor();
    await seeValue(() => pane.getByTestId('dbg-outcome').count(), 3);
    // Two levels: rule 1 matched / missed; under "missed", rule 2 matched / missed.
    const top = pane.locator(':scope > .dbg-pane-body > [data-testid=dbg-branch]');
    await seeValue(() => top.count(), 2);
    const heads = await pane.locator('.dbg-branch-head').allTextContents();
    assert.deepEqual(heads.map((t) => t.replace(/KUBE-SVC-[A-Z0-9]{16}/, 'KUBE-SVC').replace(/ on minikube$/, '')), [
      '33% KUBE-SVC rule 1 (p=0.333) matched',
      '67% KUBE-SVC rule 1 (p=0.333) missed',
      '33% KUBE-SVC rule 2 (p=0.500) matched',
      '33% KUBE-SVC rule 2 (p=0.500) missed',
    ]);
    const deepest = top.nth(1).locator('[data-testid=dbg-branch]').nth(1).getByTestId('dbg-outcome');
    const dnat = /DNAT (\S+);/.exec((await deepest.textContent()) ?? '')?.[1];
    assert.ok(dnat, 'the branch names its endpoint');
    await deepest.click();
    await pane.locator('[data-testid=dbg-outcome].current').filter({ hasText: `DNAT ${dnat}` }).waitFor();
    await seeText(page.getByTestId('step-outcome'), /delivered/);
    assert.deepEqual(suite.b.errors, []);
  }));
});
