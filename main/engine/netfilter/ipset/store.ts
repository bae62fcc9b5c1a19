// The ipset sets of one host, with the kernel's semantics for set management (create,
// destroy, flush, rename, swap, references) and the entry points the rest of the lab uses:
// the `ipset` console (through adt/create/...), `-m set` matching (test) and the lab file.
//
// Sets live in numbered slots like the kernel's ip_set_list: a new set takes the first free
// slot, and dumps list the non-list:set sets by slot, then the list:set sets by slot.
//
// Not reproducible from the real kernel, chosen deterministically instead:
// - initval: the kernel draws it from get_random_bytes() when `create` gives none. The lab
//   derives it from the host's seed and the number of sets created so far (hashInitval),
//   so a replayed journal rebuilds the same sets, member order and memory sizes.
// - time: element timeouts count down on the lab clock (`now`), and expired elements are
//   collected at the next operation on the set (the kernel's gc runs on a timer).

import type { Packet, SetTestOptions } from '../types.ts';
import { HashSet } from './hash-set.ts';
import type { HashSetJSON } from './hash-set.ts';
import { ListSet } from './list-set.ts';
import type { ListSetJSON } from './list-set.ts';
import type { AdtAttrs, CreateAttrs, Dir, HashTypeName, HeaderView, MatchExt, SetTypeName, SetView } from './types.ts';
import { IpsetErrno, REVISION } from './types.ts';

export type AnySet = HashSet | ListSet;

export interface IpsetStoreOptions {
  /** Seed for the initval of sets created without one (the lab's seed). */
  seed?: number;
  /** Lab clock in seconds, for element timeouts. */
  now?: () => number;
}

export interface IpsetStoreJSON {
  version: 1;
  seed: number;
  created: number;
  slots: ({ name: string; set: HashSetJSON | ListSetJSON } | null)[];
}

interface Slot {
  name: string;
  set: AnySet;
}

