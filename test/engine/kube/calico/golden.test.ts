// The article's Calico scene (DIGEST section 10), byte for byte where the article shows it,
// and Calico's own naming test vectors. The article's dump comes from a ~2020 Felix: the
// `article` flavor reproduces its rule ids; the default v3.28 flavor keeps every name and the
// ids that did not change (the conntrack rule, the kernel-chain jumps, the nat table).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFelix } from '../../../../main/engine/kube/calico/felix.ts';
import { lengthLimitedId, policyChain, selectorSetId, ipsetName, vethName, namedPortSetId } from '../../../../main/engine/kube/calico/names.ts';
import { canonicalRuleSelector, k8sPolicyToCalico } from '../../../../main/engine/kube/calico/convert.ts';
import { articleCluster } from './scenes.ts';
import { grep, ipsetList, loadNode, save } from './helpers.ts';
import { iptables, iptablesRestore } from '../../../../main/engine/shell/iptables.ts';
import { column } from '../../../../main/engine/shell/textutils.ts';

test('names: veth, chain shortening, IP set ids (Calico test vectors and the article)', () => {
  assert.equal(vethName('default', 'db-8d66ff5f7-bp6kf'), 'cali95aa86cbb2a');
  assert.equal(vethName('default', 'backend-867fd6dff-mjf92'), 'cali2b1490aa46a');
  assert.equal(vethName('default', 'frontend-8b474f47-zdqdv'), 'cali505cfbeac50');
  assert.equal(vethName('default', 'podA'), 'cali7f94ce7c295');
  assert.equal(vethName('namespace', 'podname', 'eni'), 'eni82111e10a96');
  assert.deepEqual(['a', 'b', 'c'].map((p) => vethName('x', p)), ['cali456b416f2bf', 'cali08041ab898a', 'calif2775be0092']);
  assert.equal(lengthLimitedId('felix', '_2345', 10), 'felix_kMQI');
  assert.equal(lengthLimitedId('felix', '12345678910', 13), 'felix_Y2QCZIS');
  assert.equal(policyChain('ingress', '/long-policy-name-that-gets-hashed'), 'cali-pi-_FJ9yUkNpzshVDh2n7mg');
  assert.equal(lengthLimitedId('cali-pri-', 'long-policy-name-that-gets-hashed'), 'cali-pri-_ffOMcf6pikpiZ6hgKc');
  assert.equal(policyChain('ingress', 'default/knp.default.allow-db-access'), 'cali-pi-_tTE-E7yY40ogArNVgKt');
  assert.equal(policyChain('ingress', 'x/knp.default.x-a-allows-x-b'), 'cali-pi-_PYlQz9loBDPyg5UjgQs');
  assert.equal(selectorSetId('all()'), 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug');
  assert.equal(
    ipsetName(selectorSetId('(projectcalico.org/namespace == "default" && (projectcalico.org/orchestrator == "k8s" && networking/allow-db-access == "true"))')),
    'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge',
  );
  assert.match(ipsetName(namedPortSetId(selectorSetId('all()'), 'tcp', 'http')), /^cali40n:[A-Za-z0-9_-]{23}$/);
});

test('k8s peers become the canonical selectors of the reference table', () => {
  const np = (from: object) => k8sPolicyToCalico({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [from] }] } });
  const sel = (from: object) => canonicalRuleSelector(np(from).ingress[0].source, 'x');
  assert.equal(sel({ podSelector: { matchLabels: { pod: 'b' } } }), '(projectcalico.org/namespace == "x" && (projectcalico.org/orchestrator == "k8s" && pod == "b"))');
  assert.equal(sel({ namespaceSelector: { matchLabels: { k: 'v' } } }), '(pcns.k == "v" && projectcalico.org/orchestrator == "k8s")');
  assert.equal(sel({ namespaceSelector: {} }), '(has(projectcalico.org/namespace) && projectcalico.org/orchestrator == "k8s")');
  assert.equal(sel({ podSelector: {} }), '(projectcalico.org/namespace == "x" && projectcalico.org/orchestrator == "k8s")');
  assert.equal(ipsetName(selectorSetId(sel({ podSelector: { matchLabels: { pod: 'b' } } }) as string)), 'cali40s:sgrnArs0Gn6pf2glwLBmNCs');
  assert.equal(ipsetName(selectorSetId(sel({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }) as string)), 'cali40s:gPpbXkJZUZWom3IyLxwV1Bf');
  assert.equal(ipsetName(selectorSetId(sel({ namespaceSelector: {} }) as string)), 'cali40s:Vbl4aLpsO8Ss0UCzvsdmKAp');
  assert.equal(
    sel({ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['c', 'b', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] } }),
    '(projectcalico.org/namespace == "x" && (projectcalico.org/orchestrator == "k8s" && pod in {"b", "c"} && !has(x)))',
  );
});

