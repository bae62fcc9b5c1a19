import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCP } from '../../../main/engine/netfilter/types.ts';
import { newTcpTrack, tcpFlagsValid, tcpNewState, tcpPacket, tcpTransition } from '../../../main/engine/conntrack/tcp-state.ts';
import type { TcpTrack } from '../../../main/engine/conntrack/tcp-state.ts';
import type { Dir } from '../../../main/engine/conntrack/tuple.ts';

const { SYN, ACK, FIN, RST, PSH, URG } = TCP;

function run(t: TcpTrack, steps: [Dir, number][], seenReplyAfterFirst = true) {
  let seen = false;
  return steps.map(([dir, flags]) => {
    const r = tcpPacket(t, { dir, flags, seenReply: seen, assured: false });
    if (dir === 'REPLY' && seenReplyAfterFirst) seen = true;
    return [r.kind, t.state] as const;
  });
}

test('flag combinations tcp_error() accepts', () => {
  for (const f of [SYN, SYN | ACK, ACK, FIN | ACK, RST, RST | ACK, PSH | ACK, SYN | URG, ACK | URG]) assert.ok(tcpFlagsValid(f), `flags ${f}`);
  for (const f of [0, FIN, SYN | FIN, SYN | RST, FIN | RST, FIN | PSH]) assert.equal(tcpFlagsValid(f), false, `flags ${f}`);
});

test('first packets: only SYN (and ACK with loose pickup) may open a connection', () => {
  assert.deepEqual(tcpNewState(SYN, true), { ok: true });
  assert.deepEqual(tcpNewState(ACK, true), { ok: true });
  assert.equal(tcpNewState(ACK, false).ok, false);
  assert.equal(tcpNewState(SYN | ACK, true).ok, false);
  assert.equal(tcpNewState(RST, true).ok, false);
  assert.equal(tcpNewState(FIN | ACK, true).ok, false);
});

test('the table: a few cells straight from nf_conntrack_proto_tcp', () => {
  assert.equal(tcpTransition('ORIGINAL', 'SYN', 'NONE'), 'SYN_SENT');
  assert.equal(tcpTransition('REPLY', 'SYNACK', 'SYN_SENT'), 'SYN_RECV');
  assert.equal(tcpTransition('ORIGINAL', 'ACK', 'SYN_RECV'), 'ESTABLISHED');
  assert.equal(tcpTransition('REPLY', 'ACK', 'SYN_SENT'), 'IG');
  assert.equal(tcpTransition('ORIGINAL', 'SYNACK', 'ESTABLISHED'), 'IV');
  assert.equal(tcpTransition('REPLY', 'SYN', 'TIME_WAIT'), 'SYN_SENT');
  assert.equal(tcpTransition('ORIGINAL', 'RST', 'NONE'), 'IV');
});

test('simultaneous open goes through SYN_SENT2 to ESTABLISHED', () => {
  const t = newTcpTrack();
  const states = run(t, [['ORIGINAL', SYN], ['REPLY', SYN], ['ORIGINAL', SYN | ACK], ['REPLY', ACK]], false).map((x) => x[1]);
  assert.deepEqual(states, ['SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'ESTABLISHED']);
});

test('reset connections: RST closes with the 10 s timeout; a client SYN after its own RST reopens', () => {
  const t = newTcpTrack();
  run(t, [['ORIGINAL', SYN], ['REPLY', SYN | ACK], ['ORIGINAL', ACK]]);
  const r = tcpPacket(t, { dir: 'ORIGINAL', flags: RST | ACK, seenReply: true, assured: true });
  assert.deepEqual(r, { kind: 'accept', timeout: 10, assure: false, kill: false });
  assert.equal(t.state, 'CLOSE');
  assert.equal(tcpPacket(t, { dir: 'ORIGINAL', flags: SYN, seenReply: true, assured: true }).kind, 'repeat');
  // after a RST from the server instead, the client's SYN is only ignored (no close init)
  const u = newTcpTrack();
  run(u, [['ORIGINAL', SYN], ['REPLY', SYN | ACK], ['ORIGINAL', ACK], ['REPLY', RST]]);
  assert.equal(tcpPacket(u, { dir: 'ORIGINAL', flags: SYN, seenReply: true, assured: true }).kind, 'ignore');
  // ... and the server's SYN/ACK answering it resyncs the entry
  assert.equal(tcpPacket(u, { dir: 'REPLY', flags: SYN | ACK, seenReply: true, assured: true }).kind, 'accept');
  assert.equal(u.state, 'SYN_RECV');
});

test('ASSURED comes with the ACK that completes the handshake', () => {
  const t = newTcpTrack();
  assert.equal(tcpPacket(t, { dir: 'ORIGINAL', flags: SYN, seenReply: false, assured: false }).kind, 'accept');
  const sa = tcpPacket(t, { dir: 'REPLY', flags: SYN | ACK, seenReply: false, assured: false });
  assert.deepEqual(sa, { kind: 'accept', timeout: 60, assure: false, kill: false });
  const a = tcpPacket(t, { dir: 'ORIGINAL', flags: ACK, seenReply: true, assured: false });
  assert.deepEqual(a, { kind: 'accept', timeout: 432000, assure: true, kill: false });
});
