// End-to-end: the rules browser's Paths tab in browser mode. A cluster lab made through the API
// adapter; the browser opened on node minikube; the packet udp → kube-dns's ClusterIP:53 asked in
// the form; the graph drawn (KUBE-SERVICES → kube-dns's KUBE-SVC chain → its endpoints' KUBE-SEP
// chains → DNAT, the statistic edge dashed); an edge clicked shows its rule; a chain node clicked
// opens that chain in the nat tab, highlighted. A bad address is refused in the API's words.
// Saves test-results/rules-paths.png (docs/ with KPL_DOCS=1).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, ROOT, appSuite, openLab, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

type Cy = import('cytoscape').Core;

/** Where an element of the paths graph is on the page (its rendered centre). */
async function graphPoint(page: Page, selector: string): Promise<{ x: number; y: number }> {
  return page.evaluate((sel) => {
    const box = document.querySelector('[data-testid=paths-graph]') as HTMLElement & { cy: Cy };
    const ele = box.cy.$(sel).first();
    box.cy.center(ele); // (as a user pans to it: a big graph is drawn at a readable size, not whole)
    const r = box.getBoundingClientRect();
    const p = ele.isNode() ? ele.renderedPosition() : ele.renderedMidpoint();
    return { x: r.left + p.x, y: r.top + p.y };
  }, selector);
}

describe('the rules browser’s paths', { skip, timeout: 240_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('paths', { cluster: true, nodes: 2 });
  });
  const { shot } = suite;

  it('draws kube-dns’s ClusterIP paths, reads an edge, and opens a chain from its node', shot(async (page) => {
    await openLab(page, suite.app.url, 'paths', 'n:minikube');
    await page.getByTestId('open-rules').click();
    const rb = page.getByTestId('rules-browser');
    await page.getByTestId('rules-status').filter({ hasText: /rules in \d+ tables/ }).waitFor();
    await page.getByTestId('rules-tab-paths').click();
    await page.getByTestId('paths-help').waitFor();

    await page.getByTestId('paths-proto').selectOption('udp');
    await page.getByTestId('paths-dst').fill('10.96.0.10');
    await page.getByTestId('paths-dport').fill('53');
    await page.getByTestId('paths-show').click();
    const sum = page.getByTestId('paths-summary');
    await seeText(sum, /^udp any → 10\.96\.0\.10:53: PREROUTING → FORWARD → POSTROUTING → OUTPUT; \d+ chains, \d+ edges \(\d+ maybe\), [\d,]+ rules left out/);
    const graph = page.getByTestId('paths-graph');
    await page.waitForFunction(() => {
      const box = document.querySelector('[data-testid=paths-graph]') as (HTMLElement & { cy?: Cy }) | null;
      return !!box?.cy && box.cy.nodes().length > 5;
    });
    const shape = await page.evaluate(() => {
      const cy = (document.querySelector('[data-testid=paths-graph]') as HTMLElement & { cy: Cy }).cy;
      const svc = cy.edges('[source = "nat/KUBE-SERVICES"]').filter((e) => String(e.data('target')).startsWith('nat/KUBE-SVC-'));
      const sepEdges = svc.target().outgoers('edge').filter((e) => String(e.data('target')).startsWith('nat/KUBE-SEP-'));
      return {
        svc: svc.map((e) => e.data('label') as string),
        svcTarget: svc.target().id(),
        seps: sepEdges.map((e) => [e.data('target') as string, e.data('maybe') as number]),
        dnat: cy.nodes('[verdict = "DNAT"]').nonempty(),
        laidOut: new Set(cy.nodes().map((n) => Math.round(n.position().x))).size > 3,
        // The start (raw PREROUTING, depth 0) is on screen.
        inView: cy.nodes('[start = 1]').some((n) => {
          const bb = n.renderedBoundingBox();
          return bb.x1 > -5 && bb.y1 > -5 && bb.x2 < cy.width() + 5 && bb.y2 < cy.height() + 5;
        }),
      };
    });
    assert.equal(shape.svc.length, 1, JSON.stringify(shape));
    assert.match(shape.svc[0], /^#\d+ -d 10\.96\.0\.10\/32 -p udp --dport 53$/);
    assert.ok(shape.seps.length >= 1, 'CoreDNS’s endpoints');
    assert.deepEqual(shape.seps.map(([, maybe]) => maybe), [...shape.seps.slice(1).map(() => 1), 0], 'all but the last by statistic (maybe), the last always');
    assert.ok(shape.dnat && shape.laidOut && shape.inView, JSON.stringify(shape));

    // An edge clicked: its rule in full below the graph.
    const at = await graphPoint(page, `edge[source = "nat/KUBE-SERVICES"][target = "${shape.svcTarget}"]`);
    await page.mouse.click(at.x, at.y);
    const detail = page.getByTestId('paths-detail');
    await detail.filter({ hasText: /^nat KUBE-SERVICES rule \d+: -d 10\.96\.0\.10\/32 -p udp --dport 53 \/\* kube-system\/kube-dns:dns cluster IP \*\/ -j KUBE-SVC-\w+$/ }).waitFor();
    // A verdict leaf of the last KUBE-SEP chain: its DNAT, always (a solid edge).
    const dnatEdge = await page.evaluate((sep) => {
      const cy = (document.querySelector('[data-testid=paths-graph]') as HTMLElement & { cy: Cy }).cy;
      return cy.edges(`[source = "${sep}"]`).filter((e) => e.target().data('verdict') === 'DNAT').map((e) => [e.data('maybe'), e.data('label')]);
    }, shape.seps.at(-1)![0]);
    assert.equal(dnatEdge.length, 1);
    assert.equal(dnatEdge[0][0], 0);

    const shots = join(ROOT, process.env.KPL_DOCS === '1' ? 'docs' : 'test-results');
    mkdirSync(shots, { recursive: true });
    await graph.screenshot({ path: join(shots, 'rules-paths-graph.png') });
    await page.screenshot({ path: join(shots, 'rules-paths.png') });

    // A chain clicked: the nat tab, that chain scrolled to and highlighted.
    const node = await graphPoint(page, `node[id = "${shape.svcTarget}"]`);
    await page.mouse.click(node.x, node.y);
    const chain = shape.svcTarget.replace('nat/', '');
    await rb.locator(`section.rb-chain.rb-highlight[data-chain="${chain}"]`).waitFor();
    await seeValue(() => page.getByTestId('rules-tab-nat').getAttribute('aria-selected'), 'true');

    // Back to paths: the same packet's graph again; a bad address refused.
    await page.getByTestId('rules-tab-paths').click();
    await page.getByTestId('paths-summary').waitFor();
    assert.equal(await page.getByTestId('paths-dst').inputValue(), '10.96.0.10');
    await page.getByTestId('paths-dst').fill('10.96.0.300');
    await page.getByTestId('paths-show').click();
    await page.getByTestId('paths-error').filter({ hasText: /address A\.B\.C\.D/ }).waitFor();
    // A start chain in a table.
    await page.getByTestId('paths-dst').fill('10.96.0.1');
    await page.getByTestId('paths-dport').fill('443');
    await page.getByTestId('paths-proto').selectOption('tcp');
    await page.getByTestId('paths-table').selectOption('nat');
    await page.getByTestId('paths-chain').fill('KUBE-SERVICES');
    await page.getByTestId('paths-show').click();
    await page.getByTestId('paths-summary').filter({ hasText: /from nat KUBE-SERVICES/ }).waitFor();
    if (suite.b.errors.length) throw new Error(suite.b.errors.join('\n'));
  }));
});
