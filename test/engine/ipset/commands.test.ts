// The `ipset` command line: commands and their aliases, options anywhere on the line, and
// the exact messages and exit statuses of ipset v7.17 for errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lab, ok } from './helpers.ts';
import type { Run } from './helpers.ts';

const E = (msg: string): string => `ipset v7.17: ${msg}\n`;
const P = (msg: string): string => `ipset v7.17: ${msg}\nTry \`ipset help' for more information.\n`;

function expectErr(r: Run, stderr: string, code: number): void {
  assert.equal(r.stderr, stderr);
  assert.equal(r.code, code);
  assert.equal(r.stdout, '');
}

test('add, del and test with their messages and statuses', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip');
  assert.equal(run('add a 10.0.0.1').changed, true);
  expectErr(run('add a 10.0.0.1'), E("Element cannot be added to the set: it's already added"), 1);
  ok(run, '-! add a 10.0.0.1', 'add a 10.0.0.1 -exist', '--exist add a 10.0.0.1');
  expectErr(run('del a 10.0.0.2'), E("Element cannot be deleted from the set: it's not added"), 1);
  ok(run, '-exist del a 10.0.0.2');
  let r = run('test a 10.0.0.1');
  assert.deepEqual([r.stderr, r.code, r.changed], ['Warning: 10.0.0.1 is in set a.\n', 0, false]);
  r = run('test a 10.0.0.2');
  assert.deepEqual([r.stderr, r.code], ['10.0.0.2 is NOT in set a.\n', 1]);
  r = run('-q test a 10.0.0.2');
  assert.deepEqual([r.stderr, r.code], ['', 1]);
  r = run('-q test a 10.0.0.1');
  assert.deepEqual([r.stderr, r.code], ['', 0]);
  expectErr(run('test nosuch 10.0.0.2'), E('The set with the given name does not exist'), 1);
  expectErr(run('-q add nosuch 10.0.0.2'), '', 1);
});

test('set management errors', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip', 'create b hash:net', 'create L list:set');
  expectErr(run('create a hash:ip'), E('Set cannot be created: set with the same name already exists'), 1);
  ok(run, '-exist create a hash:ip hashsize 4096');
  expectErr(run('-exist create a hash:net'), E('Set cannot be created: set with the same name already exists'), 1);
  expectErr(run('-exist create a hash:ip maxelem 10'), E('Set cannot be created: set with the same name already exists'), 1);
  expectErr(run('destroy nosuch'), E('The set with the given name does not exist'), 1);
  expectErr(run('flush nosuch'), E('The set with the given name does not exist'), 1);
  expectErr(run('list nosuch'), E('The set with the given name does not exist'), 1);
  ok(run, 'add L a');
  expectErr(run('destroy a'), E('Set cannot be destroyed: it is in use by a kernel component'), 1);
  expectErr(run('destroy'), E('Set cannot be destroyed: it is in use by a kernel component'), 1);
  expectErr(run('rename a c'), E('Set cannot be renamed: it is in use by another system'), 1);
  expectErr(run('rename b a'), E('Set cannot be renamed: a set with the new name already exists'), 1);
  expectErr(run('swap a b'), E('The sets cannot be swapped: their type does not match'), 1);
  expectErr(run('swap a zz'), E('Sets cannot be swapped: the second set does not exist'), 1);
  expectErr(run('swap zz a'), E('The set with the given name does not exist'), 1);
  expectErr(run('rename b ' + 'x'.repeat(32)), E(`Syntax error: setname '${'x'.repeat(32)}' is longer than 31 characters`), 1);
  ok(run, 'flush', 'destroy');
  assert.equal(run('list').stdout, '');
});

test('command names, prefixes and aliases', () => {
  const { run } = lab();
  ok(run, '-N a hash:ip initval 0x25fd938f', '-A a 1.1.1.1', '--add a 1.1.1.2', 'a a 1.1.1.3', 'n b hash:ip', 'x b');
  const list = run('list a').stdout;
  assert.equal(run('-L').stdout, list);
  assert.equal(run('lis').stdout, list);
  assert.equal(run('--l').stdout, list);
  assert.equal(run('li a').stdout, list);
  assert.equal(run('--list -n').stdout, 'a\n');
  assert.equal(run('-S').stdout, run('s').stdout);
  for (const v of ['-v', '--version', 'v', 'version foo', '-V']) {
    assert.deepEqual([run(v).stdout, run(v).code], ['ipset v7.17, protocol version: 7\n', 0]);
  }
  expectErr(run('listt'), P('No command specified: unknown argument listt'), 2);
  expectErr(run('-l'), P('No command specified: unknown argument -l'), 2);
  expectErr(run('--'), P('No command specified: unknown argument --'), 2);
  expectErr(run(''), P('No command specified.'), 2);
  expectErr(run('-q foo'), '', 2);
});

