// The scenario file (`.kpl`): the lab document grown into the sharing format. One JSON object,
// `{"format": "kube-packet-lab", "version": 2, ...the lab document..., layout?, consoleHistory?,
// traces?}`: the document (what revisions hold) plus what goes with a lab outside its history.
// This module is the pure part: the structural guards run on parsed JSON before anything else
// looks at it, the version migrations, and the canonical (byte-stable) serialization. The JSON
// Schema check (shared/schema/kpl.schema.json) and the semantic check (lab-validate.ts) run in
// between; see main/service/scenario.ts for the whole pipeline.

import { LAB_FORMAT, LAB_VERSION, type LabDoc } from './lab.ts';
import { LabFormatError } from './lab-validate.ts';

export const SCENARIO_LIMITS = {
  fileBytes: 50 * 1024 * 1024,
  /** Lab objects: LANs, hosts, links, veths, journal entries, traces, console lines, walkthrough steps. */
  objects: 100_000,
  /** Nesting of JSON objects and arrays anywhere (opaque parts included). */
  depth: 64,
  /** JSON objects and arrays in the whole file (guards the opaque parts: runtime, layout, reports). */
  containers: 2_000_000,
};

/** Keys that could reach an object's prototype if some code ever assigned them naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface SavedTraceDoc {
  name: string;
  seed: number;
  /** When it was saved (ISO 8601, milliseconds, UTC). */
  at: string;
  /** The trace report as `kpl trace --json` prints it. */
  report: Record<string, unknown>;
}

export interface ConsoleHistoryDoc {
  host: string;
  /** Lines typed, oldest first. */
  lines: string[];
}

/** A whole scenario: the lab document plus its companions. */
export interface Scenario {
  doc: LabDoc;
  layout?: Record<string, unknown>;
  consoleHistory?: ConsoleHistoryDoc[];
  traces?: SavedTraceDoc[];
}

/** Top-level keys that are not part of the lab document (kept outside revisions). */
export const COMPANION_KEYS = ['layout', 'consoleHistory', 'traces'] as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function esc(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Walks parsed JSON without recursion (a hostile file cannot overflow the stack) and refuses
 * forbidden keys, too deep nesting and too many containers, saying where.
 */
export function scanJson(raw: unknown, source: string): void {
  const stack: { v: unknown; p: string; d: number }[] = [{ v: raw, p: '', d: 0 }];
  let containers = 0;
  while (stack.length) {
    const { v, p, d } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (++containers > SCENARIO_LIMITS.containers) throw new LabFormatError(`${source}: more than ${SCENARIO_LIMITS.containers} JSON objects and arrays (at ${p || '/'})`, p);
    if (d >= SCENARIO_LIMITS.depth) throw new LabFormatError(`${source}: nested deeper than ${SCENARIO_LIMITS.depth} levels (at ${p})`, p);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' && v[i] !== null) stack.push({ v: v[i], p: `${p}/${i}`, d: d + 1 });
    } else {
      for (const k of Object.keys(v)) {
        const at = `${p}/${esc(k)}`;
        if (FORBIDDEN_KEYS.has(k)) throw new LabFormatError(`${source}: forbidden key ${JSON.stringify(k)} (at ${at})`, at);
        const c = (v as Obj)[k];
        if (typeof c === 'object' && c !== null) stack.push({ v: c, p: at, d: d + 1 });
      }
    }
  }
}

/** Checks the magic and the version; returns the version (1..LAB_VERSION). */
export function checkHeader(raw: unknown, source: string): number {
  if (!isObj(raw)) throw new LabFormatError(`${source}: not a lab file (expected a JSON object)`, '');
  if (raw.format !== LAB_FORMAT) throw new LabFormatError(`${source}: not a Kube Packet Lab file (format is ${JSON.stringify(raw.format) ?? 'missing'}, expected "${LAB_FORMAT}")`, '/format');
  const v = raw.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new LabFormatError(`${source}: bad version ${JSON.stringify(v)} (at /version)`, '/version');
  if (v > LAB_VERSION) throw new LabFormatError(`${source}: lab file version ${v} is newer than this Kube Packet Lab understands (${LAB_VERSION}); update the app`, '/version');
  return v;
}

/**
 * Step-by-step migrations: MIGRATE[n] turns a version n object into version n+1. They work on
 * a copy of the parsed JSON before the schema check, so they must not trust its contents.
 */
