// The debugger's pure parts (no DOM; the app's debugger and `kpl open --trace` both use them):
// a trace's walk as a flat list of rows (the packet's steps, then its reply's and ACK's), the
// chain nesting derived from it (a step's chain against the previous rule's jump, RETURN and
// end-of-chain steps), the moves of a code debugger over it (step over, step out, next hook,
// next hop, continue and reverse-continue to breakpoints), the packet's headers and mark at a
// step (from the walk's NAT events and the MARK rules), the conntrack event and the path so far,
// and the one-line "why" of a step.

import type { PacketJson, StepJson, StepOrigin, WalkJson } from '../trace-json.ts';
import type { Breakpoint } from './types.ts';

export type { Breakpoint };
export type Phase = 'packet' | 'reply' | 'ack';

/** A walk as the debugger reads it (a saved trace may lack parts). */
export type Walk = Partial<Pick<WalkJson, 'outcome' | 'reason' | 'packet' | 'final' | 'steps' | 'events' | 'dnat' | 'snat' | 'delivered'>> & {
  reply?: Walk | null;
  ack?: Walk | null;
};

/** One row of the debugger: a step of the packet, its reply or its ACK. */
export interface Row {
  phase: Phase;
  step: StepJson;
}

/** A walk's event placed among the rows: it happened before row `row` (`row` may equal the phase's end). */
export interface RowEvent {
  phase: Phase;
  host: string;
  kind: string;
  hook?: string;
  text: string;
  row: number;
  /** A conntrack lookup's or confirm's entry as `conntrack -L` listed it then. */
  entry?: string;
}

/** One frame of the call stack: a chain, and the row at which it is (the jump, for a caller). */
export interface Frame {
  chain: string;
  row: number;
}

/** Everything the debugger derives from one walk, once. */
export interface Nav {
  rows: Row[];
  /** The call stack at each row (the hook's built-in chain first). */
  stacks: Frame[][];
  events: RowEvent[];
  /** Each phase's rows [start, end). */
  phases: { phase: Phase; start: number; end: number; walk: Walk }[];
}

const PHASES: Phase[] = ['packet', 'reply', 'ack'];
const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'LOG', 'NOTRACK', 'CT', 'TPROXY', 'NFQUEUE', 'QUEUE', 'TRACE', 'SET', 'TCPMSS', 'CHECKSUM', 'NFLOG', 'ULOG', 'TTL', 'DSCP', 'TOS', 'CLASSIFY']);
export const NAT_TARGETS: ReadonlySet<string> = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT']);
export const DROP_TARGETS: ReadonlySet<string> = new Set(['DROP', 'REJECT']);

/** A trace result's walk (the API gives `{ json, text }`, a saved one may be the bare JSON). */
export function walkOf(t: unknown): Walk {
  const j = (t as { json?: unknown } | null)?.json;
  return (j && typeof j === 'object' ? j : t) as Walk;
}

export function rowsOf(w: Walk): Row[] {
  return navOf(w).rows;
}

/** The segment a row is in: the same phase, host, hook and table (a chain stack lives in one). */
function segKey(r: Row): string {
  return `${r.phase}\u0000${r.step.host}\u0000${r.step.hook ?? ''}\u0000${r.step.table}`;
}

/** Whether a step jumps (or goes) to a user chain. */
export function jumpTarget(s: StepJson): string | null {
  if (!s.matched || s.rule === null || s.rule === undefined || s.skipped !== undefined) return null;
  const v = s.verdict;
  if (!v || TERMINAL.has(v)) return null;
  return v;
}

