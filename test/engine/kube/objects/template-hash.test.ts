import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computePodTemplateHash, spewPodTemplate } from '../../../../main/engine/kube/objects/template-hash.ts';
import { defaultPodTemplate } from '../../../../main/engine/kube/objects/defaults.ts';
import { fnv32a, safeEncodeString, randomString, ALPHANUMS } from '../../../../main/engine/kube/objects/hash.ts';
import type { PodTemplateSpec } from '../../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../../main/engine/random.ts';

function backendTemplate(): PodTemplateSpec {
  // The article's backend Deployment template, verbatim.
  return {
    metadata: { labels: { app: 'backend', 'networking/allow-db-access': 'true' } },
    spec: {
      volumes: [{ name: 'workdir', emptyDir: {} }],
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.14.2',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 80 }],
          volumeMounts: [{ name: 'workdir', mountPath: '/usr/share/nginx/html' }],
        },
      ],
      initContainers: [
        {
          name: 'install',
          image: 'busybox',
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo $HOSTNAME > /work-dir/index.html'],
          volumeMounts: [{ name: 'workdir', mountPath: '/work-dir' }],
        },
      ],
    },
  };
}

test("the article's backend Deployment hashes to 867fd6dff (backend-867fd6dff-mjf92)", () => {
  const t = backendTemplate();
  defaultPodTemplate(t);
  assert.equal(computePodTemplateHash(t), '867fd6dff');
});

test('the hash follows the template: another image, another hash; collisionCount counts', () => {
  const t = backendTemplate();
  defaultPodTemplate(t);
  const base = computePodTemplateHash(t);
  const t2 = backendTemplate();
  t2.spec.containers[0].image = 'nginx:1.15';
  defaultPodTemplate(t2);
  assert.notEqual(computePodTemplateHash(t2), base);
  assert.notEqual(computePodTemplateHash(t, 1), base);
  assert.match(computePodTemplateHash(t, 1), /^[4-9bcdf]+$/);
});

test('spew renders defaults the way the API server stored them', () => {
  const t = backendTemplate();
  defaultPodTemplate(t);
  const s = spewPodTemplate(t);
  assert.ok(s.startsWith('(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string) '));
  assert.ok(s.includes('Labels:(map[string]string)map[app:backend networking/allow-db-access:true]'));
  assert.ok(s.includes('TerminationGracePeriodSeconds:(*int64)30'));
  assert.ok(s.includes('Command:([]string)[sh -c echo $HOSTNAME > /work-dir/index.html]'));
  assert.ok(s.includes('EmptyDir:(*v1.EmptyDirVolumeSource){Medium:(v1.StorageMedium) SizeLimit:(*resource.Quantity)<nil>}'));
});

test('FNV-32a vectors and the safe encoding of a decimal hash', () => {
  assert.equal(fnv32a(new TextEncoder().encode('')), 0x811c9dc5);
  assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
  assert.equal(fnv32a(new TextEncoder().encode('foobar')), 0xbf9cf968);
  assert.equal(safeEncodeString('423982899'), '867fd6dff');
  assert.equal(safeEncodeString('3315771722'), '7759cc5c66');
});

test('random suffixes use the vowel-free alphabet and follow the seed', () => {
  const a = randomString(new Rng(7), 5), b = randomString(new Rng(7), 5);
  assert.equal(a, b);
  assert.equal(a.length, 5);
  for (const c of a) assert.ok(ALPHANUMS.includes(c));
});
