// Takes docs/screenshot.png from the real app (browser mode, dark theme): the article's
// two-node cluster with a frontend and a backend, laid out, a Service selected.
//   node --import tsx test/e2e/make-screenshot.ts

import { join } from 'node:path';
import { LabService } from '../../main/service/lab-service.ts';
import { ROOT, openBrowser, startApp } from './harness.ts';

const app = await startApp();
const svc = new LabService({ db: app.db });
svc.create('article', { cluster: { proxy: 'legacy', nodes: 2, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeCIDR: '192.168.49.0/24', nodePortRange: '30000-32767', tunnel: 'ipip' } });
const deploy = (name: string, replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: ${name}, image: nginx, ports: [{containerPort: 80}]}]}
`;
svc.apply('article', [deploy('frontend', 2), deploy('backend', 2),
  'apiVersion: v1\nkind: Service\nmetadata: {name: frontend}\nspec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: frontend}, ports: [{port: 80, targetPort: 80, nodePort: 30080}]}\n',
  'apiVersion: v1\nkind: Service\nmetadata: {name: backend}\nspec: {selector: {app: backend}, ports: [{port: 80, targetPort: 80}]}\n'].join('---\n'));
svc.addHost('article', 'client', []);
svc.close();
const b = await openBrowser();
const page = b.page;
await page.emulateMedia({ colorScheme: 'dark' });
await page.goto(`${app.url}#/lab/article`);
await page.waitForFunction(() => ((window as unknown as { kplEditor?: { refreshed: number } }).kplEditor?.refreshed ?? 0) > 0 && (document.querySelector('[data-testid=status]') as HTMLElement | null)?.dataset.layoutMs !== undefined);
await page.waitForTimeout(500);
const at = await page.evaluate(`(() => {
  const cy = window.kplEditor.cy;
  cy.fit(undefined, 30);
  const box = document.getElementById('cy').getBoundingClientRect();
  const p = cy.getElementById('s:default/frontend').renderedPosition();
  return { x: box.left + p.x, y: box.top + p.y };
})()`) as { x: number; y: number };
await page.mouse.click(at.x, at.y);
await page.waitForTimeout(300);
await page.screenshot({ path: join(ROOT, 'docs', 'screenshot.png') });
console.log('wrote docs/screenshot.png', b.errors);
await b.close();
await app.stop();
