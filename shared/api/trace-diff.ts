// "What if": two walks of the same packet (a recorded one and its replay on a changed lab, same
// request and seed) compared step by step. Pure (no DOM): the rows of both walks aligned by a
// longest common subsequence over a key of each step (phase, host, hook, table, chain, the rule's
// text — or its number when the walk has no text — whether it matched and its verdict), the gaps
// between aligned rows zipped side by side, the first divergence, long identical runs folded; the
// replay's request rebuilt from the recorded walk; and "why" the packet ended as it did: the
// deciding rule with the Kubernetes object behind it (a Service named by kube-proxy's comment, a
// pod behind Calico's cali-tw-/cali-fw- chain, the NetworkPolicy of a cali-pi-/cali-po- chain)
// where the walk (and a map of chain names to objects) carries it.

import type { StepJson } from '../trace-json.ts';
import type { TraceRequest } from './types.ts';
import { decidingRow, DROP_TARGETS, policyName, type Nav, type Row, type Walk } from './trace-nav.ts';

/** One line of the compare view: a row of each walk (or of one), and how they relate. */
export interface Pair {
  /** Row in the base walk's Nav, or null (only the replay has a step here). */
  a: number | null;
  b: number | null;
  /** same: the same step; differ: both walks have a step here, not the same; only-a / only-b. */
  kind: 'same' | 'differ' | 'only-a' | 'only-b';
}

export interface Alignment {
  pairs: Pair[];
  /** Index in `pairs` of the first pair that is not `same`, or -1 (the walks are identical). */
  divergence: number;
}

/** The key two steps share when they are the same step of the walk. */
export function stepKey(r: Row): string {
  const s = r.step;
  const rule = s.skipped !== undefined ? `skip ${s.skipped}` : s.rule === null || s.rule === undefined ? 'end' : s.rule_spec ? s.rule_spec : `#${s.rule}`;
  return [r.phase, s.host, s.hook ?? '', s.table, s.chain, rule, s.matched ? 'hit' : 'miss', s.verdict ?? ''].join('\u0000');
}

/** Above this many cells the middle part is not searched for common steps: it is zipped as it is. */
const LCS_CELLS = 4_000_000;

/** The aligned rows of two walks (their Navs' rows). */
export function alignRows(a: readonly Row[], b: readonly Row[]): Alignment {
  const ka = a.map(stepKey);
  const kb = b.map(stepKey);
  // The common head and tail, then a longest common subsequence of the middle.
  let head = 0;
  while (head < ka.length && head < kb.length && ka[head] === kb[head]) head++;
  let tail = 0;
  while (tail < ka.length - head && tail < kb.length - head && ka[ka.length - 1 - tail] === kb[kb.length - 1 - tail]) tail++;
  const ma = ka.slice(head, ka.length - tail);
  const mb = kb.slice(head, kb.length - tail);
  const matches = ma.length * mb.length <= LCS_CELLS ? lcs(ma, mb) : [];
  const pairs: Pair[] = [];
  for (let i = 0; i < head; i++) pairs.push({ a: i, b: i, kind: 'same' });
  let i = 0;
  let j = 0;
  const gap = (toI: number, toJ: number): void => {
    while (i < toI && j < toJ) pairs.push({ a: head + i++, b: head + j++, kind: 'differ' });
    while (i < toI) pairs.push({ a: head + i++, b: null, kind: 'only-a' });
    while (j < toJ) pairs.push({ a: null, b: head + j++, kind: 'only-b' });
  };
  for (const [x, y] of matches) {
    gap(x, y);
    pairs.push({ a: head + i++, b: head + j++, kind: 'same' });
  }
  gap(ma.length, mb.length);
  for (let t = 0; t < tail; t++) pairs.push({ a: ka.length - tail + t, b: kb.length - tail + t, kind: 'same' });
  return { pairs, divergence: pairs.findIndex((p) => p.kind !== 'same') };
}

