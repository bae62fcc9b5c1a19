// What Felix (Calico v3.28 classic, iptables dataplane) programs on one node, as a pure
// function of the cluster: the cali chains of the raw, mangle, nat and filter tables with their
// `cali:` ids, the rules it puts into the kernel chains, and the IP sets (pools, hosts, one per
// selector and per named port). Only what is referenced is programmed, as Felix does: policies
// that select no local endpoint, profiles of namespaces without a local endpoint and IP sets no
// rendered rule names are left out.

import { base64url, sha3_224, utf8 } from '../../hash/index.ts';
import { parseIPv4 } from '../../net/ipv4.ts';
import {
  canonicalRuleSelector,
  felixPolicySelector,
  felixRuleSelector,
  k8sPolicyToCalico,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICEACCOUNT,
  type CalicoPolicy,
  type CalicoPort,
  type CalicoRule,
} from './convert.ts';
import type { NetworkPolicy } from '../objects/types.ts';
import type {
  BuiltinRule,
  CalicoCluster,
  FelixConfig,
  FelixResult,
  IpsetInfo,
  IpsetMember,
  PodInfo,
  RenderedRule,
  RuleOrigin,
  Table,
  WorkloadEndpoint,
} from './model.ts';
import { endpointChain, ipsetName, namedPortSetId, policyChain, profileChain, selectorSetId, vethName } from './names.ts';
import { A, hashComment, M, ruleBody, ruleHashes, type FChain, type FRule } from './rules.ts';
import { evalSelector, printSelector, type Sel } from './selector.ts';

// Mark bits with the default FELIX_IPTABLESMARKMASK 0xffff0000 (≤ v3.31).
export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
export const MARK_SCRATCH0 = 0x40000;
export const MARK_SCRATCH1 = 0x80000;
const MARK_ALL = MARK_ACCEPT | MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1;

const IFACE_PREFIX = 'cali';
const ALL_POOLS = 'cali40all-ipam-pools';
const MASQ_POOLS = 'cali40masq-ipam-pools';
const ALL_HOSTS = 'cali40all-hosts-net';

const stat = (what: string): RuleOrigin => ({ kind: 'static', what });

/** The labels Felix matches selectors against for a pod's workload endpoint. */
export function endpointLabels(pod: PodInfo, nsLabels: Record<string, string>): Record<string, string> {
  const sa = pod.serviceAccount ?? 'default';
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(nsLabels)) out[`pcns.${k}`] = v;
  out['pcns.projectcalico.org/name'] = pod.namespace;
  out['pcsa.projectcalico.org/name'] = sa;
  Object.assign(out, pod.labels);
  out[LABEL_NAMESPACE] = pod.namespace;
  out[LABEL_ORCHESTRATOR] = 'k8s';
  out[LABEL_SERVICEACCOUNT] = sa;
  return out;
}

// The endpoint of a frozen pod (one that cannot change: felix-sync's view of an API object)
// with frozen namespace labels is the same frozen object every time, so what is derived from
// it can be kept by identity.
const endpointOf = new WeakMap<PodInfo, { nsLabels: Record<string, string>; ep: WorkloadEndpoint }>();

/** Every workload endpoint of the cluster (pods with an IP that are not hostNetwork). */
export function workloadEndpoints(cluster: CalicoCluster): WorkloadEndpoint[] {
  const ns = new Map(cluster.namespaces.map((n) => [n.name, n.labels]));
  const out: WorkloadEndpoint[] = [];
  for (const pod of cluster.pods) {
    if (pod.hostNetwork || !pod.ip) continue;
    const nsLabels = ns.get(pod.namespace) ?? {};
    const frozen = Object.isFrozen(pod) && Object.isFrozen(pod.labels) && Object.isFrozen(nsLabels);
    const hit = frozen ? endpointOf.get(pod) : undefined;
    if (hit && hit.nsLabels === nsLabels) {
      out.push(hit.ep);
      continue;
    }
    const ep: WorkloadEndpoint = {
      pod,
      iface: vethName(pod.namespace, pod.name, IFACE_PREFIX),
      ip: pod.ip,
      labels: endpointLabels(pod, nsLabels),
      profiles: [`kns.${pod.namespace}`, `ksa.${pod.namespace}.${pod.serviceAccount ?? 'default'}`],
    };
    if (frozen) {
      Object.freeze(ep.labels);
      Object.freeze(ep.profiles);
      endpointOf.set(pod, { nsLabels, ep: Object.freeze(ep) });
    }
    out.push(ep);
  }
  return out;
}

// A selector set's members, kept per set name with the endpoint list they were computed from:
// the next computation over a list of (mostly) the same endpoint objects re-evaluates the
// selector only for the endpoints that are new at their position (a relabelled pod).
const memberMemo = new Map<string, { eps: readonly WorkloadEndpoint[]; flags: Uint8Array; info: IpsetInfo }>();
const memberOf = new WeakMap<WorkloadEndpoint, IpsetMember>();
/** A set's `ipset restore` lines (sets are not changed once made). */
const setTexts = new WeakMap<IpsetInfo, string>();
/** A frozen endpoint's part of its node's chain inputs. */
const endpointInputs = new WeakMap<WorkloadEndpoint, string>();

function member(e: WorkloadEndpoint): IpsetMember {
  let m = memberOf.get(e);
  if (!m) memberOf.set(e, (m = { entry: e.ip, origin: { kind: 'pod', pod: `${e.pod.namespace}/${e.pod.name}`, labels: e.pod.labels } }));
  return m;
}

/** A selector set (hash:net of the selected endpoints), or with `namedPort` a named-port set
 *  (hash:ip,port of the selected endpoints' ports of that name and protocol). */
