// Felix's iptables rule model and its rendering: comments first (`-m comment --comment "…"`,
// unsafe characters replaced by `_`, cut at 256), then the match fragments, then the action,
// with Felix's long option spellings (`--jump`, `--goto`, `--set-mark`, `--in-interface`,
// `--destination-ports`). Each rule's `cali:` id chains SHA-224 over the chain name and every
// rule before it (iptables.Chain.RuleHashes), so a rule's id changes when an earlier rule does.

import { base64url, sha224, utf8 } from '../../hash/index.ts';
import type { RuleOrigin } from './model.ts';

export interface FRule {
  comments?: string[];
  match?: string[];
  action?: string;
  origin: RuleOrigin;
}

export interface FChain {
  name: string;
  rules: FRule[];
}

const UNSAFE = /[^\w @%+=:,./-]/g;

export function escapeComment(c: string): string {
  const s = c.replace(UNSAFE, '_');
  return s.length > 256 ? s.slice(0, 256) : s;
}

/** The rule after `-A CHAIN` (and after the hash comment), as Felix renders it. */
export function ruleBody(r: FRule): string {
  const parts: string[] = [];
  for (const c of r.comments ?? []) parts.push(`-m comment --comment "${escapeComment(c)}"`);
  if (r.match && r.match.length) parts.push(r.match.join(' '));
  if (r.action) parts.push(r.action);
  return parts.join(' ');
}

// Rendering is repeated after every change, and most chains do not change: their ids are
// remembered (the key is the chain's whole text), so a re-render hashes only what changed.
const memo = new Map<string, string[]>();
const MEMO_MAX = 200_000;

/** The 16-character ids of a chain's rules, in order. */
export function ruleHashes(chain: string, bodies: string[]): string[] {
  const key = chain + '\n' + bodies.join('\n');
  const hit = memo.get(key);
  if (hit) return hit;
  const out = computeHashes(chain, bodies);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, out);
  return out;
}

function computeHashes(chain: string, bodies: string[]): string[] {
  let h = sha224(utf8(chain));
  const out: string[] = [];
  for (const b of bodies) {
    const text = utf8(`-A ${chain} HASH${b ? ' ' + b : ''}`);
    const buf = new Uint8Array(h.length + text.length);
    buf.set(h);
    buf.set(text, h.length);
    h = sha224(buf);
    out.push(base64url(h).slice(0, 16));
  }
  return out;
}

export const hashComment = (hash: string): string => `-m comment --comment "cali:${hash}"`;

// Felix's match and action fragments.
export const M = {
  markClear: (mark: number) => `-m mark --mark 0/${hx(mark)}`,
  markNotClear: (mark: number) => `-m mark ! --mark 0/${hx(mark)}`,
  markSet: (mark: number) => `-m mark --mark ${hx(mark)}/${hx(mark)}`,
  inIface: (i: string) => `--in-interface ${i}`,
  outIface: (i: string) => `--out-interface ${i}`,
  ctstate: (s: string) => `-m conntrack --ctstate ${s}`,
  notCtstate: (s: string) => `-m conntrack ! --ctstate ${s}`,
  proto: (p: string) => `-p ${p}`,
  srcNet: (n: string) => `--source ${n}`,
  notSrcNet: (n: string) => `! --source ${n}`,
  dstNet: (n: string) => `--destination ${n}`,
  notDstNet: (n: string) => `! --destination ${n}`,
  srcSet: (s: string) => `-m set --match-set ${s} src`,
  dstSet: (s: string) => `-m set --match-set ${s} dst`,
  notDstSet: (s: string) => `-m set ! --match-set ${s} dst`,
  dstIpPortSet: (s: string) => `-m set --match-set ${s} dst,dst`,
  dstPorts: (p: string) => `-m multiport --destination-ports ${p}`,
  srcType: (t: string) => `-m addrtype --src-type ${t}`,
  notSrcTypeLimitOut: (t: string) => `-m addrtype ! --src-type ${t} --limit-iface-out`,
  dstType: (t: string) => `-m addrtype --dst-type ${t}`,
  rpfFailed: () => '-m rpfilter --invert --validmark',
};

export const A = {
  accept: '--jump ACCEPT',
  drop: '--jump DROP',
  ret: '--jump RETURN',
  jump: (c: string) => `--jump ${c}`,
  goto: (c: string) => `--goto ${c}`,
  setMark: (m: number) => `--jump MARK --set-mark ${hx(m)}/${hx(m)}`,
  clearMark: (m: number) => `--jump MARK --set-mark 0/${hx(m)}`,
  setMasked: (m: number, mask: number) => `--jump MARK --set-mark ${hx(m)}/${hx(mask)}`,
  masq: (randomFully: boolean) => '--jump MASQUERADE' + (randomFully ? ' --random-fully' : ''),
};

/** Go's %#x. */
export function hx(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
