// The canvas's elements from the lab's view model, and their style. Element ids:
//   h:HOST  l:LAN  n:NODE (compound)  p:NS/POD (inside its node)  d:NS/DEPLOYMENT  s:NS/SERVICE
//   k:HOST:DEV (link to a LAN)  v:HOST:DEV (veth)  o:POD (Deployment → pod)  e:SVC:POD (Service → endpoint)
// Each element carries `item` (what deleting it removes) and `search` (names and addresses).

import type { ElementDefinition, StylesheetJson } from 'cytoscape';
import type { LabView, RemoveItem } from '../shared/api/contract.ts';

export type Kind = 'host' | 'client' | 'lb' | 'lan' | 'node' | 'pod' | 'deployment' | 'service';

export interface ElData {
  id: string;
  kind: Kind | 'link' | 'veth' | 'owner' | 'endpoint';
  label: string;
  search: string;
  item?: RemoveItem;
  name: string;
  namespace?: string;
  parent?: string;
  source?: string;
  target?: string;
}

export function elementsOf(view: LabView): { nodes: ElementDefinition[]; edges: ElementDefinition[] } {
  const nodes: ElementDefinition[] = [];
  const edges: ElementDefinition[] = [];
  const hostEl = new Map<string, string>();
  const c = view.cluster;
  if (c) {
    for (const n of c.nodes) {
      const id = `n:${n.name}`;
      hostEl.set(n.name, id);
      nodes.push({ data: { id, kind: 'node', name: n.name, label: n.ip ? `${n.name}\n${n.ip}` : n.name, search: `${n.name} ${n.ip ?? ''}`, item: { kind: 'node', name: n.name } } satisfies ElData });
    }
    const nodeNames = new Set(c.nodes.map((n) => n.name));
    for (const p of c.pods) {
      const id = `p:${p.namespace}/${p.name}`;
      hostEl.set(p.name, id);
      const data: ElData = { id, kind: 'pod', name: p.name, namespace: p.namespace, label: p.ip ? `${p.name}\n${p.ip}` : p.name, search: `${p.name} ${p.ip ?? ''}`, item: { kind: 'pod', name: p.name, namespace: p.namespace } };
      if (p.node && nodeNames.has(p.node)) data.parent = `n:${p.node}`;
      nodes.push({ data, classes: p.phase && p.phase !== 'Running' ? 'pending' : '' });
    }
    for (const d of c.deployments) {
      const id = `d:${d.namespace}/${d.name}`;
      nodes.push({ data: { id, kind: 'deployment', name: d.name, namespace: d.namespace, label: `${d.name}\n×${d.replicas}`, search: d.name, item: { kind: 'deployment', name: d.name, namespace: d.namespace } } satisfies ElData });
    }
    const deployments = new Set(c.deployments.map((d) => `d:${d.namespace}/${d.name}`));
    for (const p of c.pods) {
      if (!p.owner) continue;
      const src = `d:${p.namespace}/${p.owner}`;
      if (!deployments.has(src)) continue;
      edges.push({ data: { id: `o:${p.namespace}/${p.name}`, kind: 'owner', name: p.name, label: '', search: '', source: src, target: `p:${p.namespace}/${p.name}` } satisfies ElData });
    }
    for (const s of c.services) {
      const id = `s:${s.namespace}/${s.name}`;
      const ports = s.ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}` : `${p.port}`)).join(',');
      nodes.push({ data: { id, kind: 'service', name: s.name, namespace: s.namespace, label: `${s.name}\n${s.type} ${s.clusterIP ?? ''}${ports ? ` :${ports}` : ''}`, search: `${s.name} ${s.clusterIP ?? ''}`, item: { kind: 'service', name: s.name, namespace: s.namespace } } satisfies ElData });
    }
    // (Maps and sets: a lab of thousands of pods must not cost a search per endpoint.)
    const podIds = new Set(c.pods.map((p) => `p:${p.namespace}/${p.name}`));
    const podByIp = new Map<string, string>();
    for (const p of c.pods) if (p.ip && !podByIp.has(p.ip)) podByIp.set(p.ip, `p:${p.namespace}/${p.name}`);
    const endpointIds = new Set<string>();
    for (const e of c.endpoints) {
      const pod = e.pod ? `p:${e.namespace}/${e.pod}` : podByIp.get(e.ip);
      if (!pod || !podIds.has(pod)) continue;
      const id = `e:${e.namespace}/${e.service}:${pod}`;
      if (endpointIds.has(id)) continue;
      endpointIds.add(id);
      edges.push({ data: { id, kind: 'endpoint', name: e.service, label: '', search: '', source: `s:${e.namespace}/${e.service}`, target: pod } satisfies ElData });
    }
  }
  for (const host of view.hosts) {
    if (hostEl.has(host.name)) continue;
    const id = `h:${host.name}`;
    hostEl.set(host.name, id);
    const ips = host.links.map((l) => l.ip.split('/')[0]);
    const ports = host.listen.map((l) => `${l.port}${l.proto === 'tcp' ? '' : `/${l.proto}`}`).join(',');
    nodes.push({ data: { id, kind: host.kind, name: host.name, label: `${host.name}${ports ? ` :${ports}` : ''}`, search: `${host.name} ${ips.join(' ')}`, item: { kind: 'host', name: host.name } } satisfies ElData });
  }
  for (const lan of view.lans) {
    nodes.push({ data: { id: `l:${lan.name}`, kind: 'lan', name: lan.name, label: lan.name, search: lan.name, item: { kind: 'lan', name: lan.name } } satisfies ElData });
  }
  if (c?.lan) {
    for (const n of c.nodes) {
      edges.push({ data: { id: `k:${n.name}:eth0`, kind: 'link', name: n.name, label: n.ip ?? '', search: n.ip ?? '', source: `n:${n.name}`, target: `l:${c.lan}` } satisfies ElData });
    }
  }
  for (const host of view.hosts) {
    const src = hostEl.get(host.name);
    if (!src) continue;
    for (const l of host.links) {
      edges.push({ data: { id: `k:${host.name}:${l.dev}`, kind: 'link', name: host.name, label: `${l.dev} ${l.ip}`, search: l.ip.split('/')[0], source: src, target: `l:${l.lan}`, item: { kind: 'link', name: host.name, dev: l.dev } } satisfies ElData });
    }
  }
  const parents = new Map<string, string>();
  if (view.veths.length) for (const n of nodes) if (n.data.parent) parents.set(n.data.id as string, n.data.parent as string);
  for (const v of view.veths) {
    const a = hostEl.get(v.a.host);
    const b = hostEl.get(v.b.host);
    if (!a || !b) continue;
    // A pod's veth to its own node is drawn by nesting, not by an edge.
    const parentOf = (id: string): string | undefined => parents.get(id);
    if (parentOf(a) === b || parentOf(b) === a) continue;
    const label = [v.a.ip, v.b.ip].filter(Boolean).join(' – ');
    edges.push({ data: { id: `v:${v.a.host}:${v.a.dev}`, kind: 'veth', name: v.a.host, label, search: label, source: a, target: b, item: { kind: 'veth', name: v.a.host, dev: v.a.dev } } satisfies ElData });
  }
  // Parents before children (cytoscape needs the parent to exist).
  nodes.sort((x, y) => (x.data.parent ? 1 : 0) - (y.data.parent ? 1 : 0));
  return { nodes, edges };
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A trace's path (renderer/trace-path.ts): dashed where it will go, solid where it went. */
function pathStyle(v: (name: string) => string): StylesheetJson {
  return [
    { selector: 'node.on-path', style: { 'border-width': 2, 'border-style': 'dashed', 'border-color': v('--accent') } },
    { selector: 'edge.on-path', style: { 'line-color': v('--accent'), 'line-style': 'dashed' } },
    { selector: 'node.walked', style: { 'border-width': 3, 'border-style': 'solid' } },
    { selector: 'edge.walked', style: { 'line-style': 'solid', width: 3 } },
  ];
}

/**
 * The stylesheet. `big`: a lighter one for labs of thousands of elements (every style property
 * an element gets costs a round of cache invalidation through its compound parents in
 * Cytoscape, so the rules set as few as they can; edge labels are unreadable at that zoom anyway).
 */
export function graphStyle(big = false): StylesheetJson {
  const v = cssVar;
  const text = v('--text');
  if (big) {
    return [
      // Pods, the thousands, get only the first rule (and Cytoscape's default size, 30).
      { selector: 'node', style: { label: 'data(name)', color: text, 'font-size': 11, 'text-valign': 'bottom', 'min-zoomed-font-size': 9, 'background-color': v('--pod') } },
      { selector: 'node[kind != "pod"]', style: { width: 40, height: 40, 'background-color': v('--host') } },
      { selector: 'node[kind = "node"]', style: { 'background-color': v('--node'), 'background-opacity': 0.55, 'text-valign': 'top', padding: '18px' } },
      { selector: 'node[kind = "lan"]', style: { shape: 'rectangle', 'background-color': v('--lan'), width: 120, height: 14 } },
      { selector: 'node[kind = "deployment"]', style: { 'background-color': v('--dep') } },
      { selector: 'node[kind = "service"]', style: { 'background-color': v('--svc') } },
      // (haystack: Cytoscape's default curve style, the cheapest to draw.)
      { selector: 'edge', style: { width: 1, 'line-color': v('--edge') } },
      { selector: ':selected', style: { 'border-width': 3, 'border-color': v('--select'), 'line-color': v('--select') } },
      { selector: '.match', style: { 'border-width': 4, 'border-color': v('--warn') } },
      ...pathStyle(v),
      { selector: '.stepping', style: { 'border-width': 5, 'border-color': v('--danger') } },
      { selector: '.sending', style: { 'border-width': 5, 'border-color': v('--accent'), 'border-style': 'dashed' } },
    ];
  }
  return [
    { selector: 'node', style: { label: 'data(label)', color: text, 'font-size': 11, 'text-wrap': 'wrap', 'text-valign': 'bottom', 'text-margin-y': 4, 'border-width': 1, 'border-color': v('--border'), width: 44, height: 44, 'min-zoomed-font-size': 6 } },
    { selector: 'node[kind = "host"]', style: { shape: 'round-rectangle', 'background-color': v('--host') } },
    { selector: 'node[kind = "client"]', style: { shape: 'ellipse', 'background-color': v('--client') } },
    { selector: 'node[kind = "lb"]', style: { shape: 'diamond', 'background-color': v('--lb'), width: 50, height: 50 } },
    { selector: 'node[kind = "lan"]', style: { shape: 'rectangle', 'background-color': v('--lan'), width: 120, height: 14, 'text-valign': 'top', 'text-margin-y': -4 } },
    { selector: 'node[kind = "node"]', style: { shape: 'round-rectangle', 'background-color': v('--node'), 'background-opacity': 0.55, 'text-valign': 'top', 'text-halign': 'center', 'text-margin-y': -6, padding: '18px', 'min-width': '120px', 'min-height': '80px', 'font-weight': 'bold', 'compound-sizing-wrt-labels': 'include' } },
    { selector: 'node[kind = "pod"]', style: { shape: 'round-rectangle', 'background-color': v('--pod'), width: 34, height: 34, 'font-size': 10 } },
    { selector: 'node.pending', style: { 'border-style': 'dashed' } },
    { selector: 'node[kind = "deployment"]', style: { shape: 'round-hexagon' as 'hexagon', 'background-color': v('--dep'), width: 40, height: 36 } },
    { selector: 'node[kind = "service"]', style: { shape: 'round-tag' as 'tag', 'background-color': v('--svc'), width: 46, height: 34 } },
    { selector: 'edge', style: { width: 2, 'line-color': v('--edge'), 'curve-style': 'straight', label: 'data(label)', 'font-size': 9, color: v('--muted'), 'text-rotation': 'autorotate', 'text-background-color': v('--canvas'), 'text-background-opacity': 1, 'text-background-padding': '1px', 'min-zoomed-font-size': 8 } },
    { selector: 'edge[kind = "veth"]', style: { 'line-style': 'solid', 'line-color': v('--accent') } },
    { selector: 'edge[kind = "owner"]', style: { 'line-style': 'dotted', width: 1, 'target-arrow-shape': 'none', label: '' } },
    { selector: 'edge[kind = "endpoint"]', style: { 'line-style': 'dashed', 'line-color': v('--svc'), 'target-arrow-shape': 'triangle', 'target-arrow-color': v('--svc'), 'arrow-scale': 0.8, label: '' } },
    { selector: ':selected', style: { 'border-width': 3, 'border-color': v('--select'), 'line-color': v('--select'), 'target-arrow-color': v('--select') } },
    { selector: '.match', style: { 'border-width': 4, 'border-color': v('--warn'), 'underlay-color': v('--warn'), 'underlay-opacity': 0.25, 'underlay-padding': 6 } },
    ...pathStyle(v),
    { selector: '.stepping', style: { 'border-width': 5, 'border-color': v('--danger'), 'underlay-color': v('--danger'), 'underlay-opacity': 0.3, 'underlay-padding': 8 } },
    { selector: '.sending', style: { 'border-width': 5, 'border-color': v('--accent'), 'border-style': 'dashed', 'underlay-color': v('--accent'), 'underlay-opacity': 0.3, 'underlay-padding': 8 } },
    { selector: '.eh-handle', style: { 'background-color': v('--accent'), width: 12, height: 12, shape: 'ellipse', 'overlay-opacity': 0, 'border-width': 8, 'border-opacity': 0, label: '' } },
    { selector: '.eh-hover', style: { 'background-color': v('--accent') } },
    { selector: '.eh-source', style: { 'border-width': 3, 'border-color': v('--accent') } },
    { selector: '.eh-target', style: { 'border-width': 3, 'border-color': v('--accent') } },
    { selector: '.eh-preview, .eh-ghost-edge', style: { 'line-color': v('--accent'), 'target-arrow-color': v('--accent'), 'source-arrow-color': v('--accent'), 'line-style': 'dashed', label: '' } },
    { selector: '.eh-ghost-edge.eh-preview-active', style: { opacity: 0 } },
  ];
}
