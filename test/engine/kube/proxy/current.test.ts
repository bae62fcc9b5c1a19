// The current layout against kube-proxy's own unit tests (pkg/proxy/iptables/proxier_test.go):
// the full expected restore texts of TestOverallIPTablesRules, TestBadIPs and
// TestSyncProxyRulesRepeated (compared after the same canonical sort the upstream tests apply),
// the chain-level expectations of TestMasqueradeRule, TestDropInvalidRule, TestNodePorts and
// TestSyncProxyRulesLargeClusterMode, and the endpoint choices the packet-flow tests assert
// (traffic policies, terminating endpoints, source ranges). The expected texts are upstream's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSameLines, chainRules, dedent, ep, gen, upstreamInput, upstreamSort, svc } from './helpers.ts';
import { CURRENT } from './scenes.ts';
import type { ServicePort } from '../../../../main/engine/kube/proxy/index.ts';

const FILTER_HEAD = `*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
`;
const FIREWALL_AND_FORWARD = `-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
`;
const MASQ_AND_POSTROUTING = `-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
`;
const NODEPORTS_TAIL = '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';

test('TestOverallIPTablesRules: the full restore text', () => {
  const expected = dedent(`
    *filter
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FIREWALL - [0:0]
    :KUBE-FORWARD - [0:0]
    :KUBE-PROXY-FIREWALL - [0:0]
    -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
    -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
    -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
    COMMIT
    *nat
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
    :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
    :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
    :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
    :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
    :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
    :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
    -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
    -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
    -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    -A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
    -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
    COMMIT
  `);
  const r = gen(CURRENT.overall());
  assertSameLines(upstreamSort(r.text), expected, 'TestOverallIPTablesRules');
  // The raw text is kube-proxy's emission order, not the sorted one: filter before nat,
  // top-level chains declared first, and the KUBE-SERVICES tail rule last in nat.
  const lines = r.text.split('\n');
  assert.deepEqual(lines.slice(0, 7), ['*filter', ':KUBE-SERVICES - [0:0]', ':KUBE-EXTERNAL-SERVICES - [0:0]', ':KUBE-FORWARD - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-PROXY-FIREWALL - [0:0]', ':KUBE-FIREWALL - [0:0]']);
  assert.equal(lines.at(-3), NODEPORTS_TAIL);
  assert.equal(lines.at(-2), 'COMMIT');
  assert.equal(lines.at(-1), '');
});

test('TestBadIPs: sloppy addresses are written canonically', () => {
  const expected = dedent(`
    ${FILTER_HEAD}${FIREWALL_AND_FORWARD}-A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
    COMMIT
    *nat
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXT-XPGD46QRK7WJZT7O - [0:0]
    :KUBE-FW-XPGD46QRK7WJZT7O - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
    :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
    -A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-XPGD46QRK7WJZT7O
    -A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O
    ${NODEPORTS_TAIL}
    -A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVC-XPGD46QRK7WJZT7O
    -A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O
    -A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"
    ${MASQ_AND_POSTROUTING}-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
    COMMIT
  `.replace(/\n {4}/g, '\n'));
  const r = gen(CURRENT.badIPs());
  assertSameLines(upstreamSort(r.text), expected, 'TestBadIPs');
});

