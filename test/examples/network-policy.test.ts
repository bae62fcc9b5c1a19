// The network-policy example: its checks can fail. frontend's `curl db` only times out once the
// policy is applied; the classic mistakes (two labels in one podSelector, which must both match;
// a rule for the wrong port) leave the exercise unsolved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { service, stepIndex } from './helpers.ts';

const FRONTEND = 'default/frontend-8b474f47-zdqdv';

const policy = (from: string, ports = '') => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-access
spec:
  podSelector:
    matchLabels:
      app: "db"
  policyTypes:
  - Ingress
  ingress:
  - from:
${from}${ports}`;

const ARTICLE_PEER = `    - podSelector:
        matchLabels:
          networking/allow-db-access: "true"
`;

for (const layout of ['legacy', 'current'] as const) {
  test(`network-policy (${layout}): frontend's curl db times out only after the policy is applied`, (t) => {
    const svc = service(t);
    svc.createExample('network-policy', 'lab', { proxy: layout });
    const i = stepIndex(svc, 'Apply allow-db-access');
    const before = svc.checkStep('lab', i);
    assert.equal(before.pass, false);
    assert.match(before.detail, /exit code 0, expected 7/);
    const run = svc.runStep('lab', i);
    assert.equal(run.output?.code, 0, run.output?.stderr);
    assert.ok(svc.checkStep('lab', i).pass);
    // the console prints what curl prints
    const r = svc.console('lab', FRONTEND, ['curl db']);
    assert.equal(r?.stderr, 'curl: (7) Failed to connect to db port 80: Connection timed out\n');
    assert.equal(r?.code, 7);
  });
}

test('network-policy: both labels in one podSelector (AND) leave frontend and backend out', (t) => {
  const svc = service(t);
  svc.createExample('network-policy', 'lab');
  const and = policy(`    - podSelector:
        matchLabels:
          networking/allow-db-access: "true"
          app: frontend
`);
  assert.equal(svc.apply('lab', and).code, 0);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  const [exists, frontend, backend] = res.checks;
  assert.ok(exists.pass, exists.detail);
  assert.equal(frontend.pass, false);
  assert.match(frontend.detail, /frontend-8b474f47-zdqdv -> db:80: dropped, expected allowed/);
  assert.equal(backend.pass, false);
  assert.match(backend.detail, /backend-867fd6dff-mjf92 -> db:80: dropped, expected allowed/);
});

test('network-policy: a second peer allowed only on port 8080 does not let frontend in on 80', (t) => {
  const svc = service(t);
  svc.createExample('network-policy', 'lab');
  // ports belong to the whole rule: this one allows both peers on 8080 only
  const wrong = policy(`${ARTICLE_PEER}    - podSelector:
        matchLabels:
          app: frontend
`, `    ports:
    - port: 8080
`);
  assert.equal(svc.apply('lab', wrong).code, 0);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.deepEqual(res.checks.map((c) => c.pass), [true, false, false]);
});

test('network-policy: deleting the policy opens db but does not solve the exercise', (t) => {
  const svc = service(t);
  svc.createExample('network-policy', 'lab');
  assert.equal(svc.apply('lab', policy(ARTICLE_PEER)).code, 0);
  const r = svc.console('lab', 'minikube', ['kubectl delete networkpolicy allow-db-access']);
  assert.equal(r?.code, 0, r?.stderr);
  const res = svc.checkExercises('lab', 0)[0];
  assert.equal(res.pass, false);
  assert.deepEqual(res.checks.map((c) => c.pass), [false, true, true]);
});
