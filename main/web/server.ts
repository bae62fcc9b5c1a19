// Browser mode: serves the built renderer and the LabApi over a WebSocket, on 127.0.0.1 only.
// Every request needs the run's token (see security.ts); every call is validated against the
// shared schemas before the service sees it (the dispatcher does it again: defence in depth).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_LIMITS, checkCall } from '../../shared/api/contract.ts';
import type { ApiDispatcher } from '../service/lab-api.ts';
import { SECURITY_HEADERS, TOKEN_COOKIE, contentSecurityPolicy, hostOk, newToken, originOk, tokenOk } from './security.ts';

export interface WebServerOptions {
  api: ApiDispatcher;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** 0 (default): any free port. */
  port?: number;
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The files that may be served: listed once at start, so no request path reaches the disk. */
function listAssets(dir: string): Map<string, { path: string; type: string }> {
  const out = new Map<string, { path: string; type: string }>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const ext = name.slice(name.lastIndexOf('.'));
        const type = TYPES[ext];
        if (type) out.set('/' + relative(dir, p).split(sep).join('/'), { path: p, type });
      }
    }
  };
  walk(dir);
  return out;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const assets = listAssets(opts.rendererDir);
  if (!assets.has('/index.html')) throw new Error(`${opts.rendererDir}: no index.html (run npm run build)`);
  let port = 0;
  const sockets = new Set<WebSocket>();

  const deny = (res: ServerResponse, code: number, text: string): void => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    res.end(text + '\n');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!hostOk(req.headers.host, port)) return deny(res, 403, 'forbidden host');
    if (!originOk(req.headers.origin, port, false)) return deny(res, 403, 'forbidden origin');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    const url = req.url ?? '/';
    if (!tokenOk(url, req.headers.cookie, token)) return deny(res, 401, 'this server needs the token printed when it started: open the URL it printed');
    const path = url.split('?')[0] === '/' ? '/index.html' : url.split('?')[0];
    const asset = assets.get(path);
    if (!asset) return deny(res, 404, 'not found');
    const headers: Record<string, string> = {
      'Content-Type': asset.type,
      'Content-Security-Policy': contentSecurityPolicy(port),
      ...SECURITY_HEADERS,
    };
    if (asset.type.startsWith('text/html')) headers['Set-Cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : readFileSync(asset.path));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: API_LIMITS.messageBytes });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (code: number, text: string): void => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!hostOk(req.headers.host, port)) return refuse(403, 'Forbidden');
    if (!originOk(req.headers.origin, port, true)) return refuse(403, 'Forbidden');
    if (!tokenOk(req.url ?? '/', req.headers.cookie, token)) return refuse(401, 'Unauthorized');
    if ((req.url ?? '').split('?')[0] !== '/api') return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'text only');
        void handleMessage(ws, data.toString());
      });
    });
  });

  async function handleMessage(ws: WebSocket, text: string): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ id: null, error: { code: 'invalid', message: 'not JSON' } }));
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown };
    const id = typeof m === 'object' && m !== null && Number.isSafeInteger(m.id) ? (m.id as number) : null;
    if (id === null) {
      ws.send(JSON.stringify({ id: null, error: { code: 'invalid', message: 'a call needs a numeric id' } }));
      return;
    }
    const bad = checkCall(m.method, m.params);
    if (bad) {
      ws.send(JSON.stringify({ id, error: bad }));
      return;
    }
    const r = await opts.api.call(m.method as string, m.params);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, ...r }));
  }

  const unsubscribe = opts.api.subscribe((event, data) => {
    const text = JSON.stringify({ event, data });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
