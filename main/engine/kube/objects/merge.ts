// `kubectl apply` on an existing object: a three-way merge of the last applied configuration
// (the annotation), the new configuration and the live object, so that fields the server or
// other clients set (a ClusterIP, an allocated nodePort, a scaled replica count the new config
// does not mention) survive, and fields dropped from the config go away. Lists of the core and
// apps kinds merge by their strategic-merge keys (containers by name, Service ports by port ...).

import { ANN_LAST_APPLIED, clone, isObject } from './types.ts';

/** Go's encoding/json of a map: keys sorted, `<`, `>`, `&` escaped; json.Encoder adds the newline. */
export function goJson(v: unknown): string {
  const enc = (x: unknown): string => {
    if (Array.isArray(x)) return '[' + x.map(enc).join(',') + ']';
    if (isObject(x)) {
      return '{' + Object.keys(x).sort().filter((k) => x[k] !== undefined).map((k) => JSON.stringify(k) + ':' + enc(x[k])).join(',') + '}';
    }
    return JSON.stringify(x ?? null);
  };
  return enc(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** The configuration as kubectl records it: the object minus the annotation itself. */
export function lastAppliedOf(config: Record<string, unknown>): string {
  const c = clone(config);
  const meta = (isObject(c.metadata) ? c.metadata : (c.metadata = {})) as Record<string, unknown>;
  const ann = (isObject(meta.annotations) ? meta.annotations : {}) as Record<string, unknown>;
  delete ann[ANN_LAST_APPLIED];
  meta.annotations = ann;
  return goJson(c) + '\n';
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
