// The `kpl` commands for the lab store and scenario files: labs, open, export, import,
// history, undo, redo, diff, snapshot, restore, rename, cp, rm, trash, import-node. Each is a
// thin call into LabService; tables follow kubectl's layout (a header row, columns padded
// with three spaces, ages as kubectl prints them).

import { readFileSync, statSync } from 'node:fs';
import { LabStoreError, type LabService } from '../service/lab-service.ts';
import { writeFileAtomic } from '../service/lab-files.ts';
import { need, parseOpts, UsageError, type Out } from './options.ts';
import { decidingRow, navOf, packetAt, walkOf, whyOf, type Nav } from '../../shared/api/trace-nav.ts';
import { linkChecks } from '../../shared/api/contract.ts';
import { linkHash, linkRow, linkUrl, type TraceLink } from '../../shared/api/trace-link.ts';
import type { PacketJson } from '../../shared/trace-json.ts';


export const STORE_USAGE = `
Labs in the store (any LAB that is not a file; --db PATH or KPL_DB picks the database):
  kpl labs                                       list stored labs
  kpl open LAB                                   load a lab and summarize it
  kpl open LAB --trace NAME [--step N] [--node HOST] [--rule N]
                                                 a saved trace at a step, and the app's link to it
  kpl export LAB FILE|-                          write the lab as a .kpl scenario file
  kpl import FILE|- [--name NAME]                store a scenario file; prints the lab's name
  kpl import-node LAB NODE --iptables FILE [--ipset FILE]
                                                 a live node's iptables-save/ipset save as a host
  kpl history LAB                                every revision, the current one marked *
  kpl undo LAB | kpl redo LAB                    step back or forward one revision
  kpl diff LAB REV1 REV2 [--json]                what changed: objects, and rules per host
  kpl snapshot LAB NAME                          name the current revision
  kpl restore LAB REV|SNAPSHOT                   make an old revision current again
  kpl rename LAB NEW | kpl cp LAB NEW            rename or duplicate a stored lab
  kpl rm LAB...                                  move labs to the trash
  kpl trash [--empty | --restore NAME [--name NEW]]
                                                 list, empty or restore from the trash
`;


/** kubectl's tabwriter: minimum width 6, padding 3; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(6, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('').trimEnd() + '\n').join('');
}

/** kubectl's age format (k8s.io/apimachinery duration.HumanDuration). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Files larger than this are refused before they are read (the importer's own cap is 50 MB). */
const MAX_INPUT = 50 * 1024 * 1024;

