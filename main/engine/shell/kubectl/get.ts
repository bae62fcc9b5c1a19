// `kubectl get`: resource types (comma-separated, `all`), names or TYPE/NAME pairs, `-n`, `-A`,
// `-l`, `--show-labels`, `--no-headers`, and the output formats; tables grouped per kind with
// the `kind/` prefix when several kinds are printed; kubectl's messages for empty lists and
// missing objects.

import { matches, parseSelector, formatLabels, type Selector } from '../../kube/objects/selector.ts';
import type { Kind, KubeObject } from '../../kube/objects/types.ts';
import { fail, type CommandResult } from '../types.ts';
import { bool, str, type Parsed } from './args.ts';
import type { KubectlEnv } from './env.ts';
import { parseOutput, renderStructured } from './output.ts';
import { COLUMNS } from './printers.ts';
import { ALL, isNamespaced, qualifiedSingular, resolveResource, typeOf } from './resources.ts';
import { table } from './tabwriter.ts';
import { JsonPathError } from './jsonpath.ts';

interface Request {
  kind: Kind;
  names: string[];
}

const NO_TYPE = `You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.

error: Required resource not specified.
Use "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).
See 'kubectl get -h' for help and examples`;

/** Arguments -> what to fetch, or kubectl's error. */
export function parseRequests(args: string[], verb: string): Request[] | string {
  if (!args.length) {
    if (verb === 'get') return NO_TYPE;
    if (verb === 'describe') return 'error: You must specify the type of resource to describe. Use "kubectl api-resources" for a complete list of supported resources.';
    return 'error: You must provide one or more resources by argument or filename.';
  }
  const slashed = args.filter((a) => a.includes('/'));
  const out: Request[] = [];
  if (slashed.length) {
    if (slashed.length !== args.length) {
      return "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'";
    }
    for (const a of args) {
      const i = a.indexOf('/');
      const t = resolveResource(a.slice(0, i));
      if (!t) return `error: the server doesn't have a resource type "${a.slice(0, i)}"`;
      const name = a.slice(i + 1);
      if (!name) return `error: arguments in resource/name form must have a single resource and name`;
      const existing = out.find((r) => r.kind === t.kind);
      if (existing) existing.names.push(name);
      else out.push({ kind: t.kind, names: [name] });
    }
    return out;
  }
  const [types, ...names] = args;
  for (const ty of types.split(',')) {
    if (ty === 'all') {
      for (const k of ALL) if (!out.some((r) => r.kind === k)) out.push({ kind: k, names: [...names] });
      continue;
    }
    const t = resolveResource(ty);
    if (!t) return `error: the server doesn't have a resource type "${ty}"`;
    if (!out.some((r) => r.kind === t.kind)) out.push({ kind: t.kind, names: [...names] });
  }
  return out;
}

function deprecationWarning(kind: Kind, minor: number): string {
  return kind === 'Endpoints' && minor >= 33 ? 'Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n' : '';
}

export function get(p: Parsed, env: KubectlEnv): CommandResult {
  const store = env.store;
  const fmt = parseOutput(str(p, 'output'));
  if (typeof fmt === 'string') return fail(fmt);
  const reqs = parseRequests(p.args, 'get');
  if (typeof reqs === 'string') return fail(reqs);
  const allNs = bool(p, 'all-namespaces');
  const ns = str(p, 'namespace') || env.namespace || 'default';
  let selector: Selector = [];
  const l = str(p, 'selector');
  if (l !== undefined) {
    try {
      selector = parseSelector(l);
    } catch (e) {
      return fail(`error: ${(e as Error).message}`);
    }
  }
  let stderr = '';
  const found: KubeObject[] = [];
  let byName = false;
  for (const r of reqs) {
    stderr += deprecationWarning(r.kind, store.minor);
    const info = typeOf(r.kind);
    if (r.names.length) {
      byName = true;
      for (const name of r.names) {
        const o = store.get(r.kind, isNamespaced(r.kind) ? ns : undefined, name);
        if (o) found.push(o);
        else stderr += `Error from server (NotFound): ${info.plural}${info.group ? '.' + info.group : ''} "${name}" not found\n`;
      }
    } else {
      found.push(...store.list(r.kind, allNs ? undefined : ns).filter((o) => matches(selector, o.metadata.labels)));
    }
  }
  const failed = stderr.includes('Error from server');
  const code = failed ? 1 : 0;
  if (fmt.t !== 'table') {
    const single = byName && reqs.length === 1 && reqs[0].names.length === 1;
    if (!found.length && single) return { stdout: '', stderr, code, changed: false };
    try {
      return { stdout: renderStructured(found, fmt, single, store.minor), stderr, code, changed: false };
    } catch (e) {
      if (e instanceof JsonPathError) return fail(`error: error parsing jsonpath ${fmt.t === 'jsonpath' ? fmt.template : ''}, ${e.message}`);
      throw e;
    }
  }
  if (!found.length) {
    if (!failed) {
      const scoped = reqs.every((r) => isNamespaced(r.kind));
      stderr += allNs || !scoped ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`;
    }
    return { stdout: '', stderr, code, changed: false };
  }
  const kinds = [...new Set(found.map((o) => o.kind))];
  const withKind = kinds.length > 1 || (!p.args[0]?.includes('/') && p.args[0]?.split(',').includes('all'));
  const now = store.now();
  const blocks: string[] = [];
  for (const kind of kinds) {
    const cols = COLUMNS[kind];
    const objs = found.filter((o) => o.kind === kind);
    const nsCol = allNs && isNamespaced(kind);
    const headers = [...(nsCol ? ['NAMESPACE'] : []), ...cols.headers, ...(fmt.wide ? cols.wideHeaders : []), ...(bool(p, 'show-labels') ? ['LABELS'] : [])];
    const rows = objs.map((o) => {
      const cells = cols.row(o, now, fmt.wide);
      if (withKind) cells[0] = `${qualifiedSingular(kind)}/${cells[0]}`;
      return [...(nsCol ? [o.metadata.namespace ?? ''] : []), ...cells, ...(bool(p, 'show-labels') ? [formatLabels(o.metadata.labels)] : [])];
    });
    blocks.push(table(bool(p, 'no-headers') ? rows : [headers, ...rows]));
  }
  return { stdout: blocks.join('\n'), stderr, code, changed: false };
}
