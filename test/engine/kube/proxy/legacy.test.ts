// The legacy layout (kube-proxy v1.19, the article's minikube v1.19.2) line by line: the
// article's two scenes (NodePort webapp; externalTrafficPolicy Local on two nodes), the
// restore text a real kube-proxy of that layout logged (kind cluster: kubernetes + kube-dns with
// four endpoints), and scenes written from the v1.19 proxier source (LoadBalancer with source
// ranges and ClientIP affinity; services without endpoints; eTP=Local LoadBalancer with two LB
// IPs; masqueradeAll without a cluster CIDR, nodePortAddresses and stale chains).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSameLines, chainRules, dedent, ep, gen, svc } from './helpers.ts';
import { LEGACY, minikube } from './scenes.ts';

const FILTER = dedent(`
  *filter
  :KUBE-SERVICES - [0:0]
  :KUBE-EXTERNAL-SERVICES - [0:0]
  :KUBE-FORWARD - [0:0]
`);
const FORWARD = dedent(`
  -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  COMMIT
`);
const NAT_HEAD = dedent(`
  *nat
  :KUBE-SERVICES - [0:0]
  :KUBE-NODEPORTS - [0:0]
  :KUBE-POSTROUTING - [0:0]
  :KUBE-MARK-MASQ - [0:0]
`);
const POSTROUTING = dedent(`
  -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
  -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
`);
const TAIL = '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\nCOMMIT\n';

test('article scene: NodePort webapp (10.103.46.104:80, 31380) with two endpoints', () => {
  const r = gen(LEGACY.articleNodePort());
  const expected =
    FILTER +
    FORWARD +
    NAT_HEAD +
    dedent(`
      :KUBE-SVC-2IRACUALRELARSND - [0:0]
      :KUBE-SEP-AO6KYGU752IZFEZ4 - [0:0]
      :KUBE-SEP-PJFBSHHDX4VZAOXM - [0:0]
    `) +
    POSTROUTING +
    dedent(`
      -A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.103.46.104/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
      -A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.103.46.104/32 --dport 80 -j KUBE-SVC-2IRACUALRELARSND
      -A KUBE-NODEPORTS -m comment --comment default/webapp -m tcp -p tcp --dport 31380 -j KUBE-MARK-MASQ
      -A KUBE-NODEPORTS -m comment --comment default/webapp -m tcp -p tcp --dport 31380 -j KUBE-SVC-2IRACUALRELARSND
      -A KUBE-SVC-2IRACUALRELARSND -m comment --comment default/webapp -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-AO6KYGU752IZFEZ4
      -A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -s 10.244.120.102/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.102:80
      -A KUBE-SVC-2IRACUALRELARSND -m comment --comment default/webapp -j KUBE-SEP-PJFBSHHDX4VZAOXM
      -A KUBE-SEP-PJFBSHHDX4VZAOXM -m comment --comment default/webapp -s 10.244.120.103/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-PJFBSHHDX4VZAOXM -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.103:80
    `) +
    TAIL;
  assertSameLines(r.text, expected, 'article NodePort scene');

  // What the article's `iptables -t nat -L <chain>` listings show, chain by chain (targets).
  const targets = (chain: string): string[] => chainRules(r.text, 'nat', chain).map((l) => l.split(' -j ')[1].split(' ')[0]);
  assert.deepEqual(targets('KUBE-SERVICES'), ['KUBE-MARK-MASQ', 'KUBE-SVC-2IRACUALRELARSND', 'KUBE-NODEPORTS']);
  assert.deepEqual(targets('KUBE-NODEPORTS'), ['KUBE-MARK-MASQ', 'KUBE-SVC-2IRACUALRELARSND']);
  assert.deepEqual(targets('KUBE-SVC-2IRACUALRELARSND'), ['KUBE-SEP-AO6KYGU752IZFEZ4', 'KUBE-SEP-PJFBSHHDX4VZAOXM']);
  assert.deepEqual(targets('KUBE-SEP-AO6KYGU752IZFEZ4'), ['KUBE-MARK-MASQ', 'DNAT']);
  assert.deepEqual(targets('KUBE-MARK-MASQ'), ['MARK']);
});

