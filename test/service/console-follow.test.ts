// A console line that runs on (`conntrack -E`) through the app's API: consoleLine says it is
// followed, consoleFollow hands over what it printed since (the events other consoles, exec
// and kept traces made on its host), consoleInterrupt (Ctrl+C) ends it with conntrack's count.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabService } from '../../main/service/lab-service.ts';
import { LabApiImpl } from '../../main/service/lab-api.ts';
import { ConsoleFollows } from '../../main/service/console-follow.ts';
import { checkCall } from '../../shared/api/contract.ts';
import type { CtEvent } from '../../main/engine/conntrack/events.ts';
import type { FollowedLine } from '../../main/engine/shell/programs.ts';

function lab(api: LabApiImpl, name: string): void {
  api.createLab(name);
  api.addLan(name, 'lan');
  api.addHost(name, 'client', { listen: [] });
  api.addHost(name, 'server', { listen: [{ port: 80, proto: 'tcp' }] });
  api.addLink(name, 'client', 'lan', '10.0.0.10/24');
  api.addLink(name, 'server', 'lan', '10.0.0.20/24');
  for (const h of ['client', 'server']) assert.equal(api.exec(name, h, ['iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT']).code, 0);
}

describe('consoleFollow', () => {
  const service = new LabService({ db: ':memory:' });
  const api = new LabApiImpl(service);
  lab(api, 'ev');

  it('follows conntrack -E until Ctrl+C: other consoles\' packets, exec and kept traces show up', () => {
    const r = api.consoleLine('ev', 'server', ['conntrack -E -p tcp']);
    assert.equal(typeof r.follow, 'number');
    assert.deepEqual([r.stdout, r.stderr, r.code], ['', '', 0]);
    assert.deepEqual(api.consoleFollow('ev', r.follow!), { stdout: '', stderr: '', running: true });
    assert.equal(api.consoleLine('ev', 'client', ['curl -s 10.0.0.20']).code, 0);
    const a = api.consoleFollow('ev', r.follow!);
    assert.equal(a.stdout.split('\n').filter(Boolean).length, 6, a.stdout);
    assert.match(a.stdout, /^ {4}\[NEW\] tcp {6}6 120 SYN_SENT src=10\.0\.0\.10 dst=10\.0\.0\.20 /);
    // looked at once: nothing more until something happens
    assert.equal(api.consoleFollow('ev', r.follow!).stdout, '');
    assert.equal(api.exec('ev', 'server', ['conntrack', '-F']).code, 0);
    api.trace('ev', { from: 'client', to: '10.0.0.20:80', proto: 'tcp', keep: true });
    const b = api.consoleFollow('ev', r.follow!).stdout.split('\n').filter(Boolean);
    assert.match(b[0], /^\[DESTROY\] tcp {6}6 120 TIME_WAIT .* \[USERSPACE\] portid=\d+ progname=conntrack$/);
    assert.deepEqual(b.slice(1).map((l) => l.slice(0, 9)), ['    [NEW]', ' [UPDATE]', ' [UPDATE]']);
    const end = api.consoleInterrupt('ev', r.follow!);
    assert.deepEqual(end, { stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 10 flow events have been shown.\n', code: 0 });
    assert.deepEqual(api.consoleFollow('ev', r.follow!), { stdout: '', stderr: '', running: false });
  });

  it('a watch belongs to its lab and host; a removed lab ends its watches', () => {
    lab(api, 'other');
    const w = api.consoleLine('ev', 'client', ['conntrack -E']).follow!;
    api.consoleLine('other', 'client', ['curl -s 10.0.0.20']);
    api.consoleLine('ev', 'server', ['ping -c1 10.0.0.10']);
    const got = api.consoleFollow('ev', w).stdout.split('\n').filter(Boolean);
    assert.equal(got.length, 2, 'only ev\'s client: the ping\'s NEW and UPDATE');
    assert.equal(api.consoleFollow('other', w).running, false, 'not a watch of that lab');
    api.deleteLab('ev');
    assert.equal(api.consoleFollow('ev', w).running, false);
  });

  it('a manifest applied from the app reaches a console following the node: kube-proxy (v1.19: its conntrack -D) deletes a stale UDP flow', () => {
    api.createLab('cl', { cluster: true });
    const dnsSvc = (ip: string) => `apiVersion: v1
kind: Service
metadata: {name: dns2}
spec: {clusterIP: 10.96.0.53, ports: [{name: dns, port: 53, protocol: UDP, targetPort: 53}]}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: dns2-1, labels: {kubernetes.io/service-name: dns2}}
addressType: IPv4
endpoints: [{addresses: ["${ip}"], conditions: {ready: true}}]
ports: [{name: dns, port: 53, protocol: UDP}]
`;
    api.apply('cl', 'apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: busybox}]}\n');
    const dns = /10\.244\.\d+\.\d+/.exec(api.exec('cl', 'minikube', ['kubectl', '-n', 'kube-system', 'get', 'pods', '-o', 'wide']).stdout)![0];
    api.apply('cl', dnsSvc(dns));
    const w = api.consoleLine('cl', 'minikube', ['conntrack -E -e DESTROY']).follow!;
    assert.equal(api.consoleLine('cl', 'default/client', ['dig +short +tries=1 @10.96.0.53 kubernetes.default.svc.cluster.local']).stdout, '10.96.0.1\n');
    api.apply('cl', dnsSvc('10.244.99.9'));
    assert.match(api.consoleFollow('cl', w).stdout, /^\[DESTROY\] udp {6}17 \d+ src=10\.244\.\d+\.\d+ dst=10\.96\.0\.53 sport=\d+ dport=53 src=10\.244\.\d+\.\d+ .*\[USERSPACE\] portid=\d+ progname=conntrack\n$/);
    api.consoleInterrupt('cl', w);
  });

  it('the API checks its arguments', () => {
    assert.match(checkCall('consoleFollow', ['ev', 0])?.message ?? '', /^consoleFollow: argument 2: expected an integer/);
    assert.match(checkCall('consoleInterrupt', ['ev', 'x'])?.message ?? '', /^consoleInterrupt: argument 2: expected an integer/);
    assert.equal(checkCall('consoleFollow', ['ev', 3]), null);
  });

  it('keeps a bounded backlog: what did not fit is lost, and said so as conntrack says ENOBUFS', () => {
    const follows = new ConsoleFollows(2);
    const line = { follow: { event: (ev: CtEvent) => ev.type, interrupted: (n: number) => ({ stdout: '', stderr: `${n}\n`, code: 0, changed: false }) }, rest: [] } as unknown as FollowedLine;
    const id = follows.start('lab', 'h', line);
    const sink = follows.sinkFor('lab')!;
    const ev = { type: 'NEW', entry: {}, at: 0 } as unknown as CtEvent;
    for (let i = 0; i < 5; i++) sink('h', ev);
    sink('elsewhere', ev);
    const run = (_h: string, _l: FollowedLine, evs: readonly CtEvent[]) => ({ stdout: evs.map((e) => e.type + '\n').join(''), stderr: '', shown: evs.length });
    const r = follows.take('lab', id, run);
    assert.equal(r.stdout, 'NEW\nNEW\n');
    assert.match(r.stderr, /^WARNING: We have hit ENOBUFS! We are losing events\.\n/);
    assert.deepEqual(follows.interrupt('lab', id, run), { stdout: '', stderr: '2\n', code: 0, changed: false });
    assert.equal(follows.sinkFor('lab'), null, 'no watch left: nothing listens');
  });

  it('ends a watch no console looked at for 5 minutes (a window closed without Ctrl+C)', () => {
    let now = 0;
    const follows = new ConsoleFollows(10, () => now);
    const line = { follow: { event: () => 'x', interrupted: () => ({ stdout: '', stderr: '', code: 0, changed: false }) }, rest: [] } as unknown as FollowedLine;
    const looked = follows.start('lab', 'h', line);
    const left = follows.start('lab', 'h', line);
    now = 4 * 60_000;
    follows.take('lab', looked, () => ({ stdout: '', stderr: '', shown: 0 }));
    now = 6 * 60_000;
    assert.ok(follows.sinkFor('lab'));
    assert.equal(follows.take('lab', left, () => ({ stdout: '', stderr: '', shown: 0 })).running, false);
    assert.equal(follows.take('lab', looked, () => ({ stdout: '', stderr: '', shown: 0 })).running, true);
  });
});
