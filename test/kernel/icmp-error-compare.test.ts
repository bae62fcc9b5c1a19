// ICMP errors through NAT and conntrack, against the real kernel. The lab is later-compare's: a
// client, a router that DNATs a virtual address (10.96.0.10) to a server (plain, or with
// MASQUERADE on its way out), and the server. The router makes or forwards ICMP errors for the
// client's packets and conntrack finds them RELATED to the connection they quote; NAT rewrites
// the error's outer header and the packet it quotes. The client tracks its own connections too
// (its INPUT counts what arrives as RELATED, INVALID or ESTABLISHED), so whether the quote was
// un-NATed on the way back shows in its counters: a quote that still names the server's real
// address is not RELATED to the client's connection to the virtual one.
//
// Each probe is sent on the kernel by a real socket (harness/session.ts: a connected UDP socket,
// which reports the error as an errno on its next receive; a TCP connect), while a raw ICMP
// socket on the client (harness/icmp-listen.pl) prints every error that reaches it: type, code,
// outer source and destination, length, and the quoted packet's addresses and ports. The engine
// traces the same packet (`keep`), its reply walk being the error's way back; then the client's,
// router's and server's `conntrack -L` and `iptables-save -c` (packets and bytes: an error is
// 20 + 8 + the quoted packet long) are compared.
//
// Cases: a closed UDP port behind the DNAT (the server's port unreachable, un-DNATed by the
// router: outer source and quoted destination), FORWARD accepting RELATED or only ESTABLISHED
// (the error dropped); the same with MASQUERADE (the error comes back to the router's address
// and is un-SNATed: outer destination and quoted source); REJECT on the router's FORWARD after
// the DNAT (icmp-port-unreachable, icmp-host-prohibited: the router's own error; tcp-reset);
// no route on the router, and unreachable / prohibit / blackhole routes; and a datagram with
// TTL 1 that must be forwarded.
//
// Normalisations, as later-compare's: conntrack's timeout column and line order, iptables-save's
// comment lines, and the kernel's counters zeroed once its links are quiet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../main/engine/lab.ts';
import { answerFor, walkPacket } from '../../main/engine/datapath/walk.ts';
import { PROTO } from '../../main/engine/netfilter/types.ts';
import { parseIPv4 } from '../../main/engine/net/ipv4.ts';
import type { TraceJson } from '../../shared/trace-json.ts';
import type { LabDoc } from '../../shared/lab.ts';
import { labDoc } from './harness/labdoc.ts';
import { buildKernelLab, type KernelLab } from './harness/build.ts';
import { checkKernelPrereqs } from './harness/netns.ts';
import { compareHostTables, zeroWhenQuiet } from './harness/host-tables.ts';
import { startSession, type Session } from './harness/session.ts';

const LISTEN = fileURLToPath(new URL('./harness/icmp-listen.pl', import.meta.url));
const CLIENT = '10.0.1.2';
const SERVER = '10.0.2.2';
const VIP = '10.96.0.10';
const HOSTS = ['client', 'router', 'server'] as const;

// The client's side: the ICMP listener (its lines relayed), and per stdin line one probe:
//   udp TO PORT SPORT [TTL]   a connected UDP socket sends 4 bytes (a 32-byte packet), then says
//                             `udp SPORT error CODE` (an ICMP error came back) or
//                             `udp SPORT reply N` or, after 1.5 s, `udp SPORT quiet`
//   tcp TO PORT SPORT         a connect: `tcp SPORT up`, `tcp SPORT error CODE` or, after
//                             0.8 s (before a retransmission), `tcp SPORT quiet`
// Gone when stdin closes, or after 60 s.
const CLIENT_SCRIPT = `
import net from 'node:net'; import dgram from 'node:dgram'; import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
const [listen] = process.argv.slice(1);
const l = spawn('perl', [listen, '60000'], { stdio: ['pipe', 'pipe', 'inherit'] });
createInterface({ input: l.stdout }).on('line', (x) => console.log(x));
const held = [];
function udp(to, port, sport, ttl) {
  const s = dgram.createSocket('udp4');
  held.push(s);
  let done = false;
  const say = (w) => { if (!done) { done = true; console.log('udp ' + sport + ' ' + w); } };
  s.on('error', (e) => say('error ' + e.code));
  s.on('message', (m) => say('reply ' + m.length));
  s.bind(Number(sport), () => s.connect(Number(port), to, () => {
    if (ttl) s.setTTL(Number(ttl));
    s.send(Buffer.from('kpl\\n'), () => setTimeout(() => say('quiet'), 1500));
  }));
}
function tcp(to, port, sport) {
  const c = net.connect({ host: to, port: Number(port), localPort: Number(sport), family: 4 });
  held.push(c);
  let done = false;
  const say = (w) => { if (!done) { done = true; console.log('tcp ' + sport + ' ' + w); } };
  c.on('connect', () => say('up'));
  c.on('error', (e) => say('error ' + e.code));
  setTimeout(() => { say('quiet'); c.destroy(); }, 800);
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [proto, to, port, sport, ttl] = line.trim().split(' ');
  if (proto === 'udp') udp(to, port, sport, ttl); else tcp(to, port, sport);
}).on('close', () => { l.kill(); process.exit(0); });
setTimeout(() => { l.kill(); process.exit(0); }, 60000);
`;