function setMembers(name: string, canonical: string, sel: Sel | null, eps: readonly WorkloadEndpoint[], namedPort?: { protocol: 'tcp' | 'udp' | 'sctp'; name: string }): IpsetInfo {
  const old = memberMemo.get(name);
  const same = old !== undefined && old.eps.length === eps.length && old.info.selector === canonical;
  const flags = new Uint8Array(eps.length);
  let changed = !same;
  for (let i = 0; i < eps.length; i++) {
    if (same && old.eps[i] === eps[i]) flags[i] = old.flags[i];
    else {
      flags[i] = !sel || evalSelector(sel, eps[i].labels) ? 1 : 0;
      // a member (or one that was) is another endpoint object now: its entry and origin are rebuilt
      if (!same || flags[i] || old.flags[i]) changed = true;
    }
  }
  // Same members: the same (immutable) set object as last time.
  let info = old?.info;
  if (changed || !info) {
    const members: IpsetMember[] = [];
    for (let i = 0; i < eps.length; i++) {
      if (!flags[i]) continue;
      const e = eps[i];
      if (!namedPort) members.push(member(e));
      else {
        for (const cp of e.pod.ports ?? []) {
          if (cp.name === namedPort.name && cp.protocol.toLowerCase() === namedPort.protocol) {
            members.push({ entry: `${e.ip},${namedPort.protocol}:${cp.port}`, origin: { kind: 'pod', pod: `${e.pod.namespace}/${e.pod.name}`, labels: e.pod.labels } });
          }
        }
      }
    }
    info = namedPort ? { name, type: 'hash:ip,port', selector: canonical, namedPort, members } : { name, type: 'hash:net', selector: canonical, members };
  }
  if (memberMemo.size >= 20_000) memberMemo.clear();
  memberMemo.set(name, { eps, flags, info });
  return info;
}

