// Scene 3 of the article ("Pod- Service 통신 / ClusterIP"): the article's webapp and auth
// Deployments behind the frontend and backend Services. A Service's VIP is on no interface: it
// exists only in kube-proxy's nat rules (KUBE-SERVICES → KUBE-SVC-* → KUBE-SEP-* DNAT), the
// same on every node, and CoreDNS answers its name. The lab annotations pin pod names and
// addresses (and the Services' cluster IPs) so every listing is the same each time.

import type { ProxyLayout } from '../../shared/cluster.ts';
import type { Example } from './example.ts';

const FRONTEND_IP = '10.101.186.196';
const BACKEND_IP = '10.101.37.97';
const WEBAPP_A = 'webapp-55696ff4d8-vc4wg'; // 10.244.120.102 on minikube
const WEBAPP_B = 'webapp-55696ff4d8-wm8bg'; // 10.244.205.131 on minikube-m02
/** kube-proxy's chains for default/frontend and its endpoints (the real hashes). */
const SVC_FRONTEND = 'KUBE-SVC-ENODL3HWJ5BZY56Q';
const SEP_A = 'KUBE-SEP-RFUPV75SXXL7W36Z'; // 10.244.120.102:80
const SEP_B = 'KUBE-SEP-OGAMIMSIUOTKFJAD'; // 10.244.205.131:80

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
  labels:
    app: webapp
  annotations:
    lab.kpl.dev/pod-names: ${WEBAPP_A},${WEBAPP_B}
    lab.kpl.dev/pod-ips: 10.244.120.102,10.244.205.131
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
apiVersion: apps/v1
kind: Deployment
metadata:
  name: auth
  labels:
    app: auth
  annotations:
    lab.kpl.dev/pod-names: auth-5cc9f7b447-lcmt4,auth-5cc9f7b447-6l5j7
    lab.kpl.dev/pod-ips: 10.244.205.132,10.244.120.103
spec:
  replicas: 2
  selector:
    matchLabels:
      app: auth
  template:
    metadata:
      labels:
        app: auth
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
  name: frontend
  labels:
    app: frontend
spec:
  ports:
  - port: 80
    protocol: TCP
  type: ClusterIP
  clusterIP: ${FRONTEND_IP}
  selector:
    app: webapp
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  labels:
    app: backend
spec:
  ports:
  - port: 80
    protocol: TCP
  type: ClusterIP
  clusterIP: ${BACKEND_IP}
  selector:
    app: auth
---
apiVersion: v1
kind: Pod
metadata:
  name: dnsutils
  annotations: {lab.kpl.dev/ip: 10.244.205.130}
spec:
  nodeName: minikube-m02
  containers:
  - name: dnsutils
    image: registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3
    command: [sleep, infinity]
`;

/** frontend with a second port, 8080, to the same container port (the exercise's answer). */
const FRONTEND_8080 = `apiVersion: v1
kind: Service
metadata:
  name: frontend
  labels:
    app: frontend
spec:
  ports:
  - name: http
    port: 80
    targetPort: 80
    protocol: TCP
  - name: http-alt
    port: 8080
    targetPort: 80
    protocol: TCP
  type: ClusterIP
  clusterIP: ${FRONTEND_IP}
  selector:
    app: webapp
