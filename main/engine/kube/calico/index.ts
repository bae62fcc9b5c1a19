// Calico (v3.28 classic, iptables dataplane) as a pure generator, like kube/proxy.
//
// API for wiring it into the lab (all pure, no I/O):
//
//   const cluster = fromKube({ namespaces, pods, policies, nodes, pools: [defaultPool('10.244.0.0/16', ipip)] });
//   const r = renderFelix(cluster, nodeName, { flavor: 'v3.28' });      // FelixResult
//
//   On the node's Host, first time:   ipset restore  <- r.ipsetRestore   (sets before rules)
//                                     iptables-restore --noflush <- r.restore
//   (r.restore declares, i.e. flushes, every cali chain and also inserts Felix's jumps into the
//    kernel chains with `-I CHAIN n` / `-A FORWARD`; on a resync use r.chainsText, which leaves
//    the kernel chains alone, or r.builtin with `iptables -C` before `-I`/`-A` like kube-proxy's
//    static rules. Sets on a resync: ipsetUpdate(previous.ipsets, r.ipsets) gives `before`
//    (creates, add/del of changed members; apply before iptables-restore) and `after` (destroys
//    of sets no rule references any more; apply after).)
//   Run the sync after kube-proxy's so Calico's `-I … 1` jumps sit above KUBE-SERVICES, as the
//   article's `iptables -t nat -L PREROUTING` shows.
//
//   r.rules / r.origins: every rule with its `cali:` id and origin (policy + k8s rule index +
//   peer + canonical selector, pod + interface, pool, static); r.ipsets: members with the pod and
//   labels behind each; r.endpoints: this node's workload endpoints (iface = host-side veth name).
//   vethName(ns, pod) gives the pod's `cali…` interface for building the veth itself.
//
//   policyVerdict(cluster, 'ns/pod' | ip, 'ns/pod' | ip, port, 'TCP'|'UDP'|'SCTP') — the
//   NetworkPolicy semantics (not the rules), for cross-checks and the connectivity matrix
//   (for many cells build `new PolicyIndex(cluster)` once and call .verdict(); each verdict
//   names the policies that isolate each end and the rules that allowed it).
//   calicoctl: main/engine/shell/calicoctl.ts, `calicoctl(argv, stdin, env)` with env.cluster()
//   returning a CalicoCluster (plus optional per-node blocks for `ipam show --show-blocks`).
//
//   Felix flavors: 'v3.28' (default) and 'article' (the ~2020 Felix of the article's dump, whose
//   rule ids — cali:M4Und37HGrw6jUk8, pm-LK-c1ra31tRwz, 3XN24uu3MS3PMvfM — it reproduces). Every
//   name (interfaces, chains, IP sets) is the same in both; v3.28 adds the chain comment
//   "Policy <ns>/knp.default.<name> ingress" and drops a policy chain's trailing RETURN, so the
//   ids of those rules differ from the article's 2020 dump.
//
//   renderFelix keeps bounded, content-keyed memos across calls (parsed selectors, names, policy
//   and endpoint chains, rule ids): the output depends only on the inputs, a re-render after one
//   change rebuilds only what changed.

export type * from './model.ts';
export { renderFelix, renderShare, forgetRenders, type RenderShare, workloadEndpoints, endpointLabels, calicoPolicies, MARK_ACCEPT, MARK_PASS } from './felix.ts';
export { fromKube, podInfo, nodeInfo, defaultPool, type KubeObjects } from './cluster.ts';
export { k8sPolicyToCalico, k8sSelectorToCalico, canonicalRuleSelector, type CalicoPolicy, type CalicoRule } from './convert.ts';
export { policyVerdict, policyTypes, PolicyIndex, type Verdict, type SideVerdict, type RuleRef } from './semantics.ts';
export { vethName, lengthLimitedId, policyChain, profileChain, endpointChain, selectorSetId, namedPortSetId, ipsetName, policyId } from './names.ts';
export { parseSelector, printSelector, evalSelector, type Sel } from './selector.ts';
export { ruleHashes, ruleBody } from './rules.ts';
export { ipsetUpdate, type IpsetUpdate, type SetMembers } from './ipsets.ts';
