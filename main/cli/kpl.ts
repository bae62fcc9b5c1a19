// The `kpl` command line: a thin transport over LabService. It parses arguments, calls one
// service method, prints the result and exits with the right status (for `exec`, the status
// of the tool that ran).

import { readFileSync } from 'node:fs';
import { clusterProblem, defaultCluster, type ClusterDoc } from '../../shared/cluster.ts';
import { LabError, LabFileError, LabFormatError, LabService, LabStoreError, matrixJson, matrixText, StoreForeignError, traceMarkdown, type ListenSpec, type TraceSpec } from '../service/lab-service.ts';
import { runStoreCommand, STORE_USAGE } from './store-commands.ts';
import { int, need, parseOpts, UsageError, type Out } from './options.ts';
import { GUIDE_USAGE, runGuideCommand } from './guide-commands.ts';

const USAGE = `Usage: kpl COMMAND ...

  kpl new LAB [--name NAME] [--seed N]           create an empty lab file
  kpl new LAB --cluster [--nodes N] [--proxy legacy|current] [--pod-cidr CIDR]
          [--service-cidr CIDR] [--node-cidr CIDR] [--node-port-range A-B] [--tunnel ipip|none]
                                                 create a lab holding a minikube-like cluster
  kpl apply LAB -f FILE|-                        apply Kubernetes manifests (YAML or JSON)
  kpl matrix LAB [--port 80] [--proto tcp|udp|sctp] [--namespace NS]... [--json] [--why]
                                                 pod-to-pod reachability, each cell a traced connection
  kpl lan add LAB NAME                           add a LAN segment (a bridge)
  kpl host add LAB NAME [--listen 80,443,53/udp] add a Linux host listening on those ports
  kpl link add LAB HOST LAN --ip A.B.C.D/N [--dev IFNAME]
                                                 give HOST an interface on LAN
  kpl veth add LAB HOST1 HOST2 [--dev IF1] [--peer-dev IF2] [--ip A.B.C.D/N] [--peer-ip A.B.C.D/N]
                                                 cable two hosts with a veth pair
  kpl exec LAB HOST -- CMD [ARGS...]             run one console command on HOST
  kpl trace LAB --from HOST|IP@HOST|pod/NS/NAME|node/NAME --to IP[:PORT]|SERVICE[.NS]:PORT|NODE:PORT
            [--proto tcp|udp|sctp|icmp]
            [--sport N] [--in IFNAME] [--seed N] [--all-outcomes] [--later N] [--tcp-flags FLAGS] [--keep] [--json|--markdown] [--save NAME]
                                                 send a packet and print every step (--later N: the
                                                 connection's packet after N later ones, ESTABLISHED)
`;

