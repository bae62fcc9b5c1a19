// `kubectl scale deploy/NAME --replicas=N` (or `deployment NAME`): `deployment.apps/webapp scaled`.

import { StatusError } from '../../kube/objects/status.ts';
import type { CommandResult } from '../types.ts';
import { str, type Parsed } from './args.ts';
import type { KubectlEnv } from './env.ts';
import { parseRequests } from './get.ts';

export function scale(p: Parsed, env: KubectlEnv): CommandResult {
  const replicas = str(p, 'replicas');
  if (replicas === undefined) return { stdout: '', stderr: 'error: required flag(s) "replicas" not set\n', code: 1, changed: false };
  if (!/^-?\d+$/.test(replicas)) return { stdout: '', stderr: `error: invalid argument "${replicas}" for "--replicas" flag: strconv.ParseInt: parsing "${replicas}": invalid syntax\n`, code: 1, changed: false };
  const reqs = parseRequests(p.args, 'scale');
  if (typeof reqs === 'string') return { stdout: '', stderr: reqs + '\n', code: 1, changed: false };
  const ns = str(p, 'namespace') || env.namespace || 'default';
  let stdout = '', stderr = '', failed = false;
  for (const r of reqs) {
    if (!r.names.length) return { stdout: '', stderr: 'error: resource(s) were provided, but no name was specified\n', code: 1, changed: false };
    for (const name of r.names) {
      if (r.kind !== 'Deployment' && r.kind !== 'ReplicaSet') {
        failed = true;
        stderr += 'Error from server (NotFound): the server could not find the requested resource\n';
        continue;
      }
      try {
        if (r.kind === 'ReplicaSet') throw new StatusError('Conflict', 'the lab scales ReplicaSets through their Deployment');
        env.store.scale(name, ns, Number(replicas));
        stdout += `deployment.apps/${name} scaled\n`;
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        failed = true;
        stderr += e.reason === 'Invalid' ? e.message + '\n' : `Error from server (${e.reason}): ${e.message}\n`;
      }
    }
  }
  return { stdout, stderr, code: failed ? 1 : 0, changed: !failed || stdout !== '' };
}
