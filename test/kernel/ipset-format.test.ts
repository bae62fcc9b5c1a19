// Runs the same ipset command sequences on the real ipset (in a network namespace of its own)
// and on the lab's `ipset` command, and requires identical stdout, stderr and exit status for
// every command, including the listings (list, list -name, list -terse, save) each scenario
// ends with.
//
// Normalised, as documented in main/engine/netfilter/ipset/store.ts and types.ts:
// - scenarios that create hash sets without `initval` get a random initval from the kernel;
//   there the initval, "Size in memory" (bucket collisions depend on it) and member order
//   (bucket order) are normalised: members are compared as sets. Scenarios with an explicit
//   initval compare everything exactly, member order and memory size included.
// - element timeouts count down in real time on the kernel while the lab clock stands still:
//   remaining seconds may differ by up to 2.
//
// Needs root and the ipset tool; fails (does not skip) without them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ipset } from '../../main/engine/shell/ipset.ts';
import { IpsetStore } from '../../main/engine/netfilter/ipset/store.ts';

const NS = `kplips${process.pid}t`;

interface Step {
  args: string[];
  stdin?: string;
}

type StepSpec = string | { args: string | string[]; stdin?: string };

interface Scenario {
  name: string;
  /** Hash sets are created without initval: normalise what depends on it. */
  randomInitval?: boolean;
  steps: StepSpec[];
}

interface Out {
  stdout: string;
  stderr: string;
  code: number;
}

function step(s: StepSpec): Step {
  if (typeof s === 'string') return { args: s.split(' ').filter((w) => w !== '') };
  return { args: typeof s.args === 'string' ? s.args.split(' ').filter((w) => w !== '') : s.args, stdin: s.stdin };
}

function real(st: Step): Out {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'ipset', ...st.args], { input: st.stdin ?? '', encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

function lab(store: IpsetStore, st: Step): Out {
  const r = ipset(['ipset', ...st.args], st.stdin ?? '', store);
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
}

const FINAL: StepSpec[] = ['list', 'list -name', 'list -terse', 'save', '-o xml list'];

/** Sort the member lines of every set block (plain, save and xml listings). */
function sortMembers(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let run: string[] = [];
  const isMember = (l: string): boolean =>
    l.startsWith('add ') || l.startsWith('<member>') || /^[0-9]/.test(l);
  for (const l of lines) {
    if (isMember(l)) {
      run.push(l);
      continue;
    }
    out.push(...run.sort());
    run = [];
    out.push(l);
  }
  out.push(...run.sort());
  return out.join('\n');
}

function normaliseRandom(text: string): string {
  return sortMembers(
    text
      .replace(/initval 0x[0-9a-f]{8}/g, 'initval 0xRANDOM')
      .replace(/<initval>0x[0-9a-f]{8}<\/initval>/g, '<initval>0xRANDOM</initval>')
      .replace(/Size in memory: \d+/g, 'Size in memory: N')
      .replace(/<memsize>\d+<\/memsize>/g, '<memsize>N</memsize>'),
  );
}

/** Take the kernel's element timeouts as the lab's when they are within 2 seconds. */
function alignTimeouts(realText: string, labText: string): string {
  const labNums = [...labText.matchAll(/(timeout[ >])(\d+)/g)].map((m) => Number(m[2]));
  let i = 0;
  return realText.replace(/(timeout[ >])(\d+)/g, (all, pre: string, n: string) => {
    const want = labNums[i++];
    return want !== undefined && Math.abs(want - Number(n)) <= 2 ? pre + String(want) : all;
  });
}

function compare(sc: Scenario, st: Step, r: Out, l: Out): void {
  const norm = (s: string): string => (sc.randomInitval ? normaliseRandom(s) : s);
  const what = `[${sc.name}] ipset ${st.args.join(' ')}${st.stdin !== undefined ? ' <<' + JSON.stringify(st.stdin.slice(0, 200)) : ''}`;
  assert.equal(norm(l.stdout), norm(alignTimeouts(r.stdout, l.stdout)), `${what}: stdout`);
  assert.equal(l.stderr, r.stderr, `${what}: stderr`);
  assert.equal(l.code, r.code, `${what}: exit status`);
}

function resetReal(): void {
  // list:set members hold references: flush first, then destroy everything.
  real(step('flush'));
  const r = real(step('destroy'));
  assert.equal(r.code, 0, `cannot reset the namespace: ${r.stderr}`);
}

function runScenario(sc: Scenario): void {
  resetReal();
  const store = new IpsetStore({ seed: 7 });
  for (const spec of [...sc.steps, ...FINAL]) {
    const st = step(spec);
    const r = real(st);
    const l = lab(store, st);
    compare(sc, st, r, l);
  }
}

/** A deterministic mix of adds and deletes (with -exist so misses do not stop it). */
function churn(set = 'c', elem = (i: number): string => `10.0.${i % 5}.${i % 251}`): string {
  let x = 12345;
  let out = '';
  for (let n = 0; n < 1500; n++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const i = x >>> 16;
    out += `${x & 0x300 ? 'add' : 'del'} ${set} ${elem(i)} -exist\n`;
  }
  return out;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i) + '\n').join('');

