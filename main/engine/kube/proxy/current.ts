// The current layout: kube-proxy's iptables proxier as of v1.31+ (pkg/proxy/iptables/proxier.go
// syncProxyRules, full sync). Per service port: KUBE-SVC (Cluster-policy endpoints), KUBE-SVL
// (Local-policy endpoints), KUBE-EXT (every external destination: NodePort, externalIP, LB IP),
// KUBE-FW (loadBalancerSourceRanges) and one KUBE-SEP per endpoint; filter-table REJECT/DROP
// rules for services without (local) endpoints, KUBE-PROXY-FIREWALL for LB source ranges,
// health-check NodePort ACCEPTs, nfacct-counted localhost NodePorts. Addresses are bare IPs.

import { extChain, fwChain, svcChain, svlChain } from './hash.ts';
import {
  goMark,
  statisticJump,
  localDetector,
  nodeIPv4,
  nodePortAddressing,
  quoted,
  rangesContain,
  type EndpointInfo,
  type PortInfo,
} from './normalize.ts';
import { nodeOrigin as node, serviceOrigin, type RuleSink, type ServiceRole } from './origin.ts';
import { categorizeEndpoints, externallyAccessible } from './topology.ts';
import type { EnsuredChain, GenerateInput, StaticRule } from './model.ts';

const LARGE_CLUSTER_ENDPOINTS = 1000;
const NODEPORTS_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
export const CURRENT_OURS = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];
const LOCALHOST_NODEPORT_COUNTER = 'localhost_nps_accepted_pkts';
const INVALID_DROP_COUNTER = 'ct_state_invalid_dropped_pkts';

/** What every service port's rules depend on besides the port itself: the node, the
 *  KubeProxyConfiguration and large-cluster mode (which follows the total endpoint count). */
export interface CurrentContext {
  nodeName: string;
  zone: string;
  mark: string;
  masqueradeAll: boolean;
  detector: ReturnType<typeof localDetector>;
  nodeIP: ReturnType<typeof nodeIPv4>;
  nfacct: boolean;
  npa: ReturnType<typeof nodePortAddressing>;
  localhostNodePorts: boolean;
  largeClusterMode: boolean;
}

/** kube-proxy drops the per-endpoint comments above 1,000 endpoints. */
export function currentLargeClusterMode(totalEndpoints: number): boolean {
  return totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
}

/** Whether kube-proxy serves NodePorts on 127.0.0.1 (and so sets route_localnet=1 at start):
 *  localhostNodePorts, unless nodePortAddresses leave 127.0.0.0/8 out. */
export function currentLocalhostNodePorts(input: Pick<GenerateInput, 'config' | 'node'>): boolean {
  return localhostNodePortsOf(input.config, nodePortAddressing(input.config, input.node, 'current'));
}

function localhostNodePortsOf(config: GenerateInput['config'], npa: { containsLoopback: boolean }): boolean {
  return (config.iptables?.localhostNodePorts ?? true) && npa.containsLoopback;
}

export function currentContext(input: GenerateInput, largeClusterMode: boolean): CurrentContext {
  const npa = nodePortAddressing(input.config, input.node, 'current');
  return {
    nodeName: input.node.name,
    zone: input.node.zone ?? '',
    mark: input.masqueradeMarkText ?? goMark(input.config.iptables?.masqueradeBit ?? 14),
    masqueradeAll: input.config.iptables?.masqueradeAll === true,
    detector: localDetector(input.config, input.node, 'current'),
    nodeIP: nodeIPv4(input.node),
    nfacct: input.node.nfacct !== false,
    npa,
    // kube-proxy turns localhostNodePorts off when nodePortAddresses exclude 127.0.0.0/8.
    localhostNodePorts: localhostNodePortsOf(input.config, npa),
    largeClusterMode,
  };
}