function readInput(file: string, stdin: () => string, what: string): string {
  if (file === '-') return stdin();
  try {
    if (statSync(file).size > MAX_INPUT) throw new LabStoreError(`${what}: ${file} is larger than ${MAX_INPUT} bytes`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof LabStoreError) throw e;
    throw new UsageError(`${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Text from a lab (notes, commands, names) made safe for a terminal: control characters shown, not obeyed. */
export function safe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function rev(v: string): number | string {
  return /^[0-9]+$/.test(v) ? Number(v) : v;
}

/**
 * Runs a store command; returns its exit status, or undefined when `cmd` is not one of these.
 * Errors of the service propagate to runKpl, which prints them (exit 1).
 */
export function runStoreCommand(cmd: string, rest: string[], svc: LabService, out: Out, stdin: () => string, now: () => number = Date.now): number | undefined {
  switch (cmd) {
    case 'labs': {
      need(parseOpts(rest, [], []).pos, 0, 'kpl labs');
      const labs = svc.list();
      if (!labs.length) {
        out.stderr('No labs found.\n');
        return 0;
      }
      const t = now();
      out.stdout(table([['NAME', 'NODES', 'SERVICES', 'CHANGED'], ...labs.map((l) => [l.name, String(l.nodes), String(l.services), humanDuration(t - Date.parse(l.changed))])]));
      return 0;
    }
    case 'open': {
      const { pos, opt } = parseOpts(rest, ['trace', 'step', 'node', 'rule'], []);
      need(pos, 1, 'kpl open LAB [--trace NAME [--step N] [--node HOST] [--rule N]]');
      if (opt.has('trace')) return openTrace(svc, pos[0], opt, out);
      if (opt.size) throw new UsageError('kpl open: --step, --node and --rule need --trace NAME');
      out.stdout(describeLab(svc, pos[0], now()));
      return 0;
    }
    case 'export': {
      const { pos, opt } = parseOpts(rest, [], ['k8s']);
      if (opt.has('k8s')) {
        need(pos, 1, 'kpl export LAB --k8s');
        const doc = svc.doc(pos[0]) as unknown as { cluster?: unknown };
        if (doc.cluster === undefined) throw new LabStoreError(`export --k8s: not available for labs without a cluster (${pos[0]} has none; kpl new LAB --cluster makes one)`);
        const k8s = (svc as unknown as { exportK8s?: (ref: string) => string }).exportK8s;
        if (!k8s) throw new LabStoreError('export --k8s: exporting Kubernetes manifests is not available in this version yet');
        out.stdout(k8s.call(svc, pos[0]));
        return 0;
      }
      need(pos, 2, 'kpl export LAB FILE|-');
      const text = svc.exportScenario(pos[0]);
      if (pos[1] === '-') out.stdout(text);
      else writeFileAtomic(pos[1], text);
      return 0;
    }
    case 'import': {
      const { pos, opt } = parseOpts(rest, ['name'], []);
      need(pos, 1, 'kpl import FILE|- [--name NAME]');
      const text = readInput(pos[0], stdin, 'import');
      const name = svc.importScenario(text, { ...(opt.has('name') ? { name: opt.get('name') } : {}), source: pos[0] === '-' ? 'stdin' : pos[0] });
      out.stdout(`${name}\n`);
      return 0;
    }
    case 'import-node': {
      const { pos, opt } = parseOpts(rest, ['iptables', 'ipset'], []);
      const usage = 'kpl import-node LAB NODE --iptables FILE [--ipset FILE]';
      need(pos, 2, usage);
      const ipt = opt.get('iptables');
      if (!ipt) throw new UsageError(`usage: ${usage} (--iptables is required)`);
      if (ipt === '-' && opt.get('ipset') === '-') throw new UsageError('import-node: only one of --iptables and --ipset can read standard input');
      const iptables = readInput(ipt, stdin, 'import-node');
      const ipsetFile = opt.get('ipset');
      const ipset = ipsetFile === undefined ? undefined : readInput(ipsetFile, stdin, 'import-node');
      const r = svc.importNode(pos[0], pos[1], ipset === undefined ? { iptables } : { iptables, ipset });
      out.stdout(`${pos[1]}: ${r.added ? 'host added, ' : ''}rules${ipset !== undefined ? ' and sets' : ''} imported\n`);
      return 0;
    }
    case 'history': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 1, 'kpl history LAB');
      const t = now();
      const rows = svc.history(pos[0]).map((h) => [
        `${h.seq}${h.current ? '*' : ''}`,
        h.parent === null ? '<none>' : String(h.parent),
        humanDuration(t - Date.parse(h.at)),
        safe(h.command.replace(/\n/g, ' ')) + (h.snapshots.length ? `   [snapshot ${h.snapshots.join(', ')}]` : ''),
      ]);
      out.stdout(table([['REV', 'PARENT', 'CHANGED', 'COMMAND'], ...rows]));
      return 0;
    }
    case 'undo':
    case 'redo': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 1, `kpl ${cmd} LAB`);
      const before = svc.history(pos[0]).find((h) => h.current)!;
      const moved = cmd === 'undo' ? svc.undo(pos[0]) : svc.redo(pos[0]);
      if (!moved) {
        out.stderr(`kpl: ${cmd === 'undo' ? 'nothing to undo: the lab is at its first revision' : 'nothing to redo'}\n`);
        return 1;
      }
      const after = svc.history(pos[0]).find((h) => h.current)!;
      out.stdout(cmd === 'undo' ? `undid revision ${before.seq} (${safe(before.command)}); now at revision ${after.seq}\n` : `redid revision ${after.seq} (${safe(after.command)})\n`);
      return 0;
    }
    case 'diff': {
      const { pos, opt } = parseOpts(rest, [], ['json']);
      need(pos, 3, 'kpl diff LAB REV1 REV2 [--json]');
      const d = svc.diff(pos[0], rev(pos[1]), rev(pos[2]));
      if (opt.has('json')) {
        out.stdout(JSON.stringify(d, null, 2) + '\n');
        return 0;
      }
      if (!d.objects.length && !d.hosts.length) {
        out.stdout(`no changes between revisions ${d.from} and ${d.to}\n`);
        return 0;
      }
      const mark = { added: '+', changed: '~', removed: '-' } as const;
      let s = '';
      if (d.objects.length) s += `Objects (revision ${d.from} -> ${d.to}):\n` + d.objects.map((o) => `  ${mark[o.change]} ${o.kind} ${safe(o.name.replace(/\n/g, ' '))}\n`).join('');
      if (d.hosts.length) s += (s ? '\n' : '') + 'Rules (iptables-save):\n' + d.hosts.map((h) => safe(h.diff)).join('');
      out.stdout(s);
      return 0;
    }
    case 'snapshot': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 2, 'kpl snapshot LAB NAME');
      out.stdout(`snapshot ${pos[1]} = revision ${svc.snapshot(pos[0], pos[1])}\n`);
      return 0;
    }
    case 'restore': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 2, 'kpl restore LAB REV|SNAPSHOT');
      out.stdout(`restored ${pos[1]} as revision ${svc.restoreRevision(pos[0], rev(pos[1]))}\n`);
      return 0;
    }
    case 'rename':
    case 'mv': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 2, 'kpl rename LAB NEW');
      svc.rename(pos[0], pos[1]);
      return 0;
    }
    case 'cp': {
      const { pos } = parseOpts(rest, [], []);
      need(pos, 2, 'kpl cp LAB NEW');
      svc.duplicate(pos[0], pos[1]);
      return 0;
    }
    case 'rm': {
      const { pos } = parseOpts(rest, [], []);
      if (!pos.length) throw new UsageError('usage: kpl rm LAB...');
      for (const p of pos) svc.remove(p);
      return 0;
    }
    case 'trash': {
      const { pos, opt } = parseOpts(rest, ['restore', 'name'], ['empty']);
      need(pos, 0, 'kpl trash [--empty | --restore NAME [--name NEW]]');
      if (opt.has('empty') && opt.has('restore')) throw new UsageError('kpl trash: --empty and --restore do not go together');
      if (opt.has('empty')) {
        const n = svc.emptyTrash();
        out.stdout(`${n} lab${n === 1 ? '' : 's'} deleted\n`);
        return 0;
      }
      if (opt.has('restore')) {
        svc.restoreFromTrash(opt.get('restore')!, opt.get('name'));
        return 0;
      }
      const labs = svc.trash();
      if (!labs.length) {
        out.stderr('The trash is empty.\n');
        return 0;
      }
      const t = now();
      out.stdout(table([['NAME', 'NODES', 'SERVICES', 'TRASHED'], ...labs.map((l) => [l.name, String(l.nodes), String(l.services), humanDuration(t - Date.parse(l.trashed))])]));
      return 0;
    }
    default:
      return undefined;
  }
}

function describeLab(svc: LabService, ref: string, now: number): string {
  const lab = svc.load(ref); // it must open: replays the journal, rebuilds the dataplane
  const doc = svc.doc(ref);
  const declared = new Set(doc.hosts.map((h) => h.name));
  const derived = [...lab.hosts.keys()].filter((h) => !declared.has(h)).sort();
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${(k + ':').padEnd(14)}${v}`);
  field('Name', safe(doc.name));
  let stored = true;
  let hist: ReturnType<LabService['history']> = [];
  try {
    hist = svc.history(ref);
  } catch {
    stored = false;
  }
  if (stored) {
    const cur = hist.find((h) => h.current);
    if (cur) field('Last change', `revision ${cur.seq} of ${hist.length}, ${humanDuration(now - Date.parse(cur.at))} ago (${cur.at}): ${safe(cur.command.replace(/\n/g, ' '))}`);
  } else field('File', safe(ref));
  const cluster = (doc as unknown as { cluster?: Record<string, unknown> }).cluster;
  if (cluster) field('Cluster', Object.entries(cluster).map(([k, v]) => safe(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)).join(' '));
  field('Hosts', `${doc.hosts.length}${derived.length ? ` (and ${derived.length} made by the cluster: ${derived.map(safe).join(', ')})` : ''}`);
  const w = Math.max(8, ...doc.hosts.map((h) => h.name.length + 3), ...doc.lans.map((l) => l.name.length + 3));
  for (const h of doc.hosts) {
    const links = h.links.map((k) => `${k.dev} ${k.ip} (${k.lan})`);
    for (const v of doc.veths ?? []) {
      if (v.a.host === h.name) links.push(`${v.a.dev}${v.a.ip ? ` ${v.a.ip}` : ''} (veth to ${v.b.host} ${v.b.dev})`);
      if (v.b.host === h.name) links.push(`${v.b.dev}${v.b.ip ? ` ${v.b.ip}` : ''} (veth to ${v.a.host} ${v.a.dev})`);
    }
    const listen = h.listen.length ? `; listens ${h.listen.map((l) => `${l.port}/${l.proto}`).join(', ')}` : '';
    lines.push(`  ${h.name.padEnd(w)}${links.join(', ') || 'no interfaces'}${listen}`);
  }
  field('LANs', String(doc.lans.length));
  for (const l of doc.lans) {
    const members = [...lab.hosts].filter(([, h]) => h.net.links().some((k) => k.attach?.lan === l.name)).map(([n]) => n).sort();
    lines.push(`  ${l.name.padEnd(w)}${members.join(', ') || 'nothing attached'}`);
  }
  const perHost = new Map<string, number>();
  for (const e of doc.journal) perHost.set(e.host, (perHost.get(e.host) ?? 0) + 1);
  field('Commands', `${doc.journal.length}${perHost.size ? ` (${[...perHost].map(([h, n]) => `${h} ${n}`).join(', ')})` : ''}`);
  const traces = svc.traces(ref);
  field('Traces', traces.length ? traces.map((t) => safe(t.name)).join(', ') : 'none saved');
  if (doc.notes) field('Notes', safe(doc.notes.split('\n')[0]) + (doc.notes.includes('\n') ? ' …' : ''));
  if (doc.walkthrough) field('Walkthrough', `${safe(doc.walkthrough.title)} (${doc.walkthrough.steps.length} steps)`);
  return lines.join('\n') + '\n';
}

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(v)) throw new UsageError(`kpl open: ${flag}: expected a number, got "${safe(v)}"`);
  return Number(v);
}

