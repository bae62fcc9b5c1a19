// The network-policy e2e tests' model — namespaces x, y, z with pods a, b, c serving ports 80
// and 81 on TCP, UDP and SCTP — and the policy sets its connectivity matrices are checked under
// (test/engine/cluster/netpol.test.ts). Together the sets cover every point of the
// NetworkPolicy semantics of issue 4: podSelector {} or by labels, policyTypes and their
// defaults, ingress and egress, peers by podSelector / namespaceSelector / both in one peer (AND)
// / separate peers (OR), ipBlock with except, ports by number, by name and with endPort, TCP, UDP
// and SCTP, empty rule lists (deny) versus {} (allow all), policies adding up, matchExpressions
// (In, NotIn, Exists, DoesNotExist), the kubernetes.io/metadata.name label, and a connection
// needing both the source's egress and the destination's ingress.
//
// Each set is YAML as `kubectl apply -f -` takes it. `protocols` lists the protocols its
// matrices are taken on (TCP only when absent: the sets where the protocol matters name all
// three). `spot` holds cells worked out by hand from the Kubernetes documentation, independent
// of the semantics evaluator the matrices are compared with: "FROM TO PORT[/PROTO] ." (allowed)
// or "… X" (blocked); PROTO defaults to tcp.

export interface PolicySet {
  name: string;
  yaml: string;
  protocols?: ('TCP' | 'UDP' | 'SCTP')[];
  spot: string[];
}

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const PODS = ['a', 'b', 'c'] as const;

/** Where each pod runs and its address: two nodes, so both same-node and cross-node paths are
 *  walked; minikube's pods in 10.244.100.0/24, minikube-m02's in 10.244.200.0/24 (ipBlock sets
 *  name them). */
export const PLACEMENT: Record<string, { node: string; ip: string }> = {
  'x/a': { node: 'minikube', ip: '10.244.100.10' },
  'x/b': { node: 'minikube-m02', ip: '10.244.200.11' },
  'x/c': { node: 'minikube', ip: '10.244.100.12' },
  'y/a': { node: 'minikube-m02', ip: '10.244.200.20' },
  'y/b': { node: 'minikube', ip: '10.244.100.21' },
  'y/c': { node: 'minikube-m02', ip: '10.244.200.22' },
  'z/a': { node: 'minikube', ip: '10.244.100.30' },
  'z/b': { node: 'minikube-m02', ip: '10.244.200.31' },
  'z/c': { node: 'minikube', ip: '10.244.100.32' },
};

/** Namespace labels beyond ns=NAME (and kubernetes.io/metadata.name, set by the API server). */
const NS_LABELS: Record<string, string> = { x: 'env: dev', y: 'env: prod', z: '' };
/** Pod labels beyond pod=NAME: a tier on a and b only (for Exists / DoesNotExist / NotIn). */
const POD_LABELS: Record<string, string> = { a: 'tier: front', b: 'tier: back', c: '' };

/** Container ports: 80 and 81 on TCP, UDP and SCTP. The TCP names differ per pod so a named
 *  port resolves per pod: `http` is 81 on a and b but 80 on c. */
function ports(pod: string): string {
  const tcp = pod === 'c' ? [[80, 'http'], [81, 'serve-81-tcp']] : [[80, 'serve-80-tcp'], [81, 'http']];
  const out = tcp.map(([n, name]) => `{containerPort: ${n}, name: ${name}}`);
  for (const proto of ['UDP', 'SCTP']) for (const n of [80, 81]) out.push(`{containerPort: ${n}, name: serve-${n}-${proto.toLowerCase()}, protocol: ${proto}}`);
  return out.join(', ');
}