test('article scene: eTP=Local, the node with the pod balances to it ("Balancing rule 0")', () => {
  const r = gen(LEGACY.articleLocalWithPod());
  const expected =
    FILTER +
    FORWARD +
    NAT_HEAD +
    dedent(`
      :KUBE-SVC-2IRACUALRELARSND - [0:0]
      :KUBE-XLB-2IRACUALRELARSND - [0:0]
      :KUBE-SEP-5T4S2ILYSXWY3R2J - [0:0]
    `) +
    POSTROUTING +
    dedent(`
      -A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.111.243.62/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
      -A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.111.243.62/32 --dport 80 -j KUBE-SVC-2IRACUALRELARSND
      -A KUBE-NODEPORTS -m comment --comment default/webapp -m tcp -p tcp --dport 30080 -s 127.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-NODEPORTS -m comment --comment default/webapp -m tcp -p tcp --dport 30080 -j KUBE-XLB-2IRACUALRELARSND
      -A KUBE-SVC-2IRACUALRELARSND -m comment --comment default/webapp -j KUBE-SEP-5T4S2ILYSXWY3R2J
      -A KUBE-SEP-5T4S2ILYSXWY3R2J -m comment --comment default/webapp -s 10.244.120.111/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-5T4S2ILYSXWY3R2J -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.111:80
      -A KUBE-XLB-2IRACUALRELARSND -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.244.0.0/16 -j KUBE-SVC-2IRACUALRELARSND
      -A KUBE-XLB-2IRACUALRELARSND -m comment --comment "masquerade LOCAL traffic for default/webapp LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
      -A KUBE-XLB-2IRACUALRELARSND -m comment --comment "route LOCAL traffic for default/webapp LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-2IRACUALRELARSND
      -A KUBE-XLB-2IRACUALRELARSND -m comment --comment "Balancing rule 0 for default/webapp" -j KUBE-SEP-5T4S2ILYSXWY3R2J
    `) +
    TAIL;
  assertSameLines(r.text, expected, 'eTP=Local, node with the endpoint');
});

test('article scene: eTP=Local, the node without a local pod ends KUBE-XLB in KUBE-MARK-DROP', () => {
  const r = gen(LEGACY.articleLocalWithoutPod());
  const xlb = chainRules(r.text, 'nat', 'KUBE-XLB-2IRACUALRELARSND');
  assert.deepEqual(xlb, [
    '-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.244.0.0/16 -j KUBE-SVC-2IRACUALRELARSND',
    '-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "masquerade LOCAL traffic for default/webapp LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
    '-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "route LOCAL traffic for default/webapp LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-2IRACUALRELARSND',
    '-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "default/webapp has no local endpoints" -j KUBE-MARK-DROP',
  ]);
  // Everything else is the same as on the node with the pod: the cluster-wide chains still
  // balance to the remote endpoint.
  const withPod = gen(LEGACY.articleLocalWithPod()).text.split('\n');
  const without = r.text.split('\n');
  const diff = without.filter((l, i) => l !== withPod[i]);
  assert.deepEqual(diff, ['-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "default/webapp has no local endpoints" -j KUBE-MARK-DROP']);
});

