// The article's externalTrafficPolicy scene ("Traffic Policy: Cluster / Local" and "Kube-Proxy
// (iptables mode) / ExtrenalTrafficPolicy: Local"): a two-node minikube, one nginx pod on
// minikube, Service webapp of type NodePort (30080). A client outside the cluster, on the nodes'
// LAN, connects to each node's NodePort: with Cluster, minikube-m02 SNATs it and hops to the pod
// on minikube; with Local, minikube-m02 drops it (no local endpoint) and minikube delivers it
// with the client's address intact.

import type { ProxyLayout } from '../../shared/cluster.ts';
import type { Expectation, StepAction, WalkthroughStep } from '../../shared/guide.ts';
import type { Example } from './example.ts';

/** The article's nginx: one replica on minikube, its pod name and address pinned to the article's. */
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  annotations:
    lab.kpl.dev/pod-names: nginx-deployment-7759cc5c66-p45tz
    lab.kpl.dev/pod-ips: 10.244.120.111
spec:
  replicas: 1
  selector:
    matchLabels:
      app: webserver
  template:
    metadata:
      labels:
        app: webserver
    spec:
      nodeName: minikube
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
`;

const service = (policy: 'Cluster' | 'Local') => `apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: NodePort
  externalTrafficPolicy: ${policy}
  clusterIP: 10.111.243.62
  selector:
    app: webserver
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
`;

/** A second nginx, on minikube-m02, behind the same Service. */
const SECOND_POD = `apiVersion: v1
kind: Pod
metadata:
  name: nginx-m02
  labels:
    app: webserver
