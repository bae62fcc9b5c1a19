// The structured outputs of `kubectl get` and friends: `-o yaml` (go-yaml), `-o json` (Go's
// MarshalIndent with four spaces, keys sorted, HTML characters escaped), `-o name`, and
// `-o jsonpath=...`; several objects are wrapped in a `List` as kubectl does.

import type { KubeObject } from '../../kube/objects/types.ts';
import { toGoYaml } from './goyaml.ts';
import { execJsonPath } from './jsonpath.ts';
import { qualifiedSingular } from './resources.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** json.MarshalIndent(v, "", "    ") plus the newline kubectl prints. */
export function goJsonIndent(v: unknown): string {
  const enc = (x: unknown, ind: string): string => {
    if (Array.isArray(x)) {
      if (!x.length) return '[]';
      return '[\n' + x.map((e) => ind + '    ' + enc(e, ind + '    ')).join(',\n') + '\n' + ind + ']';
    }
    if (isMap(x)) {
      const keys = Object.keys(x).filter((k) => x[k] !== undefined).sort();
      if (!keys.length) return '{}';
      return '{\n' + keys.map((k) => `${ind}    ${JSON.stringify(k)}: ${enc(x[k], ind + '    ')}`).join(',\n') + '\n' + ind + '}';
    }
    return JSON.stringify(x ?? null).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  };
  return enc(v, '') + '\n';
}

/** The List kubectl wraps several objects in (v1.19's kubectl still carried selfLink). */
export function listOf(items: unknown[], minor: number): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: minor < 20 ? { resourceVersion: '', selfLink: '' } : { resourceVersion: '' } };
}

export type OutputFormat =
  | { t: 'table'; wide: boolean }
  | { t: 'yaml' }
  | { t: 'json' }
  | { t: 'name' }
  | { t: 'jsonpath'; template: string };

const ALLOWED = 'custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml';

/** `-o` value -> format, or kubectl's error text. */
export function parseOutput(o: string | undefined): OutputFormat | string {
  if (o === undefined || o === '') return { t: 'table', wide: false };
  if (o === 'wide') return { t: 'table', wide: true };
  if (o === 'yaml') return { t: 'yaml' };
  if (o === 'json') return { t: 'json' };
  if (o === 'name') return { t: 'name' };
  const m = /^jsonpath=(.*)$/s.exec(o);
  if (m) {
    let t = m[1];
    if (/^'.*'$|^".*"$/s.test(t)) t = t.slice(1, -1);
    return { t: 'jsonpath', template: t };
  }
  if (o === 'jsonpath') return 'error: template format specified but no template given';
  return `error: unable to match a printer suitable for the output format "${o}", allowed formats are: ${ALLOWED}`;
}

export function nameOf(obj: KubeObject): string {
  return `${qualifiedSingular(obj.kind)}/${obj.metadata.name}`;
}

/** Renders objects in a structured format; `single` prints the object itself, not a List. */
export function renderStructured(objs: KubeObject[], fmt: OutputFormat, single: boolean, minor: number): string {
  const data: unknown = single && objs.length === 1 ? objs[0] : listOf(objs, minor);
  switch (fmt.t) {
    case 'yaml':
      return toGoYaml(data);
    case 'json':
      return goJsonIndent(data);
    case 'name':
      return objs.map((o) => nameOf(o) + '\n').join('');
    case 'jsonpath':
      return execJsonPath(fmt.template, data);
    default:
      return '';
  }
}
