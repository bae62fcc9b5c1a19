// The core match and target modules against packets: what each matches (as the kernel's
// xt_* code decides), the reason it gives for a miss, and what the targets tell the walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../../main/engine/netfilter/parse.ts';
import { MATCHES } from '../../../main/engine/netfilter/matches/index.ts';
import { TARGETS } from '../../../main/engine/netfilter/targets/index.ts';
import { probabilityText } from '../../../main/engine/netfilter/matches/statistic.ts';
import { parseIPv4 } from '../../../main/engine/net/ipv4.ts';
import { words } from './sessions-data.ts';
import type {
  AddrType, CtState, CtStatusBit, CtView, HostEnv, MatchCtx, Packet, Rule, TableName, TargetCtx, TargetResult,
} from '../../../main/engine/netfilter/types.ts';

const ip = (s: string) => parseIPv4(s)!;

function rule(spec: string, table: TableName = 'filter'): Rule {
  return parseArgs(['-A', 'X', ...words(spec)], { mode: 'command', table }).rules[0];
}

function packet(p: Partial<Packet> = {}): Packet {
  return {
    src: ip('10.0.0.1'), dst: ip('10.0.0.2'), proto: 6, sport: 40000, dport: 80, tcpFlags: 0x02, icmpType: 0,
    icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0, ...p,
  };
}

interface FakeHost extends HostEnv {
  draws: number[];
  state: Map<string, unknown>;
}

function host(opts: { types?: Record<string, AddrType>; draws?: number[] } = {}): FakeHost {
  const state = new Map<string, unknown>();
  const draws = [...(opts.draws ?? [])];
  return {
    draws,
    state,
    addrType: (addr, iface) => opts.types?.[`${addr}${iface ? '@' + iface : ''}`] ?? opts.types?.[String(addr)] ?? 'UNICAST',
    ipsetTest: () => undefined,
    random: () => draws.shift() ?? 0.99,
    ruleState<T>(_r: Rule, key: string, init: () => T): T {
      if (!state.has(key)) state.set(key, init());
      return state.get(key) as T;
    },
    recent: { get: () => undefined, set: () => undefined, remove: () => undefined },
    now: () => 0,
  };
}

function ct(state: CtState, extra: Partial<CtView> = {}, status: CtStatusBit[] = []): CtView {
  const orig = { src: ip('10.0.0.1'), dst: ip('10.96.0.10'), proto: 6, sport: 40000, dport: 80 };
  const reply = { src: ip('10.244.1.5'), dst: ip('10.0.0.1'), proto: 6, sport: 8080, dport: 40000 };
  return { state, dir: 'ORIGINAL', orig, reply, status: new Set(status), mark: 0, expires: 100, ...extra };
}

function ctxFor(r: Rule, p: Packet, h: HostEnv = host(), c: CtView | null = null, over: Partial<MatchCtx> = {}): MatchCtx {
  return { hook: 'INPUT', table: 'filter', inIface: 'eth0', pkt: p, ct: c, host: h, rule: r, ...over };
}

/** Whether every match of the rule accepts the packet. */
function matches(spec: string, p: Packet, h?: HostEnv, c?: CtView | null, over?: Partial<MatchCtx>): boolean {
  const r = rule(spec);
  const ctx = ctxFor(r, p, h, c ?? null, over);
  return r.matches.every((m) => MATCHES.get(m.module)!.match(m.data as never, ctx));
}

function why(spec: string, p: Packet, c: CtView | null = null): string {
  const r = rule(spec);
  const ctx = ctxFor(r, p, host(), c);
  const m = r.matches.find((x) => !MATCHES.get(x.module)!.match(x.data as never, ctx))!;
  return MATCHES.get(m.module)!.why(m.data as never, ctx);
}

function apply(spec: string, p: Packet, table: TableName = 'filter'): { res: TargetResult; logs: string[]; p: Packet } {
  const r = rule(spec, table);
  const logs: string[] = [];
  const ctx: TargetCtx = { ...ctxFor(r, p), table, log: (l) => logs.push(l) };
  const res = TARGETS.get(r.target!.name)!.apply(r.target!.data as never, ctx);
  return { res, logs, p };
}

