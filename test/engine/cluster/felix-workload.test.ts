// What Felix does to a node for its workloads: the interface sysctls of its endpoint manager
// (strict rp_filter, route_localnet, with the CNI's proxy_arp, proxy_delay and forwarding), and
// its conntrack cleanup: when a workload's route goes (its pod deleted), Felix runs `conntrack
// --family ipv4 --delete --orig-src IP` and `--reply-src IP` on that node (felix/conntrack,
// called from felix/routetable as the route is removed), so the flows the pod started and
// those it answered leave the node's table; other flows stay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CtEvent } from '../../../main/engine/conntrack/events.ts';
import { clusterLab } from './lab-cluster.ts';

const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n`;

test("a deleted pod's flows leave its node's conntrack table, as Felix deletes them", () => {
  const { lab, sh, apply } = clusterLab({ nodes: 1 });
  for (const p of ['client', 'server', 'other']) apply(pod(p));
  const ipOf = (p: string) => /10\.244\.\d+\.\d+/.exec(sh('minikube', `kubectl get pod ${p} -o wide`).stdout)![0];
  const [server, other] = [ipOf('server'), ipOf('other')];
  assert.equal(sh('default/client', `curl -s ${server}`).stdout, 'server\n');
  assert.equal(sh('default/client', `curl -s ${other}`).stdout, 'other\n');
  assert.equal(sh('default/server', `curl -s ${other}`).stdout, 'other\n');
  const flows = () => sh('minikube', 'conntrack -L -p tcp').stdout.split('\n').filter(Boolean);
  assert.equal(flows().length, 3);
  const events: CtEvent[] = [];
  lab.onCtEvent = (h, ev) => h === 'minikube' && events.push(ev);
  assert.equal(sh('minikube', 'kubectl delete pod server').code, 0);
  const left = flows();
  assert.equal(left.length, 1, left.join('\n'));
  assert.ok(!left[0].includes(server) && left[0].includes(other));
  // one flow answered by the pod (--reply-src), one it started (--orig-src), deleted by conntrack
  assert.deepEqual(events.map((e) => [e.type, e.by?.progname]), [['DESTROY', 'conntrack'], ['DESTROY', 'conntrack']]);
});

test("a workload's interface: a pod's spoofed source is dropped (Felix's rpfilter rule, then strict rp_filter); route_localnet is on", () => {
  const { lab, sh, apply } = clusterLab({ nodes: 1 });
  for (const p of ['client', 'server']) apply(pod(p));
  const iface = /^(cali\w+)/m.exec(sh('minikube', 'ip -br link').stdout)![1];
  assert.equal(sh('minikube', `sysctl -n net.ipv4.conf.${iface}.rp_filter net.ipv4.conf.${iface}.route_localnet net.ipv4.conf.${iface}.proxy_arp`).stdout, '1\n1\n1\n');
  const server = /10\.244\.\d+\.\d+/.exec(sh('minikube', 'kubectl get pod server -o wide').stdout)![0];
  assert.equal(lab.trace({ from: 'default/client', to: `${server}:80`, proto: 'tcp' }).json.outcome, 'delivered');
  // the client pod spoofs its source (a SNAT of its own): the node drops what arrives on its veth
  assert.equal(sh('default/client', 'iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 10.9.9.9').code, 0);
  const spoofed = lab.trace({ from: 'default/client', to: `${server}:80`, proto: 'tcp' }).json;
  assert.equal(spoofed.outcome, 'dropped', JSON.stringify(spoofed.reason));
  // Felix's own anti-spoofing rule in raw sees it first (the kernel's strict rp_filter would be next)
  const m = /dropped by rule (\d+) of raw cali-PREROUTING on minikube/.exec(spoofed.reason ?? '');
  assert.ok(m, spoofed.reason);
  const rule = sh('minikube', 'iptables -t raw -S cali-PREROUTING').stdout.split('\n')[Number(m[1])];
  assert.match(rule, /-m rpfilter --validmark --invert -j DROP$/);
  // without that rule, the interface's rp_filter=1 drops it
  assert.equal(sh('minikube', `iptables -t raw -D cali-PREROUTING ${m[1]}`).code, 0);
  const again = lab.trace({ from: 'default/client', to: `${server}:80`, proto: 'tcp' }).json;
  assert.equal(again.outcome, 'dropped');
  assert.match(again.reason ?? '', /rp_filter/);
});
