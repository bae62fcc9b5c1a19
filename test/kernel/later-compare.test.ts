// `kpl trace --later N` against the real kernel: a connection's later packets. The lab is a
// client, a router that DNATs a virtual address:port (10.96.0.10) to a server (plain, with
// MASQUERADE, or with SNAT to a fixed port) and forwards only NEW and ESTABLISHED packets, and
// the server tracking its own connections. On the kernel a real client socket opens the
// connection (TCP: the handshake; UDP: a datagram and its echo) and then sends later packets
// (TCP: 100 bytes, which the server's kernel acknowledges; UDP: the same datagram again) one at a
// time; after each step the router's and the server's `conntrack -L` and `iptables-save -c` are
// compared with the engine's after `trace ... later K, keep: true` on a fresh copy of the lab
// (K later packets after the opening), line by line: the states (ESTABLISHED, [ASSURED]), the NAT
// tuples, and every rule's and policy's packet and byte counters (the nat table counts only the
// first packet of a connection, the ESTABLISHED rule all the rest). The server must have got the
// data from the address the engine says it sees. The engine's `later` trace itself is checked
// too: the later packet is found ESTABLISHED in conntrack on the router and the server, the nat
// table is not consulted for it, it is delivered and its answer comes back to the client; and
// the kernel's own trace of each data segment on the router (xtables-monitor, a raw TRACE rule
// for segments with PSH) lists the same matched rules and policies as the engine's steps there.
// A UDP flow is ESTABLISHED once the reply was seen, but [ASSURED] only for a datagram more than
// 2 s after its first (the engine's clock advanced by 3 s for it).
//
// Then connections that never open — a SYN the router drops, a SYN the server refuses (port
// closed), a datagram to a closed UDP port — where the engine says `opened: false`; the kernel's
// first packet is sent on its own (a raw SYN, harness/tcp-segment.pl, so that no SYN is
// retransmitted) and the tables compared the same way, then a data segment (PSH,ACK) sent anyway
// on the same ports, which the kernel's conntrack judges by the entry the failed opening left
// (or, when the opening left none, as a new connection). The last test looks at the lengths of
// the answers from closed ports: a reset's 40 bytes, an ICMP error quoting the datagram.
//
// The kernel side's servers and clients are our own scripts (harness/session.ts) rather than the
// harness agent's, which answers and closes at once: the kernel lab is built from the document
// with the server's listening ports left out, which is all that differs.
//
// Normalisations, as the other conntrack comparisons: the timeout column (the kernel's clock runs
// on) and the order of conntrack's lines (hash order); iptables-save's comment lines (dates); and
// the kernel's counters are zeroed once its links are quiet (see zeroCounters).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../main/engine/lab.ts';
import type { TraceJson, WalkJson } from '../../shared/trace-json.ts';
import type { LabDoc } from '../../shared/lab.ts';
import { labDoc } from './harness/labdoc.ts';
import { buildKernelLab, type KernelLab } from './harness/build.ts';
import { checkKernelPrereqs } from './harness/netns.ts';
import { compareHostTables, zeroWhenQuiet, type HostTables } from './harness/host-tables.ts';
import { startSession, type Session } from './harness/session.ts';

const SEGMENT = fileURLToPath(new URL('./harness/tcp-segment.pl', import.meta.url));
const CLIENT = '10.0.1.2';
const SERVER = '10.0.2.2';
const VIP = '10.96.0.10';
const HOSTS = ['client', 'router', 'server'] as const;
/** The TCP connection of the first part, open while the UDP flow runs: two data segments. */
const TCP_DONE = { proto: 'tcp', port: 8080, sport: 41000, later: 2 } as const;

