// list:set: an ordered list of other sets (net/netfilter/ipset/ip_set_list_set.c). A packet
// matches when one member set matches, tried in list order. Members are kept by name; the
// store resolves names and counts the references a membership holds.

import type { AdtAttrs, CreateAttrs, ElemExt, ExtFlags, MatchExt, MemberView } from './types.ts';
import { IpsetErrno, clampTimeout, commentSize, elemLen, expired, remaining } from './types.ts';

const LIST_MIN_SIZE = 4;
const LIST_DEFAULT_SIZE = 8;
const LIST_HEAD_SIZE = 80; // struct list_set
const SET_ELEM_SIZE = 48; // struct set_elem

interface ListEntry extends ElemExt {
  name: string;
}

/** What list:set needs to know about the set a member name refers to. */
export interface SetLookup {
  exists(name: string): boolean;
  isList(name: string): boolean;
}

export interface ListSetJSON {
  type: 'list:set';
  size: number;
  timeout: number | null;
  ext: ExtFlags;
  commentExt: number;
  members: [string, number, string, string, string | null, number, number, number, number][];
}

export class ListSet {
  readonly type = 'list:set' as const;
  readonly size: number;
  readonly timeout: number | undefined;
  readonly ext: ExtFlags;
  readonly dsize: number;
  private list: ListEntry[] = [];
  private commentExt = 0;

  constructor(attrs: CreateAttrs) {
    let size = attrs.size ?? LIST_DEFAULT_SIZE;
    if (size < LIST_MIN_SIZE) size = LIST_MIN_SIZE;
    this.size = size;
    this.timeout = attrs.timeout === undefined ? undefined : clampTimeout(attrs.timeout);
    this.ext = {
      timeout: attrs.timeout !== undefined,
      counters: !!attrs.counters,
      comment: !!attrs.comment,
      skbinfo: !!attrs.skbinfo,
    };
    this.dsize = elemLen(SET_ELEM_SIZE, 8, this.ext);
  }

  sameSet(o: ListSet): boolean {
    return (
      this.size === o.size &&
      this.timeout === o.timeout &&
      this.ext.counters === o.ext.counters &&
      this.ext.comment === o.ext.comment &&
      this.ext.skbinfo === o.ext.skbinfo
    );
  }

  memsize(): number {
    return LIST_HEAD_SIZE + this.list.length * this.dsize + this.commentExt;
  }

  count(now: number): number {
    return this.list.filter((e) => !this.isExpired(e, now)).length;
  }

  /** Member set names, in list order (expired ones included until the next gc). */
  names(): string[] {
    return this.list.map((e) => e.name);
  }

  members(now: number): MemberView[] {
    const out: MemberView[] = [];
    for (const e of this.list) {
      if (this.isExpired(e, now)) continue;
      const m: MemberView = { name: e.name };
      if (this.ext.timeout) m.timeout = remaining(e.expires, now);
      if (this.ext.counters) {
        m.packets = e.packets;
        m.bytes = e.bytes;
      }
      if (this.ext.comment && e.comment) m.comment = e.comment;
      if (this.ext.skbinfo) {
        if (e.skbmark || e.skbmarkmask) {
          m.skbmark = e.skbmark;
          m.skbmarkmask = e.skbmarkmask;
        }
        if (e.skbprio) m.skbprio = e.skbprio;
        if (e.skbqueue) m.skbqueue = e.skbqueue;
      }
      out.push(m);
    }
    return out;
  }

  private isExpired(e: ListEntry, now: number): boolean {
    return this.ext.timeout && expired(e.expires, now);
  }

  /** set_cleanup_entries: drop expired members (their references go with them). */
  gc(now: number): void {
    if (!this.ext.timeout) return;
    this.list = this.list.filter((e) => {
      if (!expired(e.expires, now)) return true;
      this.destroyExt(e);
      return false;
    });
  }

  flush(): void {
    this.list = [];
    this.commentExt = 0;
  }

