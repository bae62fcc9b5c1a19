// End-to-end: the debugger's conntrack view and a connection's later packets. A trace frontend →
// backend (example 'network-policy') continued to its end shows, on the client's ACK, the entry
// it found as `conntrack -L` listed it (ESTABLISHED) and the node's table as the lab holds it now
// (the trace itself undone: its connection is not in it). "Next packet ▸" traces the
// connection's next packet: its title says which packet, its conntrack lookups find the entry
// ESTABLISHED, and the server's ACK comes back; and the one after it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, openLab, traceFromForm, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('the debugger shows conntrack entries and traces later packets', { skip, timeout: 120_000 }, () => {
  let frontend = '';
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'later', { proxy: 'current' });
    frontend = api.view('later').cluster!.pods.find((p) => p.name.startsWith('frontend'))!.name;
  });
  const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId('stepper').getByTestId(id).textContent()) ?? '';
  const loc = (page: Page, id: string) => page.getByTestId('stepper').getByTestId(id);

  it('the ACK finds the entry ESTABLISHED; Next packet ▸ walks packet 2 through it', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'later', `p:default/${frontend}`);
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();
    await page.getByTestId('open-stepper').click();
    assert.equal(await page.getByTestId('step-later').isDisabled(), true, 'nothing traced yet');
    await traceFromForm(page, `pod/default/${frontend}`, 'backend:80');
    await seeText(loc(page, 'step-outcome'), /delivered/);

    // To the end: the client's ACK on minikube, which found the handshake's entry.
    await page.getByTestId('step-end').click();
    await page.getByTestId('dbg-ct-entry').filter({ hasText: / ESTABLISHED / }).waitFor({ timeout: 5000 });
    await seeText(loc(page, 'dbg-ct-entry'), /^tcp {6}6 \d+ ESTABLISHED src=10\.88\.0\.24 dst=10\.\d+\.\d+\.\d+ sport=40000 dport=80 src=10\.88\.0\.\d+ dst=10\.88\.0\.24 sport=80 dport=40000 \[ASSURED\] mark=0 use=1$/);
    await page.getByTestId('dbg-ct-table').waitFor({ timeout: 10_000 });
    await seeValue(() => page.locator('[data-testid=dbg-ct-table] .here').count(), 0, 'the trace was undone: its connection is not in the table');

    // The connection's next packet.
    assert.equal(await page.getByTestId('step-later').isDisabled(), false);
    await page.getByTestId('step-later').click();
    await page.getByTestId('step-title').filter({ hasText: `trace pod/default/${frontend} → backend:80, packet 2` }).waitFor();
    await seeText(page.getByTestId('step-outcome'), /^tcp 10\.88\.0\.24:40000 → 10\.\d+\.\d+\.\d+:80\s+delivered/);
    // Step until its first conntrack lookup: found ESTABLISHED, in the original direction.
    await page.locator('[data-testid=step-current]').click();
    for (let k = 0; k < 60 && !/ESTABLISHED/.test(await text(page, 'dbg-conntrack')); k++) await page.keyboard.press('F11');
    await seeText(loc(page, 'dbg-conntrack'), /^conntrack: minikube: ESTABLISHED \(original direction, entry \d+\)$/);
    await seeText(loc(page, 'dbg-ct-entry'), / ESTABLISHED src=10\.88\.0\.24 .* \[ASSURED\] /);
    // The server's ACK comes back.
    await seeText(loc(page, 'step-reply'), /^reply: delivered/);
    assert.equal(await page.getByTestId('step-later').isDisabled(), false, 'and the one after it');
    await page.getByTestId('step-later').click();
    await page.getByTestId('step-title').filter({ hasText: ', packet 3' }).waitFor();
    assert.deepEqual(suite.b.errors, []);
  }));
});
