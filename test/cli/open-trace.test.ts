// `kpl trace --save NAME` and `kpl open LAB --trace NAME [--step N] [--node HOST] [--rule N]`:
// the saved walk at a step (numbered as the app's debugger numbers them), printed as `kpl trace`
// prints a step, with the packet there and the app's links; errors in plain words. Also the
// links themselves (shared/api/trace-link.ts): what they carry, and what they refuse.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runKpl } from '../../main/cli/kpl.ts';
import { linkHash, linkRow, linkUrl, parseLinkHash, parseLinkUrl } from '../../shared/api/trace-link.ts';

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kpl-open-trace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'labs.db');
  const kpl = (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = runKpl(['--db', db, ...args], () => '', { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  };
  const ok = (args: string[]) => {
    const r = kpl(args);
    assert.equal(r.code, 0, `kpl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { dir, kpl, ok };
}

/**
 * client → server:8080, DNATed to :80 on server, whose INPUT has two rules that miss before the
 * one that accepts: 4 steps for the packet, 3 for the handshake's ACK.
 */
function lab(ok: (a: string[]) => string, name: string): void {
  ok(['new', name]);
  ok(['lan', 'add', name, 'lan1']);
  ok(['host', 'add', name, 'client']);
  ok(['host', 'add', name, 'server', '--listen', '80']);
  ok(['link', 'add', name, 'client', 'lan1', '--ip', '10.0.1.2/24']);
  ok(['link', 'add', name, 'server', 'lan1', '--ip', '10.0.1.3/24']);
  ok(['exec', name, 'server', '--', 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', ':80']);
  ok(['exec', name, 'server', '--', 'iptables', '-A', 'INPUT', '-p', 'udp', '-j', 'DROP']);
  ok(['exec', name, 'server', '--', 'iptables', '-A', 'INPUT', '-s', '10.0.1.9', '-j', 'DROP']);
  ok(['exec', name, 'server', '--', 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT']);
}

test('kpl trace --save keeps the walk with its seed; kpl open --trace prints a step as kpl trace does, with the app links', (t) => {
  const { kpl, ok } = setup(t);
  lab(ok, 'demo');
  const r = kpl(['trace', 'demo', '--from', 'client', '--to', '10.0.1.3:8080', '--seed', '7', '--save', 'first']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^packet \(seed 7\): tcp 10\.0\.1\.2:\d+ -> 10\.0\.1\.3:8080\n/);
  assert.equal(r.stderr, 'kpl: trace saved as "first" (seed 7)\n');
  assert.match(ok(['open', 'demo']), /\nTraces: {7}first\n/);

  // Step 1: the DNAT on server's PREROUTING, the packet before and after it.
  const s1 = ok(['open', 'demo', '--trace', 'first']);
  const lines = s1.split('\n');
  assert.match(lines[0], /^trace "first" of lab "demo", saved \d{4}-\d\d-\d\dT.*Z: step 1 of 7$/);
  assert.match(lines[1], /^packet \(seed 7\): tcp 10\.0\.1\.2:(\d+) -> 10\.0\.1\.3:8080$/);
  assert.equal(lines[2], '  [server]');
  assert.equal(lines[3], '    PREROUTING  nat      PREROUTING #1 ✔ -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination :80  => DNAT');
  assert.match(lines[4], /^ {2}packet here: tcp 10\.0\.1\.2:\d+ -> 10\.0\.1\.3:8080 {2}=> tcp 10\.0\.1\.2:\d+ -> 10\.0\.1\.3:80$/);
  assert.equal(lines[5], '  why: DNAT to 10.0.1.3:80');
  assert.equal(lines[6], '  => DELIVERED: delivered to server 10.0.1.3:80');
  assert.equal(lines[7], 'app link: kpl://open?lab=demo&trace=first&step=1');
  assert.equal(lines[8], "browser mode: #/lab/demo?trace=first&step=1 after the app's address");

  // Step 3: INPUT's second rule, which missed; the packet already DNATed.
  const s3 = ok(['open', 'demo', '--trace', 'first', '--step', '3']).split('\n');
  assert.match(s3[0], /: step 3 of 7$/);
  assert.equal(s3[3], '    INPUT       filter   INPUT #2 ✘ -A INPUT -s 10.0.1.9/32 -j DROP  (src 10.0.1.2 not in 10.0.1.9/32)');
  assert.match(s3[4], /^ {2}packet here: tcp 10\.0\.1\.2:\d+ -> 10\.0\.1\.3:80$/);

  // --node and --rule find the step; the link keeps them.
  const s4 = ok(['open', 'demo', '--trace', 'first', '--node', 'server', '--rule', '3']).split('\n');
  assert.match(s4[0], /: step 4 of 7$/);
  assert.equal(s4[3], '    INPUT       filter   INPUT #3 ✔ -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT  => ACCEPT');
  assert.ok(s4.includes('app link: kpl://open?lab=demo&trace=first&step=4&node=server&rule=3'), s4.join('\n'));

  // The handshake's ACK follows the packet's steps, as in the debugger.
  const s7 = ok(['open', 'demo', '--trace', 'first', '--step', '7']).split('\n');
  assert.match(s7[0], /: step 7 of 7$/);
  assert.match(s7[1], /^handshake ACK: tcp 10\.0\.1\.2:\d+ -> 10\.0\.1\.3:8080$/);
  assert.equal(s7[3], '    INPUT       filter   INPUT #3 ✔ -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT  => ACCEPT');

  // A name with a space is percent-encoded in the links.
  ok(['trace', 'demo', '--from', 'client', '--to', '10.0.1.3:8080', '--save', 'trace two']);
  assert.match(ok(['open', 'demo', '--trace', 'trace two', '--step', '2']), /\napp link: kpl:\/\/open\?lab=demo&trace=trace%20two&step=2\n/);
});

test('kpl open --trace: errors in plain words with exit 1; usage errors with exit 2; kpl open LAB unchanged', (t) => {
  const { kpl, ok } = setup(t);
  lab(ok, 'demo');
  ok(['trace', 'demo', '--from', 'client', '--to', '10.0.1.3:8080', '--save', 'first']);
  const plain = ok(['open', 'demo']);
  assert.match(plain, /^Name: {9}demo\n/);
  assert.doesNotMatch(plain, /app link/);

  let r = kpl(['open', 'demo', '--trace', 'x']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'kpl open: no saved trace "x" in lab "demo"\n']);
  r = kpl(['open', 'demo', '--trace', 'first', '--step', '99']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'kpl open: step 99 is out of range (1-7) in trace "first" of lab "demo"\n']);
  r = kpl(['open', 'demo', '--trace', 'first', '--step', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /step 0 is out of range \(1-7\)/);
  r = kpl(['open', 'demo', '--trace', 'first', '--node', 'client', '--rule', '1']);
  assert.deepEqual([r.code, r.stderr], [1, 'kpl open: no step on host client at rule 1 in trace "first" of lab "demo"\n']);
  r = kpl(['open', 'nope', '--trace', 'first']);
  assert.deepEqual([r.code, r.stderr], [1, 'kpl: no lab "nope"\n']);
  r = kpl(['open', 'demo', '--trace', 'first', '--step', 'two']);
  assert.deepEqual([r.code, r.stderr], [2, 'kpl: kpl open: --step: expected a number, got "two"\n']);
  r = kpl(['open', 'demo', '--step', '2']);
  assert.deepEqual([r.code, r.stderr], [2, 'kpl: kpl open: --step, --node and --rule need --trace NAME\n']);
  r = kpl(['trace', 'demo', '--from', 'client', '--to', '10.0.1.3:8080', '--save', '']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--save: expected a trace name/);
});

test('kpl open --trace on a lab file: the step, and no app link (the app opens stored labs only)', (t) => {
  const { dir, ok } = setup(t);
  const f = join(dir, 'demo.kpl');
  lab(ok, f);
  ok(['trace', f, '--from', 'client', '--to', '10.0.1.3:8080', '--save', 'first']);
  const s = ok(['open', f, '--trace', 'first', '--step', '4']);
  assert.match(s, /INPUT #3 ✔ -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT {2}=> ACCEPT\n/);
  assert.match(s, /\napp link: none \(the app opens stored labs only: kpl import a lab file first\)\n$/);
});

test('trace links: built and read back; anything odd refused', () => {
  const l = { lab: 'my lab', trace: 'trace 1', step: 12, node: 'default/frontend-8b474f47-zdqdv', rule: 3 };
  assert.equal(linkUrl(l), 'kpl://open?lab=my%20lab&trace=trace%201&step=12&node=default%2Ffrontend-8b474f47-zdqdv&rule=3');
  assert.equal(linkHash(l), '#/lab/my%20lab?trace=trace%201&step=12&node=default%2Ffrontend-8b474f47-zdqdv&rule=3');
  assert.deepEqual(parseLinkUrl(linkUrl(l)), l);
  assert.deepEqual(parseLinkHash(linkHash(l)), l);
  assert.deepEqual(parseLinkHash('#/lab/demo'), { lab: 'demo' });
  assert.deepEqual(parseLinkHash('#/lab/demo?guide'), { lab: 'demo' });
  assert.equal(parseLinkHash('#/'), null);
  assert.deepEqual(parseLinkUrl('kpl://open/?lab=demo&trace=a+b'), { lab: 'demo', trace: 'a b' });

  const refused = (v: unknown, re: RegExp): void => {
    assert.equal(typeof v, 'string', JSON.stringify(v));
    assert.match(v as string, re);
  };
  refused(parseLinkUrl('kpl://evil?lab=demo'), /not a kpl:\/\/open/);
  refused(parseLinkUrl('https://open?lab=demo'), /not a kpl:\/\/open/);
  refused(parseLinkUrl('kpl://open?trace=x'), /no lab/);
  refused(parseLinkUrl('kpl://open?lab=%2Fetc%2Fpasswd'), /lab name/);
  refused(parseLinkUrl('kpl://open?lab=x.kpl'), /lab name/);
  refused(parseLinkUrl('kpl://open?lab=demo&lab=other'), /given twice/);
  refused(parseLinkUrl('kpl://open?lab=demo&exec=rm'), /unknown parameter "exec"/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=t&step=0'), /step: expected a number/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=t&step=1e3'), /step: expected a number/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=t&step=99999999999'), /step: expected a number/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=t&rule=-1'), /rule: expected a number/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=t&node=..%2Fetc'), /node/);
  refused(parseLinkUrl('kpl://open?lab=demo&trace=%0A'), /trace/);
  refused(parseLinkUrl('kpl://open?lab=demo&step=3'), /need a trace/);
  refused(parseLinkUrl('kpl://open?lab=%E0%A4%A'), /not properly encoded/);
  refused(parseLinkHash('#/lab/demo?lab=other'), /unknown parameter "lab"/);
  refused(parseLinkUrl(`kpl://open?lab=demo&trace=${'x'.repeat(5000)}`), /too long/);

  // Steps as the debugger numbers them; node and rule narrow from the step on.
  const rows = [{ host: 'a', rule: 1 }, { host: 'b', rule: 1 }, { host: 'b', rule: 2 }].map((s) => ({ phase: 'packet' as const, step: { table: 'filter', chain: 'INPUT', ...s } }));
  assert.equal(linkRow({ rows }, {}), 0);
  assert.equal(linkRow({ rows }, { step: 3 }), 2);
  assert.equal(linkRow({ rows }, { node: 'b' }), 1);
  assert.equal(linkRow({ rows }, { node: 'b', rule: 2 }), 2);
  assert.equal(linkRow({ rows }, { step: 2, rule: 1 }), 1);
  assert.equal(linkRow({ rows }, { step: 4 }), 'step 4 is out of range (1-3)');
  assert.equal(linkRow({ rows }, { step: 3, node: 'a' }), 'no step on host a from step 3 on');
  assert.equal(linkRow({ rows: [] }, {}), 'the trace has no steps');
});
