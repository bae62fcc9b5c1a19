// When kube-proxy writes what, and so which hand edits survive and which counters start again:
// - legacy (v1.19): every sync, at every change and every syncPeriod (30 s), writes every chain
//   (their rules count from zero) and puts back its jumps from the built-in chains;
// - current: partial syncs write the top-level chains whole and the chains of changed service
//   ports; the jumps are checked, and every chain written, only by a full sync — after a failed
//   sync, when the mangle canary chain is gone (looked at every 30 s), and hourly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLab, WEBAPP_NODEPORT } from './lab-cluster.ts';

const CLIENT = `apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: minikube, containers: [{name: c, image: busybox}]}
`;
const service = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: webapp}, ports: [{port: ${port}, targetPort: 80}]}
`;

function scene(proxy: 'legacy' | 'current') {
  const c = clusterLab({ nodes: 1, proxy });
  c.apply(WEBAPP_NODEPORT);
  c.apply(CLIENT);
  const nat = (args: string) => c.sh('minikube', `iptables -t nat ${args}`);
  const services = nat('-S KUBE-SERVICES').stdout;
  const svc = /default\/webapp cluster IP.* -j (KUBE-SVC-\w+)/.exec(services)?.[1];
  assert.ok(svc, services);
  const jump = nat('-S PREROUTING').stdout.split('\n').find((l) => l.includes('-j KUBE-SERVICES'));
  assert.ok(jump, 'kube-proxy jumps from PREROUTING to KUBE-SERVICES');
  return { ...c, nat, svc, jump, svcRules: nat(`-S ${svc}`).stdout };
}

/** `iptables-save -c` lines of one chain with their counters. */
const counted = (save: string, chain: string) => save.split('\n').filter((l) => l.startsWith('[') && l.includes(`-A ${chain} `));
const packets = (line: string) => Number(/^\[(\d+):/.exec(line)![1]);
/** Connections a service chain sent to its endpoints (each went by one of its KUBE-SEP jumps). */
const sent = (save: string, chain: string) => counted(save, chain).filter((l) => l.includes('-j KUBE-SEP-')).reduce((n, l) => n + packets(l), 0);

test('current kube-proxy: a partial sync writes the top-level chains whole and leaves hand edits elsewhere; the canary brings a full sync', () => {
  const c = scene('current');
  const { nat, svc, jump } = c;
  assert.equal(nat(`-F ${svc}`).code, 0);
  assert.equal(nat(jump.replace('-A ', '-D ')).code, 0);
  assert.equal(nat('-I KUBE-SERVICES 1 -s 192.0.2.9 -j RETURN').code, 0);
  const edited = () => ({ flushed: nat(`-S ${svc}`).stdout === `-N ${svc}\n`, jump: nat('-S PREROUTING').stdout.includes('-j KUBE-SERVICES'), mine: nat('-S KUBE-SERVICES').stdout.includes('192.0.2.9') });
  // No periodic rewrite: the current proxier syncs on changes (and hourly).
  c.sh('minikube', 'sleep 31');
  assert.deepEqual(edited(), { flushed: true, jump: false, mine: true });
  // Another Service: a partial sync. KUBE-SERVICES is written whole (the hand rule goes, the
  // new Service's comes); webapp's chain did not change and is not written; no jump is checked.
  c.apply(service('extra', 8080));
  assert.deepEqual(edited(), { flushed: true, jump: false, mine: false });
  assert.match(nat('-S KUBE-SERVICES').stdout, /default\/extra cluster IP/);
  assert.deepEqual(c.lab.cluster!.agentErrors, []);
  // The canary chain in mangle gone: the monitor sees it within 30 s and forces a full sync.
  assert.equal(c.sh('minikube', 'iptables -t mangle -X KUBE-PROXY-CANARY').code, 0);
  assert.deepEqual(edited(), { flushed: true, jump: false, mine: false });
  c.sh('minikube', 'sleep 31');
  assert.deepEqual(edited(), { flushed: false, jump: true, mine: false });
  assert.equal(nat(`-S ${svc}`).stdout, c.svcRules);
  assert.equal(c.sh('minikube', 'iptables -t mangle -S KUBE-PROXY-CANARY').stdout, '-N KUBE-PROXY-CANARY\n');
  // An hour after the last full sync, the next one.
  assert.equal(nat(`-F ${svc}`).code, 0);
  c.sh('minikube', 'sleep 1800');
  assert.equal(nat(`-S ${svc}`).stdout, `-N ${svc}\n`);
  c.sh('minikube', 'sleep 1800');
  assert.equal(nat(`-S ${svc}`).stdout, c.svcRules);
});

test('current kube-proxy: a partial sync that fails (a chain it did not write is gone) is followed by a full sync 30 s later', () => {
  const c = scene('current');
  const { nat, svc } = c;
  // The Service's chain removed by hand, with the rules that jumped to it.
  for (const line of nat('-S KUBE-SERVICES').stdout.split('\n').filter((l) => l.endsWith(`-j ${svc}`))) assert.equal(nat(line.replace('-A ', '-D ')).code, 0);
  for (const line of nat('-S KUBE-EXT-' + svc.slice('KUBE-SVC-'.length)).stdout.split('\n').filter((l) => l.endsWith(`-j ${svc}`))) assert.equal(nat(line.replace('-A ', '-D ')).code, 0);
  assert.equal(nat(`-F ${svc}`).code, 0);
  assert.equal(nat(`-X ${svc}`).code, 0, 'nothing jumps to it any more');
  // The next partial sync writes KUBE-SERVICES, which jumps to the missing chain: refused whole.
  c.apply(service('extra', 8080));
  const errors = c.lab.cluster!.agentErrors;
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^minikube: iptables-restore --noflush: .*KUBE-SVC-\w+/);
  assert.doesNotMatch(nat('-S KUBE-SERVICES').stdout, /default\/extra/, 'nothing of the failed restore was applied');
  // kube-proxy retries after syncPeriod, with a full sync.
  c.sh('minikube', 'sleep 31');
  assert.equal(nat(`-S ${svc}`).stdout, c.svcRules);
  assert.match(nat('-S KUBE-SERVICES').stdout, /default\/extra cluster IP/);
  assert.equal(errors.length, 1);
});

test('counters: the legacy proxier zeroes its chains at every sync; the current one only the top-level chains at a partial sync', () => {
  for (const proxy of ['legacy', 'current'] as const) {
    const c = scene(proxy);
    for (let i = 0; i < 2; i++) assert.equal(c.sh('default/client', 'curl -s -m 1 http://webapp').code, 0);
    const save = () => c.sh('minikube', 'iptables-save -c -t nat').stdout;
    const before = save();
    assert.equal(sent(before, c.svc), 2, `${proxy}: the service chain counted both connections`);
    assert.ok(counted(before, 'KUBE-SERVICES').some((l) => packets(l) === 2), `${proxy}: so did KUBE-SERVICES`);
    // An unrelated Service: one sync.
    c.apply(service('extra', 8080));
    const after = save();
    assert.ok(counted(after, 'KUBE-SERVICES').every((l) => packets(l) === 0), `${proxy}: KUBE-SERVICES written again`);
    assert.equal(sent(after, c.svc), proxy === 'legacy' ? 0 : 2, `${proxy}: the service chain`);
    // The built-in chains are not kube-proxy's to write: their jump keeps its count.
    assert.ok(counted(after, 'PREROUTING').some((l) => l.endsWith('-j KUBE-SERVICES') && packets(l) > 0), `${proxy}: PREROUTING's jump`);
    if (proxy === 'current') {
      c.sh('minikube', 'sleep 31');
      assert.equal(sent(save(), c.svc), 2, 'no periodic sync');
    } else {
      for (let i = 0; i < 2; i++) assert.equal(c.sh('default/client', 'curl -s -m 1 http://webapp').code, 0);
      assert.equal(sent(save(), c.svc), 2);
      c.sh('minikube', 'sleep 31');
      assert.equal(sent(save(), c.svc), 0, 'the periodic full sync');
    }
  }
});