spec:
  nodeName: minikube-m02
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
`;

/** The client outside the cluster, on the nodes' LAN (minikube's docker network). */
const CLIENT = 'client';
const CLIENT_IP = '192.168.49.100';

const POLICY = 'kubectl get svc webapp -o wide -o jsonpath={.spec.externalTrafficPolicy}';
const SVC = 'KUBE-SVC-2IRACUALRELARSND';
const XLB = 'KUBE-XLB-2IRACUALRELARSND';
const EXT = 'KUBE-EXT-2IRACUALRELARSND';
const SVL = 'KUBE-SVL-2IRACUALRELARSND';
const SEP = 'KUBE-SEP-5T4S2ILYSXWY3R2J';

const toM02: StepAction = { kind: 'trace', from: CLIENT, to: 'minikube-m02:30080' };
const toMinikube: StepAction = { kind: 'trace', from: CLIENT, to: 'minikube:30080' };

function steps(layout: ProxyLayout): WalkthroughStep[] {
  const legacy = layout === 'legacy';
  const nodes: Expectation = legacy
    ? { kind: 'output', lines: ['NAME STATUS ROLES AGE VERSION', 'minikube Ready master 6d1h v1.19.2', 'minikube-m02 Ready <none> 6d1h v1.19.2'] }
    : { kind: 'output', lines: ['NAME STATUS ROLES AGE VERSION', 'minikube Ready control-plane 6d1h v1.34.1', 'minikube-m02 Ready <none> 6d1h v1.34.1'] };
  return [
    {
      title: 'Two nodes',
      text: `A two-node minikube (${legacy ? 'v1.19.2, as in the article' : 'v1.34.1'}): minikube (192.168.49.2) and minikube-m02 (192.168.49.3). In the article minikube-m02 joined later (AGE 85m); here both were made together.`,
      ko: { title: '노드 두 개', text: `두 노드로 된 minikube 클러스터입니다(${legacy ? '글과 같은 v1.19.2' : 'v1.34.1'}): minikube(192.168.49.2)와 minikube-m02(192.168.49.3). 글에서는 minikube-m02가 나중에 추가되었지만(AGE 85m) 여기서는 함께 만들어졌습니다.` },
      action: { kind: 'command', host: 'minikube', command: 'kubectl get nodes' },
      expect: nodes,
    },
    {
      title: 'One nginx pod, on minikube',
      text: 'The Deployment runs a single nginx pod, 10.244.120.111, on minikube. minikube-m02 has no pod of the Service: no local endpoint.',
      ko: { title: 'minikube에 있는 Nginx Pod 하나', text: 'Deployment는 Nginx Pod 하나(10.244.120.111)를 minikube에서 실행합니다. minikube-m02에는 이 Service의 Pod가 없습니다. 즉 local endpoint가 없습니다.' },
      action: { kind: 'command', host: 'minikube', command: 'kubectl get pods nginx-deployment-7759cc5c66-p45tz -o wide' },
      expect: {
        kind: 'output',
        lines: [
          'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES',
          'nginx-deployment-7759cc5c66-p45tz 1/1 Running 0 29m 10.244.120.111 minikube <none> <none>',
        ],
      },
    },
    {
      title: 'externalTrafficPolicy: Cluster, the default',
      text: 'Service webapp is a NodePort Service (10.111.243.62, port 80, nodePort 30080). Its externalTrafficPolicy was not set, so it is Cluster: every node accepts on 30080 and forwards to any pod.',
      ko: { title: 'externalTrafficPolicy: Cluster (기본값)', text: 'webapp Service는 NodePort 타입입니다(10.111.243.62, 포트 80, nodePort 30080). externalTrafficPolicy를 지정하지 않았으므로 Cluster입니다. 모든 노드가 30080 포트로 트래픽을 받아 어느 Pod로든 전달합니다.' },
      action: { kind: 'command', host: 'minikube', command: POLICY },
      expect: { kind: 'output', contains: ['Cluster'], absent: ['Local'] },
    },
    {
      title: 'Cluster: minikube-m02 SNATs and hops to minikube',
      text: `The client (${CLIENT_IP}) connects to minikube-m02:30080. minikube-m02 has no nginx pod, but with Cluster it DNATs to 10.244.120.111 anyway and marks the packet for masquerade (KUBE-MARK-MASQ): on the way out it is SNATed to the address of the interface it leaves by — tunl0, minikube-m02's tunnel address — and crosses the IPIP tunnel to minikube. The pod never sees the client's address; its reply goes back through minikube-m02, which undoes both translations.`,
      ko: { title: 'Cluster: minikube-m02가 SNAT 후 minikube로 전달', text: `클라이언트(${CLIENT_IP})가 minikube-m02:30080으로 접속합니다. minikube-m02에는 Nginx Pod가 없지만 Cluster 정책이므로 10.244.120.111로 DNAT하고 masquerade 표시(KUBE-MARK-MASQ)를 합니다. 나가는 인터페이스(tunl0, minikube-m02의 터널 IP)의 주소로 SNAT된 뒤 IPIP 터널을 건너 minikube로 갑니다(추가 hop). Pod는 클라이언트 IP를 볼 수 없고, 응답은 minikube-m02를 거쳐 두 변환이 모두 되돌려진 채 클라이언트로 돌아갑니다.` },
      action: toM02,
      expect: { kind: 'trace', outcome: 'delivered', passes: ['KUBE-MARK-MASQ', SEP, 'MASQUERADE'], source: 'translated', replyOutcome: 'delivered', replySource: '192.168.49.3' },
    },
    {
      title: 'Switch to externalTrafficPolicy: Local',
      text: 'Apply the Service again with externalTrafficPolicy: Local (valid only for NodePort and LoadBalancer Services: it is about traffic from outside). kube-proxy rewrites its rules on both nodes.',
      ko: { title: 'externalTrafficPolicy: Local로 변경', text: 'externalTrafficPolicy: Local로 Service를 다시 적용합니다(외부 트래픽에 대한 정책이므로 NodePort와 LoadBalancer에서만 유효합니다). kube-proxy가 두 노드의 규칙을 다시 씁니다.' },
      action: { kind: 'apply', yaml: service('Local') },
      expect: { kind: 'output', host: 'minikube', command: POLICY, contains: ['Local'] },
    },
    {
      title: legacy ? 'minikube-m02: NodePort 30080 now jumps to KUBE-XLB' : 'minikube-m02: NodePort 30080 jumps to KUBE-EXT',
      text: legacy
        ? 'On minikube-m02, KUBE-NODEPORTS now sends port 30080 to KUBE-XLB-… (the "external load balancer" chain of a Local Service) instead of marking it for masquerade; only traffic from 127.0.0.0/8 is still masqueraded.'
        : 'On minikube-m02, KUBE-NODEPORTS sends port 30080 to KUBE-EXT-…, the Service\'s chain for external traffic (kube-proxy since v1.24 names it so; v1.19\'s KUBE-XLB-… is gone). With Local it no longer marks the packet for masquerade.',
      ko: {
        title: legacy ? 'minikube-m02: NodePort 30080이 KUBE-XLB로 점프' : 'minikube-m02: NodePort 30080이 KUBE-EXT로 점프',
        text: legacy
          ? 'minikube-m02의 KUBE-NODEPORTS는 이제 30080 포트를 masquerade 표시 대신 KUBE-XLB-… 체인(Local Service의 외부 로드밸런서 체인)으로 보냅니다. 127.0.0.0/8에서 온 트래픽만 여전히 masquerade됩니다.'
          : 'minikube-m02의 KUBE-NODEPORTS는 30080 포트를 외부 트래픽용 체인 KUBE-EXT-…로 보냅니다(v1.24 이후의 kube-proxy 이름이며 v1.19의 KUBE-XLB-…는 없습니다). Local에서는 더 이상 masquerade 표시를 하지 않습니다.',
      },
      action: { kind: 'command', host: 'minikube-m02', command: 'iptables -t nat -L KUBE-NODEPORTS' },
      expect: legacy
        ? {
            kind: 'output',
            lines: [
              'Chain KUBE-NODEPORTS (1 references)',
              'KUBE-MARK-MASQ tcp -- 127.0.0.0/8 anywhere /* default/webapp */ tcp dpt:30080',
              `${XLB} tcp -- anywhere anywhere /* default/webapp */ tcp dpt:30080`,
            ],
          }
        : { kind: 'output', lines: ['Chain KUBE-NODEPORTS (1 references)', `${EXT} tcp -- anywhere anywhere /* default/webapp */ tcp dpt:30080`], absent: ['KUBE-MARK-MASQ'] },
    },
    legacy
      ? {
          title: 'minikube-m02: no local endpoint, KUBE-MARK-DROP',
          text: 'minikube-m02\'s KUBE-XLB chain: pods\' own traffic goes to the ClusterIP chain, the node\'s own traffic is masqueraded to it, and everything else — the client\'s packet — is marked for dropping: "default/webapp has no local endpoints". The filter table\'s KUBE-FIREWALL drops marked packets.',
          ko: { title: 'minikube-m02: local endpoint 없음, KUBE-MARK-DROP', text: 'minikube-m02의 KUBE-XLB 체인입니다. Pod에서 온 트래픽은 ClusterIP 체인으로, 노드 자신의 트래픽은 masquerade 후 서비스 체인으로 가고, 나머지(클라이언트의 패킷)는 "default/webapp has no local endpoints" 규칙에서 drop 표시가 됩니다. filter 테이블의 KUBE-FIREWALL이 표시된 패킷을 버립니다.' },
          action: { kind: 'command', host: 'minikube-m02', command: `iptables -t nat -L ${XLB}` },
          expect: {
            kind: 'output',
            lines: [
              `Chain ${XLB} (1 references)`,
              `${SVC} all -- 10.244.0.0/16 anywhere /* Redirect pods trying to reach external loadbalancer VIP to clusterIP */`,
              'KUBE-MARK-MASQ all -- anywhere anywhere /* masquerade LOCAL traffic for default/webapp LB IP */ ADDRTYPE match src-type LOCAL',
              `${SVC} all -- anywhere anywhere /* route LOCAL traffic for default/webapp LB IP to service chain */ ADDRTYPE match src-type LOCAL`,
              'KUBE-MARK-DROP all -- anywhere anywhere /* default/webapp has no local endpoints */',
            ],
          },
        }
      : {
          title: 'minikube-m02: no local endpoint, DROP in KUBE-EXTERNAL-SERVICES',
          text: 'The current kube-proxy no longer marks the packet for dropping in nat (KUBE-MARK-DROP is gone): KUBE-EXT-… on minikube-m02 simply has no jump to a local-endpoint chain, and the filter table drops the port outright: "default/webapp has no local endpoints".',
          ko: { title: 'minikube-m02: local endpoint 없음, KUBE-EXTERNAL-SERVICES에서 DROP', text: '현재 kube-proxy는 nat 테이블에서 drop 표시를 하지 않습니다(KUBE-MARK-DROP 없음). minikube-m02의 KUBE-EXT-…에는 local endpoint 체인으로 가는 점프가 없고, filter 테이블이 "default/webapp has no local endpoints" 규칙으로 포트를 바로 DROP합니다.' },
          action: { kind: 'command', host: 'minikube-m02', command: 'iptables -L KUBE-EXTERNAL-SERVICES' },
          expect: { kind: 'output', lines: ['DROP tcp -- anywhere anywhere /* default/webapp has no local endpoints */ ADDRTYPE match dst-type LOCAL tcp dpt:30080'] },
        },
    {
      title: 'Local: minikube-m02 drops the client',
      text: 'The same connection to minikube-m02:30080 is now dropped on minikube-m02: nothing is forwarded to minikube. A client (or a load balancer) must send to a node that has a pod.',
      ko: { title: 'Local: minikube-m02가 패킷을 버립니다', text: '같은 minikube-m02:30080 접속이 이제 minikube-m02에서 버려집니다. minikube로 전달되지 않습니다. 클라이언트(또는 로드밸런서)는 Pod가 있는 노드로 보내야 합니다.' },
      action: toM02,
      expect: legacy
        ? { kind: 'trace', outcome: 'dropped', passes: [XLB, 'KUBE-MARK-DROP', 'KUBE-FIREWALL'], avoids: [SEP] }
        : { kind: 'trace', outcome: 'dropped', passes: [EXT, 'KUBE-EXTERNAL-SERVICES'], avoids: [SVL, SEP] },
    },
    legacy
      ? {
          title: 'minikube: Balancing rule 0',
          text: 'On minikube, the node with the pod, the same KUBE-XLB chain ends in "Balancing rule 0 for default/webapp": a jump to the local endpoint\'s KUBE-SEP-5T4S2ILYSXWY3R2J, without KUBE-MARK-MASQ.',
          ko: { title: 'minikube: Balancing rule 0', text: 'Pod가 있는 minikube 노드에서는 같은 KUBE-XLB 체인이 "Balancing rule 0 for default/webapp"으로 끝납니다. KUBE-MARK-MASQ 없이 local endpoint인 KUBE-SEP-5T4S2ILYSXWY3R2J로 점프합니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${XLB}` },
          expect: { kind: 'output', lines: [`Chain ${XLB} (1 references)`, `${SEP} all -- anywhere anywhere /* Balancing rule 0 for default/webapp */`], absent: ['KUBE-MARK-DROP'] },
        }
      : {
          title: 'minikube: KUBE-SVL, the local endpoints',
          text: 'On minikube, the node with the pod, KUBE-EXT-… ends in a jump to KUBE-SVL-… (the Service\'s local endpoints), which goes to KUBE-SEP-5T4S2ILYSXWY3R2J — the same endpoint chain as the article\'s, without KUBE-MARK-MASQ.',
          ko: { title: 'minikube: KUBE-SVL, local endpoint', text: 'Pod가 있는 minikube에서는 KUBE-EXT-…가 KUBE-SVL-…(Service의 local endpoint 체인)로 점프하고, 그 체인은 글과 같은 KUBE-SEP-5T4S2ILYSXWY3R2J로 갑니다. KUBE-MARK-MASQ는 없습니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${SVL}` },
          expect: { kind: 'output', lines: [`Chain ${SVL} (1 references)`, `${SEP} all -- anywhere anywhere /* default/webapp -> 10.244.120.111:80 */`] },
        },
    {
      title: 'Local: minikube delivers with the client\'s address',
      text: `Connecting to minikube:30080 instead: DNAT to 10.244.120.111, no masquerade, no hop. The pod sees ${CLIENT_IP} itself, and its reply leaves minikube straight to the client, from 192.168.49.2:30080.`,
      ko: { title: 'Local: minikube는 클라이언트 IP를 유지한 채 전달', text: `이번에는 minikube:30080으로 접속합니다. 10.244.120.111로 DNAT되고 masquerade도 추가 hop도 없습니다. Pod는 클라이언트 IP ${CLIENT_IP}를 그대로 보고, 응답은 minikube에서 바로 클라이언트로 192.168.49.2:30080 출발지로 돌아갑니다.` },
      action: toMinikube,
      expect: { kind: 'trace', outcome: 'delivered', passes: [SEP, 'DNAT'], avoids: ['KUBE-MARK-MASQ', 'MASQUERADE'], source: 'preserved', replyOutcome: 'delivered', replySource: '192.168.49.2' },
    },
  ];
}

