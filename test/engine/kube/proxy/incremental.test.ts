// The incremental kube-proxy sync (KubeProxySyncer): after any sequence of service and endpoint
// changes, a node restored with its partial texts holds exactly the chains, rules and origins
// that `iptables-restore --noflush` of a full generateKubeProxyRules text gives a fresh node.
import test from 'node:test';
import assert from 'node:assert/strict';
import { KubeProxySyncer, chainOrigins, generateKubeProxyRules, type Endpoint, type GenerateInput, type Layout, type Origin, type ServicePort } from '../../../../main/engine/kube/proxy/index.ts';
import { Rng } from '../../../../main/engine/random.ts';

interface SimChain {
  lines: string[];
  origins: Array<Origin | undefined>;
}
type Sim = Map<string, Map<string, SimChain>>;

/** iptables-restore --noflush on a model node: a chain line flushes (or creates), -X deletes. */
function restore(sim: Sim, text: string): void {
  let t: Map<string, SimChain> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (!sim.has(name)) sim.set(name, new Map());
      t = sim.get(name)!;
    } else if (line.startsWith(':')) t!.set(line.slice(1, line.indexOf(' ')), { lines: [], origins: [] });
    else if (line.startsWith('-X ')) {
      assert.ok(t!.has(line.slice(3)), `-X of a missing chain: ${line}`);
      t!.delete(line.slice(3));
    } else if (line.startsWith('-A ')) {
      const chain = line.slice(3, line.indexOf(' ', 3));
      const c = t!.get(chain);
      assert.ok(c, `rule for an undeclared chain: ${line}`);
      c.lines.push(line);
      c.origins.push(undefined);
    } else throw new Error(`cannot parse ${line}`);
  }
}

function setOrigins(sim: Sim, table: string, chain: string, origins: Origin[]): void {
  const c = sim.get(table)?.get(chain);
  if (!c) return;
  for (let i = 0; i < origins.length && i < c.lines.length; i++) c.origins[i] = origins[i];
}

/** A fresh node after one full sync of `input` (the reference). */
function fullNode(input: GenerateInput): Sim {
  const sim: Sim = new Map();
  const gen = generateKubeProxyRules({ ...input, existingNatChains: [] });
  restore(sim, gen.text);
  for (const table of ['filter', 'nat'] as const) for (const [chain, origins] of gen.origins[table]) setOrigins(sim, table, chain, origins);
  return sim;
}

function dump(sim: Sim): string {
  const out: string[] = [];
  for (const t of [...sim.keys()].sort()) {
    out.push(`*${t}`);
    const chains = sim.get(t)!;
    for (const c of [...chains.keys()].sort()) {
      out.push(`:${c}`);
      const ch = chains.get(c)!;
      ch.lines.forEach((l, i) => out.push(l + '  # ' + JSON.stringify(ch.origins[i] ?? null)));
    }
  }
  return out.join('\n');
}

/** Seeded numbers in [0, 1) (the engine's mulberry32). */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
}

const NODES = ['node-a', 'node-b', 'node-c'];

function randomService(r: () => number, i: number, big = false): ServicePort[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const type = pick(['ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer'] as const);
  const nPorts = r() < 0.2 ? 2 : 1;
  const base: Omit<ServicePort, 'port' | 'protocol' | 'endpoints'> = {
    namespace: pick(['default', 'kube-system', 'apps']),
    name: `svc${i}`,
    type,
    clusterIPs: r() < 0.05 ? ['None'] : [`10.96.${(i >> 8) & 255}.${i & 255}`],
  };
  const out: ServicePort[] = [];
  for (let k = 0; k < nPorts; k++) {
    const sp: ServicePort = { ...base, port: 80 + k, protocol: r() < 0.2 ? 'UDP' : 'TCP', endpoints: [] };
    if (nPorts > 1) sp.portName = `p${k}`;
    if (type !== 'ClusterIP') sp.nodePort = 30000 + ((i * 2 + k) % 2000);
    if (type === 'LoadBalancer') {
      sp.loadBalancerIngress = [{ ip: `203.0.113.${i & 255}` }];
      if (r() < 0.4) sp.loadBalancerSourceRanges = r() < 0.5 ? ['192.168.0.0/16'] : ['10.0.0.0/8', '198.51.100.0/24'];
    }
    if (r() < 0.15) sp.externalIPs = [`198.51.100.${i & 255}`];
    if (type !== 'ClusterIP' && r() < 0.4) sp.externalTrafficPolicy = 'Local';
    if (type === 'LoadBalancer' && sp.externalTrafficPolicy === 'Local') sp.healthCheckNodePort = 32000 + (i % 700);
    if (r() < 0.15) sp.internalTrafficPolicy = 'Local';
    if (r() < 0.2) {
      sp.sessionAffinity = 'ClientIP';
      if (r() < 0.5) sp.sessionAffinityTimeoutSeconds = 60;
    }
    sp.endpoints = randomEndpoints(r, i, big ? 1100 : Math.floor(r() * 5));
    out.push(sp);
  }
  return out;
}

function randomEndpoints(r: () => number, i: number, n: number): Endpoint[] {
  const eps: Endpoint[] = [];
  for (let k = 0; k < n; k++) {
    const host = Math.floor(r() * 250) + 1;
    // (More than 250 endpoints, for large-cluster mode, need addresses of their own.)
    const ep: Endpoint = { ip: n > 250 ? `10.250.${k >> 8}.${k & 255}` : `10.244.${i & 255}.${host}`, port: 8080, nodeName: NODES[Math.floor(r() * 3)] };
    const x = r();
    if (x < 0.1) ep.ready = false;
    else if (x < 0.2) Object.assign(ep, { ready: false, serving: true, terminating: true });
    eps.push(ep);
  }
  return eps;
}

