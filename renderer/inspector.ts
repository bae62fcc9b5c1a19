// The inspector: the selected element as a form and as YAML. Kubernetes objects can be
// edited either way and applied; errors come back inline in the service's (kubectl's) words.
// Hosts show their interfaces and take a console command.

import { stringify } from './yaml-lite.ts';
import type { ApplyResult, LabApi, LabView } from '../shared/api/contract.ts';
import type { ElData } from './graph.ts';
import { deploymentManifest, formatLabels, parseLabels, serviceManifest } from './manifests.ts';
import { clear, errorText, h } from './ui.ts';
import { openRulesBrowser, type RuleBreakpoints } from './rules-browser.ts';

export interface InspectorCtx {
  api: LabApi;
  lab: string;
  view: LabView;
  selected: ElData[];
  applyOk: boolean;
  onDelete: () => void;
  /** The debugger's rule breakpoints, which the rules browser's gutter sets. */
  breakpoints?: RuleBreakpoints;
  /** Opens the console panel on a host, node or pod (namespace/name). */
  onConsole?: (host: string, hostname: string) => void;
}

let tab: 'form' | 'yaml' = 'form';
let lastKey = '';

/** Splits a console line into argv (quotes and backslashes as a shell would, no expansion). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  let any = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      any = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

/** "rules: minikube +4 −0, minikube-m02 +4 −0" (nodes whose rules changed). */
function rulesText(r: ApplyResult): string {
  const changed = (r.rules ?? []).filter((x) => x.added || x.removed);
  if (!r.rules?.length) return '';
  return changed.length ? `rules: ${changed.map((x) => `${x.node} +${x.added} −${x.removed}`).join(', ')}\n` : 'rules: unchanged\n';
}

function kv(...rows: [string, string | Node][]): HTMLElement {
  const g = h('div', { class: 'kv' });
  for (const [k, v] of rows) g.append(h('label', {}, k), typeof v === 'string' ? h('span', {}, v) : v);
  return g;
}

function yamlEditor(ctx: InspectorCtx, text: string, editable: boolean): HTMLElement {
  const area = h('textarea', { spellcheck: 'false', 'data-testid': 'yaml', readonly: !editable });
  area.value = text;
  const msg = h('div', { 'data-testid': 'yaml-result' });
  const box = h('div', {}, area, msg);
  if (editable) {
    box.append(h('div', { style: 'display:flex;gap:6px;margin-top:6px' },
      h('button', {
        class: 'primary', 'data-testid': 'yaml-apply',
        onclick: async () => {
          msg.className = '';
          msg.textContent = 'Applying…';
          try {
            const r = await ctx.api.apply(ctx.lab, area.value);
            msg.className = 'okmsg';
            msg.textContent = (r.output || 'applied') + rulesText(r);
          } catch (e) {
            msg.className = 'error';
            msg.textContent = errorText(e);
          }
        },
      }, 'Apply')));
  }
  return box;
}

