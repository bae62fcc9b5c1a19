// `kubectl label [--overwrite] TYPE NAME... KEY=VAL... KEY-...` (or TYPE/NAME): `pod/web labeled`,
// `pod/web unlabeled` when labels were only removed, `pod/web not labeled` when nothing changed;
// a key that has a value needs --overwrite. Labels of pods, namespaces and nodes drive
// selectors, so Services' endpoints and Calico's policy sets follow at once.

import { StatusError } from '../../kube/objects/status.ts';
import { KINDS } from '../../kube/objects/types.ts';
import type { CommandResult } from '../types.ts';
import { bool, str, type Parsed } from './args.ts';
import type { KubectlEnv } from './env.ts';
import { parseRequests } from './get.ts';
import { typeOf } from './resources.ts';

const fail = (stderr: string): CommandResult => ({ stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n', code: 1, changed: false });

/** kubectl's updateDataChangeMsg: "unlabeled" when, without --overwrite, the object's JSON got
 *  shorter (only the labels change here, and an empty map is left out as Go's omitempty does). */
function changeMsg(before: Record<string, string>, after: Record<string, string>, changed: boolean, overwrite: boolean): string {
  if (!changed) return 'not labeled';
  const size = (l: Record<string, string>): number => (Object.keys(l).length ? JSON.stringify({ labels: l }).length : 0);
  return !overwrite && size(after) < size(before) ? 'unlabeled' : 'labeled';
}

export function label(p: Parsed, env: KubectlEnv): CommandResult {
  // As kubectl splits them: an argument with `=` or a trailing `-` is a label change (no
  // resource name ends with `-`), any other names resources.
  const isChange = (a: string): boolean => a.includes('=') || a.endsWith('-');
  const resources = p.args.filter((a) => !isChange(a));
  const changes = p.args.filter(isChange);
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const c of changes) {
    const eq = c.indexOf('=');
    if (eq > 0 && c.indexOf('=', eq + 1) < 0) set[c.slice(0, eq)] = c.slice(eq + 1);
    else if (eq < 0 && c.length > 1 && c.endsWith('-')) remove.push(c.slice(0, -1));
    else return fail(`error: invalid label spec: ${c}`);
  }
  if (!Object.keys(set).length && !remove.length) return fail('error: at least one label update is required');
  for (const k of remove) if (k in set) return fail(`error: can not both modify and remove a label in the same command`);
  const reqs = parseRequests(resources, 'label');
  if (typeof reqs === 'string') return fail(reqs);
  const ns = str(p, 'namespace') || env.namespace || 'default';
  let stdout = '', stderr = '', failed = false, changed = false;
  for (const r of reqs) {
    if (!r.names.length) return fail('error: resource(s) were provided, but no name was specified');
    const t = typeOf(r.kind);
    const prefix = t.group ? `${t.singular}.${t.group}` : t.singular;
    for (const name of r.names) {
      const namespace = KINDS[r.kind].namespaced ? ns : undefined;
      try {
        // kubectl refuses a key that has a value before it sends anything (validateNoOverwrites).
        const before = env.store.peek(r.kind, namespace, name)?.metadata.labels ?? {};
        const taken = bool(p, 'overwrite') ? undefined : Object.keys(set).find((k) => k in before);
        if (taken !== undefined) {
          failed = true;
          stderr += `error: '${taken}' already has a value (${before[taken]}), and --overwrite is false\n`;
          continue;
        }
        const res = env.store.relabel(r.kind, name, namespace, set, remove);
        changed ||= res.changed;
        stdout += `${prefix}/${name} ${changeMsg(before, res.object.metadata.labels ?? {}, res.changed, bool(p, 'overwrite'))}\n`;
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        failed = true;
        stderr += e.reason === 'Invalid' ? e.message + '\n' : `Error from server (${e.reason}): ${e.message}\n`;
      }
    }
  }
  return { stdout, stderr, code: failed ? 1 : 0, changed };
}
