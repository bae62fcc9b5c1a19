// kube-proxy's conntrack housekeeping after a sync: the legacy layout's `conntrack -D`
// commands (v1.19, from what changed), the current layout's reconciler (v1.32+, from what the
// table holds), and both at work in a cluster lab: a UDP Service whose endpoint moves loses the
// flows DNATed to the old one, as DESTROY events by conntrack (legacy) or kube-proxy (current).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { legacyConntrackCleanup, staleUdpFlows } from '../../../../main/engine/kube/proxy/conntrack-cleanup.ts';
import type { Endpoint, ServicePort } from '../../../../main/engine/kube/proxy/model.ts';
import type { CtEvent } from '../../../../main/engine/conntrack/events.ts';
import { clusterLab, WEBAPP_NODEPORT } from '../../cluster/lab-cluster.ts';

const ep = (ip: string, more: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 53, ...more });
const udp = (name: string, eps: Endpoint[], more: Partial<ServicePort> = {}): ServicePort => ({
  namespace: 'default', name, portName: 'dns', protocol: 'UDP', port: 53, type: 'ClusterIP', clusterIPs: [`10.96.0.${name.length}`], endpoints: eps, ...more,
});

describe('legacy (v1.19): conntrack commands from what changed', () => {
  it('an endpoint gone: its flows to the cluster IP, or to the NodePort, and external and LB IPs', () => {
    const a = udp('dns', [ep('10.244.0.2'), ep('10.244.0.3')]);
    assert.deepEqual(legacyConntrackCleanup([a], [{ ...a, endpoints: [ep('10.244.0.3')] }]), [['conntrack', '-D', '--orig-dst', '10.96.0.3', '--dst-nat', '10.244.0.2', '-p', 'udp']]);
    const np = { ...a, type: 'LoadBalancer' as const, nodePort: 30053, externalIPs: ['192.168.1.5'], loadBalancerIngress: [{ ip: '192.168.49.200' }] };
    assert.deepEqual(legacyConntrackCleanup([np], [{ ...np, endpoints: [] }]), [
      ['conntrack', '-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.0.2'],
      ['conntrack', '-D', '--orig-dst', '192.168.1.5', '--dst-nat', '10.244.0.2', '-p', 'udp'],
      ['conntrack', '-D', '--orig-dst', '192.168.49.200', '--dst-nat', '10.244.0.2', '-p', 'udp'],
      ['conntrack', '-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.0.3'],
      ['conntrack', '-D', '--orig-dst', '192.168.1.5', '--dst-nat', '10.244.0.3', '-p', 'udp'],
      ['conntrack', '-D', '--orig-dst', '192.168.49.200', '--dst-nat', '10.244.0.3', '-p', 'udp'],
    ]);
  });

  it('a port that gets its first ready endpoint, a deleted port, and a restart clear by IP; TCP and unchanged ports are left', () => {
    const none = udp('dns', [ep('10.244.0.2', { ready: false })], { externalIPs: ['192.168.1.5'] });
    const tcp = { ...udp('web', [ep('10.244.0.9')]), protocol: 'TCP' as const };
    assert.deepEqual(legacyConntrackCleanup([none, tcp], [{ ...none, endpoints: [ep('10.244.0.2')] }, { ...tcp, endpoints: [] }]), [
      ['conntrack', '-D', '--orig-dst', '10.96.0.3', '-p', 'udp'],
      ['conntrack', '-D', '--orig-dst', '192.168.1.5', '-p', 'udp'],
    ]);
    const gone = udp('syslog', [ep('10.244.0.4')]);
    assert.deepEqual(legacyConntrackCleanup([gone], []), [['conntrack', '-D', '--orig-dst', '10.96.0.6', '-p', 'udp']]);
    assert.deepEqual(legacyConntrackCleanup(undefined, [gone, tcp]), [['conntrack', '-D', '--orig-dst', '10.96.0.6', '-p', 'udp']]);
    assert.deepEqual(legacyConntrackCleanup([gone], [gone]), []);
  });
});

