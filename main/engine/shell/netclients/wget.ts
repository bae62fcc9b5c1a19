// BusyBox `wget` (the one in busybox, Alpine and most slim debug images; GNU wget's retries
// and dated log lines are not modelled). `wget -qO- URL` prints the body; without -q it
// reports `Connecting to HOST (IP:PORT)` and a progress line on stderr. Failures are one
// `wget: ...` line and exit status 1. Checked against Debian's busybox 1.35 in
// test/kernel/netclients-format.test.ts.

import { fail, type CommandResult } from '../types.ts';
import { ERRNO_TEXT, outcomeErrno, resolveHost, type ConnectOutcome, type HostsEntry, type NameResolution, type NetEnv } from './common.ts';
import type { HttpResponse } from './curl.ts';

export const BUSYBOX_BANNER = 'BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.';

const USAGE = `${BUSYBOX_BANNER}

Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]
\t[--post-data STR | --post-file FILE] [-Y on/off]
\t[--no-check-certificate] [-P DIR] [-U AGENT] URL...

Retrieve files via HTTP or FTP

\t--spider\tOnly check URL existence: $? is 0 if exists
\t--header STR\tAdd STR (of form 'header: value') to headers
\t--post-data STR\tSend STR using POST method
\t--post-file FILE\tSend FILE using POST method
\t--no-check-certificate\tDon't validate the server's certificate
\t-c\t\tContinue retrieval of aborted transfer
\t-q\t\tQuiet
\t-P DIR\t\tSave to DIR (default .)
\t-S    \t\tShow server response
\t-O FILE\t\tSave to FILE ('-' for stdout)
\t-o LOGFILE\tLog messages to FILE
\t-U STR\t\tUse STR for User-Agent header
\t-Y on/off\tUse proxy`;

export interface WgetRequest {
  url: string;
  host: string;
  port: number;
  path: string;
  quiet: boolean;
  /** `-` for stdout; absent means the last path component (index.html). */
  output?: string;
  spider: boolean;
  showResponse: boolean;
  /** -T SEC (Alpine's busybox). */
  timeoutSec?: number;
  headers: [string, string][];
}

export function parseWget(argv: string[]): WgetRequest | CommandResult {
  const req: WgetRequest = { url: '', host: '', port: 80, path: '/', quiet: false, spider: false, showResponse: false, headers: [] };
  const args = argv.slice(1);
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--spider') req.spider = true;
    else if (a === '--header') {
      const v = args[++i] ?? '';
      const c = v.indexOf(':');
      if (c > 0) req.headers.push([v.slice(0, c).trim(), v.slice(c + 1).trim()]);
    } else if (a === '--no-check-certificate') continue;
    else if (/^-[cqSOTUPoY]+/.test(a) && !a.startsWith('--')) {
      const letters = a.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const c = letters[k];
        if (c === 'q') req.quiet = true;
        else if (c === 'S') req.showResponse = true;
        else if (c === 'c') continue;
        else {
          const v = k + 1 < letters.length ? letters.slice(k + 1) : args[++i];
          if (v === undefined) return fail(`wget: option requires an argument -- '${c}'\n${USAGE}`, 1);
          if (c === 'O') req.output = v;
          else if (c === 'T') req.timeoutSec = Number(v);
          else if (c === 'U') req.headers.push(['User-Agent', v]);
          break;
        }
      }
    } else if (a.startsWith('-')) return fail(`wget: unrecognized option '${a}'\n${USAGE}`, 1);
    else url ??= a;
  }
  if (!url) return fail(USAGE, 1);
  const m = /^(?:([a-zA-Z]+):\/\/)?([^/:]*)(?::(\d+))?(.*)$/.exec(url);
  req.url = url;
  req.host = m?.[2] ?? '';
  req.port = m?.[3] ? Number(m[3]) : 80;
  req.path = m?.[4] || '/';
  return req;
}

export interface WgetResult {
  resolution: NameResolution;
  /** The connect to the first address (busybox tries only that one). */
  outcome?: ConnectOutcome;
  response?: HttpResponse;
}

// progress.c, for a finished transfer on a non-interactive stderr.
function progressLine(name: string, size: number): string {
  const shown = size < 100000 ? String(size).padStart(6) : `${String(Math.floor(size / 1024)).padStart(5)}k`;
  return `${name.padEnd(20).slice(0, 20)} 100% |${'*'.repeat(32)}|${shown}  0:00:00 ETA\n`;
}

export function formatWget(req: WgetRequest, res: WgetResult): CommandResult {
  let stderr = '';
  let stdout = '';
  const failWith = (msg: string): CommandResult => ({ stdout, stderr: stderr + `wget: ${msg}\n`, code: 1, changed: false });
  if (!res.resolution.ok) return failWith(`bad address '${req.host}'`);
  const ip = res.resolution.addresses[0];
  if (!req.quiet) stderr += `Connecting to ${req.host}${req.port === 80 ? '' : `:${req.port}`} (${ip}:${req.port})\n`;
  const o = res.outcome;
  if (!o || o.kind !== 'connected') {
    if (o?.kind === 'timeout' && req.timeoutSec !== undefined && o.elapsedMs > req.timeoutSec * 1000) return failWith('download timed out');
    return failWith(`can't connect to remote host (${ip}): ${ERRNO_TEXT[(o && outcomeErrno(o)) ?? 'ECONNREFUSED']}`);
  }
  const r = res.response;
  if (!r) return failWith('error getting response: Connection reset by peer');
  if (req.showResponse) {
    stderr += `  ${r.version ?? 'HTTP/1.1'} ${r.status} ${r.reason}\n` + r.headers.map(([k, v]) => `  ${k}: ${v}\n`).join('');
  }
  if (r.status >= 400 || r.status < 200) return failWith(`server returned error: ${r.version ?? 'HTTP/1.1'} ${r.status} ${r.reason}`);
  if (req.spider) {
    if (!req.quiet) stderr += 'remote file exists\n';
    return { stdout, stderr, code: 0, changed: false };
  }
  const file = req.output ?? (req.path.replace(/[?#].*$/, '').split('/').pop() || 'index.html');
  if (file === '-') {
    stdout += r.body;
    if (!req.quiet) stderr += 'writing to stdout\n' + progressLine('-', r.body.length) + 'written to stdout\n';
  } else if (!req.quiet) stderr += `saving to '${file}'\n` + progressLine(file, r.body.length) + `'${file}' saved\n`;
  return { stdout, stderr, code: 0, changed: false };
}

export interface WgetEnv extends NetEnv {
  hosts?: HostsEntry[];
  connect: (ip: string, port: number, budgetMs: number) => ConnectOutcome;
  http: (ip: string, req: WgetRequest) => HttpResponse | undefined;
}

export function wget(argv: string[], _stdin: string, env: WgetEnv): CommandResult {
  const req = parseWget(argv);
  if ('code' in req) return req;
  const resolution = resolveHost(req.host, env, { hosts: env.hosts });
  const res: WgetResult = { resolution };
  if (resolution.ok) {
    res.outcome = env.connect(resolution.addresses[0], req.port, (req.timeoutSec ?? 900) * 1000);
    if (res.outcome.kind === 'connected') res.response = env.http(resolution.addresses[0], req);
  }
  return formatWget(req, res);
}
