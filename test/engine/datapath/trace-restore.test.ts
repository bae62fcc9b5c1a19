// A trace that is not kept leaves the lab exactly as it was, however many are run in a row:
// conntrack, ipsets (matching counts packets in a set with counters), rule counters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';

function lab(): Lab {
  const doc = emptyLab('restore');
  doc.lans = [{ name: 'lan' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.10/24' }] },
    { name: 'server', listen: [{ port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'lan', ip: '10.0.0.20/24' }] },
  ];
  const j = (host: string, cmd: string) => ({ host, argv: cmd.split(' ') });
  doc.journal = [
    j('server', 'ipset create seen hash:ip counters'),
    j('server', 'ipset add seen 10.0.0.10'),
    j('server', 'iptables -A INPUT -m set --match-set seen src'),
    // A conntrack match: the server's netns tracks connections.
    j('server', 'iptables -A INPUT -m conntrack --ctstate NEW'),
  ];
  return Lab.fromDoc(doc);
}

const state = (l: Lab) => ({
  sets: l.exec('server', ['ipset', 'list', 'seen'], '').stdout,
  ct: l.exec('server', ['conntrack', '-L'], '').stdout + l.exec('client', ['conntrack', '-L'], '').stdout,
  counters: l.exec('server', ['iptables-save', '-c'], '').stdout,
});

test('traces that are not kept leave conntrack, sets and counters as they were, trace after trace', () => {
  const l = lab();
  const before = state(l);
  for (let i = 0; i < 3; i++) {
    const t = l.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', sport: 40000 + i });
    assert.equal(t.json.outcome, 'delivered');
    assert.deepEqual(state(l), before, `after trace ${i + 1}`);
  }
  l.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', allOutcomes: true });
  assert.deepEqual(state(l), before, 'after an all-outcomes trace');
  const kept = l.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', keep: true });
  assert.equal(kept.json.outcome, 'delivered');
  const after = state(l);
  assert.match(before.sets, /Members:\n10\.0\.0\.10 packets 0 bytes 0\n/);
  assert.match(after.sets, /Members:\n10\.0\.0\.10 packets [1-9]\d* bytes [1-9]\d*\n/);
  assert.notEqual(after.ct, before.ct);
});
