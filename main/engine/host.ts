// One Linux host of the lab: a network namespace (interfaces, addresses, routes, sysctls), its
// netfilter tables, ipsets, conntrack table, `recent` lists, per-rule match state, and the
// sockets it listens on. It is what the walk sees (WalkHost) and what console commands edit.

import type { ListenSpec } from '../../shared/lab.ts';
import { ConntrackTable, type ConntrackSettings, type ConntrackTimeouts } from './conntrack/table.ts';
import { timeoutsFrom } from './conntrack/timeouts.ts';
import type { WalkHost } from './datapath/ports.ts';
import { NetNs } from './net/netns.ts';
import type { IPv4 } from './net/ipv4.ts';
import { IpsetStore } from './netfilter/ipset/store.ts';
import { RecentStore } from './netfilter/recent-store.ts';
import { NfacctStore } from './netfilter/nfacct-store.ts';
import { IndexCache } from './netfilter/rule-index.ts';
import { Netfilter } from './netfilter/ruleset.ts';
import { PROTO, TABLE_NAMES, type HostEnv, type ModuleRef, type Rule } from './netfilter/types.ts';
import { MATCHES } from './netfilter/matches/index.ts';
import { TARGETS } from './netfilter/targets/index.ts';

/** What a host needs from the lab around it: the clock and the seeded randomness. */
export interface LabContext {
  now(): number;
  random(): number;
  chance(p: number): boolean;
  seed: number;
}

