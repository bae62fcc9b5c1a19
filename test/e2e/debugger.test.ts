// End-to-end: the packet debugger replaying the article's externalTrafficPolicy: Local scene
// (example 'traffic-policy', legacy kube-proxy, switched to Local by its walkthrough step). The
// console of minikube-m02 prints the article's KUBE-NODEPORTS and KUBE-XLB lines; a trace
// client → minikube-m02:30080 is stepped (F11) until KUBE-MARK-DROP, stepped back three steps,
// stepped over the jump (F10) and out of the chain (Shift+F11), continued to the drop (F5); a
// breakpoint on the KUBE-SEP chains and one on any NAT are set in the panel; a trace to
// minikube:30080 plays to the KUBE-SEP chain, then to the DNAT, with the client's source
// address preserved in the packet pane; reverse-continue goes back; the breakpoints are saved in
// the lab. Takes docs/debugger.png (KPL_DOCS=1; else into test-results/).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, ROOT, appSuite, consoleRun, consoleText, traceFromForm, openNodeConsole, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
const XLB = 'KUBE-XLB-2IRACUALRELARSND';
const SEP = 'KUBE-SEP-5T4S2ILYSXWY3R2J';

/** What the canvas marks of the trace's path (renderer/trace-path.ts). */
async function canvasPath(page: Page): Promise<{ walked: string[]; onPath: string[]; walkedEdges: number }> {
  return page.evaluate(() => {
    const cy = (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy;
    return { walked: cy.nodes('.walked').map((n) => n.id()).sort(), onPath: cy.nodes('.on-path').map((n) => n.id()).sort(), walkedEdges: cy.edges('.walked').length };
  });
}

describe('the packet debugger replays the article', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createExample('traffic-policy', 'etp', { proxy: 'legacy' });
    // The walkthrough's step 5: the Service applied again with externalTrafficPolicy: Local.
    const run = api.runStep('etp', 4);
    assert.equal(run.action.kind, 'apply');
  });
  const { shot } = suite;

  const run = consoleRun;
  const pos = async (page: Page): Promise<number> => Number(await page.getByTestId('step-pos').getAttribute('data-step'));
  const currentText = async (page: Page): Promise<string> => (await page.getByTestId('step-current').textContent()) ?? '';
  /** Presses a key and waits for the position to change (or to be `to`). */
  async function press(page: Page, key: string, to?: number): Promise<number> {
    const was = await pos(page);
    await page.keyboard.press(key);
    if (to !== undefined) await page.locator(`[data-testid=step-pos][data-step="${to}"]`).waitFor({ timeout: 5000 });
    else await page.waitForFunction((w) => document.querySelector('[data-testid=step-pos]')?.getAttribute('data-step') !== String(w), was);
    return pos(page);
  }
  async function traceTo(page: Page, to: string): Promise<void> {
    await traceFromForm(page, 'client', to);
    // Keys go to the page, not the form's fields.
    await page.locator('[data-testid=step-current]').click();
  }

  it('steps the dropped NodePort connection on minikube-m02 and the delivered one on minikube', shot(async (page) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${suite.app.url}#/lab/etp`);
    await page.locator('[data-testid=status][data-ready-ms]').waitFor({ state: 'attached' });
    // The example's guide opens beside the canvas: closed, for room.
    if (await page.getByTestId('guide').isVisible()) await page.getByTestId('open-guide').click();

    // The console on minikube-m02: the article's rules.
    await openNodeConsole(page, 'minikube-m02');
    await run(page, 'iptables -t nat -L KUBE-NODEPORTS');
    assert.match(await consoleText(page), new RegExp(`${XLB}\\s+tcp\\s+--\\s+anywhere\\s+anywhere\\s+/\\* default/webapp \\*/ tcp dpt:30080`));
    await run(page, `iptables -t nat -L ${XLB}`);
    assert.match(await consoleText(page), /KUBE-MARK-DROP\s+all\s+--\s+anywhere\s+anywhere\s+\/\* default\/webapp has no local endpoints \*\//);

    // A trace client → minikube-m02:30080, stepped (F11) until KUBE-MARK-DROP.
    await page.getByTestId('open-stepper').click();
    await traceTo(page, 'minikube-m02:30080');
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /tcp 192\.168\.49\.100:40000 → 192\.168\.49\.3:30080\s+dropped/);
    let guard = 0;
    while (!/^minikube-m02 › PREROUTING › nat › KUBE-MARK-DROP\n/.test(await currentText(page))) {
      await press(page, 'F11');
      assert.ok(++guard < 200, 'reached KUBE-MARK-DROP');
    }
    const markDrop = await pos(page);
    assert.match(await currentText(page), /--set-xmark 0x8000\/0x8000/);
    assert.equal(await page.getByTestId('step-why').textContent(), 'MARK: mark 0x0 → 0x8000');
    assert.equal(await page.getByTestId('pkt-mark').textContent(), '0x0 → 0x8000');
    // The call stack: the innermost chain first, down to the hook's PREROUTING.
    assert.deepEqual(await page.locator('[data-testid=dbg-frame] .chain').allTextContents(), ['KUBE-MARK-DROP', XLB, 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'PREROUTING']);
    assert.equal(await page.locator('[data-testid=dbg-stack] .dbg-where').textContent(), 'minikube-m02 › PREROUTING › nat');
    assert.match((await page.getByTestId('dbg-conntrack').textContent()) ?? '', /minikube-m02: NEW/);
    assert.equal(await page.getByTestId('dbg-path').textContent(), 'path: client → minikube-m02');
    // The canvas draws the same path: client and minikube-m02 walked, joined by their LAN's links.
    const drawn = await canvasPath(page);
    assert.ok(drawn.walked.includes('n:minikube-m02') && drawn.walked.some((id) => id.endsWith(':client')), drawn.walked.join(' '));
    assert.ok(drawn.walkedEdges >= 1, `${drawn.walkedEdges} walked links`);

    // Three steps back: KUBE-XLB's rule 2 (masquerade LOCAL traffic), which does not match.
    await press(page, 'Shift+F10');
    await press(page, 'Shift+F10');
    const back3 = await press(page, 'Shift+F10');
    assert.equal(back3, markDrop - 3);
    assert.match(await currentText(page), new RegExp(`^minikube-m02 › PREROUTING › nat › ${XLB}\\n.*masquerade LOCAL traffic`));
    // The object behind the rule, from the origin kube-proxy gave it.
    assert.match((await page.getByTestId('step-origin').textContent()) ?? '', /^behind it: Service default\/webapp\b/);
    assert.match((await page.getByTestId('step-why').textContent()) ?? '', /^no match: src 192\.168\.49\.100 is UNICAST/);

    // Step over: a rule that does not jump goes to the next; the jump to KUBE-MARK-DROP is passed over.
    assert.equal(await press(page, 'F10'), markDrop - 2);
    assert.equal(await press(page, 'F10'), markDrop - 1);
    assert.equal(await page.getByTestId('step-why').textContent(), 'jump to KUBE-MARK-DROP');
    const afterOver = await press(page, 'F10');
    assert.equal(afterOver, markDrop + 2, 'over KUBE-MARK-DROP’s rule and its end');
    assert.match(await currentText(page), new RegExp(`^minikube-m02 › PREROUTING › nat › ${XLB}\\n {2}policy RETURN`));
    // Step out of KUBE-MARK-DROP: back in KUBE-XLB.
    await press(page, 'Shift+F10');
    await press(page, 'Shift+F10', markDrop);
    assert.equal(await press(page, 'Shift+F11'), markDrop + 2);
    // And out of KUBE-XLB: back in KUBE-NODEPORTS.
    await press(page, 'Shift+F11');
    assert.match(await currentText(page), /^minikube-m02 › PREROUTING › nat › KUBE-NODEPORTS\n/);
    // The buttons do the same as the keys: next hook goes to INPUT.
    await page.getByTestId('step-hook').click();
    await page.waitForFunction(() => /^minikube-m02 › INPUT › /.test(document.querySelector('[data-testid=step-current]')?.textContent ?? ''));
    // Continue with no breakpoint: the end, the DROP in KUBE-FIREWALL deciding it.
    await press(page, 'F5');
    assert.match(await currentText(page), /^minikube-m02 › INPUT › filter › KUBE-FIREWALL\n.*\n {2}matched → DROP/);
    await page.getByTestId('step-restart').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    await page.getByTestId('step-decider').click();
    await page.waitForFunction(() => /KUBE-FIREWALL/.test(document.querySelector('[data-testid=step-current]')?.textContent ?? ''));
    // The event list names the drop; a click on the conntrack event goes to where it happened.
    assert.match((await page.locator('[data-testid=dbg-event][data-kind=drop]').textContent()) ?? '', /dropped in filter INPUT by rule 1 of filter KUBE-FIREWALL/);
    await page.locator('[data-testid=dbg-event][data-kind=conntrack]').click();
    await page.waitForFunction(() => /^minikube-m02 › PREROUTING › mangle › /.test(document.querySelector('[data-testid=step-current]')?.textContent ?? ''));

    // Breakpoints: on the KUBE-SEP chains, and on any NAT.
    await page.getByTestId('bp-kind').selectOption('chain');
    await page.getByTestId('bp-text').fill('KUBE-SEP-*');
    await page.getByTestId('bp-add').locator('button[type=submit]').click();
    await page.getByTestId('bp-kind').selectOption('nat');
    await page.getByTestId('bp-add').locator('button[type=submit]').click();
    assert.deepEqual(await page.locator('[data-testid=bp] .bp-label').allTextContents(), ['chain KUBE-SEP-*', 'any NAT (DNAT, SNAT, MASQUERADE)']);

    // Switch to minikube: continue to the breakpoint on the KUBE-SEP chain, then to the DNAT.
    await traceTo(page, 'minikube:30080');
    assert.match((await page.getByTestId('step-outcome').textContent()) ?? '', /delivered/);
    // A new trace redraws the path: at its first step (on minikube) the client and minikube are
    // walked, minikube-m02 is off the path, and the server's pod lies ahead.
    const ahead = await canvasPath(page);
    assert.deepEqual(ahead.walked.filter((id) => !id.startsWith('l:')), ['h:client', 'n:minikube']);
    assert.ok(!ahead.onPath.includes('n:minikube-m02') && ahead.onPath.some((id) => id.startsWith('p:')), ahead.onPath.join(' '));
    // Play, fast: rule by rule until the breakpoint.
    await page.getByTestId('step-speed').selectOption('60');
    await page.getByTestId('step-play').click();
    await page.getByTestId('step-play').filter({ hasText: 'Pause' }).waitFor();
    await page.getByTestId('step-play').filter({ hasText: 'Play' }).waitFor({ timeout: 20_000 });
    assert.match(await currentText(page), new RegExp(`^minikube › PREROUTING › nat › ${SEP}\\n`));
    assert.equal(await page.locator('[data-testid=bp].hit .bp-label').textContent(), 'chain KUBE-SEP-*');
    const sep = await pos(page);
    await press(page, 'F5');
    assert.match(await currentText(page), /-j DNAT --to-destination 10\.244\.120\.111:80\n {2}matched → DNAT/);
    assert.equal(await page.getByTestId('step-why').textContent(), 'DNAT to 10.244.120.111:80');
    // The source IP is preserved: the client's, as sent; only the destination changes.
    assert.equal(await page.getByTestId('pkt-src').textContent(), '192.168.49.100');
    assert.equal(await page.getByTestId('pkt-sport').textContent(), '40000');
    assert.equal(await page.getByTestId('pkt-dst').textContent(), '192.168.49.2 → 10.244.120.111');
    assert.equal(await page.getByTestId('pkt-dport').textContent(), '30080 → 80');
    assert.match((await page.getByTestId('pkt-note').textContent()) ?? '', /^source as sent; destination translated/);
    assert.match((await page.getByTestId('step-reply').textContent()) ?? '', /reply: delivered, from 192\.168\.49\.2:30080/);
    assert.deepEqual(await page.locator('[data-testid=dbg-frame] .chain').allTextContents(), [SEP, XLB, 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'PREROUTING']);
    assert.equal(await page.getByTestId('dbg-path').textContent(), 'path: client → minikube');

    const docs = join(ROOT, process.env.KPL_DOCS === '1' ? 'docs' : 'test-results');
    mkdirSync(docs, { recursive: true });
    await page.evaluate(() => {
      (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.fit(undefined, 30);
      document.querySelector('.dbg-side')?.scrollTo(0, 0);
    });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(docs, 'debugger.png') });

    // Reverse-continue: back to the KUBE-SEP chain; the breakpoints are saved in the lab.
    assert.equal(await press(page, 'Shift+F5'), sep);
    const saved = (suite.service.layout('etp') as { breakpoints?: unknown[] } | null)?.breakpoints;
    assert.deepEqual(saved, [{ kind: 'chain', chain: 'KUBE-SEP-*', enabled: true }, { kind: 'nat', enabled: true }]);
    // F9 toggles a breakpoint on the current rule; disabling one in the list skips it.
    await press(page, 'F11');
    await page.keyboard.press('F9');
    await seeText(page.locator('[data-testid=bp] .bp-label').nth(2), `rule 2 of nat ${SEP} on minikube`);
    await page.locator('[data-testid=bp-enabled]').nth(1).uncheck();
    await page.getByTestId('step-restart').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    assert.equal(await press(page, 'F5'), sep);
    assert.equal(await press(page, 'F5'), sep + 1, 'the rule breakpoint');
    const end = await press(page, 'F5');
    assert.ok(end > sep + 2, 'the NAT breakpoint is disabled');
    await page.locator('[data-testid=bp-remove]').nth(2).click();
    await page.locator('[data-testid=bp]').nth(2).waitFor({ state: 'detached' });
    // A step's gutter toggles a breakpoint on its rule.
    await page.getByTestId('step-restart').click();
    await page.locator('[data-testid=step-pos][data-step="1"]').waitFor();
    const gutter = page.locator('.step-list .step.current [data-testid=bp-gutter]');
    await gutter.click();
    await page.locator('.step-list .step.current .gutter.on').waitFor();
    await seeValue(() => page.locator('[data-testid=bp]').count(), 3);
    await page.locator('.step-list .step.current [data-testid=bp-gutter]').click();
    await page.locator('.step-list .step.current .gutter.on').waitFor({ state: 'detached' });
    await seeValue(() => page.locator('[data-testid=bp]').count(), 2);

    // All outcomes: the one branch of ETP Local on minikube, with its probability; a click replays it.
    await page.getByTestId('trace-all').check();
    await traceTo(page, 'minikube:30080');
    assert.match((await page.getByTestId('dbg-outcome').textContent()) ?? '', /^100% delivered — DNAT 10\.244\.120\.111:80/);
    await page.getByTestId('dbg-outcome').click();
    await page.locator('[data-testid=dbg-outcome].current').waitFor();

    // The shortcuts are in the help.
    await page.locator('body').press('?');
    assert.match((await page.getByTestId('help').textContent()) ?? '', /F9debugger: toggle a breakpoint on the current rule/);
    assert.deepEqual(suite.b.errors, []);
  }));
});