function scenario(layout: Layout, seed: number, steps: number): void {
  const r = rng(seed);
  // One Service = its ServicePorts; objects kept across steps unless changed (as the cluster's cache does).
  const services = new Map<number, ServicePort[]>();
  let next = 0;
  for (let i = 0; i < 25; i++) services.set(next, randomService(r, next++));
  const syncers = new Map(NODES.map((n) => [n, new KubeProxySyncer()]));
  const nodes = new Map<string, Sim>(NODES.map((n) => [n, new Map()]));
  const inputOf = (node: string): GenerateInput => ({
    layout,
    services: [...services.values()].flat(),
    node: { name: node, ips: ['192.168.49.2'], podCIDR: '10.244.0.0/24' },
    config: { clusterCIDR: '10.244.0.0/16' },
  });
  let big = -1;
  for (let step = 0; step < steps; step++) {
    const x = r();
    const keys = [...services.keys()];
    const which = keys[Math.floor(r() * keys.length)];
    if (step === 0) {
      // nothing: the first (full) sync
    } else if (x < 0.35 && which !== undefined) {
      // endpoints of one Service change
      services.set(which, services.get(which)!.map((sp) => ({ ...sp, endpoints: randomEndpoints(r, which, Math.floor(r() * 6)) })));
    } else if (x < 0.5) services.set(next, randomService(r, next++));
    else if (x < 0.6 && which !== undefined) services.delete(which);
    else if (x < 0.7 && which !== undefined) services.set(which, randomService(r, which));
    else if (x < 0.78 && which !== undefined) services.set(which, services.get(which)!.map((sp) => ({ ...sp })));
    else if (x < 0.86) {
      // large-cluster mode on and off (more than 1,000 endpoints)
      if (big < 0) services.set((big = next), randomService(r, next++, true));
      else if (r() < 0.5) {
        // in place: the big Service's ports shrink below the mark or grow back above it
        services.set(big, services.get(big)!.map((sp) => ({ ...sp, endpoints: randomEndpoints(r, big, sp.endpoints.length > 1000 ? 300 : 1100) })));
      } else {
        services.delete(big);
        big = -1;
      }
    } else if (x < 0.93 && which !== undefined) {
      // a ServicePort loses or gets all its endpoints
      services.set(which, services.get(which)!.map((sp) => ({ ...sp, endpoints: sp.endpoints.length ? [] : randomEndpoints(r, which, 3) })));
    }
    // else: nothing changed
    for (const node of NODES) {
      const sim = nodes.get(node)!;
      const input = inputOf(node);
      const existing = () => [...(sim.get('nat')?.keys() ?? [])];
      // node-c is edited by hand now and then (a rule added to a top-level chain, a stray
      // chain named like a service's): its next sync is kube-proxy's partial sync of an edited
      // node, which writes the top-level chains whole and deletes the stray chain.
      const edited = step > 0 && step % 3 === 0 && node === 'node-c';
      if (edited) {
        sim.get('nat')!.get('KUBE-SERVICES')!.lines.unshift('-A KUBE-SERVICES -s 192.0.2.9/32 -j RETURN');
        sim.get('nat')!.get('KUBE-SERVICES')!.origins.unshift(undefined);
        sim.get('nat')!.set(`KUBE-SEP-HANDMADE${step}`, { lines: [], origins: [] });
      }
      const res = syncers.get(node)!.sync(input, step > 0 && !(step % 7 === 0 && node === 'node-b'), existing, edited);
      if (res.text !== null) restore(sim, res.text);
      for (const w of res.rewritten) setOrigins(sim, w.table, w.chain, chainOrigins(w.parts));
      const got = dump(sim).split("\n");
      const want = dump(fullNode(input)).split("\n");
      const at = got.findIndex((l, i) => l !== want[i]);
      assert.ok(at < 0 && got.length === want.length, `${layout} seed ${seed} step ${step} node ${node}: line ${at}:\n  got:  ${got[at]}\n  want: ${want[at]}`);
    }
  }
}

for (const layout of ['current', 'legacy'] as const) {
  test(`incremental kube-proxy syncs (${layout}): random changes leave the rules and origins of a full sync`, () => {
    for (let seed = 1; seed <= 6; seed++) scenario(layout, seed, 30);
  });
}

test('an unchanged input gives no restore text; a changed endpoint rewrites only its chains', () => {
  const s = new KubeProxySyncer();
  const sp: ServicePort = { namespace: 'default', name: 'web', type: 'ClusterIP', clusterIPs: ['10.96.0.10'], port: 80, protocol: 'TCP', endpoints: [{ ip: '10.244.0.5', port: 8080 }] };
  const other: ServicePort = { ...sp, name: 'db', clusterIPs: ['10.96.0.11'], port: 5432 };
  const input = (services: ServicePort[]): GenerateInput => ({ layout: 'current', services, node: { name: 'n', ips: ['192.168.49.2'] }, config: {} });
  const first = s.sync(input([sp, other]), false, () => []);
  assert.equal(first.chains, null);
  assert.equal(s.sync(input([sp, other]), true, () => []).text, null);
  const moved = { ...sp, endpoints: [{ ip: '10.244.0.6', port: 8080 }] };
  const r = s.sync(input([moved, other]), true, () => []);
  const chains = [...r.chains!].sort();
  assert.equal(chains.length, 3, chains.join(' '));
  assert.ok(chains.every((c) => /^nat\/KUBE-(SVC|SEP)-/.test(c)), chains.join(' '));
  assert.match(r.text!, /^-X KUBE-SEP-/m);
});