/** Modules whose rules make the kernel load conntrack in a namespace (nf_ct_netns_get). */
const CT_USERS = new Set(['conntrack', 'state', 'connmark', 'CONNMARK', 'CT', 'NOTRACK', 'helper', 'connlimit', 'connbytes', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT']);

const PROTO_NUM: Record<ListenSpec['proto'], number> = { tcp: PROTO.tcp, udp: PROTO.udp, sctp: PROTO.sctp };

export class Host implements WalkHost {
  readonly name: string;
  /** What `hostname` prints (a pod's host is keyed NS/NAME but is called NAME). */
  hostname: string;
  listen: ListenSpec[];
  net: NetNs;
  nf: Netfilter;
  ipsets: IpsetStore;
  private table!: ConntrackTable;
  /** The namespace's conntrack table. Its settings are the namespace's sysctls, read when a
   *  connection starts (a table put in place, a saved lab's, follows them too):
   *  net.netfilter.nf_conntrack_tcp_loose, net.netfilter.nf_conntrack_acct, which gives
   *  counters to the entries made while it is on (each entry keeps what it got), and the
   *  nf_conntrack_*_timeout* sysctls, which each packet reads. */
  get ct(): ConntrackTable {
    return this.table;
  }
  set ct(t: ConntrackTable) {
    const host = this as Host;
    // (read again only when a sysctl changed: every packet asks)
    let timeouts: { gen: number; value: ConntrackTimeouts } | null = null;
    const settings: ConntrackSettings = {
      get tcpLoose(): boolean {
        return host.net.sysctl.globalInt('net.netfilter.nf_conntrack_tcp_loose') !== 0;
      },
      get acct(): boolean {
        return host.net.sysctl.globalInt('net.netfilter.nf_conntrack_acct') !== 0;
      },
      get timeouts(): ConntrackTimeouts {
        const sys = host.net.sysctl;
        if (timeouts?.gen !== sys.gen) timeouts = { gen: sys.gen, value: timeoutsFrom((k) => sys.globalInt(k)) };
        return timeouts.value;
      },
    };
    t.settings = settings;
    this.table = t;
  }
  recent = new RecentStore();
  nfacct = new NfacctStore();
  /** Per-rule state of stateful matches (statistic nth counters, limit buckets). */
  ruleState = new Map<Rule, Map<string, unknown>>();
  index = new IndexCache();
  env: HostEnv;
  rng: () => number;
  private trackingGen = -1;
  private trackingOn = false;

  constructor(name: string, listen: ListenSpec[], private readonly lab: LabContext) {
    this.name = name;
    this.hostname = name;
    this.listen = listen;
    this.net = new NetNs(name);
    this.nf = new Netfilter();
    this.ipsets = new IpsetStore({ seed: lab.seed, now: () => lab.now() });
    this.ct = new ConntrackTable();
    this.rng = () => lab.random();
    this.wireSets();
    this.env = this.makeEnv();
  }

  /** iptables asks whether a set exists; ipset asks how many rules reference one. */
  private wireSets(): void {
    this.nf.setExists = (n) => this.ipsets.exists(n);
    this.nf.nfacctExists = (n) => this.nfacct.has(n);
    this.ipsets.setRefCounter((n) => this.setReferences(n));
  }

  private makeEnv(): HostEnv {
    return {
      addrType: (addr, iface) => this.net.addrType(addr, iface),
      ipsetTest: (name, pkt, dirs, opts) => this.ipsets.test(name, pkt, dirs, opts),
      ipsetAdt: (cmd, name, pkt, dirs, opts) => this.ipsets.kadt(name, cmd, pkt, dirs, opts),
      random: () => this.lab.random(),
      chance: (p) => this.lab.chance(p),
      ruleState: <T>(rule: Rule, key: string, init: () => T): T => {
        let m = this.ruleState.get(rule);
        if (!m) this.ruleState.set(rule, (m = new Map()));
        if (!m.has(key)) m.set(key, init());
        return m.get(key) as T;
      },
      recent: this.recent,
      nfacct: (name) => this.nfacct.get(name),
      now: () => this.lab.now(),
      rpfilterCheck: (pkt, inIface) => this.net.rpCheck(pkt.src, inIface, pkt.dst),
    };
  }

  /** How many rules name the nfacct object (`nfacct del` refuses one in use). */
  nfacctReferences(name: string): number {
    return this.references('nfacct', name);
  }

  setReferences(set: string): number {
    return this.references('set', set);
  }

  /** How many references the rules hold to the object `name` of that kind (ModuleBase.refs:
   *  each match or target naming it holds one). */
  private references(kind: ModuleRef['kind'], name: string): number {
    let n = 0;
    const count = (refs: readonly ModuleRef[] | undefined) => {
      if (refs) for (const r of refs) if (r.kind === kind && r.name === name) n++;
    };
    for (const t of TABLE_NAMES) {
      const table = this.nf.table(t);
      if (!table) continue;
      for (const c of table.chains.values())
        for (const r of c.rules) {
          for (const m of r.matches) count(MATCHES.get(m.module)?.refs?.(m.data as never));
          if (r.target?.data !== undefined) count(TARGETS.get(r.target.name)?.refs?.(r.target.data as never));
        }
    }
    return n;
  }

  /** Conntrack runs once something in the namespace needs it: a nat table, or a rule using a
   *  conntrack-based match or target. (A plain namespace tracks nothing: `conntrack -L` is
   *  empty there.) */
  tracking(): boolean {
    if (this.trackingGen === this.nf.generation) return this.trackingOn;
    let on = this.nf.table('nat') !== undefined;
    for (const t of TABLE_NAMES) {
      if (on) break;
      const table = this.nf.table(t);
      if (!table) continue;
      for (const c of table.chains.values()) {
        for (const r of c.rules) {
          if ((r.target && CT_USERS.has(r.target.name)) || r.matches.some((m) => CT_USERS.has(m.module))) {
            on = true;
            break;
          }
        }
        if (on) break;
      }
    }
    this.trackingGen = this.nf.generation;
    this.trackingOn = on;
    return on;
  }

  listens(proto: number, port: number, _dst: IPv4): boolean {
    return this.listen.some((l) => PROTO_NUM[l.proto] === proto && l.port === port);
  }
}