// The server's side: TCP on 80 accepting and holding every connection (nothing sent, no FIN),
// saying what arrives; UDP on 53 echoing each datagram. Gone when stdin closes, or after 60 s.
const SERVER_SCRIPT = `
import net from 'node:net'; import dgram from 'node:dgram';
const [addr, tport, uport] = process.argv.slice(1);
const held = [];
let n = 2;
const ready = () => { if (--n === 0) console.log('ready'); };
const t = net.createServer((s) => {
  held.push(s);
  const peer = s.remoteAddress + ':' + s.remotePort;
  console.log('accept ' + peer);
  s.on('data', (d) => console.log('data ' + peer + ' ' + d.length));
  s.on('error', () => {});
});
t.listen(Number(tport), addr, ready);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => { console.log('udp ' + r.address + ':' + r.port + ' ' + m.length); u.send(m, r.port, r.address); });
u.bind(Number(uport), addr, ready);
process.stdin.on('close', () => process.exit(0)).resume();
setTimeout(() => process.exit(0), 60000);
`;

// The client's side: one TCP connection or one UDP socket from a fixed port; each stdin line
// sends the next packet (TCP: 100 bytes on the connection; UDP: the 4-byte datagram again).
const CLIENT_SCRIPT = `
import net from 'node:net'; import dgram from 'node:dgram'; import { createInterface } from 'node:readline';
const [proto, to, port, sport] = process.argv.slice(1);
let sendOne;
if (proto === 'tcp') {
  const c = net.connect({ host: to, port: Number(port), localPort: Number(sport), family: 4 });
  c.on('connect', () => console.log('up'));
  c.on('error', (e) => console.log('error ' + e.code));
  sendOne = () => c.write(Buffer.alloc(100, 'x'), () => console.log('sent'));
} else {
  const s = dgram.createSocket('udp4');
  s.on('message', (m) => console.log('reply ' + m.length));
  s.on('error', (e) => console.log('error ' + e.code));
  s.bind(Number(sport), () => console.log('bound'));
  sendOne = () => s.send(Buffer.from('kpl\\n'), Number(port), to, () => console.log('sent'));
}
createInterface({ input: process.stdin }).on('line', () => sendOne()).on('close', () => process.exit(0));
setTimeout(() => process.exit(0), 60000);
`;

type Nat = 'dnat' | 'masquerade' | 'snat';

function routerRules(nat: Nat): string {
  const post = { dnat: [], masquerade: ['-A POSTROUTING -o eth1 -j MASQUERADE'], snat: ['-A POSTROUTING -o eth1 -p tcp -j SNAT --to-source 10.0.2.1:5000', '-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 10.0.2.1:5000'] }[nat];
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    `-A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination ${SERVER}:80`,
    // (port 81 is dropped by the router, 82 is closed on the server, UDP 54 too)
    `-A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 8081 -j DNAT --to-destination ${SERVER}:81`,
    `-A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 8082 -j DNAT --to-destination ${SERVER}:82`,
    `-A PREROUTING -d ${VIP}/32 -p udp -m udp --dport 5353 -j DNAT --to-destination ${SERVER}:53`,
    `-A PREROUTING -d ${VIP}/32 -p udp -m udp --dport 5354 -j DNAT --to-destination ${SERVER}:54`,
    ...post,
    'COMMIT',
    // the kernel's own trace of the data segments (no segment of a handshake has PSH)
    '*raw',
    ':PREROUTING ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A PREROUTING -p tcp -m tcp --tcp-flags PSH PSH -j TRACE',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    '-A FORWARD -p tcp -m tcp --dport 81 -j DROP',
    '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n');
}

const SERVER_RULES = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
  '-A INPUT -m conntrack --ctstate NEW -j ACCEPT',
  '-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
  'COMMIT',
  '',
].join('\n');

function lab(nat: Nat): LabDoc {
  return labDoc({
    hosts: {
      client: { links: [`eth0 lan1 ${CLIENT}/24`], routes: ['default via 10.0.1.1'] },
      router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward: true },
      server: { links: [`eth0 lan2 ${SERVER}/24`], listen: ['tcp/80', 'udp/53'], routes: ['default via 10.0.2.1'] },
    },
    journal: [
      ['router', ['iptables-restore'], routerRules(nat)],
      ['server', ['iptables-restore'], SERVER_RULES],
    ],
  });
}