function repeatedNat(chains: string[], rules: string[], deleted: string[] = []): string {
  return [
    '*nat',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...rules,
    ...deleted.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

test('TestSyncProxyRulesRepeated: the initial full sync', () => {
  const r = gen(CURRENT.repeatedInitial());
  const expected =
    FILTER_HEAD +
    FIREWALL_AND_FORWARD +
    'COMMIT\n' +
    repeatedNat(
      ['KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-SEP-SNQ3ZNILQDEJNDQO', 'KUBE-SEP-UHEGFW77JX3KXTOV', 'KUBE-SVC-2VJB64SDSIJUP5T6', 'KUBE-SVC-XPGD46QRK7WJZT7O'],
      [
        '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
        '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 -j KUBE-SVC-2VJB64SDSIJUP5T6',
        NODEPORTS_TAIL,
        ...MASQ_AND_POSTROUTING.trimEnd().split('\n'),
        '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80',
        '-A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -s 10.0.2.1 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -m tcp -p tcp -j DNAT --to-destination 10.0.2.1:8080',
        '-A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
        '-A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 -> 10.0.2.1:8080" -j KUBE-SEP-UHEGFW77JX3KXTOV',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO',
      ],
    );
  assertSameLines(upstreamSort(r.text), expected, 'TestSyncProxyRulesRepeated (initial)');
  assert.equal(r.stats.natRules, 15, 'one origin-carrying rule per -A line of nat');
  assert.equal(r.stats.natRules, r.text.split('*nat')[1].split('\n').filter((l) => l.startsWith('-A ')).length);
});

test('TestSyncProxyRulesRepeated: the recovering full resync deletes the stale svc4 chains', () => {
  const r = gen(CURRENT.repeatedFullResync());
  const expected =
    FILTER_HEAD +
    FIREWALL_AND_FORWARD +
    'COMMIT\n' +
    repeatedNat(
      [
        'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-SEP-AYCN5HPXMIRJNJXU', 'KUBE-SEP-DKCFIS26GWF2WLWC', 'KUBE-SEP-JVVZVJ7BSEPPRNBS',
        'KUBE-SEP-SNQ3ZNILQDEJNDQO', 'KUBE-SVC-4SW47YFZTEDKD3PK', 'KUBE-SVC-X27LE4BHSL4DOUIK', 'KUBE-SVC-XPGD46QRK7WJZT7O',
      ],
      [
        '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
        '-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK',
        NODEPORTS_TAIL,
        ...MASQ_AND_POSTROUTING.trimEnd().split('\n'),
        '-A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80',
        '-A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -s 10.0.3.3 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.3:80',
        '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80',
        '-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
        '-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DKCFIS26GWF2WLWC',
        '-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.3:80" -j KUBE-SEP-JVVZVJ7BSEPPRNBS',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO',
      ],
      ['KUBE-SEP-AYCN5HPXMIRJNJXU', 'KUBE-SVC-4SW47YFZTEDKD3PK'],
    );
  assertSameLines(upstreamSort(r.text), expected, 'TestSyncProxyRulesRepeated (full resync)');
  // kube-proxy writes the deletions after the service rules and before the tail rule.
  const lines = r.text.split('\n');
  assert.ok(lines.indexOf('-X KUBE-SEP-AYCN5HPXMIRJNJXU') < lines.indexOf(NODEPORTS_TAIL));
});

test('TestSyncProxyRulesRepeated: a service without endpoints is rejected in filter KUBE-SERVICES', () => {
  const r = gen(CURRENT.repeatedNoEndpoints());
  const filter = upstreamSort(r.text).split('COMMIT\n')[0] + 'COMMIT\n';
  const expected =
    FILTER_HEAD +
    '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j REJECT\n' +
    FIREWALL_AND_FORWARD +
    'COMMIT\n';
  assertSameLines(filter, expected, 'no endpoints');
  assert.equal(chainRules(r.text, 'nat', 'KUBE-SERVICES').length, 1, 'only the tail rule in nat');
  assert.ok(!r.text.includes('KUBE-SVC-'), 'no nat chains for a service without endpoints');
});

test('TestMasqueradeRule: KUBE-POSTROUTING with and without --random-fully', () => {
  for (const randomFully of [false, true]) {
    const input = upstreamInput([]);
    input.node.randomFully = randomFully;
    assert.deepEqual(chainRules(gen(input).text, 'nat', 'KUBE-POSTROUTING'), [
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
    ]);
  }
});

test('TestDropInvalidRule: KUBE-FORWARD with nfacct, without it, and with tcp_be_liberal', () => {
  const tail = [
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ];
  const cases: Array<[boolean, boolean, string | null]> = [
    [false, false, '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'],
    [true, false, '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP'],
    [false, true, null],
  ];
  for (const [nfacct, liberal, drop] of cases) {
    const input = upstreamInput([]);
    input.node.nfacct = nfacct;
    input.node.conntrackTCPBeLiberal = liberal;
    assert.deepEqual(chainRules(gen(input).text, 'filter', 'KUBE-FORWARD'), drop ? [drop, ...tail] : tail, `nfacct=${nfacct} liberal=${liberal}`);
  }
});

test('TestNodePorts (IPv4): localhost NodePorts, nodePortAddresses and the KUBE-FIREWALL rule', () => {
  const np = (): ServicePort[] => [
    svc('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', portName: 'p80', nodePort: 3001, endpoints: [ep('10.180.0.1', 80), ep('10.180.2.1', 80, { nodeName: 'test-node' })] }),
  ];
  const firewall = '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP';
  const tail = (dest: string): string => `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" ${dest} -j KUBE-NODEPORTS`;
  const cases: Array<{ name: string; localhost: boolean; addrs?: string[]; firewall: boolean; tails: string[]; localhostRule: boolean }> = [
    { name: 'localhost-nodeports enabled', localhost: true, firewall: true, tails: [tail('-m addrtype --dst-type LOCAL')], localhostRule: true },
    { name: 'localhost-nodeports disabled', localhost: false, firewall: false, tails: [tail('-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8')], localhostRule: false },
    {
      name: 'disabled, localhost in nodeport-addresses',
      localhost: false,
      addrs: ['192.168.0.0/24', '127.0.0.1/32'],
      firewall: false,
      tails: [tail('-d 192.168.0.2')], // the alternate node IP 192.168.1.2 gets no NodePorts
      localhostRule: false,
    },
    {
      name: 'multiple nodeport-addresses',
      localhost: false,
      addrs: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'],
      firewall: false,
      tails: [tail('-d 192.168.0.2'), tail('-d 192.168.1.2')],
      localhostRule: false,
    },
    { name: 'enabled, but 127.0.0.0/8 not in nodeport-addresses', localhost: true, addrs: ['192.168.0.0/24'], firewall: false, tails: [tail('-d 192.168.0.2')], localhostRule: false },
  ];
  for (const c of cases) {
    const r = gen(upstreamInput(np(), { config: { clusterCIDR: '10.0.0.0/8', iptables: { localhostNodePorts: c.localhost }, nodePortAddresses: c.addrs } }));
    assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-FIREWALL'), c.firewall ? [firewall] : [], c.name);
    assert.equal(r.text.includes(':KUBE-FIREWALL - [0:0]'), c.firewall, `${c.name}: KUBE-FIREWALL declared only with the rule`);
    const services = chainRules(r.text, 'nat', 'KUBE-SERVICES');
    assert.deepEqual(services.slice(1), c.tails, c.name);
    const nodePorts = chainRules(r.text, 'nat', 'KUBE-NODEPORTS');
    assert.equal(nodePorts.some((l) => l.includes('-d 127.0.0.0/8')), c.localhostRule, c.name);
  }
});

test('TestSyncProxyRulesLargeClusterMode: comments go when there are more than 1000 endpoints', () => {
  const many = (prefix: number, port: number): ReturnType<typeof ep>[] =>
    Array.from({ length: 499 }, (_, i) => ep(`10.${prefix}.${i % 256}.${Math.floor(i / 256)}`, port));
  const base = (): ServicePort[] => [
    svc('ns1', 'svc1', { clusterIP: '172.30.0.41', portName: 'p80', endpoints: many(0, 80) }),
    svc('ns2', 'svc2', { clusterIP: '172.30.0.42', portName: 'p8080', port: 8080, endpoints: many(1, 8080) }),
    svc('ns3', 'svc3', { clusterIP: '172.30.0.43', portName: 'p8081', port: 8081 }),
  ];
  const count = (text: string, match: string): [string, number, number] => {
    let matched = '';
    let n = 0;
    let comments = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('-A KUBE-SEP-') && line.includes('-j DNAT')) {
        n++;
        if (line.includes('--comment')) comments++;
        if (line.includes(match)) matched = line;
      }
    }
    return [matched, n, comments];
  };
  const cfg = { config: { clusterCIDR: '10.0.0.0/8', iptables: { masqueradeAll: true } } };
  let r = gen(upstreamInput(base(), cfg));
  let [first, n, comments] = count(r.text, '10.0.0.0:');
  assert.equal(first, '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
  assert.equal(n, 998);
  assert.equal(comments, 998);
  assert.equal(r.stats.largeClusterMode, false);

  const withSvc3 = base();
  withSvc3[2].endpoints = [ep('203.0.113.4', 8081), ep('203.0.113.8', 8081), ep('203.0.113.12', 8081)];
  r = gen(upstreamInput(withSvc3, cfg));
  [first, n, comments] = count(r.text, '203.0.113.4:');
  assert.equal(first, '-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081');
  assert.equal(n, 1001);
  assert.equal(comments, 0);
  [first] = count(r.text, '10.0.0.0:');
  assert.equal(first, '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
  // KUBE-SERVICES keeps its comments; so does the masquerade rule in KUBE-SVC.
  assert.ok(chainRules(r.text, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O')[0].includes('--comment "ns1/svc1:p80 cluster IP"'));

  const withSvc4 = [...withSvc3, svc('ns4', 'svc4', { clusterIP: '172.30.0.44', portName: 'p8082', port: 8082, endpoints: [ep('10.4.0.1', 8082)] })];
  r = gen(upstreamInput(withSvc4, cfg));
  assert.equal(count(r.text, '10.4.0.1:')[0], '-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082');
  r = gen(upstreamInput(withSvc3, { ...cfg, existingNatChains: ['KUBE-SVC-EBDQOQU5SJFXRIL3', 'KUBE-SEP-SU5STNODRYEWJAUF'] }));
  assert.ok(r.text.includes('-X KUBE-SVC-EBDQOQU5SJFXRIL3\n'));
  assert.ok(r.text.includes('-X KUBE-SEP-SU5STNODRYEWJAUF\n'));
  assert.equal(count(r.text, '10.4.0.1:')[0], '');
});

test('the reference\'s minimal ClusterIP example (default/webapp, pod CIDR 10.244.0.0/16)', () => {
  const r = gen(CURRENT.minimalClusterIP());
  const nat = r.text.split('*nat\n')[1];
  const expected = dedent(`
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-SVC-2IRACUALRELARSND - [0:0]
    :KUBE-SEP-AO6KYGU752IZFEZ4 - [0:0]
    :KUBE-SEP-PJFBSHHDX4VZAOXM - [0:0]
    -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
    -A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-2IRACUALRELARSND
    -A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
    -A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp -> 10.244.120.102:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-AO6KYGU752IZFEZ4
    -A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp -> 10.244.120.103:80" -j KUBE-SEP-PJFBSHHDX4VZAOXM
    -A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -s 10.244.120.102 -j KUBE-MARK-MASQ
    -A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.102:80
    -A KUBE-SEP-PJFBSHHDX4VZAOXM -m comment --comment default/webapp -s 10.244.120.103 -j KUBE-MARK-MASQ
    -A KUBE-SEP-PJFBSHHDX4VZAOXM -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.103:80
    ${NODEPORTS_TAIL}
    COMMIT
  `);
  assertSameLines(nat, expected.replace(/\n {4}/g, '\n'), 'minimal ClusterIP (raw emission order)');
});

test('TestLoadBalancer: source ranges containing the node IP also allow the LB IPs as sources', () => {
  const r = gen(CURRENT.loadBalancerSourceRanges());
  const fw = 'KUBE-FW-XPGD46QRK7WJZT7O';
  const c = '-m comment --comment "ns1/svc1:p80 loadbalancer IP"';
  assert.deepEqual(chainRules(r.text, 'nat', fw), [
    `-A ${fw} ${c} -s 192.168.0.0/24 -j KUBE-EXT-XPGD46QRK7WJZT7O`,
    `-A ${fw} ${c} -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O`,
    `-A ${fw} ${c} -s 1.2.3.4 -j KUBE-EXT-XPGD46QRK7WJZT7O`,
    `-A ${fw} ${c} -s 5.6.7.8 -j KUBE-EXT-XPGD46QRK7WJZT7O`,
    `-A ${fw} -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"`,
  ]);
  assert.deepEqual(
    chainRules(r.text, 'filter', 'KUBE-PROXY-FIREWALL').map((l) => l.split(' -d ')[1]),
    ['1.2.3.4 --dport 80 -j DROP', '5.6.7.8 --dport 80 -j DROP'],
  );
  // NodePorts bypass the source ranges: KUBE-NODEPORTS jumps to KUBE-EXT, not KUBE-FW.
  assert.ok(chainRules(r.text, 'nat', 'KUBE-NODEPORTS').every((l) => l.endsWith('-j KUBE-EXT-XPGD46QRK7WJZT7O')));
  // A 0.0.0.0/0 range means "allow all": no KUBE-FW chain at all.
  const open = gen(upstreamInput([svc('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '172.30.0.41', portName: 'p80', loadBalancerIngress: ['1.2.3.4'], loadBalancerSourceRanges: ['0.0.0.0/0'], endpoints: [ep('10.180.0.1', 80)] })]));
  assert.ok(!open.text.includes('KUBE-FW-'));
  // ipMode Proxy ingress gets no rule.
  const proxied = gen(upstreamInput([svc('ns1', 'svc1', { type: 'LoadBalancer', clusterIP: '172.30.0.41', portName: 'p80', loadBalancerIngress: [{ ip: '1.2.3.4', ipMode: 'Proxy' }], endpoints: [ep('10.180.0.1', 80)] })]));
  assert.ok(!proxied.text.includes('1.2.3.4'));
});

/** The endpoints (by DNAT target) a policy chain balances over, in rule order. */
function balanced(text: string, chain: string): string[] {
  return chainRules(text, 'nat', chain)
    .map((l) => /--comment "[^"]* -> ([^"]+)"/.exec(l)?.[1])
    .filter((x): x is string => Boolean(x));
}

test('TestExternalTrafficPolicyLocal: KUBE-EXT short-circuits pods and the host, others get KUBE-SVL', () => {
  const r = gen(CURRENT.externalTrafficPolicyLocal());
  const h = 'XPGD46QRK7WJZT7O';
  assert.deepEqual(chainRules(r.text, 'nat', `KUBE-EXT-${h}`).map((l) => l.split(' -j ')[1]), [`KUBE-SVC-${h}`, 'KUBE-MARK-MASQ', `KUBE-SVC-${h}`, `KUBE-SVL-${h}`]);
  assert.deepEqual(balanced(r.text, `KUBE-SVC-${h}`), ['10.180.0.1:80', '10.180.2.1:80']);
  assert.deepEqual(balanced(r.text, `KUBE-SVL-${h}`), ['10.180.2.1:80']);
  assert.deepEqual(chainRules(r.text, 'nat', `KUBE-SVL-${h}`).length, 1, 'no masquerade rule in SVL for eTP=Local');
  assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-NODEPORTS'), [
    '-A KUBE-NODEPORTS -m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
  ]);
  assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-EXTERNAL-SERVICES'), []);
  // Without a local-traffic detector there is no pod short-circuit.
  const noDetector = gen(
    upstreamInput(
      [svc('ns1', 'svc1', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '172.30.0.41', portName: 'p80', nodePort: 3001, endpoints: [ep('10.180.2.1', 80, { nodeName: 'test-node' })] })],
      { config: {} },
    ),
  );
  assert.deepEqual(chainRules(noDetector.text, 'nat', `KUBE-EXT-${h}`).map((l) => l.split(' -j ')[1]), ['KUBE-MARK-MASQ', `KUBE-SVC-${h}`, `KUBE-SVL-${h}`]);
  assert.ok(!chainRules(noDetector.text, 'nat', `KUBE-SVC-${h}`).some((l) => l.includes('KUBE-MARK-MASQ')), 'no detector, no masqueradeAll: no cluster-IP masquerade');
});

test('TestInternalTrafficPolicy: iTP=Local uses KUBE-SVL for the cluster IP, or DROPs without local endpoints', () => {
  const mk = (nodes: string[]): ServicePort[] => [
    svc('ns1', 'svc1', { clusterIP: '172.30.1.1', internalTrafficPolicy: 'Local', endpoints: nodes.map((n, i) => ep(`10.0.1.${i + 1}`, 80, { nodeName: n })) }),
  ];
  const h = kubeHashOf('ns1/svc1');
  let r = gen(upstreamInput(mk(['test-node', 'test-node', 'node2'])));
  assert.deepEqual(chainRules(r.text, 'nat', 'KUBE-SERVICES')[0], `-A KUBE-SERVICES -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j KUBE-SVL-${h}`);
  assert.deepEqual(balanced(r.text, `KUBE-SVL-${h}`), ['10.0.1.1:80', '10.0.1.2:80']);
  assert.ok(chainRules(r.text, 'nat', `KUBE-SVL-${h}`)[0].endsWith('! -s 10.0.0.0/8 -j KUBE-MARK-MASQ'));
  assert.ok(!r.text.includes(`KUBE-SVC-${h}`), 'no Cluster chain when nothing uses it');
  assert.ok(!r.text.includes('10.0.1.3'), 'remote endpoints get no KUBE-SEP chain');
  r = gen(upstreamInput(mk(['node0', 'node1', 'node2'])));
  assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-SERVICES'), [
    '-A KUBE-SERVICES -m comment --comment "ns1/svc1 has no local endpoints" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j DROP',
  ]);
  r = gen(upstreamInput(mk([])));
  assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-SERVICES'), [
    '-A KUBE-SERVICES -m comment --comment "ns1/svc1 has no endpoints" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j REJECT',
  ]);
});

function kubeHashOf(spn: string): string {
  return gen(upstreamInput([svc(spn.split('/')[0], spn.split('/')[1], { clusterIP: '10.0.0.1', endpoints: [ep('10.1.1.1', 80)] })]))
    .text.split('\n')
    .find((l) => l.startsWith(':KUBE-SVC-'))!
    .slice(10, 26);
}

test('TestTerminatingEndpointsTrafficPolicyLocal: ready first, serving+terminating as fallback', () => {
  const mk = (eps: ReturnType<typeof ep>[]): ServicePort[] => [
    svc('ns1', 'svc1', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', clusterIP: '172.30.1.1', loadBalancerIngress: ['1.2.3.4'], healthCheckNodePort: 30000, endpoints: eps }),
  ];
  const h = kubeHashOf('ns1/svc1');
  const t = { nodeName: 'test-node' };
  const term = { ready: false, serving: true, terminating: true };
  const gone = { ready: false, serving: false, terminating: true };
  // Ready endpoints exist: the terminating ones are ignored.
  let r = gen(upstreamInput(mk([ep('10.0.1.1', 80, t), ep('10.0.1.2', 80, t), ep('10.0.1.3', 80, { ...t, ...term }), ep('10.0.1.4', 80, { ...t, ...gone }), ep('10.0.1.5', 80, { nodeName: 'node-1' })])));
  assert.deepEqual(balanced(r.text, `KUBE-SVC-${h}`), ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80']);
  assert.deepEqual(balanced(r.text, `KUBE-SVL-${h}`), ['10.0.1.1:80', '10.0.1.2:80']);
  // Only terminating endpoints locally: KUBE-SVL uses them, KUBE-SVC the remote ready one.
  r = gen(upstreamInput(mk([ep('10.0.1.2', 80, { ...t, ...term }), ep('10.0.1.3', 80, { ...t, ...term }), ep('10.0.1.4', 80, { ...t, ...gone }), ep('10.0.1.5', 80, { nodeName: 'node-1' })])));
  assert.deepEqual(balanced(r.text, `KUBE-SVC-${h}`), ['10.0.1.5:80']);
  assert.deepEqual(balanced(r.text, `KUBE-SVL-${h}`), ['10.0.1.2:80', '10.0.1.3:80']);
  assert.deepEqual(r.text.split('\n').filter((l) => l.startsWith(':KUBE-SEP-')).length, 3, 'SEP chains for the merged cluster and local lists');
  // Terminating on a remote node only: the service has endpoints, but none for external traffic here.
  r = gen(upstreamInput(mk([ep('10.0.1.5', 80, { nodeName: 'node-1', ...term })])));
  assert.deepEqual(balanced(r.text, `KUBE-SVC-${h}`), ['10.0.1.5:80']);
  assert.ok(!r.text.includes(`KUBE-SVL-${h}`));
  assert.deepEqual(chainRules(r.text, 'filter', 'KUBE-EXTERNAL-SERVICES'), [
    '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP',
  ]);
  // No usable endpoint anywhere: REJECT.
  r = gen(upstreamInput(mk([ep('10.0.1.5', 80, { nodeName: 'node-1', ...gone })])));
  assert.ok(chainRules(r.text, 'filter', 'KUBE-SERVICES')[0].endsWith('-j REJECT'));
  assert.ok(chainRules(r.text, 'filter', 'KUBE-EXTERNAL-SERVICES')[0].endsWith('-j REJECT'));
  // The health-check node port is accepted regardless of endpoints.
  assert.equal(chainRules(r.text, 'filter', 'KUBE-NODEPORTS').length, 1);
});

test('topology hints: PreferSameZone narrows the Cluster chain only when every ready endpoint is hinted', () => {
  const h = kubeHashOf('ns1/svc1');
  const mk = (hinted: boolean): ServicePort[] => [
    svc('ns1', 'svc1', {
      clusterIP: '172.30.1.1',
      endpoints: [ep('10.0.1.1', 80, { zoneHints: ['zone-a'] }), ep('10.0.1.2', 80, { zoneHints: ['zone-b'] }), ep('10.0.1.3', 80, hinted ? { zoneHints: ['zone-a'] } : {})],
    }),
  ];
  const input = (hinted: boolean) => upstreamInput(mk(hinted), { node: { name: 'test-node', ips: ['192.168.0.2'], zone: 'zone-a', randomFully: false } });
  assert.deepEqual(balanced(gen(input(true)).text, `KUBE-SVC-${h}`), ['10.0.1.1:80', '10.0.1.3:80']);
  assert.deepEqual(balanced(gen(input(false)).text, `KUBE-SVC-${h}`), ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80']);
});

test('headless and ExternalName services produce no rules; UDP and SCTP ports use their own match', () => {
  const r = gen(
    upstreamInput([
      svc('ns1', 'headless', { clusterIPs: ['None'], endpoints: [ep('10.0.1.1', 80)] }),
      svc('ns1', 'ext', { type: 'ExternalName', clusterIPs: [], endpoints: [] }),
      svc('ns2', 'dns', { clusterIP: '172.30.0.10', portName: 'dns', protocol: 'UDP', port: 53, endpoints: [ep('10.0.2.1', 53)] }),
      svc('ns2', 'dns', { clusterIP: '172.30.0.10', portName: 'dns-sctp', protocol: 'SCTP', port: 53, endpoints: [ep('10.0.2.1', 53)] }),
    ]),
  );
  assert.ok(!r.text.includes('ns1/'));
  assert.equal(r.stats.servicePorts, 2);
  assert.ok(r.text.includes('-m comment --comment "ns2/dns:dns cluster IP" -m udp -p udp -d 172.30.0.10 --dport 53'));
  assert.ok(r.text.includes('-m comment --comment ns2/dns:dns-sctp -m sctp -p sctp -j DNAT --to-destination 10.0.2.1:53'));
});
