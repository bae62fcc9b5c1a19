// LabApi on the lab service (the dispatcher both shells use): the canvas's view model, lab
// management, undo/redo through the store's history, removal, .kpl export/import, and refusal
// of anything that would make the service read a file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineDiff, nextLanAddress, openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import { emptyLab } from '../../shared/lab.ts';
import type { LabSummary, LabView } from '../../shared/api/contract.ts';

describe('LabApi dispatcher', () => {
  let dir: string;
  let api: ApiDispatcher;
  const events: string[] = [];

  const ok = async <T>(method: string, ...params: unknown[]): Promise<T> => {
    const r = await api.call(method, params);
    if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };
  const fails = async (method: string, params: unknown[], code: string, re: RegExp): Promise<void> => {
    const r = await api.call(method, params);
    assert.ok('error' in r, `${method} should fail`);
    assert.equal(r.error.code, code, r.error.message);
    assert.match(r.error.message, re);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-api-'));
    api = openLabApi({ db: join(dir, 'labs.db') });
    api.subscribe((e, d) => events.push(`${e}:${JSON.stringify(d)}`));
  });
  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists, renames, duplicates and deletes labs', async () => {
    const s = await ok<LabSummary>('createLab', 'first');
    assert.equal(s.name, 'first');
    assert.equal(typeof s.changed, 'number');
    await fails('createLab', ['first'], 'conflict', /already exists/);
    await ok('renameLab', 'first', 'second');
    await ok('duplicateLab', 'second', 'third');
    assert.deepEqual((await ok<LabSummary[]>('listLabs')).map((l) => l.name), ['second', 'third']);
    await ok('deleteLab', 'third');
    assert.deepEqual((await ok<LabSummary[]>('listLabs')).map((l) => l.name), ['second']);
    await fails('view', ['third'], 'notfound', /no lab/);
    assert.ok(events.includes('labsChanged:{}'));
  });

  it('builds hosts, LANs and links, and shows them in the view with their kinds', async () => {
    await ok('createLab', 'net');
    await ok('addLan', 'net', 'lan1');
    await ok('addHost', 'net', 'web', { listen: [{ port: 80, proto: 'tcp' }] });
    await ok('addHost', 'net', 'client', { kind: 'client' });
    assert.deepEqual(await ok('addLink', 'net', 'web', 'lan1'), { dev: 'eth0', ip: '10.0.1.1/24' });
    assert.deepEqual(await ok('addLink', 'net', 'client', 'lan1'), { dev: 'eth0', ip: '10.0.1.2/24' });
    const v = await ok<LabView>('view', 'net');
    assert.deepEqual(v.lans, [{ name: 'lan1' }]);
    assert.deepEqual(v.hosts.map((h) => [h.name, h.kind, h.links.map((l) => l.ip)]), [['web', 'host', ['10.0.1.1/24']], ['client', 'client', ['10.0.1.2/24']]]);
    assert.equal(v.cluster, null);
    assert.equal(v.canUndo, true);
    assert.equal(v.canRedo, false);
    assert.ok(events.includes('labChanged:{"lab":"net"}'));
    const r = await ok<{ stdout: string; code: number }>('exec', 'net', 'web', ['ip', '-br', 'addr']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /10\.0\.1\.1\/24/);
  });

  it('undoes and redoes through the store history', async () => {
    await ok('createLab', 'hist');
    await ok('addLan', 'hist', 'a');
    await ok('addLan', 'hist', 'b');
    assert.deepEqual(await ok('undo', 'hist'), { changed: true });
    assert.deepEqual((await ok<LabView>('view', 'hist')).lans.map((l) => l.name), ['a']);
    assert.deepEqual(await ok('redo', 'hist'), { changed: true });
    assert.deepEqual((await ok<LabView>('view', 'hist')).lans.map((l) => l.name), ['a', 'b']);
    assert.deepEqual(await ok('redo', 'hist'), { changed: false });
    const h = await ok<{ command: string; current: boolean }[]>('history', 'hist');
    assert.equal(h.length, 3);
    assert.equal(h.filter((x) => x.current).length, 1);
  });

  it('removes hosts, LANs and links as one undoable change', async () => {
    await ok('createLab', 'rm');
    await ok('addLan', 'rm', 'lan1');
    await ok('addHost', 'rm', 'h1');
    await ok('addHost', 'rm', 'h2');
    await ok('addLink', 'rm', 'h1', 'lan1');
    await ok('addLink', 'rm', 'h2', 'lan1');
    await ok('remove', 'rm', [{ kind: 'host', name: 'h2' }, { kind: 'link', name: 'h1', dev: 'eth0' }]);
    let v = await ok<LabView>('view', 'rm');
    assert.deepEqual(v.hosts.map((h) => [h.name, h.links.length]), [['h1', 0]]);
    await ok('remove', 'rm', [{ kind: 'lan', name: 'lan1' }]);
    v = await ok<LabView>('view', 'rm');
    assert.equal(v.lans.length, 0);
    await ok('undo', 'rm');
    await ok('undo', 'rm');
    v = await ok<LabView>('view', 'rm');
    assert.deepEqual(v.hosts.map((h) => h.name), ['h1', 'h2']);
    await fails('remove', ['rm', [{ kind: 'host', name: 'ghost' }]], 'notfound', /no host "ghost"/);
  });

  it('keeps layouts, and exports and imports .kpl text', async () => {
    await ok('createLab', 'share');
    await ok('addHost', 'share', 'h1', { kind: 'lb' });
    await ok('setLayout', 'share', { positions: { 'h:h1': { x: 10, y: 20 } }, kinds: { h1: 'lb' }, zoom: 1 });
    assert.deepEqual((await ok<{ positions: unknown }>('layout', 'share')).positions, { 'h:h1': { x: 10, y: 20 } });
    const ex = await ok<{ fileName: string; text: string }>('exportLab', 'share');
    assert.equal(ex.fileName, 'share.kpl');
    const imp = await ok<LabSummary>('importLab', ex.text, { name: 'shared copy' });
    assert.equal(imp.name, 'shared copy');
    const v = await ok<LabView>('view', 'shared copy');
    assert.deepEqual(v.hosts.map((h) => [h.name, h.kind]), [['h1', 'lb']]);
    await fails('importLab', ['{"format":"something else"}'], 'failed', /./);
  });

  it('shows a cluster: nodes, pods in their nodes, Deployments, Services and endpoints', async () => {
    await ok('createLab', 'kube', { cluster: true, nodes: 2 });
    const out = await ok<{ output: string; rules: { node: string; added: number; removed: number }[] }>('apply', 'kube', [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}\n',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
    ].join('---\n'));
    assert.match(out.output, /deployment.apps\/web created\nservice\/web created/);
    // kube-proxy wrote the Service's rules on both nodes.
    assert.deepEqual(out.rules.map((r) => r.node), ['minikube', 'minikube-m02']);
    for (const r of out.rules) assert.ok(r.added > 0, `${r.node}: rules added`);
    const v = await ok<LabView>('view', 'kube');
    const c = v.cluster!;
    assert.deepEqual(c.nodes.map((n) => [n.name, n.ip]), [['minikube', '192.168.49.2'], ['minikube-m02', '192.168.49.3']]);
    assert.equal(c.lan, 'minikube');
    const web = c.pods.filter((p) => p.owner === 'web');
    assert.equal(web.length, 2);
    for (const p of web) {
      assert.ok(p.node === 'minikube' || p.node === 'minikube-m02');
      assert.match(String(p.ip), /^10\.244\./);
    }
    assert.deepEqual(c.deployments.find((d) => d.name === 'web'), { name: 'web', namespace: 'default', replicas: 2, selector: { app: 'web' } });
    assert.deepEqual(c.endpoints.filter((e) => e.service === 'web').map((e) => e.pod).sort(), web.map((p) => p.name).sort());
    // Refusals come back in kubectl's words, as 'invalid'.
    await fails('apply', ['kube', 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: Bogus, ports: [{port: 80}]}\n'], 'invalid', /Unsupported value: "Bogus"/);
    // Kubernetes objects are deleted through kubectl, as one undoable change.
    await ok('remove', 'kube', [{ kind: 'service', name: 'web', namespace: 'default' }]);
    assert.ok(!(await ok<LabView>('view', 'kube')).cluster!.services.some((s) => s.name === 'web'));
    await ok('undo', 'kube');
    assert.ok((await ok<LabView>('view', 'kube')).cluster!.services.some((s) => s.name === 'web'));
    // A lab without a cluster refuses manifests.
    await fails('apply', ['net', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n'], 'failed', /no cluster/);
  });

  it('never lets a lab reference reach a file', async () => {
    await fails('view', ['/etc/passwd'], 'invalid', /lab name/);
    await fails('doc', ['..'], 'invalid', /lab name/);
    await fails('createLab', ['evil.json'], 'invalid', /lab name/);
    await fails('renameLab', ['net', 'a\\b'], 'invalid', /lab name/);
  });

  it('counts rule lines added and removed', () => {
    assert.deepEqual(lineDiff(['a', 'b', 'b'], ['b', 'c', 'c']), { added: 2, removed: 2 });
    assert.deepEqual(lineDiff([], []), { added: 0, removed: 0 });
  });

  it('picks the next free address on a LAN', () => {
    const doc = emptyLab('x');
    doc.lans = [{ name: 'a' }, { name: 'b' }];
    assert.equal(nextLanAddress(doc, 'b'), '10.0.2.1/24');
    doc.hosts = [{ name: 'h', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '192.168.5.1/29' }, { dev: 'eth1', lan: 'b', ip: '10.0.2.1/24' }] }];
    assert.equal(nextLanAddress(doc, 'a'), '192.168.5.2/29');
    assert.equal(nextLanAddress(doc, 'b'), '10.0.2.2/24');
  });
});
