// Console lines that go on running (`conntrack -E`): each is a watch on one host of one lab.
// The lab's commands (any console's, exec's) hand their conntrack events to the watches of
// their lab and host; a console asks for what its watch printed since it last asked, and ends
// it with Ctrl+C (the program's last words: "N flow events have been shown.").

import type { CtEvent } from '../engine/conntrack/events.ts';
import type { FollowedLine } from '../engine/shell/programs.ts';
import type { CommandResult } from '../engine/shell/types.ts';

/** Events a watch keeps for its console between two looks (a netlink socket's buffer). */
const MAX_PENDING = 10_000;
/** A watch no console looked at for this long is ended (its window was closed without Ctrl+C). */
const ABANDONED_MS = 5 * 60_000;

interface Watch {
  ref: string;
  host: string;
  line: FollowedLine;
  pending: CtEvent[];
  /** Events the command printed so far (what its summary counts). */
  shown: number;
  /** Events that did not fit in `pending` before the console looked (ENOBUFS). */
  lost: number;
  /** When a console last looked (clock ms). */
  seen: number;
}

/** How a watch's events become text: the lab's host runs the rest of the line's pipe. */
export type FollowRun = (host: string, line: FollowedLine, events: readonly CtEvent[]) => { stdout: string; stderr: string; shown: number };

export class ConsoleFollows {
  private readonly watches = new Map<number, Watch>();
  private next = 1;

  /** `maxPending`: events a watch keeps between two looks (more are lost, as ENOBUFS says);
   *  `clock`: milliseconds, for ending abandoned watches. */
  constructor(
    private readonly maxPending = MAX_PENDING,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Where a lab's commands send their conntrack events (null: no console follows that lab). */
  sinkFor(ref: string): ((host: string, ev: CtEvent) => void) | null {
    let any = false;
    const now = this.clock();
    for (const [id, w] of this.watches) {
      if (now - w.seen > ABANDONED_MS) this.watches.delete(id);
      else if (w.ref === ref) any = true;
    }
    if (!any) return null;
    return (host, ev) => {
      for (const w of this.watches.values()) {
        if (w.ref !== ref || w.host !== host) continue;
        if (w.pending.length >= this.maxPending) w.lost++;
        else w.pending.push(ev);
      }
    };
  }

  /** A console line that runs on; returns its watch's id. */
  start(ref: string, host: string, line: FollowedLine): number {
    const id = this.next++;
    this.watches.set(id, { ref, host, line, pending: [], shown: 0, lost: 0, seen: this.clock() });
    return id;
  }

  /** What the watch printed since the last look; `running` false: no such watch (ended). */
  take(ref: string, id: number, run: FollowRun): { stdout: string; stderr: string; running: boolean } {
    const w = this.watches.get(id);
    if (!w || w.ref !== ref) return { stdout: '', stderr: '', running: false };
    w.seen = this.clock();
    const events = w.pending;
    w.pending = [];
    let stderr = '';
    if (w.lost) {
      // conntrack -E's words when the kernel dropped messages its socket had no room for
      stderr = 'WARNING: We have hit ENOBUFS! We are losing events.\nThis message means that the current netlink socket buffer size is too small.\nPlease, check --buffer-size in conntrack(8) manpage.\n';
      w.lost = 0;
    }
    if (!events.length) return { stdout: '', stderr, running: true };
    const r = run(w.host, w.line, events);
    w.shown += r.shown;
    return { stdout: r.stdout, stderr: stderr + r.stderr, running: true };
  }

  /** Ctrl+C: what is left to print, then the program's last words; the watch ends. */
  interrupt(ref: string, id: number, run: FollowRun): CommandResult {
    const w = this.watches.get(id);
    if (!w || w.ref !== ref) return { stdout: '', stderr: '', code: 0, changed: false };
    const last = this.take(ref, id, run);
    this.watches.delete(id);
    const end = w.line.follow.interrupted(w.shown);
    return { stdout: last.stdout + end.stdout, stderr: last.stderr + end.stderr, code: end.code, changed: false };
  }

  /** Ends every watch on a lab (deleted, renamed, closed). */
  forget(ref: string): void {
    for (const [id, w] of this.watches) if (w.ref === ref) this.watches.delete(id);
  }
}
