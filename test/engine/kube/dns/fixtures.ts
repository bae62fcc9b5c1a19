// The article's cluster as the DNS tests see it: webapp (NodePort, ClusterIP 10.103.46.104)
// with two pods, a headless twin, the NetworkPolicy example's backend and db, an ExternalName,
// and kube-dns itself.

import type { KubeDnsData } from '../../../../main/engine/kube/dns/records.ts';

export function articleCluster(): KubeDnsData {
  return {
    serial: 1700000000,
    services: [
      { namespace: 'default', name: 'webapp', type: 'NodePort', clusterIP: '10.103.46.104', ports: [{ port: 80, protocol: 'TCP' }] },
      { namespace: 'default', name: 'webapp-hs', clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      { namespace: 'default', name: 'backend', clusterIP: '10.96.100.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      { namespace: 'default', name: 'db', clusterIP: '10.96.100.30', ports: [{ port: 80, protocol: 'TCP' }] },
      { namespace: 'default', name: 'ext', type: 'ExternalName', externalName: 'example.com' },
      { namespace: 'default', name: 'empty-hs', clusterIP: 'None', ports: [{ port: 80 }] },
      {
        namespace: 'kube-system',
        name: 'kube-dns',
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    ],
    endpoints: [
      { namespace: 'default', name: 'webapp', addresses: [{ ip: '10.244.120.102' }, { ip: '10.244.120.103' }], ports: [{ port: 80, protocol: 'TCP' }] },
      {
        namespace: 'default',
        name: 'webapp-hs',
        addresses: [{ ip: '10.244.120.102' }, { ip: '10.244.120.103' }, { ip: '10.244.120.104', ready: false }],
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
      { namespace: 'default', name: 'backend', addresses: [{ ip: '10.244.120.111', targetRef: { name: 'backend-867fd6dff-mjf92' } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    ],
    pods: [{ namespace: 'default', name: 'backend-867fd6dff-mjf92', ip: '10.244.120.111' }],
  };
}
