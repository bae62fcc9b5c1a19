// A lab's editor: the palette, the Cytoscape canvas (a view of the lab: the store owns the
// topology, the canvas only authors positions), the inspector and the toolbar. Every change
// goes through the API at once; the canvas is reconciled from `view()` after each change.

import cytoscape, { type Core, type ElementDefinition, type NodeSingular, type Position } from 'cytoscape';
import fcose from 'cytoscape-fcose';
import dagre from 'cytoscape-dagre';
import edgehandles from 'cytoscape-edgehandles';
import type { LabApi, LabView, Layout, RemoveItem } from '../shared/api/contract.ts';
import { elementsOf, graphStyle, type ElData, type Kind } from './graph.ts';
import { renderInspector } from './inspector.ts';
import { createConsole } from './console.ts';
import { createSendPacket } from './send-packet.ts';
import { createStepper, walkOf } from './debugger.ts';
import { commandPacket } from './trace-nav.ts';
import { createGuide, type GuidePanel } from './walkthrough.ts';
import { deploymentManifest, nextNodeIP, nodeManifest, podManifest, serviceManifest, parseLabels } from './manifests.ts';
import { exportSvg } from './export-svg.ts';
import { minimap } from './minimap.ts';
import { toggleHelp, toggleTheme, topbar } from './topbar.ts';
import { busy, dialog, download, errorText, h, toast } from './ui.ts';

cytoscape.use(fcose);
cytoscape.use(dagre);
cytoscape.use(edgehandles);

type PaletteKind = 'node' | 'pod' | 'deployment' | 'service' | 'client' | 'lb' | 'host' | 'lan';

const PALETTE: { kind: PaletteKind; label: string; color: string; cluster: boolean }[] = [
  { kind: 'node', label: 'Node', color: '--node', cluster: true },
  { kind: 'pod', label: 'Pod', color: '--pod', cluster: true },
  { kind: 'deployment', label: 'Deployment', color: '--dep', cluster: true },
  { kind: 'service', label: 'Service', color: '--svc', cluster: true },
  { kind: 'client', label: 'External client', color: '--client', cluster: false },
  { kind: 'lb', label: 'Load balancer', color: '--lb', cluster: false },
  { kind: 'host', label: 'Host', color: '--host', cluster: false },
  { kind: 'lan', label: 'LAN', color: '--lan', cluster: false },
];

/**
 * The structured layout for big labs (fcose's spring embedding takes tens of seconds at
 * thousands of nodes): Kubernetes nodes in a grid of boxes with their pods in a grid inside,
 * everything else in rows above (LANs, hosts, Deployments, Services). Linear time.
 */
export function gridPositions(els: { id: string; kind: string; parent?: string }[]): Record<string, Position> {
  const CELL_X = 160;
  const CELL_Y = 80;
  const pos: Record<string, Position> = {};
  const kids = new Map<string, string[]>();
  for (const e of els) if (e.parent) (kids.get(e.parent) ?? kids.set(e.parent, []).get(e.parent)!).push(e.id);
  const parents = els.filter((e) => e.kind === 'node');
  const perRow = Math.max(1, Math.ceil(Math.sqrt(parents.length)));
  let x = 0;
  let y = 0;
  let rowH = 0;
  parents.forEach((p, i) => {
    if (i > 0 && i % perRow === 0) {
      x = 0;
      y += rowH + 140;
      rowH = 0;
    }
    const ks = kids.get(p.id) ?? [];
    const cols = Math.max(1, Math.ceil(Math.sqrt(ks.length)));
    ks.forEach((k, j) => {
      pos[k] = { x: x + (j % cols) * CELL_X, y: y + Math.floor(j / cols) * CELL_Y };
    });
    pos[p.id] = { x, y };
    x += cols * CELL_X + 120;
    rowH = Math.max(rowH, Math.ceil(ks.length / cols) * CELL_Y);
  });
  const rows: Record<string, number> = { lan: -520, host: -420, client: -420, lb: -420, deployment: -320, service: -220 };
  const count: Record<number, number> = {};
  for (const e of els) {
    if (e.parent || e.kind === 'node') continue;
    const ry = rows[e.kind] ?? -620;
    const i = (count[ry] = (count[ry] ?? 0) + 1) - 1;
    pos[e.id] = { x: i * CELL_X, y: ry };
  }
  return pos;
}

/** Above this many elements the automatic layout is the structured grid, not fcose. */
const BIG_LAB = 400;
/**
 * Above this many elements the layered layout shows a progress bar while it runs: dagre with
 * compound nodes takes about 1.4 s at 240 nodes and 6 s at 640 (hence the grid above BIG_LAB).
 */
const SLOW_DAGRE = 150;

/**
 * The automatic layouts: fcose (force-directed), dagre (layered, top to bottom: LANs, then the
 * hosts and nodes on them with their pods, then the Services and Deployments under the pods)
 * and the structured grid. The choice is kept in the browser (per window, all labs).
 */
export type LayoutKind = 'fcose' | 'dagre' | 'grid';
const LAYOUTS: { kind: LayoutKind; label: string }[] = [
  { kind: 'fcose', label: 'Force (fcose)' },
  { kind: 'dagre', label: 'Layers (dagre)' },
  { kind: 'grid', label: 'Grid' },
];
const LAYOUT_KEY = 'kpl.layoutKind';
function savedLayoutKind(): LayoutKind {
  let v: string | null = null;
  try {
    v = localStorage.getItem(LAYOUT_KEY);
  } catch {
    // storage refused: the default
  }
  return LAYOUTS.some((l) => l.kind === v) ? (v as LayoutKind) : 'fcose';
}

interface EhApi {
  enableDrawMode(): void;
  disableDrawMode(): void;
  destroy(): void;
}

/** Exposed for tests and the bench (window.kplEditor). */
export interface EditorHandle {
  cy: Core;
  lab: string;
  ready: Promise<void>;
  refreshed: number;
}

