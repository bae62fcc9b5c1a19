// Conntrack events (`conntrack -E`), on the engine and on the real kernel: two hosts on a LAN
// (harness echoPair: b tracks connections and serves UDP 5353 and TCP 8080), `conntrack -E`
// followed in b while a makes connections, then interrupted (SIGINT, Ctrl+C in a console); what
// it printed, stdout and stderr (the "N flow events have been shown" summary), must be the
// kernel's line for line. Each phase starts its own watch on both sides and ends with b's table
// empty, so the phases do not see each other's entries.
//
// The traffic, the same packets on both sides:
// - a TCP connection to 8080, opened and closed: on the engine `nc -z` (which closes at once:
//   FIN, FIN, ACK), on the kernel the harness's TCP_CLIENT held open a moment, then stopped (its
//   socket closes; b's Node server ends its side when a's does). b's kernel acks a's FIN either
//   alone or with its own FIN, as its delayed ACK and the server's close race (the lone ACK
//   shows as an UPDATE to CLOSE_WAIT): a raw OUTPUT rule on both sides drops that lone ACK (the
//   only segment b sends with ACK alone, no data flowing) before conntrack sees it, so the close
//   is always FIN_WAIT, LAST_ACK, TIME_WAIT;
// - an ICMP echo (`ping -c1` on the engine, harness/icmp-echo.pl with the same echo id and 56
//   data bytes on the kernel);
// - a UDP request and its answer (the harness's UDP_CLIENT on the kernel; on the engine a kept
//   trace with the same source port, whose events go to the console as a command's do).
// The engine's clients pick their source port (and ping its echo id) themselves: the kernel's
// clients are given the same, read from the engine's NEW event, so no port is normalised.
//
// Phases: (1) the traffic's NEW and UPDATE lines; (2) `conntrack -D -p icmp` and `conntrack -F`
// on b, DESTROY lines with `[USERSPACE] portid=N progname=conntrack`; (3) `-p udp -e NEW,DESTROY
// -o id`; (4) `-o extended` with nf_conntrack_acct=1 (counters in DESTROY lines); (5) a CONNMARK
// --set-mark in b's mangle OUTPUT (mark= lines), `-o id` and `conntrack -D -p tcp`; (6) `-o xml`;
// (7) entries made and updated from userspace (`conntrack -I`, `-U`); (8) timeouts set by sysctl;
// (9) `-E expect`.
//
// `progname=` is there only if `conntrack -E` still finds the deleting socket open when it
// prints the event (it looks the portid up in /proc): a real deleter's exit races with that, so
// the kernel's deleters are held until the lines are out (harness/ct-events-hold.pl).
// Normalised: a NEW or UPDATE line of the kernel's showing one second less than the engine's
// (its clock may tick between the packet refreshing the timeout and the message), the portid
// (the deleter's pid, or a random number for the second socket `-D` deletes with), the entry
// ids of `-o id` (the kernel's are hashes: numbered in order of appearance on both sides), and
// the order of the DESTROY lines one `conntrack -F` makes (the kernel's is hash order: compared
// as sorted sets). The timeout a DESTROY from userspace shows is what is left: the kernel's
// clock runs on, so the engine's is moved half a second (`sleep 0.5`) before each deletion, and
// the kernel's deletion starts less than 0.8 s after the oldest entry's last packet (checked).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import type { CtEvent } from '../../main/engine/conntrack/events.ts';
import type { FollowedLine } from '../../main/engine/shell/programs.ts';
import { checkKernelPrereqs, killPid, trackPid, untrackPid, waitFor } from './harness/netns.ts';
import { PAIR, TCP_CLIENT, UDP_CLIENT, echoPair, startScript } from './harness/node-scripts.ts';

const ICMP_ECHO = fileURLToPath(new URL('./harness/icmp-echo.pl', import.meta.url));
const HOLD = fileURLToPath(new URL('./harness/ct-events-hold.pl', import.meta.url));
const { B, UDP_PORT, TCP_PORT } = PAIR;

interface Output {
  stdout: string;
  stderr: string;
  code: number;
}

/** `conntrack -E ARGS` running in a namespace, its output gathered until stop() (SIGINT). */
interface KernelWatch {
  lines(): string[];
  stop(): Promise<Output>;
}

