// The article's "Headless Services": a Service with clusterIP None gets no virtual IP and no
// kube-proxy rules; DNS answers with every endpoint's address instead. Without a selector no
// Endpoints are made: ones written by hand give a ClusterIP Service its backends (kube-proxy
// uses them) and a headless one its A records, and an ExternalName Service is only a CNAME.

import type { Example } from './example.ts';

const APPS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
  labels:
    app: webapp
  annotations:
    lab.kpl.dev/pod-ips: "10.244.120.109,10.244.120.110"
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
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: webapp-hs
spec:
  clusterIP: None
  selector:
    app: webapp
  ports:
  - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: dnsutils
spec:
  containers:
  - name: dnsutils
    image: registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3
    command: ["sleep", "infinity"]
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: db-hs
spec:
  clusterIP: None
  ports:
  - port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: search
spec:
  type: ExternalName
  externalName: www.example.com
`;

/** Endpoints written by hand for the selector-less Services, both to `ip`:8080. */
const endpoints = (ip: string) => `apiVersion: v1
kind: Endpoints
metadata:
  name: db
subsets:
- addresses:
  - ip: ${ip}
  ports:
  - port: 8080
---
apiVersion: v1
kind: Endpoints
metadata:
  name: db-hs
subsets:
- addresses:
  - ip: ${ip}
  ports:
  - port: 8080