const MIGRATE: Record<number, (raw: Obj) => Obj> = {
  // 1 -> 2: the sharing format only adds optional fields (notes, walkthrough, layout,
  // consoleHistory, traces, cluster); a version 1 lab is a version 2 lab as it stands.
  1: (raw) => ({ ...raw, version: 2 }),
};

export function migrateScenario(raw: Obj, from: number): Obj {
  let cur = raw;
  for (let v = from; v < LAB_VERSION; v++) cur = MIGRATE[v](cur);
  return cur;
}

/** Semantic checks of the companions, against the validated document. */
export function checkCompanions(raw: Obj, doc: LabDoc, source: string): Omit<Scenario, 'doc'> {
  const out: Omit<Scenario, 'doc'> = {};
  let objects = doc.lans.length + doc.hosts.length + (doc.veths?.length ?? 0) + doc.journal.length + (doc.walkthrough?.steps.length ?? 0) + (doc.exercises?.length ?? 0);
  for (const h of doc.hosts) objects += h.links.length;
  if (raw.layout !== undefined) out.layout = raw.layout as Obj;
  if (raw.consoleHistory !== undefined) {
    const seen = new Set<string>();
    out.consoleHistory = (raw.consoleHistory as ConsoleHistoryDoc[]).map((c, i) => {
      if (seen.has(c.host)) throw new LabFormatError(`${source}: console history of host "${c.host}" given twice (at /consoleHistory/${i}/host)`, `/consoleHistory/${i}/host`);
      seen.add(c.host);
      objects += c.lines.length;
      return { host: c.host, lines: [...c.lines] };
    });
  }
  if (raw.traces !== undefined) {
    const seen = new Set<string>();
    out.traces = (raw.traces as SavedTraceDoc[]).map((t, i) => {
      if (seen.has(t.name)) throw new LabFormatError(`${source}: two saved traces named ${JSON.stringify(t.name)} (at /traces/${i}/name)`, `/traces/${i}/name`);
      seen.add(t.name);
      if (Number.isNaN(Date.parse(t.at))) throw new LabFormatError(`${source}: not a date ${JSON.stringify(t.at)} (at /traces/${i}/at)`, `/traces/${i}/at`);
      objects++;
      return { name: t.name, seed: t.seed, at: t.at, report: t.report };
    });
  }
  if (objects > SCENARIO_LIMITS.objects) throw new LabFormatError(`${source}: ${objects} lab objects exceed the limit of ${SCENARIO_LIMITS.objects}`, '');
  return out;
}

const DOC_KEYS = ['format', 'version', 'name', 'seed', 'lans', 'hosts', 'veths', 'journal', 'runtime', 'cluster', 'notes', 'walkthrough', 'exercises'];

/**
 * The document with its keys in the canonical order (unknown keys kept, after the known ones),
 * so that equal labs serialize to equal bytes whatever built them.
 */
export function canonicalDoc(doc: LabDoc): LabDoc {
  const src = doc as unknown as Obj;
  const out: Obj = {};
  for (const k of DOC_KEYS) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src)) if (!DOC_KEYS.includes(k) && src[k] !== undefined && !FORBIDDEN_KEYS.has(k)) out[k] = src[k];
  out.format = LAB_FORMAT;
  out.version = LAB_VERSION;
  return out as unknown as LabDoc;
}

/** The scenario as one JSON object in canonical key order. */
export function scenarioObject(s: Scenario): Obj {
  const out: Obj = { ...canonicalDoc(s.doc) };
  if (s.layout !== undefined) out.layout = s.layout;
  if (s.consoleHistory?.length) out.consoleHistory = s.consoleHistory.map((c) => ({ host: c.host, lines: c.lines }));
  if (s.traces?.length) out.traces = s.traces.map((t) => ({ name: t.name, seed: t.seed, at: t.at, report: t.report }));
  return out;
}

/** The file's text: two-space JSON and a final newline (stable: export, import, export is byte-identical). */
export function serializeScenario(s: Scenario): string {
  return JSON.stringify(scenarioObject(s), null, 2) + '\n';
}

// ---- what a lab holds, for listings -------------------------------------------------------------

export interface LabCounts {
  /** Hosts plus the cluster's nodes. */
  nodes: number;
  hosts: number;
  /** Kubernetes Services (the cluster's own `kubernetes` and `kube-dns` included). */
  services: number;
}

const serviceMemo = new Map<string, { add: string[]; del: string[] }>();