/** The chains every sync declares and the rules that belong to no service port. */
export function currentPrologue(input: GenerateInput, ctx: CurrentContext, filter: RuleSink, nat: RuleSink): void {
  const { mark, localhostNodePorts } = ctx;
  const markSetting = 'iptables.masqueradeBit';
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) filter.declare(c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.declare(c);

  nat.rule('KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`, node('postrouting', markSetting));
  nat.rule('KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`, node('postrouting', markSetting));
  const randomFully = input.node.randomFully !== false ? ' --random-fully' : '';
  nat.rule('KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully}`, node('postrouting'));
  nat.rule('KUBE-MARK-MASQ', `-j MARK --or-mark ${mark}`, node('markMasquerade', markSetting));

  if (localhostNodePorts) {
    // The route_localnet hole (issue 90259) is closed by a copy of kubelet's rule.
    filter.declare('KUBE-FIREWALL');
    filter.rule(
      'KUBE-FIREWALL',
      '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      node('localnetFirewall', 'iptables.localhostNodePorts'),
    );
  }
}

/** One service port's rules, in every chain it writes to (its own chains declared here). */
export function writeCurrentPort(ctx: CurrentContext, p: PortInfo, filter: RuleSink, nat: RuleSink, active: Set<string> | null): void {
  const { masqueradeAll, detector, nfacct, localhostNodePorts, nodeIP, largeClusterMode } = ctx;
  const C = p.ref.servicePortName;
  const proto = `-m ${p.protocol} -p ${p.protocol}`;
  const { cluster, local, reachable, hasAny: hasEndpoints } = categorizeEndpoints(p, ctx.nodeName, ctx.zone);

  const clusterPolicyChain = svcChain(p.hash);
  const usesClusterPolicyChain = cluster.length > 0;
  const localPolicyChain = svlChain(p.hash);
  const usesLocalPolicyChain = local.length > 0;

  let internalTrafficChain = clusterPolicyChain;
  let hasInternalEndpoints = hasEndpoints;
  if (p.internalPolicyLocal) {
    internalTrafficChain = localPolicyChain;
    if (local.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = clusterPolicyChain;
  let hasExternalEndpoints = hasEndpoints;
  if (p.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if (local.length === 0) hasExternalEndpoints = false;
  }
  const externalTrafficChain = extChain(p.hash);
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(p);
  const fw = fwChain(p.hash);
  const usesFWChain = hasEndpoints && p.loadBalancerIPs.length > 0 && p.sourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fw : externalTrafficChain;

  let internalTarget = '';
  let internalComment = '';
  let internalRole: ServiceRole = 'noEndpoints';
  let externalTarget = '';
  let externalComment = '';
  let externalRole: ServiceRole = 'noEndpoints';
  if (!hasEndpoints) {
    internalTarget = externalTarget = 'REJECT';
    internalComment = externalComment = quoted(`${C} has no endpoints`);
  } else {
    if (!hasInternalEndpoints) {
      internalTarget = 'DROP';
      internalComment = quoted(`${C} has no local endpoints`);
      internalRole = 'noLocalEndpoints';
    }
    if (!hasExternalEndpoints) {
      externalTarget = 'DROP';
      externalComment = quoted(`${C} has no local endpoints`);
      externalRole = 'noLocalEndpoints';
    }
  }

  // Cluster IP.
  const clusterArgs = '-m comment --comment "' + C + ' cluster IP" ' + proto + ' -d ' + p.clusterIP + ' --dport ' + p.port;
  if (hasInternalEndpoints) {
    nat.ruleParts('KUBE-SERVICES', serviceOrigin(p, 'clusterIP', p.clusterIP), clusterArgs, ' -j ', internalTrafficChain);
  } else {
    filter.rule(
      'KUBE-SERVICES',
      `-m comment --comment ${internalComment} ${proto} -d ${p.clusterIP} --dport ${p.port} -j ${internalTarget}`,
      serviceOrigin(p, internalRole, p.clusterIP),
    );
  }

  // External IPs.
  for (const ext of p.externalIPs) {
    if (hasEndpoints) {
      nat.rule(
        'KUBE-SERVICES',
        `-m comment --comment ${quoted(`${C} external IP`)} ${proto} -d ${ext} --dport ${p.port} -j ${externalTrafficChain}`,
        serviceOrigin(p, 'externalIP', ext),
      );
    }
    if (!hasExternalEndpoints) {
      filter.rule(
        'KUBE-EXTERNAL-SERVICES',
        `-m comment --comment ${externalComment} ${proto} -d ${ext} --dport ${p.port} -j ${externalTarget}`,
        serviceOrigin(p, externalRole, ext),
      );
    }
  }

  // Load-balancer IPs.
  for (const lb of p.loadBalancerIPs) {
    if (hasEndpoints) {
      nat.rule(
        'KUBE-SERVICES',
        `-m comment --comment ${quoted(`${C} loadbalancer IP`)} ${proto} -d ${lb} --dport ${p.port} -j ${loadBalancerTrafficChain}`,
        serviceOrigin(p, 'loadBalancerIP', lb),
      );
    }
    if (usesFWChain) {
      filter.rule(
        'KUBE-PROXY-FIREWALL',
        `-m comment --comment ${quoted(`${C} traffic not accepted by ${fw}`)} ${proto} -d ${lb} --dport ${p.port} -j DROP`,
        serviceOrigin(p, 'loadBalancerFirewallDrop', lb),
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const lb of p.loadBalancerIPs) {
      filter.rule(
        'KUBE-EXTERNAL-SERVICES',
        `-m comment --comment ${externalComment} ${proto} -d ${lb} --dport ${p.port} -j ${externalTarget}`,
        serviceOrigin(p, externalRole, lb),
      );
    }
  }

  // NodePort (never subject to loadBalancerSourceRanges).
  if (p.nodePort !== 0) {
    const np = String(p.nodePort);
    if (hasEndpoints) {
      if (localhostNodePorts && nfacct) {
        nat.rule(
          'KUBE-NODEPORTS',
          `-m comment --comment ${C} ${proto} -d 127.0.0.0/8 --dport ${np} -m nfacct --nfacct-name ${LOCALHOST_NODEPORT_COUNTER} -j ${externalTrafficChain}`,
          serviceOrigin(p, 'nodePortLocalhost', np),
        );
      }
      nat.rule('KUBE-NODEPORTS', `-m comment --comment ${C} ${proto} --dport ${np} -j ${externalTrafficChain}`, serviceOrigin(p, 'nodePort', np));
    }
    if (!hasExternalEndpoints) {
      filter.rule(
        'KUBE-EXTERNAL-SERVICES',
        `-m comment --comment ${externalComment} -m addrtype --dst-type LOCAL ${proto} --dport ${np} -j ${externalTarget}`,
        serviceOrigin(p, externalRole, np),
      );
    }
  }

  // Health-check NodePort: accepted whether or not this node has local endpoints.
  if (p.healthCheckNodePort !== 0) {
    filter.rule(
      'KUBE-NODEPORTS',
      `-m comment --comment ${quoted(`${C} health check node port`)} -m tcp -p tcp --dport ${p.healthCheckNodePort} -j ACCEPT`,
      serviceOrigin(p, 'healthCheckNodePort', String(p.healthCheckNodePort)),
    );
  }

  // Internal traffic: masquerade what did not come from a local pod (or everything).
  if (hasInternalEndpoints) {
    if (masqueradeAll) nat.ruleParts(internalTrafficChain, serviceOrigin(p, 'clusterIPMasquerade', p.clusterIP), clusterArgs, ' -j KUBE-MARK-MASQ');
    else if (detector) nat.ruleParts(internalTrafficChain, serviceOrigin(p, 'clusterIPMasquerade', p.clusterIP), clusterArgs, ' ', detector.ifNotLocal, ' -j KUBE-MARK-MASQ');
  }

  // External traffic: every external destination funnels through KUBE-EXT.
  if (usesExternalTrafficChain) {
    nat.declare(externalTrafficChain);
    if (active) active.add(externalTrafficChain);
    if (!p.externalPolicyLocal) {
      nat.rule(
        externalTrafficChain,
        `-m comment --comment ${quoted(`masquerade traffic for ${C} external destinations`)} -j KUBE-MARK-MASQ`,
        serviceOrigin(p, 'externalMasquerade'),
      );
    } else {
      if (detector) {
        nat.rule(
          externalTrafficChain,
          `-m comment --comment ${quoted(`pod traffic for ${C} external destinations`)} ${detector.ifLocal} -j ${clusterPolicyChain}`,
          serviceOrigin(p, 'podShortCircuit'),
        );
      }
      nat.rule(
        externalTrafficChain,
        `-m comment --comment ${quoted(`masquerade LOCAL traffic for ${C} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        serviceOrigin(p, 'localMasquerade'),
      );
      nat.rule(
        externalTrafficChain,
        `-m comment --comment ${quoted(`route LOCAL traffic for ${C} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterPolicyChain}`,
        serviceOrigin(p, 'localShortCircuit'),
      );
    }
    if (hasExternalEndpoints) nat.rule(externalTrafficChain, `-j ${externalPolicyChain}`, serviceOrigin(p, 'externalPolicy'));
  }

  // loadBalancerSourceRanges.
  if (usesFWChain) {
    nat.declare(fw);
    if (active) active.add(fw);
    const args = `-m comment --comment ${quoted(`${C} loadbalancer IP`)}`;
    for (const cidr of p.sourceRanges) nat.rule(fw, `${args} -s ${cidr} -j ${externalTrafficChain}`, serviceOrigin(p, 'loadBalancerSourceRange', cidr));
    // A node connecting to its own (locally routed) LB VIP arrives with the VIP as source.
    if (rangesContain(p.sourcePrefixes, nodeIP)) {
      for (const lb of p.loadBalancerIPs) nat.rule(fw, `${args} -s ${lb} -j ${externalTrafficChain}`, serviceOrigin(p, 'loadBalancerSourceRange', lb));
    }
    nat.rule(fw, `-m comment --comment ${quoted(`other traffic to ${C} will be dropped by KUBE-PROXY-FIREWALL`)}`, serviceOrigin(p, 'loadBalancerFirewallEnd'));
  }

  if (usesClusterPolicyChain) {
    nat.declare(clusterPolicyChain);
    if (active) active.add(clusterPolicyChain);
    writeServiceToEndpoints(nat, p, clusterPolicyChain, cluster, largeClusterMode);
  }
  if (usesLocalPolicyChain) {
    nat.declare(localPolicyChain);
    if (active) active.add(localPolicyChain);
    writeServiceToEndpoints(nat, p, localPolicyChain, local, largeClusterMode);
  }

  const comment = largeClusterMode ? '' : '-m comment --comment ' + C + ' ';
  const dnatMid = proto + ' -j DNAT --to-destination ';
  for (const ep of reachable) {
    const c = ep.sep;
    nat.declare(c);
    if (active) active.add(c);
    const sepHead = '-A ' + c + ' ' + comment;
    nat.endpointLine(c, sepHead, ep, 'hairpinMasquerade', '-s ', ep.ip, ' -j KUBE-MARK-MASQ');
    if (p.clientIPAffinity) nat.endpointLine(c, sepHead, ep, 'dnat', '-m recent --name ', c, ' --set ', dnatMid, ep.str);
    else nat.endpointLine(c, sepHead, ep, 'dnat', dnatMid, ep.str);
  }
}

/** The rules written after every service port's: the NodePort dispatch and KUBE-FORWARD. */
export function currentEpilogue(input: GenerateInput, ctx: CurrentContext, filter: RuleSink, nat: RuleSink): void {
  const { mark, npa, localhostNodePorts, nfacct } = ctx;
  const markSetting = 'iptables.masqueradeBit';
  // The last KUBE-SERVICES rule(s): NodePorts on the node's own addresses.
  if (npa.matchAll) {
    const notLoopback = localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    nat.rule(
      'KUBE-SERVICES',
      `-m comment --comment ${NODEPORTS_COMMENT} -m addrtype --dst-type LOCAL${notLoopback} -j KUBE-NODEPORTS`,
      node('nodePortsDispatch', 'nodePortAddresses'),
    );
  } else {
    for (const ip of npa.ips) {
      if (ip.startsWith('127.') && !localhostNodePorts) continue;
      nat.rule('KUBE-SERVICES', `-m comment --comment ${NODEPORTS_COMMENT} -d ${ip} -j KUBE-NODEPORTS`, node('nodePortsDispatch', 'nodePortAddresses'));
    }
  }

  if (input.node.conntrackTCPBeLiberal !== true) {
    const counter = nfacct ? ` -m nfacct --nfacct-name ${INVALID_DROP_COUNTER}` : '';
    filter.rule('KUBE-FORWARD', `-m conntrack --ctstate INVALID${counter} -j DROP`, node('forward'));
  }
  filter.rule('KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`, node('forward', markSetting));
  filter.rule(
    'KUBE-FORWARD',
    '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    node('forward'),
  );
}

/** KUBE-SVC / KUBE-SVL: affinity checks, then one balancing rule per endpoint. */
function writeServiceToEndpoints(nat: RuleSink, p: PortInfo, chain: string, eps: EndpointInfo[], largeClusterMode: boolean): void {
  const C = p.ref.servicePortName;
  if (p.clientIPAffinity) {
    for (const ep of eps) {
      const comment = largeClusterMode ? '' : `-m comment --comment ${quoted(`${C} -> ${ep.str}`)} `;
      nat.endpointRule(chain, ep, 'affinity', `${comment}-m recent --name ${ep.sep} --rcheck --seconds ${p.stickySeconds} --reap -j ${ep.sep}`);
    }
  }
  const n = eps.length;
  const head = '-A ' + chain + ' ';
  for (let i = 0; i < n; i++) {
    const ep = eps[i];
    const jump = i < n - 1 ? statisticJump(n - i) : '-j ';
    if (largeClusterMode) nat.endpointLine(chain, head, ep, 'loadBalance', jump, ep.sep);
    else nat.endpointLine(chain, head, ep, 'loadBalance', '-m comment --comment "', C, ' -> ', ep.str, '" ', jump + ep.sep);
  }
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** iptablesJumpChains, then the kubelet-duplicate jumps to KUBE-FIREWALL (no comment). */
const CURRENT_JUMPS: Array<[StaticRule['table'], string, string, string, string[]]> = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW],
  ['filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW],
  ['filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports', []],
  ['filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', NEW],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', NEW],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules', []],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW],
  ['filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules', []],
  ['filter', 'INPUT', 'KUBE-FIREWALL', '', []],
  ['filter', 'OUTPUT', 'KUBE-FIREWALL', '', []],
];

/** The canary chains of kube-proxy's iptables monitor, then each jump's chain and rule. */
export function currentSetup(): { ensureChains: EnsuredChain[]; staticRules: StaticRule[] } {
  const ensureChains: EnsuredChain[] = [];
  const staticRules: StaticRule[] = [];
  for (const table of ['mangle', 'nat', 'filter'] as const) ensureChains.push({ table, chain: 'KUBE-PROXY-CANARY', owner: 'kube-proxy' });
  for (const [table, from, to, comment, extra] of CURRENT_JUMPS) {
    if (!ensureChains.some((c) => c.table === table && c.chain === to)) ensureChains.push({ table, chain: to, owner: 'kube-proxy' });
    const args = comment ? [...extra, '-m', 'comment', '--comment', comment, '-j', to] : [...extra, '-j', to];
    staticRules.push({ table, chain: from, op: '-I', args, owner: 'kube-proxy', origin: { kind: 'node', role: 'jump' } });
  }
  return { ensureChains, staticRules };
}
