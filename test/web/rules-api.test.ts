// LabApi.rules (the rules browser): validation of its arguments by the shared schema every
// transport applies, and the dispatcher's answers on a cluster lab: a node, a pod (namespace/
// name), one chain, a filter, an unknown host, a file path refused; it changes nothing (no
// change event).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLabApi, type ApiDispatcher } from '../../main/service/lab-api.ts';
import { checkCall, type LabView, type RulesView } from '../../shared/api/contract.ts';

describe('rules: argument validation', () => {
  const good = (params: unknown[]): void => assert.equal(checkCall('rules', params), null, JSON.stringify(params));
  const bad = (params: unknown[], re: RegExp): void => {
    const e = checkCall('rules', params);
    assert.ok(e, `refused: ${JSON.stringify(params).slice(0, 80)}`);
    assert.equal(e.code, 'invalid');
    assert.match(e.message, re);
  };

  it('takes what the rules browser sends', () => {
    good(['lab', 'minikube']);
    good(['lab', 'default/frontend-8b474f47-zdqdv']);
    good(['lab', 'minikube', {}]);
    good(['lab', 'minikube', null]);
    good(['lab', 'minikube', { table: 'nat', chain: 'KUBE-SVC-ERIFXISQEP7F7OF4', limit: 100_000 }]);
    good(['lab', 'minikube', { filter: 'cali-fw-cali95aa86cbb2a', chainLimit: 50 }]);
    good(['lab', 'minikube', { filter: '' }]);
  });

  it('refuses anything else', () => {
    bad([], /argument 1: missing/);
    bad(['lab'], /argument 2: missing/);
    bad(['lab', ''], /host/);
    bad(['lab', '../etc'], /host/);
    bad(['lab', 'a/b/c'], /host/);
    bad(['lab', 42], /host/);
    bad(['/etc/passwd', 'minikube'], /lab name/);
    bad(['lab.kpl', 'minikube'], /lab name/);
    bad(['lab', 'minikube', 'nat'], /object/);
    bad(['lab', 'minikube', { table: 'broute' }], /"raw", "mangle", "nat", "filter", "security"/);
    bad(['lab', 'minikube', { table: 'nat', chain: '' }], /chain/);
    bad(['lab', 'minikube', { chain: 'has space' }], /chain/);
    bad(['lab', 'minikube', { chain: 'X'.repeat(29) }], /chain name of 1-28/);
    bad(['lab', 'minikube', { limit: -1 }], /integer/);
    bad(['lab', 'minikube', { limit: 100_001 }], /integer/);
    bad(['lab', 'minikube', { limit: 1.5 }], /integer/);
    bad(['lab', 'minikube', { chainLimit: '10' }], /integer/);
    bad(['lab', 'minikube', { filter: 'x'.repeat(201) }], /0-200 characters/);
    bad(['lab', 'minikube', { filter: 7 }], /string/);
    bad(['lab', 'minikube', { evil: true }], /unknown field "evil"/);
    bad(['lab', 'minikube', {}, 'extra'], /at most 3/);
  });
});

describe('rules on the service', () => {
  let dir: string;
  let api: ApiDispatcher;
  const events: string[] = [];

  const ok = async <T>(method: string, ...params: unknown[]): Promise<T> => {
    const r = await api.call(method, params);
    if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpl-rules-api-'));
    api = openLabApi({ db: join(dir, 'labs.db') });
    await ok('createLab', 'c', { cluster: true });
    api.subscribe((e, d) => events.push(`${e}:${JSON.stringify(d)}`));
  });
  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a node's tables, sets and connections, changing nothing", async () => {
    const v = await ok<RulesView>('rules', 'c', 'minikube');
    assert.equal(v.host, 'minikube');
    assert.deepEqual(v.tables.map((t) => t.name), ['raw', 'mangle', 'nat', 'filter']);
    const nat = v.tables.find((t) => t.name === 'nat')!;
    const services = nat.chains.find((c) => c.name === 'KUBE-SERVICES')!;
    assert.equal(services.builtin, false);
    assert.ok(services.references >= 2);
    const jump = services.rules.find((r) => r.target?.startsWith('KUBE-SVC-'))!;
    assert.ok(jump.targetChain);
    assert.match(jump.spec, /^-d 10\.96\.\S+ -p (tcp|udp) .*-j KUBE-SVC-/);
    assert.ok(v.ipsets.length > 0);
    assert.equal(v.truncated, false);
    assert.deepEqual(events, []);
  });

  it('answers a pod (namespace/name), one chain, and a filter', async () => {
    const view = await ok<LabView>('view', 'c');
    const p = view.cluster!.pods[0];
    const pod = await ok<RulesView>('rules', 'c', `${p.namespace}/${p.name}`);
    assert.equal(pod.host, `${p.namespace}/${p.name}`);
    const one = await ok<RulesView>('rules', 'c', 'minikube', { table: 'nat', chain: 'KUBE-SERVICES' });
    assert.deepEqual(one.tables.flatMap((t) => t.chains.map((c) => c.name)), ['KUBE-SERVICES']);
    const f = await ok<RulesView>('rules', 'c', 'minikube', { filter: 'kube-dns' });
    const texts = f.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => `${c.name} ${r.spec}`)));
    assert.ok(texts.length > 0);
    assert.ok(texts.every((t) => /kube-dns/i.test(t)), texts.join('\n'));
  });

  it('says when the host is unknown, or the lab a file', async () => {
    const r = await api.call('rules', ['c', 'nowhere']);
    assert.ok('error' in r);
    assert.equal(r.error.code, 'notfound');
    assert.match(r.error.message, /no host named "nowhere"/);
    const f = await api.call('rules', ['c.json.x/..', 'minikube']);
    assert.ok('error' in f);
    assert.equal(f.error.code, 'invalid');
  });
});
