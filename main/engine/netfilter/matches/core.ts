// Match modules kube-proxy writes. Each lives in its own file; list them here.
import type { MatchModule } from '../types.ts';
import { addrtypeMatch } from './addrtype.ts';
import { commentMatch } from './comment.ts';
import { conntrackMatch } from './conntrack.ts';
import { icmpMatch } from './icmp.ts';
import { markMatch } from './mark.ts';
import { multiportMatch } from './multiport.ts';
import { stateMatch } from './state.ts';
import { statisticMatch } from './statistic.ts';
import { tcpMatch } from './tcp.ts';
import { udpMatch } from './udp.ts';

/** Each module keeps its own data type; the registry only hands data back to its module. */
const erase = <D>(m: MatchModule<D>) => m as unknown as MatchModule<never>;

export const CORE_MATCHES: MatchModule<never>[] = [
  tcpMatch, udpMatch, icmpMatch, commentMatch, markMatch, statisticMatch, addrtypeMatch, conntrackMatch,
  stateMatch, multiportMatch,
].map((m) => erase(m as MatchModule<unknown>));