export function renderInspector(root: HTMLElement, ctx: InspectorCtx): void {
  const { view, selected } = ctx;
  const key = selected.map((s) => s.id).join('|');
  if (key !== lastKey) {
    lastKey = key;
    // A new selection keeps the tab; a YAML being edited stays while the view refreshes.
  } else if (root.contains(document.activeElement) && document.activeElement !== root) {
    return;
  }
  clear(root);
  if (selected.length === 0) {
    const c = view.cluster;
    root.append(h('h3', {}, 'Lab'), kv(['Name', view.name], ['Hosts', String(view.hosts.length)], ['LANs', String(view.lans.length)], ['Veths', String(view.veths.length)],
      ...(c ? ([['Nodes', String(c.nodes.length)], ['Pods', String(c.pods.length)], ['Services', String(c.services.length)]] as [string, string][]) : [])),
    h('p', { class: 'muted' }, 'Select an element to inspect it. Drag from the palette to add; connect mode (C) cables hosts to LANs.'));
    if (ctx.applyOk) root.append(h('h3', {}, 'Apply a manifest'), yamlEditor(ctx, '', true));
    return;
  }
  if (selected.length > 1) {
    root.append(h('h3', {}, `${selected.length} selected`),
      h('ul', {}, ...selected.slice(0, 30).map((s) => h('li', {}, `${s.kind} ${s.name}`))),
      h('button', { class: 'danger', onclick: ctx.onDelete, 'data-testid': 'delete-selection' }, 'Delete'));
    return;
  }
  const s = selected[0];
  const tabs = h('div', { class: 'tabs' },
    h('button', { class: tab === 'form' ? 'on' : '', onclick: () => { tab = 'form'; lastKey = ''; renderInspector(root, ctx); } }, 'Form'),
    h('button', { class: tab === 'yaml' ? 'on' : '', 'data-testid': 'tab-yaml', onclick: () => { tab = 'yaml'; lastKey = ''; renderInspector(root, ctx); } }, 'YAML'));
  root.append(h('h3', {}, `${s.kind} ${s.name}`), tabs);
  const body = h('div', {});
  root.append(body, h('div', {}, h('button', { class: 'danger', onclick: ctx.onDelete, 'data-testid': 'delete-selection' }, 'Delete')));

  const host = view.hosts.find((x) => x.name === s.name);
  switch (s.kind) {
    case 'host': case 'client': case 'lb': case 'node': {
      const node = view.cluster?.nodes.find((n) => n.name === s.name);
      if (tab === 'yaml') {
        // Shown, not edited: a Node applied from this partial view would lose its status addresses.
        const nodeDoc = node ? { apiVersion: 'v1', kind: 'Node', metadata: { name: node.name }, ...(node.podCIDR ? { spec: { podCIDR: node.podCIDR } } : {}), ...(node.ip ? { status: { addresses: [{ type: 'InternalIP', address: node.ip }] } } : {}) } : null;
        body.append(yamlEditor(ctx, stringify(nodeDoc ?? host ?? { name: s.name }), false));
        break;
      }
      body.append(kv(['Kind', s.kind === 'lb' ? 'load balancer' : s.kind === 'client' ? 'external client' : s.kind],
        ['Listens', host?.listen.map((l) => `${l.port}/${l.proto}`).join(', ') || '—'],
        ...(node?.ip ? ([['Node IP', node.ip]] as [string, string][]) : []),
        ...(node?.podCIDR ? ([['Pod CIDR', node.podCIDR]] as [string, string][]) : [])));
      if (host?.links.length) body.append(h('h3', {}, 'Interfaces'), kv(...host.links.map((l) => [l.dev, `${l.ip} on ${l.lan}`] as [string, string])));
      const veths = view.veths.filter((v) => v.a.host === s.name || v.b.host === s.name);
      if (veths.length) body.append(h('h3', {}, 'Veths'), kv(...veths.map((v) => {
        const [me, peer] = v.a.host === s.name ? [v.a, v.b] : [v.b, v.a];
        return [me.dev, `${me.ip ?? ''} ⇄ ${peer.host}:${peer.dev}`] as [string, string];
      })));
      // Hosts and nodes (a node is a host the cluster made) take console commands.
      if ((host || node) && ctx.onConsole) body.append(h('button', { 'data-testid': 'open-console', onclick: () => ctx.onConsole?.(s.name, s.name) }, 'Open console'));
      // Its tables, chains, sets and connections (the rules browser).
      if (host || node) body.append(' ', h('button', { 'data-testid': 'open-rules', title: 'Tables, chains and rules with counters, ipsets, conntrack', onclick: () => openRulesBrowser({ api: ctx.api, lab: ctx.lab, host: s.name, ...(ctx.breakpoints ? { breakpoints: ctx.breakpoints } : {}) }) }, 'Rules'));
      if (host || node) body.append(consoleBox(ctx, s.name));
      break;
    }
    case 'lan': {
      const members = view.hosts.flatMap((x) => x.links.filter((l) => l.lan === s.name).map((l) => [x.name, `${l.dev} ${l.ip}`] as [string, string]));
      if (tab === 'yaml') body.append(yamlEditor(ctx, stringify({ name: s.name, members: Object.fromEntries(members) }), false));
      else body.append(members.length ? kv(...members) : h('p', { class: 'muted' }, 'No hosts on this LAN yet: connect one (C, then drag from the host to the LAN).'));
      break;
    }
    case 'service': {
      const svc = view.cluster?.services.find((x) => x.name === s.name && x.namespace === s.namespace);
      if (!svc) break;
      const p = svc.ports[0];
      const form = { name: svc.name, namespace: svc.namespace, type: svc.type, port: p?.port ?? 80, targetPort: p?.targetPort ?? p?.port ?? 80, ...(p?.nodePort ? { nodePort: p.nodePort } : {}), selector: svc.selector, ...(svc.externalTrafficPolicy ? { externalTrafficPolicy: svc.externalTrafficPolicy } : {}) };
      if (tab === 'yaml') {
        body.append(yamlEditor(ctx, serviceManifest(form), ctx.applyOk));
        break;
      }
      const type = h('select', { 'data-testid': 'svc-type' }, ...['ClusterIP', 'NodePort', 'LoadBalancer'].map((t) => h('option', { value: t }, t)));
      type.value = svc.type;
      const etp = h('select', {}, ...['Cluster', 'Local'].map((t) => h('option', { value: t }, t)));
      etp.value = svc.externalTrafficPolicy ?? 'Cluster';
      const port = h('input', { type: 'number', value: String(form.port) });
      const sel = h('input', { value: formatLabels(svc.selector) });
      const msg = h('div', {});
      const eps = view.cluster?.endpoints.filter((e) => e.service === svc.name && e.namespace === svc.namespace) ?? [];
      body.append(kv(['Cluster IP', svc.clusterIP ?? '—'], ['Type', type], ['Port', port], ['NodePort', p?.nodePort ? String(p.nodePort) : '—'], ['Ext. traffic', etp], ['Selector', sel], ['Endpoints', eps.map((e) => `${e.ip}${e.port ? `:${e.port}` : ''}`).join(', ') || '—']),
        h('button', {
          class: 'primary', disabled: !ctx.applyOk,
          onclick: async () => {
            try {
              const r = await ctx.api.apply(ctx.lab, serviceManifest({ ...form, type: type.value, port: Number(port.value), selector: parseLabels(sel.value), externalTrafficPolicy: etp.value }));
              msg.className = 'okmsg';
              msg.textContent = r.output + rulesText(r);
            } catch (e) {
              msg.className = 'error';
              msg.textContent = errorText(e);
            }
          },
        }, 'Apply'), msg);
      break;
    }
    case 'deployment': {
      const d = view.cluster?.deployments.find((x) => x.name === s.name && x.namespace === s.namespace);
      if (!d) break;
      if (tab === 'yaml') {
        body.append(yamlEditor(ctx, deploymentManifest(d.name, d.replicas, { namespace: d.namespace }), ctx.applyOk));
        break;
      }
      const replicas = h('input', { type: 'number', min: '0', value: String(d.replicas), 'data-testid': 'replicas' });
      const msg = h('div', {});
      const pods = view.cluster?.pods.filter((p) => p.owner === d.name && p.namespace === d.namespace) ?? [];
      body.append(kv(['Replicas', replicas], ['Selector', formatLabels(d.selector)], ['Pods', pods.map((p) => `${p.name} ${p.ip ?? ''}`).join('\n') || '—']),
        h('button', {
          class: 'primary', disabled: !ctx.applyOk,
          onclick: async () => {
            try {
              const r = await ctx.api.apply(ctx.lab, deploymentManifest(d.name, Number(replicas.value), { namespace: d.namespace }));
              msg.className = 'okmsg';
              msg.textContent = r.output + rulesText(r);
            } catch (e) {
              msg.className = 'error';
              msg.textContent = errorText(e);
            }
          },
        }, 'Scale'), msg);
      break;
    }
    case 'pod': {
      const p = view.cluster?.pods.find((x) => x.name === s.name && x.namespace === s.namespace);
      if (!p) break;
      if (tab === 'yaml') body.append(yamlEditor(ctx, stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels }, spec: { nodeName: p.node }, status: { phase: p.phase, podIP: p.ip } }), false));
      else {
        body.append(kv(['Node', p.node ?? '—'], ['IP', p.ip ?? '—'], ['Phase', p.phase ?? '—'], ['Labels', formatLabels(p.labels) || '—'], ['Owner', p.owner ?? '—']));
        if (ctx.onConsole) body.append(h('button', { 'data-testid': 'open-console', onclick: () => ctx.onConsole?.(`${p.namespace}/${p.name}`, p.name) }, 'Open console'));
        body.append(' ', h('button', { 'data-testid': 'open-rules', title: 'Tables, chains and rules with counters, ipsets, conntrack', onclick: () => openRulesBrowser({ api: ctx.api, lab: ctx.lab, host: `${p.namespace}/${p.name}`, title: p.name, ...(ctx.breakpoints ? { breakpoints: ctx.breakpoints } : {}) }) }, 'Rules'));
        if (host) body.append(consoleBox(ctx, s.name));
      }
      break;
    }
    default: {
      // An edge: a link, a veth, an endpoint.
      body.append(kv(['Kind', s.kind], ['Of', s.name], ['Label', s.label || '—']));
    }
  }
}

function consoleBox(ctx: InspectorCtx, host: string): HTMLElement {
  const input = h('input', { placeholder: 'iptables -t nat -S', spellcheck: 'false', 'data-testid': 'command', style: 'width:100%' });
  const out = h('pre', { 'data-testid': 'command-output' });
  out.style.display = 'none';
  input.addEventListener('keydown', async (e) => {
    e.stopPropagation();
    if (e.key !== 'Enter' || !input.value.trim()) return;
    const line = input.value.trim();
    out.style.display = '';
    try {
      const r = await ctx.api.exec(ctx.lab, host, splitArgs(line));
      void ctx.api.appendConsoleHistory(ctx.lab, host, line).catch(() => undefined);
      out.textContent = `# ${line}\n${r.stdout}${r.stderr}${r.code ? `(exit ${r.code})\n` : ''}`;
      input.value = '';
    } catch (err) {
      out.textContent = errorText(err);
    }
  });
  return h('div', {}, h('h3', {}, `Command on ${host}`), input, out);
}
