// Sending a packet from the canvas (renderer/send-ends.ts): the trace ends worked out from the
// lab's view for a right-clicked source and a clicked destination — and those ends, traced by the
// engine, take the packet to the element clicked.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { canSend, fromOf, traceEnds, type CanvasEnd } from '../../renderer/send-ends.ts';
import type { LabView, TraceResult } from '../../shared/api/contract.ts';

/** The first packet's outcome and the host it reached. */
const end = (t: TraceResult) => (t as { json: { outcome: string; reason: string; delivered?: { host: string } } }).json;

describe('sending a packet from the canvas', () => {
  let dir: string;
  let api: LabApiImpl;
  let view: LabView;
  let els: CanvasEnd[];
  const el = (kind: string, name: string): CanvasEnd => {
    const d = els.find((e) => e.kind === kind && e.name.startsWith(name));
    assert.ok(d, `${kind} ${name} on the canvas`);
    return d;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-send-'));
    api = new LabApiImpl(new LabService({ db: join(dir, 'labs.db') }));
    api.createExample('network-policy', 'np', { proxy: 'current' });
    api.addHost('np', 'outside', { listen: [{ port: 53, proto: 'udp' }] });
    api.addLink('np', 'outside', api.view('np').cluster!.lan!, '192.168.49.100/24');
    view = api.view('np');
    // The canvas's elements as renderer/graph.ts makes them (ids and kinds).
    const c = view.cluster!;
    els = [
      ...c.nodes.map((n) => ({ id: `n:${n.name}`, kind: 'node', name: n.name })),
      ...c.pods.map((p) => ({ id: `p:${p.namespace}/${p.name}`, kind: 'pod', name: p.name, namespace: p.namespace })),
      ...c.services.map((s) => ({ id: `s:${s.namespace}/${s.name}`, kind: 'service', name: s.name, namespace: s.namespace })),
      ...c.deployments.map((d) => ({ id: `d:${d.namespace}/${d.name}`, kind: 'deployment', name: d.name, namespace: d.namespace })),
      ...view.hosts.map((h) => ({ id: `h:${h.name}`, kind: h.kind, name: h.name })),
      ...view.lans.map((l) => ({ id: `l:${l.name}`, kind: 'lan', name: l.name })),
    ];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pods, nodes and hosts send; Services, Deployments and LANs do not', () => {
    assert.equal(fromOf(el('pod', 'frontend')), `pod/default/${el('pod', 'frontend').name}`);
    assert.equal(fromOf(el('node', 'minikube')), 'node/minikube');
    assert.equal(fromOf(el('host', 'outside')), 'outside');
    for (const [k, n] of [['service', 'backend'], ['deployment', 'frontend'], ['lan', '']] as const) assert.equal(canSend(el(k, n)), false, k);
    assert.equal(traceEnds(view, el('service', 'backend'), el('pod', 'db')), null, 'a Service sends nothing');
  });

  it('a packet to a Service goes to its cluster IP and first port, and reaches one of its pods', async () => {
    const spec = traceEnds(view, el('pod', 'frontend'), el('service', 'backend'));
    assert.deepEqual(spec, { from: `pod/default/${el('pod', 'frontend').name}`, to: 'backend.default:80', proto: 'tcp' });
    const t = end(await api.trace('np', spec!));
    assert.equal(t.outcome, 'delivered', t.reason);
    assert.equal(t.delivered?.host, `default/${el('pod', 'backend').name}`);
  });

  it('a packet to a pod goes to its address and its port as an endpoint; to a node, its first NodePort or 80; to a host, its first listening port', async () => {
    const db = el('pod', 'db');
    const toDb = traceEnds(view, el('pod', 'backend'), db)!;
    assert.deepEqual(toDb, { from: `pod/default/${el('pod', 'backend').name}`, to: `pod/default/${db.name}:80`, proto: 'tcp' });
    const t = end(await api.trace('np', toDb));
    assert.equal(t.delivered?.host, `default/${db.name}`, t.reason);
    const nodePort = view.cluster!.services.flatMap((s) => s.ports).find((p) => p.nodePort)?.nodePort ?? 80;
    assert.deepEqual(traceEnds(view, el('host', 'outside'), el('node', 'minikube')), { from: 'outside', to: `node/minikube:${nodePort}`, proto: 'tcp' });
    const toHost = traceEnds(view, el('node', 'minikube'), el('host', 'outside'))!;
    assert.deepEqual(toHost, { from: 'node/minikube', to: '192.168.49.100:53', proto: 'udp' });
    const u = end(await api.trace('np', toHost));
    assert.equal(u.delivered?.host, 'outside', u.reason);
  });

  it('an element to itself, a LAN or a Deployment is no destination', () => {
    const f = el('pod', 'frontend');
    assert.equal(traceEnds(view, f, f), null);
    assert.equal(traceEnds(view, f, el('lan', '')), null);
    assert.equal(traceEnds(view, f, el('deployment', 'db')), null);
  });
});
