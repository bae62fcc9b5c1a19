// Splits a console line the way bash does for the subset a lab console needs: words with
// '...' / "..." / backslash quoting, pipelines (`|`), lists (`;`, `&&`, `||`), `<<EOF`
// here-documents and `$VAR`/`${VAR}` expansion from the host's environment.

export interface SimpleCommand {
  argv: string[];
  stdin?: string; // from a here-document
}

export interface Pipeline {
  commands: SimpleCommand[];
  /** How this pipeline joins the previous one. */
  op: ';' | '&&' | '||';
}

export class ShellSyntaxError extends Error {}

type Token = { t: 'word'; v: string } | { t: 'op'; v: string } | { t: 'heredoc'; delim: string; strip: boolean };

function tokenize(line: string, env: Readonly<Record<string, string>>): Token[] {
  const out: Token[] = [];
  let i = 0;
  let cur: string | null = null;
  const push = () => {
    if (cur !== null) out.push({ t: 'word', v: cur });
    cur = null;
  };
  const expand = (start: number): [string, number] => {
    // at line[start] === '$'
    let j = start + 1;
    if (line[j] === '{') {
      const end = line.indexOf('}', j);
      if (end < 0) throw new ShellSyntaxError('bad substitution');
      return [env[line.slice(j + 1, end)] ?? '', end + 1];
    }
    if (line[j] === '?') return [env['?'] ?? '0', j + 1];
    while (j < line.length && /[A-Za-z0-9_]/.test(line[j])) j++;
    if (j === start + 1) return ['$', j];
    return [env[line.slice(start + 1, j)] ?? '', j];
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      push();
      i++;
    } else if (c === '#' && cur === null) {
      break; // comment to end of line
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("unexpected EOF while looking for matching `''");
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) {
          s += line[j + 1];
          j += 2;
        } else if (line[j] === '$') {
          const [v, nj] = expand(j);
          s += v;
          j = nj;
        } else s += line[j++];
      }
      if (j >= line.length) throw new ShellSyntaxError('unexpected EOF while looking for matching `"\'');
      cur = (cur ?? '') + s;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 < line.length) cur = (cur ?? '') + line[i + 1];
      i += 2;
    } else if (c === '$') {
      const [v, nj] = expand(i);
      cur = (cur ?? '') + v;
      i = nj;
    } else if (c === '|' || c === '&' || c === ';') {
      push();
      if ((c === '|' || c === '&') && line[i + 1] === c) {
        out.push({ t: 'op', v: c + c });
        i += 2;
      } else if (c === '&') {
        throw new ShellSyntaxError('background jobs are not supported in the lab console');
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else if (c === '<' && line[i + 1] === '<') {
      push();
      let j = i + 2;
      const strip = line[j] === '-';
      if (strip) j++;
      while (line[j] === ' ') j++;
      let k = j;
      while (k < line.length && !' \t|;&'.includes(line[k])) k++;
      const delim = line.slice(j, k).replace(/^['"]|['"]$/g, '');
      if (!delim) throw new ShellSyntaxError("syntax error near unexpected token `newline'");
      out.push({ t: 'heredoc', delim, strip });
      i = k;
    } else if (c === '>' || c === '<') {
      throw new ShellSyntaxError('redirections are not supported in the lab console');
    } else {
      cur = (cur ?? '') + c;
      i++;
    }
  }
  push();
  return out;
}

/**
 * Parses one logical input (a line plus, when it opens here-documents, the lines after it).
 * Returns the pipelines and how many input lines were consumed, or `needMore` when a
 * here-document is not closed yet (the console then keeps reading).
 */
export function parseInput(
  lines: readonly string[],
  env: Readonly<Record<string, string>> = {},
): { pipelines: Pipeline[]; consumed: number } | { needMore: true } {
  const tokens = tokenize(lines[0] ?? '', env);
  let next = 1;
  const pipelines: Pipeline[] = [];
  let cmd: SimpleCommand = { argv: [] };
  let pipe: Pipeline = { commands: [], op: ';' };
  const endCommand = (opText: string) => {
    if (cmd.argv.length === 0) throw new ShellSyntaxError(`syntax error near unexpected token \`${opText}'`);
    pipe.commands.push(cmd);
    cmd = { argv: [] };
  };
  for (const tok of tokens) {
    if (tok.t === 'word') cmd.argv.push(tok.v);
    else if (tok.t === 'heredoc') {
      const body: string[] = [];
      let closed = false;
      while (next < lines.length) {
        let l = lines[next++];
        if (tok.strip) l = l.replace(/^\t+/, '');
        if (l === tok.delim) {
          closed = true;
          break;
        }
        body.push(l);
      }
      if (!closed) return { needMore: true };
      cmd.stdin = body.length ? body.join('\n') + '\n' : '';
    } else if (tok.v === '|') endCommand('|');
    else {
      endCommand(tok.v);
      pipelines.push(pipe);
      pipe = { commands: [], op: tok.v as Pipeline['op'] };
    }
  }
  if (cmd.argv.length) pipe.commands.push(cmd);
  else if (pipe.commands.length) throw new ShellSyntaxError("syntax error: unexpected end of file");
  if (pipe.commands.length) pipelines.push(pipe);
  return { pipelines, consumed: next };
}
