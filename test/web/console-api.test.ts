// LabApi.consoleLine and consoleTraces: validation of the arguments (the shared schema every
// transport applies), a console line on a node (pipes, a here-document across calls), the
// console history and the journal it lands in, the change event, and the walks of the packets a
// console command sent. Plus the console's Tab completion helper.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import { checkCall, type ConsoleResult, type TraceResult } from '../../shared/api/contract.ts';
import { complete } from '../../renderer/completion.ts';

describe('consoleLine: argument validation', () => {
  const bad = (params: unknown[], re: RegExp): void => {
    const e = checkCall('consoleLine', params);
    assert.ok(e, `refused: ${JSON.stringify(params).slice(0, 80)}`);
    assert.equal(e.code, 'invalid');
    assert.match(e.message, re);
  };
  it('takes a lab, a host (or namespace/pod) and a list of lines', () => {
    assert.equal(checkCall('consoleLine', ['lab', 'minikube', ['kubectl get nodes']]), null);
    assert.equal(checkCall('consoleLine', ['lab', 'default/frontend-8b474f47-zdqdv', ['ip a']]), null);
    assert.equal(checkCall('consoleLine', ['lab', 'h1', ['cat <<EOF', 'x', 'EOF']]), null);
    assert.equal(checkCall('consoleTraces', ['lab']), null);
  });
  it('refuses anything else', () => {
    bad(['lab', 'minikube'], /consoleLine/);
    bad(['lab', 'minikube', 'kubectl get nodes'], /consoleLine/);
    bad(['lab', 'minikube', [1]], /consoleLine/);
    bad(['lab', '../etc', ['ls']], /host, node or namespace\/pod/);
    bad(['lab', 'a/b/c', ['ls']], /host, node or namespace\/pod/);
    bad(['lab', '', ['ls']], /consoleLine/);
    bad(['lab', 'minikube', ['ls'], 'extra'], /consoleLine/);
    bad(['/tmp/x.kpl', 'minikube', ['ls']], /lab name/);
    bad(['lab', 'minikube', Array.from({ length: 100_001 }, () => '')], /consoleLine/);
    assert.ok(checkCall('consoleTraces', []));
    assert.ok(checkCall('consoleTraces', ['lab', 'x']));
  });
});

