// Manifest text (multi-document YAML, or JSON) -> plain objects, the way kubectl's stream decoder
// reads it: documents in order, comment-only documents skipped, `kind: List` expanded, YAML 1.1
// scalars (`yes`, `on`, `010`) as go-yaml v2 reads them, timestamps kept as strings. A syntax
// error stops the stream there; what came before it is still returned, as kubectl still applies it.

import { parseAllDocuments, type YAMLError } from 'yaml';
import { isObject } from './types.ts';

export interface RawDoc {
  obj: Record<string, unknown>;
  /** Position of the document in the stream, from 0. */
  index: number;
}

export interface ParsedManifests {
  docs: RawDoc[];
  /** kubectl's message (without the leading `error: `) for the first unreadable document. */
  error?: string;
}

/** go-yaml's wording for the problems people actually make; the npm parser words them its own way. */
/** The error's line within its own document (kubectl splits the stream before converting). */
function docLine(e: YAMLError, text: string): number {
  const off = e.pos?.[0] ?? 0;
  const before = text.slice(0, off);
  let start = 0;
  const re = /(^|\n)---[^\n]*\n/g;
  for (let m = re.exec(before); m; m = re.exec(before)) start = m.index + m[0].length;
  return before.slice(start).split('\n').length;
}

function goYamlMessage(e: YAMLError, text: string): string {
  const line = docLine(e, text);
  switch (e.code) {
    case 'DUPLICATE_KEY':
      return `yaml: unmarshal errors:\n  line ${line}: key ${JSON.stringify(duplicateKeyName(e, text))} already set in map`;
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return `yaml: line ${line}: mapping values are not allowed in this context`;
    case 'TAB_AS_INDENT':
      return `yaml: line ${line}: found character that cannot start any token`;
    case 'MISSING_CHAR':
    case 'BAD_INDENT':
      if (/flow sequence/i.test(e.message)) return `yaml: line ${line}: did not find expected ',' or ']'`;
      if (/flow map|flow mapping/i.test(e.message)) return `yaml: line ${line}: did not find expected ',' or '}'`;
      if (/sequence/i.test(e.message)) return `yaml: line ${line}: did not find expected '-' indicator`;
      return `yaml: line ${line}: did not find expected key`;
    default:
      return `yaml: line ${line}: could not find expected ':'`;
  }
}

function duplicateKeyName(e: YAMLError, text: string): string {
  const off = e.pos?.[0] ?? 0;
  const m = /^\s*([^:\s][^:]*?)\s*:/.exec(text.slice(off));
  return m ? m[1].replace(/^["']|["']$/g, '') : '';
}

/** Timestamps stay strings: sigs.k8s.io/yaml hands them to the API server as JSON strings. */
const YAML_OPTS = {
  version: '1.1' as const,
  customTags: (tags: { tag?: string }[]) => tags.filter((t) => t.tag !== 'tag:yaml.org,2002:timestamp'),
  uniqueKeys: true,
};

/**
 * Reads every document of `text`. `source` names the input in messages (`STDIN` or the file
 * name, as kubectl prints it).
 */
export function parseManifests(text: string, source: string): ParsedManifests {
  const docs: RawDoc[] = [];
  const trimmed = text.trimStart();
  // JSON input (one object or a List) goes through the JSON reader, with its own messages.
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      return { docs, error: `error parsing ${source}: ${(e as Error).message}` };
    }
    pushDoc(docs, v, 0);
    return { docs };
  }
  const parsed = parseAllDocuments(text, YAML_OPTS as never);
  const all = Array.isArray(parsed) ? parsed : [parsed];
  let index = 0;
  for (const d of all) {
    if (d.errors.length) {
      return { docs, error: `error parsing ${source}: error converting YAML to JSON: ${goYamlMessage(d.errors[0], text)}` };
    }
    const v: unknown = d.toJS({ maxAliasCount: 100 });
    if (v === null || v === undefined) continue;
    pushDoc(docs, v, index++);
  }
  return { docs };
}

function pushDoc(docs: RawDoc[], v: unknown, index: number): void {
  if (!isObject(v)) {
    // kubectl: a scalar or a sequence at the top is not an object.
    docs.push({ obj: { __notObject: true, value: v as never }, index });
    return;
  }
  if (v.kind === 'List' && Array.isArray(v.items)) {
    for (const item of v.items) pushDoc(docs, item, index);
    return;
  }
  docs.push({ obj: v, index });
}

/** kubectl's client-side check before anything reaches the server. */
export function checkTypeMeta(obj: Record<string, unknown>, source: string): string | null {
  if (obj.__notObject) {
    return `error validating "${source}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false`;
  }
  const missing: string[] = [];
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') missing.push('apiVersion not set');
  if (typeof obj.kind !== 'string' || obj.kind === '') missing.push('kind not set');
  if (!missing.length) return null;
  const what = missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`;
  return `error validating "${source}": error validating data: ${what}; if you choose to ignore these errors, turn validation off with --validate=false`;
}
