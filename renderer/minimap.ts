// A navigator for big labs: every node as a dot and the visible area as a frame, in a small
// canvas in the corner of the editor; click or drag in it to move the view there.

import type { Core } from 'cytoscape';

export function minimap(cy: Core, host: HTMLElement): () => void {
  const canvas = document.createElement('canvas');
  canvas.className = 'minimap';
  canvas.width = 200;
  canvas.height = 130;
  canvas.title = 'Navigator: click or drag to move the view';
  canvas.dataset.testid = 'minimap';
  host.append(canvas);
  const ctx = canvas.getContext('2d');
  let frame = 0;
  let scale = 1;
  let ox = 0;
  let oy = 0;

  // The dots are drawn again only when elements change; moving the view redraws the frame.
  let dots: ImageData | null = null;
  let contentDirty = true;
  const draw = (): void => {
    frame = 0;
    if (!ctx) return;
    const css = getComputedStyle(document.documentElement);
    if (contentDirty || !dots) {
      contentDirty = false;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const nodes = cy.nodes().filter((n) => !n.isParent());
      canvas.style.display = nodes.length > 1 ? '' : 'none';
      if (nodes.length < 2) return;
      const bb = cy.nodes().boundingBox({ includeLabels: false });
      scale = Math.min((canvas.width - 10) / Math.max(bb.w, 1), (canvas.height - 10) / Math.max(bb.h, 1));
      ox = 5 - bb.x1 * scale + (canvas.width - 10 - bb.w * scale) / 2;
      oy = 5 - bb.y1 * scale + (canvas.height - 10 - bb.h * scale) / 2;
      ctx.fillStyle = css.getPropertyValue('--muted').trim() || '#888';
      nodes.forEach((n) => {
        const p = n.position();
        ctx.fillRect(ox + p.x * scale - 1, oy + p.y * scale - 1, 2, 2);
      });
      dots = ctx.getImageData(0, 0, canvas.width, canvas.height);
    } else ctx.putImageData(dots, 0, 0);
    const ext = cy.extent();
    ctx.strokeStyle = css.getPropertyValue('--accent').trim() || '#48f';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(ox + ext.x1 * scale, oy + ext.y1 * scale, ext.w * scale, ext.h * scale);
  };
  const schedule = (): void => {
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const changed = (): void => {
    contentDirty = true;
    schedule();
  };
  const moveTo = (e: MouseEvent): void => {
    const r = canvas.getBoundingClientRect();
    const x = (e.clientX - r.left - ox) / scale;
    const y = (e.clientY - r.top - oy) / scale;
    const z = cy.zoom();
    cy.pan({ x: cy.width() / 2 - x * z, y: cy.height() / 2 - y * z });
  };
  let dragging = false;
  canvas.addEventListener('mousedown', (e) => {
    dragging = true;
    moveTo(e);
    e.preventDefault();
  });
  const onMove = (e: MouseEvent): void => {
    if (dragging) moveTo(e);
  };
  const onUp = (): void => {
    dragging = false;
  };
  window.addEventListener('mousemove', onMove);
  window.addEventListener('mouseup', onUp);
  cy.on('viewport resize', schedule);
  cy.on('add remove position', changed);
  window.addEventListener('kpl-theme', changed);
  schedule();
  return () => {
    if (frame) cancelAnimationFrame(frame);
    cy.off('viewport resize', schedule);
    cy.off('add remove position', changed);
    window.removeEventListener('mousemove', onMove);
    window.removeEventListener('mouseup', onUp);
    window.removeEventListener('kpl-theme', changed);
    canvas.remove();
  };
}
