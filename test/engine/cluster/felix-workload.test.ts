// Felix's conntrack cleanup: when a workload's route goes (its pod deleted), Felix runs
// `conntrack --family ipv4 --delete --orig-src IP` and `--reply-src IP` on that node
// (felix/conntrack, called from felix/routetable as the route is removed), so the flows the pod
// started and those it answered leave the node's table; other flows stay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CtEvent } from '../../../main/engine/conntrack/events.ts';
import { clusterLab } from './lab-cluster.ts';

const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n`;

test("a deleted pod's flows leave its node's conntrack table, as Felix deletes them", () => {
  const { lab, sh, apply } = clusterLab({ nodes: 1 });
  for (const p of ['client', 'server', 'other']) apply(pod(p));
  const ipOf = (p: string) => /10\.244\.\d+\.\d+/.exec(sh('minikube', `kubectl get pod ${p} -o wide`).stdout)![0];
  const [server, other] = [ipOf('server'), ipOf('other')];
  assert.equal(sh('default/client', `curl -s ${server}`).stdout, 'server\n');
  assert.equal(sh('default/client', `curl -s ${other}`).stdout, 'other\n');
  assert.equal(sh('default/server', `curl -s ${other}`).stdout, 'other\n');
  const flows = () => sh('minikube', 'conntrack -L -p tcp').stdout.split('\n').filter(Boolean);
  assert.equal(flows().length, 3);
  const events: CtEvent[] = [];
  lab.onCtEvent = (h, ev) => h === 'minikube' && events.push(ev);
  assert.equal(sh('minikube', 'kubectl delete pod server').code, 0);
  const left = flows();
  assert.equal(left.length, 1, left.join('\n'));
  assert.ok(!left[0].includes(server) && left[0].includes(other));
  // one flow answered by the pod (--reply-src), one it started (--orig-src), deleted by conntrack
  assert.deepEqual(events.map((e) => [e.type, e.by?.progname]), [['DESTROY', 'conntrack'], ['DESTROY', 'conntrack']]);
});
