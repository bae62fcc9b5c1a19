// A hand-made SVG of the canvas: node boxes and edges at their model positions, labels as text.

import type { Core } from 'cytoscape';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function exportSvg(cy: Core): string {
  const css = getComputedStyle(document.documentElement);
  const v = (n: string): string => css.getPropertyValue(n).trim() || '#888';
  const fill: Record<string, string> = { host: v('--host'), client: v('--client'), lb: v('--lb'), lan: v('--lan'), node: v('--node'), pod: v('--pod'), deployment: v('--dep'), service: v('--svc') };
  const bb = cy.elements().boundingBox();
  const pad = 30;
  const w = Math.ceil(bb.w + 2 * pad);
  const hgt = Math.ceil(bb.h + 2 * pad);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${hgt}" viewBox="${bb.x1 - pad} ${bb.y1 - pad} ${w} ${hgt}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect x="${bb.x1 - pad}" y="${bb.y1 - pad}" width="${w}" height="${hgt}" fill="${v('--canvas')}"/>`);
  // Compound parents first (drawn under their children), then leaves.
  const nodes = cy.nodes().sort((a, b) => (a.isParent() === b.isParent() ? 0 : a.isParent() ? -1 : 1));
  cy.edges().forEach((e) => {
    const s = e.source().position();
    const t = e.target().position();
    const dashed = e.data('kind') === 'endpoint' ? ' stroke-dasharray="6 4"' : e.data('kind') === 'owner' ? ' stroke-dasharray="2 3"' : '';
    out.push(`<line x1="${s.x.toFixed(1)}" y1="${s.y.toFixed(1)}" x2="${t.x.toFixed(1)}" y2="${t.y.toFixed(1)}" stroke="${v('--edge')}" stroke-width="1.5"${dashed}/>`);
  });
  nodes.forEach((n) => {
    const b = n.boundingBox({ includeLabels: false });
    const kind = String(n.data('kind'));
    const rx = kind === 'client' ? Math.min(b.w, b.h) / 2 : 6;
    out.push(`<rect x="${b.x1.toFixed(1)}" y="${b.y1.toFixed(1)}" width="${b.w.toFixed(1)}" height="${b.h.toFixed(1)}" rx="${rx.toFixed(1)}" fill="${fill[kind] ?? '#888'}" fill-opacity="${n.isParent() ? 0.5 : 1}" stroke="${v('--border')}"/>`);
    const lines = String(n.data('label') ?? '').split('\n');
    const y0 = n.isParent() ? b.y1 - 6 - (lines.length - 1) * 13 : b.y2 + 13;
    lines.forEach((line, i) => out.push(`<text x="${((b.x1 + b.x2) / 2).toFixed(1)}" y="${(y0 + i * 13).toFixed(1)}" text-anchor="middle" fill="${v('--text')}">${esc(line)}</text>`));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
