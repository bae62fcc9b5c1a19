// Label selectors: the string form kubectl takes after `-l` (labels.Parse), the structured form
// of Deployments and NetworkPolicies (matchLabels/matchExpressions), and how kubectl prints them.

import type { LabelSelector } from './types.ts';

export interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=';
  values: string[];
}

export type Selector = Requirement[];

export function matches(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
      case 'in':
        return has && r.values.includes(l[r.key]);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
    }
  });
}

/** `app=web,tier!=db,env in (a,b),!legacy,owner` -> requirements; throws with kubectl's reason. */
export function parseSelector(s: string): Selector {
  const out: Selector = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const word = () => {
    const m = /^[A-Za-z0-9_./-]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (true) {
    skipWs();
    if (i >= s.length) break;
    let neg = false;
    if (s[i] === '!') {
      neg = true;
      i++;
      skipWs();
    }
    const key = word();
    if (!key) throw new Error(`unable to parse requirement: found '${s[i] ?? ''}', expected: identifier`);
    skipWs();
    if (neg) {
      out.push({ key, op: '!', values: [] });
    } else if (s.startsWith('==', i) || s.startsWith('!=', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? '!=' : '=';
      i += s.startsWith('==', i) || op === '!=' ? 2 : 1;
      skipWs();
      out.push({ key, op, values: [word()] });
    } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
      const op = s.startsWith('notin', i) ? 'notin' : 'in';
      i = s.indexOf('(', i) + 1;
      const close = s.indexOf(')', i);
      if (close < 0) throw new Error("unable to parse requirement: found '', expected: ')'");
      const values = s.slice(i, close).split(',').map((v) => v.trim()).filter((v) => v !== '');
      i = close + 1;
      out.push({ key, op, values });
    } else {
      out.push({ key, op: 'exists', values: [] });
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') throw new Error(`unable to parse requirement: found '${s[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return out;
}

/** A structured selector as requirements. An empty selector matches everything. */
export function fromLabelSelector(ls: LabelSelector | undefined | null): Selector {
  const out: Selector = [];
  if (!ls) return out;
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) out.push({ key: k, op: '=', values: [v] });
  for (const e of ls.matchExpressions ?? []) {
    const op = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    out.push({ key: e.key, op, values: e.values ?? [] });
  }
  return out;
}

/** A Service's `selector` map as requirements. */
export function fromMap(m: Record<string, string> | undefined): Selector {
  return Object.entries(m ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] }));
}

/** labels.FormatLabels: `a=1,b=2` in key order, `<none>` when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  if (!keys.length) return '<none>';
  return keys.map((k) => `${k}=${(m as Record<string, string>)[k]}`).join(',');
}

/** metav1.FormatLabelSelector: matchLabels then expressions, `<none>` when empty. */
export function formatLabelSelector(ls: LabelSelector | undefined): string {
  if (!ls) return '<none>';
  const parts: string[] = [];
  const ml = ls.matchLabels ?? {};
  for (const k of Object.keys(ml).sort()) parts.push(`${k}=${ml[k]}`);
  for (const e of ls.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  const s = parts.join(',');
  return s === '' ? '<none>' : s;
}
