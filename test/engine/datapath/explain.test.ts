import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../main/engine/host.ts';
import { traverse, type RuleStep } from '../../../main/engine/datapath/traverse.ts';
import { whyNot, whySkipped } from '../../../main/engine/datapath/explain.ts';
import { iptablesRestore } from '../../../main/engine/shell/iptables.ts';
import { PROTO, type MatchCtx } from '../../../main/engine/netfilter/types.ts';

const lab = { now: () => 0, random: () => 0.5, chance: () => true, seed: 1 };

test('misses are explained from the step snapshot; skipped runs on request', () => {
  const host = new Host('h', [], lab);
  const rules = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < 30; i++) rules.push(`-A OUTPUT -d 10.1.0.${i}/32 -p tcp -m tcp --dport 80 -j ACCEPT`);
  rules.push('-A OUTPUT -p tcp -m tcp --dport 443 -j DROP', '-A OUTPUT -d 10.2.0.7/32 -p tcp -m tcp --dport 8080 -j REJECT', 'COMMIT', '');
  assert.equal(iptablesRestore(['iptables-restore'], rules.join('\n'), host.nf).code, 0);
  const steps: RuleStep[] = [];
  const ctx: MatchCtx = {
    hook: 'OUTPUT', table: 'filter', outIface: 'eth0', host: host.env, rule: undefined as never, ct: null,
    pkt: { src: 0x0a000001, dst: 0x0a020007, proto: PROTO.tcp, sport: 40000, dport: 80, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0 },
  };
  const v = traverse({ host: 'h', hook: 'OUTPUT', table: host.nf.table('filter')!, generation: host.nf.generation, index: host.index, ctx, steps, log: () => undefined, onNotrack: () => undefined, onTrace: () => undefined, maxSteps: 1000 }, 'OUTPUT');
  assert.equal(v.kind, 'accept');
  // 30 rules for other destinations and one for another port skipped by the index, then the
  // one candidate (a miss on its port), then the policy
  assert.equal(steps[0].skipped, 31);
  assert.equal(steps[0].from, 1);
  const chain = host.nf.table('filter')!.chains.get('OUTPUT')!;
  const skipped = whySkipped(steps[0], chain, host.env);
  assert.equal(skipped.length, 31);
  assert.deepEqual(skipped[3], { rule: 4, why: 'dst 10.2.0.7 not in 10.1.0.3/32' });
  assert.match(skipped[30].why, /80.*443|443.*80/);
  assert.equal(steps[1].rule, 32);
  assert.match(whyNot(steps[1], host.env), /8080/);
  assert.equal(steps[2].verdict, 'ACCEPT');
  assert.equal(steps[2].rule, null);
  assert.equal(whyNot(steps[2], host.env), '');
});