`;

/** `iptables -t nat -L` rows for frontend: v1.19 marks in KUBE-SERVICES, newer ones in KUBE-SVC. */
function servicesRows(layout: ProxyLayout): string[] {
  return layout === 'legacy'
    ? [
        `KUBE-MARK-MASQ tcp -- !10.244.0.0/16 ${FRONTEND_IP} /* default/frontend cluster IP */ tcp dpt:www`,
        `${SVC_FRONTEND} tcp -- anywhere ${FRONTEND_IP} /* default/frontend cluster IP */ tcp dpt:www`,
        'KUBE-NODEPORTS all -- anywhere anywhere /* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL',
      ]
    : [
        `${SVC_FRONTEND} tcp -- anywhere ${FRONTEND_IP} /* default/frontend cluster IP */ tcp dpt:http`,
        'KUBE-NODEPORTS all -- anywhere anywhere /* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL',
      ];
}

function svcRows(layout: ProxyLayout): string[] {
  return layout === 'legacy'
    ? [
        `Chain ${SVC_FRONTEND} (1 references)`,
        `${SEP_A} all -- anywhere anywhere /* default/frontend */ statistic mode random probability 0.50000000000`,
        `${SEP_B} all -- anywhere anywhere /* default/frontend */`,
      ]
    : [
        `Chain ${SVC_FRONTEND} (1 references)`,
        `KUBE-MARK-MASQ tcp -- !10.244.0.0/16 ${FRONTEND_IP} /* default/frontend cluster IP */ tcp dpt:http`,
        `${SEP_A} all -- anywhere anywhere /* default/frontend -> 10.244.120.102:80 */ statistic mode random probability 0.50000000000`,
        `${SEP_B} all -- anywhere anywhere /* default/frontend -> 10.244.205.131:80 */`,
      ];
}

export const clusterIp: Example = {
  name: 'clusterip',
  title: 'ClusterIP: a VIP that lives only in iptables',
  ko: 'Pod - Service 통신 (ClusterIP)',
  summary: 'The article\'s webapp and auth Deployments behind the frontend and backend Services: CoreDNS answers the names, kube-proxy DNATs the VIP to a pod on every node, conntrack turns the reply back.',
  scene: 'Pod- Service 통신 / ClusterIP',
  cluster: { nodes: 2 },
  layouts: ['legacy', 'current'],
  setup: () => [{ kind: 'apply', yaml: MANIFESTS }],
  walkthrough: (layout) => ({
    title: 'ClusterIP: DNS name, VIP, DNAT',
    ko: { title: 'ClusterIP: DNS 이름, VIP, DNAT' },
    steps: [
      {
        title: 'Pods come and go',
        text: 'webapp and auth each run two nginx pods, spread over both nodes. Their names and addresses change whenever a pod is replaced, so nobody should talk to them directly.',
        ko: { title: 'Pod는 생기고 사라집니다', text: 'webapp과 auth는 각각 nginx Pod 두 개를 두 노드에 나눠 실행합니다. Pod가 바뀔 때마다 이름과 IP가 바뀌므로 Pod로 직접 통신하면 안 됩니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get pods -o wide' },
        expect: { kind: 'output', contains: [WEBAPP_A, '10.244.120.102', WEBAPP_B, '10.244.205.131', 'auth-5cc9f7b447-lcmt4', '10.244.205.132'] },
      },
      {
        title: 'Two Services, two VIPs',
        text: 'frontend selects app=webapp, backend app=auth. Each got a virtual IP from the service CIDR (10.96.0.0/12): one stable address in front of a changing set of pods.',
        ko: { title: 'Service 두 개, VIP 두 개', text: 'frontend는 app=webapp을, backend는 app=auth를 선택합니다. 각각 서비스 CIDR(10.96.0.0/12)에서 가상 IP를 받았습니다. 바뀌는 Pod들 앞에 놓인 고정된 주소 하나입니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get svc' },
        expect: { kind: 'output', lines: [`backend ClusterIP ${BACKEND_IP} <none> 80/TCP 0s`, `frontend ClusterIP ${FRONTEND_IP} <none> 80/TCP 0s`] },
      },
      {
        title: 'The endpoints behind them',
        text: 'The endpoints controller keeps each Service\'s list of ready pod addresses: this is what kube-proxy turns into rules.',
        ko: { title: 'Service 뒤의 Endpoint', text: 'Endpoint 컨트롤러가 각 Service의 준비된 Pod 주소 목록을 관리합니다. kube-proxy는 이 목록을 규칙으로 바꿉니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get ep frontend backend' },
        expect: { kind: 'output', lines: ['frontend 10.244.120.102:80,10.244.205.131:80 0s', 'backend 10.244.120.103:80,10.244.205.132:80 0s'] },
      },
      {
        title: 'CoreDNS answers the name',
        text: 'CoreDNS watches Services and serves <service>.<namespace>.svc.cluster.local. Ask it from the dnsutils pod: the answer is frontend\'s ClusterIP.',
        ko: { title: 'CoreDNS가 이름에 답합니다', text: 'CoreDNS는 Service를 지켜보다가 <service>.<namespace>.svc.cluster.local을 제공합니다. dnsutils Pod에서 물어보면 frontend의 ClusterIP가 답으로 옵니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl exec -i -t dnsutils -- nslookup frontend.default' },
        expect: { kind: 'output', lines: ['Server: 10.96.0.10', 'Address: 10.96.0.10#53', 'Name: frontend.default.svc.cluster.local', `Address: ${FRONTEND_IP}`] },
      },
      {
        title: 'No interface has the VIP',
        text: `Look for ${FRONTEND_IP} on the node: no interface holds it, nothing answers ARP for it. The VIP exists only in kube-proxy's iptables rules.`,
        ko: { title: 'VIP를 가진 인터페이스는 없습니다', text: `노드에서 ${FRONTEND_IP}를 찾아보세요. 어느 인터페이스에도 없고 ARP에 답하는 곳도 없습니다. VIP는 kube-proxy의 iptables 규칙 안에만 존재합니다.` },
        action: { kind: 'command', host: 'minikube', command: 'ip addr' },
        expect: { kind: 'output', contains: ['inet 192.168.49.2/24'], absent: [FRONTEND_IP, BACKEND_IP] },
      },
      {
        title: 'KUBE-SERVICES: the entry point',
        text: layout === 'legacy'
          ? 'nat PREROUTING and OUTPUT jump to KUBE-SERVICES. A packet to frontend\'s VIP and port 80 (www) goes to its KUBE-SVC chain; one not from a pod is first marked for masquerading. The last rule sends packets for the node\'s own addresses to KUBE-NODEPORTS.'
          : 'nat PREROUTING and OUTPUT jump to KUBE-SERVICES. A packet to frontend\'s VIP and port 80 (http) goes to its KUBE-SVC chain (newer kube-proxy marks for masquerading there). The last rule sends packets for the node\'s own addresses to KUBE-NODEPORTS.',
        ko: { title: 'KUBE-SERVICES: 시작점', text: 'nat PREROUTING과 OUTPUT은 KUBE-SERVICES로 점프합니다. frontend의 VIP와 80 포트로 가는 패킷은 해당 KUBE-SVC chain으로 갑니다. 마지막 규칙은 노드 자신의 주소로 가는 패킷을 KUBE-NODEPORTS로 보냅니다.' },
        action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -L KUBE-SERVICES' },
        expect: { kind: 'output', lines: ['Chain KUBE-SERVICES (2 references)', ...servicesRows(layout)] },
      },
      {
        title: 'KUBE-SVC: the load balancer',
        text: 'One jump per endpoint: the first taken with probability 1/2, the last always. The same chain is on every node: kube-proxy runs on each of them. Try it on minikube-m02.',
        ko: { title: 'KUBE-SVC: 로드밸런서', text: 'Endpoint마다 점프 규칙이 하나씩 있습니다. 첫 번째는 1/2 확률로, 마지막은 항상 선택됩니다. kube-proxy는 모든 노드에서 실행되므로 같은 chain이 모든 노드에 있습니다. minikube-m02에서 확인해 보세요.' },
        action: { kind: 'command', host: 'minikube-m02', command: `iptables -t nat -L ${SVC_FRONTEND}` },
        expect: { kind: 'output', lines: svcRows(layout) },
      },
      {
        title: 'KUBE-SEP: the DNAT',
        text: 'Each endpoint chain rewrites the destination to its pod\'s IP:port (and marks for masquerading a pod that reaches itself through its own Service).',
        ko: { title: 'KUBE-SEP: DNAT', text: '각 Endpoint chain은 목적지를 해당 Pod의 IP:port로 바꿉니다(자기 Service를 통해 자기 자신에게 오는 Pod는 MASQUERADE 표시를 합니다).' },
        action: { kind: 'command', host: 'minikube-m02', command: `iptables -t nat -L ${SEP_A}` },
        expect: { kind: 'output', lines: [`Chain ${SEP_A} (1 references)`, 'KUBE-MARK-MASQ all -- 10.244.120.102 anywhere /* default/frontend */', 'DNAT tcp -- anywhere anywhere /* default/frontend */ tcp to:10.244.120.102:80'] },
      },
      {
        title: 'dnsutils to frontend:80',
        text: 'Step the packet from dnsutils on minikube-m02: KUBE-SERVICES, KUBE-SVC picks an endpoint, KUBE-SEP DNATs it to 10.244.120.102 on minikube, and it crosses the tunnel already addressed to the pod. The source stays the pod\'s own. The reply comes from 10.244.120.102; conntrack on minikube-m02 rewrites its source back to the VIP, so dnsutils sees an answer from the address it called.',
        ko: { title: 'dnsutils → frontend:80', text: 'minikube-m02의 dnsutils에서 패킷을 따라가 보세요. KUBE-SERVICES를 지나 KUBE-SVC가 Endpoint를 고르고 KUBE-SEP가 minikube의 10.244.120.102로 DNAT합니다. 패킷은 이미 Pod 주소로 바뀐 채 터널을 건넙니다. 출발지는 그대로입니다. 응답은 10.244.120.102에서 오고, minikube-m02의 conntrack이 출발지를 VIP로 되돌려 dnsutils는 자신이 호출한 주소에서 응답을 받습니다.' },
        action: { kind: 'trace', from: 'pod/default/dnsutils', to: 'frontend:80', seed: 7 },
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: `pod/default/${WEBAPP_A}`, passes: ['KUBE-SERVICES', SVC_FRONTEND, SEP_A, 'DNAT'], source: 'preserved', replyOutcome: 'delivered', replySource: FRONTEND_IP },
      },
      {
        title: 'One more pod, new odds',
        text: 'Scale webapp to three replicas. kube-proxy rewrites KUBE-SVC on every node: the first endpoint is taken with probability 1/3, the second with 1/2 of what is left, the third always, so each gets a third of the new connections.',
        ko: { title: 'Pod 하나 더, 새 확률', text: 'webapp을 replica 3개로 늘려 보세요. kube-proxy가 모든 노드에서 KUBE-SVC를 다시 씁니다. 첫 번째 Endpoint는 1/3, 두 번째는 남은 것의 1/2, 세 번째는 항상 선택되어 각각 새 연결의 1/3씩을 받습니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl scale deployment webapp --replicas=3' },
        expect: {
          kind: 'output',
          host: 'minikube-m02',
          command: `iptables -t nat -S ${SVC_FRONTEND}`,
          contains: [`--probability 0.33333333349 -j ${SEP_A}`, `--probability 0.50000000000 -j ${SEP_B}`],
        },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'A second port',
      goal: 'Clients should also be able to call frontend on port 8080, answered by the same nginx on port 80, while port 80 keeps working.',
      ko: { title: '두 번째 포트', goal: '클라이언트가 frontend의 8080 포트로도 호출할 수 있게 하세요. 같은 nginx의 80 포트가 답해야 하고, 80 포트도 계속 동작해야 합니다.' },
      checks: [
        { name: 'frontend:8080 reaches a webapp pod', expect: { kind: 'trace', from: 'pod/default/dnsutils', to: 'frontend:8080', outcome: 'delivered', passes: ['KUBE-SVC-*', 'DNAT'] } },
        { name: 'frontend:80 still works', expect: { kind: 'reach', cells: [{ from: 'pod/default/dnsutils', to: 'frontend:80', allowed: true }] } },
      ],
      hints: [
        'A Service can have several ports; with more than one, each needs a name.',
        'port is what clients call, targetPort what the pod listens on. Left out, targetPort is the same as port.',
      ],
      solution: 'Apply frontend with two ports: {name: http, port: 80, targetPort: 80} and {name: http-alt, port: 8080, targetPort: 80}.',
      solutionActions: [{ kind: 'apply', yaml: FRONTEND_8080 }],
    },
  ],
  notes: 'The pods\' names and addresses are pinned with the lab annotations lab.kpl.dev/pod-names and lab.kpl.dev/pod-ips, the Services\' cluster IPs with spec.clusterIP, so that the listings are the same every time.',
};
