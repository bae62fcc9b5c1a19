// Registry of target modules (`-j NAME` with options), one file per module.
import type { TargetModule } from '../types.ts';
import { CORE_TARGETS } from './core.ts';
import { EXTRA_TARGETS } from './extra.ts';

export const TARGETS: ReadonlyMap<string, TargetModule> = new Map(
  [...CORE_TARGETS, ...EXTRA_TARGETS].map((t) => [t.name, t as TargetModule]),
);