export const trafficPolicy: Example = {
  name: 'traffic-policy',
  title: 'externalTrafficPolicy: Cluster and Local',
  ko: 'Traffic Policy: Cluster와 Local',
  summary: 'A NodePort Service on two nodes with its only pod on one: with Cluster the other node SNATs and hops, with Local it drops, and the node with the pod keeps the client\'s address.',
  scene: 'externalTrafficPolicy / ExtrenalTrafficPolicy: Local',
  cluster: { nodes: 2 },
  layouts: ['legacy', 'current'],
  setup: () => [
    // The article's minikube is 6d1h old when the nginx pod is 29m old.
    { kind: 'console', host: 'minikube', command: 'sleep 520260' },
    { kind: 'apply', yaml: `${DEPLOYMENT}---\n${service('Cluster')}` },
    { kind: 'console', host: 'minikube', command: 'sleep 1740' },
    { kind: 'host', name: CLIENT },
    { kind: 'link', host: CLIENT, lan: 'minikube', ip: `${CLIENT_IP}/24` },
  ],
  walkthrough: (layout) => ({
    title: 'externalTrafficPolicy: Cluster, then Local',
    ko: { title: 'externalTrafficPolicy: Cluster에서 Local로' },
    steps: steps(layout),
  }),
  exercises: () => [
    {
      title: 'Keep the client\'s address',
      goal: `The web server must see the real client address (${CLIENT_IP}) when the client connects to minikube:30080. Change the Service, not the pods.`,
      ko: { title: '클라이언트 IP 보존', goal: `클라이언트가 minikube:30080으로 접속할 때 웹 서버가 실제 클라이언트 IP(${CLIENT_IP})를 보게 하세요. Pod가 아니라 Service를 바꾸세요.` },
      checks: [
        { name: 'minikube:30080 delivers to the pod', expect: { kind: 'reach', cells: [{ from: CLIENT, to: 'minikube:30080', allowed: true }] } },
        { name: 'the client IP reaches the pod unchanged', expect: { kind: 'trace', from: CLIENT, to: 'minikube:30080', outcome: 'delivered', source: 'preserved' } },
      ],
      hints: ['Which rule marks the packet for masquerade? Look at KUBE-NODEPORTS on minikube.', 'externalTrafficPolicy decides whether a node may SNAT external traffic.'],
      solution: 'Apply the Service with spec.externalTrafficPolicy: Local.',
      solutionActions: [{ kind: 'apply', yaml: service('Local') }],
    },
    {
      title: 'Local, and no node drops',
      goal: `Keep the client's address on both nodes: connections to minikube:30080 and to minikube-m02:30080 must reach a web server with source ${CLIENT_IP}.`,
      ko: { title: 'Local이면서 drop 없이', goal: `두 노드 모두에서 클라이언트 IP를 유지하세요. minikube:30080과 minikube-m02:30080 접속이 모두 출발지 ${CLIENT_IP} 그대로 웹 서버에 닿아야 합니다.` },
      checks: [
        { name: 'minikube keeps the client IP', expect: { kind: 'trace', from: CLIENT, to: 'minikube:30080', outcome: 'delivered', source: 'preserved' } },
        { name: 'minikube-m02 keeps the client IP', expect: { kind: 'trace', from: CLIENT, to: 'minikube-m02:30080', outcome: 'delivered', source: 'preserved' } },
      ],
      hints: [
        'With Cluster, minikube-m02 delivers but masquerades; with Local alone, it drops.',
        'With Local, a node only accepts if it has a local endpoint: a ready pod of the Service on that node.',
      ],
      solution: 'Set externalTrafficPolicy: Local and run a second nginx pod (label app: webserver) on minikube-m02.',
      solutionActions: [{ kind: 'apply', yaml: `${service('Local')}---\n${SECOND_POD}` }],
    },
  ],
  notes:
    'The outside client is the host `client` (192.168.49.100) on the nodes\' LAN. Both nodes were created with the lab, so minikube-m02\'s AGE is not the article\'s 85m. ' +
    'With Cluster, the hop to minikube leaves minikube-m02 through the IPIP tunnel, so MASQUERADE takes tunl0\'s address (minikube-m02\'s tunnel IP), not 192.168.49.3.',
};
