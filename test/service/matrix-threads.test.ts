// The connectivity matrix shared out among worker threads (main/service/matrix-threads.ts):
// every worker builds its own copy of the lab from the document, and the result is the
// single-threaded matrix, cell by cell, reasons included; a worker whose lab comes out
// otherwise takes no rows, and the caller traces them itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectivityMatrix } from '../../main/engine/cluster/matrix.ts';
import { threadedMatrix } from '../../main/service/matrix-threads.ts';
import { decodeObject } from '../../main/engine/kube/objects/decode.ts';
import { clusterLab } from '../engine/cluster/lab-cluster.ts';
import { modelYaml, NAMESPACES, POLICY_SETS } from '../engine/cluster/policy-sets.ts';

const namespaces = [...NAMESPACES];

test('two worker threads give the single-threaded matrix, cell by cell, under policies that block some cells', () => {
  const l = clusterLab({ nodes: 2, proxy: 'current' }, 11);
  l.apply(modelYaml());
  const set = POLICY_SETS.find((s) => s.name.startsWith('several policies on x/a add up'))!;
  l.apply(set.yaml);
  // (a connection in conntrack's table when the matrix starts is part of the state copied)
  l.sh('x/a', 'curl -s -m 1 y/b');
  const opts = { port: 80, proto: 'tcp' as const, namespaces };
  const single = connectivityMatrix(l.lab, opts);
  const cells = single.pods.flatMap((f) => single.pods.map((t) => single.cells[f][t].allowed));
  assert.ok(cells.includes(true) && cells.includes(false), 'the policies allow some cells and block others');
  // (every row from a worker: the caller here would otherwise trace all nine before a worker
  // has built its lab)
  const stats = { workerRows: -1 };
  const threaded = threadedMatrix(l.lab, opts, { threads: 2, workersOnly: true, stats });
  assert.equal(stats.workerRows, 9);
  assert.deepEqual(threaded, single);
  // Shared with the caller, as kpl matrix does it.
  assert.deepEqual(threadedMatrix(l.lab, opts, { threads: 1, stats }), single);
  assert.deepEqual(Object.keys(threaded.cells), single.pods, 'rows in the matrix order');
});

test('workers whose lab differs from the caller\'s take no rows: the caller traces them all', () => {
  const l = clusterLab({ nodes: 2, proxy: 'current' }, 11);
  l.apply(modelYaml());
  const other = clusterLab({ nodes: 2, proxy: 'current' }, 11); // no pods at all
  const opts = { port: 81, proto: 'udp' as const, namespaces };
  const single = connectivityMatrix(l.lab, opts);
  assert.equal(single.pods.length, 9);
  const stats = { workerRows: -1 };
  const t0 = Date.now();
  assert.deepEqual(threadedMatrix(l.lab, opts, { threads: 2, doc: other.lab.toDoc(), workersOnly: true, stats }), single);
  assert.equal(stats.workerRows, 0);
  assert.ok(Date.now() - t0 < 60_000, 'the caller did not wait out its deadline');
  // A lab changed outside its journal (an object written to the API store directly) is not what
  // its document rebuilds: the workers see it and take no rows.
  const pod = l.lab.cluster!.store.view('Pod').find((p) => p.metadata.namespace === 'x' && p.metadata.name === 'b')!;
  const changed = decodeObject({ ...pod, metadata: { name: 'b', namespace: 'x', labels: { ...pod.metadata.labels, extra: 'yes' } } }, l.lab.cluster!.store.minor, 'test');
  assert.ok(changed.ok);
  l.lab.cluster!.store.apply(changed.obj);
  l.lab.cluster!.flush();
  assert.deepEqual(threadedMatrix(l.lab, opts, { threads: 1, workersOnly: true, stats }), single);
  assert.equal(stats.workerRows, 0);
});
