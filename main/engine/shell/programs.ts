// The programs a host's console knows, by name, and the shell around them: pipelines, lists
// and here-documents (line.ts), `$?`, and bash's own messages for what it cannot run.

import type { Host } from '../host.ts';
import { TABLE_NAMES } from '../netfilter/types.ts';
import { conntrack } from './conntrack.ts';
import { ip } from './ip.ts';
import { ipset } from './ipset.ts';
import { nfacct } from './nfacct.ts';
import { iptables, iptablesRestore, iptablesSave } from './iptables.ts';
import { parseInput, ShellSyntaxError } from './line.ts';
import { catProcSys, sysctl } from './sysctl.ts';
import { TEXT_TOOLS } from './textutils.ts';
import { kubectl } from './kubectl/index.ts';
import { calicoctl, type CalicoctlEnv } from './calicoctl.ts';
import type { KubeStore } from '../kube/objects/store.ts';
import { fail, ok, type CommandResult, type Follow } from './types.ts';
import type { CtEvent } from '../conntrack/events.ts';

export interface ShellEnv {
  host: Host;
  now: number;
  /** Moves the lab clock forward (`sleep`): conntrack timeouts, ipset timeouts, `recent`. */
  advance?: (seconds: number) => boolean | void;
  /** The cluster's API server, where kubectl is installed (nodes, outside hosts). */
  kube?: KubeStore;
  /** `kubectl exec [-n NS] POD -- CMD`: runs CMD in the pod's namespace. */
  kubeExec?: (namespace: string, pod: string, argv: string[], stdin: string) => CommandResult;
  /** calicoctl's datastore (a cluster's Calico resources), where calicoctl is installed. */
  calico?: CalicoctlEnv;
  /** The client tools (curl, wget, nc, ping, nslookup, dig), whose packets the lab walks. */
  netClient?: (name: string, argv: string[], stdin: string) => CommandResult | null;
  /** An interactive console: a command that goes on running (`conntrack -E`) is followed. */
  follow?: boolean;
  /** Wall-clock milliseconds of a lab time (seconds), for the tools that print timestamps. */
  wallMs?: (at: number) => number;
}

/** coreutils `sleep NUMBER[smhd]...`: here it advances the lab clock instead of waiting. */
function sleep(argv: string[], _stdin: string, env: ShellEnv): CommandResult {
  if (argv.length < 2) return fail("sleep: missing operand\nTry 'sleep --help' for more information.", 1);
  let total = 0;
  for (const a of argv.slice(1)) {
    const m = /^([0-9]*\.?[0-9]+)([smhd]?)$/.exec(a);
    if (!m) return fail(`sleep: invalid time interval ‘${a}’\nTry 'sleep --help' for more information.`, 1);
    total += Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  // Journaled when the lab says time matters to what it holds (a cluster's resyncs).
  return ok('', env.advance?.(total) === true);
}

type Program = (argv: string[], stdin: string, env: ShellEnv) => CommandResult;

/** kubectl against the lab's cluster; `exec` runs a command inside a pod. */
function kubectlProgram(argv: string[], stdin: string, env: ShellEnv): CommandResult {
  if (!env.kube) return fail(`bash: kubectl: command not found`, 127);
  const dd = argv.indexOf('--');
  const words = dd < 0 ? argv : argv.slice(0, dd);
  let ns = 'default';
  const rest: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const a = words[i];
    if (a === '-n' || a === '--namespace') ns = words[++i] ?? ns;
    else if (a.startsWith('--namespace=')) ns = a.slice(12);
    else if (a.startsWith('-n') && a.length > 2) ns = a.slice(2);
    else rest.push(a);
  }
  if (rest[0] !== 'exec') return kubectl(argv, stdin, { store: env.kube });
  const pod = rest.slice(1).find((a) => !a.startsWith('-'));
  if (!pod) return fail('error: pod or type/name must be specified', 1);
  if (dd < 0 || dd === argv.length - 1) return fail('error: you must specify at least one command for the container', 1);
  const name = pod.startsWith('pod/') ? pod.slice(4) : pod;
  if (!env.kube.get('Pod', ns, name)) return fail(`Error from server (NotFound): pods "${name}" not found`, 1);
  if (!env.kubeExec) return fail('error: unable to upgrade connection: exec is not available here', 1);
  return env.kubeExec(ns, name, argv.slice(dd + 1), stdin);
}

