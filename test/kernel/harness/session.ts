// A long-lived node script inside a namespace that the test talks to line by line: commands
// written to its stdin, what it prints collected as lines. For a peer that must hold a socket
// open across several steps (a client connection that sends data later, a server that keeps its
// accepted connections), which the one-shot probes of probe.ts cannot do. The script is killed
// by its PID on stop(), and by the exit hooks of netns.ts if the test never gets that far; it
// should also exit by itself when its stdin closes.
import { spawn } from 'node:child_process';
import process from 'node:process';
import { killPid, trackPid, untrackPid, waitFor } from './netns.ts';

export interface Session {
  /** Everything printed so far, one entry a line. */
  readonly lines: readonly string[];
  /** Write one command line to the script's stdin. */
  send(line: string): void;
  /** The first line from index `from` on matching `re`, waited for at most `timeoutMs`; throws
   *  (with what was printed) when none comes. */
  waitLine(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  stop(): void;
}

/** Start `script` (an ES module's text) with `args` in namespace `ns`. */
export function startSession(ns: string, script: string, args: string[]): Session {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  // A plain node: the test runner's loaders only slow the start.
  delete env.NODE_OPTIONS;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  const pid = child.pid;
  if (pid !== undefined) trackPid(pid);
  const lines: string[] = [];
  let buf = '';
  let err = '';
  let exited = false;
  child.on('close', () => (exited = true));
  child.on('error', (e) => (err += String(e.message)));
  child.stdin.on('error', () => undefined);
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  return {
    lines,
    send(line) {
      if (!exited) child.stdin.write(`${line}\n`);
    },
    async waitLine(re, timeoutMs = 5000, from = 0) {
      let found: string | undefined;
      await waitFor(() => (found = lines.slice(from).find((l) => re.test(l))) !== undefined || exited, timeoutMs, 10);
      found ??= lines.slice(from).find((l) => re.test(l));
      if (found === undefined) {
        throw new Error(`script in ${ns}: no line like ${re} within ${timeoutMs} ms${exited ? ' (it exited)' : ''}; printed:\n${lines.join('\n')}\n${err}`);
      }
      return found;
    },
    stop() {
      child.stdin.end();
      if (pid !== undefined) {
        killPid(pid, 'SIGKILL');
        untrackPid(pid);
      }
    },
  };
}
