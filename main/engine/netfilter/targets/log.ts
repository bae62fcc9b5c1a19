// -j LOG: a kernel log line per packet ([prefix]IN=.. OUT=.. SRC=.. DST=.. LEN=.. ...), the rule
// walk continues. Level 4 (warning) by default; the prefix is cut to 29 characters.

import { IptablesError, type TargetCtx, type TargetModule } from '../types.ts';
import { formatIPv4 } from '../../net/ipv4.ts';
import { saveString, strtoui, xterr } from '../xtopt.ts';
import { tcpFlagsText } from '../matches/tcp.ts';

export interface LogData {
  level: number;
  prefix: string;
  flags: number; // 1 tcp-sequence, 2 tcp-options, 4 ip-options, 8 uid, 0x20 macdecode
  seen: number;
}

const EXT = 'LOG';
const FLAG_OPTS: Record<string, number> = {
  'log-tcp-sequence': 1, 'log-tcp-options': 2, 'log-ip-options': 4, 'log-uid': 8, 'log-macdecode': 0x20,
};
const FLAG_WORDS: readonly (readonly [number, string])[] = [
  [1, 'tcp-sequence'], [2, 'tcp-options'], [4, 'ip-options'], [8, 'uid'], [0x20, 'macdecode'],
];
/** libxtables' level names (parsing). */
const LEVELS: Readonly<Record<string, number>> = {
  alert: 1, crit: 2, debug: 7, emerg: 0, error: 3, info: 6, notice: 5, panic: 0, warning: 4,
};
/** glibc's prioritynames, first match wins (printing). */
const PRIORITY_NAMES: readonly (readonly [string, number])[] = [
  ['alert', 1], ['crit', 2], ['debug', 7], ['emerg', 0], ['err', 3], ['error', 3], ['info', 6],
  ['none', 16], ['notice', 5], ['panic', 0], ['warn', 4], ['warning', 4],
];
const BIT: Record<string, number> = { 'log-level': 1, 'log-prefix': 2 };

function logLine(d: LogData, ctx: TargetCtx): string {
  const p = ctx.pkt;
  let s = `${d.prefix}IN=${ctx.inIface ?? ''} OUT=${ctx.outIface ?? ''} `;
  s += `SRC=${formatIPv4(p.src)} DST=${formatIPv4(p.dst)} LEN=${p.len} TOS=0x00 PREC=0x00 TTL=${p.ttl} ID=0 `;
  if (p.proto === 6) {
    const flags = tcpFlagsText(p.tcpFlags & 0x3f);
    s += `PROTO=TCP SPT=${p.sport} DPT=${p.dport} WINDOW=0 RES=0x00 ${flags === 'NONE' ? '' : flags.split(',').reverse().join(' ') + ' '}URGP=0 `;
  } else if (p.proto === 17) {
    s += `PROTO=UDP SPT=${p.sport} DPT=${p.dport} LEN=${Math.max(p.len - 20, 8)} `;
  } else if (p.proto === 1) {
    s += `PROTO=ICMP TYPE=${p.icmpType} CODE=${p.icmpCode} `;
    if (p.icmpType === 0 || p.icmpType === 8) s += `ID=${p.icmpId} SEQ=0 `;
  } else s += `PROTO=${p.proto} `;
  if (d.flags & 8) s += 'UID=0 GID=0 ';
  if (p.mark) s += `MARK=0x${p.mark.toString(16)} `;
  return s;
}

export const logTarget: TargetModule<LogData> = {
  kind: 'target',
  name: EXT,
  options: { 'log-level': 1, 'log-prefix': 1, 'log-tcp-sequence': 0, 'log-tcp-options': 0, 'log-ip-options': 0, 'log-uid': 0, 'log-macdecode': 0 },
  create: () => ({ level: 4, prefix: '', flags: 0, seen: 0 }),
  parse(d, opt, args) {
    const bit = BIT[opt] ?? FLAG_OPTS[opt] << 2;
    if (d.seen & bit) throw xterr.once(EXT, opt);
    d.seen |= bit;
    if (opt === 'log-level') {
      const n = strtoui(args[0], 0, 7) ?? LEVELS[args[0]];
      if (n === undefined) throw new IptablesError(`log level "${args[0]}" unknown\n`, 2);
      d.level = n;
    } else if (opt === 'log-prefix') {
      const a = args[0];
      if (a.length < 1) throw new IptablesError('Argument must have a minimum length of 1 characters\n', 2);
      if (a.includes('\n')) throw new IptablesError('Newlines not allowed in --log-prefix', 2);
      d.prefix = a.slice(0, 29);
    } else d.flags |= FLAG_OPTS[opt];
  },
  save(d) {
    let s = d.prefix ? ' --log-prefix' + saveString(d.prefix) : '';
    if (d.level !== 4) s += ` --log-level ${d.level}`;
    for (const [opt, bit] of Object.entries(FLAG_OPTS)) if (d.flags & bit) s += ` --${opt}`;
    return s;
  },
  list(d, numeric) {
    let s = ' LOG';
    if (numeric) s += ` flags ${d.flags} level ${d.level}`;
    else {
      const name = PRIORITY_NAMES.find(([, l]) => l === d.level)?.[0];
      s += name ? ` level ${name}` : ` UNKNOWN level ${d.level}`;
      for (const [bit, word] of FLAG_WORDS) if (d.flags & bit) s += ` ${word}`;
    }
    if (d.prefix) s += ` prefix "${d.prefix}"`;
    return s;
  },
  apply(d, ctx) {
    ctx.log(logLine(d, ctx));
    return { kind: 'continue' };
  },
};
