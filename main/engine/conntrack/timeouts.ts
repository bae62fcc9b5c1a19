// The conntrack timeouts of a network namespace: its net.netfilter.nf_conntrack_*_timeout*
// sysctls (per namespace in the kernel; kube-proxy sets two of them on every node). A state
// without a sysctl (SYN_SENT2, NONE) keeps the kernel's built-in value.

import type { ConntrackTimeouts } from './table.ts';
import { TCP_TIMEOUTS, type TcpState } from './tcp-state.ts';

const NF = 'net.netfilter.nf_conntrack_';

const TCP_SYSCTL: Partial<Record<TcpState, string>> = {
  SYN_SENT: 'syn_sent',
  SYN_RECV: 'syn_recv',
  ESTABLISHED: 'established',
  FIN_WAIT: 'fin_wait',
  CLOSE_WAIT: 'close_wait',
  LAST_ACK: 'last_ack',
  TIME_WAIT: 'time_wait',
  CLOSE: 'close',
};

/** The timeouts as `read` (a namespace's sysctl, as an integer) gives them now. */
export function timeoutsFrom(read: (key: string) => number): ConntrackTimeouts {
  const state = { ...TCP_TIMEOUTS };
  for (const [s, name] of Object.entries(TCP_SYSCTL) as [TcpState, string][]) state[s] = read(`${NF}tcp_timeout_${name}`);
  return {
    tcp: { state, unacknowledged: read(`${NF}tcp_timeout_unacknowledged`) },
    udpUnreplied: read(`${NF}udp_timeout`),
    udpStream: read(`${NF}udp_timeout_stream`),
    icmp: read(`${NF}icmp_timeout`),
    generic: read(`${NF}generic_timeout`),
    greUnreplied: read(`${NF}gre_timeout`),
    greStream: read(`${NF}gre_timeout_stream`),
    sctpCookieWait: read(`${NF}sctp_timeout_cookie_wait`),
    sctpEstablished: read(`${NF}sctp_timeout_established`),
  };
}
