// Starting a trace from the canvas: right-click a pod, node or host → "Send packet from here…",
// then click where it goes (a pod, Service, node or host; Esc or a click on empty canvas
// cancels). The debugger opens with its form filled in — the ends in `kpl trace` words, the
// destination's first port and protocol — and the walk traced; the form can then be changed and
// traced again. The ends are worked out from the lab's view alone (traceEnds, tested apart).

import type { Core, EventObject, NodeSingular } from 'cytoscape';
import type { LabView } from '../shared/api/contract.ts';
import type { StartedTrace } from './guide-steps.ts';
import type { ElData } from './graph.ts';
import { h } from './ui.ts';

type Spec = StartedTrace['spec'];

/** Where a packet can start: a pod (its own network namespace), a node, a Linux host. */
export function canSend(d: ElData): boolean {
  return (d.kind === 'pod' && !!d.namespace) || d.kind === 'node' || d.kind === 'host' || d.kind === 'client' || d.kind === 'lb';
}

/** The trace form's `from` for a canvas element (null: it sends nothing). */
export function fromOf(d: ElData): string | null {
  if (!canSend(d)) return null;
  return d.kind === 'pod' ? `pod/${d.namespace}/${d.name}` : d.kind === 'node' ? `node/${d.name}` : d.name;
}

function proto(p: string | undefined): Spec['proto'] {
  const l = (p ?? 'tcp').toLowerCase();
  return l === 'udp' || l === 'sctp' ? l : 'tcp';
}

/**
 * The trace's ends for a packet from `src` to `dst`: the destination's first port (a Service's
 * first port; a pod's port as an endpoint of a Service, else 80; a node's first NodePort, else
 * 80; a host's first listening port, else 80) with its protocol. Null when `dst` takes no packet
 * (a LAN, a Deployment) or the two are the same element.
 */
export function traceEnds(view: LabView, src: ElData, dst: ElData): Spec | null {
  const from = fromOf(src);
  if (!from || src.id === dst.id) return null;
  const c = view.cluster;
  if (dst.kind === 'service') {
    const s = c?.services.find((x) => x.name === dst.name && x.namespace === dst.namespace);
    const p = s?.ports[0];
    return { from, to: `${dst.name}.${dst.namespace ?? 'default'}:${p?.port ?? 80}`, proto: proto(p?.protocol) };
  }
  if (dst.kind === 'pod' && dst.namespace) {
    const ep = c?.endpoints.find((e) => e.pod === dst.name && e.namespace === dst.namespace && e.port !== undefined);
    const svcPort = ep ? c?.services.find((s) => s.name === ep.service && s.namespace === ep.namespace)?.ports.find((p) => p.targetPort === ep.port || p.port === ep.port) : undefined;
    return { from, to: `pod/${dst.namespace}/${dst.name}:${ep?.port ?? 80}`, proto: proto(svcPort?.protocol) };
  }
  if (dst.kind === 'node') {
    const np = c?.services.flatMap((s) => s.ports).find((p) => p.nodePort !== undefined);
    return { from, to: `node/${dst.name}:${np?.nodePort ?? 80}`, proto: proto(np?.protocol) };
  }
  if (dst.kind === 'host' || dst.kind === 'client' || dst.kind === 'lb') {
    const host = view.hosts.find((x) => x.name === dst.name);
    const ip = host?.links.find((l) => l.ip)?.ip?.split('/')[0];
    if (!ip) return null;
    const l = host?.listen[0];
    return { from, to: `${ip}:${l?.port ?? 80}`, proto: proto(l?.proto) };
  }
  return null;
}

export interface SendPacket {
  /** True while a destination is being chosen. */
  active(): boolean;
  cancel(): void;
  dispose(): void;
}

export function createSendPacket(deps: { cy: Core; box: HTMLElement; view: () => LabView | null; trace: (spec: Spec) => void }): SendPacket {
  const { cy, box } = deps;
  let source: NodeSingular | null = null;
  const hint = h('div', { class: 'send-hint', 'data-testid': 'send-hint', hidden: true });
  const menu = h('div', { class: 'canvas-menu', role: 'menu', 'data-testid': 'canvas-menu', hidden: true });
  box.append(menu, hint);

  const closeMenu = (): void => {
    menu.hidden = true;
  };
  const cancel = (): void => {
    source?.removeClass('sending');
    source = null;
    hint.hidden = true;
    closeMenu();
  };
  const begin = (n: NodeSingular): void => {
    closeMenu();
    source = n;
    n.addClass('sending');
    hint.textContent = `Sending from ${(n.data() as ElData).name}: click the destination (a pod, Service, node or host) — Esc cancels`;
    hint.hidden = false;
  };

  // The innermost element under a right-click (a pod before the node around it) gets the menu.
  let lastMenu: Event | undefined;
  const onMenu = (e: EventObject): void => {
    // (the event bubbles from a pod to the node around it: the first call, the innermost, wins)
    if (e.originalEvent && e.originalEvent === lastMenu) return;
    lastMenu = e.originalEvent;
    const n = e.target as NodeSingular;
    const d = n.data() as ElData;
    if (!canSend(d)) return;
    cancel();
    menu.replaceChildren(h('button', { role: 'menuitem', 'data-testid': 'menu-send', onclick: () => begin(n) }, 'Send packet from here…'));
    const p = e.renderedPosition ?? n.renderedPosition();
    menu.style.left = `${Math.round(p.x)}px`;
    menu.style.top = `${Math.round(p.y)}px`;
    menu.hidden = false;
    (menu.firstElementChild as HTMLElement).focus();
  };
  const onTap = (e: EventObject): void => {
    closeMenu();
    if (!source) return;
    if (e.target === cy) return cancel();
    const view = deps.view();
    const spec = view ? traceEnds(view, source.data() as ElData, (e.target as NodeSingular).data() as ElData) : null;
    if (!spec) return; // (a LAN or a Deployment: keep choosing)
    cancel();
    deps.trace(spec);
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Escape' && (source || !menu.hidden)) {
      cancel();
      e.stopPropagation();
    }
  };
  cy.on('cxttap', 'node', onMenu);
  cy.on('tap', onTap);
  window.addEventListener('keydown', onKey, true);
  return {
    active: () => source !== null,
    cancel,
    dispose: () => {
      cy.off('cxttap', 'node', onMenu);
      cy.off('tap', onTap);
      window.removeEventListener('keydown', onKey, true);
      menu.remove();
      hint.remove();
    },
  };
}
