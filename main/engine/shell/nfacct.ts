// `nfacct` (nfacct 1.0.2, Debian 12): the host's extended accounting objects (see
// netfilter/nfacct-store.ts). Commands by any prefix, as the tool matches them: list [reset]
// [json|xml], add, delete, get [json|xml], flush, restore (the list lines on stdin), version,
// help; its error lines and exit statuses as the real tool prints them (checked in
// test/kernel/nfacct-compare.test.ts).

import type { NfacctObject, NfacctStore } from '../netfilter/nfacct-store.ts';
import { NFACCT_NAME_MAX } from '../netfilter/nfacct-store.ts';
import type { CommandResult } from './types.ts';

const PREFIX = 'nfacct v1.0.2: ';
const USAGE = 'Usage: nfacct command [parameters]...\n';
const TITLE = 'nfacct v1.0.2: utility for the Netfilter extended accounting infrastructure\n';

const VERSION =
  TITLE +
  'Copyright (C) 2011 Pablo Neira Ayuso <pablo@netfilter.org>\n' +
  'Copyright (C) 2011 Intra2net AG <http://www.intra2net.com>\n' +
  'This program comes with ABSOLUTELY NO WARRANTY.\n' +
  'This is free software, and you are welcome to redistribute it under certain \n' +
  'conditions; see LICENSE file distributed in this package for details.\n';

const HELP =
  TITLE +
  USAGE +
  '\nCommands:\n' +
  '  list [reset]\t\tList the accounting object table (and reset)\n' +
  '  add object-name\tAdd new accounting object to table\n' +
  '  delete object-name\tDelete existing accounting object\n' +
  '  get object-name\tGet existing accounting object\n' +
  '  flush\t\t\tFlush accounting object table\n' +
  "  restore\t\tRestore accounting object table reading 'list' output from stdin\n" +
  '  monitor\t\tListens for quota attainment notifications\n' +
  '  version\t\tDisplay version and disclaimer\n' +
  '  help\t\t\tDisplay this help message\n';

/** In the order the tool tries them: a prefix takes the first that it begins. */
const COMMANDS = ['list', 'add', 'delete', 'get', 'flush', 'restore', 'monitor', 'version', 'help'] as const;

export interface NfacctEnv {
  store: NfacctStore;
  /** How many rules name the object: one in use is not deleted. */
  references(name: string): number;
  /** Wall-clock seconds (the JSON output's timestamp). */
  nowSec: number;
}

const out = (stdout: string, changed = false): CommandResult => ({ stdout, stderr: '', code: 0, changed });
const error = (text: string, changed = false): CommandResult => ({ stdout: '', stderr: `${PREFIX}${text}\n`, code: 1, changed });

const num = (n: number) => String(n).padStart(20, '0');

type Format = 'plain' | 'json' | 'xml';

function render(objs: [string, NfacctObject][], format: Format, nowSec: number): string {
  if (format === 'json') {
    const items = objs.map(([name, o]) => `  { "pkts" : ${o.pkts}, "bytes" : ${o.bytes}, "name" : "${name}" }`);
    return `{ "timestamp" : ${Math.floor(nowSec)}, \n  "nfacct_counters" : [\n${items.join(',\n')}${items.length ? '\n' : ''}] }\n`;
  }
  if (format === 'xml') {
    const items = objs.map(([name, o]) => `<obj><name>${name}</name><pkts>${num(o.pkts)}</pkts><bytes>${num(o.bytes)}</bytes></obj>\n`);
    return `<?xml version="1.0" encoding="utf-8"?>\n<nfacct>\n${items.join('')}</nfacct>\n`;
  }
  return objs.map(([name, o]) => `{ pkts = ${num(o.pkts)}, bytes = ${num(o.bytes)} } = ${name};\n`).join('');
}

/** The output format word after a command's other arguments; null: an unknown argument. */
function formatOf(args: readonly string[]): Format | null {
  if (args.length === 0) return 'plain';
  if (args.length === 1 && (args[0] === 'json' || args[0] === 'xml')) return args[0];
  return null;
}

export function nfacct(argv: readonly string[], stdin: string, env: NfacctEnv): CommandResult {
  const word = argv[1];
  if (word === undefined) return { stdout: '', stderr: USAGE, code: 1, changed: false };
  const cmd = COMMANDS.find((c) => word.length > 0 && c.startsWith(word));
  if (!cmd) return { stdout: '', stderr: `${PREFIX}Unknown command: ${word}\n${USAGE}`, code: 1, changed: false };
  const args = argv.slice(2);
  const { store } = env;
  const all = (): [string, NfacctObject][] => store.names().map((n) => [n, store.get(n)!]);
  switch (cmd) {
    case 'list': {
      const reset = args[0] === 'reset';
      const format = formatOf(reset ? args.slice(1) : args);
      if (format === null) return error('unknown argument');
      const text = render(all(), format, env.nowSec);
      if (!reset) return out(text);
      for (const [, o] of all()) o.pkts = o.bytes = 0;
      return out(text, true);
    }
    case 'add': {
      if (args.length === 0) return error('missing object name');
      // (anything after the name is read as a quota, which this lab's tool does not take)
      if (args.length > 1) return error('missing quota value');
      return store.add(args[0].slice(0, NFACCT_NAME_MAX)) ? out('', true) : error('error: Device or resource busy');
    }
    case 'delete': {
      if (args.length === 0) return error('missing object name');
      const name = args[0].slice(0, NFACCT_NAME_MAX);
      if (!store.has(name)) return error('error: No such file or directory');
      if (env.references(name) > 0) return error('error: Device or resource busy');
      store.delete(name);
      return out('', true);
    }
    case 'get': {
      if (args.length === 0) return error('missing object name');
      const name = args[0].slice(0, NFACCT_NAME_MAX);
      const format = formatOf(args.slice(1));
      if (format === null) return error('unknown argument');
      const o = store.get(name);
      return o ? out(render([[name, o]], format, env.nowSec)) : error('error: No such file or directory');
    }
    case 'flush': {
      if (args.length > 0) return error('too many arguments');
      // (the kernel deletes every object no rule uses, and keeps the others)
      let changed = false;
      for (const name of store.names()) {
        if (env.references(name) > 0) continue;
        store.delete(name);
        changed = true;
      }
      return out('', changed);
    }
    case 'restore': {
      // Each `list` line makes its object with its counters; the first that exists stops it.
      let changed = false;
      for (const text of stdin.split('\n')) {
        const m = /^\{ pkts = (\d+), bytes = (\d+) \} = (.+);$/.exec(text);
        if (!m) continue;
        const name = m[3].slice(0, NFACCT_NAME_MAX);
        if (!store.add(name)) return error('error: Device or resource busy', changed);
        const o = store.get(name)!;
        o.pkts = Number(m[1]);
        o.bytes = Number(m[2]);
        changed = true;
      }
      return out('', changed);
    }
    case 'monitor':
      // (no quota objects here: nothing would ever be reported, and a console command must end)
      return out('');
    case 'version':
      return out(VERSION);
    case 'help':
      return out(HELP);
  }
}
