// `kubectl delete TYPE NAME...`, `TYPE/NAME`, `-l`, `--all`, `-f FILE|-`: `service "webapp"
// deleted`, owned objects going with their owner (a Deployment's ReplicaSets and pods).

import { decodeObject } from '../../kube/objects/decode.ts';
import { parseManifests } from '../../kube/objects/manifest.ts';
import { matches, parseSelector } from '../../kube/objects/selector.ts';
import { StatusError } from '../../kube/objects/status.ts';
import type { Kind } from '../../kube/objects/types.ts';
import type { CommandResult } from '../types.ts';
import { statusMessage } from './apply.ts';
import { bool, str, strs, type Parsed } from './args.ts';
import type { KubectlEnv } from './env.ts';
import { parseRequests } from './get.ts';
import { isNamespaced, qualifiedSingular } from './resources.ts';
import { readSources } from './sources.ts';

const NO_RESOURCE = `error: You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'`;

export function del(p: Parsed, stdin: string, env: KubectlEnv): CommandResult {
  const store = env.store;
  const ns = str(p, 'namespace') || env.namespace || 'default';
  const ignore = bool(p, 'ignore-not-found');
  let stdout = '', stderr = '', failed = false, changed = false;
  const one = (kind: Kind, name: string, namespace: string | undefined, source?: string) => {
    try {
      store.delete(kind, name, isNamespaced(kind) ? namespace ?? ns : undefined);
      stdout += `${qualifiedSingular(kind)} "${name}" deleted\n`;
      changed = true;
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      if (e.reason === 'NotFound' && ignore) return;
      failed = true;
      stderr += source ? statusMessage(e, 'deleting', source) + '\n' : `Error from server (${e.reason}): ${e.message}\n`;
    }
  };
  const files = strs(p, 'filename');
  if (files.length) {
    const sources = readSources(files, stdin, env);
    if (typeof sources === 'string') return { stdout: '', stderr: sources + '\n', code: 1, changed: false };
    for (const src of sources) {
      const parsed = parseManifests(src.text, src.name);
      for (const doc of parsed.docs) {
        const d = decodeObject(doc.obj, store.minor, src.name);
        if (!d.ok) {
          failed = true;
          stderr += `error: ${d.message}\n`;
          continue;
        }
        if (d.obj.kind === 'KubeProxyConfiguration') continue;
        one(d.obj.kind, d.obj.metadata.name, d.obj.metadata.namespace || ns, src.name);
      }
      if (parsed.error) {
        failed = true;
        stderr += `error: ${parsed.error}\n`;
      }
    }
    return { stdout, stderr, code: failed ? 1 : 0, changed };
  }
  if (!p.args.length) return { stdout: '', stderr: NO_RESOURCE + '\n', code: 1, changed: false };
  const reqs = parseRequests(p.args, 'delete');
  if (typeof reqs === 'string') return { stdout: '', stderr: reqs + '\n', code: 1, changed: false };
  const sel = str(p, 'selector');
  const all = bool(p, 'all');
  for (const r of reqs) {
    if (r.names.length) {
      for (const n of r.names) one(r.kind, n, ns);
      continue;
    }
    if (sel === undefined && !all) return { stdout: '', stderr: 'error: resource(s) were provided, but no name was specified\n', code: 1, changed: false };
    let selector;
    try {
      selector = parseSelector(sel ?? '');
    } catch (e) {
      return { stdout: '', stderr: `error: ${(e as Error).message}\n`, code: 1, changed: false };
    }
    const victims = store.list(r.kind, isNamespaced(r.kind) ? ns : undefined).filter((o) => matches(selector, o.metadata.labels));
    if (!victims.length) stderr += isNamespaced(r.kind) ? `No resources found in ${ns} namespace.\n` : 'No resources found\n';
    for (const o of victims) if (store.get(o.kind, o.metadata.namespace, o.metadata.name)) one(o.kind, o.metadata.name, o.metadata.namespace);
  }
  return { stdout, stderr, code: failed ? 1 : 0, changed };
}
