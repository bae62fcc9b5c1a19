// Test helpers for the extension modules: a minimal stand-in for the rule parser (option
// names, `!`, argument counts, then finish) and a fake host with the pieces a match asks for.
import type { IPv4 } from '../../../main/engine/net/ipv4.ts';
import type {
  CtView, HostEnv, MatchCtx, MatchModule, Packet, ParseCtx, RecentTables, Rule, TargetCtx, TargetModule,
} from '../../../main/engine/netfilter/types.ts';

type AnyModule<D> = MatchModule<D> | TargetModule<D>;

/** Parse `tokens` (what follows `-m NAME` / `-j NAME`) the way the rule parser hands them over. */
export function parseOpts<D>(mod: AnyModule<D>, tokens: readonly string[], ctx: Partial<ParseCtx> = {}): D {
  const pctx: ParseCtx = { table: 'filter', mode: 'command', ...ctx };
  const data = mod.create();
  let invert = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok === '!') {
      invert = true;
      continue;
    }
    if (!tok.startsWith('--')) throw new Error(`driver: unexpected token ${tok}`);
    const name = tok.slice(2);
    const n = mod.options[name];
    if (n === undefined) throw new Error(`driver: unknown option ${tok}`);
    if (invert && !(mod.invertible ?? []).includes(name)) throw new Error(`driver: ${tok} not invertible`);
    const args = tokens.slice(i + 1, i + 1 + n);
    i += n;
    mod.parse(data, name, args, invert, pctx);
    invert = false;
  }
  mod.finish?.(data, pctx);
  return data;
}

/** The error message parsing fails with ('' when it succeeds). */
export function parseError<D>(mod: AnyModule<D>, tokens: readonly string[], ctx: Partial<ParseCtx> = {}): string {
  try {
    parseOpts(mod, tokens, ctx);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

export class FakeRecent implements RecentTables {
  readonly lists = new Map<string, Map<IPv4, { stamps: number[]; ttl: number }>>();
  private list(name: string) {
    let l = this.lists.get(name);
    if (!l) this.lists.set(name, (l = new Map()));
    return l;
  }
  get(name: string, addr: IPv4) {
    return this.list(name).get(addr);
  }
  set(name: string, addr: IPv4, stamp: number, ttl: number): void {
    const l = this.list(name);
    const e = l.get(addr);
    l.delete(addr); // re-insert: Map order doubles as the LRU order
    if (e) {
      e.stamps.push(stamp);
      if (e.stamps.length > 20) e.stamps.shift();
      e.ttl = ttl;
      l.set(addr, e);
    } else l.set(addr, { stamps: [stamp], ttl });
  }
  remove(name: string, addr: IPv4): void {
    this.list(name).delete(addr);
  }
  oldest(name: string): IPv4 | undefined {
    return this.list(name).keys().next().value;
  }
}

export interface FakeHost extends HostEnv {
  clock: number;
  sets: Map<string, (pkt: Packet, dirs: readonly ('src' | 'dst')[]) => boolean>;
  recent: FakeRecent;
}

export function fakeHost(extra: Partial<Omit<HostEnv, 'recent'>> = {}): FakeHost {
  const state = new Map<Rule, Map<string, unknown>>();
  const host: FakeHost = {
    clock: 1000,
    sets: new Map(),
    recent: new FakeRecent(),
    addrType: () => 'UNICAST',
    ipsetTest(name, pkt, dirs) {
      const s = host.sets.get(name);
      return s ? s(pkt, dirs) : undefined;
    },
    random: () => 0.5,
    ruleState<T>(rule: Rule, key: string, init: () => T): T {
      let m = state.get(rule);
      if (!m) state.set(rule, (m = new Map()));
      if (!m.has(key)) m.set(key, init());
      return m.get(key) as T;
    },
    now: () => host.clock,
    ...extra,
  };
  return host;
}

export function packet(p: Partial<Packet> = {}): Packet {
  return {
    src: 0x0a000005, // 10.0.0.5
    dst: 0x0a600001, // 10.96.0.1
    proto: 6,
    sport: 40000,
    dport: 80,
    tcpFlags: 0x02,
    icmpType: 0,
    icmpCode: 0,
    icmpId: 0,
    ttl: 64,
    len: 60,
    mark: 0,
    ...p,
  };
}

export function ctView(c: Partial<CtView> = {}): CtView {
  const t = { src: 0x0a000005, dst: 0x0a600001, proto: 6, sport: 40000, dport: 80 };
  return { state: 'NEW', dir: 'ORIGINAL', orig: t, reply: t, status: new Set(), mark: 0, expires: 120, ...c };
}

export function rule(): Rule {
  return { matches: [], packets: 0, bytes: 0 };
}

export function matchCtx(host: HostEnv, c: Partial<MatchCtx> = {}): MatchCtx {
  return { hook: 'INPUT', table: 'filter', inIface: 'eth0', pkt: packet(), ct: ctView(), host, rule: rule(), ...c };
}

export function targetCtx(host: HostEnv, c: Partial<TargetCtx> = {}, lines: string[] = []): TargetCtx {
  return { ...matchCtx(host, c), log: (l: string) => lines.push(l), ...c };
}
