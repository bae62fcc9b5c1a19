// Unit tests of the extension matches and targets: option parsing with iptables' messages,
// the iptables-save and `iptables -L` texts, and the kernel's matching / target semantics,
// against a fake host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIPv4 } from '../../../main/engine/net/ipv4.ts';
import { connmarkMatch } from '../../../main/engine/netfilter/matches/connmark.ts';
import { EXTRA_MATCHES } from '../../../main/engine/netfilter/matches/extra.ts';
import { iprangeMatch } from '../../../main/engine/netfilter/matches/iprange.ts';
import { lengthMatch } from '../../../main/engine/netfilter/matches/length.ts';
import { limitMatch } from '../../../main/engine/netfilter/matches/limit.ts';
import { macMatch } from '../../../main/engine/netfilter/matches/mac.ts';
import { ownerMatch } from '../../../main/engine/netfilter/matches/owner.ts';
import { physdevMatch } from '../../../main/engine/netfilter/matches/physdev.ts';
import { recentMatch } from '../../../main/engine/netfilter/matches/recent.ts';
import { rpfilterMatch } from '../../../main/engine/netfilter/matches/rpfilter.ts';
import { sctpMatch } from '../../../main/engine/netfilter/matches/sctp.ts';
import { setMatch } from '../../../main/engine/netfilter/matches/set.ts';
import { ttlMatch } from '../../../main/engine/netfilter/matches/ttl.ts';
import { connmarkTarget } from '../../../main/engine/netfilter/targets/connmark.ts';
import { ctTarget } from '../../../main/engine/netfilter/targets/ct.ts';
import { EXTRA_TARGETS } from '../../../main/engine/netfilter/targets/extra.ts';
import { nflogTarget } from '../../../main/engine/netfilter/targets/nflog.ts';
import { notrackTarget } from '../../../main/engine/netfilter/targets/notrack.ts';
import { redirectTarget } from '../../../main/engine/netfilter/targets/redirect.ts';
import { traceTarget } from '../../../main/engine/netfilter/targets/trace.ts';
import { ttlTarget } from '../../../main/engine/netfilter/targets/ttl.ts';
import type { MatchModule, TargetModule } from '../../../main/engine/netfilter/types.ts';
import { IptablesError } from '../../../main/engine/netfilter/types.ts';
import { ctView, fakeHost, matchCtx, packet, parseError, parseOpts, rule, targetCtx } from './modules-extra-driver.ts';

const ip = (s: string) => {
  const v = parseIPv4(s);
  if (v === null) throw new Error(s);
  return v;
};

/** save and both list forms of a parsed option list. */
function texts<D>(mod: MatchModule<D> | TargetModule<D>, tokens: string[], ctx = {}) {
  const d = parseOpts(mod, tokens, ctx);
  return { save: mod.save(d), list: mod.list(d, false), listN: mod.list(d, true) };
}

test('registries list every extension module once, under its iptables name', () => {
  assert.deepEqual(EXTRA_MATCHES.map((m) => m.name).sort(), ['connbytes', 'connmark', 'iprange', 'length', 'limit', 'mac', 'nfacct', 'owner', 'physdev', 'pkttype', 'quota', 'recent', 'rpfilter', 'sctp', 'set', 'ttl']);
  assert.deepEqual(EXTRA_TARGETS.map((t) => t.name).sort(), ['CHECKSUM', 'CONNMARK', 'CT', 'NFLOG', 'NOTRACK', 'REDIRECT', 'SET', 'TCPMSS', 'TRACE', 'TTL']);
  for (const m of EXTRA_MATCHES) assert.equal(m.kind, 'match');
  for (const t of EXTRA_TARGETS) assert.equal(t.kind, 'target');
});

// ---- set ------------------------------------------------------------------------------------

test('set: save and list texts as iptables 1.8.9 prints them', () => {
  assert.deepEqual(texts(setMatch, ['--match-set', 'cali40s:abc', 'src']), {
    save: ' --match-set cali40s:abc src', list: ' match-set cali40s:abc src', listN: ' match-set cali40s:abc src',
  });
  assert.equal(texts(setMatch, ['!', '--match-set', 's1', 'src,dst']).save, ' ! --match-set s1 src,dst');
  assert.deepEqual(texts(setMatch, ['--match-set', 's2', 'dst,dst', '--return-nomatch', '!', '--update-counters', '!', '--update-subcounters']), {
    save: ' --match-set s2 dst,dst --return-nomatch ! --update-counters ! --update-subcounters',
    list: ' match-set s2 dst,dst return-nomatch ! update-counters ! update-subcounters',
    listN: ' match-set s2 dst,dst return-nomatch ! update-counters ! update-subcounters',
  });
  assert.equal(texts(setMatch, ['--match-set', 's1', 'src', '--packets-eq', '0x10', '--bytes-lt', '077']).save, ' --match-set s1 src --packets-eq 16 --bytes-lt 63');
  assert.equal(texts(setMatch, ['--match-set', 's1', 'src', '!', '--packets-eq', '3', '!', '--bytes-eq', '4']).list, ' match-set s1 src ! packets-eq 3 ! bytes-eq 4');
  // only the first three letters of a direction count
  assert.equal(texts(setMatch, ['--match-set', 's1', 'srcX,dstY']).save, ' --match-set s1 src,dst');
});

test('set: parse errors carry the real messages', () => {
  const exists = { setExists: (n: string) => n === 's1' };
  assert.equal(parseError(setMatch, ['--match-set', 'nosuch', 'src'], exists), "Set nosuch doesn't exist.\n");
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'foo'], exists), "You must spefify (the comma separated list of) 'src' or 'dst'.");
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src,dst,src,dst,src,dst,src']), "Can't be more src/dst options than 6.");
  assert.equal(parseError(setMatch, ['--match-set', 's1', '-j']), '--match-set requires two args.');
  assert.equal(parseError(setMatch, []), "You must specify `--match-set' with proper arguments");
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src', '--match-set', 's1', 'src']), '--match-set can be specified only once');
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src', '!', '--packets-gt', '5']), '--packets-gt option cannot be inverted');
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src', '--packets-eq', '1', '--packets-lt', '2']), 'only one of the --packets-[eq|lt|gt] is allowed');
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src', '--bytes-eq', '-1']), 'Cannot parse -1 as a counter value');
  assert.equal(parseError(setMatch, ['--match-set', 's1', 'src', '--bytes-eq', '18446744073709551616']), 'Cannot parse 18446744073709551616 as a counter value');
  assert.equal(parseError(setMatch, ['!', '--return-nomatch', '--match-set', 's1', 'src']), '--return-nomatch flag cannot be inverted');
  assert.equal(parseError(setMatch, ['--match-set', 'x'.repeat(32), 'src']), `setname \`${'x'.repeat(32)}' too long, max 31 characters.`);
  try {
    parseOpts(setMatch, ['--match-set', 'nosuch', 'src'], exists);
    assert.fail('expected a failure');
  } catch (e) {
    assert.ok(e instanceof IptablesError);
    assert.equal(e.status, 2);
  }
});