test('a real kube-proxy\'s logged restore text (kind: default/kubernetes and kube-dns, four pods)', () => {
  const r = gen(LEGACY.kindLog());
  // Verbatim from the kube-proxy -v=5 log line "Restoring iptables rules: ...".
  const logged = dedent(`
    *filter
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FORWARD - [0:0]
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
    :KUBE-SEP-V2PECCYPB6X2GSCW - [0:0]
    :KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
    :KUBE-SEP-R7EMXN5TTQQVP4UW - [0:0]
    :KUBE-SEP-LPGSDLJ3FDW46N4W - [0:0]
    :KUBE-SEP-IRMT6RY5EEEBXDAY - [0:0]
    :KUBE-SEP-LBMQNJ35ID4UIQ2A - [0:0]
    :KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
    :KUBE-SEP-OP4AXEAS4OXHBEQX - [0:0]
    :KUBE-SEP-LASJGFFJP3UOS6RQ - [0:0]
    :KUBE-SEP-2Z3537XSN3RJRU3M - [0:0]
    :KUBE-SEP-S7MPVVC7MGYVFSF3 - [0:0]
    :KUBE-SVC-JD5MR3NA4I4DYORP - [0:0]
    :KUBE-SEP-HJ7EWOW62IX6GL6R - [0:0]
    :KUBE-SEP-FVQSBIWR5JTECIVC - [0:0]
    :KUBE-SEP-275NWNNANOEIGYHG - [0:0]
    :KUBE-SEP-CEWR77HQLZDHWWAJ - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
    -A KUBE-SERVICES -m comment --comment "default/kubernetes:https cluster IP" -m tcp -p tcp -d 10.96.0.1/32 --dport 443 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "default/kubernetes:https cluster IP" -m tcp -p tcp -d 10.96.0.1/32 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
    -A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment default/kubernetes:https -j KUBE-SEP-V2PECCYPB6X2GSCW
    -A KUBE-SEP-V2PECCYPB6X2GSCW -m comment --comment default/kubernetes:https -s 172.18.0.2/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-V2PECCYPB6X2GSCW -m comment --comment default/kubernetes:https -m tcp -p tcp -j DNAT --to-destination 172.18.0.2:6443
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10/32 --dport 53 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.96.0.10/32 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
    -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment kube-system/kube-dns:dns -m statistic --mode random --probability 0.2500000000 -j KUBE-SEP-R7EMXN5TTQQVP4UW
    -A KUBE-SEP-R7EMXN5TTQQVP4UW -m comment --comment kube-system/kube-dns:dns -s 10.244.0.10/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-R7EMXN5TTQQVP4UW -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.10:53
    -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment kube-system/kube-dns:dns -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-LPGSDLJ3FDW46N4W
    -A KUBE-SEP-LPGSDLJ3FDW46N4W -m comment --comment kube-system/kube-dns:dns -s 10.244.0.5/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-LPGSDLJ3FDW46N4W -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.5:53
    -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment kube-system/kube-dns:dns -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-IRMT6RY5EEEBXDAY
    -A KUBE-SEP-IRMT6RY5EEEBXDAY -m comment --comment kube-system/kube-dns:dns -s 10.244.0.6/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-IRMT6RY5EEEBXDAY -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.6:53
    -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment kube-system/kube-dns:dns -j KUBE-SEP-LBMQNJ35ID4UIQ2A
    -A KUBE-SEP-LBMQNJ35ID4UIQ2A -m comment --comment kube-system/kube-dns:dns -s 10.244.0.9/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-LBMQNJ35ID4UIQ2A -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.9:53
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 53 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4
    -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment kube-system/kube-dns:dns-tcp -m statistic --mode random --probability 0.2500000000 -j KUBE-SEP-OP4AXEAS4OXHBEQX
    -A KUBE-SEP-OP4AXEAS4OXHBEQX -m comment --comment kube-system/kube-dns:dns-tcp -s 10.244.0.10/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-OP4AXEAS4OXHBEQX -m comment --comment kube-system/kube-dns:dns-tcp -m tcp -p tcp -j DNAT --to-destination 10.244.0.10:53
    -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment kube-system/kube-dns:dns-tcp -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-LASJGFFJP3UOS6RQ
    -A KUBE-SEP-LASJGFFJP3UOS6RQ -m comment --comment kube-system/kube-dns:dns-tcp -s 10.244.0.5/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-LASJGFFJP3UOS6RQ -m comment --comment kube-system/kube-dns:dns-tcp -m tcp -p tcp -j DNAT --to-destination 10.244.0.5:53
    -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment kube-system/kube-dns:dns-tcp -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-2Z3537XSN3RJRU3M
    -A KUBE-SEP-2Z3537XSN3RJRU3M -m comment --comment kube-system/kube-dns:dns-tcp -s 10.244.0.6/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-2Z3537XSN3RJRU3M -m comment --comment kube-system/kube-dns:dns-tcp -m tcp -p tcp -j DNAT --to-destination 10.244.0.6:53
    -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment kube-system/kube-dns:dns-tcp -j KUBE-SEP-S7MPVVC7MGYVFSF3
    -A KUBE-SEP-S7MPVVC7MGYVFSF3 -m comment --comment kube-system/kube-dns:dns-tcp -s 10.244.0.9/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-S7MPVVC7MGYVFSF3 -m comment --comment kube-system/kube-dns:dns-tcp -m tcp -p tcp -j DNAT --to-destination 10.244.0.9:53
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:metrics cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 9153 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:metrics cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 9153 -j KUBE-SVC-JD5MR3NA4I4DYORP
    -A KUBE-SVC-JD5MR3NA4I4DYORP -m comment --comment kube-system/kube-dns:metrics -m statistic --mode random --probability 0.2500000000 -j KUBE-SEP-HJ7EWOW62IX6GL6R
    -A KUBE-SEP-HJ7EWOW62IX6GL6R -m comment --comment kube-system/kube-dns:metrics -s 10.244.0.10/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-HJ7EWOW62IX6GL6R -m comment --comment kube-system/kube-dns:metrics -m tcp -p tcp -j DNAT --to-destination 10.244.0.10:9153
    -A KUBE-SVC-JD5MR3NA4I4DYORP -m comment --comment kube-system/kube-dns:metrics -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-FVQSBIWR5JTECIVC
    -A KUBE-SEP-FVQSBIWR5JTECIVC -m comment --comment kube-system/kube-dns:metrics -s 10.244.0.5/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-FVQSBIWR5JTECIVC -m comment --comment kube-system/kube-dns:metrics -m tcp -p tcp -j DNAT --to-destination 10.244.0.5:9153
    -A KUBE-SVC-JD5MR3NA4I4DYORP -m comment --comment kube-system/kube-dns:metrics -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-275NWNNANOEIGYHG
    -A KUBE-SEP-275NWNNANOEIGYHG -m comment --comment kube-system/kube-dns:metrics -s 10.244.0.6/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-275NWNNANOEIGYHG -m comment --comment kube-system/kube-dns:metrics -m tcp -p tcp -j DNAT --to-destination 10.244.0.6:9153
    -A KUBE-SVC-JD5MR3NA4I4DYORP -m comment --comment kube-system/kube-dns:metrics -j KUBE-SEP-CEWR77HQLZDHWWAJ
    -A KUBE-SEP-CEWR77HQLZDHWWAJ -m comment --comment kube-system/kube-dns:metrics -s 10.244.0.9/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-CEWR77HQLZDHWWAJ -m comment --comment kube-system/kube-dns:metrics -m tcp -p tcp -j DNAT --to-destination 10.244.0.9:9153
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    COMMIT
  `);
  assertSameLines(r.text, logged, 'logged restore text');
});

