// The packet on the canvas: while the debugger steps or plays, a small dot moves from the host of
// the previous step to the current step's host when the walk hops, and rests there while the walk
// stays. It is an HTML overlay in the canvas's container, never a graph element, so layouts, the
// saved positions, PNG/SVG exports and element counts never see it. Its place is worked out on
// every frame from the hosts' positions and the viewport, so it follows pan, zoom and layouts.
// A flight takes Play's interval (250 ms when stepping by hand); with prefers-reduced-motion the
// dot jumps. It goes when the debugger closes, and starts afresh with a new trace or branch.
// Styled through element.style (the CSP allows no style attributes).

import type { Core, NodeSingular, Position } from 'cytoscape';
import { hostNode } from './trace-path.ts';

/** What the debugger tells at each step. */
export interface PacketStep {
  cy: Core;
  /** The debugger's panel: the dot goes when it is hidden. */
  panel: HTMLElement;
  /** The walk on show: a different one (a new trace or branch) places the dot without a flight. */
  walk: object;
  /** The current step's host, or null (no step). */
  host: string | null;
  /** Play's interval per step in ms; null when stepping by hand. */
  playMs: number | null;
}

const HAND_MS = 250;
const SIZE = 12;

interface Dot {
  el: HTMLDivElement;
  walk: object;
  host: string;
  /** Where the flight starts (model coordinates), null when resting. */
  from: (() => Position | null) | null;
  t0: number;
  ms: number;
  raf: number;
  dispose(): void;
}

const dots = new WeakMap<Core, Dot>();

const reduced = (): boolean => typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
const ease = (t: number): number => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

/** A host's centre in model coordinates, or null when it is not drawn. */
function centre(n: NodeSingular | null): Position | null {
  if (!n || n.removed() || !n.visible()) return null;
  const p = n.position();
  return { x: p.x, y: p.y };
}

/** Moves the packet's dot to the current step's host (a flight when the host changed). */
export function movePacket(s: PacketStep): void {
  let d = dots.get(s.cy);
  if (d && (d.walk !== s.walk || s.panel.hidden || s.host === null)) {
    d.dispose();
    d = undefined;
  }
  if (s.host === null || s.panel.hidden) return;
  if (!d) {
    d = create(s.cy, s.panel, s.walk, s.host);
  } else if (d.host !== s.host) {
    // From where the dot is now (mid-flight: the point it had reached, fixed).
    const cy = s.cy;
    const was = here(cy, d, performance.now());
    const prev = d.host;
    d.from = was && d.from ? () => was : () => centre(hostNode(cy, prev));
    d.host = s.host;
    d.t0 = performance.now();
    d.ms = reduced() ? 0 : s.playMs ?? HAND_MS;
  }
  d.el.dataset.host = d.host;
  kick(s.cy, d);
}

/** Removes the dot of a canvas, if any. */
export function disposePacket(cy: Core): void {
  dots.get(cy)?.dispose();
}

function create(cy: Core, panel: HTMLElement, walk: object, host: string): Dot {
  const el = document.createElement('div');
  el.dataset.testid = 'packet-dot';
  el.setAttribute('aria-hidden', 'true');
  const st = el.style;
  st.position = 'absolute';
  st.left = '0';
  st.top = '0';
  st.width = st.height = `${SIZE}px`;
  st.boxSizing = 'border-box';
  st.borderRadius = '50%';
  st.background = 'var(--accent)';
  st.border = '2px solid var(--text)';
  st.boxShadow = '0 0 6px var(--accent)';
  st.pointerEvents = 'none';
  st.zIndex = '10';
  st.display = 'none';
  st.willChange = 'transform';
  cy.container()?.append(el);
  const onRender = (): void => kick(cy, d);
  // Closing the debugger hides its panel.
  const watch = new MutationObserver(() => {
    if (panel.hidden) d.dispose();
  });
  watch.observe(panel, { attributes: true, attributeFilter: ['hidden'] });
  const d: Dot = {
    el, walk, host, from: null, t0: 0, ms: 0, raf: 0,
    dispose: () => {
      if (d.raf) cancelAnimationFrame(d.raf);
      d.raf = 0;
      watch.disconnect();
      cy.off('render', onRender);
      cy.off('destroy', d.dispose);
      el.remove();
      if (dots.get(cy) === d) dots.delete(cy);
    },
  };
  // Pan, zoom, a dragged node or a layout redraws the canvas: the dot follows.
  cy.on('render', onRender);
  cy.one('destroy', d.dispose);
  dots.set(cy, d);
  return d;
}

/** The dot's point in model coordinates at `now`, or null when the host is not drawn. */
function here(cy: Core, d: Dot, now: number): Position | null {
  const to = centre(hostNode(cy, d.host));
  if (!to || !d.from) return to;
  const t = d.ms > 0 ? Math.min(1, (now - d.t0) / d.ms) : 1;
  if (t >= 1) return to;
  const from = d.from();
  if (!from) return to;
  const k = ease(t);
  return { x: from.x + (to.x - from.x) * k, y: from.y + (to.y - from.y) * k };
}

/** Draws the dot on the next frame (and on every frame while it flies). */
function kick(cy: Core, d: Dot): void {
  if (d.raf || dots.get(cy) !== d) return;
  d.raf = requestAnimationFrame((now) => {
    d.raf = 0;
    if (dots.get(cy) !== d) return;
    const flying = d.from !== null && d.ms > 0 && now - d.t0 < d.ms;
    if (!flying) d.from = null;
    const p = here(cy, d, now);
    const box = cy.container();
    const zoom = cy.zoom();
    const pan = cy.pan();
    const x = p ? p.x * zoom + pan.x : NaN;
    const y = p ? p.y * zoom + pan.y : NaN;
    // Off the canvas (or the host not drawn): hidden rather than over the panels beside it.
    const shown = p !== null && !!box && x >= 0 && y >= 0 && x <= box.clientWidth && y <= box.clientHeight;
    d.el.style.display = shown ? 'block' : 'none';
    if (shown) d.el.style.transform = `translate(${(x - SIZE / 2).toFixed(1)}px, ${(y - SIZE / 2).toFixed(1)}px)`;
    if (flying) d.el.dataset.moving = '';
    else delete d.el.dataset.moving;
    if (flying) kick(cy, d);
  });
}
