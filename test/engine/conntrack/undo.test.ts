// The conntrack undo journal a lab's traces run under: whatever packets do to a table (new
// connections, updates of known ones, a reap of an expired one, statistics, the id counter),
// undoing to a mark gives back the table as it was then — its listing, order and statistics —
// through nested marks, while the entries the packets changed keep what the packets did (a
// trace's record still shows it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConntrackTable, ctUndo, markConntrack, undoConntrack } from '../../../main/engine/conntrack/table.ts';
import { ACK, pass, SYN, tcp, udp } from './helpers.ts';

/** Everything a listing or the next packet could tell apart. */
function state(t: ConntrackTable) {
  return JSON.stringify(t.toJSON());
}

function journal<T>(fn: () => T): T {
  ctUndo.depth++;
  try {
    return fn();
  } finally {
    ctUndo.depth--;
    if (ctUndo.depth === 0) {
      ctUndo.log.length = 0;
      markConntrack();
    }
  }
}

test('undo gives back the table: new, updated and reaped connections, statistics, ids, order', () => {
  const t = new ConntrackTable();
  pass(t, tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), 0);
  pass(t, udp('10.0.0.1', 2000, '10.0.0.3', 53), 0);
  pass(t, udp('10.0.0.1', 2001, '10.0.0.3', 53), 0);
  const before = state(t);
  journal(() => {
    const mark = markConntrack();
    const known = pass(t, tcp('10.0.0.2', 80, '10.0.0.1', 1000, SYN | ACK), 1); // the SYN-ACK
    pass(t, tcp('10.0.0.1', 3000, '10.0.0.2', 80, SYN), 1); // a new one
    pass(t, udp('10.0.0.1', 2000, '10.0.0.3', 53), 100); // the first UDP one expired: reaped, made again
    t.track(tcp('10.0.0.9', 1, '10.0.0.2', 80, ACK | 0x04), 100); // statistics (an invalid packet)
    assert.notEqual(state(t), before);
    undoConntrack(mark);
    assert.equal(state(t), before);
    // the changed entry as the packet left it, the table's copy as before
    assert.ok(known.entry?.status.has('SEEN_REPLY'));
    assert.ok(!t.get(known.entry!.id)!.status.has('SEEN_REPLY'));
  });
  assert.equal(state(t), before);
});

test('nested marks: the inner undo keeps the outer changes, the outer undo removes both', () => {
  const t = new ConntrackTable();
  pass(t, tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), 0);
  const start = state(t);
  journal(() => {
    const outer = markConntrack();
    pass(t, tcp('10.0.0.2', 80, '10.0.0.1', 1000, SYN | ACK), 1);
    pass(t, udp('10.0.0.1', 5, '10.0.0.7', 53), 1);
    const middle = state(t);
    ctUndo.depth++;
    const inner = markConntrack();
    for (let round = 0; round < 3; round++) {
      pass(t, tcp('10.0.0.1', 1000, '10.0.0.2', 80, ACK), 2);
      pass(t, udp('10.0.0.1', 5, '10.0.0.7', 53), 2);
      pass(t, tcp('10.0.0.1', 4000 + round, '10.0.0.2', 80, SYN), 2);
      assert.notEqual(state(t), middle);
      undoConntrack(inner);
      assert.equal(state(t), middle, `inner round ${round}`);
    }
    ctUndo.depth--;
    pass(t, tcp('10.0.0.1', 1000, '10.0.0.2', 80, ACK), 3);
    undoConntrack(outer);
    assert.equal(state(t), start);
  });
});

test('without a journal running nothing is recorded', () => {
  const t = new ConntrackTable();
  pass(t, tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), 0);
  pass(t, tcp('10.0.0.2', 80, '10.0.0.1', 1000, SYN | ACK), 1);
  assert.equal(ctUndo.log.length, 0);
});
