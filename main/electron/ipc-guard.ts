// Checks on every IPC call in the main process: the sender must be our own window's main
// frame showing our own page, and the payload must fit the contract. Pure functions, so the
// unit tests can run without Electron.

import { checkCall, type ApiError } from '../../shared/api/contract.ts';

export interface SenderInfo {
  /** The URL of the frame that sent the message. */
  url: string;
  /** Whether that frame is the top-level frame of its page. */
  isMainFrame: boolean;
  /** The id of the WebContents that sent it. */
  webContentsId: number;
}

/** The renderer is always loaded from this file URL (dist/renderer/index.html). */
export function senderOk(sender: SenderInfo | null | undefined, trustedIds: ReadonlySet<number>, pageUrl: string): boolean {
  if (!sender || !sender.isMainFrame || !trustedIds.has(sender.webContentsId)) return false;
  let u: URL;
  try {
    u = new URL(sender.url);
  } catch {
    return false;
  }
  const page = new URL(pageUrl);
  return u.protocol === 'file:' && page.protocol === 'file:' && u.pathname === page.pathname;
}

export function guardCall(sender: SenderInfo | null | undefined, trustedIds: ReadonlySet<number>, pageUrl: string, method: string, params: unknown): ApiError | null {
  if (!senderOk(sender, trustedIds, pageUrl)) return { code: 'forbidden', message: `${method}: refused: the call does not come from the app's own page` };
  return checkCall(method, params);
}

/** Navigation is allowed only to the app's own page (a reload); everything else is refused. */
export function navigationAllowed(url: string, pageUrl: string): boolean {
  try {
    const u = new URL(url);
    const page = new URL(pageUrl);
    return u.protocol === 'file:' && u.pathname === page.pathname;
  } catch {
    return false;
  }
}

export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');
