// Compact diffs between two JSON documents, so a revision of a big lab stores only what the
// change touched. Values are compared as JSON sees them (undefined properties are absent),
// and object key order is part of equality: a patch rebuilds the document byte-for-byte as
// JSON.stringify would print it. Arrays are diffed by common prefix and suffix, which fits
// the lab's append-mostly journal.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type PathKey = string | number;

export type PatchOp =
  | { op: 'set'; p: PathKey[]; v: Json } // replace the value at p (p = []: the whole document)
  | { op: 'del'; p: PathKey[] } // remove an object key
  | { op: 'splice'; p: PathKey[]; i: number; n: number; v: Json[] }; // array splice at p

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Values JSON.stringify leaves out of an object. */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** Keys JSON.stringify would print, in its order. */
function jsonKeys(o: Obj): string[] {
  return Object.keys(o).filter((k) => !skipped(o[k]));
}

/** Array slots print undefined/functions as null. */
function slot(v: unknown): unknown {
  return skipped(v) ? null : v;
}

function prim(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** Equality as JSON text (including key order), without building the text. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(slot(a[i]), slot(b[i]))) return false;
    return true;
  }
  if (isObj(a)) {
    if (!isObj(b)) return false;
    // Fast path (the usual case on big labs): same keys in the same order, none skipped by JSON.
    const ka = Object.keys(a), kb = Object.keys(b);
    let plain = ka.length === kb.length;
    for (let i = 0; plain && i < ka.length; i++) {
      const k = ka[i];
      if (k !== kb[i] || skipped(a[k]) || skipped(b[k])) plain = false;
      else if (!jsonEqual(a[k], b[k])) return false;
    }
    if (plain) return true;
    const ja = jsonKeys(a), jb = jsonKeys(b);
    if (ja.length !== jb.length) return false;
    for (let i = 0; i < ja.length; i++) if (ja[i] !== jb[i] || !jsonEqual(a[ja[i]], b[jb[i]])) return false;
    return true;
  }
  if (Array.isArray(b) || isObj(b)) return false;
  return prim(a) === prim(b);
}

/** Operations that turn `a` into `b`. Inserted values are references into `b`. */
export function diff(a: unknown, b: unknown): PatchOp[] {
  const out: PatchOp[] = [];
  diffAt(a, b, [], out);
  return out;
}

function diffAt(a: unknown, b: unknown, p: PathKey[], out: PatchOp[]): void {
  if (Array.isArray(a) && Array.isArray(b)) return diffArray(a, b, p, out);
  if (isObj(a) && isObj(b)) return diffObject(a, b, p, out);
  if (!jsonEqual(a, b)) out.push({ op: 'set', p, v: b as Json });
}

function diffObject(a: Obj, b: Obj, p: PathKey[], out: PatchOp[]): void {
  const ka = jsonKeys(a), kb = jsonKeys(b);
  const inB = new Set(kb);
  const kept = ka.filter((k) => inB.has(k));
  // Applying deletes and appends must reproduce b's key order; otherwise replace the object.
  for (let i = 0; i < kept.length; i++) {
    if (kb[i] !== kept[i]) {
      out.push({ op: 'set', p, v: b as Json });
      return;
    }
  }
  for (const k of ka) if (!inB.has(k)) out.push({ op: 'del', p: [...p, k] });
  for (const k of kept) diffAt(a[k], b[k], [...p, k], out);
  for (let i = kept.length; i < kb.length; i++) out.push({ op: 'set', p: [...p, kb[i]], v: b[kb[i]] as Json });
}

function diffArray(a: unknown[], b: unknown[], p: PathKey[], out: PatchOp[]): void {
  let pre = 0;
  const min = Math.min(a.length, b.length);
  while (pre < min && jsonEqual(slot(a[pre]), slot(b[pre]))) pre++;
  let suf = 0;
  while (suf < min - pre && jsonEqual(slot(a[a.length - 1 - suf]), slot(b[b.length - 1 - suf]))) suf++;
  const na = a.length - pre - suf, nb = b.length - pre - suf;
  if (na === 0 && nb === 0) return;
  if (na === nb && na <= 8) {
    // A few elements changed in place (a host's links, one journal entry): diff inside them.
    for (let i = pre; i < pre + na; i++) diffAt(slot(a[i]), slot(b[i]), [...p, i], out);
    return;
  }
  out.push({ op: 'splice', p, i: pre, n: na, v: b.slice(pre, pre + nb).map(slot) as Json[] });
}

