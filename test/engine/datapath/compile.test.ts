// The walk runs rules compiled once (matches/compile.ts); the modules' own `match` functions
// and the core-field test are the reference. Random rules of every module the compiler writes
// out (and some it hands to the module) meet random packets, interfaces and conntrack views:
// the compiled test must name the same first failing test as the reference, every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../main/engine/host.ts';
import { compileRule, CORE, PASS } from '../../../main/engine/netfilter/matches/compile.ts';
import { MATCHES } from '../../../main/engine/netfilter/matches/index.ts';
import { coreMatches } from '../../../main/engine/datapath/traverse.ts';
import { iptablesRestore } from '../../../main/engine/shell/iptables.ts';
import { ipset } from '../../../main/engine/shell/ipset.ts';
import { PROTO, type CtStatusBit, type CtView, type MatchCtx, type Packet, type Rule } from '../../../main/engine/netfilter/types.ts';
import { Rng } from '../../../main/engine/random.ts';

const lab = { now: () => 0, random: () => 0.5, chance: () => true, seed: 1 };

/** The reference: core fields, then each module's own match, in order. */
function reference(r: Rule, ctx: MatchCtx): number {
  if (!coreMatches(r, ctx)) return CORE;
  for (let m = 0; m < r.matches.length; m++) {
    const mod = MATCHES.get(r.matches[m].module);
    if (!mod || !mod.match(r.matches[m].data, ctx)) return m;
  }
  return PASS;
}

const ADDRS = ['10.0.0.1', '10.0.0.2', '10.0.1.7', '192.168.1.5'];
const NUM: Record<string, number> = { '10.0.0.1': 0x0a000001, '10.0.0.2': 0x0a000002, '10.0.1.7': 0x0a000107, '192.168.1.5': 0xc0a80105 };
const IFACES = ['eth0', 'eth1', 'cali123', 'cali9', 'tunl0'];

function randomRule(rng: Rng): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const maybe = (p: number) => rng.next() < p;
  const bang = () => (maybe(0.25) ? '! ' : '');
  const parts = ['-A X'];
  if (maybe(0.3)) parts.push(`${bang()}-s ${pick(ADDRS)}/${pick([8, 24, 32])}`);
  if (maybe(0.3)) parts.push(`${bang()}-d ${pick(ADDRS)}/${pick([16, 24, 32])}`);
  if (maybe(0.3)) parts.push(`${bang()}-i ${pick(['eth0', 'cali+', 'cali123', 'tunl0'])}`);
  if (maybe(0.2)) parts.push(`${bang()}-o ${pick(['eth1', 'cali+', 'eth+'])}`);
  if (maybe(0.05)) parts.push(`${bang()}-f`);
  const proto = pick(['tcp', 'udp', 'icmp', null, null]);
  if (proto) parts.push(`${maybe(0.1) ? '! ' : ''}-p ${proto}`);
  const n = Math.floor(rng.next() * 4);
  for (let k = 0; k < n; k++) {
    const m = rng.next();
    if (m < 0.15 && proto === 'tcp' && !parts.some((p) => p.startsWith('-m tcp'))) {
      const o: string[] = [];
      if (maybe(0.5)) o.push(`${bang()}--dport ${pick(['80', '443', '1000:2000', '53'])}`);
      if (maybe(0.4)) o.push(`${bang()}--sport ${pick(['40000', '1024:65535', '80'])}`);
      if (maybe(0.3)) o.push(`${bang()}--tcp-flags ${pick(['SYN,ACK SYN', 'RST RST', 'FIN,SYN,RST,ACK SYN'])}`);
      if (maybe(0.1)) o.push(`${bang()}--tcp-option 2`);
      parts.push(`-m tcp ${o.join(' ')}`);
    } else if (m < 0.25 && proto === 'udp' && !parts.some((p) => p.startsWith('-m udp'))) {
      parts.push(`-m udp ${bang()}--dport ${pick(['53', '80', '1:1000'])}${maybe(0.4) ? ` ${bang()}--sport ${pick(['53', '40000'])}` : ''}`);
    } else if (m < 0.35) parts.push(`-m mark ${bang()}--mark ${pick(['0x1', '0x0/0x20000', '0x10000/0x10000', '0x2/0xff'])}`);
    else if (m < 0.5) {
      const o = pick([
        `${bang()}--ctstate ${pick(['NEW', 'RELATED,ESTABLISHED', 'INVALID', 'UNTRACKED', 'DNAT', 'SNAT,NEW'])}`,
        `--ctstatus ${pick(['ASSURED', 'SEEN_REPLY', 'CONFIRMED'])}`,
        `--ctdir ${pick(['ORIGINAL', 'REPLY'])}`,
        `${bang()}--ctorigdst ${pick(ADDRS)}`,
        `--ctstate NEW ${bang()}--ctproto ${pick(['6', '17'])}`,
      ]);
      parts.push(`-m conntrack ${o}`);
    } else if (m < 0.55) parts.push(`-m state ${bang()}--state ${pick(['NEW', 'ESTABLISHED,RELATED'])}`);
    else if (m < 0.65) parts.push(`-m comment --comment "c${k}"`);
    else if (m < 0.8) parts.push(`-m set ${bang()}--match-set ${pick(['ips', 'nets'])} ${pick(['src', 'dst'])}`);
    else if (m < 0.85 && (proto === 'tcp' || proto === 'udp')) parts.push(`-m multiport ${bang()}--dports ${pick(['80,443', '53,1000:1010'])}`);
    else if (m < 0.9) parts.push(`-m addrtype ${bang()}--dst-type ${pick(['LOCAL', 'UNICAST'])}`);
    else if (m < 0.95 && proto === 'icmp') parts.push(`-m icmp ${bang()}--icmp-type ${pick(['8', '0', '3/3'])}`);
    else parts.push(`-m statistic --mode random --probability 0.5`);
  }
  parts.push(pick(['-j ACCEPT', '-j DROP', '-j RETURN', '']));
  return parts.join(' ');
}

