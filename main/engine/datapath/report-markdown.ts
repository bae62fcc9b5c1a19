// A trace as Markdown, to paste into an issue or a wiki: the outcome, then per packet (the
// first one, the answer, the handshake's ACK) a table of the rules it met, host by host,
// with the rule text, whether it matched, the verdict and why a rule did not match.

import type { StepJson, TraceJson, WalkJson } from './report.ts';

const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function pkt(w: WalkJson): string {
  const p = w.packet;
  return p.sport !== null ? `${p.proto} ${p.src}:${p.sport} → ${p.dst}:${p.dport}` : `${p.proto} ${p.src} → ${p.dst}`;
}

function stepRow(s: StepJson): string {
  if (s.skipped !== undefined) return `| ${cell(s.host)} | ${s.hook ?? ''} | ${s.table} | ${cell(s.chain)} | | *${s.skipped} rules skipped by the index* | | | |`;
  const rule = s.rule === null || s.rule === undefined ? 'policy' : `#${s.rule}`;
  return `| ${cell(s.host)} | ${s.hook ?? ''} | ${s.table} | ${cell(s.chain)} | ${rule} | ${s.rule_spec ? '`' + cell(s.rule_spec) + '`' : ''} | ${s.matched ? '✔' : '✘'} | ${s.verdict ?? ''} | ${cell(s.why ?? '')} |`;
}

function walkSection(title: string, w: WalkJson): string[] {
  const out = [`### ${title}: ${pkt(w)}`, '', `**${w.outcome}**: ${cell(w.reason)}`];
  const nat = [w.dnat && `DNAT to ${w.dnat}`, w.snat && `SNAT to ${w.snat}${w.masquerade ? ' (MASQUERADE)' : ''}`].filter(Boolean);
  if (nat.length) out.push('', nat.join(', '));
  out.push('', '| host | hook | table | chain | rule | rule text | matched | verdict | why not |', '|---|---|---|---|---|---|---|---|---|');
  for (const s of w.steps) out.push(stepRow(s));
  out.push('', '<details><summary>events</summary>', '', ...w.events.map((e) => `- ${cell(e.host)} ${e.hook ?? ''} ${e.kind}: ${cell(e.text)}`), '', '</details>', '');
  return out;
}

export function traceMarkdown(t: TraceJson): string {
  const out = [`## Trace ${pkt(t)} (seed ${t.seed})`, ''];
  out.push(...walkSection('Packet', t));
  if (t.reply) out.push(...walkSection('Answer', t.reply));
  if (t.ack) out.push(...walkSection('Handshake ACK', t.ack));
  if (t.outcomes.length) {
    out.push('### All outcomes', '', '| probability | outcome | delivered to |', '|---|---|---|');
    for (const o of t.outcomes) out.push(`| ${(o.probability * 100).toFixed(2)}% | ${o.outcome} | ${o.delivered ? cell(`${o.delivered.host} ${o.delivered.ip}${o.delivered.port !== null ? ':' + o.delivered.port : ''}`) : ''} |`);
    out.push('');
  }
  return out.join('\n');
}