type Variant = 'related' | 'established' | 'masquerade';

function routerRules(v: Variant): string {
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    // 54 is closed on the server; the router's FORWARD rejects 56, 57 and tcp 83
    `-A PREROUTING -d ${VIP}/32 -p udp -m udp --dport 5354 -j DNAT --to-destination ${SERVER}:54`,
    `-A PREROUTING -d ${VIP}/32 -p udp -m udp --dport 5356 -j DNAT --to-destination ${SERVER}:56`,
    `-A PREROUTING -d ${VIP}/32 -p udp -m udp --dport 5357 -j DNAT --to-destination ${SERVER}:57`,
    `-A PREROUTING -d ${VIP}/32 -p tcp -m tcp --dport 8083 -j DNAT --to-destination ${SERVER}:83`,
    ...(v === 'masquerade' ? ['-A POSTROUTING -o eth1 -j MASQUERADE'] : []),
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ...(v === 'established' ? [] : ['-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT']),
    '-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    '-A FORWARD -p udp -m udp --dport 56 -j REJECT --reject-with icmp-port-unreachable',
    '-A FORWARD -p udp -m udp --dport 57 -j REJECT --reject-with icmp-host-prohibited',
    '-A FORWARD -p tcp -m tcp --dport 83 -j REJECT --reject-with tcp-reset',
    '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
    '-A OUTPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT',
    '-A OUTPUT -p icmp -m conntrack --ctstate INVALID -j ACCEPT',
    'COMMIT',
    '',
  ].join('\n');
}

// The client accepts everything; its counters say how its conntrack saw what came back.
const CLIENT_RULES = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT',
  '-A INPUT -p icmp -m conntrack --ctstate INVALID -j ACCEPT',
  '-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
  'COMMIT',
  '',
].join('\n');

const SERVER_RULES = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -m conntrack --ctstate NEW -j ACCEPT',
  '-A OUTPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT',
  'COMMIT',
  '',
].join('\n');

function lab(v: Variant): LabDoc {
  return labDoc({
    hosts: {
      client: { links: [`eth0 lan1 ${CLIENT}/24`], routes: ['default via 10.0.1.1'] },
      router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward: true, routes: ['unreachable 10.0.8.0/24', 'prohibit 10.0.7.0/24', 'blackhole 10.0.6.0/24'] },
      server: { links: [`eth0 lan2 ${SERVER}/24`], routes: ['default via 10.0.2.1'] },
    },
    journal: [
      ['client', ['iptables-restore'], CLIENT_RULES],
      ['router', ['iptables-restore'], routerRules(v)],
      ['server', ['iptables-restore'], SERVER_RULES],
    ],
  });
}

/** Zero the counters once the links are quiet (see zeroWhenQuiet). */
async function zeroCounters(kernel: KernelLab): Promise<void> {
  await zeroWhenQuiet(kernel, HOSTS);
}

/** Conntrack and counters of every host. */
async function compareTables(what: string, kernel: KernelLab, engine: Lab): Promise<void> {
  await compareHostTables(what, kernel, engine, { hosts: HOSTS });
}

/** One probe on the kernel: the client's verdict line and the ICMP errors its listener printed
 *  meanwhile. */
async function kernelProbe(client: Session, line: string): Promise<{ verdict: string; icmp: string[] }> {
  const [proto, , , sport] = line.split(' ');
  const from = client.lines.length;
  client.send(line);
  const verdict = await client.waitLine(new RegExp(`^${proto} ${sport} `), 5000, from);
  // an error that made the socket report arrived before the report; give a quiet one a moment
  await new Promise((r) => setTimeout(r, 100));
  return { verdict: verdict.split(' ').slice(2).join(' '), icmp: client.lines.slice(from).filter((l) => l.startsWith('icmp ')) };
}

