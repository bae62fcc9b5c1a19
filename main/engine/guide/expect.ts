// Checks an expected state (shared/guide.ts) against a lab: runs the command and reads what it
// printed, or sends the packet and reads its walk. The lab it is given is the caller's to throw
// away: a command may leave conntrack entries behind, a trace is not kept.

import type { CheckResult, Expectation, StepAction } from '../../../shared/guide.ts';
import type { StepJson, TraceJson } from '../../../shared/trace-json.ts';
import type { Lab } from '../lab.ts';

export type Verdict = Omit<CheckResult, 'name'>;

const squash = (l: string) => l.trim().split(/\s+/).join(' ');

/** The fields an expectation leaves out, taken from the step's action. */
export function completeExpectation(e: Expectation, action?: StepAction): Expectation {
  if (e.kind === 'output' && action?.kind === 'command') return { ...e, host: e.host ?? action.host, command: e.command ?? action.command };
  if (e.kind === 'trace' && action?.kind === 'trace') {
    return { ...e, from: e.from ?? action.from, to: e.to ?? action.to, proto: e.proto ?? action.proto, seed: e.seed ?? action.seed };
  }
  return e;
}

/** Checks `e` (completed from `action`) against `lab`. Never throws for a lab's own errors. */
export function checkExpectation(lab: Lab, e: Expectation, action?: StepAction): Verdict {
  const x = completeExpectation(e, action);
  try {
    if (x.kind === 'output') return checkOutput(lab, x);
    if (x.kind === 'trace') return checkTrace(lab, x);
    return checkReach(lab, x);
  } catch (err) {
    return { pass: false, detail: (err as Error).message };
  }
}

// ---- what a command printed ---------------------------------------------------------------------

function checkOutput(lab: Lab, e: Extract<Expectation, { kind: 'output' }>): Verdict {
  if (e.host === undefined || e.command === undefined) return { pass: false, detail: 'nothing to run: the check names no host and command' };
  const r = lab.console(e.host, e.command.split('\n'));
  if (!r) return { pass: false, detail: `${e.command}: the command is not complete (an open here-document or quote)` };
  const out = r.stdout + r.stderr;
  if (e.code !== undefined && r.code !== e.code) return { pass: false, detail: `${e.command}: exit code ${r.code}, expected ${e.code}` };
  const printed = out.split('\n').map(squash);
  let at = 0;
  for (const want of e.lines ?? []) {
    const w = squash(want);
    const i = printed.indexOf(w, at);
    if (i < 0) {
      const where = at > 0 ? ` after line ${at}` : '';
      return { pass: false, detail: `${e.command}: the line "${want.trim()}" was not printed${where}` };
    }
    at = i + 1;
  }
  for (const frag of e.contains ?? []) if (!out.includes(frag)) return { pass: false, detail: `${e.command}: "${frag}" was not printed` };
  for (const frag of e.absent ?? []) if (out.includes(frag)) return { pass: false, detail: `${e.command}: "${frag}" was printed` };
  const n = (e.lines?.length ?? 0) + (e.contains?.length ?? 0);
  return { pass: true, detail: `${e.command}: exit code ${r.code}${n ? `, ${n} expected ${n === 1 ? 'text' : 'texts'} printed` : ''}` };
}

// ---- where a packet went ------------------------------------------------------------------------

/** `pod/NS/NAME`, `node/NAME`, `host/NAME` or a bare host key, as the walk names hosts. */
function hostKey(name: string): string {
  const m = /^(?:pod|node|host)\/(.+)$/.exec(name);
  if (!m) return name;
  return name.startsWith('pod/') && !m[1].includes('/') ? `default/${m[1]}` : m[1];
}

function pattern(p: string): (s: string) => boolean {
  return p.endsWith('*') ? (s) => s.startsWith(p.slice(0, -1)) : (s) => s === p;
}

/** Whether the walk entered chain `p` or a matching rule took target `p`. */
function reaches(steps: readonly StepJson[], p: string): boolean {
  const is = pattern(p);
  return steps.some((s) => is(s.chain) || (s.matched === true && s.verdict != null && is(s.verdict.split(' ')[0])));
}

function summary(j: TraceJson): string {
  const d = j.delivered;
  const to = d ? `${j.outcome} to ${d.host} (${d.ip}${d.port !== null ? `:${d.port}` : ''})` : `${j.outcome}: ${j.reason}`;
  return `${to}, source ${j.final.src}`;
}

function runTrace(lab: Lab, e: { from?: string; to?: string; proto?: string; seed?: number }): TraceJson {
  if (e.from === undefined || e.to === undefined) throw new Error('nothing to trace: the check names no from and to');
  const proto = (e.proto ?? 'tcp') as 'tcp' | 'udp' | 'sctp' | 'icmp';
  return lab.trace({ from: e.from, to: e.to, proto, ...(e.seed !== undefined ? { seed: e.seed } : {}) }).json;
}

function checkTrace(lab: Lab, e: Extract<Expectation, { kind: 'trace' }>): Verdict {
  const j = runTrace(lab, e);
  const fail = (why: string): Verdict => ({ pass: false, detail: `${e.from} -> ${e.to}: ${why} (${summary(j)})` });
  if (e.outcome !== undefined && j.outcome !== e.outcome) return fail(`${j.outcome}, expected ${e.outcome}`);
  if (e.deliveredTo !== undefined && j.delivered?.host !== hostKey(e.deliveredTo)) return fail(`not delivered to ${e.deliveredTo}`);
  for (const p of e.passes ?? []) if (!reaches(j.steps, p)) return fail(`never reached ${p}`);
  for (const p of e.avoids ?? []) if (reaches(j.steps, p)) return fail(`reached ${p}`);
  if (e.source !== undefined) {
    const src = j.final.src;
    const ok = e.source === 'preserved' ? src === j.packet.src : e.source === 'translated' ? src !== j.packet.src : src === e.source;
    if (!ok) return fail(`the receiver saw source ${src}, expected ${e.source === 'preserved' ? `${j.packet.src} (preserved)` : e.source}`);
  }
  if (e.replyOutcome !== undefined && j.reply?.outcome !== e.replyOutcome) return fail(`the reply was ${j.reply ? j.reply.outcome : 'not sent'}, expected ${e.replyOutcome}`);
  if (e.replySource !== undefined && j.reply?.final.src !== e.replySource) return fail(`the reply reached the sender from ${j.reply ? j.reply.final.src : 'nowhere (no reply)'}, expected ${e.replySource}`);
  return { pass: true, detail: `${e.from} -> ${e.to}: ${summary(j)}` };
}

function checkReach(lab: Lab, e: Extract<Expectation, { kind: 'reach' }>): Verdict {
  const wrong: string[] = [];
  for (const c of e.cells) {
    let delivered: boolean;
    let why: string;
    try {
      const j = runTrace(lab, c);
      delivered = j.outcome === 'delivered';
      why = j.outcome;
    } catch (err) {
      delivered = false;
      why = (err as Error).message;
    }
    if (delivered !== c.allowed) wrong.push(`${c.from} -> ${c.to}: ${why}, expected ${c.allowed ? 'allowed' : 'blocked'}`);
  }
  if (wrong.length) return { pass: false, detail: wrong.join('; ') };
  return { pass: true, detail: `${e.cells.length} ${e.cells.length === 1 ? 'cell' : 'cells'} as expected` };
}
