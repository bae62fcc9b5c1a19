// The API server's Service allocators: ClusterIPs from the service CIDR and node ports from the
// node-port range. Like the real ones they take a random free slot (from the lab's seeded
// generator, so a lab replays the same addresses); since v1.27 a dynamic allocation prefers the
// upper part of the range so that the lower part stays free for addresses and ports users pin.

import type { Rng } from '../../random.ts';
import { formatIPv4, formatPrefix, networkOf, parseIPv4, type Prefix } from '../../net/ipv4.ts';

export class AllocError extends Error {
  constructor(
    message: string,
    readonly reason: 'allocated' | 'range' | 'full',
  ) {
    super(message);
  }
}

/** A bitmap over `size` slots with the "random start, then scan" strategy of the real allocator. */
class SlotAllocator {
  private used = new Set<number>();
  constructor(
    readonly size: number,
    /** First slot a dynamic allocation prefers (0 = no preference). */
    readonly dynamicOffset: number,
  ) {}

  has(slot: number): boolean {
    return this.used.has(slot);
  }
  take(slot: number): void {
    this.used.add(slot);
  }
  release(slot: number): void {
    this.used.delete(slot);
  }
  count(): number {
    return this.used.size;
  }

  /** A free slot: a random start in the preferred band, scanning up and wrapping; then the rest. */
  next(rng: Rng): number | null {
    if (this.used.size >= this.size) return null;
    const bands: [number, number][] = this.dynamicOffset > 0 && this.dynamicOffset < this.size
      ? [[this.dynamicOffset, this.size], [0, this.dynamicOffset]]
      : [[0, this.size]];
    for (const [lo, hi] of bands) {
      const n = hi - lo;
      const start = Math.floor(rng.next() * n);
      for (let i = 0; i < n; i++) {
        const slot = lo + ((start + i) % n);
        if (!this.used.has(slot)) return slot;
      }
    }
    return null;
  }
}

/** ClusterIPs: slots are the CIDR's addresses minus the network and broadcast addresses. */
export class ClusterIPAllocator {
  private slots: SlotAllocator;
  private base: number;
  constructor(
    readonly cidr: Prefix,
    upperBand: boolean,
  ) {
    this.base = networkOf(cidr) + 1;
    const size = Math.max(0, 2 ** (32 - cidr.len) - 2);
    // min(max(16, size/16), 256) addresses are reserved for static allocation (KEP-3070).
    const offset = upperBand ? Math.min(Math.max(16, Math.floor(size / 16)), 256) : 0;
    this.slots = new SlotAllocator(size, offset);
  }

  get range(): string {
    return formatPrefix({ addr: networkOf(this.cidr), len: this.cidr.len });
  }

  /** The n-th address of the range, from 1 (the kubernetes Service's 10.96.0.1). */
  nth(n: number): string {
    return formatIPv4((networkOf(this.cidr) + n) >>> 0);
  }

  private slotOf(ip: string): number | null {
    const n = parseIPv4(ip);
    if (n === null) return null;
    const slot = n - this.base;
    return slot >= 0 && slot < this.slots.size ? slot : null;
  }

  contains(ip: string): boolean {
    return this.slotOf(ip) !== null;
  }

  isAllocated(ip: string): boolean {
    const s = this.slotOf(ip);
    return s !== null && this.slots.has(s);
  }

  allocate(ip: string): void {
    const slot = this.slotOf(ip);
    if (slot === null) throw new AllocError(`provided IP is not in the valid range. The range of valid IPs is ${this.range}`, 'range');
    if (this.slots.has(slot)) throw new AllocError('provided IP is already allocated', 'allocated');
    this.slots.take(slot);
  }

  allocateNext(rng: Rng): string {
    const slot = this.slots.next(rng);
    if (slot === null) throw new AllocError('range is full', 'full');
    this.slots.take(slot);
    return formatIPv4((this.base + slot) >>> 0);
  }

  release(ip: string): void {
    const slot = this.slotOf(ip);
    if (slot !== null) this.slots.release(slot);
  }
}

/** Node ports (and health-check node ports) from `--service-node-port-range`. */
export class PortAllocator {
  private slots: SlotAllocator;
  constructor(
    readonly min: number,
    readonly max: number,
    upperBand: boolean,
  ) {
    const size = max - min + 1;
    // min(max(16, size/32), 128) ports are reserved for static allocation (KEP-3668).
    const offset = upperBand ? Math.min(Math.max(16, Math.floor(size / 32)), 128) : 0;
    this.slots = new SlotAllocator(size, offset);
  }

  get range(): string {
    return `${this.min}-${this.max}`;
  }

  contains(port: number): boolean {
    return port >= this.min && port <= this.max;
  }

  isAllocated(port: number): boolean {
    return this.contains(port) && this.slots.has(port - this.min);
  }

  allocate(port: number): void {
    if (!this.contains(port)) throw new AllocError(`provided port is not in the valid range. The range of valid ports is ${this.range}`, 'range');
    if (this.slots.has(port - this.min)) throw new AllocError('provided port is already allocated', 'allocated');
    this.slots.take(port - this.min);
  }

  allocateNext(rng: Rng): number {
    const slot = this.slots.next(rng);
    if (slot === null) throw new AllocError('range is full', 'full');
    this.slots.take(slot);
    return this.min + slot;
  }

  release(port: number): void {
    if (this.contains(port)) this.slots.release(port - this.min);
  }
}
