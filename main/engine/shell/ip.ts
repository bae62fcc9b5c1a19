// The `ip` command (iproute2 6.1) over a host's network namespace: global options, object
// dispatch with iproute2's abbreviations (ip a, ip r, ip n, ip l, ...), then `address`,
// `route`, `link` and `neigh` (in main/engine/net/iproute2/). Unsupported objects answer
// with a plain message; every error otherwise carries iproute2's text and exit status.

import type { CommandResult } from './types.ts';
import type { NetNs } from '../net/netns.ts';
import { IpExit, invarg, jsonText, matches, type IpOptions } from '../net/iproute2/common.ts';
import { ipAddr } from '../net/iproute2/addr.ts';
import { ipLink } from '../net/iproute2/link.ts';
import { ipNeigh } from '../net/iproute2/neigh.ts';
import { ipRoute } from '../net/iproute2/route.ts';
import { USAGE_TOP } from '../net/iproute2/usage.ts';

type ObjectFn = (argv: readonly string[], ns: NetNs, opts: IpOptions) => { stdout: string; stderr?: string; changed: boolean };

/** `ip rule` lists the three default rules; the lab has no policy routing to change them. */
function ipRule(argv: readonly string[], _ns: NetNs, opts: IpOptions): { stdout: string; changed: boolean } {
  const cmd = argv[0];
  if (cmd !== undefined && !matches(cmd, 'list') && !matches(cmd, 'show') && !matches(cmd, 'lst')) {
    throw new IpExit(`ip: "rule ${cmd}" is not available in this lab (no policy routing)\n`, 1);
  }
  const rules: [number, string][] = [[0, 'local'], [32766, 'main'], [32767, 'default']];
  if (opts.json) return { stdout: jsonText(rules.map(([p, t]) => ({ priority: p, src: 'all', table: t })), opts.pretty), changed: false };
  return { stdout: rules.map(([p, t]) => `${p}:\tfrom all lookup ${t}\n`).join(''), changed: false };
}

/** iproute2's object table, in its order (the first prefix match wins). */
const OBJECTS: readonly (readonly [string, ObjectFn | null])[] = [
  ['address', ipAddr],
  ['addrlabel', null],
  ['maddress', null],
  ['route', ipRoute],
  ['rule', ipRule],
  ['neighbor', ipNeigh],
  ['neighbour', ipNeigh],
  ['ntable', null],
  ['ntbl', null],
  ['link', ipLink],
  ['l2tp', null],
  ['fou', null],
  ['ila', null],
  ['macsec', null],
  ['tunnel', null],
  ['tunl', null],
  ['tuntap', null],
  ['tap', null],
  ['token', null],
  ['tcpmetrics', null],
  ['tcp_metrics', null],
  ['monitor', null],
  ['xfrm', null],
  ['mroute', null],
  ['mrule', null],
  ['netns', null],
  ['netconf', null],
  ['vrf', null],
  ['sr', null],
  ['nexthop', null],
  ['mptcp', null],
  ['ioam', null],
  ['help', null],
  ['stats', null],
];

const VERSION = 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n';

function parseOptions(argv: readonly string[]): { opts: IpOptions; rest: string[] } {
  const opts: IpOptions = { family: null, brief: false, json: false, pretty: false, stats: 0, details: 0, oneline: false };
  let i = 0;
  for (; i < argv.length; i++) {
    let opt = argv[i];
    if (opt === '--') {
      i++;
      break;
    }
    if (!opt.startsWith('-')) break;
    if (opt[1] === '-') opt = opt.slice(1);
    if (matches(opt, '-loops')) {
      if (++i >= argv.length) throw new IpExit(USAGE_TOP, 255);
    } else if (matches(opt, '-family')) {
      if (++i >= argv.length || argv[i] === 'help') throw new IpExit(USAGE_TOP, 255);
      const fam = argv[i];
      if (fam === 'inet') opts.family = 'inet';
      else if (fam === 'inet6') opts.family = 'inet6';
      else if (fam === 'link') opts.family = null;
      else invarg('invalid protocol family', fam);
    } else if (opt === '-4') opts.family = 'inet';
    else if (opt === '-6') opts.family = 'inet6';
    else if (opt === '-0') opts.family = null;
    else if (matches(opt, '-human') || matches(opt, '-human-readable') || matches(opt, '-iec')) continue;
    else if (matches(opt, '-stats') || matches(opt, '-statistics')) opts.stats++;
    else if (matches(opt, '-details')) opts.details++;
    else if (matches(opt, '-resolve') || matches(opt, '-timestamp') || matches(opt, '-tshort')) continue;
    else if (matches(opt, '-oneline')) opts.oneline = true;
    else if (matches(opt, '-Version')) throw new IpExit('', 0, VERSION);
    else if (matches(opt, '-force')) continue;
    else if (matches(opt, '-batch')) throw new IpExit('ip: -batch is not available in this lab\n', 1);
    else if (matches(opt, '-brief')) opts.brief = true;
    else if (matches(opt, '-json')) opts.json = true;
    else if (matches(opt, '-pretty')) opts.pretty = true;
    else if (matches(opt, '-color') || opt.startsWith('-color=')) continue;
    else if (matches(opt, '-help')) throw new IpExit(USAGE_TOP, 255);
    else if (matches(opt, '-netns')) throw new IpExit('ip: -netns is not available in this lab\n', 1);
    else if (matches(opt, '-Numeric') || matches(opt, '-all')) continue;
    else throw new IpExit(`Option "${opt}" is unknown, try "ip -help".\n`, 255);
  }
  return { opts, rest: argv.slice(i) };
}

/** -o: the continuation lines of a record joined with "\" (iproute2's _SL_). */
function oneline(text: string): string {
  return text.replace(/\n(?= {4})/g, '\\');
}

export function ip(argv: string[], _stdin: string, ns: NetNs): CommandResult {
  try {
    const { opts, rest } = parseOptions(argv.slice(1));
    if (!rest.length) throw new IpExit(USAGE_TOP, 255);
    const obj = OBJECTS.find(([name]) => matches(rest[0], name));
    if (!obj) throw new IpExit(`Object "${rest[0]}" is unknown, try "ip help".\n`, 1);
    const [name, fn] = obj;
    if (name === 'help') throw new IpExit(USAGE_TOP, 255);
    if (!fn) throw new IpExit(`ip: "${name}" is not available in this lab\n`, 1);
    const r = fn(rest.slice(1), ns, opts);
    const stdout = opts.oneline && !opts.json ? oneline(r.stdout) : r.stdout;
    return { stdout, stderr: r.stderr ?? '', code: 0, changed: r.changed };
  } catch (e) {
    if (e instanceof IpExit) return { stdout: e.stdout, stderr: e.stderr, code: e.code, changed: false };
    throw e;
  }
}
