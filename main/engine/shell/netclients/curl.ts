// `curl URL` as a pod's shell runs it. Two releases, since the connect-failure lines changed:
//
//   curl-7.64  (Debian 10; the article's pods): `curl: (7) Failed to connect to db port 80:
//              Connection timed out` — the errno text, exit 7 even for a kernel timeout (before
//              curl 7.67 an ETIMEDOUT connect was CURLE_COULDNT_CONNECT).
//   curl-7.88  (Debian 12, checked against the real tool): `curl: (28) Failed to connect to db
//              port 80 after 129302 ms: Couldn't connect to server` — the time spent, and
//              libcurl's own error text (curl 7.86 dropped the errno text).
//
// The lab executes the request (resolve, connect, one HTTP exchange) and hands the results
// back; this file turns them into curl's stdout, stderr and exit status.

import { fail, type CommandResult } from '../types.ts';
import { ERRNO_TEXT, outcomeErrno, resolveHost, type ConnectOutcome, type NameResolution, type NetEnv, type HostsEntry } from './common.ts';

export type CurlProfile = 'curl-7.64' | 'curl-7.88';

export interface CurlRequest {
  url: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  method: string;
  headers: [string, string][];
  data?: string;
  /** -m / --max-time, seconds. */
  timeoutSec?: number;
  /** --connect-timeout, seconds. */
  connectTimeoutSec?: number;
  silent: boolean;
  showError: boolean;
  fail: boolean;
  include: boolean;
  head: boolean;
  verbose: boolean;
  output?: string;
  writeOut?: string;
}

const TRY = "curl: try 'curl --help' or 'curl --manual' for more information";

function usage(msg: string): CommandResult {
  return fail(`curl: ${msg}\n${TRY}`, 2);
}

const FLAGS: Record<string, keyof CurlRequest> = {
  '-s': 'silent',
  '--silent': 'silent',
  '-S': 'showError',
  '--show-error': 'showError',
  '-f': 'fail',
  '--fail': 'fail',
  '-i': 'include',
  '--include': 'include',
  '-I': 'head',
  '--head': 'head',
  '-v': 'verbose',
  '--verbose': 'verbose',
};
const IGNORED_FLAGS = new Set(['-L', '--location', '-k', '--insecure', '-4', '--ipv4', '-N', '--no-buffer', '--compressed', '-#', '--progress-bar', '-g', '--globoff', '--http1.1']);
const WITH_ARG = new Set(['-m', '--max-time', '--connect-timeout', '-o', '--output', '-w', '--write-out', '-H', '--header', '-X', '--request', '-d', '--data', '--data-raw', '-A', '--user-agent', '--resolve', '-u', '--user', '-e', '--referer']);