/** The index pairs of a longest common subsequence of two key lists. */
function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  if (!n || !m) return [];
  // Suffix lengths: len[i][j] = LCS of a[i..] and b[j..], row by row in one typed array.
  const w = m + 1;
  const len = new Uint32Array((n + 1) * w);
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      len[x * w + y] = a[x] === b[y] ? len[(x + 1) * w + y + 1] + 1 : Math.max(len[(x + 1) * w + y], len[x * w + y + 1]);
    }
  }
  const out: [number, number][] = [];
  let x = 0;
  let y = 0;
  while (x < n && y < m) {
    if (a[x] === b[y]) {
      out.push([x++, y++]);
    } else if (len[(x + 1) * w + y] >= len[x * w + y + 1]) x++;
    else y++;
  }
  return out;
}

/** The compare view's lines: pairs, with runs of more than 2·keep+1 identical pairs folded. */
export type Line = { pair: number } | { fold: [number, number] };

/** Folds long runs of identical pairs; a pinned pair (the forked step) is never folded away. */
export function foldPairs(al: Alignment, keep = 2, pinned: ReadonlySet<number> = new Set()): Line[] {
  const out: Line[] = [];
  const ps = al.pairs;
  let k = 0;
  while (k < ps.length) {
    if (ps[k].kind !== 'same' || pinned.has(k)) {
      out.push({ pair: k++ });
      continue;
    }
    let e = k;
    while (e < ps.length && ps[e].kind === 'same' && !pinned.has(e)) e++;
    // The run [k, e): keep its first `keep` (unless it starts the walk) and last `keep` (unless it ends it).
    const lead = k === 0 ? 0 : keep;
    const trail = e === ps.length ? (k === 0 ? keep : 0) : keep;
    if (e - k > lead + trail + 1) {
      for (let t = k; t < k + lead; t++) out.push({ pair: t });
      out.push({ fold: [k + lead, e - trail] });
      for (let t = e - trail; t < e; t++) out.push({ pair: t });
    } else for (let t = k; t < e; t++) out.push({ pair: t });
    k = e;
  }
  return out;
}

// ---- the replay's request ---------------------------------------------------------------------

/** What the recorded walk was asked (the form's request when known), with its seed and source port. */
export function replayRequest(w: Walk & { seed?: unknown }, asked?: { from: string; to: string; proto: TraceRequest['proto'] } | null): TraceRequest | string {
  const p = w.packet;
  if (!p) return 'the walk has no packet';
  const proto = (['tcp', 'udp', 'sctp', 'icmp'] as const).find((x) => x === (asked?.proto ?? p.proto));
  if (!proto) return `cannot replay a ${p.proto} packet`;
  let from = asked?.from;
  if (!from) {
    const sender = w.events?.find((e) => e.kind === 'inject')?.host ?? w.events?.[0]?.host ?? w.steps?.[0]?.host;
    if (!sender) return 'the walk does not say which host sent the packet';
    from = sender.includes('/') ? `pod/${sender}` : sender;
  }
  const to = asked?.to ?? (p.dport !== null && p.dport !== undefined && proto !== 'icmp' ? `${p.dst}:${p.dport}` : p.dst);
  const seed = typeof w.seed === 'number' && Number.isInteger(w.seed) && w.seed >= 0 ? w.seed : undefined;
  const sport = proto !== 'icmp' && typeof p.sport === 'number' && p.sport > 0 ? p.sport : undefined;
  // (a first segment other than a SYN is replayed with its flags)
  const flags = proto === 'tcp' && p.flags && p.flags !== 'SYN' ? { tcpFlags: p.flags } : {};
  return { from, to, proto, ...(sport !== undefined ? { sport } : {}), ...(seed !== undefined ? { seed } : {}), ...flags };
}

/** Where a forked replay picks up at row `i`: its phase, and which host of that phase's walk it
 *  is on (0: where the walk started; then each host the packet was received on, counted by the
 *  walk's `receive` events at PREROUTING — the starting host's own when the packet arrived there
 *  from outside). As the engine counts them for Lab.traceForked. */
