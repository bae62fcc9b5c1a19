// The walk's path on the canvas: every host the trace crosses (packet, answer, ACK) and the
// links between consecutive ones are marked `on-path`; those already walked up to the current
// step are also `walked`, so the packet's progress shows as a line drawn across the topology.
// The current host keeps the debugger's `stepping` class.

import type { Collection, Core, NodeSingular } from 'cytoscape';
import type { Nav } from './trace-nav.ts';

export interface TracePath {
  /** Marks what is walked by step `cur` (0-based row). */
  show(cur: number): void;
  clear(): void;
}

/** The canvas element of a host (node, pod or plain host), if drawn. */
export function hostNode(cy: Core, host: string): NodeSingular | null {
  for (const id of [`n:${host}`, `p:${host}`, `h:${host}`]) {
    const n = cy.getElementById(id);
    if (n.nonempty()) return n as NodeSingular;
  }
  return null;
}

/** The edges joining two hosts: a direct link, else through a LAN (or bridge) both sit on. */
function linkBetween(a: NodeSingular, b: NodeSingular): Collection {
  const direct = a.edgesWith(b) as unknown as Collection;
  if (direct.nonempty()) return direct;
  const shared = a.neighborhood('node').intersection(b.neighborhood('node'));
  return shared.nonempty() ? a.edgesWith(shared.first()).union(b.edgesWith(shared.first())).union(shared.first()) : a.cy().collection();
}

export function tracePath(cy: Core, nav: Nav): TracePath {
  // Hops: the row where the walk enters each host in turn. Events count too: a host without
  // rules (a plain client) has no steps, only its send and receive events.
  const marks: { row: number; host: string }[] = [];
  let e = 0;
  for (let k = 0; k <= nav.rows.length; k++) {
    for (; e < nav.events.length && nav.events[e].row <= k; e++) marks.push({ row: Math.min(nav.events[e].row, Math.max(0, nav.rows.length - 1)), host: nav.events[e].host });
    if (k < nav.rows.length) marks.push({ row: k, host: nav.rows[k].step.host });
  }
  const hops: { row: number; node: NodeSingular | null; link: Collection | null }[] = [];
  let last: string | null = null;
  for (const { row, host } of marks) {
    if (host === last) continue;
    const node = hostNode(cy, host);
    const prev = hops.length ? hops[hops.length - 1].node : null;
    hops.push({ row, node, link: node && prev && !prev.same(node) ? linkBetween(prev, node) : null });
    last = host;
  }
  let all = cy.collection();
  for (const h of hops) {
    if (h.node) all = all.union(h.node);
    if (h.link) all = all.union(h.link);
  }
  const clear = (): void => void cy.elements('.on-path, .walked').removeClass('on-path walked');
  return {
    show(cur: number): void {
      cy.batch(() => {
        clear();
        all.addClass('on-path');
        for (const h of hops) {
          if (h.row > cur) break;
          h.node?.addClass('walked');
          h.link?.addClass('walked');
        }
      });
    },
    clear,
  };
}
