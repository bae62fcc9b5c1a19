// Per jump target, how many rules of which chains jump or go to it: what `-X` asks (is the
// chain still referenced?) and the way up from a changed chain to the chains that jump to it
// (the table's incremental validation). Nearly every chain of a kube-proxy or Calico ruleset
// is the target of one rule of one chain (a KUBE-SEP of its KUBE-SVC, a KUBE-SVC of
// KUBE-SERVICES): that case is kept as the jumping chain's name alone, so counting a table of
// 60,000 chains makes a map entry per chain, not a map per chain.

export class JumpRefs {
  /** The chain of the one rule that jumps to the target, or per chain its number of rules. */
  private readonly byTarget = new Map<string, string | Map<string, number>>();

  /** A rule of chain `from` that jumps to `target` came. */
  add(target: string, from: string): void {
    const v = this.byTarget.get(target);
    if (v === undefined) this.byTarget.set(target, from);
    else if (typeof v === 'string') this.byTarget.set(target, new Map(v === from ? [[from, 2]] : [[v, 1], [from, 1]]));
    else v.set(from, (v.get(from) ?? 0) + 1);
  }

  /** A rule of chain `from` that jumps to `target` went (it was counted). */
  remove(target: string, from: string): void {
    const v = this.byTarget.get(target);
    if (v === undefined) return;
    if (typeof v === 'string') {
      if (v === from) this.byTarget.delete(target);
      return;
    }
    const n = (v.get(from) ?? 0) - 1;
    if (n > 0) v.set(from, n);
    else {
      v.delete(from);
      if (v.size === 0) this.byTarget.delete(target);
    }
  }

  /** How many rules jump or go to `target`. */
  count(target: string): number {
    const v = this.byTarget.get(target);
    if (v === undefined) return 0;
    if (typeof v === 'string') return 1;
    let n = 0;
    for (const k of v.values()) n += k;
    return n;
  }

  /** The chains with a rule that jumps or goes to `target`. */
  parents(target: string): Iterable<string> {
    const v = this.byTarget.get(target);
    if (v === undefined) return NONE;
    return typeof v === 'string' ? [v] : v.keys();
  }
}

const NONE: readonly string[] = [];