export function forkAt(nav: Nav, i: number): { phase: Row['phase']; hop: number } | null {
  const row = nav.rows[i];
  if (!row) return null;
  let hop = 0;
  let arrived = false;
  for (const e of nav.events) {
    if (e.phase !== row.phase || e.row > i) continue;
    if (e.kind === 'inject') arrived = e.text.startsWith('arrives on');
    else if (e.kind === 'receive' && e.hook === 'PREROUTING') hop++;
  }
  return { phase: row.phase, hop: Math.max(0, arrived ? hop - 1 : hop) };
}

// ---- why: the deciding rule and the object behind it ------------------------------------------

/** A rule's own comments (Calico's `cali:ID` tags left out). */
export function commentsOf(spec: string | null | undefined): string[] {
  const out: string[] = [];
  const re = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/g;
  for (let m = re.exec(spec ?? ''); m; m = re.exec(spec ?? '')) {
    const c = (m[1] ?? m[2]).replace(/\\"/g, '"');
    if (!/^cali:/.test(c)) out.push(c);
  }
  return out;
}

/** A kube-proxy comment's Service ("default/db cluster IP", "default/webapp has no local endpoints"). */
export function serviceOf(comment: string): string | null {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:[^\s]*)?(\s|$)/.exec(comment);
  return m ? `${m[1]}/${m[3]}${m[5] ?? ''}` : null;
}

/** Calico's comment on a policy chain's first rule ("Policy default/knp.default.x ingress"). */
function policyComment(c: string): string | null {
  const m = /^Policy (\S+) (ingress|egress)$/.exec(c);
  if (!m) return null;
  const k = /^([^/]+)\/knp\.default\.(.+)$/.exec(m[1]);
  return k ? `NetworkPolicy ${k[1]}/${k[2]} (${m[2]})` : `Calico policy ${m[1]} (${m[2]})`;
}

export interface Decision {
  /** The deciding row (Nav index), or -1 (no steps). */
  row: number;
  /** "DROP by rule 7 of filter cali-tw-cali95aa86cbb2a on minikube" (or the chain's policy). */
  rule: string;
  /** The rule's own comments. */
  comments: string[];
  /** The Kubernetes objects behind it, in words ("Service default/webapp has no local endpoints"). */
  objects: string[];
  /** Whether a DROP or REJECT decided it (else the row is the walk's last step). */
  dropped: boolean;
}

function ruleLine(s: StepJson): string {
  if (s.rule === null || s.rule === undefined) return `policy ${s.verdict ?? 'ACCEPT'} of ${s.table} ${s.chain} on ${s.host}`;
  return `${s.verdict ?? 'matched'} by rule ${s.rule} of ${s.table} ${s.chain} on ${s.host}`;
}

/**
 * Chain names → the objects behind them, from the origins the walk's steps carry (Calico's
 * hashed chains: cali-tw-/cali-fw- are a pod's, cali-pi-/cali-po- a policy's). Walks recorded
 * before steps carried origins give none.
 */
export function originNames(nav: Nav): Map<string, string> {
  const names = new Map<string, string>();
  for (const { step: s } of nav.rows) {
    const o = s.origin;
    if (o?.agent !== 'calico') continue;
    if (o.kind === 'dispatch' && s.verdict && /^cali-[tf]w-/.test(s.verdict)) names.set(s.verdict, `pod ${o.pod}`);
    else if (o.kind === 'endpoint') names.set(s.chain, `pod ${o.pod}`);
    else if (o.kind === 'policy') names.set(s.chain, policyName(o.policy));
  }
  return names;
}

/**
 * The rule that decided the packet's outcome and what is behind it. `names` maps chain names the
 * walk cannot explain by itself (Calico's hashed cali-pi-/cali-po- and cali-tw-/cali-fw- chains)
 * to the objects they stand for ("NetworkPolicy default/allow-db-access", "pod default/db-…");
 * by default, what the steps' origins say (originNames).
 */
