// Turns a trace into what `kpl trace` prints: the JSON document users' scripts read (field
// names are a public interface) and a readable step list. Rule text is produced here, on
// demand, not during the walk.

import { formatIPv4 } from '../net/ipv4.ts';
import { PROTO, type Packet, type Rule } from '../netfilter/types.ts';
import { tcpFlagsText } from '../netfilter/matches/tcp.ts';
import type { Outcome, TraceResult, TraceRun } from './trace.ts';
import type { HostEnv } from '../netfilter/types.ts';
import { whyNot } from './explain.ts';
import type { RuleStep } from './traverse.ts';
import type { PacketWalk } from './walk.ts';

export type RuleText = (chain: string, rule: Rule) => string;

/** What the report needs of the lab: rule text, and each host's environment to explain misses. */
import type { CalicoOrigin, PacketJson, StepJson, StepOrigin, TraceJson, WalkJson } from '../../../shared/trace-json.ts';

export type { PacketJson, StepJson, TraceJson, WalkJson };

export interface ReportEnv {
  text: RuleText;
  env(host: string): HostEnv | undefined;
}

export interface TraceReport {
  json: TraceJson;
  text: string;
}

const PROTO_NAMES: Record<number, string> = { [PROTO.tcp]: 'tcp', [PROTO.udp]: 'udp', [PROTO.icmp]: 'icmp', [PROTO.sctp]: 'sctp' };

function hasPorts(p: Packet): boolean {
  return p.proto === PROTO.tcp || p.proto === PROTO.udp || p.proto === PROTO.sctp;
}

export function packetJson(p: Packet): PacketJson {
  const j: PacketJson = {
    src: formatIPv4(p.src),
    dst: formatIPv4(p.dst),
    proto: PROTO_NAMES[p.proto] ?? String(p.proto),
    sport: hasPorts(p) ? p.sport : null,
    dport: hasPorts(p) ? p.dport : null,
  };
  if (p.proto === PROTO.icmp) j.icmp = { type: p.icmpType, code: p.icmpCode };
  if (p.proto === PROTO.tcp) j.flags = tcpFlagsText(p.tcpFlags);
  return j;
}

// Properties computed on first read, then kept: own and enumerable (JSON.stringify, structured
// clone and spreads see them as plain values), read through one getter shared by every object,
// with what it needs kept under a hidden key. (A getter made per object would be a new accessor
// pair each time, held in old space: it kept every trace's walks alive past the next scavenge.)
const MADE_FROM = Symbol('made from');

interface WalkSource {
  w: PacketWalk;
  env: ReportEnv;
}

function keep<T>(o: object, key: string, v: T): T {
  Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  return v;
}

function stepsOf(this: { [MADE_FROM]: WalkSource }): StepJson[] {
  const { w, env } = this[MADE_FROM];
  return keep(this, 'steps', w.steps.map((s) => stepJson(s, env)));
}

function eventsOf(this: { [MADE_FROM]: WalkSource }): WalkJson['events'] {
  const { w } = this[MADE_FROM];
  return keep(this, 'events', w.events.map((e) => (e.entry === undefined ? { host: e.host, kind: e.kind, hook: e.hook, text: e.text, at: e.at } : { host: e.host, kind: e.kind, hook: e.hook, text: e.text, at: e.at, entry: e.entry })));
}

const LAZY_STEPS: PropertyDescriptor = { enumerable: true, configurable: true, get: stepsOf };
const LAZY_EVENTS: PropertyDescriptor = { enumerable: true, configurable: true, get: eventsOf };

