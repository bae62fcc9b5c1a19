// kube-proxy's partial sync: of a full iptables-restore text, only the chains that differ
// from the last one applied (and the `-X` of chains gone) — what `iptables-restore --noflush`
// needs to bring the node to the same rules, at a fraction of the work when one Service's
// endpoints changed. Declaring a chain in a --noflush restore flushes it, so a changed chain is
// declared and refilled; untouched chains are left as they are.

export interface ChainBlocks {
  /** table → chain → its declaration line and its `-A` lines, in order. */
  tables: Map<string, Map<string, string[]>>;
  /** table → the `-X CHAIN` lines. */
  deletes: Map<string, string[]>;
}

export function splitRestore(text: string): ChainBlocks {
  const tables = new Map<string, Map<string, string[]>>();
  const deletes = new Map<string, string[]>();
  let chains: Map<string, string[]> | undefined;
  let dels: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      chains = new Map();
      dels = [];
      tables.set(line.slice(1), chains);
      deletes.set(line.slice(1), dels);
    } else if (!chains || line === 'COMMIT' || line === '' || line.startsWith('#')) continue;
    else if (line.startsWith(':')) chains.set(line.slice(1, line.indexOf(' ')), [line]);
    else if (line.startsWith('-X ')) dels.push(line);
    else if (line.startsWith('-A ')) {
      const name = line.slice(3, line.indexOf(' ', 3));
      let block = chains.get(name);
      if (!block) chains.set(name, (block = [])); // a built-in chain's rule (not declared)
      block.push(line);
    }
  }
  return { tables, deletes };
}

/** The restore text that turns `prev` into `next` (null: nothing to do), and the chains it
 *  rewrites as `table/chain` (null: all of them). */
export function diffRestore(prev: ChainBlocks, next: ChainBlocks): { text: string | null; chains: Set<string> | null } {
  const changed = new Set<string>();
  const out: string[] = [];
  let any = false;
  for (const [table, chains] of next.tables) {
    const before = prev.tables.get(table) ?? new Map<string, string[]>();
    const decl: string[] = [];
    const rules: string[] = [];
    for (const [name, block] of chains) {
      const old = before.get(name);
      if (old && sameLines(old, block)) continue;
      // A built-in chain's rules cannot be refilled alone; send the whole text instead.
      if (!block[0]?.startsWith(':')) return { text: fullText(next), chains: null };
      changed.add(`${table}/${name}`);
      decl.push(block[0]);
      for (let i = 1; i < block.length; i++) rules.push(block[i]);
    }
    const dels = next.deletes.get(table) ?? [];
    if (!decl.length && !dels.length) continue;
    any = true;
    out.push(`*${table}`);
    for (const l of decl) out.push(l);
    for (const l of rules) out.push(l);
    for (const l of dels) out.push(l);
    out.push('COMMIT');
  }
  return { text: any ? out.join('\n') + '\n' : null, chains: changed };
}

function sameLines(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fullText(b: ChainBlocks): string {
  const out: string[] = [];
  for (const [table, chains] of b.tables) {
    out.push(`*${table}`);
    for (const block of chains.values()) if (block[0]?.startsWith(':')) out.push(block[0]);
    for (const block of chains.values()) for (const l of block) if (!l.startsWith(':')) out.push(l);
    for (const l of b.deletes.get(table) ?? []) out.push(l);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
