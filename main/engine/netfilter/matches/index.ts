// Registry of match modules (`-m NAME`), one file per module.
import type { MatchModule } from '../types.ts';
import { CORE_MATCHES } from './core.ts';
import { EXTRA_MATCHES } from './extra.ts';

export const MATCHES: ReadonlyMap<string, MatchModule> = new Map(
  [...CORE_MATCHES, ...EXTRA_MATCHES].map((m) => [m.name, m as MatchModule]),
);
