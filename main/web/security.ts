// The checks that keep browser mode to the user who started it: a random per-run token that
// every request carries (in the URL the app prints, then in a SameSite=Strict cookie), a Host
// check against DNS rebinding, an Origin check on every WebSocket and state-changing request,
// and a strict Content-Security-Policy.

import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'kpl_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a request carries, from `?token=` or the cookie. */
export function requestToken(url: string, cookieHeader: string | undefined): string | null {
  let q: string | null;
  try {
    q = new URL(url, 'http://127.0.0.1').searchParams.get('token');
  } catch {
    q = null;
  }
  if (q) return q;
  for (const part of (cookieHeader ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === TOKEN_COOKIE) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

export function tokenOk(url: string, cookieHeader: string | undefined, token: string): boolean {
  const t = requestToken(url, cookieHeader);
  return t !== null && sameSecret(t, token);
}

/** The origins the app itself has (127.0.0.1 and localhost on our port). */
export function allowedOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/** The Host header must name us (a rebinding attack's page carries its own host name). */
export function hostOk(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * Origin check. A WebSocket must always name our origin (browsers always send one); a plain
 * HTTP request may come without (top-level navigation, same-origin GET), but not from another.
 */
export function originOk(origin: string | undefined, port: number, required: boolean): boolean {
  if (origin === undefined || origin === '') return !required;
  return allowedOrigins(port).includes(origin);
}

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};
