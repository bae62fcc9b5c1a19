// Starting a trace from the canvas: right-click a pod, node or host → "Send packet from here…",
// then click where it goes (a pod, Service, node or host; Esc or a click on empty canvas
// cancels). The debugger opens with its form filled in — the ends in `kpl trace` words, the
// destination's first port and protocol (renderer/send-ends.ts) — and the walk traced; the form
// can then be changed and traced again.

import type { Core, EventObject, NodeSingular } from 'cytoscape';
import type { LabView } from '../shared/api/contract.ts';
import type { StartedTrace } from './guide-steps.ts';
import type { ElData } from './graph.ts';
import { canSend, traceEnds } from './send-ends.ts';
import { h } from './ui.ts';

type Spec = StartedTrace['spec'];

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