/** Services a manifest text creates (`ns/name`), read line by line (no YAML parse: saves stay fast). */
function servicesIn(text: string): string[] {
  const out: string[] = [];
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      const items = Array.isArray(v) ? v : isObj(v) && v.kind === 'List' && Array.isArray(v.items) ? v.items : [v];
      for (const it of items) {
        if (!isObj(it) || it.kind !== 'Service' || !isObj(it.metadata) || typeof it.metadata.name !== 'string') continue;
        out.push(`${typeof it.metadata.namespace === 'string' ? it.metadata.namespace : 'default'}/${it.metadata.name}`);
      }
    } catch {
      // not JSON after all: nothing counted
    }
    return out;
  }
  for (const doc of text.split(/^---[^\n]*$/m)) {
    if (!/^kind:\s*["']?Service["']?\s*$/m.test(doc)) continue;
    const meta = /^metadata:\s*\n((?:[ \t]+[^\n]*\n?|\s*\n)*)/m.exec(doc);
    if (!meta) continue;
    const name = /^[ \t]+name:\s*["']?([^"'\s#]+)/m.exec(meta[1]);
    const ns = /^[ \t]+namespace:\s*["']?([^"'\s#]+)/m.exec(meta[1]);
    if (name) out.push(`${ns ? ns[1] : 'default'}/${name[1]}`);
  }
  return out;
}

function serviceEffect(argv: string[], stdin: string | undefined): { add: string[]; del: string[] } {
  if (argv[0] !== 'kubectl') return { add: [], del: [] };
  const verb = argv.find((a, i) => i > 0 && !a.startsWith('-'));
  const nsAt = argv.findIndex((a) => a === '-n' || a === '--namespace');
  const ns = nsAt > 0 ? argv[nsAt + 1] ?? 'default' : argv.find((a) => a.startsWith('--namespace='))?.slice(12) ?? 'default';
  const fromStdin = () => {
    if (stdin === undefined) return [];
    const key = stdin.length > 256 ? stdin : '';
    const hit = key ? serviceMemo.get(key) : undefined;
    if (hit) return hit.add;
    const found = servicesIn(stdin);
    if (key) {
      if (serviceMemo.size >= 8) serviceMemo.clear();
      serviceMemo.set(key, { add: found, del: [] });
    }
    return found;
  };
  if (verb === 'apply' || verb === 'create' && argv.includes('-f')) return { add: fromStdin(), del: [] };
  if (verb === 'create' && argv[argv.indexOf('create') + 1] === 'service') return { add: [`${ns}/${argv[argv.indexOf('create') + 3] ?? ''}`], del: [] };
  if (verb === 'expose') {
    const nameAt = argv.indexOf('--name');
    const target = argv[argv.indexOf('expose') + 1] ?? '';
    return { add: [`${ns}/${nameAt > 0 ? argv[nameAt + 1] : target.split('/').pop()}`], del: [] };
  }
  if (verb === 'delete') {
    if (argv.includes('-f')) return { add: [], del: fromStdin() };
    const rest = argv.slice(argv.indexOf('delete') + 1).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '-n' && all[i - 1] !== '--namespace');
    const del: string[] = [];
    if (['svc', 'service', 'services'].includes(rest[0] ?? '')) for (const n of rest.slice(1)) del.push(`${ns}/${n}`);
    for (const r of rest) {
      const m = /^(?:svc|services?)\/(.+)$/.exec(r);
      if (m) del.push(`${ns}/${m[1]}`);
    }
    return { add: [], del };
  }
  return { add: [], del: [] };
}

/** Hosts, nodes and Services of a lab document (nodes and Services from its cluster, when it has one). */
export function labCounts(doc: LabDoc): LabCounts {
  const raw = doc as unknown as Obj;
  const hosts = Array.isArray(doc.hosts) ? doc.hosts.length : 0;
  const cluster = isObj(raw.cluster) ? raw.cluster : undefined;
  const clusterNodes = cluster && typeof cluster.nodes === 'number' ? cluster.nodes : 0;
  // A document may also carry a plain list of Services (older tests and tools).
  if (Array.isArray(raw.services)) return { nodes: hosts + clusterNodes, hosts, services: raw.services.length };
  const services = new Set<string>(cluster ? ['default/kubernetes', 'kube-system/kube-dns'] : []);
  for (const e of Array.isArray(doc.journal) ? doc.journal : []) {
    if (e.argv?.[0] !== 'kubectl') continue;
    const { add, del } = serviceEffect(e.argv, e.stdin);
    for (const s of add) services.add(s);
    for (const s of del) services.delete(s);
  }
  return { nodes: hosts + clusterNodes, hosts, services: services.size };
}