/** The request curl would make, or curl's complaint about the command line (exit 2, or 1/3 for bad URLs). */
export function parseCurl(argv: string[]): CurlRequest | CommandResult {
  const req: CurlRequest = { url: '', scheme: 'http', host: '', port: 80, path: '/', method: 'GET', headers: [], silent: false, showError: false, fail: false, include: false, head: false, verbose: false };
  let url: string | undefined;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (a === '--') {
      url ??= args[i + 1];
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      url ??= a;
      continue;
    }
    // Bundled short flags: -sS, -sSf, -sSo /dev/null ...
    if (/^-[a-zA-Z#]{2,}$/.test(a)) {
      const expanded: string[] = [];
      const letters = a.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const f = '-' + letters[k];
        expanded.push(f);
        if (WITH_ARG.has(f)) {
          if (k + 1 < letters.length) expanded.push(letters.slice(k + 1));
          break;
        }
      }
      args.splice(i + 1, 0, ...expanded);
      continue;
    }
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a in FLAGS) {
      (req as unknown as Record<string, boolean>)[FLAGS[a]] = true;
      continue;
    }
    if (IGNORED_FLAGS.has(a)) continue;
    if (!WITH_ARG.has(a)) return usage(`option ${a}: is unknown`);
    const v = inline ?? args[++i];
    if (v === undefined) return usage(`option ${a}: requires parameter`);
    switch (a) {
      case '-m':
      case '--max-time':
      case '--connect-timeout': {
        if (!/^\d+(\.\d+)?$/.test(v)) return usage(`option ${a}: expected a proper numerical parameter`);
        if (a === '--connect-timeout') req.connectTimeoutSec = Number(v);
        else req.timeoutSec = Number(v);
        break;
      }
      case '-o':
      case '--output':
        req.output = v;
        break;
      case '-w':
      case '--write-out':
        req.writeOut = v;
        break;
      case '-H':
      case '--header': {
        const c = v.indexOf(':');
        if (c > 0) req.headers.push([v.slice(0, c).trim(), v.slice(c + 1).trim()]);
        break;
      }
      case '-X':
      case '--request':
        req.method = v;
        break;
      case '-d':
      case '--data':
      case '--data-raw':
        req.data = v;
        if (req.method === 'GET') req.method = 'POST';
        break;
      case '-A':
      case '--user-agent':
        req.headers.push(['User-Agent', v]);
        break;
      default:
        break;
    }
  }
  if (url === undefined) return fail(TRY, 2);
  if (req.head && req.method === 'GET') req.method = 'HEAD';
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):\/\/)?([^/:?#]*)(?::([^/?#]*))?([^#]*)/.exec(url);
  const scheme = (m?.[1] ?? 'http').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return fail(`curl: (1) Protocol "${m?.[1]}" not supported or disabled in libcurl`, 1);
  const host = m?.[2] ?? '';
  const portText = m?.[3];
  if (!host || (portText !== undefined && (!/^\d*$/.test(portText) || Number(portText) > 65535))) return fail('curl: (3) URL using bad/illegal format or missing URL', 3);
  req.url = url;
  req.scheme = scheme;
  req.host = host;
  req.port = portText ? Number(portText) : scheme === 'https' ? 443 : 80;
  req.path = m?.[4] || '/';
  return req;
}

export interface HttpResponse {
  /** `HTTP/1.1` */
  version?: string;
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
}

/** One address tried: how the connect ended. */
export interface CurlAttempt {
  outcome: ConnectOutcome;
}

export interface CurlResult {
  resolution: NameResolution;
  attempts: CurlAttempt[];
  /** The reply of the server, when a connection was made. */
  response?: HttpResponse;
}

/** The nginx reply a lab pod gives (the article's pods write their hostname into index.html). */
export function nginxResponse(body: string, opts: { dateMs?: number; version?: string } = {}): HttpResponse {
  return {
    version: 'HTTP/1.1',
    status: 200,
    reason: 'OK',
    headers: [
      ['Server', `nginx/${opts.version ?? '1.14.2'}`],
      ['Content-Type', 'text/html'],
      ['Content-Length', String(body.length)],
      ['Connection', 'keep-alive'],
      ['Accept-Ranges', 'bytes'],
    ],
    body,
  };
}

const METER_HEAD = '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n';

// curl's max5data(): a byte count in at most 5 characters.
function size5(n: number): string {
  if (n < 100000) return String(n).padStart(5);
  if (n < 10000 * 1024) return `${Math.floor(n / 1024)}k`.padStart(5);
  return `${Math.floor(n / (1024 * 1024))}M`.padStart(5);
}

function meterLine(total: number, got: number, elapsedMs: number): string {
  const pct = total ? Math.floor((got * 100) / total) : 0;
  const speed = got ? Math.floor((got * 1000) / Math.max(1, elapsedMs)) : 0;
  const clock = elapsedMs < 1000 ? '--:--:--' : `${Math.floor(elapsedMs / 3600000)}:${String(Math.floor(elapsedMs / 60000) % 60).padStart(2, '0')}:${String(Math.floor(elapsedMs / 1000) % 60).padStart(2, '0')}`.padStart(8);
  return `\r${String(pct).padStart(3)} ${size5(total)}  ${String(pct).padStart(3)} ${size5(got)}    0     0  ${size5(speed)}      0 --:--:-- ${clock} --:--:-- ${size5(speed)}`;
}

/** How long curl lets the connect run, in ms: the smaller of --connect-timeout and -m (300 s default). */
function connectBudgetMs(req: CurlRequest): { ms: number; by: 'connect' | 'max' | 'none' } {
  const c = req.connectTimeoutSec !== undefined ? req.connectTimeoutSec * 1000 : Infinity;
  const m = req.timeoutSec !== undefined ? req.timeoutSec * 1000 : Infinity;
  if (c === Infinity && m === Infinity) return { ms: 300000, by: 'none' };
  return c <= m ? { ms: c, by: 'connect' } : { ms: m, by: 'max' };
}

function writeOut(fmt: string, vars: Record<string, string>): string {
  return fmt
    .replace(/%\{([a-z_]+)\}/g, (_, k: string) => vars[k] ?? '')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\r/g, '\r');
}

