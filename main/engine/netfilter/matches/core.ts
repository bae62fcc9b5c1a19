// Match modules kube-proxy writes. Each lives in its own file; list them here.
import type { MatchModule } from '../types.ts';

export const CORE_MATCHES: MatchModule<never>[] = [];
