// The article's conntrack GIF (DIGEST 6, last bullet; section "Kube-Proxy (iptable mode)"): a
// client pod 1.1.1.10 connects to a Service 2.2.2.10:80; the iptables rule on the client's node
// DNATs it to the server pod 1.1.1.20:80 on another node; the server answers 1.1.1.10, and on
// the way back through the client's node conntrack rewrites the reply's source to 2.2.2.10:80.
// A plain lab: each pod sits on its own link behind its node, as in Kubernetes, so the reply
// really passes the client's node; the Service is nothing but the DNAT rule (no interface has
// 2.2.2.10). Then the conntrack states at work (a stateful FORWARD) and ip_forward (DIGEST 7).

import type { Example, SetupStep } from './example.ts';

const DNAT_RULE = '-A PREROUTING -d 2.2.2.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 1.1.1.20:80';

const SETUP: SetupStep[] = [
  // The nodes' LAN, and on each node a link of its own to its pod (the pod's block: a /29).
  { kind: 'lan', name: 'nodes' },
  { kind: 'lan', name: 'node1-pods' },
  { kind: 'lan', name: 'node2-pods' },
  { kind: 'host', name: 'node1' },
  { kind: 'host', name: 'node2' },
  { kind: 'host', name: 'client' },
  { kind: 'host', name: 'server', listen: [{ port: 80, proto: 'tcp' }] },
  { kind: 'link', host: 'node1', lan: 'nodes', ip: '192.168.49.2/24', dev: 'eth0' },
  { kind: 'link', host: 'node2', lan: 'nodes', ip: '192.168.49.3/24', dev: 'eth0' },
  { kind: 'link', host: 'node1', lan: 'node1-pods', ip: '1.1.1.9/29', dev: 'eth1' },
  { kind: 'link', host: 'node2', lan: 'node2-pods', ip: '1.1.1.17/29', dev: 'eth1' },
  { kind: 'link', host: 'client', lan: 'node1-pods', ip: '1.1.1.10/29', dev: 'eth0' },
  { kind: 'link', host: 'server', lan: 'node2-pods', ip: '1.1.1.20/29', dev: 'eth0' },
  // The pods send everything to their node; each node routes the other node's pod block.
  { kind: 'console', host: 'client', command: 'ip route add default via 1.1.1.9' },
  { kind: 'console', host: 'server', command: 'ip route add default via 1.1.1.17' },
  { kind: 'console', host: 'node1', command: 'ip route add 1.1.1.16/29 via 192.168.49.3' },
  { kind: 'console', host: 'node2', command: 'ip route add 1.1.1.8/29 via 192.168.49.2' },
  { kind: 'console', host: 'node1', command: 'sysctl -w net.ipv4.ip_forward=1' },
  { kind: 'console', host: 'node2', command: 'sysctl -w net.ipv4.ip_forward=1' },
  // The Service: what kube-proxy's KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP chains come down to.
  { kind: 'console', host: 'node1', command: `iptables -t nat ${DNAT_RULE}` },
];

const TO_SERVICE = { kind: 'trace', from: 'client', to: '2.2.2.10:80' } as const;

