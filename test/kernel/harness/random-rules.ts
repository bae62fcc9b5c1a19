// Random rulesets for the kernel comparisons, drawn from fixed seeds out of the matches and
// targets the engine models: a router's (mangle, nat, filter with two user chains and tests
// that remember earlier packets), a server's (raw, nat, filter, five ipsets) and a client's
// own (mangle, nat and filter OUTPUT). Each draw keeps to what both sides can be compared on
// (see the comments at each choice). Used by walk-random-compare (probes through them) and
// iptables-random-format (the tools' listings of them).

import { rulesText, type JournalSketch } from './labdoc.ts';
import { Rng } from '../../../main/engine/random.ts';

export const CLIENTS = { client: '10.0.1.2', client2: '10.0.1.3' } as const;
export const SERVERS = { srv1: '10.0.2.2', srv2: '10.0.2.3' } as const;
export const ROUTER = '10.0.1.1';
const PORTS = [80, 443, 8080, 53] as const;
/** The router's ports DNAT may take, and the servers' ports it may send them to. */
const DNAT_PORTS = [8081, 8082, 5300] as const;

export class Draw {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.rng.next() * a.length)];
  }
}

type Proto = 'tcp' | 'udp' | 'icmp';

/** An address test: a host, its LAN, or a prefix around it, sometimes negated. */
function addr(d: Draw, flag: '-s' | '-d', pool: readonly string[]): string {
  const ip = d.pick(pool);
  const len = d.pick([32, 32, 24, 16, 31]);
  return `${d.chance(0.2) ? '! ' : ''}${flag} ${ip}/${len}`;
}

function portTest(d: Draw, proto: 'tcp' | 'udp'): string {
  const r = d.int(0, 5);
  if (r === 0) return `-m ${proto} --dport ${d.pick(PORTS)}`;
  if (r === 1) return `-m ${proto} ${d.chance(0.3) ? '! ' : ''}--dport ${d.pick([1, 80, 442])}:${d.pick([443, 8080, 9000])}`;
  if (r === 2) return `-m multiport --dports ${d.pick(PORTS)},${d.pick(PORTS)}${d.chance(0.5) ? ',8000:8100' : ''}`;
  if (r === 3) return `-m ${proto} --sport ${d.pick([40000, 40400])}:${d.pick([40500, 42000])}`;
  if (r === 4 && proto === 'tcp') return `-m tcp --tcp-flags ${d.pick(['SYN,ACK SYN', 'SYN,RST,ACK,FIN SYN', 'ACK ACK', 'FIN,SYN NONE'])}`;
  return `-m ${proto} ${d.chance(0.5) ? '! ' : ''}--dport ${d.pick(PORTS)}`;
}

