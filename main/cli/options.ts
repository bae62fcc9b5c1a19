// Argument parsing shared by every kpl command: `--flag value`, `--flag=value`, boolean flags,
// one-letter `-f value` where the long form is listed, and the usage errors they raise.

export class UsageError extends Error {}

/** Splits `--flag value` / `--flag=value` options from positionals. `bools` take no value. */
export function parseOpts(args: string[], valued: readonly string[], bools: readonly string[]): { pos: string[]; opt: Map<string, string> } {
  const pos: string[] = [];
  const opt = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (/^-[a-z]$/.test(a) && valued.includes(a.slice(1))) a = '-' + a;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (bools.includes(key)) {
        if (eq > 0) throw new UsageError(`option --${key} takes no value`);
        opt.set(key, 'true');
      } else if (valued.includes(key)) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new UsageError(`option --${key} needs a value`);
        opt.set(key, v);
      } else throw new UsageError(`unknown option ${a}`);
    } else pos.push(a);
  }
  return { pos, opt };
}

export function need(pos: string[], n: number, usage: string): void {
  if (pos.length !== n) throw new UsageError(`usage: ${usage}`);
}

export function int(v: string | undefined, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${what}: expected a number ${min}..${max}, got "${v}"`);
  return Number(v);
}

export interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
