// Tab completion of a console line (no DOM: unit-tested under Node).

/** Command names the engine's shell knows (main/engine/shell/programs.ts, textutils.ts, the net clients), and `clear`. */
export const COMMANDS = [
  'calicoctl', 'clear', 'column', 'conntrack', 'curl', 'dig', 'echo', 'egrep', 'false', 'grep', 'head', 'hostname', 'ip',
  'ipset', 'iptables', 'iptables-restore', 'iptables-save', 'kubectl', 'nc', 'nslookup', 'ping', 'sort', 'sysctl', 'tail',
  'true', 'uniq', 'wc', 'wget',
];

/** The longest common prefix of some strings. */
export function commonPrefix(words: string[]): string {
  if (!words.length) return '';
  let p = words[0];
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** Completion of the line's last word: the new line and the candidates (when ambiguous). */
export function complete(line: string, names: string[]): { line: string; candidates: string[] } {
  const m = /(\S*)$/.exec(line);
  const word = m ? m[1] : '';
  const before = line.slice(0, line.length - word.length);
  const firstWord = !/\S/.test(before.replace(/.*[|;&]/, ''));
  const pool = firstWord ? COMMANDS : [...new Set([...names, ...COMMANDS])];
  const hits = pool.filter((w) => w.startsWith(word)).sort();
  if (!hits.length || !word && !firstWord && hits.length > 200) return { line, candidates: [] };
  if (hits.length === 1) return { line: `${before}${hits[0]} `, candidates: [] };
  const p = commonPrefix(hits);
  return { line: before + (p.length > word.length ? p : word), candidates: p.length > word.length ? [] : hits.slice(0, 200) };
}
