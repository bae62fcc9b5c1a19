// The legacy layout: kube-proxy v1.19 (the article's minikube v1.19.2). Read from
// pkg/proxy/iptables/proxier.go of that era: KUBE-XLB for externalTrafficPolicy Local,
// masquerade rules in KUBE-SERVICES / KUBE-NODEPORTS / KUBE-FW, a KUBE-FW chain for every LB IP,
// addresses written as /32 CIDRs, balancing rules commented with the bare service-port name,
// plus v1.19's changes over v1.18: the local-traffic detector, the unmark-then-masquerade
// KUBE-POSTROUTING of PR #92035 (mark text from Go's %#08x, e.g. 0x00004000) and KUBE-FORWARD's
// conntrack rules without the cluster CIDR. KUBE-MARK-DROP and KUBE-FIREWALL belong to kubelet;
// they are returned as static rules so the lab can create them with the node.

import { fwChain, svcChain, xlbChain } from './hash.ts';
import {
  cachedProbability,
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
import { nodeOrigin as node, serviceOrigin, type RuleSink } from './origin.ts';
import type { EnsuredChain, GenerateInput, StaticRule } from './model.ts';

const LARGE_CLUSTER_ENDPOINT_CHAINS = 1000;
const NODEPORTS_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
export const LEGACY_OURS = ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-XLB-'];

/** What every service port's rules depend on besides the port itself: the node, the
 *  KubeProxyConfiguration and large-cluster mode (which follows the endpoint chain count). */
export interface LegacyContext {
  mark: string;
  masqueradeAll: boolean;
  detector: ReturnType<typeof localDetector>;
  nodeIP: ReturnType<typeof nodeIPv4>;
  largeClusterMode: boolean;
  /** What a port's rules depend on besides the port when they are the same on every node. */
  nodeFreeKey: string;
}

/** kube-proxy v1.19 drops the per-endpoint comments above 1,000 endpoint chains. */
export function legacyLargeClusterMode(endpointChains: number): boolean {
  return endpointChains > LARGE_CLUSTER_ENDPOINT_CHAINS;
}

export function legacyContext(input: GenerateInput, largeClusterMode: boolean): LegacyContext {
  const mark = input.masqueradeMarkText ?? goMark(input.config.iptables?.masqueradeBit ?? 14);
  const masqueradeAll = input.config.iptables?.masqueradeAll === true;
  const detector = localDetector(input.config, input.node, 'legacy');
  return { mark, masqueradeAll, detector, nodeIP: nodeIPv4(input.node), largeClusterMode, nodeFreeKey: JSON.stringify(['legacy', mark, masqueradeAll, detector, largeClusterMode]) };
}

/**
 * The key of what writeLegacyPort's rules for `p` depend on besides the port, when they are the
 * same on every node (the endpoints their origins name aside); null when they are not: the XLB
 * chain of externalTrafficPolicy Local follows the node's own endpoints, KUBE-FW's source
 * ranges the node's address.
 */
export function legacyNodeFreeKey(ctx: LegacyContext, p: PortInfo): string | null {
  return p.onlyNodeLocalEndpoints || p.sourceRanges.length > 0 ? null : ctx.nodeFreeKey;
}

/** The chains every sync declares and the rules that belong to no service port. */
export function legacyPrologue(input: GenerateInput, ctx: LegacyContext, filter: RuleSink, nat: RuleSink): void {
  const { mark } = ctx;
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD']) filter.declare(c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.declare(c);

  const markSetting = 'iptables.masqueradeBit';
  nat.rule('KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`, node('postrouting', markSetting));
  nat.rule('KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`, node('postrouting', markSetting));
  const randomFully = input.node.randomFully !== false ? ' --random-fully' : '';
  nat.rule('KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully}`, node('postrouting'));
  nat.rule('KUBE-MARK-MASQ', `-j MARK --or-mark ${mark}`, node('markMasquerade', markSetting));
}

/** One service port's rules, in every chain it writes to (its own chains declared here). */
export function writeLegacyPort(ctx: LegacyContext, p: PortInfo, filter: RuleSink, nat: RuleSink, active: Set<string> | null): void {
  const { masqueradeAll, detector, nodeIP, largeClusterMode } = ctx;
  const C = p.ref.servicePortName;
  const proto = `-m ${p.protocol} -p ${p.protocol}`;
  const allEndpoints = p.endpoints;
  const hasEndpoints = allEndpoints.length > 0;
  const svc = svcChain(p.hash);
  const xlb = xlbChain(p.hash);
  const fw = fwChain(p.hash);
  if (hasEndpoints) {
    nat.declare(svc);
    if (active) active.add(svc);
  }
  if (p.onlyNodeLocalEndpoints) {
    nat.declare(xlb);
    if (active) active.add(xlb);
  }

  // Cluster IP.
  if (hasEndpoints) {
    const clusterArgs = '-m comment --comment "' + C + ' cluster IP" ' + proto + ' -d ' + p.clusterIP + '/32 --dport ' + p.port;
    if (masqueradeAll) nat.ruleParts('KUBE-SERVICES', serviceOrigin(p, 'clusterIPMasquerade', p.clusterIP), clusterArgs, ' -j KUBE-MARK-MASQ');
    else if (detector) nat.ruleParts('KUBE-SERVICES', serviceOrigin(p, 'clusterIPMasquerade', p.clusterIP), clusterArgs, ' ', detector.ifNotLocal, ' -j KUBE-MARK-MASQ');
    nat.ruleParts('KUBE-SERVICES', serviceOrigin(p, 'clusterIP', p.clusterIP), clusterArgs, ' -j ', svc);
  } else {
    filter.rule(
      'KUBE-SERVICES',
      `-m comment --comment ${quoted(`${C} has no endpoints`)} ${proto} -d ${p.clusterIP}/32 --dport ${p.port} -j REJECT`,
      serviceOrigin(p, 'noEndpoints', p.clusterIP),
    );
  }

  // External IPs: always masqueraded, externalTrafficPolicy is not consulted.
  for (const ext of p.externalIPs) {
    if (hasEndpoints) {
      const args = `-m comment --comment ${quoted(`${C} external IP`)} ${proto} -d ${ext}/32 --dport ${p.port}`;
      nat.rule('KUBE-SERVICES', `${args} -j KUBE-MARK-MASQ`, serviceOrigin(p, 'externalIPMasquerade', ext));
      nat.rule('KUBE-SERVICES', `${args} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ${svc}`, serviceOrigin(p, 'externalIP', ext));
      nat.rule('KUBE-SERVICES', `${args} -m addrtype --dst-type LOCAL -j ${svc}`, serviceOrigin(p, 'externalIP', ext));
    } else {
      filter.rule(
        'KUBE-EXTERNAL-SERVICES',
        `-m comment --comment ${quoted(`${C} has no endpoints`)} ${proto} -d ${ext}/32 --dport ${p.port} -j REJECT`,
        serviceOrigin(p, 'noEndpoints', ext),
      );
    }
  }

  // Load-balancer ingress. v1.19 declares KUBE-FW and writes its rules again for every LB IP
  // (the later copies are never reached); the text keeps that.
  for (const lb of p.loadBalancerIPs) {
    if (!hasEndpoints) {
      filter.rule(
        'KUBE-SERVICES',
        `-m comment --comment ${quoted(`${C} has no endpoints`)} ${proto} -d ${lb}/32 --dport ${p.port} -j REJECT`,
        serviceOrigin(p, 'noEndpoints', lb),
      );
      continue;
    }
    nat.declare(fw);
    if (active) active.add(fw);
    const lbComment = `-m comment --comment ${quoted(`${C} loadbalancer IP`)}`;
    nat.rule('KUBE-SERVICES', `${lbComment} ${proto} -d ${lb}/32 --dport ${p.port} -j ${fw}`, serviceOrigin(p, 'loadBalancerIP', lb));
    let chosen = xlb;
    if (!p.onlyNodeLocalEndpoints) {
      nat.rule(fw, `${lbComment} -j KUBE-MARK-MASQ`, serviceOrigin(p, 'loadBalancerMasquerade', lb));
      chosen = svc;
    }
    if (p.sourceRanges.length === 0) {
      nat.rule(fw, `${lbComment} -j ${chosen}`, serviceOrigin(p, 'loadBalancerSourceRange', lb));
    } else {
      for (const src of p.sourceRanges) nat.rule(fw, `${lbComment} -s ${src} -j ${chosen}`, serviceOrigin(p, 'loadBalancerSourceRange', src));
      if (rangesContain(p.sourcePrefixes, nodeIP)) nat.rule(fw, `${lbComment} -s ${lb}/32 -j ${chosen}`, serviceOrigin(p, 'loadBalancerSourceRange', lb));
    }
    nat.rule(fw, `${lbComment} -j KUBE-MARK-DROP`, serviceOrigin(p, 'loadBalancerFirewallEnd', lb));
  }

  // NodePort.
  if (p.nodePort !== 0) {
    if (hasEndpoints) {
      const args = `-m comment --comment ${C} ${proto} --dport ${p.nodePort}`;
      const np = String(p.nodePort);
      if (!p.onlyNodeLocalEndpoints) {
        nat.rule('KUBE-NODEPORTS', `${args} -j KUBE-MARK-MASQ`, serviceOrigin(p, 'nodePortMasquerade', np));
        nat.rule('KUBE-NODEPORTS', `${args} -j ${svc}`, serviceOrigin(p, 'nodePort', np));
      } else {
        nat.rule('KUBE-NODEPORTS', `${args} -s 127.0.0.0/8 -j KUBE-MARK-MASQ`, serviceOrigin(p, 'nodePortMasquerade', np));
        nat.rule('KUBE-NODEPORTS', `${args} -j ${xlb}`, serviceOrigin(p, 'nodePort', np));
      }
    } else {
      filter.rule(
        'KUBE-EXTERNAL-SERVICES',
        `-m comment --comment ${quoted(`${C} has no endpoints`)} -m addrtype --dst-type LOCAL ${proto} --dport ${p.nodePort} -j REJECT`,
        serviceOrigin(p, 'noEndpoints', String(p.nodePort)),
      );
    }
  }

  if (!hasEndpoints) return;

  const comment = largeClusterMode ? '' : `-m comment --comment ${C} `;
  for (const ep of allEndpoints) {
    nat.declare(ep.sep);
    if (active) active.add(ep.sep);
  }
  if (p.clientIPAffinity) {
    const seconds = String(p.stickySeconds);
    for (const ep of allEndpoints) {
      nat.endpointRule(svc, ep, 'affinity', comment, '-m recent --name ', ep.sep, ' --rcheck --seconds ', seconds, ' --reap -j ', ep.sep);
    }
  }
  // Balancing rule and endpoint chain, interleaved per endpoint as kube-proxy writes them.
  const n = allEndpoints.length;
  const local: EndpointInfo[] = [];
  const svcHead = '-A ' + svc + ' ' + comment;
  const dnatMid = proto + ' -j DNAT --to-destination ';
  for (let i = 0; i < n; i++) {
    const ep = allEndpoints[i];
    const c = ep.sep;
    if (p.onlyNodeLocalEndpoints && ep.local) local.push(ep);
    nat.endpointLine(svc, svcHead, ep, 'loadBalance', i < n - 1 ? statisticJump(n - i) : '-j ', c);
    const sepHead = '-A ' + c + ' ' + comment;
    nat.endpointLine(c, sepHead, ep, 'hairpinMasquerade', '-s ', ep.ip, '/32 -j KUBE-MARK-MASQ');
    if (p.clientIPAffinity) nat.endpointLine(c, sepHead, ep, 'dnat', '-m recent --name ', c, ' --set ', dnatMid, ep.str);
    else nat.endpointLine(c, sepHead, ep, 'dnat', dnatMid, ep.str);
  }

  if (!p.onlyNodeLocalEndpoints) return;

  if (detector) {
    nat.rule(
      xlb,
      `-m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" ${detector.ifLocal} -j ${svc}`,
      serviceOrigin(p, 'podShortCircuit'),
    );
  }
  nat.rule(xlb, `-m comment --comment ${quoted(`masquerade LOCAL traffic for ${C} LB IP`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`, serviceOrigin(p, 'localMasquerade'));
  nat.rule(xlb, `-m comment --comment ${quoted(`route LOCAL traffic for ${C} LB IP to service chain`)} -m addrtype --src-type LOCAL -j ${svc}`, serviceOrigin(p, 'localShortCircuit'));
  if (local.length === 0) {
    nat.rule(xlb, `-m comment --comment ${quoted(`${C} has no local endpoints`)} -j KUBE-MARK-DROP`, serviceOrigin(p, 'noLocalEndpoints'));
    return;
  }
  if (p.clientIPAffinity) {
    for (const ep of local) {
      nat.endpointRule(xlb, ep, 'affinity', `-m comment --comment ${C} -m recent --name ${ep.sep} --rcheck --seconds ${p.stickySeconds} --reap -j ${ep.sep}`);
    }
  }
  local.forEach((ep, i) => {
    const stat = i < local.length - 1 ? ` -m statistic --mode random --probability ${cachedProbability(local.length - i)}` : '';
    nat.endpointRule(xlb, ep, 'loadBalance', `-m comment --comment ${quoted(`Balancing rule ${i} for ${C}`)}${stat} -j ${ep.sep}`);
  });
}

/** The rules written after every service port's: the NodePort dispatch and KUBE-FORWARD. */
export function legacyEpilogue(input: GenerateInput, ctx: LegacyContext, filter: RuleSink, nat: RuleSink): void {
  const { mark } = ctx;
  const markSetting = 'iptables.masqueradeBit';
  // The last KUBE-SERVICES rule hands packets for local addresses to KUBE-NODEPORTS.
  const npa = nodePortAddressing(input.config, input.node, 'legacy');
  if (npa.matchAll) {
    nat.rule('KUBE-SERVICES', `-m comment --comment ${NODEPORTS_COMMENT} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`, node('nodePortsDispatch', 'nodePortAddresses'));
  } else {
    for (const ip of npa.ips) {
      nat.rule('KUBE-SERVICES', `-m comment --comment ${NODEPORTS_COMMENT} -d ${ip} -j KUBE-NODEPORTS`, node('nodePortsDispatch', 'nodePortAddresses'));
    }
  }

  filter.rule('KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP', node('forward'));
  filter.rule('KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`, node('forward', markSetting));
  filter.rule(
    'KUBE-FORWARD',
    '-m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    node('forward'),
  );
  filter.rule(
    'KUBE-FORWARD',
    '-m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    node('forward'),
  );
}

/** kube-proxy v1.19's iptablesJumpChains, each ensured with EnsureChain + EnsureRule(Prepend). */
const LEGACY_JUMPS: Array<[StaticRule['table'], string, string, string, string[]]> = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'INPUT', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules', []],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules', []],
];

/**
 * What kubelet (v1.19) and kube-proxy put in place with single iptables commands: canary
 * chains, kubelet's KUBE-MARK-DROP / KUBE-FIREWALL (drop bit 15 = 0x8000, and the
 * "block incoming localnet connections" rule of CVE-2020-8558), and kube-proxy's jumps.
 * kubelet's copies of KUBE-MARK-MASQ / KUBE-POSTROUTING are left out: kube-proxy's restore
 * rewrites those chains with the same rules.
 */
export function legacySetup(): { ensureChains: EnsuredChain[]; staticRules: StaticRule[] } {
  const ensureChains: EnsuredChain[] = [];
  const staticRules: StaticRule[] = [];
  const dropMark = '0x00008000/0x00008000';
  for (const table of ['mangle', 'nat', 'filter'] as const) ensureChains.push({ table, chain: 'KUBE-KUBELET-CANARY', owner: 'kubelet' });
  ensureChains.push({ table: 'nat', chain: 'KUBE-MARK-DROP', owner: 'kubelet' });
  staticRules.push({ table: 'nat', chain: 'KUBE-MARK-DROP', op: '-A', args: ['-j', 'MARK', '--set-xmark', dropMark], owner: 'kubelet', origin: { kind: 'node', role: 'markDrop' } });
  ensureChains.push({ table: 'filter', chain: 'KUBE-FIREWALL', owner: 'kubelet' });
  staticRules.push({
    table: 'filter',
    chain: 'KUBE-FIREWALL',
    op: '-A',
    args: ['-m', 'comment', '--comment', 'kubernetes firewall for dropping marked packets', '-m', 'mark', '--mark', dropMark, '-j', 'DROP'],
    owner: 'kubelet',
    origin: { kind: 'node', role: 'dropMarked' },
  });
  staticRules.push({
    table: 'filter',
    chain: 'KUBE-FIREWALL',
    op: '-A',
    args: ['-m', 'comment', '--comment', 'block incoming localnet connections', '--dst', '127.0.0.0/8', '!', '--src', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP'],
    owner: 'kubelet',
    origin: { kind: 'node', role: 'localnetFirewall' },
  });
  for (const chain of ['OUTPUT', 'INPUT']) {
    staticRules.push({ table: 'filter', chain, op: '-I', args: ['-j', 'KUBE-FIREWALL'], owner: 'kubelet', origin: { kind: 'node', role: 'jump' } });
  }
  for (const table of ['mangle', 'nat', 'filter'] as const) ensureChains.push({ table, chain: 'KUBE-PROXY-CANARY', owner: 'kube-proxy' });
  for (const [table, from, to, comment, extra] of LEGACY_JUMPS) {
    if (!ensureChains.some((c) => c.table === table && c.chain === to && c.owner === 'kube-proxy')) ensureChains.push({ table, chain: to, owner: 'kube-proxy' });
    staticRules.push({
      table,
      chain: from,
      op: '-I',
      args: [...extra, '-m', 'comment', '--comment', comment, '-j', to],
      owner: 'kube-proxy',
      origin: { kind: 'node', role: 'jump' },
    });
  }
  return { ensureChains, staticRules };
}
