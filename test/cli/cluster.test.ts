// `kpl new --cluster`, `kpl apply` and cluster traces from the command line, on lab files and
// on stored labs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKpl } from '../../main/cli/kpl.ts';
import { LabService } from '../../main/service/lab-service.ts';
import { WEBAPP_NODEPORT } from '../engine/cluster/lab-cluster.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'kpl-cluster-'));
}

function kpl(svc: LabService, args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = runKpl(args, () => stdin, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, svc);
  return { code, stdout, stderr };
}

test('kpl new --cluster, kpl apply -f, kubectl in a node console, a trace by names', () => {
  const dir = tmp();
  const svc = new LabService({ db: join(dir, 'labs.db') });
  try {
    const f = join(dir, 'mk.kpl');
    assert.equal(kpl(svc, ['new', f, '--cluster', '--nodes', '2']).code, 0);
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    assert.deepEqual(doc.cluster, { proxy: 'legacy', nodes: 2, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeCIDR: '192.168.49.0/24', nodePortRange: '30000-32767', tunnel: 'ipip' });
    writeFileSync(join(dir, 'web.yaml'), WEBAPP_NODEPORT);
    const a = kpl(svc, ['apply', f, '-f', join(dir, 'web.yaml')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'deployment.apps/webapp created\nservice/webapp created\n');
    assert.equal(kpl(svc, ['apply', f, '-f', '-'], WEBAPP_NODEPORT).stdout, 'deployment.apps/webapp unchanged\nservice/webapp unchanged\n');
    const nodes = kpl(svc, ['exec', f, 'minikube', '--', 'kubectl', 'get', 'nodes']);
    assert.match(nodes.stdout, /^minikube-m02 +Ready +<none> +\S+ +v1\.19\.2$/m);
    const svcs = kpl(svc, ['exec', f, 'minikube-m02', '--', 'kubectl', 'get', 'svc', '-A']);
    assert.match(svcs.stdout, /kube-system +kube-dns +ClusterIP +10\.96\.0\.10 /);
    assert.match(svcs.stdout, /default +kubernetes +ClusterIP +10\.96\.0\.1 /);

    kpl(svc, ['host', 'add', f, 'client']);
    assert.equal(kpl(svc, ['link', 'add', f, 'client', 'minikube', '--ip', '192.168.49.100/24']).code, 0);
    const t = kpl(svc, ['trace', f, '--from', 'client', '--to', 'minikube-m02:31380', '--json']);
    assert.equal(t.code, 0, t.stderr);
    const j = JSON.parse(t.stdout);
    assert.equal(j.outcome, 'delivered');
    assert.match(j.delivered.host, /^default\/webapp-/);
    const byName = JSON.parse(kpl(svc, ['trace', f, '--from', 'node/minikube-m02', '--to', 'webapp.default:80', '--json']).stdout);
    assert.deepEqual(byName.packet.dst, '10.103.46.104');
    const pods = kpl(svc, ['exec', f, 'minikube', '--', 'kubectl', 'get', 'pods', '-o', 'name']).stdout.trim().split('\n');
    const fromPod = JSON.parse(kpl(svc, ['trace', f, '--from', pods[0], '--to', 'webapp:80', '--json']).stdout);
    assert.equal(fromPod.outcome, 'delivered');
    // The connection's next packet, through the entries the handshake left.
    const later = JSON.parse(kpl(svc, ['trace', f, '--from', pods[0], '--to', 'webapp:80', '--later', '1', '--json']).stdout);
    assert.deepEqual(later.later, { packet: 2, opened: true });
    assert.ok(later.events.filter((e: { kind: string }) => e.kind === 'conntrack').every((e: { text: string }) => e.text.startsWith('ESTABLISHED')));
    // A first segment with other flags: a plain ACK is picked up and answered with a RST.
    const ack = JSON.parse(kpl(svc, ['trace', f, '--from', pods[0], '--to', 'webapp:80', '--tcp-flags', 'ACK', '--json']).stdout);
    assert.deepEqual([ack.packet.flags, ack.reply?.packet.flags], ['ACK', 'RST']);
    const badFlags = kpl(svc, ['trace', f, '--from', pods[0], '--to', 'webapp:80', '--tcp-flags', 'XMAS']);
    assert.equal(badFlags.code, 1);
    assert.match(badFlags.stderr, /--tcp-flags: unknown flag "XMAS"/);
    const badLater = kpl(svc, ['trace', f, '--from', pods[0], '--to', 'webapp:80', '--later', 'x']);
    assert.equal(badLater.code, 2);
    assert.match(badLater.stderr, /--later/);

    // The same lab in the store behaves the same.
    assert.equal(kpl(svc, ['new', 'stored', '--cluster', '--nodes', '1', '--proxy', 'current']).code, 0);
    assert.equal(kpl(svc, ['apply', 'stored', '-f', '-'], WEBAPP_NODEPORT.replace('nodeName: minikube', 'nodeName: minikube')).code, 0);
    const cur = kpl(svc, ['exec', 'stored', 'minikube', '--', 'kubectl', 'get', 'nodes']);
    assert.match(cur.stdout, /^minikube +Ready +control-plane +\S+ +v1\.34\.1$/m);
    assert.match(kpl(svc, ['exec', 'stored', 'minikube', '--', 'iptables-save', '-t', 'nat']).stdout, /-A KUBE-SERVICES -d 10\.103\.46\.104\/32 -p tcp -m comment --comment "default\/webapp cluster IP" -m tcp --dport 80 -j KUBE-SVC-2IRACUALRELARSND/);
  } finally {
    svc.close();
  }
});

test('kpl cluster errors: bad settings, apply without a cluster, bad manifests, unknown ends', () => {
  const dir = tmp();
  const svc = new LabService({ db: join(dir, 'labs.db') });
  try {
    const f = join(dir, 'x.kpl');
    const bad = kpl(svc, ['new', f, '--cluster', '--proxy', 'ipvs']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'kpl: --proxy: expected legacy or current, got "ipvs"\n');
    assert.equal(kpl(svc, ['new', f, '--nodes', '2']).stderr, 'kpl: --nodes needs --cluster\n');
    assert.equal(kpl(svc, ['new', f, '--cluster', '--pod-cidr', '10.244.0.0/28']).stderr, 'kpl: --pod-cidr: prefix length must be at most 26 (one /26 block per node)\n');
    assert.equal(kpl(svc, ['new', f]).code, 0);
    const noCluster = kpl(svc, ['apply', f, '-f', '-'], WEBAPP_NODEPORT);
    assert.equal(noCluster.code, 1);
    assert.equal(noCluster.stderr, 'kpl: this lab has no cluster (create it with kpl new LAB --cluster)\n');
    const g = join(dir, 'c.kpl');
    kpl(svc, ['new', g, '--cluster']);
    const before = readFileSync(g, 'utf8');
    const invalid = kpl(svc, ['apply', g, '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}\n');
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /The Service "s" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 80: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
    assert.equal(readFileSync(g, 'utf8'), before, 'a refused apply leaves the lab as it was');
    assert.match(kpl(svc, ['apply', g, '-f', join(dir, 'missing.yaml')]).stderr, /the path ".*missing\.yaml" does not exist/);
    assert.match(kpl(svc, ['trace', g, '--from', 'pod/default/nope', '--to', '10.96.0.1:443']).stderr, /pods "nope" not found in namespace "default"/);
    assert.match(kpl(svc, ['trace', g, '--from', 'minikube', '--to', 'nosvc:80']).stderr, /services "nosvc" not found/);
  } finally {
    svc.close();
  }
});

test('kpl export --k8s: the cluster as manifests, applied again to a new lab they give the same objects', () => {
  const dir = tmp();
  const svc = new LabService({ db: join(dir, 'labs.db') });
  try {
    const a = join(dir, 'a.kpl');
    kpl(svc, ['new', a, '--cluster', '--nodes', '2']);
    kpl(svc, ['apply', a, '-f', '-'], WEBAPP_NODEPORT);
    kpl(svc, ['exec', a, 'minikube', '--', 'kubectl', 'scale', 'deployment', 'webapp', '--replicas=3']);
    const out = kpl(svc, ['export', a, '--k8s']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^kind: Deployment$/m);
    assert.match(out.stdout, /^kind: Service$/m);
    assert.doesNotMatch(out.stdout, /^ {2}(resourceVersion|uid|creationTimestamp):|kube-system|name: kubernetes$/m);
    const b = join(dir, 'b.kpl');
    kpl(svc, ['new', b, '--cluster', '--nodes', '2']);
    assert.equal(kpl(svc, ['apply', b, '-f', '-'], out.stdout).code, 0);
    for (const what of [['get', 'svc', 'webapp', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}'], ['get', 'deploy', 'webapp', '-o', 'jsonpath={.spec.replicas}']]) {
      assert.equal(kpl(svc, ['exec', b, 'minikube', '--', 'kubectl', ...what]).stdout, kpl(svc, ['exec', a, 'minikube', '--', 'kubectl', ...what]).stdout);
    }
    const plain = join(dir, 'p.kpl');
    kpl(svc, ['new', plain]);
    assert.equal(kpl(svc, ['export', plain, '--k8s']).code, 1);
  } finally {
    svc.close();
  }
});

test('kpl trace --markdown: the trace as Markdown tables, one per packet', () => {
  const dir = tmp();
  const svc = new LabService({ db: join(dir, 'labs.db') });
  try {
    const f = join(dir, 'm.kpl');
    kpl(svc, ['new', f, '--cluster']);
    kpl(svc, ['apply', f, '-f', '-'], WEBAPP_NODEPORT);
    const md = kpl(svc, ['trace', f, '--from', 'node/minikube', '--to', 'webapp:80', '--markdown']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^## Trace tcp 192\.168\.49\.2:40000 → 10\.103\.46\.104:80 \(seed \d+\)$/m);
    assert.match(md.stdout, /^### Answer: tcp /m);
    assert.match(md.stdout, /^\| minikube \| OUTPUT \| nat \| KUBE-SERVICES \| #\d+ \| `-A KUBE-SERVICES -d 10\.103\.46\.104\/32 -p tcp -m comment --comment "default\/webapp cluster IP" -m tcp --dport 80 -j KUBE-SVC-2IRACUALRELARSND` \| ✔ \| KUBE-SVC-2IRACUALRELARSND \| +\|$/m);
    assert.equal(kpl(svc, ['trace', f, '--from', 'node/minikube', '--to', 'webapp:80', '--markdown', '--json']).code, 2);
  } finally {
    svc.close();
  }
});
