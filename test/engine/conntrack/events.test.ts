// Conntrack events (`conntrack -E` followed in a console): which changes make NEW, UPDATE and
// DESTROY messages, what each prints, the options that filter them, and that replays and
// what-if experiments make none. The lines' text is compared with the real kernel's in
// test/kernel/conntrack-events-compare.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../../main/engine/lab.ts';
import { TRACK, twoHosts } from '../two-hosts.ts';
import type { CtEvent } from '../../../main/engine/conntrack/events.ts';
import type { FollowedLine } from '../../../main/engine/shell/programs.ts';

/** client 10.0.0.10 and server 10.0.0.20 (port 80 open) on one LAN, both tracking connections. */
const pair = (): Lab => twoHosts([{ port: 80, proto: 'tcp' }, { port: 53, proto: 'udp' }], [['server', TRACK], ['client', TRACK]]);

/** A console on `host` following `line`, and what it printed so far. */
function follow(lab: Lab, host: string, line: string): { out: () => ReturnType<Lab['followLines']>; events: CtEvent[]; followed: FollowedLine } {
  const events: CtEvent[] = [];
  const prev = lab.onCtEvent;
  lab.onCtEvent = (h, ev) => {
    prev?.(h, ev);
    if (h === host) events.push(ev);
  };
  const r = lab.console(host, [line], { follow: true });
  assert.ok(r?.followed, `${line} runs on`);
  assert.equal(r.code, 0);
  const followed = r.followed;
  return { out: () => lab.followLines(host, followed, events), events, followed };
}

const run = (lab: Lab, host: string, line: string) => {
  const r = lab.console(host, [line]);
  assert.ok(r);
  return r;
};

const C = 'src=10.0.0.10 dst=10.0.0.20';
const R = 'src=10.0.0.20 dst=10.0.0.10';