test('LoadBalancer, eTP=Cluster: KUBE-FW with source ranges (one holds the node IP), externalIP, ClientIP affinity', () => {
  const r = gen(LEGACY.loadBalancerCluster());
  const expected = dedent(`
    *filter
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FORWARD - [0:0]
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
    :KUBE-FW-CDGGSHYLG3RE2FKL - [0:0]
    :KUBE-SEP-T2IEUACZRFGGXOE4 - [0:0]
    :KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
    -A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.10.10/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.10.10/32 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-SERVICES -m comment --comment "default/web:http external IP" -m tcp -p tcp -d 192.168.49.100/32 --dport 80 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "default/web:http external IP" -m tcp -p tcp -d 192.168.49.100/32 --dport 80 -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-SERVICES -m comment --comment "default/web:http external IP" -m tcp -p tcp -d 192.168.49.100/32 --dport 80 -m addrtype --dst-type LOCAL -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-SERVICES -m comment --comment "default/web:http loadbalancer IP" -m tcp -p tcp -d 172.18.255.200/32 --dport 80 -j KUBE-FW-CDGGSHYLG3RE2FKL
    -A KUBE-FW-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http loadbalancer IP" -j KUBE-MARK-MASQ
    -A KUBE-FW-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http loadbalancer IP" -s 192.168.49.0/24 -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-FW-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http loadbalancer IP" -s 203.0.113.0/25 -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-FW-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http loadbalancer IP" -s 172.18.255.200/32 -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-FW-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http loadbalancer IP" -j KUBE-MARK-DROP
    -A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30500 -j KUBE-MARK-MASQ
    -A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30500 -j KUBE-SVC-CDGGSHYLG3RE2FKL
    -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -m recent --name KUBE-SEP-T2IEUACZRFGGXOE4 --rcheck --seconds 10800 --reap -j KUBE-SEP-T2IEUACZRFGGXOE4
    -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -m recent --name KUBE-SEP-AFGSLHOD2HFNCBX4 --rcheck --seconds 10800 --reap -j KUBE-SEP-AFGSLHOD2HFNCBX4
    -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-T2IEUACZRFGGXOE4
    -A KUBE-SEP-T2IEUACZRFGGXOE4 -m comment --comment default/web:http -s 10.244.0.7/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-T2IEUACZRFGGXOE4 -m comment --comment default/web:http -m recent --name KUBE-SEP-T2IEUACZRFGGXOE4 --set -m tcp -p tcp -j DNAT --to-destination 10.244.0.7:8080
    -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment default/web:http -j KUBE-SEP-AFGSLHOD2HFNCBX4
    -A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -s 10.244.1.5/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -m recent --name KUBE-SEP-AFGSLHOD2HFNCBX4 --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    COMMIT
  `);
  assertSameLines(r.text, expected, 'LoadBalancer eTP=Cluster');
});