/** The model's namespaces and pods (quoted names: YAML 1.1, as kubectl reads it, takes a bare y for true). */
export function modelYaml(): string {
  const docs: string[] = [];
  for (const ns of NAMESPACES) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: "${ns}", labels: {ns: "${ns}"${NS_LABELS[ns] ? ', ' + NS_LABELS[ns] : ''}}}\n`);
    for (const p of PODS) docs.push(podYaml(ns, p));
  }
  return docs.join('---\n');
}

/** One pod of the model; `labels` (YAML flow entries) replace the extra labels beyond pod=NAME. */
export function podYaml(ns: string, pod: string, labels = POD_LABELS[pod]): string {
  const at = PLACEMENT[`${ns}/${pod}`];
  return (
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${pod}, namespace: "${ns}", labels: {pod: ${pod}${labels ? ', ' + labels : ''}}, annotations: {lab.kpl.dev/ip: "${at.ip}"}}\n` +
    `spec: {nodeName: ${at.node}, containers: [{name: agnhost, image: "registry.k8s.io/e2e-test-images/agnhost:2.43", ports: [${ports(pod)}]}]}\n`
  );
}

const ALL: PolicySet['protocols'] = ['TCP', 'UDP', 'SCTP'];

/** One NetworkPolicy: `spec` is the block under `spec:` (indented by two spaces here). */
function np(ns: string, name: string, spec: string): string {
  const body = spec
    .trim()
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n  namespace: "${ns}"\nspec:\n${body}\n`;
}

const docs = (...policies: string[]) => policies.join('---\n');

export const POLICY_SETS: PolicySet[] = [
  // ---- podSelector {} / labels, policyTypes and their defaults, empty rule list vs {} -------
  {
    name: 'deny all ingress in x (podSelector {}, policyTypes [Ingress])',
    yaml: np('x', 'deny-ingress', `podSelector: {}\npolicyTypes: [Ingress]`),
    protocols: ALL,
    spot: ['y/a x/a 80 X', 'x/b x/c 81 X', 'z/c x/b 80/udp X', 'y/a x/a 81/sctp X', 'x/a y/a 80 .', 'x/a z/b 80/sctp .'],
  },
  {
    name: 'policyTypes absent and no rules: defaults to Ingress, denies all ingress to x/a',
    yaml: np('x', 'default-types', `podSelector:\n  matchLabels: {pod: a}`),
    spot: ['x/b x/a 80 X', 'y/a x/a 81 X', 'x/a x/b 80 .', 'x/b x/c 80 .'],
  },
  {
    name: 'ingress: [{}] allows everything (a policy that isolates and allows all)',
    yaml: np('y', 'allow-all', `podSelector: {}\npolicyTypes: [Ingress]\ningress:\n- {}`),
    protocols: ALL,
    spot: ['x/a y/a 80 .', 'z/c y/b 81/udp .', 'x/b y/c 80/sctp .'],
  },
  {
    name: 'deny all plus allow all in y: policies add up, allowed',
    yaml: docs(np('y', 'deny-all', `podSelector: {}\npolicyTypes: [Ingress, Egress]`), np('y', 'allow-all', `podSelector: {}\npolicyTypes: [Ingress, Egress]\ningress: [{}]\negress: [{}]`)),
    spot: ['x/a y/a 80 .', 'y/a z/c 81 .', 'y/b y/c 80 .'],
  },
  {
    name: 'deny all egress from y (policyTypes [Egress], no rules)',
    yaml: np('y', 'deny-egress', `podSelector: {}\npolicyTypes: [Egress]`),
    protocols: ALL,
    spot: ['y/a x/a 80 X', 'y/b y/c 81/udp X', 'y/c z/a 80/sctp X', 'x/a y/a 80 .', 'z/b y/b 81/udp .'],
  },
  {
    name: 'egress rules without policyTypes: Ingress and Egress, so ingress is denied too',
    yaml: np('x', 'egress-implies', `podSelector:\n  matchLabels: {pod: a}\negress:\n- to:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}`),
    spot: ['x/a y/b 80 .', 'x/a x/b 80 X', 'x/a z/a 81 X', 'x/b x/a 80 X', 'y/a x/a 80 X'],
  },
  {
    name: 'policyTypes [Egress] only: ingress of the selected pods stays open',
    yaml: np('x', 'egress-only', `podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Egress]\negress:\n- to:\n  - podSelector:\n      matchLabels: {pod: b}`),
    spot: ['x/a x/b 80 .', 'x/a x/c 80 X', 'x/a y/b 80 X', 'x/c x/a 80 .', 'z/c x/a 81 .'],
  },
  {
    name: 'ingress and egress denied in z (both types, no rules)',
    yaml: np('z', 'deny-both', `podSelector: {}\npolicyTypes: [Ingress, Egress]`),
    protocols: ALL,
    spot: ['z/a z/b 80 X', 'x/a z/a 80 X', 'z/a x/a 81/udp X', 'x/a y/a 80/sctp .'],
  },
  {
    name: 'allow all egress (egress: [{}]) with policyTypes [Egress]: nothing blocked',
    yaml: np('z', 'allow-egress', `podSelector: {}\npolicyTypes: [Egress]\negress:\n- {}`),
    spot: ['z/a x/a 80 .', 'z/b z/c 81 .'],
  },
  {
    name: 'policy selecting no pod changes nothing',
    yaml: np('x', 'selects-none', `podSelector:\n  matchLabels: {pod: nothere}\npolicyTypes: [Ingress, Egress]`),
    spot: ['y/a x/a 80 .', 'x/c z/c 81 .'],
  },
  // ---- peers -------------------------------------------------------------------------------
  {
    name: 'podSelector peer: own namespace only (x/b to x/a)',
    yaml: np('x', 'from-b', `podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Ingress]\ningress:\n- from:\n  - podSelector:\n      matchLabels: {pod: b}`),
    spot: ['x/b x/a 80 .', 'x/b x/a 81 .', 'y/b x/a 80 X', 'x/c x/a 80 X', 'y/b x/c 80 .'],
  },
  {
    name: 'podSelector {} peer: every pod of the own namespace (namespace isolation in x, y, z)',
    yaml: docs(...NAMESPACES.map((ns) => np(ns, 'same-ns', `podSelector: {}\ningress:\n- from:\n  - podSelector: {}`))),
    spot: ['x/a x/b 80 .', 'y/c y/a 81 .', 'x/a y/a 80 X', 'z/b x/c 81 X'],
  },
  {
    name: 'namespaceSelector peer: all pods of namespace y to x/a',
    yaml: np('x', 'from-y', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}`),
    spot: ['y/a x/a 80 .', 'y/c x/a 81 .', 'x/b x/a 80 X', 'z/a x/a 80 X'],
  },
  {
    name: 'namespaceSelector {} peer on port 81: every namespace, only 81 to y/b',
    yaml: np('y', 'all-ns-81', `podSelector:\n  matchLabels: {pod: b}\ningress:\n- from:\n  - namespaceSelector: {}\n  ports:\n  - port: 81`),
    spot: ['x/a y/b 81 .', 'y/a y/b 81 .', 'x/a y/b 80 X', 'z/c y/b 80 X'],
  },
  {
    name: 'namespaceSelector and podSelector in one peer (AND): only y/b, only 81, into z',
    yaml: np('z', 'and-peer', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}\n    podSelector:\n      matchLabels: {pod: b}\n  ports:\n  - port: 81`),
    spot: ['y/b z/a 81 .', 'y/b z/a 80 X', 'y/a z/a 81 X', 'z/b z/a 81 X', 'x/b z/c 81 X'],
  },
  {
    name: 'namespaceSelector and podSelector as separate peers (OR): all of y, and z/b, into z',
    yaml: np('z', 'or-peers', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}\n  - podSelector:\n      matchLabels: {pod: b}`),
    spot: ['y/a z/a 80 .', 'y/b z/c 81 .', 'z/b z/a 80 .', 'z/c z/a 80 X', 'x/b z/a 80 X'],
  },
  {
    name: 'namespaceSelector {} with podSelector in one peer: pods c of every namespace, egress of x/c',
    yaml: np('x', 'egress-to-c', `podSelector:\n  matchLabels: {pod: c}\npolicyTypes: [Egress]\negress:\n- to:\n  - podSelector:\n      matchLabels: {pod: c}\n    namespaceSelector: {}`),
    spot: ['x/c y/c 80 .', 'x/c z/c 81 .', 'x/c x/a 80 X', 'x/c y/b 80 X', 'x/a y/b 80 .'],
  },
  {
    name: 'kubernetes.io/metadata.name label: ingress to x only from namespace z',
    yaml: np('x', 'by-ns-name', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {kubernetes.io/metadata.name: z}`),
    spot: ['z/a x/a 80 .', 'z/c x/b 81 .', 'y/a x/a 80 X', 'x/b x/a 80 X'],
  },
  // ---- matchExpressions ---------------------------------------------------------------------
  {
    name: 'matchExpressions In: pods a and b of y, from namespaces x and z',
    yaml: np('y', 'in', `podSelector:\n  matchExpressions:\n  - {key: pod, operator: In, values: [a, b]}\ningress:\n- from:\n  - namespaceSelector:\n      matchExpressions:\n      - {key: ns, operator: In, values: [x, z]}`),
    spot: ['x/a y/a 80 .', 'z/c y/b 81 .', 'y/c y/a 80 X', 'y/a y/c 80 .', 'x/a y/c 80 .'],
  },
  {
    name: 'matchExpressions NotIn on a named port: y from pods not a, port serve-80-udp',
    yaml: np('y', 'notin', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector: {}\n    podSelector:\n      matchExpressions:\n      - {key: pod, operator: NotIn, values: [a]}\n  ports:\n  - {protocol: UDP, port: serve-80-udp}`),
    protocols: ALL,
    spot: ['x/b y/a 80/udp .', 'z/c y/c 80/udp .', 'x/a y/a 80/udp X', 'x/b y/a 81/udp X', 'x/b y/a 80 X', 'x/b y/a 80/sctp X'],
  },
  {
    name: 'matchExpressions Exists: pods with a tier in x, from pods with a tier anywhere',
    yaml: np('x', 'exists', `podSelector:\n  matchExpressions:\n  - {key: tier, operator: Exists}\ningress:\n- from:\n  - namespaceSelector: {}\n    podSelector:\n      matchExpressions:\n      - {key: tier, operator: Exists}`),
    spot: ['y/a x/b 80 .', 'z/b x/a 81 .', 'y/c x/a 80 X', 'x/c x/b 80 X', 'y/c x/c 80 .'],
  },
  {
    name: 'matchExpressions DoesNotExist: pods c (no tier) of z, from namespaces without env (z)',
    yaml: np('z', 'doesnotexist', `podSelector:\n  matchExpressions:\n  - {key: tier, operator: DoesNotExist}\ningress:\n- from:\n  - namespaceSelector:\n      matchExpressions:\n      - {key: env, operator: DoesNotExist}`),
    spot: ['z/a z/c 80 .', 'x/a z/c 80 X', 'y/c z/c 81 X', 'x/a z/a 80 .'],
  },
  {
    name: 'NotIn also matches pods and namespaces without the label',
    yaml: np('x', 'notin-missing', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- from:\n  - namespaceSelector:\n      matchExpressions:\n      - {key: env, operator: NotIn, values: [prod]}\n    podSelector:\n      matchExpressions:\n      - {key: tier, operator: NotIn, values: [front]}`),
    spot: ['x/b x/a 80 .', 'x/c x/a 80 .', 'z/c x/a 80 .', 'z/b x/a 81 .', 'y/b x/a 80 X', 'z/a x/a 80 X'],
  },
  {
    name: 'matchLabels and matchExpressions together (AND) in a namespaceSelector',
    yaml: np('z', 'labels-and-expr', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {env: prod}\n      matchExpressions:\n      - {key: ns, operator: In, values: [x, "y", z]}`),
    spot: ['y/a z/a 80 .', 'x/a z/a 80 X', 'z/b z/a 80 X'],
  },
  // ---- ipBlock -----------------------------------------------------------------------------
  {
    name: 'ipBlock: x/a only from pods on minikube-m02 (10.244.200.0/24)',
    yaml: np('x', 'ipblock', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- from:\n  - ipBlock: {cidr: 10.244.200.0/24}`),
    spot: ['x/b x/a 80 .', 'y/a x/a 81 .', 'x/c x/a 80 X', 'y/b x/a 80 X'],
  },
  {
    name: 'ipBlock with except: x from 10.244.0.0/16 but 10.244.100.0/24 and y/c',
    yaml: np('x', 'ipblock-except', `podSelector: {}\ningress:\n- from:\n  - ipBlock:\n      cidr: 10.244.0.0/16\n      except: [10.244.100.0/24, 10.244.200.22/32]`),
    protocols: ALL,
    spot: ['y/a x/a 80 .', 'z/b x/c 81/udp .', 'y/c x/a 80 X', 'y/b x/a 80 X', 'x/c x/b 80/sctp X'],
  },
  {
    name: 'egress ipBlock with except: y/a to minikube pods but 10.244.100.16/28 (y/b, z/a)',
    yaml: np('y', 'egress-except', `podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Egress]\negress:\n- to:\n  - ipBlock:\n      cidr: 10.244.100.0/24\n      except: [10.244.100.16/28]`),
    spot: ['y/a x/a 80 .', 'y/a z/c 81 .', 'y/a y/b 80 X', 'y/a z/a 80 X', 'y/a y/c 80 X'],
  },
  {
    name: 'ipBlock 0.0.0.0/0 matches pod addresses too',
    yaml: np('z', 'ipblock-all', `podSelector: {}\ningress:\n- from:\n  - ipBlock: {cidr: 0.0.0.0/0}`),
    spot: ['x/a z/a 80 .', 'z/c z/b 81 .'],
  },
  // ---- ports and protocols -----------------------------------------------------------------
  {
    name: 'port by number (TCP by default): only TCP 80 into x',
    yaml: np('x', 'port-80', `podSelector: {}\ningress:\n- ports:\n  - port: 80`),
    protocols: ALL,
    spot: ['y/a x/a 80 .', 'y/a x/a 81 X', 'y/a x/a 80/udp X', 'y/a x/a 80/sctp X'],
  },
  {
    name: 'UDP only: x/b takes UDP 80',
    yaml: np('x', 'udp-80', `podSelector:\n  matchLabels: {pod: b}\ningress:\n- ports:\n  - {protocol: UDP, port: 80}`),
    protocols: ALL,
    spot: ['y/a x/b 80/udp .', 'y/a x/b 81/udp X', 'y/a x/b 80 X', 'y/a x/b 80/sctp X', 'y/a x/a 81/sctp .'],
  },
  {
    name: 'SCTP, every port: y takes only SCTP',
    yaml: np('y', 'sctp', `podSelector: {}\ningress:\n- ports:\n  - protocol: SCTP`),
    protocols: ALL,
    spot: ['x/a y/a 80/sctp .', 'z/a y/c 81/sctp .', 'x/a y/a 80 X', 'x/a y/a 81/udp X'],
  },
  {
    name: 'named ports: z takes serve-81-tcp and UDP serve-80-udp',
    yaml: np('z', 'named', `podSelector: {}\ningress:\n- ports:\n  - port: serve-81-tcp\n  - {protocol: UDP, port: serve-80-udp}`),
    protocols: ALL,
    spot: ['x/a z/c 81 .', 'x/a z/a 81 X', 'x/a z/a 80 X', 'x/a z/b 80/udp .', 'x/a z/b 81/udp X', 'x/a z/b 81/sctp X'],
  },
  {
    name: 'a named port resolves per pod: http is 81 on a and b, 80 on c',
    yaml: np('x', 'http', `podSelector: {}\ningress:\n- ports:\n  - port: http`),
    protocols: ALL,
    spot: ['y/a x/a 81 .', 'y/a x/a 80 X', 'y/a x/c 80 .', 'y/a x/c 81 X', 'y/a x/b 81/udp X'],
  },
  {
    name: 'a named port on the wrong protocol matches nothing (UDP serve-80-tcp)',
    yaml: np('y', 'wrong-proto', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- ports:\n  - {protocol: UDP, port: serve-80-tcp}`),
    protocols: ALL,
    spot: ['x/a y/a 80 X', 'x/a y/a 80/udp X', 'x/a y/b 80/udp .'],
  },
  {
    name: 'endPort: TCP 79-80 and UDP 81-90 into z',
    yaml: np('z', 'ranges', `podSelector: {}\ningress:\n- ports:\n  - {port: 79, endPort: 80}\n  - {protocol: UDP, port: 81, endPort: 90}`),
    protocols: ALL,
    spot: ['x/a z/a 80 .', 'x/a z/a 81 X', 'x/a z/a 81/udp .', 'x/a z/a 80/udp X', 'x/a z/a 80/sctp X'],
  },
  {
    name: 'egress by port: x/a may only send to 81 (any protocol named: TCP and SCTP)',
    yaml: np('x', 'egress-81', `podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Egress]\negress:\n- ports:\n  - port: 81\n  - {protocol: SCTP, port: 81}`),
    protocols: ALL,
    spot: ['x/a y/a 81 .', 'x/a y/a 80 X', 'x/a y/a 81/sctp .', 'x/a y/a 81/udp X', 'x/b y/a 80 .'],
  },
  {
    name: 'egress by named port, resolved at the destination: serve-80-tcp (80 on a and b, none on c)',
    yaml: np('y', 'egress-named', `podSelector: {}\npolicyTypes: [Egress]\negress:\n- ports:\n  - port: serve-80-tcp`),
    spot: ['y/a x/a 80 .', 'y/a x/b 80 .', 'y/a x/c 80 X', 'y/a x/a 81 X', 'x/a y/a 80 .'],
  },
  {
    name: 'rules pair their peers with their ports: from y on 80, from z on 81',
    yaml: np('x', 'two-rules', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}\n  ports:\n  - port: 80\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: z}\n  ports:\n  - port: 81`),
    spot: ['y/a x/a 80 .', 'y/a x/a 81 X', 'z/a x/a 81 .', 'z/a x/a 80 X', 'x/b x/a 80 X'],
  },
  {
    name: 'ports of three protocols in one rule: a number, a UDP range, an SCTP name',
    yaml: np('y', 'three-protocols', `podSelector: {}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: x}\n  ports:\n  - port: 81\n  - {protocol: UDP, port: 80, endPort: 81}\n  - {protocol: SCTP, port: serve-80-sctp}`),
    protocols: ALL,
    spot: ['x/a y/a 81 .', 'x/a y/a 80 X', 'x/b y/c 80/udp .', 'x/b y/c 81/udp .', 'x/c y/b 80/sctp .', 'x/c y/b 81/sctp X', 'z/a y/a 81 X', 'z/a y/a 80/udp X'],
  },
  {
    name: 'more ports than one multiport match holds (15 numbers, a range, then 81)',
    yaml: np('z', 'many-ports', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- ports:\n${[...Array.from({ length: 15 }, (_, i) => `  - port: ${1000 + i}`), '  - {port: 2000, endPort: 2010}', '  - port: 81'].join('\n')}`),
    spot: ['x/a z/a 81 .', 'x/a z/a 80 X', 'x/a z/b 80 .'],
  },
  {
    name: 'ipBlock with except, a podSelector and an AND peer in one rule, on a named and a UDP port',
    yaml: np('x', 'mixed-peers', `podSelector:\n  matchLabels: {pod: b}\ningress:\n- from:\n  - ipBlock:\n      cidr: 10.244.200.0/24\n      except: [10.244.200.20/32]\n  - podSelector:\n      matchLabels: {pod: c}\n  - namespaceSelector:\n      matchLabels: {ns: z}\n    podSelector:\n      matchExpressions:\n      - {key: tier, operator: Exists}\n  ports:\n  - port: serve-80-tcp\n  - {protocol: UDP, port: 81}`),
    protocols: ALL,
    spot: ['y/c x/b 80 .', 'y/a x/b 80 X', 'x/c x/b 81/udp .', 'x/c x/b 81 X', 'z/a x/b 80 .', 'z/c x/b 80 X', 'x/a x/b 80 X', 'y/b x/b 80 X', 'z/b x/b 80/sctp X'],
  },
  {
    name: 'egress on a named port with a to-peer: y/b to pods c on http (80 on c), UDP serve-81-udp',
    yaml: np('y', 'egress-named-peer', `podSelector:\n  matchLabels: {pod: b}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector: {}\n    podSelector:\n      matchLabels: {pod: c}\n  ports:\n  - port: http\n  - {protocol: UDP, port: serve-81-udp}`),
    protocols: ALL,
    spot: ['y/b x/c 80 .', 'y/b x/c 81 X', 'y/b x/a 81 X', 'y/b z/c 81/udp .', 'y/b z/c 80/udp X', 'y/b y/c 80/sctp X', 'y/a x/a 80 .'],
  },
  {
    name: 'egress to namespaces by name with NotIn: x/b anywhere but its own namespace',
    yaml: np('x', 'not-own-ns', `podSelector:\n  matchLabels: {pod: b}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector:\n      matchExpressions:\n      - {key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}`),
    spot: ['x/b y/a 80 .', 'x/b z/c 81 .', 'x/b x/a 80 X', 'x/b x/c 81 X', 'x/a x/b 80 .'],
  },
  // ---- several policies, both directions ---------------------------------------------------
  {
    name: 'several policies on x/a add up: y/a, namespace z, and port 81 from anyone',
    yaml: docs(
      np('x', 'from-y-a', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}\n    podSelector:\n      matchLabels: {pod: a}`),
      np('x', 'from-z', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: z}`),
      np('x', 'port-81', `podSelector:\n  matchLabels: {pod: a}\ningress:\n- ports:\n  - port: 81`),
    ),
    spot: ['y/a x/a 80 .', 'y/b x/a 80 X', 'z/b x/a 80 .', 'x/b x/a 80 X', 'x/b x/a 81 .', 'y/b x/a 81 .'],
  },
  {
    name: 'several egress policies add up: y to x, and y/b also to z/c',
    yaml: docs(
      np('y', 'to-x', `podSelector: {}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector:\n      matchLabels: {ns: x}`),
      np('y', 'b-to-zc', `podSelector:\n  matchLabels: {pod: b}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector:\n      matchLabels: {ns: z}\n    podSelector:\n      matchLabels: {pod: c}`),
    ),
    spot: ['y/a x/c 80 .', 'y/a z/c 80 X', 'y/b z/c 81 .', 'y/b z/a 80 X', 'y/b y/a 80 X'],
  },
  {
    name: 'egress of the source and ingress of the destination are both needed',
    yaml: docs(
      np('x', 'a-to-y', `podSelector:\n  matchLabels: {pod: a}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector:\n      matchLabels: {ns: "y"}`),
      np('y', 'b-from-z-and-x-a', `podSelector:\n  matchLabels: {pod: b}\npolicyTypes: [Ingress]\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {ns: z}\n  - namespaceSelector:\n      matchLabels: {ns: x}\n    podSelector:\n      matchLabels: {pod: a}\n  ports:\n  - port: 81`),
    ),
    protocols: ALL,
    spot: ['x/a y/a 80 .', 'x/a y/b 81 .', 'x/a y/b 80 X', 'x/b y/b 81 X', 'z/c y/b 81 .', 'x/a z/a 80 X', 'x/a y/b 81/udp X'],
  },
  {
    name: 'default deny in every namespace, both directions: only a pod to itself',
    yaml: docs(...NAMESPACES.map((ns) => np(ns, 'deny-all', `podSelector: {}\npolicyTypes: [Ingress, Egress]\ningress: []\negress: []`))),
    protocols: ALL,
    spot: ['x/a x/a 80 .', 'x/a x/b 80 X', 'y/c z/c 81/udp X', 'z/a x/b 80/sctp X'],
  },
  {
    name: 'default deny plus the e2e allow: egress to all, ingress from x/a and namespace y on 80',
    yaml: docs(
      np('z', 'deny-all', `podSelector: {}\npolicyTypes: [Ingress, Egress]`),
      np('z', 'egress-all', `podSelector: {}\npolicyTypes: [Egress]\negress: [{}]`),
      np('z', 'ingress-some', `podSelector: {}\npolicyTypes: [Ingress]\ningress:\n- from:\n  - namespaceSelector:\n      matchLabels: {kubernetes.io/metadata.name: x}\n    podSelector:\n      matchLabels: {pod: a}\n  - namespaceSelector:\n      matchLabels: {ns: "y"}\n  ports:\n  - {port: 80, protocol: TCP}\n  - {port: 80, protocol: UDP}`),
    ),
    protocols: ALL,
    spot: ['x/a z/b 80 .', 'x/b z/b 80 X', 'y/c z/a 80/udp .', 'y/c z/a 80/sctp X', 'z/a x/b 81 .', 'z/a z/b 80 X'],
  },
];
