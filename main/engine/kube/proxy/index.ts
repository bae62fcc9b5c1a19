// Entry point: one node's kube-proxy (iptables mode) full sync, as a pure function of the
// cluster's service ports and endpoints, the node, the KubeProxyConfiguration and the layout.
// The lab applies `ensureChains` (iptables -N when missing), then `staticRules`
// (iptables -C, else -I/-A, as kube-proxy's EnsureRule does), then
// `iptables-restore --noflush` of `text`.

import { generateFull, layoutOf } from './layout.ts';
import { normalizeServices } from './normalize.ts';
import { lazyOriginTable, restoreText } from './origin.ts';
import type { GenerateInput, GenerateResult } from './model.ts';

export type * from './model.ts';
export type * from './origin.ts';
export { kubeHash16, portProtoHash, sepChain, servicePortNameString } from './hash.ts';
export { currentLocalhostNodePorts } from './current.ts';

export function generateKubeProxyRules(input: GenerateInput): GenerateResult {
  const ports = normalizeServices(input.services, input.node, input.layout);
  const L = layoutOf(input);
  const out = generateFull(L, input, ports);
  const setup = L.setup();
  return {
    layout: input.layout,
    text: restoreText(out.filter, out.nat),
    origins: lazyOriginTable(out.filter, out.nat),
    ensureChains: setup.ensureChains,
    staticRules: setup.staticRules,
    stats: {
      servicePorts: ports.length,
      endpoints: out.endpoints,
      filterRules: out.filter.rules,
      natRules: out.nat.rules,
      natChains: out.nat.chainCount,
      largeClusterMode: out.largeClusterMode,
    },
  };
}

export { KubeProxySyncer, chainOrigins, type ChainLines, type ProxySync, type RewrittenChain, type SharedText } from './incremental.ts';