test('the article: iptables-save | grep cali95aa86cbb2a, the policy chain and its ipset (article flavor)', () => {
  const h = loadNode(renderFelix(articleCluster(), 'minikube', { flavor: 'article' }));
  const all = save(h);
  const db = grep(all, 'cali95aa86cbb2a');
  // the lines the article prints (it elides the rest with "...")
  assert.ok(db.includes(':cali-fw-cali95aa86cbb2a - [0:0]'));
  assert.ok(db.includes(':cali-tw-cali95aa86cbb2a - [0:0]'));
  assert.ok(db.includes('-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:3XN24uu3MS3PMvfM" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'));
  assert.ok(db.includes('-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:pm-LK-c1ra31tRwz" -m mark --mark 0x0/0x20000 -j cali-pi-_tTE-E7yY40ogArNVgKt'));
  // the article's dispatch rule, hash aside: its node had more endpoints than the three pods
  assert.ok(db.some((l) => /^-A cali-from-wl-dispatch -i cali95aa86cbb2a -m comment --comment "cali:[\w-]{16}" -g cali-fw-cali95aa86cbb2a$/.test(l)));
  // the whole endpoint chain of the 2020 dump (reference: calico-rules.md §3)
  assert.deepEqual(grep(all, '-A cali-tw-cali95aa86cbb2a').slice(0, 7), [
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:eCrqwxNk3cKw9Eq6" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:_krp5nzavhAu5avJ" -m conntrack --ctstate INVALID -j DROP',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:Cu-tVtfKKu413YTT" -j MARK --set-xmark 0x0/0x10000',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:leBL64hpAXM9y4nk" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x20000',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:pm-LK-c1ra31tRwz" -m mark --mark 0x0/0x20000 -j cali-pi-_tTE-E7yY40ogArNVgKt',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:q_zG8dAujKUIBe0Q" -m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:FUDVBYh1Yr6tVRgq" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP',
  ]);
  assert.deepEqual(grep(save(h, 'filter'), 'cali-pi-_tTE-E7yY40ogArNVgKt').filter((l) => !l.startsWith('-A cali-tw-')), [
    ':cali-pi-_tTE-E7yY40ogArNVgKt - [0:0]',
    '-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:M4Und37HGrw6jUk8" -m set --match-set cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge src -j MARK --set-xmark 0x10000/0x10000',
    '-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:sEnlfZagUFRSPRoe" -m mark --mark 0x10000/0x10000 -j RETURN',
  ]);
  assert.deepEqual(grep(all, 'cali-pri-kns.default').filter((l) => l.startsWith('-A cali-pri')), [
    '-A cali-pri-kns.default -m comment --comment "cali:7Fnh7Pv3_98FtLW7" -j MARK --set-xmark 0x10000/0x10000',
    '-A cali-pri-kns.default -m comment --comment "cali:ZbV6bJXWSRefjK0u" -m mark --mark 0x10000/0x10000 -j RETURN',
  ]);
  const list = ipsetList(h, 'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge').split('\n');
  assert.equal(list[0], 'Name: cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge');
  assert.equal(list[1], 'Type: hash:net');
  assert.ok(list[3].startsWith('Header: family inet hashsize 1024 maxelem 1048576'));
  assert.deepEqual(list.slice(-4), ['Number of entries: 1', 'Members:', '10.88.0.27', '']);
});

