// forkTrace (what if, forked at a host): a trace carries the revision it ran on; replayed from
// that revision up to a host and on the lab as it is now from there on. The article's NodePort
// scene (example 'traffic-policy', externalTrafficPolicy: Cluster): client → minikube-m02:30080
// is DNATed on minikube-m02 and goes through the IPIP tunnel to the pod on minikube.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { checkCall } from '../../shared/api/contract.ts';
import { forkAt } from '../../shared/api/trace-diff.ts';
import { navOf, walkOf } from '../../shared/api/trace-nav.ts';
import type { TraceJson } from '../../shared/trace-json.ts';

const REQ = { from: 'client', to: 'minikube-m02:30080', proto: 'tcp' as const, seed: 3 };

describe('forkTrace', () => {
  const service = new LabService({ db: ':memory:' });
  const api = new LabApiImpl(service);
  api.createExample('traffic-policy', 'etp', { proxy: 'legacy' });
  const t = api.trace('etp', REQ);
  const json = walkOf(t) as unknown as TraceJson;
  const rev = t.rev as number;
  const nav = navOf(walkOf(t));
  /** Where the packet is first received on minikube. */
  const atMinikube = forkAt(nav, nav.rows.findIndex((r) => r.phase === 'packet' && r.step.host === 'minikube'))!;

  it('says the revision a trace ran on', () => {
    assert.equal(json.outcome, 'delivered');
    assert.ok(Number.isInteger(rev) && rev > 0);
    assert.equal(rev, service.history('etp').find((h) => h.current)?.seq);
    assert.equal(atMinikube.phase, 'packet');
    assert.ok(atMinikube.hop >= 1);
  });

  it('replays from the forked host on the changed lab, the hosts before it as they were', () => {
    // minikube-m02 drops forwarded TCP now: traced afresh the request dies there; forked where
    // it reaches minikube, it gets through (minikube-m02 as it was) and its reply dies there.
    assert.equal(api.exec('etp', 'minikube-m02', ['iptables', '-I', 'FORWARD', '-p', 'tcp', '-j', 'DROP']).code, 0);
    assert.equal((walkOf(api.trace('etp', REQ)) as unknown as TraceJson).outcome, 'dropped');
    const f = walkOf(api.forkTrace('etp', REQ, { rev, ...atMinikube })) as unknown as TraceJson;
    assert.equal(f.outcome, 'delivered');
    assert.deepEqual(f.fork, { ...atMinikube, switched: true });
    assert.equal(f.reply?.outcome, 'dropped');
    assert.match(f.reply?.reason ?? '', /filter FORWARD on minikube-m02$/);
    // Forked where it started: the changed lab throughout.
    assert.equal((walkOf(api.forkTrace('etp', REQ, { rev, phase: 'packet', hop: 0 })) as unknown as TraceJson).outcome, 'dropped');
    // The revision as it was is still the base: a fork at its own revision's end is the trace.
    const same = walkOf(api.forkTrace('etp', REQ, { rev, phase: 'ack', hop: 60 })) as unknown as TraceJson;
    assert.equal(same.fork?.switched, false);
    assert.deepEqual(same.steps, json.steps);
  });

  it('keeps the revision with a saved trace in its lab, not in a .kpl file', () => {
    // (traced again as it is saved: on the lab as it is now, changed by the tests above)
    api.saveTrace('etp', 'walk', REQ);
    const now = service.history('etp').find((h) => h.current)?.seq;
    assert.ok(now !== undefined && now > rev);
    assert.equal(api.savedTrace('etp', 'walk').trace.rev, now);
    api.duplicateLab('etp', 'etp-copy');
    assert.equal(api.savedTrace('etp-copy', 'walk').trace.rev, now, 'a copy keeps the history');
    // a report the window saves (it says its revision beside it)
    api.saveTraceReport('etp', 'as shown', t);
    assert.equal(api.savedTrace('etp', 'as shown').trace.rev, rev);
    const text = service.exportScenario('etp');
    const saved = (JSON.parse(text) as { traces: { name: string; report: Record<string, unknown> }[] }).traces.find((x) => x.name === 'walk')!;
    assert.equal('rev' in saved.report, false);
    // (a file that says one all the same: an imported lab's history starts again)
    saved.report.rev = rev;
    const file = JSON.parse(text) as { traces: unknown[] };
    file.traces = [saved];
    const name = service.importScenario(JSON.stringify(file), { name: 'etp-imported' });
    const back = api.savedTrace(name, 'walk').trace;
    assert.equal('rev' in back, false);
    assert.equal(walkOf(back).outcome, walkOf(api.savedTrace('etp', 'walk').trace).outcome);
  });

  it('validates its arguments and needs the store', () => {
    assert.match(checkCall('forkTrace', ['etp', REQ, { rev, phase: 'sideways', hop: 1 }])?.message ?? '', /argument 3.phase/);
    assert.match(checkCall('forkTrace', ['etp', REQ, { rev, phase: 'packet', hop: -1 }])?.message ?? '', /argument 3.hop/);
    assert.equal(checkCall('forkTrace', ['etp', REQ, { rev, phase: 'reply', hop: 2 }]), null);
    assert.throws(() => api.forkTrace('etp', REQ, { rev: 99_999, phase: 'packet', hop: 1 }), /revision|99999/);
    service.close();
  });
});
