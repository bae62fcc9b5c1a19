// Calico-style IPAM: the pod pool is cut into /26 blocks; a node claims a block (chosen at
// random among the free ones, as Calico's block generator does, from the lab's seeded
// generator) when it needs addresses, and gives addresses out of its blocks in order. The
// first address of a node's first block goes to its tunl0 (IPIP mode). Pinned addresses
// (`lab.kpl.dev/ip`) may lie anywhere in the pool, also in another node's block: they are
// "borrowed", and routes follow them as /32s.

import { formatIPv4, parseIPv4, parsePrefix, type IPv4 } from '../net/ipv4.ts';

export const BLOCK_BITS = 26;
const BLOCK_SIZE = 1 << (32 - BLOCK_BITS);

export class IpamError extends Error {}

interface Block {
  base: IPv4;
  node: string;
}

export class Ipam {
  private readonly pool: { addr: IPv4; len: number };
  private readonly blocks = new Map<IPv4, Block>();
  /** Address → owner ("pod:NS/NAME", "tunnel:NODE"). */
  private readonly used = new Map<IPv4, string>();

  constructor(poolCidr: string, private readonly random: () => number) {
    const p = parsePrefix(poolCidr);
    if (!p) throw new IpamError(`bad pool ${poolCidr}`);
    this.pool = p;
  }

  inPool(ip: IPv4): boolean {
    const mask = this.pool.len === 0 ? 0 : (~0 << (32 - this.pool.len)) >>> 0;
    return ((ip & mask) >>> 0) === this.pool.addr;
  }

  /** The blocks a node holds, as A.B.C.D/26. */
  blocksOf(node: string): string[] {
    return [...this.blocks.values()].filter((b) => b.node === node).map((b) => `${formatIPv4(b.base)}/${BLOCK_BITS}`);
  }

  /** Which node's block holds an address. */
  blockOwner(ip: IPv4): string | undefined {
    return this.blocks.get(((ip & ~(BLOCK_SIZE - 1)) >>> 0))?.node;
  }

  owner(ip: IPv4): string | undefined {
    return this.used.get(ip);
  }

  /** Claims a specific address for `owner` (a pinned pod IP) on `node`; an unclaimed block
   *  holding it becomes the node's, as Calico's AssignIP does for its host. */
  reserve(ipText: string, owner: string, node: string): IPv4 {
    const ip = parseIPv4(ipText);
    if (ip === null) throw new IpamError(`"${ipText}" is not an IPv4 address`);
    const holder = this.used.get(ip);
    if (holder !== undefined && holder !== owner) throw new IpamError(`address ${ipText} is already in use by ${describe(holder)}`);
    const base = (ip & ~(BLOCK_SIZE - 1)) >>> 0;
    if (!this.blocks.has(base)) this.blocks.set(base, { base, node });
    this.used.set(ip, owner);
    return ip;
  }

  /** The next free address in one of the node's blocks (claiming a new block when full). */
  allocate(node: string, owner: string, fromCidr?: string): IPv4 {
    for (const b of this.blocks.values()) {
      if (b.node !== node) continue;
      const ip = this.freeIn(b.base);
      if (ip !== null) return this.take(ip, owner);
    }
    const base = this.claimBlock(node, fromCidr);
    const ip = this.freeIn(base);
    if (ip === null) throw new IpamError('no free address');
    return this.take(ip, owner);
  }

  /** The address an owner holds, if any. */
  addressOf(owner: string): IPv4 | undefined {
    for (const [ip, o] of this.used) if (o === owner) return ip;
    return undefined;
  }

  release(ip: IPv4): void {
    this.used.delete(ip);
  }

  /** Drops a node's blocks (its addresses must have been released). */
  releaseNode(node: string): void {
    for (const [k, b] of this.blocks) if (b.node === node) this.blocks.delete(k);
    for (const [ip, owner] of this.used) if (owner === `tunnel:${node}`) this.used.delete(ip);
  }

  private take(ip: IPv4, owner: string): IPv4 {
    this.used.set(ip, owner);
    return ip;
  }

  private freeIn(base: IPv4): IPv4 | null {
    for (let i = 0; i < BLOCK_SIZE; i++) {
      const ip = (base + i) >>> 0;
      if (!this.used.has(ip)) return ip;
    }
    return null;
  }

  private claimBlock(node: string, fromCidr?: string): IPv4 {
    // A node's spec.podCIDR, when given, is where its blocks come from first.
    const range = (fromCidr && parsePrefix(fromCidr)) || this.pool;
    const len = Math.min(range.len, BLOCK_BITS);
    const count = 2 ** (BLOCK_BITS - len);
    const start = Math.floor(this.random() * count);
    for (let i = 0; i < count; i++) {
      const base = (range.addr + ((start + i) % count) * BLOCK_SIZE) >>> 0;
      if (this.blocks.has(base)) continue;
      this.blocks.set(base, { base, node });
      return base;
    }
    if (range !== this.pool) return this.claimBlock(node);
    throw new IpamError(`the IP pool ${formatIPv4(this.pool.addr)}/${this.pool.len} has no free block left`);
  }

}

function describe(owner: string): string {
  if (owner.startsWith('pod:')) return `pod ${owner.slice(4)}`;
  if (owner.startsWith('tunnel:')) return `the tunnel of node ${owner.slice(7)}`;
  return owner;
}