/** Zero the router's and server's counters once the links are quiet (see zeroWhenQuiet). */
async function zeroCounters(kernel: KernelLab): Promise<void> {
  await zeroWhenQuiet(kernel, ['router', 'server']);
}

/** The server's sockets (TCP 80, UDP 53) up in the kernel's lab, its counters then zeroed once
 *  the links are quiet; the session is added to `sessions` (stopped by the caller). */
async function startServer(kernel: KernelLab, sessions: Session[]): Promise<Session> {
  const server = startSession(kernel.hostNamespaces.get('server')!, SERVER_SCRIPT, [SERVER, '80', '53']);
  sessions.push(server);
  await server.waitLine(/^ready$/, 10_000);
  await zeroCounters(kernel);
  return server;
}

/** Conntrack of every host, counters of the router and the server (the client has no rules). */
function compareTables(what: string, kernel: KernelLab, engine: Lab, bytes = true): Promise<HostTables> {
  return compareHostTables(what, kernel, engine, { hosts: HOSTS, counted: ['router', 'server'], bytes });
}

interface Conn {
  proto: 'tcp' | 'udp';
  port: number;
  sport: number;
  later: number;
}

/** A fresh engine after each connection's opening and `later` later packets, kept, in order (the
 *  kernel's tables hold the connections of the earlier steps too); the last trace's JSON. */
function engineAfter(doc: LabDoc, conns: Conn[]): { engine: Lab; json: TraceJson } {
  const engine = Lab.fromDoc(doc);
  let json: TraceJson | undefined;
  for (const c of conns) json = engine.trace({ from: 'client', to: `${VIP}:${c.port}`, proto: c.proto, sport: c.sport, later: c.later, keep: true }).json as TraceJson;
  return { engine, json: json! };
}

const stepsOn = (w: WalkJson, host: string) => w.steps.filter((s) => s.host === host && s.skipped === undefined);
const ctEvents = (w: WalkJson, host: string) => w.events.filter((e) => e.host === host && e.kind === 'conntrack');

/** What the engine's trace of a later packet says, before any kernel comparison. */
function checkLaterTrace(what: string, j: TraceJson, proto: 'tcp' | 'udp', packet: number): void {
  const dump = `${what}: engine later trace\n${JSON.stringify(j, null, 1)}`;
  assert.deepEqual(j.later, { packet, opened: true }, dump);
  assert.equal(j.outcome, 'delivered', dump);
  assert.equal(j.delivered?.host, 'server', dump);
  if (proto === 'tcp') {
    assert.equal(j.packet.flags, 'PSH,ACK', dump);
    assert.equal(j.reply?.packet.flags, 'ACK', dump);
  }
  assert.equal(j.ack, null, dump);
  assert.equal(j.reply?.outcome, 'delivered', dump);
  assert.equal(j.reply?.delivered?.host, 'client', dump);
  for (const w of [j, j.reply!]) {
    // found in conntrack, ESTABLISHED, on both hosts that track; the nat table not walked
    for (const h of ['router', 'server']) {
      const ev = ctEvents(w, h);
      assert.equal(ev.length, 1, `${dump}\n(${h}: one conntrack event)`);
      assert.match(ev[0].text, /^ESTABLISHED /, dump);
    }
    assert.deepEqual(stepsOn(w, 'router').filter((s) => s.table === 'nat'), [], `${dump}\n(the nat table is not consulted for a later packet)`);
    assert.deepEqual(
      stepsOn(w, 'router').filter((s) => s.matched && s.table !== 'raw').map((s) => `${s.table} ${s.rule_spec}`),
      ['filter -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT'],
      dump,
    );
  }
}

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

