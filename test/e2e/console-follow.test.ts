// End-to-end: a console line that runs on. `conntrack -E -p tcp` typed in the server's console
// keeps that console busy; a `curl` typed in the client's console makes the server's console
// print the connection's events as the kernel reports them, and Ctrl+C there ends it with
// conntrack's count and a new prompt.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CHROMIUM, appSuite, consoleFill, consoleIdle, consoleInput, consoleRun, consoleText, consoleWaitFor, openLab } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
type Cy = import('cytoscape').Core;

interface Consoles {
  kplConsoles: { state(h?: string): { busy: boolean; prompt: string } | null };
}

describe('a console follows conntrack -E', { skip, timeout: 120_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('follow');
    api.addLan('follow', 'lan');
    api.addHost('follow', 'client', { listen: [] });
    api.addHost('follow', 'server', { listen: [{ port: 80, proto: 'tcp' }] });
    api.addLink('follow', 'client', 'lan', '10.0.0.10/24');
    api.addLink('follow', 'server', 'lan', '10.0.0.20/24');
    api.exec('follow', 'server', ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT']);
  });

  it('prints the events another console\'s curl makes, until Ctrl+C', suite.shot(async (page) => {
    await openLab(page, suite.app.url, 'follow', 'h:server');
    await page.getByTestId('open-console').click();
    await page.getByTestId('console-tab-server').waitFor();
    await consoleFill(page, 'conntrack -E -p tcp');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (globalThis as unknown as Consoles).kplConsoles.state('server')?.busy === true);

    await page.evaluate(() => {
      const cy = (globalThis as unknown as { kplEditor: { cy: Cy } }).kplEditor.cy;
      cy.elements(':selected').unselect();
      cy.getElementById('h:client').select();
    });
    await page.getByTestId('open-console').click();
    await page.getByTestId('console-tab-client').waitFor();
    await consoleRun(page, 'curl -s 10.0.0.20');
    assert.match(await consoleText(page, 'client'), /server\n/);

    await page.getByTestId('console-tab-server').click();
    await consoleWaitFor(page, /\[UPDATE\] tcp {6}6 120 TIME_WAIT src=10\.0\.0\.10 dst=10\.0\.0\.20 sport=\d+ dport=80 src=10\.0\.0\.20 dst=10\.0\.0\.10 sport=80 dport=\d+ \[ASSURED\]/, 'server');
    assert.equal((await page.evaluate(() => (globalThis as unknown as Consoles).kplConsoles.state('server')))?.busy, true, 'still running');
    const shown = (await page.evaluate(() => (globalThis as unknown as { kplConsoles: { text(h?: string): string | null } }).kplConsoles.text('server') ?? '')).split('\n');
    const first = shown.findIndex((l) => l.startsWith('    [NEW] tcp'));
    assert.deepEqual(shown.slice(first, first + 6).map((l) => l.replace(/ src=.*/, '')), [
      '    [NEW] tcp      6 120 SYN_SENT',
      ' [UPDATE] tcp      6 60 SYN_RECV',
      ' [UPDATE] tcp      6 432000 ESTABLISHED',
      ' [UPDATE] tcp      6 120 FIN_WAIT',
      ' [UPDATE] tcp      6 30 LAST_ACK',
      ' [UPDATE] tcp      6 120 TIME_WAIT',
    ]);

    await consoleInput(page).press('Control+c');
    await consoleIdle(page, 'server');
    const text = await consoleText(page, 'server');
    assert.match(text, /\^C\nconntrack v1\.4\.7 \(conntrack-tools\): 6 flow events have been shown\.\nroot@server:\/#$/);
  }));
});