test('services without endpoints: REJECT in filter (LB IPs in KUBE-SERVICES); eTP=Local keeps an empty KUBE-XLB', () => {
  const r = gen(LEGACY.noEndpoints());
  const expected = dedent(`
    *filter
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FORWARD - [0:0]
    -A KUBE-SERVICES -m comment --comment "shop/cart has no endpoints" -m tcp -p tcp -d 10.96.20.20/32 --dport 8080 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "shop/cart has no endpoints" -m tcp -p tcp -d 192.168.49.101/32 --dport 8080 -j REJECT
    -A KUBE-SERVICES -m comment --comment "shop/cart has no endpoints" -m tcp -p tcp -d 172.18.255.201/32 --dport 8080 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "shop/cart has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 31000 -j REJECT
    -A KUBE-SERVICES -m comment --comment "shop/pay has no endpoints" -m udp -p udp -d 10.96.20.21/32 --dport 9000 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "shop/pay has no endpoints" -m addrtype --dst-type LOCAL -m udp -p udp --dport 31001 -j REJECT
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-XLB-BVDTLEH553TFMQBB - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    COMMIT
  `);
  assertSameLines(r.text, expected, 'no endpoints');
});

test('LoadBalancer, eTP=Local, two LB IPs, ClientIP affinity: KUBE-FW per LB IP and "Balancing rule i"', () => {
  const r = gen(LEGACY.loadBalancerLocal());
  const expected = dedent(`
    *filter
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FORWARD - [0:0]
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-SVC-LOLE4ISW44XBNF3G - [0:0]
    :KUBE-XLB-LOLE4ISW44XBNF3G - [0:0]
    :KUBE-FW-LOLE4ISW44XBNF3G - [0:0]
    :KUBE-FW-LOLE4ISW44XBNF3G - [0:0]
    :KUBE-SEP-VTNGNXO2RTOBC777 - [0:0]
    :KUBE-SEP-QKQAWCIE5LNMG2YR - [0:0]
    :KUBE-SEP-HP6OUSVD5FCOGZG2 - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
    -A KUBE-SERVICES -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.10.11/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "default/web cluster IP" -m tcp -p tcp -d 10.96.10.11/32 --dport 80 -j KUBE-SVC-LOLE4ISW44XBNF3G
    -A KUBE-SERVICES -m comment --comment "default/web loadbalancer IP" -m tcp -p tcp -d 172.18.255.210/32 --dport 80 -j KUBE-FW-LOLE4ISW44XBNF3G
    -A KUBE-FW-LOLE4ISW44XBNF3G -m comment --comment "default/web loadbalancer IP" -j KUBE-XLB-LOLE4ISW44XBNF3G
    -A KUBE-FW-LOLE4ISW44XBNF3G -m comment --comment "default/web loadbalancer IP" -j KUBE-MARK-DROP
    -A KUBE-SERVICES -m comment --comment "default/web loadbalancer IP" -m tcp -p tcp -d 172.18.255.211/32 --dport 80 -j KUBE-FW-LOLE4ISW44XBNF3G
    -A KUBE-FW-LOLE4ISW44XBNF3G -m comment --comment "default/web loadbalancer IP" -j KUBE-XLB-LOLE4ISW44XBNF3G
    -A KUBE-FW-LOLE4ISW44XBNF3G -m comment --comment "default/web loadbalancer IP" -j KUBE-MARK-DROP
    -A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30600 -s 127.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30600 -j KUBE-XLB-LOLE4ISW44XBNF3G
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -m recent --name KUBE-SEP-VTNGNXO2RTOBC777 --rcheck --seconds 600 --reap -j KUBE-SEP-VTNGNXO2RTOBC777
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -m recent --name KUBE-SEP-QKQAWCIE5LNMG2YR --rcheck --seconds 600 --reap -j KUBE-SEP-QKQAWCIE5LNMG2YR
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -m recent --name KUBE-SEP-HP6OUSVD5FCOGZG2 --rcheck --seconds 600 --reap -j KUBE-SEP-HP6OUSVD5FCOGZG2
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-VTNGNXO2RTOBC777
    -A KUBE-SEP-VTNGNXO2RTOBC777 -m comment --comment default/web -s 10.244.0.21/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-VTNGNXO2RTOBC777 -m comment --comment default/web -m recent --name KUBE-SEP-VTNGNXO2RTOBC777 --set -m tcp -p tcp -j DNAT --to-destination 10.244.0.21:80
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-QKQAWCIE5LNMG2YR
    -A KUBE-SEP-QKQAWCIE5LNMG2YR -m comment --comment default/web -s 10.244.0.23/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-QKQAWCIE5LNMG2YR -m comment --comment default/web -m recent --name KUBE-SEP-QKQAWCIE5LNMG2YR --set -m tcp -p tcp -j DNAT --to-destination 10.244.0.23:80
    -A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web -j KUBE-SEP-HP6OUSVD5FCOGZG2
    -A KUBE-SEP-HP6OUSVD5FCOGZG2 -m comment --comment default/web -s 10.244.1.22/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-HP6OUSVD5FCOGZG2 -m comment --comment default/web -m recent --name KUBE-SEP-HP6OUSVD5FCOGZG2 --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.22:80
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.244.0.0/16 -j KUBE-SVC-LOLE4ISW44XBNF3G
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment "masquerade LOCAL traffic for default/web LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment "route LOCAL traffic for default/web LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-LOLE4ISW44XBNF3G
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment default/web -m recent --name KUBE-SEP-VTNGNXO2RTOBC777 --rcheck --seconds 600 --reap -j KUBE-SEP-VTNGNXO2RTOBC777
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment default/web -m recent --name KUBE-SEP-QKQAWCIE5LNMG2YR --rcheck --seconds 600 --reap -j KUBE-SEP-QKQAWCIE5LNMG2YR
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment "Balancing rule 0 for default/web" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-VTNGNXO2RTOBC777
    -A KUBE-XLB-LOLE4ISW44XBNF3G -m comment --comment "Balancing rule 1 for default/web" -j KUBE-SEP-QKQAWCIE5LNMG2YR
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    COMMIT
  `);
  assertSameLines(r.text, expected, 'LoadBalancer eTP=Local');
});

