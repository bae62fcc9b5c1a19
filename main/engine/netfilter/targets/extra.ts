// Target modules beyond kube-proxy's (Calico's and the rest). Each lives in its own file.
import type { TargetModule } from '../types.ts';

export const EXTRA_TARGETS: TargetModule<never>[] = [];