export function stepJson(s: RuleStep, r: ReportEnv): StepJson {
  if (s.skipped !== undefined) return { host: s.host, hook: s.hook, table: s.table, chain: s.chain, skipped: s.skipped, from: s.from };
  const j: StepJson = {
    host: s.host,
    hook: s.hook,
    table: s.table,
    chain: s.chain,
    rule: s.rule,
    rule_spec: s.ruleObj ? r.text(s.chain, s.ruleObj) : null,
    matched: s.matched,
    verdict: s.verdict,
  };
  const env = !s.matched && s.ruleObj ? r.env(s.host) : undefined;
  if (env) j.why = whyNot(s, env);
  if (!s.matched && s.failedAt !== undefined) j.miss = s.failedAt;
  const origin = s.ruleObj?.origin ? originJson(s.ruleObj.origin) : undefined;
  if (origin) j.origin = origin;
  return j;
}

/** Fills `j` with a walk's JSON fields, in the document's order. */
function walkJson(j: object, w: PacketWalk, first: Packet, text: ReportEnv): WalkJson {
  const o = j as WalkJson;
  o.outcome = w.outcome;
  o.delivered = w.delivered;
  o.dnat = w.dnat;
  o.snat = w.snat;
  o.masquerade = w.masquerade;
  o.reason = w.reason;
  o.packet = packetJson(first);
  o.final = packetJson(w.final);
  // The walk keeps its steps; their JSON form (rule texts, explanations of misses) is made
  // when first read — by JSON.stringify too — so recording a walk past hundreds of rules does
  // not format each of them.
  Object.defineProperty(o, MADE_FROM, { value: { w, env: text } });
  Object.defineProperty(o, 'steps', LAZY_STEPS);
  Object.defineProperty(o, 'events', LAZY_EVENTS);
  return o;
}

function firstPacket(w: PacketWalk): Packet {
  return w.events[0]?.pkt ?? w.final;
}

/** A run's walks: the first packet's fields, then `reply` and `ack`. */
function runJson(j: object, r: TraceRun, text: ReportEnv) {
  const o = walkJson(j, r.walk, firstPacket(r.walk), text) as WalkJson & { reply: WalkJson | null; ack: WalkJson | null };
  o.reply = r.reply ? walkJson({}, r.reply, firstPacket(r.reply), text) : null;
  o.ack = r.ack ? walkJson({}, r.ack, firstPacket(r.ack), text) : null;
  return o;
}

export function traceReport(t: TraceResult, seed: number, text: ReportEnv): TraceReport {
  const json = runJson({}, t, text) as TraceJson;
  json.seed = seed;
  if (t.later) json.later = { ...t.later };
  json.outcomes = (t.outcomes ?? []).map((o: Outcome) => runJson({ probability: round(o.probability) }, o, text) as unknown as TraceJson['outcomes'][number]);
  const report = { json } as TraceReport;
  Object.defineProperty(report, MADE_FROM, { value: { t, seed, env: text } });
  Object.defineProperty(report, 'text', LAZY_TEXT);
  return report;
}

function textOf(this: { [MADE_FROM]: { t: TraceResult; seed: number; env: ReportEnv } }): string {
  const { t, seed, env } = this[MADE_FROM];
  return keep(this, 'text', traceText(t, seed, env));
}

const LAZY_TEXT: PropertyDescriptor = { enumerable: true, configurable: true, get: textOf };

function round(p: number): number {
  return Math.round(p * 1e12) / 1e12;
}

// ---------------------------------------------------------------------------------------------
// Text form

function pktLine(p: Packet): string {
  const j = packetJson(p);
  return hasPorts(p) ? `${j.proto} ${j.src}:${j.sport} -> ${j.dst}:${j.dport}` : `${j.proto} ${j.src} -> ${j.dst}`;
}

