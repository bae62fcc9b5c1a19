// Test helpers for the kube-proxy generator: the canonical ordering kube-proxy's own unit tests
// compare in (their sortIPTablesRules: tables by name, chains KUBE-NODEPORTS, KUBE-SERVICES,
// then KUBE-* alphabetically, rules grouped by chain, KUBE-SERVICES / KUBE-NODEPORTS rules
// stably sorted by the service name in their comment), a per-chain extractor, and a line-by-line
// equality assertion that names the first differing line.
import assert from 'node:assert/strict';
import { generateKubeProxyRules, type Endpoint, type GenerateInput, type GenerateResult, type ServicePort } from '../../../../main/engine/kube/proxy/index.ts';

interface Chain {
  name: string;
  rules: string[];
  deleted: boolean;
}
interface Table {
  name: string;
  chains: Chain[];
}

export function parseDump(text: string): Table[] {
  const tables: Table[] = [];
  let t: Table | null = null;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      t = { name: line.slice(1), chains: [] };
      tables.push(t);
    } else if (line === 'COMMIT') {
      t = null;
    } else {
      if (!t) throw new Error(`line outside a table: ${line}`);
      const table = t;
      const find = (name: string): Chain => {
        const c = table.chains.find((x) => x.name === name);
        if (!c) throw new Error(`no chain ${name} for: ${line}`);
        return c;
      };
      if (line.startsWith(':')) {
        const name = line.slice(1).split(' ')[0];
        if (!table.chains.some((c) => c.name === name)) table.chains.push({ name, rules: [], deleted: false });
      } else if (line.startsWith('-A ')) find(line.split(' ')[1]).rules.push(line);
      else if (line.startsWith('-X ')) find(line.slice(3)).deleted = true;
      else throw new Error(`cannot parse ${line}`);
    }
  }
  return tables;
}

/** The value of `--comment` in a rule line (quotes removed), or null. */
export function commentOf(rule: string): string | null {
  const i = rule.indexOf('--comment ');
  if (i < 0) return null;
  const rest = rule.slice(i + 10);
  if (rest.startsWith('"')) return rest.slice(1, rest.indexOf('"', 1));
  const sp = rest.indexOf(' ');
  return sp < 0 ? rest : rest.slice(0, sp);
}

function serviceNameOf(rule: string): string | null {
  const c = commentOf(rule);
  if (c === null) return null;
  const m = /[ :]/.exec(c);
  return m ? c.slice(0, m.index) : c;
}

function byServiceName(a: string, b: string): number {
  const x = serviceNameOf(a);
  const y = serviceNameOf(b);
  if (x === null || y === null) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** kube-proxy's test-side sortIPTablesRules, reimplemented. */
export function upstreamSort(text: string): string {
  const tables = parseDump(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rank = (n: string): number => (n === 'KUBE-NODEPORTS' ? 0 : n === 'KUBE-SERVICES' ? 1 : n.startsWith('KUBE-') ? 2 : 3);
  const out: string[] = [];
  for (const t of tables) {
    t.chains.sort((a, b) => rank(a.name) - rank(b.name) || (rank(a.name) >= 2 ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : 0));
    for (const c of t.chains) {
      if (c.name === 'KUBE-NODEPORTS') c.rules.sort(byServiceName);
      if (c.name === 'KUBE-SERVICES' && t.name === 'filter') c.rules.sort(byServiceName);
      if (c.name === 'KUBE-SERVICES' && t.name === 'nat') {
        const last = (r: string): boolean => (commentOf(r) ?? '').includes('must be the last rule');
        c.rules.sort((a, b) => (last(a) ? (last(b) ? 0 : 1) : last(b) ? -1 : byServiceName(a, b)));
      }
    }
    out.push(`*${t.name}`);
    for (const c of t.chains) out.push(`:${c.name} - [0:0]`);
    for (const c of t.chains) out.push(...c.rules);
    for (const c of t.chains) if (c.deleted) out.push(`-X ${c.name}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** The `-A` lines of one chain of one table, in order. */
export function chainRules(text: string, table: string, chain: string): string[] {
  const t = parseDump(text).find((x) => x.name === table);
  return t?.chains.find((c) => c.name === chain)?.rules ?? [];
}

/** Strip the common indentation of a template literal and its first/last blank lines. */
export function dedent(s: string): string {
  const lines = s.replace(/^\n/, '').replace(/\n[ \t]*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n') + '\n';
}

/** Equal line by line; the message names the first line that differs. */
export function assertSameLines(actual: string, expected: string, label: string): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      assert.fail(`${label}: line ${i + 1} differs\n  expected: ${e[i] ?? '(end)'}\n  actual:   ${a[i] ?? '(end)'}\n--- full actual ---\n${actual}`);
    }
  }
}

/** A service port with the defaults kube-proxy's unit tests use. */
export function svc(namespace: string, name: string, rest: Partial<ServicePort> & { clusterIP?: string } = {}): ServicePort {
  const { clusterIP, ...others } = rest;
  return {
    namespace,
    name,
    protocol: 'TCP',
    port: 80,
    type: 'ClusterIP',
    clusterIPs: clusterIP ? [clusterIP] : [],
    endpoints: [],
    ...others,
  };
}

export function ep(ip: string, port: number, rest: Partial<Endpoint> = {}): Endpoint {
  return { ip, port, ...rest };
}

/** NewFakeProxier: node test-node 192.168.0.2, pod CIDR 10.0.0.0/8, mark 0x4000, no --random-fully. */
export function upstreamInput(services: ServicePort[], extra: Partial<GenerateInput> = {}): GenerateInput {
  return {
    layout: 'current',
    services,
    node: { name: 'test-node', ips: ['192.168.0.2', '192.168.1.2', '192.168.99.11'], randomFully: false, nfacct: true },
    config: { clusterCIDR: '10.0.0.0/8' },
    masqueradeMarkText: '0x4000',
    ...extra,
  };
}

export function gen(input: GenerateInput): GenerateResult {
  return generateKubeProxyRules(input);
}
