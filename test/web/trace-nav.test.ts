// The debugger's pure navigation (renderer/trace-nav.ts) on real walks from the engine: the
// article's ETP scene (example 'traffic-policy', legacy kube-proxy). Chain nesting from jumps,
// gotos, RETURNs and chain ends; step over / out, next hook; breakpoints (rule, chain prefix,
// NAT, DROP, conntrack state, host); the packet before and after a DNAT, the mark, the why line
// (with kube-proxy's random pick of an endpoint), the path and the deciding rule.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { checkCall } from '../../shared/api/contract.ts';
import {
  commandPacket, continueTo, conntrackAt, ctTuple, decidingRow, decisionsOf, outcomeTree, ruleParts, type OutcomeNode, type Walk, depth, hits, navOf, nextHook, nextHop, packetAt, pathSoFar, reverseContinueTo, rowOfEvent, stepOut, stepOver, walkOf, whyOf, type Nav,
} from '../../renderer/trace-nav.ts';

const XLB = 'KUBE-XLB-2IRACUALRELARSND';
const SEP = 'KUBE-SEP-5T4S2ILYSXWY3R2J';

describe('trace navigation on the article’s externalTrafficPolicy walks', () => {
  let dir: string;
  let service: LabService;
  let api: LabApiImpl;
  let drop: Nav;
  let local: Nav;

  const find = (nav: Nav, f: (s: Nav['rows'][number]['step']) => boolean, from = 0): number => {
    const i = nav.rows.findIndex((r, k) => k >= from && f(r.step));
    assert.ok(i >= 0, 'row found');
    return i;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-trace-nav-'));
    service = new LabService({ db: join(dir, 'labs.db') });
    api = new LabApiImpl(service);
    api.createExample('traffic-policy', 'tp', { proxy: 'legacy' });
    api.runStep('tp', 4); // externalTrafficPolicy: Local
    drop = navOf(walkOf(api.trace('tp', { from: 'client', to: 'minikube-m02:30080', proto: 'tcp' })));
    local = navOf(walkOf(api.trace('tp', { from: 'client', to: 'minikube:30080', proto: 'tcp' })));
  });
  after(() => {
    service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('derives the call stack from jumps and returns', () => {
    const jump = find(drop, (s) => s.chain === XLB && s.verdict === 'KUBE-MARK-DROP');
    assert.deepEqual(drop.stacks[jump].map((f) => f.chain), ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', XLB]);
    assert.equal(drop.rows[jump].step.table, 'nat');
    assert.deepEqual(drop.stacks[jump + 1].map((f) => f.chain), ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', XLB, 'KUBE-MARK-DROP']);
    // The caller frames point at the rows that jumped.
    const callers = drop.stacks[jump + 1].slice(0, -1).map((f) => drop.rows[f.row].step.verdict);
    assert.deepEqual(callers, ['KUBE-SERVICES', 'KUBE-NODEPORTS', XLB, 'KUBE-MARK-DROP']);
    // KUBE-MARK-DROP's end returns into KUBE-XLB, then its end into KUBE-NODEPORTS.
    const back = find(drop, (s) => s.chain === XLB && s.rule === null, jump);
    assert.equal(depth(drop, back), 3);
    assert.equal(depth(drop, back + 1), 2);
    // A new table starts a new stack.
    const filter = find(drop, (s) => s.table === 'filter');
    assert.equal(depth(drop, filter), 0);
    // A goto replaces its caller's frame: cali-tw-… returns straight into cali-FORWARD.
    const go = find(local, (s) => /-g cali-tw-/.test(s.rule_spec ?? ''));
    assert.equal(depth(local, go + 1), depth(local, go));
    const ret = find(local, (s) => s.chain.startsWith('cali-tw-') && s.verdict === 'RETURN', go);
    assert.equal(local.rows[ret + 1].step.chain, 'cali-FORWARD');
    assert.equal(depth(local, ret + 1), depth(local, go) - 1);
  });

  it('steps over, out, to the next hook and hop', () => {
    const jump = find(drop, (s) => s.chain === XLB && s.verdict === 'KUBE-MARK-DROP');
    // Over the jump: past KUBE-MARK-DROP's body, back in KUBE-XLB.
    const over = stepOver(drop, jump);
    assert.equal(drop.rows[over].step.chain, XLB);
    assert.equal(depth(drop, over), depth(drop, jump));
    // Over a rule that does not jump: the next row.
    assert.equal(stepOver(drop, jump - 1), jump);
    // Out of KUBE-MARK-DROP: back in KUBE-XLB; out of KUBE-XLB: back in KUBE-NODEPORTS.
    assert.equal(drop.rows[stepOut(drop, jump + 1)].step.chain, XLB);
    const out = stepOut(drop, jump);
    assert.equal(drop.rows[out].step.chain, 'KUBE-NODEPORTS');
    assert.ok(depth(drop, out) < depth(drop, jump));
    // From a built-in chain, out goes to the next table.
    assert.notEqual(drop.rows[stepOut(drop, 0)].step.table, 'raw');
    // Next hook: from PREROUTING to INPUT.
    assert.equal(drop.rows[nextHook(drop, 0)].step.hook, 'INPUT');
    // Next hop: the walk's only host with rules is minikube-m02 (the client has none): the end.
    assert.equal(nextHop(drop, 0), drop.rows.length - 1);
    // The reply starts on another host (the pod) or phase: next hop leaves the packet's rows.
    const ph = local.phases.find((p) => p.phase === 'reply');
    assert.ok(ph && ph.end > ph.start);
    assert.ok(nextHop(local, 0) <= ph.start);
  });

  it('stops at breakpoints both ways', () => {
    const sep = find(local, (s) => s.chain === SEP);
    assert.equal(continueTo(local, 0, [{ kind: 'chain', chain: 'KUBE-SEP-*' }]), sep);
    assert.equal(continueTo(local, 0, [{ kind: 'chain', chain: SEP, host: 'minikube-m02' }]), local.rows.length - 1, 'not on this host');
    assert.equal(continueTo(local, 0, [{ kind: 'chain', chain: 'KUBE-SEP-*', enabled: false }]), local.rows.length - 1, 'disabled');
    const dnat = continueTo(local, sep, [{ kind: 'chain', chain: 'KUBE-SEP-*' }, { kind: 'nat' }]);
    assert.equal(local.rows[dnat].step.verdict, 'DNAT');
    assert.equal(reverseContinueTo(local, dnat, [{ kind: 'chain', chain: 'KUBE-SEP-*' }]), sep);
    assert.equal(reverseContinueTo(local, sep, [{ kind: 'chain', chain: 'KUBE-SEP-*' }]), 0);
    const rule = local.rows[dnat].step;
    assert.equal(continueTo(local, 0, [{ kind: 'rule', host: 'minikube', table: 'nat', chain: SEP, rule: rule.rule as number }]), dnat);
    const fw = continueTo(drop, 0, [{ kind: 'drop' }]);
    assert.equal(drop.rows[fw].step.chain, 'KUBE-FIREWALL');
    assert.equal(fw, decidingRow(drop));
    // Conntrack NEW: where the entry is made (before the mangle table).
    const ct = continueTo(drop, 0, [{ kind: 'conntrack', state: 'NEW' }]);
    assert.ok(ct > 0);
    assert.match(conntrackAt(drop, ct)?.text ?? '', /^NEW/);
    assert.equal(conntrackAt(drop, 0), null);
    // A hook on a host; entering a host.
    assert.equal(drop.rows[continueTo(drop, 0, [{ kind: 'hook', hook: 'INPUT', host: 'minikube-m02' }])].step.hook, 'INPUT');
    assert.equal(hits(drop, 0, { kind: 'host', host: 'minikube-m02' }), true);
    assert.equal(hits(drop, 1, { kind: 'host' }), false);
  });

  it('shows the packet before and after the DNAT, the mark, the why and the path', () => {
    const dnat = find(local, (s) => s.verdict === 'DNAT');
    const p = packetAt(local, dnat);
    assert.ok(p);
    assert.equal(p.before.dst, '192.168.49.2');
    assert.equal(p.before.dport, 30080);
    assert.equal(p.after.dst, '10.244.120.111');
    assert.equal(p.after.dport, 80);
    assert.equal(p.after.src, '192.168.49.100', 'ETP Local keeps the client’s address');
    assert.deepEqual(p.changed, ['dst', 'dport']);
    assert.equal(whyOf(local, dnat), 'DNAT to 10.244.120.111:80');
    assert.equal(packetAt(local, dnat + 1)?.before.dst, '10.244.120.111');
    // KUBE-MARK-DROP sets 0x8000, and the filter table sees it.
    const mark = find(drop, (s) => s.chain === 'KUBE-MARK-DROP' && s.verdict === 'MARK');
    assert.equal(packetAt(drop, mark)?.after.mark, 0x8000);
    assert.deepEqual(packetAt(drop, mark)?.changed, ['mark']);
    assert.equal(packetAt(drop, decidingRow(drop))?.before.mark, 0x8000);
    assert.match(whyOf(drop, mark), /^MARK: mark 0x0 → 0x8000$/);
    const miss = find(drop, (s) => s.chain === 'KUBE-SERVICES' && s.matched === false);
    assert.match(whyOf(drop, miss), /^no match: dst 192\.168\.49\.3 not in /);
    assert.equal(whyOf(drop, find(drop, (s) => s.verdict === 'KUBE-MARK-DROP')), 'jump to KUBE-MARK-DROP');
    assert.deepEqual(pathSoFar(drop, 0), ['client', 'minikube-m02']);
    const end = local.phases[0].end - 1;
    assert.deepEqual(pathSoFar(local, end), ['client', 'minikube', 'default/nginx-deployment-7759cc5c66-p45tz']);
    const dropEv = drop.events.find((e) => e.kind === 'drop');
    assert.ok(dropEv);
    assert.equal(rowOfEvent(drop, dropEv), drop.rows.length - 1);
  });

  it('names kube-proxy’s random pick of an endpoint', () => {
    api.apply('tp', `apiVersion: v1
kind: Pod
metadata:
  name: nginx-m02
  labels:
    app: webserver
spec:
  nodeName: minikube-m02
  containers:
  - name: nginx
    image: nginx:1.14.2
`);
    api.apply('tp', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: webapp\nspec:\n  type: NodePort\n  externalTrafficPolicy: Cluster\n  clusterIP: 10.111.243.62\n  selector:\n    app: webserver\n  ports:\n  - port: 80\n    targetPort: 80\n    nodePort: 30080\n');
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const nav = navOf(walkOf(api.trace('tp', { from: 'client', to: 'minikube:30080', proto: 'tcp', seed })));
      const row = nav.rows.findIndex((r) => r.step.verdict === 'DNAT');
      if (row < 0) continue;
      const why = whyOf(nav, row);
      const m = /^DNAT to (10\.244\.\d+\.\d+):80 — statistic random picked endpoint ([12]) of 2, p=0\.50$/.exec(why);
      assert.ok(m, why);
      seen.add(m[2]);
    }
    assert.equal(seen.size, 2, "both endpoints picked over the seeds");
    // All outcomes: a branch per endpoint, p=0.5 each; each branch's walk navigates on its own.
    const all = walkOf(api.trace('tp', { from: 'client', to: 'minikube:30080', proto: 'tcp', allOutcomes: true })) as { outcomes?: (Parameters<typeof navOf>[0] & { probability: number })[] };
    assert.equal(all.outcomes?.length, 2);
    const ips = all.outcomes.map((o) => {
      assert.equal(o.probability, 0.5);
      const nav = navOf(o);
      const row = nav.rows.findIndex((r) => r.step.verdict === 'DNAT');
      return packetAt(nav, row)?.after.dst;
    });
    assert.equal(new Set(ips).size, 2);
  });
});

describe('breakpoints saved in the layout', () => {
  it('validates them strictly', () => {
    const ok = (bps: unknown): void => assert.equal(checkCall('setLayout', ['lab', { positions: {}, breakpoints: bps }]), null, JSON.stringify(bps));
    const bad = (bps: unknown, re: RegExp): void => assert.match(checkCall('setLayout', ['lab', { positions: {}, breakpoints: bps }])?.message ?? '', re);
    ok([]);
    ok([{ kind: 'rule', host: 'minikube', table: 'nat', chain: SEP, rule: 2, enabled: true }, { kind: 'chain', chain: 'KUBE-SEP-*' }, { kind: 'hook', hook: 'INPUT', host: 'default/web-1' }, { kind: 'drop' }, { kind: 'nat', enabled: false }, { kind: 'conntrack', state: 'NEW' }, { kind: 'host', host: 'client' }]);
    bad([{ kind: 'watch' }], /kind: expected one of/);
    bad([{ kind: 'rule', rule: 0 }], /rule/);
    bad([{ kind: 'chain', chain: 'A B' }], /a chain name/);
    bad([{ kind: 'hook', hook: 'INGRESS' }], /hook/);
    bad([{ kind: 'drop', note: 'x' }], /unknown field "note"/);
    bad({ kind: 'drop' }, /expected an array|expected a list/);
  });

  it('keeps them when a layout without them is saved (the canvas saves positions only)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpl-bp-'));
    const service = new LabService({ db: join(dir, 'labs.db') });
    try {
      const api = new LabApiImpl(service);
      api.createLab('bp', {});
      api.setLayout('bp', { positions: { a: { x: 1, y: 2 } }, breakpoints: [{ kind: 'nat', enabled: true }] });
      api.setLayout('bp', { positions: { a: { x: 3, y: 4 } } });
      assert.deepEqual(api.layout('bp'), { positions: { a: { x: 3, y: 4 } }, breakpoints: [{ kind: 'nat', enabled: true }] });
      api.setLayout('bp', { positions: {}, breakpoints: [] });
      assert.deepEqual(api.layout('bp')?.breakpoints, []);
    } finally {
      service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trace navigation on every example’s traced walks', () => {
  it('nests, steps and explains every row consistently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpl-nav-all-'));
    const service = new LabService({ db: join(dir, 'labs.db') });
    try {
      const api = new LabApiImpl(service);
      let walks = 0;
      for (const ex of api.examples()) {
        const lab = `x-${ex.name}`;
        api.createExample(ex.name, lab, { proxy: ex.layouts[0] });
        const steps = (api.doc(lab) as { walkthrough?: { steps: { action?: { kind: string; from?: string; to?: string; proto?: 'tcp' } }[] } }).walkthrough?.steps ?? [];
        steps.forEach((st, i) => {
          const a = st.action;
          if (a?.kind !== 'trace') {
            if (a) api.runStep(lab, i);
            return;
          }
          const nav = navOf(walkOf(api.trace(lab, { from: a.from as string, to: a.to as string, proto: a.proto ?? 'tcp', allOutcomes: true })));
          walks++;
          const n = nav.rows.length;
          for (let k = 0; k < n; k++) {
            const where = `${ex.name} step ${i + 1} row ${k}`;
            const stack = nav.stacks[k];
            assert.ok(stack.length >= 1, where);
            assert.equal(stack[stack.length - 1].chain, nav.rows[k].step.chain, where);
            assert.equal(stack[stack.length - 1].row, k, where);
            for (const f of stack.slice(0, -1)) assert.ok(f.row < k, where);
            if (k < n - 1) {
              for (const j of [stepOver(nav, k), stepOut(nav, k), nextHook(nav, k), nextHop(nav, k)]) assert.ok(j > k && j < n, where);
              assert.ok(stepOver(nav, k) <= stepOut(nav, k), where);
            }
            assert.equal(typeof whyOf(nav, k), 'string', where);
            assert.ok(packetAt(nav, k), where);
            assert.ok(pathSoFar(nav, k).length >= 1, where);
          }
          if (n) assert.ok(decidingRow(nav) < n);
        });
      }
      assert.ok(walks >= 5, `${walks} walks`);
    } finally {
      service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('conntrack lines and a command\'s own packet', () => {
  it('a conntrack -L line\'s original tuple names the connection whatever its state', () => {
    const syn = 'tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80 [UNREPLIED] src=10.0.0.9 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1';
    const est = 'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80 src=10.0.0.9 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1';
    assert.equal(ctTuple(syn), 'src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80');
    assert.equal(ctTuple(est), ctTuple(syn));
    assert.equal(ctTuple('unknown  4 599 src=192.168.49.2 dst=192.168.49.3 src=192.168.49.3 dst=192.168.49.2 mark=0 use=1'), 'src=192.168.49.2 dst=192.168.49.3');
    assert.equal(ctTuple('icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1'), 'src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7');
    assert.notEqual(ctTuple(syn.replace('sport=40000 dport=80 [', 'sport=40001 dport=80 [')), ctTuple(syn));
  });

  it('a console command\'s own packet is the first that is not a DNS query', () => {
    const w = (dport: number) => ({ packet: { src: '10.0.0.1', dst: '10.96.0.10', proto: dport === 53 ? 'udp' : 'tcp', sport: 40000, dport } });
    assert.equal(commandPacket([w(53), w(53), w(80)]), 2);
    assert.equal(commandPacket([w(80), w(53)]), 0);
    assert.equal(commandPacket([w(53)]), 0, 'nslookup: its query');
    assert.equal(commandPacket([]), 0);
  });
});

describe('the all-outcomes tree', () => {
  it('kube-proxy\'s random picks of three endpoints: rule 1 matched, or missed and rule 2 matched or missed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpl-tree-'));
    const service = new LabService({ db: join(dir, 'labs.db') });
    try {
      const api = new LabApiImpl(service);
      api.createLab('ao', { cluster: true, nodes: 2 });
      api.apply('ao', [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]}',
        'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}',
      ].join('\n---\n'));
      const t = api.trace('ao', { from: 'minikube', to: 'web:80', proto: 'tcp', allOutcomes: true }) as { json: { outcomes: (Walk & { probability: number })[] } };
      const outs = t.json.outcomes;
      assert.equal(outs.length, 3);
      const tree = outcomeTree(outs);
      assert.deepEqual(tree.outcomes, []);
      const shape = (n: OutcomeNode): unknown => [n.outcomes, n.edges.map((e) => [`${e.decision.chain.replace(/-[A-Z0-9]{16}$/, '')} ${e.decision.rule} ${e.decision.p} ${e.decision.taken}`, shape(e.node)])];
      assert.deepEqual(shape(tree), [[], [
        ['KUBE-SVC 1 0.33333333349 true', [[0], []]],
        ['KUBE-SVC 1 0.33333333349 false', [[], [
          ['KUBE-SVC 2 0.50000000000 true', [[1], []]],
          ['KUBE-SVC 2 0.50000000000 false', [[2], []]],
        ]]],
      ]]);
      // A walk with no random choice is the root's own.
      assert.deepEqual(outcomeTree([{ steps: [] }]), { outcomes: [0], edges: [] });
      // A rule that failed before its draw made no choice.
      assert.deepEqual(decisionsOf({ steps: [{ host: 'h', table: 'nat', chain: 'C', rule: 1, matched: false, why: 'dst 10.0.0.1 ≠ 10.0.0.2', rule_spec: '-A C -d 10.0.0.2/32 -m statistic --mode random --probability 0.50000000000 -j X' }] }), []);
    } finally {
      service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a rule in parts, each marked as the walk tested it', () => {
  const spec = '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https -m x" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y';
  const base = { host: 'minikube', table: 'nat', chain: 'KUBE-SERVICES', rule: 1, rule_spec: spec };
  const marks = (parts: ReturnType<typeof ruleParts>) => parts.map((p) => `${p.hit === true ? '✓' : p.hit === false ? '✗' : '·'} ${p.text}`);

  it('a match that failed: those before it passed, the rest not tested, the target not taken', () => {
    const parts = ruleParts({ ...base, matched: false, miss: 1, why: 'dpt 80 ≠ 443' });
    assert.deepEqual(marks(parts), ['✓ -d 10.96.0.1/32', '✓ -p tcp', '✓ -m comment --comment "default/kubernetes:https -m x"', '✗ -m tcp --dport 443', '· -j KUBE-SVC-NPX46M4PTMTKRN6Y']);
    assert.equal(parts[3].why, 'dpt 80 ≠ 443');
  });

  it('a core field that failed, named by its why; matched rules pass whole', () => {
    assert.deepEqual(marks(ruleParts({ ...base, matched: false, miss: -1, why: 'dst 10.0.0.5 not in 10.96.0.1/32' })), ['✗ -d 10.96.0.1/32', '· -p tcp', '· -m comment --comment "default/kubernetes:https -m x"', '· -m tcp --dport 443', '· -j KUBE-SVC-NPX46M4PTMTKRN6Y']);
    assert.deepEqual(marks(ruleParts({ ...base, matched: false, miss: -1, why: 'proto udp ≠ tcp' })).slice(0, 2), ['✓ -d 10.96.0.1/32', '✗ -p tcp']);
    assert.ok(ruleParts({ ...base, matched: true }).every((p) => p.hit === true));
    assert.deepEqual(marks(ruleParts({ ...base, rule_spec: '-A INPUT ! -i lo -j ACCEPT', matched: false, miss: -1, why: 'in lo = lo' })), ['✗ ! -i lo', '· -j ACCEPT']);
  });

  it('the walk says which test failed: every missed rule of a real walk has exactly one failing part', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpl-parts-'));
    const service = new LabService({ db: join(dir, 'labs.db') });
    try {
      const api = new LabApiImpl(service);
      api.createLab('p', { cluster: true });
      const t = api.trace('p', { from: 'minikube', to: '10.96.0.1:443', proto: 'tcp' }) as { json: Walk };
      const missed = (t.json.steps ?? []).filter((s) => s.skipped === undefined && s.matched === false && typeof s.rule === 'number');
      assert.ok(missed.length > 3);
      for (const s of missed) {
        assert.equal(typeof s.miss, 'number', s.rule_spec ?? '');
        const parts = ruleParts(s);
        assert.equal(parts.filter((p) => p.hit === false).length, 1, `${s.rule_spec} (${s.why})`);
      }
    } finally {
      service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
