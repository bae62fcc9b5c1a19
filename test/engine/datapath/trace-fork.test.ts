// A forked replay (what if): a trace walked on the lab as it was (the base) until a given host of
// a given phase, and on the changed lab from there on. client → router (DNAT 10.0.0.1:8080 to
// the server's 10.0.1.20:80) → server, and back.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLab } from '../../../shared/lab.ts';
import { Lab } from '../../../main/engine/lab.ts';
import type { StepJson } from '../../../shared/trace-json.ts';
import { navOf, walkOf } from '../../../shared/api/trace-nav.ts';
import { forkAt } from '../../../shared/api/trace-diff.ts';

function base(): Lab {
  const doc = emptyLab('fork');
  doc.lans = [{ name: 'a' }, { name: 'b' }];
  doc.hosts = [
    { name: 'client', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.10/24' }] },
    { name: 'router', listen: [], links: [{ dev: 'eth0', lan: 'a', ip: '10.0.0.1/24' }, { dev: 'eth1', lan: 'b', ip: '10.0.1.1/24' }] },
    { name: 'server', listen: [{ port: 80, proto: 'tcp' }], links: [{ dev: 'eth0', lan: 'b', ip: '10.0.1.20/24' }] },
  ];
  const j = (host: string, cmd: string) => ({ host, argv: cmd.split(' ') });
  doc.journal = [
    j('client', 'ip route add default via 10.0.0.1'),
    j('server', 'ip route add default via 10.0.1.1'),
    j('router', 'sysctl -w net.ipv4.ip_forward=1'),
    j('router', 'iptables -t nat -A PREROUTING -d 10.0.0.1/32 -p tcp --dport 8080 -j DNAT --to-destination 10.0.1.20:80'),
    j('router', 'iptables -A FORWARD -p tcp -j ACCEPT'),
    j('server', 'iptables -A INPUT -p tcp --dport 22 -j ACCEPT'),
  ];
  return Lab.fromDoc(doc);
}

/** The base lab changed by commands (a copy: the base stays as it was). */
function changed(b: Lab, ...cmds: [string, string][]): Lab {
  const c = Lab.fromDoc(b.toDoc());
  for (const [host, cmd] of cmds) {
    const r = c.exec(host, cmd.split(' '), '');
    assert.equal(r.code, 0, `${host}: ${cmd}: ${r.stderr}`);
  }
  return c;
}

const SPEC = { from: 'client', to: '10.0.0.1:8080', proto: 'tcp' as const, sport: 40000, seed: 7 };
const hostsOf = (steps: StepJson[]) => [...new Set(steps.map((s) => s.host))];
const conntrack = (l: Lab, host: string) => l.exec(host, ['conntrack', '-L'], '').stdout;

describe('a forked replay', () => {
  const b = base();
  const plain = b.trace(SPEC);
  it('starts from a lab where the request is delivered and answered, un-DNATed on the router', () => {
    assert.equal(plain.json.outcome, 'delivered');
    assert.equal(plain.json.reply?.outcome, 'delivered');
    assert.equal(`${plain.json.reply?.final?.src}:${plain.json.reply?.final?.sport}`, '10.0.0.1:8080');
  });

  it('walks the hosts before the fork as they were and the forked one as it is now', () => {
    // The server drops the request now: forked at the server (host 2), the drop shows.
    const c = changed(b, ['server', 'iptables -A INPUT -p tcp --dport 80 -j DROP']);
    const t = c.traceForked(b, SPEC, { phase: 'packet', hop: 2 });
    assert.equal(t.json.outcome, 'dropped');
    assert.match(t.json.reason, /on server$/);
    assert.deepEqual(t.json.fork, { phase: 'packet', hop: 2, switched: true });
    // The steps before the server are the base walk's.
    const before = (s: StepJson[]) => s.filter((x) => x.host !== 'server');
    assert.deepEqual(before(t.json.steps as StepJson[]), before(plain.json.steps as StepJson[]));
  });

  it('keeps a change on a host the packet passed before the fork out of its way there, not on the way back', () => {
    const c = changed(b, ['router', 'iptables -I FORWARD -p tcp -j DROP']);
    assert.equal(c.trace(SPEC).json.outcome, 'dropped', 'traced on the changed lab, the router drops it');
    // Forked at the server: the request passed the router as it was; the reply meets the DROP.
    const t = c.traceForked(b, SPEC, { phase: 'packet', hop: 2 });
    assert.equal(t.json.outcome, 'delivered');
    assert.equal(t.json.reply?.outcome, 'dropped');
    assert.match(t.json.reply?.reason ?? '', /rule 1 of filter FORWARD on router/);
    // Forked at the router: dropped there.
    const r = c.traceForked(b, SPEC, { phase: 'packet', hop: 1 });
    assert.equal(r.json.outcome, 'dropped');
    assert.deepEqual(hostsOf(r.json.steps as StepJson[]), ['router'], '(the client has no tables)');
  });

  it('gives the hosts passed before the fork the conntrack entries the packet made there', () => {
    // A change that touches nothing on the way: the reply is un-DNATed on the router by the
    // entry the request made in the base lab (the changed lab's router has none).
    const c = changed(b, ['server', 'iptables -A INPUT -p udp -j DROP']);
    assert.equal(conntrack(c, 'router'), '');
    const t = c.traceForked(b, SPEC, { phase: 'packet', hop: 2 });
    assert.equal(t.json.reply?.outcome, 'delivered');
    assert.equal(`${t.json.reply?.final?.src}:${t.json.reply?.final?.sport}`, '10.0.0.1:8080');
    assert.ok(t.json.ack && t.json.ack.outcome === 'delivered', 'the client\'s ACK goes through too');
    // Nothing is kept, in either lab.
    assert.equal(conntrack(c, 'router'), '');
    assert.equal(conntrack(b, 'router'), '');
    assert.deepEqual(c.traceForked(b, SPEC, { phase: 'packet', hop: 2 }).json, t.json);
  });

  it('forks a later phase: the request as it was, the reply on the changed lab', () => {
    const c = changed(b, ['router', 'iptables -I FORWARD -p tcp --sport 80 -j DROP']);
    const t = c.traceForked(b, SPEC, { phase: 'reply', hop: 0 });
    assert.equal(t.json.outcome, 'delivered');
    assert.deepEqual(t.json.steps, plain.json.steps);
    assert.equal(t.json.reply?.outcome, 'dropped');
    // Past the end of every walk: the base lab's walks throughout.
    const none = c.traceForked(b, SPEC, { phase: 'ack', hop: 9 });
    assert.equal(none.json.fork?.switched, false);
    assert.deepEqual({ ...none.json, fork: undefined }, { ...plain.json, fork: undefined });
  });

  it('is forked where the debugger\'s rows say: the host a row is on, counted per phase', () => {
    const nav = navOf(walkOf(plain));
    const at = (host: string, phase: string) => forkAt(nav, nav.rows.findIndex((r) => r.step.host === host && r.phase === phase));
    assert.deepEqual(at('router', 'packet'), { phase: 'packet', hop: 1 });
    assert.deepEqual(at('server', 'packet'), { phase: 'packet', hop: 2 });
    assert.deepEqual(at('router', 'reply'), { phase: 'reply', hop: 1 });
    // A packet from outside arriving on the router: the router is host 0.
    const outside = b.trace({ from: '10.0.0.99@router', to: '10.0.1.20:80', proto: 'tcp', iif: 'eth0' });
    const n2 = navOf(walkOf(outside));
    assert.equal(n2.rows[0].step.host, 'router');
    assert.deepEqual(forkAt(n2, 0), { phase: 'packet', hop: 0 });
    const srv = n2.rows.findIndex((r) => r.step.host === 'server');
    assert.deepEqual(forkAt(n2, srv), { phase: 'packet', hop: 1 });
  });

  it('refuses what it cannot fork', () => {
    assert.throws(() => b.traceForked(b, { ...SPEC, allOutcomes: true }, { phase: 'packet', hop: 1 }), /one packet/);
    assert.throws(() => b.traceForked(b, { ...SPEC, later: 1 }, { phase: 'packet', hop: 1 }), /one packet/);
    assert.throws(() => b.traceForked(b, SPEC, { phase: 'packet', hop: -1 }), /host number/);
  });
});
