// What the proxier's service and endpoint caches make of the input objects: canonical
// addresses, endpoint order and de-duplication, which services are skipped, and which fields
// each layout honours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeServices, nodePortAddressing, parseIPv4Sloppy } from '../../../../main/engine/kube/proxy/normalize.ts';
import { ep, svc } from './helpers.ts';

const node = { name: 'n1', ips: ['192.168.0.2'] };

test('sloppy IPv4 parsing and canonical endpoint addresses', () => {
  assert.equal(parseIPv4Sloppy('010.0.0.1'), 0x0a000001);
  assert.equal(parseIPv4Sloppy(' 1.2.3.4 '), 0x01020304);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '', 'a.b.c.d', '0001.2.3.4', '::1']) assert.equal(parseIPv4Sloppy(bad), null, bad);
  const ips = ['10.0.0.1', '010.0.0.2', '10.00.0.3', ' 10.0.0.4', '10.0.0.05', '0.0.0.0', 'fd00::1', 'junk'];
  const [p] = normalizeServices([svc('a', 'b', { clusterIP: '10.96.0.1', endpoints: ips.map((ip) => ep(ip, 80)) })], node, 'current');
  assert.deepEqual(p.endpoints.map((e) => e.ip), ['0.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
  assert.ok(p.endpoints.every((e) => e.sep.startsWith('KUBE-SEP-') && e.sep.length === 25));
});

test('endpoints sort by their "ip:port" string and the last duplicate wins', () => {
  const [p] = normalizeServices(
    [svc('a', 'b', { clusterIP: '10.96.0.1', endpoints: [ep('10.2.2.2', 22, { nodeName: 'x' }), ep('10.2.2.22', 22), ep('10.1.1.1', 11), ep('10.2.2.2', 22, { nodeName: 'n1' })] })],
    node,
    'current',
  );
  assert.deepEqual(p.endpoints.map((e) => e.str), ['10.1.1.1:11', '10.2.2.22:22', '10.2.2.2:22']);
  assert.equal(p.endpoints[2].local, true, 'the later copy (on this node) won');
});

test('skipped services, per-layout fields, defaults', () => {
  const all = [
    svc('a', 'headless', { clusterIPs: ['None'], endpoints: [ep('10.0.0.1', 80)] }),
    svc('a', 'empty', { clusterIPs: [] }),
    svc('a', 'v6', { clusterIPs: ['fd00::10'] }),
    svc('a', 'name', { type: 'ExternalName', clusterIPs: [] }),
    svc('a', 'dual', { clusterIPs: ['fd00::11', '10.96.0.11'] }),
    svc('a', 'lb', {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.12',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 30000,
      sessionAffinity: 'ClientIP',
      loadBalancerIngress: ['1.2.3.4', { ip: '1.2.3.5', ipMode: 'Proxy' }, { hostname: 'lb.example' }],
      loadBalancerSourceRanges: [' 10.0.0.5/24', '0.0.0.0/0', 'bad'],
      endpoints: [ep('10.0.0.1', 80, { ready: false })],
    }),
    svc('a', 'np', { type: 'NodePort', clusterIP: '10.96.0.13', externalTrafficPolicy: 'Local', healthCheckNodePort: 30001 }),
  ];
  const current = normalizeServices(all, node, 'current');
  assert.deepEqual(current.map((p) => p.ref.name), ['dual', 'lb', 'np']);
  const lb = current[1];
  assert.deepEqual(lb.loadBalancerIPs, ['1.2.3.4'], 'ipMode Proxy gets no rule');
  assert.deepEqual(lb.sourceRanges, [], 'a 0.0.0.0/0 range means allow all');
  assert.equal(lb.healthCheckNodePort, 30000);
  assert.equal(lb.stickySeconds, 10800);
  assert.equal(lb.endpoints.length, 1, 'not-ready endpoints stay (for the terminating fallback)');
  assert.equal(current[2].healthCheckNodePort, 0, 'only LoadBalancer services have a health-check node port');

  const legacy = normalizeServices(all, node, 'legacy');
  assert.deepEqual(legacy.map((p) => p.ref.name), ['lb', 'np'], 'v1.19 takes spec.clusterIP only');
  assert.deepEqual(legacy[0].loadBalancerIPs, ['1.2.3.4', '1.2.3.5']);
  assert.deepEqual(legacy[0].sourceRanges, ['10.0.0.5/24', '0.0.0.0/0'], 'v1.19 writes the trimmed range as given');
  assert.equal(legacy[0].endpoints.length, 0, 'v1.19 drops endpoints that are not ready');
  assert.equal(legacy[0].onlyNodeLocalEndpoints, true);
});

test('nodePortAddresses: match-all, CIDR selection, loopback and "primary"', () => {
  assert.deepEqual(nodePortAddressing({}, node, 'current'), { matchAll: true, containsLoopback: true, ips: [] });
  assert.deepEqual(nodePortAddressing({ nodePortAddresses: ['0.0.0.0/0', '192.168.0.0/24'] }, node, 'current').matchAll, true);
  assert.deepEqual(nodePortAddressing({ nodePortAddresses: ['192.168.0.0/16', '127.0.0.1/32'] }, node, 'current'), {
    matchAll: false,
    containsLoopback: true,
    ips: ['192.168.0.2', '127.0.0.1'],
  });
  assert.deepEqual(nodePortAddressing({ nodePortAddresses: ['primary'] }, node, 'current'), { matchAll: false, containsLoopback: false, ips: ['192.168.0.2'] });
  // Only IPv6 CIDRs: nothing for the IPv4 proxier, so all local addresses.
  assert.equal(nodePortAddressing({ nodePortAddresses: ['2001:db8::/64'] }, node, 'current').matchAll, true);
});
