import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab, type LabDoc } from '../../shared/lab.ts';
import { labCounts } from '../../shared/scenario.ts';
import { Store } from '../../main/store/store.ts';
import { tmpDbPath } from './tmp.ts';

const SVC = (name: string, ns?: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}  labels:\n    app: ${name}\nspec:\n  selector:\n    app: ${name}\n  ports:\n  - port: 80\n`;

test('labCounts: hosts, nodes (hosts plus cluster nodes), Services from the journal', () => {
  const plain = emptyLab('p');
  plain.hosts = [{ name: 'a', listen: [], links: [] }];
  assert.deepEqual(labCounts(plain), { nodes: 1, hosts: 1, services: 0 });
  const doc = { ...plain, cluster: { nodes: 2 } } as unknown as LabDoc;
  assert.deepEqual(labCounts(doc).services, 2); // default/kubernetes, kube-system/kube-dns
  const yaml = [SVC('web'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n', SVC('dns', 'kube-system')].join('---\n');
  doc.journal = [
    { host: '@cluster', argv: ['kubectl', 'apply', '-f', '-'], stdin: yaml },
    { host: '@cluster', argv: ['kubectl', 'apply', '-f', '-'], stdin: yaml }, // the same objects again
    { host: '@cluster', argv: ['kubectl', 'apply', '-f', '-'], stdin: JSON.stringify({ kind: 'List', items: [{ kind: 'Service', metadata: { name: 'j' } }] }) },
    { host: '@cluster', argv: ['kubectl', 'delete', 'svc', 'web'] },
    { host: '@cluster', argv: ['kubectl', 'delete', 'service/j'] },
    { host: '@cluster', argv: ['kubectl', 'expose', 'deployment/web', '--port', '80', '--name', 'web2'] },
  ];
  assert.deepEqual(labCounts(doc), { nodes: 3, hosts: 1, services: 4 }); // kubernetes, kube-dns, kube-system/dns, web2
});

test('the store keeps the counts of the current revision, through undo and redo', (t) => {
  const s = Store.open(tmpDbPath(t));
  t.after(() => s.close());
  const d1 = emptyLab('x');
  s.labs.createLab('x', d1);
  const d2 = { ...d1, hosts: [{ name: 'a', listen: [], links: [] }, { name: 'b', listen: [], links: [] }] };
  s.labs.saveChange('x', 'hosts', d2);
  assert.deepEqual([s.labs.find('x').nodes, s.labs.find('x').hosts], [2, 2]);
  s.labs.undo('x');
  assert.deepEqual([s.labs.find('x').nodes, s.labs.find('x').hosts], [0, 0]);
  s.labs.redo('x');
  assert.equal(s.labs.find('x').hosts, 2);
  s.labs.duplicateLab('x', 'y');
  assert.equal(s.labs.find('y').hosts, 2);
});
