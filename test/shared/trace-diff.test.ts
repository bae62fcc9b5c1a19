// trace-diff: two walks of one packet aligned (LCS over step keys), the first divergence, folds,
// the replay's request, and the deciding rule with the Kubernetes object behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignRows, commentsOf, decisionOf, decisionText, foldPairs, originNames, replayRequest, serviceOf, stepKey } from '../../shared/api/trace-diff.ts';
import { navOf, type Walk } from '../../shared/api/trace-nav.ts';
import type { StepJson } from '../../shared/trace-json.ts';

const step = (chain: string, rule: number | null, spec: string | null, matched: boolean, verdict: string | null = null, extra: Partial<StepJson> = {}): StepJson =>
  ({ host: 'minikube', hook: 'FORWARD', table: 'filter', chain, rule, rule_spec: spec, matched, verdict, ...extra });

const TW = 'cali-tw-cali95aa86cbb2a';
const PI = 'cali-pi-_tTE-E7yY40ogArNVgKt';
const head: StepJson[] = [
  step('FORWARD', 1, '-A FORWARD -j cali-FORWARD', true, 'cali-FORWARD'),
  step('cali-FORWARD', 1, '-A cali-FORWARD -j cali-to-wl-dispatch', true, 'cali-to-wl-dispatch'),
  step('cali-to-wl-dispatch', 1, `-A cali-to-wl-dispatch -o cali95aa86cbb2a -g ${TW}`, true, TW),
  step(TW, 1, `-A ${TW} -m comment --comment "cali:eCrq" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, false, null, { why: 'ctstate NEW' }),
];
/** With the policy: through its chain, then Calico's drop. */
const dropped: Walk = {
  outcome: 'dropped', reason: `dropped by rule 4 of filter ${TW} on minikube`,
  packet: { src: '10.88.0.24', dst: '10.106.125.191', proto: 'tcp', sport: 40000, dport: 80 },
  events: [{ host: 'default/frontend-8b474f47-zdqdv', kind: 'inject', text: 'sent by a local socket', at: 0 }, { host: 'minikube', kind: 'receive', text: 'in cali505', at: 0 }],
  steps: [
    ...head,
    step(TW, 2, `-A ${TW} -m comment --comment "cali:pm-L" -m mark --mark 0x0/0x20000 -j ${PI}`, true, PI),
    step(PI, 1, `-A ${PI} -m comment --comment "cali:M4Un" -m set --match-set cali40s:LrVD src -j MARK --set-xmark 0x10000/0x10000`, false, null, { why: 'src not in set' }),
    step(PI, null, null, true, 'RETURN'),
    step(TW, 3, `-A ${TW} -m comment --comment "cali:q_zG" -m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN`, false),
    step(TW, 4, `-A ${TW} -m comment --comment "cali:FUDV" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP`, true, 'DROP'),
  ],
};
(dropped as { seed?: number }).seed = 1135788947;
/** The policy deleted: the endpoint chain goes straight to its profile, accepted. */
const delivered: Walk = {
  outcome: 'delivered', reason: 'delivered to default/db-8d66ff5f7-bp6kf 10.88.0.26:80',
  packet: dropped.packet,
  steps: [
    ...head,
    step(TW, 2, `-A ${TW} -m comment --comment "cali:X19Z" -j cali-pri-kns.default`, true, 'cali-pri-kns.default'),
    step('cali-pri-kns.default', 1, '-A cali-pri-kns.default -j MARK --set-xmark 0x10000/0x10000', true, 'MARK'),
    step('cali-pri-kns.default', null, null, true, 'RETURN'),
    step(TW, 3, `-A ${TW} -m comment --comment "cali:Ljj0" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN`, true, 'RETURN'),
    step('cali-FORWARD', null, null, true, 'RETURN'),
    step('FORWARD', null, null, true, 'ACCEPT'),
  ],
};

test('aligns the common head, marks the first divergence and zips the differing middle', () => {
  const a = navOf(dropped);
  const b = navOf(delivered);
  const al = alignRows(a.rows, b.rows);
  assert.equal(al.divergence, 4);
  assert.deepEqual(al.pairs.slice(0, 4).map((p) => [p.a, p.b, p.kind]), [[0, 0, 'same'], [1, 1, 'same'], [2, 2, 'same'], [3, 3, 'same']]);
  const d = al.pairs[al.divergence];
  assert.equal(a.rows[d.a ?? -1].step.chain, TW);
  assert.equal(b.rows[d.b ?? -1].step.verdict, 'cali-pri-kns.default');
  // Every row of each walk appears once, in order.
  assert.deepEqual(al.pairs.map((p) => p.a).filter((x) => x !== null), a.rows.map((_, i) => i));
  assert.deepEqual(al.pairs.map((p) => p.b).filter((x) => x !== null), b.rows.map((_, i) => i));
  assert.equal(al.pairs.length, Math.max(a.rows.length, b.rows.length));
  assert.ok(al.pairs.slice(4).every((p) => p.kind !== 'same'));
});

test('identical walks do not diverge; a deleted rule keeps the rules after it aligned', () => {
  const a = navOf(dropped);
  assert.equal(alignRows(a.rows, navOf(structuredClone(dropped)).rows).divergence, -1);
  // Rule 1 of the endpoint chain deleted: the rules after it are renumbered, their text is the same.
  const steps = dropped.steps ?? [];
  const b = navOf({ ...dropped, steps: [...steps.slice(0, 3), ...steps.slice(4).map((s) => (s.chain === TW && typeof s.rule === 'number' ? { ...s, rule: s.rule - 1 } : s))] });
  const al = alignRows(a.rows, b.rows);
  assert.equal(al.divergence, 3);
  assert.deepEqual(al.pairs[3], { a: 3, b: null, kind: 'only-a' });
  assert.ok(al.pairs.slice(4).every((p) => p.kind === 'same'));
});

test('the key: phase, host, hook, table, chain, rule text (or number), hit and verdict', () => {
  const r = { phase: 'packet' as const, step: step('X', 2, null, true, 'DROP') };
  assert.equal(stepKey(r).split('\u0000').join('|'), 'packet|minikube|FORWARD|filter|X|#2|hit|DROP');
  assert.notEqual(stepKey(r), stepKey({ ...r, step: { ...r.step, matched: false } }));
  assert.notEqual(stepKey(r), stepKey({ ...r, phase: 'reply' }));
});

test('long runs of identical steps fold, keeping two on each side of a difference', () => {
  const many = (n: number): StepJson[] => Array.from({ length: n }, (_, i) => step('C', i + 1, `-A C -s 10.0.0.${i}`, false));
  const a = navOf({ steps: [...many(10), step('C', 11, '-A C -j DROP', true, 'DROP')] });
  const b = navOf({ steps: [...many(10), step('C', 11, '-A C -j ACCEPT', true, 'ACCEPT')] });
  const al = alignRows(a.rows, b.rows);
  assert.equal(al.divergence, 10);
  const lines = foldPairs(al);
  assert.deepEqual(lines, [{ fold: [0, 8] }, { pair: 8 }, { pair: 9 }, { pair: 10 }]);
  // A short run stays; a run at the end keeps none after the difference when the walk ends there.
  assert.deepEqual(foldPairs({ pairs: [{ a: 0, b: 0, kind: 'differ' }, ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({ a: i, b: i, kind: 'same' as const }))], divergence: 0 }),
    [{ pair: 0 }, { pair: 1 }, { pair: 2 }, { fold: [3, 8] }]);
  // A pinned pair (the forked step) stays, with the folds on either side of it.
  assert.deepEqual(foldPairs(al, 2, new Set([4])), [{ fold: [0, 2] }, { pair: 2 }, { pair: 3 }, { pair: 4 }, { pair: 5 }, { pair: 6 }, { pair: 7 }, { pair: 8 }, { pair: 9 }, { pair: 10 }]);
  assert.deepEqual(foldPairs(al, 1, new Set([4])), [{ fold: [0, 3] }, { pair: 3 }, { pair: 4 }, { pair: 5 }, { fold: [6, 9] }, { pair: 9 }, { pair: 10 }]);
});

test('the replay asks the same: the form’s request, or the sender and packet, with seed and source port', () => {
  assert.deepEqual(replayRequest(dropped, { from: 'pod/default/frontend-8b474f47-zdqdv', to: 'db:80', proto: 'tcp' }),
    { from: 'pod/default/frontend-8b474f47-zdqdv', to: 'db:80', proto: 'tcp', sport: 40000, seed: 1135788947 });
  assert.deepEqual(replayRequest(dropped, null), { from: 'pod/default/frontend-8b474f47-zdqdv', to: '10.106.125.191:80', proto: 'tcp', sport: 40000, seed: 1135788947 });
  assert.deepEqual(replayRequest({ packet: { src: '1.1.1.1', dst: '2.2.2.2', proto: 'icmp', sport: null, dport: null }, events: [{ host: 'client', kind: 'inject', text: '', at: 0 }] }),
    { from: 'client', to: '2.2.2.2', proto: 'icmp' });
  assert.equal(typeof replayRequest({}), 'string');
});

test('why: the deciding rule, its comments, the pod and the NetworkPolicy behind Calico’s drop', () => {
  const names = new Map([[TW, 'pod default/db-8d66ff5f7-bp6kf'], [PI, 'NetworkPolicy default/allow-db-access']]);
  const d = decisionOf(navOf(dropped), names);
  assert.equal(d.row, 8);
  assert.equal(d.rule, `DROP by rule 4 of filter ${TW} on minikube`);
  assert.deepEqual(d.comments, ['Drop if no policies passed packet']);
  assert.deepEqual(d.objects, ['ingress of pod default/db-8d66ff5f7-bp6kf', 'NetworkPolicy default/allow-db-access did not allow it']);
  assert.equal(decisionText('dropped', d), `dropped — DROP by rule 4 of filter ${TW} on minikube (“Drop if no policies passed packet”); ingress of pod default/db-8d66ff5f7-bp6kf; NetworkPolicy default/allow-db-access did not allow it`);
  // Without names: the chain; with Calico's own "Policy … ingress" comment: the policy from it.
  assert.deepEqual(decisionOf(navOf(dropped)).objects, [`policy chain ${PI} did not allow it`]);
  const commented = structuredClone(dropped);
  const s = (commented.steps ?? [])[5];
  s.rule_spec = `${s.rule_spec ?? ''} -m comment --comment "Policy default/knp.default.allow-db-access ingress"`;
  assert.deepEqual(decisionOf(navOf(commented)).objects, ['NetworkPolicy default/allow-db-access (ingress) did not allow it']);
  // Delivered: the last step decides, nothing behind it.
  const ok = decisionOf(navOf(delivered), names);
  assert.equal(ok.rule, 'policy ACCEPT of filter FORWARD on minikube');
  assert.equal(ok.dropped, false);
  assert.equal(decisionText('delivered', ok), 'delivered — no rule dropped it; last step: policy ACCEPT of filter FORWARD on minikube');
});

test('why: kube-proxy’s KUBE-MARK-DROP names the Service; comments and Services are read from rule text', () => {
  const w: Walk = {
    outcome: 'dropped',
    steps: [
      step('KUBE-XLB-2IRA', 3, '-A KUBE-XLB-2IRA -m comment --comment "default/webapp has no local endpoints" -j KUBE-MARK-DROP', true, 'KUBE-MARK-DROP', { hook: 'PREROUTING', table: 'nat', host: 'minikube-m02' }),
      step('KUBE-MARK-DROP', 1, '-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000', true, 'MARK', { hook: 'PREROUTING', table: 'nat', host: 'minikube-m02' }),
      step('KUBE-FIREWALL', 1, '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP', true, 'DROP', { hook: 'INPUT', host: 'minikube-m02' }),
    ],
  };
  const d = decisionOf(navOf(w));
  assert.equal(d.rule, 'DROP by rule 1 of filter KUBE-FIREWALL on minikube-m02');
  assert.deepEqual(d.objects, ['Service default/webapp has no local endpoints (marked by rule 3 of nat KUBE-XLB-2IRA)']);
  assert.deepEqual(commentsOf('-A X -m comment --comment "cali:abc" -m comment --comment "a \\"b\\"" -m comment --comment plain -j DROP'), ['a "b"', 'plain']);
  assert.equal(serviceOf('default/db cluster IP'), 'default/db');
  assert.equal(serviceOf('kube-system/kube-dns:dns-tcp cluster IP'), 'kube-system/kube-dns:dns-tcp');
  assert.equal(serviceOf('kubernetes service portals'), null);
});

test('why from the steps’ origins: the pod and the NetworkPolicy behind Calico’s hashed chains', () => {
  const withOrigins = structuredClone(dropped);
  const st = withOrigins.steps ?? [];
  st[2].origin = { agent: 'calico', kind: 'dispatch', pod: 'default/db-8d66ff5f7-bp6kf', iface: 'cali95aa86cbb2a' };
  st[5].origin = { agent: 'calico', kind: 'policy', policy: 'default/knp.default.allow-db-access', direction: 'ingress', rule: 0, role: 'allow', selector: 'x' };
  st[8].origin = { agent: 'calico', kind: 'endpoint', pod: 'default/db-8d66ff5f7-bp6kf', iface: 'cali95aa86cbb2a', direction: 'ingress', role: 'drop' };
  const nav = navOf(withOrigins);
  assert.deepEqual([...originNames(nav)], [[TW, 'pod default/db-8d66ff5f7-bp6kf'], [PI, 'NetworkPolicy default/allow-db-access']]);
  assert.deepEqual(decisionOf(nav).objects, ['ingress of pod default/db-8d66ff5f7-bp6kf', 'NetworkPolicy default/allow-db-access did not allow it']);
  // kube-proxy's origins name no Calico chain; a policy id of Calico's own stays as it is.
  st[5].origin = { agent: 'calico', kind: 'policy', policy: 'default.deny-egress', direction: 'ingress', rule: -1, role: 'comment' };
  st[0].origin = { agent: 'kube-proxy', kind: 'node', role: 'jump' };
  assert.deepEqual([...originNames(navOf(withOrigins))], [[TW, 'pod default/db-8d66ff5f7-bp6kf'], [PI, 'Calico policy default.deny-egress']]);
});