function randomCtx(rng: Rng, host: Host): MatchCtx {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)];
  const proto = pick([PROTO.tcp, PROTO.udp, PROTO.icmp, PROTO.sctp]);
  const pkt: Packet = {
    src: NUM[pick(ADDRS)], dst: NUM[pick(ADDRS)], proto,
    sport: pick([40000, 80, 53, 1500]), dport: pick([80, 443, 53, 1500, 8080]),
    tcpFlags: pick([2, 0x12, 0x10, 4, 0x14, 1]), icmpType: pick([8, 0, 3]), icmpCode: pick([0, 3]), icmpId: 7,
    ttl: 64, len: 60, mark: pick([0, 1, 2, 0x10000, 0x20000, 0x30001]),
  };
  const t = { src: pkt.src, dst: pkt.dst, proto, sport: pkt.sport, dport: pkt.dport };
  const status = new Set<CtStatusBit>((['SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'SNAT', 'DNAT'] as const).filter(() => rng.next() < 0.4));
  const ct: CtView | null = pick([
    null,
    { state: 'NEW', dir: 'ORIGINAL', orig: t, reply: { ...t, src: t.dst, dst: t.src }, status, mark: 0, expires: 30 },
    { state: 'ESTABLISHED', dir: pick(['ORIGINAL', 'REPLY'] as const), orig: t, reply: { ...t, src: t.dst, dst: t.src }, status, mark: 1, expires: 100 },
    { state: 'RELATED', dir: 'ORIGINAL', orig: t, reply: t, status, mark: 0, expires: 5 },
    { state: 'INVALID', dir: 'ORIGINAL', orig: t, reply: t, status: new Set(), mark: 0, expires: 0 },
    { state: 'UNTRACKED', dir: 'ORIGINAL', orig: t, reply: t, status: new Set(), mark: 0, expires: 0 },
  ] as (CtView | null)[]);
  return { hook: 'FORWARD', table: 'filter', inIface: pick([...IFACES, undefined]), outIface: pick([...IFACES, undefined]), pkt, ct, host: host.env, rule: undefined as never };
}

test('compiled rules name the same first failing test as the modules, on random rules and packets', () => {
  const rng = new Rng(7);
  const host = new Host('h', [], lab);
  for (const line of ['create ips hash:ip', 'add ips 10.0.0.1', 'add ips 192.168.1.5', 'create nets hash:net', 'add nets 10.0.0.0/24']) {
    const r = ipset(['ipset', ...line.split(' ')], '', host.ipsets);
    assert.equal(r.code, 0, r.stderr);
  }
  host.nf.setExists = (n) => host.ipsets.exists(n);
  const lines = Array.from({ length: 600 }, () => randomRule(rng));
  const r = iptablesRestore(['iptables-restore'], ['*filter', ':X - [0:0]', ...lines, 'COMMIT', ''].join('\n'), host.nf);
  assert.equal(r.code, 0, r.stderr);
  const rules = host.nf.chain('filter', 'X')!.rules;
  assert.equal(rules.length, 600);
  const seen = new Set<number>();
  for (const rule of rules) {
    const compiled = compileRule(rule);
    for (let i = 0; i < 40; i++) {
      const ctx = randomCtx(rng, host);
      ctx.rule = rule;
      const want = reference(rule, ctx);
      assert.equal(compiled(ctx), want, `${lines[rules.indexOf(rule)]} on ${JSON.stringify({ ...ctx, host: undefined, rule: undefined, ct: ctx.ct && { ...ctx.ct, status: [...ctx.ct.status] } })}`);
      seen.add(want);
    }
  }
  // every outcome happened: passes, core misses and misses at several positions
  for (const v of [PASS, CORE, 0, 1, 2]) assert.ok(seen.has(v), `outcome ${v} never seen`);
});
