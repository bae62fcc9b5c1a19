// Validation of a lab document read from an untrusted file: structure, names, addresses and
// size caps, with messages that say where and why. Nothing is evaluated; unknown keys are
// refused so a typo cannot silently drop data.

import { LAB_FORMAT, LAB_VERSION, type LabDoc } from './lab.ts';
import { clusterProblem, type ClusterDoc } from './cluster.ts';
import type { Exercise, Walkthrough } from './guide.ts';
import { exercisesCheck, walkthroughCheck } from './guide-check.ts';

/** A node, a pod (NAMESPACE/NAME) or the cluster's client (@cluster). */
const CLUSTER_HOST_RE = /^(@cluster|[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?)$/;

/**
 * A lab or scenario file refused: `message` says where and why; `pointer` is the JSON pointer
 * (RFC 6901) of the offending value ("" for the whole document) when one is known.
 */
export class LabFormatError extends Error {
  constructor(message: string, readonly pointer?: string) {
    super(message);
    this.name = 'LabFormatError';
  }
}

export const LIMITS = {
  fileBytes: 50 * 1024 * 1024,
  hosts: 10_000,
  lans: 10_000,
  linksPerHost: 256,
  journal: 100_000,
  stdinBytes: 20 * 1024 * 1024,
  argv: 4096,
  name: 253,
  notesBytes: 1024 * 1024,
};

/** `lab.hosts[0].links[1].lan` (the path in our messages) as a JSON pointer: `/hosts/0/links/1/lan`. */
export function pathToPointer(path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean).map((k) => '/' + k.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const DEV_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$/;
const CIDR_RE = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\/([0-9]|[12][0-9]|3[0-2])$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(o: Obj, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new LabFormatError(`${where}: unknown field "${k}"`);
}

function str(o: Obj, k: string, where: string, re?: RegExp, what = 'a string'): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > LIMITS.name * 64 || (re && !re.test(v))) throw new LabFormatError(`${where}.${k}: expected ${what}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}

function arr(o: Obj, k: string, where: string, max: number): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new LabFormatError(`${where}.${k}: expected an array`);
  if (v.length > max) throw new LabFormatError(`${where}.${k}: ${v.length} items exceed the limit of ${max}`);
  return v;
}

/** Parses and validates a lab file's text. Throws LabFormatError saying where and why. */
export function parseLabText(text: string, source = 'lab'): LabDoc {
  if (text.length > LIMITS.fileBytes) throw new LabFormatError(`${source}: file larger than ${LIMITS.fileBytes} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LabFormatError(`${source}: not a lab file (invalid JSON: ${(e as Error).message})`);
  }
  return validateLab(raw, source);
}

export function validateLab(raw: unknown, source = 'lab'): LabDoc {
  try {
    return validateLabInner(raw, source);
  } catch (e) {
    if (!(e instanceof LabFormatError) || e.pointer !== undefined) throw e;
    // Messages start with `${source}` then the path (`.hosts[0].name`) up to the first ": ".
    const rest = e.message.startsWith(source) ? e.message.slice(source.length) : '';
    const colon = rest.indexOf(': ');
    const pointer = colon > 0 ? pathToPointer(rest.slice(0, colon)) : '';
    throw new LabFormatError(pointer ? `${e.message} (at ${pointer})` : e.message, pointer);
  }
}

