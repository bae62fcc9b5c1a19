// The article's "Local traffic policy와 LoadBalancer type과의 조합": a Service of type
// LoadBalancer with externalTrafficPolicy Local. The cloud's load balancer (the host cloud-lb,
// a passthrough LB on the nodes' LAN holding 192.168.49.200) health-checks every node on the
// Service's healthCheckNodePort; kube-proxy answers healthy only where a pod of the Service runs,
// so the LB never sends to minikube-m02, whose rules would drop the packet, and the client's
// address reaches the pod unchanged.

import type { ProxyLayout } from '../../shared/cluster.ts';
import type { StepAction, WalkthroughStep } from '../../shared/guide.ts';
import type { Example } from './example.ts';

const deployment = (node: string, pinned: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
${pinned ? '  annotations:\n    lab.kpl.dev/pod-names: nginx-deployment-7759cc5c66-p45tz\n    lab.kpl.dev/pod-ips: 10.244.120.111\n' : ''}spec:
  replicas: 1
  selector:
    matchLabels:
      app: webserver
  template:
    metadata:
      labels:
        app: webserver
    spec:
      nodeName: ${node}
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
`;

/** The Service's healthCheckNodePort, pinned (the API server would pick one from the NodePort range). */
const HC = 32000;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: webapp
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: ${HC}
  clusterIP: 10.111.243.62
  selector:
    app: webserver
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
`;

const CLIENT = 'client';
const CLIENT_IP = '192.168.49.100';
const LB_IP = '192.168.49.200';

const SVC = 'KUBE-SVC-2IRACUALRELARSND';
const FW = 'KUBE-FW-2IRACUALRELARSND';
const XLB = 'KUBE-XLB-2IRACUALRELARSND';
const EXT = 'KUBE-EXT-2IRACUALRELARSND';
const SVL = 'KUBE-SVL-2IRACUALRELARSND';
const SEP = 'KUBE-SEP-5T4S2ILYSXWY3R2J';

const toLb: StepAction = { kind: 'trace', from: CLIENT, to: `${LB_IP}:80` };

function steps(layout: ProxyLayout): WalkthroughStep[] {
  const legacy = layout === 'legacy';
  return [
    {
      title: 'A LoadBalancer Service',
      text: `Service webapp has type LoadBalancer: besides its ClusterIP (10.111.243.62) and its NodePort (30080), the cloud gave it an external address, ${LB_IP}, held by the cloud's load balancer (the host cloud-lb).`,
      ko: { title: 'LoadBalancer Service', text: `webapp Service의 타입은 LoadBalancer입니다. ClusterIP(10.111.243.62)와 NodePort(30080) 외에 클라우드가 외부 주소 ${LB_IP}를 할당했고, 이 주소는 클라우드 로드밸런서(cloud-lb 호스트)가 가지고 있습니다.` },
      action: { kind: 'command', host: 'minikube', command: 'kubectl get svc webapp' },
      expect: { kind: 'output', lines: ['NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE'], contains: ['LoadBalancer', `10.111.243.62   ${LB_IP}`, '80:30080/TCP'] },
    },
    {
      title: 'externalTrafficPolicy Local and its health check node port',
      text: `With externalTrafficPolicy: Local a LoadBalancer Service also gets a healthCheckNodePort (here pinned to ${HC}). kube-proxy serves an HTTP health check on that port on every node, answering healthy only where the Service has a local endpoint.`,
      ko: { title: 'externalTrafficPolicy Local과 health check 노드 포트', text: `externalTrafficPolicy: Local인 LoadBalancer Service는 healthCheckNodePort도 받습니다(여기서는 ${HC}으로 고정). kube-proxy는 모든 노드에서 이 포트로 HTTP health check에 응답하는데, 그 노드에 Service의 local endpoint가 있을 때만 정상으로 응답합니다.` },
      action: { kind: 'command', host: 'minikube', command: 'kubectl describe svc webapp' },
      expect: { kind: 'output', lines: [`LoadBalancer Ingress: ${LB_IP}`, 'NodePort: <unset> 30080/TCP', 'Endpoints: 10.244.120.111:80', 'External Traffic Policy: Local', `HealthCheck NodePort: ${HC}`] },
    },
    {
      title: 'The health check on minikube: 200',
      text: 'The load balancer probes every node on the health check port. minikube runs the nginx pod: kube-proxy answers 200 OK and counts one local endpoint.',
      ko: { title: 'minikube의 health check: 200', text: '로드밸런서는 모든 노드의 health check 포트를 확인합니다. minikube에는 Nginx Pod가 있으므로 kube-proxy가 200 OK와 local endpoint 1개로 응답합니다.' },
      action: { kind: 'command', host: 'cloud-lb', command: `curl -si http://192.168.49.2:${HC}/healthz` },
      expect: { kind: 'output', lines: ['HTTP/1.1 200 OK', 'Content-Type: application/json'], contains: ['"name": "webapp"', '"localEndpoints": 1'] },
    },
    {
      title: 'The health check on minikube-m02: 503',
      text: legacy
        ? 'minikube-m02 has no pod of the Service: kube-proxy answers 503 Service Unavailable with localEndpoints 0, and the load balancer takes the node out of its pool.'
        : 'minikube-m02 has no pod of the Service: kube-proxy answers 503 Service Unavailable with localEndpoints 0 (and the weight header X-Load-Balancing-Endpoint-Weight: 0), and the load balancer takes the node out of its pool. The port itself is open on every node: the filter table\'s KUBE-NODEPORTS accepts it ("health check node port").',
      ko: {
        title: 'minikube-m02의 health check: 503',
        text: legacy
          ? 'minikube-m02에는 이 Service의 Pod가 없으므로 kube-proxy가 503 Service Unavailable과 localEndpoints 0으로 응답하고, 로드밸런서는 이 노드를 대상에서 뺍니다.'
          : 'minikube-m02에는 이 Service의 Pod가 없으므로 kube-proxy가 503 Service Unavailable과 localEndpoints 0(가중치 헤더 X-Load-Balancing-Endpoint-Weight: 0)으로 응답하고, 로드밸런서는 이 노드를 대상에서 뺍니다. 포트 자체는 모든 노드에서 열려 있습니다(filter 테이블의 KUBE-NODEPORTS가 "health check node port"를 허용).',
      },
      action: { kind: 'command', host: 'cloud-lb', command: `curl -si http://192.168.49.3:${HC}/healthz` },
      expect: { kind: 'output', lines: ['HTTP/1.1 503 Service Unavailable'], contains: ['"localEndpoints": 0'] },
    },
    {
      title: 'The load balancer sends only to minikube',
      text: `The nginx pod runs on minikube only, so only minikube passes the health check. The cloud LB forwards ${LB_IP} — destination unchanged — to minikube (192.168.49.2) and never to minikube-m02.`,
      ko: { title: '로드밸런서는 minikube로만 보냅니다', text: `Nginx Pod는 minikube에만 있으므로 health check는 minikube에서만 성공합니다. 클라우드 로드밸런서는 ${LB_IP}로 오는 트래픽을 목적지를 바꾸지 않고 minikube(192.168.49.2)로만 보내고, minikube-m02로는 보내지 않습니다.` },
      action: { kind: 'command', host: 'cloud-lb', command: 'ip route' },
      expect: { kind: 'output', contains: [`${LB_IP} via 192.168.49.2 dev lb0 onlink`], absent: [`${LB_IP} via 192.168.49.3`] },
    },
    {
      title: legacy ? 'KUBE-SERVICES: the LB address jumps to KUBE-FW' : 'KUBE-SERVICES: the LB address jumps to KUBE-EXT',
      text: legacy
        ? `On the node, KUBE-SERVICES matches the load balancer's address ${LB_IP}:80 ("loadbalancer IP") and jumps to the Service's KUBE-FW-… chain.`
        : `On the node, KUBE-SERVICES matches the load balancer's address ${LB_IP}:80 ("loadbalancer IP") and jumps straight to KUBE-EXT-…, the Service's chain for external traffic (KUBE-FW-… is only made for loadBalancerSourceRanges now).`,
      ko: {
        title: legacy ? 'KUBE-SERVICES: LB 주소는 KUBE-FW로' : 'KUBE-SERVICES: LB 주소는 KUBE-EXT로',
        text: legacy
          ? `노드의 KUBE-SERVICES는 로드밸런서 주소 ${LB_IP}:80("loadbalancer IP")을 매치해 Service의 KUBE-FW-… 체인으로 점프합니다.`
          : `노드의 KUBE-SERVICES는 로드밸런서 주소 ${LB_IP}:80("loadbalancer IP")을 매치해 외부 트래픽용 체인 KUBE-EXT-…로 바로 점프합니다(현재 KUBE-FW-…는 loadBalancerSourceRanges가 있을 때만 만들어집니다).`,
      },
      action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -L KUBE-SERVICES' },
      expect: {
        kind: 'output',
        lines: [legacy ? `${FW} tcp -- anywhere ${LB_IP} /* default/webapp loadbalancer IP */ tcp dpt:www` : `${EXT} tcp -- anywhere ${LB_IP} /* default/webapp loadbalancer IP */ tcp dpt:http`],
      },
    },
    legacy
      ? {
          title: 'KUBE-FW, then KUBE-XLB',
          text: 'KUBE-FW-… sends the packet to KUBE-XLB-…, the same chain the NodePort uses with Local; whatever comes back from it is marked for dropping.',
          ko: { title: 'KUBE-FW, 그리고 KUBE-XLB', text: 'KUBE-FW-…는 패킷을 KUBE-XLB-…로 보냅니다. Local NodePort가 쓰는 것과 같은 체인입니다. 거기서 돌아온 패킷은 drop 표시가 됩니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${FW}` },
          expect: {
            kind: 'output',
            lines: [
              `Chain ${FW} (1 references)`,
              `${XLB} all -- anywhere anywhere /* default/webapp loadbalancer IP */`,
              'KUBE-MARK-DROP all -- anywhere anywhere /* default/webapp loadbalancer IP */',
            ],
          },
        }
      : {
          title: 'KUBE-EXT, then KUBE-SVL',
          text: 'On minikube KUBE-EXT-… ends in a jump to KUBE-SVL-…, the Service\'s local endpoints; nothing marks the packet for masquerade.',
          ko: { title: 'KUBE-EXT, 그리고 KUBE-SVL', text: 'minikube의 KUBE-EXT-…는 Service의 local endpoint 체인인 KUBE-SVL-…로 점프하며 끝납니다. masquerade 표시는 없습니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${EXT}` },
          expect: { kind: 'output', lines: [`Chain ${EXT} (3 references)`, `${SVL} all -- anywhere anywhere`], absent: ['masquerade traffic for default/webapp external destinations'] },
        },
    legacy
      ? {
          title: 'minikube: Balancing rule 0',
          text: 'On minikube KUBE-XLB-… ends in "Balancing rule 0 for default/webapp": the local pod\'s KUBE-SEP-…, no KUBE-MARK-MASQ.',
          ko: { title: 'minikube: Balancing rule 0', text: 'minikube의 KUBE-XLB-…는 "Balancing rule 0 for default/webapp", 즉 로컬 Pod의 KUBE-SEP-…로 끝납니다. KUBE-MARK-MASQ는 없습니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${XLB}` },
          expect: {
            kind: 'output',
            lines: [
              `${SVC} all -- 10.244.0.0/16 anywhere /* Redirect pods trying to reach external loadbalancer VIP to clusterIP */`,
              `${SEP} all -- anywhere anywhere /* Balancing rule 0 for default/webapp */`,
            ],
          },
        }
      : {
          title: 'minikube: the local endpoint',
          text: 'KUBE-SVL-… holds only the endpoints on this node: the nginx pod\'s KUBE-SEP-….',
          ko: { title: 'minikube: local endpoint', text: 'KUBE-SVL-…에는 이 노드에 있는 endpoint만 있습니다. Nginx Pod의 KUBE-SEP-…입니다.' },
          action: { kind: 'command', host: 'minikube', command: `iptables -t nat -L ${SVL}` },
          expect: { kind: 'output', lines: [`${SEP} all -- anywhere anywhere /* default/webapp -> 10.244.120.111:80 */`] },
        },
    {
      title: 'From the client to the load balancer',
      text: `The client (${CLIENT_IP}) connects to ${LB_IP}:80. cloud-lb forwards the packet unchanged to minikube, which DNATs it to the pod without masquerading: the pod sees ${CLIENT_IP}. The reply leaves minikube straight to the client, from ${LB_IP}:80.`,
      ko: { title: '클라이언트에서 로드밸런서로', text: `클라이언트(${CLIENT_IP})가 ${LB_IP}:80으로 접속합니다. cloud-lb는 패킷을 그대로 minikube로 전달하고, minikube는 masquerade 없이 Pod로 DNAT합니다. Pod는 ${CLIENT_IP}를 봅니다. 응답은 minikube에서 바로 클라이언트로 ${LB_IP}:80 출발지로 돌아갑니다.` },
      action: toLb,
      expect: {
        kind: 'trace',
        outcome: 'delivered',
        passes: legacy ? [FW, XLB, SEP, 'DNAT'] : [EXT, SVL, SEP, 'DNAT'],
        avoids: ['KUBE-MARK-MASQ', 'MASQUERADE'],
        source: 'preserved',
        replyOutcome: 'delivered',
        replySource: LB_IP,
      },
    },
    legacy
      ? {
          title: 'Why minikube-m02 gets nothing',
          text: 'minikube-m02 has the same chains, but its KUBE-XLB-… ends in "default/webapp has no local endpoints": a packet the LB sent there would be dropped. Its failing health check keeps the LB from sending any.',
          ko: { title: 'minikube-m02로 보내지 않는 이유', text: 'minikube-m02에도 같은 체인이 있지만 KUBE-XLB-…는 "default/webapp has no local endpoints"로 끝납니다. 로드밸런서가 이 노드로 보내면 패킷은 버려집니다. health check 실패 덕분에 로드밸런서는 이 노드로 보내지 않습니다.' },
          action: { kind: 'command', host: 'minikube-m02', command: `iptables -t nat -L ${XLB}` },
          expect: { kind: 'output', lines: ['KUBE-MARK-DROP all -- anywhere anywhere /* default/webapp has no local endpoints */'] },
        }
      : {
          title: 'Why minikube-m02 gets nothing',
          text: `minikube-m02 drops the Service's external traffic in the filter table: "default/webapp has no local endpoints", for ${LB_IP}:80 and for NodePort 30080. Its failing health check keeps the LB from sending any.`,
          ko: { title: 'minikube-m02로 보내지 않는 이유', text: `minikube-m02는 filter 테이블에서 Service의 외부 트래픽(${LB_IP}:80과 NodePort 30080)을 "default/webapp has no local endpoints" 규칙으로 DROP합니다. health check 실패 덕분에 로드밸런서는 이 노드로 보내지 않습니다.` },
          action: { kind: 'command', host: 'minikube-m02', command: 'iptables -L KUBE-EXTERNAL-SERVICES' },
          expect: {
            kind: 'output',
            lines: [
              `DROP tcp -- anywhere ${LB_IP} /* default/webapp has no local endpoints */ tcp dpt:http`,
              'DROP tcp -- anywhere anywhere /* default/webapp has no local endpoints */ ADDRTYPE match dst-type LOCAL tcp dpt:30080',
            ],
          },
        },
  ];
}

export const loadBalancer: Example = {
  name: 'loadbalancer',
  title: 'LoadBalancer with externalTrafficPolicy Local',
  ko: 'Local traffic policy와 LoadBalancer 타입의 조합',
  summary: 'A LoadBalancer Service with externalTrafficPolicy Local: the cloud LB health-checks the nodes and sends only to the one with the pod, which keeps the client\'s address.',
  scene: 'Local traffic policy와 LoadBalancer type과의 조합',
  cluster: { nodes: 2 },
  layouts: ['legacy', 'current'],
  setup: () => [
    { kind: 'apply', yaml: `${deployment('minikube', true)}---\n${SERVICE}` },
    { kind: 'host', name: CLIENT },
    { kind: 'link', host: CLIENT, lan: 'minikube', ip: `${CLIENT_IP}/24` },
  ],
  walkthrough: (layout) => ({
    title: 'LoadBalancer + Local: health checks pick the nodes',
    ko: { title: 'LoadBalancer + Local: health check가 노드를 고릅니다' },
    steps: steps(layout),
  }),
  exercises: () => [
    {
      title: 'Follow the pod',
      goal: `Move the web server to minikube-m02 (and off minikube). The load balancer must then send ${LB_IP} to minikube-m02, and the client's address must still reach the pod.`,
      ko: { title: 'Pod를 따라가는 로드밸런서', goal: `웹 서버를 minikube에서 minikube-m02로 옮기세요. 그러면 로드밸런서가 ${LB_IP}를 minikube-m02로 보내야 하고, 클라이언트 IP는 여전히 Pod에 그대로 도착해야 합니다.` },
      checks: [
        { name: 'minikube-m02 passes the health check', expect: { kind: 'output', host: 'cloud-lb', command: `curl -si http://192.168.49.3:${HC}/healthz`, lines: ['HTTP/1.1 200 OK'] } },
        { name: 'the load balancer sends to minikube-m02', expect: { kind: 'output', host: 'cloud-lb', command: 'ip route', contains: [`${LB_IP} via 192.168.49.3`] } },
        { name: 'the client IP reaches the pod unchanged', expect: { kind: 'trace', from: CLIENT, to: `${LB_IP}:80`, outcome: 'delivered', source: 'preserved' } },
      ],
      hints: [
        'The Deployment pins its pod to a node with spec.template.spec.nodeName.',
        'The health check follows the endpoints: a node passes when a ready pod of the Service runs on it.',
      ],
      solution: 'Apply the Deployment with nodeName: minikube-m02 (and without the annotations that pin the pod\'s name and address on minikube).',
      solutionActions: [{ kind: 'apply', yaml: deployment('minikube-m02', false) }],
    },
  ],
  notes:
    'cloud-lb stands for the cloud\'s passthrough load balancer (GCP\'s network LB, MetalLB in L2 mode): it answers ARP for 192.168.49.200 and routes it, destination unchanged, to a node whose health check passes. ' +
    'kube-proxy\'s health check server answers on every node (curl http://NODE:32000/healthz): 200 where the Service has a ready local endpoint, 503 elsewhere.',
};
