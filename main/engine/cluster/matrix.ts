// The connectivity matrix: for every pair of pods, a real connection traced through the lab
// (no shortcut evaluator) — allowed when the probe reaches a socket listening on the port in
// the destination pod and its answer comes back (TCP SYN-ACK, UDP reply, SCTP INIT-ACK).
// Printed as Kubernetes' network-policy e2e tests print their truth tables.

import type { Lab } from '../lab.ts';
import { parseIPv4 } from '../net/ipv4.ts';
import { podKey } from './cluster.ts';

export interface MatrixOptions {
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
  /** Namespaces whose pods take part (default: all but kube-system). */
  namespaces?: string[];
}

export interface MatrixCell {
  allowed: boolean;
  /** Why, in the trace's words (the rule or event that decided). */
  reason: string;
}

export interface Matrix {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  pods: string[];
  cells: Record<string, Record<string, MatrixCell>>;
}

/** A pod of the matrix: its row and column. */
export interface MatrixPod {
  key: string;
  ip: string;
  addr: number | null;
  /** A cell's reason when allowed (the same in every row: made once). */
  connected: string;
}

/** The pods taking part, in the matrix's order. */
export function matrixPods(lab: Lab, opts: MatrixOptions): MatrixPod[] {
  const c = lab.cluster;
  if (!c) throw new Error('this lab has no cluster');
  const wanted = opts.namespaces?.length ? new Set(opts.namespaces) : null;
  return c.store
    .view('Pod')
    .filter((p) => !p.spec.hostNetwork && p.status?.podIP && (wanted ? wanted.has(p.metadata.namespace ?? 'default') : p.metadata.namespace !== 'kube-system'))
    .map((p) => {
      const key = podKey(p.metadata.namespace ?? 'default', p.metadata.name);
      const ip = p.status!.podIP!;
      return { key, ip, addr: parseIPv4(ip), connected: `connected to ${key} ${ip}:${opts.port}` };
    })
    .filter((p) => lab.hosts.has(p.key));
}

/** One row: every cell from `from`, each a connection traced through the lab and undone. */
export function matrixRow(lab: Lab, pods: readonly MatrixPod[], from: MatrixPod, opts: MatrixOptions): Record<string, MatrixCell> {
  const row: Record<string, MatrixCell> = {};
  for (const to of pods) {
    // (connectTo is connect({ from, to: `${IP}:${port}`, proto, sport: 40000 }), the text unread)
    const t = to.addr === null ? lab.connect({ from: from.key, to: `${to.ip}:${opts.port}`, proto: opts.proto, sport: 40000 }) : lab.connectTo(from.key, to.addr, opts.port, opts.proto);
    const reached = t.walk.outcome === 'delivered' && t.walk.delivered?.host === to.key;
    const back = t.reply?.outcome === 'delivered' && t.reply.delivered?.host === from.key;
    const allowed = reached && back;
    row[to.key] = { allowed, reason: allowed ? to.connected : !reached ? t.walk.reason : `the answer did not come back: ${t.reply?.reason ?? 'none sent'}` };
  }
  return row;
}

/** The matrix from its rows (`rows[i]` is pods[i]'s). */
export function matrixOf(opts: MatrixOptions, pods: readonly MatrixPod[], rows: readonly Record<string, MatrixCell>[]): Matrix {
  const cells: Matrix['cells'] = {};
  pods.forEach((p, i) => (cells[p.key] = rows[i]));
  return { port: opts.port, protocol: opts.proto.toUpperCase() as Matrix['protocol'], pods: pods.map((p) => p.key), cells };
}

export function connectivityMatrix(lab: Lab, opts: MatrixOptions): Matrix {
  const pods = matrixPods(lab, opts);
  return matrixOf(opts, pods, pods.map((from) => matrixRow(lab, pods, from, opts)));
}

/** The e2e tests' TruthTable.PrettyPrint: `.` allowed, `X` blocked, rows from, columns to. */
export function matrixText(m: Matrix): string {
  const lines = [['-', ...m.pods].join('\t')];
  for (const from of m.pods) lines.push([from, ...m.pods.map((to) => (m.cells[from][to].allowed ? '.' : 'X'))].join('\t'));
  return lines.join('\n') + '\n';
}

export function matrixJson(m: Matrix): { port: number; protocol: string; pods: string[]; allowed: Record<string, Record<string, boolean>> } {
  const allowed: Record<string, Record<string, boolean>> = {};
  for (const from of m.pods) {
    allowed[from] = {};
    for (const to of m.pods) allowed[from][to] = m.cells[from][to].allowed;
  }
  return { port: m.port, protocol: m.protocol, pods: m.pods, allowed };
}