describe('current (v1.32+): the reconciler', () => {
  const flow = (origDst: string, origDport: number, replySrc: string) => ({ origDst, origDport, replySrc });
  it('deletes flows to a frontend or NodePort not answered by a serving endpoint', () => {
    const sp = udp('dns', [ep('10.244.0.3'), ep('10.244.0.4', { serving: false })], { nodePort: 30053, externalIPs: ['192.168.1.5'] });
    const flows = [
      flow('10.96.0.3', 53, '10.244.0.3'), // served
      flow('10.96.0.3', 53, '10.244.0.2'), // stale endpoint
      flow('10.96.0.3', 53, '10.244.0.4'), // not serving
      flow('10.96.0.3', 54, '10.244.0.2'), // another port
      flow('192.168.1.5', 53, '10.244.0.2'), // external IP
      flow('192.168.49.2', 30053, '10.244.0.2'), // NodePort, any address
      flow('8.8.8.8', 53, '8.8.8.8'), // not a Service
    ];
    assert.deepEqual(staleUdpFlows([sp], flows), [flows[1], flows[2], flows[4], flows[5]]);
  });

  it('leaves a Service without serving endpoints, and TCP Services, alone', () => {
    const flows = [flow('10.96.0.3', 53, '10.244.0.2')];
    assert.deepEqual(staleUdpFlows([udp('dns', [])], flows), []);
    assert.deepEqual(staleUdpFlows([{ ...udp('dns', [ep('10.244.0.3')]), protocol: 'TCP' }], flows), []);
  });
});

/** A selector-less UDP Service 10.96.0.53:53 whose slice points at `ip` (CoreDNS answers on 53). */
const service = (ip: string, version: string) => `apiVersion: v1
kind: Service
metadata: {name: dns2}
spec: {clusterIP: 10.96.0.53, ports: [{name: dns, port: 53, protocol: UDP, targetPort: 53}]}
---
apiVersion: discovery.k8s.io/${version}
kind: EndpointSlice
metadata: {name: dns2-1, labels: {kubernetes.io/service-name: dns2}}
addressType: IPv4
endpoints: [${ip ? `{addresses: ["${ip}"], conditions: {ready: true}}` : ''}]
ports: [{name: dns, port: 53, protocol: UDP}]
`;

for (const proxy of ['legacy', 'current'] as const) {
  describe(`in a cluster lab (${proxy} layout)`, () => {
    const version = proxy === 'legacy' ? 'v1beta1' : 'v1';
    function scene() {
      const c = clusterLab({ proxy });
      c.apply('apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: busybox}]}\n');
      const dns = /10\.244\.\d+\.\d+/.exec(c.sh('minikube', 'kubectl -n kube-system get pods -o wide').stdout)![0];
      c.apply(service(dns, version));
      assert.equal(c.sh('default/client', 'dig +short +tries=1 @10.96.0.53 kubernetes.default.svc.cluster.local').stdout, '10.96.0.1\n');
      const flows = () => c.sh('minikube', 'conntrack -L -p udp --orig-dst 10.96.0.53').stdout;
      assert.match(flows(), new RegExp(`src=${dns.replaceAll('.', '\\.')} dst=10\\.244`));
      const events: CtEvent[] = [];
      c.lab.onCtEvent = (_h, ev) => events.push(ev);
      return { ...c, flows, events };
    }

    it('an endpoint moved: the flow DNATed to the old one is deleted by kube-proxy\'s housekeeping', () => {
      const s = scene();
      s.apply(service('10.244.99.9', version));
      assert.equal(s.flows(), '');
      assert.deepEqual(s.events.map((e) => [e.type, e.by?.progname]), [['DESTROY', proxy === 'legacy' ? 'conntrack' : 'kube-proxy']]);
    });

    it(proxy === 'legacy' ? 'the last endpoint gone: v1.19 deletes its flows all the same' : 'the last endpoint gone: a Service without endpoints is left alone', () => {
      const s = scene();
      s.apply(service('', version));
      assert.equal(s.flows() === '', proxy === 'legacy');
    });
  });
}

