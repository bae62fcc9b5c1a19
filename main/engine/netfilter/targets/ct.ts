// `-j CT` (raw table): sets up the conntrack entry of a new connection: --notrack leaves
// the packet untracked; zones, event masks, helpers and timeout policies are stored and
// printed exactly, but the lab's conntrack has a single zone and no helpers, so they do not
// change the walk (and a rule naming a helper or timeout policy is refused, as on a node
// that has none loaded).

import type { TargetModule } from '../types.ts';
import { X6Table, xtFail, xtUint } from '../xtables-parse.ts';

export interface CtTargetData {
  notrack: boolean;
  helper: string;
  ctevents: number; // bit per CT_EVENTS index
  expevents: number;
  zone: number;
  zoneMark: boolean;
  zoneOrig: boolean;
  zoneReply: boolean;
  timeout: string;
}

const CT_EVENTS = ['new', 'related', 'destroy', 'reply', 'assured', 'protoinfo', 'helper', 'mark', 'natseqinfo', 'secmark'];
const EXP_EVENTS = ['new'];

// 1.8.9 enforces no exclusions between CT's options (`--notrack --zone 1` is accepted)
const OPTS = new X6Table('CT', [
  { name: 'notrack' },
  { name: 'zone' },
  { name: 'ctevents' },
  { name: 'expevents' },
  { name: 'helper' },
  { name: 'timeout' },
  { name: 'zone-orig' },
  { name: 'zone-reply' },
]);

function parseEvents(names: readonly string[], arg: string): number {
  let mask = 0;
  for (const t of arg.split(',')) {
    const i = names.indexOf(t);
    if (i < 0) xtFail(`Unknown event type "${t}"`);
    mask |= 1 << i;
  }
  return mask;
}

function eventsText(names: readonly string[], mask: number): string {
  return names.filter((_, i) => mask & (1 << i)).join(',');
}

function show(d: CtTargetData, pre: string): string {
  let s = '';
  if (d.notrack) s += ` ${pre}notrack`;
  if (d.helper) s += ` ${pre}helper ${d.helper}`;
  if (d.ctevents) s += ` ${pre}ctevents ${eventsText(CT_EVENTS, d.ctevents)}`;
  if (d.expevents) s += ` ${pre}expevents ${eventsText(EXP_EVENTS, d.expevents)}`;
  if (d.zoneMark || d.zone) {
    const dir = d.zoneOrig && !d.zoneReply ? '-orig' : d.zoneReply && !d.zoneOrig ? '-reply' : '';
    s += ` ${pre}zone${dir} ${d.zoneMark ? 'mark' : d.zone}`;
  }
  if (d.timeout) s += ` ${pre}timeout ${d.timeout}`;
  return s;
}

export const ctTarget: TargetModule<CtTargetData> = {
  kind: 'target',
  name: 'CT',
  tables: ['raw'],
  options: { notrack: 0, zone: 1, ctevents: 1, expevents: 1, helper: 1, timeout: 1, 'zone-orig': 1, 'zone-reply': 1 },
  invertible: ['notrack', 'zone', 'ctevents', 'expevents', 'helper', 'timeout', 'zone-orig', 'zone-reply'],
  create: () => ({ notrack: false, helper: '', ctevents: 0, expevents: 0, zone: 0, zoneMark: false, zoneOrig: false, zoneReply: false, timeout: '' }),
  parse(d, opt, args, invert) {
    OPTS.use(d, opt, invert);
    const arg = args[0];
    switch (opt) {
      case 'notrack':
        d.notrack = true;
        return;
      case 'zone':
      case 'zone-orig':
      case 'zone-reply':
        if (opt === 'zone-orig') d.zoneOrig = true;
        if (opt === 'zone-reply') d.zoneReply = true;
        d.zone = 0;
        if (arg.toLowerCase() === 'mark') d.zoneMark = true;
        else {
          const z = xtUint(arg, 0, 65535);
          if (z === null) xtFail(`Cannot parse ${arg} as a zone ID`);
          d.zone = z;
        }
        return;
      case 'ctevents':
        d.ctevents = parseEvents(CT_EVENTS, arg);
        return;
      case 'expevents':
        d.expevents = parseEvents(EXP_EVENTS, arg);
        return;
      case 'helper':
        d.helper = arg.slice(0, 15);
        return;
      case 'timeout':
        d.timeout = arg.slice(0, 31);
        return;
    }
  },
  finish(d) {
    OPTS.finish(d);
  },
  // xt_ct_tg_check: --notrack needs nothing; helpers and timeout policies must exist
  kernelCheck: (d) => d.notrack || (d.helper === '' && d.timeout === ''),
  save: (d) => show(d, '--'),
  list: (d) => ` CT${show(d, '')}`,
  apply: (d) => (d.notrack ? { kind: 'notrack' } : { kind: 'continue' }),
};
