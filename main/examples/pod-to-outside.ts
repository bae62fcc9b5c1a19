// Scene 2 of the article ("Pod - 외부 통신"): a pod's packet to an address outside the cluster
// leaves the node with the node's own address (Calico's cali-nat-outgoing MASQUERADE), and the
// reply is turned back to the pod by conntrack. The outside world is a router at the LAN's
// gateway address (192.168.49.1) and a web server behind it on another network.

import type { Example } from './example.ts';

const CLIENT = `apiVersion: v1
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
`;

/** The web server outside the cluster, and the route back that the router lacks. */
const WEB_IP = '203.0.113.10';

export const podToOutside: Example = {
  name: 'pod-to-outside',
  title: 'Pod to outside: MASQUERADE to the node address',
  ko: 'Pod - 외부 통신',
  summary: 'A pod reaches a web server outside the cluster: the node masquerades the pod address to its own (Calico\'s nat-outgoing), and conntrack turns the reply back to the pod.',
  scene: 'Pod - 외부 통신',
  cluster: { nodes: 1 },
  layouts: ['legacy', 'current'],
  setup: () => [
    { kind: 'apply', yaml: CLIENT },
    // The LAN's gateway: a router between the node LAN and an outside network.
    { kind: 'lan', name: 'internet' },
    { kind: 'host', name: 'router' },
    { kind: 'link', host: 'router', lan: 'minikube', ip: '192.168.49.1/24', dev: 'eth0' },
    { kind: 'link', host: 'router', lan: 'internet', ip: '203.0.113.1/24', dev: 'eth1' },
    { kind: 'console', host: 'router', command: 'sysctl -w net.ipv4.ip_forward=1' },
    { kind: 'host', name: 'web', listen: [{ port: 80, proto: 'tcp' }] },
    { kind: 'link', host: 'web', lan: 'internet', ip: `${WEB_IP}/24`, dev: 'eth0' },
    { kind: 'console', host: 'web', command: 'ip route add default via 203.0.113.1' },
  ],
  walkthrough: () => ({
    title: 'Pod to outside: SNAT on the way out, conntrack on the way back',
    ko: { title: 'Pod - 외부 통신: 나갈 때 SNAT, 돌아올 때 conntrack' },
    steps: [
      {
        title: 'A pod address the outside does not know',
        text: 'client has 10.244.120.70, from minikube\'s block of the pod CIDR. Nothing outside the cluster has a route to 10.244.0.0/16: the router only knows the node LAN and its own outside network.',
        ko: { title: '외부가 모르는 Pod IP', text: 'client는 minikube의 Pod CIDR 블록에서 10.244.120.70을 받았습니다. 클러스터 밖에는 10.244.0.0/16으로 가는 라우트가 없습니다. 라우터는 노드 LAN과 자신의 외부 네트워크만 압니다.' },
        action: { kind: 'command', host: 'router', command: 'ip route' },
        expect: { kind: 'output', contains: ['192.168.49.0/24 dev eth0', '203.0.113.0/24 dev eth1'], absent: ['10.244.'] },
      },
      {
        title: 'The node sends it to its gateway',
        text: 'On minikube the pod\'s packet to 203.0.113.10 matches no pod route: it follows the default route out of eth0 to 192.168.49.1.',
        ko: { title: '노드는 게이트웨이로 보냅니다', text: 'minikube에서 203.0.113.10으로 가는 Pod의 패킷은 Pod 라우트에 걸리지 않고 기본 라우트를 따라 eth0으로 192.168.49.1에 갑니다.' },
        action: { kind: 'command', host: 'minikube', command: 'ip route get 203.0.113.10' },
        expect: { kind: 'output', contains: ['203.0.113.10 via 192.168.49.1 dev eth0 src 192.168.49.2'] },
      },
      {
        title: 'The MASQUERADE rule',
        text: 'Calico\'s nat-outgoing (the IP pool\'s natOutgoing: true) adds this rule to nat POSTROUTING: a packet from a pool address (cali40masq-ipam-pools) to an address in no pool is MASQUERADEd, its source replaced by the outgoing interface\'s address.',
        ko: { title: 'MASQUERADE 규칙', text: 'Calico의 nat-outgoing(IP 풀의 natOutgoing: true)이 nat POSTROUTING에 이 규칙을 넣습니다. 풀 주소(cali40masq-ipam-pools)에서 어느 풀에도 없는 주소로 가는 패킷은 MASQUERADE되어, 출발지가 나가는 인터페이스의 주소로 바뀝니다.' },
        action: { kind: 'command', host: 'minikube', command: 'iptables -t nat -S cali-nat-outgoing' },
        expect: { kind: 'output', contains: ['-A cali-nat-outgoing', '-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE'] },
      },
      {
        title: 'Which sources are masqueraded',
        text: 'The set holds the pod CIDR of every pool with natOutgoing: only pod traffic is translated, the node\'s own traffic leaves as it is.',
        ko: { title: '어떤 출발지가 MASQUERADE되나', text: '이 ipset에는 natOutgoing이 켜진 풀의 Pod CIDR이 들어 있습니다. Pod 트래픽만 변환되고, 노드 자신의 트래픽은 그대로 나갑니다.' },
        action: { kind: 'command', host: 'minikube', command: 'ipset list cali40masq-ipam-pools' },
        expect: { kind: 'output', lines: ['Name: cali40masq-ipam-pools', 'Type: hash:net', 'Members:', '10.244.0.0/16'] },
      },
      {
        title: 'client to the web server',
        text: 'Step the packet: it leaves client with source 10.244.120.70, is forwarded by minikube and in nat POSTROUTING cali-nat-outgoing MASQUERADEs it. The web server sees minikube\'s address 192.168.49.2, never the pod\'s. Its reply goes to 192.168.49.2; conntrack on minikube recognises it and turns its destination back to 10.244.120.70.',
        ko: { title: 'client → 웹 서버', text: '패킷을 따라가 보세요. client에서 출발지 10.244.120.70으로 나가 minikube에서 포워딩되고, nat POSTROUTING의 cali-nat-outgoing이 MASQUERADE합니다. 웹 서버는 Pod가 아니라 minikube의 주소 192.168.49.2를 봅니다. 응답은 192.168.49.2로 오고, minikube의 conntrack이 이를 알아보고 목적지를 10.244.120.70으로 되돌립니다.' },
        action: { kind: 'trace', from: 'pod/default/client', to: `${WEB_IP}:80` },
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: 'host/web', passes: ['cali-nat-outgoing', 'MASQUERADE'], source: '192.168.49.2', replyOutcome: 'delivered', replySource: WEB_IP },
      },
      {
        title: 'The pod never sees the translation',
        text: 'From inside the pod the connection is simply client to 203.0.113.10: the request is answered.',
        ko: { title: 'Pod는 변환을 모릅니다', text: 'Pod 안에서 보면 그냥 client에서 203.0.113.10으로의 연결입니다. 요청에 응답이 옵니다.' },
        action: { kind: 'command', host: 'default/client', command: `wget -qO- ${WEB_IP}` },
        expect: { kind: 'output', code: 0, contains: ['web'] },
      },
      {
        title: 'The conntrack entry',
        text: 'minikube remembers the connection both ways: the original direction from the pod, and the reply direction addressed to the node (192.168.49.2, with the port MASQUERADE chose). Replies are matched against it and de-NATed.',
        ko: { title: 'conntrack 엔트리', text: 'minikube는 연결을 양방향으로 기억합니다. 원래 방향은 Pod에서, 응답 방향은 노드(192.168.49.2, MASQUERADE가 고른 포트)로 향합니다. 응답은 이 엔트리와 맞춰져 역변환됩니다.' },
        action: { kind: 'command', host: 'minikube', command: 'conntrack -L' },
        expect: { kind: 'output', contains: [`src=10.244.120.70 dst=${WEB_IP}`, `src=${WEB_IP} dst=192.168.49.2 sport=80`] },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'Let the server see the pod',
      goal: 'Make the web server see client\'s own address (10.244.120.70) while client still gets its answers: traffic to 203.0.113.0/24 must leave minikube untranslated, and the outside must learn how to send the replies back.',
      ko: { title: '서버가 Pod IP를 보게 하기', goal: '웹 서버가 client의 원래 주소(10.244.120.70)를 보면서도 client가 응답을 받게 하세요. 203.0.113.0/24로 가는 트래픽은 minikube에서 변환 없이 나가야 하고, 바깥은 응답을 돌려보낼 길을 알아야 합니다.' },
      checks: [
        { name: 'the web server sees 10.244.120.70', expect: { kind: 'trace', from: 'pod/default/client', to: `${WEB_IP}:80`, outcome: 'delivered', source: '10.244.120.70', avoids: ['MASQUERADE'] } },
        { name: 'the reply reaches client', expect: { kind: 'trace', from: 'pod/default/client', to: `${WEB_IP}:80`, replyOutcome: 'delivered', replySource: WEB_IP } },
      ],
      hints: [
        'The translation is in nat cali-nat-outgoing on minikube: a RETURN above its MASQUERADE skips it.',
        'Without the translation the reply is addressed to 10.244.120.70: which host on the way has no route for it?',
        'The router needs a route to the pod CIDR via the node: ip route add 10.244.0.0/16 via 192.168.49.2',
      ],
      solution: 'On minikube: iptables -t nat -I cali-nat-outgoing -d 203.0.113.0/24 -j RETURN (Felix puts its chain back at its next refresh; the lasting way is an IP pool with natOutgoing: false). On router: ip route add 10.244.0.0/16 via 192.168.49.2',
      solutionActions: [
        { kind: 'command', host: 'minikube', command: 'iptables -t nat -I cali-nat-outgoing -d 203.0.113.0/24 -j RETURN' },
        { kind: 'command', host: 'router', command: 'ip route add 10.244.0.0/16 via 192.168.49.2' },
      ],
    },
  ],
  notes: 'The router holds the node LAN\'s gateway address 192.168.49.1 and the outside network 203.0.113.0/24, where the web server listens on port 80. Hand edits of Calico\'s chains last until Felix\'s next refresh of them (every 90 s of lab time; its IP sets every 10 s).',
};
