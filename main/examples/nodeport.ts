// Scenes 4 and 6 of the article ("NodePort", "Kube-Proxy (iptable mode)", "쿠버네티스 iptable
// 설정"): the article's minikube with the webapp Deployment behind the NodePort Service webapp
// (clusterIP 10.103.46.104, nodePort 31380, pods 10.244.120.102 and .103), its console
// sessions line for line, and a client outside the cluster that reaches the Service only
// through NodeIP:nodePort. The article's listings are v1.19's (legacy); the current layout's
// chains differ (KUBE-EXT-*, the masquerade mark in KUBE-SVC-*, port names from a newer
// /etc/services), so the walkthrough follows the layout.

import type { ProxyLayout } from '../../shared/cluster.ts';
import type { Example } from './example.ts';

const CLUSTER_IP = '10.103.46.104';
const NODE_IP = '192.168.49.2';
const CLIENT_IP = '192.168.49.100';
const POD_A = 'webapp-55696ff4d8-klgfx'; // 10.244.120.102
const SVC = 'KUBE-SVC-2IRACUALRELARSND';
const SEP_A = 'KUBE-SEP-AO6KYGU752IZFEZ4'; // 10.244.120.102:80
const SEP_B = 'KUBE-SEP-PJFBSHHDX4VZAOXM'; // 10.244.120.103:80
/** The article's v1.19 cluster was 3 days 13 hours old when it listed these. */
const AGE_SECONDS = 3 * 86400 + 13 * 3600;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
  labels:
    app: webapp
  annotations:
    lab.kpl.dev/pod-names: ${POD_A},webapp-55696ff4d8-6jxrm
    lab.kpl.dev/pod-ips: 10.244.120.102,10.244.120.103
spec:
  replicas: 2
  selector:
    matchLabels:
      app: webapp
  template:
    metadata:
      labels:
        app: webapp
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  clusterIP: ${CLUSTER_IP}
  selector:
    app: webapp
  ports:
    - port: 80
      targetPort: 80
      nodePort: 31380
---
apiVersion: v1
kind: Pod
metadata:
  name: dnsutils
spec:
  containers:
  - name: dnsutils
    image: registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3
    command: [sleep, infinity]
`;

/** The article's frontend as a NodePort Service (its "NodePort" section), nodePort given. */
const frontend = (nodePort: number) => `apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  type: NodePort
  selector:
    app: webapp
  ports:
    - port: 80
      targetPort: 80
      nodePort: ${nodePort}