/** The tests of one rule (a few of the matches, in a random order). */
function tests(d: Draw, chain: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'POSTROUTING' | 'user', needProto = false): string[] {
  const out: string[] = [];
  const proto: Proto | null = needProto || d.chance(0.7) ? d.pick(['tcp', 'tcp', 'udp', 'icmp'] as const) : null;
  if (proto) out.push(`${!needProto && d.chance(0.1) ? '! ' : ''}-p ${proto}`);
  const negProto = out[0]?.startsWith('!');
  if (d.chance(0.4)) out.push(addr(d, '-s', Object.values(CLIENTS)));
  if (d.chance(0.3)) out.push(addr(d, '-d', [...Object.values(SERVERS), ROUTER]));
  if (chain !== 'POSTROUTING' && d.chance(0.25)) out.push(`${d.chance(0.2) ? '! ' : ''}-i ${d.pick(['eth0', 'eth1', 'eth+', 'lo'])}`);
  if (chain !== 'PREROUTING' && chain !== 'INPUT' && d.chance(0.2)) out.push(`${d.chance(0.2) ? '! ' : ''}-o ${d.pick(['eth0', 'eth1', 'eth+'])}`);
  if (proto && !negProto && proto !== 'icmp' && d.chance(0.6)) out.push(portTest(d, proto));
  if (proto === 'icmp' && !negProto && d.chance(0.5)) out.push(`-m icmp ${d.chance(0.2) ? '! ' : ''}--icmp-type ${d.pick(['echo-request', '8', 'echo-reply', 'any'])}`);
  const extras = [
    () => `-m iprange --src-range ${CLIENTS.client}-${d.pick([CLIENTS.client, CLIENTS.client2])}`,
    () => `-m iprange ${d.chance(0.3) ? '! ' : ''}--dst-range 10.0.2.1-${d.pick(['10.0.2.2', '10.0.2.3', '10.0.2.200'])}`,
    () => `-m mark ${d.chance(0.2) ? '! ' : ''}--mark ${d.pick(['0x1', '0x2/0x2', '0x0/0xf'])}`,
    () => `-m connmark --mark ${d.pick(['0x10/0xf0', '0x0/0xf0', '0x20'])}`,
    () => `-m conntrack --ctstate ${d.pick(['NEW', 'NEW,ESTABLISHED', 'INVALID', 'DNAT', 'SNAT'])}`,
    () => `-m conntrack ${d.chance(0.3) ? '! ' : ''}--ctorigdst ${d.pick([ROUTER, ...Object.values(SERVERS)])}`,
    () => `-m length --length ${d.pick(['0:60', '61:1500', '28', '40:52'])}`,
    () => `-m ttl --ttl-${d.pick(['gt', 'lt', 'eq'])} ${d.pick([62, 63, 64])}`,
    () => `-m addrtype --${d.pick(['dst', 'src'])}-type ${d.pick(['LOCAL', 'UNICAST', 'BROADCAST'])}`,
    () => `-m pkttype --pkt-type ${d.pick(['unicast', 'broadcast'])}`,
    () => `-m comment --comment "r${d.int(1, 99)}"`,
  ];
  const n = d.int(0, 2);
  for (let i = 0; i < n; i++) out.push(d.pick(extras)());
  // (iptables takes the tests in any order, but -p before the modules that need it)
  for (let i = out.length - 1; i > 0; i--) {
    const j = d.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  const p = out.findIndex((t) => /^(! )?-p /.test(t));
  if (p > 0) out.unshift(...out.splice(p, 1));
  return out;
}

function reject(d: Draw, rule: string[]): string {
  const tcp = rule.some((t) => t === '-p tcp');
  const withs = ['icmp-port-unreachable', 'icmp-host-prohibited', 'icmp-net-unreachable', 'icmp-admin-prohibited', ...(tcp ? ['tcp-reset', 'tcp-reset'] : [])];
  return d.chance(0.3) ? '-j REJECT' : `-j REJECT --reject-with ${d.pick(withs)}`;
}

/** One router's tables: a mangle table that marks, a nat table that translates, a filter
 *  table of a FORWARD chain and two user chains (A may jump to or go to B, never back). */
export function routerTables(d: Draw): string {
  const mangle: string[] = [];
  for (let i = d.int(1, 3); i > 0; i--) {
    // (of a protocol the probes use: the kernel's hosts also send IGMP reports, which the
    // engine's do not, and a mangle rule sees them)
    const t = tests(d, 'PREROUTING', true);
    const target = d.chance(0.7) ? `-j MARK --set-xmark ${d.pick(['0x1/0xffffffff', '0x2/0x2', '0x3/0x1'])}` : `-j CONNMARK --set-xmark ${d.pick(['0x10/0xf0', '0x20/0xffffffff'])}`;
    // (first packets only: the kernel's connections go on with ACKs, data and FINs the
    // engine's probes do not send, and these rules would count them)
    mangle.push(['-A PREROUTING', ...t, '-m conntrack --ctstate NEW', target].join(' '));
  }
  const nat: string[] = [];
  for (const port of DNAT_PORTS) {
    if (!d.chance(0.7)) continue;
    const proto = port === 5300 ? 'udp' : 'tcp';
    const to = `${d.pick(Object.values(SERVERS))}:${proto === 'udp' ? 53 : d.pick([80, 443, 8080])}`;
    const cond = d.chance(0.3) ? tests(d, 'PREROUTING').filter((t) => !/-p |-d |--dport|--sport|multiport|tcp-flags|icmp/.test(t)) : [];
    nat.push(['-A PREROUTING', `-d ${ROUTER}/32 -p ${proto} -m ${proto} --dport ${port}`, ...cond, `-j DNAT --to-destination ${to}`].join(' '));
  }
  for (let i = d.int(0, 2); i > 0; i--) {
    const t = tests(d, 'POSTROUTING');
    // (a port range holding every probe's source port: the port is kept; outside it the kernel
    // draws one at random)
    const target = d.chance(0.5) ? '-j MASQUERADE' : `-j SNAT --to-source 10.0.2.1${d.chance(0.4) && t.some((x) => x === '-p tcp' || x === '-p udp') ? ':39000-43000' : ''}`;
    nat.push(['-A POSTROUTING', '-o eth1', ...t.filter((x) => !/-o /.test(x)), target].join(' '));
  }
  const filter: string[] = [];
  // (answers and the connections' later packets pass: the rules decide the first packets, the
  // only ones both sides send)
  filter.push('-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  const verdict = (chain: 'FORWARD' | 'A' | 'B', t: string[]): string => {
    const r = d.int(0, 9);
    if (chain === 'FORWARD' && r < 2) return '-j A';
    if (chain === 'FORWARD' && r === 2) return '-g B';
    if (chain === 'A' && r < 2) return d.chance(0.5) ? '-j B' : '-g B';
    if (chain !== 'FORWARD' && r === 3) return '-j RETURN';
    if (r === 4) return reject(d, t);
    if (r === 5) return '';
    if (r === 6) return `-j MARK --set-xmark 0x${d.int(1, 3)}/0xf`;
    if (r === 7) return d.pick(['-j SET --add-set DYN src', '-j SET --add-set DYN dst --exist', '-j CONNMARK --save-mark', '-j CONNMARK --restore-mark']);
    return d.chance(0.5) ? '-j ACCEPT' : '-j DROP';
  };
  // Tests whose answer depends on the packets before (both sides see the same first packets in
  // the same order): nth, recent lists, a quota, the set that -j SET fills, a saved connmark.
  const stateful = (): string =>
    d.pick([
      () => `-m statistic --mode nth --every ${d.int(2, 3)} --packet ${d.int(0, 1)}`,
      () => `-m recent --set --name R${d.int(1, 2)} ${d.pick(['--rsource', '--rdest'])}`,
      () => `-m recent ${d.chance(0.2) ? '! ' : ''}--rcheck --seconds 60 --name R${d.int(1, 2)}`,
      () => `-m recent --update --name R${d.int(1, 2)}`,
      () => `-m quota --quota ${d.pick([100, 200, 400])}`,
      () => `-m set ${d.chance(0.2) ? '! ' : ''}--match-set DYN ${d.pick(['src', 'dst'])}`,
      () => `-m connmark --mark ${d.pick(['0x1', '0x2/0x2', '0x3'])}`,
    ])();
  for (const chain of ['FORWARD', 'A', 'B'] as const) {
    for (let i = d.int(chain === 'FORWARD' ? 2 : 1, chain === 'FORWARD' ? 6 : 4); i > 0; i--) {
      const t = tests(d, chain === 'FORWARD' ? 'FORWARD' : 'user');
      if (d.chance(0.35)) t.push(stateful());
      filter.push([`-A ${chain}`, ...t, verdict(chain, t)].filter(Boolean).join(' '));
    }
  }
  const policy = d.chance(0.5) ? 'DROP' : 'ACCEPT';
  const filterText = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n${filter.map((r) => r + '\n').join('')}COMMIT\n`;
  return rulesText({ mangle, nat }) + filterText;
}

/** The sets a server's rules look up: clients by address, by net (one excepted with nomatch),
 *  by address and port, by net and port (or ICMP type), and a list of two of them; each filled
 *  at random. */
export function serverSets(d: Draw): JournalSketch[] {
  const out: JournalSketch[] = [
    ['srv1', 'ipset create IPS hash:ip'],
    ['srv1', 'ipset create NETS hash:net'],
    ['srv1', 'ipset create IPPORT hash:ip,port'],
    ['srv1', 'ipset create NETPORT hash:net,port'],
    ['srv1', 'ipset create LIST list:set'],
  ];
  for (const ip of Object.values(CLIENTS)) if (d.chance(0.5)) out.push(['srv1', `ipset add IPS ${ip}`]);
  out.push(['srv1', `ipset add NETS ${d.pick(['10.0.1.0/24', '10.0.1.2/31', '10.0.0.0/16'])}`]);
  if (d.chance(0.5)) out.push(['srv1', `ipset add NETS ${d.pick(Object.values(CLIENTS))} nomatch`]);
  for (let i = d.int(1, 3); i > 0; i--) out.push(['srv1', `ipset -exist add IPPORT ${d.pick(Object.values(CLIENTS))},${d.pick(['tcp:80', 'tcp:443', 'udp:53', 'tcp:8080'])}`]);
  for (let i = d.int(1, 2); i > 0; i--) out.push(['srv1', `ipset -exist add NETPORT ${d.pick(['10.0.1.0/24', '10.0.1.2/31', '10.0.1.3'])},${d.pick(['tcp:80', 'udp:53', 'tcp:443', 'icmp:echo-request', 'tcp:8000-8100'])}`]);
  out.push(['srv1', `ipset add LIST ${d.pick(['IPS', 'NETS'])}`], ['srv1', `ipset -exist add LIST ${d.pick(['IPS', 'NETS'])}`]);
  return out;
}

function setTest(d: Draw): string {
  const neg = d.chance(0.25) ? '! ' : '';
  switch (d.int(0, 4)) {
    case 0:
      return `-m set ${neg}--match-set IPS src`;
    case 1:
      return `-m set ${neg}--match-set NETS src${!neg && d.chance(0.3) ? ' --return-nomatch' : ''}`;
    case 2:
      return `-m set ${neg}--match-set IPPORT src,dst`;
    case 3:
      return `-m set ${neg}--match-set NETPORT src,dst`;
    default:
      return `-m set ${neg}--match-set LIST src`;
  }
}

/**
 * A server's own tables: raw may leave a client's DNS untracked, nat redirects two ports to
 * local ones, INPUT and a user chain decide the clients' first packets (sets among the tests),
 * and OUTPUT sees what the server sends that is neither an answer nor related (what a REJECT
 * sends is related: the kernel attaches the rejected packet's connection).
 */
export function serverTables(d: Draw): string {
  const raw = d.chance(0.3) ? [`-A PREROUTING -p udp -m udp --dport 53 -s ${d.pick(Object.values(CLIENTS))}/32 -j NOTRACK`] : [];
  const nat: string[] = [];
  if (d.chance(0.8)) nat.push(['-A PREROUTING -p tcp -m tcp --dport 8443', ...(d.chance(0.4) ? [addr(d, '-s', Object.values(CLIENTS))] : []), '-j REDIRECT --to-ports 443'].join(' '));
  if (d.chance(0.8)) nat.push(['-A PREROUTING -p udp -m udp --dport 5353', ...(d.chance(0.4) ? [setTest(d)] : []), `-j DNAT --to-destination ${SERVERS.srv1}:53`].join(' '));
  const filter = ['-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'];
  const rule = (chain: 'INPUT' | 'C'): string => {
    const t = tests(d, chain === 'INPUT' ? 'INPUT' : 'user').filter((x) => !/^(! )?-o /.test(x));
    if (d.chance(0.6)) t.push(setTest(d));
    const r = d.int(0, 9);
    const target = chain === 'INPUT' && r < 2 ? '-j C' : chain === 'C' && r < 2 ? '-j RETURN' : r === 2 ? reject(d, t) : r === 3 ? '' : r === 4 ? `-j MARK --set-xmark 0x${d.int(1, 3)}/0xf` : d.chance(0.5) ? '-j ACCEPT' : '-j DROP';
    return [`-A ${chain}`, ...t, target].filter(Boolean).join(' ');
  };
  for (let i = d.int(2, 6); i > 0; i--) filter.push(rule('INPUT'));
  for (let i = d.int(1, 3); i > 0; i--) filter.push(rule('C'));
  filter.push('-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT', '-A OUTPUT -m conntrack --ctstate RELATED -j ACCEPT');
  for (let i = d.int(0, 2); i > 0; i--) filter.push(`-A OUTPUT ${d.pick(['-p tcp -m tcp --tcp-flags RST RST', '-p icmp', '-p udp', '-m conntrack --ctstate NEW', '-m conntrack --ctstate UNTRACKED'])} -j ${d.pick(['ACCEPT', 'DROP'])}`);
  const policy = d.chance(0.3) ? 'DROP' : 'ACCEPT';
  const filterText = `*filter\n:INPUT ${policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:C - [0:0]\n${filter.map((r) => r + '\n').join('')}COMMIT\n`;
  return rulesText({ raw, nat }) + filterText;
}

/** Addresses the client's nat OUTPUT sends to the servers (virtual: nothing has them). */
export const VIPS = { tcp: '10.99.0.1', udp: '10.99.0.2' } as const;

/**
 * A client's own tables: mangle and nat OUTPUT (DNAT of two virtual addresses to the servers),
 * nat POSTROUTING, and a filter OUTPUT chain and a user chain that decide its first packets
 * (a write they drop fails: EPERM for a datagram or an echo, a SYN sent again).
 */
export function clientTables(d: Draw): string {
  const mangle: string[] = [];
  for (let i = d.int(0, 2); i > 0; i--) mangle.push(['-A OUTPUT', ...tests(d, 'POSTROUTING', true), '-m conntrack --ctstate NEW', `-j MARK --set-xmark 0x${d.int(1, 3)}/0xf`].join(' '));
  const nat = [
    `-A OUTPUT -d ${VIPS.tcp}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination ${d.pick(Object.values(SERVERS))}${d.chance(0.5) ? ':80' : ''}`,
    `-A OUTPUT -d ${VIPS.udp}/32 -p udp -m udp --dport 53 ${d.chance(0.3) ? '-m mark --mark 0x1/0x1 ' : ''}-j DNAT --to-destination ${SERVERS.srv2}:53`,
  ];
  if (d.chance(0.5)) nat.push(['-A POSTROUTING -o eth0', ...tests(d, 'POSTROUTING', true).filter((x) => !/^(! )?-o /.test(x)), d.chance(0.5) ? '-j MASQUERADE' : `-j SNAT --to-source ${CLIENTS.client}`].join(' '));
  const filter = ['-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'];
  const rule = (chain: 'OUTPUT' | 'C'): string => {
    const t = tests(d, 'POSTROUTING').filter((x) => !/^(! )?-s /.test(x) || d.chance(0.5));
    if (d.chance(0.3)) t.push(`-m conntrack --ctorigdst ${d.pick([...Object.values(VIPS), ...Object.values(SERVERS)])}`);
    // (the probes' sockets are root's on both sides; 0 and 65534 are named alike on every
    // Debian, other ids after the machine's own accounts)
    if (d.chance(0.25)) t.push(`-m owner ${d.pick(['--uid-owner 0', '! --uid-owner 0', '--gid-owner 0', '--uid-owner 65534', '--gid-owner 65534', '--socket-exists'])}`);
    const r = d.int(0, 9);
    const target = chain === 'OUTPUT' && r < 2 ? '-j C' : chain === 'C' && r < 2 ? '-j RETURN' : r === 2 ? reject(d, t) : r === 3 ? '' : r === 4 ? `-j MARK --set-xmark 0x${d.int(1, 3)}/0xf` : d.chance(0.6) ? '-j ACCEPT' : '-j DROP';
    return [`-A ${chain}`, ...t, target].filter(Boolean).join(' ');
  };
  for (let i = d.int(2, 5); i > 0; i--) filter.push(rule('OUTPUT'));
  // (a write refused on the way out, somewhere among them: a datagram's or an echo's fails)
  const refused = [`-A OUTPUT -p udp -d ${d.pick(Object.values(SERVERS))}/32 ${d.chance(0.5) ? '-j DROP' : '-j REJECT'}`, `-A OUTPUT -p icmp -d ${d.pick(Object.values(SERVERS))}/32 -j ${d.pick(['DROP', 'REJECT'])}`];
  for (const r of refused) if (d.chance(0.6)) filter.splice(d.int(1, filter.length), 0, r);
  for (let i = d.int(1, 3); i > 0; i--) filter.push(rule('C'));
  const filterText = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ${d.chance(0.3) ? 'DROP' : 'ACCEPT'} [0:0]\n:C - [0:0]\n${filter.map((r) => r + '\n').join('')}COMMIT\n`;
  return rulesText({ mangle, nat }) + filterText;
}
