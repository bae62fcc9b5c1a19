// Replays the sessions of sessions-data.ts on the engine and compares every step with what
// the real iptables v1.8.9 (nf_tables) printed (sessions-recorded.ts): stdout, stderr and
// exit status, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { allSessions, engineStep } from './sessions-data.ts';
import { RECORDED } from './sessions-recorded.ts';
import { normalizeSave } from './record-sessions.ts';

for (const s of allSessions()) {
  test(`session ${s.name} prints what iptables 1.8.9 printed`, () => {
    const rec = RECORDED[s.name];
    assert.ok(rec, `no recording for ${s.name}: run record-sessions.ts`);
    assert.equal(rec.length, s.steps.length, 'recording out of date: run record-sessions.ts');
    const nf = new Netfilter();
    const sets = new Set<string>();
    nf.setExists = (name) => sets.has(name);
    s.steps.forEach((st, i) => {
      const r = engineStep(nf, sets, st);
      if (!r) return;
      const label = `step ${i + 1}: ${typeof st === 'string' ? st : st.cmd}`;
      assert.equal(r.stderr, rec[i].stderr, `${label} (stderr)`);
      assert.equal(normalizeSave(r.stdout), rec[i].stdout, `${label} (stdout)`);
      assert.equal(r.code, rec[i].code, `${label} (exit status)`);
    });
  });
}
