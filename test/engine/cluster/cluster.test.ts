// The cluster on the lab core: manifests in, nodes and pods with Calico-style networking,
// kube-proxy's and Felix's rules on every node, and packets traced across them — checked
// against the article's listings and against what kube-proxy is documented to do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../../main/engine/lab.ts';
import { clusterLab, WEBAPP_LOCAL, WEBAPP_NODEPORT, words } from './lab-cluster.ts';

/** An outside client on the nodes' LAN. */
function addClient(lab: Lab, ip = '192.168.49.100'): void {
  lab.addHost('client', []);
  lab.addLink('client', 'minikube', `${ip}/24`);
}

test('NodePort scene (article section 8): kubectl and iptables listings', () => {
  const { sh, apply } = clusterLab({ nodes: 1 });
  apply(WEBAPP_NODEPORT);
  assert.deepEqual(words(sh('minikube', 'kubectl get svc webapp').stdout)[1].filter((_, i) => i !== 5), ['webapp', 'NodePort', '10.103.46.104', '<none>', '80:31380/TCP']);
  assert.deepEqual(words(sh('minikube', 'kubectl get ep webapp').stdout)[1].slice(0, 2), ['webapp', '10.244.120.102:80,10.244.120.103:80']);

  // The article's rows (it shows part of each chain), as `| column -t` prints them.
  const rows = (chain: string) => words(sh('minikube', `iptables -t nat -L ${chain} | column -t`).stdout);
  const has = (chain: string, row: string) => assert.ok(rows(chain).some((r) => r.join(' ') === row), `${chain} lacks: ${row}\n${rows(chain).map((r) => r.join(' ')).join('\n')}`);
  has('PREROUTING', 'cali-PREROUTING all -- anywhere anywhere /* cali:6gwbT8clXdHdC1b1 */');
  has('PREROUTING', 'KUBE-SERVICES all -- anywhere anywhere /* kubernetes service portals */');
  has('PREROUTING', 'DOCKER all -- anywhere anywhere ADDRTYPE match dst-type LOCAL');
  assert.deepEqual(rows('PREROUTING').slice(2).map((r) => r[0]), ['cali-PREROUTING', 'KUBE-SERVICES', 'DOCKER']);
  has('KUBE-SERVICES', 'KUBE-MARK-MASQ tcp -- !10.244.0.0/16 10.103.46.104 /* default/webapp cluster IP */ tcp dpt:www');
  has('KUBE-SERVICES', 'KUBE-SVC-2IRACUALRELARSND tcp -- anywhere 10.103.46.104 /* default/webapp cluster IP */ tcp dpt:www');
  has('KUBE-SERVICES', 'KUBE-NODEPORTS all -- anywhere anywhere /* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL');
  has('KUBE-NODEPORTS', 'KUBE-MARK-MASQ tcp -- anywhere anywhere /* default/webapp */ tcp dpt:31380');
  has('KUBE-NODEPORTS', 'KUBE-SVC-2IRACUALRELARSND tcp -- anywhere anywhere /* default/webapp */ tcp dpt:31380');
  has('KUBE-SVC-2IRACUALRELARSND', 'KUBE-SEP-AO6KYGU752IZFEZ4 all -- anywhere anywhere /* default/webapp */ statistic mode random probability 0.50000000000');
  has('KUBE-SVC-2IRACUALRELARSND', 'KUBE-SEP-PJFBSHHDX4VZAOXM all -- anywhere anywhere /* default/webapp */');
  has('KUBE-SEP-AO6KYGU752IZFEZ4', 'KUBE-MARK-MASQ all -- 10.244.120.102 anywhere /* default/webapp */');
  has('KUBE-SEP-AO6KYGU752IZFEZ4', 'DNAT tcp -- anywhere anywhere /* default/webapp */ tcp to:10.244.120.102:80');
  has('KUBE-SEP-PJFBSHHDX4VZAOXM', 'DNAT tcp -- anywhere anywhere /* default/webapp */ tcp to:10.244.120.103:80');
  has('KUBE-MARK-MASQ', 'MARK all -- anywhere anywhere MARK or 0x4000');
});

