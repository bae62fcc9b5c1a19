import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInvalid, validateObject } from '../../../../main/engine/kube/objects/validate.ts';
import type { Deployment, Service } from '../../../../main/engine/kube/objects/types.ts';

const svc = (spec: Service['spec'], name = 'webapp'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

function message(obj: Service | Deployment, minor = 19): string {
  return formatInvalid(obj.kind, obj.metadata.name, validateObject(obj, minor));
}

test('Service names are DNS-1035 labels', () => {
  assert.equal(
    message(svc({ ports: [{ port: 80 }] }, '1webapp')),
    `The Service "1webapp" is invalid: metadata.name: Invalid value: "1webapp": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  );
});

test('externalTrafficPolicy on a ClusterIP Service: v1.19 and current wording', () => {
  const s = svc({ type: 'ClusterIP', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
  assert.equal(message(s, 19), 'The Service "webapp" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": ExternalTrafficPolicy can only be set on NodePort and LoadBalancer service');
  assert.equal(message(s, 34), 'The Service "webapp" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services');
});

test('unsupported values list the allowed ones; several errors print as a list', () => {
  assert.equal(
    message(svc({ type: 'Foo' as never, ports: [{ port: 80 }] })),
    'The Service "webapp" is invalid: spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  );
  assert.equal(
    message(svc({ ports: [{ port: 80 }, { port: 70000, name: 'b' }] })),
    'The Service "webapp" is invalid: \n* spec.ports[0].name: Required value\n* spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
  );
});

test('nodePort on a ClusterIP Service is forbidden; a Service needs ports', () => {
  assert.equal(message(svc({ ports: [{ port: 80, nodePort: 31000 }] })), "The Service \"webapp\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
  assert.equal(message(svc({ selector: { a: 'b' } })), 'The Service "webapp" is invalid: spec.ports: Required value');
  assert.deepEqual(validateObject(svc({ clusterIP: 'None', selector: { a: 'b' } }), 19), []);
});

test('a Deployment whose selector does not match its template labels', () => {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
  assert.equal(
    message(d),
    'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
  );
});
