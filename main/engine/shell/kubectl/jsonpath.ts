// kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath), the part people use:
// `{.spec.externalTrafficPolicy}`, `{.items[*].metadata.name}`, `{.items[0].spec.ports[0].nodePort}`,
// `{['metadata']['name']}`, `[1:3]`, filters `[?(@.type=="InternalIP")]`, recursive `..name`,
// `{range .items[*]}...{end}` and string literals `{"\n"}`. Several results of one action are
// joined by a space; maps and lists print as compact JSON; missing keys print nothing (kubectl
// get allows missing keys).

type Step =
  | { t: 'field'; name: string }
  | { t: 'recurse'; name: string }
  | { t: 'index'; i: number }
  | { t: 'slice'; start?: number; end?: number }
  | { t: 'all' }
  | { t: 'filter'; path: Step[]; op: string; value: unknown };

type Node = { t: 'text'; s: string } | { t: 'path'; steps: Step[]; root: boolean } | { t: 'range'; steps: Step[]; body: Node[] } | { t: 'lit'; s: string };

export class JsonPathError extends Error {}

function parseSteps(src: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (src[0] === '@' || src[0] === '$') i = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '.' && src[i + 1] === '.') {
      const m = /^[A-Za-z0-9_\-/]+/.exec(src.slice(i + 2));
      if (!m) throw new JsonPathError(`invalid recursive descent at ${i}`);
      steps.push({ t: 'recurse', name: m[0] });
      i += 2 + m[0].length;
    } else if (c === '.') {
      const m = /^[A-Za-z0-9_\-/]*/.exec(src.slice(i + 1)) as RegExpExecArray;
      if (m[0]) steps.push({ t: 'field', name: m[0] });
      i += 1 + m[0].length;
    } else if (c === '[') {
      const close = findClose(src, i);
      const inner = src.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ t: 'all' });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ t: 'field', name: inner.slice(1, -1) });
      else if (/^-?\d+$/.test(inner)) steps.push({ t: 'index', i: Number(inner) });
      else if (/^-?\d*:-?\d*$/.test(inner)) {
        const [a, b] = inner.split(':');
        steps.push({ t: 'slice', start: a === '' ? undefined : Number(a), end: b === '' ? undefined : Number(b) });
      } else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const m = /^@((?:\.[A-Za-z0-9_\-/]+|\['[^']*'\])+)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(inner.slice(2, -1).trim());
        if (!m) {
          const ex = /^@((?:\.[A-Za-z0-9_\-/]+)+)$/.exec(inner.slice(2, -1).trim());
          if (!ex) throw new JsonPathError(`unrecognized filter ${inner}`);
          steps.push({ t: 'filter', path: parseSteps('@' + ex[1]), op: 'exists', value: null });
        } else {
          const raw = m[3].trim();
          const value = /^'.*'$|^".*"$/.test(raw) ? raw.slice(1, -1) : Number.isNaN(Number(raw)) ? raw : Number(raw);
          steps.push({ t: 'filter', path: parseSteps('@' + m[1]), op: m[2], value });
        }
      } else throw new JsonPathError(`invalid array index ${inner}`);
    } else if (c === ' ') i++;
    else throw new JsonPathError(`unrecognized character in action: U+${c.codePointAt(0)?.toString(16).padStart(4, '0').toUpperCase()} '${c}'`);
  }
  return steps;
}

function findClose(src: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new JsonPathError('unterminated array');
}

function unquote(s: string): string {
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new JsonPathError(`invalid string literal ${s}`);
    }
  }
  return s.slice(1, -1);
}

export function parseTemplate(tpl: string): Node[] {
  const root: Node[] = [];
  const stack: { body: Node[] }[] = [{ body: root }];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1].body.push({ t: 'text', s: tpl.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1].body.push({ t: 'text', s: tpl.slice(i, open) });
    const close = tpl.indexOf('}', open);
    if (close < 0) throw new JsonPathError('unclosed action');
    const action = tpl.slice(open + 1, close).trim();
    i = close + 1;
    const body = stack[stack.length - 1].body;
    if (action.startsWith('range ')) {
      const node: Node = { t: 'range', steps: parseSteps(action.slice(6).trim()), body: [] };
      body.push(node);
      stack.push(node);
    } else if (action === 'end') {
      if (stack.length === 1) throw new JsonPathError('not in range, nothing to end');
      stack.pop();
    } else if (/^".*"$|^'.*'$/s.test(action)) body.push({ t: 'lit', s: unquote(action) });
    else body.push({ t: 'path', steps: parseSteps(action), root: action.startsWith('$') });
  }
  if (stack.length > 1) throw new JsonPathError('range without end');
  return root;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function recurse(v: unknown, name: string, out: unknown[]): void {
  if (isObj(v)) {
    if (name in v) out.push(v[name]);
    for (const x of Object.values(v)) recurse(x, name, out);
  } else if (Array.isArray(v)) for (const x of v) recurse(x, name, out);
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || String(a) === String(b);
    case '!=':
      return !(a === b || String(a) === String(b));
    case '<':
      return Number(a) < Number(b);
    case '>':
      return Number(a) > Number(b);
    case '<=':
      return Number(a) <= Number(b);
    case '>=':
      return Number(a) >= Number(b);
    default:
      return a !== undefined;
  }
}

function evalSteps(values: unknown[], steps: Step[]): unknown[] {
  let cur = values;
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (s.t) {
        case 'field':
          if (isObj(v) && s.name in v) next.push(v[s.name]);
          break;
        case 'recurse':
          recurse(v, s.name, next);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const idx = s.i < 0 ? v.length + s.i : s.i;
            if (idx >= 0 && idx < v.length) next.push(v[idx]);
            else throw new JsonPathError(`array index out of bounds: index ${s.i}, length ${v.length}`);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) next.push(...v.slice(s.start ?? 0, s.end ?? v.length));
          break;
        case 'all':
          if (Array.isArray(v)) next.push(...v);
          else if (isObj(v)) next.push(...Object.keys(v).sort().map((k) => v[k]));
          break;
        case 'filter':
          if (Array.isArray(v)) for (const x of v) if (evalSteps([x], s.path).some((r) => compare(r, s.op, s.value))) next.push(x);
          break;
      }
    }
    cur = next;
  }
  return cur;
}

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(sortedJson).join(',') + ']';
  if (isObj(v)) return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + sortedJson(v[k])).join(',') + '}';
  return JSON.stringify(v ?? null);
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return sortedJson(v);
  return String(v);
}

function run(nodes: Node[], data: unknown, root: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text' || n.t === 'lit') out += n.s;
    else if (n.t === 'path') out += evalSteps([n.root ? root : data], n.steps).map(text).join(' ');
    else for (const item of evalSteps([data], n.steps)) out += run(n.body, item, root);
  }
  return out;
}

/** Runs a template against the object (or List) kubectl would print. */
export function execJsonPath(template: string, data: unknown): string {
  return run(parseTemplate(template), data, data);
}