/** The engine's error as the listener would print it (the quote is not in the trace JSON: see
 *  the client's counters for whether it was un-NATed), or null when none reached the client. */
function engineIcmp(j: TraceJson): string | null {
  const r = j.reply;
  if (!r || r.outcome !== 'delivered' || r.delivered?.host !== 'client' || !r.final.icmp) return null;
  return `icmp ${r.final.icmp.type} ${r.final.icmp.code} ${r.final.src} ${r.final.dst}`;
}

interface Probe {
  what: string;
  line: string;
  /** What the client's socket said on the kernel. */
  verdict: string;
  /** The error the listener printed, quote included (null: none reached the client). */
  icmp: string | null;
}

async function runProbes(v: Variant, probes: (kernel: KernelLab) => Probe[]): Promise<void> {
  const doc = lab(v);
  const kernel = await buildKernelLab(doc);
  let client: Session | undefined;
  try {
    client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, [LISTEN]);
    await client.waitLine(/^ready$/, 10_000);
    await zeroCounters(kernel);
    const engine = Lab.fromDoc(doc);
    for (const p of probes(kernel)) {
      const k = await kernelProbe(client, p.line);
      const [proto, to, port, sport] = p.line.split(' ');
      const j = engine.trace({ from: 'client', to: `${to}:${port}`, proto: proto as 'udp' | 'tcp', sport: Number(sport), keep: true }).json as TraceJson;
      const dump = `${v}: ${p.what}\nkernel: ${k.verdict}\n${k.icmp.join('\n')}\nengine: ${j.outcome} (${j.reason}); reply ${j.reply ? `${j.reply.outcome} (${j.reply.reason}) ${JSON.stringify(j.reply.final)}` : 'none'}`;
      assert.equal(k.verdict, p.verdict, `the kernel's socket\n${dump}`);
      assert.deepEqual(k.icmp, p.icmp === null ? [] : [p.icmp], `what reached the kernel's client\n${dump}`);
      if (proto === 'udp') {
        const e = engineIcmp(j);
        assert.equal(e, p.icmp === null ? null : p.icmp.split(' ').slice(0, 5).join(' '), `the engine's error at the client\n${dump}`);
      } else {
        const rst = j.reply && j.reply.outcome === 'delivered' && j.reply.delivered?.host === 'client' ? `${j.reply.final.flags} from ${j.reply.final.src}:${j.reply.final.sport}` : 'none';
        assert.equal(rst, `RST,ACK from ${VIP}:${port}`, `the engine's reset\n${dump}`);
      }
      await compareTables(`${v}: ${p.what}`, kernel, engine);
    }
  } finally {
    client?.stop();
    await kernel.destroy();
  }
}

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

/** The server's port unreachable for a datagram to a closed port behind the DNAT. */
const closedPort = (v: Variant): Probe => ({
  what: 'udp to a closed port behind the DNAT',
  line: `udp ${VIP} 5354 43000`,
  ...(v === 'established'
    ? { verdict: 'quiet', icmp: null }
    : { verdict: 'error ECONNREFUSED', icmp: `icmp 3 3 ${VIP} ${CLIENT} 60 quote udp ${CLIENT}:43000 ${VIP}:5354` }),
});

/** REJECT icmp-port-unreachable on the router's FORWARD, after the DNAT (before any SNAT): the
 *  router's error leaves from its address on the client's side, 10.0.1.1, and is un-DNATed in
 *  its POSTROUTING like any error of the connection. */
const rejectPort: Probe = {
  what: 'REJECT icmp-port-unreachable on the router\'s FORWARD after the DNAT',
  line: `udp ${VIP} 5356 43001`,
  verdict: 'error ECONNREFUSED',
  icmp: `icmp 3 3 ${VIP} ${CLIENT} 60 quote udp ${CLIENT}:43001 ${VIP}:5356`,
};

