// The sandboxed preload: exposes window.lab with one function per LabApi method and one
// subscription function per event, built from the shared contract's lists (never a generic
// invoke), each calling its own IPC channel. Arguments are checked here too, so a bad call
// fails in the renderer before it crosses; the main process checks again.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES, EVENT_SUBSCRIBERS, IPC_EVENT, IPC_PREFIX, METHOD_NAMES, checkCall, type EventName } from '../../shared/api/contract.ts';

const api: Record<string, unknown> = {};
for (const method of METHOD_NAMES) {
  const channel = IPC_PREFIX + method;
  api[method] = async (...params: unknown[]): Promise<unknown> => {
    while (params.length && params[params.length - 1] === undefined) params.pop();
    const bad = checkCall(method, params);
    if (bad) throw new Error(bad.message);
    const r = (await ipcRenderer.invoke(channel, ...params)) as { result?: unknown; error?: { code: string; message: string } };
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.result;
  };
}

const listeners = new Map<EventName, Set<(data: unknown) => void>>(EVENT_NAMES.map((e) => [e, new Set()]));
ipcRenderer.on(IPC_EVENT, (_e: IpcRendererEvent, msg: { event: EventName; data: unknown }) => {
  for (const l of listeners.get(msg.event) ?? []) l(msg.data);
});
for (const event of EVENT_NAMES) {
  api[EVENT_SUBSCRIBERS[event]] = (cb: (data: unknown) => void) => {
    if (typeof cb !== 'function') throw new TypeError('expected a function');
    listeners.get(event)?.add(cb);
    return () => {
      listeners.get(event)?.delete(cb);
    };
  };
}

contextBridge.exposeInMainWorld('lab', api);