const SCENARIOS: Scenario[] = [
  {
    name: 'hash:ip basics',
    steps: [
      'create a hash:ip initval 0x12345678',
      'create a hash:ip initval 0x12345678',
      '-exist create a hash:ip initval 0x12345678',
      '-exist create a hash:net',
      '-exist create a hash:ip maxelem 10',
      ...Array.from({ length: 10 }, (_, i) => `add a 10.0.0.${i + 1}`),
      'add a 10.0.0.1',
      '-! add a 10.0.0.1',
      'add a 10.0.0.1 -exist',
      'del a 10.0.0.99',
      '-exist del a 10.0.0.99',
      'del a 10.0.0.3',
      'test a 10.0.0.1',
      'test a 10.0.0.3',
      '-q test a 10.0.0.1',
      '-q test a 10.0.0.3',
      'test nosuch 10.0.0.2',
      'add nosuch 1.2.3.4',
      'list nosuch',
      'add a 0.0.0.0',
      'add a foo',
      'add a 1.2.3.4 foo',
      'add a 1.2.3.4,80',
      'add a 1.1.1.1 timeout 10',
      'add a 1.1.1.1 packets 5',
      'add a 1.1.1.1 comment x',
      'add a 1.1.1.1 nomatch',
      'add a 1.1.1.1 timeout',
    ],
  },
  {
    name: 'hash:ip ranges, prefixes, netmask, address forms',
    steps: [
      'create r hash:ip initval 0x11',
      'add r 10.0.0.0/30',
      'add r 10.0.0.2/31',
      'add r 10.0.1.5-10.0.1.2',
      'add r 10.1',
      'add r 010.0.0.1',
      'add r 16909060',
      'add r 1.2.3',
      'add r 0x01020304',
      'add r 1..2.3',
      'add r 1.2.3.4.',
      'add r 256.1.1.1',
      'add r localhost',
      'add r 10.0.0.0/0',
      'add r 10.0.0.0/33',
      'add r 1.2.3.4-',
      'add r 0.0.0.0-0.0.0.2',
      'add r 255.255.255.254-255.255.255.255',
      'test r 10.0.0.0/30',
      'test r 10.0.1.1-10.0.1.3',
      'del r 10.0.0.0/31',
      'del r 9.9.9.9-9.9.9.10',
      '-! del r 9.9.9.9-9.9.9.10',
      'create nm hash:ip netmask 24 hashsize 100 maxelem 1000 initval 0x22',
      'add nm 10.1.2.3',
      'add nm 10.1.3.0-10.1.5.255',
      'add nm 10.1.4.77',
      'test nm 10.1.4.200',
      'test nm 10.1.9.1',
    ],
  },
  {
    name: 'hash:net',
    steps: [
      'create n hash:net initval 0x22',
      'add n 10.0.0.0',
      'add n 10.0.0.0/0',
      'add n 10.0.0.1-10.0.0.6',
      'add n 10.0.0.1-10.0.0.6',
      'add n 192.168.1.77/24',
      'add n 172.16.0.0/16 nomatch',
      'add n 172.16.0.0/12',
      'add n 0.0.0.0-255.255.255.255',
      'add n 0.0.0.0/1',
      'test n 192.168.1.5',
      'test n 192.168.1.0/24',
      'test n 192.168.1.0/25',
      'test n 10.0.0.1-10.0.0.2',
      'test n 172.16.5.5',
      'test n 172.17.5.5',
      'test n 172.16.0.0/16',
      'test n 172.16.0.0/16 nomatch',
      '-s list n',
      'del n 10.0.0.1-10.0.0.6',
      'del n 192.168.1.0/25',
      'add n 10.9.8.7/32',
      'add n 10.9.8.0/32',
    ],
  },
  {
    name: 'hash:ip,port',
    steps: [
      'create p hash:ip,port initval 0x33',
      'add p 10.0.0.1',
      'add p 10.0.0.1,80-82',
      'add p 10.0.0.1-10.0.0.2,udp:53',
      'add p 10.0.0.1,icmp:8/0',
      'add p 10.0.0.1,icmp:foo',
      'add p 10.0.0.1,icmp:3/300',
      'add p 10.0.0.1,icmp:3',
      'add p 10.0.0.1,icmp:ech',
      'add p 10.0.0.1,icmp:PING',
      'add p 10.0.0.1,gre:0',
      'add p 10.0.0.1,gre:5',
      'add p 10.0.0.1,47:0',
      'add p 10.0.0.9,6:0',
      'add p 10.0.0.1,http',
      'add p 10.0.0.1,udp:domain',
      'add p 10.0.0.1,TCP:http',
      'add p 10.0.0.1,foo',
      'add p 10.0.0.1,udp:foo',
      'add p 10.0.0.1,65536',
      'add p 10.0.0.1,0x51',
      'add p 10.0.0.1,080',
      'add p 10.0.0.1,foo:80',
      'add p 10.0.0.1,80,90',
      'add p 10.0.0.1,',
      'add p ,80',
      'add p 10.0.0.0/31,81',
      'add p 10.0.0.1,udplite:7',
      'add p 10.0.0.1,ipv6-icmp:0',
      'add p 10.0.0.1,0:0',
      'add p 10.0.0.1,200:0',
      'add p 10.0.0.1,256:0',
      'add p 10.0.0.1,ipip:0',
      'add p 0.0.0.0,80',
      'add p 10.0.0.1,90-85',
      'test p 10.0.0.1,80-81',
      'test p 10.0.0.1-10.0.0.2,53',
      'test p 10.0.0.0/24,53',
      'test p 10.0.0.2,udp:53',
      'test p 10.0.0.2,tcp:53',
      'test p 10.0.0.1,icmp:echo-request',
      '-s list p',
      'del p 10.0.0.1,80-81',
      'create pm hash:ip,port netmask 16 initval 0x34',
      'add pm 10.1.2.3,80',
      'test pm 10.1.200.200,80',
    ],
  },
  {
    name: 'hash:net,port',
    steps: [
      'create np hash:net,port initval 0x44',
      'add np 10.0.0.0/24,80',
      'add np 10.0.0.0/24,udp:80-81',
      'add np 10.0.1.1-10.0.1.4,8080',
      'add np 10.0.2.0/0,80',
      'add np 10.0.3.7,icmp:ping',
      'add np 10.0.4.0/16,gre:0',
      'test np 10.0.0.5,80',
      'test np 10.0.0.5,udp:80',
      'test np 10.0.0.0/24,80',
      'test np 10.0.0.0/25,80',
      'test np 10.0.0.5,81',
      'add np 10.0.0.0/25,80 nomatch',
      'test np 10.0.0.5,80',
      'test np 10.0.0.200,80',
      'test np 10.0.0.5,80 nomatch',
      'test np 10.0.1.1-10.0.1.2,8080',
      '-s list np',
      'del np 10.0.1.1-10.0.1.4,8080',
    ],
  },
  {
    name: 'list:set',
    steps: [
      'create a hash:ip initval 0x1',
      'create b hash:net initval 0x2',
      'create c hash:ip,port initval 0x3',
      'create d hash:net,port initval 0x4',
      'create e list:set',
      'create e list:set initval 1',
      'add e a',
      'add e b',
      'add e b',
      'add e e',
      'add e zz',
      'add e 1.2.3.4',
      'add e c before a',
      'add e d after a',
      'add e x,foo,y',
      'add e c before b after a',
      'test e a',
      'test e c before a',
      'test e c after a',
      'test e d after a',
      'test e a before d',
      'test e zz',
      'test e b,before,d',
      'test e c before zz',
      'del e zz',
      'del e b before a',
      'del e c before a',
      'del e d after zz',
      'list -terse a',
      'destroy a',
      'rename a aa',
      'destroy',
      'create s list:set size 3 counters comment',
      'add s a comment "x"',
      { args: ['add', 's', 'b', 'comment', 'two words', 'packets', '5'] },
      'flush e',
      'list -terse a',
      'destroy e',
    ],
  },
  {
    name: 'calico-style sets',
    steps: [
      'create cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576',
      'create cali40all-ipam-pools hash:net family inet hashsize 1024 maxelem 1048576',
      'add cali40all-ipam-pools 10.244.0.0/16',
      {
        args: 'restore',
        stdin:
          'create cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576 -exist\n' +
          'create cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ hash:net family inet hashsize 1024 maxelem 1048576\n' +
          lines(40, (i) => `add cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.${i >> 3}.${(i & 7) * 16 + 2}`) +
          'swap cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ\n' +
          'destroy cali4t-s:Fmc3Ja-l-zxUFAFgBzE3OQ\n',
      },
      'list -name',
      'list -terse cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ',
      'test cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.2.18',
      'test cali40s:Fmc3Ja-l-zxUFAFgBzE3OQ 10.244.2.19',
      'create cali40this-host hash:ip family inet hashsize 1024 maxelem 1048576',
      'add cali40this-host 192.168.56.10',
      'swap cali40this-host cali40all-ipam-pools',
    ],
    randomInitval: true,
  },
  {
    name: 'restore semantics',
    steps: [
      { args: 'restore', stdin: 'create a hash:ip initval 0x5\nadd a 1.1.1.1\nadd a 1.1.1.2\nadd a 1.1.1.1\nadd a 1.1.1.3\ncreate b hash:ip\n' },
      'list -name',
      { args: 'restore', stdin: '# comment\n\n  create c hash:ip initval 0x6\nadd c 1.1.1.1\nadd c foo\nadd c 1.1.1.3\n' },
      { args: 'restore', stdin: 'add c 2.2.2.2\nadd nosuch 1.1.1.1\nadd c 2.2.2.3\n' },
      { args: 'restore', stdin: 'create a hash:ip\n' },
      { args: 'restore', stdin: 'create a hash:ip initval 0x5\nadd a 1.1.1.9\n', },
      { args: '-exist restore', stdin: 'create a hash:ip initval 0x5\nadd a 1.1.1.9\nadd a 1.1.1.1\n' },
      { args: 'restore', stdin: 'flush a\nadd a 2.2.2.2\nCOMMIT\nlist a\nsave a\n' },
      { args: 'restore', stdin: 'add a 3.3.3.3\ntest a 3.3.3.3\nadd a 3.3.3.4\n' },
      { args: 'restore', stdin: 'add a 4.4.4.4\ntest a 9.9.9.9\nadd a 4.4.4.5\n' },
      { args: 'restore', stdin: 'restore\n' },
      { args: 'restore', stdin: 'version\n' },
      { args: 'restore', stdin: 'help\n' },
      { args: 'restore', stdin: 'foo\n' },
      { args: 'restore', stdin: 'add a\n' },
      { args: 'restore', stdin: 'add a 5.5.5.5 -exist\nadd a 5.5.5.5\nadd a 5.5.5.6\n' },
      { args: 'restore', stdin: 'create n hash:ip netmask 33\n' },
      { args: 'restore', stdin: 'create w hash:ip probes 3 gc 5 initval 0x7\ncreate w hash:ip\n' },
      { args: 'restore', stdin: 'create p hash:ip,port initval 0x8\nadd p 10.0.0.1,foo\n' },
      { args: 'restore', stdin: 'create y hash:ip comment initval 0x9\nadd y 1.2.3.4 comment "a b"c\nadd y 1.2.3.5 comment "x"""\nadd y 1.2.3.6 "comment\nlist y\n' },
      { args: 'restore foo', stdin: '' },
      { args: 'restore', stdin: 'create z hash:ip initval 0xa\nadd z 1.1.1.1\nquit\nadd z 1.1.1.2\n' },
      { args: 'restore', stdin: 'del a 1.1.1.1\ndel a 1.1.1.1\ndel a 1.1.1.2\n' },
      { args: 'restore', stdin: 'create q hash:net initval 0xb\nadd q 10.0.0.0/8\nlist -t\nadd q 11.0.0.0/8\nlist -n\nsave q\n' },
    ],
  },
  {
    name: 'restore message boundaries',
    steps: [
      { args: 'restore', stdin: 'create a hash:ip initval 0x99\n' + lines(1000, (i) => `add a 10.${i >> 8}.${i & 255}.1`) + 'add a 1.1.1.1 bogus\n' },
      'list -terse a',
      {
        args: 'restore',
        stdin: 'create b hash:ip,port counters comment initval 0x98\n' + lines(1000, (i) => `add b 10.${i >> 8}.${i & 255}.1,udp:${i + 1} comment "xy"`) + 'add b 1.1.1.1\n',
      },
      'list -terse b',
      {
        args: 'restore',
        stdin: 'create c hash:net initval 0x97\n' + lines(600, (i) => `add c 10.${i >> 8}.${i & 255}.0/24`) + 'add c 10.0.0.0/24\n' + lines(10, (i) => `add c 11.0.${i}.0/24`),
      },
      'list -terse c',
      {
        args: 'restore',
        stdin: 'create l list:set\n' + lines(20, (i) => `create m${i} hash:ip initval ${i + 1}`) + lines(20, (i) => `add l m${i}`) + 'add l m3\n',
      },
      'list l',
    ],
  },
  {
    name: 'extensions',
    steps: [
      'create t hash:ip timeout 300 counters comment initval 0x7',
      'add t 1.1.1.1',
      { args: ['add', 't', '1.1.1.2', 'timeout', '10', 'packets', '5', 'bytes', '100', 'comment', 'hello world'] },
      'add t 1.1.1.3 timeout 0',
      'add t 1.1.1.4 timeout 2147484',
      'add t 1.1.1.4 packets -1',
      { args: ['add', 't', '1.1.1.4', 'comment', 'with"quote'] },
      { args: ['add', 't', '1.1.1.4', 'comment', 'x'.repeat(256)] },
      '-exist add t 1.1.1.2 comment changed',
      '-exist add t 1.1.1.3',
      'create k hash:net,port skbinfo counters forceadd initval 0x8',
      'add k 1.2.0.0/16,80 skbmark 0x10 skbprio 1:2 skbqueue 3',
      'add k 1.3.0.0/16,80 skbmark 0x10/0xff',
      'add k 1.4.0.0/16,80 skbmark 5',
      'add k 1.4.0.0/16,80 skbprio 12',
      'add k 1.5.0.0/16,80 nomatch timeout 500',
      'create all hash:ip netmask 24 timeout 600 counters comment skbinfo forceadd hashsize 64 maxelem 7 bucketsize 4 initval 0x1',
      'create alln hash:net timeout 600 counters comment skbinfo forceadd hashsize 64 maxelem 7 bucketsize 4 initval 0x2',
      'create allp hash:ip,port netmask 20 timeout 600 counters comment skbinfo forceadd hashsize 64 maxelem 7 bucketsize 4 initval 0x3',
      'create allnp hash:net,port timeout 600 counters comment skbinfo forceadd hashsize 64 maxelem 7 bucketsize 4 initval 0x4',
      'create alll list:set timeout 600 counters comment skbinfo size 9',
      'add alln 10.0.0.0/8 nomatch timeout 0 skbmark 0x5 skbqueue 4',
      'add alll all',
      'create sk hash:ip skbinfo initval 0x5',
      'add sk 1.1.1.1',
      'add sk 1.1.1.2 skbprio 0:0',
      'create cm hash:ip comment initval 0x6',
      { args: ['add', 'cm', '1.1.1.1', 'comment', ''] },
      { args: ['add', 'cm', '1.1.1.2', 'comment', 'é'] },
    ],
  },
  {
    name: 'command line forms',
    steps: [
      '-N a hash:ip initval 0x1',
      '-A a 1.1.1.1',
      '--add a 1.1.1.2',
      'a a 1.1.1.3',
      '-L',
      '--list -n',
      'l -n',
      'li a -t',
      '-S',
      's',
      'n b hash:ip initval 0x2',
      'x b',
      '-v',
      '--version',
      'v',
      'version foo',
      '-V',
      '-o foo list',
      'list -o',
      '-o json list',
      '-q foo',
      'list -x',
      '--exist --quiet create c hash:ip initval 0x3',
      'list c d',
      'destroy c d',
      'flush c d',
      'save c d',
      'rename c',
      'swap c',
      'test c',
      'del c',
      'create',
      'create b',
      'create b hash:foo',
      '',
      'foo',
      '--',
      '---list',
      '-list',
      '--l',
      '-l',
      'lis',
      'listt',
      'help foo',
      'help hash:ip',
      'help hash:net,port',
      'help list:set',
      'help',
      '-q help hash:ip',
      '-o save list a',
      'save -o plain a',
      '-o xml -t list',
      '-o xml -n list',
      '-n list a',
      '-t save',
      '-s save a',
      '-r list a',
      '-q add a 1.1.1.1',
      '-q list nosuch',
      { args: '-', stdin: 'create i hash:ip initval 1\nadd i 1.1.1.1\nadd i 1.1.1.1\nlist i\nfoo\nrestore\ntest i 1.1.1.1\ntest i 2.2.2.2\nversion\nhelp list:set\nquit\nadd i 3.3.3.3\n' },
      { args: '-', stdin: '' },
      { args: 'restore -f /nonexistent/file', stdin: '' },
    ],
  },
  {
    name: 'set management',
    steps: [
      'create a hash:ip initval 0x1',
      'create b hash:ip initval 0x2',
      'create c hash:ip initval 0x3',
      'create L list:set',
      'create n hash:net initval 0x4',
      'destroy b',
      'create z hash:ip initval 0x5',
      'list -n',
      'add a 1.1.1.1',
      'swap a c',
      'list -n',
      'list c',
      'swap a n',
      'swap a zz',
      'swap zz a',
      'rename a n',
      'rename a q',
      'rename q q',
      'rename zz y',
      'rename q aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa hash:ip initval 0x6',
      'create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa hash:ip',
      'add L q',
      'rename q qq',
      'create L2 list:set',
      'swap L L2',
      'list -terse q',
      'swap c z',
      'list -terse c',
      'list -terse z',
      'create h hash:ip,port initval 0x7',
      'create hn hash:net,port initval 0x8',
      'swap h hn',
      'create t hash:ip timeout 5 initval 0x9',
      'swap t z',
      'list -terse t',
      'destroy',
      'flush',
      'list -terse',
      'destroy L2',
      'destroy',
      'list',
    ],
  },
  {
    name: 'create options',
    steps: [
      'create a hash:ip hashsize foo',
      'create a hash:ip maxelem -1',
      'create a hash:ip timeout 2147484',
      'create a hash:ip timeout 2147483 initval 0x1',
      'create a1 hash:ip netmask 33',
      'create a1 hash:ip netmask 0',
      'create a1 hash:ip netmask 300',
      'create a1 hash:ip netmask foo',
      'create a1 hash:ip size 5',
      'create a1 hash:net netmask 24',
      'create a1 hash:ip foo',
      'create a1 hash:ip hashsize 64 hashsize 128',
      'create a hash:ip family inet6 -exist',
      'create a2 hash:ip family foo',
      'create a4 hash:ip -4 family inet',
      'create a5 hash:ip probes 4 resize 5 gc 3 initval 0x5',
      'create a6 hash:ip initval 12',
      'create a7 hash:ip initval 0xfffffffff',
      'create a8 hash:ip bucketsize 0 initval 0x8',
      'create a9 hash:ip bucketsize 256',
      'create a10 hash:ip bucketsize 3 initval 0xa',
      'create a11 hash:ip bucketsize 100 initval 0xb',
      'create b1 hash:ip timeout 0 initval 0xc',
      'create b2 list:set size 0',
      'create b3 list:set family inet',
      'create b4 hash:ip maxelem 4294967295 hashsize 0x40 initval 0xd',
      'create b5 hash:ip hashsize 10 initval 0xe',
      'create b6 hash:ip hashsize 3000 initval 0xf',
      'create b7 hash:ip hashsize 0 initval 0x10',
      'create b8 hash:ip hashsize 4294967295',
      'create b9 hash:ip hashsize 4294967296',
      'create iphash hash:ip initval 0x11',
      'create c1 iphash initval 0x12',
      'create c2 nethash initval 0x13',
      'create c3 setlist',
      'create c4 ipporthash initval 0x14',
      'create c5 hash:IP',
      'create c6 hash:ip comment comment initval 0x15',
      'create c7 hash:ip counters foo',
      'create c8 hash:ip timeout',
      '-exist create a hash:ip timeout 2147483 initval 0x1',
      '-exist create a hash:ip timeout 2147483 counters',
      '-exist create a hash:ip timeout 5',
      '-exist create a hash:ip timeout 2147483 hashsize 4096 maxelem 65536',
      '-exist create b2 list:set size 4',
      '-exist create b2 list:set size 5',
      'create d1 hash:ip hashsize 128 maxelem 2 initval 0x20',
      'add d1 1.0.0.1',
      'add d1 1.0.0.2',
      'add d1 1.0.0.3',
      'create d2 hash:ip forceadd maxelem 2 initval 0x1',
      'add d2 1.0.0.1',
      'add d2 1.0.0.2',
      'add d2 1.0.0.3',
      'create d3 hash:ip maxelem 0 initval 0x21',
      'add d3 1.0.0.1',
      'create e1 hash:ip bitmask 255.255.0.255 initval 0x30',
      'add e1 10.1.2.3',
      'add e1 10.1.3.3-10.1.3.5',
      'test e1 10.1.77.3',
      'create e2 hash:ip,port bitmask 255.0.0.0 initval 0x31',
      'add e2 10.1.2.3,80',
      'create e3 hash:ip bitmask 255.255.255.0 netmask 24',
      'create e3 hash:ip netmask 24 bitmask 255.255.255.0',
      'create e3 hash:ip bitmask 1.2.3.4/8 initval 0x32',
      'create e4 hash:ip bitmask 0.0.0.0',
      'create e4 hash:ip bitmask foo',
      'create e4 hash:ip bitmask 255.255.255.255 initval 0x33',
      '-exist create e4 hash:ip bitmask 255.255.255.0 initval 0x33',
      '-exist create e4 hash:ip initval 0x33',
      'create e5 hash:net bitmask 255.0.0.0',
    ],
  },
  {
    name: 'growth, resize and deletion',
    steps: [
      { args: 'restore', stdin: 'create g hash:ip hashsize 64 initval 0xabcdef\n' + lines(3000, (i) => `add g 10.${i >> 8 & 255}.${i & 255}.7`) },
      'list -terse g',
      'create g2 hash:ip hashsize 64 bucketsize 2 initval 0xabcdef',
      'add g2 10.0.0.0/23',
      'list -terse g2',
      { args: 'restore', stdin: lines(200, (i) => `del g 10.${i >> 8 & 255}.${i & 255}.7`) },
      'list -terse g',
      'add g 10.0.5.7',
      'add g 10.0.6.7',
      'create h hash:net,port hashsize 64 initval 0x1234',
      'add h 10.0.0.0/24,80-200',
      'add h 10.1.0.0-10.1.3.255,udp:53',
      'list -terse h',
      'del h 10.0.0.0/24,100-150',
      'list -terse h',
      'add h 10.0.0.0/24,100-120',
      'list h',
    ],
  },
  {
    name: 'churn: adds and deletes reuse slots and shrink buckets',
    steps: [
      'create c hash:ip hashsize 64 bucketsize 4 initval 0x5eed',
      { args: 'restore', stdin: churn() },
      'list c',
      'create cn hash:net hashsize 64 initval 0x5eee',
      { args: 'restore', stdin: churn('cn', (i) => `10.${i % 7}.${i % 13}.0/${20 + (i % 9)}`) },
      'list cn',
    ],
  },
  {
    name: 'sorted and xml listings',
    steps: [
      'create a hash:ip initval 0x1',
      'add a 10.0.0.9',
      'add a 10.0.0.10',
      'add a 9.0.0.1',
      'add a 100.0.0.1',
      'create n hash:net initval 0x2',
      'add n 10.0.0.0/24',
      'add n 10.0.0.0/25',
      'add n 10.0.0.0',
      'add n 9.0.0.0/8',
      'create p hash:ip,port initval 0x3',
      'add p 1.1.1.1,200:0',
      'add p 1.1.1.1,80',
      'add p 1.1.1.1,tcp:9',
      'add p 1.1.1.1,udp:80',
      'add p 1.1.1.1,icmp:ping',
      'add p 1.1.1.1,sctp:1',
      'create L list:set',
      'add L p',
      'add L a',
      '-s list',
      '-s save',
      '-s -o xml list',
      '-o xml list L',
      '-o xml -t list n',
    ],
  },
];

