// End-to-end: the rules browser in browser mode. A cluster lab made through the API adapter (as
// `kpl new --cluster`) with a kept trace (counters, a conntrack entry); the browser opened on
// node minikube from the inspector's "Rules" button: KUBE-SERVICES in nat, a KUBE-SVC-… target
// followed (that chain scrolled to and highlighted), the filter, the ipsets and conntrack tabs,
// a change in the lab showing without reopening; two nodes of another lab compared. Saves docs/rules-browser.png (KPL_DOCS=1; else into test-results/). Then the speed
// target of issue 7: opening the rules browser of a 60,000-rule node (measured and printed).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { kubeNatDump } from '../bench/gen-kube.ts';
import { CHROMIUM, ROOT, appSuite, openLab, seeText, seeValue } from './harness.ts';

const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;

describe('the rules browser', { skip, timeout: 240_000 }, () => {
  const suite = appSuite((service) => {
    const api = new LabApiImpl(service);
    api.createLab('rules', { cluster: true });
    api.trace('rules', { from: 'minikube', to: '10.96.0.1:443', proto: 'tcp', keep: true });
    api.createLab('pair', { cluster: true, nodes: 2 });
  });
  const { shot } = suite;

  it('follows a jump from KUBE-SERVICES to its KUBE-SVC chain, filters, shows ipsets and conntrack, and follows the lab', shot(async (page) => {
    await openLab(page, suite.app.url, 'rules', 'n:minikube');
    await page.getByTestId('open-rules').click();
    const rb = page.getByTestId('rules-browser');
    await rb.waitFor();
    await seeValue(() => rb.getAttribute('data-host'), 'minikube');
    await page.getByTestId('rules-status').filter({ hasText: /rules in \d+ tables/ }).waitFor();

    // nat is the tab shown first; its tabs: one per table that exists, then ipsets, conntrack.
    await seeValue(() => page.getByTestId('rules-tab-nat').getAttribute('aria-selected'), 'true');
    for (const t of ['raw', 'mangle', 'nat', 'filter', 'ipsets', 'conntrack']) await page.getByTestId(`rules-tab-${t}`).waitFor();
    await seeValue(() => page.getByTestId('rules-tab-security').count(), 0);

    // Built-in chains with policy and counters; user chains with references.
    const pre = rb.locator('section.rb-chain[data-chain=PREROUTING] .rb-chain-head');
    assert.match((await pre.textContent()) ?? '', /PREROUTING\s*policy ACCEPT · \d+ packets, \d+ bytes\s*\d+ rules?/);
    const services = rb.locator('section.rb-chain[data-chain=KUBE-SERVICES]');
    await seeText(services.locator('.rb-chain-head'), /KUBE-SERVICES\s*2 references\s*\d+ rules/);
    // The kept trace counted in PREROUTING… no: it left minikube from OUTPUT, which jumps to KUBE-SERVICES.
    const out = rb.locator('section.rb-chain[data-chain=OUTPUT] .rb-rule.hit');
    assert.ok((await out.count()) > 0, 'the kept trace shows in OUTPUT\'s counters');

    // Follow the jump of the default/kubernetes Service's rule to its KUBE-SVC chain.
    const link = services.locator('.rb-rule', { hasText: 'default/kubernetes:https cluster IP' }).locator('a.rb-target[data-target^="KUBE-SVC-"]');
    const target = (await link.getAttribute('data-target'))!;
    assert.match(target, /^KUBE-SVC-[A-Z0-9]{16}$/);
    await link.click();
    const svc = rb.locator(`section.rb-chain[data-chain="${target}"]`);
    await rb.locator(`section.rb-chain.rb-highlight[data-chain="${target}"]`).waitFor();
    await seeValue(() => rb.locator('section.rb-highlight').count(), 1);
    await seeValue(() => svc.locator('.rb-chain-head').getAttribute('aria-expanded'), 'true');
    // Scrolled to: the chain's head is inside the browser's visible body.
    const box = (await svc.boundingBox())!;
    const body = (await page.getByTestId('rules-body').boundingBox())!;
    assert.ok(box.y >= body.y - 1 && box.y < body.y + body.height, `chain at ${box.y}, body ${body.y}..${body.y + body.height}`);
    // Its rules lead on to a KUBE-SEP chain, and the DNAT there shows as a verdict.
    const sep = svc.locator('a.rb-target[data-target^="KUBE-SEP-"]').first();
    const sepName = (await sep.getAttribute('data-target'))!;
    await sep.click();
    const sepSec = rb.locator(`section.rb-chain.rb-highlight[data-chain="${sepName}"]`);
    await sepSec.waitFor();
    await sepSec.locator('.rb-verdict.t-nat', { hasText: 'DNAT' }).waitFor();
    await svc.locator('.rb-chain-head').click(); // collapse the KUBE-SVC chain again, then open it for the picture
    await svc.locator('.rb-chain-head').click();
    await link.click();
    await rb.locator(`section.rb-chain.rb-highlight[data-chain="${target}"]`).waitFor();

    // The README's picture only when asked (KPL_DOCS=1): a test run leaves docs/ alone.
    const shots = join(ROOT, process.env.KPL_DOCS === '1' ? 'docs' : 'test-results');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'rules-browser.png') });

    // The filter: only rules containing the text (or every rule of a chain whose name has it).
    await page.getByTestId('rules-filter').fill('kube-dns');
    await page.getByTestId('rules-status').filter({ hasText: 'match “kube-dns”' }).waitFor();
    const specs = await rb.locator('section.rb-chain').evaluateAll((secs) => secs.map((s) => [s.getAttribute('data-chain'), [...s.querySelectorAll('.rb-spec')].map((x) => x.textContent)]));
    assert.ok(specs.length > 0);
    for (const [chain, rules] of specs as [string, string[]][]) {
      assert.ok(rules.length > 0, `${chain} listed without rules`);
      for (const r of rules) assert.ok(/kube-dns/i.test(r) || /kube-dns/i.test(chain), `${chain}: ${r}`);
    }
    await seeValue(() => rb.locator(`section.rb-chain[data-chain="${target}"]`).count(), 0, 'the kubernetes Service chain is filtered out');

    // ipsets (filtered too: Calico's pool set by its member), then all of them.
    await page.getByTestId('rules-tab-ipsets').click();
    await page.getByTestId('rules-filter').fill('10.244.0.0/16');
    await rb.locator('section.rb-set[data-set="cali40all-ipam-pools"] .rb-members', { hasText: '10.244.0.0/16' }).waitFor();
    await page.getByTestId('rules-filter').fill('');
    await rb.locator('section.rb-set[data-set="cali40all-hosts-net"]').waitFor();
    await seeText(rb.locator('section.rb-set[data-set="cali40all-ipam-pools"]'), /hash:net.*1 entry.*Header: family inet hashsize \d+ maxelem \d+/s);

    // conntrack: the kept trace's connection to the kubernetes Service.
    await page.getByTestId('rules-tab-conntrack').click();
    await page.getByTestId('rules-conntrack').filter({ hasText: /tcp +6 \d+ \S+ src=\S+ dst=10\.96\.0\.1 sport=\d+ dport=443/ }).waitFor();

    // A change made elsewhere shows without reopening (labChanged).
    await page.getByTestId('rules-tab-filter').click();
    await page.getByTestId('command').fill('iptables -N LAB-CHANGED');
    await page.getByTestId('command').press('Enter');
    await rb.locator('section.rb-chain[data-chain=LAB-CHANGED]').waitFor({ timeout: 10_000 });

    // Escape closes it.
    await page.getByTestId('rules-filter').focus();
    await page.keyboard.press('Escape');
    await rb.waitFor({ state: 'detached' });
    assert.deepEqual(suite.b.errors, []);
  }));

  it('compares two nodes (the CoreDNS pod’s Calico chains only on minikube, kube-proxy’s alike) and a node with its previous revision', shot(async (page) => {
    // A change after the lab was made: a revision of its own, to compare with the one before.
    assert.equal(new LabApiImpl(suite.service).exec('pair', 'minikube', ['iptables', '-A', 'INPUT', '-s', '10.9.9.9', '-j', 'DROP']).code, 0);
    await openLab(page, suite.app.url, 'pair', 'n:minikube');
    await page.getByTestId('open-rules').click();
    const rb = page.getByTestId('rules-browser');
    await page.getByTestId('rules-status').filter({ hasText: /rules in \d+ tables/ }).waitFor();
    await page.getByTestId('rules-compare').focus(); // the choices are read when it is first used
    await page.locator('[data-testid=rules-compare] option[value=minikube-m02]').waitFor({ state: 'attached' });
    await page.getByTestId('rules-compare').selectOption('minikube-m02');
    await page.getByTestId('rules-tab-compare').filter({ hasText: /^vs minikube-m02: −\d+ \+\d+$/ }).waitFor();
    await seeText(page.getByTestId('compare-summary'), /^minikube vs minikube-m02: \d+ rules only on minikube \(−\), \d+ only on minikube-m02 \(\+\), \d+ on both\.$/);
    const fw = rb.locator('[data-testid=compare-chain][data-chain^="cali-fw-cali"]');
    assert.match((await fw.locator('.rb-chain-head').textContent()) ?? '', /only on minikube$/);
    assert.ok((await fw.getByTestId('compare-only-a').count()) > 0);
    await rb.locator('[data-testid=compare-chain][data-chain=cali-from-wl-dispatch] [data-testid=compare-only-b]', { hasText: 'Unknown interface' }).waitFor();
    await seeValue(() => rb.locator('[data-testid=compare-chain][data-chain^="KUBE-"]').count(), 0, 'kube-proxy wrote the same rules on both');
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'rules-compare.png') });
    // minikube at the revision before the rule was added: that rule is all that differs.
    const revision = (await page.locator('[data-testid=rules-compare] option[value^="rev:"]').first().getAttribute('value'))!;
    await page.getByTestId('rules-compare').selectOption(revision);
    await page.getByTestId('rules-tab-compare').filter({ hasText: /^vs minikube at revision \d+: −1 \+0$/ }).waitFor();
    assert.deepEqual(await rb.getByTestId('compare-only-a').allTextContents(), ['−-s 10.9.9.9/32 -j DROP']);
    // Back to one host's rules.
    await page.getByTestId('rules-compare').selectOption('');
    await page.getByTestId('rules-tab-compare').waitFor({ state: 'detached' });
    assert.deepEqual(suite.b.errors, []);
  }));

  it('opens the rules of a 60,000-rule node in under a second (measured)', shot(async (page, t) => {
    const api = new LabApiImpl(suite.service);
    api.createLab('big');
    api.addHost('big', 'node1');
    const dump = kubeNatDump(20_000);
    const r = api.exec('big', 'node1', ['iptables-restore'], dump.text);
    assert.equal(r.code, 0, r.stderr);
    await openLab(page, suite.app.url, 'big', 'h:node1');
    // The service builds its engine of the lab (replaying the 60,000-rule restore) on the first
    // command: that is the lab's cost, not the browser's, so it comes first.
    const e0 = Date.now();
    await page.getByTestId('command').fill('iptables -t nat -L INPUT -n');
    await page.getByTestId('command').press('Enter');
    await page.getByTestId('command-output').filter({ hasText: 'Chain INPUT (policy ACCEPT)' }).waitFor({ timeout: 60_000 });
    const engineMs = Date.now() - e0;
    const rb = page.getByTestId('rules-browser');
    /** Opens the browser: ms to the first chains on screen, and to the whole listing (KUBE-SERVICES
     *  sorts after the listed KUBE-SEP-… chains, rendered in slices). */
    const openRules = async (): Promise<[number, number, string]> => {
      const t0 = Date.now();
      await page.getByTestId('open-rules').click();
      await rb.locator('section.rb-chain[data-chain=PREROUTING]').waitFor({ timeout: 30_000 });
      const first = Date.now() - t0;
      await rb.locator('section.rb-chain[data-chain=KUBE-SERVICES]').waitFor({ timeout: 30_000 });
      const whole = Date.now() - t0;
      return [first, whole, `service+transport ${await rb.getAttribute('data-load-ms')} ms, first render ${await rb.getAttribute('data-render-ms')} ms`];
    };
    // The first open is the cold one: the service sorts the table's 40,008 chains then.
    const [openMs, listMs, coldParts] = await openRules();
    const status = (await page.getByTestId('rules-status').textContent()) ?? '';
    assert.match(status, /60,008 rules in 1 table · 1,00\d of 40,008 chains listed/);
    await page.getByTestId('rules-more-chains').waitFor();
    // KUBE-SERVICES (20,001 rules) opened: its rules asked of the suite.service, the first 500 shown.
    const t1 = Date.now();
    await rb.locator('section.rb-chain[data-chain=KUBE-SERVICES] .rb-chain-head').click();
    await rb.locator('section.rb-chain[data-chain=KUBE-SERVICES] .rb-rule').nth(499).waitFor({ timeout: 30_000 });
    const chainMs = Date.now() - t1;
    await seeValue(() => rb.locator('section.rb-chain[data-chain=KUBE-SERVICES] .rb-rule').count(), 500);
    await rb.getByTestId('rules-show-more').filter({ hasText: '19,501 left' }).waitFor();
    // A chain beyond the listed ones, reached by its jump.
    const last = rb.locator('section.rb-chain[data-chain=KUBE-SERVICES] a.rb-target').last();
    const name = (await last.getAttribute('data-target'))!;
    const t2 = Date.now();
    await last.click();
    await rb.locator(`section.rb-chain.rb-highlight[data-chain="${name}"]`).waitFor({ timeout: 30_000 });
    const jumpMs = Date.now() - t2;
    // Reopened (warm: the service keeps the table's order until the rules change).
    await page.getByTestId('rules-close').click();
    const [warmMs, warmListMs, warmParts] = await openRules();
    // A filter over all 60,008 rules.
    const t4 = Date.now();
    await page.getByTestId('rules-filter').fill('bench/svc19999');
    await page.getByTestId('rules-status').filter({ hasText: 'match “bench/svc19999”' }).waitFor({ timeout: 30_000 });
    const filterMs = Date.now() - t4 - 200; // less the filter box's debounce
    const line = `60,008-rule node (engine built by a first command in ${engineMs} ms): rules browser open (first chains on screen) ${openMs} ms cold (${coldParts}), ${warmMs} ms warm (${warmParts}); ` +
      `whole listing ${listMs} ms cold, ${warmListMs} ms warm; KUBE-SERVICES opened (20,001 rules, 500 shown) ${chainMs} ms; jump to an unlisted chain ${jumpMs} ms; filter over all rules ${filterMs} ms`;
    t.diagnostic(line);
    console.log(line);
    // The target is 1 s; the assertion leaves room for a loaded test machine.
    assert.ok(openMs < 10_000, line);
    assert.deepEqual(suite.b.errors, []);
  }));
});
