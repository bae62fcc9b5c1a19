// iptables-nft turns tcp/udp port (and tcp flag) matches into native nftables expressions and
// reads them back as ONE tcp/udp match, placed where the first of them was: several
// `-m tcp` in a rule merge (a later --dport replacing an earlier one), an inverted full
// range (`! --dport 0:65535`) leaves nothing behind. Matches it cannot translate (no option
// at all, a non-inverted full range, --tcp-option) stay as they were given. The rule text
// iptables-save prints, and so the engine's stored rule, is that read-back form.

import type { MatchSpec } from './types.ts';
import type { TcpData } from './matches/tcp.ts';
import type { UdpData } from './matches/udp.ts';
import { isFullRange, type PortRange } from './matches/portrange.ts';

/** A port option the kernel is given: a range other than the full one, or an inverted one. */
const portGiven = (r: PortRange | undefined, inv: boolean) => r !== undefined && (inv || !isFullRange(r));
/** An inverted full range: translated to nothing at all. */
const vanishes = (r: PortRange | undefined, inv: boolean) => r !== undefined && inv && isFullRange(r);

function isNative(m: MatchSpec): boolean {
  if (m.module === 'tcp') {
    const d = m.data as TcpData;
    if (d.option || d.optInv) return false;
    return portGiven(d.spts, d.sinv) || portGiven(d.dpts, d.dinv) || d.flagMask !== 0 || d.flagInv;
  }
  if (m.module === 'udp') {
    const d = m.data as UdpData;
    return portGiven(d.spts, d.sinv) || portGiven(d.dpts, d.dinv);
  }
  return false;
}

/** The matches as iptables-nft stores and lists them. Returns `matches` itself when nothing
 *  changes (the common case: one tcp/udp match with real ports). */
export function nftMatches(matches: MatchSpec[]): MatchSpec[] {
  let first = -1;
  let count = 0;
  let vanish = false;
  for (let i = 0; i < matches.length; i++) {
    if (!isNative(matches[i])) continue;
    if (first < 0) first = i;
    count++;
    const d = matches[i].data as TcpData | UdpData;
    if (vanishes(d.spts, d.sinv) || vanishes(d.dpts, d.dinv)) vanish = true;
  }
  if (first < 0 || (count === 1 && !vanish)) return matches;
  const module = matches[first].module;
  const merged = { ...(matches[first].data as TcpData) } as TcpData;
  merged.spts = merged.dpts = undefined;
  merged.sinv = merged.dinv = false;
  if (module === 'tcp') {
    merged.flagMask = merged.flagCmp = 0;
    merged.flagInv = false;
  }
  let any = false;
  for (const m of matches) {
    if (!isNative(m)) continue;
    const d = m.data as TcpData;
    if (portGiven(d.spts, d.sinv) && !vanishes(d.spts, d.sinv)) {
      merged.spts = d.spts;
      merged.sinv = d.sinv;
      any = true;
    }
    if (portGiven(d.dpts, d.dinv) && !vanishes(d.dpts, d.dinv)) {
      merged.dpts = d.dpts;
      merged.dinv = d.dinv;
      any = true;
    }
    if (module === 'tcp' && (d.flagMask !== 0 || d.flagInv)) {
      merged.flagMask = d.flagMask;
      merged.flagCmp = d.flagCmp;
      merged.flagInv = d.flagInv;
      any = true;
    }
  }
  const out: MatchSpec[] = [];
  for (let i = 0; i < matches.length; i++) {
    if (i === first) {
      if (any) out.push({ module, data: merged });
    } else if (!isNative(matches[i])) out.push(matches[i]);
  }
  return out;
}