test('argument errors', () => {
  const { run } = lab();
  ok(run, 'create c hash:ip');
  expectErr(run('create'), P('Missing mandatory argument to command create'), 2);
  expectErr(run('create b'), P('Missing second mandatory argument to command create'), 2);
  expectErr(run('test c'), P('Missing second mandatory argument to command test'), 2);
  expectErr(run('list c d'), P('Unknown argument d'), 2);
  expectErr(run('restore foo'), P('Unknown argument foo'), 2);
  expectErr(run('add c 1.2.3.4 foo'), P("Unknown argument: `foo'"), 2);
  expectErr(run('del c 1.2.3.4 timeout 5'), P("Unknown argument: `timeout'"), 2);
  expectErr(run('add c 1.2.3.4 timeout'), P("Missing mandatory argument of option `timeout'"), 2);
  expectErr(run('list -o'), P('Missing mandatory argument to option -o'), 2);
  expectErr(run('-o foo list'), E("Syntax error: unknown output mode 'foo'"), 1);
  expectErr(run('-o json list'), E("Syntax error: unknown output mode 'json'"), 1);
  expectErr(run('create b hash:foo'), E("Syntax error: typename 'hash:foo' is unknown"), 1);
  expectErr(run('create b hash:IP'), E("Syntax error: typename 'hash:IP' is unknown"), 1);
  ok(run, 'create b1 iphash', 'create b2 nethash', 'create b3 setlist', 'create b4 ipporthash');
  assert.match(run('list -t b4').stdout, /Type: hash:ip,port\n/);
});

test('create option parsing', () => {
  const { run } = lab();
  expectErr(run('create a hash:ip hashsize foo'), E("Syntax error: 'foo' is invalid as number"), 1);
  expectErr(run('create a hash:ip maxelem -1'), E("Syntax error: '-1' is out of range 0-4294967295"), 1);
  expectErr(run('create a hash:ip timeout 2147484'), E("Syntax error: '2147484' is out of range 0-2147483"), 1);
  expectErr(
    run('create a hash:ip netmask 33'),
    E("Syntax error: '33' is out of range 1-32\nSyntax error: netmask is out of the inclusive range of 1-32"),
    1,
  );
  expectErr(run('create a hash:ip size 5'), P("Unknown argument: `size'"), 2);
  expectErr(run('create a hash:net netmask 24'), P("Unknown argument: `netmask'"), 2);
  expectErr(run('create a hash:ip hashsize 64 hashsize 128'), E('Syntax error: hashsize already specified'), 1);
  expectErr(run('create a hash:ip -4 family inet'), E('Syntax error: family already specified'), 1);
  expectErr(run('create a hash:ip family foo'), E('Syntax error: unknown inet family foo'), 1);
  expectErr(run('create a hash:ip initval 0xfffffffff'), E("Syntax error: '0xfffffffff' is out of range 0-4294967295"), 1);
  expectErr(run('create a hash:ip hashsize 4294967295'), E('Kernel error received: Cannot allocate memory'), 1);
  expectErr(
    run('create a hash:ip bitmask 255.0.0.0 netmask 8'),
    E('Syntax error: bitmask and netmask are mutually exclusive, provide only one'),
    1,
  );
  const w = run('create w hash:ip probes 4 resize 5 gc 3');
  assert.equal(
    w.stderr,
    "Warning: Option '--probes 4' is ignored. Please upgrade your syntax.\nOption '--resize 5' is ignored. Please upgrade your syntax.\n" +
      "Option '--gc 3' is ignored. Please upgrade your syntax.\n",
  );
  assert.equal(w.code, 0);
  ok(run, 'create h hash:ip hashsize 10 bucketsize 3 maxelem 0x10 initval 12', 'create l list:set size 0', 'create c hash:ip comment comment');
  assert.match(run('list -t h').stdout, /Header: family inet hashsize 64 maxelem 16 bucketsize 4 initval 0x0000000c\n/);
  assert.match(run('list -t l').stdout, /Header: size 4\n/);
  // inet6 sets are refused clearly.
  expectErr(run('create v6 hash:ip family inet6'), E('Kernel error received: family inet6 is not supported by the lab (IPv4 sets only)'), 1);
});