test('NodePort from outside: DNAT to a pod, SNAT to the node (ETP Cluster), reply de-NATed', () => {
  const { lab, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_NODEPORT);
  addClient(lab);
  for (const node of ['minikube', 'minikube-m02']) {
    const t = lab.trace({ from: 'client', to: `${node}:31380`, proto: 'tcp' }).json;
    assert.equal(t.outcome, 'delivered', `${node}: ${t.reason}`);
    assert.match(t.delivered!.host, /^default\/webapp-/);
    assert.match(t.dnat!, /^10\.244\.120\.10[23]:80$/);
    assert.equal(t.masquerade, true, 'ETP Cluster masquerades');
    assert.equal(t.reply?.outcome, 'delivered');
    assert.equal(t.reply?.delivered?.host, 'client');
  }
  // From the node without the pods the packet crosses to minikube through the IPIP tunnel.
  const t = lab.trace({ from: 'client', to: 'minikube-m02:31380', proto: 'tcp' }).json;
  assert.ok(t.events.some((e) => e.host === 'minikube-m02') && t.events.some((e) => e.host === 'minikube'));
});

test('externalTrafficPolicy Local (article): KUBE-XLB drops without a local endpoint, keeps the client IP with one', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_LOCAL);
  addClient(lab);
  const nodes = words(sh('minikube', 'kubectl get nodes').stdout).map((r) => [r[0], r[1], r[2], r[4]]);
  assert.deepEqual(nodes, [['NAME', 'STATUS', 'ROLES', 'VERSION'], ['minikube', 'Ready', 'master', 'v1.19.2'], ['minikube-m02', 'Ready', '<none>', 'v1.19.2']]);
  assert.equal(sh('minikube', 'kubectl get svc webapp -o wide -o jsonpath={.spec.externalTrafficPolicy}').stdout, 'Local');
  const xlb = (node: string) => words(sh(node, 'iptables -t nat -L KUBE-XLB-2IRACUALRELARSND').stdout).map((r) => r.join(' '));
  assert.ok(xlb('minikube-m02').includes('KUBE-MARK-DROP all -- anywhere anywhere /* default/webapp has no local endpoints */'), xlb('minikube-m02').join('\n'));
  assert.ok(xlb('minikube').includes('KUBE-SEP-5T4S2ILYSXWY3R2J all -- anywhere anywhere /* Balancing rule 0 for default/webapp */'), xlb('minikube').join('\n'));
  assert.ok(words(sh('minikube-m02', 'iptables -t nat -L KUBE-NODEPORTS').stdout).some((r) => r.join(' ') === 'KUBE-MARK-MASQ tcp -- 127.0.0.0/8 anywhere /* default/webapp */ tcp dpt:30080'));

  const far = lab.trace({ from: 'client', to: 'minikube-m02:30080', proto: 'tcp' }).json;
  assert.equal(far.outcome, 'dropped', far.reason);
  const near = lab.trace({ from: 'client', to: 'minikube:30080', proto: 'tcp' }).json;
  assert.equal(near.outcome, 'delivered', near.reason);
  assert.equal(near.delivered!.ip, '10.244.120.111');
  assert.equal(near.snat, null, 'the client IP reaches the pod unchanged');
  assert.equal(near.reply?.delivered?.host, 'client');
});

test('pod to a ClusterIP Service on another node, and to its own Service (hairpin)', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_NODEPORT);
  apply(`apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: minikube-m02, containers: [{name: c, image: busybox}]}
`);
  const t = lab.trace({ from: 'pod/default/client', to: 'webapp:80', proto: 'tcp' }).json;
  assert.equal(t.outcome, 'delivered', t.reason);
  assert.match(t.dnat!, /^10\.244\.120\.10[23]:80$/);
  assert.equal(t.snat, null, 'pod to pod through a Service keeps the pod IP');
  assert.equal(t.reply?.delivered?.host, 'default/client');
  assert.deepEqual(t.reply?.final && [t.reply.final.src, t.reply.final.sport], ['10.103.46.104', 80], 'the reply comes from the Service address');

  const pods = sh('minikube', 'kubectl get pods -l app=webapp -o name').stdout.trim().split('\n').map((n) => n.replace('pod/', ''));
  for (const seed of [1, 2, 3, 4]) {
    const h = lab.trace({ from: `pod/default/${pods[0]}`, to: 'webapp.default:80', proto: 'tcp', seed }).json;
    assert.equal(h.outcome, 'delivered', h.reason);
    if (h.delivered!.host === `default/${pods[0]}`) assert.equal(h.masquerade, true, 'hairpin traffic is masqueraded');
  }
});

