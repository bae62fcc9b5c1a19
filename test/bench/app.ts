// The app's speed table (issue 6), printed by `npm run bench` after the others:
//   - cold start to an interactive empty lab in browser mode (npm start -- --browser: spawn to
//     URL printed, then page load to the editor's first render; chromium already running);
//   - the renderer bundle's size;
//   - a 50-node / 2,000-pod cluster on the canvas: open it and lay it out (fcose), then drag a
//     node and report frame times. The canvas half is measured with a synthetic view fed to the
//     renderer through a stand-in window.lab (building such a lab in the engine is measured
//     separately by the service's own rows), so the number is the renderer's alone.
// Needs /usr/bin/chromium (or KPL_CHROMIUM); prints n/a rows without it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LabService } from '../../main/service/lab-service.ts';
import type { LabView } from '../../shared/api/contract.ts';
import { printTable } from './table.ts';
import { CHROMIUM, ROOT, ensureBuilt, openBrowser, startApp } from '../e2e/harness.ts';

const rows: string[][] = [];
const ms = (n: number): string => `${n.toFixed(0)} ms`;
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function syntheticView(nodes: number, pods: number): LabView {
  const view: LabView = {
    name: 'big', hosts: [], lans: [{ name: 'minikube' }], veths: [], layout: null, canUndo: false, canRedo: false,
    cluster: { lan: 'minikube', nodeCIDR: '192.168.48.0/20', nodes: [], pods: [], deployments: [], services: [], endpoints: [] },
  };
  const c = view.cluster!;
  for (let n = 0; n < nodes; n++) c.nodes.push({ name: `node-${n}`, ip: `192.168.${48 + (n >> 8)}.${(n % 254) + 2}` });
  const apps = 40;
  for (let a = 0; a < apps; a++) {
    c.deployments.push({ name: `app${a}`, namespace: 'default', replicas: pods / apps, selector: { app: `app${a}` } });
    c.services.push({ name: `app${a}`, namespace: 'default', type: 'ClusterIP', clusterIP: `10.96.${a >> 8}.${(a % 254) + 20}`, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: `app${a}` } });
  }
  for (let p = 0; p < pods; p++) {
    const a = p % apps;
    const ip = `10.244.${p >> 8}.${p & 255}`;
    const name = `app${a}-5d4f8-${p.toString(36).padStart(5, '0')}`;
    c.pods.push({ name, namespace: 'default', node: `node-${p % nodes}`, ip, phase: 'Running', labels: { app: `app${a}` }, owner: `app${a}` });
    c.endpoints.push({ service: `app${a}`, namespace: 'default', pod: name, ip, port: 80 });
  }
  return view;
}

async function coldStart(): Promise<void> {
  const app = await startApp();
  const svc = new LabService({ db: app.db });
  svc.create('empty');
  svc.close();
  const b = await openBrowser();
  try {
    await b.page.goto('about:blank');
    const t0 = performance.now();
    await b.page.goto(`${app.url}#/lab/empty`);
    await b.page.waitForSelector('[data-testid=status][data-ready-ms]');
    const pageMs = performance.now() - t0;
    rows.push(['cold start to an interactive empty lab (browser mode)', `${ms(app.startMs + pageMs)} (server ${ms(app.startMs)} + page ${ms(pageMs)})`, '< 1.5 s']);
  } finally {
    await b.close();
    await app.stop();
  }
}

