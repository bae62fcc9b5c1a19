// kube-proxy's first write of a big cluster's rules: the nodes whose nat table is the first
// node's as it was get copies of the first node's chains (restore.ts's twins) instead of
// reading the same 200,000 lines again. A cluster built with twins must be exactly the cluster
// built without: every node's tables (chains in order, rules, counters, built-ins made), each
// rule's origin, and what packets do there — also after a partial sync and a console edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab, WEBAPP_NODEPORT, type ClusterLab } from './lab-cluster.ts';
import { clusterObjects } from '../../bench/gen-cluster.ts';
import { restoreTwins } from '../../../main/engine/netfilter/restore.ts';
import { TABLE_NAMES } from '../../../main/engine/netfilter/types.ts';

const NODES = ['minikube', 'minikube-m02', 'minikube-m03'];
// (enough Services for an input past the size whose reading is kept: 256 KiB)
const objects = clusterObjects(250);
/** The objects as a cluster of that layout serves them (EndpointSlices: v1beta1 in v1.19, v1 now). */
const served = (proxy: 'legacy' | 'current', o: object) =>
  proxy === 'current' && (o as { kind: string }).kind === 'EndpointSlice' ? { ...o, apiVersion: 'discovery.k8s.io/v1' } : o;

function build(proxy: 'legacy' | 'current', twins: boolean): { c: ClusterLab; made: number } {
  const was = restoreTwins.made;
  restoreTwins.enabled = twins;
  try {
    const c = clusterLab({ nodes: 3, proxy });
    // pods on the first node: its filter table (Felix's chains for them) differs from the others'
    c.apply(WEBAPP_NODEPORT);
    const r = c.lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.items.map((o) => served(proxy, o)) }));
    assert.equal(r.code, 0, r.stderr);
    return { c, made: restoreTwins.made - was };
  } finally {
    restoreTwins.enabled = true;
  }
}

/** Each node's tables as they are inside (every field a restore sets) and its rules' origins. */
function state(c: ClusterLab): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of NODES) {
    const nf = c.lab.host(n)!.nf;
    out[n] = TABLE_NAMES.flatMap((t) => [nf.state(t).key(Infinity)!, JSON.stringify([...nf.state(t).table.chains.values()].map((ch) => ch.rules.map((r) => r.origin ?? null)))]);
    out[n].push(c.sh(n, 'iptables-save -c').stdout.replace(/^#.*\n/gm, ''));
  }
  return out;
}

for (const proxy of ['current', 'legacy'] as const) {
  test(`${proxy}: a cluster built with twins is the cluster built without, and goes on the same`, () => {
    const a = build(proxy, true);
    const b = build(proxy, false);
    assert.equal(a.made, 2, 'the second and third nodes took the first one\'s nat table');
    assert.equal(b.made, 0);
    assert.deepEqual(state(a.c), state(b.c));
    // the same packets, counted the same
    const ipOf = (svc: string) => /^(\S+)/.exec(a.c.sh('@cluster', `kubectl get svc ${svc} -o jsonpath={.spec.clusterIP}`).stdout)![1];
    const web = ipOf('webapp');
    for (const c of [a.c, b.c]) {
      for (const n of NODES) assert.equal(c.sh(n, `curl -s -o /dev/null -w %{http_code} http://${web}`).stdout, '200', `${n} → webapp`);
    }
    const ip = ipOf('svc7');
    const trace = (c: ClusterLab) => c.lab.trace({ from: 'minikube-m02', to: `${ip}:80`, proto: 'tcp', seed: 5 }).json;
    assert.deepEqual(trace(a.c), trace(b.c));
    // a partial sync (one Service's endpoints moved) and a console edit on a twin node
    for (const c of [a.c, b.c]) {
      const r = c.lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], JSON.stringify(served(proxy, objects.slice(7, 1))));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(c.sh('minikube-m03', 'iptables -t nat -I KUBE-SERVICES 1 -d 192.0.2.1/32 -j RETURN').code, 0);
    }
    assert.deepEqual(state(a.c), state(b.c));
    // what a node's console changed is that node's alone
    assert.doesNotMatch(a.c.sh('minikube-m02', 'iptables -t nat -S KUBE-SERVICES').stdout, /192\.0\.2\.1/);
    assert.match(a.c.sh('minikube-m03', 'iptables -t nat -S KUBE-SERVICES').stdout, /192\.0\.2\.1/);
  });
}