test('tcp: ports, ranges, inversion and flags', () => {
  assert.equal(matches('-p tcp --dport 80', packet()), true);
  assert.equal(matches('-p tcp --dport 443', packet()), false);
  assert.equal(matches('-p tcp ! --dport 443', packet()), true);
  assert.equal(matches('-p tcp --sport 1024:65535 --dport 1:100', packet()), true);
  assert.equal(matches('-p tcp --syn', packet({ tcpFlags: 0x02 })), true);
  assert.equal(matches('-p tcp --syn', packet({ tcpFlags: 0x12 })), false);
  assert.equal(matches('-p tcp ! --syn', packet({ tcpFlags: 0x10 })), true);
  assert.equal(matches('-p tcp --tcp-flags ALL NONE', packet({ tcpFlags: 0 })), true);
  assert.equal(matches('-p tcp --dport 80', packet({ proto: 17 })), false);
  assert.equal(why('-p tcp --dport 443', packet()), 'dpt 80 != 443');
  assert.equal(why('-p tcp ! --sport 40000', packet()), 'spt 40000 == 40000');
  assert.equal(MATCHES.get('tcp')!.exactDport!(rule('-p tcp --dport 80').matches[0].data as never), 80);
  assert.equal(MATCHES.get('tcp')!.exactDport!(rule('-p tcp ! --dport 80').matches[0].data as never), undefined);
});

test('udp and multiport', () => {
  const p = packet({ proto: 17, sport: 5353, dport: 53 });
  assert.equal(matches('-p udp --dport 53', p), true);
  assert.equal(matches('-p udp --sport 53', p), false);
  assert.equal(matches('-p udp -m multiport --dports 22,53,80:90', p), true);
  assert.equal(matches('-p udp -m multiport --dports 80:90', p), false);
  assert.equal(matches('-p udp -m multiport ! --dports 80:90', p), true);
  assert.equal(matches('-p udp -m multiport --ports 5353', p), true);
  assert.equal(matches('-p udp -m multiport --sports 53', p), false);
  assert.equal(why('-p udp -m multiport --dports 80:90,443', p), 'dpt 53 not in 80:90,443');
});

test('icmp: names, codes, any', () => {
  const echo = packet({ proto: 1, icmpType: 8, icmpCode: 0 });
  const portUnreach = packet({ proto: 1, icmpType: 3, icmpCode: 3 });
  assert.equal(matches('-p icmp --icmp-type echo-request', echo), true);
  assert.equal(matches('-p icmp --icmp-type 8', echo), true);
  assert.equal(matches('-p icmp --icmp-type destination-unreachable', portUnreach), true);
  assert.equal(matches('-p icmp --icmp-type 3/1', portUnreach), false);
  assert.equal(matches('-p icmp --icmp-type any', portUnreach), true);
  assert.equal(matches('-p icmp ! --icmp-type echo-request', portUnreach), true);
});

test('mark, comment', () => {
  assert.equal(matches('-m mark --mark 0x4000/0x4000', packet({ mark: 0x4001 })), true);
  assert.equal(matches('-m mark ! --mark 0x4000/0x4000', packet({ mark: 0x4001 })), false);
  assert.equal(matches('-m mark --mark 1', packet({ mark: 0x4001 })), false);
  assert.equal(matches('-m comment --comment anything', packet()), true);
});

test('statistic random draws from the host, nth counts per rule from --packet', () => {
  assert.equal(matches('-m statistic --mode random --probability 0.5', packet(), host({ draws: [0.49] })), true);
  assert.equal(matches('-m statistic --mode random --probability 0.5', packet(), host({ draws: [0.51] })), false);
  assert.equal(matches('-m statistic --mode random ! --probability 0.5', packet(), host({ draws: [0.51] })), true);
  // A walk that enumerates outcomes decides through chance().
  const h = host();
  const seen: number[] = [];
  h.chance = (p) => (seen.push(p), true);
  assert.equal(matches('-m statistic --mode random --probability 0.3333333333', packet(), h), true);
  assert.equal(probabilityText(Math.round(seen[0] * 2 ** 31)), '0.33333333349');
  // nth: --every 3 --packet 0 matches packets 1, 4, 7; --packet 2 matches 3, 6, ...
  for (const [pk, want] of [[0, [true, false, false, true]], [2, [false, false, true, false]]] as const) {
    const r = rule(`-m statistic --mode nth --every 3 --packet ${pk}`);
    const hh = host();
    const got = [0, 1, 2, 3].map(() => MATCHES.get('statistic')!.match(r.matches[0].data as never, ctxFor(r, packet(), hh)));
    assert.deepEqual(got, want, `--packet ${pk}`);
  }
});

