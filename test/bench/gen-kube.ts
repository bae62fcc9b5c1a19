// Generates kube-proxy-style iptables-restore dumps of any size, for the benchmark and the
// big-ruleset tests: per Service a KUBE-SERVICES jump, a KUBE-SVC chain and one KUBE-SEP
// chain per endpoint doing the DNAT — three nat rules per single-endpoint Service.

import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** kube-proxy's chain-name hash: base32(sha256(s)) cut to 16 characters. */
export function kubeHash(s: string): string {
  const d = createHash('sha256').update(s).digest();
  let bits = 0, value = 0, out = '';
  for (const byte of d) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return out;
}

export function ip(base: number, i: number): string {
  const n = (base + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const VIP_BASE = (10 << 24) | (96 << 16) | (1 << 8); // 10.96.1.0
const POD_BASE = (10 << 24) | (244 << 16) | (1 << 8); // 10.244.1.0

export interface KubeDump {
  text: string;
  rules: number;
  vip(i: number): string;
  endpoint(i: number, e?: number): string;
}

/** A nat table with `services` Services of `endpoints` endpoints each, port 80 -> 8080. */
export function kubeNatDump(services: number, endpoints = 1, opts: { endpointBase?: number } = {}): KubeDump {
  const epBase = opts.endpointBase ?? POD_BASE;
  const head: string[] = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  const decl: string[] = [':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]'];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const svcRules: string[] = [];
  const chainRules: string[] = [];
  let count = rules.length;
  for (let i = 0; i < services; i++) {
    const name = `bench/svc${i}`;
    const svc = `KUBE-SVC-${kubeHash(name + 'tcp')}`;
    decl.push(`:${svc} - [0:0]`);
    svcRules.push(`-A KUBE-SERVICES -d ${ip(VIP_BASE, i)}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j ${svc}`);
    count++;
    for (let e = 0; e < endpoints; e++) {
      const ep = `${ip(epBase, i * endpoints + e)}:8080`;
      const sep = `KUBE-SEP-${kubeHash(name + 'tcp' + ep)}`;
      decl.push(`:${sep} - [0:0]`);
      const left = endpoints - e;
      const prob = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      chainRules.push(`-A ${svc} -m comment --comment "${name} -> ${ep}"${prob} -j ${sep}`);
      chainRules.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ep}`);
      count += 2;
    }
  }
  svcRules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  decl.push(':KUBE-NODEPORTS - [0:0]');
  count++;
  const text = [...head, ...decl, ...rules, ...svcRules, ...chainRules, 'COMMIT', ''].join('\n');
  return {
    text,
    rules: count,
    vip: (i) => ip(VIP_BASE, i),
    endpoint: (i, e = 0) => ip(epBase, i * endpoints + e),
  };
}
