// The console's Tab completion and reverse-i-search (renderer/completion.ts), without a DOM:
// options, tables, chains and sets of iptables/ipset/conntrack, ip objects, kubectl and
// calicoctl words and names, bash's column listing and Ctrl+R's search order.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chainsTable, COMMANDS, complete, formatColumns, needsHost, reverseSearch, type CompletionContext } from '../../renderer/completion.ts';
import { programNames } from '../../main/engine/shell/programs.ts';
import { NET_CLIENTS } from '../../main/engine/cluster/net-clients.ts';

const ctx: CompletionContext = {
  host: {
    chains: {
      nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-SVC-NPX46M4PTMTKRN6Y', 'KUBE-SVC-TCOU7JCQXEZGVUNU', 'KUBE-SEP-ABC'],
      filter: ['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-FIREWALL', 'cali-FORWARD', 'cali-INPUT'],
    },
    sets: ['cali40all-ipam-pools', 'cali40masq-ipam-pools', 'cali40s:qZuQ1nYnI2qGQW8S0qg6u5', 'KUBE-CLUSTER-IP'],
  },
  kube: {
    pods: ['frontend-8b474f47-zdqdv', 'frontend-8b474f47-abcde', 'backend-7d8f9-xyz12'],
    services: ['frontend', 'backend', 'kubernetes'],
    nodes: ['minikube', 'minikube-m02'],
    deployments: ['frontend', 'backend'],
    namespaces: ['default', 'kube-system'],
  },
};
const c = (line: string) => complete(line, ['minikube', 'minikube-m02', 'frontend'], ctx);

describe('console completion: iptables', () => {
  it('completes table names after -t', () => {
    assert.deepEqual(c('iptables -t n'), { line: 'iptables -t nat ', candidates: [] });
    assert.deepEqual(c('iptables --table ma'), { line: 'iptables --table mangle ', candidates: [] });
    assert.deepEqual(c('iptables-save -t r'), { line: 'iptables-save -t raw ', candidates: [] });
  });

  it('completes the options of iptables', () => {
    assert.equal(c('iptables --line').line, 'iptables --line-numbers ');
    assert.equal(c('iptables -t nat --li').line, 'iptables -t nat --li');
    assert.deepEqual(c('iptables -t nat --li').candidates, ['--line-numbers', '--list', '--list-rules']);
    assert.equal(c('iptables -t nat --lis').line, 'iptables -t nat --list');
    assert.equal(c('iptables -A INPUT --match-s').line, 'iptables -A INPUT --match-set ');
  });

  it('completes chain names of the -t table after -L, -S, -A, -I, -D, -F, -N, -X', () => {
    assert.equal(c('iptables -t nat -L KUBE-SV').line, 'iptables -t nat -L KUBE-SVC-');
    // Nothing more in common: the second Tab lists them.
    assert.deepEqual(c('iptables -t nat -L KUBE-SVC-').candidates, ['KUBE-SVC-NPX46M4PTMTKRN6Y', 'KUBE-SVC-TCOU7JCQXEZGVUNU']);
    assert.equal(c('iptables -t nat -S KUBE-SVC-N').line, 'iptables -t nat -S KUBE-SVC-NPX46M4PTMTKRN6Y ');
    assert.equal(c('iptables -t nat -A KUBE-NO').line, 'iptables -t nat -A KUBE-NODEPORTS ');
    for (const opt of ['-I', '-D', '-F', '-X', '-N', '--flush']) assert.equal(c(`iptables -t nat ${opt} KUBE-SE`).line, `iptables -t nat ${opt} KUBE-SE`, opt);
    assert.deepEqual(c('iptables -t nat -X KUBE-SE').candidates, ['KUBE-SEP-ABC', 'KUBE-SERVICES']);
    // The filter table without -t.
    assert.equal(c('iptables -L cali-F').line, 'iptables -L cali-FORWARD ');
    assert.equal(c('iptables -nvL cali-F').line, 'iptables -nvL cali-F', 'a bundled -nvL is not -L (nothing offered)');
    assert.equal(chainsTable('iptables -t nat -L K'), 'nat');
    assert.equal(chainsTable('iptables -L K'), 'filter');
  });

  it('completes chains and targets after -j, chains after -g, built-in chains and policies after -P', () => {
    assert.deepEqual(c('iptables -t nat -A KUBE-SERVICES -j KUBE-M').line, 'iptables -t nat -A KUBE-SERVICES -j KUBE-MARK-MASQ ');
    assert.equal(c('iptables -t nat -A X -j MASQ').line, 'iptables -t nat -A X -j MASQUERADE ');
    assert.equal(c('iptables -t nat -A X -g MASQ').line, 'iptables -t nat -A X -g MASQ', 'no targets after -g');
    assert.deepEqual(c('iptables -P ').candidates, ['FORWARD', 'INPUT', 'OUTPUT']);
    assert.deepEqual(c('iptables -P FORWARD ').candidates, ['ACCEPT', 'DROP']);
  });

  it('completes matches, protocols, states and sets after --match-set', () => {
    assert.equal(c('iptables -A INPUT -m conn').line, 'iptables -A INPUT -m conn');
    assert.deepEqual(c('iptables -A INPUT -m conn').candidates, ['connmark', 'conntrack']);
    assert.equal(c('iptables -A INPUT -p ud').line, 'iptables -A INPUT -p udp ');
    assert.equal(c('iptables -A INPUT -m conntrack --ctstate EST').line, 'iptables -A INPUT -m conntrack --ctstate ESTABLISHED ');
    assert.equal(c('iptables -A INPUT -m set --match-set cali40s').line, 'iptables -A INPUT -m set --match-set cali40s:qZuQ1nYnI2qGQW8S0qg6u5 ');
    assert.equal(c('iptables -A INPUT -m set --match-set KUBE-CLUSTER-IP d').line, 'iptables -A INPUT -m set --match-set KUBE-CLUSTER-IP dst');
  });

  it('falls back to the built-in chains without the host tables', () => {
    assert.equal(complete('iptables -t nat -L POST', []).line, 'iptables -t nat -L POSTROUTING ');
    assert.ok(needsHost('iptables -t nat -L '));
    assert.ok(needsHost('ipset list '));
    assert.ok(needsHost('iptables -A INPUT -m set --match-set '));
    assert.ok(!needsHost('iptables -t '));
    assert.ok(!needsHost('kubectl get pods '));
  });
});

