// Saved traces through LabApi (the debugger's Save, its list, reopening one, Export): the
// arguments of saveTraceReport, savedTrace and exportTrace checked by the shared schema every
// transport applies, and the dispatcher's answers: a trace saved with the seed it used (traced
// again by saveTrace, or as shown by saveTraceReport), reopened with its report, exported as
// Markdown and as JSON; a missing trace, a file path and a report that is not one refused.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import { checkCall, type ExportResult, type SavedTrace, type SavedTraceReport, type TraceResult } from '../../shared/api/contract.ts';

const report = {
  outcome: 'delivered', reason: 'delivered to server', seed: 3,
  packet: { src: '10.0.1.2', dst: '10.0.1.3', proto: 'tcp', sport: 40000, dport: 80 },
  steps: [{ host: 'server', hook: 'INPUT', table: 'filter', chain: 'INPUT', rule: 1, rule_spec: '-A INPUT -j ACCEPT', matched: true, verdict: 'ACCEPT' }],
  events: [{ host: 'server', kind: 'deliver', text: 'delivered', at: 1 }],
  extra: { anything: true },
};

describe('savedTrace, exportTrace: argument validation', () => {
  const good = (m: string, params: unknown[]): void => assert.equal(checkCall(m, params), null, JSON.stringify(params).slice(0, 120));
  const bad = (m: string, params: unknown[], re: RegExp): void => {
    const e = checkCall(m, params);
    assert.ok(e, `refused: ${JSON.stringify(params).slice(0, 120)}`);
    assert.match(e.message, re);
  };

  it('takes what the debugger sends', () => {
    good('savedTrace', ['lab', 'trace 1']);
    good('saveTraceReport', ['lab', 'trace 1', report]);
    good('exportTrace', ['lab', report, 'markdown']);
    good('exportTrace', ['lab', report, 'json', 'trace 1']);
    good('exportTrace', ['lab', { ...report, reply: null, ack: null, outcomes: [] }, 'json']);
  });

  it('refuses anything else', () => {
    bad('savedTrace', ['lab'], /argument 2: missing/);
    bad('savedTrace', ['lab', ''], /1-200 characters/);
    bad('savedTrace', ['/etc/passwd', 't'], /lab name/);
    bad('exportTrace', ['lab', report, 'html'], /"markdown", "json"/);
    bad('exportTrace', ['lab', 'text', 'json'], /expected an object/);
    bad('exportTrace', ['lab', { ...report, steps: 'x' }, 'json'], /steps: expected an array/);
    bad('exportTrace', ['lab', { ...report, steps: [{ host: 'a' }] }, 'json'], /steps\[0\]\.table: missing/);
    bad('exportTrace', ['lab', { ...report, packet: { ...report.packet, sport: 'x' } }, 'json'], /packet\.sport/);
    bad('exportTrace', ['lab', { ...report, reply: { outcome: 'x' } }, 'json'], /reply\.reason: missing/);
    bad('exportTrace', ['lab', { ...report, seed: -1 }, 'json'], /seed/);
    bad('exportTrace', ['lab', report, 'json', 'x'.repeat(201)], /1-200/);
    bad('saveTraceReport', ['lab', 'n', { ...report, events: [{ host: 'a', kind: 'k', text: 't' }] }], /events\[0\]\.at: missing/);
    bad('saveTraceReport', ['lab', 'n', { ...report, seed: undefined }], /seed: missing/);
    bad('saveTraceReport', ['lab', 'n', { ...report, reason: 7 }], /reason: expected a string/);
    bad('saveTraceReport', ['lab', '', report], /1-200 characters/);
    bad('saveTraceReport', ['lab', 'n'], /argument 3: missing/);
  });
});