`;

const NODEPORTS_LAST = 'KUBE-NODEPORTS all -- anywhere anywhere /* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL';

/** `iptables -t nat -L` listings, as the article printed them (legacy) or a current node does. */
function listings(layout: ProxyLayout) {
  if (layout === 'legacy') {
    return {
      services: [
        'Chain KUBE-SERVICES (2 references)',
        'target prot opt source destination',
        `KUBE-MARK-MASQ tcp -- !10.244.0.0/16 ${CLUSTER_IP} /* default/webapp cluster IP */ tcp dpt:www`,
        `${SVC} tcp -- anywhere ${CLUSTER_IP} /* default/webapp cluster IP */ tcp dpt:www`,
        NODEPORTS_LAST,
      ],
      nodeports: [
        'Chain KUBE-NODEPORTS (1 references)',
        'target prot opt source destination',
        'KUBE-MARK-MASQ tcp -- anywhere anywhere /* default/webapp */ tcp dpt:31380',
        `${SVC} tcp -- anywhere anywhere /* default/webapp */ tcp dpt:31380`,
      ],
      svc: [
        `Chain ${SVC} (2 references)`,
        'target prot opt source destination',
        `${SEP_A} all -- anywhere anywhere /* default/webapp */ statistic mode random probability 0.50000000000`,
        `${SEP_B} all -- anywhere anywhere /* default/webapp */`,
      ],
      flow: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', SVC, 'KUBE-SEP-*', 'DNAT', 'KUBE-POSTROUTING', 'MASQUERADE'],
    };
  }
  return {
    services: [
      'Chain KUBE-SERVICES (2 references)',
      'target prot opt source destination',
      `${SVC} tcp -- anywhere ${CLUSTER_IP} /* default/webapp cluster IP */ tcp dpt:http`,
      NODEPORTS_LAST,
    ],
    nodeports: [
      'Chain KUBE-NODEPORTS (1 references)',
      'target prot opt source destination',
      'KUBE-EXT-2IRACUALRELARSND tcp -- anywhere anywhere /* default/webapp */ tcp dpt:31380',
    ],
    svc: [
      `Chain ${SVC} (2 references)`,
      'target prot opt source destination',
      `KUBE-MARK-MASQ tcp -- !10.244.0.0/16 ${CLUSTER_IP} /* default/webapp cluster IP */ tcp dpt:http`,
      `${SEP_A} all -- anywhere anywhere /* default/webapp -> 10.244.120.102:80 */ statistic mode random probability 0.50000000000`,
      `${SEP_B} all -- anywhere anywhere /* default/webapp -> 10.244.120.103:80 */`,
    ],
    flow: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXT-2IRACUALRELARSND', 'KUBE-MARK-MASQ', SVC, 'KUBE-SEP-*', 'DNAT', 'KUBE-POSTROUTING', 'MASQUERADE'],
  };
}

export const nodePort: Example = {
  name: 'nodeport',
  title: 'NodePort: the article\'s webapp, chain by chain',
  ko: 'NodePort (외부 - Pod 통신)와 kube-proxy iptables',
  summary: 'The article\'s minikube: webapp behind a NodePort Service (10.103.46.104, 80:31380). Its kubectl and iptables listings, and a client outside the cluster that gets in only through NodeIP:31380 (KUBE-NODEPORTS → KUBE-SVC → KUBE-SEP).',
  scene: 'NodePort (외부 - Pod 통신); 쿠버네티스 iptable 설정',
  cluster: { nodes: 1 },
  layouts: ['legacy', 'current'],
  setup: () => [
    { kind: 'apply', yaml: MANIFESTS },
    // A machine outside the cluster, on the node LAN.
    { kind: 'host', name: 'client' },
    { kind: 'link', host: 'client', lan: 'minikube', ip: `${CLIENT_IP}/24`, dev: 'eth0' },
    // The article listed its cluster when it was 3d13h old.
    { kind: 'console', host: 'minikube', command: `sleep ${AGE_SECONDS}` },
  ],
  walkthrough: (layout) => {
    const l = listings(layout);
    const legacy = layout === 'legacy';
    return {
      title: 'NodePort: from the client to a pod, chain by chain',
      ko: { title: 'NodePort: 클라이언트에서 Pod까지, chain 하나씩' },
      steps: [
        {
          title: 'The Service and its endpoints',
          text: 'webapp is a NodePort Service: it still has a ClusterIP (10.103.46.104) for traffic inside the cluster, and port 31380 on every node for traffic from outside. Its endpoints are the two nginx pods.',
          ko: { title: 'Service와 Endpoint', text: 'webapp은 NodePort 타입의 Service입니다. 클러스터 내부 트래픽을 위한 ClusterIP(10.103.46.104)가 여전히 있고, 외부 트래픽을 위해 모든 노드에 31380 포트가 열립니다. Endpoint는 nginx Pod 두 개입니다.' },
          action: { kind: 'command', host: 'minikube', command: 'kubectl get svc webapp; kubectl get ep webapp' },
          expect: {
            kind: 'output',
            lines: [
              'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE',
              `webapp NodePort ${CLUSTER_IP} <none> 80:31380/TCP 3d13h`,
              'NAME ENDPOINTS AGE',
              'webapp 10.244.120.102:80,10.244.120.103:80 3d13h',
            ],
          },
        },
        {
          title: 'CoreDNS knows the ClusterIP',
          text: 'The ClusterIP is on no interface anywhere: it is a virtual IP that exists in iptables, and CoreDNS answers its name.',
          ko: { title: 'CoreDNS는 ClusterIP를 압니다', text: 'ClusterIP는 어느 인터페이스에도 없는 가상 IP입니다. iptables 안에 존재하고, 쿠버네티스 내부 DNS(CoreDNS)로 질의할 수 있습니다.' },
          action: { kind: 'command', host: 'minikube', command: 'kubectl exec -i -t dnsutils -- nslookup webapp.default' },
          expect: { kind: 'output', lines: ['Server: 10.96.0.10', 'Address: 10.96.0.10#53', 'Name: webapp.default.svc.cluster.local', `Address: ${CLUSTER_IP}`] },
        },
        {
          title: 'The outside cannot use the ClusterIP',
          text: `client (${CLIENT_IP}) sits on the node LAN but outside the cluster. It has no route to the service CIDR, and nothing outside the nodes' iptables knows the VIP: the connection fails before it leaves client.`,
          ko: { title: '외부에서는 ClusterIP로 접근할 수 없습니다', text: `client(${CLIENT_IP})는 노드 LAN에 있지만 클러스터 밖에 있습니다. 서비스 CIDR로 가는 라우트가 없고, 노드의 iptables 밖에서는 아무도 VIP를 모릅니다. 연결은 client를 떠나기도 전에 실패합니다.` },
          action: { kind: 'trace', from: 'client', to: `${CLUSTER_IP}:80` },
          expect: { kind: 'trace', outcome: 'unroutable' },
        },
        {
          title: 'PREROUTING sends everything to KUBE-SERVICES',
          text: 'kube-proxy hooks KUBE-SERVICES into nat PREROUTING (and OUTPUT), after Calico\'s chain and before Docker\'s: every arriving packet is inspected for a Service address.',
          ko: { title: 'PREROUTING은 모든 것을 KUBE-SERVICES로', text: 'kube-proxy는 nat PREROUTING(과 OUTPUT)에 KUBE-SERVICES를 연결합니다. Calico의 chain 다음, Docker의 chain 앞입니다. 들어오는 모든 패킷이 Service 주소인지 검사됩니다.' },
          action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -L PREROUTING' },
          expect: {
            kind: 'output',
            lines: [
              'Chain PREROUTING (policy ACCEPT)',
              'target prot opt source destination',
              'cali-PREROUTING all -- anywhere anywhere /* cali:6gwbT8clXdHdC1b1 */',
              'KUBE-SERVICES all -- anywhere anywhere /* kubernetes service portals */',
              'DOCKER all -- anywhere anywhere ADDRTYPE match dst-type LOCAL',
            ],
          },
        },
        {
          title: 'KUBE-SERVICES: ClusterIP first, NodePorts last',
          text: legacy
            ? 'A packet for 10.103.46.104 port 80 (www in /etc/services: -L prints names without -n) jumps to KUBE-SVC-2IRACUALRELARSND, marked for masquerading when it does not come from a pod. Anything else addressed to one of the node\'s own addresses falls to the last rule, KUBE-NODEPORTS.'
            : 'A packet for 10.103.46.104 port 80 (http in a current /etc/services: -L prints names without -n) jumps to KUBE-SVC-2IRACUALRELARSND. Anything else addressed to one of the node\'s own addresses falls to the last rule, KUBE-NODEPORTS.',
          ko: { title: 'KUBE-SERVICES: ClusterIP 먼저, NodePort는 마지막', text: '10.103.46.104의 80 포트로 가는 패킷은 KUBE-SVC-2IRACUALRELARSND로 점프합니다(-n 없이 -L은 포트 이름을 출력합니다). 그 외에 노드 자신의 주소로 가는 패킷은 마지막 규칙인 KUBE-NODEPORTS로 갑니다.' },
          action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -L KUBE-SERVICES' },
          expect: { kind: 'output', lines: l.services },
        },
        {
          title: 'KUBE-NODEPORTS',
          text: legacy
            ? 'Port 31380 on any local address: mark the packet for masquerading, then the same KUBE-SVC chain as the ClusterIP. ClusterIP and NodePort end up in the same place.'
            : 'Port 31380 on any local address goes to KUBE-EXT-2IRACUALRELARSND, which marks it for masquerading and jumps to the same KUBE-SVC chain as the ClusterIP. ClusterIP and NodePort end up in the same place.',
          ko: { title: 'KUBE-NODEPORTS', text: '로컬 주소의 31380 포트로 온 패킷은 MASQUERADE 표시를 받고 ClusterIP와 같은 KUBE-SVC chain으로 갑니다. ClusterIP와 NodePort 둘 다 결국 동일하게 처리됩니다.' },
          action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -L KUBE-NODEPORTS' },
          expect: { kind: 'output', lines: l.nodeports },
        },
        {
          title: 'KUBE-SVC: pick an endpoint',
          text: 'Two endpoints: the first with probability 0.5, otherwise the second.',
          ko: { title: 'KUBE-SVC: Endpoint 고르기', text: 'Endpoint가 두 개입니다. 첫 번째를 0.5 확률로, 아니면 두 번째를 고릅니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${SVC}` },
          expect: { kind: 'output', lines: l.svc },
        },
        {
          title: 'KUBE-SEP: DNAT, and the mark',
          text: 'Each endpoint chain DNATs to its pod (10.244.120.102:80, 10.244.120.103:80); a pod reaching itself is marked too. KUBE-MARK-MASQ only sets bit 0x4000: KUBE-POSTROUTING masquerades the packets carrying it.',
          ko: { title: 'KUBE-SEP: DNAT와 표시', text: '각 Endpoint chain은 해당 Pod(10.244.120.102:80, 10.244.120.103:80)로 DNAT합니다. 자기 자신에게 오는 Pod도 표시됩니다. KUBE-MARK-MASQ는 0x4000 비트만 켭니다. 이 표시가 있는 패킷을 KUBE-POSTROUTING이 MASQUERADE합니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${SEP_A}; iptables -t nat -L ${SEP_B}; iptables -t nat -L KUBE-MARK-MASQ` },
          expect: {
            kind: 'output',
            lines: [
              `Chain ${SEP_A} (1 references)`,
              'target prot opt source destination',
              'KUBE-MARK-MASQ all -- 10.244.120.102 anywhere /* default/webapp */',
              'DNAT tcp -- anywhere anywhere /* default/webapp */ tcp to:10.244.120.102:80',
              `Chain ${SEP_B} (1 references)`,
              'target prot opt source destination',
              'KUBE-MARK-MASQ all -- 10.244.120.103 anywhere /* default/webapp */',
              'DNAT tcp -- anywhere anywhere /* default/webapp */ tcp to:10.244.120.103:80',
              'target prot opt source destination',
              'MARK all -- anywhere anywhere MARK or 0x4000',
            ],
            contains: ['Chain KUBE-MARK-MASQ ('],
          },
        },
        {
          title: 'client to NodeIP:31380',
          text: `Step the packet from client to ${NODE_IP}:31380: KUBE-SERVICES → KUBE-NODEPORTS → KUBE-SVC → KUBE-SEP, DNAT to a pod; with the masquerade mark, KUBE-POSTROUTING SNATs it to the node address (externalTrafficPolicy Cluster), so the pod sees ${NODE_IP}, not the client. conntrack undoes both on the reply: client gets its answer from ${NODE_IP}:31380.`,
          ko: { title: 'client → NodeIP:31380', text: `client에서 ${NODE_IP}:31380으로 패킷을 따라가 보세요. KUBE-SERVICES → KUBE-NODEPORTS → KUBE-SVC → KUBE-SEP를 지나 Pod로 DNAT됩니다. MASQUERADE 표시가 있으므로 KUBE-POSTROUTING이 노드 주소로 SNAT합니다(externalTrafficPolicy Cluster). Pod는 client가 아니라 ${NODE_IP}를 봅니다. 응답에서는 conntrack이 둘 다 되돌려 client는 ${NODE_IP}:31380에서 응답을 받습니다.` },
          action: { kind: 'trace', from: 'client', to: 'minikube:31380', seed: 7 },
          expect: { kind: 'trace', outcome: 'delivered', deliveredTo: `pod/default/${POD_A}`, passes: l.flow, source: NODE_IP, replyOutcome: 'delivered', replySource: NODE_IP },
        },
        {
          title: 'A taken nodePort is refused',
          text: 'The article\'s frontend Service asks for nodePort 31380 as well. The API server allocates node ports cluster-wide from --service-node-port-range (30000-32767): a port another Service holds, or one out of the range, is refused with an error.',
          ko: { title: '이미 쓰는 nodePort는 거부됩니다', text: '글의 frontend Service도 nodePort 31380을 요청합니다. API 서버는 클러스터 전체에서 --service-node-port-range(30000-32767) 안의 포트를 할당합니다. 다른 Service가 쓰는 포트나 범위 밖의 포트는 에러로 거부됩니다.' },
          action: { kind: 'command', host: 'minikube', command: `kubectl apply -f - <<EOF\n${frontend(31380)}EOF` },
          expect: { kind: 'output', code: 1, contains: ['The Service "frontend" is invalid: spec.ports[0].nodePort: Invalid value: 31380: provided port is already allocated'] },
        },
      ],
    };
  },
  exercises: () => [
    {
      title: 'Open frontend to the outside',
      goal: 'Expose the article\'s frontend Service (app=webapp) as a NodePort on port 30080, so that client reaches it at 192.168.49.2:30080 — while webapp keeps 31380.',
      ko: { title: 'frontend를 외부에 열기', goal: '글의 frontend Service(app=webapp)를 NodePort 30080으로 노출해 client가 192.168.49.2:30080으로 접근하게 하세요. webapp은 31380을 그대로 유지해야 합니다.' },
      checks: [
        { name: 'client reaches minikube:30080 through a Service', expect: { kind: 'trace', from: 'client', to: 'minikube:30080', outcome: 'delivered', passes: ['KUBE-NODEPORTS', 'KUBE-SVC-*', 'DNAT'] } },
        { name: 'webapp still answers on 31380', expect: { kind: 'reach', cells: [{ from: 'client', to: 'minikube:31380', allowed: true }] } },
      ],
      hints: [
        '31380 is taken by webapp, and a nodePort must lie in 30000-32767.',
        'The article\'s frontend manifest with nodePort: 30080 does it: kubectl apply -f - on the node.',
      ],
      solution: 'Apply the article\'s frontend Service (type NodePort, selector app=webapp, port 80, targetPort 80) with nodePort: 30080.',
      solutionActions: [{ kind: 'apply', yaml: frontend(30080) }],
    },
  ],
  notes: 'The article\'s minikube (v1.19.2 in the legacy layout): webapp\'s pods are pinned to 10.244.120.102 and .103 (lab.kpl.dev/pod-ips), so kube-proxy\'s chains have the article\'s names. The lab clock starts at the article\'s 3d13h. client (192.168.49.100) is a machine outside the cluster on the node LAN.',
};