/** Whether a process has a NETLINK_NETFILTER socket subscribed to some group (conntrack -E
 *  listening): its namespace's /proc/net/netlink. */
function subscribed(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/netlink`, 'utf8');
  } catch {
    return false;
  }
  return text
    .split('\n')
    .slice(1)
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === '12' && f[3] !== undefined && /[1-9a-f]/.test(f[3]);
    });
}

async function startKernelWatch(ns: string, args: string[]): Promise<KernelWatch> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  const child = spawn('ip', ['netns', 'exec', ns, 'conntrack', '-E', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const pid = child.pid;
  if (pid === undefined) throw new Error('conntrack -E did not start');
  trackPid(pid);
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<void>((resolve) =>
    child.on('close', (c, sig) => {
      code = c ?? (sig ? 128 : 1);
      resolve();
    }),
  );
  const stop = async (): Promise<Output> => {
    if (code === null) {
      killPid(pid, 'SIGINT');
      const done = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      if (!done) {
        killPid(pid, 'SIGKILL');
        await closed;
        stderr += '(killed: SIGINT did not end it within 3 s)\n';
      }
    }
    untrackPid(pid);
    return { stdout, stderr, code: code ?? 1 };
  };
  // (comm is conntrack once `ip netns exec` exec'd it; then it subscribes to the event groups)
  const ready = await waitFor(() => code === null && subscribed(pid), 3000, 10);
  if (!ready) {
    const o = await stop();
    throw new Error(`conntrack -E ${args.join(' ')} in ${ns} is not listening: ${o.stdout}${o.stderr}`);
  }
  return { lines: () => stdout.split('\n').filter(Boolean), stop };
}

/**
 * A conntrack command in a namespace whose exit waits for release() (harness/ct-events-hold.pl):
 * `conntrack -E` names the deleting program only while its socket is open.
 */
function startHeld(ns: string, argv: string[], held: (() => Promise<Output>)[]): { release(): Promise<Output> } {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  const child = spawn('ip', ['netns', 'exec', ns, 'perl', HOLD, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const pid = child.pid;
  if (pid !== undefined) trackPid(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => {
    child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    child.on('error', (e) => {
      stderr += e.message;
      resolve(127);
    });
  });
  const finish = async (): Promise<Output> => {
    child.stdin.end('go\n');
    const code = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    if (pid !== undefined) {
      if (code === null) killPid(pid, 'SIGKILL');
      untrackPid(pid);
    }
    return { stdout, stderr: code === null ? `${stderr}(killed after 5 s)\n` : stderr, code: code ?? 124 };
  };
  let released: Promise<Output> | null = null;
  const release = (): Promise<Output> => (released ??= finish());
  held.push(release);
  return { release };
}

/** The deleting program's pid (`[USERSPACE] portid=N`). */
function normalise(lines: string[]): string[] {
  return lines.map((l) => l.replace(/ portid=\d+ /, ' portid=N '));
}

const TIMED = /^( *\[(?:NEW|UPDATE)\] (?:ipv4 +2 )?\w+ +\d+ )(\d+)( .*)$/;
const TIMED_XML = /^(<flow type="(?:new|update)">.*<timeout>)(\d+)(<\/timeout>.*)$/;
/** The same for DESTROY lines, looked at only after a deletion that started late (below). */
const TIMED_DESTROY = /^( *\[DESTROY\] (?:ipv4 +2 )?\w+ +\d+ )(\d+)( .*)$/;
const TIMED_DESTROY_XML = /^(<flow type="destroy">.*<timeout>)(\d+)(<\/timeout>.*)$/;

/**
 * The kernel's NEW and UPDATE lines, where one shows a second less than the engine's same line:
 * the kernel's clock (jiffies, HZ=250 here) ticked between the packet refreshing the timeout and
 * the event's message being built (seen now and then on a FIN_WAIT: 119 for 120).
 */
function ticked(kernel: string[], engine: string[], destroyToo = false): string[] {
  const timed = (l: string) => TIMED.exec(l) ?? TIMED_XML.exec(l) ?? (destroyToo ? (TIMED_DESTROY.exec(l) ?? TIMED_DESTROY_XML.exec(l)) : null);
  return kernel.map((k, i) => {
    const mk = timed(k);
    const me = timed(engine[i] ?? '');
    return mk && me && mk[1] === me[1] && mk[3] === me[3] && Number(mk[2]) + 1 === Number(me[2]) ? engine[i] : k;
  });
}

/** A line of `-o timestamp` with its time as T (text: "[sec.usec]\t" before the line) or W (XML:
 *  <when> after the metas), each checked for its form first. */
function unstamped(l: string): string {
  const t = /^\[(\d+)\.(\d+)\]\t/.exec(l);
  if (t) {
    assert.equal(t[2].length, 6, `microseconds in 6 digits: ${l}`);
    return `[T]\t${l.slice(t[0].length)}`;
  }
  const when = /<when><hour>(\d+)<\/hour><min>(\d+)<\/min><sec>(\d+)<\/sec><wday>[1-7]<\/wday><day>\d+<\/day><month>\d+<\/month><year>\d{4}<\/year><\/when>/.exec(l);
  if (!when) return l;
  assert.ok(when[1].length <= 2 && Number(when[1]) < 24 && when[2].length === 2 && when[3].length === 2, `<when>'s form: ${when[0]}`);
  return l.replace(when[0], '<when>W</when>');
}

