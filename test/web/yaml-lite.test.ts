// The renderer's small YAML writer: what it writes reads back (with the real parser) as the
// same value, including strings YAML would otherwise take for numbers, booleans or null.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { stringify } from '../../renderer/yaml-lite.ts';
import { deploymentManifest, nextNodeIP, nodeManifest, serviceManifest } from '../../renderer/manifests.ts';

it('writes YAML that reads back as the same value', () => {
  const values: unknown[] = [
    { a: 'yes', b: '80', c: '', d: [], e: {}, f: [[1, 2], { x: 'a: b' }], g: '#x', h: 'null', i: '1.5', j: null, k: true, l: -3.5, 'odd key': 'x\ny', m: ' lead', n: '0x1F', o: '~' },
    [{ name: 'a', ports: [{ port: 80 }] }, 'plain', 7],
    { nested: { deeper: { list: ['a', { b: ['c'] }] } } },
  ];
  for (const v of values) assert.deepEqual(parse(stringify(v)), v);
});

it('makes manifests kubectl can read', () => {
  assert.equal((parse(deploymentManifest('web', 3)) as { spec: { replicas: number } }).spec.replicas, 3);
  const svc = parse(serviceManifest({ name: 's', type: 'NodePort', port: 80, targetPort: 'http', selector: { app: 'web' } })) as { spec: { ports: { targetPort: unknown }[] } };
  assert.equal(svc.spec.ports[0].targetPort, 'http');
  assert.equal((parse(nodeManifest('n1', '192.168.49.2')) as { status: { addresses: { address: string }[] } }).status.addresses[0].address, '192.168.49.2');
  assert.equal(nextNodeIP('192.168.49.0/24', []), '192.168.49.2');
  assert.equal(nextNodeIP('192.168.49.0/24', ['192.168.49.2', '192.168.49.4']), '192.168.49.3');
});