before(() => {
  assert.equal(process.getuid?.(), 0, 'kernel tests need root');
  const v = spawnSync('ipset', ['version'], { encoding: 'utf8' });
  assert.equal(v.error, undefined, 'the ipset tool is missing');
  const r = spawnSync('ip', ['netns', 'add', NS], { encoding: 'utf8' });
  assert.equal(r.status, 0, `cannot create namespace ${NS}: ${r.stderr}`);
});

after(() => {
  spawnSync('ip', ['netns', 'exec', NS, 'ipset', 'flush'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'exec', NS, 'ipset', 'destroy'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', NS], { encoding: 'utf8' });
});

for (const sc of SCENARIOS) {
  test(`ipset matches the kernel: ${sc.name}`, () => runScenario(sc));
}

// `-m set` matching: one UDP datagram from 127.0.0.1 to 127.0.0.1:5353 walks OUTPUT rules
// that test sets with different direction lists; the rule counters and the element counters
// show which tests matched. The lab's store.test must agree, counters included.
test('set matching of a packet agrees with the kernel', () => {
  resetReal();
  const sh = (cmd: string): string => {
    const r = spawnSync('ip', ['netns', 'exec', NS, 'bash', '-c', cmd], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const setup = [
    'create s hash:ip,port counters',
    'add s 127.0.0.1,udp:5353',
    'create a hash:ip counters',
    'add a 127.0.0.1',
    'create n hash:net counters',
    'add n 127.0.0.0/8',
    'add n 127.0.0.0/24 nomatch',
    'create L list:set counters',
    'add L n',
    'add L a',
    'create np hash:net,port',
    'add np 127.0.0.0/8,udp:5353',
  ];
  const store = new IpsetStore();
  for (const c of setup) {
    assert.equal(real(step(c)).code, 0, c);
    assert.equal(lab(store, step(c)).code, 0, c);
  }
  const rules: [string, ('src' | 'dst')[]][] = [
    ['s', ['dst', 'dst']],
    ['s', ['dst']],
    ['s', ['src', 'src']],
    ['a', ['src']],
    ['n', ['dst']],
    ['L', ['src']],
    ['np', ['src', 'dst']],
    ['np', ['dst', 'src']],
  ];
  try {
    sh('ip link set lo up');
    for (const [set, dirs] of rules) sh(`iptables -A OUTPUT -p udp --dport 5353 -m set --match-set ${set} ${dirs.join(',')}`);
    sh('echo hello > /dev/udp/127.0.0.1/5353');
    const counts = sh('iptables -nvxL OUTPUT')
      .split('\n')
      .filter((l) => l.includes('match-set'))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    // 20 bytes IP + 8 UDP + "hello\n": the packet length the counters add.
    const p = { src: 0x7f000001, dst: 0x7f000001, proto: 17, sport: 40000, dport: 5353, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 34, mark: 0 };
    const mine = rules.map(([set, dirs]) => (store.test(set, p, dirs) ? 1 : 0));
    assert.deepEqual(mine, counts);
    for (const set of ['s', 'a', 'n', 'L']) {
      const r = real(step(`list ${set}`));
      const l = lab(store, step(`list ${set}`));
      // The kernel counts References for the rules; the lab's host tells the store.
      const norm = (t: string): string => normaliseRandom(t.replace(/References: \d+/, ''));
      assert.equal(norm(l.stdout), norm(r.stdout), `list ${set}`);
    }
  } finally {
    spawnSync('ip', ['netns', 'exec', NS, 'iptables', '-F', 'OUTPUT'], { encoding: 'utf8' });
  }
});