describe('console completion: ipset, conntrack, ip', () => {
  it('completes ipset commands, options, set names and types', () => {
    assert.equal(c('ipset li').line, 'ipset list ');
    assert.equal(c('ipset list cali40').line, 'ipset list cali40');
    assert.deepEqual(c('ipset list cali40').candidates, ['cali40all-ipam-pools', 'cali40masq-ipam-pools', 'cali40s:qZuQ1nYnI2qGQW8S0qg6u5']);
    assert.equal(c('ipset list cali40s').line, 'ipset list cali40s:qZuQ1nYnI2qGQW8S0qg6u5 ');
    for (const cmd of ['add', 'del', 'test', 'flush', 'destroy', 'save']) assert.equal(c(`ipset ${cmd} KUBE`).line, `ipset ${cmd} KUBE-CLUSTER-IP `, cmd);
    assert.equal(c('ipset -n list KUBE').line, 'ipset -n list KUBE-CLUSTER-IP ');
    assert.equal(c('ipset list KUBE-CLUSTER-IP ').candidates.length, 0, 'one set only');
    assert.equal(c('ipset create foo hash:ip,p').line, 'ipset create foo hash:ip,port');
    assert.equal(c('ipset create foo hash:ip family in').line, 'ipset create foo hash:ip family inet');
    assert.equal(c('ipset -ex').line, 'ipset -exist ');
    assert.equal(c('ipset list -o x').line, 'ipset list -o xml ');
  });

  it('completes conntrack options and their values', () => {
    assert.equal(c('conntrack --orig-s').line, 'conntrack --orig-src ');
    assert.equal(c('conntrack -L -p tc').line, 'conntrack -L -p tcp ');
    assert.equal(c('conntrack -L --state TIME').line, 'conntrack -L --state TIME_WAIT ');
    assert.deepEqual(c('conntrack -').candidates.includes('-E'), true);
  });

  it('completes ip objects and commands', () => {
    assert.equal(c('ip ro').line, 'ip route ');
    assert.equal(c('ip r g').line, 'ip r get ');
    assert.equal(c('ip neigh sh').line, 'ip neigh show ');
    assert.deepEqual(c('ip ').candidates, ['addr', 'address', 'link', 'neigh', 'neighbor', 'route', 'rule']);
    assert.equal(c('ip route show table lo').line, 'ip route show table local ');
    assert.equal(c('ip -br').line, 'ip -br');
  });
});

