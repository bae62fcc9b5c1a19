// The console's contract: a command gets its argv and stdin, and answers with what the real
// tool prints and its exit status. `changed` tells the service to record the command in the
// lab's journal (only commands that changed state are replayed on load).

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
  changed: boolean;
}

export function ok(stdout = '', changed = false): CommandResult {
  return { stdout, stderr: '', code: 0, changed };
}

export function fail(stderr: string, code = 1, stdout = ''): CommandResult {
  return { stdout, stderr: stderr.endsWith('\n') || stderr === '' ? stderr : stderr + '\n', code, changed: false };
}
