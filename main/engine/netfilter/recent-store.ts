// The `-m recent` lists of one host (xt_recent): per list name, per address, the last
// timestamps seen (at most 20 each, as the module's ip_pkt_list_tot default) and the TTL.
// Lists hold at most 100 addresses (ip_list_tot); the oldest address is evicted first.

import type { IPv4 } from '../net/ipv4.ts';
import type { RecentTables } from './types.ts';

const MAX_STAMPS = 20;
const MAX_ENTRIES = 100;

interface Entry {
  stamps: number[];
  ttl: number;
}

export interface RecentJson {
  [list: string]: [IPv4, number[], number][];
}

export class RecentStore implements RecentTables {
  private lists = new Map<string, Map<IPv4, Entry>>();

  get(name: string, addr: IPv4): { stamps: number[]; ttl: number } | undefined {
    return this.lists.get(name)?.get(addr >>> 0);
  }

  set(name: string, addr: IPv4, stamp: number, ttl: number): void {
    let list = this.lists.get(name);
    if (!list) this.lists.set(name, (list = new Map()));
    const key = addr >>> 0;
    let e = list.get(key);
    if (!e) {
      if (list.size >= MAX_ENTRIES) list.delete(list.keys().next().value as IPv4);
      e = { stamps: [], ttl };
      list.set(key, e);
    } else {
      list.delete(key); // keep insertion order = least recently updated first
      list.set(key, e);
    }
    e.stamps.push(stamp);
    if (e.stamps.length > MAX_STAMPS) e.stamps.shift();
    e.ttl = ttl;
  }

  /** The least recently updated address of a list (what `--reap` looks at first). */
  oldest(name: string): IPv4 | undefined {
    const list = this.lists.get(name);
    return list && list.size ? (list.keys().next().value as IPv4) : undefined;
  }

  remove(name: string, addr: IPv4): void {
    this.lists.get(name)?.delete(addr >>> 0);
  }

  clone(): RecentStore {
    const c = new RecentStore();
    c.load(this.toJSON());
    return c;
  }

  toJSON(): RecentJson {
    const out: RecentJson = {};
    for (const [name, list] of this.lists) out[name] = [...list].map(([a, e]) => [a, [...e.stamps], e.ttl]);
    return out;
  }

  load(j: RecentJson): void {
    this.lists = new Map();
    for (const [name, entries] of Object.entries(j)) {
      const list = new Map<IPv4, Entry>();
      for (const [a, stamps, ttl] of entries) list.set(a >>> 0, { stamps: [...stamps], ttl });
      this.lists.set(name, list);
    }
  }
}