export function decisionOf(nav: Nav, names: ReadonlyMap<string, string> = originNames(nav)): Decision {
  if (!nav.rows.length) return { row: -1, rule: '', comments: [], objects: [], dropped: false };
  const row = decidingRow(nav);
  const s = nav.rows[row].step;
  const comments = commentsOf(s.rule_spec);
  const objects: string[] = [];
  const add = (o: string | null | undefined): void => {
    if (o && !objects.includes(o)) objects.push(o);
  };
  const ph = nav.phases.find((p) => row >= p.start && row < p.end) ?? nav.phases[0];
  const dropped = !!s.matched && DROP_TARGETS.has(s.verdict ?? '');
  for (const c of comments) {
    const svc = serviceOf(c);
    if (svc) add(`Service ${svc}${c.slice(c.indexOf(' ') >= 0 ? c.indexOf(' ') : c.length)}`);
  }
  // Calico's endpoint chains: the pod, and the policies it went through that did not pass it.
  const ep = /^cali-(tw|fw)-/.exec(s.chain);
  if (ep) {
    add(names.get(s.chain) ? `${ep[1] === 'tw' ? 'ingress of' : 'egress of'} ${names.get(s.chain)}` : null);
    const policies: string[] = [];
    for (let j = row - 1; j >= ph.start; j--) {
      const t = nav.rows[j].step;
      if (t.host !== s.host || t.hook !== s.hook || t.table !== s.table) break;
      if (t.matched && t.chain === s.chain && /^cali-p[io]-/.test(t.verdict ?? '')) policies.unshift(t.verdict ?? '');
    }
    for (const chain of policies) {
      const named = policyNameIn(nav, ph.start, row, chain) ?? names.get(chain);
      add(`${named ?? `policy chain ${chain}`}${dropped ? ' did not allow it' : ''}`);
    }
  }
  // kube-proxy's KUBE-MARK-DROP: the packet was marked earlier on this host; the jump's comment says why.
  if (dropped && s.chain === 'KUBE-FIREWALL') {
    for (let j = row - 1; j >= ph.start && nav.rows[j].step.host === s.host; j--) {
      const t = nav.rows[j].step;
      if (t.matched && t.verdict === 'KUBE-MARK-DROP') {
        for (const c of commentsOf(t.rule_spec)) {
          const svc = serviceOf(c);
          add(svc ? `Service ${svc}${c.slice(c.indexOf(' ') >= 0 ? c.indexOf(' ') : c.length)} (marked by rule ${t.rule} of ${t.table} ${t.chain})` : `${c} (marked by rule ${t.rule} of ${t.table} ${t.chain})`);
        }
        break;
      }
    }
  }
  if (!objects.length) add(names.get(s.chain));
  return { row, rule: ruleLine(s), comments, objects, dropped };
}

/** A policy chain's name from Calico's "Policy … ingress" comment on one of its steps in [from, to). */
function policyNameIn(nav: Nav, from: number, to: number, chain: string): string | null {
  for (let j = from; j < to; j++) {
    const t = nav.rows[j].step;
    if (t.chain !== chain) continue;
    for (const c of commentsOf(t.rule_spec)) {
      const p = policyComment(c);
      if (p) return p;
    }
  }
  return null;
}

/** The decision in one line: "dropped — DROP by rule 7 of … ("Drop if no policies passed packet"); NetworkPolicy …". */
export function decisionText(outcome: string | undefined, d: Decision): string {
  if (d.row < 0) return outcome ?? '';
  const parts = [`${outcome ?? '?'} — ${d.dropped ? '' : 'no rule dropped it; last step: '}${d.rule}`];
  if (d.comments.length) parts[0] += ` (“${d.comments.join('”, “')}”)`;
  return [...parts, ...d.objects].join('; ');
}
