// The connectivity matrix walks its cells without recording (no steps, events or counters) and
// undoes them from journals: every cell must still say what a full trace of the same connection
// says — allowed or not, and why — and the lab must be left as it was. Checked on random policy
// scenes over the e2e tests' x/y/z model, for TCP, UDP and SCTP on two ports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectivityMatrix, type MatrixCell } from '../../../main/engine/cluster/matrix.ts';
import { Rng } from '../../../main/engine/random.ts';
import { clusterLab, type ClusterLab } from './lab-cluster.ts';
import { modelYaml, NAMESPACES, PLACEMENT, PODS } from './policy-sets.ts';

/** A random scene: a few policies of every shape the model can express. */
function randomPolicies(rng: Rng, n: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const sel = () => pick(['{}', `{matchLabels: {pod: ${pick(PODS)}}}`, `{matchExpressions: [{key: tier, operator: ${pick(['In', 'NotIn'])}, values: [front]}]}`, '{matchExpressions: [{key: tier, operator: Exists}]}']);
  const peer = () =>
    pick([
      `{podSelector: ${sel()}}`,
      `{namespaceSelector: {matchLabels: {ns: "${pick(NAMESPACES)}"}}}`,
      `{namespaceSelector: {matchLabels: {env: ${pick(['dev', 'prod'])}}}, podSelector: ${sel()}}`,
      `{ipBlock: {cidr: 10.244.0.0/16, except: [${pick(['10.244.100.0/24', '10.244.200.0/24'])}]}}`,
    ]);
  const ports = () => pick(['', ', ports: [{port: 80}]', ', ports: [{port: http}]', ', ports: [{port: 81, protocol: UDP}, {port: 80, protocol: SCTP}]', ', ports: [{port: 79, endPort: 81}]']);
  const rules = (dir: 'from' | 'to') => Array.from({ length: 1 + Math.floor(rng.next() * 2) }, () => `  - {${dir}: [${peer()}]${ports()}}`).join('\n');
  const docs: string[] = [];
  for (let k = 0; k < n; k++) {
    const types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    let spec = `  podSelector: ${sel()}\n  policyTypes: [${types.join(', ')}]\n`;
    if (types.includes('Ingress')) spec += rng.next() < 0.15 ? '  ingress: []\n' : `  ingress:\n${rules('from')}\n`;
    if (types.includes('Egress')) spec += rng.next() < 0.15 ? '  egress: []\n' : `  egress:\n${rules('to')}\n`;
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p${k}, namespace: "${pick(NAMESPACES)}"}\nspec:\n${spec}`);
  }
  return docs.join('---\n');
}

/** A cell as a full, recorded trace of the same connection tells it. */
function traced(l: ClusterLab, from: string, to: string, port: number, proto: 'tcp' | 'udp' | 'sctp'): MatrixCell {
  const ip = PLACEMENT[to].ip;
  const t = l.lab.trace({ from, to: `${ip}:${port}`, proto, sport: 40000 }).json;
  const reached = t.outcome === 'delivered' && t.delivered?.host === to;
  const back = t.reply?.outcome === 'delivered' && t.reply.delivered?.host === from;
  const allowed = reached && back;
  return { allowed, reason: allowed ? `connected to ${to} ${ip}:${port}` : !reached ? t.reason : `the answer did not come back: ${t.reply?.reason ?? 'none sent'}` };
}

const state = (l: ClusterLab) => ['minikube', 'minikube-m02'].map((n) => ['iptables-save -c', 'conntrack -L', 'conntrack -S'].map((c) => l.sh(n, c).stdout).join('')).join('');

test('every matrix cell is what a recorded trace of the connection says, and the lab is left as it was', () => {
  const rng = new Rng(2026);
  const namespaces = [...NAMESPACES];
  let allowed = 0;
  let blocked = 0;
  for (let scene = 0; scene < 3; scene++) {
    const l = clusterLab({ nodes: 2, proxy: 'current' }, 5 + scene);
    l.apply(modelYaml());
    l.apply(randomPolicies(rng, 4 + 2 * scene));
    for (const proto of ['tcp', 'udp', 'sctp'] as const) {
      for (const port of [80, 81]) {
        const before = state(l);
        const m = connectivityMatrix(l.lab, { port, proto, namespaces });
        assert.equal(state(l), before, `scene ${scene} ${proto}/${port}: the matrix changed the lab`);
        for (const from of m.pods) {
          for (const to of m.pods) {
            assert.deepEqual(m.cells[from][to], traced(l, from, to, port, proto), `scene ${scene} ${proto}/${port} ${from} -> ${to}`);
            if (m.cells[from][to].allowed) allowed++;
            else blocked++;
          }
        }
      }
    }
  }
  // the scenes allow some cells and block others
  assert.ok(allowed > 50 && blocked > 50, `${allowed} allowed, ${blocked} blocked`);
});
