// Fuzzing the importer: whatever the text, it either gives a scenario or throws its own
// validation error (LabFormatError) — never a TypeError, a RangeError or anything else — and a
// refused import leaves the store as it was.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LabFormatError } from '../../shared/lab-validate.ts';
import { parseScenarioText } from '../../main/service/scenario.ts';
import { LabService } from '../../main/service/lab-service.ts';

const VALID = {
  format: 'kube-packet-lab',
  version: 2,
  name: 'fuzz',
  seed: 5,
  lans: [{ name: 'lan1' }],
  hosts: [
    { name: 'a', listen: [{ port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'lan1', ip: '10.0.0.1/24' }] },
    { name: 'b', listen: [], links: [{ dev: 'eth0', lan: 'lan1', ip: '10.0.0.2/24' }] },
  ],
  veths: [{ a: { host: 'a', dev: 'veth0', ip: '10.9.0.1/30' }, b: { host: 'b', dev: 'veth0' } }],
  journal: [
    { host: 'a', argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] },
    { host: 'a', argv: ['iptables-restore'], stdin: '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 81 -j REDIRECT --to-ports 80\nCOMMIT\n' },
  ],
  notes: 'fuzz me',
  walkthrough: { title: 'T', steps: [{ title: 's', text: 't', host: 'a', command: 'iptables -S' }] },
  layout: { positions: { a: { x: 1, y: 2 } } },
  consoleHistory: [{ host: 'a', lines: ['ip route'] }],
  traces: [{ name: 't1', seed: 1, at: '2026-01-01T00:00:00.000Z', report: { outcome: 'delivered', steps: [] } }],
};

function onlyOwnErrors(text: string): 'ok' | 'refused' {
  try {
    parseScenarioText(text, 'fuzz.kpl');
    return 'ok';
  } catch (e) {
    if (e instanceof LabFormatError) {
      assert.equal(typeof e.message, 'string');
      return 'refused';
    }
    throw new Error(`the importer threw ${String(e)} on ${JSON.stringify(text).slice(0, 300)}`, { cause: e });
  }
}

type Path = (string | number)[];

function paths(v: unknown, p: Path = [], out: Path[] = []): Path[] {
  out.push(p);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) paths(x, [...p, k], out);
  return out;
}

const ALL_PATHS = paths(VALID);

/** A copy of VALID with the value at `path` replaced (undefined: removed), or a key added. */
function mutate(path: Path, value: unknown, mode: 'set' | 'delete' | 'add', key: string): unknown {
  const doc = structuredClone(VALID) as unknown;
  if (path.length === 0) return mode === 'set' ? value : doc;
  let parent = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (mode === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (mode === 'add' && typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) {
    Object.defineProperty(parent[last], key, { value, enumerable: true, configurable: true, writable: true });
  } else parent[last] = value;
  return doc;
}

const nasty = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', '../../etc/passwd', '10.0.0.1/33', 'eth0', 'a', '\u0000', 'x'.repeat(300)),
  fc.constantFrom(-1, 0, 1, 2, 3, 65536, 4294967296, 1e308, -0, 0.5),
  fc.constant(null),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'name', 'host', 'argv'), fc.jsonValue()),
);

test('the importer accepts the valid fixture', () => {
  assert.equal(onlyOwnErrors(JSON.stringify(VALID)), 'ok');
});

test('fuzz: any text is a scenario or a LabFormatError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    onlyOwnErrors(s);
  }), { seed: 1, numRuns: 2000 });
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    onlyOwnErrors(JSON.stringify(v) ?? 'null');
  }), { seed: 2, numRuns: 1000 });
});

test('fuzz: structural mutations of a valid scenario (values, removals, extra and forbidden keys)', () => {
  let refused = 0;
  fc.assert(fc.property(
    fc.constantFrom(...ALL_PATHS), nasty, fc.constantFrom('set', 'delete', 'add') as fc.Arbitrary<'set' | 'delete' | 'add'>, fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', 'name'),
    (path, value, mode, key) => {
      const text = JSON.stringify(mutate(path, value, mode, key));
      if (onlyOwnErrors(text ?? '') === 'refused') refused++;
    },
  ), { seed: 3, numRuns: 3000 });
  assert.ok(refused > 1000, `most mutations should be refused (${refused})`);
});

test('fuzz: byte-level mutations of a valid file', () => {
  const text = JSON.stringify(VALID, null, 2);
  fc.assert(fc.property(fc.nat(text.length - 1), fc.nat(8), fc.string({ maxLength: 4 }), (at, del, ins) => {
    onlyOwnErrors(text.slice(0, at) + ins + text.slice(at + del));
  }), { seed: 4, numRuns: 3000 });
});

test('fuzz through the service: a refused import stores nothing; an accepted one loads', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-fuzz-'));
  const svc = new LabService({ db: join(dir, 'labs.db') });
  t.after(() => {
    svc.close();
    rmSync(dir, { recursive: true, force: true });
  });
  svc.importScenario(JSON.stringify(VALID), { name: 'base' });
  const base = svc.exportScenario('base');
  let stored = 1;
  fc.assert(fc.property(fc.constantFrom(...ALL_PATHS), nasty, fc.constantFrom('set', 'delete') as fc.Arbitrary<'set' | 'delete'>, (path, value, mode) => {
    const text = JSON.stringify(mutate(path, value, mode, 'x')) ?? '';
    try {
      svc.importScenario(text);
      stored++;
    } catch (e) {
      if (!(e instanceof LabFormatError)) throw new Error(`importScenario threw ${String(e)}`, { cause: e });
    }
    assert.equal(svc.list().length, stored);
  }), { seed: 5, numRuns: 300 });
  assert.equal(svc.exportScenario('base'), base);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
