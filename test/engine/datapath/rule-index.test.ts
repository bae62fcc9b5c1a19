// The rule index must never change which rule matches first: random rulesets and packets are
// walked with the index and with plain linear evaluation, and every matched step, verdict and
// counter must be identical (skipped folds aside).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../main/engine/host.ts';
import { IndexCache } from '../../../main/engine/netfilter/rule-index.ts';
import { traverse, type RuleStep } from '../../../main/engine/datapath/traverse.ts';
import { iptablesRestore } from '../../../main/engine/shell/iptables.ts';
import { PROTO, type MatchCtx, type Packet } from '../../../main/engine/netfilter/types.ts';
import { Rng } from '../../../main/engine/random.ts';

function ruleset(rng: Rng, chains: number, rulesPerChain: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const dsts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.1.0.9'];
  const ports = [53, 80, 443, 8080];
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let c = 0; c < chains; c++) lines.push(`:C${c} - [0:0]`);
  const rule = (chain: string, c: number) => {
    const parts: string[] = [`-A ${chain}`];
    const kind = rng.next();
    if (kind < 0.35) parts.push(`-d ${pick(dsts)}/32`);
    else if (kind < 0.45) parts.push(`! -d ${pick(dsts)}/32`);
    else if (kind < 0.55) parts.push('-d 10.0.0.0/24');
    const proto = rng.next() < 0.7 ? pick(['tcp', 'udp']) : null;
    if (proto) {
      parts.push(`-p ${proto}`);
      const r = rng.next();
      if (r < 0.15) parts.push('-m statistic --mode nth --every 3 --packet 1');
      if (r < 0.6) parts.push(`-m ${proto} --dport ${pick(ports)}`);
      else if (r < 0.7) parts.push(`-m ${proto} ! --dport ${pick(ports)}`);
      else if (r < 0.8) parts.push(`-m ${proto} --dport 50:100`);
    }
    if (rng.next() < 0.2) parts.push(`-m mark --mark 0x${pick([0, 1, 2])}`);
    const t = rng.next();
    if (t < 0.25 && c + 1 < chains) parts.push(`-j C${c + 1 + Math.floor(rng.next() * (chains - c - 1))}`);
    else if (t < 0.3 && c + 1 < chains) parts.push(`-g C${c + 1}`);
    else if (t < 0.45) parts.push(`-j MARK --set-xmark 0x${pick([1, 2])}/0xff`);
    else if (t < 0.55) parts.push('-j RETURN');
    else if (t < 0.62) parts.push('-j DROP');
    else if (t < 0.7) parts.push('-j ACCEPT');
    lines.push(parts.join(' '));
  };
  for (let i = 0; i < rulesPerChain; i++) rule('OUTPUT', -1);
  for (let c = 0; c < chains; c++) for (let i = 0; i < rulesPerChain; i++) rule(`C${c}`, c);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

const lab = { now: () => 0, random: () => 0.5, chance: () => true, seed: 1 };

function walk(host: Host, pkt: Packet): { verdict: string; steps: RuleStep[] } {
  const steps: RuleStep[] = [];
  const ctx: MatchCtx = { hook: 'OUTPUT', table: 'filter', outIface: 'eth0', pkt: { ...pkt }, ct: null, host: host.env, rule: undefined as never };
  const v = traverse(
    { host: host.name, hook: 'OUTPUT', table: host.nf.table('filter')!, generation: host.nf.generation, index: host.index, ctx, steps, log: () => undefined, onNotrack: () => undefined, onTrace: () => undefined, maxSteps: 100000 },
    'OUTPUT',
  );
  return { verdict: v.kind, steps };
}

test('indexed and linear walks agree on random rulesets', () => {
  const rng = new Rng(42);
  let compared = 0;
  let skippedSomething = false;
  for (let round = 0; round < 25; round++) {
    const text = ruleset(rng, 6, 40);
    const indexed = new Host('h', [], lab);
    const linear = new Host('h', [], lab);
    linear.index = new IndexCache(Infinity);
    for (const h of [indexed, linear]) {
      const r = iptablesRestore(['iptables-restore'], text, h.nf);
      assert.equal(r.code, 0, r.stderr);
    }
    for (let i = 0; i < 60; i++) {
      const pkt: Packet = {
        src: 0x0a000063, dst: [0x0a000001, 0x0a000002, 0x0a000003, 0x0a010009, 0x0a0000fe][Math.floor(rng.next() * 5)],
        proto: rng.next() < 0.5 ? PROTO.tcp : PROTO.udp, sport: 40000, dport: [53, 80, 443, 8080, 60][Math.floor(rng.next() * 5)],
        tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: Math.floor(rng.next() * 3),
      };
      const a = walk(indexed, pkt);
      const b = walk(linear, pkt);
      if (a.steps.some((s) => s.skipped)) skippedSomething = true;
      const matched = (s: RuleStep[]) => s.filter((x) => x.matched).map((x) => `${x.chain}#${x.rule}:${x.verdict}`);
      assert.equal(a.verdict, b.verdict);
      assert.deepEqual(matched(a.steps), matched(b.steps));
      compared++;
    }
    const counters = (h: Host) => [...h.nf.table('filter')!.chains.values()].flatMap((c) => c.rules.map((r) => r.packets));
    assert.deepEqual(counters(indexed), counters(linear));
  }
  assert.equal(compared, 1500);
  assert.ok(skippedSomething, 'the index skipped nothing: the test would prove nothing');
});