test('v3.28: the same names; kernel-chain jumps, cali-FORWARD and nat ids as in real v3.2x dumps', () => {
  const r = renderFelix(articleCluster(), 'minikube');
  const h = loadNode(r);
  const filter = save(h, 'filter');
  assert.deepEqual(grep(filter, '-A FORWARD'), [
    '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
    '-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
    '-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000',
  ]);
  assert.deepEqual(grep(filter, '-A cali-FORWARD'), [
    '-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000',
    '-A cali-FORWARD -m comment --comment "cali:A_sPAO0mcxbT9mOV" -m mark --mark 0x0/0x10000 -j cali-from-hep-forward',
    '-A cali-FORWARD -i cali+ -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch',
    '-A cali-FORWARD -o cali+ -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch',
    '-A cali-FORWARD -m comment --comment "cali:12bc6HljsMKsmfr-" -j cali-to-hep-forward',
  ]);
  assert.deepEqual(grep(save(h, 'nat'), '-A '), [
    '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
    '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
    '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
    '-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat',
    '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat',
    '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
    '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat',
    '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
  ]);
  assert.ok(grep(filter, '-A cali-fw-cali95aa86cbb2a').includes('-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:3XN24uu3MS3PMvfM" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'));
  // v3.28: one rule (the trailing RETURN is stripped), the chain's comment on its first rule
  const pi = grep(filter, '-A cali-pi-_tTE-E7yY40ogArNVgKt');
  assert.equal(pi.length, 1);
  assert.match(pi[0], /^-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:[\w-]{16}" -m comment --comment "Policy default\/knp.default.allow-db-access ingress" -m set --match-set cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge src -j MARK --set-xmark 0x10000\/0x10000$/);
  const tw = grep(filter, '-A cali-tw-cali95aa86cbb2a').map((l) => l.replace(/"cali:[\w-]{16}" /, ''));
  assert.deepEqual(tw, [
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m conntrack --ctstate INVALID -j DROP',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -j MARK --set-xmark 0x0/0x30000',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Start of tier default" -j MARK --set-xmark 0x0/0x20000',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m mark --mark 0x0/0x20000 -j cali-pi-_tTE-E7yY40ogArNVgKt',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -j cali-pri-kns.default',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -j cali-pri-ksa.default.default',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN',
    '-A cali-tw-cali95aa86cbb2a -m comment --comment -m comment --comment "Drop if no profiles matched" -j DROP',
  ]);
  // origins name the policy, the k8s rule and the canonical selector behind the allow rule
  const allow = r.rules.find((x) => x.chain === 'cali-pi-_tTE-E7yY40ogArNVgKt');
  assert.deepEqual(allow?.origin, {
    kind: 'policy', policy: 'default/knp.default.allow-db-access', direction: 'ingress', rule: 0, peer: 0, role: 'allow',
    selector: '(projectcalico.org/namespace == "default" && (projectcalico.org/orchestrator == "k8s" && networking/allow-db-access == "true"))',
  });
  const set = r.ipsets.find((s) => s.name === 'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge');
  assert.deepEqual(set?.members.map((m) => m.origin), [{ kind: 'pod', pod: 'default/backend-867fd6dff-mjf92', labels: articleCluster().pods[0].labels }]);
});

test('the article: iptables -t nat -L PREROUTING | column -t — Felix inserts above kube-proxy and Docker', () => {
  const felix = renderFelix(articleCluster(), 'minikube');
  const before = '*nat\n:KUBE-SERVICES - [0:0]\n:DOCKER - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\nCOMMIT\n';
  const h = loadNode({ ...felix, restore: before });
  const r = iptablesRestore(['iptables-restore', '--noflush'], felix.restore, h.nf);
  assert.equal(r.code, 0, r.stderr);
  const list = iptables(['iptables', '-t', 'nat', '-L', 'PREROUTING'], '', h.nf).stdout;
  const out = column(['column', '-t'], list).stdout.split('\n').map((l) => l.trimEnd());
  assert.deepEqual(out.slice(0, 5), [
    'Chain            PREROUTING  (policy  ACCEPT)',
    'target           prot        opt      source    destination',
    'cali-PREROUTING  all         --       anywhere  anywhere     /*        cali:6gwbT8clXdHdC1b1  */',
    'KUBE-SERVICES    all         --       anywhere  anywhere     /*        kubernetes             service   portals  */',
    'DOCKER           all         --       anywhere  anywhere     ADDRTYPE  match                  dst-type  LOCAL',
  ]);
});
