// Calico selectors: the small expression language Felix matches endpoint labels with. Only
// what Kubernetes NetworkPolicies turn into is parsed (==, !=, in, not in, has, !, &&, ||,
// all(), parentheses). The printer is libcalico-go's canonical form, which is what Felix
// hashes into IP set names: `key == "value"`, `key in {"a", "b"}` (sorted, unique), `has(k)`,
// `!expr`, every && / || group of two or more operands in one pair of parentheses, nesting as
// written (not flattened).

export type Sel =
  | { op: 'all' }
  | { op: 'eq' | 'ne'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'has'; key: string }
  | { op: 'not'; expr: Sel }
  | { op: 'and' | 'or'; operands: Sel[] };

function quote(v: string): string {
  return v.includes('"') ? `'${v}'` : `"${v}"`;
}

export function printSelector(s: Sel): string {
  switch (s.op) {
    case 'all':
      return 'all()';
    case 'eq':
      return `${s.key} == ${quote(s.value)}`;
    case 'ne':
      return `${s.key} != ${quote(s.value)}`;
    case 'in':
    case 'notin': {
      const vals = [...new Set(s.values)].sort().map(quote).join(', ');
      return `${s.key} ${s.op === 'in' ? 'in' : 'not in'} {${vals}}`;
    }
    case 'has':
      return `has(${s.key})`;
    case 'not':
      return `!${printSelector(s.expr)}`;
    case 'and':
    case 'or':
      if (s.operands.length === 1) return printSelector(s.operands[0]);
      return `(${s.operands.map(printSelector).join(s.op === 'and' ? ' && ' : ' || ')})`;
  }
}

export function evalSelector(s: Sel, labels: Record<string, string>): boolean {
  switch (s.op) {
    case 'all':
      return true;
    case 'eq':
      return Object.prototype.hasOwnProperty.call(labels, s.key) && labels[s.key] === s.value;
    case 'ne':
      return !Object.prototype.hasOwnProperty.call(labels, s.key) || labels[s.key] !== s.value;
    case 'in':
      return Object.prototype.hasOwnProperty.call(labels, s.key) && s.values.includes(labels[s.key]);
    case 'notin':
      return !Object.prototype.hasOwnProperty.call(labels, s.key) || !s.values.includes(labels[s.key]);
    case 'has':
      return Object.prototype.hasOwnProperty.call(labels, s.key);
    case 'not':
      return !evalSelector(s.expr, labels);
    case 'and':
      for (const o of s.operands) if (!evalSelector(o, labels)) return false;
      return true;
    case 'or':
      for (const o of s.operands) if (evalSelector(o, labels)) return true;
      return false;
  }
}

/** Adds `prefix` to every label key (namespace selectors become `pcns.` selectors). */
export function prefixKeys(s: Sel, prefix: string): Sel {
  switch (s.op) {
    case 'all':
      return s;
    case 'eq':
    case 'ne':
    case 'in':
    case 'notin':
    case 'has':
      return { ...s, key: prefix + s.key };
    case 'not':
      return { op: 'not', expr: prefixKeys(s.expr, prefix) };
    case 'and':
    case 'or':
      return { op: s.op, operands: s.operands.map((o) => prefixKeys(o, prefix)) };
  }
}

export class SelectorSyntaxError extends Error {}

const parsed = new Map<string, Sel>();

/** Parses a Calico selector string (remembered: the result must not be modified). */
export function parseSelector(text: string): Sel {
  let sel = parsed.get(text);
  if (!sel) {
    sel = parse(text);
    if (parsed.size > 50_000) parsed.clear();
    parsed.set(text, sel);
  }
  return sel;
}

function parse(text: string): Sel {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const peek = (s: string) => {
    ws();
    return text.startsWith(s, i);
  };
  const eat = (s: string) => {
    if (!peek(s)) throw new SelectorSyntaxError(`expected ${s} at ${i} in "${text}"`);
    i += s.length;
  };
  const ident = (): string => {
    ws();
    const m = /^[a-zA-Z0-9_./-]+/.exec(text.slice(i));
    if (!m) throw new SelectorSyntaxError(`expected a label key at ${i} in "${text}"`);
    i += m[0].length;
    return m[0];
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== '"' && q !== "'") throw new SelectorSyntaxError(`expected a string at ${i} in "${text}"`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) throw new SelectorSyntaxError(`unterminated string in "${text}"`);
    const v = text.slice(i + 1, end);
    i = end + 1;
    return v;
  };
  const or = (): Sel => {
    const ops = [and()];
    while (peek('||')) {
      eat('||');
      ops.push(and());
    }
    return ops.length === 1 ? ops[0] : { op: 'or', operands: ops };
  };
  const and = (): Sel => {
    const ops = [unary()];
    while (peek('&&')) {
      eat('&&');
      ops.push(unary());
    }
    return ops.length === 1 ? ops[0] : { op: 'and', operands: ops };
  };
  const unary = (): Sel => {
    if (peek('!') && !peek('!=')) {
      eat('!');
      return { op: 'not', expr: unary() };
    }
    if (peek('(')) {
      eat('(');
      const e = or();
      eat(')');
      return e;
    }
    if (peek('all()')) {
      eat('all()');
      return { op: 'all' };
    }
    if (peek('has(')) {
      eat('has(');
      const key = ident();
      eat(')');
      return { op: 'has', key };
    }
    const key = ident();
    if (peek('==')) {
      eat('==');
      return { op: 'eq', key, value: str() };
    }
    if (peek('!=')) {
      eat('!=');
      return { op: 'ne', key, value: str() };
    }
    let op: 'in' | 'notin' = 'in';
    if (peek('not')) {
      eat('not');
      op = 'notin';
    }
    eat('in');
    eat('{');
    const values: string[] = [];
    if (!peek('}')) {
      values.push(str());
      while (peek(',')) {
        eat(',');
        values.push(str());
      }
    }
    eat('}');
    return { op, key, values };
  };
  const e = or();
  ws();
  if (i !== text.length) throw new SelectorSyntaxError(`unexpected "${text.slice(i)}" in "${text}"`);
  return e;
}