function pktText(p: PacketJson & { mark?: number }): string {
  const ports = p.sport !== null && p.sport !== undefined;
  return `${p.proto} ${p.src}${ports ? `:${p.sport}` : ''} -> ${p.dst}${ports ? `:${p.dport}` : ''}${p.mark ? ` mark 0x${p.mark.toString(16)}` : ''}`;
}

const PHASE_TITLE = { packet: 'packet', reply: 'answer', ack: 'handshake ACK' } as const;

/** One step as `kpl trace` prints it: hook, table, chain (indented by its depth), rule, verdict. */
function stepLine(nav: Nav, i: number): string {
  const s = nav.rows[i].step;
  const where = `${(s.hook ?? '').padEnd(11)} ${s.table.padEnd(8)} ${'  '.repeat(Math.max(0, (nav.stacks[i]?.length ?? 1) - 1))}${s.chain}`;
  if (s.skipped !== undefined) return `    ${where} rules ${s.from ?? '?'}-${(s.from ?? 0) + s.skipped - 1} skipped (cannot match)`;
  if (s.rule === null || s.rule === undefined) return `    ${where} ${s.verdict === 'RETURN' ? 'end of chain: RETURN' : `policy ${s.verdict ?? ''}`}`;
  return `    ${where} #${s.rule} ${s.matched ? '✔' : '✘'} ${s.rule_spec ?? ''}${s.matched && s.verdict ? `  => ${s.verdict}` : ''}${!s.matched && s.why ? `  (${s.why})` : ''}`;
}