/** Policies in Felix's order: order (all 1000 for k8s), then name ("<ns>/knp.default.<name>"). */
export function calicoPolicies(cluster: CalicoCluster): CalicoPolicy[] {
  return cluster.policies.map(converted).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// The API server's objects are replaced, never changed, on a write (a new resourceVersion):
// one of them converts the same way every time. Hand-made policies (no resourceVersion) are
// converted on every call.
const conversions = new WeakMap<NetworkPolicy, { rv: string; policy: CalicoPolicy }>();
function converted(np: NetworkPolicy): CalicoPolicy {
  const rv = np.metadata.resourceVersion;
  if (rv === undefined) return k8sPolicyToCalico(np);
  const hit = conversions.get(np);
  if (hit && hit.rv === rv) return hit.policy;
  const policy = k8sPolicyToCalico(np);
  conversions.set(np, { rv, policy });
  return policy;
}

interface Group {
  policies: CalicoPolicy[];
  selector: string;
}

/**
 * What the renders of every node of one cluster have in common — its workload endpoints, its
 * policies in Felix's order and the IP sets of selectors (the members are the cluster's
 * endpoints, whichever node renders) — computed once for all nodes. Only for a cluster that
 * does not change afterwards (felix-sync's snapshot of the store, taken once per sync).
 */
export interface RenderShare {
  readonly cluster: CalicoCluster;
  readonly eps: WorkloadEndpoint[];
  readonly pols: CalicoPolicy[];
  readonly polsByNs: Map<string, CalicoPolicy[]>;
  /** Selector and named-port sets by IP set name, filled as renders ask for them. */
  readonly sets: Map<string, IpsetInfo>;
  /** Every policy's id and spec, as one text (part of every node's chain inputs). */
  polsKey?: string;
}

export function renderShare(cluster: CalicoCluster): RenderShare {
  const pols = calicoPolicies(cluster);
  const polsByNs = new Map<string, CalicoPolicy[]>();
  for (const p of pols) {
    const list = polsByNs.get(p.namespace);
    if (list) list.push(p);
    else polsByNs.set(p.namespace, [p]);
  }
  return { cluster, eps: workloadEndpoints(cluster), pols, polsByNs, sets: new Map() };
}

/** What a memoized policy chain needs registered: its IP sets. */
type SetRequest = { kind: 'sel'; name: string; sel: Sel; canonical: string } | { kind: 'np'; name: string; sel: Sel | null; canonical: string; proto: 'tcp' | 'udp' | 'sctp'; port: string };

// Chains whose content is a function of their key are kept across renders (a re-render after a
// label change rebuilds only what changed; ids are remembered per rule list in output()).
const policyMemo = new Map<string, { rules: FRule[]; sets: SetRequest[] }>();
const endpointMemo = new Map<string, FRule[]>();
/** A chain's rules as rendered: the restore lines (one text) and the rules with their ids. */
interface RenderedChain {
  table: Table;
  name: string;
  text: string;
  rendered: RenderedRule[];
  origins: RuleOrigin[];
}
const renderedMemo = new WeakMap<FRule[], RenderedChain>();
const MEMO_MAX = 20_000;
/** Group and profile chains by what determines them; static and dispatch chains likewise. */
const chainMemo = new Map<string, FRule[]>();
const addMemo = new Map<string, [Table, string, FRule[]][]>();
/** A converted policy's chains, by flavor and direction. */
let policyHits = new WeakMap<CalicoPolicy, Map<string, { rules: FRule[]; sets: SetRequest[] }>>();
/** A policy's selector as Felix prints it (for grouping). */
const selTexts = new WeakMap<CalicoPolicy, string>();
/** A policy's spec as JSON (the policy memo's key), once per converted policy. */
const specJson = new WeakMap<CalicoPolicy, string>();

function remember<V>(m: Map<string, V>, k: string, v: V): V {
  if (m.size >= MEMO_MAX) m.clear();
  m.set(k, v);
  return v;
}

const groupNames = new Map<string, string>();

function groupChainName(dir: 'ingress' | 'egress', g: Group): string {
  const key = `${dir}\n${g.selector}\n${g.policies.map((p) => p.id).join('\n')}`;
  const cached = groupNames.get(key);
  if (cached !== undefined) return cached;
  if (groupNames.size > 10000) groupNames.clear();
  const parts = ['default', g.selector, dir === 'ingress' ? 'inbound' : 'outbound', String(g.policies.length), ...g.policies.map((p) => p.id)];
  const id = base64url(sha3_224(utf8(parts.map((p) => p + '\n').join(''))));
  const prefix = dir === 'ingress' ? 'cali-gi-' : 'cali-go-';
  const name = prefix + id.slice(0, 28 - prefix.length);
  groupNames.set(key, name);
  return name;
}

class Renderer {
  readonly cfg: Required<FelixConfig>;
  readonly article: boolean;
  readonly chains = new Map<string, { table: Table; chain: FChain }>();
  readonly sets = new Map<string, IpsetInfo>();
  private readonly eps: WorkloadEndpoint[];
  private readonly polsByNs: Map<string, CalicoPolicy[]>;
  private readonly shared: Map<string, IpsetInfo>;

  constructor(private readonly cluster: CalicoCluster, private readonly nodeName: string, cfg: FelixConfig, share: RenderShare) {
    this.cfg = {
      flavor: cfg.flavor ?? 'v3.28',
      defaultEndpointToHostAction: cfg.defaultEndpointToHostAction ?? 'ACCEPT',
      randomFully: cfg.randomFully ?? true,
      disableConntrackInvalid: cfg.disableConntrackInvalid ?? false,
      allowIPIPPacketsFromWorkloads: cfg.allowIPIPPacketsFromWorkloads ?? false,
      allowVXLANPacketsFromWorkloads: cfg.allowVXLANPacketsFromWorkloads ?? false,
    };
    this.article = this.cfg.flavor === 'article';
    this.eps = share.eps;
    this.polsByNs = share.polsByNs;
    this.shared = share.sets;
  }

  get ipipEnabled(): boolean {
    return this.cluster.pools.some((p) => !p.disabled && p.ipipMode !== 'Never');
  }

  add(table: Table, name: string, rules: FRule[]): void {
    this.chains.set(`${table} ${name}`, { table, chain: { name, rules } });
  }

  has(table: Table, name: string): boolean {
    return this.chains.has(`${table} ${name}`);
  }

  // ------------------------------------------------------------------ IP sets

  private setLog: SetRequest[] | null = null;

  /** Every selector and named-port set this render asked for, by set name. */
  readonly requests = new Map<string, SetRequest>();

  /** A selector or named-port set this render needs (its members computed once per share). */
  private requestSet(r: SetRequest): string {
    this.setLog?.push(r);
    if (!this.requests.has(r.name)) this.requests.set(r.name, r);
    if (!this.sets.has(r.name)) {
      let set = this.shared.get(r.name);
      if (!set) {
        set = r.kind === 'sel' ? setMembers(r.name, r.canonical, r.sel, this.eps) : setMembers(r.name, r.canonical, r.sel, this.eps, { protocol: r.proto, name: r.port });
        this.shared.set(r.name, set);
      }
      this.sets.set(r.name, set);
    }
    return r.name;
  }

  private selectorSet(sel: Sel, canonical: string): string {
    return this.requestSet({ kind: 'sel', name: ipsetName(selectorSetId(canonical)), sel, canonical });
  }

  private namedPortSet(sel: Sel | null, proto: 'tcp' | 'udp' | 'sctp', port: string): string {
    const canonical = sel ? printSelector(sel) : 'all()';
    return this.requestSet({ kind: 'np', name: ipsetName(namedPortSetId(selectorSetId(canonical), proto, port)), sel, canonical, proto, port });
  }

  poolSets(): void {
    const pools = this.cluster.pools.filter((p) => !p.disabled);
    this.sets.set(ALL_POOLS, { name: ALL_POOLS, type: 'hash:net', members: pools.map((p) => ({ entry: p.cidr, origin: { kind: 'pool', pool: p.name } })) });
    this.sets.set(MASQ_POOLS, {
      name: MASQ_POOLS,
      type: 'hash:net',
      members: pools.filter((p) => p.natOutgoing).map((p) => ({ entry: p.cidr, origin: { kind: 'pool', pool: p.name } })),
    });
    if (this.ipipEnabled) {
      const members: IpsetMember[] = [];
      for (const n of this.cluster.nodes) for (const ip of n.ips) if (parseIPv4(ip) !== null) members.push({ entry: ip, origin: { kind: 'node', node: n.name } });
      this.sets.set(ALL_HOSTS, { name: ALL_HOSTS, type: 'hash:net', members });
    }
  }

  // ------------------------------------------------------------------ policies

  /** One Calico rule as Felix's iptables rules (match blocks, set-mark, RETURN). */
  private policyRules(p: CalicoPolicy, dir: 'ingress' | 'egress', r: CalicoRule): FRule[] {
    const origin = (role: string, selector?: string): RuleOrigin => {
      const o: RuleOrigin = { kind: 'policy', policy: p.id, direction: dir, rule: r.k8sRule, role };
      if (r.k8sPeer !== undefined) o.peer = r.k8sPeer;
      if (selector !== undefined) o.selector = selector;
      return o;
    };
    const proto = r.protocol?.toLowerCase() as 'tcp' | 'udp' | 'sctp' | undefined;
    // The proto.Rule Felix gets.
    const srcSets: string[] = [];
    const dstSets: string[] = [];
    let canonical: string | undefined;
    const srcSel = felixRuleSelector(r.source, p.namespace);
    if (srcSel) {
      canonical = canonicalRuleSelector(r.source, p.namespace) as string;
      srcSets.push(this.selectorSet(srcSel, canonical));
    }
    const dstSel = felixRuleSelector(r.destination, p.namespace);
    const dstPortList = r.destination.ports ?? [];
    if (dstSel) {
      canonical = canonicalRuleSelector(r.destination, p.namespace) as string;
      // rule_scanner: named ports alone are already filtered by the selector (their set is
      // built over it), so the selector set is only matched when there are numeric ports too
      // or no named ones
      if (dstPortList.some((x) => x.name === undefined) || !dstPortList.some((x) => x.name !== undefined)) dstSets.push(this.selectorSet(dstSel, canonical));
    }
    let srcNet = r.source.nets ?? [];
    let notSrcNet = r.source.notNets ?? [];
    let dstNet = r.destination.nets ?? [];
    let notDstNet = r.destination.notNets ?? [];
    const ports: CalicoPort[] = r.destination.ports ?? [];
    let dstPorts = ports.filter((x) => x.name === undefined);
    let namedSets = ports.filter((x) => x.name !== undefined).map((x) => this.namedPortSet(dstSel, proto ?? 'tcp', x.name as string));

    // Match blocks (ProtoRuleToIptablesRules' matchBlockBuilder).
    const block: FRule[] = [];
    let usingBlocks = false;
    let doneFirstPositive = false;
    const all = MARK_SCRATCH0;
    const thisBlock = MARK_SCRATCH1;
    const initial = (bits: number) => {
      if (usingBlocks) return;
      block.push({ action: A.setMasked(bits, all | thisBlock), origin: origin('block') });
      usingBlocks = true;
    };
    const positiveMark = () => (doneFirstPositive ? thisBlock : all);
    const finishPositive = () => {
      if (!doneFirstPositive) {
        doneFirstPositive = true;
        return;
      }
      block.push({ match: [M.markClear(thisBlock)], action: A.clearMark(all), origin: origin('block') });
      block.push({ action: A.clearMark(thisBlock), origin: origin('block') });
    };
    const splits = splitPorts(dstPorts);
    if (splits.length + namedSets.length > 1) {
      initial(0);
      const mark = positiveMark();
      for (const s of splits) block.push({ match: [...(proto ? [M.proto(proto)] : []), M.dstPorts(portList(s))], action: A.setMark(mark), origin: origin('block') });
      for (const n of namedSets) block.push({ match: [M.dstIpPortSet(n)], action: A.setMark(mark), origin: origin('block') });
      finishPositive();
      dstPorts = [];
      namedSets = [];
    }
    for (const [nets, side] of [[srcNet, 'src'], [dstNet, 'dst']] as const) {
      if (nets.length > 1) {
        initial(0);
        const mark = positiveMark();
        for (const n of nets) block.push({ match: [side === 'src' ? M.srcNet(n) : M.dstNet(n)], action: A.setMark(mark), origin: origin('block') });
        finishPositive();
        if (side === 'src') srcNet = [];
        else dstNet = [];
      }
    }
    if (srcNet.length + notSrcNet.length > 1) {
      initial(all);
      for (const n of notSrcNet) block.push({ match: [M.srcNet(n)], action: A.clearMark(all), origin: origin('block') });
      notSrcNet = [];
    }
    if (dstNet.length + notDstNet.length > 1) {
      initial(all);
      for (const n of notDstNet) block.push({ match: [M.dstNet(n)], action: A.clearMark(all), origin: origin('block') });
      notDstNet = [];
    }

    // CalculateRuleMatch order.
    const match: string[] = [];
    if (proto) match.push(M.proto(proto));
    if (srcNet.length === 1) match.push(M.srcNet(srcNet[0]));
    for (const s of srcSets) match.push(M.srcSet(s));
    if (dstNet.length === 1) match.push(M.dstNet(dstNet[0]));
    for (const s of dstSets) match.push(M.dstSet(s));
    if (dstPorts.length) match.push(M.dstPorts(portList(dstPorts)));
    for (const n of namedSets) match.push(M.dstIpPortSet(n));
    if (notSrcNet.length === 1) match.push(M.notSrcNet(notSrcNet[0]));
    if (notDstNet.length === 1) match.push(M.notDstNet(notDstNet[0]));
    if (usingBlocks) match.push(M.markSet(all));
    return [
      ...block,
      { match, action: A.setMark(MARK_ACCEPT), origin: origin('allow', canonical) },
      { match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin: origin('return') },
    ];
  }

  policyChainFor(p: CalicoPolicy, dir: 'ingress' | 'egress'): string {
    const name = policyChain(dir, p.id);
    if (this.has('filter', name)) return name;
    // (a converted policy's chain is the same every time: kept with the policy object too)
    let mine = policyHits.get(p);
    if (!mine) policyHits.set(p, (mine = new Map()));
    let hit = mine.get(`${this.cfg.flavor} ${dir}`);
    let key = '';
    if (!hit) {
      let spec = specJson.get(p);
      if (spec === undefined) specJson.set(p, (spec = JSON.stringify(p.source.spec)));
      key = `${this.cfg.flavor}\n${dir}\n${p.id}\n${spec}`;
      hit = policyMemo.get(key);
      if (hit) mine.set(`${this.cfg.flavor} ${dir}`, hit);
    }
    if (hit) {
      for (const r of hit.sets) this.requestSet(r);
      this.add('filter', name, hit.rules);
      return name;
    }
    this.setLog = [];
    const rules = (dir === 'ingress' ? p.ingress : p.egress).flatMap((r) => this.policyRules(p, dir, r));
    const sets = this.setLog;
    this.setLog = null;
    if (!this.article) {
      while (rules.length && rules[rules.length - 1].action === A.ret) rules.pop();
      if (rules.length === 0) rules.push({ origin: { kind: 'policy', policy: p.id, direction: dir, rule: -1, role: 'comment' } });
      rules[0] = { ...rules[0], comments: [...(rules[0].comments ?? []), `Policy ${p.id} ${dir}`] };
    }
    remember(policyMemo, key, { rules, sets });
    mine.set(`${this.cfg.flavor} ${dir}`, { rules, sets });
    this.add('filter', name, rules);
    return name;
  }

  profileChainFor(profile: string, dir: 'ingress' | 'egress'): string {
    const name = profileChain(dir, profile);
    if (this.has('filter', name)) return name;
    const memoKey = `profile ${this.cfg.flavor} ${dir} ${profile}`;
    const hit = chainMemo.get(memoKey);
    if (hit) {
      this.add('filter', name, hit);
      return name;
    }
    const origin: RuleOrigin = { kind: 'profile', profile, direction: dir };
    const rules: FRule[] = [];
    if (profile.startsWith('kns.')) {
      rules.push({ action: A.setMark(MARK_ACCEPT), origin }, { match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin });
    }
    if (!this.article) {
      while (rules.length && rules[rules.length - 1].action === A.ret) rules.pop();
      if (rules.length === 0) rules.push({ origin });
      rules[0] = { ...rules[0], comments: [...(rules[0].comments ?? []), `Profile ${profile} ${dir}`] };
    }
    remember(chainMemo, memoKey, rules);
    this.add('filter', name, rules);
    return name;
  }

  private policySelectorText(p: CalicoPolicy): string {
    let t = selTexts.get(p);
    if (t === undefined) {
      t = printSelector(felixPolicySelector(p));
      selTexts.set(p, t);
    }
    return t;
  }

  /** Felix's policy groups (v3.28+): consecutive policies with the same selector. */
  private groups(pols: CalicoPolicy[]): Group[] {
    const out: Group[] = [];
    for (const p of pols) {
      const sel = this.policySelectorText(p);
      const last = out[out.length - 1];
      if (!this.article && last && last.selector === sel) last.policies.push(p);
      else out.push({ policies: [p], selector: sel });
    }
    return out;
  }

  private groupChainFor(g: Group, dir: 'ingress' | 'egress'): string {
    const name = groupChainName(dir, g);
    if (this.has('filter', name)) return name;
    const memoKey = `group ${this.cfg.flavor} ${name}`;
    const hit = chainMemo.get(memoKey);
    if (hit) {
      for (const p of g.policies) this.policyChainFor(p, dir);
      this.add('filter', name, hit);
      return name;
    }
    const origin: RuleOrigin = { kind: 'group', policies: g.policies.map((p) => p.id), direction: dir };
    const rules: FRule[] = [];
    g.policies.forEach((p, i) => {
      if (i !== 0 && i % 5 === 0) rules.push({ comments: ['Return on verdict'], match: [M.markNotClear(MARK_PASS | MARK_ACCEPT)], action: A.ret, origin });
      const match = i % 5 === 0 ? [] : [M.markClear(MARK_PASS | MARK_ACCEPT)];
      rules.push({ match, action: A.jump(this.policyChainFor(p, dir)), origin });
    });
    remember(chainMemo, memoKey, rules);
    this.add('filter', name, rules);
    return name;
  }

  // ------------------------------------------------------------------ endpoints

  private endpointChainFor(ep: WorkloadEndpoint, dir: 'ingress' | 'egress'): string {
    const name = endpointChain(dir === 'ingress' ? 'to' : 'from', ep.iface);
    const pod = `${ep.pod.namespace}/${ep.pod.name}`;
    const o = (role: string, extra: { policy?: string; profile?: string } = {}): RuleOrigin => ({ kind: 'endpoint', pod, iface: ep.iface, direction: dir, role, ...extra });
    const rules: FRule[] = [{ match: [M.ctstate('RELATED,ESTABLISHED')], action: A.accept, origin: o('conntrack') }];
    if (!this.cfg.disableConntrackInvalid) rules.push({ match: [M.ctstate('INVALID')], action: A.drop, origin: o('conntrack') });
    rules.push({ action: A.clearMark(this.article ? MARK_ACCEPT : MARK_ACCEPT | MARK_PASS), origin: o('clear') });
    if (dir === 'egress') {
      if (!this.cfg.allowVXLANPacketsFromWorkloads) rules.push({ comments: ['Drop VXLAN encapped packets originating in workloads'], match: [M.proto('17'), M.dstPorts('4789')], action: A.drop, origin: o('encap') });
      if (!this.cfg.allowIPIPPacketsFromWorkloads) rules.push({ comments: ['Drop IPinIP encapped packets originating in workloads'], match: [M.proto('4')], action: A.drop, origin: o('encap') });
    }
    const type = dir === 'ingress' ? 'Ingress' : 'Egress';
    const applicable = (this.polsByNs.get(ep.pod.namespace) ?? []).filter((p) => p.types.includes(type) && evalSelector(felixPolicySelector(p), ep.labels));
    const groups = applicable.length ? this.groups(applicable) : [];
    const targets = groups.map((g) => (g.policies.length > 1 ? this.groupChainFor(g, dir) : this.policyChainFor(g.policies[0], dir)));
    const profiles = ep.profiles.map((prof) => this.profileChainFor(prof, dir));
    const key = [this.cfg.flavor, this.cfg.disableConntrackInvalid, this.cfg.allowVXLANPacketsFromWorkloads, this.cfg.allowIPIPPacketsFromWorkloads, pod, ep.iface, dir, ...groups.map((g, i) => `${targets[i]}=${g.policies.map((x) => x.id).join(',')}`), '|', ...ep.profiles].join('\n');
    const hit = endpointMemo.get(key);
    if (hit) {
      this.add('filter', name, hit);
      return name;
    }
    if (applicable.length) {
      rules.push({ comments: [this.article ? 'Start of policies' : 'Start of tier default'], action: A.clearMark(MARK_PASS), origin: o('tier') });
      for (const [gi, g] of groups.entries()) {
        const target = targets[gi];
        const policy = g.policies.map((p) => p.id).join(',');
        rules.push({ match: [M.markClear(MARK_PASS)], action: A.jump(target), origin: o('policy', { policy }) });
        rules.push({ comments: ['Return if policy accepted'], match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin: o('policy', { policy }) });
      }
      rules.push({ comments: ['Drop if no policies passed packet'], match: [M.markClear(MARK_PASS)], action: A.drop, origin: o('isolation') });
    }
    for (const [pi, prof] of ep.profiles.entries()) {
      rules.push({ action: A.jump(profiles[pi]), origin: o('profile', { profile: prof }) });
      rules.push({ comments: ['Return if profile accepted'], match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin: o('profile', { profile: prof }) });
    }
    rules.push({ comments: ['Drop if no profiles matched'], action: A.drop, origin: o('noProfile') });
    remember(endpointMemo, key, rules);
    this.add('filter', name, rules);
    return name;
  }

  /** cali-from-wl-dispatch / cali-to-wl-dispatch, with one level of child chains. */
  private dispatch(local: WorkloadEndpoint[], dir: 'from' | 'to'): void {
    const root = dir === 'from' ? 'cali-from-wl-dispatch' : 'cali-to-wl-dispatch';
    const iface = dir === 'from' ? M.inIface : M.outIface;
    const byName = new Map(local.map((e) => [e.iface, e]));
    const names = [...byName.keys()].sort();
    const direct = (n: string): FRule => {
      const e = byName.get(n) as WorkloadEndpoint;
      return { match: [iface(n)], action: A.goto(endpointChain(dir === 'from' ? 'from' : 'to', n)), origin: { kind: 'dispatch', pod: `${e.pod.namespace}/${e.pod.name}`, iface: n } };
    };
    const drop = (): FRule => ({ comments: ['Unknown interface'], action: A.drop, origin: stat('unknown interface') });
    const rules: FRule[] = [];
    if (names.length === 1) {
      rules.push(direct(names[0]));
    } else if (names.length > 1) {
      let common = names[0];
      for (const n of names) while (!n.startsWith(common)) common = common.slice(0, -1);
      const bins = new Map<string, string[]>();
      for (const n of names) {
        const k = n.slice(0, common.length + 1);
        bins.set(k, [...(bins.get(k) ?? []), n]);
      }
      for (const [prefix, list] of [...bins.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (list.length === 1) {
          rules.push(direct(list[0]));
          continue;
        }
        const child = `${root}-${prefix.slice(common.length)}`;
        rules.push({ match: [iface(prefix + '+')], action: A.goto(child), origin: stat('dispatch tree') });
        this.add('filter', child, [...list.map(direct), drop()]);
      }
    }
    rules.push(drop());
    this.add('filter', root, rules);
  }

  // ------------------------------------------------------------------ static chains

  private staticFilter(): void {
    const ipip = this.ipipEnabled;
    this.add('filter', 'cali-FORWARD', [
      { action: A.clearMark(MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1), origin: stat('clear marks') },
      { match: [M.markClear(MARK_ACCEPT)], action: A.jump('cali-from-hep-forward'), origin: stat('host endpoint forward') },
      { match: [M.inIface(IFACE_PREFIX + '+')], action: A.jump('cali-from-wl-dispatch'), origin: stat('egress policy of the source workload') },
      { match: [M.outIface(IFACE_PREFIX + '+')], action: A.jump('cali-to-wl-dispatch'), origin: stat('ingress policy of the destination workload') },
      { action: A.jump('cali-to-hep-forward'), origin: stat('host endpoint forward') },
    ]);
    const input: FRule[] = [];
    if (ipip) {
      input.push(
        { comments: ['Allow IPIP packets from Calico hosts'], match: [M.proto('4'), M.srcSet(ALL_HOSTS), M.dstType('LOCAL')], action: A.accept, origin: stat('ipip') },
        { comments: ['Drop IPIP packets from non-Calico hosts'], match: [M.proto('4')], action: A.drop, origin: stat('ipip') },
      );
    }
    input.push(
      { match: [M.inIface(IFACE_PREFIX + '+')], action: A.goto('cali-wl-to-host'), origin: stat('workload to host') },
      { match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('already accepted') },
      { action: A.clearMark(MARK_ALL), origin: stat('clear marks') },
      { action: A.jump('cali-from-host-endpoint'), origin: stat('host endpoints') },
      { comments: ['Host endpoint policy accepted packet.'], match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('host endpoints') },
    );
    this.add('filter', 'cali-INPUT', input);
    const e2h = this.cfg.defaultEndpointToHostAction;
    this.add('filter', 'cali-wl-to-host', [
      { action: A.jump('cali-from-wl-dispatch'), origin: stat('egress policy of the workload') },
      { comments: ['Configured DefaultEndpointToHostAction'], action: e2h === 'ACCEPT' ? A.accept : e2h === 'DROP' ? A.drop : A.ret, origin: stat('DefaultEndpointToHostAction') },
    ]);
    const output: FRule[] = [
      { match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('already accepted') },
      { match: [M.outIface(IFACE_PREFIX + '+')], action: A.ret, origin: stat('host to local workload') },
    ];
    if (ipip) output.push({ comments: ['Allow IPIP packets to other Calico hosts'], match: [M.proto('4'), M.dstSet(ALL_HOSTS), M.srcType('LOCAL')], action: A.accept, origin: stat('ipip') });
    output.push(
      { action: A.clearMark(MARK_ALL), origin: stat('clear marks') },
      { match: [M.notCtstate('DNAT')], action: A.jump('cali-to-host-endpoint'), origin: stat('host endpoints') },
      { comments: ['Host endpoint policy accepted packet.'], match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('host endpoints') },
    );
    this.add('filter', 'cali-OUTPUT', output);
    for (const c of ['cali-from-hep-forward', 'cali-to-hep-forward', 'cali-from-host-endpoint', 'cali-to-host-endpoint']) this.add('filter', c, []);
  }

  private staticRaw(): void {
    this.add('raw', 'cali-PREROUTING', [
      { action: A.clearMark(MARK_ALL), origin: stat('clear marks') },
      { match: [M.inIface(IFACE_PREFIX + '+')], action: A.setMark(MARK_SCRATCH0), origin: stat('from workload') },
      { match: [M.markSet(MARK_SCRATCH0)], action: A.jump('cali-rpf-skip'), origin: stat('rpf skip') },
      { match: [M.markSet(MARK_SCRATCH0), M.rpfFailed()], action: A.drop, origin: stat('workload source spoofing') },
      { match: [M.markClear(MARK_SCRATCH0)], action: A.jump('cali-from-host-endpoint'), origin: stat('host endpoints') },
      { match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('untracked policy accepted') },
    ]);
    this.add('raw', 'cali-OUTPUT', [
      { action: A.clearMark(MARK_ALL), origin: stat('clear marks') },
      { action: A.jump('cali-to-host-endpoint'), origin: stat('host endpoints') },
      { match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('untracked policy accepted') },
    ]);
    for (const c of ['cali-rpf-skip', 'cali-from-host-endpoint', 'cali-to-host-endpoint']) this.add('raw', c, []);
  }

  private staticMangle(): void {
    this.add('mangle', 'cali-PREROUTING', [
      { match: [M.ctstate('RELATED,ESTABLISHED')], action: A.accept, origin: stat('established') },
      { match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('already accepted') },
      { action: A.jump('cali-from-host-endpoint'), origin: stat('pre-DNAT host endpoint policy') },
      { comments: ['Host endpoint policy accepted packet.'], match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('host endpoints') },
    ]);
    this.add('mangle', 'cali-POSTROUTING', [
      { match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin: stat('forwarded traffic (no host endpoint policy)') },
      { action: A.clearMark(MARK_ALL), origin: stat('clear marks') },
      { match: [M.ctstate('DNAT')], action: A.jump('cali-to-host-endpoint'), origin: stat('host endpoint policy after DNAT') },
      { comments: ['Host endpoint policy accepted packet.'], match: [M.markSet(MARK_ACCEPT)], action: A.ret, origin: stat('host endpoints') },
    ]);
    this.add('mangle', 'cali-from-host-endpoint', []);
    this.add('mangle', 'cali-to-host-endpoint', []);
  }

  private staticNat(): void {
    const pools = this.cluster.pools.filter((p) => !p.disabled);
    const masqPools = pools.filter((p) => p.natOutgoing).map((p) => p.name);
    this.add('nat', 'cali-PREROUTING', [{ action: A.jump('cali-fip-dnat'), origin: stat('floating IPs') }]);
    this.add('nat', 'cali-OUTPUT', [{ action: A.jump('cali-fip-dnat'), origin: stat('floating IPs') }]);
    const post: FRule[] = [
      { action: A.jump('cali-fip-snat'), origin: stat('floating IPs') },
      { action: A.jump('cali-nat-outgoing'), origin: { kind: 'pool', pools: masqPools, what: 'natOutgoing' } },
    ];
    const node = this.cluster.nodes.find((n) => n.name === this.nodeName);
    if (this.ipipEnabled && node?.tunnelIP) {
      post.push({
        match: [M.outIface('tunl0'), M.notSrcTypeLimitOut('LOCAL'), M.srcType('LOCAL')],
        action: A.masq(this.cfg.randomFully),
        origin: { kind: 'pool', pools: pools.filter((p) => p.ipipMode !== 'Never').map((p) => p.name), what: 'tunnel source address' },
      });
    }
    this.add('nat', 'cali-POSTROUTING', post);
    this.add('nat', 'cali-fip-dnat', []);
    this.add('nat', 'cali-fip-snat', []);
    this.add(
      'nat',
      'cali-nat-outgoing',
      masqPools.length
        ? [{ match: [M.srcSet(MASQ_POOLS), M.notDstSet(ALL_POOLS)], action: A.masq(this.cfg.randomFully), origin: { kind: 'pool', pools: masqPools, what: 'natOutgoing' } }]
        : [],
    );
  }

  builtin(): { table: Table; chain: string; op: '-I' | '-A'; rule: FRule; hashChain: string }[] {
    const j = (table: Table, chain: string, target: string) => ({ table, chain, op: '-I' as const, hashChain: chain, rule: { action: A.jump(target), origin: stat(`${chain} -> ${target}`) } });
    return [
      j('raw', 'PREROUTING', 'cali-PREROUTING'),
      j('raw', 'OUTPUT', 'cali-OUTPUT'),
      j('mangle', 'PREROUTING', 'cali-PREROUTING'),
      j('mangle', 'POSTROUTING', 'cali-POSTROUTING'),
      j('nat', 'PREROUTING', 'cali-PREROUTING'),
      j('nat', 'OUTPUT', 'cali-OUTPUT'),
      j('nat', 'POSTROUTING', 'cali-POSTROUTING'),
      j('filter', 'INPUT', 'cali-INPUT'),
      j('filter', 'FORWARD', 'cali-FORWARD'),
      j('filter', 'OUTPUT', 'cali-OUTPUT'),
      { table: 'filter', chain: 'FORWARD', op: '-A', hashChain: 'FORWARD*appends*', rule: { comments: ['Policy explicitly accepted packet.'], match: [M.markSet(MARK_ACCEPT)], action: A.accept, origin: stat('accepted by policy') } },
      { table: 'filter', chain: 'FORWARD', op: '-A', hashChain: 'FORWARD*appends*', rule: { action: A.setMark(MARK_ACCEPT), origin: stat('mark as accepted for later tables') } },
    ];
  }

  /** The node's workload endpoints, in interface order. */
  local(): WorkloadEndpoint[] {
    return this.eps.filter((e) => e.pod.node === this.nodeName).sort((a, b) => (a.iface < b.iface ? -1 : 1));
  }

  /** The sets of a previous render of the same chains, with this cluster's members. */
  setsAgain(requests: Map<string, SetRequest>): { ipsets: IpsetInfo[]; ipsetRestore: string } {
    this.poolSets();
    for (const r of requests.values()) this.requestSet(r);
    return this.ipsetOutput();
  }

  private ipsetOutput(): { ipsets: IpsetInfo[]; ipsetRestore: string } {
    const ipsets = [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const blocks: string[] = [];
    for (const s of ipsets) {
      let text = setTexts.get(s);
      if (text === undefined) {
        const lines = [`create ${s.name} ${s.type} family inet hashsize 1024 maxelem 1048576`];
        for (const m of s.members) lines.push(`add ${s.name} ${m.entry}`);
        setTexts.set(s, (text = lines.join('\n')));
      }
      blocks.push(text);
    }
    return { ipsets, ipsetRestore: blocks.length ? blocks.join('\n') + '\n' : '' };
  }

  /** Runs `make` (which adds chains), or adds what it added last time under the same key. */
  private recorded(key: string, make: () => void): void {
    const hit = addMemo.get(key);
    if (hit) {
      for (const [table, name, rules] of hit) this.add(table, name, rules);
      return;
    }
    const log: [Table, string, FRule[]][] = [];
    const add = this.add;
    this.add = (table, name, rules) => {
      log.push([table, name, rules]);
      add.call(this, table, name, rules);
    };
    try {
      make();
    } finally {
      this.add = add;
    }
    remember(addMemo, key, log);
  }

  render(): FelixResult {
    this.poolSets();
    const node = this.cluster.nodes.find((n) => n.name === this.nodeName);
    this.recorded(`static\n${JSON.stringify([this.cfg, this.cluster.pools, node ?? null])}`, () => {
      this.staticRaw();
      this.staticMangle();
      this.staticNat();
      this.staticFilter();
    });
    const local = this.local();
    const ifaces = local.map((e) => `${e.iface} ${e.pod.namespace}/${e.pod.name}`).join('\n');
    this.recorded(`dispatch\n${ifaces}`, () => {
      this.dispatch(local, 'from');
      this.dispatch(local, 'to');
    });
    for (const ep of local) {
      this.endpointChainFor(ep, 'ingress');
      this.endpointChainFor(ep, 'egress');
    }
    return this.output(local);
  }

  private output(local: WorkloadEndpoint[]): FelixResult {
    const tables: Table[] = ['raw', 'mangle', 'nat', 'filter'];
    const rules: RenderedRule[] = [];
    const origins = { raw: new Map(), mangle: new Map(), nat: new Map(), filter: new Map() } as FelixResult['origins'];
    const perTable = new Map<Table, { decls: string[]; lines: string[] }>(tables.map((t) => [t, { decls: [], lines: [] }]));
    const all = [...this.chains.values()].sort((a, b) => (a.chain.name < b.chain.name ? -1 : a.chain.name > b.chain.name ? 1 : 0));
    const chainText = new Map<string, string>();
    for (const { table, chain } of all) {
      const t = perTable.get(table) as { decls: string[]; lines: string[] };
      t.decls.push(`:${chain.name} - [0:0]`);
      let done = renderedMemo.get(chain.rules);
      if (!done || done.table !== table || done.name !== chain.name) {
        const bodies = chain.rules.map(ruleBody);
        const hashes = ruleHashes(chain.name, bodies);
        done = {
          table,
          name: chain.name,
          text: bodies.map((b, i) => `-A ${chain.name} ${hashComment(hashes[i])}${b ? ' ' + b : ''}`).join('\n'),
          rendered: bodies.map((b, i) => ({ table, chain: chain.name, spec: b, hash: hashes[i], origin: chain.rules[i].origin })),
          origins: chain.rules.map((r) => r.origin),
        };
        renderedMemo.set(chain.rules, done);
      }
      if (done.text) t.lines.push(done.text);
      for (const r of done.rendered) rules.push(r);
      origins[table].set(chain.name, done.origins);
      chainText.set(`${table} ${chain.name}`, done.text);
    }
    const builtin: BuiltinRule[] = [];
    const byHashChain = new Map<string, FRule[]>();
    const b = this.builtin();
    for (const x of b) byHashChain.set(`${x.table} ${x.hashChain}`, [...(byHashChain.get(`${x.table} ${x.hashChain}`) ?? []), x.rule]);
    const hashOf = new Map<FRule, string>();
    for (const [key, list] of byHashChain) {
      const hs = ruleHashes(key.split(' ')[1], list.map(ruleBody));
      list.forEach((r, i) => hashOf.set(r, hs[i]));
    }
    for (const x of b) {
      const body = ruleBody(x.rule);
      builtin.push({ table: x.table, chain: x.chain, op: x.op, spec: `${hashComment(hashOf.get(x.rule) as string)} ${body}`, origin: x.rule.origin });
    }
    const text = (withBuiltin: boolean) => {
      const out: string[] = [];
      for (const t of tables) {
        const pt = perTable.get(t) as { decls: string[]; lines: string[] };
        out.push(`*${t}`, ...pt.decls);
        if (withBuiltin) {
          const pos = new Map<string, number>();
          for (const r of builtin.filter((r) => r.table === t && r.op === '-I')) {
            const n = (pos.get(r.chain) ?? 0) + 1;
            pos.set(r.chain, n);
            out.push(`-I ${r.chain} ${n} ${r.spec}`);
          }
        }
        out.push(...pt.lines);
        if (withBuiltin) for (const r of builtin.filter((r) => r.table === t && r.op === '-A')) out.push(`-A ${r.chain} ${r.spec}`);
        out.push('COMMIT');
      }
      return out.join('\n') + '\n';
    };
    const { ipsets, ipsetRestore } = this.ipsetOutput();
    return {
      node: this.nodeName,
      restore: text(true),
      chainsText: text(false),
      builtin,
      ipsetRestore,
      ipsets,
      rules,
      origins,
      chainText,
      endpoints: local,
    };
  }
}

function splitPorts(ports: CalicoPort[]): CalicoPort[][] {
  const out: CalicoPort[][] = [];
  let cur: CalicoPort[] = [];
  let free = 15;
  for (const p of ports) {
    const need = p.min === p.max ? 1 : 2;
    if (free < need) {
      out.push(cur);
      cur = [];
      free = 15;
    }
    cur.push(p);
    free -= need;
  }
  if (cur.length) out.push(cur);
  return out;
}

function portList(ports: CalicoPort[]): string {
  return ports.map((p) => (p.min === p.max ? `${p.min}` : `${p.min}:${p.max}`)).join(',');
}

// The last render of each node, keyed by everything its chains depend on (the settings, the
// pools, the node, its local endpoints with their labels, and every policy): a render whose
// chains would come out the same — a label change of a pod on another node, say — reuses them
// and computes only the IP sets' members again, which depend on every endpoint of the cluster.
const nodeMemo = new Map<string, { inputs: string; result: FelixResult; requests: Map<string, SetRequest> }>();
const NODE_MEMO_MAX = 256;

function chainInputs(r: Renderer, share: RenderShare, cluster: CalicoCluster, nodeName: string, local: WorkloadEndpoint[]): string {
  const node = cluster.nodes.find((n) => n.name === nodeName);
  share.polsKey ??= share.pols
    .map((p) => {
      let spec = specJson.get(p);
      if (spec === undefined) specJson.set(p, (spec = JSON.stringify(p.source.spec)));
      return `${p.id}\n${spec}`;
    })
    .join('\n');
  const eps = local.map((e) => {
    let t = endpointInputs.get(e);
    if (t === undefined) {
      t = JSON.stringify([e.iface, e.pod.namespace, e.pod.name, e.ip, e.labels, e.profiles]);
      if (Object.isFrozen(e)) endpointInputs.set(e, t);
    }
    return t;
  });
  return JSON.stringify([r.cfg, cluster.pools, node ?? null]) + '\n' + eps.join('\n') + '\n' + share.polsKey;
}

/** Forgets every render kept for reuse (tests compare a reusing render with one from scratch). */
export function forgetRenders(): void {
  nodeMemo.clear();
  memberMemo.clear();
  chainMemo.clear();
  addMemo.clear();
  policyHits = new WeakMap();
  policyMemo.clear();
  endpointMemo.clear();
}

/** Everything Felix programs on node `nodeName`; `share` (from renderShare(cluster)) lets the
 *  renders of several nodes of one unchanging cluster compute their common parts once. */
export function renderFelix(cluster: CalicoCluster, nodeName: string, config: FelixConfig = {}, share?: RenderShare): FelixResult {
  if (share && share.cluster !== cluster) throw new Error('renderFelix: the share belongs to another cluster');
  const sh = share ?? renderShare(cluster);
  const r = new Renderer(cluster, nodeName, config, sh);
  const local = r.local();
  const inputs = chainInputs(r, sh, cluster, nodeName, local);
  const memoKey = `${nodeName}\n${JSON.stringify(r.cfg)}`;
  const hit = nodeMemo.get(memoKey);
  if (hit && hit.inputs === inputs) {
    const { ipsets, ipsetRestore } = r.setsAgain(hit.requests);
    return { ...hit.result, ipsets, ipsetRestore, endpoints: local };
  }
  const result = r.render();
  if (nodeMemo.size >= NODE_MEMO_MAX) nodeMemo.clear();
  nodeMemo.set(memoKey, { inputs, result, requests: r.requests });
  return result;
}
