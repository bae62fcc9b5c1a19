// The inputs of the golden cases, shared by the unit tests (which check the generated text line
// by line) and the kernel test (which loads every generated text into a real kernel with
// iptables-restore). Current-layout scenes use kube-proxy's unit-test conventions
// (NewFakeProxier: node test-node 192.168.0.2, pod CIDR 10.0.0.0/8, mark 0x4000).
import { ep, svc, upstreamInput } from './helpers.ts';
import type { GenerateInput, ServicePort } from '../../../../main/engine/kube/proxy/index.ts';

/** The article's Service: default/webapp, unnamed TCP port 80, NodePort 31380. */
export function articleWebapp(): ServicePort {
  return svc('default', 'webapp', {
    type: 'NodePort',
    clusterIP: '10.103.46.104',
    nodePort: 31380,
    endpoints: [ep('10.244.120.103', 80, { nodeName: 'minikube' }), ep('10.244.120.102', 80, { nodeName: 'minikube' })],
  });
}

/** The article's eTP=Local scene: one nginx pod (10.244.120.111) on node "minikube". */
export function articleLocalWebapp(): ServicePort {
  return svc('default', 'webapp', {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    clusterIP: '10.111.243.62',
    nodePort: 30080,
    endpoints: [ep('10.244.120.111', 80, { nodeName: 'minikube' })],
  });
}

/** A minikube node (v1.19.2 profile): cluster CIDR 10.244.0.0/16. */
export function minikube(services: ServicePort[], node = 'minikube', ip = '192.168.49.2'): GenerateInput {
  return { layout: 'legacy', services, node: { name: node, ips: [ip] }, config: { clusterCIDR: '10.244.0.0/16' } };
}

function kubeDns(portName: string, protocol: 'TCP' | 'UDP', port: number): ServicePort {
  return svc('kube-system', 'kube-dns', {
    clusterIP: '10.96.0.10',
    portName,
    protocol,
    port,
    endpoints: ['10.244.0.5', '10.244.0.6', '10.244.0.9', '10.244.0.10'].map((ip) => ep(ip, port, { nodeName: 'kind-control-plane' })),
  });
}

