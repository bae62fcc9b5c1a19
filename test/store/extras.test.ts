import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../main/store/store.ts';
import { emptyLab } from '../../shared/lab.ts';
import { ConsoleHistoryRepo } from '../../main/store/console-history.ts';
import { tmpDbPath } from './tmp.ts';

test('traces, console history, layout and settings persist across a reopen', (t) => {
  const path = tmpDbPath(t);
  let s = Store.open(path);
  const id = s.labs.createLab('x', emptyLab('x')).id;
  s.traces.save(id, 'dns', 7, { steps: [{ hook: 'PREROUTING', verdict: 'ACCEPT' }] });
  s.traces.save(id, 'dns', 8, { steps: [] }); // same name: replaced
  s.traces.save(id, 'web', 1, { steps: [1] });
  s.consoleHistory.append(id, 'node1', 'iptables -L');
  s.consoleHistory.append(id, 'node1', 'ipset list');
  s.consoleHistory.append(id, 'node2', 'ip route');
  s.layouts.set(id, { nodes: { node1: [10, 20] } });
  s.settings.set('theme', 'dark');
  s.settings.set('recent', ['x']);
  s.close();

  s = Store.open(path);
  try {
    assert.deepEqual(s.traces.list(id).map((r) => [r.name, r.seed]), [['dns', 8], ['web', 1]]);
    assert.deepEqual(s.traces.get(id, 'dns')?.report, { steps: [] });
    assert.equal(s.traces.get(id, 'nope'), undefined);
    assert.equal(s.traces.delete(id, 'web'), true);
    assert.equal(s.traces.delete(id, 'web'), false);
    assert.deepEqual(s.consoleHistory.lines(id, 'node1'), ['iptables -L', 'ipset list']);
    assert.deepEqual(s.consoleHistory.lines(id, 'node1', 1), ['ipset list']);
    assert.deepEqual(s.consoleHistory.hosts(id), ['node1', 'node2']);
    s.consoleHistory.clear(id, 'node2');
    assert.deepEqual(s.consoleHistory.hosts(id), ['node1']);
    assert.deepEqual(s.layouts.get(id), { nodes: { node1: [10, 20] } });
    assert.equal(s.settings.get('theme'), 'dark');
    assert.deepEqual({ ...s.settings.all() }, { recent: ['x'], theme: 'dark' });
    assert.equal(s.settings.delete('theme'), true);
    assert.equal(s.settings.get('theme'), undefined);
    assert.throws(() => s.settings.set('f', undefined), /not JSON/);
    // Foreign keys are on: nothing can hang off a lab that does not exist.
    assert.throws(() => s.traces.save(9999, 'orphan', 1, {}), /FOREIGN KEY/);
  } finally {
    s.close();
  }
});

test('console history keeps only the newest lines per host', (t) => {
  const s = Store.open(tmpDbPath(t));
  try {
    const id = s.labs.createLab('x', emptyLab('x')).id;
    const h = new ConsoleHistoryRepo(s.db, Date.now, 3);
    for (let i = 1; i <= 5; i++) h.append(id, 'n', `cmd ${i}`);
    assert.deepEqual(h.lines(id, 'n'), ['cmd 3', 'cmd 4', 'cmd 5']);
    assert.equal((s.db.prepare('SELECT count(*) AS n FROM console_history').get() as { n: number }).n, 3);
  } finally {
    s.close();
  }
});
