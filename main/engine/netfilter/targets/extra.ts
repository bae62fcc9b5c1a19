// Target modules beyond kube-proxy's (Calico's and the rest). Each lives in its own file.
import type { TargetModule } from '../types.ts';
import { checksumTarget } from './checksum.ts';
import { connmarkTarget } from './connmark.ts';
import { ctTarget } from './ct.ts';
import { nflogTarget } from './nflog.ts';
import { notrackTarget } from './notrack.ts';
import { redirectTarget } from './redirect.ts';
import { setTarget } from './set.ts';
import { tcpmssTarget } from './tcpmss.ts';
import { traceTarget } from './trace.ts';
import { ttlTarget } from './ttl.ts';

/** Each module keeps its own data type; the registry sees them through TargetModule<never>. */
const erase = <D>(t: TargetModule<D>) => t as unknown as TargetModule<never>;

export const EXTRA_TARGETS: TargetModule<never>[] = [
  erase(connmarkTarget),
  erase(redirectTarget),
  erase(traceTarget),
  erase(ctTarget),
  erase(notrackTarget),
  erase(nflogTarget),
  erase(ttlTarget),
  erase(tcpmssTarget),
  erase(checksumTarget),
  erase(setTarget),
];