test('pod to outside: MASQUERADE to the node (natOutgoing), the reply de-NATed to the pod', () => {
  const { lab, apply } = clusterLab({ nodes: 1 });
  apply(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: c, image: nginx}]}
`);
  lab.addHost('internet', [{ port: 53, proto: 'udp' }]);
  lab.addLink('internet', 'minikube', '192.168.49.1/24');
  lab.exec('internet', ['ip', 'addr', 'add', '8.8.8.8/32', 'dev', 'lo'], '');
  const t = lab.trace({ from: 'pod/default/web', to: '8.8.8.8:53', proto: 'udp' }).json;
  assert.equal(t.outcome, 'delivered', t.reason);
  assert.equal(t.delivered!.host, 'internet');
  assert.equal(t.masquerade, true);
  assert.match(t.snat!, /^192\.168\.49\.2:/);
  assert.equal(t.reply?.delivered?.host, 'default/web');
});

test('DNS and client tools in pods: nslookup as the article prints it, curl answered by pod hostnames', () => {
  const { sh, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_NODEPORT);
  apply(`apiVersion: v1
kind: Pod
metadata: {name: dnsutils}
spec: {containers: [{name: dnsutils, image: registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3}]}
`);
  const ns = sh('minikube', 'kubectl exec -i -t dnsutils -- nslookup webapp.default');
  assert.equal(ns.code, 0, ns.stderr);
  assert.equal(ns.stdout, 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\twebapp.default.svc.cluster.local\nAddress: 10.103.46.104\n\n');
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const r = sh('minikube', 'kubectl exec dnsutils -- curl -s webapp');
    assert.equal(r.code, 0, r.stderr);
    seen.add(r.stdout.trim());
  }
  assert.equal(seen.size, 2, `both pods answer: ${[...seen]}`);
  for (const h of seen) assert.match(h, /^webapp-[a-z0-9]+-[a-z0-9]{5}$/);
  const refused = sh('minikube', 'kubectl exec dnsutils -- curl -s -S 10.244.120.102:8080');
  assert.equal(refused.code, 7);
  assert.match(refused.stderr, /Failed to connect to 10\.244\.120\.102 port 8080: Connection refused/);
  const notFound = sh('minikube', 'kubectl exec dnsutils -- curl -s -S nosuch');
  assert.equal(notFound.code, 6);
});

test('a client tool closes its connection: FIN, FIN, ACK walked, conntrack ends in TIME_WAIT (120 s), as after the real curl', () => {
  const { sh, apply } = clusterLab({ nodes: 1 });
  apply(WEBAPP_NODEPORT);
  apply('apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {nodeName: minikube, containers: [{name: c, image: curlimages/curl}]}\n');
  const before = sh('minikube', 'iptables -t filter -L cali-FORWARD -v -n -x').stdout;
  // By address: a name would add the DNS packets to the count below.
  const r = sh('minikube', 'kubectl exec client -- curl -s 10.103.46.104');
  assert.equal(r.code, 0, r.stderr);
  const ct = sh('minikube', 'conntrack -L -p tcp --dport 80');
  const lines = ct.stdout.trim().split('\n');
  assert.equal(lines.length, 1, ct.stdout);
  assert.match(lines[0], /^tcp {6}6 120 TIME_WAIT src=10\.244\.\d+\.\d+ dst=10\.103\.46\.104 sport=\d+ dport=80 src=10\.244\.120\.10[23] dst=10\.244\.\d+\.\d+ sport=80 dport=\d+ \[ASSURED\] mark=0 use=1$/);
  // Six packets crossed the node's FORWARD (SYN, SYN-ACK, ACK, FIN, FIN, ACK).
  const count = (t: string) => Number(/^Chain cali-FORWARD \(\d+ references\)\n[^\n]*\n\s*(\d+)/.exec(t)?.[1]);
  assert.equal(count(sh('minikube', 'iptables -t filter -L cali-FORWARD -v -n -x').stdout) - count(before), 6);
});

test('a reloaded lab is the same cluster: rules, routes, sets, objects', () => {
  const { lab, apply, sh } = clusterLab({ nodes: 2 }, 7);
  apply(WEBAPP_NODEPORT);
  apply(WEBAPP_LOCAL.replace(/webapp/g, 'local'));
  sh('minikube', 'kubectl scale deployment webapp --replicas=3');
  sh('minikube-m02', 'iptables -t filter -A INPUT -p tcp --dport 22 -j ACCEPT');
  const again = Lab.fromDoc(JSON.parse(JSON.stringify(lab.toDoc())));
  assert.deepEqual([...again.hosts.keys()].sort(), [...lab.hosts.keys()].sort());
  for (const h of lab.hosts.keys()) {
    for (const cmd of [['iptables-save'], ['ip', 'route'], ['ip', 'addr'], ['ipset', 'save']]) {
      assert.equal(again.exec(h, cmd, '').stdout, lab.exec(h, cmd, '').stdout, `${h}: ${cmd.join(' ')}`);
    }
  }
  assert.equal(again.exec('minikube', ['kubectl', 'get', 'pods', '-A', '-o', 'wide'], '').stdout, lab.exec('minikube', ['kubectl', 'get', 'pods', '-A', '-o', 'wide'], '').stdout);
});

test('kube-proxy puts its chains back at its next sync; other chains are left alone', () => {
  const { sh, apply } = clusterLab({ nodes: 1 });
  apply(WEBAPP_NODEPORT);
  const before = sh('minikube', 'iptables -t nat -S KUBE-SVC-2IRACUALRELARSND').stdout;
  assert.equal(sh('minikube', 'iptables -t nat -F KUBE-SVC-2IRACUALRELARSND').code, 0);
  sh('minikube', 'iptables -t nat -N MINE');
  sh('minikube', 'iptables -t nat -A MINE -j RETURN');
  assert.equal(sh('minikube', 'iptables -t nat -S KUBE-SVC-2IRACUALRELARSND').stdout, '-N KUBE-SVC-2IRACUALRELARSND\n', 'the edit holds until the next sync');
  sh('minikube', 'sleep 31');
  assert.equal(sh('minikube', 'iptables -t nat -S KUBE-SVC-2IRACUALRELARSND').stdout, before);
  assert.equal(sh('minikube', 'iptables -t nat -S MINE').stdout, '-N MINE\n-A MINE -j RETURN\n');
});

test('addresses: pinned ones honoured, a taken one refused with the reason, new pods from the node block', () => {
  const { lab, apply } = clusterLab({ nodes: 1 });
  apply(WEBAPP_LOCAL);
  lab.cluster!.takeErrors();
  apply(`apiVersion: v1
