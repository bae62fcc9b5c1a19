// Conntrack's event messages (what `conntrack -E` prints): NEW when a connection is confirmed,
// UPDATE when a packet of a confirmed one changed its protocol state or set SEEN_REPLY or
// ASSURED for the first time (IPCT_PROTOINFO, IPCT_REPLY, IPCT_ASSURED), DESTROY when it goes
// (its timeout, a RST, a reopen, or userspace: `conntrack -D`, `-F`). Userspace makes and
// updates entries too (`conntrack -I`, `-U`): their events name the program as well.
//
// Events go to a sink only while one is set (Lab.console sets it around a console command, so
// replays, rebuilds and what-if experiments make none); a walk that is undone afterwards
// (ctUndo.depth > 0) makes none either.

import type { CtEntry } from './entry.ts';
import { cloneEntry } from './entry.ts';

export type CtEventType = 'NEW' | 'UPDATE' | 'DESTROY';

/** Who deleted an entry from userspace (a DESTROY's `[USERSPACE] portid=N progname=P`). */
export interface CtEventBy {
  portid: number;
  progname: string;
}

export interface CtEvent {
  type: CtEventType;
  /** The entry as the message carried it (a copy: the entry goes on changing). */
  entry: CtEntry;
  /** Lab time of the event (seconds). */
  at: number;
  by?: CtEventBy;
}

export const ctEvents: {
  /** Where events go (the table they happened in, and the event); null: nowhere. */
  sink: ((table: object, ev: CtEvent) => void) | null;
  /** Set while a userspace tool deletes entries. */
  by: CtEventBy | null;
} = { sink: null, by: null };

/** Emits one event when a sink listens (the table decides whether the change is kept). */
export function emitCtEvent(table: object, type: CtEventType, e: CtEntry, at: number): void {
  ctEvents.sink?.(table, { type, entry: cloneEntry(e), at, ...(ctEvents.by ? { by: { ...ctEvents.by } } : {}) });
}

/** A deleting process's netlink port id: the lab has no processes, so a stand-in made from
 *  the lab clock (the kernel's is the process's pid). */
export function standInPortid(now: number): number {
  return 1000 + (Math.floor(now) % 30000);
}

/** Runs `fn` with deletions attributed to a userspace program. */
export function asUserspace<T>(by: CtEventBy, fn: () => T): T {
  const was = ctEvents.by;
  ctEvents.by = by;
  try {
    return fn();
  } finally {
    ctEvents.by = was;
  }
}