  /** list_set_uadt + uadd/udel/utest. */
  adt(cmd: 'add' | 'del' | 'test', a: AdtAttrs, exist: boolean, now: number, sets: SetLookup): boolean {
    if (a.timeout !== undefined && !this.ext.timeout) throw new IpsetErrno('TIMEOUT');
    if ((a.packets !== undefined || a.bytes !== undefined) && !this.ext.counters) throw new IpsetErrno('COUNTER');
    if (a.comment !== undefined && !this.ext.comment) throw new IpsetErrno('COMMENT');
    if ((a.skbmark !== undefined || a.skbprio !== undefined || a.skbqueue !== undefined) && !this.ext.skbinfo) {
      throw new IpsetErrno('SKBINFO');
    }
    const name = a.name ?? '';
    if (!sets.exists(name)) throw new IpsetErrno('NAME');
    if (sets.isList(name)) throw new IpsetErrno('LOOP');
    let before = 0; // >0: before, <0: after
    if (a.nameref !== undefined) {
      if (!sets.exists(a.nameref)) throw new IpsetErrno('NAMEREF');
      before = a.before ? 1 : -1;
    }
    if (cmd !== 'test') this.gc(now);
    const live = this.list.filter((e) => !this.isExpired(e, now));
    if (cmd === 'test') {
      const i = live.findIndex((e) => e.name === name);
      if (i < 0) return false;
      if (before === 0) return true;
      if (before > 0) return i + 1 < live.length && live[i + 1].name === a.nameref;
      return i > 0 && live[i - 1].name === a.nameref;
    }
    if (cmd === 'del') {
      const i = live.findIndex((e) => e.name === name);
      const ok =
        i >= 0 &&
        (before === 0 ||
          (before > 0 && i + 1 < live.length && live[i + 1].name === a.nameref) ||
          (before < 0 && i > 0 && live[i - 1].name === a.nameref));
      if (!ok) {
        if (before !== 0) throw new IpsetErrno('REF_EXIST');
        if (exist) return true;
        throw new IpsetErrno('EXIST');
      }
      const e = live[i];
      this.destroyExt(e);
      this.list.splice(this.list.indexOf(e), 1);
      return true;
    }
    // add
    let found: ListEntry | undefined;
    let ref: ListEntry | undefined;
    for (const e of live) {
      if (e.name === name) found = e;
      else if (before !== 0 && e.name === a.nameref) ref = e;
    }
    if (before !== 0 && !ref) throw new IpsetErrno('REF_EXIST');
    if (found) {
      if (!exist) throw new IpsetErrno('EXIST');
      this.destroyExt(found);
      this.initExt(found, a, now);
      return true;
    }
    const e: ListEntry = {
      name,
      expires: 0,
      packets: 0n,
      bytes: 0n,
      skbmark: 0,
      skbmarkmask: 0,
      skbprio: 0,
      skbqueue: 0,
    };
    this.initExt(e, a, now);
    if (!ref) this.list.push(e);
    else {
      const at = this.list.indexOf(ref);
      this.list.splice(before > 0 ? at : at + 1, 0, e);
    }
    return true;
  }

  private initExt(e: ListEntry, a: AdtAttrs, now: number): void {
    if (this.ext.timeout) {
      const t = a.timeout !== undefined ? clampTimeout(a.timeout) : (this.timeout ?? 0);
      e.expires = t === 0 ? 0 : now + t;
    }
    if (this.ext.counters) {
      if (a.bytes !== undefined) e.bytes = a.bytes;
      if (a.packets !== undefined) e.packets = a.packets;
    }
    if (this.ext.comment && a.comment) {
      e.comment = a.comment;
      this.commentExt += commentSize(a.comment);
    }
    if (this.ext.skbinfo) {
      e.skbmark = a.skbmark ?? 0;
      e.skbmarkmask = a.skbmarkmask ?? 0;
      e.skbprio = a.skbprio ?? 0;
      e.skbqueue = a.skbqueue ?? 0;
    }
  }

  private destroyExt(e: ListEntry): void {
    if (e.comment !== undefined) {
      this.commentExt -= commentSize(e.comment);
      e.comment = undefined;
    }
  }

  /** The member sets' names in order, leaving out expired ones. */
  memberNames(now: number): string[] {
    return this.list.filter((e) => !this.isExpired(e, now)).map((e) => e.name);
  }

  /** list_set_ktest: the first member set that matches decides. */
  testPacket(now: number, ext: MatchExt, testMember: (name: string) => boolean): boolean {
    for (const e of this.list) {
      if (this.isExpired(e, now)) continue;
      if (!testMember(e.name)) continue;
      if (this.ext.counters) {
        if (ext.update) {
          e.packets += 1n;
          e.bytes += BigInt(ext.bytes);
        }
        if (ext.pass && !ext.pass(e.packets, e.bytes)) continue;
      }
      return true;
    }
    return false;
  }

  toJSON(): ListSetJSON {
    return {
      type: 'list:set',
      size: this.size,
      timeout: this.timeout ?? null,
      ext: { ...this.ext },
      commentExt: this.commentExt,
      members: this.list.map((e) => [
        e.name, e.expires, e.packets.toString(), e.bytes.toString(), e.comment ?? null,
        e.skbmark, e.skbmarkmask, e.skbprio, e.skbqueue,
      ]),
    };
  }

  static fromJSON(j: ListSetJSON): ListSet {
    const attrs: CreateAttrs = { size: j.size, counters: j.ext.counters, comment: j.ext.comment, skbinfo: j.ext.skbinfo };
    if (j.timeout !== null) attrs.timeout = j.timeout;
    const s = new ListSet(attrs);
    s.commentExt = j.commentExt;
    s.list = j.members.map(([name, expires, packets, bytes, comment, skbmark, skbmarkmask, skbprio, skbqueue]) => ({
      name,
      expires,
      packets: BigInt(packets),
      bytes: BigInt(bytes),
      comment: comment ?? undefined,
      skbmark,
      skbmarkmask,
      skbprio,
      skbqueue,
    }));
    return s;
  }

  clone(): ListSet {
    return ListSet.fromJSON(this.toJSON());
  }
}