describe('consoleLine and consoleTraces on the service', () => {
  let dir: string;
  let api: ApiDispatcher;
  const events: string[] = [];
  const ok = async <T>(method: string, ...params: unknown[]): Promise<T> => {
    const r = await api.call(method, params);
    if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-console-'));
    api = openLabApi({ db: join(dir, 'labs.db') });
    api.subscribe((e, d) => events.push(`${e}:${JSON.stringify(d)}`));
    await ok('createLab', 'c', { cluster: true });
  });
  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs pipes on a node and keeps the line in the console history', async () => {
    events.length = 0;
    const r = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', ['iptables -t nat -L PREROUTING | head -3']);
    assert.equal(r.code, 0);
    assert.equal(r.more, false);
    assert.equal(r.changed, false);
    assert.equal(r.stdout.split('\n').length, 4);
    assert.match(r.stdout, /^Chain PREROUTING \(policy ACCEPT\)\n/);
    assert.deepEqual(await ok('consoleHistory', 'c', 'minikube'), ['iptables -t nat -L PREROUTING | head -3']);
    assert.deepEqual(events, [], 'a read changes nothing');
  });

  it('asks for more lines while a here-document is open, then applies it as one change', async () => {
    const open = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', ['iptables-restore --noflush <<EOF', '*filter']);
    assert.equal(open.more, true);
    events.length = 0;
    const lines = ['iptables-restore --noflush <<EOF', '*filter', '-A INPUT -p tcp --dport 9999 -j ACCEPT', 'COMMIT', 'EOF', 'echo next'];
    const r = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', lines);
    assert.equal(r.more, false);
    assert.equal(r.changed, true);
    assert.equal(r.consumed, 5, 'the command used the lines up to EOF');
    assert.deepEqual(events, ['labChanged:{"lab":"c"}']);
    const s = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', ['iptables -S INPUT | grep -c 9999']);
    assert.equal(s.stdout.trim(), '1');
    const hist = await ok<string[]>('consoleHistory', 'c', 'minikube');
    assert.ok(hist.includes(lines.slice(0, 5).join('\n')));
    assert.ok(!hist.some((l) => l.includes('echo next')), 'the unused line is not recorded');
    // Stored as a revision (it survives a reload of the service's lab).
    assert.match((await ok<{ command: string }[]>('history', 'c')).at(-1)?.command ?? '', /^console minikube /);
  });

  it('keeps the walks of the packets the last console command sent', async () => {
    const r = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', ['curl -s -m 1 10.96.0.1:443']);
    assert.equal(r.packets, 1);
    const t = await ok<TraceResult[]>('consoleTraces', 'c');
    assert.equal(t.length, 1);
    const j = t[0].json as { outcome: string; packet: { dst: string; dport: number }; steps: unknown[] };
    assert.equal(j.outcome, 'delivered');
    assert.deepEqual([j.packet.dst, j.packet.dport], ['10.96.0.1', 443]);
    assert.ok(j.steps.length > 3);
    const n = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', ['hostname']);
    assert.equal(n.packets, 0);
    assert.deepEqual(await ok('consoleTraces', 'c'), []);
  });

  it('every client that sends packets hands their walks to the debugger: wget, nc, ping, nslookup, dig', async () => {
    const cases: [string, number, string, number | null, string][] = [
      ['wget -q -T 1 -O - http://10.96.0.1:443/', 1, '10.96.0.1', 443, 'tcp'],
      ['nc -z -w 1 10.96.0.1 443', 1, '10.96.0.1', 443, 'tcp'],
      ['ping -c 2 10.96.0.1', 2, '10.96.0.1', null, 'icmp'],
      ['nslookup kubernetes.default.svc.cluster.local 10.96.0.10', 1, '10.96.0.10', 53, 'udp'],
      ['dig @10.96.0.10 kubernetes.default.svc.cluster.local', 1, '10.96.0.10', 53, 'udp'],
    ];
    for (const [line, n, dst, dport, proto] of cases) {
      const r = await ok<ConsoleResult>('consoleLine', 'c', 'minikube', [line]);
      assert.equal(r.packets, n, line);
      const t = await ok<TraceResult[]>('consoleTraces', 'c');
      assert.equal(t.length, n, line);
      for (const x of t) {
        const j = x.json as { packet: { dst: string; dport: number | null; proto: string }; steps: unknown[] };
        assert.deepEqual([j.packet.dst, j.packet.dport, j.packet.proto], [dst, dport, proto], line);
        assert.ok(j.steps.length > 0, line);
      }
    }
  });

  it('refuses an unknown host with notfound and a file path as the lab', async () => {
    const r = await api.call('consoleLine', ['c', 'nosuch', ['ls']]);
    assert.ok('error' in r);
    const f = await api.call('consoleLine', ['x.kpl', 'minikube', ['ls']]);
    assert.ok('error' in f && f.error.code === 'invalid');
  });
});

describe('console Tab completion', () => {
  it('completes command names first, then names', () => {
    assert.deepEqual(complete('kubec', []), { line: 'kubectl ', candidates: [] });
    assert.deepEqual(complete('iptables-r', []), { line: 'iptables-restore ', candidates: [] });
    assert.equal(complete('ipt', []).line, 'iptables');
    assert.deepEqual(complete('iptables', []).candidates, ['iptables', 'iptables-nft', 'iptables-nft-restore', 'iptables-nft-save', 'iptables-restore', 'iptables-save']);
    assert.deepEqual(complete('ping mini', ['minikube', 'minikube-m02']), { line: 'ping minikube', candidates: [] });
    assert.deepEqual(complete('ping minikube-', ['minikube', 'minikube-m02']), { line: 'ping minikube-m02 ', candidates: [] });
    assert.deepEqual(complete('iptables-save | gr', []), { line: 'iptables-save | grep ', candidates: [] });
  });
});