/** The entry id of `-o id` (after the tuples and flags, before `[USERSPACE]`), numbered. */
function numberIds(lines: string[]): string[] {
  const ids = new Map<string, number>();
  const num = (id: string) => {
    if (!ids.has(id)) ids.set(id, ids.size + 1);
    return ids.get(id)!;
  };
  return lines.map((l) =>
    l
      .replace(/ id=(\d+)( \[USERSPACE\].*)?$/, (_all, id: string, rest: string | undefined) => ` id=#${num(id)}${rest ?? ''}`)
      .replace(/<id>(\d+)<\/id>/, (_all, id: string) => `<id>#${num(id)}</id>`),
  );
}

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

test('conntrack -E: the events of b, line for line as the kernel prints them, phase by phase', { timeout: 90_000 }, async (tc) => {
  const { engine, kernel, nsA, nsB, stops, destroy } = await echoPair();
  let watch: KernelWatch | null = null;
  /** The held deleters, released in the end whatever happened. */
  const releases: (() => Promise<Output>)[] = [];
  try {
    // ---- both sides' watches ----
    /** When each kind of entry last saw a packet on the kernel (performance.now()). */
    const lastPacket = new Map<string, number>();
    let engineEvents: CtEvent[] = [];
    engine.onCtEvent = (host, ev) => {
      if (host === 'b') engineEvents.push(ev);
    };
    let followed: FollowedLine | null = null;
    /** What the engine's conntrack -E printed as it started (-o xml: the document's head). */
    let opened = '';
    const engineOut = () => engine.followLines('b', followed!, engineEvents);
    const engineLines = () => (opened + engineOut().stdout).split('\n').filter(Boolean);
    const start = async (args: string[]) => {
      engineEvents = [];
      lastPacket.clear();
      const r = engine.console('b', [['conntrack', '-E', ...args].join(' ')], { follow: true });
      assert.ok(r?.followed, `engine: conntrack -E ${args.join(' ')} runs on: ${r?.stderr}`);
      assert.equal(r.stderr, '');
      followed = r.followed;
      opened = r.stdout;
      watch = await startKernelWatch(nsB, args);
    };
    /** Waits (at most 3 s) until the kernel printed as many lines as the engine did. */
    const caughtUp = async () => {
      const want = engineLines().length;
      await waitFor(() => watch!.lines().length >= want, 3000, 10);
    };
    const stopBoth = async (): Promise<{ kernel: Output; engine: Output }> => {
      await caughtUp();
      // (a moment for lines the engine did not print)
      await new Promise((r) => setTimeout(r, 150));
      const k = await watch!.stop();
      watch = null;
      const e = engineOut();
      const i = followed!.follow.interrupted(e.shown);
      followed = null;
      return { kernel: k, engine: { stdout: opened + e.stdout + i.stdout, stderr: e.stderr + i.stderr, code: i.code } };
    };
    const sh = async (host: 'b', line: string): Promise<{ kernel: Output; engine: Output }> => {
      const k = await kernel.exec(host, line.split(' '));
      const r = engine.console(host, [line]);
      assert.ok(r);
      return { kernel: k, engine: { stdout: r.stdout, stderr: r.stderr, code: r.code } };
    };
    /** net.netfilter.KEY=VALUE on b, on both sides. */
    const sysctlBoth = async (key: string, value: number) => {
      const argv = ['sysctl', '-w', `net.netfilter.${key}=${value}`];
      assert.equal((await kernel.exec('b', argv)).code, 0, `kernel: ${argv.join(' ')}`);
      assert.equal(engine.exec('b', argv, '').code, 0, `engine: ${argv.join(' ')}`);
    };
    /** b's table emptied, unwatched (between phases). */
    const flush = async () => {
      assert.equal((await kernel.exec('b', ['conntrack', '-F'])).code, 0);
      assert.equal(engine.exec('b', ['conntrack', '-F'], '').code, 0);
    };

    // ---- the traffic ----
    const tcp = async () => {
      const e = engine.console('a', [`nc -z ${B} ${TCP_PORT}`]);
      assert.equal(e?.code, 0, `engine nc: ${e?.stderr}`);
      // (its source port, from the engine's events: filters may hide the line)
      const sport = engineEvents.filter((ev) => ev.type === 'NEW' && ev.entry.orig.proto === 6).at(-1)?.entry.orig.sport;
      assert.ok(sport, 'the engine made a TCP entry');
      const c = await startScript(nsA, TCP_CLIENT, [B, String(TCP_PORT), String(sport)]);
      stops.push(c.stop);
      assert.equal(c.first, 'up', `kernel tcp from ${sport}`);
      // held open a moment (the handshake's events out), then closed
      await new Promise((r) => setTimeout(r, 100));
      c.stop();
      await caughtUp();
      lastPacket.set('tcp', performance.now());
    };
    const ping = async () => {
      const e = engine.console('a', [`ping -c1 ${B}`]);
      assert.equal(e?.code, 0, `engine ping: ${e?.stderr}`);
      const id = engineEvents.filter((ev) => ev.type === 'NEW' && ev.entry.orig.proto === 1).at(-1)?.entry.orig.sport;
      assert.ok(id !== undefined, 'the engine made an ICMP entry');
      const k = await kernel.exec('a', ['perl', ICMP_ECHO, B, '-', '2000', '56', String(id)]);
      assert.equal(k.stdout.trim(), `reply ${B}`, `kernel echo id ${id}: ${k.stderr}`);
      lastPacket.set('icmp', performance.now());
      await caughtUp();
    };
    let udpPort = 40000;
    const udp = async () => {
      const sport = ++udpPort;
      // (a kept trace reports its events as a console command's packets do)
      const t = engine.trace({ from: 'a', to: `${B}:${UDP_PORT}`, proto: 'udp', sport, keep: true }).json;
      assert.equal(t.reply?.outcome, 'delivered', `engine udp from ${sport}: ${t.outcome} ${t.reason}`);
      const k = await kernel.exec('a', [process.execPath, '--input-type=module', '-e', UDP_CLIENT, B, String(UDP_PORT), String(sport), '2000']);
      assert.equal(k.stdout.trim(), 'ok', `kernel udp from ${sport}: ${k.stderr}`);
      lastPacket.set('udp', performance.now());
      await caughtUp();
    };
    /** A deletion on b, half a second after the entries' last packets on both sides; the
     *  kernel's deleter kept from exiting until its events were printed. */
    let lateDelete = false;
    const userspace = async (line: string) => {
      engine.console('b', ['sleep 0.5']);
      const age = performance.now() - Math.min(...lastPacket.values());
      const held = startHeld(nsB, line.split(' '), releases);
      const e = engine.console('b', [line]);
      assert.ok(e);
      await caughtUp();
      const r = { kernel: await held.release(), engine: { stdout: e.stdout, stderr: e.stderr, code: e.code } };
      // Deleted later, the kernel's entries may show a second less left than the engine's: on
      // a machine too busy to start it in time, the DESTROY lines' timeouts may be a second
      // short in this phase (said in the test's output), everything else compared as usual.
      lateDelete = age >= 800;
      if (lateDelete) tc.diagnostic(`${line} started ${Math.round(age)} ms after the oldest entry's last packet: DESTROY timeouts compared to the second`);
      assert.deepEqual(r.engine, { ...r.kernel, stdout: r.engine.stdout }, `${line}: stderr and exit status`);
      return r;
    };
    const compare = (what: string, o: { kernel: Output; engine: Output }, opts: { ids?: boolean; sets?: (lines: string[]) => string[]; stamped?: boolean } = {}) => {
      const lines = (text: string) => {
        let l = normalise(text.split('\n').filter(Boolean));
        if (opts.stamped) l = l.map(unstamped);
        return opts.ids ? numberIds(l) : l;
      };
      const sets = opts.sets ?? ((l: string[]) => l);
      const e = lines(o.engine.stdout);
      const k = sets(ticked(lines(o.kernel.stdout), e, lateDelete));
      lateDelete = false;
      assert.deepEqual(sets(e), k, `${what}: stdout\n--- kernel\n${o.kernel.stdout}--- engine\n${o.engine.stdout}`);
      assert.deepEqual([o.engine.stderr, o.engine.code], [o.kernel.stderr, o.kernel.code], `${what}: stderr and exit status`);
      return k;
    };

    // b's lone ACK of a's FIN dropped before conntrack (see the top): FIN, FIN+ACK, ACK
    const noLoneAck = `iptables -t raw -A OUTPUT -p tcp --sport ${TCP_PORT} --tcp-flags ALL ACK -j DROP`;
    const rule = await sh('b', noLoneAck);
    assert.deepEqual(rule.engine, rule.kernel, noLoneAck);
    assert.equal(rule.kernel.code, 0, rule.kernel.stderr);

    // 1. NEW and UPDATE lines of the three connections
    await start([]);
    await tcp();
    await ping();
    await udp();
    const p1 = compare('traffic', await stopBoth());
    assert.ok(p1.length >= 6, p1.join('\n'));
    await flush();

    // 2. deleted from userspace: one entry by -D, the rest by -F (hash order: sorted)
    await start([]);
    await ping();
    await udp();
    await tcp();
    await userspace('conntrack -D -p icmp');
    await caughtUp();
    const before = watch!.lines().length;
    const engineBefore = engineLines().length;
    await userspace('conntrack -F');
    const p2 = await stopBoth();
    const sortTail = (n: number) => (lines: string[]) => [...lines.slice(0, n), ...lines.slice(n).sort()];
    assert.equal(before, engineBefore, 'lines before -F');
    compare('conntrack -D, conntrack -F', p2, { sets: sortTail(before) });
    assert.match(p2.kernel.stdout, /\[DESTROY\] .*\[USERSPACE\] portid=\d+ progname=conntrack\n/);

    // 3. filters: UDP only, NEW and DESTROY only, with the entry id
    await start(['-p', 'udp', '-e', 'NEW,DESTROY', '-o', 'id']);
    await ping();
    await tcp();
    await udp();
    await userspace('conntrack -F');
    compare('-p udp -e NEW,DESTROY -o id', await stopBoth(), { ids: true });

    // 4. -o extended, with accounting on: the DESTROY lines carry the counters
    await sysctlBoth('nf_conntrack_acct', 1);
    await start(['-o', 'extended']);
    await ping();
    await udp();
    await tcp();
    const engineBefore4 = engineLines().length;
    await userspace('conntrack -F');
    const p4 = await stopBoth();
    compare('-o extended, acct on', p4, { sets: sortTail(engineBefore4) });
    assert.match(p4.kernel.stdout, /packets=\d+ bytes=\d+/);
    await sysctlBoth('nf_conntrack_acct', 0);

    // 5. a connection mark set by b's replies: mark= from the UPDATE that set it
    const connmark = 'iptables -t mangle -A OUTPUT -j CONNMARK --set-mark 7';
    const cm = await sh('b', connmark);
    assert.deepEqual([cm.engine.code, cm.engine.stderr], [cm.kernel.code, cm.kernel.stderr], connmark);
    await start(['-o', 'id']);
    await tcp();
    await ping();
    await udp();
    await userspace('conntrack -D -p tcp');
    const p5 = compare('CONNMARK --set-mark 7', await stopBoth(), { ids: true });
    assert.ok(p5.some((l) => / mark=7 /.test(l)), p5.join('\n'));
    await flush();

    // 6. -o xml: the document opened at the start and closed at Ctrl+C, a flow per event
    //    (the id always, the mark set above, the deleter after the flow)
    await start(['-o', 'xml']);
    await ping();
    await udp();
    await userspace('conntrack -D -p icmp');
    const p6 = compare('-o xml', await stopBoth(), { ids: true });
    assert.deepEqual([p6[0], p6.at(-1)], ['<?xml version="1.0" encoding="utf-8"?>', '</conntrack>']);
    assert.ok(p6.some((l) => /^<flow type="destroy">.*<mark>7<\/mark>.*<\/flow> \[USERSPACE\] portid=N progname=conntrack$/.test(l)), p6.join('\n'));
    await flush();

    // 7. entries made and updated from userspace: NEW and UPDATE name the program, with the mark
    await start([]);
    await userspace('conntrack -I -p udp -s 10.1.1.1 -d 10.1.1.2 --sport 1000 --dport 53 -t 50 -u SEEN_REPLY');
    await userspace('conntrack -U -p udp -s 10.1.1.1 -u ASSURED');
    await userspace('conntrack -I -p tcp -s 10.1.1.1 -d 10.1.1.2 --sport 1000 --dport 80 -t 50 --state ESTABLISHED');
    const p7 = compare('conntrack -I, conntrack -U', await stopBoth());
    assert.deepEqual(p7.map((l) => l.slice(0, 9)), ['    [NEW]', ' [UPDATE]', '    [NEW]']);
    assert.ok(p7.every((l) => / mark=0 \[USERSPACE\] portid=N progname=conntrack$/.test(l)), p7.join('\n'));
    await flush();

    // 8. the timeouts are b's sysctls (kube-proxy sets two of them on every node)
    const timeouts: [string, number][] = [
      ['icmp_timeout', 21], ['udp_timeout', 44], ['udp_timeout_stream', 155], ['tcp_timeout_syn_recv', 33],
      ['tcp_timeout_established', 86400], ['tcp_timeout_fin_wait', 66], ['tcp_timeout_last_ack', 22], ['tcp_timeout_time_wait', 77],
    ];
    for (const [k, v] of timeouts) await sysctlBoth(`nf_conntrack_${k}`, v);
    await start([]);
    await tcp();
    await ping();
    await udp();
    const p8 = compare('timeouts from sysctls', await stopBoth());
    for (const t of [' 86400 ESTABLISHED ', ' 66 FIN_WAIT ', ' 22 LAST_ACK ', ' 77 TIME_WAIT ', 'icmp     1 21 ', 'udp      17 44 ']) assert.ok(p8.some((l) => l.includes(t)), `${t.trim()} in\n${p8.join('\n')}`);
    await flush();

    // 9. -o timestamp: the time each event was printed, before the line or (XML) as <when>
    //    (the clocks differ: the form is compared, the lines without it)
    await start(['-o', 'timestamp']);
    await ping();
    await udp();
    await userspace('conntrack -D -p icmp');
    const p9 = compare('-o timestamp', await stopBoth(), { stamped: true });
    assert.ok(p9.length >= 4 && p9.every((l) => l.startsWith('[T]\t')), p9.join('\n'));
    await flush();
    await start(['-o', 'xml,timestamp']);
    await udp();
    await userspace('conntrack -D -p udp');
    const p9x = compare('-o xml,timestamp', await stopBoth(), { ids: true, stamped: true });
    assert.ok(p9x.filter((l) => l.startsWith('<flow ')).every((l) => l.includes('</meta><when>W</when></flow>')), p9x.join('\n'));

    // 10. the expectation table's events (none here: no helper), with -o xml: no document at all
    await start(['expect', '-o', 'xml']);
    await ping();
    const p10 = await stopBoth();
    compare('-E expect -o xml', p10);
    assert.equal(p10.kernel.stderr, 'conntrack v1.4.7 (conntrack-tools): 0 expectation events have been shown.\n');
  } finally {
    engine.onCtEvent = null;
    if (watch) await (watch as KernelWatch).stop();
    for (const release of releases) await release();
    await destroy();
  }
});