test('set: membership through the host, inversion, and a reason for a miss', () => {
  const host = fakeHost();
  const members = new Set([ip('10.0.0.5')]);
  host.sets.set('cali40s:abc', (pkt, dirs) => members.has(dirs[0] === 'src' ? pkt.src : pkt.dst));
  const src = parseOpts(setMatch, ['--match-set', 'cali40s:abc', 'src']);
  const notDst = parseOpts(setMatch, ['!', '--match-set', 'cali40s:abc', 'dst']);
  const ctx = matchCtx(host);
  assert.equal(setMatch.match(src, ctx), true);
  assert.equal(setMatch.match(notDst, ctx), true);
  const other = matchCtx(host, { pkt: packet({ src: ip('10.0.0.9') }) });
  assert.equal(setMatch.match(src, other), false);
  assert.equal(setMatch.why(src, other), 'src 10.0.0.9 not in set cali40s:abc');
  const named = parseOpts(setMatch, ['--match-set', 'gone', 'dst,dst']);
  assert.equal(setMatch.match(named, ctx), false);
  assert.equal(setMatch.why(named, ctx), 'set gone does not exist');
  host.sets.set('np', () => false);
  const np = parseOpts(setMatch, ['--match-set', 'np', 'dst,dst']);
  assert.equal(setMatch.why(np, ctx), 'dst,dst 10.96.0.1,tcp:80 not in set np');
});

// ---- connmark -------------------------------------------------------------------------------

test('connmark match: texts, errors and the ctmark test', () => {
  assert.deepEqual(texts(connmarkMatch, ['--mark', '1']), { save: ' --mark 0x1', list: ' connmark match  0x1', listN: ' connmark match  0x1' });
  assert.deepEqual(texts(connmarkMatch, ['!', '--mark', '0x10/0xff']), { save: ' ! --mark 0x10/0xff', list: ' connmark match ! 0x10/0xff', listN: ' connmark match ! 0x10/0xff' });
  assert.equal(texts(connmarkMatch, ['--mark', '5/0xffffffff']).save, ' --mark 0x5');
  assert.equal(texts(connmarkMatch, ['--mark', '010/0']).save, ' --mark 0x8/0x0');
  assert.equal(texts(connmarkMatch, ['--mark', ' +1']).save, ' --mark 0x1');
  const bad = 'connmark: bad integer value for option "--mark", or out of range.\n';
  for (const v of ['0x100000000', 'x', '1/', '', '-1', '1/-2', '/1']) assert.equal(parseError(connmarkMatch, ['--mark', v]), bad, v);
  const garbage = 'connmark: trailing garbage after value for option "--mark".\n';
  for (const v of ['1/2/3', '1 ', '08', '0x']) assert.equal(parseError(connmarkMatch, ['--mark', v]), garbage, v);
  assert.equal(parseError(connmarkMatch, []), 'connmark: option "--mark" must be specified\n');
  assert.equal(parseError(connmarkMatch, ['--mark', '1', '--mark', '2']), 'connmark: option "--mark" can only be used once.\n');

  const host = fakeHost();
  const d = parseOpts(connmarkMatch, ['--mark', '0x10/0xf0']);
  assert.equal(connmarkMatch.match(d, matchCtx(host, { ct: ctView({ mark: 0x1f }) })), true);
  assert.equal(connmarkMatch.match(d, matchCtx(host, { ct: ctView({ mark: 0x2f }) })), false);
  const inv = parseOpts(connmarkMatch, ['!', '--mark', '0x10/0xf0']);
  assert.equal(connmarkMatch.match(inv, matchCtx(host, { ct: ctView({ mark: 0x2f }) })), true);
  // no conntrack entry: never a match, even inverted
  assert.equal(connmarkMatch.match(inv, matchCtx(host, { ct: null })), false);
  assert.equal(connmarkMatch.match(inv, matchCtx(host, { ct: ctView({ state: 'UNTRACKED' }) })), false);
});

// ---- recent ---------------------------------------------------------------------------------

test('recent: kube-proxy affinity rules print in the kernel-canonical order', () => {
  assert.deepEqual(texts(recentMatch, ['--name', 'KUBE-SEP-XXX', '--mask', '255.255.255.255', '--rsource', '--set']), {
    save: ' --set --name KUBE-SEP-XXX --mask 255.255.255.255 --rsource',
    list: ' recent: SET name: KUBE-SEP-XXX side: source mask: 255.255.255.255',
    listN: ' recent: SET name: KUBE-SEP-XXX side: source mask: 255.255.255.255',
  });
  assert.deepEqual(texts(recentMatch, ['--name', 'KUBE-SEP-XXX', '--mask', '255.255.255.255', '--rsource', '--rcheck', '--seconds', '10800', '--reap']), {
    save: ' --rcheck --seconds 10800 --reap --name KUBE-SEP-XXX --mask 255.255.255.255 --rsource',
    list: ' recent: CHECK seconds: 10800 reap name: KUBE-SEP-XXX side: source mask: 255.255.255.255',
    listN: ' recent: CHECK seconds: 10800 reap name: KUBE-SEP-XXX side: source mask: 255.255.255.255',
  });
  assert.equal(texts(recentMatch, ['!', '--rcheck', '--hitcount', '3', '--rttl', '--rdest']).list, ' ! recent: CHECK hit_count: 3 TTL-Match name: DEFAULT side: dest mask: 255.255.255.255');
  assert.equal(texts(recentMatch, ['!', '--update', '--name', 'foo', '--seconds', '1', '--hitcount', '2', '--rttl', '--reap', '--mask', '0.0.0.0']).save, ' ! --update --seconds 1 --reap --hitcount 2 --rttl --name foo --mask 0.0.0.0 --rsource');
  assert.equal(texts(recentMatch, ['--rcheck', '--mask', '24']).save, ' --rcheck --name DEFAULT --mask 0.0.0.24 --rsource');
  assert.equal(texts(recentMatch, ['--rcheck', '--seconds', '0x10']).save, ' --rcheck --seconds 16 --name DEFAULT --mask 255.255.255.255 --rsource');
});