/** curl's output for a request and what the lab saw when it executed it. */
export function formatCurl(req: CurlRequest, res: CurlResult, profile: CurlProfile = 'curl-7.64', opts: { tty?: boolean; elapsedMs?: number } = {}): CommandResult {
  const modern = profile === 'curl-7.88';
  const showErr = !req.silent || req.showError;
  let stdout = '';
  let stderr = '';
  // The progress meter goes to stderr unless -s, or unless the body goes to the terminal.
  const meter = !req.silent && (opts.tty === false || (req.output !== undefined && req.output !== '-'));
  if (meter) stderr += METER_HEAD + meterLine(0, 0, 0);
  const done = (code: number, err?: string): CommandResult => {
    if (meter) {
      const size = code === 0 && res.response && !req.head ? res.response.body.length : 0;
      stderr += meterLine(size, code === 0 ? size : 0, opts.elapsedMs ?? 1) + '\n';
    }
    if (err && showErr) stderr += `curl: (${code}) ${err}\n`;
    if (req.writeOut) stdout += writeOut(req.writeOut, { http_code: res.response && code === 0 ? String(res.response.status).padStart(3, '0') : '000', remote_ip: '', exitcode: String(code) });
    return { stdout, stderr, code, changed: false };
  };
  if (!res.resolution.ok) return done(6, `Could not resolve host: ${req.host}`);
  const budget = connectBudgetMs(req);
  let spent = 0;
  let last: ConnectOutcome | undefined;
  for (const a of res.attempts) {
    const o = a.outcome;
    last = o;
    const took = o.elapsedMs ?? 0;
    if (o.kind === 'connected') break;
    // curl's own timer fires before the kernel gives up.
    if (o.kind === 'timeout' && spent + took > budget.ms) {
      const at = Math.round(budget.ms) + 1;
      if (modern && budget.by === 'connect') return done(28, `Failed to connect to ${req.host} port ${req.port} after ${at} ms: Timeout was reached`);
      return done(28, `Connection timed out after ${at} milliseconds`);
    }
    spent += took;
  }
  if (!last || last.kind !== 'connected') {
    const errno = last ? outcomeErrno(last) : 'ECONNREFUSED';
    if (modern) {
      const code = errno === 'ETIMEDOUT' ? 28 : 7;
      return done(code, `Failed to connect to ${req.host} port ${req.port} after ${Math.round(spent)} ms: Couldn't connect to server`);
    }
    return done(7, `Failed to connect to ${req.host} port ${req.port}: ${ERRNO_TEXT[errno ?? 'ECONNREFUSED']}`);
  }
  const r = res.response;
  if (!r) return done(52, 'Empty reply from server');
  if (req.fail && r.status >= 400) return done(22, `The requested URL returned error: ${r.status}${modern ? '' : ` ${r.reason}`}`);
  const head = `${r.version ?? 'HTTP/1.1'} ${r.status} ${r.reason}\r\n` + r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  const toStdout = req.output === undefined || req.output === '-';
  if (toStdout) {
    if (req.include || req.head) stdout += head;
    if (!req.head) stdout += r.body;
  }
  return done(0);
}

export interface CurlEnv extends NetEnv {
  profile?: CurlProfile;
  /** Whether stdout is a terminal (kubectl exec -it): then no progress meter. Default true. */
  tty?: boolean;
  hosts?: HostsEntry[];
  /** Opens a TCP connection to ip:port (the lab walks the SYN), giving up after budgetMs. */
  connect: (ip: string, port: number, budgetMs: number) => ConnectOutcome;
  /** The HTTP exchange over the connection made. */
  http: (ip: string, req: CurlRequest) => HttpResponse | undefined;
}

/** Runs curl: parse, resolve, try each address, fetch, format. */
export function curl(argv: string[], _stdin: string, env: CurlEnv): CommandResult {
  const req = parseCurl(argv);
  if ('code' in req) return req;
  const resolution = resolveHost(req.host, env, { hosts: env.hosts });
  const attempts: CurlAttempt[] = [];
  let response: HttpResponse | undefined;
  if (resolution.ok) {
    let left = connectBudgetMs(req).ms;
    for (const ip of resolution.addresses) {
      const outcome = env.connect(ip, req.port, left);
      attempts.push({ outcome });
      if (outcome.kind === 'connected') {
        response = env.http(ip, req);
        break;
      }
      left -= outcome.elapsedMs ?? 0;
      if (left <= 0) break;
    }
  }
  const elapsedMs = attempts.reduce((n, a) => n + (a.outcome.elapsedMs ?? 0), 0);
  return formatCurl(req, { resolution, attempts, response }, env.profile, { tty: env.tty, elapsedMs });
}
