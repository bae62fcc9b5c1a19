// `-j REDIRECT [--to-ports p[-p]] [--random]`: DNAT to the host itself (nat PREROUTING and
// OUTPUT). The walk picks the address: the incoming interface's primary address, or
// 127.0.0.1 for locally generated packets.

import type { TargetModule } from '../types.ts';
import { PROTO } from '../types.ts';
import { serviceToPort } from '../services.ts';
import { X6Table, xtFail, xtStrtoul } from '../xtables-parse.ts';

export interface RedirectData {
  ports?: { min: number; max: number };
  random: boolean;
}

const OPTS = new X6Table('REDIRECT', [{ name: 'to-ports' }, { name: 'random' }]);

const PORT_PROTOS = new Set<number>([PROTO.tcp, PROTO.udp, PROTO.sctp, 33 /* dccp */, PROTO.icmp]);

/** libxt_NAT's parse_ports (1.8.9) for a target without shifted port maps. */
function parsePorts(arg: string): { min: number; max: number } {
  let min: number;
  let end: number;
  const a = xtStrtoul(arg, 0n, 65535n, false);
  if (a === null) {
    // getservbyname(name, NULL): any protocol's entry
    const svc = serviceToPort(arg, 'tcp') ?? serviceToPort(arg, 'udp') ?? serviceToPort(arg, 'sctp');
    if (svc === undefined) xtFail(`Port \`${arg}' not valid`);
    min = svc;
    end = arg.length;
  } else {
    min = Number(a.value);
    end = a.end;
  }
  if (end === arg.length) return { min, max: min };
  if (arg[end] === ':') xtFail('Invalid port:port syntax - use dash');
  if (arg[end] !== '-') xtFail(`Garbage after port value: \`${arg.slice(end)}'`);
  const rest = arg.slice(end + 1);
  const b = xtStrtoul(rest, 0n, 65535n, false);
  if (b === null) xtFail(`Port \`${rest}' not valid`);
  const max = Number(b.value);
  if (max < min) xtFail(`Port range \`${rest}' funky`);
  if (b.end !== rest.length) {
    if (rest[b.end] === '/') xtFail('Shifted portmap ranges not supported with this kernel');
    xtFail(`Garbage after port range: \`${rest.slice(b.end)}'`);
  }
  return { min, max };
}

const portsText = (p: { min: number; max: number }) => (p.min === p.max ? `${p.min}` : `${p.min}-${p.max}`);

export const redirectTarget: TargetModule<RedirectData> = {
  kind: 'target',
  name: 'REDIRECT',
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  options: { 'to-ports': 1, random: 0 },
  invertible: ['to-ports', 'random'],
  create: () => ({ random: false }),
  parse(d, opt, args, invert, ctx) {
    OPTS.use(d, opt, invert);
    if (opt === 'random') {
      d.random = true;
      return;
    }
    if (!ctx.proto || !PORT_PROTOS.has(ctx.proto.num)) xtFail('Need TCP, UDP, SCTP or DCCP with port specification');
    d.ports = parsePorts(args[0]);
  },
  finish(d) {
    OPTS.finish(d);
  },
  save: (d) => `${d.ports ? ` --to-ports ${portsText(d.ports)}` : ''}${d.random ? ' --random' : ''}`,
  list: (d) => `${d.ports ? ` redir ports ${portsText(d.ports)}` : ''}${d.random ? ' random' : ''}`,
  apply: (d) => ({
    kind: 'nat',
    nat: {
      kind: 'redirect',
      ...(d.ports ? { minPort: d.ports.min, maxPort: d.ports.max } : {}),
      random: d.random,
      randomFully: false,
      persistent: false,
    },
  }),
};
