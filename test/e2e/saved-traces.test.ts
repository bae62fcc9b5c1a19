// End-to-end: saving and sharing traces in the debugger. A trace client → server:8080 (DNATed to
// :80, then two INPUT rules that miss before the one that accepts) is saved from the debugger
// (the name offered is the next free one; the store keeps it with the seed it used), exported as
// Markdown and JSON (downloads), then, after another trace, reopened from the Saved traces list
// at step 3; the Link dialog gives the kpl:// link and the browser-mode fragment of that step;
// the page opened afresh at such a fragment shows the saved trace at the linked step (by step
// number, and by node and rule); a link to a step out of range says so. A reopened saved trace
// forks (What if…) at its step's host, as the revision it ran on was kept with it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, traceFromForm, seeText } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('saved traces in the debugger', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('demo', { seed: 5 });
    api.addLan('demo', 'lan1');
    api.addHost('demo', 'client');
    api.addHost('demo', 'server', { listen: [{ port: 80, proto: 'tcp' }] });
    api.addLink('demo', 'client', 'lan1', '10.0.1.2/24');
    api.addLink('demo', 'server', 'lan1', '10.0.1.3/24');
    for (const rule of [
      ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', ':80'],
      ['-A', 'INPUT', '-p', 'udp', '-j', 'DROP'],
      ['-A', 'INPUT', '-s', '10.0.1.9', '-j', 'DROP'],
      ['-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT'],
    ]) assert.equal(api.exec('demo', 'server', ['iptables', ...rule]).code, 0);
  });
  const { shot } = suite;

  const pos = async (page: Page): Promise<number> => Number(await page.getByTestId('step-pos').getAttribute('data-step'));
  const currentText = async (page: Page): Promise<string> => (await page.getByTestId('step-current').textContent()) ?? '';
  const traceTo = (page: Page, to: string): Promise<void> => traceFromForm(page, 'client', to);
  async function download(page: Page, testid: string): Promise<{ name: string; text: string }> {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
    const path = await d.path();
    return { name: d.suggestedFilename(), text: readFileSync(path, 'utf8') };
  }

  it('saves a trace, exports it, reopens it from the list at a step, and opens links to a step', shot(async (page) => {
    await page.goto(`${suite.app.url}#/lab/demo`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    await page.getByTestId('open-stepper').click();
    await page.locator('[data-testid=saved-list]').filter({ hasText: 'none saved yet' }).waitFor();
    await traceTo(page, '10.0.1.3:8080');
    assert.equal(await page.getByTestId('step-link').isDisabled(), true, 'no link before the trace is saved');

    // Save: the next free name is offered; the store keeps the walk with its seed.
    await page.getByTestId('step-save').click();
    assert.equal(await page.locator('#f-name').inputValue(), 'trace 1');
    await page.getByTestId('dialog-ok').click();
    await seeText(page.locator('[data-testid=saved-trace][data-name="trace 1"]'), /^trace 1 seed \d+ · just now$/);
    assert.equal(await page.getByTestId('step-save').isDisabled(), true, 'saved already');
    const stored = suite.service.traces('demo');
    assert.deepEqual(stored.map((t) => t.name), ['trace 1']);
    const report = stored[0].report as { seed: number; steps: unknown[] };
    assert.equal(stored[0].seed, report.seed);
    assert.equal(report.steps.length, 4);

    // Export: Markdown and JSON, downloaded.
    const md = await download(page, 'step-export-md');
    assert.equal(md.name, 'demo-trace_1.md');
    assert.match(md.text, /\| server \| INPUT \| filter \| INPUT \| #3 \| `-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT` \| ✔ \| ACCEPT \|/);
    const js = await download(page, 'step-export-json');
    assert.equal(js.name, 'demo-trace_1.json');
    assert.deepEqual(JSON.parse(js.text), report);

    // Another trace on show, then the saved one reopened from the list at step 3.
    await traceTo(page, '10.0.1.3:80');
    assert.equal(await page.getByTestId('step-save').isDisabled(), false);
    await page.getByTestId('saved-step').fill('3');
    await page.locator('[data-testid=saved-trace][data-name="trace 1"]').click();
    await page.getByTestId('step-title').filter({ hasText: 'saved trace "trace 1"' }).waitFor();
    await seeText(page.locator('[data-testid=step-pos][data-step="3"]'), 'step 3 / 7');
    assert.match(await currentText(page), /^server › INPUT › filter › INPUT\n {2}-A INPUT -s 10\.0\.1\.9\/32 -j DROP\n {2}no match/);
    // The packet there is already DNATed to :80.
    assert.equal(await page.getByTestId('pkt-dport').textContent(), '80');
    // Saved in the store with the revision it ran on: What if forks it at its step's host.
    await page.getByTestId('whatif-fork').click();
    assert.match((await page.getByTestId('whatif-info').textContent()) ?? '', /^forked at step 3 of saved trace "trace 1" \(seed \d+\); replays .* from server \(the lab as it was before it, as it is from there on\)\.$/);
    await page.getByTestId('whatif-end').click();
    await page.getByTestId('whatif-bar').waitFor({ state: 'hidden' });

    // The link to this step.
    await page.getByTestId('step-link').click();
    assert.equal(await page.locator('#f-app').inputValue(), 'kpl://open?lab=demo&trace=trace%201&step=3&node=server&rule=2');
    const fragment = await page.locator('#f-web').inputValue();
    assert.equal(fragment, '#/lab/demo?trace=trace%201&step=3&node=server&rule=2');
    await page.getByTestId('dialog-ok').click();

    // The page opened afresh at a link: the saved trace at that step.
    await page.goto('about:blank');
    await page.goto(`${suite.app.url}#/lab/demo?trace=trace%201&step=2`);
    await page.getByTestId('step-title').filter({ hasText: 'saved trace "trace 1"' }).waitFor();
    await page.locator('[data-testid=step-pos][data-step="2"]').waitFor();
    assert.match(await currentText(page), /^server › INPUT › filter › INPUT\n {2}-A INPUT -p udp -j DROP\n/);
    assert.equal(await pos(page), 2);

    // By node and rule (the first such step); a link followed while the app is open works too.
    await page.goto(`${suite.app.url}#/lab/demo?trace=trace%201&node=server&rule=3`);
    await page.locator('[data-testid=step-pos][data-step="4"]').waitFor();
    assert.match(await currentText(page), /-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n {2}matched → ACCEPT/);

    // The link just shown, and a step out of range.
    await page.goto(`${suite.app.url}${fragment}`);
    await page.locator('[data-testid=step-pos][data-step="3"]').waitFor();
    await page.goto(`${suite.app.url}#/lab/demo?trace=trace%201&step=99`);
    await page.locator('.toast.error').filter({ hasText: 'Saved trace "trace 1": step 99 is out of range (1-7)' }).waitFor();
    await page.goto(`${suite.app.url}#/lab/demo?trace=trace%201&step=abc`);
    await page.locator('.toast.error').filter({ hasText: 'The link was not opened: step: expected a number' }).waitFor();
  }));
});
