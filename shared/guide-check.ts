// The runtime check of walkthroughs and exercises (shared/guide.ts), for the values that reach
// the service from the app (IPC, WebSocket) and for lab documents. Imported files are checked
// first by the JSON Schema (shared/schema/kpl.schema.json), which says the same; a test holds
// the two to agreeing.

import { arr, bool, int, obj, oneOf, opt, str, tagged, type Check } from './api/check.ts';

const LIMIT = {
  short: 16_192,
  text: 1_048_576,
  items: 1000,
};

const short = str({ max: LIMIT.short });
const long = str({ max: LIMIT.text });
const end = str({ min: 1, max: 600 });
const proto = oneOf('tcp', 'udp', 'sctp', 'icmp');
const outcome = oneOf('delivered', 'refused', 'dropped', 'rejected', 'unroutable');
const strings = arr(short, LIMIT.items);

const ruleRef = obj({ host: opt(end), table: opt(oneOf('raw', 'mangle', 'nat', 'filter', 'security')), chain: str({ min: 1, max: 64 }), rule: opt(int(1, 1_000_000)) });

export const stepActionCheck: Check = tagged('kind', {
  command: obj({ kind: oneOf('command'), host: end, command: long }),
  trace: obj({ kind: oneOf('trace'), from: end, to: end, proto: opt(proto), seed: opt(int(0, 2 ** 32 - 1)), stepTo: opt(ruleRef) }),
  apply: obj({ kind: oneOf('apply'), yaml: long }),
  show: obj({ kind: oneOf('show'), target: end }),
});

export const expectationCheck: Check = tagged('kind', {
  output: obj({
    kind: oneOf('output'),
    host: opt(end),
    command: opt(long),
    lines: opt(strings),
    contains: opt(strings),
    absent: opt(strings),
    code: opt(int(0, 255)),
  }),
  trace: obj({
    kind: oneOf('trace'),
    from: opt(end),
    to: opt(end),
    proto: opt(proto),
    seed: opt(int(0, 2 ** 32 - 1)),
    outcome: opt(outcome),
    deliveredTo: opt(end),
    passes: opt(strings),
    avoids: opt(strings),
    source: opt(short),
    replyOutcome: opt(outcome),
    replySource: opt(short),
  }),
  reach: obj({
    kind: oneOf('reach'),
    cells: arr(obj({ from: end, to: end, proto: opt(proto), allowed: bool }), LIMIT.items),
  }),
});

export const walkthroughCheck: Check = obj({
  title: short,
  ko: opt(obj({ title: opt(short) })),
  steps: arr(
    obj({
      title: short,
      text: long,
      ko: opt(obj({ title: opt(short), text: opt(long) })),
      host: opt(end),
      command: opt(long),
      action: opt(stepActionCheck),
      expect: opt(expectationCheck),
    }),
    LIMIT.items,
  ),
});

export const exerciseCheck: Check = obj({
  title: short,
  goal: long,
  ko: opt(obj({ title: opt(short), goal: opt(long) })),
  checks: arr(obj({ name: short, expect: expectationCheck }), LIMIT.items),
  hints: opt(strings),
  solution: opt(long),
  solutionActions: opt(arr(stepActionCheck, LIMIT.items)),
});

export const exercisesCheck: Check = arr(exerciseCheck, LIMIT.items);
