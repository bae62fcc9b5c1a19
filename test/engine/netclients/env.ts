// A pod in the article's cluster for the client-tool tests: its resolv.conf, the engine's
// CoreDNS behind 10.96.0.10, a fixed lab clock and a seeded random source.

import { askCoreDns, CoreDns, type CoreDnsOptions } from '../../../main/engine/kube/dns/coredns.ts';
import { podResolvConf } from '../../../main/engine/kube/dns/resolver.ts';
import type { NetEnv } from '../../../main/engine/shell/netclients/common.ts';
import { articleCluster } from '../kube/dns/fixtures.ts';

export function podEnv(opts: CoreDnsOptions = {}): NetEnv {
  let seed = 42;
  return {
    resolvConf: podResolvConf({ namespace: 'default' }),
    ask: askCoreDns(new CoreDns(articleCluster(), opts)),
    nowMs: Date.UTC(2024, 0, 15, 9, 5, 3),
    random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
  };
}