describe('conntrack -E', () => {
  it('shows a TCP connection as the kernel reports it: NEW, then one UPDATE per state change', () => {
    const lab = pair();
    const w = follow(lab, 'server', 'conntrack -E');
    assert.equal(run(lab, 'client', 'curl -s 10.0.0.20').code, 0);
    const lines = w.out().stdout.split('\n').filter(Boolean);
    const sport = /sport=(\d+)/.exec(lines[0])![1];
    const t = `${C} sport=${sport} dport=80`;
    const u = `${R} sport=80 dport=${sport}`;
    assert.deepEqual(lines, [
      `    [NEW] tcp      6 120 SYN_SENT ${t} [UNREPLIED] ${u}`,
      ` [UPDATE] tcp      6 60 SYN_RECV ${t} ${u}`,
      ` [UPDATE] tcp      6 432000 ESTABLISHED ${t} ${u} [ASSURED]`,
      ` [UPDATE] tcp      6 120 FIN_WAIT ${t} ${u} [ASSURED]`,
      ` [UPDATE] tcp      6 30 LAST_ACK ${t} ${u} [ASSURED]`,
      ` [UPDATE] tcp      6 120 TIME_WAIT ${t} ${u} [ASSURED]`,
    ]);
    // the client's table saw the same connection from its side (an OUTPUT-made entry)
    assert.equal(w.out().shown, 6);
  });

  it('ICMP: NEW on the request, UPDATE on the reply (never ASSURED); DESTROY from userspace names the program', () => {
    const lab = pair();
    const w = follow(lab, 'server', 'conntrack -E');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    const del = run(lab, 'server', 'conntrack -D -p icmp');
    assert.equal(del.code, 0);
    const lines = w.out().stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0], /^ {4}\[NEW\] icmp {5}1 30 src=10\.0\.0\.10 dst=10\.0\.0\.20 type=8 code=0 id=\d+ \[UNREPLIED\] src=10\.0\.0\.20 dst=10\.0\.0\.10 type=0 code=0 id=\d+$/);
    assert.match(lines[1], /^ \[UPDATE\] icmp {5}1 30 src=10\.0\.0\.10 .* type=0 code=0 id=\d+$/);
    assert.match(lines[2], /^\[DESTROY\] icmp {5}1 30 src=10\.0\.0\.10 .* id=\d+ \[USERSPACE\] portid=\d+ progname=conntrack$/);
  });

  it('DESTROY when the timeout runs out carries no timeout, and with accounting on shows the counters', () => {
    const lab = pair();
    run(lab, 'server', 'sysctl -w net.netfilter.nf_conntrack_acct=1');
    const w = follow(lab, 'server', 'conntrack -E');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    run(lab, 'server', 'sleep 31');
    const lines = w.out().stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3);
    assert.ok(!lines[0].includes('packets='), 'NEW carries no counters');
    assert.match(lines[2], /^\[DESTROY\] icmp {5}1 src=10\.0\.0\.10 dst=10\.0\.0\.20 type=8 code=0 id=\d+ packets=1 bytes=84 src=10\.0\.0\.20 dst=10\.0\.0\.10 type=0 code=0 id=\d+ packets=1 bytes=84$/);
  });

  it('-F destroys every entry; -p, -e and -o filter and shape the lines; a pipe filters what is printed', () => {
    const lab = pair();
    const all = follow(lab, 'server', 'conntrack -E');
    const udpNewDestroy = follow(lab, 'server', 'conntrack -E -p udp -e NEW,DESTROY -o id,extended');
    const grep = follow(lab, 'server', 'conntrack -E | grep -c DESTROY');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    run(lab, 'client', 'dig +tries=1 @10.0.0.20 example.com');
    const f = run(lab, 'server', 'conntrack -F');
    assert.equal(f.stderr, 'conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n');
    const lines = all.out().stdout.split('\n').filter(Boolean);
    assert.equal(lines.filter((l) => l.startsWith('[DESTROY]')).length, 2);
    const udp = udpNewDestroy.out().stdout.split('\n').filter(Boolean);
    assert.equal(udp.length, 2, udp.join('\n'));
    assert.match(udp[0], /^ {4}\[NEW\] ipv4 {5}2 udp {6}17 30 .* id=\d+$/);
    assert.match(udp[1], /^\[DESTROY\] ipv4 {5}2 udp {6}17 \d+ .* id=\d+ \[USERSPACE\] portid=\d+ progname=conntrack$/);
    // grep sees the lines (a count per look), while conntrack counts what it printed itself
    const g = grep.out();
    assert.equal(g.stdout, '2\n');
    assert.equal(g.shown, lines.length);
  });

  it('entries made and updated from userspace (-I, -U) name the program, and show the mark even at 0', () => {
    const lab = pair();
    const w = follow(lab, 'server', 'conntrack -E');
    run(lab, 'server', 'conntrack -I -p udp -s 10.1.1.1 -d 10.1.1.2 --sport 1000 --dport 53 -t 50 -u SEEN_REPLY');
    run(lab, 'server', 'sleep 1');
    run(lab, 'server', 'conntrack -U -p udp -s 10.1.1.1 -u ASSURED');
    const lines = w.out().stdout.split('\n').filter(Boolean);
    const t = 'src=10.1.1.1 dst=10.1.1.2 sport=1000 dport=53 src=10.1.1.2 dst=10.1.1.1 sport=53 dport=1000';
    assert.deepEqual(lines.map((l) => l.replace(/portid=\d+/, 'portid=N')), [
      `    [NEW] udp      17 50 ${t} mark=0 [USERSPACE] portid=N progname=conntrack`,
      ` [UPDATE] udp      17 49 ${t} [ASSURED] mark=0 [USERSPACE] portid=N progname=conntrack`,
    ]);
  });

  it('a mark set by CONNMARK is in the NEW line and a change of it is an UPDATE', () => {
    const lab = pair();
    run(lab, 'client', 'iptables -t mangle -A OUTPUT -p icmp -j CONNMARK --set-mark 7');
    const w = follow(lab, 'client', 'conntrack -E -p icmp');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    const lines = w.out().stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0], /^ {4}\[NEW\] icmp .* mark=7$/);
    assert.match(lines[1], /^ \[UPDATE\] icmp .* mark=7$/);
  });

  it('interrupted, it says how many events it showed; outside a console it stops at once', () => {
    const lab = pair();
    const w = follow(lab, 'server', 'conntrack -E -e NEW');
    run(lab, 'client', 'ping -c2 10.0.0.20');
    const shown = w.out().shown;
    assert.equal(shown, 1);
    assert.deepEqual(w.followed.follow.interrupted(shown), { stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 1 flow events have been shown.\n', code: 0, changed: false });
    const once = lab.exec('server', ['conntrack', '-E'], '');
    assert.deepEqual([once.stdout, once.stderr, once.code], ['', 'conntrack v1.4.7 (conntrack-tools): 0 flow events have been shown.\n', 0]);
    assert.equal(lab.console('server', ['conntrack -E'])?.followed, undefined, 'a console that does not follow');
  });

  it('a what-if walk (a trace not kept) and a replay of the journal make no events; a kept trace does', () => {
    const lab = pair();
    const w = follow(lab, 'server', 'conntrack -E');
    lab.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp' });
    assert.equal(w.events.length, 0);
    run(lab, 'client', 'curl -s 10.0.0.20');
    assert.equal(w.events.length, 6);
    const seen: CtEvent[] = [];
    const copy = Lab.fromDoc(lab.toDoc());
    copy.onCtEvent = (_h, ev) => seen.push(ev);
    assert.equal(seen.length, 0, 'the replay of the curl made none');
    // a kept trace changes the tables as a command's packets do: it reports
    copy.trace({ from: 'client', to: '10.0.0.20:80', proto: 'tcp', sport: 40000, keep: true });
    assert.deepEqual(seen.map((e) => e.type), ['NEW', 'NEW', 'UPDATE', 'UPDATE', 'UPDATE', 'UPDATE'], 'NEW on both hosts, then the answer and the ACK as UPDATEs on each');
  });

  it('-o xml: the document opens as it starts, a flow per event with its type and id, closed at Ctrl+C', () => {
    const lab = pair();
    const events: CtEvent[] = [];
    lab.onCtEvent = (h, ev) => h === 'server' && events.push(ev);
    const r = lab.console('server', ['conntrack -E -o xml -p icmp'], { follow: true })!;
    assert.equal(r.stdout, '<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    run(lab, 'server', 'conntrack -D -p icmp');
    const flows = lab.followLines('server', r.followed!, events).stdout.split('\n').filter(Boolean);
    assert.deepEqual(flows.map((f) => /^<flow type="(\w+)">/.exec(f)?.[1]), ['new', 'update', 'destroy']);
    assert.match(flows[0], /<meta direction="independent"><timeout>30<\/timeout><id>\d+<\/id><unreplied\/><\/meta><\/flow>$/);
    assert.match(flows[2], /<\/flow> \[USERSPACE\] portid=\d+ progname=conntrack$/);
    assert.deepEqual(r.followed!.follow.interrupted(3), { stdout: '</conntrack>\n', stderr: 'conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown.\n', code: 0, changed: false });
  });

  it('-o timestamp: the wall-clock time before each line; in XML a <when> after the metas', () => {
    const lab = pair();
    const events: CtEvent[] = [];
    lab.onCtEvent = (h, ev) => h === 'server' && events.push(ev);
    const text = lab.console('server', ['conntrack -E -o timestamp -p icmp'], { follow: true })!;
    const xml = lab.console('server', ['conntrack -E -o xml,timestamp -p icmp'], { follow: true })!;
    lab.advance(3723.25); // the lab's clock moves on: 1 h 2 min 3.25 s
    run(lab, 'client', 'ping -c1 10.0.0.20');
    assert.equal(events.length, 2);
    const wall = (ev: CtEvent) => lab.shellEnv(lab.host('server')!).wallMs!(ev.at);
    const lines = lab.followLines('server', text.followed!, events).stdout.split('\n').filter(Boolean);
    lines.forEach((l, i) => {
      const m = /^\[(\d+)\.(\d{6})\]\t(.*)$/.exec(l);
      assert.ok(m, l);
      assert.equal(Number(m[1]) * 1000 + Number(m[2]) / 1000, wall(events[i]));
      assert.match(m[3], i === 0 ? /^ {4}\[NEW\] icmp / : /^ \[UPDATE\] icmp /);
    });
    const flows = lab.followLines('server', xml.followed!, events).stdout.split('\n').filter(Boolean);
    const d = new Date(wall(events[0]));
    const two = (n: number) => String(n).padStart(2, '0');
    const when = `<when><hour>${d.getUTCHours()}</hour><min>${two(d.getUTCMinutes())}</min><sec>${two(d.getUTCSeconds())}</sec><wday>${d.getUTCDay() + 1}</wday><day>${d.getUTCDate()}</day><month>${d.getUTCMonth() + 1}</month><year>${d.getUTCFullYear()}</year></when>`;
    assert.ok(flows[0].endsWith(`<unreplied/></meta>${when}</flow>`), flows[0]);
    assert.match(flows[0], /<min>\d\d<\/min><sec>\d\d<\/sec>/);
  });

  it('-E expect runs on too, and says expectation events (none: the lab makes no expectations)', () => {
    const lab = pair();
    const r = lab.console('server', ['conntrack -E expect -o xml'], { follow: true })!;
    assert.equal(r.stdout, '', 'no XML document for expectation events');
    run(lab, 'client', 'ping -c1 10.0.0.20');
    assert.deepEqual(r.followed!.follow.interrupted(0).stderr, 'conntrack v1.4.7 (conntrack-tools): 0 expectation events have been shown.\n');
    assert.equal(lab.exec('server', ['conntrack', '-E', 'expect'], '').stderr, 'conntrack v1.4.7 (conntrack-tools): 0 expectation events have been shown.\n');
  });

  it('bad options are refused as conntrack refuses them', () => {
    const lab = pair();
    const r = lab.console('server', ['conntrack -E -e BOGUS'], { follow: true });
    assert.equal(r?.followed, undefined);
    assert.equal(r?.code, 2);
    assert.match(r?.stderr ?? '', /Bad parameter `BOGUS'/);
  });
});