test('recent: option errors', () => {
  assert.equal(parseError(recentMatch, []), "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
  assert.equal(parseError(recentMatch, ['--reap']), "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
  assert.equal(parseError(recentMatch, ['--rcheck', '--set']), 'recent: option "--set" cannot be used together with "--rcheck".\n');
  assert.equal(parseError(recentMatch, ['--set', '--set']), 'recent: option "--set" can only be used once.\n');
  assert.equal(parseError(recentMatch, ['--rcheck', '--reap']), 'recent: option "--reap" also requires "--seconds".\n');
  assert.equal(parseError(recentMatch, ['--set', '--rttl']), 'recent: option "--rttl" cannot be used together with "--set".\n');
  assert.equal(parseError(recentMatch, ['--rcheck', '--seconds', '0']), 'recent: bad value for option "--seconds", or out of range (1-4294967295).\n');
  assert.equal(parseError(recentMatch, ['--rcheck', '!', '--name', 'x']), 'recent: option "--name" cannot be inverted.\n');
  const d = parseOpts(recentMatch, ['--rcheck', '--name', 'a/b']);
  assert.equal(recentMatch.kernelCheck?.(d, { table: 'filter' }), false);
  assert.equal(recentMatch.kernelCheck?.(parseOpts(recentMatch, ['--rcheck', '--name', 'a b']), { table: 'filter' }), true);
});

test('recent: sessionAffinity ClientIP sends a client back until the timeout, and reaps', () => {
  const host = fakeHost();
  const set = parseOpts(recentMatch, ['--name', 'KUBE-SEP-A', '--mask', '255.255.255.255', '--rsource', '--set']);
  const check = parseOpts(recentMatch, ['--name', 'KUBE-SEP-A', '--mask', '255.255.255.255', '--rsource', '--rcheck', '--seconds', '10800', '--reap']);
  const client = matchCtx(host, { table: 'nat', hook: 'PREROUTING' });
  assert.equal(recentMatch.match(check, client), false, 'unknown client');
  assert.equal(recentMatch.why(check, client), '10.0.0.5 not in list KUBE-SEP-A');
  assert.equal(recentMatch.match(set, client), true, '--set always matches');
  assert.deepEqual(host.recent.get('KUBE-SEP-A', ip('10.0.0.5'))?.stamps, [1000]);
  host.clock = 1000 + 10800;
  assert.equal(recentMatch.match(check, client), true, 'seen exactly 10800 s ago');
  host.clock = 1000 + 10801;
  assert.equal(recentMatch.match(check, client), false, 'too old');
  // --reap removed the stale entry while checking
  assert.equal(host.recent.get('KUBE-SEP-A', ip('10.0.0.5')), undefined);
  assert.equal(recentMatch.why(check, client), '10.0.0.5 not in list KUBE-SEP-A');
  // without --reap a stale entry stays and the reason says why it did not count
  const keep = parseOpts(recentMatch, ['--name', 'KUBE-SEP-A', '--rcheck', '--seconds', '60']);
  recentMatch.match(set, client);
  host.clock += 61;
  assert.equal(recentMatch.match(keep, client), false);
  assert.equal(recentMatch.why(keep, client), '10.0.0.5 not seen in the last 60s in list KUBE-SEP-A');
  assert.ok(host.recent.get('KUBE-SEP-A', ip('10.0.0.5')));
});

test('recent: update refreshes only on a match, hitcount counts stamps, remove deletes, rttl compares TTL', () => {
  const host = fakeHost();
  const set = parseOpts(recentMatch, ['--set', '--name', 'L']);
  const upd = parseOpts(recentMatch, ['--update', '--seconds', '10', '--name', 'L']);
  const hits3 = parseOpts(recentMatch, ['--rcheck', '--hitcount', '3', '--name', 'L']);
  const rm = parseOpts(recentMatch, ['--remove', '--name', 'L']);
  const ttl = parseOpts(recentMatch, ['--rcheck', '--rttl', '--name', 'L']);
  const ctx = matchCtx(host);
  recentMatch.match(set, ctx);
  host.clock += 5;
  assert.equal(recentMatch.match(upd, ctx), true);
  assert.equal(host.recent.get('L', ctx.pkt.src)?.stamps.length, 2);
  assert.equal(recentMatch.match(hits3, ctx), false);
  assert.match(recentMatch.why(hits3, ctx), /seen 2 time\(s\) in list L, needs 3/);
  host.clock += 100;
  assert.equal(recentMatch.match(upd, ctx), false, 'outside the window');
  assert.equal(host.recent.get('L', ctx.pkt.src)?.stamps.length, 2, 'a failed --update does not stamp');
  recentMatch.match(set, ctx);
  assert.equal(recentMatch.match(hits3, ctx), true);
  assert.equal(recentMatch.match(ttl, ctx), true);
  assert.equal(recentMatch.match(ttl, matchCtx(host, { pkt: packet({ ttl: 63 }) })), false);
  // in FORWARD the kernel compares the TTL before forwarding (one more)
  assert.equal(recentMatch.match(ttl, matchCtx(host, { hook: 'FORWARD', pkt: packet({ ttl: 63 }) })), true);
  assert.equal(recentMatch.match(rm, ctx), true);
  assert.equal(host.recent.get('L', ctx.pkt.src), undefined);
  assert.equal(recentMatch.match(rm, ctx), false);
  // ! --set: the entry is still recorded, the match is inverted
  const notSet = parseOpts(recentMatch, ['!', '--set', '--name', 'M', '--rdest', '--mask', '255.255.255.0']);
  assert.equal(recentMatch.match(notSet, ctx), false);
  assert.ok(host.recent.get('M', ip('10.96.0.0')));
});

// ---- physdev ---------------------------------------------------------------------------------

test('physdev: texts, errors, and the non-bridged verdicts', () => {
  assert.deepEqual(texts(physdevMatch, ['!', '--physdev-is-in']), { save: ' ! --physdev-is-in', list: ' PHYSDEV match ! --physdev-is-in', listN: ' PHYSDEV match ! --physdev-is-in' });
  assert.equal(
    texts(physdevMatch, ['--physdev-is-out', '!', '--physdev-is-bridged', '--physdev-is-in', '!', '--physdev-out', 'x', '--physdev-in', 'y']).save,
    ' --physdev-is-in --physdev-in y --physdev-is-out ! --physdev-out x ! --physdev-is-bridged',
  );
  assert.equal(texts(physdevMatch, ['--physdev-in', '']).save, ' --physdev-in ');
  assert.equal(parseError(physdevMatch, []), 'PHYSDEV: no physdev option specified');
  assert.equal(parseError(physdevMatch, ['--physdev-in', '0123456789abcdef']), "interface name `0123456789abcdef' must be shorter than IFNAMSIZ (15)");
  assert.equal(parseError(physdevMatch, ['--physdev-in', 'a', '--physdev-in', 'b']), 'physdev: option "--physdev-in" can only be used once.\n');
  const host = fakeHost();
  const ctx = matchCtx(host, { hook: 'PREROUTING', table: 'nat' });
  assert.equal(physdevMatch.match(parseOpts(physdevMatch, ['!', '--physdev-is-in']), ctx), true, "kube-proxy's externalIP rule");
  assert.equal(physdevMatch.match(parseOpts(physdevMatch, ['--physdev-is-in']), ctx), false);
  assert.equal(physdevMatch.match(parseOpts(physdevMatch, ['!', '--physdev-in', 'eth0', '--physdev-is-bridged']), ctx), false);
  const out = parseOpts(physdevMatch, ['--physdev-out', 'a']);
  assert.equal(physdevMatch.kernelCheck?.(out, { table: 'filter', hook: 'OUTPUT' }), false);
  assert.equal(physdevMatch.kernelCheck?.(out, { table: 'filter', hook: 'INPUT' }), true);
  assert.equal(physdevMatch.kernelCheck?.(parseOpts(physdevMatch, ['--physdev-out', 'a', '--physdev-is-bridged']), { table: 'filter', hook: 'OUTPUT' }), true);
});

// ---- sctp --------------------------------------------------------------------------------------

test('sctp: ports, chunk lists and their quirks', () => {
  const p = { proto: { num: 132, neg: false } };
  assert.deepEqual(texts(sctpMatch, ['--sport', '1:1024', '!', '--dport', '5'], p), { save: ' --sport 1:1024 ! --dport 5', list: ' sctp spts:1:1024 dpt:!5', listN: ' sctp spts:1:1024 dpt:!5' });
  assert.deepEqual(texts(sctpMatch, ['--chunk-types', 'any', 'DATA,INIT']), { save: ' --chunk-types any DATA,INIT', list: ' sctp any DATA,INIT', listN: ' sctp any 0x0000,0x0001' });
  assert.deepEqual(texts(sctpMatch, ['!', '--chunk-types', 'only', 'DATA:Be,ABORT:t,SHUTDOWN_COMPLETE:T']), {
    save: ' ! --chunk-types only DATA:Be,ABORT:t,SHUTDOWN_COMPLETE:T',
    list: ' sctp ! only DATA:Be,ABORT:t,SHUTDOWN_COMPLETE:T',
    listN: ' sctp ! only 0x0000:Be,0x0006:t,0x000E:T',
  });
  assert.equal(texts(sctpMatch, ['--chunk-types', 'any', 'DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:E,DATA:u']).save, ' --chunk-types any DATA:uB,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA');
  assert.equal(texts(sctpMatch, ['--chunk-types', 'any', 'DATA:-,data:i']).list, ' sctp any DATA:-i');
  assert.equal(texts(sctpMatch, ['--chunk-types', 'ALL', 'none']).save, ' --chunk-types all NONE');
  assert.deepEqual(texts(sctpMatch, ['--sport', ':8', '--dport', 'amqp']), { save: ' --sport 0:8 --dport 5672', list: ' sctp spts:0:8 dpt:amqp', listN: ' sctp spts:0:8 dpt:5672' });
  assert.equal(texts(sctpMatch, []).list, ' sctp');
  assert.equal(texts(sctpMatch, []).save, '');
  assert.equal(parseError(sctpMatch, ['--dport', 'http']), "invalid port/service `http' specified");
  assert.equal(parseError(sctpMatch, ['--dport', '5:3']), 'invalid portrange (min > max)');
  assert.equal(parseError(sctpMatch, ['--sport', '1', '--source-port', '2']), "Only one `--source-port' allowed");
  assert.equal(parseError(sctpMatch, ['--chunk-types', 'foo', 'DATA']), 'Match type has to be one of "ALL", "ANY" or "ONLY"');
  assert.equal(parseError(sctpMatch, ['--chunk-types', 'any', 'FOO']), "Unknown sctp chunk `FOO'");
  assert.equal(parseError(sctpMatch, ['--chunk-types', 'any', 'INIT:B']), 'Invalid flags for chunk type 1');
  assert.equal(parseError(sctpMatch, ['--chunk-types', 'any', '-j']), '--chunk-types requires two args');
  assert.equal(sctpMatch.kernelCheck?.(parseOpts(sctpMatch, ['--dport', '5']), { table: 'filter' }), false);
  assert.equal(sctpMatch.kernelCheck?.(parseOpts(sctpMatch, ['--dport', '5']), { table: 'filter', proto: { num: 132, neg: false } }), true);
  assert.equal(sctpMatch.exactDport?.(parseOpts(sctpMatch, ['--dport', '5'])), 5);
  assert.equal(sctpMatch.exactDport?.(parseOpts(sctpMatch, ['!', '--dport', '5'])), undefined);
});

test('sctp: matching ports and chunks as the kernel does', () => {
  const host = fakeHost();
  const sctp = (c: Partial<Parameters<typeof packet>[0]> = {}) => packet({ proto: 132, sport: 5000, dport: 80, ...c });
  const d = parseOpts(sctpMatch, ['--dport', '80']);
  assert.equal(sctpMatch.match(d, matchCtx(host, { pkt: sctp() })), true);
  assert.equal(sctpMatch.match(d, matchCtx(host, { pkt: sctp({ dport: 81 }) })), false);
  assert.equal(sctpMatch.why(d, matchCtx(host, { pkt: sctp({ dport: 81 }) })), 'dpt 81 not 80');
  const initOnly = parseOpts(sctpMatch, ['--chunk-types', 'only', 'INIT']);
  assert.equal(sctpMatch.match(initOnly, matchCtx(host, { pkt: sctp(), ct: ctView({ state: 'NEW' }) })), true, 'assumed INIT of a new association');
  assert.equal(sctpMatch.match(initOnly, matchCtx(host, { pkt: sctp(), ct: ctView({ state: 'ESTABLISHED' }) })), false);
  const all = parseOpts(sctpMatch, ['--chunk-types', 'all', 'DATA,SACK']);
  assert.equal(sctpMatch.match(all, matchCtx(host, { pkt: sctp({ sctpChunks: [{ type: 0, flags: 3 }, { type: 3, flags: 0 }] }) })), true);
  assert.equal(sctpMatch.match(all, matchCtx(host, { pkt: sctp({ sctpChunks: [{ type: 0, flags: 3 }] }) })), false);
  const dataB = parseOpts(sctpMatch, ['--chunk-types', 'any', 'DATA:B']);
  assert.equal(sctpMatch.match(dataB, matchCtx(host, { pkt: sctp({ sctpChunks: [{ type: 0, flags: 2 }] }) })), true);
  assert.equal(sctpMatch.match(dataB, matchCtx(host, { pkt: sctp({ sctpChunks: [{ type: 0, flags: 1 }] }) })), false);
});

// ---- iprange, length, limit, mac, owner, rpfilter -------------------------------------------

test('iprange: texts, errors, matching', () => {
  assert.deepEqual(texts(iprangeMatch, ['!', '--src-range', '10.0.0.1-10.0.0.9', '!', '--dst-range', '1.2.3.4-1.2.3.4']), {
    save: ' ! --src-range 10.0.0.1-10.0.0.9 ! --dst-range 1.2.3.4-1.2.3.4',
    list: ' source IP range ! 10.0.0.1-10.0.0.9 destination IP range ! 1.2.3.4-1.2.3.4',
    listN: ' source IP range ! 10.0.0.1-10.0.0.9 destination IP range ! 1.2.3.4-1.2.3.4',
  });
  assert.equal(texts(iprangeMatch, ['--dst-range', '10.0.0.9']).save, ' --dst-range 10.0.0.9-10.0.0.9');
  assert.equal(texts(iprangeMatch, ['--src-range', '10.1-10.2']).save, ' --src-range 10.1.0.0-10.2.0.0');
  assert.equal(parseError(iprangeMatch, ['--dst-range', '10.0.0.300-10.0.0.1']), 'iprange: Bad value for "--dst-range" option: "10.0.0.300"');
  assert.equal(parseError(iprangeMatch, ['--dst-range', '10.0.0.1-']), 'iprange: Bad value for "--dst-range" option: ""');
  assert.equal(parseError(iprangeMatch, []), "iprange match: You must specify `--src-range' or `--dst-range'");
  const host = fakeHost();
  const d = parseOpts(iprangeMatch, ['--src-range', '10.0.0.1-10.0.0.9']);
  assert.equal(iprangeMatch.match(d, matchCtx(host)), true);
  assert.equal(iprangeMatch.match(d, matchCtx(host, { pkt: packet({ src: ip('10.0.0.10') }) })), false);
  assert.equal(iprangeMatch.why(d, matchCtx(host, { pkt: packet({ src: ip('10.0.0.10') }) })), 'src 10.0.0.10 not in 10.0.0.1-10.0.0.9');
  const reversed = parseOpts(iprangeMatch, ['--src-range', '10.0.0.9-10.0.0.1']);
  assert.equal(iprangeMatch.match(reversed, matchCtx(host)), false);
});

test('length: ranges, inversion, errors', () => {
  assert.deepEqual(texts(lengthMatch, ['!', '--length', '100:200']), { save: ' ! --length 100:200', list: ' length !100:200', listN: ' length !100:200' });
  assert.equal(texts(lengthMatch, ['--length', ':200']).save, ' --length 0:200');
  assert.equal(texts(lengthMatch, ['--length', '200:']).save, ' --length 200:65535');
  assert.equal(texts(lengthMatch, ['--length', '100']).list, ' length 100');
  assert.equal(parseError(lengthMatch, ['--length', '70000']), 'length: bad value for option "--length" near "70000", or out of range (0-65535).\n');
  assert.equal(parseError(lengthMatch, []), 'length: option "--length" must be specified\n');
  const host = fakeHost();
  const d = parseOpts(lengthMatch, ['--length', '0:60']);
  assert.equal(lengthMatch.match(d, matchCtx(host)), true);
  assert.equal(lengthMatch.match(d, matchCtx(host, { pkt: packet({ len: 61 }) })), false);
});

test('limit: what survives iptables-nft, and the token bucket on the lab clock', () => {
  assert.deepEqual(texts(limitMatch, []), { save: ' --limit 3/hour', list: ' limit: avg 3/hour burst 5', listN: ' limit: avg 3/hour burst 5' });
  assert.equal(texts(limitMatch, ['--limit', '5/s', '--limit-burst', '10']).save, ' --limit 5/sec --limit-burst 10');
  assert.equal(texts(limitMatch, ['--limit', '100']).save, ' --limit 100/sec');
  assert.equal(texts(limitMatch, ['--limit', '9999/sec']).save, ' --limit 10000/sec');
  assert.equal(texts(limitMatch, ['--limit', '13/minute']).save, ' --limit 13/min');
  assert.equal(texts(limitMatch, ['--limit-burst', '0']).list, ' limit: avg 3/hour burst 5');
  assert.equal(parseError(limitMatch, ['--limit', '10001/s']), 'Rate too fast "10001/s"');
  assert.equal(parseError(limitMatch, ['--limit', '5/x']), 'bad rate "5/x"\'');
  assert.equal(parseError(limitMatch, ['--limit-burst', '10001']), 'limit: bad value for option "--limit-burst", or out of range (0-10000).\n');
  const host = fakeHost();
  const d = parseOpts(limitMatch, ['--limit', '1/sec', '--limit-burst', '2']);
  const ctx = matchCtx(host, { rule: rule() });
  const run = () => limitMatch.match(d, ctx);
  assert.deepEqual([run(), run(), run()], [true, true, false], 'a burst of two');
  host.clock += 0.5;
  assert.equal(run(), false);
  host.clock += 0.5;
  assert.equal(run(), true, 'one token per second');
  assert.equal(run(), false);
});

test('mac: parsing as xtables does, texts, frame-less packets', () => {
  assert.deepEqual(texts(macMatch, ['--mac-source', '00:11:22:aa:BB:cc']), { save: ' --mac-source 00:11:22:aa:bb:cc', list: ' MAC 00:11:22:aa:bb:cc', listN: ' MAC 00:11:22:aa:bb:cc' });
  assert.equal(texts(macMatch, ['!', '--mac-source', '0:1:2:3:4:5']).list, ' MAC ! 00:01:02:03:04:05');
  for (const bad of ['00:11:22:33:44', '00:11:22:33:44:5g', '000:11:22:33:44:55', '00:11:22:33:44:55:66'])
    assert.equal(parseError(macMatch, ['--mac-source', bad]), 'Invalid MAC address specified.', bad);
  assert.equal(parseError(macMatch, []), 'mac: option "--mac-source" must be specified\n');
  const host = fakeHost();
  const d = parseOpts(macMatch, ['--mac-source', '02:00:00:00:00:01']);
  assert.equal(macMatch.match(d, matchCtx(host, { pkt: packet({ srcMac: '02:00:00:00:00:01' }) })), true);
  assert.equal(macMatch.match(d, matchCtx(host, { pkt: packet({ srcMac: '02:00:00:00:00:02' }) })), false);
  const inv = parseOpts(macMatch, ['!', '--mac-source', '02:00:00:00:00:01']);
  assert.equal(macMatch.match(inv, matchCtx(host)), false, 'no frame, no match');
  assert.equal(macMatch.kernelCheck?.(d, { table: 'filter', hook: 'OUTPUT' }), false);
});

test('owner: names from the node passwd/group, ranges, socket rules', () => {
  assert.deepEqual(texts(ownerMatch, ['!', '--uid-owner', '1000-2000', '--gid-owner', '5', '!', '--socket-exists']), {
    save: ' ! --socket-exists ! --uid-owner 1000-2000 --gid-owner 5',
    list: ' ! owner socket exists ! owner UID match 1000-2000 owner GID match tty',
    listN: ' ! owner socket exists ! owner UID match 1000-2000 owner GID match 5',
  });
  assert.deepEqual(texts(ownerMatch, ['--uid-owner', 'www-data', '--gid-owner', 'nogroup']), {
    save: ' --uid-owner 33 --gid-owner 65534', list: ' owner UID match www-data owner GID match nogroup', listN: ' owner UID match 33 owner GID match 65534',
  });
  assert.equal(texts(ownerMatch, ['--gid-owner', '7', '--suppl-groups']).list, ' owner GID match lp incl. suppl. groups');
  assert.equal(texts(ownerMatch, ['--uid-owner', '5:9']).save, ' --uid-owner 5-9');
  assert.equal(parseError(ownerMatch, ['--uid-owner', 'nosuchuser']), 'owner: Bad value for "--uid-owner" option: "nosuchuser"');
  assert.equal(parseError(ownerMatch, ['--uid-owner', '4294967295']), 'owner: Bad value for "--uid-owner" option: "4294967295"');
  assert.equal(parseError(ownerMatch, ['--suppl-groups', '--gid-owner', '7']), 'owner: Bad value for "--suppl-groups" option: "you need to use --gid-owner first"');
  assert.equal(parseError(ownerMatch, []), 'owner: At least one of --uid-owner, --gid-owner or --socket-exists is required');
  assert.equal(ownerMatch.kernelCheck?.(parseOpts(ownerMatch, ['--uid-owner', '5-3']), { table: 'filter', hook: 'OUTPUT' }), false);
  assert.equal(ownerMatch.kernelCheck?.(parseOpts(ownerMatch, ['--uid-owner', '0']), { table: 'filter', hook: 'INPUT' }), false);
  const host = fakeHost();
  const root = parseOpts(ownerMatch, ['--uid-owner', '0']);
  assert.equal(ownerMatch.match(root, matchCtx(host, { hook: 'OUTPUT' })), true);
  assert.equal(ownerMatch.match(root, matchCtx(host, { hook: 'POSTROUTING', inIface: 'eth1' })), false, 'forwarded: no socket');
  assert.equal(ownerMatch.why(root, matchCtx(host, { hook: 'POSTROUTING', inIface: 'eth1' })), 'no local socket');
  assert.equal(ownerMatch.match(parseOpts(ownerMatch, ['!', '--socket-exists']), matchCtx(host, { hook: 'POSTROUTING', inIface: 'eth1' })), true);
  assert.equal(ownerMatch.match(parseOpts(ownerMatch, ['--uid-owner', '33']), matchCtx(host, { hook: 'OUTPUT' })), false);
});

test('rpfilter: texts, table limits, and the reverse-path verdict', () => {
  assert.deepEqual(texts(rpfilterMatch, ['--validmark', '--invert']), { save: ' --validmark --invert', list: ' rpfilter validmark invert', listN: ' rpfilter validmark invert' });
  assert.equal(texts(rpfilterMatch, ['--invert', '--accept-local', '--validmark', '--loose']).save, ' --loose --validmark --accept-local --invert');
  assert.equal(texts(rpfilterMatch, []).list, ' rpfilter');
  assert.equal(parseError(rpfilterMatch, ['!', '--loose']), 'rpfilter: option "--loose" cannot be inverted.\n');
  const d = parseOpts(rpfilterMatch, ['--validmark', '--invert']);
  assert.equal(rpfilterMatch.kernelCheck?.(d, { table: 'raw', hook: 'PREROUTING' }), true);
  assert.equal(rpfilterMatch.kernelCheck?.(d, { table: 'filter', hook: 'INPUT' }), false);
  assert.equal(rpfilterMatch.kernelCheck?.(d, { table: 'raw', hook: 'OUTPUT' }), false);
  const seen: unknown[] = [];
  const host = fakeHost({
    rpfilterCheck(pkt, iif, opts) {
      seen.push({ src: pkt.src, iif, opts });
      return iif === 'cali1';
    },
  });
  const ctx = (iif: string) => matchCtx(host, { table: 'raw', hook: 'PREROUTING', inIface: iif });
  assert.equal(rpfilterMatch.match(d, ctx('cali1')), false, 'valid source: Calico does not drop');
  assert.equal(rpfilterMatch.match(d, ctx('cali2')), true, 'spoofed: --invert matches, Calico drops');
  assert.deepEqual(seen[0], { src: ip('10.0.0.5'), iif: 'cali1', opts: { loose: false, validMark: true, acceptLocal: false } });
  assert.equal(rpfilterMatch.match(d, ctx('lo')), false, 'loopback always passes');
  assert.equal(rpfilterMatch.match(d, matchCtx(host, { inIface: 'cali2', pkt: packet({ src: 0, dst: 0xffffffff }) })), false, 'DHCP-style broadcast passes');
  assert.equal(rpfilterMatch.match(d, matchCtx(fakeHost(), { inIface: 'x' })), false, 'no routing information: passes');
});

// ---- targets -----------------------------------------------------------------------------------

test('CONNMARK: the three modes as saved and listed, and what they do', () => {
  const t = (tokens: string[]) => texts(connmarkTarget, tokens);
  assert.deepEqual(t(['--set-mark', '5/0xf0']), { save: ' --set-xmark 0x5/0xf5', list: ' CONNMARK xset 0x5/0xf5', listN: ' CONNMARK xset 0x5/0xf5' });
  assert.equal(t(['--set-mark', '5']).list, ' CONNMARK set 0x5');
  assert.equal(t(['--save-mark']).save, ' --save-mark --nfmask 0xffffffff --ctmask 0xffffffff');
  assert.equal(t(['--save-mark']).list, ' CONNMARK save');
  assert.equal(t(['--save-mark', '--nfmask', '0xff', '--ctmask', '0xf']).list, ' CONNMARK save nfmask 0xff ctmask ~0xf');
  assert.equal(t(['--restore-mark', '--mask', '0xff']).list, ' CONNMARK restore mask 0xff');
  assert.equal(t(['--restore-mark', '--ctmask', '3', '--nfmask', '5']).list, ' CONNMARK restore ctmask 0x3 nfmask ~0x5');
  assert.equal(t(['--and-mark', '0xf']).save, ' --set-xmark 0x0/0xfffffff0');
  assert.equal(t(['--and-mark', '0xf']).list, ' CONNMARK and 0xf');
  assert.equal(t(['--or-mark', '0xf']).list, ' CONNMARK or 0xf');
  assert.equal(t(['--xor-mark', '0xf']).list, ' CONNMARK xor 0xf');
  assert.equal(t(['--set-xmark', '0x0/0x0']).list, ' CONNMARK and 0xffffffff');
  assert.equal(t(['--set-mark', '1', '--mask', '4']).save, ' --set-xmark 0x1/0x4');
  assert.equal(t(['--mask', '3', '--set-mark', '1']).save, ' --set-xmark 0x1/0xffffffff');
  assert.deepEqual(t(['--save-mark', '--left-shift-mark', '1', '--right-shift-mark', '2']), {
    save: ' --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 2', list: ' CONNMARK save right-shift-mark 2', listN: ' CONNMARK save right-shift-mark 2',
  });
  assert.equal(parseError(connmarkTarget, []), 'CONNMARK target: No operation specified');
  assert.equal(parseError(connmarkTarget, ['--mask', '3', '--nfmask', '4']), 'CONNMARK target: No operation specified');
  assert.equal(parseError(connmarkTarget, ['--set-mark', '1', '--save-mark']), 'CONNMARK: option "--set-mark" cannot be used together with "--save-mark".\n');
  assert.equal(parseError(connmarkTarget, ['--restore-mark', '--set-mark', '3']), 'CONNMARK: option "--set-mark" cannot be used together with "--restore-mark".\n');
  assert.equal(parseError(connmarkTarget, ['--save-mark', '--right-shift-mark', '33']), 'CONNMARK: bad value for option "--right-shift-mark", or out of range (0-32).\n');
  assert.equal(connmarkTarget.kernelCheck?.(parseOpts(connmarkTarget, ['--save-mark', '--left-shift-mark', '32']), { table: 'mangle' }), false);

  const host = fakeHost();
  const ct = ctView({ mark: 0xff00 });
  const ctx = targetCtx(host, { ct, pkt: packet({ mark: 0x1234 }) });
  assert.deepEqual(connmarkTarget.apply(parseOpts(connmarkTarget, ['--set-xmark', '0x1/0xf00']), ctx), { kind: 'continue' });
  assert.equal(ct.mark, 0xf001);
  connmarkTarget.apply(parseOpts(connmarkTarget, ['--save-mark', '--nfmask', '0xff', '--ctmask', '0xff']), ctx);
  assert.equal(ct.mark, 0xf034);
  ctx.pkt.mark = 0xaa00;
  connmarkTarget.apply(parseOpts(connmarkTarget, ['--restore-mark', '--mask', '0xf']), ctx);
  assert.equal(ctx.pkt.mark, 0xaa04);
  connmarkTarget.apply(parseOpts(connmarkTarget, ['--set-mark', '0x3', '--left-shift-mark', '4']), ctx);
  assert.equal(ct.mark, 0x30);
  const none = targetCtx(host, { ct: null });
  assert.deepEqual(connmarkTarget.apply(parseOpts(connmarkTarget, ['--set-mark', '1']), none), { kind: 'continue' });
});

test('ttl and TTL: comparisons, and the new TTL stops at 0 and 255', () => {
  const host = fakeHost();
  const at = (ttl: number) => matchCtx(host, { pkt: packet({ ttl }) });
  const m = (opts: string[], ttl: number) => ttlMatch.match(parseOpts(ttlMatch, opts), at(ttl));
  assert.deepEqual([m(['--ttl-eq', '5'], 5), m(['--ttl-eq', '5'], 6), m(['!', '--ttl-eq', '5'], 6), m(['--ttl', '7'], 7)], [true, false, true, true]);
  assert.deepEqual([m(['--ttl-lt', '5'], 4), m(['--ttl-lt', '5'], 5), m(['--ttl-gt', '5'], 6), m(['--ttl-gt', '5'], 5)], [true, false, true, false]);
  assert.equal(ttlMatch.save(parseOpts(ttlMatch, ['!', '--ttl', '3'])), ' ! --ttl-eq 3');
  assert.equal(parseError(ttlMatch, []), "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
  const apply = (opts: string[], ttl: number) => {
    const ctx = targetCtx(host, { pkt: packet({ ttl }) });
    assert.deepEqual(ttlTarget.apply(parseOpts(ttlTarget, opts), ctx), { kind: 'continue' });
    return ctx.pkt.ttl;
  };
  assert.deepEqual([apply(['--ttl-set', '5'], 64), apply(['--ttl-inc', '255'], 64), apply(['--ttl-dec', '200'], 64), apply(['--ttl-dec', '1'], 64)], [5, 255, 0, 63]);
  assert.equal(parseError(ttlTarget, ['--ttl-dec', '0']), 'TTL: bad value for option "--ttl-dec", or out of range (1-255).\n');
});

test('REDIRECT: ports, protocol requirement, NAT request', () => {
  const tcp = { proto: { num: 6, neg: false } };
  assert.deepEqual(texts(redirectTarget, ['--to-ports', '8080-8090', '--random'], tcp), { save: ' --to-ports 8080-8090 --random', list: ' redir ports 8080-8090 random', listN: ' redir ports 8080-8090 random' });
  assert.equal(texts(redirectTarget, ['--to-ports', 'domain'], tcp).save, ' --to-ports 53');
  assert.equal(texts(redirectTarget, ['--random']).list, ' random');
  assert.equal(texts(redirectTarget, []).save, '');
  assert.equal(parseError(redirectTarget, ['--to-ports', '80']), 'Need TCP, UDP, SCTP or DCCP with port specification');
  assert.equal(parseError(redirectTarget, ['--to-ports', '90-80'], tcp), "Port range `80' funky");
  assert.equal(parseError(redirectTarget, ['--to-ports', '65536'], tcp), "Port `65536' not valid");
  assert.equal(parseError(redirectTarget, ['--to-ports', '80:90'], tcp), 'Invalid port:port syntax - use dash');
  assert.equal(parseError(redirectTarget, ['--to-ports', '80-'], tcp), "Port `' not valid");
  assert.equal(parseError(redirectTarget, ['--to-ports', '80,90'], tcp), "Garbage after port value: `,90'");
  assert.equal(parseError(redirectTarget, ['--to-ports', '80-90x'], tcp), "Garbage after port range: `x'");
  assert.equal(parseError(redirectTarget, ['--to-ports', '80-90/85'], tcp), 'Shifted portmap ranges not supported with this kernel');
  assert.equal(parseError(redirectTarget, ['--random', '--random'], tcp), 'REDIRECT: option "--random" can only be used once.\n');
  assert.deepEqual(redirectTarget.tables, ['nat']);
  assert.deepEqual(redirectTarget.hooks, ['PREROUTING', 'OUTPUT']);
  const host = fakeHost();
  assert.deepEqual(redirectTarget.apply(parseOpts(redirectTarget, ['--to-ports', '15001'], tcp), targetCtx(host)), {
    kind: 'nat', nat: { kind: 'redirect', minPort: 15001, maxPort: 15001, random: false, randomFully: false, persistent: false },
  });
  assert.deepEqual(redirectTarget.apply(parseOpts(redirectTarget, []), targetCtx(host)), {
    kind: 'nat', nat: { kind: 'redirect', random: false, randomFully: false, persistent: false },
  });
});

test('CT, NOTRACK and TRACE', () => {
  assert.deepEqual(texts(ctTarget, ['--notrack']), { save: ' --notrack', list: ' CT notrack', listN: ' CT notrack' });
  assert.equal(texts(ctTarget, []).list, ' CT');
  assert.equal(texts(ctTarget, ['--zone', '3', '--notrack']).save, ' --notrack --zone 3');
  assert.equal(texts(ctTarget, ['--zone-orig', 'MARK']).save, ' --zone-orig mark');
  assert.equal(texts(ctTarget, ['--zone', '1', '--zone-orig', '2']).save, ' --zone-orig 2');
  assert.equal(texts(ctTarget, ['--zone-orig', '1', '--zone-reply', '2']).save, ' --zone 2');
  assert.equal(texts(ctTarget, ['--zone', '0']).save, '');
  assert.equal(texts(ctTarget, ['--zone', '0x10']).list, ' CT zone 16');
  assert.equal(texts(ctTarget, ['--ctevents', 'mark,new,secmark,reply', '--expevents', 'new']).save, ' --ctevents new,reply,mark,secmark --expevents new');
  assert.equal(parseError(ctTarget, ['--zone', '65536']), 'Cannot parse 65536 as a zone ID');
  assert.equal(parseError(ctTarget, ['--ctevents', 'new,bad']), 'Unknown event type "bad"');
  assert.equal(ctTarget.kernelCheck?.(parseOpts(ctTarget, ['--helper', 'ftp']), { table: 'raw' }), false);
  assert.equal(ctTarget.kernelCheck?.(parseOpts(ctTarget, ['--timeout', 'x', '--notrack']), { table: 'raw' }), true);
  const host = fakeHost();
  assert.deepEqual(ctTarget.apply(parseOpts(ctTarget, ['--notrack']), targetCtx(host)), { kind: 'notrack' });
  assert.deepEqual(ctTarget.apply(parseOpts(ctTarget, ['--zone', '1']), targetCtx(host)), { kind: 'continue' });
  assert.deepEqual(ctTarget.tables, ['raw']);

  assert.equal(notrackTarget.listName, 'CT');
  assert.deepEqual(texts(notrackTarget, []), { save: '', list: ' NOTRACK', listN: ' NOTRACK' });
  assert.deepEqual(notrackTarget.apply({}, targetCtx(host)), { kind: 'notrack' });
  assert.deepEqual(notrackTarget.tables, ['raw']);

  assert.deepEqual(texts(traceTarget, []), { save: '', list: '', listN: '' });
  assert.deepEqual(traceTarget.apply({}, targetCtx(host)), { kind: 'trace' });
  assert.equal(traceTarget.tables, undefined, 'iptables-nft accepts TRACE in every table');
});

test('NFLOG: what the nft log statement keeps, and the log record', () => {
  assert.deepEqual(texts(nflogTarget, ['--nflog-group', '1', '--nflog-prefix', 'calico-packet']), {
    save: ' --nflog-prefix calico-packet --nflog-group 1', list: ' nflog-prefix calico-packet nflog-group 1', listN: ' nflog-prefix calico-packet nflog-group 1',
  });
  assert.equal(texts(nflogTarget, ['--nflog-group', '0', '--nflog-range', '100', '--nflog-threshold', '5']).save, ' --nflog-threshold 5');
  assert.equal(texts(nflogTarget, ['--nflog-threshold', '0']).save, '');
  assert.equal(texts(nflogTarget, ['--nflog-size', '0']).save, ' --nflog-size 0');
  assert.equal(texts(nflogTarget, ['--nflog-prefix', 'a b"c']).save, ' --nflog-prefix "a b\\"c"');
  assert.equal(texts(nflogTarget, ['--nflog-prefix', "it's"]).list, ' nflog-prefix "it\\\'s"');
  assert.equal(texts(nflogTarget, ['--nflog-prefix', 'back\\\\slash']).save, ' --nflog-prefix "back\\\\\\\\slash"');
  assert.equal(texts(nflogTarget, ['--nflog-prefix', 'a'.repeat(200)]).save, ` --nflog-prefix ${'a'.repeat(127)}`);
  assert.equal(
    texts(nflogTarget, ['--nflog-prefix', 'x', '--nflog-group', '2', '--nflog-size', '7', '--nflog-threshold', '3']).list,
    ' nflog-prefix x nflog-group 2 nflog-size 7 nflog-threshold 3',
  );
  assert.equal(parseError(nflogTarget, ['--nflog-prefix', '']), 'Argument must have a minimum length of 1 characters\n');
  assert.equal(parseError(nflogTarget, ['--nflog-group', '65536']), 'NFLOG: bad value for option "--nflog-group", or out of range (0-65535).\n');
  assert.equal(parseError(nflogTarget, ['--nflog-range', '5', '--nflog-size', '6']), 'NFLOG: option "--nflog-range" cannot be used together with "--nflog-size".\n');
  assert.equal(parseError(nflogTarget, ['!', '--nflog-group', '1']), 'NFLOG: option "--nflog-group" cannot be inverted.\n');
  const lines: string[] = [];
  const res = nflogTarget.apply(parseOpts(nflogTarget, ['--nflog-group', '1', '--nflog-prefix', 'DROP ']), targetCtx(fakeHost(), {}, lines));
  assert.deepEqual(res, { kind: 'continue' });
  assert.deepEqual(lines, ['NFLOG group 1: DROP IN=eth0 OUT= SRC=10.0.0.5 DST=10.96.0.1 LEN=60 TTL=64 PROTO=TCP SPT=40000 DPT=80']);
});
