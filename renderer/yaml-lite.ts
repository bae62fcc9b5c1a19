// A small YAML writer for the plain objects the app shows and applies (maps, lists, strings,
// numbers, booleans, null): block style, strings quoted whenever YAML could read them as
// anything else. The full `yaml` package is not needed in the renderer (the service parses).

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

function key(k: string): string {
  return PLAIN.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k);
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function lines(v: unknown, indent: string, out: string[]): void {
  if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      if ((isMap(x) && Object.keys(x).length) || (Array.isArray(x) && x.length)) {
        out.push(`${indent}${key(k)}:`);
        lines(x, Array.isArray(x) ? indent : `${indent}  `, out);
      } else out.push(`${indent}${key(k)}: ${isMap(x) ? '{}' : Array.isArray(x) ? '[]' : scalar(x)}`);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) {
      if (isMap(x) && Object.keys(x).length) {
        const sub: string[] = [];
        lines(x, `${indent}  `, sub);
        out.push(`${indent}- ${sub[0].trimStart()}`, ...sub.slice(1));
      } else if (Array.isArray(x) && x.length) {
        out.push(`${indent}-`);
        lines(x, `${indent}  `, out);
      } else out.push(`${indent}- ${isMap(x) ? '{}' : Array.isArray(x) ? '[]' : scalar(x)}`);
    }
  } else out.push(`${indent}${scalar(v)}`);
}

export function stringify(v: unknown): string {
  const out: string[] = [];
  lines(v, '', out);
  return out.join('\n') + '\n';
}
