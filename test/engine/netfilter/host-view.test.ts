// The rules browser's reader (main/engine/host-view.ts) against the tools' own words for the
// same state: chains, policies, policy counters and rules with counters as `iptables-save -c`
// prints them, references and counters as `iptables -L -v -n -x`, sets as `ipset list`,
// connections as `conntrack -L`. On a hand-made host (counters, a DROP policy, jumps, a goto,
// an unreferenced chain, sets) and on a cluster's node after traffic; then the budgets, the
// one-chain query and the filter.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import { hostView } from '../../../main/engine/host-view.ts';
import type { RulesView } from '../../../shared/rules-view.ts';
import { clusterLab } from '../cluster/lab-cluster.ts';

const all = { limit: 100_000, chainLimit: 100_000 };

function run(lab: Lab, host: string, argv: string[], stdin = ''): string {
  const r = lab.exec(host, argv, stdin);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Checks a view against iptables-save -c, iptables -L -v -n -x, ipset list and conntrack -L. */
function compareWithTools(lab: Lab, host: string, v: RulesView): void {
  // ---- iptables-save -c: tables, chains (order, policy, counters), rules (text, counters).
  const save = run(lab, host, ['iptables-save', '-c']);
  const saved = new Map<string, { chains: string[]; rules: string[] }>();
  let cur: { chains: string[]; rules: string[] } | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) saved.set(line.slice(1), (cur = { chains: [], rules: [] }));
    else if (line.startsWith(':')) cur!.chains.push(line);
    else if (line.startsWith('[')) cur!.rules.push(line);
  }
  assert.deepEqual(v.tables.map((t) => t.name).sort(), [...saved.keys()].sort());
  let total = 0;
  for (const t of v.tables) {
    const s = saved.get(t.name)!;
    assert.deepEqual(
      t.chains.map((c) => (c.builtin ? `:${c.name} ${c.policy} [${c.packets}:${c.bytes}]` : `:${c.name} - [0:0]`)),
      s.chains,
      `${t.name}: chains`,
    );
    assert.deepEqual(
      t.chains.flatMap((c) => c.rules.map((r) => `[${r.packets}:${r.bytes}] -A ${c.name}${r.spec ? ` ${r.spec}` : ''}`)),
      s.rules,
      `${t.name}: rules`,
    );
    assert.equal(t.chainCount, t.chains.length);
    assert.equal(t.ruleCount, s.rules.length);
    total += t.ruleCount;
    for (const c of t.chains) {
      assert.equal(c.ruleCount, c.rules.length);
      assert.equal(c.partial, false);
      c.rules.forEach((r, i) => {
        assert.equal(r.num, i + 1);
        if (r.target === null) assert.doesNotMatch(r.spec, / -[jg] /);
        else assert.ok(r.spec.endsWith(`-${r.goto ? 'g' : 'j'} ${r.target}`) || r.spec.includes(`-j ${r.target} `) || r.spec.startsWith(`-j ${r.target}`), r.spec);
        assert.equal(r.targetChain, r.target !== null && t.chains.some((x) => x.name === r.target && !x.builtin), r.spec);
      });
    }

    // ---- iptables -L -v -n -x: references, policy counters, rule counters and targets.
    const list = run(lab, host, ['iptables', '-t', t.name, '-L', '-v', '-n', '-x']);
    const heads: string[] = [];
    const rows: string[] = [];
    for (const line of list.split('\n')) {
      if (line.startsWith('Chain ')) heads.push(line);
      else if (/^\s+\d+\s+\d+ /.test(line)) {
        // -x: two counter columns of 8 and 9 characters (and a space each), then the target
        // column (blank for a rule without a target).
        const [pk, by] = line.trim().split(/\s+/);
        const rest = line.slice(18);
        rows.push(`${pk} ${by} ${rest.startsWith(' ') ? '' : rest.split(' ')[0]}`);
      }
    }
    assert.deepEqual(
      t.chains.map((c) => (c.builtin ? `Chain ${c.name} (policy ${c.policy} ${c.packets} packets, ${c.bytes} bytes)` : `Chain ${c.name} (${c.references} references)`)),
      heads,
      `${t.name}: -L headers`,
    );
    assert.deepEqual(t.chains.flatMap((c) => c.rules.map((r) => `${r.packets} ${r.bytes} ${r.target ?? ''}`)), rows, `${t.name}: -L rows`);
  }
  assert.equal(v.totalRules, total);

  // ---- ipset list.
  const sets = run(lab, host, ['ipset', 'list']);
  const blocks = sets ? sets.trimEnd().split('\n\n') : [];
  assert.equal(v.ipsets.length, blocks.length);
  v.ipsets.forEach((s, i) => {
    assert.equal(
      `Name: ${s.name}\nType: ${s.type}\n`,
      blocks[i].slice(0, blocks[i].indexOf('Revision:')),
    );
    assert.match(blocks[i], new RegExp(`\\nHeader: ${s.header.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.match(blocks[i], new RegExp(`\\nReferences: ${s.references}\\nNumber of entries: ${s.elements}\\n`));
    const members = blocks[i].slice(blocks[i].indexOf('Members:\n') + 9);
    assert.deepEqual(s.members, members ? members.split('\n') : []);
  });

  // ---- conntrack -L.
  const ct = lab.exec(host, ['conntrack', '-L'], '');
  assert.deepEqual(v.conntrack, ct.stdout ? ct.stdout.trimEnd().split('\n') : []);
  assert.equal(v.conntrackCount, v.conntrack.length);
}

const DUMP = `*filter
:INPUT DROP [12:3400]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [5:300]
:MY-A - [0:0]
:MY-B - [0:0]
:UNUSED - [0:0]
[3:180] -A INPUT -i lo -j ACCEPT
[7:420] -A INPUT -p tcp -m tcp --dport 22 -j MY-A
[1:60] -A INPUT -m set --match-set blocked src -j DROP
[0:0] -A INPUT -g MY-B
[2:120] -A MY-A -s 10.0.0.0/8 -j MY-B
-A MY-A -j RETURN
[4:240] -A MY-B -m comment --comment "counting only"
-A MY-B -j LOG --log-prefix "b: "
COMMIT
*nat
:PREROUTING ACCEPT [9:540]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
[5:300] -A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j SVC
-A OUTPUT -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j SVC
[5:300] -A SVC -p tcp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.0.3:53
-A SVC -p tcp -j DNAT --to-destination 10.244.0.4:53
COMMIT
`;

function handMade(): Lab {
  const doc = emptyLab('hv');
  doc.hosts = [{ name: 'box', listen: [], links: [] }];
  const lab = Lab.fromDoc(doc);
  run(lab, 'box', ['ipset', 'create', 'blocked', 'hash:net']);
  run(lab, 'box', ['ipset', 'add', 'blocked', '192.0.2.0/24']);
  run(lab, 'box', ['ipset', 'add', 'blocked', '198.51.100.7']);
  run(lab, 'box', ['ipset', 'create', 'ports', 'hash:ip,port', 'comment']);
  run(lab, 'box', ['ipset', 'add', 'ports', '10.0.0.1,tcp:80', 'comment', 'web']);
  run(lab, 'box', ['iptables-restore', '-c'], DUMP);
  run(lab, 'box', ['conntrack', '-I', '-p', 'tcp', '-s', '10.0.0.1', '-d', '10.96.0.10', '--sport', '40000', '--dport', '53', '--state', 'ESTABLISHED', '-t', '300', '-u', 'SEEN_REPLY,ASSURED', '-r', '10.244.0.3', '-q', '10.0.0.1', '--reply-port-src', '53', '--reply-port-dst', '40000']);
  return lab;
}

describe('host view (the rules browser reader)', () => {
  it('says what iptables-save -c, iptables -L -v -n -x, ipset list and conntrack -L say of a hand-made host', () => {
    const lab = handMade();
    const v = hostView(lab.hosts.get('box')!, lab.clock, all);
    compareWithTools(lab, 'box', v);
    // The points the comparison makes, spelled out.
    const filter = v.tables.find((t) => t.name === 'filter')!;
    const input = filter.chains.find((c) => c.name === 'INPUT')!;
    assert.deepEqual([input.policy, input.packets, input.bytes, input.ruleCount], ['DROP', 12, 3400, 4]);
    assert.deepEqual(input.rules[1], { num: 2, spec: '-p tcp -m tcp --dport 22 -j MY-A', packets: 7, bytes: 420, target: 'MY-A', goto: false, targetChain: true });
    assert.deepEqual(input.rules[3], { num: 4, spec: '-g MY-B', packets: 0, bytes: 0, target: 'MY-B', goto: true, targetChain: true });
    assert.deepEqual(input.rules[0].targetChain, false);
    assert.deepEqual(filter.chains.map((c) => [c.name, c.references]), [['INPUT', 0], ['FORWARD', 0], ['OUTPUT', 0], ['MY-A', 1], ['MY-B', 2], ['UNUSED', 0]]);
    const counting = filter.chains.find((c) => c.name === 'MY-B')!.rules[0];
    assert.deepEqual([counting.spec, counting.target, counting.packets], ['-m comment --comment "counting only"', null, 4]);
    assert.deepEqual(v.ipsets.map((s) => [s.name, s.type, s.references, s.elements]), [['blocked', 'hash:net', 1, 2], ['ports', 'hash:ip,port', 0, 1]]);
    assert.deepEqual(v.ipsets[1].members, ['10.0.0.1,tcp:80 comment "web"']);
    assert.equal(v.conntrack.length, 1);
    assert.match(v.conntrack[0], /^tcp +6 300 ESTABLISHED src=10\.0\.0\.1 dst=10\.96\.0\.10 sport=40000 dport=53 src=10\.244\.0\.3 dst=10\.0\.0\.1 sport=53 dport=40000 \[ASSURED\]/);
    assert.deepEqual([v.truncated, v.carriedRules, v.totalRules], [false, 12, 12]);
  });

  it('says what the tools say of a cluster node after traffic, and of a pod', () => {
    const { lab, sh } = clusterLab();
    // Traffic: counters in nat and filter, and conntrack entries.
    lab.trace({ from: 'minikube', to: '10.96.0.1:443', proto: 'tcp', keep: true });
    lab.trace({ from: 'minikube', to: '10.96.0.10:53', proto: 'udp', keep: true });
    sh('minikube', 'iptables -t nat -Z KUBE-SERVICES');
    const v = hostView(lab.hosts.get('minikube')!, lab.clock, all);
    compareWithTools(lab, 'minikube', v);
    const nat = v.tables.find((t) => t.name === 'nat')!;
    const services = nat.chains.find((c) => c.name === 'KUBE-SERVICES')!;
    assert.ok(services.references >= 2, 'PREROUTING and OUTPUT jump to KUBE-SERVICES');
    assert.ok(services.rules.some((r) => r.target?.startsWith('KUBE-SVC-') && r.targetChain));
    assert.ok(v.conntrackCount > 0, 'the traces left connections');
    assert.ok(nat.chains.some((c) => c.rules.some((r) => r.packets > 0)), 'the traces counted');
    const pod = [...lab.hosts.keys()].find((k) => k.includes('/'))!;
    compareWithTools(lab, pod, hostView(lab.hosts.get(pod)!, lab.clock, all));
  });

  it('answers in part within its budgets: chain by chain, one chain, a filter', () => {
    const lab = handMade();
    const box = lab.hosts.get('box')!;
    const few = hostView(box, lab.clock, { limit: 3 });
    assert.equal(few.carriedRules, 3);
    assert.equal(few.truncated, true);
    // raw and mangle do not exist; nat comes first: PREROUTING's rule, OUTPUT's, then 1 of SVC's 2.
    const nat = few.tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.chains.map((c) => [c.name, c.rules.length, c.ruleCount, c.partial]), [
      ['PREROUTING', 1, 1, false], ['INPUT', 0, 0, false], ['OUTPUT', 1, 1, false], ['POSTROUTING', 0, 0, false], ['SVC', 1, 2, true],
    ]);
    const filter = few.tables.find((t) => t.name === 'filter')!;
    assert.equal(filter.chains.length, 6);
    assert.ok(filter.chains.every((c) => c.rules.length === 0 && c.partial === c.ruleCount > 0));

    const chains = hostView(box, lab.clock, { chainLimit: 2 });
    // Two chains, then only those the built-in chains jump to (where packets enter).
    assert.deepEqual(chains.tables.map((t) => [t.name, t.chains.map((c) => c.name), t.chainCount]), [['nat', ['PREROUTING', 'INPUT', 'SVC'], 5], ['filter', ['MY-A', 'MY-B'], 6]]);
    assert.equal(chains.truncated, true);

    const one = hostView(box, lab.clock, { table: 'nat', chain: 'SVC' });
    assert.deepEqual(one.tables.map((t) => [t.name, t.chains.map((c) => c.name)]), [['nat', ['SVC']], ['filter', []]]);
    assert.equal(one.tables[0].chains[0].rules.length, 2);
    assert.deepEqual(hostView(box, lab.clock, { table: 'nat', chain: 'NOPE' }).tables.map((t) => t.chains.length), [0, 0]);
    // A window of one chain: its rules from the offset on, numbered as in the chain.
    const second = hostView(box, lab.clock, { table: 'nat', chain: 'SVC', offset: 1 }).tables[0].chains[0];
    assert.deepEqual([second.rules.map((r) => r.num), second.rules[0].spec, second.ruleCount, second.partial], [[2], one.tables[0].chains[0].rules[1].spec, 2, true]);
    const first = hostView(box, lab.clock, { table: 'nat', chain: 'SVC', offset: 0, limit: 1 }).tables[0].chains[0];
    assert.deepEqual([first.rules.map((r) => r.num), first.partial], [[1], true]);
    assert.deepEqual(hostView(box, lab.clock, { table: 'nat', chain: 'SVC', offset: 9 }).tables[0].chains[0].rules, []);

    // A filter: the rules containing it (any case), and every rule of a chain whose name has it.
    const f = hostView(box, lab.clock, { filter: '10.244.0.4' });
    assert.deepEqual(f.tables.flatMap((t) => t.chains.map((c) => [c.name, c.rules.map((r) => r.num)])), [['SVC', [2]]]);
    const byName = hostView(box, lab.clock, { filter: 'my-b' });
    assert.deepEqual(byName.tables.flatMap((t) => t.chains.map((c) => [c.name, c.rules.map((r) => r.num)])), [['INPUT', [4]], ['MY-A', [1]], ['MY-B', [1, 2]]]);
  });

  it('lists the first chains in iptables order past a budget, with the chains packets enter by', () => {
    const doc = emptyLab('many');
    doc.hosts = [{ name: 'big', listen: [], links: [] }];
    const lab = Lab.fromDoc(doc);
    // 400 chains named in no order (a hash, as kube-proxy's), one jumped to from PREROUTING.
    const names = Array.from({ length: 400 }, (_, i) => `C-${((i * 7919) % 1000).toString(36).toUpperCase()}-${(i * 104729) % 997}`);
    const entry = names[123];
    const dump = ['*nat', ...names.map((n) => `:${n} - [0:0]`), `-A PREROUTING -j ${entry}`, ...names.map((n) => `-A ${n} -j RETURN`), 'COMMIT', ''].join('\n');
    run(lab, 'big', ['iptables-restore'], dump);
    const order = run(lab, 'big', ['iptables-save']).split('\n').filter((l) => /^:C-/.test(l)).map((l) => l.slice(1, l.indexOf(' ')));
    assert.equal(order.length, 400);
    const box = lab.hosts.get('big')!;
    for (const k of [10, 30, 150, 399, 1000]) {
      const v = hostView(box, lab.clock, { chainLimit: k });
      const listed = v.tables[0].chains.map((c) => c.name);
      const users = Math.max(0, Math.min(400, k - 4));
      const want = order.slice(0, users);
      if (!want.includes(entry)) want.splice(order.slice(0, users).filter((n) => n < entry).length, 0, entry);
      assert.deepEqual(listed, ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', ...want], `chainLimit ${k}`);
      assert.equal(v.truncated, users < 400, `chainLimit ${k}`);
    }
    // The whole listing once more (from the cached order), and after a change.
    assert.deepEqual(hostView(box, lab.clock, all).tables[0].chains.slice(4).map((c) => c.name), order);
    run(lab, 'big', ['iptables', '-t', 'nat', '-N', 'A-FIRST']);
    assert.deepEqual(hostView(box, lab.clock, { chainLimit: 6 }).tables[0].chains.map((c) => c.name), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'A-FIRST', order[0], ...(entry > order[0] ? [entry] : [])]);
  });

  it('keeps up with changes (the cached order and references follow the rules)', () => {
    const lab = handMade();
    const box = lab.hosts.get('box')!;
    hostView(box, lab.clock, all);
    run(lab, 'box', ['iptables', '-N', 'AAA']);
    run(lab, 'box', ['iptables', '-A', 'OUTPUT', '-j', 'UNUSED']);
    const v = hostView(box, lab.clock, all);
    compareWithTools(lab, 'box', v);
    const filter = v.tables.find((t) => t.name === 'filter')!;
    assert.deepEqual(filter.chains.map((c) => c.name), ['INPUT', 'FORWARD', 'OUTPUT', 'AAA', 'MY-A', 'MY-B', 'UNUSED']);
    assert.equal(filter.chains.at(-1)!.references, 1);
  });
});
