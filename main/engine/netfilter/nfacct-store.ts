// The extended accounting objects of one host (nfnetlink_acct): named packet and byte counters
// that `-m nfacct --nfacct-name NAME` rules add to as they are evaluated (kube-proxy counts
// localhost NodePort packets and INVALID drops in two of them). Made and read with the
// `nfacct` tool; one a rule refers to cannot be deleted.

export interface NfacctObject {
  pkts: number;
  bytes: number;
}

/** name → [packets, bytes], in the order the objects were made. */
export type NfacctJson = [string, number, number][];

/** The kernel's NFACCT_NAME_MAX (32, with the terminating NUL). */
export const NFACCT_NAME_MAX = 31;

export class NfacctStore {
  private readonly objects = new Map<string, NfacctObject>();

  has(name: string): boolean {
    return this.objects.has(name);
  }

  get(name: string): NfacctObject | undefined {
    return this.objects.get(name);
  }

  /** false: one of that name exists (EBUSY). */
  add(name: string): boolean {
    if (this.objects.has(name)) return false;
    this.objects.set(name, { pkts: 0, bytes: 0 });
    return true;
  }

  delete(name: string): void {
    this.objects.delete(name);
  }

  names(): string[] {
    return [...this.objects.keys()];
  }

  /** Counters only (the objects come from the commands that made them). */
  toJSON(): NfacctJson {
    const out: NfacctJson = [];
    for (const [name, o] of this.objects) if (o.pkts || o.bytes) out.push([name, o.pkts, o.bytes]);
    return out;
  }

  /** Counters as `toJSON` gave them: objects named there that no longer exist are skipped. */
  loadCounters(j: NfacctJson): void {
    for (const o of this.objects.values()) o.pkts = o.bytes = 0;
    for (const [name, pkts, bytes] of j) {
      const o = this.objects.get(name);
      if (o) {
        o.pkts = pkts;
        o.bytes = bytes;
      }
    }
  }
}