test('a closed UDP port behind DNAT, FORWARD accepting RELATED: the server\'s port unreachable un-DNATed (outer source and quote); REJECT icmp-* on the router; no route, unreachable, prohibit and blackhole routes', async () => {
  await runProbes('related', () => [
    closedPort('related'),
    rejectPort,
    {
      what: 'REJECT icmp-host-prohibited on the router\'s FORWARD after the DNAT',
      line: `udp ${VIP} 5357 43002`,
      verdict: 'error EHOSTUNREACH',
      icmp: `icmp 3 10 ${VIP} ${CLIENT} 60 quote udp ${CLIENT}:43002 ${VIP}:5357`,
    },
    // ip_error: net unreachable (code 0) and host unreachable (1) are no hard errors for a UDP
    // socket (udp_err without IP_RECVERR), a filtered one (13) is
    {
      what: 'no route on the router',
      line: 'udp 10.0.9.9 5000 43004',
      verdict: 'quiet',
      icmp: `icmp 3 0 10.0.1.1 ${CLIENT} 60 quote udp ${CLIENT}:43004 10.0.9.9:5000`,
    },
    {
      what: 'an unreachable route on the router',
      line: 'udp 10.0.8.8 5000 43005',
      verdict: 'quiet',
      icmp: `icmp 3 1 10.0.1.1 ${CLIENT} 60 quote udp ${CLIENT}:43005 10.0.8.8:5000`,
    },
    {
      what: 'a prohibit route on the router',
      line: 'udp 10.0.7.7 5000 43006',
      verdict: 'error EHOSTUNREACH',
      icmp: `icmp 3 13 10.0.1.1 ${CLIENT} 60 quote udp ${CLIENT}:43006 10.0.7.7:5000`,
    },
    {
      what: 'a blackhole route on the router',
      line: 'udp 10.0.6.6 5000 43007',
      verdict: 'quiet',
      icmp: null,
    },
  ]);
});

test('FORWARD accepting only ESTABLISHED: the server\'s port unreachable is dropped by the router (RELATED), the router\'s own REJECT error still leaves', async () => {
  await runProbes('established', () => [closedPort('established'), rejectPort]);
});

test('DNAT and MASQUERADE: the port unreachable comes back to the router\'s address and is un-SNATed to the client (outer destination and quoted source) and un-DNATed', async () => {
  await runProbes('masquerade', () => [closedPort('masquerade'), rejectPort]);
});

// REJECT --reject-with tcp-reset: nf_send_reset attaches the RST to the SYN's (unconfirmed) entry
// as RELATED; the router un-DNATs it (the client's connect fails with ECONNREFUSED) and, the
// entry's source manip not being set up yet, walks nat POSTROUTING for it (its policy counts the
// RST's 40 bytes).
test('REJECT --reject-with tcp-reset on the router\'s FORWARD after the DNAT', async () => {
  await runProbes('related', () => [
    {
      what: 'REJECT tcp-reset on the router\'s FORWARD after the DNAT',
      line: `tcp ${VIP} 8083 43003`,
      verdict: 'error ECONNREFUSED',
      icmp: null,
    },
  ]);
});

// TTL: a datagram sent with TTL 1 to the virtual address (DNATed to the closed port) reaches the
// router, which must forward it: the kernel answers with time exceeded (type 11 code 0) from
// 10.0.1.1, un-DNATed like the REJECT errors. A trace cannot set the first packet's TTL: the
// engine side walks the packet directly.
test('a datagram with TTL 1 that the router must forward: ICMP time exceeded', async () => {
  const doc = lab('related');
  const kernel = await buildKernelLab(doc);
  let client: Session | undefined;
  try {
    client = startSession(kernel.hostNamespaces.get('client')!, CLIENT_SCRIPT, [LISTEN]);
    await client.waitLine(/^ready$/, 10_000);
    const k = await kernelProbe(client, `udp ${VIP} 5354 43010 1`);
    assert.deepEqual(k.icmp, [`icmp 11 0 ${VIP} ${CLIENT} 60 quote udp ${CLIENT}:43010 ${VIP}:5354`], k.verdict);
    const engine = Lab.fromDoc(doc);
    const pkt = { src: parseIPv4(CLIENT)!, dst: parseIPv4(VIP)!, proto: PROTO.udp, sport: 43010, dport: 5354, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 1, len: 32, mark: 0 };
    const w = walkPacket(engine, { host: 'client', pkt }, { now: 0 });
    assert.equal(w.outcome, 'dropped', w.reason);
    const back = answerFor(w, pkt);
    assert.deepEqual(back && { type: back.pkt.icmpType, code: back.pkt.icmpCode }, { type: 11, code: 0 }, `the engine's answer to TTL 1 on the router (${w.reason})`);
  } finally {
    client?.stop();
    await kernel.destroy();
  }
});
