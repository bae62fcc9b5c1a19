// The /proc/sys/net tree of one namespace: global keys, and the per-device IPv4 (and a few
// IPv6) `conf` keys with the kernel's side effects:
// - net.ipv4.ip_forward is conf/all/forwarding; changing it sets forwarding on default and on
//   every device, and all.accept_redirects to its negation (inet_forward_change);
// - a new device copies conf/default; writing default.X copies X to every device that never
//   had X written itself (devinet_copy_dflt_conf); lo starts with disable_policy/xfrm 1;
// - writing ipv6 all.disable_ipv6 / all.forwarding sets it on default and every device.
// Values are kept as the text the kernel prints; writes parse like proc_dointvec.

import { KernelError } from './errno.ts';
import {
  GLOBAL_SYSCTLS,
  IPV4_CONF_ALL_OVERRIDES,
  IPV4_CONF_DEFAULTS,
  IPV4_NEIGH_DEFAULTS,
  IPV6_CONF_DEFAULTS,
  type SysctlKind,
} from './sysctl-defaults.ts';

const GLOBAL_KIND = new Map<string, SysctlKind>(GLOBAL_SYSCTLS.map(([k, , kind]) => [k, kind]));
const VEC_LEN: Readonly<Record<string, number>> = {
  'net.ipv4.ip_local_port_range': 2,
  'net.ipv4.ping_group_range': 2,
  'net.ipv4.tcp_rmem': 3,
  'net.ipv4.tcp_wmem': 3,
};
/** Keys the kernel bounds (proc_dou8vec_minmax): a value outside [min, max] is EINVAL and
 *  changes nothing (checked against 6.18 with `sysctl -w KEY=2` and `=-1`). */
const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  'net.netfilter.nf_conntrack_acct': [0, 1],
  'net.netfilter.nf_conntrack_checksum': [0, 1],
  'net.netfilter.nf_conntrack_events': [0, 2],
  'net.netfilter.nf_conntrack_tcp_be_liberal': [0, 1],
  'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst': [0, 1],
  'net.netfilter.nf_conntrack_tcp_loose': [0, 1],
  'net.netfilter.nf_conntrack_timestamp': [0, 1],
};
/** Per-device keys no one may write (owned by the multicast routing daemon). */
const CONF4_READONLY = new Set(['mc_forwarding']);

export interface SysctlState {
  globals: Record<string, string>;
  conf4: Record<string, Record<string, number>>;
  /** Keys written explicitly per device (the kernel's devconf state bits). */
  conf4Set: Record<string, string[]>;
  conf6: Record<string, Record<string, number>>;
  neigh: Record<string, Record<string, number>>;
}

/** One file of the tree: its path segments below /proc/sys. */
export interface SysctlEntry {
  segs: string[];
  value: string;
}

export type SysctlNode =
  | { kind: 'file'; segs: string[]; value: string; writable: boolean }
  | { kind: 'dir'; segs: string[]; files: SysctlEntry[] };

const INT_MAX = 0x7fffffff;

/**
 * proc_dointvec's parse of the first `n` integers of a write: optional '-', then base-0
 * digits (0x hex, leading-0 octal), separated by blanks; text after the n-th is ignored.
 * Returns fewer than n numbers when fewer were written; throws EINVAL on garbage/overflow.
 */
export function parseProcInts(text: string, n: number, unsigned: boolean): number[] {
  const out: number[] = [];
  let p = 0;
  const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n';
  while (out.length < n) {
    while (p < text.length && isSpace(text[p])) p++;
    if (p >= text.length) break;
    let neg = false;
    if (text[p] === '-') {
      if (unsigned) throw new KernelError('EINVAL');
      neg = true;
      p++;
    }
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text.slice(p));
    if (!m) throw new KernelError('EINVAL');
    p += m[0].length;
    if (p < text.length && !isSpace(text[p])) throw new KernelError('EINVAL');
    const s = m[0];
    const v = /^0[xX]/.test(s) ? parseInt(s.slice(2), 16) : s.length > 1 && s[0] === '0' ? parseInt(s, 8) : Number(s);
    const limit = unsigned ? 0xffffffff : neg ? INT_MAX + 1 : INT_MAX;
    if (v > limit) throw new KernelError('EINVAL');
    out.push(neg ? -v : v);
  }
  if (out.length === 0) throw new KernelError('EINVAL');
  return out;
}