test('statistic prints probabilities as the kernel keeps them, ties to even like printf', () => {
  assert.equal(probabilityText(2 ** 30), '0.50000000000');
  assert.equal(probabilityText(2 ** 31), '1.00000000000');
  assert.equal(probabilityText(0), '0.00000000000');
  assert.equal(probabilityText(Math.round(0.2 * 2 ** 31)), '0.20000000019');
  // 2^-12 = 0.000244140625 exactly: a tie at the 11th decimal, printf rounds to even.
  assert.equal(probabilityText(2 ** 19), '0.00024414062');
});

test('addrtype asks the host, per interface with --limit-iface-*', () => {
  const types = { [String(ip('10.0.0.2'))]: 'LOCAL' as AddrType, [`${ip('10.0.0.2')}@eth1`]: 'UNICAST' as AddrType };
  assert.equal(matches('-m addrtype --dst-type LOCAL', packet(), host({ types })), true);
  assert.equal(matches('-m addrtype ! --dst-type LOCAL', packet(), host({ types })), false);
  assert.equal(matches('-m addrtype --src-type LOCAL', packet(), host({ types })), false);
  assert.equal(
    matches('-m addrtype --dst-type LOCAL --limit-iface-in', packet(), host({ types }), null, { inIface: 'eth1' }),
    false,
  );
  assert.equal(why('-m addrtype --src-type LOCAL', packet()), 'src 10.0.0.1 is UNICAST');
});

test('conntrack and state read the packet\'s entry', () => {
  const est = ct('ESTABLISHED', {}, ['SEEN_REPLY', 'ASSURED', 'DNAT']);
  assert.equal(matches('-m conntrack --ctstate RELATED,ESTABLISHED', packet(), undefined, est), true);
  assert.equal(matches('-m conntrack --ctstate DNAT', packet(), undefined, est), true);
  assert.equal(matches('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', packet(), undefined, est), false);
  assert.equal(matches('-m conntrack --ctstate INVALID', packet(), undefined, null), true);
  assert.equal(matches('-m conntrack --ctstate NEW', packet(), undefined, ct('NEW')), true);
  assert.equal(matches('-m conntrack --ctorigdst 10.96.0.0/12 --ctorigdstport 80', packet(), undefined, est), true);
  assert.equal(matches('-m conntrack --ctreplsrc 10.244.0.0/16 --ctreplsrcport 8080', packet(), undefined, est), true);
  assert.equal(matches('-m conntrack --ctstatus ASSURED --ctproto tcp', packet(), undefined, est), true);
  assert.equal(matches('-m conntrack --ctstatus EXPECTED', packet(), undefined, est), false);
  assert.equal(matches('-m conntrack --ctdir REPLY', packet(), undefined, est), false);
  assert.equal(matches('-m conntrack --ctexpire 50:200', packet(), undefined, est), true);
  // Without an entry only a state test can match.
  assert.equal(matches('-m conntrack --ctproto tcp', packet(), undefined, null), false);
  assert.equal(matches('-m state --state NEW,ESTABLISHED', packet(), undefined, est), true);
  assert.equal(matches('-m state ! --state INVALID', packet(), undefined, null), false);
  assert.equal(matches('-m state --state UNTRACKED', packet(), undefined, ct('UNTRACKED')), true);
  assert.equal(why('-m conntrack --ctstate NEW', packet(), est), 'ctstate ESTABLISHED,DNAT');
});

test('MARK sets (mark & ~mask) ^ value and continues', () => {
  const cases: [string, number, number][] = [
    ['--set-mark 0x10', 0xff, 0x10],
    ['--set-mark 0x10/0xf0', 0xff, 0x1f],
    ['--or-mark 0x4000', 0x1, 0x4001],
    ['--xor-mark 0x4000', 0x4001, 0x1],
    ['--and-mark 0xff', 0x1234, 0x34],
    ['--set-xmark 0x0/0xe0000', 0xf0001, 0x10001],
  ];
  for (const [opts, before, after] of cases) {
    const { res, p } = apply(`-j MARK ${opts}`, packet({ mark: before }), 'mangle');
    assert.deepEqual(res, { kind: 'continue' });
    assert.equal(p.mark, after, opts);
  }
});

