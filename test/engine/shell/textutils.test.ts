import { test } from 'node:test';
import assert from 'node:assert/strict';
import { column, grep, head, sort, tail, wc } from '../../../main/engine/shell/textutils.ts';

const LIST = `Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination
cali-PREROUTING  all  --  anywhere             anywhere             /* cali:6gwbT8clXdHdC1b1 */
KUBE-SERVICES  all  --  anywhere             anywhere             /* kubernetes service portals */
`;

test('column -t pads like util-linux (short rows padded to the last column)', () => {
  const out = column(['column', '-t'], 'a b\n\nccc d e\n').stdout;
  assert.equal(out, 'a    b  \nccc  d  e\n');
  const lines = column(['column', '-t'], LIST).stdout.split('\n');
  assert.equal(lines[0], 'Chain            PREROUTING  (policy  ACCEPT)' + ' '.repeat(61));
  assert.match(lines[2], /^cali-PREROUTING {2}all {9}-- {7}anywhere {2}anywhere {5}\/\* {2}cali:6gwbT8clXdHdC1b1 {2}\*\/ {16}$/);
});

test('grep: basic, -v, -i, -c, -E, -w, exit status', () => {
  assert.equal(grep(['grep', 'KUBE'], LIST).stdout, 'KUBE-SERVICES  all  --  anywhere             anywhere             /* kubernetes service portals */\n');
  assert.equal(grep(['grep', '-c', 'anywhere'], LIST).stdout, '2\n');
  assert.equal(grep(['grep', '-vc', 'anywhere'], LIST).stdout, '2\n');
  assert.equal(grep(['grep', '-ic', 'chain'], LIST).stdout, '1\n');
  assert.equal(grep(['grep', '-E', '-c', 'cali|KUBE'], LIST).stdout, '2\n');
  assert.equal(grep(['grep', '-c', 'cali\\|KUBE'], LIST).stdout, '2\n'); // BRE alternation
  assert.equal(grep(['grep', '-c', 'a|b'], 'a|b\nab\n').stdout, '1\n'); // BRE: | is literal
  assert.equal(grep(['grep', 'nothing'], LIST).code, 1);
  assert.equal(grep(['grep', '-z', 'x'], LIST).code, 2);
  assert.equal(grep(['grep', '-w', 'all'], 'all x\nalls\n').stdout, 'all x\n');
});

test('head, tail, wc, sort', () => {
  const t = '3\n1\n2\n10\n';
  assert.equal(head(['head', '-n', '2'], t).stdout, '3\n1\n');
  assert.equal(head(['head', '-1'], t).stdout, '3\n');
  assert.equal(tail(['tail', '-n', '1'], t).stdout, '10\n');
  assert.equal(tail(['tail', '-n', '+3'], t).stdout, '2\n10\n');
  assert.equal(wc(['wc', '-l'], t).stdout, '4\n');
  assert.equal(sort(['sort', '-n'], t).stdout, '1\n2\n3\n10\n');
  assert.equal(sort(['sort'], t).stdout, '1\n10\n2\n3\n');
  assert.equal(sort(['sort', '-rn'], t).stdout, '10\n3\n2\n1\n');
});
