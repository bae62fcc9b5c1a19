// sysctls of a namespace: the kernel's parsing and side effects, the `sysctl` command, and
// reads/writes of /proc/sys files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetNs } from '../../../main/engine/net/netns.ts';
import { KernelError } from '../../../main/engine/net/errno.ts';
import { Sysctls, parseProcInts } from '../../../main/engine/net/sysctl.ts';
import { catProcSys, readProcSys, sysctl, writeProcSys } from '../../../main/engine/shell/sysctl.ts';

function run(ns: NetNs, line: string): { stdout: string; stderr: string; code: number; changed: boolean } {
  return sysctl(line.split(' '), '', ns);
}

test('integer writes parse like proc_dointvec', () => {
  assert.deepEqual(parseProcInts('1\n', 1, false), [1]);
  assert.deepEqual(parseProcInts(' 0x10 ', 1, false), [16]);
  assert.deepEqual(parseProcInts('010', 1, false), [8]);
  assert.deepEqual(parseProcInts('-1', 1, false), [-1]);
  assert.deepEqual(parseProcInts('1 2', 1, false), [1]);
  assert.deepEqual(parseProcInts('1024\t65000', 2, false), [1024, 65000]);
  for (const bad of ['', 'abc', '1x', '+1', '99999999999']) {
    assert.throws(() => parseProcInts(bad, 1, false), (e: KernelError) => e.errno === 'EINVAL', bad);
  }
  assert.throws(() => parseProcInts('-1', 1, true), KernelError);
});

test('ip_forward is conf.all.forwarding and sets every device, default, and all.accept_redirects', () => {
  const ns = new NetNs('h');
  ns.addLink({ name: 'eth0', kind: 'veth' });
  assert.deepEqual(run(ns, 'sysctl -w net.ipv4.ip_forward=1'), { stdout: 'net.ipv4.ip_forward = 1\n', stderr: '', code: 0, changed: true });
  for (const dev of ['all', 'default', 'lo', 'eth0']) assert.equal(ns.sysctl.conf(dev, 'forwarding'), 1, dev);
  assert.equal(ns.sysctl.conf('all', 'accept_redirects'), 0);
  assert.equal(ns.forwarding('eth0'), true);
  ns.addLink({ name: 'eth1', kind: 'veth' });
  assert.equal(ns.forwarding('eth1'), true, 'new devices copy default');
  run(ns, 'sysctl -w net.ipv4.conf.default.forwarding=0');
  assert.equal(ns.forwarding('eth1'), true, 'default.forwarding does not propagate');
  run(ns, 'sysctl -w net.ipv4.conf.all.forwarding=0');
  assert.equal(run(ns, 'sysctl -n net.ipv4.ip_forward').stdout, '0\n');
  assert.equal(ns.sysctl.conf('all', 'accept_redirects'), 1);
});

test('writing conf.default.X reaches the devices that never had X written', () => {
  const ns = new NetNs('h');
  ns.addLink({ name: 'eth0', kind: 'veth' });
  ns.addLink({ name: 'p0', kind: 'veth' });
  run(ns, 'sysctl -w net.ipv4.conf.eth0.rp_filter=1');
  run(ns, 'sysctl -w net.ipv4.conf.default.rp_filter=2');
  assert.equal(run(ns, 'sysctl net.ipv4.conf.eth0.rp_filter net.ipv4.conf.p0.rp_filter net.ipv4.conf.lo.rp_filter').stdout,
    'net.ipv4.conf.eth0.rp_filter = 1\nnet.ipv4.conf.p0.rp_filter = 2\nnet.ipv4.conf.lo.rp_filter = 2\n');
  assert.equal(ns.sysctl.conf('lo', 'disable_policy'), 1);
  assert.equal(ns.sysctl.conf('lo', 'accept_source_route'), 1);
  assert.equal(ns.sysctl.conf('all', 'accept_source_route'), 0);
});

test('ip_local_port_range: vector writes and the kernel checks', () => {
  const ns = new NetNs('h');
  assert.equal(run(ns, 'sysctl -w net.ipv4.ip_local_port_range=2000').stdout, 'net.ipv4.ip_local_port_range = 2000\n');
  assert.equal(catProcSys('/proc/sys/net/ipv4/ip_local_port_range', ns).stdout, '2000\t60999\n');
  for (const bad of ['60000 1000', '1000 70000', '1000 2000', '0 1000']) {
    assert.equal(writeProcSys('/proc/sys/net/ipv4/ip_local_port_range', bad, ns), 'EINVAL', bad);
  }
  assert.equal(writeProcSys('/proc/sys/net/ipv4/ip_local_port_range', '3000 65535\n', ns), null);
  assert.equal(ns.sysctl.global('net.ipv4.ip_local_port_range'), '3000\t65535');
});

