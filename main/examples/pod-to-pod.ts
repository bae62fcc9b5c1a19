// Scene 1 of the article ("Pod - Pod 통신"): pods reach each other by their own addresses,
// on one node through the host's /32 routes to the Calico veths, across nodes through the
// IPIP tunnel; kube-proxy takes no part and nothing is translated.

import type { Example } from './example.ts';

const PODS = `apiVersion: v1
kind: Pod
metadata:
  name: client
  labels: {app: client}
  annotations: {lab.kpl.dev/ip: 10.244.120.70}
spec:
  nodeName: minikube
  containers:
  - name: shell
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: web-a
  labels: {app: web}
  annotations: {lab.kpl.dev/ip: 10.244.120.71}
spec:
  nodeName: minikube
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-b
  labels: {app: web}
  annotations: {lab.kpl.dev/ip: 10.244.205.130}
spec:
  nodeName: minikube-m02
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports: [{containerPort: 80}]
`;

export const podToPod: Example = {
  name: 'pod-to-pod',
  title: 'Pod to Pod, on one node and across nodes',
  ko: 'Pod - Pod 통신',
  summary: 'Three pods on two nodes: pod addresses are routed as they are (no NAT), by /32 routes to the veths and the IPIP tunnel between nodes.',
  scene: 'Pod - Pod 통신',
  cluster: { nodes: 2 },
  layouts: ['legacy', 'current'],
  setup: () => [{ kind: 'apply', yaml: PODS }],
  walkthrough: () => ({
    title: 'Pod to Pod: routes, no NAT',
    ko: { title: 'Pod - Pod 통신: 라우팅, NAT 없음' },
    steps: [
      {
        title: 'The pods and their addresses',
        text: 'Each pod gets an address from its node\'s block of the pod CIDR. client and web-a run on minikube, web-b on minikube-m02.',
        ko: { title: 'Pod와 IP', text: '각 Pod는 노드에 할당된 Pod CIDR 블록에서 IP를 받습니다. client와 web-a는 minikube에, web-b는 minikube-m02에서 실행됩니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get pods -o wide' },
        expect: { kind: 'output', contains: ['10.244.120.70', '10.244.120.71', '10.244.205.130', 'minikube-m02'] },
      },
      {
        title: 'Routes to the pods',
        text: 'The node routes each local pod\'s /32 to its Calico veth (cali…), and the other node\'s /26 block through tunl0. No Service, no iptables NAT: this is the CNI\'s work.',
        ko: { title: 'Pod로 가는 라우팅', text: '노드는 로컬 Pod의 /32를 Calico veth(cali…)로, 다른 노드의 /26 블록을 tunl0로 라우팅합니다. Service도 iptables NAT도 없습니다. CNI가 하는 일입니다.' },
        action: { kind: 'command', host: 'minikube', command: 'ip route' },
        expect: { kind: 'output', contains: ['10.244.120.70 dev cali', '10.244.205.128/26 via 192.168.49.3 dev tunl0'] },
      },
      {
        title: 'Same node: client to web-a',
        text: 'The packet leaves client\'s eth0, enters minikube on client\'s veth, is forwarded out of web-a\'s veth. Its addresses never change.',
        ko: { title: '같은 노드: client → web-a', text: '패킷은 client의 eth0에서 나와 veth로 minikube에 들어가고 web-a의 veth로 포워딩됩니다. 주소는 바뀌지 않습니다.' },
        action: { kind: 'trace', from: 'pod/default/client', to: '10.244.120.71:80' },
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: 'pod/default/web-a', source: 'preserved', avoids: ['DNAT', 'MASQUERADE', 'SNAT'] },
      },
      {
        title: 'Across nodes: client to web-b',
        text: 'To reach web-b, minikube forwards through tunl0 (IP in IP) to 192.168.49.3; minikube-m02 delivers it to web-b\'s veth. web-b sees client\'s own address.',
        ko: { title: '다른 노드: client → web-b', text: 'web-b로 가려면 minikube가 tunl0(IP in IP)로 192.168.49.3에 포워딩하고, minikube-m02가 web-b의 veth로 전달합니다. web-b는 client의 원래 IP를 봅니다.' },
        action: { kind: 'trace', from: 'pod/default/client', to: '10.244.205.130:80' },
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: 'pod/default/web-b', source: '10.244.120.70', replyOutcome: 'delivered' },
      },
      {
        title: 'Pod IPs are not stable',
        text: 'Delete web-a and create it again without its pinned address: IPAM hands out the next free address, so clients must not remember pod IPs. That is what Services are for.',
        ko: { title: 'Pod IP는 고정되지 않습니다', text: 'web-a를 지우고 다시 만들면 IPAM이 다음 빈 IP를 줍니다. 그래서 클라이언트는 Pod IP를 기억하면 안 되고, 이것이 Service가 필요한 이유입니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl delete pod web-a' },
        expect: { kind: 'output', host: 'minikube', command: 'kubectl get pods', absent: ['web-a'] },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'Cut the tunnel',
      goal: 'Make client unable to reach web-b while it still reaches web-a: remove the route that carries minikube-m02\'s pod block on minikube.',
      ko: { title: '터널 끊기', goal: 'client가 web-a에는 닿지만 web-b에는 닿지 못하게 하세요. minikube에서 minikube-m02의 Pod 블록으로 가는 라우트를 지우면 됩니다.' },
      checks: [
        { name: 'client still reaches web-a', expect: { kind: 'reach', cells: [{ from: 'pod/default/client', to: '10.244.120.71:80', allowed: true }] } },
        { name: 'client no longer reaches web-b', expect: { kind: 'reach', cells: [{ from: 'pod/default/client', to: '10.244.205.130:80', allowed: false }] } },
      ],
      hints: ['Look at minikube\'s routing table: ip route', 'The route for 10.244.205.128/26 goes via tunl0.'],
      solution: 'On minikube: ip route del 10.244.205.128/26',
      solutionActions: [{ kind: 'command', host: 'minikube', command: 'ip route del 10.244.205.128/26' }],
    },
  ],
};