function cat(argv: string[], stdin: string, env: ShellEnv): CommandResult {
  const files = argv.slice(1).filter((a) => a !== '-');
  if (!files.length) return ok(stdin);
  let out = '';
  let err = '';
  let code = 0;
  for (const f of files) {
    if (f.startsWith('/proc/sys/')) {
      const r = catProcSys(f, env.host.net);
      out += r.stdout;
      err += r.stderr;
      if (r.code) code = r.code;
    } else if (f === '/etc/hostname') out += env.host.hostname + '\n';
    else {
      err += `cat: ${f}: No such file or directory\n`;
      code = 1;
    }
  }
  return { stdout: out, stderr: err, code, changed: false };
}

const ACCT = 'net.netfilter.nf_conntrack_acct';

/**
 * xt_connbytes' checkentry: loading a connbytes rule turns conntrack accounting on in the
 * namespace ("Forcing CT accounting to be enabled"); entries made from then on count. Looked
 * for only while accounting is off, and then only when the command's words or input name the
 * module (a kube-proxy restore is 15 MB).
 */
function forceAcct(r: CommandResult, host: Host, named: () => boolean): CommandResult {
  if (r.code !== 0 || host.net.sysctl.globalInt(ACCT) !== 0 || !named()) return r;
  for (const t of TABLE_NAMES) {
    for (const c of host.nf.table(t)?.chains.values() ?? []) {
      if (c.rules.some((rule) => rule.matches.some((m) => m.module === 'connbytes'))) {
        host.net.sysctl.setKernelValue(ACCT, '1');
        return r;
      }
    }
  }
  return r;
}

const PROGRAMS: Record<string, Program> = {
  iptables: (a, s, e) => forceAcct(iptables(a, s, e.host.nf), e.host, () => a.includes('connbytes')),
  'iptables-save': (a, s, e) => iptablesSave(a, s, e.host.nf, e.now),
  'iptables-restore': (a, s, e) => forceAcct(iptablesRestore(a, s, e.host.nf), e.host, () => s.includes('connbytes')),
  ipset: (a, s, e) => ipset(a, s, e.host.ipsets),
  nfacct: (a, s, e) => nfacct(a, s, { store: e.host.nfacct, references: (n) => e.host.nfacctReferences(n), nowSec: e.wallMs ? e.wallMs(e.now) / 1000 : e.now }),
  conntrack: (a, s, e) => conntrack(a, s, e.host.ct, e.now, { follow: e.follow, wallMs: e.wallMs }),
  ip: (a, s, e) => ip(a, s, e.host.net),
  sysctl: (a, s, e) => sysctl(a, s, e.host.net),
  cat,
  hostname: (_a, _s, e) => ok(e.host.hostname + '\n'),
  kubectl: kubectlProgram,
  calicoctl: (a, s, e) => (e.calico ? calicoctl(a, s, e.calico) : fail('bash: calicoctl: command not found', 127)),
  sleep,
};
// iptables-nft is what `iptables` is on these hosts; the -nft names are the same programs.
PROGRAMS['iptables-nft'] = PROGRAMS.iptables;
PROGRAMS['iptables-nft-save'] = PROGRAMS['iptables-save'];
PROGRAMS['iptables-nft-restore'] = PROGRAMS['iptables-restore'];
for (const [name, tool] of Object.entries(TEXT_TOOLS)) PROGRAMS[name] = (a, s) => tool(a, s);

export function programNames(): string[] {
  return Object.keys(PROGRAMS).sort();
}

