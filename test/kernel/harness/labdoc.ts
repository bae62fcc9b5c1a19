// A terse way for tests to describe a lab:
//   labDoc({
//     hosts: {
//       client: { links: ['eth0 lan1 10.0.1.2/24'], routes: ['default via 10.0.1.1'] },
//       router: { links: ['eth0 lan1 10.0.1.1/24', 'eth1 lan2 10.0.2.1/24'], forward: true },
//       server: { links: ['eth0 lan2 10.0.2.2/24'], listen: ['tcp/80', 'udp/53'], routes: ['default via 10.0.2.1'] },
//     },
//     journal: [['router', 'iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE']],
//   })
// LANs come from the links in order of first use. `routes` and `forward` become ordinary journal
// entries (`ip route add ...`, `sysctl -w net.ipv4.ip_forward=1`) placed before `journal`.
import { emptyLab, type HostDoc, type JournalEntry, type LabDoc, type ListenSpec } from '../../../shared/lab.ts';

export interface HostSketch {
  /** "DEV LAN A.B.C.D/N" */
  links?: string[];
  /** "tcp/80", "udp/53", "sctp/9", or a bare number for tcp. */
  listen?: Array<string | number>;
  /** Arguments of `ip route add`, e.g. "default via 10.0.1.1". */
  routes?: string[];
  /** Turn on net.ipv4.ip_forward. */
  forward?: boolean;
}

/** [host, command line split on blanks | argv, stdin?] */
export type JournalSketch = [string, string | string[], string?];

export interface LabSketch {
  name?: string;
  seed?: number;
  hosts: Record<string, HostSketch>;
  journal?: JournalSketch[];
}

function parseListen(spec: string | number, host: string): ListenSpec {
  if (typeof spec === 'number') return { proto: 'tcp', port: spec };
  const m = /^(tcp|udp|sctp)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`host ${host}: listen "${spec}" is not PROTO/PORT`);
  return { proto: m[1] as ListenSpec['proto'], port: Number(m[2]) };
}

function entry(host: string, cmd: string | string[], stdin?: string): JournalEntry {
  const argv = typeof cmd === 'string' ? cmd.trim().split(/\s+/) : cmd;
  return stdin === undefined ? { host, argv } : { host, argv, stdin };
}

export function labDoc(sketch: LabSketch): LabDoc {
  const doc = emptyLab(sketch.name ?? 'kernel-lab');
  if (sketch.seed !== undefined) doc.seed = sketch.seed;
  const lans: string[] = [];
  const setup: JournalEntry[] = [];
  for (const [name, h] of Object.entries(sketch.hosts)) {
    const host: HostDoc = { name, listen: (h.listen ?? []).map((l) => parseListen(l, name)), links: [] };
    for (const link of h.links ?? []) {
      const parts = link.trim().split(/\s+/);
      if (parts.length !== 3) throw new Error(`host ${name}: link "${link}" is not "DEV LAN A.B.C.D/N"`);
      const [dev, lan, ip] = parts;
      if (!lans.includes(lan)) lans.push(lan);
      host.links.push({ dev, lan, ip });
    }
    doc.hosts.push(host);
    if (h.forward) setup.push(entry(name, ['sysctl', '-w', 'net.ipv4.ip_forward=1']));
    for (const r of h.routes ?? []) setup.push(entry(name, `ip route add ${r}`));
  }
  doc.lans = lans.map((name) => ({ name }));
  doc.journal = [...setup, ...(sketch.journal ?? []).map(([host, cmd, stdin]) => entry(host, cmd, stdin))];
  return doc;
}

const BUILTIN: Record<string, readonly string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** iptables-restore input: each table with its built-in chains (ACCEPT), then its `-A` lines. */
export function rulesText(tables: Record<string, readonly string[]>): string {
  let out = '';
  for (const [table, rules] of Object.entries(tables)) {
    out += `*${table}\n${(BUILTIN[table] ?? []).map((c) => `:${c} ACCEPT [0:0]\n`).join('')}${rules.map((r) => `${r}\n`).join('')}COMMIT\n`;
  }
  return out;
}
