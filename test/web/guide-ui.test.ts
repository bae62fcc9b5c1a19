// The guide panel's pure helpers: the steps Record makes from a console line and from a started
// trace (both valid walkthroughs for setWalkthrough), an action in one line, and the stepper's
// search for a step's `stepTo` rule.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionLine, recordedCommandStep, recordedTraceStep, rowAt } from '../../renderer/guide-steps.ts';
import type { StepJson } from '../../shared/trace-json.ts';
import { checkCall } from '../../shared/api/contract.ts';

const result = (stdout: string, stderr = '', code = 0) => ({ stdout, stderr, code, more: false, consumed: 1, changed: false, packets: 0 });

describe('guide panel helpers', () => {
  it('records a console line as a command step expecting its first output line', () => {
    const s = recordedCommandStep('minikube', 'kubectl get nodes', result('\n  NAME   STATUS\nminikube Ready\n'));
    assert.deepEqual(s, { title: 'kubectl get nodes', text: '', action: { kind: 'command', host: 'minikube', command: 'kubectl get nodes' }, expect: { kind: 'output', contains: ['NAME   STATUS'] } });
    // No output: the exit code is what it expects; a here-document keeps all its lines.
    const q = recordedCommandStep('default/web', 'cat <<EOF >/dev/null\nx\nEOF', result('', '', 0));
    assert.equal(q.title, 'cat <<EOF >/dev/null');
    assert.deepEqual(q.expect, { kind: 'output', code: 0 });
    // Only stderr: its first line.
    assert.deepEqual(recordedCommandStep('h', 'ls /nope', result('', 'ls: /nope: No such file\n', 2)).expect, { kind: 'output', contains: ['ls: /nope: No such file'] });
    assert.equal(checkCall('setWalkthrough', ['lab', { title: 't', steps: [s, q] }]), null);
  });

  it('records a started trace as a trace step expecting its outcome', () => {
    const s = recordedTraceStep({ spec: { from: 'pod/default/client', to: '10.96.0.10:53', proto: 'udp' }, outcome: 'delivered' });
    assert.deepEqual(s, { title: 'trace pod/default/client → 10.96.0.10:53', text: '', action: { kind: 'trace', from: 'pod/default/client', to: '10.96.0.10:53', proto: 'udp' }, expect: { kind: 'trace', outcome: 'delivered' } });
    const t = recordedTraceStep({ spec: { from: 'a', to: 'b:1', proto: 'tcp' }, outcome: 'weird' });
    assert.deepEqual(t.expect, { kind: 'trace' });
    assert.equal(checkCall('setWalkthrough', ['lab', { title: 't', steps: [s, t] }]), null);
  });

  it('says what an action does in one line', () => {
    assert.equal(actionLine({ kind: 'command', host: 'minikube', command: 'ip route' }), 'minikube$ ip route');
    assert.equal(actionLine({ kind: 'trace', from: 'a', to: 'b:80', proto: 'udp', stepTo: { table: 'nat', chain: 'KUBE-SERVICES' } }), 'trace a → b:80 (udp), to nat › KUBE-SERVICES');
    assert.equal(actionLine({ kind: 'apply', yaml: 'apiVersion: v1\nkind: Service\n---\nkind: Pod\n' }), 'kubectl apply (Service, Pod)');
    assert.equal(actionLine({ kind: 'show', target: 'minikube' }), 'show minikube');
  });

  it('finds the first step at a rule', () => {
    const row = (host: string, table: string, chain: string, rule: number | null): { step: StepJson } => ({ step: { host, table, chain, rule, matched: false } });
    const rows = [row('a', 'raw', 'PREROUTING', 1), row('a', 'nat', 'PREROUTING', 1), row('a', 'nat', 'KUBE-SERVICES', 1), row('a', 'nat', 'KUBE-SERVICES', 2), row('b', 'nat', 'KUBE-SERVICES', 1)];
    assert.equal(rowAt(rows, { chain: 'KUBE-SERVICES' }), 2);
    assert.equal(rowAt(rows, { chain: 'KUBE-SERVICES', rule: 2 }), 3);
    assert.equal(rowAt(rows, { chain: 'KUBE-SERVICES', host: 'b' }), 4);
    assert.equal(rowAt(rows, { chain: 'PREROUTING', table: 'nat' }), 1);
    assert.equal(rowAt(rows, { chain: 'OUTPUT' }), -1);
  });
});
