// The console's contract: a command gets its argv and stdin, and answers with what the real
// tool prints and its exit status. `changed` tells the service to record the command in the
// lab's journal (only commands that changed state are replayed on load).

import type { CtEvent } from '../conntrack/events.ts';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
  changed: boolean;
  /** The command goes on running (an interactive console follows it until Ctrl+C). */
  follow?: Follow;
}

/** A command that prints what happens after it started (`conntrack -E`): events on its host
 *  until it is interrupted. */
export interface Follow {
  /** The line an event on the host prints (null: its filters leave the event out). */
  event(ev: CtEvent): string | null;
  /** What it prints and returns when interrupted (Ctrl+C) after `shown` events. */
  interrupted(shown: number): CommandResult;
}

export function ok(stdout = '', changed = false): CommandResult {
  return { stdout, stderr: '', code: 0, changed };
}

export function fail(stderr: string, code = 1, stdout = ''): CommandResult {
  return { stdout, stderr: stderr.endsWith('\n') || stderr === '' ? stderr : stderr + '\n', code, changed: false };
}