export function openEditor(root: HTMLElement, api: LabApi, lab: string, opts: { guide?: boolean } = {}): () => void {
  let view: LabView | null = null;
  let layout: Layout = { positions: {} };
  let connectMode = false;
  let applyOk = false;
  let disposed = false;
  let layoutKind = savedLayoutKind();

  // ---- frame -------------------------------------------------------------------------------
  const search = h('input', { class: 'search', type: 'search', placeholder: 'Search name or IP  (/)', 'data-testid': 'search', spellcheck: 'false' });
  const undoBtn = h('button', { title: 'Undo (Ctrl+Z)', 'data-testid': 'undo', onclick: () => void undo() }, '↶ Undo');
  const redoBtn = h('button', { title: 'Redo (Ctrl+Shift+Z)', 'data-testid': 'redo', onclick: () => void redo() }, '↷ Redo');
  const connectBtn = h('button', { title: 'Connect mode: drag from one element to another (C)', 'data-testid': 'connect', onclick: () => setConnect(!connectMode) }, '⤳ Connect');
  const tools = h('div', { class: 'toolbar-group' },
    undoBtn, redoBtn, connectBtn,
    h('button', { title: 'Automatic layout (L), with the layout chosen beside', onclick: () => runLayout(true), 'data-testid': 'layout' }, 'Layout'),
    layoutSelect(),
    h('button', { title: 'Zoom to fit (F)', onclick: () => cy.fit(undefined, 40), 'data-testid': 'fit' }, 'Fit'),
    h('button', { title: 'Export PNG', onclick: () => void exportPng(), 'data-testid': 'export-png' }, 'PNG'),
    h('button', { title: 'Export SVG', onclick: () => exportSvgFile(), 'data-testid': 'export-svg' }, 'SVG'),
    h('button', { title: 'Export .kpl', onclick: () => void exportKpl(), 'data-testid': 'export-kpl' }, '.kpl'),
    search);
  /** The layout menu beside the Layout button: choosing one lays the lab out with it. */
  function layoutSelect(): HTMLSelectElement {
    const sel = h('select', { title: 'Automatic layout', 'aria-label': 'Automatic layout', 'data-testid': 'layout-kind' },
      ...LAYOUTS.map((l) => h('option', { value: l.kind }, l.label)));
    sel.value = layoutKind;
    sel.addEventListener('change', () => {
      layoutKind = sel.value as LayoutKind;
      try {
        localStorage.setItem(LAYOUT_KEY, layoutKind);
      } catch {
        // not kept
      }
      runLayout(true);
      sel.blur();
    });
    return sel;
  }
  const palette = h('div', { class: 'palette', 'data-testid': 'palette' }, h('h3', {}, 'Palette'));
  for (const p of PALETTE) {
    const item = h('div', { class: 'item', draggable: 'true', 'data-kind': p.kind, 'data-testid': `palette-${p.kind}`, title: `Drag onto the canvas to add a ${p.label.toLowerCase()}` },
      h('span', { class: 'sw', style: `background: var(${p.color})` }), p.label);
    item.addEventListener('dragstart', (e) => {
      e.dataTransfer?.setData('application/x-kpl-palette', p.kind);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
    });
    palette.append(item);
  }
  palette.append(h('div', { class: 'hint' }, 'Drag items onto the canvas. Connect mode (C) links hosts to LANs. Press ? for all shortcuts.'));
  const cyBox = h('div', { id: 'cy', 'data-testid': 'canvas' });
  const empty = h('div', { class: 'canvas-empty' }, 'Empty lab: drag a LAN and some hosts from the palette.');
  const wrap = h('div', { class: 'canvas-wrap' }, cyBox, empty);
  const inspector = h('div', { class: 'inspector', 'data-testid': 'inspector' });
  const status = h('div', { class: 'status', 'data-testid': 'status' });
  const dock = h('div', { class: 'dock', 'data-testid': 'dock' });
  root.append(topbar(lab, tools), h('div', { class: 'editor' }, palette, wrap, inspector), dock, status);

  // ---- canvas ------------------------------------------------------------------------------
  const cy = cytoscape({
    container: cyBox,
    style: graphStyle(),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: true,
    selectionType: 'additive',
    textureOnViewport: false,
    hideEdgesOnViewport: false,
  });
  // Connect mode's edgehandles, made the first time it is turned on (its listeners would
  // otherwise see every event of a big lab's opening).
  let eh: EhApi | null = null;
  const edgeHandles = (): EhApi => (eh ??= (cy as unknown as { edgehandles(o: object): EhApi }).edgehandles({
    canConnect: (a: NodeSingular, b: NodeSingular) => !a.same(b),
    edgeParams: () => ({ data: { kind: 'pending' } }),
    snap: true,
    hoverDelay: 100,
  }));
  // The navigator is made after the first picture is on screen (see firstFrameShown).
  let closeMinimap: (() => void) | null = null;

  // ---- consoles and the packet stepper ------------------------------------------------------
  let guide: GuidePanel | null = null;
  const stepper = createStepper({ cy, api, lab, onTrace: (t) => guide?.onTrace(t) });
  const consoles = createConsole({
    api,
    lab,
    names: () => {
      const c = view?.cluster;
      return [...(view?.hosts.map((x) => x.name) ?? []), ...(c?.nodes.map((n) => n.name) ?? []), ...(c?.pods.map((p) => p.name) ?? []), ...(c?.services.map((x) => x.name) ?? [])];
    },
    kube: () => {
      const c = view?.cluster;
      return {
        pods: c?.pods.map((p) => p.name) ?? [], services: c?.services.map((x) => x.name) ?? [], nodes: c?.nodes.map((n) => n.name) ?? [],
        deployments: c?.deployments.map((d) => d.name) ?? [],
        namespaces: [...new Set(['default', 'kube-system', ...(c?.pods.map((p) => p.namespace) ?? []), ...(c?.services.map((x) => x.namespace) ?? [])])],
      };
    },
    // (opened on the command's own packet: curl's SYN, not the DNS queries before it)
    onPackets: (traces, line) => stepper.show(traces, line.split('\n')[0], commandPacket(traces.map(walkOf))),
    onLine: (host, line, r) => guide?.onConsoleLine(host, line, r),
  });
  dock.append(consoles.el, stepper.el);
  // The walkthrough and exercises, beside the canvas.
  guide = createGuide({
    api, lab, consoles, stepper, show: showTarget, ...(opts.guide ? { open: true } : {}),
    resized: (first) => {
      cy.resize();
      // A lab opened with its guide: the picture fits the narrower canvas (unless a view was saved).
      if (first && !(layout.zoom && layout.pan)) cy.fit(undefined, 40);
    },
  });
  wrap.after(guide.el);
  tools.insertBefore(h('button', { title: 'Walkthrough and exercises (G)', 'data-testid': 'open-guide', onclick: () => guide?.toggle() }, 'Guide'), search);
  /** Selects and highlights a host, node, pod, Service or Deployment on the canvas (a step's "Show"). */
  function showTarget(target: string): boolean {
    const t = target.replace(/^(pod|node|host|svc|service|deployment)\//, '');
    const ids = [`n:${t}`, `h:${t}`, `l:${t}`, `p:${t}`, `p:default/${t}`, `s:${t}`, `s:default/${t}`, `d:${t}`, `d:default/${t}`];
    const el = ids.map((id) => cy.getElementById(id)).find((e) => e.nonempty());
    if (!el) return false;
    cy.elements().unselect();
    cy.elements('.match').removeClass('match');
    el.select();
    el.addClass('match');
    cy.animate({ center: { eles: el } }, { duration: 250 });
    return true;
  }
  tools.insertBefore(h('button', { title: 'Trace a packet and step through its walk (F5 runs to the end)', 'data-testid': 'open-stepper', onclick: () => stepper.open() }, 'Trace'), search);
  // Right-click a pod, node or host → Send packet from here…, then click the destination.
  const send = createSendPacket({
    cy,
    box: wrap,
    view: () => view,
    trace: (spec) => {
      stepper.open();
      void stepper.trace(spec).then((t) => {
        if (t) guide?.onTrace(t);
      });
    },
  });
  /** Opens a console on a canvas element (node, pod or Linux host). */
  function openConsoleOn(d: ElData): boolean {
    if (d.kind === 'pod' && d.namespace) consoles.open(`${d.namespace}/${d.name}`, d.name);
    else if (d.kind === 'node' || d.kind === 'host' || d.kind === 'client' || d.kind === 'lb') consoles.open(d.name, d.name);
    else return false;
    return true;
  }
  // The DOM's dblclick (a real double click), not Cytoscape's dbltap: two separate clicks on
  // the same element soon after each other must not open a console and take the keyboard.
  cyBox.addEventListener('dblclick', (e) => {
    const r = cyBox.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    // The innermost node under the pointer (a pod before the node that holds it).
    const hits = cy.nodes().filter((n) => {
      const b = n.renderedBoundingBox({ includeLabels: false });
      return x >= b.x1 && x <= b.x2 && y >= b.y1 && y <= b.y2;
    }).sort((a, b) => a.renderedBoundingBox({}).w * a.renderedBoundingBox({}).h - b.renderedBoundingBox({}).w * b.renderedBoundingBox({}).h);
    for (const n of hits) if (openConsoleOn(n.data() as ElData)) break;
  });
  let readyResolve: () => void = () => undefined;
  const handle: EditorHandle = { cy, lab, ready: new Promise<void>((r) => (readyResolve = r)), refreshed: 0 };
  (window as unknown as { kplEditor?: EditorHandle }).kplEditor = handle;

  let big = false;
  const onTheme = (): void => {
    cy.style(graphStyle(big));
  };
  window.addEventListener('kpl-theme', onTheme);

  // ---- state from the API --------------------------------------------------------------------
  let refreshing: Promise<void> | null = null;
  let again = false;
  async function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        let v: LabView;
        try {
          v = await api.view(lab);
        } catch (e) {
          toast(errorText(e), 'error');
          location.hash = '#/';
          return;
        }
        if (disposed) return;
        const first = view === null;
        if (first) status.dataset.viewAt = String(Math.round(performance.now()));
        view = v;
        setApplyOk(caps.apply && v.cluster !== null);
        if (v.layout) layout = { ...layout, kinds: v.layout.kinds ?? {}, positions: first ? { ...v.layout.positions } : { ...v.layout.positions, ...layout.positions } };
        reconcile(v, first);
        if (!first) stepper.labChanged();
        if (first) status.dataset.reconciledAt = String(Math.round(performance.now()));
        handle.refreshed++;
        // When the first picture is on screen (ms since the page started loading).
        if (first) {
          requestAnimationFrame(() => setTimeout(() => {
            status.dataset.readyMs = String(Math.round(performance.now()));
            firstFrameShown();
          }, 0));
        }
      } while (again);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = null;
      readyResolve();
    }
  }

  function reconcile(v: LabView, first: boolean): void {
    const t0 = performance.now();
    const { nodes, edges } = elementsOf(v);
    const fresh: string[] = [];
    const opening = first && nodes.length > BIG_LAB;
    if (opening) {
      big = true;
      cy.style(graphStyle(true));
    }
    // Nothing on the canvas yet (a lab's first picture): every element is new.
    const blank = cy.elements().empty();
    let added: cytoscape.Collection | null = null;
    cy.batch(() => {
      if (!blank) {
        const want = new Map<string, ElementDefinition>([...nodes, ...edges].map((e) => [e.data.id as string, e]));
        cy.elements().forEach((el) => {
          if (!el.inside()) return;
          const w = want.get(el.id());
          if (!w || (el.isEdge() && (el.data('source') !== w.data.source || el.data('target') !== w.data.target))) el.remove();
        });
      }
      const toAdd: ElementDefinition[] = [];
      // A big lab opened without a saved layout: positions are computed before the elements
      // exist (adding them in place costs far less than laying them out afterwards).
      if (first && nodes.length > BIG_LAB && nodes.filter((d) => !layout.positions[d.data.id as string]).length > nodes.length / 2) {
        const t1 = performance.now();
        Object.assign(layout.positions, gridPositions(nodes.map((d) => ({ id: d.data.id as string, kind: d.data.kind as string, parent: d.data.parent as string | undefined }))));
        status.dataset.layoutMs = String(Math.round(performance.now() - t1));
        scheduleSave();
      }
      for (const def of [...nodes, ...edges]) {
        const id = def.data.id as string;
        const el = blank ? null : cy.getElementById(id);
        if (el?.nonempty()) {
          if (el.isNode() && (el.data('parent') ?? null) !== (def.data.parent ?? null)) el.move({ parent: (def.data.parent as string | undefined) ?? null });
          el.data(def.data);
          el.classes(def.classes ?? '');
          continue;
        }
        const pos = layout.positions[id];
        toAdd.push({ ...def, group: def.data.source ? 'edges' : 'nodes', ...(pos ? { position: { ...pos } } : {}) });
        if (!def.data.source && !pos) fresh.push(id);
      }
      // One add for all new elements (one collection, one round of events).
      if (toAdd.length) added = cy.add(toAdd);
    });
    if (opening && added) styleAtOnce(added);
    status.dataset.addMs = String(Math.round(performance.now() - t0));
    empty.style.display = cy.nodes().length ? 'none' : 'flex';
    const leaves = cy.nodes().filter((n) => !n.isParent());
    const unplaced = fresh.filter((id) => !cy.getElementById(id).isParent());
    if (first && unplaced.length > 0 && unplaced.length >= leaves.length / 2 && leaves.length > 1) {
      runLayout(false);
    } else {
      for (const id of unplaced) placeNear(cy.getElementById(id) as NodeSingular);
    }
    if (first && cy.nodes().length) {
      if (layout.zoom && layout.pan && Object.keys(layout.positions).length) cy.viewport({ zoom: layout.zoom, pan: layout.pan });
      else if (cy.nodes().length > BIG_LAB) fitPositions();
      else cy.fit(undefined, 40);
    }
    undoBtn.disabled = !v.canUndo;
    redoBtn.disabled = !v.canRedo;
    const c = v.cluster;
    status.textContent = [
      `${v.hosts.length} hosts`, `${v.lans.length} LANs`,
      c ? `${c.nodes.length} nodes · ${c.pods.length} pods · ${c.deployments.length} deployments · ${c.services.length} services` : 'no cluster',
      'saved',
    ].join('   ·   ');
    showInspector();
  }

  /**
   * Computes the style of a big lab's elements at once, before its first frame (Cytoscape would
   * compute it element by element while drawing that frame). In a graph with compound nodes,
   * Cytoscape follows each style property it sets on an element up through the element's parents
   * and across their edges to mark their caches stale: tens of µs each, a second or more for
   * 2,000 pods in their nodes. These elements were just added and nothing about them is cached
   * yet, so that walk is turned off (Cytoscape's own hasCompoundNodes flag) while the style is
   * computed, and the caches of all of them are marked stale once afterwards. Should a Cytoscape
   * version lack the flag, the style is just computed the slow way.
   */
  function styleAtOnce(eles: cytoscape.Collection): void {
    const t0 = performance.now();
    const core = (cy as unknown as { _private?: { hasCompoundNodes?: unknown } })._private;
    const compound = core?.hasCompoundNodes === true ? core : null;
    if (compound) compound.hasCompoundNodes = false;
    try {
      eles.forEach((el) => void el.style('label'));
    } finally {
      if (compound) compound.hasCompoundNodes = true;
    }
    if (compound) {
      // (Cytoscape's internal cache invalidation, as its own style code calls it.)
      const stale = eles as unknown as { dirtyStyleCache?(): void; dirtyCompoundBoundsCache?(): void; dirtyBoundingBoxCache?(): void };
      stale.dirtyStyleCache?.();
      stale.dirtyCompoundBoundsCache?.();
      stale.dirtyBoundingBoxCache?.();
    }
    status.dataset.styleMs = String(Math.round(performance.now() - t0));
  }

  /** The first picture is on screen: what can wait for it comes now. */
  function firstFrameShown(): void {
    if (disposed) return;
    closeMinimap ??= minimap(cy, wrap);
  }

  /** Zoom to fit from the saved positions alone (cy.fit measures every label: slow when big). */
  function fitPositions(): void {
    const ps = Object.values(layout.positions);
    if (!ps.length) return;
    const x1 = Math.min(...ps.map((p) => p.x)) - 80;
    const x2 = Math.max(...ps.map((p) => p.x)) + 80;
    const y1 = Math.min(...ps.map((p) => p.y)) - 80;
    const y2 = Math.max(...ps.map((p) => p.y)) + 80;
    const w = cy.width();
    const hgt = cy.height();
    const zoom = Math.min(w / (x2 - x1), hgt / (y2 - y1), 2);
    cy.viewport({ zoom, pan: { x: (w - (x1 + x2) * zoom) / 2, y: (hgt - (y1 + y2) * zoom) / 2 } });
  }

  /** A node added without a saved position: next to its siblings, else below everything. */
  function placeNear(n: NodeSingular): void {
    const parent = n.parent();
    const siblings = (parent.nonempty() ? parent.children() : cy.nodes().orphans()).filter((s) => !s.same(n) && !s.isParent());
    let pos: Position;
    if (parent.nonempty()) {
      // A pod: the first free cell of a 2-wide grid anchored where its node was dropped.
      const pid = parent.first().id();
      const bb = siblings.length ? siblings.boundingBox() : null;
      const anchor = layout.positions[pid] ?? (bb ? { x: (bb.x1 + bb.x2) / 2, y: bb.y1 } : { x: 0, y: 0 });
      layout.positions[pid] ??= { ...anchor };
      const taken = siblings.nodes().map((s) => s.position());
      pos = { ...anchor };
      for (let i = 0; i < 10_000; i++) {
        const cell = { x: anchor.x + ((i % 2) - 0.5) * 160, y: anchor.y + Math.floor(i / 2) * 90 };
        if (!taken.some((t) => Math.abs(t.x - cell.x) < 70 && Math.abs(t.y - cell.y) < 45)) {
          pos = cell;
          break;
        }
      }
    } else if (cy.nodes().length > 1) {
      const bb = cy.nodes().filter((x) => !x.same(n)).boundingBox();
      pos = { x: (bb.x1 + bb.x2) / 2 + ((cy.nodes().length * 37) % 200) - 100, y: bb.y2 + 70 };
    } else pos = { x: 0, y: 0 };
    n.position(pos);
    layout.positions[n.id()] = { ...pos };
    scheduleSave();
  }

  /**
   * A structured layout for big labs (fcose's spring embedding takes tens of seconds at
   * thousands of nodes): Kubernetes nodes in a grid of boxes with their pods in a grid inside,
   * and everything else in rows above (LANs, hosts, Deployments, Services). Linear time.
   */
  function gridLayout(): void {
    const t0 = performance.now();
    const pos = gridPositions(cy.nodes().map((n) => ({ id: n.id(), kind: n.data('kind') as string, parent: n.isChild() ? n.parent().first().id() : undefined })));
    Object.assign(layout.positions, pos);
    // One preset layout moves everything at once (setting positions one by one re-sizes the
    // compound nodes after each).
    cy.layout({ name: 'preset', positions: (n: NodeSingular) => pos[n.id()] ?? n.position(), fit: true, padding: 40, animate: false } as cytoscape.LayoutOptions).run();
    scheduleSave();
    status.dataset.layoutMs = String(Math.round(performance.now() - t0));
  }

  function runLayout(animate: boolean): void {
    if (!cy.nodes().length) return;
    const n = cy.nodes().length;
    const grid = layoutKind === 'grid' || n > BIG_LAB;
    status.dataset.layoutKind = grid ? 'grid' : layoutKind;
    if (grid) return gridLayout();
    const t0 = performance.now();
    const l = cy.layout(layoutKind === 'dagre' ? dagreOptions(animate) : { name: 'fcose', animate, animationDuration: 400, randomize: true, nodeDimensionsIncludeLabels: true, packComponents: true, quality: n > 800 ? 'draft' : 'default', nodeRepulsion: 6000, idealEdgeLength: 90 } as cytoscape.LayoutOptions);
    l.one('layoutstop', () => {
      cy.fit(undefined, 40);
      cy.nodes().forEach((n) => {
        if (!n.isParent()) layout.positions[n.id()] = { ...n.position() };
      });
      scheduleSave();
      status.dataset.layoutMs = String(Math.round(performance.now() - t0));
    });
    if (layoutKind !== 'dagre' || n <= SLOW_DAGRE) return void l.run();
    // A slow layered layout: the progress bar is painted before the work starts.
    const bar = h('div', { class: 'progress', 'data-testid': 'progress' });
    document.body.append(bar);
    requestAnimationFrame(() => setTimeout(() => {
      try {
        if (!disposed) l.run();
      } finally {
        bar.remove();
      }
    }, 0));
  }

  /**
   * dagre ranks every edge's source above its target, with compound nodes (a node and its pods)
   * as one block. The lab's edges run host → LAN and Service/Deployment → pod, so ranking them
   * bottom to top puts the LANs on top, the hosts and nodes (with their pods) under them, and
   * the Services and Deployments under the pods they select.
   */
  function dagreOptions(animate: boolean): cytoscape.LayoutOptions {
    return {
      name: 'dagre', rankDir: 'BT', nodeSep: 30, rankSep: 70, edgeSep: 10, ranker: 'network-simplex', nodeDimensionsIncludeLabels: true,
      animate, animationDuration: 400, fit: false,
      // Links to LANs pull harder than Service and owner edges (kept shorter and straighter).
      edgeWeight: (e: cytoscape.EdgeSingular) => (e.data('kind') === 'link' ? 2 : 1),
    } as cytoscape.LayoutOptions;
  }

  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  function scheduleSave(): void {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void saveLayout(), 300);
  }
  async function saveLayout(): Promise<void> {
    saveTimer = null;
    layout.zoom = cy.zoom();
    layout.pan = { ...cy.pan() };
    try {
      await api.setLayout(lab, layout);
    } catch (e) {
      toast(`Could not save the layout: ${errorText(e)}`, 'error');
    }
  }

  cy.on('dragfree', 'node', (e) => {
    const moved = (e.target as NodeSingular).union((e.target as NodeSingular).descendants());
    moved.forEach((n) => {
      if (!n.isParent()) layout.positions[n.id()] = { ...n.position() };
    });
    scheduleSave();
  });
  cy.on('select unselect', () => showInspectorSoon());
  cy.on('viewport', () => {
    if (view) scheduleSave();
  });

  // ---- palette drops -----------------------------------------------------------------------
  wrap.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('application/x-kpl-palette')) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  });
  wrap.addEventListener('drop', (e) => {
    const kind = e.dataTransfer?.getData('application/x-kpl-palette') as PaletteKind | undefined;
    if (!kind) return;
    e.preventDefault();
    e.stopPropagation();
    const box = cyBox.getBoundingClientRect();
    const rendered = { x: e.clientX - box.left, y: e.clientY - box.top };
    const pan = cy.pan();
    const zoom = cy.zoom();
    const pos = { x: (rendered.x - pan.x) / zoom, y: (rendered.y - pan.y) / zoom };
    const onto = cy.nodes().filter((n) => {
      const bb = n.boundingBox();
      return pos.x >= bb.x1 && pos.x <= bb.x2 && pos.y >= bb.y1 && pos.y <= bb.y2;
    });
    void dropItem(kind, pos, onto.length ? (onto[onto.length - 1] as NodeSingular) : null);
  });

  function nextName(prefix: string): string {
    const taken = new Set<string>([...(view?.hosts ?? []).map((x) => x.name), ...(view?.lans ?? []).map((x) => x.name), ...cy.nodes().map((n) => n.data('name') as string)]);
    for (let i = 1; ; i++) if (!taken.has(`${prefix}${i}`)) return `${prefix}${i}`;
  }

  async function place(id: string, pos: Position): Promise<void> {
    layout.positions[id] = { ...pos };
    await api.setLayout(lab, layout);
  }

  async function dropItem(kind: PaletteKind, pos: Position, onto: NodeSingular | null): Promise<void> {
    const needsCluster = PALETTE.find((p) => p.kind === kind)?.cluster;
    if (needsCluster && !applyOk) {
      toast(caps.apply ? `A ${kind} is a Kubernetes object, and this lab has no cluster: make a new lab that starts from an empty Kubernetes cluster.` : `A ${kind} is a Kubernetes object: this build's service cannot apply manifests.`, 'error');
      return;
    }
    const check = (fn: (v: Record<string, string>) => Promise<void>) => async (v: Record<string, string>): Promise<string | null> => {
      try {
        await fn(v);
        return null;
      } catch (e) {
        return errorText(e);
      }
    };
    switch (kind) {
      case 'lan':
        await dialog('New LAN', [{ name: 'name', label: 'Name', value: nextName('lan') }], {
          ok: 'Add',
          check: check(async (v) => {
            await place(`l:${v.name}`, pos);
            await api.addLan(lab, v.name);
          }),
        });
        break;
      case 'host':
      case 'client':
      case 'lb': {
        const prefix = kind === 'lb' ? 'lb' : kind === 'client' ? 'client' : 'host';
        const v = await dialog(kind === 'lb' ? 'New load balancer' : kind === 'client' ? 'New external client' : 'New host', [
          { name: 'name', label: 'Name', value: nextName(prefix) },
          { name: 'listen', label: 'Listens on', value: kind === 'client' ? '' : '80', placeholder: '80,443,53/udp' },
        ], {
          ok: 'Add',
          check: check(async (v) => {
            const listen = v.listen ? v.listen.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
              const [p, proto] = s.split('/');
              const port = Number(p);
              if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${s}": expected a port 1-65535, optionally /udp or /sctp`);
              if (proto && proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`"${s}": protocol must be tcp, udp or sctp`);
              return { port, proto: (proto ?? 'tcp') as 'tcp' | 'udp' | 'sctp' };
            }) : [];
            await place(`h:${v.name}`, pos);
            await api.addHost(lab, v.name, { listen, kind });
          }),
        });
        // Dropped onto a LAN: cable it there.
        if (v && onto?.data('kind') === 'lan') await busy(() => api.addLink(lab, v.name, onto.data('name') as string));
        break;
      }
      case 'node': {
        const c = view?.cluster;
        const count = c?.nodes.length ?? 0;
        const ip = nextNodeIP(c?.nodeCIDR ?? '192.168.49.0/24', (c?.nodes ?? []).map((n) => n.ip ?? '').filter(Boolean));
        await dialog('New node', [
          { name: 'name', label: 'Name', value: count === 0 ? 'minikube' : `minikube-m${String(count + 1).padStart(2, '0')}` },
          { name: 'ip', label: 'InternalIP', value: ip },
        ], {
          ok: 'Add',
          check: check(async (v) => {
            await place(`n:${v.name}`, pos);
            await api.apply(lab, nodeManifest(v.name, v.ip));
          }),
        });
        break;
      }
      case 'pod': {
        const node = onto?.data('kind') === 'node' ? (onto.data('name') as string) : onto?.parent().nonempty() ? (onto.parent().data('name') as string) : '';
        await dialog('New pod', [
          { name: 'name', label: 'Name', value: nextName('pod') },
          { name: 'node', label: 'Node', value: node, placeholder: '(scheduler decides)' },
          { name: 'image', label: 'Image', value: 'nginx' },
          { name: 'port', label: 'Port', value: '80', type: 'number' },
        ], {
          ok: 'Add',
          check: check(async (v) => {
            await place(`p:default/${v.name}`, pos);
            await api.apply(lab, podManifest(v.name, { ...(v.node ? { node: v.node } : {}), image: v.image || 'nginx', port: Number(v.port) || 80 }));
          }),
        });
        break;
      }
      case 'deployment':
        await dialog('New Deployment', [
          { name: 'name', label: 'Name', value: nextName('web') },
          { name: 'replicas', label: 'Replicas', value: '2', type: 'number' },
          { name: 'image', label: 'Image', value: 'nginx' },
          { name: 'port', label: 'Port', value: '80', type: 'number' },
        ], {
          ok: 'Add',
          check: check(async (v) => {
            const replicas = Number(v.replicas);
            if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10_000) throw new Error('replicas: expected a whole number 0-10000');
            await place(`d:default/${v.name}`, pos);
            await api.apply(lab, deploymentManifest(v.name, replicas, { image: v.image || 'nginx', port: Number(v.port) || 80 }));
          }),
        });
        break;
      case 'service': {
        const target = onto?.data('kind') === 'deployment' ? (onto.data('name') as string) : onto?.data('kind') === 'pod' ? (onto.data('name') as string) : (view?.cluster?.deployments[0]?.name ?? '');
        await dialog('New Service', [
          { name: 'name', label: 'Name', value: target ? `${target}-svc` : nextName('svc') },
          { name: 'selector', label: 'Selector', value: target ? `app=${target}` : '', placeholder: 'app=web' },
          { name: 'type', label: 'Type', type: 'select', options: ['ClusterIP', 'NodePort', 'LoadBalancer'], value: 'ClusterIP' },
          { name: 'port', label: 'Port', value: '80', type: 'number' },
          { name: 'targetPort', label: 'Target port', value: '80' },
        ], {
          ok: 'Add',
          check: check(async (v) => {
            const port = Number(v.port);
            if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('port: expected 1-65535');
            const tp = /^\d+$/.test(v.targetPort) ? Number(v.targetPort) : v.targetPort || port;
            await place(`s:default/${v.name}`, pos);
            await api.apply(lab, serviceManifest({ name: v.name, type: v.type, port, targetPort: tp, selector: parseLabels(v.selector) }));
          }),
        });
        break;
      }
    }
  }

  // ---- connecting (edgehandles) ---------------------------------------------------------------
  function setConnect(on: boolean): void {
    connectMode = on;
    connectBtn.classList.toggle('primary', on);
    if (on) edgeHandles().enableDrawMode();
    else eh?.disableDrawMode();
  }
  cy.on('ehcomplete', (_e, ...rest: unknown[]) => {
    const [src, dst, added] = rest as [NodeSingular, NodeSingular, cytoscape.EdgeSingular];
    added.remove();
    void connect(src, dst);
  });

  async function connect(a: NodeSingular, b: NodeSingular): Promise<void> {
    const ka = a.data('kind') as Kind;
    const kb = b.data('kind') as Kind;
    const isHost = (k: Kind): boolean => k === 'host' || k === 'client' || k === 'lb' || k === 'node';
    if (isHost(ka) && kb === 'lan') return void (await linkDialog(a.data('name') as string, b.data('name') as string));
    if (ka === 'lan' && isHost(kb)) return void (await linkDialog(b.data('name') as string, a.data('name') as string));
    if (isHost(ka) && isHost(kb)) {
      await busy(async () => {
        const [da, db] = await api.addVeth(lab, { host: a.data('name') as string }, { host: b.data('name') as string });
        toast(`veth ${a.data('name')}:${da} ⇄ ${b.data('name')}:${db}`);
      });
      return;
    }
    if (ka === 'service' && (kb === 'deployment' || kb === 'pod')) {
      const svc = view?.cluster?.services.find((s) => s.name === a.data('name'));
      if (!svc) return;
      const app = kb === 'deployment' ? (b.data('name') as string) : (view?.cluster?.pods.find((p) => p.name === b.data('name'))?.labels.app ?? (b.data('name') as string));
      const port = svc.ports[0];
      await busy(() => api.apply(lab, serviceManifest({ name: svc.name, namespace: svc.namespace, type: svc.type, port: port?.port ?? 80, targetPort: port?.targetPort ?? port?.port ?? 80, selector: { app } })));
      return;
    }
    toast(`Cannot connect a ${ka} to a ${kb}. Connect hosts, clients and load balancers to LANs or to each other; a Service to a Deployment.`, 'error');
  }

  async function linkDialog(host: string, lan: string): Promise<void> {
    await dialog(`Connect ${host} to ${lan}`, [{ name: 'ip', label: 'Address', value: '', placeholder: 'next free (A.B.C.D/N)' }], {
      ok: 'Connect',
      check: async (v) => {
        try {
          const r = await api.addLink(lab, host, lan, v.ip || undefined);
          toast(`${host} ${r.dev} ${r.ip} on ${lan}`);
          return null;
        } catch (e) {
          return errorText(e);
        }
      },
    });
  }

  // ---- edits ----------------------------------------------------------------------------------
  async function deleteSelection(): Promise<void> {
    const items: RemoveItem[] = [];
    const seen = new Set<string>();
    cy.elements(':selected').forEach((el) => {
      const it = el.data('item') as RemoveItem | undefined;
      if (!it) return;
      const key = JSON.stringify(it);
      if (seen.has(key)) return;
      // Owned pods come back (the Deployment recreates them): delete the Deployment instead.
      seen.add(key);
      items.push(it);
    });
    // A host and its own links: removing the host removes them.
    const hosts = new Set(items.filter((i) => i.kind === 'host').map((i) => i.name));
    const lans = new Set(items.filter((i) => i.kind === 'lan').map((i) => i.name));
    const filtered = items.filter((i) => !((i.kind === 'link' || i.kind === 'veth') && hosts.has(i.name)) && !(i.kind === 'link' && lans.size && cy.getElementById(`k:${i.name}:${i.dev}`).target().data('kind') === 'lan' && lans.has(cy.getElementById(`k:${i.name}:${i.dev}`).target().data('name') as string)));
    if (!filtered.length) return;
    await busy(() => api.remove(lab, filtered));
  }

  // ---- copy and paste (of the elements themselves; their cables are not copied) ----------------
  let clipboard: { data: ElData; pos: Position }[] = [];
  function copySelection(): void {
    clipboard = cy.nodes(':selected').filter((n) => ['host', 'client', 'lb', 'lan', 'deployment', 'service', 'pod'].includes(n.data('kind') as string))
      .nodes().map((n) => ({ data: n.data() as ElData, pos: { ...n.position() } }));
    if (clipboard.length) toast(`Copied ${clipboard.length} element${clipboard.length > 1 ? 's' : ''}`);
  }
  function copyName(name: string): string {
    const taken = new Set<string>([...(view?.hosts ?? []).map((x) => x.name), ...(view?.lans ?? []).map((x) => x.name), ...cy.nodes().map((n) => n.data('name') as string)]);
    const base = name.replace(/-\d+$/, '');
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
  }
  async function paste(): Promise<void> {
    if (!clipboard.length || !view) return;
    await busy(async () => {
      for (const { data, pos } of clipboard) {
        const name = copyName(data.name);
        const at = { x: pos.x + 50, y: pos.y + 50 };
        const c = view?.cluster;
        switch (data.kind) {
          case 'host': case 'client': case 'lb': {
            const h = view?.hosts.find((x) => x.name === data.name);
            await place(`h:${name}`, at);
            await api.addHost(lab, name, { listen: h?.listen ?? [], kind: data.kind });
            break;
          }
          case 'lan':
            await place(`l:${name}`, at);
            await api.addLan(lab, name);
            break;
          case 'deployment': {
            const d = c?.deployments.find((x) => x.name === data.name && x.namespace === data.namespace);
            await place(`d:${data.namespace}/${name}`, at);
            await api.apply(lab, deploymentManifest(name, d?.replicas ?? 1, { namespace: data.namespace }));
            break;
          }
          case 'service': {
            const sv = c?.services.find((x) => x.name === data.name && x.namespace === data.namespace);
            const p = sv?.ports[0];
            await place(`s:${data.namespace}/${name}`, at);
            await api.apply(lab, serviceManifest({ name, namespace: data.namespace, type: sv?.type ?? 'ClusterIP', port: p?.port ?? 80, targetPort: p?.targetPort ?? p?.port ?? 80, selector: sv?.selector ?? {} }));
            break;
          }
          case 'pod': {
            const pd = c?.pods.find((x) => x.name === data.name && x.namespace === data.namespace);
            await api.apply(lab, podManifest(name, { ...(pd?.node ? { node: pd.node } : {}), labels: pd?.labels ?? { app: name } }));
            break;
          }
        }
      }
    });
  }

  async function undo(): Promise<void> {
    const r = await busy(() => api.undo(lab));
    if (r && !r.changed) toast('Nothing to undo');
  }

  async function redo(): Promise<void> {
    const r = await busy(() => api.redo(lab));
    if (r && !r.changed) toast('Nothing to redo');
  }

  // ---- search, export ---------------------------------------------------------------------------
  search.addEventListener('input', () => doSearch(false));
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') doSearch(true);
    if (e.key === 'Escape') {
      search.value = '';
      doSearch(false);
      search.blur();
    }
    e.stopPropagation();
  });
  function doSearch(focus: boolean): void {
    const q = search.value.trim().toLowerCase();
    cy.elements().removeClass('match');
    if (!q) return;
    const hits = cy.nodes().filter((n) => String(n.data('search') ?? '').toLowerCase().split(/\s+/).some((w) => w.includes(q)));
    hits.addClass('match');
    if (hits.length && (focus || hits.length <= 3)) {
      cy.elements().unselect();
      hits.select();
      cy.fit(hits, 120);
    }
  }

  async function exportPng(): Promise<void> {
    const bg = getComputedStyle(document.documentElement).getPropertyValue('--canvas').trim();
    const blob = cy.png({ output: 'blob', full: true, scale: 2, bg });
    download(`${lab}.png`, blob);
  }

  function exportSvgFile(): void {
    download(`${lab}.svg`, new Blob([exportSvg(cy)], { type: 'image/svg+xml' }));
  }

  async function exportKpl(): Promise<void> {
    const r = await busy(() => api.exportLab(lab));
    if (r) download(r.fileName, new Blob([r.text], { type: 'application/json' }));
  }

  // ---- inspector ------------------------------------------------------------------------------
  let inspTimer: ReturnType<typeof setTimeout> | null = null;
  function showInspectorSoon(): void {
    if (inspTimer) clearTimeout(inspTimer);
    inspTimer = setTimeout(showInspector, 30);
  }
  function showInspector(): void {
    if (!view) return;
    const sel = cy.elements(':selected').map((e) => e.data() as ElData);
    renderInspector(inspector, { api, lab, view, selected: sel, applyOk, onDelete: () => void deleteSelection(), onConsole: (host, hostname) => consoles.open(host, hostname), breakpoints: stepper.breakpoints });
  }

  // ---- keyboard -------------------------------------------------------------------------------
  const onKey = (e: KeyboardEvent): void => {
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (document.querySelector('.backdrop') && e.key !== '?') return;
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    if (mod && k === 'z' && !e.shiftKey) void undo();
    else if ((mod && k === 'z' && e.shiftKey) || (mod && k === 'y')) void redo();
    else if (mod && k === 'a') cy.elements().select();
    else if (mod && k === 'c') copySelection();
    else if (mod && k === 'v') void paste();
    else if (mod) return;
    else if (e.key === 'Delete' || e.key === 'Backspace') void deleteSelection();
    else if (k === 'f') cy.fit(undefined, 40);
    else if (k === 'l') runLayout(true);
    else if (k === 'c') setConnect(!connectMode);
    else if (k === 't') toggleTheme();
    else if (k === 'g') guide?.toggle();
    else if (e.key === '?') toggleHelp();
    else if (e.key === '/') search.focus();
    else if (e.key === 'Escape') {
      cy.elements().unselect();
      if (connectMode) setConnect(false);
    } else return;
    e.preventDefault();
  };
  window.addEventListener('keydown', onKey);
  const onHide = (): void => {
    if (saveTimer) {
      clearTimeout(saveTimer);
      void saveLayout();
    }
  };
  window.addEventListener('pagehide', onHide);

  const offChanged = api.onLabChanged((ev) => {
    if (ev.lab === lab) void refresh();
  });
  let caps = { apply: false, remove: true, cluster: false };
  function setApplyOk(ok: boolean): void {
    applyOk = ok;
    palette.querySelectorAll<HTMLElement>('.item').forEach((el) => {
      const p = PALETTE.find((x) => x.kind === el.dataset.kind);
      if (!p?.cluster) return;
      el.classList.toggle('disabled', !ok);
      el.title = ok ? `Drag onto the canvas to add a ${p.label.toLowerCase()}` : `${p.label}: this lab has no Kubernetes cluster (make a new lab that starts from one)`;
    });
    empty.textContent = ok ? 'Empty cluster: drag Nodes, Deployments and Services from the palette.' : 'Empty lab: drag a LAN and some hosts from the palette.';
  }
  void api.capabilities().then((c) => {
    caps = c;
    return refresh();
  });

  return () => {
    disposed = true;
    if (saveTimer) {
      clearTimeout(saveTimer);
      void saveLayout();
    }
    offChanged();
    window.removeEventListener('keydown', onKey);
    window.removeEventListener('pagehide', onHide);
    window.removeEventListener('kpl-theme', onTheme);
    consoles.dispose();
    stepper.dispose();
    send.dispose();
    guide?.dispose();
    closeMinimap?.();
    eh?.destroy();
    cy.destroy();
  };
}