test('element syntax errors', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip', 'create p hash:ip,port', 'create n hash:net', 'create e list:set');
  expectErr(run('add a foo'), E('Syntax error: cannot parse foo: resolving to IPv4 address failed'), 1);
  expectErr(run('add a 1.2.3.4,80'), E('Syntax error: Elem separator in 1.2.3.4,80, but settype hash:ip supports none.'), 1);
  expectErr(run('add a 10.0.0.0/33'), E("Syntax error: '33' is out of range 0-32"), 1);
  expectErr(run('add a 10.0.0.0/0'), E('The value of the CIDR parameter of the IP address is invalid'), 1);
  expectErr(run('add a 0.0.0.0'), E('Null-valued element, cannot be stored in a hash type of set'), 1);
  expectErr(run('add p 10.0.0.1'), E('Syntax error: Second element is missing from 10.0.0.1.'), 1);
  expectErr(run('add p 10.0.0.1,80,90'), E('Syntax error: Two elem separators in 10.0.0.1,80,90, but settype hash:ip,port supports one.'), 1);
  expectErr(
    run('add p 10.0.0.1,udp:foo'),
    E("Syntax error: 'foo' is invalid as number\nSyntax error: 'udp' is invalid as number\ncannot parse 'foo' as a udp port"),
    1,
  );
  expectErr(run('add p 10.0.0.1,icmp:3'), E('Cannot parse 3 as an ICMP type/code.'), 1);
  expectErr(run('add p 10.0.0.1,gre:5'), E('Syntax error: Protocol gre can be used with pseudo port value 0 only.'), 1);
  expectErr(run('add p 10.0.0.1,foo:80'), E("Syntax error: cannot parse 'foo' as a protocol"), 1);
  expectErr(run('add p 10.0.0.1,0:0'), E('Invalid protocol specified'), 1);
  expectErr(run('add p 0.0.0.0,80'), E('Kernel error received: Invalid argument'), 1);
  expectErr(
    run('add p 10.0.0.1,icmpv6:0'),
    E('Syntax error: Protocol ICMPv6 can be used with family inet6 only\nInvalid add command: missing setname'),
    1,
  );
  expectErr(run('test p 10.0.0.1,80-81'), E('FROM-TO port range is not allowed in command test with set type hash:ip,port and family inet'), 1);
  expectErr(run('test p 10.0.0.0/24,53'), E('IP/CIDR range is not allowed in command test with set type hash:ip,port and family inet'), 1);
  expectErr(run('test n 10.0.0.1-10.0.0.2'), E('FROM-TO IP range is not allowed in command test with set type hash:net and family inet'), 1);
  expectErr(run('add n 0.0.0.0-255.255.255.255'), E('Invalid range, covers the whole address space'), 1);
  expectErr(run('add a 1.1.1.1 timeout 10'), E('Timeout cannot be used: set was created without timeout support'), 1);
  expectErr(run('add a 1.1.1.1 packets 5'), E('Packet/byte counters cannot be used: set was created without counter support'), 1);
  expectErr(run('add a 1.1.1.1 comment x'), E('Comment cannot be used: set was created without comment support'), 1);
  expectErr(run('add a 1.1.1.1 skbmark 0x1'), E('Skbinfo mapping cannot be used: set was created without skbinfo support'), 1);
  expectErr(run('add a 1.1.1.1 skbmark 5'), E('Syntax error: Invalid skbmark format, it should be:  MARK/MASK or MARK (see manpage)'), 1);
  expectErr(run('add a 1.1.1.1 timeout 5 timeout 5'), E('Syntax error: timeout already specified'), 1);
  expectErr(run('add e e'), E('Sets with list:set type cannot be added to the set.'), 1);
  expectErr(run('add e zz'), E('Set to be added/deleted/tested as element does not exist.'), 1);
  expectErr(run('add e a before zz'), E("The set to which you referred with 'before' or 'after' does not exist."), 1);
  expectErr(run('add e a before n'), E("The set to which you referred with 'before' or 'after' is not added to the set."), 1);
  expectErr(run('add e a,foo,n'), E('you must specify elements as setname,[before|after],setname'), 1);
  expectErr(run('add e a before n after p'), E('Syntax error: after already specified'), 1);
});

test('address forms the resolver accepts', () => {
  const { run } = lab();
  ok(run, 'create a hash:ip initval 0x11', 'add a 010.0.0.1', 'add a 1.2.3', 'add a 16909060', 'add a localhost', 'add a 10.1');
  assert.deepEqual(run('-s list a').stdout.split('Members:\n')[1].split('\n').filter(Boolean), ['1.2.0.3', '1.2.3.4', '8.0.0.1', '10.0.0.1', '127.0.0.1']);
  for (const bad of ['0x01020304', '1..2.3', '1.2.3.4.', '256.1.1.1', '08.1.1.1', 'host.example']) {
    expectErr(run(`add a ${bad}`), E(`Syntax error: cannot parse ${bad}: resolving to IPv4 address failed`), 1);
  }
});

test('help', () => {
  const { run } = lab();
  const h = run('help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^ipset v7\.17\n\nUsage: ipset \[options\] COMMAND\n/);
  assert.ok(h.stdout.includes('\nSupported set types:\n    list:set\t\t3\tskbinfo support\n'));
  const t = run('help hash:net,port');
  assert.match(t.stdout, /\nhash:net,port type specific options:\n\ncreate SETNAME hash:net,port \n/);
  assert.match(t.stdout, /Type hash:net,port supports inet and inet6\.\n$/);
  const q = run('-q help hash:ip');
  assert.doesNotMatch(q.stdout, /hash:ip type specific options/);
  const bad = run('help foo');
  assert.equal(bad.stderr, P("Unknown settype: `foo'"));
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, q.stdout);
});

test('interactive mode reads commands from stdin and survives errors', () => {
  const { run } = lab();
  const r = run('-', 'create a hash:ip initval 1\nadd a 1.1.1.1\nadd a 1.1.1.1\ntest a 1.1.1.1\nrestore\nquit\nadd a 2.2.2.2\n');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ipset> ipset> ipset> ipset> ipset> Restore command is not supported in interactive mode\nipset> ');
  assert.equal(r.stderr, E("Element cannot be added to the set: it's already added") + 'Warning: 1.1.1.1 is in set a.\n');
});
