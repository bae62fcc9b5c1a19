// `kubectl apply` on an existing object: a three-way merge of the last applied configuration
// (the annotation), the new configuration and the live object, so that fields the server or
// other clients set (a ClusterIP, an allocated nodePort, a scaled replica count the new config
// does not mention) survive, and fields dropped from the config go away. Lists of the core and
// apps kinds merge by their strategic-merge keys (containers by name, Service ports by port ...).

import { ANN_LAST_APPLIED, clone, isObject } from './types.ts';

/** Go's encoding/json of a map (of JSON data): keys sorted, `<`, `>`, `&` escaped; json.Encoder adds the newline. */
export function goJson(v: unknown): string {
  // JSON.stringify writes members in their order: sorted once, the value is written natively.
  const sorted = sortedDeep(v);
  const s = sorted === UNSORTABLE ? encode(v) : JSON.stringify(sorted ?? null);
  // (one look first: most configurations hold none of the three)
  return /[<>&]/.test(s) ? s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026') : s;
}

/** What sortedDeep answers for a value with an object JSON.stringify cannot write in sorted
 *  order: a member named like an array index (written first, in numeric order; any name
 *  starting with a digit is taken for one) or "__proto__". */
const UNSORTABLE: unique symbol = Symbol('unsortable');

/** `x` with every object's members in sorted order (objects already so are kept, not copied). */
function sortedDeep(x: unknown): unknown {
  if (Array.isArray(x)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < x.length; i++) {
      const y = sortedDeep(x[i]);
      if (y === UNSORTABLE) return UNSORTABLE;
      if (y !== x[i]) (out ??= x.slice())[i] = y;
    }
    return out ?? x;
  }
  if (!isObject(x)) return x;
  const keys = Object.keys(x);
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const c = k.charCodeAt(0);
    if ((c >= 48 && c <= 57) || k === '__proto__') return UNSORTABLE;
    if (i > 0 && keys[i - 1] > k) inOrder = false;
  }
  let out: Record<string, unknown> | null = null;
  if (!inOrder) {
    out = {};
    for (const k of sortedKeys(keys)) out[k] = x[k];
  }
  for (const k of keys) {
    const v = x[k];
    const y = sortedDeep(v);
    if (y === UNSORTABLE) return UNSORTABLE;
    if (y !== v) (out ??= { ...x })[k] = y;
  }
  return out ?? x;
}

/** The encoding written member by member (for the values sortedDeep cannot sort). */
function encode(x: unknown): string {
  if (Array.isArray(x)) {
    let s = '[';
    for (let i = 0; i < x.length; i++) s += (i ? ',' : '') + encode(x[i]);
    return s + ']';
  }
  if (isObject(x)) {
    let s = '{';
    for (const k of sortedKeys(Object.keys(x))) {
      const v = x[k];
      if (v === undefined) continue;
      s += (s.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + encode(v);
    }
    return s + '}';
  }
  return JSON.stringify(x ?? null);
}

/** keys.sort() (in place), by insertion for the few keys of a manifest's object: the general
 *  sort's bookkeeping, once per object of every applied configuration, was most of the garbage
 *  an apply of thousands of objects made here. */
function sortedKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i;
    for (; j > 0 && keys[j - 1] > k; j--) keys[j] = keys[j - 1];
    keys[j] = k;
  }
  return keys;
}

/** The configuration as kubectl records it: the object minus the annotation itself. `config`
 *  is JSON data (as a decoded manifest is); it is not changed. */
export function lastAppliedOf(config: Record<string, unknown>): string {
  const meta = isObject(config.metadata) ? config.metadata : {};
  const ann = isObject(meta.annotations) ? { ...meta.annotations } : {};
  delete ann[ANN_LAST_APPLIED];
  return goJson({ ...config, metadata: { ...meta, annotations: ann } }) + '\n';
}

export function readLastApplied(obj: { metadata?: { annotations?: Record<string, string> } }): Record<string, unknown> | null {
  const s = obj.metadata?.annotations?.[ANN_LAST_APPLIED];
  if (!s) return null;
  try {
    const v: unknown = JSON.parse(s);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** The strategic-merge key of a list, by the field path (list indexes left out). */
function mergeKeyOf(kind: string, path: string): string | null {
  if (!['Pod', 'Deployment', 'Service', 'ReplicaSet', 'Node', 'Namespace'].includes(kind)) return null;
  if (kind === 'Service' && path === 'spec.ports') return 'port';
  const last = path.slice(path.lastIndexOf('.') + 1);
  const parent = path.slice(0, Math.max(0, path.lastIndexOf('.')));
  const parentLast = parent.slice(parent.lastIndexOf('.') + 1);
  if (last === 'containers' || last === 'initContainers' || last === 'ephemeralContainers') return 'name';
  if (last === 'ports' && (parentLast === 'containers' || parentLast === 'initContainers')) return 'containerPort';
  if (last === 'volumes' || last === 'env' || last === 'imagePullSecrets') return 'name';
  if (last === 'volumeMounts') return 'mountPath';
  return null;
}

function mergeValue(kind: string, orig: unknown, mod: unknown, live: unknown, path: string): unknown {
  if (isObject(mod) && isObject(live)) {
    const res = clone(live);
    for (const [k, m] of Object.entries(mod)) {
      if (m === null) delete res[k];
      else res[k] = mergeValue(kind, isObject(orig) ? orig[k] : undefined, m, live[k], path ? `${path}.${k}` : k);
    }
    if (isObject(orig)) for (const k of Object.keys(orig)) if (!(k in mod)) delete res[k];
    return res;
  }
  const key = Array.isArray(mod) && Array.isArray(live) ? mergeKeyOf(kind, path) : null;
  if (key && Array.isArray(mod) && Array.isArray(live)) {
    const keyOf = (x: unknown) => (isObject(x) ? JSON.stringify(x[key]) : undefined);
    const origList = Array.isArray(orig) ? orig : [];
    const res: unknown[] = [];
    for (const m of mod) {
      const l = live.find((x) => keyOf(x) === keyOf(m));
      const o = origList.find((x) => keyOf(x) === keyOf(m));
      res.push(l === undefined ? clone(m) : mergeValue(kind, o, m, l, path));
    }
    for (const l of live) {
      const k = keyOf(l);
      if (!mod.some((m) => keyOf(m) === k) && !origList.some((o) => keyOf(o) === k)) res.push(clone(l));
    }
    return res;
  }
  return clone(mod);
}

/** The object an apply leaves behind (the annotation still to be set by the caller). */
export function threeWayMerge(
  kind: string,
  original: Record<string, unknown> | null,
  modified: Record<string, unknown>,
  live: Record<string, unknown>,
): Record<string, unknown> {
  return mergeValue(kind, original, modified, live, '') as Record<string, unknown>;
}
