import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from '../../../../main/engine/shell/kubectl/age.ts';
import { table, tabwrite, DESCRIBE } from '../../../../main/engine/shell/kubectl/tabwriter.ts';
import { toGoYaml, sortKeys } from '../../../../main/engine/shell/kubectl/goyaml.ts';
import { execJsonPath } from '../../../../main/engine/shell/kubectl/jsonpath.ts';
import { goJsonIndent } from '../../../../main/engine/shell/kubectl/output.ts';

test('AGE: duration.HumanDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'], [24, '24s'], [119, '119s'], [120, '2m'], [302, '5m2s'], [600, '10m'], [85 * 60, '85m'], [3 * 3600, '3h'],
    [3 * 3600 + 120, '3h2m'], [8 * 3600, '8h'], [47 * 3600, '47h'], [3 * 86400 + 13 * 3600, '3d13h'], [6 * 86400 + 3600, '6d1h'],
    [3 * 86400, '3d'], [8 * 86400, '8d'], [400 * 86400, '400d'], [3 * 365 * 86400 + 5 * 86400, '3y5d'], [9 * 365 * 86400, '9y'], [-5, '<invalid>'],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s), want, String(s));
});

test("tabwriter: columns padded by 3, at least 6 wide, last column unpadded", () => {
  assert.equal(table([['A', 'BB', 'C'], ['xxxxxxx', 'y', 'z']]), 'A         BB    C\nxxxxxxx   y     z\n');
});

test('tabwriter column blocks: a line without the column ends the block (describe)', () => {
  const text = 'Name:\tx\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tReplicaSet/r\n';
  assert.equal(tabwrite(text, DESCRIBE), 'Name:  x\nIPs:\n  IP:           10.0.0.1\nControlled By:  ReplicaSet/r\n');
});

test('go-yaml: quoting, key order, sequences, literal blocks, folding past column 80', () => {
  const y = toGoYaml({
    b: ['x', { k: 'v', a: 1 }],
    a: { empty: '', num: '80', t: 'True', ts: '2020-11-05T05:26:27Z', star: '*', colon: 'a: b', plain: 'app=web' },
    key10: 1,
    key9: 2,
    multi: '{"a":1}\n',
    long: "projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access == 'true'",
    none: null,
    list: [],
    map: {},
  });
  assert.equal(
    y,
    `a:
  colon: 'a: b'
  empty: ""
  num: "80"
  plain: app=web
  star: '*'
  t: "True"
  ts: "2020-11-05T05:26:27Z"
b:
- x
- a: 1
  k: v
key9: 2
key10: 1
list: []
long: projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access == 'true'
map: {}
multi: |
  {"a":1}
none: null
`,
  );
  // The article's calicoctl output: a plain scalar folded at the first space past column 80.
  const sel = "projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access == 'true'";
  assert.equal(
    toGoYaml({ items: [{ spec: { ingress: [{ action: 'Allow', destination: {}, source: { selector: sel } }] } }] }),
    `items:
- spec:
    ingress:
    - action: Allow
      destination: {}
      source:
        selector: projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access
          == 'true'
`,
  );
  assert.deepEqual(sortKeys(['a10', 'a9', 'B', 'a', 'a.b']), ['B', 'a', 'a.b', 'a9', 'a10']);
});

test('json output: four-space indent, sorted keys, HTML characters escaped', () => {
  assert.equal(goJsonIndent({ b: [], a: { c: '<x>' }, d: {} }), '{\n    "a": {\n        "c": "\\u003cx\\u003e"\n    },\n    "b": [],\n    "d": {}\n}\n');
});

test('jsonpath: fields, wildcards, filters, ranges, literals, maps as JSON', () => {
  const data = {
    items: [
      { metadata: { name: 'a', labels: { app: 'x' } }, status: { addresses: [{ type: 'InternalIP', address: '192.168.49.2' }, { type: 'Hostname', address: 'a' }] } },
      { metadata: { name: 'b' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.49.3' }] } },
    ],
  };
  assert.equal(execJsonPath('{.items[*].metadata.name}', data), 'a b');
  assert.equal(execJsonPath('{.items[0].metadata.labels}', data), '{"app":"x"}');
  assert.equal(execJsonPath('{.items[*].status.addresses[?(@.type=="InternalIP")].address}', data), '192.168.49.2 192.168.49.3');
  assert.equal(execJsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.status.addresses[0].address}{"\\n"}{end}', data), 'a\t192.168.49.2\nb\t192.168.49.3\n');
  assert.equal(execJsonPath('names: {.items[*].metadata.missing}', data), 'names: ');
  assert.equal(execJsonPath("{.items[1]['metadata']['name']}", data), 'b');
});