for (const nat of ['dnat', 'masquerade', 'snat'] as const) {
  test(`later packets of a connection through ${nat === 'dnat' ? 'DNAT' : `DNAT and ${nat.toUpperCase()}`}: TCP data and a UDP flow, conntrack and counters after each packet as the kernel shows them`, async () => {
    const doc = lab(nat);
    const kernel = await buildKernelLab({ ...doc, hosts: doc.hosts.map((h) => ({ ...h, listen: [] })) });
    const sessions: Session[] = [];
    try {
      const server = await startServer(kernel, sessions);

      // TCP: the handshake, then two data segments
      {
        const sport = 41000;
        const client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, ['tcp', VIP, '8080', String(sport)]);
        sessions.push(client);
        await client.waitLine(/^(up|error .*)$/, 10_000).then((l) => assert.equal(l, 'up', 'tcp connect'));
        const { engine: e0, json: j0 } = engineAfter(doc, [{ proto: 'tcp', port: 8080, sport, later: 0 }]);
        assert.equal(j0.ack?.outcome, 'delivered', 'engine handshake');
        const accepted = await server.waitLine(/^accept /);
        assert.equal(accepted, `accept ${j0.final.src}:${j0.final.sport}`, 'the client as the server saw it');
        await compareTables('tcp, after the handshake', kernel, e0);
        for (const later of [1, 2]) {
          const { engine, json } = engineAfter(doc, [{ proto: 'tcp', port: 8080, sport, later }]);
          checkLaterTrace(`tcp later ${later}`, json, 'tcp', later + 1);
          const from = server.lines.length;
          const { result: got, events } = await kernel.trace('router', async () => {
            client.send('send');
            return server.waitLine(/^data /, 5000, from);
          });
          assert.equal(got, `data ${json.final.src}:${json.final.sport} 100`, `tcp data segment ${later} reached the server`);
          // the kernel's trace of the data segment on the router beside the engine's steps there:
          // the rules that matched and the policies applied, no nat chain among them
          const k = events.map((e) => (e.kind === 'policy' ? `${e.table} ${e.chain} policy ${e.policy}` : `${e.table} ${e.rule}`));
          const e = json.steps
            .filter((st) => st.host === 'router' && st.skipped === undefined && st.matched && !(st.rule === null && st.verdict === 'RETURN'))
            .map((st) => (st.rule === null ? `${st.table} ${st.chain} policy ${st.verdict}` : `${st.table} ${st.rule_spec}`));
          assert.deepEqual(e, k, `tcp data segment ${later}: the engine's steps on the router beside the kernel's trace`);
          assert.ok(k.includes('filter -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT') && !k.some((x) => x.startsWith('nat ')), k.join('\n'));
          await compareTables(`tcp, after data segment ${later}`, kernel, engine);
        }
      }

      // UDP: the first exchange, then the same datagram twice more (the TCP connection still open)
      {
        const sport = 41001;
        const client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, ['udp', VIP, '5353', String(sport)]);
        sessions.push(client);
        await client.waitLine(/^bound$/, 10_000);
        for (const later of [0, 1, 2]) {
          const { engine, json } = engineAfter(doc, [TCP_DONE, { proto: 'udp', port: 5353, sport, later }]);
          if (later) checkLaterTrace(`udp later ${later}`, json, 'udp', later + 1);
          const from = client.lines.length;
          const fromS = server.lines.length;
          client.send('send');
          await client.waitLine(/^reply 4$/, 5000, from);
          assert.equal(await server.waitLine(/^udp /, 5000, fromS), `udp ${json.final.src}:${json.final.sport} 4`, `udp datagram ${later + 1} reached the server`);
          await compareTables(`udp, after datagram ${later + 1}`, kernel, engine);
        }
        // UDP is ESTABLISHED once a reply was seen, but [ASSURED] (and the longer timeout) only
        // for a packet more than 2 s after the entry was made (nf_conntrack_udp_packet)
        const k3 = (await kernel.conntrack('router')).split('\n').find((l) => l.includes(`sport=${sport} `)) ?? '';
        assert.doesNotMatch(k3, /ASSURED/, `the kernel assured the UDP flow early: ${k3}`);
        await new Promise((r) => setTimeout(r, 2100));
        const { engine } = engineAfter(doc, [TCP_DONE, { proto: 'udp', port: 5353, sport, later: 2 }]);
        engine.advance(3);
        const json = engine.trace({ from: 'client', to: `${VIP}:5353`, proto: 'udp', sport, keep: true }).json as TraceJson;
        assert.equal(json.reply?.outcome, 'delivered', `engine: ${json.reason}`);
        const from = client.lines.length;
        client.send('send');
        await client.waitLine(/^reply 4$/, 5000, from);
        const k = await compareTables('udp, a datagram more than 2 s after the first', kernel, engine);
        assert.match(k.conntrack.router.find((l) => l.includes(`sport=${sport} `)) ?? '', / \[ASSURED\] /);
      }
    } finally {
      for (const s of sessions) s.stop();
      await kernel.destroy();
    }
  });
}

