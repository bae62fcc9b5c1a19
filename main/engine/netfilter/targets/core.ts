// Target modules kube-proxy writes. Each lives in its own file; list them here.
import type { TargetModule } from '../types.ts';

export const CORE_TARGETS: TargetModule<never>[] = [];