function validateLabInner(raw: unknown, source: string): LabDoc {
  if (!isObj(raw)) throw new LabFormatError(`${source}: not a lab file (expected a JSON object)`);
  if (raw.format !== LAB_FORMAT) throw new LabFormatError(`${source}: not a Kube Packet Lab file (format is ${JSON.stringify(raw.format) ?? 'missing'}, expected "${LAB_FORMAT}")`);
  if (typeof raw.version !== 'number' || !Number.isInteger(raw.version) || raw.version < 1)
    throw new LabFormatError(`${source}: bad version ${JSON.stringify(raw.version)}`);
  if (raw.version > LAB_VERSION)
    throw new LabFormatError(`${source}: lab file version ${raw.version} is newer than this Kube Packet Lab understands (${LAB_VERSION}); update the app`);
  only(raw, ['format', 'version', 'name', 'seed', 'lans', 'hosts', 'veths', 'journal', 'runtime', 'cluster', 'notes', 'walkthrough', 'exercises'], source);
  const name = str(raw, 'name', source);
  const seed = raw.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new LabFormatError(`${source}.seed: expected an integer 0..4294967295`);

  const lans = arr(raw, 'lans', source, LIMITS.lans).map((l, i) => {
    const w = `${source}.lans[${i}]`;
    if (!isObj(l)) throw new LabFormatError(`${w}: expected an object`);
    only(l, ['name'], w);
    return { name: str(l, 'name', w, NAME_RE, 'a name') };
  });
  const lanNames = new Set<string>();
  for (const l of lans) {
    if (lanNames.has(l.name)) throw new LabFormatError(`${source}.lans: duplicate LAN "${l.name}"`);
    lanNames.add(l.name);
  }

  const hostNames = new Set<string>();
  const hostDevs = new Map<string, Set<string>>();
  const hosts = arr(raw, 'hosts', source, LIMITS.hosts).map((h, i) => {
    const w = `${source}.hosts[${i}]`;
    if (!isObj(h)) throw new LabFormatError(`${w}: expected an object`);
    only(h, ['name', 'listen', 'links'], w);
    const hn = str(h, 'name', w, NAME_RE, 'a host name');
    if (hostNames.has(hn)) throw new LabFormatError(`${w}.name: duplicate host "${hn}"`);
    hostNames.add(hn);
    const listen = arr(h, 'listen', w, 1024).map((s, j) => {
      const ws = `${w}.listen[${j}]`;
      if (!isObj(s)) throw new LabFormatError(`${ws}: expected an object`);
      only(s, ['port', 'proto'], ws);
      if (typeof s.port !== 'number' || !Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new LabFormatError(`${ws}.port: expected 1..65535`);
      if (s.proto !== 'tcp' && s.proto !== 'udp' && s.proto !== 'sctp') throw new LabFormatError(`${ws}.proto: expected tcp, udp or sctp`);
      return { port: s.port, proto: s.proto as 'tcp' | 'udp' | 'sctp' };
    });
    const devs = new Set<string>();
    hostDevs.set(hn, devs);
    const links = arr(h, 'links', w, LIMITS.linksPerHost).map((k, j) => {
      const wl = `${w}.links[${j}]`;
      if (!isObj(k)) throw new LabFormatError(`${wl}: expected an object`);
      only(k, ['dev', 'lan', 'ip'], wl);
      const dev = str(k, 'dev', wl, DEV_RE, 'an interface name');
      if (devs.has(dev) || dev === 'lo') throw new LabFormatError(`${wl}.dev: duplicate interface "${dev}"`);
      devs.add(dev);
      const lan = str(k, 'lan', wl);
      if (!lanNames.has(lan)) throw new LabFormatError(`${wl}.lan: no LAN named "${lan}"`);
      return { dev, lan, ip: str(k, 'ip', wl, CIDR_RE, 'an address A.B.C.D/N') };
    });
    return { name: hn, listen, links };
  });

  const veths = raw.veths === undefined ? undefined : arr(raw, 'veths', source, LIMITS.hosts * 4).map((v, i) => {
    const w = `${source}.veths[${i}]`;
    if (!isObj(v)) throw new LabFormatError(`${w}: expected an object`);
    only(v, ['a', 'b'], w);
    const end = (k: 'a' | 'b') => {
      const e = v[k];
      const we = `${w}.${k}`;
      if (!isObj(e)) throw new LabFormatError(`${we}: expected an object`);
      only(e, ['host', 'dev', 'ip'], we);
      const host = str(e, 'host', we);
      const devs = hostDevs.get(host);
      if (!devs) throw new LabFormatError(`${we}.host: no host named "${host}"`);
      const dev = str(e, 'dev', we, DEV_RE, 'an interface name');
      if (devs.has(dev) || dev === 'lo') throw new LabFormatError(`${we}.dev: duplicate interface "${dev}" on host "${host}"`);
      devs.add(dev);
      const out: { host: string; dev: string; ip?: string } = { host, dev };
      if (e.ip !== undefined) out.ip = str(e, 'ip', we, CIDR_RE, 'an address A.B.C.D/N');
      return out;
    };
    return { a: end('a'), b: end('b') };
  });

  let stdinBytes = 0;
  const journal = arr(raw, 'journal', source, LIMITS.journal).map((e, i) => {
    const w = `${source}.journal[${i}]`;
    if (!isObj(e)) throw new LabFormatError(`${w}: expected an object`);
    only(e, ['host', 'argv', 'stdin'], w);
    const host = str(e, 'host', w);
    // In a cluster lab, entries also run on nodes and pods (made by the cluster, checked when
    // replayed) and on the cluster's own client.
    if (!hostNames.has(host) && !(raw.cluster !== undefined && CLUSTER_HOST_RE.test(host))) throw new LabFormatError(`${w}.host: no host named "${host}"`);
    const argv = arr(e, 'argv', w, LIMITS.argv);
    if (!argv.length || !argv.every((a) => typeof a === 'string')) throw new LabFormatError(`${w}.argv: expected a non-empty array of strings`);
    const entry: { host: string; argv: string[]; stdin?: string } = { host, argv: argv as string[] };
    if (e.stdin !== undefined) {
      if (typeof e.stdin !== 'string') throw new LabFormatError(`${w}.stdin: expected a string`);
      stdinBytes += e.stdin.length;
      if (stdinBytes > LIMITS.stdinBytes) throw new LabFormatError(`${w}.stdin: journal input exceeds ${LIMITS.stdinBytes} bytes`);
      entry.stdin = e.stdin;
    }
    return entry;
  });
  const doc: LabDoc = { format: LAB_FORMAT, version: LAB_VERSION, name, seed, lans, hosts, journal };
  if (veths) doc.veths = veths;
  if (raw.runtime !== undefined) doc.runtime = raw.runtime; // validated by the engine when applied
  if (raw.cluster !== undefined) {
    // The cluster's settings (the Kubernetes objects come from the journal as `kubectl apply`
    // entries).
    const problem = clusterProblem(raw.cluster, `${source}.cluster`);
    if (problem) throw new LabFormatError(problem);
    doc.cluster = { ...(raw.cluster as unknown as ClusterDoc) };
  }
  if (raw.notes !== undefined) {
    if (typeof raw.notes !== 'string') throw new LabFormatError(`${source}.notes: expected a string`);
    if (raw.notes.length > LIMITS.notesBytes) throw new LabFormatError(`${source}.notes: longer than ${LIMITS.notesBytes} characters`);
    doc.notes = raw.notes;
  }
  if (raw.walkthrough !== undefined) {
    const w = `${source}.walkthrough`;
    const problem = walkthroughCheck(raw.walkthrough, w);
    if (problem) throw new LabFormatError(problem);
    const wt = raw.walkthrough as unknown as Walkthrough;
    wt.steps.forEach((st, i) => {
      if (st.host !== undefined && !hostNames.has(st.host) && !(raw.cluster !== undefined && CLUSTER_HOST_RE.test(st.host))) throw new LabFormatError(`${w}.steps[${i}].host: no host named "${st.host}"`);
    });
    doc.walkthrough = structuredClone(wt);
  }
  if (raw.exercises !== undefined) {
    const problem = exercisesCheck(raw.exercises, `${source}.exercises`);
    if (problem) throw new LabFormatError(problem);
    doc.exercises = structuredClone(raw.exercises as unknown as Exercise[]);
  }
  return doc;
}