test('read-only keys, unknown keys, and errors of the sysctl command', () => {
  const ns = new NetNs('h');
  assert.deepEqual(run(ns, 'sysctl -w net.netfilter.nf_conntrack_max=1000'), {
    stdout: '', stderr: 'sysctl: setting key "net.netfilter.nf_conntrack_max": Invalid argument\n', code: 0, changed: false,
  });
  assert.equal(ns.sysctl.global('net.netfilter.nf_conntrack_max'), '262144');
  assert.deepEqual(run(ns, 'sysctl net.ipv4.foo'), { stdout: '', stderr: 'sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory\n', code: 1, changed: false });
  assert.deepEqual(run(ns, 'sysctl -e net.ipv4.foo'), { stdout: '', stderr: '', code: 0, changed: false });
  assert.deepEqual(run(ns, 'sysctl -w net.ipv4.ip_forward=abc'), { stdout: '', stderr: 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n', code: 1, changed: false });
  assert.equal(run(ns, 'sysctl -w net.ipv4.ip_forward').stderr, 'sysctl: command line(0): invalid syntax, continuing...\n');
  assert.equal(run(ns, 'sysctl net.ipv4.ip_forward.').stderr, 'sysctl: cannot stat /proc/sys/net/ipv4/ip_forward/: Not a directory\n');
  assert.equal(run(ns, 'sysctl -x').stderr, "sysctl: no variables specified\nTry `sysctl --help' for more information.\n");
  const none = run(ns, 'sysctl');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^\nUsage:\n sysctl \[options\] \[variable\[=value\] \.\.\.\]\n/);
  assert.equal(run(ns, 'sysctl -V').stdout, 'sysctl from procps-ng 4.0.2\n');
  ns.sysctl.setKernelValue('net.netfilter.nf_conntrack_count', '7');
  assert.equal(run(ns, 'sysctl -n net.netfilter.nf_conntrack_count').stdout, '7\n');
});

test('options: -n, -N, -b, -q, --dry-run, slashes, several keys, -a with a pattern', () => {
  const ns = new NetNs('h');
  assert.equal(run(ns, 'sysctl net/ipv4/ip_forward').stdout, 'net.ipv4.ip_forward = 0\n');
  assert.equal(run(ns, 'sysctl -N net.ipv4.ip_forward').stdout, 'net.ipv4.ip_forward\n');
  assert.equal(run(ns, 'sysctl -b net.ipv4.ip_forward').stdout, '0');
  assert.equal(run(ns, 'sysctl -nw net.ipv4.ip_forward=1').stdout, '1\n');
  assert.equal(run(ns, 'sysctl -q -w net.ipv4.ip_forward=0').stdout, '');
  assert.equal(run(ns, 'sysctl --dry-run -w net.ipv4.ip_forward=1').stdout, 'net.ipv4.ip_forward = 1\n');
  assert.equal(ns.forwarding('lo'), false);
  assert.equal(run(ns, 'sysctl -w net.ipv4.ip_forward=1 -n').stdout, '1\n');
  const mixed = run(ns, 'sysctl net.ipv4.ip_forward net.ipv4.fooo net.ipv4.ip_forward');
  assert.equal(mixed.stdout, 'net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 1\n');
  assert.equal(mixed.code, 1);
  assert.equal(run(ns, 'sysctl -a -r ^net.ipv4.conf.lo.rp').stdout, 'net.ipv4.conf.lo.rp_filter = 0\n');
  const all = run(ns, 'sysctl -a').stdout.split('\n');
  assert.ok(all.includes('net.ipv4.tcp_rmem = 4096\t131072\t33554432'));
  assert.ok(all.includes('net.ipv4.ip_local_reserved_ports = '));
  assert.ok(all.indexOf('net.ipv4.ip_forward = 1') < all.indexOf('net.ipv4.ip_forward_update_priority = 1'));
  assert.ok(all.indexOf('net.ipv4.conf.all.accept_local = 0') < all.indexOf('net.ipv4.conf.default.accept_local = 0'));
  assert.deepEqual(all.filter((l) => l.startsWith('net.ipv6')), ['net.ipv6.conf.all.disable_ipv6 = 1', 'net.ipv6.conf.all.forwarding = 0', 'net.ipv6.conf.default.disable_ipv6 = 1',
    'net.ipv6.conf.default.forwarding = 0', 'net.ipv6.conf.lo.disable_ipv6 = 1', 'net.ipv6.conf.lo.forwarding = 0']);
  assert.equal(run(ns, 'sysctl net.ipv4.conf.lo').stdout.split('\n').length, 34);
});

test('/proc/sys reads and writes', () => {
  const ns = new NetNs('h');
  assert.deepEqual(catProcSys('/proc/sys/net/ipv4/ip_forward', ns), { stdout: '0\n', stderr: '', code: 0, changed: false });
  assert.deepEqual(catProcSys('/proc/sys/net/ipv4', ns), { stdout: '', stderr: 'cat: /proc/sys/net/ipv4: Is a directory\n', code: 1, changed: false });
  assert.deepEqual(catProcSys('/proc/sys/net/ipv4/foo', ns), { stdout: '', stderr: 'cat: /proc/sys/net/ipv4/foo: No such file or directory\n', code: 1, changed: false });
  assert.equal(writeProcSys('/proc/sys/net/ipv4/ip_forward', '1\n', ns), null);
  assert.equal(ns.forwarding('lo'), true);
  assert.equal(writeProcSys('/proc/sys/net/ipv4/ip_forward', 'abc\n', ns), 'EINVAL');
  assert.equal(writeProcSys('/proc/sys/net/netfilter/nf_conntrack_max', '5\n', ns), 'EACCES');
  assert.equal(writeProcSys('/proc/sys/net/ipv4/nonexist', '1\n', ns), 'ENOENT');
  assert.deepEqual(readProcSys('/proc/sys/net/ipv4/conf/lo/proxy_arp', ns), { ok: true, text: '0\n' });
});

test('device lifecycle: conf follows renames and disappears with the device; state round-trips', () => {
  const s = new Sysctls();
  s.addDev('eth0', false);
  s.write(['net', 'ipv4', 'conf', 'eth0', 'proxy_arp'], '1');
  s.renameDev('eth0', 'cali1');
  assert.equal(s.conf('cali1', 'proxy_arp'), 1);
  assert.ok(s.lookup(['net', 'ipv4', 'conf', 'eth0']) instanceof KernelError);
  const copy = new Sysctls(JSON.parse(JSON.stringify(s.toJSON())));
  assert.deepEqual(copy.entries(), s.entries());
  s.delDev('cali1');
  assert.ok(s.lookup(['net', 'ipv4', 'neigh', 'cali1', 'proxy_delay']) instanceof KernelError);
  assert.equal(copy.neighValue('cali1', 'proxy_delay'), 80);
});

test('IPv6 switches: all.disable_ipv6 reaches every device and drops its addresses', () => {
  const ns = new NetNs('h', { ipv6: true });
  assert.notEqual(ns.link('lo')?.v6, null);
  run(ns, 'sysctl -w net.ipv6.conf.all.disable_ipv6=1');
  assert.equal(ns.sysctl.conf6Value('lo', 'disable_ipv6'), 1);
  assert.equal(ns.link('lo')?.v6, null);
  run(ns, 'sysctl -w net.ipv6.conf.lo.disable_ipv6=0');
  assert.notEqual(ns.link('lo')?.v6, null);
});

test('a lookup finds every file of the listing, and a file used as a directory is ENOTDIR', () => {
  const s = new Sysctls();
  s.addDev('lo', true);
  for (let i = 0; i < 5; i++) s.addDev(`cali${i}`, false);
  const all = s.entries();
  assert.ok(all.length > 200);
  for (const e of all) {
    const node = s.lookup(e.segs);
    assert.ok(!(node instanceof KernelError) && node.kind === 'file', e.segs.join('.'));
    assert.equal(node.value, e.value, e.segs.join('.'));
  }
  const under = s.lookup(['net', 'ipv4', 'conf', 'cali3']);
  assert.ok(!(under instanceof KernelError) && under.kind === 'dir');
  assert.equal(under.files.length, all.filter((e) => e.segs[3] === 'cali3' && e.segs[2] === 'conf' && e.segs[1] === 'ipv4').length);
  for (const segs of [['net', 'ipv4', 'ip_forward', 'x'], ['net', 'ipv4', 'conf', 'cali3', 'forwarding', 'x'], ['net', 'core', 'somaxconn', 'x']]) {
    const r = s.lookup(segs);
    assert.ok(r instanceof KernelError && r.errno === 'ENOTDIR', segs.join('.'));
  }
  const r = s.lookup(['net', 'ipv4', 'conf', 'cali9', 'forwarding']);
  assert.ok(r instanceof KernelError && r.errno === 'ENOENT');
});
