// The ServicePort cache finds what changed by object identity (the store replaces an object
// when it changes). Random edits of Services and EndpointSlices — replaced, added, removed,
// moved to another Service — must give what servicePortsOf makes from scratch, and a Service
// whose objects did not change must keep its very ServicePort objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServicePortCache, servicePortsOf } from '../../../main/engine/cluster/service-ports.ts';
import type { EndpointSlice, Service } from '../../../main/engine/kube/objects/types.ts';
import { Rng } from '../../../main/engine/random.ts';

let rv = 0;
function service(name: string, ports: number[]): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', resourceVersion: String(++rv) },
    spec: { clusterIP: `10.96.0.${name.length}`, ports: ports.map((p, i) => ({ name: i ? `p${i}` : '', port: p, protocol: 'TCP' })) },
  } as Service;
}

function slice(name: string, owner: string, ips: string[], portName = ''): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': owner }, resourceVersion: String(++rv) },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: portName, port: 8080, protocol: 'TCP' }],
  } as EndpointSlice;
}

test('random changes: the cache gives what is made from scratch, and keeps unchanged Services\' objects', () => {
  const rng = new Rng(7);
  const int = (n: number) => Math.floor(rng.next() * n);
  const names = Array.from({ length: 12 }, (_, i) => `svc${i}`);
  let services = names.map((n) => service(n, [80]));
  let slices = names.map((n, i) => slice(`${n}-a`, n, [`10.1.${i}.1`]));
  const cache = new ServicePortCache();
  let last = cache.of(services, slices);
  for (let step = 0; step < 300; step++) {
    const before = new Map(services.map((s) => [s.metadata.name, s]));
    const sliceObjs = new Set(slices);
    const x = rng.next();
    if (x < 0.2) {
      const i = int(services.length);
      services = services.map((s, k) => (k === i ? service(s.metadata.name, int(2) ? [80] : [80, 443]) : s));
    } else if (x < 0.45) {
      const i = int(slices.length);
      slices = slices.map((s, k) => (k === i ? slice(s.metadata.name, s.metadata.labels!['kubernetes.io/service-name'], [`10.2.${step}.${int(3)}`, `10.1.${k}.1`], int(3) ? '' : 'p1') : s));
    } else if (x < 0.6) {
      slices = [...slices, slice(`x${step}`, names[int(names.length)], [`10.3.${step}.1`])].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    } else if (x < 0.75 && slices.length > 1) {
      const i = int(slices.length);
      slices = slices.filter((_, k) => k !== i);
    } else if (x < 0.85) {
      // A slice moves to another Service (its label changes).
      const i = int(slices.length);
      slices = slices.map((s, k) => (k === i ? slice(s.metadata.name, names[int(names.length)], s.endpoints!.map((e) => e.addresses[0])) : s));
    } else if (x < 0.92) {
      const i = int(services.length);
      services = services.filter((_, k) => k !== i);
    } else {
      const name = names[int(names.length)];
      if (!services.some((s) => s.metadata.name === name)) services = [...services, service(name, [80])].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    }
    const got = cache.of(services, slices);
    assert.deepEqual(got, servicePortsOf(services, slices), `step ${step}`);
    // Unchanged Service object, and none of its slices new or gone: the same ServicePorts.
    for (const svc of services) {
      const name = svc.metadata.name;
      if (before.get(name) !== svc) continue;
      const mine = (list: Iterable<EndpointSlice>) => [...list].filter((s) => s.metadata.labels!['kubernetes.io/service-name'] === name);
      const now = mine(slices);
      const then = mine(sliceObjs);
      if (now.length !== then.length || now.some((s) => !sliceObjs.has(s))) continue;
      const a = got.filter((p) => p.name === name);
      const b = last.filter((p) => p.name === name);
      assert.equal(a.length, b.length, `step ${step} ${name}`);
      a.forEach((p, k) => assert.equal(p, b[k], `step ${step} ${name}: a new ServicePort object`));
    }
    last = got;
  }
});