export const LEGACY: Record<string, () => GenerateInput> = {
  articleNodePort: () => minikube([articleWebapp()]),
  articleLocalWithPod: () => minikube([articleLocalWebapp()]),
  articleLocalWithoutPod: () => minikube([articleLocalWebapp()], 'minikube-m02', '192.168.49.3'),
  kindLog: () => ({
    layout: 'legacy',
    node: { name: 'kind-control-plane', ips: ['172.18.0.2'] },
    config: { clusterCIDR: '10.244.0.0/16' },
    services: [
      kubeDns('metrics', 'TCP', 9153),
      kubeDns('dns', 'UDP', 53),
      svc('default', 'kubernetes', { clusterIP: '10.96.0.1', portName: 'https', port: 443, endpoints: [ep('172.18.0.2', 6443)] }),
      kubeDns('dns-tcp', 'TCP', 53),
    ],
  }),
  loadBalancerCluster: () =>
    minikube([
      svc('default', 'web', {
        type: 'LoadBalancer',
        portName: 'http',
        clusterIP: '10.96.10.10',
        nodePort: 30500,
        externalIPs: ['192.168.49.100'],
        loadBalancerIngress: [{ ip: '172.18.255.200' }],
        loadBalancerSourceRanges: ['192.168.49.0/24', ' 203.0.113.0/25'],
        sessionAffinity: 'ClientIP',
        endpoints: [ep('10.244.1.5', 8080, { nodeName: 'minikube-m02' }), ep('10.244.0.7', 8080, { nodeName: 'minikube' })],
      }),
    ]),
  noEndpoints: () =>
    minikube([
      svc('shop', 'cart', {
        type: 'LoadBalancer',
        clusterIP: '10.96.20.20',
        port: 8080,
        nodePort: 31000,
        externalIPs: ['192.168.49.101'],
        loadBalancerIngress: ['172.18.255.201'],
        // v1.19's EndpointSlice cache drops endpoints that are not ready.
        endpoints: [ep('10.244.0.9', 8080, { ready: false })],
      }),
      svc('shop', 'pay', { type: 'NodePort', externalTrafficPolicy: 'Local', protocol: 'UDP', clusterIP: '10.96.20.21', port: 9000, nodePort: 31001 }),
      svc('shop', 'db', { clusterIPs: ['None'], port: 5432, endpoints: [ep('10.244.0.10', 5432)] }),
      svc('shop', 'ext', { type: 'ExternalName', port: 443 }),
    ]),
  loadBalancerLocal: () =>
    minikube([
      svc('default', 'web', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '10.96.10.11',
        nodePort: 30600,
        loadBalancerIngress: ['172.18.255.210', '172.18.255.211'],
        sessionAffinity: 'ClientIP',
        sessionAffinityTimeoutSeconds: 600,
        healthCheckNodePort: 32000, // not an iptables rule in v1.19
        endpoints: [ep('10.244.0.21', 80, { nodeName: 'minikube' }), ep('10.244.1.22', 80, { nodeName: 'minikube-m02' }), ep('10.244.0.23', 80, { nodeName: 'minikube' })],
      }),
    ]),
  masqueradeAll: () => ({
    layout: 'legacy',
    node: { name: 'minikube', ips: ['192.168.49.2', '10.0.2.15'], randomFully: false },
    config: { iptables: { masqueradeAll: true, masqueradeBit: 12 }, nodePortAddresses: ['192.168.49.0/24', '127.0.0.0/8'] },
    existingNatChains: ['KUBE-SERVICES', 'KUBE-MARK-DROP', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-XLB-BBBBBBBBBBBBBBBB', 'KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-FW-DDDDDDDDDDDDDDDD', 'KUBE-EXT-EEEEEEEEEEEEEEEE', 'DOCKER'],
    services: [
      svc('default', 'api', {
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        clusterIP: '10.96.0.1',
        port: 443,
        nodePort: 30443,
        endpoints: [ep('192.168.49.2', 8443, { nodeName: 'minikube' })],
      }),
    ],
  }),
};

/** TestOverallIPTablesRules' services. */
export function overallServices(): ServicePort[] {
  return [
    svc('ns1', 'svc1', { clusterIP: '172.30.0.41', portName: 'p80', endpoints: [ep('10.180.0.1', 80)] }),
    svc('ns2', 'svc2', {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      clusterIP: '172.30.0.42',
      portName: 'p80',
      nodePort: 3001,
      loadBalancerIngress: [{ ip: '1.2.3.4' }],
      externalIPs: ['192.168.99.22'],
      healthCheckNodePort: 30000,
      // No nodeName: not local, so the Local policy has nothing on this node.
      endpoints: [ep('10.180.0.2', 80)],
    }),
    svc('ns3', 'svc3', { type: 'NodePort', clusterIP: '172.30.0.43', portName: 'p80', nodePort: 3003, endpoints: [ep('10.180.0.3', 80)] }),
    svc('ns4', 'svc4', {
      type: 'NodePort',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      portName: 'p80',
      endpoints: [ep('10.180.0.4', 80), ep('10.180.0.5', 80, { nodeName: 'test-node' })],
    }),
    svc('ns5', 'svc5', {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Cluster',
      clusterIP: '172.30.0.45',
      portName: 'p80',
      nodePort: 3002,
      loadBalancerIngress: [{ ip: '5.6.7.8' }],
      healthCheckNodePort: 30000, // ignored: the policy is Cluster
      loadBalancerSourceRanges: [' 203.0.113.0/25'],
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 10800,
      endpoints: [ep('10.180.0.3', 80)],
    }),
    svc('ns6', 'svc6', { clusterIP: '172.30.0.46', portName: 'p80' }),
  ];
}

const terminating = { ready: false, serving: true, terminating: true };

