// The nodeport example: its checks can fail. A taken or out-of-range nodePort is refused as the
// API server would and leaves the exercise unsolved, as does a ClusterIP Service on the right
// port; the refusal step fails once the port is free; the article's (legacy) listings do not
// hold on a current node, which is why the walkthrough follows the layout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { service, stepIndex } from './helpers.ts';
import { nodePort } from '../../main/examples/nodeport.ts';

const frontend = (type: string, port: string) => `apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  type: ${type}
  selector:
    app: webapp
  ports:
    - ${port}
`;

test('nodeport: a taken nodePort is refused and the exercise stays unsolved', (t) => {
  const svc = service(t);
  svc.createExample('nodeport', 'lab');
  const r = svc.console('lab', 'minikube', ['kubectl apply -f - <<EOF', ...frontend('NodePort', 'port: 80\n      nodePort: 31380').split('\n'), 'EOF']);
  assert.equal(r?.code, 1);
  assert.equal(r?.stderr, 'The Service "frontend" is invalid: spec.ports[0].nodePort: Invalid value: 31380: provided port is already allocated\n');
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.match(res.checks[0].detail, /unroutable|refused|dropped/);
});

test('nodeport: an out-of-range nodePort is refused and the exercise stays unsolved', (t) => {
  const svc = service(t);
  svc.createExample('nodeport', 'lab');
  const r = svc.console('lab', 'minikube', ['kubectl apply -f - <<EOF', ...frontend('NodePort', 'port: 80\n      nodePort: 40080').split('\n'), 'EOF']);
  assert.equal(r?.code, 1);
  assert.equal(r?.stderr, 'The Service "frontend" is invalid: spec.ports[0].nodePort: Invalid value: 40080: provided port is not in the valid range. The range of valid ports is 30000-32767\n');
  assert.equal(svc.checkExercises('lab', 0)[0].pass, false);
});

test('nodeport: a ClusterIP Service on port 30080 does not open the node to the outside', (t) => {
  const svc = service(t);
  svc.createExample('nodeport', 'lab');
  const r = svc.apply('lab', frontend('ClusterIP', 'port: 30080\n      targetPort: 80'));
  assert.equal(r.code, 0, r.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.equal(res.checks[0].pass, false, res.checks[0].detail);
  assert.ok(res.checks[1].pass, res.checks[1].detail);
});

test('nodeport: the refusal step and the listings fail once webapp no longer holds 31380', (t) => {
  const svc = service(t);
  svc.createExample('nodeport', 'lab');
  const refused = stepIndex(svc, 'A taken nodePort is refused');
  const nodeports = stepIndex(svc, 'KUBE-NODEPORTS');
  assert.ok(svc.checkStep('lab', refused).pass);
  assert.ok(svc.checkStep('lab', nodeports).pass);
  const r = svc.console('lab', 'minikube', ['kubectl delete svc webapp']);
  assert.equal(r?.code, 0, r?.stderr);
  const a = svc.checkStep('lab', refused);
  assert.equal(a.pass, false);
  assert.match(a.detail, /exit code 0, expected 1/);
  const b = svc.checkStep('lab', nodeports);
  assert.equal(b.pass, false);
  assert.match(b.detail, /KUBE-MARK-MASQ tcp -- anywhere anywhere \/\* default\/webapp \*\/ tcp dpt:31380" was not printed/);
  assert.equal(svc.checkStep('lab', stepIndex(svc, 'client to NodeIP:31380')).pass, false);
});

test('nodeport: the article\'s (legacy) listings fail on a current node', (t) => {
  const svc = service(t);
  svc.createExample('nodeport', 'lab', { proxy: 'current' });
  svc.setWalkthrough('lab', nodePort.walkthrough('legacy'));
  const failing = svc.doc('lab').walkthrough!.steps.flatMap((s, i) => (svc.checkStep('lab', i).pass ? [] : [s.title]));
  assert.deepEqual(failing, ['KUBE-SERVICES: ClusterIP first, NodePorts last', 'KUBE-NODEPORTS', 'KUBE-SVC: pick an endpoint']);
});
