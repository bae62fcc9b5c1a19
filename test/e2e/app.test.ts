// End-to-end: the real app in browser mode (npm start -- --browser on a fresh database) driven
// through Debian's chromium with playwright-core. Labs are built with the mouse (palette drags,
// connect mode, the inspector's YAML), then checked on the canvas and in the store, reloaded,
// undone and redone, exported and imported. A failing test leaves a screenshot in test-results/.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM, appSuite, screenshot, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

interface CyNode {
  id: string;
  parent: string | null;
  /** On the page. */
  x: number;
  y: number;
  /** In the model (what the saved layout keeps). */
  mx: number;
  my: number;
}

/** The canvas as the user sees it: element ids, parents and positions on the page. */
async function canvas(page: Page): Promise<{ nodes: CyNode[]; edges: string[] }> {
  return page.evaluate(() => {
    const ed = (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor;
    const box = document.getElementById('cy')!.getBoundingClientRect();
    return {
      nodes: ed.cy.nodes().map((n) => ({
        id: n.id(), parent: n.parent().length ? n.parent().first().id() : null,
        x: box.left + n.renderedPosition().x, y: box.top + n.renderedPosition().y, mx: n.position().x, my: n.position().y,
      })),
      edges: ed.cy.edges().map((e) => e.id()),
    };
  });
}

async function waitFor(page: Page, pred: (c: { nodes: CyNode[]; edges: string[] }) => boolean, what: string): Promise<{ nodes: CyNode[]; edges: string[] }> {
  const t0 = Date.now();
  let c = await canvas(page);
  while (!pred(c)) {
    if (Date.now() - t0 > 8000) assert.fail(`timed out waiting for ${what}; canvas has ${JSON.stringify(c.nodes.map((n) => n.id))} ${JSON.stringify(c.edges)}`);
    await page.waitForTimeout(50);
    c = await canvas(page);
  }
  return c;
}

const has = (c: { nodes: CyNode[] }, id: string): CyNode | undefined => c.nodes.find((n) => n.id === id);

async function drop(page: Page, kind: string, x: number, y: number, fields: Record<string, string> = {}): Promise<void> {
  await page.getByTestId(`palette-${kind}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
  for (const [k, v] of Object.entries(fields)) await page.locator(`#f-${k}`).fill(v);
  await page.getByTestId('dialog-ok').click();
  await page.locator('.backdrop').waitFor({ state: 'detached' });
}

async function newLab(page: Page, name: string, type?: string, nodes?: string): Promise<void> {
  await page.getByTestId('new-lab').click();
  await page.locator('#f-name').fill(name);
  if (type) await page.locator('#f-type').selectOption(type);
  if (nodes !== undefined) await page.locator('#f-nodes').fill(nodes);
  await page.getByTestId('dialog-ok').click();
  await page.waitForURL(new RegExp(`#/lab/${encodeURIComponent(name).replace(/[()]/g, '\\$&')}$`));
  await page.waitForFunction(() => ((window as unknown as { kplEditor?: { refreshed: number } }).kplEditor?.refreshed ?? 0) > 0);
}

describe('the app in browser mode', { skip, timeout: 90_000 }, () => {
  const suite = appSuite();
  const { shot } = suite;

  it('refuses the page without the token', async () => {
    const r = await fetch(`${suite.app.origin}/`);
    assert.equal(r.status, 401);
  });

  it('builds hosts and LANs with the mouse, keeps them over a reload, undoes, redoes, exports and imports', shot(async (page) => {
    await page.goto(suite.app.url);
    await page.getByTestId('lab-list').getByText('No labs yet').waitFor();
    await newLab(page, 'net', 'Linux hosts only (no cluster)');
    // The help overlay lists the shortcuts; the theme switches between dark and light.
    await page.keyboard.press('?');
    await page.getByTestId('help').getByText('Ctrl+Shift+Z').waitFor();
    await page.keyboard.press('?');
    await page.getByTestId('help').waitFor({ state: 'detached' });
    const theme = await page.locator('html').getAttribute('data-theme');
    await page.getByTestId('theme').click();
    assert.notEqual(await page.locator('html').getAttribute('data-theme'), theme);
    await page.getByTestId('theme').click();
    await seeValue(() => page.locator('html').getAttribute('data-theme'), theme);
    await drop(page, 'lan', 500, 150);
    await drop(page, 'host', 350, 350, { name: 'web', listen: '80' });
    await drop(page, 'client', 650, 350);
    let c = await waitFor(page, (c) => !!has(c, 'l:lan1') && !!has(c, 'h:web') && !!has(c, 'h:client1'), 'lan1, web and client1');

    // Connect mode: drag from the host onto the LAN, take the next free address.
    await page.keyboard.press('c');
    const connect = async (from: string, to: string): Promise<void> => {
      const a = has(c, from)!;
      const z = has(c, to)!;
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + z.x) / 2, (a.y + z.y) / 2, { steps: 5 });
      await page.mouse.move(z.x, z.y, { steps: 5 });
      await page.waitForTimeout(150);
      await page.mouse.up();
      await page.getByTestId('dialog-ok').click();
      await page.locator('.backdrop').waitFor({ state: 'detached' });
    };
    await connect('h:web', 'l:lan1');
    await connect('h:client1', 'l:lan1');
    await page.keyboard.press('c');
    c = await waitFor(page, (c) => c.edges.includes('k:web:eth0') && c.edges.includes('k:client1:eth0'), 'the two links');

    // The store has it all.
    let doc = suite.service.doc('net');
    assert.deepEqual(doc.lans, [{ name: 'lan1' }]);
    assert.deepEqual(doc.hosts.map((h) => [h.name, h.links.map((l) => `${l.lan} ${l.ip}`)]), [['web', ['lan1 10.0.1.1/24']], ['client1', ['lan1 10.0.1.2/24']]]);
    assert.deepEqual(doc.hosts[0].listen, [{ port: 80, proto: 'tcp' }]);

    // Search by IP selects the host.
    await page.getByTestId('search').fill('10.0.1.2');
    await page.getByTestId('search').press('Enter');
    await page.getByTestId('inspector').getByText('client client1').waitFor();
    await page.getByTestId('search').fill('');
    await page.getByTestId('search').press('Escape');

    // Reload: everything is there, where it was.
    const before = await canvas(page);
    await page.reload();
    await page.waitForFunction(() => ((window as unknown as { kplEditor?: { refreshed: number } }).kplEditor?.refreshed ?? 0) > 0);
    const after = await waitFor(page, (c) => c.edges.length === 2, 'the lab after a reload');
    assert.deepEqual(after.nodes.map((n) => n.id).sort(), before.nodes.map((n) => n.id).sort());
    for (const n of after.nodes) {
      const p = has(before, n.id)!;
      assert.ok(Math.abs(p.mx - n.mx) < 1 && Math.abs(p.my - n.my) < 1, `${n.id} moved from ${p.mx},${p.my} to ${n.mx},${n.my} over a reload`);
    }

    // Undo the last link, redo it (the store's history).
    await page.locator('#cy').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await waitFor(page, (c) => !c.edges.includes('k:client1:eth0'), 'the undone link');
    assert.equal(suite.service.doc('net').hosts[1].links.length, 0);
    await page.keyboard.press('Control+Shift+Z');
    await waitFor(page, (c) => c.edges.includes('k:client1:eth0'), 'the redone link');

    // Delete the client (click it, Delete), then undo with the toolbar.
    c = await canvas(page);
    await page.mouse.click(has(c, 'h:client1')!.x, has(c, 'h:client1')!.y);
    await page.getByTestId('inspector').getByText('client client1').waitFor();
    await page.keyboard.press('Delete');
    await waitFor(page, (c) => !has(c, 'h:client1'), 'the deleted client');
    assert.deepEqual(suite.service.doc('net').hosts.map((h) => h.name), ['web']);
    await page.getByTestId('undo').click();
    await waitFor(page, (c) => !!has(c, 'h:client1') && c.edges.includes('k:client1:eth0'), 'the client back');

    // Copy and paste a host: a new one with the same ports, uncabled.
    c = await canvas(page);
    await page.mouse.click(has(c, 'h:web')!.x, has(c, 'h:web')!.y);
    await page.getByTestId('inspector').getByText('host web').waitFor();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await waitFor(page, (c) => !!has(c, 'h:web-2'), 'the pasted host');
    assert.deepEqual(suite.service.doc('net').hosts.find((h) => h.name === 'web-2'), { name: 'web-2', listen: [{ port: 80, proto: 'tcp' }], links: [] });
    await page.keyboard.press('Control+z');
    await waitFor(page, (c) => !has(c, 'h:web-2'), 'the paste undone');

    // Export .kpl, import it back from the start page.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-kpl').click()]);
    assert.equal(download.suggestedFilename(), 'net.kpl');
    const file = join(suite.app.dir, 'net.kpl');
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /"kube-packet-lab"/);
    assert.match(text, /10\.0\.1\.2\/24/);
    await page.goto(suite.app.url);
    await page.getByTestId('import-input').setInputFiles(file);
    // The name is taken, so the copy gets another one (the service picks it).
    await page.locator('.toast', { hasText: 'Imported net.kpl as' }).waitFor();
    await page.locator('table.labs tbody tr').nth(1).waitFor();
    const copy = suite.service.list().map((l) => l.name).find((n) => n !== 'net')!;
    await page.locator(`tr[data-lab="${copy}"]`).waitFor();
    doc = suite.service.doc(copy);
    assert.deepEqual(doc.hosts.map((h) => h.name), ['web', 'client1']);
    // A broken file is refused with a message, and nothing is added.
    const bad = join(suite.app.dir, 'broken.kpl');
    writeFileSync(bad, '{"format": "kube-packet-lab", "version": 1, "name": 5}');
    await page.getByTestId('import-input').setInputFiles(bad);
    await page.locator('.toast.error').first().waitFor();
    assert.deepEqual(suite.service.list().map((l) => l.name).sort(), ['net', copy]);
    assert.deepEqual(suite.b.errors, []);
  }));

  it('builds a two-node cluster by drag and drop: nodes, Deployments, Services; edits a Service in YAML', shot(async (page) => {
    await page.goto(suite.app.url);
    await newLab(page, 'article', 'an empty Kubernetes cluster', '0');
    await drop(page, 'node', 300, 250);
    await drop(page, 'node', 700, 250);
    await waitFor(page, (c) => !!has(c, 'n:minikube') && !!has(c, 'n:minikube-m02'), 'two nodes');
    await drop(page, 'deployment', 300, 550, { name: 'frontend', replicas: '2' });
    await drop(page, 'deployment', 700, 550, { name: 'backend', replicas: '2' });
    let c = await waitFor(page, (c) => c.nodes.filter((n) => n.id.startsWith('p:default/')).length === 4, 'four pods');
    // Pods are drawn inside their node.
    for (const p of c.nodes.filter((n) => n.id.startsWith('p:default/'))) assert.match(String(p.parent), /^n:minikube(-m02)?$/, `${p.id} sits in a node`);
    // A Service dropped onto a Deployment selects its pods.
    await drop(page, 'service', has(c, 'd:default/frontend')!.x, has(c, 'd:default/frontend')!.y, { name: 'frontend' });
    c = await canvas(page);
    await drop(page, 'service', has(c, 'd:default/backend')!.x, has(c, 'd:default/backend')!.y, { name: 'backend' });
    await waitFor(page, (c) => c.edges.filter((e) => e.startsWith('e:default/frontend:') || e.startsWith('e:default/backend:')).length === 4, 'service endpoints');

    // The navigator moves the view.
    const pan0 = await page.evaluate(() => (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.pan());
    await page.getByTestId('minimap').click({ position: { x: 10, y: 10 } });
    const pan1 = await page.evaluate(() => (window as unknown as { kplEditor: { cy: import('cytoscape').Core } }).kplEditor.cy.pan());
    assert.notDeepEqual(pan1, pan0);
    await page.getByTestId('fit').click();
    c = await canvas(page);

    // The store holds the objects (replayed from the journal).
    const lab = suite.service.load('article');
    const kube = (lab as unknown as { cluster: { store: { list(k: string): { metadata: { name: string }; spec: { type?: string } }[] } } }).cluster.store;
    assert.deepEqual(kube.list('Node').map((n) => n.metadata.name), ['minikube', 'minikube-m02']);
    assert.deepEqual(kube.list('Deployment').map((n) => n.metadata.name).filter((n) => n !== 'coredns').sort(), ['backend', 'frontend']);
    assert.deepEqual(kube.list('Service').map((n) => n.metadata.name).filter((n) => n === 'frontend' || n === 'backend').sort(), ['backend', 'frontend']);

    // Edit the frontend Service's type in YAML: an error first (shown inline), then NodePort.
    await page.mouse.click(has(c, 's:default/frontend')!.x, has(c, 's:default/frontend')!.y);
    await page.getByTestId('inspector').getByText('service frontend').waitFor();
    await page.getByTestId('tab-yaml').click();
    const yaml = page.getByTestId('yaml');
    const text = await yaml.inputValue();
    await yaml.fill(text.replace('type: ClusterIP', 'type: Bogus'));
    await page.getByTestId('yaml-apply').click();
    await page.getByTestId('yaml-result').getByText('Unsupported value: "Bogus"').waitFor();
    await yaml.fill(text.replace('type: ClusterIP', 'type: NodePort'));
    await page.getByTestId('yaml-apply').click();
    await page.getByTestId('yaml-result').getByText('service/frontend configured').waitFor();
    // The inspector says which nodes' rules changed.
    await page.getByTestId('yaml-result').getByText(/rules: minikube \+\d+ −\d+, minikube-m02 \+\d+/).waitFor();
    const svc = suite.service.load('article') as unknown as { cluster: { store: { get(k: string, ns: string, n: string): { spec: { type: string; ports: { nodePort?: number }[] } } } } };
    const fe = svc.cluster.store.get('Service', 'default', 'frontend');
    assert.equal(fe.spec.type, 'NodePort');
    const nodePort = fe.spec.ports[0].nodePort;
    assert.ok(nodePort && nodePort >= 30000);
    // The node's rules changed: kube-proxy now has a NodePort rule for it.
    const r = suite.service.exec('article', 'minikube', ['iptables-save', '-t', 'nat'], '');
    assert.match(r.stdout, new RegExp(`--dport ${nodePort}`));

    // Reload: the cluster is all there; undo the NodePort change.
    await page.reload();
    await waitFor(page, (c) => c.nodes.filter((n) => n.id.startsWith('p:default/')).length === 4 && !!has(c, 's:default/backend'), 'the cluster after a reload');
    await page.locator('#cy').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    const typeNow = (): string => (suite.service.load('article') as unknown as typeof svc).cluster.store.get('Service', 'default', 'frontend').spec.type;
    for (let i = 0; i < 100 && typeNow() !== 'ClusterIP'; i++) await page.waitForTimeout(50);
    assert.equal(typeNow(), 'ClusterIP');
    await page.keyboard.press('Control+Shift+Z');
    for (let i = 0; i < 100 && typeNow() !== 'NodePort'; i++) await page.waitForTimeout(50);
    assert.equal(typeNow(), 'NodePort');
    await screenshot(page, 'app-cluster');
    assert.deepEqual(suite.b.errors, []);
  }));

  it('imports Kubernetes YAML as a new lab with a cluster', shot(async (page) => {
    await page.goto(suite.app.url);
    const file = join(suite.app.dir, 'webapp.yaml');
    writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: webapp}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: webapp}}\n  template:\n    metadata: {labels: {app: webapp}}\n    spec: {containers: [{name: web, image: nginx}]}\n');
    await page.getByTestId('import-input').setInputFiles(file);
    await page.locator('tr[data-lab="webapp"]').waitFor();
    // The row appears when the lab is made; the manifests are applied just after.
    const has = (): boolean => (suite.service.load('webapp') as unknown as { cluster: { store: { list(k: string): { metadata: { name: string } }[] } } }).cluster.store
      .list('Deployment').some((d) => d.metadata.name === 'webapp');
    for (let i = 0; i < 100 && !has(); i++) await page.waitForTimeout(50);
    assert.ok(has(), 'the Deployment is in the new lab');
  }));
});