/**
 * `kpl open LAB --trace NAME [--step N] [--node HOST] [--rule N]`: the saved trace at that step
 * (numbered as the app's debugger numbers them), printed as `kpl trace` prints a step, with the
 * packet as it is there, and the links that open the app at the same place.
 */
function openTrace(svc: LabService, ref: string, opt: Map<string, string>, out: Out): number {
  const name = opt.get('trace')!;
  const want = { step: num(opt.get('step'), '--step'), node: opt.get('node'), rule: num(opt.get('rule'), '--rule') };
  const saved = svc.traces(ref).find((t) => t.name === name);
  if (!saved) {
    out.stderr(`kpl open: no saved trace ${JSON.stringify(safe(name))} in lab ${JSON.stringify(safe(ref))}\n`);
    return 1;
  }
  const nav = navOf(walkOf(saved.report));
  const row = linkRow(nav, { ...(want.step !== undefined ? { step: want.step } : {}), ...(want.node !== undefined ? { node: want.node } : {}), ...(want.rule !== undefined ? { rule: want.rule } : {}) });
  if (typeof row === 'string') {
    out.stderr(`kpl open: ${safe(row)} in trace ${JSON.stringify(safe(name))} of lab ${JSON.stringify(safe(ref))}\n`);
    return 1;
  }
  const r = nav.rows[row];
  const ph = nav.phases.find((p) => row >= p.start && row < p.end)!;
  const lines: string[] = [];
  lines.push(`trace ${JSON.stringify(name)} of lab ${JSON.stringify(ref)}, saved ${saved.at}: step ${row + 1} of ${nav.rows.length}`);
  const sent = ph.walk.packet;
  lines.push(`${PHASE_TITLE[r.phase]}${r.phase === 'packet' ? ` (seed ${saved.seed})` : ''}: ${sent ? pktText(sent) : '?'}`);
  lines.push(`  [${r.step.host}]`);
  lines.push(stepLine(nav, row));
  const p = packetAt(nav, row);
  if (p) lines.push(`  packet here: ${pktText(p.before)}${p.changed.length ? `  => ${pktText(p.after)}` : ''}`);
  const why = whyOf(nav, row);
  if (why) lines.push(`  why: ${why}`);
  const w = ph.walk;
  if (w.outcome) lines.push(`  => ${w.outcome.toUpperCase()}${w.reason ? `: ${w.reason}` : ''}${decidingRow(nav, r.phase) === row && r.step.matched && /^(DROP|REJECT)$/.test(r.step.verdict ?? '') ? ' (decided here)' : ''}`);
  // The link names the step found (node and rule kept, so the link says what was asked for).
  const link: TraceLink = { lab: ref, trace: name, step: row + 1, ...(want.node !== undefined ? { node: want.node } : {}), ...(want.rule !== undefined ? { rule: want.rule } : {}) };
  if (linkChecks.lab(ref, 'lab') !== null) lines.push('app link: none (the app opens stored labs only: kpl import a lab file first)');
  else if (linkChecks.trace(name, 'trace') !== null || (want.node !== undefined && linkChecks.node(want.node, 'node') !== null)) lines.push('app link: none (a link cannot carry this name: control characters)');
  else {
    lines.push(`app link: ${linkUrl(link)}`);
    lines.push(`browser mode: ${linkHash(link)} after the app's address`);
  }
  out.stdout(lines.map(safe).join('\n') + '\n');
  return 0;
}
