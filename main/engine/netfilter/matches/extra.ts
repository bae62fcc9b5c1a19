// Match modules beyond kube-proxy's (Calico's and the rest). Each lives in its own file.
import type { MatchModule } from '../types.ts';

export const EXTRA_MATCHES: MatchModule<never>[] = [];
