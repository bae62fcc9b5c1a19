// Browser mode's window.lab: the LabApi over the WebSocket the server offers at /api, built
// from the contract's method list (one function per method, as the Electron preload does).
// Calls made while the socket is (re)connecting wait for it.

import { EVENT_NAMES, EVENT_SUBSCRIBERS, METHOD_NAMES, type ApiError, type EventName, type LabApi } from '../shared/api/contract.ts';

export class LabCallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export function connectWebSocketApi(): LabApi {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<EventName, Set<(d: unknown) => void>>(EVENT_NAMES.map((e) => [e, new Set()]));
  let nextId = 1;
  let ws: WebSocket;
  let ready: Promise<void>;
  let retry = 250;

  const open = (): void => {
    ws = new WebSocket(url);
    ready = new Promise<void>((resolve) => ws.addEventListener('open', () => { retry = 250; resolve(); }, { once: true }));
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number | null; result?: unknown; error?: ApiError; event?: EventName; data?: unknown };
      if (msg.event) {
        for (const l of listeners.get(msg.event) ?? []) l(msg.data);
        return;
      }
      const p = msg.id == null ? undefined : pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id as number);
      if (msg.error) p.reject(new LabCallError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    });
    ws.addEventListener('close', () => {
      for (const p of pending.values()) p.reject(new LabCallError('closed', 'the connection to the lab server closed'));
      pending.clear();
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 5000);
    });
  };
  open();

  const api: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    api[method] = async (...params: unknown[]) => {
      await ready;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        while (params.length && params[params.length - 1] === undefined) params.pop();
        ws.send(JSON.stringify({ id, method, params }));
      });
    };
  }
  for (const event of EVENT_NAMES) {
    api[EVENT_SUBSCRIBERS[event]] = (cb: (d: unknown) => void) => {
      listeners.get(event)?.add(cb);
      return () => listeners.get(event)?.delete(cb);
    };
  }
  return Object.freeze(api) as unknown as LabApi;
}