kind: Pod
metadata: {name: dup, annotations: {lab.kpl.dev/ip: 10.244.120.111}}
spec: {containers: [{name: c, image: nginx}]}
`);
  const errs = lab.cluster!.takeErrors();
  assert.ok(errs.some((e) => /10\.244\.120\.111 is already in use by pod default\/nginx-deployment-7759cc5c66-p45tz/.test(e)), errs.join('\n'));
  const dup = lab.exec('minikube', ['kubectl', 'get', 'pod', 'dup'], '').stdout;
  assert.match(dup, /Pending|ContainerCreating/);
  // The host side of a pod: Calico's interface name, a /32 route, proxy ARP.
  const routes = lab.exec('minikube', ['ip', 'route'], '').stdout;
  assert.match(routes, /^10\.244\.120\.111 dev cali[0-9a-f]{11} scope link $/m);
});

test('headless and ExternalName Services: no address to trace to, DNS answers instead', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 1 });
  apply(WEBAPP_NODEPORT);
  apply(`apiVersion: v1
kind: Service
metadata: {name: webapp-hs}
spec: {clusterIP: None, selector: {app: webapp}, ports: [{port: 80}]}
`);
  apply(`apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com}
`);
  assert.throws(() => lab.trace({ from: 'minikube', to: 'webapp-hs:80', proto: 'tcp' }), /headless/);
  assert.throws(() => lab.trace({ from: 'minikube', to: 'ext:80', proto: 'tcp' }), /ExternalName/);
  assert.equal(sh('minikube', 'iptables-save -t nat | grep -c webapp-hs').stdout.trim(), '0', 'kube-proxy writes no rule for a headless Service');
  apply(`apiVersion: v1