function compareSegs(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

export class Sysctls {
  private globals: Map<string, string>;
  private conf4: Map<string, Map<string, number>>;
  private conf4Set: Map<string, Set<string>>;
  private conf6: Map<string, Map<string, number>>;
  private neigh: Map<string, Map<string, number>>;
  /** Bumped on every change: what the namespace derived from these values (its route and ARP
   *  answers, see NetNs) is only reused while it stays the same. */
  gen = 0;

  constructor(state?: SysctlState) {
    if (state) {
      this.globals = new Map(Object.entries(state.globals));
      this.conf4 = new Map(Object.entries(state.conf4).map(([d, kv]) => [d, new Map(Object.entries(kv))]));
      this.conf4Set = new Map(Object.entries(state.conf4Set).map(([d, ks]) => [d, new Set(ks)]));
      this.conf6 = new Map(Object.entries(state.conf6).map(([d, kv]) => [d, new Map(Object.entries(kv))]));
      this.neigh = new Map(Object.entries(state.neigh).map(([d, kv]) => [d, new Map(Object.entries(kv))]));
      return;
    }
    this.globals = new Map(GLOBAL_SYSCTLS.map(([k, v]) => [k, v]));
    const dflt = new Map(Object.entries(IPV4_CONF_DEFAULTS));
    const all = new Map(dflt);
    for (const [k, v] of Object.entries(IPV4_CONF_ALL_OVERRIDES)) all.set(k, v);
    this.conf4 = new Map([
      ['all', all],
      ['default', dflt],
    ]);
    this.conf4Set = new Map([
      ['all', new Set()],
      ['default', new Set()],
    ]);
    this.conf6 = new Map([
      ['all', new Map(Object.entries(IPV6_CONF_DEFAULTS))],
      ['default', new Map(Object.entries(IPV6_CONF_DEFAULTS))],
    ]);
    this.neigh = new Map();
  }

  toJSON(): SysctlState {
    const obj = <T>(m: Map<string, T>): Record<string, T> => Object.fromEntries(m);
    return {
      globals: obj(this.globals),
      conf4: Object.fromEntries([...this.conf4].map(([d, kv]) => [d, obj(kv)])),
      conf4Set: Object.fromEntries([...this.conf4Set].map(([d, ks]) => [d, [...ks]])),
      conf6: Object.fromEntries([...this.conf6].map(([d, kv]) => [d, obj(kv)])),
      neigh: Object.fromEntries([...this.neigh].map(([d, kv]) => [d, obj(kv)])),
    };
  }

  clone(): Sysctls {
    return new Sysctls(this.toJSON());
  }

  // ---- devices --------------------------------------------------------------------------------

  addDev(name: string, loopback: boolean): void {
    this.gen++;
    const c4 = new Map(this.conf4.get('default'));
    const set = new Set<string>();
    if (loopback) {
      c4.set('disable_policy', 1);
      c4.set('disable_xfrm', 1);
      set.add('disable_policy').add('disable_xfrm');
    }
    this.conf4.set(name, c4);
    this.conf4Set.set(name, set);
    this.conf6.set(name, new Map(this.conf6.get('default')));
    this.neigh.set(name, new Map(Object.entries(IPV4_NEIGH_DEFAULTS)));
  }

  renameDev(from: string, to: string): void {
    this.gen++;
    for (const m of [this.conf4, this.conf4Set, this.conf6, this.neigh] as Map<string, unknown>[]) {
      const v = m.get(from);
      if (v === undefined) continue;
      m.delete(from);
      m.set(to, v);
    }
  }

  delDev(name: string): void {
    this.gen++;
    this.conf4.delete(name);
    this.conf4Set.delete(name);
    this.conf6.delete(name);
    this.neigh.delete(name);
  }

  private devNames(): string[] {
    return [...this.conf4.keys()].filter((d) => d !== 'all' && d !== 'default');
  }

  // ---- typed access for the model -------------------------------------------------------------

  /** net.ipv4.conf.<dev>.<key> ('all' and 'default' too); 0 for an unknown device. */
  conf(dev: string, key: string): number {
    return this.conf4.get(dev)?.get(key) ?? 0;
  }

  neighValue(dev: string, key: string): number {
    return this.neigh.get(dev)?.get(key) ?? 0;
  }

  conf6Value(dev: string, key: string): number {
    return this.conf6.get(dev)?.get(key) ?? 0;
  }

  global(key: string): string | undefined {
    return this.globals.get(key);
  }

  globalInt(key: string): number {
    return Number((this.globals.get(key) ?? '0').split('\t')[0]);
  }

  /** Set a value the kernel maintains (nf_conntrack_count, ...), bypassing permissions. */
  setKernelValue(key: string, value: string): void {
    if (!this.globals.has(key)) throw new KernelError('ENOENT');
    this.gen++;
    this.globals.set(key, value);
  }

  // ---- the tree -------------------------------------------------------------------------------

  /** Every file below /proc/sys this namespace has, sorted as `sysctl -a` lists them. */
  entries(): SysctlEntry[] {
    const out: SysctlEntry[] = [];
    for (const [k, v] of this.globals) out.push({ segs: k.split('.'), value: v });
    out.push({ segs: ['net', 'ipv4', 'ip_forward'], value: String(this.conf('all', 'forwarding')) });
    for (const [dev, kv] of this.conf4) for (const [k, v] of kv) out.push({ segs: ['net', 'ipv4', 'conf', dev, k], value: String(v) });
    for (const [dev, kv] of this.neigh) for (const [k, v] of kv) out.push({ segs: ['net', 'ipv4', 'neigh', dev, k], value: String(v) });
    for (const [dev, kv] of this.conf6) for (const [k, v] of kv) out.push({ segs: ['net', 'ipv6', 'conf', dev, k], value: String(v) });
    return out.sort((a, b) => compareSegs(a.segs, b.segs));
  }

  /** The value of the file at exactly `segs`, if there is one (no listing built: a node with
   *  hundreds of devices has tens of thousands of files, and the agents write one per pod). */
  private fileValue(segs: readonly string[]): string | undefined {
    if (segs.length === 5 && segs[0] === 'net') {
      const table = segs[1] === 'ipv4' ? (segs[2] === 'conf' ? this.conf4 : segs[2] === 'neigh' ? this.neigh : null) : segs[1] === 'ipv6' && segs[2] === 'conf' ? this.conf6 : null;
      const v = table?.get(segs[3])?.get(segs[4]);
      if (v !== undefined) return String(v);
    }
    if (segs.length === 3 && segs[0] === 'net' && segs[1] === 'ipv4' && segs[2] === 'ip_forward') return String(this.conf('all', 'forwarding'));
    return this.globals.get(segs.join('.'));
  }

  /** The file or directory at `segs` (below /proc/sys), or an errno. */
  lookup(segs: readonly string[]): SysctlNode | KernelError {
    const value = this.fileValue(segs);
    if (value !== undefined) {
      // (a file's parents are directories: a file used as one is ENOTDIR, found below)
      let parentIsFile = false;
      for (let i = 1; i < segs.length && !parentIsFile; i++) parentIsFile = this.fileValue(segs.slice(0, i)) !== undefined;
      if (!parentIsFile) return { kind: 'file', segs: [...segs], value, writable: this.writable(segs) };
    }
    const all = this.entries();
    // Walk component by component so "a file used as a directory" gives ENOTDIR.
    for (let i = 1; i <= segs.length; i++) {
      const prefix = segs.slice(0, i);
      const file = all.find((e) => compareSegs(e.segs, prefix) === 0);
      if (file) {
        if (i < segs.length) return new KernelError('ENOTDIR');
        return { kind: 'file', segs: file.segs, value: file.value, writable: this.writable(file.segs) };
      }
      const under = all.filter((e) => e.segs.length > i && compareSegs(e.segs.slice(0, i), prefix) === 0);
      if (!under.length) return new KernelError('ENOENT');
      if (i === segs.length) return { kind: 'dir', segs: [...segs], files: under };
    }
    return { kind: 'dir', segs: [], files: all };
  }

  private writable(segs: readonly string[]): boolean {
    const key = segs.join('.');
    if (segs.length === 5 && segs[0] === 'net' && segs[2] === 'conf') return !(segs[1] === 'ipv4' && CONF4_READONLY.has(segs[4]));
    if (key === 'net.ipv4.ip_forward') return true;
    return GLOBAL_KIND.get(key) !== 'ro';
  }

  /**
   * Write `text` to the file at `segs` as the kernel would (a write(2) of the text):
   * throws ENOENT/EISDIR/EACCES/EINVAL like the kernel.
   */
  write(segs: readonly string[], text: string): void {
    this.gen++;
    const node = this.lookup(segs);
    if (node instanceof KernelError) throw node;
    if (node.kind === 'dir') throw new KernelError('EISDIR');
    if (!node.writable) throw new KernelError('EACCES');
    const key = node.segs.join('.');
    const s = node.segs;
    if (key === 'net.ipv4.ip_forward') return this.writeConf4('all', 'forwarding', text);
    if (s.length === 5 && s[1] === 'ipv4' && s[2] === 'neigh') {
      const [v] = parseProcInts(text, 1, false);
      this.neigh.get(s[3])?.set(s[4], v);
      return;
    }
    if (s.length === 5 && s[2] === 'conf') {
      if (s[1] === 'ipv4') return this.writeConf4(s[3], s[4], text);
      return this.writeConf6(s[3], s[4], text);
    }
    this.writeGlobal(key, text);
  }

  private writeGlobal(key: string, text: string): void {
    const kind = GLOBAL_KIND.get(key);
    const old = this.globals.get(key) ?? '';
    if (kind === 'str') {
      this.globals.set(key, text.replace(/\n$/, ''));
      return;
    }
    if (kind === 'int' || kind === 'uint') {
      const [v] = parseProcInts(text, 1, kind === 'uint');
      const range = INT_RANGE[key];
      if (range && (v < range[0] || v > range[1])) throw new KernelError('EINVAL');
      this.globals.set(key, String(v));
      return;
    }
    // Vectors: missing trailing values keep their old value.
    const n = VEC_LEN[key] ?? old.split('\t').length;
    const given = parseProcInts(text, n, false);
    const vals = old.split('\t').map(Number);
    given.forEach((v, i) => (vals[i] = v));
    if (key === 'net.ipv4.ip_local_port_range') {
      if (given.some((v) => v < 1 || v > 65535)) throw new KernelError('EINVAL');
      if (vals[1] < vals[0] || vals[0] < this.globalInt('net.ipv4.ip_unprivileged_port_start')) throw new KernelError('EINVAL');
    } else if (key === 'net.ipv4.ping_group_range') {
      if (vals[1] < vals[0] || vals.some((v) => v < 0)) throw new KernelError('EINVAL');
    }
    this.globals.set(key, vals.join('\t'));
  }

  private writeConf4(dev: string, key: string, text: string): void {
    const [v] = parseProcInts(text, 1, false);
    const conf = this.conf4.get(dev);
    if (!conf) throw new KernelError('ENOENT');
    if (key === 'forwarding') {
      const old = conf.get('forwarding');
      conf.set('forwarding', v);
      if (dev !== 'all' && dev !== 'default') this.conf4Set.get(dev)?.add('forwarding');
      if (dev === 'all' && old !== v) {
        // inet_forward_change
        (this.conf4.get('all') as Map<string, number>).set('accept_redirects', v ? 0 : 1);
        (this.conf4.get('default') as Map<string, number>).set('forwarding', v);
        for (const d of this.devNames()) {
          this.conf4.get(d)?.set('forwarding', v);
          this.conf4Set.get(d)?.add('forwarding');
        }
      }
      return;
    }
    conf.set(key, v);
    this.conf4Set.get(dev)?.add(key);
    if (dev === 'default') {
      for (const d of this.devNames()) if (!this.conf4Set.get(d)?.has(key)) this.conf4.get(d)?.set(key, v);
    }
  }

  private writeConf6(dev: string, key: string, text: string): void {
    const [v] = parseProcInts(text, 1, false);
    const conf = this.conf6.get(dev);
    if (!conf) throw new KernelError('ENOENT');
    conf.set(key, v);
    if (dev === 'all') {
      this.conf6.get('default')?.set(key, v);
      for (const d of this.devNames()) this.conf6.get(d)?.set(key, v);
    }
  }
}
