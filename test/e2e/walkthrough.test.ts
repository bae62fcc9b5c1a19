// End-to-end: examples, walkthroughs and exercises in browser mode. (a) The Pod-to-Pod example
// opened from the start page: every walkthrough step run by its button (the console for
// commands, the stepper for traces) ends marked done, in English and in Korean. (b) Its exercise:
// Check fails, the fix typed into minikube's console, Check passes; the solution revealed and
// applied on another copy. (c) Authoring: console lines recorded, reordered, one removed, a title edited, saved,
// the page reloaded: the walkthrough is there, and in the store. (d) network-policy's steps (pod
// consoles, an apply, a trace). (e) A show step and a trace step's stepTo. Also takes a picture of
// the panel beside the canvas (KPL_DOCS=1: docs/walkthrough.png).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, ROOT, appSuite, consoleRun, consoleText, consoleWaitFor, openNodeConsole, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('walkthroughs and exercises', { skip, timeout: 120_000 }, () => {
  const suite = appSuite();
  const { shot } = suite;

  const editorReady = (page: Page): Promise<unknown> =>
    page.waitForFunction(() => ((window as unknown as { kplEditor?: { refreshed: number } }).kplEditor?.refreshed ?? 0) > 0);

  /** Opens an example from the start page; resolves with the new lab's name. */
  async function openExample(page: Page, name: string, layout?: string): Promise<string> {
    await page.goto(suite.app.url);
    const card = page.locator(`[data-testid=example][data-example="${name}"]`);
    await card.waitFor();
    if (layout) await card.getByTestId('example-layout').selectOption(layout);
    await card.getByTestId(`example-open-${name}`).click();
    await page.waitForURL(/#\/lab\/.+\?guide$/);
    await editorReady(page);
    await page.getByTestId('guide').waitFor();
    return decodeURIComponent(/#\/lab\/([^?]+)/.exec(page.url())![1]);
  }

  /**
   * The panel beside the canvas, two steps done, the third next: into test-results/, or with
   * KPL_DOCS=1 into docs/walkthrough.png (the README's picture).
   */
  async function docsScreenshot(page: Page): Promise<void> {
    await page.evaluate(() => {
      (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.fit(undefined, 30);
      document.querySelector('[data-testid=guide-body]')?.scrollTo(0, 0);
    });
    await page.waitForTimeout(300);
    const dir = join(ROOT, process.env.KPL_DOCS === '1' ? 'docs' : 'test-results');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'walkthrough.png') });
  }

  const step = (page: Page, i: number) => page.locator(`[data-testid=guide-step][data-index="${i}"]`);

  /** Types a line into the active console and waits until it has run. */
  const typeLine = consoleRun;

  it('(a) opens Pod to Pod from the start page and runs every step to done', shot(async (page) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(suite.app.url);
    // The examples: titles, Korean titles, a layout choice where two are offered.
    const card = page.locator('[data-testid=example][data-example="pod-to-pod"]');
    await seeText(card, /Pod to Pod, on one node and across nodes/);
    assert.match((await card.textContent()) ?? '', /Pod - Pod 통신/);
    assert.deepEqual(await card.getByTestId('example-layout').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['legacy', 'current']);

    const lab = await openExample(page, 'pod-to-pod', 'current');
    assert.equal(lab, 'pod-to-pod');
    assert.equal((suite.service.doc(lab) as unknown as { cluster: { proxy: string } }).cluster.proxy, 'current');
    await page.getByTestId('guide-title').filter({ hasText: 'Pod to Pod: routes, no NAT' }).waitFor();
    const n = await page.getByTestId('guide-step').count();
    assert.equal(n, 5);

    for (let i = 0; i < n; i++) {
      const s = step(page, i);
      const kind = (await s.locator('.gs-what').textContent()) ?? '';
      await s.getByTestId('step-action').click();
      await page.locator(`[data-testid=guide-step][data-index="${i}"][data-state=done]`).waitFor({ timeout: 20_000 }).catch(async (e: unknown) => {
        const detail = await s.getByTestId('step-detail').textContent().catch(() => '');
        throw new Error(`step ${i + 1} (${kind}) not done: ${detail}\n${String(e)}`);
      });
      assert.equal(await s.getByTestId('step-status').textContent(), '✓');
      if (kind.startsWith('minikube$')) {
        // A command step ran in minikube's console, where the user sees its output.
        const command = kind.replace(/^minikube\$ /, '');
        await consoleWaitFor(page, `root@minikube:/# ${command}`, 'minikube');
        if (i === 1) await docsScreenshot(page);
      } else if (kind.startsWith('trace')) {
        // A trace step runs in the stepper.
        await page.getByTestId('step-title').filter({ hasText: /^trace pod\/default\/client → / }).waitFor();
        await seeText(page.getByTestId('step-outcome'), /delivered/);
      }
    }
    await seeValue(() => page.getByTestId('guide-progress').getAttribute('data-done'), '5');
    assert.match(await consoleText(page, 'minikube'), /10\.244\.205\.130/);
    // The lab changed as the steps said: web-a is gone.
    assert.ok(!suite.service.exec(lab, 'minikube', ['kubectl', 'get', 'pods'], '').stdout.includes('web-a'));

    // In Korean: the steps' own Korean text.
    await page.getByTestId('guide-lang').click();
    await page.locator('[data-testid=guide-lang][data-lang=ko]').waitFor();
    await page.getByTestId('guide-title').filter({ hasText: 'Pod - Pod 통신: 라우팅, NAT 없음' }).waitFor();
    assert.equal(await step(page, 0).getByTestId('step-title').textContent(), 'Pod와 IP');
    assert.equal(await step(page, 0).getByTestId('step-action').textContent(), '콘솔에서 실행');
    await page.getByTestId('guide-lang').click();
    assert.equal(await step(page, 0).getByTestId('step-title').textContent(), 'The pods and their addresses');

    assert.deepEqual(suite.b.errors, []);
  }));

  it('(b) an exercise: Check fails, the fix in the console, Check passes; the solution applied', shot(async (page) => {
    const lab = await openExample(page, 'pod-to-pod');
    assert.equal(lab, 'pod-to-pod (2)');
    await page.getByTestId('guide-tab-exercises').click();
    const ex = page.getByTestId('exercise').first();
    await ex.locator('h3', { hasText: 'Cut the tunnel' }).waitFor();
    await ex.getByTestId('exercise-check').click();
    await ex.locator('[data-testid=exercise-result][data-state=failed]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await ex.getByTestId('exercise-check-row').evaluateAll((ls) => ls.map((l) => (l as HTMLElement).dataset.pass)), ['true', 'false']);
    // Hints, one at a time.
    await ex.getByTestId('exercise-hint').click();
    await seeValue(() => ex.getByTestId('exercise-hints').locator('li').count(), 1);
    await ex.getByTestId('exercise-hint').click();
    await seeValue(() => ex.getByTestId('exercise-hints').locator('li').count(), 2);
    assert.equal(await ex.getByTestId('exercise-hint').isDisabled(), true);

    // The fix, typed into minikube's console.
    await openNodeConsole(page, 'minikube');
    await typeLine(page, 'ip route del 10.244.205.128/26');
    await ex.getByTestId('exercise-check').click();
    await ex.locator('[data-testid=exercise-result][data-state=passed]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await ex.getByTestId('exercise-check-row').evaluateAll((ls) => ls.map((l) => (l as HTMLElement).dataset.pass)), ['true', 'true']);

    // A third copy: the solution revealed and applied.
    const lab3 = await openExample(page, 'pod-to-pod');
    assert.equal(lab3, 'pod-to-pod (3)');
    await page.getByTestId('guide-tab-exercises').click();
    const ex3 = page.getByTestId('exercise').first();
    await ex3.getByTestId('exercise-reveal').click();
    assert.match((await ex3.getByTestId('exercise-solution').textContent()) ?? '', /ip route del 10\.244\.205\.128\/26/);
    await ex3.getByTestId('exercise-apply').click();
    await ex3.locator('[data-testid=exercise-result][data-state=passed]').waitFor({ timeout: 20_000 });
    assert.deepEqual(suite.b.errors, []);
  }));

  it('(d) network-policy: pod consoles, an apply step and a trace step, every step done', shot(async (page) => {
    const lab = await openExample(page, 'network-policy');
    const n = await page.getByTestId('guide-step').count();
    assert.ok(n >= 5, `${n} steps`);
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = step(page, i);
      kinds.push(((await s.locator('.gs-what').textContent()) ?? '').split(/[$ ]/)[0]);
      await s.getByTestId('step-action').click();
      await page.locator(`[data-testid=guide-step][data-index="${i}"][data-state=done]`).waitFor({ timeout: 20_000 }).catch(async (e: unknown) => {
        throw new Error(`step ${i + 1} not done: ${await s.getByTestId('step-detail').textContent().catch(() => '')}\n${String(e)}`);
      });
    }
    assert.ok(kinds.includes('kubectl'), `an apply step among ${kinds.join(', ')}`);
    assert.ok(kinds.includes('trace'), `a trace step among ${kinds.join(', ')}`);
    // The apply step applied the policy to the lab.
    assert.match(suite.service.exec(lab, 'minikube', ['kubectl', 'get', 'networkpolicy'], '').stdout, /allow-db-access/);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('(e) a show step highlights on the canvas; a trace step with stepTo stops at its rule', shot(async (page) => {
    const api = new LabApiImpl(suite.service);
    api.createLab('pointing', { cluster: true });
    api.setWalkthrough('pointing', {
      title: 'Pointing',
      steps: [
        { title: 'The node', text: 'This is minikube.', action: { kind: 'show', target: 'minikube' } },
        { title: 'To KUBE-SERVICES', text: '', action: { kind: 'trace', from: 'minikube', to: '10.96.0.1:443', stepTo: { table: 'nat', chain: 'KUBE-SERVICES' } }, expect: { kind: 'trace', outcome: 'delivered' } },
      ],
    });
    await page.goto(`${suite.app.url}#/lab/pointing`);
    await editorReady(page);
    // A lab with a walkthrough opens with its panel.
    await page.getByTestId('guide').waitFor();
    await step(page, 0).getByTestId('step-action').click();
    await page.locator('[data-testid=guide-step][data-index="0"][data-state=done]').waitFor();
    const hi = await page.evaluate(() => (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.$('.match:selected').map((n) => n.id()));
    assert.deepEqual(hi, ['n:minikube']);
    await step(page, 1).getByTestId('step-action').click();
    await page.locator('[data-testid=guide-step][data-index="1"][data-state=done]').waitFor({ timeout: 20_000 });
    assert.match((await page.getByTestId('step-current').textContent()) ?? '', /› nat › KUBE-SERVICES/);
    assert.notEqual(await page.getByTestId('step-pos').getAttribute('data-step'), '1');
    assert.deepEqual(suite.b.errors, []);
  }));

  it('(c) records two console lines as steps, edits a title, saves; the walkthrough survives a reload', shot(async (page) => {
    new LabApiImpl(suite.service).createLab('authoring', { cluster: true });
    await page.goto(`${suite.app.url}#/lab/authoring`);
    await editorReady(page);
    await page.getByTestId('open-guide').click();
    await page.getByTestId('guide').waitFor();
    await page.getByTestId('guide-record').click();
    await page.getByTestId('guide-recording').waitFor();
    await openNodeConsole(page, 'minikube');
    await typeLine(page, 'kubectl get nodes');
    await typeLine(page, 'hostname');
    await typeLine(page, 'uname -a');
    await page.locator('[data-testid=guide-step][data-index="2"]').waitFor();
    // Reordered and removed in the panel.
    const titles = (): Promise<string[]> => page.getByTestId('step-edit-title').evaluateAll((is) => is.map((i) => (i as HTMLInputElement).value));
    assert.deepEqual(await titles(), ['kubectl get nodes', 'hostname', 'uname -a']);
    await step(page, 0).getByTestId('step-down').click();
    assert.deepEqual(await titles(), ['hostname', 'kubectl get nodes', 'uname -a']);
    await step(page, 1).getByTestId('step-up').click();
    assert.deepEqual(await titles(), ['kubectl get nodes', 'hostname', 'uname -a']);
    await step(page, 2).getByTestId('step-remove').click();
    await seeValue(() => page.getByTestId('guide-step').count(), 2);
    assert.equal(await step(page, 0).getByTestId('step-edit-title').inputValue(), 'kubectl get nodes');
    await step(page, 0).getByTestId('step-edit-title').fill('List the nodes');
    await step(page, 0).getByTestId('step-edit-text').fill('kubectl shows the cluster\'s one node.');
    await page.getByTestId('guide-record').click();
    // An exercise too: its check is the stepper's trace (from, to, protocol and the outcome seen).
    await page.getByTestId('guide-tab-exercises').click();
    await page.getByTestId('exercise-new-title').fill('Reach the API');
    await page.getByTestId('exercise-new-goal').fill('minikube reaches the kubernetes Service.');
    await page.getByTestId('exercise-new-hints').fill('Look at KUBE-SERVICES\nkubectl get svc');
    await page.getByTestId('exercise-add').click();
    await page.getByTestId('open-stepper').click();
    await page.getByTestId('trace-from').fill('minikube');
    await page.getByTestId('trace-to').fill('10.96.0.1:443');
    await page.getByTestId('trace-form').locator('button[type=submit]').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    await page.getByTestId('exercise-add-trace').click();
    await page.getByTestId('exercise-edit-check').first().waitFor();
    await page.getByTestId('guide-save').click();
    await page.locator('[data-testid=guide-save][data-saved="1"]').waitFor({ state: 'attached' });
    const exs = (suite.service.doc('authoring') as unknown as { exercises?: unknown[] }).exercises;
    assert.deepEqual(exs, [{
      title: 'Reach the API', goal: 'minikube reaches the kubernetes Service.', hints: ['Look at KUBE-SERVICES', 'kubectl get svc'],
      checks: [{ name: 'minikube → 10.96.0.1:443 delivered', expect: { kind: 'trace', from: 'minikube', to: '10.96.0.1:443', proto: 'tcp', outcome: 'delivered' } }],
    }]);
    // The trace started while Record was off made no step.
    assert.equal((suite.service.doc('authoring') as unknown as { walkthrough?: { steps: unknown[] } }).walkthrough?.steps.length, 2);
    const stored = (suite.service.doc('authoring') as unknown as { walkthrough?: { steps: { title: string; action?: unknown; expect?: unknown }[] } }).walkthrough;
    assert.deepEqual(stored?.steps.map((s) => s.title), ['List the nodes', 'hostname']);
    assert.deepEqual(stored?.steps[0].action, { kind: 'command', host: 'minikube', command: 'kubectl get nodes' });
    assert.deepEqual(stored?.steps[1].expect, { kind: 'output', contains: ['minikube'] });

    await page.reload();
    await editorReady(page);
    await page.getByTestId('guide').waitFor();
    await page.locator('[data-testid=guide-step][data-index="1"]').waitFor();
    assert.equal(await step(page, 0).getByTestId('step-title').textContent(), 'List the nodes');
    assert.equal(await step(page, 1).getByTestId('step-title').textContent(), 'hostname');
    // Typing the step's command in the console counts: the current step is checked after each line.
    await openNodeConsole(page, 'minikube');
    await typeLine(page, 'kubectl get nodes');
    await page.locator('[data-testid=guide-step][data-index="0"][data-state=done]').waitFor({ timeout: 20_000 });
    // The recorded steps run and check like any other.
    await step(page, 1).getByTestId('step-action').click();
    await page.locator('[data-testid=guide-step][data-index="1"][data-state=done]').waitFor({ timeout: 20_000 });
    // The authored exercise checks too.
    await page.getByTestId('guide-tab-exercises').click();
    await page.getByTestId('exercise').first().getByTestId('exercise-check').click();
    await page.locator('[data-testid=exercise-result][data-state=passed]').waitFor({ timeout: 20_000 });
    // And both travel in the exported .kpl file.
    const kpl = JSON.parse(new LabApiImpl(suite.service).exportLab('authoring').text) as { walkthrough?: { steps: { title: string }[] }; exercises?: { title: string }[] };
    assert.deepEqual(kpl.walkthrough?.steps.map((x) => x.title), ['List the nodes', 'hostname']);
    assert.deepEqual(kpl.exercises?.map((x) => x.title), ['Reach the API']);
    assert.deepEqual(suite.b.errors, []);
  }));
});
