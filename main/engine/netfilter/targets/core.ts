// Target modules kube-proxy writes. Each lives in its own file; list them here.
import type { TargetModule } from '../types.ts';
import { dnatTarget } from './dnat.ts';
import { logTarget } from './log.ts';
import { markTarget } from './mark.ts';
import { masqueradeTarget } from './masquerade.ts';
import { rejectTarget } from './reject.ts';
import { snatTarget } from './snat.ts';

/** Each module keeps its own data type; the registry only hands data back to its module. */
const erase = <D>(t: TargetModule<D>) => t as unknown as TargetModule<never>;

export const CORE_TARGETS: TargetModule<never>[] = [
  markTarget, dnatTarget, snatTarget, masqueradeTarget, rejectTarget, logTarget,
].map((t) => erase(t as TargetModule<unknown>));