kind: Pod
metadata: {name: dnsutils}
spec: {containers: [{name: c, image: dnsutils}]}
`);
  const r = sh('minikube', 'kubectl exec dnsutils -- nslookup webapp-hs');
  assert.match(r.stdout, /Address: 10\.244\.120\.102/);
  assert.match(r.stdout, /Address: 10\.244\.120\.103/);
});

test('--nodes 0: nodes come from Node manifests, with their address and pod CIDR', () => {
  const { lab, apply, sh } = clusterLab({ nodes: 0 });
  assert.equal(lab.hosts.size, 0);
  apply(`apiVersion: v1
kind: Node
metadata: {name: worker-a}
spec: {podCIDR: 10.244.7.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.49.20}]}
`);
  assert.ok(lab.hosts.has('worker-a'));
  assert.match(sh('worker-a', 'ip -br addr show eth0').stdout, /192\.168\.49\.20\/24/);
  apply(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: nginx}]}
`);
  const ip = sh('worker-a', 'kubectl get pod p -o jsonpath={.status.podIP}').stdout;
  assert.match(ip, /^10\.244\.7\./);
});

test('LoadBalancer with ETP Local: the cloud LB sends only to nodes that pass the health check', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_LOCAL.replace('type: NodePort', 'type: LoadBalancer'));
  addClient(lab);
  const row = words(sh('minikube', 'kubectl get svc webapp').stdout)[1];
  assert.equal(row[1], 'LoadBalancer');
  assert.equal(row[3], '192.168.49.200');
  const hc = Number(sh('minikube', 'kubectl get svc webapp -o jsonpath={.spec.healthCheckNodePort}').stdout);
  assert.ok(hc >= 30000 && hc <= 32767, `healthCheckNodePort ${hc} from the node-port range`);
  assert.match(sh('cloud-lb', 'ip route').stdout, /^192\.168\.49\.200 via 192\.168\.49\.2 dev lb0 onlink $/m, 'only minikube (with the pod) is healthy');
  const t = lab.trace({ from: 'client', to: '192.168.49.200:80', proto: 'tcp' }).json;
  assert.equal(t.outcome, 'delivered', t.reason);
  assert.equal(t.delivered!.ip, '10.244.120.111');
  assert.equal(t.snat, null, 'ETP Local keeps the client address');
  assert.ok(t.events.some((e) => e.host === 'cloud-lb'), 'through the cloud LB');
  assert.ok(!t.events.some((e) => e.host === 'minikube-m02'), 'never to the node without the pod');
  assert.equal(t.reply?.delivered?.host, 'client');

  // The pod moves to minikube-m02: the health check follows it.
  sh('@cluster', 'kubectl delete pod nginx-deployment-7759cc5c66-p45tz');
  apply(WEBAPP_LOCAL.split('---')[0].replace('nodeName: minikube', 'nodeName: minikube-m02'));
  assert.match(sh('cloud-lb', 'ip route').stdout, /^192\.168\.49\.200 via 192\.168\.49\.3 dev lb1 onlink $/m);
  const moved = lab.trace({ from: 'client', to: '192.168.49.200:80', proto: 'tcp' }).json;
  assert.equal(moved.outcome, 'delivered', moved.reason);
  // No ready endpoint anywhere: no node passes, the LB drops.
  sh('@cluster', 'kubectl delete pod nginx-deployment-7759cc5c66-p45tz');
  assert.match(sh('cloud-lb', 'ip route').stdout, /^blackhole 192\.168\.49\.200 $/m);
});

