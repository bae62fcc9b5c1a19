// Scene 10 of the article ("Network Policy"): frontend, backend and db, every pod open to every
// other until the policy allow-db-access isolates db; only pods labelled
// networking/allow-db-access: "true" (backend's) may still reach it. Calico turns the policy into
// knp.default.allow-db-access, iptables chains per workload interface and an ipset of the allowed
// pod addresses. The article's cluster gave pods 10.88.0.x; the names and addresses are pinned.

import type { Example } from './example.ts';

const FRONTEND = 'frontend-8b474f47-zdqdv';
const BACKEND = 'backend-867fd6dff-mjf92';
const DB = 'db-8d66ff5f7-bp6kf';
const DB_IFACE = 'cali95aa86cbb2a';
const POLICY_CHAIN = 'cali-pi-_tTE-E7yY40ogArNVgKt';
const ALLOWED_SET = 'cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge';

/**
 * The article's Deployment (backend's is shown in full; frontend and db are the same nginx with
 * the initContainer that writes the pod name into index.html: their templates give the article's
 * ReplicaSet hashes 8b474f47 and 8d66ff5f7). The lab annotations pin the pods' names and addresses.
 */
function deployment(app: string, pod: string, ip: string, extraLabel = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  labels:
    app: ${app}
  annotations:
    lab.kpl.dev/pod-names: ${pod}
    lab.kpl.dev/pod-ips: ${ip}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${app}
  template:
    metadata:
      labels:
        app: ${app}${extraLabel}
    spec:
      volumes:
      - name: workdir
        emptyDir: {}
      containers:
      - name: nginx
        image: nginx:1.14.2
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 80
        volumeMounts:
        - name: workdir
          mountPath: /usr/share/nginx/html
      initContainers:
      - name: install
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ['sh', '-c', "echo $HOSTNAME > /work-dir/index.html"]
        volumeMounts:
        - name: workdir
          mountPath: "/work-dir"
`;
}

const service = (app: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${app}
spec:
  selector:
    app: ${app}
  ports:
  - port: 80
    targetPort: 80
`;

const APPS = [
  deployment('frontend', FRONTEND, '10.88.0.24'),
  deployment('backend', BACKEND, '10.88.0.27', '\n        networking/allow-db-access: "true"'),
  deployment('db', DB, '10.88.0.26'),
  service('frontend'),
  service('backend'),
  service('db'),
].join('---\n');

/** The article's policy, as it is written there. */
const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-access
spec:
  podSelector:
    matchLabels:
      app: "db"
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          networking/allow-db-access: "true"
`;

/** The exercise's answer: a second peer in the same `from` list (peers are ORed). */
const POLICY_WITH_FRONTEND = `${POLICY}    - podSelector:
        matchLabels:
          app: frontend
`;

const TIMED_OUT = 'curl: (7) Failed to connect to db port 80: Connection timed out';

export const networkPolicy: Example = {
  name: 'network-policy',
  title: 'NetworkPolicy, the Calico way: iptables chains and ipsets per pod',
  ko: 'Network Policy',
  summary: 'frontend, backend and db: the policy allow-db-access lets only pods labelled networking/allow-db-access reach db. Calico turns it into per-interface iptables chains and an ipset of allowed addresses.',
  scene: 'Network Policy',
  cluster: { nodes: 1, podCIDR: '10.88.0.0/16' },
  layouts: ['legacy', 'current'],
  setup: () => [{ kind: 'apply', yaml: APPS }],
  walkthrough: (layout) => ({
    title: 'NetworkPolicy: isolating db from frontend',
    ko: { title: 'Network Policy: frontend로부터 db 분리하기' },
    steps: [
      {
        title: 'frontend calls backend',
        text: `Three Deployments and their Services: frontend, backend and db. Each nginx serves a page its initContainer wrote: its own pod name. From the frontend pod, \`curl backend\` goes through the backend Service and prints ${BACKEND}.`,
        ko: { title: 'frontend → backend', text: `frontend, backend, db 세 Deployment와 Service가 있습니다. 각 nginx는 initContainer가 써 둔 자기 Pod 이름을 응답합니다. frontend Pod에서 \`curl backend\`를 실행하면 backend Service를 거쳐 ${BACKEND}가 출력됩니다.` },
        action: { kind: 'command', host: `default/${FRONTEND}`, command: 'curl backend' },
        expect: { kind: 'output', lines: [BACKEND], code: 0 },
      },
      {
        title: 'By default every pod is open',
        text: 'No policy selects any pod yet, so pod traffic is accepted from any source: frontend reaches db just as well.',
        ko: { title: '기본적으로 모든 Pod는 열려 있습니다', text: '아직 어떤 정책도 Pod를 선택하지 않았으므로 Pod의 트래픽은 전부 열려 있습니다(accept from any source). frontend도 db에 접근할 수 있습니다.' },
        action: { kind: 'command', host: `default/${FRONTEND}`, command: 'curl db' },
        expect: { kind: 'output', lines: [DB], code: 0 },
      },
      {
        title: 'Apply allow-db-access',
        text: 'The policy selects the pods labelled app=db and, for Ingress, allows only pods labelled networking/allow-db-access: "true" — backend\'s pod template has that label, frontend\'s has not. Now frontend\'s `curl db` times out: the SYN is dropped at db, nothing answers.',
        ko: { title: 'allow-db-access 적용', text: '이 정책은 app=db 라벨을 가진 Pod를 선택하고, Ingress로는 networking/allow-db-access: "true" 라벨을 가진 Pod만 허용합니다. backend의 Pod 템플릿에는 이 라벨이 있고 frontend에는 없습니다. 이제 frontend에서 `curl db`는 타임아웃됩니다. SYN이 db 앞에서 버려지고 아무도 응답하지 않습니다.' },
        action: { kind: 'apply', yaml: POLICY },
        expect: { kind: 'output', host: `default/${FRONTEND}`, command: 'curl db', lines: [TIMED_OUT], code: 7 },
      },
      {
        title: 'backend still reaches db',
        text: 'From backend, whose pod carries networking/allow-db-access: "true", `curl db` prints the db pod\'s name as before.',
        ko: { title: 'backend는 여전히 db에 접근합니다', text: 'networking/allow-db-access: "true" 라벨을 가진 backend Pod에서는 `curl db`가 이전처럼 db Pod 이름을 출력합니다.' },
        action: { kind: 'command', host: `default/${BACKEND}`, command: 'curl db' },
        expect: { kind: 'output', lines: [DB], code: 0 },
      },
      {
        title: 'The policy in Calico\'s form',
        text: 'Calico converts the Kubernetes NetworkPolicy into its own: knp.default.allow-db-access, order 1000, with both selectors limited to pods Kubernetes orchestrates (projectcalico.org/orchestrator == \'k8s\').',
        ko: { title: 'Calico 형식의 정책', text: 'Calico는 쿠버네티스 NetworkPolicy를 자신의 형식으로 변환합니다. 이름은 knp.default.allow-db-access, order는 1000이고, 두 셀렉터 모두 쿠버네티스가 관리하는 Pod(projectcalico.org/orchestrator == \'k8s\')로 한정됩니다.' },
        action: { kind: 'command', host: 'minikube', command: 'calicoctl get networkPolicy --output yaml' },
        expect: {
          kind: 'output',
          lines: [
            '    name: knp.default.allow-db-access',
            '    namespace: default',
            '    ingress:',
            '    - action: Allow',
            '      destination: {}',
            '      source:',
            "        selector: projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access",
            "          == 'true'",
            '    order: 1000',
            "    selector: projectcalico.org/orchestrator == 'k8s' && app == 'db'",
            '    types:',
            '    - Ingress',
            'kind: NetworkPolicyList',
          ],
        },
      },
      {
        title: 'The workload endpoints',
        text: `Every pod is a workload endpoint with its /32 and the host side of its veth pair. ${DB_IFACE} is db's interface on minikube: the policy is enforced there.`,
        ko: { title: 'Workload Endpoint', text: `모든 Pod는 /32 주소와 veth pair의 호스트 쪽 인터페이스를 가진 workload endpoint입니다. ${DB_IFACE}가 db Pod의 인터페이스이고, 정책은 여기서 적용됩니다.` },
        action: { kind: 'command', host: 'minikube', command: 'calicoctl get workloadEndpoint' },
        expect: {
          kind: 'output',
          lines: [
            'WORKLOAD NODE NETWORKS INTERFACE',
            `${BACKEND} minikube 10.88.0.27/32 cali2b1490aa46a`,
            `${DB} minikube 10.88.0.26/32 ${DB_IFACE}`,
            `${FRONTEND} minikube 10.88.0.24/32 cali505cfbeac50`,
          ],
        },
      },
      {
        title: 'The chains of db\'s interface',
        text: `Packets from a pod enter cali-from-wl-dispatch and go to cali-fw-<iface>; packets to a pod go to cali-tw-<iface>. Both accept RELATED,ESTABLISHED at once; a new connection to db is sent through the policy chain ${POLICY_CHAIN} while no policy has decided yet (mark 0x0/0x20000).`,
        ko: { title: 'db 인터페이스의 체인', text: `Pod에서 나오는 패킷은 cali-from-wl-dispatch에서 cali-fw-<iface>로, Pod로 들어가는 패킷은 cali-tw-<iface>로 갑니다. 둘 다 RELATED,ESTABLISHED는 바로 받아들이고, db로 가는 새 연결은 아직 어느 정책도 결정하지 않은 동안(mark 0x0/0x20000) 정책 체인 ${POLICY_CHAIN}을 거칩니다.` },
        action: { kind: 'command', host: 'minikube', command: `iptables-save | grep ${DB_IFACE}` },
        expect: layout === 'legacy'
          ? {
              kind: 'output',
              lines: [
                `:cali-fw-${DB_IFACE} - [0:0]`,
                `:cali-tw-${DB_IFACE} - [0:0]`,
                `-A cali-fw-${DB_IFACE} -m comment --comment "cali:3XN24uu3MS3PMvfM" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
                `-A cali-tw-${DB_IFACE} -m comment --comment "cali:pm-LK-c1ra31tRwz" -m mark --mark 0x0/0x20000 -j ${POLICY_CHAIN}`,
              ],
              contains: [`-A cali-from-wl-dispatch -i ${DB_IFACE} -m comment --comment "cali:`, `-g cali-fw-${DB_IFACE}`],
            }
          : {
              // A newer Felix: the same chains, other rule hashes (and tiers).
              kind: 'output',
              lines: [
                `:cali-fw-${DB_IFACE} - [0:0]`,
                `:cali-tw-${DB_IFACE} - [0:0]`,
                `-A cali-fw-${DB_IFACE} -m comment --comment "cali:3XN24uu3MS3PMvfM" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
              ],
              contains: [`-A cali-from-wl-dispatch -i ${DB_IFACE} -m comment --comment "cali:`, `-g cali-fw-${DB_IFACE}`, `-m mark --mark 0x0/0x20000 -j ${POLICY_CHAIN}`],
            },
      },
      {
        title: 'The policy chain',
        text: `${POLICY_CHAIN} marks a packet whose source is in the set ${ALLOWED_SET} (the pods the policy's source selector matches) with 0x10000 — accepted — and returns. Any other packet falls back to cali-tw-${DB_IFACE}, which drops it ("Drop if no policies passed packet").`,
        ko: { title: '정책 체인', text: `${POLICY_CHAIN}은 출발지가 ${ALLOWED_SET} 집합(정책의 source 셀렉터에 맞는 Pod들)에 있는 패킷에 0x10000 마크(허용)를 붙이고 돌아갑니다. 그 밖의 패킷은 cali-tw-${DB_IFACE}로 돌아가 버려집니다("Drop if no policies passed packet").` },
        action: { kind: 'command', host: 'minikube', command: `iptables-save -t filter | grep ${POLICY_CHAIN}` },
        expect: layout === 'legacy'
          ? {
              kind: 'output',
              lines: [
                `:${POLICY_CHAIN} - [0:0]`,
                `-A ${POLICY_CHAIN} -m comment --comment "cali:M4Und37HGrw6jUk8" -m set --match-set ${ALLOWED_SET} src -j MARK --set-xmark 0x10000/0x10000`,
                `-A ${POLICY_CHAIN} -m comment --comment "cali:sEnlfZagUFRSPRoe" -m mark --mark 0x10000/0x10000 -j RETURN`,
              ],
            }
          : {
              kind: 'output',
              lines: [`:${POLICY_CHAIN} - [0:0]`],
              contains: [`-m set --match-set ${ALLOWED_SET} src -j MARK --set-xmark 0x10000/0x10000`],
            },
      },
      {
        title: 'The ipset of allowed pods',
        text: `${ALLOWED_SET} is a hash:net set holding only backend's address, 10.88.0.27. When a pod gains or loses the label, Felix adds or deletes its address here; the iptables rules stay as they are.`,
        ko: { title: '허용된 Pod의 ipset', text: `${ALLOWED_SET}은 backend Pod의 IP(10.88.0.27)만 들어 있는 hash:net 집합입니다. Pod가 라벨을 얻거나 잃으면 Felix는 여기에 주소를 넣거나 빼고, iptables 규칙은 그대로 둡니다.` },
        action: { kind: 'command', host: 'minikube', command: 'ipset list' },
        expect: {
          kind: 'output',
          lines: [`Name: ${ALLOWED_SET}`, 'Type: hash:net', 'Members:', '10.88.0.27'],
          contains: ['Header: family inet hashsize 1024 maxelem 1048576'],
        },
      },
      {
        title: 'Step frontend to db',
        text: `Policies are enforced per pod, after the Service's DNAT: the packet to the db Service is DNATed to 10.88.0.26, forwarded out of ${DB_IFACE}, and in cali-tw-${DB_IFACE} the policy chain finds 10.88.0.24 in no allowed set — the packet is dropped.`,
        ko: { title: 'frontend → db 따라가기', text: `정책은 Service의 DNAT 뒤에 Pod마다 적용됩니다. db Service로 가는 패킷은 10.88.0.26으로 DNAT되어 ${DB_IFACE}로 포워딩되고, cali-tw-${DB_IFACE}에서 정책 체인이 10.88.0.24를 허용 집합에서 찾지 못해 패킷이 버려집니다.` },
        action: { kind: 'trace', from: `pod/default/${FRONTEND}`, to: 'db:80' },
        expect: { kind: 'trace', outcome: 'dropped', passes: ['DNAT', `cali-tw-${DB_IFACE}`, POLICY_CHAIN], avoids: ['cali-tw-cali2b1490aa46a'] },
      },
    ],
  }),
  exercises: () => [
    {
      title: 'Let frontend in too, by the policy',
      goal: 'db must stay isolated by allow-db-access, but frontend may now reach it as well as backend. Change the policy (not the pods).',
      ko: { title: '정책으로 frontend도 허용하기', goal: 'db는 계속 allow-db-access로 격리되어 있어야 하지만, 이제 backend뿐 아니라 frontend도 접근할 수 있어야 합니다. Pod가 아니라 정책을 바꾸세요.' },
      checks: [
        { name: 'allow-db-access still selects db', expect: { kind: 'output', host: 'minikube', command: 'kubectl get networkpolicy allow-db-access', contains: ['app=db'], code: 0 } },
        { name: 'frontend reaches db', expect: { kind: 'reach', cells: [{ from: `pod/default/${FRONTEND}`, to: 'db:80', allowed: true }] } },
        { name: 'backend still reaches db', expect: { kind: 'reach', cells: [{ from: `pod/default/${BACKEND}`, to: 'db:80', allowed: true }] } },
      ],
      hints: [
        'The ingress rule\'s `from` is a list of peers; a packet is allowed when ANY peer matches.',
        'Two labels in one podSelector must BOTH match (AND); two podSelector entries in `from` are alternatives (OR).',
      ],
      solution: 'Add a second peer to the from list of allow-db-access:\n\n```yaml\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          networking/allow-db-access: "true"\n    - podSelector:\n        matchLabels:\n          app: frontend\n```\n\nand apply it. Felix puts frontend\'s address into a second selector set and adds its rule to the policy chain.',
      solutionActions: [{ kind: 'apply', yaml: POLICY_WITH_FRONTEND }],
    },
  ],
  notes: 'The pods live in 10.88.0.0/16 as in the article\'s cluster, and kube-proxy\'s clusterCIDR follows it, so a pod\'s connection to a Service ClusterIP keeps the pod\'s address on its way to the endpoint. The policy is checked in filter FORWARD, after the Service DNAT, on the pods\' own addresses.',
};