function isGoto(s: StepJson, target: string): boolean {
  return !!s.rule_spec && new RegExp(`(^|\\s)(-g|--goto) ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).test(s.rule_spec);
}

/** The call stacks of a list of rows. */
export function stacksOf(rows: readonly Row[]): Frame[][] {
  const out: Frame[][] = [];
  for (let i = 0; i < rows.length; i++) {
    const s = rows[i].step;
    const prev = i > 0 ? out[i - 1] : null;
    if (!prev || segKey(rows[i - 1]) !== segKey(rows[i])) {
      out.push([{ chain: s.chain, row: i }]);
      continue;
    }
    const p = rows[i - 1].step;
    const target = jumpTarget(p);
    if (target !== null && target === s.chain) {
      // A jump pushes a frame; a goto replaces the caller's (its RETURN goes to the caller's caller).
      out.push(isGoto(p, target) ? [...prev.slice(0, -1), { chain: s.chain, row: i }] : [...prev, { chain: s.chain, row: i }]);
      continue;
    }
    const top = prev[prev.length - 1];
    if (top.chain === s.chain) {
      out.push([...prev.slice(0, -1), { chain: s.chain, row: i }]);
      continue;
    }
    // Back in a calling chain (after a RETURN or a chain's end).
    let k = prev.length - 2;
    while (k >= 0 && prev[k].chain !== s.chain) k--;
    if (k >= 0) out.push([...prev.slice(0, k), { chain: s.chain, row: i }]);
    else out.push([...prev, { chain: s.chain, row: i }]);
  }
  return out;
}

export function navOf(w: Walk): Nav {
  const rows: Row[] = [];
  const events: RowEvent[] = [];
  const phases: Nav['phases'] = [];
  for (const phase of PHASES) {
    const pw = phase === 'packet' ? w : w[phase];
    if (!pw) continue;
    const start = rows.length;
    for (const step of pw.steps ?? []) rows.push({ phase, step });
    phases.push({ phase, start, end: rows.length, walk: pw });
    for (const e of pw.events ?? []) {
      events.push({ phase, host: e.host, kind: e.kind, ...(e.hook ? { hook: e.hook } : {}), text: e.text, row: start + Math.max(0, Math.min(e.at, rows.length - start)), ...(e.entry ? { entry: e.entry } : {}) });
    }
  }
  return { rows, stacks: stacksOf(rows), events, phases };
}

export function depth(nav: Nav, i: number): number {
  return (nav.stacks[i]?.length ?? 1) - 1;
}

/** Whether rows i and j are in one segment: the same phase, host, hook and table. */
export function sameSeg(nav: Nav, i: number, j: number): boolean {
  return segKey(nav.rows[i]) === segKey(nav.rows[j]);
}

function last(nav: Nav): number {
  return Math.max(0, nav.rows.length - 1);
}

/** Step over: past the chain this rule jumps to (to the next row at this depth or shallower). */
export function stepOver(nav: Nav, i: number): number {
  for (let j = i + 1; j < nav.rows.length; j++) if (!sameSeg(nav, i, j) || depth(nav, j) <= depth(nav, i)) return j;
  return last(nav);
}

/** Step out: back in the calling chain (or, from a built-in chain, the next table or hook). */
export function stepOut(nav: Nav, i: number): number {
  for (let j = i + 1; j < nav.rows.length; j++) if (!sameSeg(nav, i, j) || depth(nav, j) < depth(nav, i)) return j;
  return last(nav);
}

/** The first row of the next hook (or host, or phase). */
export function nextHook(nav: Nav, i: number): number {
  const r = nav.rows[i];
  for (let j = i + 1; j < nav.rows.length; j++) {
    const s = nav.rows[j];
    if (s.phase !== r.phase || s.step.host !== r.step.host || s.step.hook !== r.step.hook) return j;
  }
  return last(nav);
}

/** The first row on the next host (or phase). */
export function nextHop(nav: Nav, i: number): number {
  const r = nav.rows[i];
  for (let j = i + 1; j < nav.rows.length; j++) if (nav.rows[j].phase !== r.phase || nav.rows[j].step.host !== r.step.host) return j;
  return last(nav);
}

function chainMatches(pattern: string, chain: string): boolean {
  return pattern.endsWith('*') ? chain.startsWith(pattern.slice(0, -1)) : pattern === chain;
}

/** Whether a row is where a breakpoint stops (entering a chain, hook or host; at a rule; at a verdict). */
export function hits(nav: Nav, j: number, bp: Breakpoint): boolean {
  if (bp.enabled === false) return false;
  const r = nav.rows[j];
  if (!r) return false;
  const s = r.step;
  const prev = j > 0 ? nav.rows[j - 1] : null;
  switch (bp.kind) {
    case 'rule':
      return s.skipped === undefined && s.chain === bp.chain && s.rule === bp.rule && (bp.host === undefined || s.host === bp.host) && (bp.table === undefined || s.table === bp.table);
    case 'chain': {
      if (!bp.chain || !chainMatches(bp.chain, s.chain) || (bp.host !== undefined && s.host !== bp.host) || (bp.table !== undefined && s.table !== bp.table)) return false;
      const before = j > 0 ? nav.stacks[j - 1] : null;
      return !before || !sameSeg(nav, j - 1, j) || before[before.length - 1].chain !== s.chain;
    }
    case 'hook':
      return s.hook === bp.hook && (bp.host === undefined || s.host === bp.host) && (!prev || prev.phase !== r.phase || prev.step.host !== s.host || prev.step.hook !== s.hook);
    case 'drop':
      return !!s.matched && DROP_TARGETS.has(s.verdict ?? '');
    case 'nat':
      return !!s.matched && s.rule !== null && NAT_TARGETS.has(s.verdict ?? '');
    case 'conntrack':
      return nav.events.some((e) => e.kind === 'conntrack' && e.row === j && (bp.host === undefined || e.host === bp.host) && (!bp.state || e.text.toUpperCase().startsWith(bp.state.toUpperCase())));
    case 'host':
      return (bp.host === undefined || s.host === bp.host) && (!prev || prev.phase !== r.phase || prev.step.host !== s.host);
  }
  return false;
}

export function anyHit(nav: Nav, j: number, bps: readonly Breakpoint[]): boolean {
  return bps.some((b) => hits(nav, j, b));
}

/** Continue: the next row a breakpoint stops at, or the end. */
export function continueTo(nav: Nav, i: number, bps: readonly Breakpoint[]): number {
  for (let j = i + 1; j < nav.rows.length; j++) if (anyHit(nav, j, bps)) return j;
  return last(nav);
}

/** Reverse-continue: the previous row a breakpoint stops at, or the start. */
export function reverseContinueTo(nav: Nav, i: number, bps: readonly Breakpoint[]): number {
  for (let j = Math.min(i, nav.rows.length) - 1; j >= 0; j--) if (anyHit(nav, j, bps)) return j;
  return 0;
}

// ---- the packet at a step --------------------------------------------------------------------

export interface PacketState extends PacketJson {
  mark: number;
}

function parseAddr(s: string): { ip: string; port: number | null } {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(s) ?? [];
  if (s.includes(':') && !s.startsWith('[') && s.split(':').length > 2) return { ip: s, port: null };
  return { ip: m[1] ?? s, port: m[2] !== undefined ? Number(m[2]) : null };
}

/** A NAT event's change ("DNAT destination A:p -> B:q", "un-DNAT source …"), or null. */
export function natChange(text: string): { what: string; field: 'src' | 'dst'; from: string; to: { ip: string; port: number | null } } | null {
  const m = /^(\S+) (source|destination) (\S+) -> (\S+)/.exec(text);
  if (!m) return null;
  return { what: m[1], field: m[2] === 'source' ? 'src' : 'dst', from: m[3], to: parseAddr(m[4]) };
}

function applyNat(p: PacketState, text: string): PacketState {
  const c = natChange(text);
  if (!c) return p;
  return c.field === 'dst' ? { ...p, dst: c.to.ip, dport: c.to.port ?? p.dport } : { ...p, src: c.to.ip, sport: c.to.port ?? p.sport };
}

/** The mark after a MARK rule (--set-xmark, --set-mark, --or/--and/--xor-mark). */
export function applyMark(mark: number, spec: string): number {
  const num = (s: string): number => Number(s) >>> 0;
  let m = /--set-x?mark (0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?/i.exec(spec);
  if (m) {
    const v = num(m[1]);
    const mask = m[2] !== undefined ? num(m[2]) : 0xffffffff;
    return ((mark & ~mask) ^ v) >>> 0;
  }
  if ((m = /--or-mark (0x[0-9a-f]+|\d+)/i.exec(spec))) return (mark | num(m[1])) >>> 0;
  if ((m = /--and-mark (0x[0-9a-f]+|\d+)/i.exec(spec))) return (mark & num(m[1])) >>> 0;
  if ((m = /--xor-mark (0x[0-9a-f]+|\d+)/i.exec(spec))) return (mark ^ num(m[1])) >>> 0;
  return mark;
}

function phaseOf(nav: Nav, i: number): Nav['phases'][number] | undefined {
  return nav.phases.find((p) => i >= p.start && i < p.end) ?? nav.phases[nav.phases.length - 1];
}

/**
 * The packet as the rule at row `i` sees it, and after it: NAT events before the row applied
 * (a NAT rule's own change shows as its `after`), the mark as the MARK rules of this host set it.
 */
export function packetAt(nav: Nav, i: number): { before: PacketState; after: PacketState; changed: (keyof PacketState)[] } | null {
  const ph = phaseOf(nav, i);
  if (!ph?.walk.packet) return null;
  let p: PacketState = { ...ph.walk.packet, mark: 0 };
  for (const e of nav.events) if (e.phase === ph.phase && e.kind === 'nat' && e.row <= i) p = applyNat(p, e.text);
  // The mark: skb->mark is scrubbed when the packet crosses into another host's namespace.
  const host = nav.rows[i]?.step.host;
  let k = i;
  while (k > ph.start && nav.rows[k - 1].step.host === host) k--;
  for (let j = k; j < i; j++) {
    const s = nav.rows[j].step;
    if (s.matched && s.verdict === 'MARK' && s.rule_spec) p.mark = applyMark(p.mark, s.rule_spec);
  }
  let after = { ...p };
  const s = nav.rows[i]?.step;
  if (s?.matched && s.verdict === 'MARK' && s.rule_spec) after.mark = applyMark(after.mark, s.rule_spec);
  if (s?.matched && s.rule !== null && NAT_TARGETS.has(s.verdict ?? '')) {
    const e = nav.events.find((x) => x.phase === ph.phase && x.kind === 'nat' && x.row > i && x.host === s.host);
    if (e) after = applyNat(after, e.text);
  }
  const changed = (['src', 'sport', 'dst', 'dport', 'mark'] as const).filter((f) => p[f] !== after[f]);
  return { before: p, after, changed };
}

/** The events that have happened by row `i` (all of a phase's when at its last row). */
export function eventsSoFar(nav: Nav, i: number): RowEvent[] {
  const ph = phaseOf(nav, i);
  const atEnd = ph !== undefined && i === ph.end - 1;
  return nav.events.filter((e) => e.row <= i || (atEnd && e.phase === ph.phase && e.row <= ph.end));
}

/** The latest conntrack event of the row's host in its phase. */
export function conntrackAt(nav: Nav, i: number): RowEvent | null {
  const r = nav.rows[i];
  if (!r) return null;
  const ev = eventsSoFar(nav, i).filter((e) => e.kind === 'conntrack' && e.phase === r.phase && e.host === r.step.host);
  return ev[ev.length - 1] ?? null;
}

/** A random choice the walk made: a `statistic --mode random` rule that matched or whose draw
 *  missed (a rule that failed an earlier match drew nothing). */
export interface Decision {
  host: string;
  table: string;
  chain: string;
  rule: number;
  /** The rule's probability, as printed. */
  p: string;
  taken: boolean;
}

export function decisionsOf(w: Walk): Decision[] {
  const out: Decision[] = [];
  for (const s of w.steps ?? []) {
    const spec = s.rule_spec ?? '';
    if (s.skipped !== undefined || typeof s.rule !== 'number' || !spec.includes('--mode random')) continue;
    // (a miss is a draw only when the statistic match is the test that failed)
    if (!s.matched && !ruleParts(s).some((p) => p.hit === false && p.text.startsWith('-m statistic '))) continue;
    out.push({ host: s.host, table: s.table, chain: s.chain, rule: s.rule, p: /--probability (\S+)/.exec(spec)?.[1] ?? '?', taken: s.matched === true });
  }
  return out;
}

/** The all-outcomes tree: each edge a random choice (a rule's draw matched or missed), each
 *  outcome at the end of its walk's choices (indices into the outcomes). */
export interface OutcomeNode {
  outcomes: number[];
  edges: { decision: Decision; node: OutcomeNode }[];
}

export function outcomeTree(walks: readonly Walk[]): OutcomeNode {
  const root: OutcomeNode = { outcomes: [], edges: [] };
  walks.forEach((w, k) => {
    let node = root;
    for (const d of decisionsOf(w)) {
      let e = node.edges.find((x) => x.decision.host === d.host && x.decision.table === d.table && x.decision.chain === d.chain && x.decision.rule === d.rule && x.decision.taken === d.taken);
      if (!e) node.edges.push((e = { decision: d, node: { outcomes: [], edges: [] } }));
      node = e.node;
    }
    node.outcomes.push(k);
  });
  return root;
}

/** One part of a rule as iptables prints it — a core option (`-p tcp`), a match (`-m tcp
 *  --dport 80`) or the target — and what the step made of it: passed, failed (with why), or not
 *  tested (after the failing one; `null`). */
export interface RulePart {
  text: string;
  kind: 'core' | 'match' | 'target';
  hit: boolean | null;
  why?: string;
}

/** Words of a rule, quoted strings kept whole (with their quotes). */
function ruleWords(spec: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (let m = re.exec(spec); m; m = re.exec(spec)) out.push(m[0]);
  return out;
}

/** The core field a "why" of a core miss names (its first word: src, dst, in, out, proto). */
const CORE_WHY: Record<string, string> = { src: '-s', dst: '-d', in: '-i', out: '-o', proto: '-p', fragment: '-f' };

/** A step's rule in parts, each marked as the walk tested it. */
export function ruleParts(s: StepJson): RulePart[] {
  if (!s.rule_spec) return [];
  const words = ruleWords(s.rule_spec.replace(/^-A \S+ ?/, ''));
  const parts: RulePart[] = [];
  let i = 0;
  // Core options: [!] -s/-d/-i/-o/-p ARG, [!] -f
  while (i < words.length && words[i] !== '-m' && words[i] !== '-j' && words[i] !== '-g' && words[i] !== '-c') {
    const neg = words[i] === '!' ? 1 : 0;
    const opt = words[i + neg];
    const n = opt === '-f' ? 1 : 2;
    parts.push({ text: words.slice(i, i + neg + n).join(' '), kind: 'core', hit: true });
    i += neg + n;
  }
  while (i < words.length && words[i] === '-m') {
    let j = i + 2;
    while (j < words.length && words[j] !== '-m' && words[j] !== '-j' && words[j] !== '-g' && words[j] !== '-c') j++;
    parts.push({ text: words.slice(i, j).join(' '), kind: 'match', hit: true });
    i = j;
  }
  if (i < words.length) parts.push({ text: words.slice(i).join(' '), kind: 'target', hit: s.matched === true ? true : null });
  if (s.matched || s.miss === undefined) return s.matched ? parts : parts.map((p) => ({ ...p, hit: p.kind === 'target' ? null : p.hit }));
  const matches = parts.filter((p) => p.kind === 'match');
  if (s.miss < 0) {
    // A core field failed: the one the why names (the first that fails, in the order printed);
    // those before it passed, the rest were not tested.
    const opt = CORE_WHY[(s.why ?? '').split(' ')[0]];
    let failed = false;
    for (const p of parts) {
      const mine = opt !== undefined && !failed && p.kind === 'core' && (p.text.replace(/^! /, '') + ' ').startsWith(opt + ' ');
      if (mine) {
        p.hit = false;
        if (s.why) p.why = s.why;
        failed = true;
      } else if (failed || p.kind !== 'core' || opt === undefined) p.hit = null;
    }
    return parts;
  }
  matches.forEach((p, k) => {
    if (k < s.miss!) return;
    p.hit = k === s.miss ? false : null;
    if (k === s.miss && s.why) p.why = s.why;
  });
  return parts;
}

/** Which of a console command's packets is the command's own: the first that is not a DNS
 *  query (curl, wget and nc look the name up first), else the first. */
export function commandPacket(walks: readonly Walk[]): number {
  const k = walks.findIndex((w) => w.packet?.dport !== 53);
  return k < 0 ? 0 : k;
}

/** The conntrack entry the packet uses on row `i`'s host, as `conntrack -L` listed it at its
 *  last lookup or confirm there (of the row's phase) by that row; null before any. */
export function ctEntryAt(nav: Nav, i: number): RowEvent | null {
  const r = nav.rows[i];
  if (!r) return null;
  const ev = eventsSoFar(nav, i).filter((e) => e.entry !== undefined && e.phase === r.phase && e.host === r.step.host);
  return ev[ev.length - 1] ?? null;
}

/** A `conntrack -L` line's original tuple (`src=… dst=… sport=… dport=…`, or as far as it goes),
 *  which names the connection whatever its state and timeout. */
export function ctTuple(line: string): string {
  const words = line.split(/ +/);
  const from = words.findIndex((w) => w.startsWith('src='));
  if (from < 0) return line;
  let to = from + 1;
  while (to < words.length && !words[to].startsWith('src=') && !words[to].startsWith('[')) to++;
  return words.slice(from, to).join(' ');
}

/** The hosts the packet has been on by row `i` (of the row's phase), in order. */
export function pathSoFar(nav: Nav, i: number): string[] {
  const r = nav.rows[i];
  if (!r) return [];
  const out: string[] = [];
  for (const e of eventsSoFar(nav, i)) if (e.phase === r.phase && out[out.length - 1] !== e.host) out.push(e.host);
  if (!out.includes(r.step.host)) out.push(r.step.host);
  return out;
}

/** The row a walk's event leads to (the step after it, or its phase's last). */
export function rowOfEvent(nav: Nav, e: RowEvent): number {
  const ph = nav.phases.find((p) => p.phase === e.phase);
  if (!ph || ph.end === ph.start) return Math.max(0, Math.min(e.row, nav.rows.length - 1));
  return Math.max(ph.start, Math.min(e.row, ph.end - 1));
}

// ---- why ---------------------------------------------------------------------------------------

function statistic(spec: string | null | undefined): number | null {
  const m = /-m statistic --mode random --probability ([0-9.]+)/.exec(spec ?? '');
  return m ? Number(m[1]) : null;
}

/** When row `i` jumped from a chain of random picks: endpoint k of n (kube-proxy's rule k has p = 1/(n-k+1)). */
function pick(nav: Nav, i: number): { k: number; n: number } | null {
  const s = nav.rows[i].step;
  if (!jumpTarget(s) && !NAT_TARGETS.has(s.verdict ?? '')) return null;
  const d = nav.stacks[i].length;
  let before = 0;
  for (let j = i - 1; j >= 0; j--) {
    const t = nav.rows[j].step;
    if (!sameSeg(nav, i, j) || nav.stacks[j].length !== d || t.chain !== s.chain) break;
    if (statistic(t.rule_spec) !== null) before++;
  }
  const p = statistic(s.rule_spec);
  if (p === null && before === 0) return null;
  const k = before + 1;
  return { k, n: p === null ? k : k - 1 + Math.round(1 / p) };
}

/** The one-line reason of a step. */
export function whyOf(nav: Nav, i: number): string {
  const r = nav.rows[i];
  if (!r) return '';
  const s = r.step;
  if (s.skipped !== undefined) return `${s.skipped} rules skipped: none can match this packet`;
  if (!s.matched) return s.why ? `no match: ${s.why}` : 'no match';
  const stack = nav.stacks[i];
  if (s.rule === null || s.rule === undefined) {
    if (stack.length > 1) return `end of ${s.chain}: back to ${stack[stack.length - 2].chain}`;
    return `end of ${s.chain}: policy ${s.verdict ?? 'ACCEPT'}`;
  }
  const v = s.verdict ?? '';
  const pickText = (row: number): string => {
    const pk = pick(nav, row);
    return pk ? ` — statistic random picked endpoint ${pk.k} of ${pk.n}, p=${(1 / pk.n).toFixed(2)}` : '';
  };
  if (NAT_TARGETS.has(v)) {
    const pk = stack.length > 1 ? pickText(stack[stack.length - 2].row) : '';
    const to = /--to-(?:destination|source|ports) (\S+)/.exec(s.rule_spec ?? '')?.[1];
    const e = nav.events.find((x) => x.phase === r.phase && x.kind === 'nat' && x.row > i && x.host === s.host);
    const c = e ? natChange(e.text) : null;
    const where = c ? `${c.to.ip}${c.to.port !== null ? `:${c.to.port}` : ''}` : to;
    if (v === 'MASQUERADE') return `MASQUERADE: source becomes ${where ?? 'the outgoing interface’s address'}`;
    return `${v === 'REDIRECT' ? 'REDIRECT' : v} to ${where ?? '?'}${pk}`;
  }
  if (v === 'MARK') {
    const p = packetAt(nav, i);
    return `MARK: mark 0x${(p?.before.mark ?? 0).toString(16)} → 0x${(p?.after.mark ?? 0).toString(16)}`;
  }
  const target = jumpTarget(s);
  if (target) return `${isGoto(s, target) ? 'goto' : 'jump to'} ${target}${pickText(i)}`;
  if (v === 'RETURN') return stack.length > 1 ? `RETURN to ${stack[stack.length - 2].chain}` : `RETURN: policy of ${s.chain}`;
  if (DROP_TARGETS.has(v)) return `${v}: the packet ends here`;
  return `${v || 'matched'}`;
}

/** A Calico policy id as the Kubernetes object it came from (`ns/knp.default.NAME`). */
export function policyName(id: string): string {
  const m = /^(?:([^/]+)\/)?knp\.default\.(.+)$/.exec(id);
  return m ? `NetworkPolicy ${m[1] ?? 'default'}/${m[2]}` : `Calico policy ${id}`;
}

/**
 * The object behind a rule, in words, from the origin its step carries: "NetworkPolicy
 * default/allow-db-access, ingress rule 1", "pod default/db-… (ingress)", "Service default/db
 * (clusterIP)". Empty for a rule no object stands behind (the agents' own plumbing).
 */
export function originText(o: StepOrigin | undefined): string {
  if (!o) return '';
  if (o.agent === 'kube-proxy') {
    if (o.kind === 'service') return `Service ${o.service} (${o.role}${o.address ? ` ${o.address}` : ''})`;
    if (o.kind === 'endpoint') return `Service ${o.service}, endpoint ${o.endpoint} (${o.role})`;
    return o.setting ? `kube-proxy setting ${o.setting}` : '';
  }
  switch (o.kind) {
    case 'policy':
      return `${policyName(o.policy)}, ${o.direction}${o.rule >= 0 ? ` rule ${o.rule + 1}` : ''}`;
    case 'endpoint':
      return `pod ${o.pod} (${o.direction}${o.policy ? `, ${policyName(o.policy)}` : o.profile ? `, profile ${o.profile}` : ''})`;
    case 'dispatch':
      return `pod ${o.pod} (interface ${o.iface})`;
    case 'profile':
      return `profile ${o.profile} (${o.direction})`;
    case 'group':
      return o.policies.map(policyName).join(', ');
    case 'pool':
      return `IP pool ${o.pools.join(', ')} (${o.what})`;
    default:
      return '';
  }
}

/** The row that decided a phase's outcome: its last terminal verdict (DROP, REJECT, ACCEPT), or its last row. */
export function decidingRow(nav: Nav, phase: Phase = 'packet'): number {
  const ph = nav.phases.find((p) => p.phase === phase);
  if (!ph || ph.end === ph.start) return 0;
  for (let j = ph.end - 1; j >= ph.start; j--) {
    const s = nav.rows[j].step;
    if (s.matched && DROP_TARGETS.has(s.verdict ?? '')) return j;
  }
  return ph.end - 1;
}