/** The answer to a raw segment as tcp-segment.pl prints it, from an engine trace. */
const engineAnswer = (t: TraceJson): string => (t.reply && t.reply.outcome === 'delivered' ? `answer ${t.reply.packet.flags}` : 'none');

test('connections that never open (a SYN the router drops, a port closed on the server, a closed UDP port): opened false, and a later packet sent anyway, as the kernel judges it', async () => {
  const doc = lab('masquerade');
  const kernel = await buildKernelLab({ ...doc, hosts: doc.hosts.map((h) => ({ ...h, listen: [] })) });
  const sessions: Session[] = [];
  try {
    await startServer(kernel, sessions);
    // The engine's lab with everything the kernel saw so far, kept.
    const engine = Lab.fromDoc(doc);

    for (const [port, sport, expectFirst] of [[8081, 42000, 'none'], [8082, 42001, 'answer RST,ACK']] as const) {
      const what = `tcp to ${VIP}:${port} from ${sport}`;
      // the opening: one SYN (raw: no retransmission; 60 bytes, as Linux's and the engine's)
      const k1 = await kernel.exec('client', ['perl', SEGMENT, VIP, String(port), CLIENT, String(sport), 'SYN', '600', '20']);
      assert.equal(k1.stdout.trim(), expectFirst, `${what}: the kernel's answer to the SYN ${k1.stderr}`);
      const j1 = engine.trace({ from: 'client', to: `${VIP}:${port}`, proto: 'tcp', sport, later: 1, keep: true }).json as TraceJson;
      assert.deepEqual(j1.later, { packet: 2, opened: false }, `${what}: ${j1.outcome} ${j1.reason}`);
      assert.equal(j1.packet.flags, 'SYN', `${what}: the walk shown is the first packet's`);
      assert.equal(engineAnswer(j1), expectFirst, `${what}: the engine's answer to the SYN`);
      await compareTables(`${what}, after the SYN`, kernel, engine);
      // a data segment anyway: the engine's first packet with these flags is 60 bytes long, as the
      // raw one is (20 bytes of NOP options, no payload: the flags are what conntrack judges)
      const k2 = await kernel.exec('client', ['perl', SEGMENT, VIP, String(port), CLIENT, String(sport), 'PSH,ACK', '600', '20']);
      const j2 = engine.trace({ from: 'client', to: `${VIP}:${port}`, proto: 'tcp', sport, tcpFlags: 'PSH,ACK', keep: true }).json as TraceJson;
      assert.equal(engineAnswer(j2), k2.stdout.trim(), `${what}: the answer to a PSH,ACK after the failed opening (engine ${j2.outcome}: ${j2.reason}) ${k2.stderr}`);
      await compareTables(`${what}, after a PSH,ACK sent anyway`, kernel, engine);
    }

    // UDP to a closed port: port unreachable comes back, the entry stays UNREPLIED
    {
      const sport = 42002;
      const what = `udp to ${VIP}:5354 from ${sport}`;
      const client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, ['udp', VIP, '5354', String(sport)]);
      sessions.push(client);
      await client.waitLine(/^bound$/, 10_000);
      const j1 = engine.trace({ from: 'client', to: `${VIP}:5354`, proto: 'udp', sport, later: 1, keep: true }).json as TraceJson;
      assert.deepEqual(j1.later, { packet: 2, opened: false }, `${what}: ${j1.outcome} ${j1.reason}`);
      assert.equal(j1.outcome, 'refused', `${what}: ${j1.reason}`);
      let from = client.lines.length;
      client.send('send');
      await client.waitLine(/^sent$/, 5000, from);
      await compareTables(`${what}, after the first datagram`, kernel, engine);
      // the same datagram again: NEW again for the filter (no reply was seen), the nat table not
      // consulted again (the entry's NAT was set up by the first)
      from = client.lines.length;
      client.send('send');
      await client.waitLine(/^sent$/, 5000, from);
      const j2 = engine.trace({ from: 'client', to: `${VIP}:5354`, proto: 'udp', sport, keep: true }).json as TraceJson;
      assert.equal(j2.outcome, 'refused', `${what}, again: ${j2.reason}`);
      await compareTables(`${what}, after the same datagram again`, kernel, engine);
      assert.equal(client.lines.filter((l) => l.startsWith('reply')).length, 0, 'no answer from a closed port');
    }
  } finally {
    for (const s of sessions) s.stop();
    await kernel.destroy();
  }
});