describe('console completion: kubectl and calicoctl', () => {
  it('completes verbs, resource types and names of that type', () => {
    assert.equal(c('kubectl ge').line, 'kubectl get ');
    assert.equal(c('kubectl get po').line, 'kubectl get pods ');
    assert.equal(c('kubectl get pods fr').line, 'kubectl get pods frontend-8b474f47-');
    assert.equal(c('kubectl describe svc ba').line, 'kubectl describe svc backend ');
    assert.equal(c('kubectl get nodes minikube-').line, 'kubectl get nodes minikube-m02 ');
    assert.equal(c('kubectl scale deploy fr').line, 'kubectl scale deploy frontend ');
    assert.equal(c('kubectl get pod/ba').line, 'kubectl get pod/backend-7d8f9-xyz12 ');
    assert.equal(c('kubectl -n kube-system get deployments ba').line, 'kubectl -n kube-system get deployments backend ');
    assert.equal(c('kubectl get pods -n kube-').line, 'kubectl get pods -n kube-system ');
    assert.equal(c('kubectl get pods -o ya').line, 'kubectl get pods -o yaml ');
    assert.equal(c('kubectl get pods --all').line, 'kubectl get pods --all-namespaces ');
    assert.equal(c('kubectl get netw').line, 'kubectl get networkpolicies ');
  });

  it('completes calicoctl verbs, resource types and node names', () => {
    assert.equal(c('calicoctl g').line, 'calicoctl get ');
    assert.equal(c('calicoctl get workl').line, 'calicoctl get workloadendpoints ');
    assert.equal(c('calicoctl get ipp').line, 'calicoctl get ippools ');
    assert.equal(c('calicoctl get nodes minikube-').line, 'calicoctl get nodes minikube-m02 ');
    assert.equal(c('calicoctl get wep -o w').line, 'calicoctl get wep -o wide ');
  });

  it('keeps command names first and lab names after other commands, after a pipe too', () => {
    assert.equal(c('iptables-save | gr').line, 'iptables-save | grep ');
    assert.equal(c('iptables -t nat -L | gr').line, 'iptables -t nat -L | grep ');
    assert.equal(c('ping minikube-').line, 'ping minikube-m02 ');
    assert.equal(c('curl fr').line, 'curl frontend ');
    assert.equal(c('sysctl net.ipv4.ip_f').line, 'sysctl net.ipv4.ip_forward ');
  });
});

describe('console completion: listing and reverse-i-search', () => {
  it('lists candidates in columns, down then across, as bash does', () => {
    assert.equal(formatColumns(['a', 'bb', 'ccc', 'dddd', 'e'], 20), 'a     ccc   e\nbb    dddd\n');
    assert.equal(formatColumns(['one', 'two'], 80), 'one  two\n');
    assert.equal(formatColumns(['a-long-word', 'b'], 5), 'a-long-word\nb\n');
    assert.equal(formatColumns([], 80), '');
  });

  it('finds the newest entry holding the query, then older ones', () => {
    const h = ['kubectl get pods', 'iptables -t nat -L', 'ipset list', 'iptables -S INPUT', 'hostname'];
    assert.equal(reverseSearch(h, 'ipt', h.length - 1), 3);
    assert.equal(reverseSearch(h, 'ipt', 2), 1);
    assert.equal(reverseSearch(h, 'ipt', 0), -1);
    assert.equal(reverseSearch(h, 'get', 10), 0);
    assert.equal(reverseSearch(h, '', 4), -1);
    assert.equal(reverseSearch(h, 'nothing', 4), -1);
  });
});

describe('command names', () => {
  it('every program the engine\'s shell runs completes, and nothing it does not run (but the console\'s own clear)', () => {
    const engine = new Set([...programNames(), ...NET_CLIENTS]);
    assert.deepEqual([...engine].filter((n) => !COMMANDS.includes(n)), []);
    assert.deepEqual(COMMANDS.filter((n) => !engine.has(n)), ['clear']);
    assert.deepEqual([...COMMANDS].sort(), COMMANDS, 'listed in order');
  });
});