async function bigCanvas(nodes: number, pods: number): Promise<void> {
  const view = syntheticView(nodes, pods);
  const b = await openBrowser();
  try {
    // A stand-in window.lab answering with the synthetic view (the renderer cannot tell).
    // (Scripts are passed as text: tsx's helpers do not exist in the page.)
    await b.page.addInitScript({
      content: `(() => {
        const v = ${JSON.stringify(view)};
        const ok = (x) => Promise.resolve(x);
        const known = {
          capabilities: () => ok({ apply: true, remove: true, cluster: true }),
          view: () => ok(v), setLayout: () => ok(null), listLabs: () => ok([]), layout: () => ok(null),
          doc: () => ok({ name: 'big', hosts: [], lans: [], journal: [] }), history: () => ok([]), traces: () => ok([]),
          consoleHistory: () => ok([]), examples: () => ok([]),
          onLabChanged: () => () => undefined, onLabsChanged: () => () => undefined,
        };
        // Any other method the renderer may call answers "nothing" (the canvas is what is measured).
        window.lab = new Proxy(known, { get: (t, k) => (k in t ? t[k] : () => ok(null)) });
      })();`,
    });
    const file = `file://${join(ROOT, 'dist', 'renderer', 'index.html')}#/lab/big`;
    // The renderer's main-thread CPU time beside the wall time (on a busy machine the wall time
    // is mostly waiting for a core): read through CDP, from a file page in the same process.
    await b.page.goto(`file://${join(ROOT, 'dist', 'renderer', 'icon.svg')}`);
    const cdp = await b.context.newCDPSession(b.page);
    await cdp.send('Performance.enable');
    const cpu = async (): Promise<number> => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN) * 1000;
    const cpu0 = await cpu();
    await b.page.goto(file);
    await b.page.waitForSelector('[data-testid=status][data-ready-ms]', { timeout: 180_000 });
    const cpuMs = (await cpu()) - cpu0;
    await cdp.detach();
    // (Page scripts are passed as text: this file is type-checked without the DOM library.)
    const d = (await b.page.evaluate("({ ...document.querySelector('[data-testid=status]').dataset })")) as Record<string, string>;
    rows.push([
      `open a lab of ${nodes} nodes and ${pods.toLocaleString('en')} pods, laid out (first frame, from navigation)`,
      `${d.readyMs} ms (view data at ${d.viewAt} ms, canvas built at ${d.reconciledAt} ms, layout ${d.layoutMs} ms, style ${d.styleMs ?? '?'} ms; main-thread CPU ${cpuMs.toFixed(0)} ms)`,
      '< 3 s',
    ]);
    // Drag a node across the canvas; frame intervals from requestAnimationFrame.
    const at = (await b.page.evaluate(`(() => {
      const cy = window.kplEditor.cy;
      const box = document.getElementById('cy').getBoundingClientRect();
      const n = cy.getElementById('n:node-0');
      cy.fit(n, 200);
      const p = n.renderedBoundingBox();
      return { x: box.left + (p.x1 + p.x2) / 2, y: box.top + p.y1 + 8 };
    })()`)) as { x: number; y: number };
    await b.page.evaluate(`(() => {
      window.frames_ = [];
      let last = performance.now();
      const tick = (t) => { window.frames_.push(t - last); last = t; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    await b.page.mouse.move(at.x, at.y);
    await b.page.mouse.down();
    for (let i = 1; i <= 60; i++) await b.page.mouse.move(at.x + i * 4, at.y + i * 2);
    await b.page.mouse.up();
    const frames = ((await b.page.evaluate('window.frames_')) as number[]).slice(2);
    const sorted = [...frames].sort((x, y) => x - y);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    rows.push([`drag a node in that lab: frame time median / p95 (${frames.length} frames, headless)`, `${median(frames).toFixed(1)} / ${p95.toFixed(1)} ms`, '16.7 ms (60 fps)']);
  } finally {
    await b.close();
  }
}

await ensureBuilt();
const js = readFileSync(join(ROOT, 'dist', 'renderer', 'app.js'));
const css = readFileSync(join(ROOT, 'dist', 'renderer', 'app.css'));
rows.push(['renderer bundle (app.js + app.css), minified / gzip', `${((js.length + css.length) / 1024).toFixed(0)} KiB / ${((gzipSync(js).length + gzipSync(css).length) / 1024).toFixed(0)} KiB`, '']);
if (existsSync(CHROMIUM)) {
  await coldStart().catch((e: unknown) => rows.push(['cold start to an interactive empty lab (browser mode)', `n/a (${(e as Error).message.split('\n')[0]})`, '< 1.5 s']));
  await bigCanvas(Number(process.env.KPL_BENCH_NODES ?? 50), Number(process.env.KPL_BENCH_PODS ?? 2000)).catch((e: unknown) => rows.push(['open a lab of 50 nodes and 2,000 pods, laid out', `n/a (${(e as Error).message.split('\n')[0]})`, '< 3 s']));
} else {
  rows.push(['browser measurements', `n/a (no chromium at ${CHROMIUM})`, '']);
}

printTable(['app (issue 6)', 'measured', 'target'], rows);