describe('kube-proxy at its start', () => {
  for (const proxy of ['legacy', 'current'] as const) {
    it(`sets the node's conntrack timeouts to its configuration's defaults (${proxy}): established 24h, close_wait 1h; and route_localnet for NodePorts on 127.0.0.1`, () => {
      const { sh, apply } = clusterLab({ proxy });
      assert.equal(sh('minikube', 'sysctl net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait net.ipv4.conf.all.route_localnet').stdout,
        'net.netfilter.nf_conntrack_tcp_timeout_established = 86400\nnet.netfilter.nf_conntrack_tcp_timeout_close_wait = 3600\nnet.ipv4.conf.all.route_localnet = 1\n');
      // a NodePort answers on the node's 127.0.0.1 (route_localnet lets the DNATed packet leave lo)
      apply(WEBAPP_NODEPORT);
      assert.match(sh('minikube', 'curl -s -m 2 127.0.0.1:31380').stdout, /^webapp-/);
      // a pod's namespace is not the node's: its own defaults
      apply('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}]}\n');
      assert.equal(sh('default/p', 'sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established').stdout, '432000\n');
    });
  }
});

describe('kube-proxy\'s nfacct counters', () => {
  it('current: made as it starts, counted into by the INVALID drop and the localhost NodePort rules; none in v1.19', () => {
    const { sh, apply } = clusterLab({ proxy: 'current' });
    const zero = '00000000000000000000';
    assert.equal(sh('minikube', 'nfacct list').stdout, `{ pkts = ${zero}, bytes = ${zero} } = ct_state_invalid_dropped_pkts;\n{ pkts = ${zero}, bytes = ${zero} } = localhost_nps_accepted_pkts;\n`);
    assert.match(sh('minikube', 'iptables -S KUBE-FORWARD').stdout, /--ctstate INVALID -m nfacct --nfacct-name {2}ct_state_invalid_dropped_pkts -j DROP/);
    apply(WEBAPP_NODEPORT);
    assert.match(sh('minikube', 'iptables -t nat -S KUBE-NODEPORTS').stdout, /-d 127\.0\.0\.0\/8 .*--dport 31380 -m nfacct --nfacct-name {2}localhost_nps_accepted_pkts -j KUBE-EXT-/);
    assert.match(sh('minikube', 'curl -s -m 2 127.0.0.1:31380').stdout, /^webapp-/);
    // the connection's first packet (the nat table sees no other)
    assert.match(sh('minikube', 'nfacct get localhost_nps_accepted_pkts').stdout, /^\{ pkts = 0+1, bytes = 0+60 \} = localhost_nps_accepted_pkts;\n$/);
    // in use: not deleted
    assert.match(sh('minikube', 'nfacct delete localhost_nps_accepted_pkts').stderr, /Device or resource busy/);
    assert.equal(clusterLab({ proxy: 'legacy' }).sh('minikube', 'nfacct list').stdout, '');
  });
});

describe('kube-proxy reads nf_conntrack_tcp_be_liberal as it starts', () => {
  it('current: with it on, KUBE-FORWARD has no INVALID drop; set later, it counts from the next start', () => {
    const { lab, sh } = clusterLab({ proxy: 'current' });
    const invalidDrop = () => sh('minikube', 'iptables -S KUBE-FORWARD').stdout.includes('--ctstate INVALID');
    assert.equal(invalidDrop(), true);
    assert.equal(sh('minikube', 'sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=1').code, 0);
    lab.cluster!.sync(true);
    assert.equal(invalidDrop(), true, 'the running kube-proxy read it at its start');
    lab.cluster!.resync();
    assert.equal(invalidDrop(), false);
  });
});
