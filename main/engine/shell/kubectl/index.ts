// The `kubectl` console command: get, describe, apply, create, delete, scale, label against the lab's
// KubeStore. Flags go anywhere (pflag), errors are kubectl's and exit with status 1.

import { StatusError } from '../../kube/objects/status.ts';
import { fail, ok, type CommandResult } from '../types.ts';
import { applyOrCreate } from './apply.ts';
import { FlagError, parseFlags, str, type FlagSpec } from './args.ts';
import { del } from './delete.ts';
import { describeObject, DESCRIBABLE } from './describe.ts';
import type { KubectlEnv } from './env.ts';
import { get, parseRequests } from './get.ts';
import { isNamespaced, typeOf } from './resources.ts';
import { scale } from './scale.ts';
import { label } from './label.ts';

const GLOBAL: FlagSpec[] = [
  { long: 'namespace', short: 'n', kind: 'string' },
  { long: 'context', kind: 'string' },
  { long: 'kubeconfig', kind: 'string' },
  { long: 'server', short: 's', kind: 'string' },
  { long: 'request-timeout', kind: 'string' },
  { long: 'v', short: 'v', kind: 'string' },
];

const COMMANDS: Record<string, FlagSpec[]> = {
  get: [
    { long: 'all-namespaces', short: 'A', kind: 'bool' },
    { long: 'output', short: 'o', kind: 'string' },
    { long: 'selector', short: 'l', kind: 'string' },
    { long: 'show-labels', kind: 'bool' },
    { long: 'no-headers', kind: 'bool' },
    { long: 'watch', short: 'w', kind: 'bool' },
    { long: 'show-kind', kind: 'bool' },
  ],
  describe: [
    { long: 'all-namespaces', short: 'A', kind: 'bool' },
    { long: 'selector', short: 'l', kind: 'string' },
    { long: 'show-events', kind: 'bool' },
  ],
  apply: [
    { long: 'filename', short: 'f', kind: 'strings' },
    { long: 'output', short: 'o', kind: 'string' },
    { long: 'dry-run', kind: 'string' },
    { long: 'validate', kind: 'string' },
    { long: 'force', kind: 'bool' },
    { long: 'server-side', kind: 'bool' },
    { long: 'recursive', short: 'R', kind: 'bool' },
  ],
  create: [
    { long: 'filename', short: 'f', kind: 'strings' },
    { long: 'output', short: 'o', kind: 'string' },
    { long: 'dry-run', kind: 'string' },
    { long: 'validate', kind: 'string' },
    { long: 'save-config', kind: 'bool' },
  ],
  delete: [
    { long: 'filename', short: 'f', kind: 'strings' },
    { long: 'selector', short: 'l', kind: 'string' },
    { long: 'all', kind: 'bool' },
    { long: 'ignore-not-found', kind: 'bool' },
    { long: 'force', kind: 'bool' },
    { long: 'now', kind: 'bool' },
    { long: 'wait', kind: 'bool' },
    { long: 'grace-period', kind: 'string' },
  ],
  scale: [
    { long: 'replicas', kind: 'string' },
    { long: 'current-replicas', kind: 'string' },
  ],
  label: [
    { long: 'overwrite', kind: 'bool' },
  ],
};

const HELP = `kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

Basic Commands (Beginner):
  create          Create a resource from a file or from stdin

Basic Commands (Intermediate):
  get             Display one or many resources
  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector

Deploy Commands:
  scale           Set a new size for a deployment, replica set, or replication controller

Settings Commands:
  label           Update the labels on a resource

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources

Advanced Commands:
  apply           Apply a configuration to a resource by file name or stdin

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands).
`;

/** The first argument that is not a flag (or a global flag's value): the subcommand. */
function findCommand(argv: string[]): number {
  const valued = new Set(['-n', '--namespace', '--context', '--kubeconfig', '-s', '--server', '--request-timeout', '-v']);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (valued.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return i;
  }
  return -1;
}

function describe(args: string[], namespace: string, env: KubectlEnv): CommandResult {
  const reqs = parseRequests(args, 'describe');
  if (typeof reqs === 'string') return fail(reqs);
  let stderr = '', failed = false;
  const parts: string[] = [];
  for (const r of reqs) {
    if (!DESCRIBABLE.includes(r.kind)) {
      failed = true;
      stderr += `error: the lab cannot describe ${typeOf(r.kind).plural} yet\n`;
      continue;
    }
    const objs = r.names.length
      ? r.names.map((n) => env.store.get(r.kind, isNamespaced(r.kind) ? namespace : undefined, n) ?? n)
      : env.store.list(r.kind, isNamespaced(r.kind) ? namespace : undefined);
    if (!r.names.length && !objs.length) stderr += isNamespaced(r.kind) ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n';
    for (const o of objs) {
      if (typeof o === 'string') {
        const t = typeOf(r.kind);
        failed = true;
        stderr += `Error from server (NotFound): ${t.plural}${t.group ? '.' + t.group : ''} "${o}" not found\n`;
      } else parts.push(describeObject(o, env.store));
    }
  }
  return { stdout: parts.join('\n\n'), stderr, code: failed ? 1 : 0, changed: false };
}

export function kubectl(argv: string[], stdin: string, env: KubectlEnv): CommandResult {
  const at = findCommand(argv);
  if (at < 0) return ok(HELP);
  const cmd = argv[at];
  const specs = COMMANDS[cmd];
  if (!specs) return fail(`error: unknown command "${cmd}" for "kubectl"\nRun 'kubectl --help' for usage.`);
  let p;
  try {
    p = parseFlags([...argv.slice(1, at), ...argv.slice(at + 1)], [...GLOBAL, ...specs]);
  } catch (e) {
    if (e instanceof FlagError) return fail(`error: ${e.message}\nSee 'kubectl ${cmd} --help' for usage.`);
    throw e;
  }
  try {
    switch (cmd) {
      case 'get':
        if (p.flags.get('watch') === true) return fail('error: watch is not supported in the lab console');
        return get(p, env);
      case 'describe':
        return describe(p.args, str(p, 'namespace') || env.namespace || 'default', env);
      case 'apply':
      case 'create':
        return applyOrCreate(cmd, p, stdin, env);
      case 'delete':
        return del(p, stdin, env);
      case 'scale':
        return scale(p, env);
      case 'label':
        return label(p, env);
      default:
        return fail(`error: unknown command "${cmd}" for "kubectl"`);
    }
  } catch (e) {
    if (e instanceof StatusError) return fail(e.reason === 'Invalid' ? e.message : `Error from server (${e.reason}): ${e.message}`);
    throw e;
  }
}
