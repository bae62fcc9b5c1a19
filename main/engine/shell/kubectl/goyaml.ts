// YAML the way `kubectl get -o yaml` writes it (sigs.k8s.io/yaml over go-yaml v2): keys in
// go-yaml's order (numbers inside keys compare as numbers), sequences not indented under their
// key, strings quoted only when they would read back as something else (`"80"`, `"True"`,
// timestamps, `""`), single quotes when a plain scalar is not allowed, literal blocks for
// multi-line strings, and long plain scalars folded at a space once past column 80.

const BEST_WIDTH = 80;

/** go-yaml v2's keyList.Less for string keys. */
function keyLess(a: string, b: string): boolean {
  const ar = [...a], br = [...b];
  const isLetter = (c: string) => /\p{L}/u.test(c);
  const isDigit = (c: string) => c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]), bl = isLetter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return bl;
    let an = 0, bn = 0, ai = i, bi = i;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.length < br.length;
}

export function sortKeys(keys: string[]): string[] {
  return [...keys].sort((a, b) => (keyLess(a, b) ? -1 : keyLess(b, a) ? 1 : 0));
}

const BOOL_OR_NULL = new Set([
  '', '~', 'null', 'Null', 'NULL', 'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE',
  'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF',
  '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN', '<<',
]);

/** Whether go-yaml's resolver would read the plain scalar as anything but a string. */
function resolvesToNonString(s: string): boolean {
  if (BOOL_OR_NULL.has(s)) return true;
  if (!/^[-+.0-9]/.test(s)) return false;
  const plain = s.replace(/_/g, '');
  if (/^[-+]?(0b[01]+|0o?[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$/.test(plain)) return true;
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return true;
  if (/^[-+]?(inf|infinity|nan)$/i.test(plain)) return true;
  // Timestamps (2006-1-2, 2006-1-2T15:4:5Z07:00 ...).
  if (/^\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[-+]\d{1,2}(:\d{2})?)?)?$/.test(s)) return true;
  // Base-60 floats (190:20:30), which go-yaml v2 also refuses to write plain.
  if (/^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s)) return true;
  return false;
}

/** yaml_emitter_analyze_scalar's verdict for the block context. */
function plainAllowed(s: string): boolean {
  if (s === '') return false;
  if (/^(---|\.\.\.)/.test(s)) return false;
  if (/^[\s]|[\s]$/.test(s)) return false;
  if (/[^\x20-\x7e\u00a0-\uffff]/.test(s)) return false;
  const c0 = s[0];
  if ('#,[]{}&*!|>\'"%@`'.includes(c0)) return false;
  if ('?:-'.includes(c0) && (s.length === 1 || s[1] === ' ')) return false;
  if (/: |:$| #/.test(s)) return false;
  return true;
}

function doubleQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0').toUpperCase();
    else out += ch;
  }
  return out + '"';
}

/** Writes `text` starting at `column`, breaking at a single space once past BEST_WIDTH. */
function folded(text: string, column: number, indent: number): string {
  let out = '';
  let col = column;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === ' ' && col > BEST_WIDTH && text[i - 1] !== ' ' && text[i + 1] !== ' ' && i + 1 < text.length) {
      out += '\n' + ' '.repeat(indent);
      col = indent;
      continue;
    }
    out += ch;
    col++;
  }
  return out;
}

/** A scalar at `column`; continuation lines (folds, literal blocks) go at `indent`. */
function scalar(v: unknown, column: number, indent: number, isKey: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloat(v);
  const s = String(v);
  if (s.includes('\n') && !isKey) {
    const chomp = s.endsWith('\n') ? (s.endsWith('\n\n') ? '+' : '') : '-';
    const indicator = s.startsWith(' ') ? '2' : '';
    const body = (s.endsWith('\n') ? s.slice(0, -1) : s).split('\n');
    return `|${indicator}${chomp}\n` + body.map((l) => (l === '' ? '' : ' '.repeat(indent) + l)).join('\n');
  }
  if (resolvesToNonString(s) || s.includes('\n')) return doubleQuote(s);
  if (plainAllowed(s)) return isKey ? s : folded(s, column, indent);
  if (!/[^\x20-\x7e\u00a0-\uffff]/.test(s)) {
    const q = "'" + s.replace(/'/g, "''") + "'";
    return isKey ? q : folded(q, column, indent);
  }
  return doubleQuote(s);
}

/** strconv.FormatFloat(f, 'g', -1, 64). */
function goFloat(f: number): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? '.nan' : f > 0 ? '+.inf' : '-.inf';
  const exp = Math.floor(Math.log10(Math.abs(f)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = f.toExponential().split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(f);
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function emitMap(m: Record<string, unknown>, indent: number, firstInline: boolean): string {
  let out = '';
  let first = true;
  for (const k of sortKeys(Object.keys(m).filter((x) => m[x] !== undefined))) {
    const pad = first && firstInline ? '' : ' '.repeat(indent);
    first = false;
    const key = scalar(k, indent, indent, true);
    out += pad + key + ':' + emitValue(m[k], indent, indent + key.length + 1);
  }
  return out;
}

/** The text after `key:` (a space and a scalar, or a newline and a nested block). */
function emitValue(v: unknown, indent: number, column: number): string {
  if (isMap(v)) return Object.keys(v).length ? '\n' + emitMap(v, indent + 2, false) : ' {}\n';
  if (Array.isArray(v)) return v.length ? '\n' + emitSeq(v, indent) : ' []\n';
  return ' ' + scalar(v, column + 1, indent + 2, false) + '\n';
}

function emitSeq(list: unknown[], indent: number): string {
  let out = '';
  for (const item of list) {
    const pad = ' '.repeat(indent) + '- ';
    if (isMap(item) && Object.keys(item).length) out += pad + emitMap(item, indent + 2, true);
    else if (Array.isArray(item) && item.length) out += pad + emitSeq(item, indent + 2).slice(indent + 2);
    else if (isMap(item)) out += pad + '{}\n';
    else if (Array.isArray(item)) out += pad + '[]\n';
    else out += pad + scalar(item, indent + 2, indent + 2, false) + '\n';
  }
  return out;
}

/** A JSON value as go-yaml v2 (via sigs.k8s.io/yaml) writes it. */
export function toGoYaml(v: unknown): string {
  if (isMap(v)) return Object.keys(v).length ? emitMap(v, 0, false) : '{}\n';
  if (Array.isArray(v)) return v.length ? emitSeq(v, 0) : '[]\n';
  return scalar(v, 0, 2, false) + '\n';
}