test('masqueradeAll without a cluster CIDR, masqueradeBit 12, nodePortAddresses, stale chains, no --random-fully', () => {
  const r = gen(LEGACY.masqueradeAll());
  const expected = dedent(`
    *filter
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FORWARD - [0:0]
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00001000/0x00001000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-SVC-BL4VTDSJDQ5TV32O - [0:0]
    :KUBE-XLB-BL4VTDSJDQ5TV32O - [0:0]
    :KUBE-SEP-KOMB2XQQGOCGGNHV - [0:0]
    :KUBE-FW-DDDDDDDDDDDDDDDD - [0:0]
    :KUBE-SEP-CCCCCCCCCCCCCCCC - [0:0]
    :KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
    :KUBE-XLB-BBBBBBBBBBBBBBBB - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00001000/0x00001000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00001000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00001000
    -A KUBE-SERVICES -m comment --comment "default/api cluster IP" -m tcp -p tcp -d 10.96.0.1/32 --dport 443 -j KUBE-MARK-MASQ
    -A KUBE-SERVICES -m comment --comment "default/api cluster IP" -m tcp -p tcp -d 10.96.0.1/32 --dport 443 -j KUBE-SVC-BL4VTDSJDQ5TV32O
    -A KUBE-NODEPORTS -m comment --comment default/api -m tcp -p tcp --dport 30443 -s 127.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-NODEPORTS -m comment --comment default/api -m tcp -p tcp --dport 30443 -j KUBE-XLB-BL4VTDSJDQ5TV32O
    -A KUBE-SVC-BL4VTDSJDQ5TV32O -m comment --comment default/api -j KUBE-SEP-KOMB2XQQGOCGGNHV
    -A KUBE-SEP-KOMB2XQQGOCGGNHV -m comment --comment default/api -s 192.168.49.2/32 -j KUBE-MARK-MASQ
    -A KUBE-SEP-KOMB2XQQGOCGGNHV -m comment --comment default/api -m tcp -p tcp -j DNAT --to-destination 192.168.49.2:8443
    -A KUBE-XLB-BL4VTDSJDQ5TV32O -m comment --comment "masquerade LOCAL traffic for default/api LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
    -A KUBE-XLB-BL4VTDSJDQ5TV32O -m comment --comment "route LOCAL traffic for default/api LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-BL4VTDSJDQ5TV32O
    -A KUBE-XLB-BL4VTDSJDQ5TV32O -m comment --comment "Balancing rule 0 for default/api" -j KUBE-SEP-KOMB2XQQGOCGGNHV
    -X KUBE-FW-DDDDDDDDDDDDDDDD
    -X KUBE-SEP-CCCCCCCCCCCCCCCC
    -X KUBE-SVC-AAAAAAAAAAAAAAAA
    -X KUBE-XLB-BBBBBBBBBBBBBBBB
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.49.2 -j KUBE-NODEPORTS
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 127.0.0.1 -j KUBE-NODEPORTS
    COMMIT
  `);
  assertSameLines(r.text, expected, 'masqueradeAll');
  // KUBE-EXT-* is not a v1.19 chain, so v1.19 leaves it alone.
  assert.ok(!r.text.includes('KUBE-EXT-EEEEEEEEEEEEEEEE'));
});

