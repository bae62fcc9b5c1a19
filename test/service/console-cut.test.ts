// consoleLine sends the tail of a big output that a console keeps (from a line start) and says
// how much it left out; exec gives the whole of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { CONSOLE_KEEP_CHARS } from '../../shared/api/contract.ts';
import { kubeNatDump } from '../bench/gen-kube.ts';

test('consoleLine: a 6 MB iptables-save arrives as its last lines, with the size of what was left out', () => {
  const service = new LabService({ db: ':memory:' });
  try {
    const api = new LabApiImpl(service);
    api.createLab('big');
    api.addHost('big', 'n');
    assert.equal(api.exec('big', 'n', ['iptables-restore'], kubeNatDump(15_000).text).code, 0);
    const whole = api.exec('big', 'n', ['iptables-save']).stdout;
    assert.ok(whole.length > 3 * CONSOLE_KEEP_CHARS, `${whole.length} chars`);
    const r = api.consoleLine('big', 'n', ['iptables-save']);
    assert.ok(r.stdoutCut && r.stdoutCut > 0);
    assert.equal(r.stdoutCut + r.stdout.length, whole.length);
    assert.ok(r.stdout.length <= CONSOLE_KEEP_CHARS);
    assert.equal(whole[r.stdoutCut - 1], '\n', 'the kept part starts at a line');
    assert.ok(whole.endsWith(r.stdout));
    // A small output is whole, without the field.
    const small = api.consoleLine('big', 'n', ['iptables -t nat -L INPUT -n']);
    assert.equal(small.stdoutCut, undefined);
    assert.match(small.stdout, /^Chain INPUT \(policy ACCEPT\)/);
  } finally {
    service.close();
  }
});