test('DNAT, SNAT and MASQUERADE ask the walk for a NAT binding', () => {
  assert.deepEqual(apply('-p tcp -j DNAT --to-destination 10.244.1.5:8080', packet(), 'nat').res, {
    kind: 'nat',
    nat: { kind: 'dnat', minIp: ip('10.244.1.5'), maxIp: ip('10.244.1.5'), minPort: 8080, maxPort: 8080, random: false, randomFully: false, persistent: false },
  });
  assert.deepEqual(apply('-p tcp -j DNAT --to-destination :80', packet(), 'nat').res, {
    kind: 'nat',
    nat: { kind: 'dnat', minIp: undefined, maxIp: undefined, minPort: 80, maxPort: 80, random: false, randomFully: false, persistent: false },
  });
  assert.deepEqual(apply('-j SNAT --to-source 192.0.2.1-192.0.2.9 --random-fully --persistent', packet(), 'nat').res, {
    kind: 'nat',
    nat: { kind: 'snat', minIp: ip('192.0.2.1'), maxIp: ip('192.0.2.9'), minPort: undefined, maxPort: undefined, random: false, randomFully: true, persistent: true },
  });
  assert.deepEqual(apply('-p udp -j MASQUERADE --to-ports 1000-2000 --random', packet(), 'nat').res, {
    kind: 'nat',
    nat: { kind: 'masquerade', minPort: 1000, maxPort: 2000, random: true, randomFully: false, persistent: false },
  });
});

test('REJECT and LOG', () => {
  assert.deepEqual(apply('-j REJECT', packet()).res, { kind: 'reject', with: 'icmp-port-unreachable', tcpReset: false });
  assert.deepEqual(apply('-p tcp -j REJECT --reject-with tcp-rst', packet()).res, { kind: 'reject', with: 'tcp-reset', tcpReset: true });
  const { res, logs } = apply('-j LOG --log-prefix "DROP: "', packet({ tcpFlags: 0x12 }));
  assert.deepEqual(res, { kind: 'continue' });
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^DROP: IN=eth0 OUT= SRC=10\.0\.0\.1 DST=10\.0\.0\.2 LEN=60 .*PROTO=TCP SPT=40000 DPT=80 .*ACK SYN URGP=0 $/);
});

test('kernel checks of the core modules', () => {
  const refuse = (spec: string, table: TableName, hook?: 'INPUT' | 'OUTPUT' | 'PREROUTING') => {
    const r = rule(spec, table);
    for (const m of r.matches) {
      const mod = MATCHES.get(m.module)!;
      if (mod.kernelCheck && !mod.kernelCheck(m.data as never, { table, hook, proto: r.proto })) return true;
    }
    const t = r.target && TARGETS.get(r.target.name);
    return !!t?.kernelCheck && !t.kernelCheck(r.target!.data as never, { table, hook, proto: r.proto });
  };
  assert.equal(refuse('-m addrtype --dst-type LOCAL --limit-iface-out', 'filter', 'INPUT'), true);
  assert.equal(refuse('-m addrtype --dst-type LOCAL --limit-iface-out', 'filter', 'OUTPUT'), false);
  assert.equal(refuse('-m addrtype --dst-type LOCAL --limit-iface-in', 'filter', 'OUTPUT'), true);
  assert.equal(refuse('-m addrtype --dst-type LOCAL --limit-iface-in', 'filter'), false); // user chain
  assert.equal(refuse('-j REJECT --reject-with tcp-reset', 'filter'), true);
  assert.equal(refuse('-p tcp -j REJECT --reject-with tcp-reset', 'filter'), false);
  assert.equal(refuse('-m icmp --icmp-type 8', 'filter'), true);
  assert.deepEqual(TARGETS.get('DNAT')!.hooks, ['PREROUTING', 'OUTPUT']);
  assert.deepEqual(TARGETS.get('MASQUERADE')!.tables, ['nat']);
});
