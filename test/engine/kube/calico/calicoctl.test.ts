// calicoctl's outputs for the article's scene: `get workloadEndpoint` (the article's columns and
// rows), `get networkPolicy --output yaml` (the article's document, line for line), the wide
// tables, all-namespaces, `ipam show`, and the error texts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calicoctl, type CalicoctlEnv } from '../../../../main/engine/shell/calicoctl.ts';
import { articleCluster, modelCluster, netpol } from './scenes.ts';

function env(): CalicoctlEnv {
  const c = articleCluster();
  c.policies[0].metadata = { ...c.policies[0].metadata, creationTimestamp: '2020-11-05T05:26:27Z', resourceVersion: '53872', uid: '1b3eb093-b1a8-4429-a77d-a9a054a6ae90' };
  return { cluster: () => c, resourceVersion: () => '56821/56821' };
}

const run = (e: CalicoctlEnv, line: string) => calicoctl(['calicoctl', ...line.split(' ')], '', e);

test('calicoctl get workloadEndpoint: WORKLOAD, NODE, NETWORKS, INTERFACE', () => {
  const r = run(env(), 'get workloadEndpoint');
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    'WORKLOAD                  NODE       NETWORKS        INTERFACE         \n' +
      'backend-867fd6dff-mjf92   minikube   10.88.0.27/32   cali2b1490aa46a   \n' +
      'db-8d66ff5f7-bp6kf        minikube   10.88.0.26/32   cali95aa86cbb2a   \n' +
      'frontend-8b474f47-zdqdv   minikube   10.88.0.24/32   cali505cfbeac50   \n',
  );
  assert.equal(run(env(), 'get wep -n kube-system').stdout, 'WORKLOAD   NODE   NETWORKS   INTERFACE   \n');
  const wide = run(env(), 'get weps -o wide').stdout.split('\n');
  assert.equal(wide[0], 'NAME                                          WORKLOAD                  NODE       NETWORKS        INTERFACE         PROFILES                          NATS   ');
  assert.equal(wide[2], 'minikube-k8s-db--8d66ff5f7--bp6kf-eth0        db-8d66ff5f7-bp6kf        minikube   10.88.0.26/32   cali95aa86cbb2a   kns.default,ksa.default.default          ');
});

test('calicoctl get networkPolicy --output yaml: the article, line for line', () => {
  const r = run(env(), 'get networkPolicy --output yaml');
  assert.equal(
    r.stdout,
    `apiVersion: projectcalico.org/v3
items:
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata:
    creationTimestamp: "2020-11-05T05:26:27Z"
    name: knp.default.allow-db-access
    namespace: default
    resourceVersion: /53872
    uid: 1b3eb093-b1a8-4429-a77d-a9a054a6ae90
  spec:
    ingress:
    - action: Allow
      destination: {}
      source:
        selector: projectcalico.org/orchestrator == 'k8s' && networking/allow-db-access
          == 'true'
    order: 1000
    selector: projectcalico.org/orchestrator == 'k8s' && app == 'db'
    types:
    - Ingress
kind: NetworkPolicyList
metadata:
  resourceVersion: 56821/56821
`,
  );
  // one named resource prints the object alone
  assert.match(run(env(), 'get networkpolicy knp.default.allow-db-access -o yaml').stdout, /^apiVersion: projectcalico.org\/v3\nkind: NetworkPolicy\n/);
  assert.equal(JSON.parse(run(env(), 'get np -o json').stdout).items[0].spec.order, 1000);
  assert.equal(run(env(), 'get networkpolicy').stdout, 'NAME                          \nknp.default.allow-db-access   \n');
  assert.equal(run(env(), 'get networkpolicy -o wide').stdout, "NAME                          ORDER   SELECTOR                                                 \nknp.default.allow-db-access   1000    projectcalico.org/orchestrator == 'k8s' && app == 'db'   \n");
});

test('calicoctl: policies of other namespaces, ports, protocols and ipBlocks in the converted rules', () => {
  const c = modelCluster(['node1'], [
    netpol('y', 'p', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ namespaceSelector: {} }, { ipBlock: { cidr: '10.0.0.5/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 81 }, { port: 80 }, { protocol: 'UDP', port: 'dns' }] }], egress: [] }),
  ]);
  const e = { cluster: () => c };
  assert.equal(run(e, 'get networkpolicy -A').stdout, 'NAMESPACE   NAME            \ny           knp.default.p   \n');
  const y = run(e, 'get networkpolicy -n y -o yaml').stdout;
  assert.ok(y.includes(`    ingress:
    - action: Allow
      destination:
        ports:
        - 80:81
      protocol: TCP
      source:
        namespaceSelector: all()
        selector: projectcalico.org/orchestrator == 'k8s'
    - action: Allow
      destination:
        ports:
        - 80:81
      protocol: TCP
      source:
        nets:
        - 10.0.0.0/8
        notNets:
        - 10.1.0.0/16
    - action: Allow
      destination:
        ports:
        - dns
      protocol: UDP
      source:
        namespaceSelector: all()
        selector: projectcalico.org/orchestrator == 'k8s'
    - action: Allow
      destination:
        ports:
        - dns
      protocol: UDP
      source:
        nets:
        - 10.0.0.0/8
`), y);
  assert.ok(y.includes('    types:\n    - Ingress\n    - Egress\n'));
});

test('calicoctl get ippools / nodes, ipam show, errors', () => {
  assert.equal(run(env(), 'get ippools').stdout, 'NAME                  CIDR           SELECTOR   \ndefault-ipv4-ippool   10.88.0.0/16   all()      \n');
  assert.equal(
    run(env(), 'get ippool -o wide').stdout,
    'NAME                  CIDR           NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   \ndefault-ipv4-ippool   10.88.0.0/16   true   Never      Never       false      false              all()      \n',
  );
  assert.equal(run(env(), 'get nodes').stdout, 'NAME       \nminikube   \n');
  assert.equal(run(env(), 'get nodes -o wide').stdout, 'NAME       ASN       IPV4              IPV6   \nminikube   (64512)   192.168.49.2/24          \n');
  assert.equal(run(env(), 'get globalnetworkpolicy').stdout, 'NAME   \n');
  assert.equal(
    run(env(), 'ipam show --show-blocks').stdout,
    `+----------+--------------+-----------+------------+--------------+
| GROUPING |     CIDR     | IPS TOTAL | IPS IN USE |   IPS FREE   |
+----------+--------------+-----------+------------+--------------+
| IP Pool  | 10.88.0.0/16 |     65536 | 3 (0%)     | 65533 (100%) |
| Block    | 10.88.0.0/26 |        64 | 3 (5%)     | 61 (95%)     |
+----------+--------------+-----------+------------+--------------+
`,
  );
  const bad = run(env(), 'get foo');
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "Failed to get resources: resource type 'foo' is not supported\n");
  const missing = run(env(), 'get wep nope');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Failed to get resources: resource does not exist: WorkloadEndpoint\(default\/nope\)/);
  assert.equal(run(env(), 'frobnicate').code, 1);
});