export const conntrackWalk: Example = {
  name: 'conntrack',
  title: 'conntrack: DNAT to a pod, and the reply turned back',
  ko: 'conntrack: Pod로 DNAT, 응답은 원래 주소로',
  summary: 'A client pod connects to a Service address 2.2.2.10:80; its node DNATs it to the server pod 1.1.1.20:80, and conntrack turns the reply\'s source back to 2.2.2.10:80. Then conntrack states in a stateful FORWARD, and ip_forward.',
  scene: 'Kube-Proxy (iptable mode)',
  setup: () => SETUP,
  walkthrough: () => ({
    title: 'conntrack: a TCP connection to a Service',
    ko: { title: 'conntrack: Service로의 TCP 연결' },
    steps: [
      {
        title: 'The Service is a DNAT rule',
        text: 'client (1.1.1.10) lives on node1, server (1.1.1.20) on node2. No interface anywhere has 2.2.2.10: the Service exists only as this rule in node1\'s nat PREROUTING, which rewrites the destination 2.2.2.10:80 to 1.1.1.20:80 (kube-proxy\'s KUBE-SEP chains do exactly this, on every node).',
        ko: { title: 'Service는 DNAT 규칙입니다', text: 'client(1.1.1.10)는 node1에, server(1.1.1.20)는 node2에 있습니다. 2.2.2.10을 가진 인터페이스는 어디에도 없습니다. Service는 node1의 nat PREROUTING에 있는 이 규칙으로만 존재하며, 목적지 2.2.2.10:80을 1.1.1.20:80으로 바꿉니다(kube-proxy의 KUBE-SEP 체인이 모든 노드에서 하는 일입니다).' },
        action: { kind: 'command', host: 'node1', command: 'iptables -t nat -S PREROUTING' },
        expect: { kind: 'output', lines: ['-P PREROUTING ACCEPT', DNAT_RULE], code: 0 },
      },
      {
        title: 'node1 forwards',
        text: 'A packet for another host is only forwarded (the FORWARD hook) when net.ipv4.ip_forward is 1. It was set with `sysctl -w net.ipv4.ip_forward=1`; to keep it after a reboot it goes into /etc/sysctl.conf.',
        ko: { title: 'node1은 포워딩합니다', text: '다른 호스트로 가는 패킷은 net.ipv4.ip_forward가 1일 때만 포워딩됩니다(FORWARD 훅). `sysctl -w net.ipv4.ip_forward=1`로 켰고, 재부팅 뒤에도 유지하려면 /etc/sysctl.conf에 넣습니다.' },
        action: { kind: 'command', host: 'node1', command: 'cat /proc/sys/net/ipv4/ip_forward' },
        expect: { kind: 'output', lines: ['1'], code: 0 },
      },
      {
        title: 'client to 2.2.2.10:80',
        text: 'Step the connection. The SYN leaves client for 2.2.2.10:80 by its default route to node1. In node1\'s nat PREROUTING conntrack sees a NEW connection and the DNAT rule sends it to 1.1.1.20:80; node1 forwards it to node2, node2 to server. server sees the client\'s own address, 1.1.1.10, and answers it from 1.1.1.20:80. The reply goes back through node1, where conntrack recognises it (ESTABLISHED, reply direction) and rewrites its source to 2.2.2.10:80: client gets its answer from the address it called.',
        ko: { title: 'client → 2.2.2.10:80', text: '연결을 따라가 보세요. SYN은 기본 라우트를 따라 client에서 node1로 갑니다. node1의 nat PREROUTING에서 conntrack은 이를 NEW 연결로 보고, DNAT 규칙이 목적지를 1.1.1.20:80으로 바꿉니다. node1은 node2로, node2는 server로 포워딩합니다. server는 client의 원래 주소 1.1.1.10을 보고 1.1.1.20:80에서 응답합니다. 응답은 다시 node1을 지나며, conntrack이 이를 알아보고(ESTABLISHED, 응답 방향) 출발지를 2.2.2.10:80으로 바꿉니다. client는 자신이 호출한 주소로부터 응답을 받습니다.' },
        action: TO_SERVICE,
        expect: { kind: 'trace', outcome: 'delivered', deliveredTo: 'server', passes: ['DNAT'], source: '1.1.1.10', replyOutcome: 'delivered', replySource: '2.2.2.10' },
      },
      {
        title: 'The conntrack entry',
        text: 'Make a real connection: `curl 2.2.2.10` on client. node1 keeps an entry for it: the original direction (src=1.1.1.10 dst=2.2.2.10 dport=80) and the reply it expects (src=1.1.1.20 dst=1.1.1.10 sport=80). A reply matching the second tuple gets the first one\'s addresses back. The check runs `conntrack -L` on node1.',
        ko: { title: 'conntrack 엔트리', text: 'client에서 `curl 2.2.2.10`으로 실제 연결을 만들어 보세요. node1은 이 연결의 엔트리를 가집니다. 원래 방향(src=1.1.1.10 dst=2.2.2.10 dport=80)과 기다리는 응답(src=1.1.1.20 dst=1.1.1.10 sport=80)입니다. 두 번째 튜플에 맞는 응답은 첫 번째 튜플의 주소로 되돌려집니다. 확인은 node1에서 `conntrack -L`로 합니다.' },
        action: { kind: 'command', host: 'client', command: 'curl 2.2.2.10' },
        expect: { kind: 'output', host: 'node1', command: 'conntrack -L', contains: ['src=1.1.1.10 dst=2.2.2.10 sport=', ' dport=80 src=1.1.1.20 dst=1.1.1.10 sport=80 dport=', 'flow entries have been shown.'] },
      },
      {
        title: 'A FORWARD that drops',
        text: 'Now let node1 forward nothing by default: policy DROP on filter FORWARD. The client\'s SYN, a NEW connection, is DNATed in PREROUTING and then dropped in FORWARD.',
        ko: { title: '모두 버리는 FORWARD', text: '이제 node1이 기본적으로 아무것도 포워딩하지 않게 합니다. filter FORWARD의 정책을 DROP으로 바꾸면, NEW 연결인 client의 SYN은 PREROUTING에서 DNAT된 뒤 FORWARD에서 버려집니다.' },
        action: { kind: 'command', host: 'node1', command: 'iptables -P FORWARD DROP' },
        expect: { ...TO_SERVICE, kind: 'trace', outcome: 'dropped', passes: ['DNAT'] },
      },
      {
        title: 'Accept NEW connections to the server',
        text: 'Allow new connections to the server\'s port 80. FORWARD comes after PREROUTING, so the rule matches the translated destination 1.1.1.20:80, not 2.2.2.10. The SYN passes now — but the server\'s SYN-ACK is not NEW, it belongs to a known connection (ESTABLISHED), so it is dropped on its way back through node1.',
        ko: { title: '서버로의 NEW 연결 허용', text: '서버의 80번 포트로 가는 새 연결을 허용합니다. FORWARD는 PREROUTING 다음이므로 규칙은 2.2.2.10이 아니라 변환된 목적지 1.1.1.20:80에 맞춰야 합니다. 이제 SYN은 지나가지만, 서버의 SYN-ACK는 NEW가 아니라 이미 아는 연결에 속하므로(ESTABLISHED) node1을 지나 돌아오다 버려집니다.' },
        action: { kind: 'command', host: 'node1', command: 'iptables -A FORWARD -d 1.1.1.20/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT' },
        expect: { ...TO_SERVICE, kind: 'trace', outcome: 'delivered', deliveredTo: 'server', replyOutcome: 'dropped' },
      },
      {
        title: '… and everything ESTABLISHED',
        text: 'The rule every stateful firewall has (Calico\'s cali-fw/cali-tw chains start with it too): accept packets of known connections, RELATED,ESTABLISHED. The reply passes, conntrack turns it back into 2.2.2.10:80.',
        ko: { title: '… 그리고 ESTABLISHED 전부', text: '모든 상태 기반 방화벽에 있는 규칙입니다(Calico의 cali-fw/cali-tw 체인도 이것으로 시작합니다). 이미 아는 연결의 패킷(RELATED,ESTABLISHED)을 받아들입니다. 응답이 지나가고, conntrack이 출발지를 2.2.2.10:80으로 되돌립니다.' },
        action: { kind: 'command', host: 'node1', command: 'iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT' },
        expect: { ...TO_SERVICE, kind: 'trace', outcome: 'delivered', deliveredTo: 'server', replyOutcome: 'delivered', replySource: '2.2.2.10' },
      },
      {
        title: 'ip_forward off',
        text: 'With net.ipv4.ip_forward=0 node1 is no router: the SYN is still DNATed in PREROUTING, but a packet that is not for node1 itself is dropped at the routing decision, before any FORWARD chain.',
        ko: { title: 'ip_forward 끄기', text: 'net.ipv4.ip_forward=0이면 node1은 라우터가 아닙니다. SYN은 PREROUTING에서 여전히 DNAT되지만, node1 자신에게 온 것이 아닌 패킷은 라우팅 결정에서 FORWARD 체인에 닿기도 전에 버려집니다.' },
        action: { kind: 'command', host: 'node1', command: 'sysctl -w net.ipv4.ip_forward=0' },
        expect: { ...TO_SERVICE, kind: 'trace', outcome: 'dropped', passes: ['DNAT'], avoids: ['FORWARD'] },
      },
      {
        title: 'ip_forward on again',
        text: 'Turn forwarding back on, and the Service answers again.',
        ko: { title: 'ip_forward 다시 켜기', text: '포워딩을 다시 켜면 Service가 다시 응답합니다.' },
        action: { kind: 'command', host: 'node1', command: 'sysctl -w net.ipv4.ip_forward=1' },
        expect: { ...TO_SERVICE, kind: 'trace', outcome: 'delivered', deliveredTo: 'server', replySource: '2.2.2.10' },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'A second Service port',
      goal: 'Make 2.2.2.10:8080 reach the server\'s port 80 (it only listens there), with the reply coming back from 2.2.2.10; 2.2.2.10:80 must keep working.',
      ko: { title: '두 번째 Service 포트', goal: '2.2.2.10:8080이 서버의 80번 포트(서버는 여기서만 듣습니다)에 닿게 하고, 응답은 2.2.2.10에서 오게 하세요. 2.2.2.10:80도 계속 동작해야 합니다.' },
      checks: [
        {
          name: 'client reaches the server through 2.2.2.10:8080',
          expect: { kind: 'trace', from: 'client', to: '2.2.2.10:8080', outcome: 'delivered', deliveredTo: 'server', passes: ['DNAT'], replyOutcome: 'delivered', replySource: '2.2.2.10' },
        },
        { name: '2.2.2.10:80 still works', expect: { kind: 'reach', cells: [{ from: 'client', to: '2.2.2.10:80', allowed: true }] } },
      ],
      hints: [
        'Which host translates 2.2.2.10? Look at its nat PREROUTING: iptables -t nat -S PREROUTING',
        'A DNAT rule may change the port as well as the address: --to-destination IP:PORT.',
      ],
      solution: 'On node1 (the client\'s node, where the packet arrives first):\n\n    iptables -t nat -A PREROUTING -d 2.2.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 1.1.1.20:80\n\nconntrack remembers the original 2.2.2.10:8080 and turns the reply\'s source back to it.',
      solutionActions: [{ kind: 'command', host: 'node1', command: 'iptables -t nat -A PREROUTING -d 2.2.2.10/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 1.1.1.20:80' }],
    },
  ],
};
