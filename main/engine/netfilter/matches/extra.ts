// Match modules beyond kube-proxy's (Calico's and the rest). Each lives in its own file.
import type { MatchModule } from '../types.ts';
import { connbytesMatch } from './connbytes.ts';
import { connmarkMatch } from './connmark.ts';
import { iprangeMatch } from './iprange.ts';
import { lengthMatch } from './length.ts';
import { limitMatch } from './limit.ts';
import { macMatch } from './mac.ts';
import { nfacctMatch } from './nfacct.ts';
import { ownerMatch } from './owner.ts';
import { physdevMatch } from './physdev.ts';
import { pkttypeMatch } from './pkttype.ts';
import { quotaMatch } from './quota.ts';
import { recentMatch } from './recent.ts';
import { rpfilterMatch } from './rpfilter.ts';
import { sctpMatch } from './sctp.ts';
import { setMatch } from './set.ts';
import { ttlMatch } from './ttl.ts';

/** Each module keeps its own data type; the registry sees them through MatchModule<never>. */
const erase = <D>(m: MatchModule<D>) => m as unknown as MatchModule<never>;

export const EXTRA_MATCHES: MatchModule<never>[] = [
  erase(setMatch),
  erase(connmarkMatch),
  erase(recentMatch),
  erase(physdevMatch),
  erase(sctpMatch),
  erase(iprangeMatch),
  erase(lengthMatch),
  erase(limitMatch),
  erase(macMatch),
  erase(ownerMatch),
  erase(rpfilterMatch),
  erase(connbytesMatch),
  erase(ttlMatch),
  erase(pkttypeMatch),
  erase(nfacctMatch),
  erase(quotaMatch),
];