test('large clusters (> 1000 endpoint chains) drop the balancing and endpoint comments', () => {
  const eps = Array.from({ length: 1001 }, (_, i) => ep(`10.244.${i >> 8}.${i & 255}`, 80));
  const r = gen(minikube([svc('default', 'big', { clusterIP: '10.96.5.5', endpoints: eps })]));
  assert.equal(r.stats.largeClusterMode, true);
  const svcRules = chainRules(r.text, 'nat', `KUBE-SVC-${r.text.split(':KUBE-SVC-')[1].slice(0, 16)}`);
  assert.equal(svcRules.length, 1001);
  assert.ok(svcRules.every((l) => !l.includes('--comment')));
  assert.ok(svcRules[0].includes('-m statistic --mode random --probability 0.0009990010 -j KUBE-SEP-'));
  assert.ok(r.text.includes('-s 10.244.0.0/32 -j KUBE-MARK-MASQ\n'));
  assert.ok(chainRules(r.text, 'nat', 'KUBE-SERVICES')[0].includes('--comment "default/big cluster IP"'));
  const small = gen(minikube([svc('default', 'big', { clusterIP: '10.96.5.5', endpoints: eps.slice(0, 1000) })]));
  assert.equal(small.stats.largeClusterMode, false);
});

test('kubelet and kube-proxy setup: canaries, KUBE-MARK-DROP, KUBE-FIREWALL and the jump rules', () => {
  const r = gen(LEGACY.articleNodePort());
  const chains = r.ensureChains.map((c) => `${c.owner} ${c.table} ${c.chain}`);
  assert.deepEqual(chains, [
    'kubelet mangle KUBE-KUBELET-CANARY',
    'kubelet nat KUBE-KUBELET-CANARY',
    'kubelet filter KUBE-KUBELET-CANARY',
    'kubelet nat KUBE-MARK-DROP',
    'kubelet filter KUBE-FIREWALL',
    'kube-proxy mangle KUBE-PROXY-CANARY',
    'kube-proxy nat KUBE-PROXY-CANARY',
    'kube-proxy filter KUBE-PROXY-CANARY',
    'kube-proxy filter KUBE-EXTERNAL-SERVICES',
    'kube-proxy filter KUBE-SERVICES',
    'kube-proxy filter KUBE-FORWARD',
    'kube-proxy nat KUBE-SERVICES',
    'kube-proxy nat KUBE-POSTROUTING',
  ]);
  const rules = r.staticRules.map((s) => `${s.table} ${s.op} ${s.chain} ${s.args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`);
  assert.deepEqual(rules, [
    'nat -A KUBE-MARK-DROP -j MARK --set-xmark 0x00008000/0x00008000',
    'filter -A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x00008000/0x00008000 -j DROP',
    'filter -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    'filter -I OUTPUT -j KUBE-FIREWALL',
    'filter -I INPUT -j KUBE-FIREWALL',
    'filter -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    'filter -I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'filter -I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'filter -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'filter -I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    'nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'nat -I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  ]);
});