/** Runs one program (argv[0] may be a path like /usr/sbin/iptables). */
export function runProgram(argv: string[], stdin: string, env: ShellEnv): CommandResult {
  if (!argv.length) return ok();
  const name = argv[0].includes('/') ? argv[0].slice(argv[0].lastIndexOf('/') + 1) : argv[0];
  const prog = Object.prototype.hasOwnProperty.call(PROGRAMS, name) ? PROGRAMS[name] : undefined;
  if (!prog) {
    const r = env.netClient?.(name, [name, ...argv.slice(1)], stdin);
    return r ?? fail(`bash: ${argv[0]}: command not found`, 127);
  }
  try {
    return prog([name, ...argv.slice(1)], stdin, env);
  } catch (e) {
    // A tool must never take the console down; report like a crashed program would.
    return fail(`${name}: internal error: ${(e as Error).message}`, 1);
  }
}

/**
 * Runs a console line (with its here-document lines). Pipelines pass stdout along; stderr of
 * every command goes to the terminal; `changed` is true when any command changed the host.
 * Returns null when more input lines are needed (an open here-document).
 */
export function runLine(
  lines: readonly string[],
  env: ShellEnv,
  vars: Record<string, string> = {},
): (CommandResult & { consumed: number; commands: { argv: string[]; stdin?: string; changed: boolean }[]; followed?: FollowedLine }) | null {
  let parsed;
  try {
    parsed = parseInput(lines, { HOSTNAME: env.host.name, ...vars });
  } catch (e) {
    if (e instanceof ShellSyntaxError) return { ...fail(`bash: ${e.message}`, 2), consumed: lines.length, commands: [] };
    throw e;
  }
  if ('needMore' in parsed) return null;
  let stdout = '';
  let stderr = '';
  let code = 0;
  let changed = false;
  const commands: { argv: string[]; stdin?: string; changed: boolean }[] = [];
  for (const pipe of parsed.pipelines) {
    if (pipe.op === '&&' && code !== 0) continue;
    if (pipe.op === '||' && code === 0) continue;
    let input = '';
    let r: CommandResult = ok();
    for (let i = 0; i < pipe.commands.length; i++) {
      const c = pipe.commands[i];
      const stdin = c.stdin ?? (i > 0 ? input : '');
      r = runProgram(c.argv, stdin, env);
      stderr += r.stderr;
      if (r.changed) changed = true;
      commands.push({ argv: c.argv, stdin: c.stdin ?? (i > 0 ? input : undefined), changed: r.changed });
      input = r.stdout;
      if (r.follow) {
        // It runs on: the console follows it, its lines going through the rest of the pipe;
        // the line's later commands wait for it (and an interrupted line runs none of them).
        const rest = pipe.commands.slice(i + 1).map((x) => x.argv);
        return { stdout: stdout + r.stdout, stderr, code: 0, changed, consumed: parsed.consumed, commands, followed: { follow: r.follow, rest } };
      }
    }
    stdout += r.stdout;
    code = r.code;
  }
  return { stdout, stderr, code, changed, consumed: parsed.consumed, commands };
}

/** A console line still running: the command followed, and the pipe after it. */
export interface FollowedLine {
  follow: Follow;
  rest: string[][];
}

/**
 * What a followed line prints for some events of its host: each event's line, through the
 * rest of the pipe (line filters like grep; a tool that needs its whole input sees only these
 * lines). `shown` counts the events the command itself printed.
 */
export function followLines(f: FollowedLine, events: readonly CtEvent[], env: ShellEnv): { stdout: string; stderr: string; shown: number } {
  let text = '';
  let shown = 0;
  for (const ev of events) {
    const line = f.follow.event(ev);
    if (line === null) continue;
    text += line + '\n';
    shown++;
  }
  let stderr = '';
  if (text && f.rest.length) {
    for (const argv of f.rest) {
      const r = runProgram(argv, text, env);
      stderr += r.stderr;
      text = r.stdout;
    }
  }
  return { stdout: text, stderr, shown };
}
