// go-spew's `%#v` rendering of a Go value (the ConfigState Kubernetes hashes with: types shown,
// map keys sorted, methods disabled, no pointer addresses). Go values are described by their Go
// type strings and a table of struct layouts, and filled from the object's JSON form: a field
// absent from the JSON is the Go zero value (nil pointer, nil slice/map, "", 0, false).

export type GoField = [name: string, json: string, type: string];

export interface GoTypes {
  /** Struct layouts in declaration order. A field whose json name is '' is embedded (inline). */
  structs: Record<string, GoField[]>;
  /** Named non-struct types -> their underlying kind (`v1.RestartPolicy` -> `string`). */
  named: Record<string, string>;
  /** Custom JSON -> Go conversions (intstr.IntOrString, resource.Quantity), producing spew text. */
  custom?: Record<string, (json: unknown, showType: boolean) => string>;
}

const INTS = new Set(['int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr']);

function mapParts(t: string): [string, string] | null {
  if (!t.startsWith('map[')) return null;
  let depth = 0;
  for (let i = 3; i < t.length; i++) {
    if (t[i] === '[') depth++;
    else if (t[i] === ']' && --depth === 0) return [t.slice(4, i), t.slice(i + 1)];
  }
  return null;
}

/** spew's `%#v` of the Go value of type `type` holding `json`. */
export function spewValue(types: GoTypes, type: string, json: unknown): string {
  return fmt(types, type, json, false);
}

function fmt(types: GoTypes, type: string, v: unknown, ignoreType: boolean): string {
  if (type.startsWith('*')) {
    const elem = type.slice(1);
    if (v === undefined || v === null) return ignoreType ? '<nil>' : `(${type})<nil>`;
    return (ignoreType ? '<*>' : `(${type})`) + fmt(types, elem, v, true);
  }
  const prefix = ignoreType ? '' : `(${type})`;
  const custom = types.custom?.[type];
  if (custom) return prefix + custom(v, true);
  const underlying = types.named[type] ?? type;
  if (underlying.startsWith('[]')) {
    if (!Array.isArray(v)) return prefix + '<nil>';
    const elem = underlying.slice(2);
    return prefix + '[' + v.map((x) => fmt(types, elem, x, true)).join(' ') + ']';
  }
  const mp = mapParts(underlying);
  if (mp) {
    if (typeof v !== 'object' || v === null) return prefix + '<nil>';
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return prefix + 'map[' + keys.map((k) => fmt(types, mp[0], k, true) + ':' + fmt(types, mp[1], obj[k], true)).join(' ') + ']';
  }
  const fields = types.structs[underlying];
  if (fields) {
    const obj = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    return prefix + '{' + fields.map(([name, json, ft]) => `${name}:` + fmt(types, ft, json === '' ? obj : obj[json], false)).join(' ') + '}';
  }
  if (underlying === 'string') return prefix + (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
  if (underlying === 'bool') return prefix + (v === true ? 'true' : 'false');
  if (INTS.has(underlying)) return prefix + (typeof v === 'number' ? String(Math.trunc(v)) : '0');
  if (underlying === 'float64' || underlying === 'float32') return prefix + (typeof v === 'number' ? String(v) : '0');
  // A layout the table does not describe: still deterministic, though not what Go would print.
  return prefix + (v === undefined || v === null ? '<nil>' : JSON.stringify(v));
}
