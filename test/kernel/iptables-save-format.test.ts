// The engine's iptables, iptables-save and iptables-restore against the real iptables v1.8.9
// (nf_tables) in namespaces of our own. Every ruleset of sessions-data.ts (kube-proxy's current
// and v1.19 layouts, Calico with its ipsets, and twenty more) is restored with the real
// iptables-restore in a fresh namespace; the real iptables-save, `-L`, `-L -n -v
// --line-numbers` and `-S -v` must equal the engine's byte for byte (save's date lines aside).
// The command sessions (listing layouts, getopt quirks, error messages and exit statuses,
// iptables-restore errors) are compared step by step the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netfilter } from '../../main/engine/netfilter/ruleset.ts';
import { addNamespace, checkKernelPrereqs, deleteNamespace, newLabPrefix, run } from './harness/netns.ts';
import { allSessions, engineStep, words, type Session } from '../engine/netfilter/sessions-data.ts';
import { normalizeSave } from '../engine/netfilter/record-sessions.ts';

async function compareSession(s: Session): Promise<void> {
  const ns = `${newLabPrefix()}isf`;
  await addNamespace(ns);
  try {
    const nf = new Netfilter();
    const sets = new Set<string>();
    nf.setExists = (name) => sets.has(name);
    for (const [i, st] of s.steps.entries()) {
      const cmd = typeof st === 'string' ? st : st.cmd;
      const real = await run(['ip', 'netns', 'exec', ns, ...words(cmd)], { stdin: typeof st === 'string' ? '' : st.stdin });
      const eng = engineStep(nf, sets, st);
      if (!eng) {
        assert.equal(real.code, 0, `${cmd}: ${real.stderr}`);
        continue;
      }
      const label = `${s.name}, step ${i + 1}: ${cmd}`;
      assert.equal(eng.stderr, real.stderr, `${label} (stderr)`);
      assert.equal(normalizeSave(eng.stdout), normalizeSave(real.stdout), `${label} (stdout)`);
      assert.equal(eng.code, real.code, `${label} (exit status)`);
    }
  } finally {
    await deleteNamespace(ns);
  }
}

test('the kernel tests can run: root, iptables, ipset', () => {
  checkKernelPrereqs();
});

const sessions = allSessions();
const rulesets = sessions.filter((s) => s.name.startsWith('ruleset: '));

test('at least 20 rulesets, among them kube-proxy (both layouts) and Calico', () => {
  assert.ok(rulesets.length >= 20, `${rulesets.length} rulesets`);
  const names = rulesets.map((s) => s.name).join('\n');
  assert.match(names, /kube-proxy current layout/);
  assert.match(names, /kube-proxy v1\.19 layout/);
  assert.match(names, /Calico/);
});

for (const s of sessions) {
  test(`${s.name}: the engine prints what the real iptables prints`, { timeout: 120_000 }, async () => {
    checkKernelPrereqs();
    await compareSession(s);
  });
}