describe('saved traces on the service', () => {
  let dir: string;
  let api: ApiDispatcher;

  const ok = async <T>(method: string, ...params: unknown[]): Promise<T> => {
    const r = await api.call(method, params);
    if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-trace-api-'));
    api = openLabApi({ db: join(dir, 'labs.db') });
    await ok('createLab', 'demo', { seed: 5 });
    await ok('addLan', 'demo', 'lan1');
    await ok('addHost', 'demo', 'client');
    await ok('addHost', 'demo', 'server', { listen: [{ port: 80, proto: 'tcp' }] });
    await ok('addLink', 'demo', 'client', 'lan1', '10.0.1.2/24');
    await ok('addLink', 'demo', 'server', 'lan1', '10.0.1.3/24');
    await ok('exec', 'demo', 'server', ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT'], '');
  });
  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves a trace with the seed its walk used, lists it and reopens it with its report', async () => {
    const spec = { from: 'client', to: '10.0.1.3:80', proto: 'tcp' };
    const live = await ok<{ json: Record<string, unknown> }>('trace', 'demo', spec);
    await ok('saveTrace', 'demo', 'trace 1', spec);
    const list = await ok<SavedTrace[]>('traces', 'demo');
    assert.deepEqual(list.map((t) => [t.name, t.seed]), [['trace 1', live.json.seed]]);
    assert.ok(Math.abs(list[0].at - Date.now()) < 60_000);
    const saved = await ok<SavedTraceReport>('savedTrace', 'demo', 'trace 1');
    assert.equal(saved.name, 'trace 1');
    assert.equal(saved.seed, live.json.seed);
    assert.deepEqual(saved.trace.steps, live.json.steps);
    assert.equal(saved.trace.outcome, 'delivered');
  });

  it('saves a trace as shown (a console packet, whose walk depends on the packets before it)', async () => {
    await ok('saveTraceReport', 'demo', 'shown', report);
    const saved = await ok<SavedTraceReport>('savedTrace', 'demo', 'shown');
    assert.equal(saved.seed, 3);
    assert.deepEqual(saved.trace, report);
    // The same name again replaces it.
    await ok('saveTraceReport', 'demo', 'shown', { ...report, seed: 4 });
    const list = await ok<SavedTrace[]>('traces', 'demo');
    assert.deepEqual(list.map((t) => [t.name, t.seed]).filter(([n]) => n === 'shown'), [['shown', 4]]);
  });

  it('exports a report as Markdown and as JSON', async () => {
    const saved = await ok<SavedTraceReport>('savedTrace', 'demo', 'trace 1');
    const md = await ok<ExportResult>('exportTrace', 'demo', saved.trace, 'markdown', 'trace 1');
    assert.equal(md.fileName, 'demo-trace_1.md');
    assert.match(md.text, /^## Trace tcp 10\.0\.1\.2:\d+ → 10\.0\.1\.3:80 \(seed \d+\)\n/);
    assert.match(md.text, /\| server \| INPUT \| filter \| INPUT \| #1 \| `-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT` \| ✔ \| ACCEPT \|/);
    const js = await ok<ExportResult>('exportTrace', 'demo', saved.trace, 'json');
    assert.equal(js.fileName, 'demo-trace.json');
    assert.deepEqual(JSON.parse(js.text), saved.trace);
    // A report without its optional parts (reply, ack, outcomes) still renders.
    const bare = await ok<ExportResult>('exportTrace', 'demo', report as unknown as TraceResult, 'markdown');
    assert.match(bare.text, /\| server \| INPUT \| filter \| INPUT \| #1 \| `-A INPUT -j ACCEPT` \| ✔ \| ACCEPT \|/);
  });

  it('says when the trace is missing, or the lab a file', async () => {
    let r = await api.call('savedTrace', ['demo', 'nope']);
    assert.ok('error' in r);
    assert.deepEqual(r.error, { code: 'notfound', message: 'no saved trace "nope" in lab "demo"' });
    r = await api.call('savedTrace', ['nolab', 'x']);
    assert.ok('error' in r && r.error.code === 'notfound', JSON.stringify(r));
    r = await api.call('exportTrace', ['a/b', report, 'json']);
    assert.ok('error' in r && r.error.code === 'invalid', JSON.stringify(r));
  });
});