function parentOf(doc: Json, p: PathKey[]): Json {
  let cur: Json = doc;
  for (let i = 0; i < p.length - 1; i++) {
    const next: Json | undefined = Array.isArray(cur) ? cur[p[i] as number] : isObj(cur) ? (cur as Record<string, Json>)[p[i] as string] : undefined;
    if (next === undefined) throw new Error(`patch path ${JSON.stringify(p)} does not exist`);
    cur = next;
  }
  return cur;
}

/** Applies a patch to `doc` IN PLACE (values from the patch are taken over) and returns the result. */
export function applyPatch(doc: Json, ops: PatchOp[]): Json {
  for (const op of ops) {
    if (op.op === 'set' && op.p.length === 0) {
      doc = op.v;
      continue;
    }
    if (op.op === 'splice') {
      const target = op.p.length === 0 ? doc : (parentOf(doc, [...op.p, 0]) as Json);
      if (!Array.isArray(target)) throw new Error(`patch splice at ${JSON.stringify(op.p)}: not an array`);
      // Insert in chunks: spreading a huge array as arguments would overflow the stack.
      target.splice(op.i, op.n);
      for (let k = 0; k < op.v.length; k += 10_000) target.splice(op.i + k, 0, ...op.v.slice(k, k + 10_000));
      continue;
    }
    const parent = parentOf(doc, op.p);
    const key = op.p[op.p.length - 1];
    if (Array.isArray(parent)) {
      if (op.op === 'del') throw new Error('patch del on an array element');
      parent[key as number] = op.v;
    } else if (isObj(parent)) {
      const o = parent as Record<string, Json>;
      if (op.op === 'del') delete o[key as string];
      // defineProperty: a key named "__proto__" stays data, never the object's prototype.
      else Object.defineProperty(o, key as string, { value: op.v, writable: true, enumerable: true, configurable: true });
    } else throw new Error(`patch path ${JSON.stringify(op.p)}: parent is not a container`);
  }
  return doc;
}

function at(doc: unknown, p: PathKey[]): unknown {
  let cur = doc;
  for (const k of p) {
    if (Array.isArray(cur)) cur = cur[k as number];
    else if (isObj(cur) && Object.prototype.hasOwnProperty.call(cur, k)) cur = cur[k as string];
    else return undefined;
  }
  return cur;
}

function sameKeys(a: unknown, b: unknown): boolean {
  if (!isObj(a) || !isObj(b)) return Array.isArray(a) === Array.isArray(b);
  const ka = jsonKeys(a), kb = jsonKeys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Checks, after `applyPatch(a, diff(a, b))` gave `next`, that every place the patch touched
 * now equals `b` (values, array lengths, key order). The places it did not touch were found
 * equal by the diff itself, so this proves next == b without comparing the whole document.
 */
export function patchRebuilds(next: unknown, b: unknown, ops: PatchOp[]): boolean {
  for (const op of ops) {
    if (op.op === 'splice') {
      const x = at(next, op.p), y = at(b, op.p);
      if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
      for (let k = op.i; k < op.i + op.v.length; k++) if (!jsonEqual(slot(x[k]), slot(y[k]))) return false;
      continue;
    }
    if (op.p.length === 0) return jsonEqual(next, b);
    const parentPath = op.p.slice(0, -1);
    if (!sameKeys(at(next, parentPath), at(b, parentPath))) return false;
    if (op.op === 'del' ? !skipped(at(next, op.p)) || !skipped(at(b, op.p)) : !jsonEqual(at(next, op.p), at(b, op.p))) return false;
  }
  return true;
}