export function walkText(w: PacketWalk, r: ReportEnv, title: string): string {
  const out: string[] = [`${title}: ${pktLine(firstPacket(w))}`];
  let ei = 0;
  let host = '';
  const emitEvents = (upto: number) => {
    while (ei < w.events.length && w.events[ei].at <= upto) {
      const e = w.events[ei++];
      if (e.host !== host) {
        host = e.host;
        out.push(`  [${host}]`);
      }
      out.push(`    ${(e.hook ?? '').padEnd(11)} ${e.kind.padEnd(10)} ${e.text}`);
    }
  };
  w.steps.forEach((s, i) => {
    emitEvents(i);
    if (s.host !== host) {
      host = s.host;
      out.push(`  [${host}]`);
    }
    const where = `${s.hook.padEnd(11)} ${s.table.padEnd(8)} ${'  '.repeat(s.depth)}${s.chain}`;
    if (s.skipped !== undefined) out.push(`    ${where} rules ${s.from}-${(s.from ?? 0) + s.skipped - 1} skipped (cannot match)`);
    else if (s.rule === null) out.push(`    ${where} ${s.verdict === 'RETURN' ? 'end of chain: RETURN' : `policy ${s.verdict}`}`);
    else {
      const env = !s.matched ? r.env(s.host) : undefined;
      const why = env ? whyNot(s, env) : '';
      out.push(`    ${where} #${s.rule} ${s.matched ? '✔' : '✘'} ${s.ruleObj ? r.text(s.chain, s.ruleObj) : ''}${s.matched && s.verdict ? `  => ${s.verdict}` : ''}${why ? `  (${why})` : ''}`);
    }
  });
  emitEvents(Infinity);
  const d = w.delivered;
  out.push(`  => ${w.outcome.toUpperCase()}${d ? ` at ${d.host} ${d.ip}${d.port !== null ? ':' + d.port : ''}` : ''}: ${w.reason}`);
  const nat = [w.dnat && `dnat ${w.dnat}`, w.snat && `snat ${w.snat}`, w.masquerade && 'masquerade'].filter(Boolean);
  if (nat.length) out.push(`     ${nat.join(', ')}`);
  return out.join('\n') + '\n';
}

export function traceText(t: TraceResult, seed: number, text: ReportEnv): string {
  const which = t.later ? (t.later.opened ? `packet ${t.later.packet} of the connection` : `packet (the connection did not open: packet ${t.later.packet} was not sent)`) : 'packet';
  let s = walkText(t.walk, text, `${which} (seed ${seed})`);
  if (t.reply) s += '\n' + walkText(t.reply, text, 'answer');
  if (t.ack) s += '\n' + walkText(t.ack, text, 'handshake ACK');
  if (t.outcomes) {
    s += '\nall outcomes:\n';
    for (const o of t.outcomes) {
      const d = o.walk.delivered;
      s += `  ${(o.probability * 100).toFixed(2).padStart(6)}%  ${o.walk.outcome}${d ? ` at ${d.host} ${d.ip}${d.port !== null ? ':' + d.port : ''}` : ''}${o.walk.dnat ? ` (dnat ${o.walk.dnat})` : ''}\n`;
    }
  }
  return s;
}

/**
 * A rule's origin as the trace JSON carries it. The agents keep their own shapes on the rule
 * (kube-proxy: Service and endpoint objects; Felix: pod, policy and profile names), told apart
 * here by their fields; kube-proxy's objects shrink to their names.
 */
function originJson(o: unknown): StepOrigin | undefined {
  if (!o || typeof o !== 'object') return undefined;
  const x = o as Record<string, unknown>;
  const svc = x.service as { servicePortName?: string } | undefined;
  if (svc && typeof svc === 'object') {
    const service = svc.servicePortName ?? '';
    if (x.kind === 'endpoint') {
      const ep = x.endpoint as { ip: string; port: number };
      return { agent: 'kube-proxy', kind: 'endpoint', service, endpoint: `${ep.ip}:${ep.port}`, role: String(x.role) };
    }
    return { agent: 'kube-proxy', kind: 'service', service, role: String(x.role), ...(typeof x.address === 'string' ? { address: x.address } : {}) };
  }
  if (x.kind === 'node') return { agent: 'kube-proxy', kind: 'node', role: String(x.role), ...(typeof x.setting === 'string' ? { setting: x.setting } : {}) };
  return { agent: 'calico', ...(o as CalicoOrigin) };
}