/** splitmix32-style mixing of the seed and a counter: a well spread 32-bit initval. */
export function hashInitval(seed: number, n: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(n + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class IpsetStore {
  private slots: (Slot | null)[] = [];
  /** The slots by name, made on the first lookup after a create, destroy or rename (every
   *  `-m set` of a walk looks its set up by name). */
  private byName: Map<string, Slot> | null = null;
  /** Whether a set keeps element counters, found on first need after a create, destroy or
   *  rename (a walk's snapshot asks on every host it reaches). */
  private counted: boolean | null = null;
  private seed: number;
  private created = 0;
  private clock: () => number;
  private refCounter: (name: string) => number = () => 0;
  /** Bumped by every change to the sets or their members (not by matching packets): an agent
   *  that remembers it can tell whether anyone changed them since it last wrote them. */
  changes = 0;

  constructor(opts: IpsetStoreOptions = {}) {
    this.seed = (opts.seed ?? 1) >>> 0;
    this.clock = opts.now ?? (() => 0);
  }

  /** The lab clock used for timeouts. */
  setClock(now: () => number): void {
    this.clock = now;
  }

  /** How many iptables rules reference a set (the host knows its rules). A referenced set
   *  cannot be destroyed or renamed, and `ipset list` shows the count under References. */
  setRefCounter(fn: (name: string) => number): void {
    this.refCounter = fn;
  }

  now(): number {
    return this.clock();
  }

  // -------------------------------------------------------------------------------------
  // Lookups

  exists(name: string): boolean {
    return this.find(name) !== undefined;
  }

  get(name: string): AnySet | undefined {
    return this.find(name)?.set;
  }

  typeOf(name: string): SetTypeName | undefined {
    return this.find(name)?.set.type;
  }

  /** Set names in the kernel's dump order. */
  names(): string[] {
    return this.dumpOrder().map((s) => s.name);
  }

  private find(name: string): Slot | undefined {
    let m = this.byName;
    if (!m) {
      m = this.byName = new Map();
      for (const s of this.slots) if (s && !m.has(s.name)) m.set(s.name, s);
    }
    return m.get(name);
  }

  private dumpOrder(): Slot[] {
    const live = this.slots.filter((s): s is Slot => s !== null);
    return [...live.filter((s) => s.set.type !== 'list:set'), ...live.filter((s) => s.set.type === 'list:set')];
  }

  /** References: iptables rules (from the host) plus list:set memberships. */
  references(name: string): number {
    let n = this.refCounter(name);
    for (const s of this.slots) {
      if (s && s.set instanceof ListSet) for (const m of s.set.names()) if (m === name) n++;
    }
    return n;
  }

  private gcAll(): void {
    const now = this.clock();
    for (const s of this.slots) if (s) s.set.gc(now);
  }

  // -------------------------------------------------------------------------------------
  // Set management (ip_set_core.c). Errors are thrown as IpsetErrno.

  create(name: string, type: SetTypeName, attrs: CreateAttrs, exist: boolean): void {
    if (attrs.family === 'inet6') {
      // An inet6 set never equals an existing (inet) one; a new one is refused.
      throw new IpsetErrno(this.find(name) ? 'EEXIST' : 'FAMILY');
    }
    const initval = attrs.initval ?? hashInitval(this.seed, this.created);
    const set: AnySet = type === 'list:set' ? new ListSet(attrs) : new HashSet(type as HashTypeName, attrs, initval);
    const clash = this.find(name);
    if (clash) {
      if (exist && sameSet(clash.set, set)) return;
      throw new IpsetErrno('EEXIST');
    }
    if (attrs.initval === undefined && type !== 'list:set') this.created++;
    const free = this.slots.indexOf(null);
    const slot = { name, set };
    if (free >= 0) this.slots[free] = slot;
    else this.slots.push(slot);
    this.byName = null;
    this.counted = null;
    this.changes++;
  }

  /** Destroy one set, or all when `name` is undefined (refused if any is referenced). */
  destroy(name?: string): void {
    this.gcAll();
    this.changes++;
    if (name === undefined) {
      for (const s of this.slots) if (s && this.references(s.name) > 0) throw new IpsetErrno('BUSY');
      this.slots = [];
      this.byName = null;
      this.counted = null;
      return;
    }
    const i = this.slots.findIndex((s) => s !== null && s.name === name);
    if (i < 0) throw new IpsetErrno('ENOENT');
    if (this.references(name) > 0) throw new IpsetErrno('BUSY');
    this.slots[i] = null;
    while (this.slots.length && this.slots[this.slots.length - 1] === null) this.slots.pop();
    this.byName = null;
    this.counted = null;
  }

  flush(name?: string): void {
    this.changes++;
    if (name === undefined) {
      for (const s of this.slots) if (s) s.set.flush();
      return;
    }
    const s = this.find(name);
    if (!s) throw new IpsetErrno('ENOENT');
    s.set.flush();
  }

  rename(from: string, to: string): void {
    this.gcAll();
    const s = this.find(from);
    if (!s) throw new IpsetErrno('ENOENT');
    if (this.references(from) > 0) throw new IpsetErrno('REFERENCED');
    if (this.find(to)) throw new IpsetErrno('EXIST_SETNAME2');
    this.changes++;
    s.name = to;
    this.byName = null;
    this.counted = null;
  }

  /** Swap the contents of two sets of the same type; names and references stay. */
  swap(from: string, to: string): void {
    const a = this.find(from);
    if (!a) throw new IpsetErrno('ENOENT');
    const b = this.find(to);
    if (!b) throw new IpsetErrno('EXIST_SETNAME2');
    if (a.set.type !== b.set.type) throw new IpsetErrno('TYPE_MISMATCH');
    this.changes++;
    [a.set, b.set] = [b.set, a.set];
  }

  // -------------------------------------------------------------------------------------
  // Elements

  /** add / del / test of one (possibly ranged) element. `test` answers whether it is in
   *  the set; like the kernel, any error while testing means "not in the set". */
  adt(name: string, cmd: 'add' | 'del' | 'test', attrs: AdtAttrs, exist: boolean): boolean {
    const s = this.find(name);
    if (!s) throw new IpsetErrno('ENOENT');
    const now = this.clock();
    s.set.gc(now);
    if (cmd !== 'test') this.changes++;
    try {
      if (s.set instanceof ListSet) return s.set.adt(cmd, attrs, exist, now, this.lookup);
      return s.set.adt(cmd, attrs, exist, now);
    } catch (e) {
      if (cmd === 'test' && e instanceof IpsetErrno) return false;
      throw e;
    }
  }

  private lookup = {
    exists: (n: string): boolean => this.exists(n),
    isList: (n: string): boolean => this.typeOf(n) === 'list:set',
  };

  /** `-j SET` (xt_set's kadt): the packet's element added to or deleted from the set; what the
   *  set refuses is ignored, as the kernel ignores it. A list:set tries its members in order,
   *  until one takes it. */
  kadt(name: string, cmd: 'add' | 'del', pkt: Packet, dirs: readonly Dir[], opts: { exist: boolean; timeout?: number }): void {
    const s = this.find(name);
    if (!s) return;
    const now = this.clock();
    if (s.set instanceof ListSet) {
      // (memberNames leaves expired members out; kadtOne collects each member set's garbage)
      for (const member of s.set.memberNames(now)) {
        const m = this.find(member);
        if (m && !(m.set instanceof ListSet) && this.kadtOne(m.set, cmd, pkt, dirs, opts, now)) return;
      }
      return;
    }
    this.kadtOne(s.set, cmd, pkt, dirs, opts, now);
  }

  private kadtOne(set: HashSet, cmd: 'add' | 'del', pkt: Packet, dirs: readonly Dir[], opts: { exist: boolean; timeout?: number }, now: number): boolean {
    set.gc(now);
    const done = set.kadtPacket(cmd, pkt, dirs, opts.exist, opts.timeout, now);
    if (done) this.changes++;
    return done;
  }

  /** `-m set --match-set NAME dirs`: undefined when no such set exists. */
  test(name: string, pkt: Packet, dirs: readonly Dir[], opts: SetTestOptions = {}): boolean | undefined {
    const s = this.find(name);
    if (!s) return undefined;
    return this.testSet(s.set, pkt, dirs, opts, 0);
  }

  /** ip_set_test: the set type's test (the element that matched counts the packet, and must
   *  pass the counter conditions), then --return-nomatch's inversion in a type with nomatch
   *  elements. */
  private testSet(set: AnySet, pkt: Packet, dirs: readonly Dir[], opts: SetTestOptions, depth: number): boolean {
    const now = this.clock();
    const ext: MatchExt = { bytes: pkt.len, update: opts.updateCounters ?? true, pass: opts.counters ?? null };
    if (set instanceof HashSet) {
      let r = set.testPacket(pkt, dirs, now, ext);
      if (opts.returnNomatch && set.kind.nets) r = -r;
      return r > 0;
    }
    if (depth > 0) return false; // a list:set never holds a list:set
    // (list_set_ktest: the members are tested without the counter conditions, and count the
    // packet unless either option says not to)
    const member: SetTestOptions = { updateCounters: ext.update && (opts.updateSubcounters ?? true), returnNomatch: opts.returnNomatch };
    return set.testPacket(now, ext, (name) => {
      const m = this.find(name);
      return m !== undefined && this.testSet(m.set, pkt, dirs, member, depth + 1);
    });
  }

  // -------------------------------------------------------------------------------------
  // Listings

  header(name: string, s: AnySet): HeaderView {
    const now = this.clock();
    const h: HeaderView = {
      name,
      type: s.type,
      revision: REVISION[s.type],
      family: 'inet',
      counters: s.ext.counters,
      comment: s.ext.comment,
      skbinfo: s.ext.skbinfo,
      memsize: s.memsize(),
      references: this.references(name),
      elements: s.count(now),
    };
    if (s.timeout !== undefined) h.timeout = s.timeout;
    if (s instanceof HashSet) {
      h.hashsize = s.hashsize;
      h.maxelem = s.maxelem;
      if (s.netmask !== 32) h.netmask = s.netmask;
      else if (s.bitmask !== 0xffffffff) h.bitmask = s.bitmask;
      h.bucketsize = s.bucketsize;
      h.initval = s.initval;
    } else {
      h.size = s.size;
    }
    return h;
  }

  /** What `ipset list/save` dumps: one set or all, with or without members. */
  dump(name: string | undefined, headersOnly: boolean): SetView[] {
    this.gcAll();
    const now = this.clock();
    let slots: Slot[];
    if (name === undefined) slots = this.dumpOrder();
    else {
      const s = this.find(name);
      if (!s) throw new IpsetErrno('ENOENT');
      slots = [s];
    }
    return slots.map((s) => ({
      header: this.header(s.name, s.set),
      members: headersOnly ? [] : s.set.members(now),
    }));
  }

  // -------------------------------------------------------------------------------------
  // Copies and the lab file

  clone(): IpsetStore {
    const c = IpsetStore.fromJSON(this.toJSON(), { now: this.clock });
    c.refCounter = this.refCounter;
    return c;
  }

  /**
   * A copy for a packet walk's snapshot. Matching a packet changes only the element counters
   * of sets created with `counters` (nothing in a walk adds, deletes or expires elements), so
   * only those sets are copied; the others are shared with this store.
   */
  cloneForWalk(): IpsetStore {
    // Without element counters nothing a walk does changes a set: the store is its own copy.
    if (!(this.counted ??= this.slots.some((s) => s?.set.ext.counters))) return this;
    const c = new IpsetStore({ seed: this.seed, now: this.clock });
    c.created = this.created;
    c.refCounter = this.refCounter;
    c.slots = this.slots.map((s) => (s ? { name: s.name, set: s.set.ext.counters ? s.set.clone() : s.set } : null));
    return c;
  }

  toJSON(): IpsetStoreJSON {
    return {
      version: 1,
      seed: this.seed,
      created: this.created,
      slots: this.slots.map((s) => (s ? { name: s.name, set: s.set.toJSON() } : null)),
    };
  }

  static fromJSON(j: IpsetStoreJSON, opts: IpsetStoreOptions = {}): IpsetStore {
    const st = new IpsetStore({ seed: j.seed, now: opts.now });
    st.created = j.created;
    st.slots = j.slots.map((s) => {
      if (!s) return null;
      const set: AnySet = s.set.type === 'list:set' ? ListSet.fromJSON(s.set) : HashSet.fromJSON(s.set);
      return { name: s.name, set };
    });
    return st;
  }
}

function sameSet(a: AnySet, b: AnySet): boolean {
  if (a instanceof HashSet && b instanceof HashSet) return a.sameSet(b);
  if (a instanceof ListSet && b instanceof ListSet) return a.sameSet(b);
  return false;
}