function parseListen(v: string | undefined): ListenSpec[] {
  if (!v) return [];
  return v.split(',').map((item) => {
    const m = /^([0-9]+)(?:\/(tcp|udp|sctp))?$/.exec(item.trim());
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--listen: "${item}" is not PORT[/tcp|udp|sctp]`);
    return { port: Number(m[1]), proto: (m[2] ?? 'tcp') as ListenSpec['proto'] };
  });
}

const CLUSTER_OPTIONS = ['nodes', 'proxy', 'pod-cidr', 'service-cidr', 'node-cidr', 'node-port-range', 'tunnel'];

/** `kpl new --cluster` settings over minikube's defaults; undefined without --cluster. */
function clusterOptions(opt: Map<string, string>): ClusterDoc | undefined {
  if (!opt.has('cluster')) {
    const stray = CLUSTER_OPTIONS.find((k) => opt.has(k));
    if (stray) throw new UsageError(`--${stray} needs --cluster`);
    return undefined;
  }
  const c = defaultCluster();
  const nodes = int(opt.get('nodes'), '--nodes', 0, 250);
  if (nodes !== undefined) c.nodes = nodes;
  const proxy = opt.get('proxy');
  if (proxy !== undefined) {
    if (proxy !== 'legacy' && proxy !== 'current') throw new UsageError(`--proxy: expected legacy or current, got "${proxy}"`);
    c.proxy = proxy;
  }
  const tunnel = opt.get('tunnel');
  if (tunnel !== undefined) {
    if (tunnel !== 'ipip' && tunnel !== 'none') throw new UsageError(`--tunnel: expected ipip or none, got "${tunnel}"`);
    c.tunnel = tunnel;
  }
  for (const [flag, key] of [['pod-cidr', 'podCIDR'], ['service-cidr', 'serviceCIDR'], ['node-cidr', 'nodeCIDR'], ['node-port-range', 'nodePortRange']] as const) {
    const v = opt.get(flag);
    if (v !== undefined) c[key] = v;
  }
  const problem = clusterProblem(c, 'cluster');
  if (problem) {
    const flag = { podCIDR: 'pod-cidr', serviceCIDR: 'service-cidr', nodeCIDR: 'node-cidr', nodePortRange: 'node-port-range' }[problem.split(':')[0].slice(8)] ?? 'cluster';
    throw new UsageError(`--${flag}: ${problem.slice(problem.indexOf(':') + 2)}`);
  }
  return c;
}

function readManifest(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`error: the path "${file}" does not exist${(e as NodeJS.ErrnoException).code === 'ENOENT' ? '' : ` (${(e as Error).message})`}`);
  }
}


/**
 * Runs one kpl command. `--db PATH` (anywhere before a `--`) picks the lab database, else
 * KPL_DB, else the per-user default; a service passed in is used when there is no --db.
 */
export function runKpl(argv: string[], stdin: () => string, out: Out, svc?: LabService): number {
  let args = argv;
  let db: string | undefined;
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  for (let i = 0; i < end; i++) {
    if (argv[i] === '--db' || argv[i].startsWith('--db=')) {
      const v = argv[i] === '--db' ? argv[i + 1] : argv[i].slice(5);
      if (v === undefined || v === '' || (argv[i] === '--db' && i + 1 >= end)) {
        out.stderr('kpl: option --db needs a value\n');
        return 2;
      }
      db = v;
      args = [...argv.slice(0, i), ...argv.slice(argv[i] === '--db' ? i + 2 : i + 1)];
      break;
    }
  }
  const own = db !== undefined || !svc ? new LabService({ ...(db !== undefined ? { db } : {}), onNotice: (m) => out.stderr(`kpl: warning: ${m}\n`) }) : undefined;
  try {
    return runCommand(args, stdin, out, own ?? svc!);
  } finally {
    own?.close();
  }
}

function runCommand(argv: string[], stdin: () => string, out: Out, svc: LabService): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.stdout(USAGE + STORE_USAGE + GUIDE_USAGE);
        return cmd === undefined ? 2 : 0;
      case 'new': {
        const { pos, opt } = parseOpts(rest, ['name', 'seed', ...CLUSTER_OPTIONS], ['cluster']);
        need(pos, 1, 'kpl new LAB [--name NAME] [--seed N] [--cluster [--nodes N] [--proxy legacy|current] ...]');
        svc.create(pos[0], { name: opt.get('name'), seed: int(opt.get('seed'), '--seed', 0, 0xffffffff), cluster: clusterOptions(opt) });
        return 0;
      }
      case 'matrix': {
        // --namespace may be repeated: collected before the other options are read.
        const namespaces: string[] = [];
        const others: string[] = [];
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--namespace' || a === '-n') {
            if (rest[i + 1] === undefined) throw new UsageError('option --namespace needs a value');
            namespaces.push(rest[++i]);
          } else if (a.startsWith('--namespace=')) namespaces.push(a.slice(12));
          else others.push(a);
        }
        const { pos, opt } = parseOpts(others, ['port', 'proto'], ['json', 'why']);
        need(pos, 1, 'kpl matrix LAB [--port N] [--proto tcp|udp|sctp] [--namespace NS]... [--json] [--why]');
        const proto = opt.get('proto') ?? 'tcp';
        if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`--proto: expected tcp, udp or sctp, got "${proto}"`);
        const m = svc.matrix(pos[0], { port: int(opt.get('port'), '--port', 1, 65535) ?? 80, proto: proto as 'tcp' | 'udp' | 'sctp', namespaces });
        if (opt.has('json')) out.stdout(JSON.stringify(matrixJson(m), null, 2) + '\n');
        else out.stdout(matrixText(m));
        if (opt.has('why')) {
          for (const from of m.pods) for (const to of m.pods) out.stdout(`${from} -> ${to}: ${m.cells[from][to].allowed ? '.' : 'X'} ${m.cells[from][to].reason}\n`);
        }
        return 0;
      }
      case 'apply': {
        const { pos, opt } = parseOpts(rest, ['filename', 'f'], []);
        const file = opt.get('filename') ?? opt.get('f');
        need(pos, 1, 'kpl apply LAB -f FILE|-');
        if (!file) throw new UsageError('kpl apply: -f FILE (or - for standard input) is required');
        const r = svc.apply(pos[0], file === '-' ? stdin() : readManifest(file));
        if (r.stdout) out.stdout(r.stdout);
        if (r.stderr) out.stderr(r.stderr);
        return r.code;
      }
      case 'lan': {
        const { pos } = parseOpts(rest, [], []);
        if (pos[0] !== 'add') throw new UsageError('usage: kpl lan add LAB NAME');
        need(pos, 3, 'kpl lan add LAB NAME');
        svc.addLan(pos[1], pos[2]);
        return 0;
      }
      case 'host': {
        const { pos, opt } = parseOpts(rest, ['listen'], []);
        if (pos[0] !== 'add') throw new UsageError('usage: kpl host add LAB NAME [--listen PORTS]');
        need(pos, 3, 'kpl host add LAB NAME [--listen PORTS]');
        svc.addHost(pos[1], pos[2], parseListen(opt.get('listen')));
        return 0;
      }
      case 'link': {
        const { pos, opt } = parseOpts(rest, ['ip', 'dev'], []);
        if (pos[0] !== 'add') throw new UsageError('usage: kpl link add LAB HOST LAN --ip A.B.C.D/N [--dev IFNAME]');
        need(pos, 4, 'kpl link add LAB HOST LAN --ip A.B.C.D/N [--dev IFNAME]');
        const ip = opt.get('ip');
        if (!ip) throw new UsageError('kpl link add: --ip A.B.C.D/N is required');
        const dev = svc.addLink(pos[1], pos[2], pos[3], ip, opt.get('dev'));
        out.stdout(`${dev}\n`);
        return 0;
      }
      case 'veth': {
        const { pos, opt } = parseOpts(rest, ['dev', 'peer-dev', 'ip', 'peer-ip'], []);
        const usage = 'kpl veth add LAB HOST1 HOST2 [--dev IF1] [--peer-dev IF2] [--ip A.B.C.D/N] [--peer-ip A.B.C.D/N]';
        if (pos[0] !== 'add') throw new UsageError(`usage: ${usage}`);
        need(pos, 4, usage);
        const [d1, d2] = svc.addVeth(pos[1], { host: pos[2], dev: opt.get('dev'), ip: opt.get('ip') }, { host: pos[3], dev: opt.get('peer-dev'), ip: opt.get('peer-ip') });
        out.stdout(`${d1} ${d2}\n`);
        return 0;
      }
      case 'exec': {
        const dd = rest.indexOf('--');
        if (dd !== 2 || rest.length < 4) throw new UsageError('usage: kpl exec LAB HOST -- CMD [ARGS...]');
        const r = svc.exec(rest[0], rest[1], rest.slice(3), stdin());
        if (r.stdout) out.stdout(r.stdout);
        if (r.stderr) out.stderr(r.stderr);
        return r.code;
      }
      case 'trace': {
        const { pos, opt } = parseOpts(rest, ['from', 'to', 'proto', 'sport', 'in', 'seed', 'save', 'later', 'tcp-flags'], ['all-outcomes', 'keep', 'json', 'markdown']);
        need(pos, 1, 'kpl trace LAB --from HOST|IP@HOST --to IP[:PORT] [options]');
        const from = opt.get('from');
        const to = opt.get('to');
        if (!from || !to) throw new UsageError('kpl trace: --from and --to are required');
        const proto = opt.get('proto') ?? 'tcp';
        if (!['tcp', 'udp', 'sctp', 'icmp'].includes(proto)) throw new UsageError(`--proto: expected tcp, udp, sctp or icmp, got "${proto}"`);
        const spec: TraceSpec = {
          from,
          to,
          proto: proto as TraceSpec['proto'],
          sport: int(opt.get('sport'), '--sport', 1, 65535),
          iif: opt.get('in'),
          seed: int(opt.get('seed'), '--seed', 0, 0xffffffff),
          allOutcomes: opt.has('all-outcomes'),
          keep: opt.has('keep'),
          later: int(opt.get('later'), '--later', 0, 100),
          tcpFlags: opt.get('tcp-flags'),
        };
        const saveName = opt.get('save');
        // eslint-disable-next-line no-control-regex
        if (saveName !== undefined && !/^[^\u0000-\u001f\u007f]{1,200}$/.test(saveName)) throw new UsageError('--save: expected a trace name of 1-200 characters (no control characters)');
        const report = svc.trace(pos[0], spec);
        if (opt.has('json') && opt.has('markdown')) throw new UsageError('kpl trace: --json and --markdown exclude each other');
        out.stdout(opt.has('json') ? JSON.stringify(report.json, null, 2) + '\n' : opt.has('markdown') ? traceMarkdown(report.json) : report.text);
        const save = saveName;
        if (save !== undefined) {
          // With the seed the walk used, so the saved trace is this walk (kpl open LAB --trace NAME).
          const saved = svc.saveTrace(pos[0], save, report.json.seed, report);
          out.stderr(`kpl: trace saved as ${JSON.stringify(saved.name)} (seed ${saved.seed})\n`);
        }
        return 0;
      }
      default: {
        const code = runStoreCommand(cmd, rest, svc, out, stdin) ?? runGuideCommand(cmd, rest, svc, out);
        if (code !== undefined) return code;
        throw new UsageError(`unknown command "${cmd}"\n\n${USAGE}${STORE_USAGE}${GUIDE_USAGE}`);
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`kpl: ${e.message}\n`);
      return 2;
    }
    if (e instanceof LabFileError || e instanceof LabError || e instanceof LabFormatError || e instanceof LabStoreError || e instanceof StoreForeignError) {
      out.stderr(`kpl: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Reads all of standard input when it is a pipe or file (never waits on a terminal). */
export function readStdin(): string {
  if (process.stdin.isTTY) return '';
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}
