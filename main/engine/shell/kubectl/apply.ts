// `kubectl apply -f` and `kubectl create -f`: every document of every source, in order, is
// decoded, checked and written; successes print `service/webapp created|configured|unchanged`,
// refusals print as kubectl prints them (an Invalid one as "The Service ... is invalid: ...",
// others as `Error from server (Reason): error when creating "STDIN": ...`), exit status 1 if any.

import { decodeObject, type Decoded } from '../../kube/objects/decode.ts';
import { parseManifests } from '../../kube/objects/manifest.ts';
import { StatusError } from '../../kube/objects/status.ts';
import { KINDS } from '../../kube/objects/types.ts';
import type { CommandResult } from '../types.ts';
import { bool, str, strs, type Parsed } from './args.ts';
import type { KubectlEnv } from './env.ts';
import { qualifiedSingular } from './resources.ts';
import { readSources } from './sources.ts';

function displayName(obj: Decoded): string {
  if (obj.kind === 'KubeProxyConfiguration') return `kubeproxyconfiguration.kubeproxy.config.k8s.io/${obj.metadata?.name ?? 'kube-proxy'}`;
  return `${qualifiedSingular(obj.kind)}/${obj.metadata.name}`;
}

export function statusMessage(e: StatusError, verb: string, source: string): string {
  if (e.reason === 'Invalid') return e.message;
  return `Error from server (${e.reason}): error when ${verb} ${JSON.stringify(source)}: ${e.message}`;
}

export function applyOrCreate(mode: 'apply' | 'create', p: Parsed, stdin: string, env: KubectlEnv): CommandResult {
  const files = strs(p, 'filename');
  if (!files.length) {
    return { stdout: '', stderr: 'error: must specify one of -f and -k\n', code: 1, changed: false };
  }
  const sources = readSources(files, stdin, env);
  if (typeof sources === 'string') return { stdout: '', stderr: sources + '\n', code: 1, changed: false };
  const store = env.store;
  const flagNs = str(p, 'namespace');
  const dry = str(p, 'dry-run');
  const dryRun = dry === undefined || dry === 'none' ? '' : dry === 'server' ? ' (server dry run)' : ' (dry run)';
  const outName = str(p, 'output') === 'name';
  let stdout = '', stderr = '', changed = false, failed = false, any = false;
  // One batch: the controllers (and the node agents after them) run once for the whole input.
  store.batch(() => {
  for (const src of sources) {
    const parsed = parseManifests(src.text, src.name);
    for (const doc of parsed.docs) {
      any = true;
      const d = decodeObject(doc.obj, store.minor, src.name);
      if (!d.ok) {
        failed = true;
        stderr += d.side === 'client' ? `error: ${d.message}\n` : `Error from server (BadRequest): error when creating ${JSON.stringify(src.name)}: ${d.message}\n`;
        continue;
      }
      const obj = d.obj;
      if (obj.kind !== 'KubeProxyConfiguration' && KINDS[obj.kind].namespaced && flagNs && obj.metadata.namespace && obj.metadata.namespace !== flagNs) {
        failed = true;
        stderr += `error: the namespace from the provided object "${obj.metadata.namespace}" does not match the namespace "${flagNs}". You must pass '--namespace=${obj.metadata.namespace}' to perform this operation.\n`;
        continue;
      }
      const namespace = flagNs || env.namespace;
      if (dryRun) {
        const exists = obj.kind !== 'KubeProxyConfiguration' && store.get(obj.kind, obj.metadata.namespace || namespace || 'default', obj.metadata.name);
        stdout += `${displayName(obj)} ${exists && mode === 'apply' ? 'configured' : 'created'}${dryRun}\n`;
        continue;
      }
      try {
        // (decodeObject's copy is handed over: only its kind and name are read below)
        const name = displayName(obj);
        const r = mode === 'apply' ? store.apply(obj, { namespace, owned: true }) : store.create(obj, { namespace, saveConfig: bool(p, 'save-config'), owned: true });
        if (r.warning) stderr += r.warning + '\n';
        if (r.action !== 'unchanged') changed = true;
        stdout += outName ? `${name}\n` : `${name} ${r.action}\n`;
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        failed = true;
        if (e.reason === 'BadRequest' && e.message === 'resource name may not be empty' && mode === 'apply') {
          const info = obj.kind === 'KubeProxyConfiguration' ? null : KINDS[obj.kind];
          stderr += info
            ? `error: error when retrieving current configuration of:\nResource: "${info.group ? info.group + '/' : '/'}${info.version}, Resource=${info.plural}", GroupVersionKind: "${info.group ? info.group + '/' : '/'}${info.version}, Kind=${info.kind}"\nName: "", Namespace: "${info.namespaced ? namespace || 'default' : ''}"\nfrom server for: ${JSON.stringify(src.name)}: resource name may not be empty\n`
            : `error: resource name may not be empty\n`;
          continue;
        }
        stderr += statusMessage(e, 'creating', src.name) + '\n';
      }
    }
    if (parsed.error) {
      failed = true;
      stderr += `error: ${parsed.error}\n`;
      break;
    }
  }
  });
  if (!any && !failed) {
    failed = true;
    stderr += 'error: no objects passed to ' + mode + '\n';
  }
  return { stdout, stderr, code: failed ? 1 : 0, changed };
}
