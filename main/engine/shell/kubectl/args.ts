// kubectl's flag parsing (cobra/pflag): flags anywhere among the arguments, `--flag=value`,
// `--flag value`, `-n value`, `-nvalue`, `-n=value`, boolean flags with an optional `=false`,
// `--` ending the flags; pflag's messages for what it cannot parse.

export type FlagKind = 'bool' | 'string' | 'strings';

export interface FlagSpec {
  long: string;
  short?: string;
  kind: FlagKind;
}

export interface Parsed {
  args: string[];
  flags: Map<string, string | string[] | boolean>;
}

export class FlagError extends Error {}

export function parseFlags(argv: string[], specs: FlagSpec[]): Parsed {
  const args: string[] = [];
  const flags = new Map<string, string | string[] | boolean>();
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const set = (spec: FlagSpec, value: string | boolean) => {
    if (spec.kind === 'strings') {
      const prev = (flags.get(spec.long) as string[] | undefined) ?? [];
      flags.set(spec.long, [...prev, String(value)]);
    } else flags.set(spec.long, value);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (spec.kind === 'bool') {
        const v = eq < 0 ? 'true' : a.slice(eq + 1);
        if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(v)) {
          throw new FlagError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
        }
        set(spec, ['true', '1', 't', 'TRUE', 'True'].includes(v));
      } else if (eq >= 0) set(spec, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        set(spec, argv[++i]);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const spec = byShort.get(c);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (spec.kind === 'bool') {
          set(spec, true);
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
          value = argv[++i];
        }
        set(spec, value);
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { args, flags };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function strs(p: Parsed, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags.get(name) === true;
}
