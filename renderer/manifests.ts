// Kubernetes manifests the palette and the inspector's forms make (applied through api.apply).

import { stringify } from './yaml-lite.ts';

/** A Node joins the cluster's LAN at its InternalIP (as a kubelet would report it). */
export function nodeManifest(name: string, ip: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
  });
}

/** The next free address for a node in the nodes' LAN (.1 is the gateway). */
export function nextNodeIP(cidr: string, used: string[]): string {
  const [base, len] = cidr.split('/');
  const toInt = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const toStr = (n: number): string => [24, 16, 8, 0].map((k) => Math.floor(n / 2 ** k) % 256).join('.');
  const size = 2 ** (32 - Number(len));
  const net = Math.floor(toInt(base) / size) * size;
  const taken = new Set(used.map(toInt));
  for (let i = 2; i < size - 1; i++) if (!taken.has(net + i)) return toStr(net + i);
  return toStr(net + 2);
}

export function podManifest(name: string, opts: { node?: string; image?: string; port?: number; labels?: Record<string, string> } = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: opts.labels ?? { app: name } },
    spec: {
      ...(opts.node ? { nodeName: opts.node } : {}),
      containers: [{ name: 'app', image: opts.image ?? 'nginx', ports: [{ containerPort: opts.port ?? 80 }] }],
    },
  });
}

export function deploymentManifest(name: string, replicas: number, opts: { image?: string; port?: number; namespace?: string } = {}): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(opts.namespace && opts.namespace !== 'default' ? { namespace: opts.namespace } : {}), labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: opts.image ?? 'nginx', ports: [{ containerPort: opts.port ?? 80 }] }] },
      },
    },
  });
}

export interface ServiceForm {
  name: string;
  namespace?: string;
  type: string;
  port: number;
  targetPort: number | string;
  nodePort?: number;
  selector: Record<string, string>;
  externalTrafficPolicy?: string;
}

export function serviceManifest(f: ServiceForm): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: f.name, ...(f.namespace && f.namespace !== 'default' ? { namespace: f.namespace } : {}) },
    spec: {
      type: f.type,
      selector: f.selector,
      ports: [{ port: f.port, targetPort: f.targetPort, protocol: 'TCP', ...(f.nodePort && f.type !== 'ClusterIP' ? { nodePort: f.nodePort } : {}) }],
      ...(f.externalTrafficPolicy && f.type !== 'ClusterIP' ? { externalTrafficPolicy: f.externalTrafficPolicy } : {}),
    },
  });
}

/** "app=web,tier=front" → { app: 'web', tier: 'front' } */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const [k, ...v] = part.split('=');
    if (k?.trim()) out[k.trim()] = v.join('=').trim();
  }
  return out;
}

export function formatLabels(l: Record<string, string>): string {
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');
}