test('partial kube-proxy syncs (only changed chains rewritten) leave the same rules as a full sync', () => {
  const a = clusterLab({ nodes: 2 }, 3);
  a.apply(WEBAPP_NODEPORT);
  a.sh('minikube', 'kubectl scale deployment webapp --replicas=4');
  a.sh('minikube', 'kubectl scale deployment webapp --replicas=1');
  a.apply(WEBAPP_LOCAL.replace(/webapp/g, 'local'));
  a.sh('@cluster', 'kubectl delete service webapp');
  // The same objects, every node's rules written from scratch.
  a.lab.cluster!.resync();
  const full = new Map([...a.lab.hosts.keys()].map((h) => [h, a.lab.exec(h, ['iptables-save'], '').stdout]));
  const b = clusterLab({ nodes: 2 }, 3);
  b.apply(WEBAPP_NODEPORT);
  b.sh('minikube', 'kubectl scale deployment webapp --replicas=4');
  b.sh('minikube', 'kubectl scale deployment webapp --replicas=1');
  b.apply(WEBAPP_LOCAL.replace(/webapp/g, 'local'));
  b.sh('@cluster', 'kubectl delete service webapp');
  for (const node of ['minikube', 'minikube-m02']) {
    const save = b.lab.exec(node, ['iptables-save'], '').stdout;
    assert.equal(save.replace(/^#.*\n/gm, ''), full.get(node)!.replace(/^#.*\n/gm, ''), node);
    assert.doesNotMatch(save, /KUBE-SVC-2IRACUALRELARSND/, 'the deleted Service\'s chains are gone');
  }
});

test('kube-proxy\'s clusterCIDR is the cluster\'s pod range (minikube passes --pod-network-cidr)', () => {
  const { sh, apply } = clusterLab({ podCIDR: '10.88.0.0/16' });
  apply(WEBAPP_NODEPORT.replace('"10.244.120.102,10.244.120.103"', '"10.88.0.2,10.88.0.3"'));
  const rules = sh('minikube', 'iptables -t nat -S KUBE-SERVICES').stdout;
  assert.match(rules, /^-A KUBE-SERVICES ! -s 10\.88\.0\.0\/16 -d 10\.103\.46\.104\/32 -p tcp .*-j KUBE-MARK-MASQ$/m);
  assert.doesNotMatch(rules, /10\.244\.0\.0\/16/);
});

test('a node blackholes its own pod blocks (BIRD), so an unused pod address is dropped there, silently', () => {
  const { lab, sh, apply } = clusterLab({ nodes: 2 });
  apply(WEBAPP_NODEPORT);
  const routes = sh('minikube', 'ip route').stdout;
  assert.match(routes, /^blackhole 10\.244\.120\.64\/26 proto bird $/m);
  assert.match(sh('minikube-m02', 'ip route').stdout, /^10\.244\.120\.64\/26 via 192\.168\.49\.2 dev tunl0 proto bird onlink $/m);
  const t = lab.trace({ from: 'minikube-m02', to: '10.244.120.99:80', proto: 'tcp' }).json;
  assert.equal(t.outcome, 'dropped');
  assert.equal(t.reason, 'minikube: blackhole route to 10.244.120.99');
  assert.equal(t.reply, null);
});

// Randomized: Services (selector-less, with their EndpointSlices) created, changed and deleted
// in random order; after every few steps each node's kube-proxy rules (incrementally synced)
// must be those of a cluster freshly built from the same objects, in both layouts.
for (const proxy of ['legacy', 'current'] as const) {
  test(`random service and endpoint changes (${proxy}): incrementally synced nodes hold a fresh cluster's kube-proxy rules`, () => {
    let seed = 0x2545f491 ^ (proxy === 'legacy' ? 1 : 2);
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const nodes = ['minikube', 'minikube-m02'];
    const svcs = new Map<number, { svc: object; slice: object | null }>();
    const serviceOf = (i: number): object => {
      const type = pick(['ClusterIP', 'ClusterIP', 'NodePort']);
      const spec: Record<string, unknown> = { clusterIP: `10.96.7.${i}`, ports: [{ port: 80, targetPort: 8080, ...(type === 'NodePort' ? { nodePort: 30100 + i } : {}) }], type };
      if (type === 'NodePort' && rand() < 0.5) spec.externalTrafficPolicy = 'Local';
      if (rand() < 0.2) spec.internalTrafficPolicy = 'Local';
      if (rand() < 0.2) spec.sessionAffinity = 'ClientIP';
      if (rand() < 0.15) spec.externalIPs = [`198.51.100.${i}`];
      return { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` }, spec };
    };
    const sliceOf = (i: number): object => ({
      apiVersion: proxy === 'legacy' ? 'discovery.k8s.io/v1beta1' : 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `s${i}-x`, labels: { 'kubernetes.io/service-name': `s${i}` } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: Math.floor(rand() * 4) }, () => ({
        addresses: [`10.245.${i}.${1 + Math.floor(rand() * 200)}`],
        conditions: { ready: rand() < 0.85 },
        nodeName: pick(nodes),
      })),
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    });
    const list = (items: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
    const kubeRules = (lab: Lab, node: string) =>
      lab
        .exec(node, ['iptables-save'], '')
        .stdout.split('\n')
        .filter((l) => l.includes('KUBE-'))
        .join('\n');
    const a = clusterLab({ nodes: 2, proxy }, 5);
    const apply = (items: object[]) => {
      const r = a.lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], list(items));
      assert.equal(r.code, 0, r.stderr);
    };
    const del = (kind: string, name: string) => {
      const r = a.lab.exec('@cluster', ['kubectl', 'delete', kind, name], '');
      assert.equal(r.code, 0, r.stderr);
    };
    let next = 0;
    for (let step = 0; step < 24; step++) {
      const x = rand();
      const keys = [...svcs.keys()];
      const which = keys.length ? pick(keys) : -1;
      if (x < 0.3 || which < 0) {
        const i = next++;
        const s = { svc: serviceOf(i), slice: sliceOf(i) };
        svcs.set(i, s);
        apply([s.svc, s.slice!]);
      } else if (x < 0.65) {
        const s = svcs.get(which)!;
        s.slice = sliceOf(which);
        apply([s.slice]);
      } else if (x < 0.75) {
        const s = svcs.get(which)!;
        s.svc = serviceOf(which);
        apply([s.svc]);
      } else if (x < 0.85) {
        const s = svcs.get(which)!;
        svcs.delete(which);
        del('service', `s${which}`);
        if (s.slice) del('endpointslice', `s${which}-x`);
      } else {
        const s = svcs.get(which)!;
        if (s.slice) del('endpointslice', `s${which}-x`);
        s.slice = null;
      }
      if (step % 6 !== 5) continue;
      const b = clusterLab({ nodes: 2, proxy }, 5);
      const items = [...svcs.values()].flatMap((s) => (s.slice ? [s.svc, s.slice] : [s.svc]));
      if (items.length) {
        const r = b.lab.exec('@cluster', ['kubectl', 'apply', '-f', '-'], list(items));
        assert.equal(r.code, 0, r.stderr);
      }
      for (const node of nodes) assert.equal(kubeRules(a.lab, node), kubeRules(b.lab, node), `step ${step}, ${node}`);
    }
  });
}

test('a kube-proxy jump deleted by hand comes back at kube-proxy\'s next sync, as its iptables -C finds it missing', () => {
  const { sh, apply } = clusterLab({ nodes: 2 });
  const jumps = (host: string) => sh(host, 'iptables -t nat -S PREROUTING').stdout.split('\n').filter((l) => l.includes('-j KUBE-SERVICES'));
  const [jump] = jumps('minikube-m02');
  assert.ok(jump, 'kube-proxy jumps from PREROUTING to KUBE-SERVICES');
  assert.equal(sh('minikube-m02', `iptables -t nat ${jump.replace('-A ', '-D ')}`).code, 0);
  assert.deepEqual(jumps('minikube-m02'), []);
  // Nothing synced yet: the rule stays gone. A Service change makes kube-proxy sync again.
  apply('apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n');
  assert.deepEqual(jumps('minikube-m02'), [jump]);
  // The other node, not edited, was synced too and kept its jump.
  assert.equal(jumps('minikube').length, 1);
});

test('dig -p: the query goes to that port (a Service port 5353 in front of CoreDNS answers; its port 53 has no rule)', () => {
  const { sh, apply } = clusterLab();
  apply('apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: busybox}]}\n');
  apply(`apiVersion: v1
kind: Service
metadata: {name: dns2, namespace: kube-system}
spec: {clusterIP: 10.96.0.53, selector: {k8s-app: kube-dns}, ports: [{name: dns, port: 5353, protocol: UDP, targetPort: 53}]}
`);
  assert.equal(sh('default/client', 'dig +short @10.96.0.53 -p 5353 kubernetes.default.svc.cluster.local').stdout, '10.96.0.1\n');
  const r = sh('default/client', 'dig +tries=1 @10.96.0.53 kubernetes.default.svc.cluster.local');
  assert.match(r.stdout, /^;; communications error to 10\.96\.0\.53#53: timed out\n/);
  assert.match(sh('default/client', 'dig @10.96.0.53 -p 5353 kubernetes.default.svc.cluster.local').stdout, /;; SERVER: 10\.96\.0\.53#5353\(10\.96\.0\.53\) \(UDP\)/);
});
