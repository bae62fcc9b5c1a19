// A link to a lab at a saved trace, step, node and rule, so a teammate sees the same branch:
// - browser mode: the page's fragment `#/lab/NAME?trace=T&step=N&node=HOST&rule=R` (the
//   renderer's router reads it at start and on every change);
// - Electron: `kpl://open?lab=NAME&trace=T&step=N&node=HOST&rule=R` (main/electron turns it into
//   the same fragment);
// - `kpl open LAB --trace T --step N --node HOST --rule R` prints the step and both links.
// Links come from outside: every parameter is checked (the same checks as the API's), unknown
// or repeated ones refuse the link, and nothing in it is ever evaluated.
//
// Steps are numbered 1, 2, … as the debugger shows them ("step N / M"): the packet's steps, then
// its answer's, then the handshake ACK's (shared/api/trace-nav.ts). `node` and `rule` narrow the
// step: the first step from step N on (from the first, without a step) on that host and/or at
// that rule number.

import { linkChecks } from './contract.ts';
import type { Nav } from './trace-nav.ts';

export interface TraceLink {
  lab: string;
  trace?: string;
  /** 1-based, as the debugger shows it. */
  step?: number;
  node?: string;
  rule?: number;
}

export const MAX_LINK_STEP = 10_000_000;
export const MAX_LINK_RULE = 1_000_000;
const KEYS = ['lab', 'trace', 'step', 'node', 'rule'] as const;

const enc = (s: string): string => encodeURIComponent(s);

/** `trace=T&step=N&node=H&rule=R` (without the lab), in a fixed order. */
export function linkParams(l: Omit<TraceLink, 'lab'>): string {
  const out: string[] = [];
  if (l.trace !== undefined) out.push(`trace=${enc(l.trace)}`);
  if (l.step !== undefined) out.push(`step=${l.step}`);
  if (l.node !== undefined) out.push(`node=${enc(l.node)}`);
  if (l.rule !== undefined) out.push(`rule=${l.rule}`);
  return out.join('&');
}

/** The app's fragment for a link: `#/lab/NAME?trace=…`. */
export function linkHash(l: TraceLink): string {
  const q = linkParams(l);
  return `#/lab/${enc(l.lab)}${q ? `?${q}` : ''}`;
}

/** The desktop app's protocol link: `kpl://open?lab=NAME&trace=…`. */
export function linkUrl(l: TraceLink): string {
  const q = linkParams(l);
  return `kpl://open?lab=${enc(l.lab)}${q ? `&${q}` : ''}`;
}

function intParam(v: string, what: string, max: number): number | string {
  if (!/^[1-9][0-9]{0,9}$/.test(v) || Number(v) > max) return `${what}: expected a number 1..${max}, got ${JSON.stringify(v.slice(0, 40))}`;
  return Number(v);
}

/**
 * Checks a link's parameters (already decoded); returns the link or a message saying what is
 * wrong. `lab` may come separately (the fragment's path).
 */
export function checkLink(params: Record<string, string>): TraceLink | string {
  for (const k of Object.keys(params)) if (!(KEYS as readonly string[]).includes(k)) return `unknown parameter ${JSON.stringify(k.slice(0, 40))}`;
  const lab = params.lab;
  if (lab === undefined) return 'no lab named';
  const bad = linkChecks.lab(lab, 'lab');
  if (bad) return bad;
  const link: TraceLink = { lab };
  if (params.trace !== undefined) {
    const e = linkChecks.trace(params.trace, 'trace');
    if (e) return e;
    link.trace = params.trace;
  }
  for (const k of ['step', 'rule'] as const) {
    const v = params[k];
    if (v === undefined) continue;
    const n = intParam(v, k, k === 'step' ? MAX_LINK_STEP : MAX_LINK_RULE);
    if (typeof n === 'string') return n;
    link[k] = n;
  }
  if (params.node !== undefined) {
    const e = linkChecks.node(params.node, 'node');
    if (e) return e;
    link.node = params.node;
  }
  if (link.trace === undefined && (link.step !== undefined || link.node !== undefined || link.rule !== undefined)) return 'step, node and rule need a trace';
  return link;
}

/** Splits `a=1&b=2` (percent-decoded, `+` as a space); a repeated or undecodable parameter refuses it. */
export function parseQuery(query: string): Record<string, string> | string {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (query.length > 4096) return 'the link is too long';
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let k: string, v: string;
    try {
      k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      v = decodeURIComponent((eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' '));
    } catch {
      return 'the link is not properly encoded';
    }
    if (Object.prototype.hasOwnProperty.call(out, k)) return `parameter ${JSON.stringify(k.slice(0, 40))} given twice`;
    out[k] = v;
  }
  return out;
}

/** A `kpl://open?…` link, checked. */
export function parseLinkUrl(url: string): TraceLink | string {
  const m = /^kpl:\/\/open\/?\?(.*)$/i.exec(url);
  if (!m) return 'not a kpl://open?… link';
  const q = parseQuery(m[1].replace(/#.*$/, ''));
  return typeof q === 'string' ? q : checkLink(q);
}

/** The app's fragment `#/lab/NAME[?…]`, checked; null when it is not a lab's fragment. */
export function parseLinkHash(hash: string): TraceLink | string | null {
  const m = /^#\/lab\/([^?]+)(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  let lab: string;
  try {
    lab = decodeURIComponent(m[1]);
  } catch {
    return 'the link is not properly encoded';
  }
  const q = parseQuery(m[2] ?? '');
  if (typeof q === 'string') return q;
  if ('lab' in q) return 'unknown parameter "lab"';
  // `guide` is the router's own flag (opened from the examples), not part of a trace link.
  delete q.guide;
  return checkLink({ ...q, lab });
}

/**
 * The row (0-based) a link's step, node and rule point at in a walk's rows, or what is wrong
 * ("step 99 is out of range (1-40)", "no step on host x from step 3").
 */
export function linkRow(nav: Pick<Nav, 'rows'>, l: Pick<TraceLink, 'step' | 'node' | 'rule'>): number | string {
  const n = nav.rows.length;
  if (!n) return 'the trace has no steps';
  if (l.step !== undefined && (l.step < 1 || l.step > n)) return `step ${l.step} is out of range (1-${n})`;
  const from = (l.step ?? 1) - 1;
  if (l.node === undefined && l.rule === undefined) return from;
  for (let i = from; i < n; i++) {
    const s = nav.rows[i].step;
    if (l.node !== undefined && s.host !== l.node) continue;
    if (l.rule !== undefined && (s.skipped !== undefined || s.rule !== l.rule)) continue;
    return i;
  }
  const what = [l.node !== undefined ? `on host ${l.node}` : '', l.rule !== undefined ? `at rule ${l.rule}` : ''].filter(Boolean).join(' ');
  return `no step ${what}${l.step !== undefined ? ` from step ${l.step} on` : ''}`;
}
