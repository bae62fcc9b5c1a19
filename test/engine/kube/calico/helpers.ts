// Loading a rendered node into an engine Host (ipset restore, then iptables-restore --noflush),
// and walking the filter table's FORWARD chain for one packet, as the kernel would for a
// NEW connection between two local workloads.

import assert from 'node:assert/strict';
import { Host } from '../../../../main/engine/host.ts';
import { traverse, type RuleStep } from '../../../../main/engine/datapath/traverse.ts';
import { iptablesRestore, iptablesSave } from '../../../../main/engine/shell/iptables.ts';
import { ipset } from '../../../../main/engine/shell/ipset.ts';
import { parseIPv4 } from '../../../../main/engine/net/ipv4.ts';
import { PROTO, type CtView, type Hook, type MatchCtx, type Packet } from '../../../../main/engine/netfilter/types.ts';
import type { FelixResult } from '../../../../main/engine/kube/calico/model.ts';

const LAB = { now: () => 0, random: () => 0.5, chance: () => true, seed: 1 };

export function loadNode(r: FelixResult): Host {
  const h = new Host(r.node, [], LAB);
  const s = ipset(['ipset', 'restore'], r.ipsetRestore, h.ipsets);
  assert.equal(s.code, 0, s.stderr);
  const i = iptablesRestore(['iptables-restore', '--noflush'], r.restore, h.nf);
  assert.equal(i.code, 0, i.stderr);
  return h;
}

export function save(h: Host, table?: string): string {
  return iptablesSave(table ? ['iptables-save', '-t', table] : ['iptables-save'], '', h.nf, 0).stdout;
}

export function ipsetList(h: Host, name?: string): string {
  return ipset(name ? ['ipset', 'list', name] : ['ipset', 'list'], '', h.ipsets).stdout;
}

export const grep = (text: string, s: string): string[] => text.split('\n').filter((l) => l.includes(s));

const PROTOS = { TCP: PROTO.tcp, UDP: PROTO.udp, SCTP: PROTO.sctp } as const;

export interface WalkResult {
  verdict: 'accept' | 'drop' | 'reject' | 'nat';
  steps: RuleStep[];
}

/** One table's hook for a NEW packet; `inIface`/`outIface` as the kernel would see them. */
export function walk(
  h: Host,
  hook: Hook,
  p: { src: string; dst: string; proto: 'TCP' | 'UDP' | 'SCTP'; dport: number; inIface?: string; outIface?: string; state?: CtView['state'] },
  table: 'filter' | 'raw' | 'mangle' = 'filter',
): WalkResult {
  const pkt: Packet = {
    src: parseIPv4(p.src) as number, dst: parseIPv4(p.dst) as number, proto: PROTOS[p.proto], sport: 40000, dport: p.dport,
    tcpFlags: p.proto === 'TCP' ? 2 : 0, icmpType: 0, icmpCode: 0, icmpId: 0, ttl: 64, len: 60, mark: 0,
  };
  const tuple = { src: pkt.src, dst: pkt.dst, proto: pkt.proto, sport: 40000, dport: p.dport };
  const ct: CtView = {
    state: p.state ?? 'NEW', dir: 'ORIGINAL', orig: tuple, reply: { ...tuple, src: pkt.dst, dst: pkt.src, sport: p.dport, dport: 40000 },
    status: new Set(), mark: 0, expires: 120,
  };
  const steps: RuleStep[] = [];
  const ctx: MatchCtx = { hook, table, inIface: p.inIface, outIface: p.outIface, pkt, ct, host: h.env, rule: undefined as never };
  const t = h.nf.table(table);
  assert.ok(t, `no ${table} table`);
  const v = traverse(
    { host: h.name, hook, table: t, generation: h.nf.generation, index: h.index, ctx, steps, log: () => undefined, onNotrack: () => undefined, onTrace: () => undefined, maxSteps: 100000 },
    hook,
  );
  return { verdict: v.kind, steps };
}

import { renderFelix } from '../../../../main/engine/kube/calico/felix.ts';
import { vethName } from '../../../../main/engine/kube/calico/names.ts';
import type { CalicoCluster, FelixConfig, PodInfo } from '../../../../main/engine/kube/calico/model.ts';

/**
 * The verdict of the rendered dataplane for a NEW connection: the source node's FORWARD walk
 * (egress policy of a source pod) and then the destination node's (ingress policy of a
 * destination pod); same node = one walk through both. Non-pod parties are plain IPs that
 * arrive on / leave by eth0.
 */
export class Dataplane {
  private readonly hosts = new Map<string, Host>();
  constructor(private readonly cluster: CalicoCluster, private readonly cfg: FelixConfig = {}) {}

  host(node: string): Host {
    let h = this.hosts.get(node);
    if (!h) {
      h = loadNode(renderFelix(this.cluster, node, this.cfg));
      this.hosts.set(node, h);
    }
    return h;
  }

  private pod(x: string): PodInfo | undefined {
    return this.cluster.pods.find((p) => `${p.namespace}/${p.name}` === x && !p.hostNetwork && p.ip);
  }

  allowed(src: string, dst: string, port: number, proto: 'TCP' | 'UDP' | 'SCTP'): boolean {
    const s = this.pod(src);
    const d = this.pod(dst);
    const srcIp = s?.ip ?? src;
    const dstIp = d?.ip ?? dst;
    const sIf = s && vethName(s.namespace, s.name);
    const dIf = d && vethName(d.namespace, d.name);
    if (s && d && s.node === d.node) {
      return walk(this.host(s.node), 'FORWARD', { src: srcIp, dst: dstIp, proto, dport: port, inIface: sIf, outIface: dIf }).verdict === 'accept';
    }
    if (s && walk(this.host(s.node), 'FORWARD', { src: srcIp, dst: dstIp, proto, dport: port, inIface: sIf, outIface: 'eth0' }).verdict !== 'accept') return false;
    if (d && walk(this.host(d.node), 'FORWARD', { src: srcIp, dst: dstIp, proto, dport: port, inIface: 'eth0', outIface: dIf }).verdict !== 'accept') return false;
    return true;
  }
}
