// End-to-end: the article's NetworkPolicy scene typed into a pod's console. In the lab built from
// the example 'network-policy' (legacy layout) with allow-db-access applied, the console of the
// frontend pod (opened from the inspector) runs `curl db`: it prints curl's timeout (exit 7,
// "Connection timed out") and the packet debugger opens on the command's packets, showing the
// TCP SYN (after the DNS queries), whose walk says it was dropped by Calico's rule in db's
// cali-tw chain on minikube; the deciding rule takes the debugger to that rule's DROP. `curl backend` from the same console prints
// backend's pod name and its SYN's walk is delivered to the backend pod.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleLine, consoleRun, consoleText, openLab, seeValue, seeText } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
const FRONTEND = 'frontend-8b474f47-zdqdv';
const BACKEND = 'backend-867fd6dff-mjf92';
const DB = 'db-8d66ff5f7-bp6kf';
const HOST = `default/${FRONTEND}`;
const TW = 'cali-tw-cali95aa86cbb2a';
const PROMPT = `root@${FRONTEND}:/# `;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('curl db from the frontend pod’s console is dropped by the NetworkPolicy', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'np', { proxy: 'legacy' });
    // The walkthrough's step 3: the policy allow-db-access applied.
    const run = api.runStep('np', 2);
    assert.equal(run.action.kind, 'apply');
    assert.match(run.output?.stdout ?? '', /networkpolicy\.networking\.k8s\.io\/allow-db-access created/);
  });
  const { shot } = suite;
  const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId('stepper').getByTestId(id).textContent()) ?? '';
  const loc = (page: Page, id: string) => page.getByTestId('stepper').getByTestId(id);
  /** Waits until the debugger shows the walks of the console line `line`, opened on the TCP packet's. */
  async function tcpWalk(page: Page, line: string, outcome: string): Promise<void> {
    const stepper = page.getByTestId('stepper');
    await stepper.waitFor({ timeout: 10_000 });
    await stepper.getByTestId('step-title').filter({ hasText: new RegExp(`^${esc(line)}$`) }).waitFor({ timeout: 10_000 });
    // The command's packets: the DNS queries for the Service's name (to CoreDNS), then the SYN.
    const packets = await stepper.getByTestId('step-packet').locator('option').allTextContents();
    assert.deepEqual(packets, ['packet 1 (delivered)', 'packet 2 (delivered)', `packet 3 (${outcome})`]);
    // It opens on the command's own packet, not on the DNS queries before it.
    assert.equal(await stepper.getByTestId('step-packet').inputValue(), '2');
    await stepper.getByTestId('step-outcome').filter({ hasText: /^tcp / }).waitFor({ timeout: 5000 });
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor({ timeout: 5000 });
  }

  it('prints curl’s timeout, and the debugger shows the SYN dropped in db’s cali-tw chain; curl backend is delivered', shot(async (page) => {
    await openLab(page, suite.app.url, 'np', `p:${HOST}`);
    // The example's guide opens beside the canvas: closed, for room (it has step titles of its own).
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    await page.getByTestId('open-console').click();
    await page.getByTestId(`console-tab-${HOST}`).waitFor();
    assert.equal((await consoleLine(page)).prompt, PROMPT);
    await seeValue(() => page.getByTestId('stepper').isVisible(), false, 'no debugger before a packet is sent');

    // curl db: what curl prints when the SYN gets no answer, then the prompt again.
    await consoleRun(page, 'curl db');
    assert.match(await consoleText(page, HOST), new RegExp(`${esc(PROMPT)}curl db\\ncurl: \\(7\\) Failed to connect to db port 80: Connection timed out\\n${esc(PROMPT.trimEnd())}$`));
    assert.equal(suite.service.consoleHistory('np', HOST).at(-1), 'curl db');

    // The debugger opened on its packets; the SYN to db's ClusterIP, DNATed to db's pod, dropped at db.
    await tcpWalk(page, 'curl db', 'dropped');
    await seeText(loc(page, 'step-outcome'), /^tcp 10\.88\.0\.24:\d+ → 10\.106\.125\.191:80\s+dropped — dropped by rule 7 of filter cali-tw-cali95aa86cbb2a on minikube$/);
    const first = await text(page, 'step-current');
    assert.match(first, /^minikube › PREROUTING › raw › PREROUTING\n/);
    // The deciding rule: Calico's DROP at the end of db's workload chain (to-workload, ingress).
    await page.getByTestId('step-decider').click();
    await page.waitForFunction((tw) => (document.querySelector('[data-testid=step-current]')?.textContent ?? '').startsWith(`minikube › FORWARD › filter › ${tw}\n`), TW, { timeout: 5000 });
    const decided = await text(page, 'step-current');
    assert.match(decided, new RegExp(`^minikube › FORWARD › filter › ${TW}\\n.*Drop if no policies passed packet.*\\n {2}matched → DROP$`, 's'));
    const at = Number(await page.getByTestId('step-pos').getAttribute('data-step'));
    assert.ok(at > 1, `the deciding rule is step ${at}`);
    assert.match((await page.locator('.step-list .step.current').textContent()) ?? '', new RegExp(`^${at}\\. `));
    // It is the walk's last step: nothing after the DROP.
    assert.equal(await page.getByTestId('step-next').isDisabled(), true);
    await seeText(loc(page, 'step-pos'), new RegExp(`^step ${at} / ${at}$`));

    // curl backend from the same console: backend's pod answers, and its SYN is delivered.
    await consoleRun(page, 'curl backend');
    assert.match(await consoleText(page, HOST), new RegExp(`${esc(PROMPT)}curl backend\\n${BACKEND}\\n${esc(PROMPT.trimEnd())}$`));
    await tcpWalk(page, 'curl backend', 'delivered');
    await seeText(loc(page, 'step-outcome'), /^tcp 10\.88\.0\.24:\d+ → 10\.101\.37\.97:80\s+delivered — delivered to default\/backend-867fd6dff-mjf92 10\.88\.0\.27:80$/);
    await seeText(loc(page, 'step-reply'), /^reply: delivered/);
    assert.doesNotMatch(await text(page, 'step-outcome'), new RegExp(DB));
    assert.deepEqual(suite.b.errors, []);
  }));
});
