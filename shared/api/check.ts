// Small runtime validators for values crossing a trust boundary (IPC, WebSocket). Each check
// returns null when the value fits, or a message naming where and why it does not. They are
// hand-written (no schema compiler) so the preload script, the web server and the worker can
// all bundle them at no cost.

export type Check = (v: unknown, where: string) => string | null;

const show = (v: unknown): string => {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function str(opts: { min?: number; max?: number; re?: RegExp; what?: string } = {}): Check {
  const min = opts.min ?? 0;
  const max = opts.max ?? 1_000_000;
  return (v, where) => {
    if (typeof v !== 'string') return `${where}: expected ${opts.what ?? 'a string'}, got ${show(v)}`;
    if (v.length < min || v.length > max) return `${where}: expected ${opts.what ?? 'a string'} of ${min}-${max} characters`;
    if (opts.re && !opts.re.test(v)) return `${where}: expected ${opts.what ?? 'a string'}, got ${show(v)}`;
    return null;
  };
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check {
  return (v, where) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `${where}: expected an integer ${min}..${max}, got ${show(v)}`);
}

export function num(min = -1e12, max = 1e12): Check {
  return (v, where) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `${where}: expected a number, got ${show(v)}`);
}

export const bool: Check = (v, where) => (typeof v === 'boolean' ? null : `${where}: expected true or false, got ${show(v)}`);

export function oneOf(...values: readonly (string | number | boolean)[]): Check {
  return (v, where) => (values.includes(v as string) ? null : `${where}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`);
}

export function anyOf(...checks: Check[]): Check {
  return (v, where) => {
    let first: string | null = null;
    for (const c of checks) {
      const e = c(v, where);
      if (e === null) return null;
      first ??= e;
    }
    return first;
  };
}

export function arr(item: Check, max = 10_000): Check {
  return (v, where) => {
    if (!Array.isArray(v)) return `${where}: expected an array, got ${show(v)}`;
    if (v.length > max) return `${where}: ${v.length} items exceed the limit of ${max}`;
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${where}[${i}]`);
      if (e) return e;
    }
    return null;
  };
}

/** An object with exactly these keys (those wrapped in opt() may be absent); others are refused. */
export function obj(shape: Record<string, Check>): Check {
  const keys = Object.keys(shape);
  return (v, where) => {
    if (!isObj(v)) return `${where}: expected an object, got ${show(v)}`;
    for (const k of Object.keys(v)) if (!keys.includes(k)) return `${where}: unknown field "${k}"`;
    for (const k of keys) {
      const check = shape[k];
      if (!(k in v) || v[k] === undefined) {
        if ((check as OptCheck).optional) continue;
        return `${where}.${k}: missing`;
      }
      const e = check(v[k], `${where}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

/**
 * An object whose listed fields pass their checks (those wrapped in opt() may be absent); other
 * fields are let through unchecked — for data whose shape grows, read only by its listed fields.
 */
export function loose(shape: Record<string, Check>): Check {
  const keys = Object.keys(shape);
  return (v, where) => {
    if (!isObj(v)) return `${where}: expected an object, got ${show(v)}`;
    for (const k of keys) {
      const check = shape[k];
      if (!Object.prototype.hasOwnProperty.call(v, k) || v[k] === undefined) {
        if ((check as OptCheck).optional) continue;
        return `${where}.${k}: missing`;
      }
      const e = check(v[k], `${where}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

/** A map from names to values of one kind. */
export function record(key: Check, value: Check, max = 100_000): Check {
  return (v, where) => {
    if (!isObj(v)) return `${where}: expected an object, got ${show(v)}`;
    const ks = Object.keys(v);
    if (ks.length > max) return `${where}: ${ks.length} entries exceed the limit of ${max}`;
    for (const k of ks) {
      const e = key(k, `${where} key`) ?? value(v[k], `${where}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

type OptCheck = Check & { optional?: true; nullable?: true };

export function opt(c: Check): Check {
  const o: OptCheck = (v, where) => (v === undefined ? null : c(v, where));
  o.optional = true;
  return o;
}

/** A value that must be given but may be null (an argument that says "none" on purpose). */
export function nullable(c: Check): Check {
  const o: OptCheck = (v, where) => (v === null ? null : c(v, where));
  o.nullable = true;
  return o;
}

/** Any JSON value whose serialized form stays under `maxBytes` (opaque data such as layouts). */
export function json(maxBytes: number): Check {
  return (v, where) => {
    let s: string | undefined;
    try {
      s = JSON.stringify(v);
    } catch {
      return `${where}: not JSON`;
    }
    if (s === undefined) return `${where}: not JSON`;
    if (s.length > maxBytes) return `${where}: larger than ${maxBytes} bytes`;
    return null;
  };
}

/** The positional arguments of one call: a fixed list, trailing opt() ones may be left out. */
export function args(...checks: Check[]): (v: unknown) => string | null {
  return (v) => {
    if (!Array.isArray(v)) return 'arguments: expected an array';
    if (v.length > checks.length) return `arguments: expected at most ${checks.length}, got ${v.length}`;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i] as OptCheck;
      if (c.nullable && i < v.length && v[i] === null) continue;
      if (i >= v.length || v[i] === undefined || v[i] === null) {
        // null stands for a left-out argument (JSON has no undefined inside arrays).
        if (c.optional) continue;
        return `argument ${i + 1}: missing`;
      }
      const e = c(v[i], `argument ${i + 1}`);
      if (e) return e;
    }
    return null;
  };
}

/** A tagged union: `v[tag]` names which check applies (`{kind: 'trace', ...}`). */
export function tagged(tag: string, variants: Record<string, Check>): Check {
  const names = Object.keys(variants);
  return (v, where) => {
    if (!isObj(v)) return `${where}: expected an object, got ${show(v)}`;
    const t = v[tag];
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(variants, t)) return `${where}.${tag}: expected one of ${names.map((x) => JSON.stringify(x)).join(', ')}, got ${show(t)}`;
    return variants[t](v, where);
  };
}