export const CURRENT: Record<string, () => GenerateInput> = {
  overall: () => upstreamInput(overallServices()),
  badIPs: () =>
    upstreamInput([
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.041',
        portName: 'p80',
        nodePort: 3001,
        loadBalancerIngress: [{ ip: '1.2.3.004' }],
        externalIPs: ['192.168.099.022'],
        loadBalancerSourceRanges: ['203.0.113.000/025'],
        endpoints: [ep('10.180.00.001', 80)],
      }),
    ]),
  repeatedInitial: () =>
    upstreamInput([
      svc('ns1', 'svc1', { clusterIP: '172.30.0.41', portName: 'p80', endpoints: [ep('10.0.1.1', 80)] }),
      svc('ns2', 'svc2', { clusterIP: '172.30.0.42', portName: 'p8080', port: 8080, endpoints: [ep('10.0.2.1', 8080)] }),
    ]),
  repeatedFullResync: () =>
    upstreamInput(
      [
        svc('ns1', 'svc1', { clusterIP: '172.30.0.41', portName: 'p80', endpoints: [ep('10.0.1.1', 80)] }),
        svc('ns3', 'svc3', { clusterIP: '172.30.0.43', portName: 'p80', endpoints: [ep('10.0.3.2', 80), ep('10.0.3.3', 80)] }),
      ],
      {
        existingNatChains: [
          'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-PROXY-CANARY',
          'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SNQ3ZNILQDEJNDQO', 'KUBE-SVC-X27LE4BHSL4DOUIK', 'KUBE-SEP-DKCFIS26GWF2WLWC',
          'KUBE-SEP-JVVZVJ7BSEPPRNBS', 'KUBE-SVC-4SW47YFZTEDKD3PK', 'KUBE-SEP-AYCN5HPXMIRJNJXU',
        ],
      },
    ),
  repeatedNoEndpoints: () => upstreamInput([svc('ns4', 'svc4', { clusterIP: '172.30.0.44', portName: 'p80' })]),
  minimalClusterIP: () => ({
    layout: 'current',
    node: { name: 'n1', ips: ['192.168.49.2'] },
    config: { clusterCIDR: '10.244.0.0/16' },
    services: [svc('default', 'webapp', { clusterIP: '10.96.0.10', endpoints: [ep('10.244.120.103', 80), ep('10.244.120.102', 80)] })],
  }),
  loadBalancerSourceRanges: () =>
    upstreamInput([
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        portName: 'p80',
        nodePort: 3001,
        loadBalancerIngress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }],
        loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
        endpoints: [ep('10.180.0.1', 80)],
      }),
    ]),
  externalTrafficPolicyLocal: () =>
    upstreamInput([
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.41',
        externalIPs: ['192.168.99.11'],
        portName: 'p80',
        nodePort: 3001,
        healthCheckNodePort: 30000,
        loadBalancerIngress: ['1.2.3.4'],
        endpoints: [ep('10.180.0.1', 80), ep('10.180.2.1', 80, { nodeName: 'test-node' })],
      }),
    ]),
  terminatingLocal: () =>
    upstreamInput([
      svc('ns1', 'svc1', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.1.1',
        loadBalancerIngress: ['1.2.3.4'],
        healthCheckNodePort: 30000,
        internalTrafficPolicy: 'Cluster',
        endpoints: [
          ep('10.0.1.2', 80, { nodeName: 'test-node', ...terminating }),
          ep('10.0.1.3', 80, { nodeName: 'test-node', ...terminating }),
          ep('10.0.1.5', 80, { nodeName: 'node-1' }),
        ],
      }),
      svc('ns2', 'itp', {
        clusterIP: '172.30.1.2',
        internalTrafficPolicy: 'Local',
        endpoints: [ep('10.0.2.1', 80, { nodeName: 'node-1' })],
      }),
    ]),
  articleLocalCurrentMinikube: () => ({ ...minikube([articleLocalWebapp()]), layout: 'current' }),
  articleLocalCurrentM02: () => ({ ...minikube([articleLocalWebapp()], 'minikube-m02', '192.168.49.3'), layout: 'current' }),
};