`;

const NSLOOKUP = (name: string) => `kubectl exec -i -t dnsutils -- nslookup ${name}`;
const DNSUTILS = 'pod/default/dnsutils';

export const headless: Example = {
  name: 'headless',
  title: 'Headless, selector-less and ExternalName Services',
  ko: 'Headless Services',
  summary: 'clusterIP: None gives no VIP and no kube-proxy rules, DNS answers every pod address; without a selector, hand-written Endpoints give backends and A records; ExternalName is a CNAME.',
  scene: 'Headless Services',
  cluster: { nodes: 1 },
  layouts: ['legacy', 'current'],
  setup: () => [
    { kind: 'apply', yaml: APPS },
    // The article lists webapp-hs 24 seconds after creating it.
    { kind: 'console', host: 'minikube', command: 'sleep 24' },
    // Database servers outside the cluster, on the nodes' LAN.
    { kind: 'host', name: 'db-server', listen: [{ port: 8080, proto: 'tcp' }] },
    { kind: 'link', host: 'db-server', lan: 'minikube', ip: '192.168.49.100/24' },
    { kind: 'host', name: 'db-new', listen: [{ port: 8080, proto: 'tcp' }] },
    { kind: 'link', host: 'db-new', lan: 'minikube', ip: '192.168.49.101/24' },
  ],
  walkthrough: () => ({
    title: 'Headless Services: DNS instead of a virtual IP',
    ko: { title: 'Headless Service: 가상 IP 대신 DNS' },
    steps: [
      {
        title: 'A headless Service: CLUSTER-IP None',
        text: 'webapp-hs selects the two webapp pods but sets clusterIP: None. It gets no virtual IP: there is no address to load-balance behind.',
        ko: { title: 'Headless Service: CLUSTER-IP None', text: 'webapp-hs는 webapp Pod 두 개를 선택하지만 clusterIP: None으로 지정했습니다. 가상 IP가 할당되지 않으므로 로드밸런싱할 주소도 없습니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get svc webapp-hs' },
        expect: { kind: 'output', lines: ['NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE', 'webapp-hs ClusterIP None <none> 80/TCP 24s'] },
      },
      {
        title: 'Its endpoints',
        text: 'With a selector, the endpoints controller still lists every ready pod as an endpoint of the Service.',
        ko: { title: 'Endpoint', text: 'selector가 있으므로 endpoint controller가 준비된 Pod마다 Service의 endpoint를 만듭니다.' },
        action: { kind: 'command', host: 'minikube', command: 'kubectl get ep webapp-hs' },
        expect: { kind: 'output', lines: ['NAME ENDPOINTS AGE'], contains: ['webapp-hs   10.244.120.109:80,10.244.120.110:80'] },
      },
      {
        title: 'No kube-proxy rules',
        text: 'kube-proxy writes nothing for a headless Service: no KUBE-SVC-…, no KUBE-SEP-…, not a single rule mentions it.',
        ko: { title: 'kube-proxy 규칙 없음', text: 'kube-proxy는 headless Service에 대해 아무 규칙도 만들지 않습니다. KUBE-SVC-…도 KUBE-SEP-…도 없고, 이 Service를 언급하는 규칙이 하나도 없습니다.' },
        action: { kind: 'command', host: 'minikube', command: 'iptables-save -t nat | grep -c webapp-hs' },
        expect: { kind: 'output', lines: ['0'], code: 1 },
      },
      {
        title: 'DNS returns every endpoint',
        text: 'CoreDNS answers a query for the headless Service with one A record per endpoint: the client gets the pod addresses themselves and picks one.',
        ko: { title: 'DNS가 모든 Endpoint IP를 반환', text: 'CoreDNS는 headless Service에 대한 질의에 endpoint마다 A 레코드 하나씩 응답합니다. 클라이언트는 Pod IP들을 직접 받아서 그중 하나를 고릅니다.' },
        action: { kind: 'command', host: 'minikube', command: NSLOOKUP('webapp-hs') },
        expect: {
          kind: 'output',
          lines: [
            'Server: 10.96.0.10',
            'Name: webapp-hs.default.svc.cluster.local',
            'Address: 10.244.120.109',
            'Name: webapp-hs.default.svc.cluster.local',
            'Address: 10.244.120.110',
          ],
        },
      },
      {
        title: 'Straight to a pod, no DNAT',
        text: 'dnsutils connects to one of those addresses. The packet goes pod to pod: no Service chain, no DNAT, no load balancing by kube-proxy.',
        ko: { title: 'Pod로 직접, DNAT 없음', text: 'dnsutils가 그 주소 중 하나로 접속합니다. 패킷은 Pod에서 Pod로 바로 갑니다. Service 체인도, DNAT도, kube-proxy의 로드밸런싱도 없습니다.' },
        action: { kind: 'trace', from: DNSUTILS, to: '10.244.120.109:80' },
        expect: { kind: 'trace', outcome: 'delivered', source: 'preserved', avoids: ['KUBE-SVC-*', 'KUBE-SEP-*', 'DNAT'] },
      },
      {
        title: 'No selector: write the Endpoints yourself',
        text: 'db and db-hs have no selector, so no Endpoints are made for them (kubectl get ep db: NotFound). Create Endpoints of the same names by hand, pointing at the database server outside the cluster, 192.168.49.100:8080.',
        ko: { title: 'selector 없음: Endpoint를 직접 작성', text: 'db와 db-hs에는 selector가 없으므로 Endpoint가 만들어지지 않습니다(kubectl get ep db: NotFound). 같은 이름의 Endpoints를 직접 만들어 클러스터 밖의 DB 서버 192.168.49.100:8080을 가리키게 합니다.' },
        action: { kind: 'apply', yaml: endpoints('192.168.49.100') },
        expect: { kind: 'output', host: 'minikube', command: 'kubectl get ep db', contains: ['192.168.49.100:8080'] },
      },
      {
        title: 'kube-proxy uses them',
        text: 'db is not headless: it has a ClusterIP, and kube-proxy turns the hand-written endpoint into a KUBE-SEP-… chain that DNATs to 192.168.49.100:8080, as it would for a pod.',
        ko: { title: 'kube-proxy가 사용합니다', text: 'db는 headless가 아니어서 ClusterIP가 있고, kube-proxy는 직접 작성한 endpoint로 Pod의 경우와 똑같이 192.168.49.100:8080으로 DNAT하는 KUBE-SEP-… 체인을 만듭니다.' },
        action: { kind: 'command', host: 'minikube', command: 'iptables-save -t nat | grep default/db' },
        expect: { kind: 'output', contains: ['default/db cluster IP', '-j DNAT --to-destination 192.168.49.100:8080'] },
      },
      {
        title: 'From a pod to db',
        text: 'dnsutils connects to db:80: DNAT to 192.168.49.100:8080, and since the server is outside the pod network, Calico masquerades the pod to the node address on the way out.',
        ko: { title: 'Pod에서 db로', text: 'dnsutils가 db:80으로 접속하면 192.168.49.100:8080으로 DNAT되고, 서버가 Pod 네트워크 밖에 있으므로 나갈 때 Calico가 노드 IP로 masquerade합니다.' },
        action: { kind: 'trace', from: DNSUTILS, to: 'db:80' },
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: 'db-server', passes: ['KUBE-SEP-*', 'DNAT'], replyOutcome: 'delivered' },
      },
      {
        title: 'Headless without a selector: A records from the Endpoints',
        text: 'db-hs is headless and has no selector: DNS answers with the addresses of the Endpoints of the same name.',
        ko: { title: 'selector 없는 headless: Endpoint의 A 레코드', text: 'db-hs는 selector 없는 headless Service입니다. DNS는 같은 이름의 Endpoints에 있는 주소로 응답합니다.' },
        action: { kind: 'command', host: 'minikube', command: NSLOOKUP('db-hs') },
        expect: { kind: 'output', lines: ['Name: db-hs.default.svc.cluster.local', 'Address: 192.168.49.100'] },
      },
      {
        title: 'ExternalName: a CNAME',
        text: 'search has type ExternalName: no endpoints, no address, no kube-proxy rule. DNS answers with a CNAME to www.example.com (the lab has no Internet, so the name it points to is not resolved further).',
        ko: { title: 'ExternalName: CNAME', text: 'search는 ExternalName 타입입니다. endpoint도 주소도 kube-proxy 규칙도 없습니다. DNS는 www.example.com을 가리키는 CNAME으로 응답합니다(랩에는 인터넷이 없어 그 이름은 더 풀리지 않습니다).' },
        action: { kind: 'command', host: 'minikube', command: NSLOOKUP('search') },
        expect: { kind: 'output', lines: ['search.default.svc.cluster.local canonical name = www.example.com.'] },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'Move db to the new server',
      goal: 'The database moved to db-new (192.168.49.101, port 8080). Make connections from dnsutils to db:80 reach db-new, without changing the Service db.',
      ko: { title: 'db를 새 서버로', goal: 'DB가 db-new(192.168.49.101, 포트 8080)로 옮겨졌습니다. Service db는 바꾸지 말고, dnsutils에서 db:80으로의 접속이 db-new에 닿게 하세요.' },
      checks: [
        { name: 'dnsutils reaches db', expect: { kind: 'reach', cells: [{ from: DNSUTILS, to: 'db:80', allowed: true }] } },
        { name: 'db:80 leads to db-new', expect: { kind: 'trace', from: DNSUTILS, to: 'db:80', outcome: 'delivered', deliveredTo: 'db-new' } },
      ],
      hints: ['db has no selector: who writes its Endpoints?', 'The Endpoints object must have the Service\'s name, and the port the server listens on.'],
      solution: 'Apply Endpoints named db with address 192.168.49.101 and port 8080.',
      solutionActions: [{ kind: 'apply', yaml: endpoints('192.168.49.101') }],
    },
  ],
  notes:
    'db-server and db-new are hosts outside the cluster, on the nodes\' LAN. A headless Service has no address to trace to: trace to one of its pods (pod/NS/NAME:PORT or the pod IP).',
};
