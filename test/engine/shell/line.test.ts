import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInput, ShellSyntaxError } from '../../../main/engine/shell/line.ts';

function parse(...lines: string[]) {
  const r = parseInput(lines, { HOSTNAME: 'minikube' });
  if ('needMore' in r) throw new Error('needMore');
  return r;
}

test('words, quotes and escapes split like bash', () => {
  const { pipelines } = parse(`iptables -A X -m comment --comment "default/webapp: cluster IP" -j 'ACCEPT' a\\ b`);
  assert.deepEqual(pipelines[0].commands[0].argv, ['iptables', '-A', 'X', '-m', 'comment', '--comment', 'default/webapp: cluster IP', '-j', 'ACCEPT', 'a b']);
});

test('pipes and lists', () => {
  const { pipelines } = parse('iptables-save | grep cali95aa86cbb2a | wc -l; echo done && true || false');
  assert.equal(pipelines.length, 4);
  assert.deepEqual(pipelines[0].commands.map((c) => c.argv[0]), ['iptables-save', 'grep', 'wc']);
  assert.deepEqual(pipelines.map((p) => p.op), [';', ';', '&&', '||']);
});

test('variables expand, single quotes keep them', () => {
  const { pipelines } = parse(`echo $HOSTNAME "\${HOSTNAME}-x" '$HOSTNAME'`);
  assert.deepEqual(pipelines[0].commands[0].argv, ['echo', 'minikube', 'minikube-x', '$HOSTNAME']);
});

test('here-documents feed stdin and ask for more lines until closed', () => {
  assert.deepEqual(parseInput(['iptables-restore <<EOF', '*filter']), { needMore: true });
  const r = parse('iptables-restore --noflush <<EOF', '*filter', '-A INPUT -j ACCEPT', 'COMMIT', 'EOF');
  assert.equal(r.consumed, 5);
  assert.deepEqual(r.pipelines[0].commands[0].argv, ['iptables-restore', '--noflush']);
  assert.equal(r.pipelines[0].commands[0].stdin, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n');
});

test('syntax errors are reported, not thrown as crashes', () => {
  assert.throws(() => parse('echo "open'), ShellSyntaxError);
  assert.throws(() => parse('| grep x'), /unexpected token `\|'/);
  assert.throws(() => parse('echo x |'), ShellSyntaxError);
});

test('comments end the line', () => {
  assert.deepEqual(parse('ip route # show routes').pipelines[0].commands[0].argv, ['ip', 'route']);
});
