// kubectl label through a whole lab: labelling the article's frontend pod with the label the
// allow-db-access policy admits puts it in Calico's selector set, and its connection to db,
// dropped before, is delivered; removing the label drops it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-db-access}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {networking/allow-db-access: "true"}}
`;

test('kubectl label in the cluster console: Felix follows the label, the policy lets the pod in', () => {
  const service = new LabService({ db: ':memory:' });
  try {
    const api = new LabApiImpl(service);
    api.createExample('network-policy', 'np');
    api.apply('np', POLICY);
    const fe = 'frontend-8b474f47-zdqdv';
    const outcome = () => (api.trace('np', { from: `pod/default/${fe}`, to: 'db:80', proto: 'tcp' }).json as { outcome: string }).outcome;
    const inSet = () => /^10\.88\.0\.24$/m.test(api.exec('np', 'minikube', ['ipset', 'list', 'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge']).stdout);
    assert.equal(outcome(), 'dropped');
    assert.equal(inSet(), false);
    const r = api.exec('np', '@cluster', ['kubectl', 'label', 'pod', fe, 'networking/allow-db-access=true']);
    assert.deepEqual([r.stdout, r.code], [`pod/${fe} labeled\n`, 0]);
    assert.equal(inSet(), true);
    assert.equal(outcome(), 'delivered');
    assert.equal(api.exec('np', '@cluster', ['kubectl', 'label', 'pod', fe, 'networking/allow-db-access-']).stdout, `pod/${fe} unlabeled\n`);
    assert.equal(inSet(), false);
    assert.equal(outcome(), 'dropped');
  } finally {
    service.close();
  }
});