// The lengths of the answers from closed ports, step by step: a reset carries neither options
// nor data, 40 bytes, whatever it answers (tcp_v4_send_reset, nf_send_reset: the engine once
// kept the SYN's 60); an ICMP error quotes the offending packet whole up to 576 bytes in all
// (icmp_send): a 32-byte datagram's port unreachable is 60 (the engine once made every error 76).
test('a closed TCP port\'s RST,ACK (40 bytes) and a closed UDP port\'s ICMP error (60 bytes) in the byte counters, as the kernel counts them', async () => {
  const doc = lab('masquerade');
  const kernel = await buildKernelLab({ ...doc, hosts: doc.hosts.map((h) => ({ ...h, listen: [] })) });
  const sessions: Session[] = [];
  try {
    await zeroCounters(kernel);
    const engine = Lab.fromDoc(doc);
    const k = await kernel.exec('client', ['perl', SEGMENT, VIP, '8082', CLIENT, '42001', 'SYN', '600', '20']);
    assert.equal(k.stdout.trim(), 'answer RST,ACK', k.stderr);
    engine.trace({ from: 'client', to: `${VIP}:8082`, proto: 'tcp', sport: 42001, keep: true });
    const tcp = await compareTables('a SYN to a closed port', kernel, engine, false);
    assert.ok(tcp.counters.router.includes('[1:*] -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT'), 'the RST,ACK passed the router');
    const client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, ['udp', VIP, '5354', '42002']);
    sessions.push(client);
    await client.waitLine(/^bound$/, 10_000);
    client.send('send');
    await client.waitLine(/^sent$/, 5000);
    engine.trace({ from: 'client', to: `${VIP}:5354`, proto: 'udp', sport: 42002, keep: true });
    const udp = await compareTables('a datagram to a closed port', kernel, engine, false);
    assert.ok(udp.counters.router.includes(':FORWARD DROP [1:*]'), 'the port unreachable was dropped by the router\'s FORWARD policy (RELATED, not ESTABLISHED)');
    await compareTables('the RST,ACK and the port unreachable, in bytes', kernel, engine);
  } finally {
    for (const s of sessions) s.stop();
    await kernel.destroy();
  }
});
