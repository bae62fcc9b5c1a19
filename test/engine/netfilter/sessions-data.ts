// Command sessions and rulesets that the engine must answer exactly like iptables v1.8.9
// (nf_tables): each step is an iptables, iptables-save, iptables-restore (with its input) or
// ipset command line. The kernel test runs them against the real tools in a namespace; the
// unit test replays them against outputs recorded from the real tools (sessions-recorded.ts).

import type { Netfilter } from '../../../main/engine/netfilter/ruleset.ts';
import { iptables, iptablesRestore, iptablesSave } from '../../../main/engine/shell/iptables.ts';
import type { CommandResult } from '../../../main/engine/shell/types.ts';

export type Step = string | { cmd: string; stdin: string };

export interface Session {
  name: string;
  steps: Step[];
}

/** Splits a command line the way a shell would for these sessions: '...' and "..." quoting,
 *  \ escapes inside "..." and outside quotes. */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let q = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = '';
      else if (c === '\\' && q === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      have = true;
    } else if (c === ' ') {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      have = true;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

export const SESSIONS: Session[] = [
  {
    name: 's1/basic',
    steps: [
      'iptables -A INPUT -p tcp --dport 80 -j ACCEPT',
      'iptables-save',
      'iptables -L',
      'iptables -L -n -v --line-numbers',
      'iptables -S',
      'iptables -A INPUT --bogus',
      'iptables -A NOPE -j ACCEPT',
      'iptables -N X',
      'iptables -N X',
      'iptables -A X -j ACCEPT',
      'iptables -A INPUT -j X',
      'iptables -X X',
      'iptables -L -v -x',
      'iptables -t nat -A PREROUTING -j DROP',
      'iptables -t bogus -L',
      'iptables-save -c',
    ],
  },
  {
    name: 's4/kube1',
    steps: [
      { cmd: 'iptables-restore', stdin: `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SEP-AO6KYGU752IZFEZ4 - [0:0]
:KUBE-SVC-2IRACUALRELARSND - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-NODEPORTS - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp -> 10.244.120.102:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-AO6KYGU752IZFEZ4
-A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -s 10.244.120.102 -j KUBE-MARK-MASQ
-A KUBE-SEP-AO6KYGU752IZFEZ4 -m comment --comment default/webapp -m tcp -p tcp -j DNAT --to-destination 10.244.120.102:80
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
` },
      'iptables-save',
      'iptables -t nat -L',
      'iptables -t nat -L -n -v --line-numbers',
      'iptables -t nat -S',
      'iptables -t nat -S KUBE-SERVICES',
      'iptables -t nat -L KUBE-SERVICES -v -x',
      'iptables -t nat -L KUBE-SERVICES 2',
      'iptables -t nat -D KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j KUBE-SVC-2IRACUALRELARSND',
      'iptables -t nat -C KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j KUBE-SVC-2IRACUALRELARSND',
      'iptables -t nat -C KUBE-SEP-AO6KYGU752IZFEZ4 -s 10.244.120.102 -m comment --comment default/webapp -j KUBE-MARK-MASQ',
      'iptables-save -t nat',
    ],
  },
  {
    name: 's4/restore-errors',
    steps: [
      { cmd: 'iptables-restore', stdin: `*filter
:A - [0:0]
:B - [0:0]
-A A -j B
-A B -j A
-A INPUT -j A
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*nat
:D - [0:0]
-A D -j DNAT --to-destination 1.2.3.4
-A POSTROUTING -j D
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with tcp-reset
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j NOPE
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A NOPE -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT --bogus
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j ACCEPT
` },
      { cmd: 'iptables-restore', stdin: `*bogus
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `-A INPUT -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT FOO [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:X FOO [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:X
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT DROP
COMMIT
` },
      'iptables-save',
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT DROP [1:2]
:Y - [3:4]
[5:6] -A Y -j ACCEPT
COMMIT
` },
      'iptables-save -c',
      { cmd: 'iptables-restore -c', stdin: `*filter
:INPUT DROP [1:2]
:Y - [3:4]
[5:6] -A Y -j ACCEPT
COMMIT
` },
      'iptables-save -c',
      { cmd: 'iptables-restore -c', stdin: `*filter
:INPUT ACCEPT [1:2]
-A INPUT -c 7 8 -j ACCEPT
[9:10] -A INPUT -c 11 12 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -m comment --comment "hello world" -j ACCEPT
-A INPUT -m comment --comment "it's" -j ACCEPT
-A INPUT -m comment --comment "esc \\"q\\" x" -j ACCEPT
-A INPUT -m comment --comment "a\\\\b" -j ACCEPT
-A INPUT -m comment --comment "" -j ACCEPT
COMMIT
` },
      'iptables-save',
      'iptables -L',
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -m comment --comment 'single q' -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -m comment --comment a"b c"d -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -m comment --comment "x"y -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
  # indented comment
-A INPUT -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j DROP # trailing
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
   
-A INPUT -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter 
-A INPUT -j ACCEPT
COMMIT 
` },
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT ACCEPT [0:0] extra
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
: - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter # x
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j ACCEPT
COMMIT # x
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -p tcp --dport 80 -j ACCEPT
-D INPUT -p tcp --dport 80 -j ACCEPT
-C INPUT -j ACCEPT
COMMIT
` },
      'iptables-save',
    ],
  },
  {
    name: 's4/restore-misc',
    steps: [
      'iptables -P INPUT DROP',
      'iptables -A INPUT -c 5 5 -j ACCEPT',
      'iptables -t nat -A PREROUTING -j ACCEPT',
      { cmd: 'iptables-restore', stdin: `*filter
COMMIT
` },
      'iptables-save -c',
      { cmd: 'iptables-restore --noflush', stdin: `#c
*filter
:INPUT DROP [0:0]
-A INPUT -s 1.1.1.1 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore -n -T nat', stdin: `*filter
-A INPUT -s 2.2.2.2 -j ACCEPT
COMMIT
*nat
-A OUTPUT -j ACCEPT
COMMIT
` },
      'iptables-save',
      { cmd: 'iptables-restore -t', stdin: `*filter
-A INPUT -s 3.3.3.3 -j NOPE
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
[1:x] -A INPUT -s 4.4.4.4 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
[12] -A INPUT -s 4.4.4.4 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
:INPUT ACCEPT [a:b]
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
:INPUT ACCEPT [1:2
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
[1:] -A INPUT -s 4.4.4.4 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore --counters', stdin: `*filter
[:2] -A INPUT -s 4.4.4.4 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
[x:2] -A INPUT -s 4.4.4.4 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore -w 5', stdin: `*filter
-A INPUT -s 5.5.5.5 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore --bogus', stdin: `*filter
COMMIT
` },
      { cmd: 'iptables-restore extra', stdin: `*filter
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*nat
:FOO - [0:0]
:averyveryverylongchainname123 - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*nat
:ACCEPT - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*nat
:FOO - [0:0]
-A PREROUTING -j FOO
-X FOO
COMMIT
` },
      { cmd: 'iptables-restore --noflush', stdin: `*nat
-F
-X
COMMIT
` },
      'iptables-save',
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j DNAT --to-destination 1.1.1.1
-A INPUT -p udp -j REJECT --reject-with tcp-reset
-I INPUT 1 -j DNAT --to-destination 2.2.2.2
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:A - [0:0]
-A INPUT -j A
-X A
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:A - [0:0]
-A INPUT -j ACCEPT
COMMIT
*nat
-A PREROUTING -j MASQUERADE
COMMIT
` },
      'iptables-save',
      { cmd: 'iptables-restore', stdin: `*filter
-A X -j ACCEPT
:X - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -j Y
:Y - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
:INPUT - [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-N A
-N A
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-A INPUT -p tcp -m comment --comment x
-I INPUT 3 -j ACCEPT
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-N B
:B - [0:0]
-A B -j ACCEPT
-A INPUT -j ACCEPT
:INPUT DROP [0:0]
COMMIT
` },
      { cmd: 'iptables-restore', stdin: `*filter
-t nat -A INPUT -j ACCEPT
COMMIT
` },
      'iptables-save',
    ],
  },
  {
    name: 's5/list-widths',
    steps: [
      'iptables -N averyveryverylongchainname12',
      'iptables -N short',
      'iptables -A INPUT -c 123456 98765432 -s 10.1.2.0/24 -d 1.2.3.4 -i eth0 -j ACCEPT',
      'iptables -A INPUT -c 99999 100000 ! -s 10.0.0.0/8 ! -d 1.2.3.4/31 ! -i eth0 -p udp -j averyveryverylongchainname12',
      'iptables -A INPUT -c 1234567890 12345678901234 -f -j DROP',
      'iptables -A INPUT -c 9999 99999 -j DROP',
      'iptables -A INPUT -c 100000 999999 -j DROP',
      'iptables -A INPUT -c 9999499 9999500 -j DROP',
      'iptables -A FORWARD -i averyveryverylo -o veth+ -j short',
      'iptables -A FORWARD ! -i eth+ ! -o lo -j short',
      'iptables -A OUTPUT -o eth1 -p icmp --icmp-type 8 -j ACCEPT',
      'iptables -A short -g averyveryverylongchainname12',
      'iptables -A short -m comment --comment x -g averyveryverylongchainname12',
      'iptables -A short -p tcp -m multiport ! --dports 22,80:90 -j RETURN',
      'iptables -A short -s 169.254.0.0/16 -d 127.0.0.0/8',
      'iptables -A short -s 127.0.0.1 -d 0.0.0.0/32',
      'iptables -A averyveryverylongchainname12 -c 2000000000 3000000000000 -j ACCEPT',
      'iptables -P FORWARD DROP',
      'iptables -L',
      'iptables -L -v',
      'iptables -L -v -x',
      'iptables -L -n -v',
      'iptables -L -n -v -x --line-numbers',
      'iptables -L -n --line-numbers',
      'iptables -L --line-numbers',
      'iptables -L short -n',
      'iptables -L FORWARD 2 -v',
      'iptables -S',
      'iptables -S -v',
      'iptables -S short',
      'iptables -S short 2',
      'iptables -S short 9',
      'iptables -L short 9',
      'iptables-save -c',
      'iptables -vL',
      'iptables -nvL INPUT',
      'iptables -Lnv',
      'iptables -LINPUT',
      'iptables --list INPUT --numeric',
      'iptables --list=INPUT',
      'iptables -L INPUT -x',
      'iptables -L -Z INPUT',
      'iptables -L -v INPUT',
      'iptables -Z short 1',
      'iptables -Z averyveryverylongchainname12',
      'iptables -L -v',
    ],
  },
  {
    name: 's5/multi-addr',
    steps: [
      'iptables -A INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j ACCEPT',
      'iptables -I INPUT 2 -s 5.5.5.5,6.6.6.6 -j DROP',
      'iptables -S',
      'iptables -D INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT',
      'iptables -C INPUT -s 1.1.1.1,2.2.2.2 -d 4.4.4.4 -j ACCEPT',
      'iptables -C INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT',
      'iptables -R INPUT 1 -s 1.1.1.1,2.2.2.2 -j ACCEPT',
      'iptables -A INPUT ! -s 1.1.1.1,2.2.2.2 -j ACCEPT',
      'iptables -A INPUT -s 10.1 -d 10.1.2 -j ACCEPT',
      'iptables -A INPUT -s 0x0a.010.0.1 -j ACCEPT',
      'iptables -A INPUT -s localhost -d loopback/8 -j ACCEPT',
      'iptables -A INPUT -s foo/0 -j ACCEPT',
      'iptables -A INPUT -s 10.0.0.1/0.0.0.0 -j ACCEPT',
      'iptables -A INPUT -s 10.9.9.9/255.255.0.0 -j ACCEPT',
      'iptables -A INPUT -d 10.9.9.9/16 -s 1.2.3.4/ -j ACCEPT',
      'iptables -A INPUT -s 1.2.3 -j ACCEPT',
      'iptables -A INPUT -s 1.2.3.4.5 -j ACCEPT',
      'iptables -A INPUT -s 256.0.0.0 -j ACCEPT',
      'iptables -A INPUT -s ,1.2.3.4 -j ACCEPT',
      'iptables -S',
      'iptables -L -n',
    ],
  },
  {
    name: 's5/getopt',
    steps: [
      'iptables -A INPUT -p tcp --dp 80 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport=81 -j ACCEPT',
      'iptables -A INPUT -p tcp --d 80 -j ACCEPT',
      'iptables -A INPUT --destination 1.2.3.4 -j ACCEPT',
      'iptables -A INPUT --dst 1.2.3.5 -j ACCEPT',
      'iptables -A INPUT --src 1.2.3.5 --protocol tcp --jump ACCEPT',
      'iptables -A INPUT --sou 1.2.3.6 --prot udp --ju ACCEPT',
      'iptables --append INPUT --in-interface eth0 --jump DROP',
      'iptables -A INPUT -pudp -s1.1.1.1 -jACCEPT',
      'iptables -AINPUT -j ACCEPT',
      'iptables -A INPUT -p tcp -m tcp --dport 80 --sport=1:2 --tcp-flags=SYN,ACK ACK -j ACCEPT',
      'iptables -A INPUT -p tcp --syn=1',
      'iptables -A INPUT -p tcp -m multiport --dports 85 --dport 86 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport 87 -m multiport --dport 88 -j ACCEPT',
      'iptables -A INPUT -p tcp -m tcp -m tcp --dport 84 -j ACCEPT',
      'iptables -A INPUT -m comment --comment x -m comment --comment y -j ACCEPT',
      'iptables -A INPUT -j ACCEPT -m comment --comment after',
      'iptables -A INPUT -j MARK --set-mark 1 -m comment --comment after2',
      'iptables -A INPUT -m comment --com short',
      'iptables -A INPUT -m comment --c',
      'iptables -A INPUT -m comment --comment',
      'iptables -A INPUT -j LOG --log-p "pre: "',
      'iptables -A INPUT -j LOG --log',
      'iptables -A INPUT -p 6 --dport 443 -j ACCEPT',
      'iptables -A INPUT -p TCP --sport 443 -j ACCEPT',
      'iptables -A INPUT -p all --dport 1',
      'iptables -A INPUT -p udplite --dport 1',
      'iptables -A INPUT -p icmp --dport 1',
      'iptables -A INPUT -w -j ACCEPT',
      'iptables -A INPUT -w 5 -j ACCEPT',
      'iptables -w -A INPUT -W 100 -j ACCEPT',
      'iptables -A INPUT -m',
      'iptables -A INPUT -m TCP',
      'iptables -A INPUT -m icmp',
      'iptables -A INPUT !',
      'iptables -A INPUT ! ! -s 1.1.1.1',
      'iptables -A INPUT ! -p tcp ! --dport 80',
      'iptables -A INPUT -p tcp --dport',
      'iptables -A INPUT -j',
      'iptables -A INPUT -j ""',
      'iptables -A INPUT -j "A B"',
      'iptables -A INPUT -j averyveryverylongtargetname123',
      'iptables -A INPUT -y',
      'iptables -A INPUT -ny',
      'iptables -A INPUT -- -j ACCEPT',
      'iptables -A INPUT - -j ACCEPT',
      'iptables -A INPUT -c 1,2 -j ACCEPT',
      'iptables -A INPUT -c 3',
      'iptables -A INPUT -c 3 x',
      'iptables -A INPUT -6',
      'iptables -A INPUT -4 -j ACCEPT',
      'iptables -A INPUT -v -j ACCEPT',
      'iptables -A INPUT --line-numbers',
      'iptables -A INPUT -x',
      'iptables -L -s 1.1.1.1',
      'iptables -D INPUT 1 -s 1.1.1.1',
      'iptables -F INPUT -v',
      'iptables -L -A INPUT',
      'iptables -Z -L',
      'iptables -S -Z',
      'iptables -N X -N Y',
      'iptables -V',
      'iptables --version',
      'iptables -h -A INPUT',
      'iptables -t filter',
      'iptables -t',
      'iptables -A INPUT -t nat -j ACCEPT',
      'iptables -A OUTPUT -t nat -p tcp -j DNAT --to 1.1.1.1:80',
      'iptables -t nat -A POSTROUTING -p udp -j SNAT --to-source 9.9.9.9:1000-2000 --random',
      'iptables-save',
      'iptables -S',
    ],
  },
  {
    name: 's6/verbose',
    steps: [
      'iptables -N X -v',
      'iptables -A X -v -s 1.2.3.4 -p tcp --dport 80 -m comment --comment hi -j ACCEPT',
      'iptables -I X -v -d 1.2.3.0/24 ! -i eth0 -j DROP',
      'iptables -A X -v -f -g X',
      'iptables -R X 1 -v -s 1.2.3.5 -j ACCEPT',
      'iptables -C X -v -s 1.2.3.5 -j ACCEPT',
      'iptables -D X -v -s 1.2.3.5 -j ACCEPT',
      'iptables -D X 1 -v',
      'iptables -Z X -v',
      'iptables -Z -v',
      'iptables -F X -v',
      'iptables -F -v',
      'iptables -X X -v',
      'iptables -N Y',
      'iptables -X -v',
      'iptables -P INPUT DROP -v',
      'iptables -E Y Z -v',
      'iptables -A INPUT -v -s 1.1.1.1,2.2.2.2 -j ACCEPT',
      'iptables -t nat -A PREROUTING -v -p tcp -j DNAT --to 1.2.3.4:80',
      'iptables -A INPUT -W -j ACCEPT',
      'iptables -A INPUT --wait-interval=5 -j ACCEPT',
      'iptables -A INPUT -6',
      'iptables -A INPUT --protocol=tcp',
      'iptables -A INPUT --proto udp -j ACCEPT',
      'iptables -A INPUT -- -j ACCEPT',
      'iptables -A INPUT -j ACCEPT --',
      'iptables -A INPUT -j ACCEPT -- x',
    ],
  },
  {
    name: 's7/depth',
    steps: [
      'iptables -N c1',
      'iptables -N c2',
      'iptables -N c3',
      'iptables -N c4',
      'iptables -N c5',
      'iptables -N c6',
      'iptables -N c7',
      'iptables -N c8',
      'iptables -N c9',
      'iptables -N c10',
      'iptables -N c11',
      'iptables -N c12',
      'iptables -N c13',
      'iptables -N c14',
      'iptables -N c15',
      'iptables -N c16',
      'iptables -N c17',
      'iptables -N c18',
      'iptables -N c19',
      'iptables -N c20',
      'iptables -A c1 -j c2',
      'iptables -A c2 -j c3',
      'iptables -A c3 -j c4',
      'iptables -A c4 -j c5',
      'iptables -A c5 -j c6',
      'iptables -A c6 -j c7',
      'iptables -A c7 -j c8',
      'iptables -A c8 -j c9',
      'iptables -A c9 -j c10',
      'iptables -A c10 -j c11',
      'iptables -A c11 -j c12',
      'iptables -A c12 -j c13',
      'iptables -A c13 -j c14',
      'iptables -A c14 -j c15',
      'iptables -A c15 -j c16',
      'iptables -A c16 -j c17',
      'iptables -A c17 -j c18',
      'iptables -A c18 -j c19',
      'iptables -A c19 -j c20',
      'iptables -A INPUT -j c3',
      'iptables -F INPUT',
      'iptables -A INPUT -j c4',
      'iptables -F INPUT',
      'iptables -A INPUT -j c5',
      'iptables -F INPUT',
      'iptables -A INPUT -j c6',
      'iptables -F INPUT',
      'iptables -A INPUT -j c7',
      'iptables -F INPUT',
      'iptables -A OUTPUT -g c4',
      'iptables -A OUTPUT -g c6',
      'iptables -A c20 -j c1',
      'iptables -A c20 -j c20',
      'iptables -N L1',
      'iptables -N L2',
      'iptables -A L1 -j L2',
      'iptables -A L2 -j L1',
      'iptables -A INPUT -j L2',
      'iptables -t nat -N D',
      'iptables -t nat -N E',
      'iptables -t nat -A E -j D',
      'iptables -t nat -A PREROUTING -j E',
      'iptables -t nat -A D -j MASQUERADE',
      'iptables -t nat -A D -j DNAT --to 1.1.1.1',
      'iptables -t nat -A POSTROUTING -j E',
      'iptables -t nat -I D -j MASQUERADE',
      'iptables-save',
    ],
  },
  {
    name: 's2/e1',
    steps: [
      'iptables -A INPUT -p tcp --sport 1:1024 --dport 80 -j ACCEPT',
      'iptables -A INPUT -p tcp ! --dport 80:90 --tcp-flags SYN,ACK SYN -j ACCEPT',
      'iptables -A INPUT -p tcp --syn -j DROP',
      'iptables -A INPUT -p tcp ! --syn -j DROP',
      'iptables -A INPUT -p tcp --tcp-flags ALL NONE -j DROP',
      'iptables -A INPUT -p tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG FIN,PSH,URG -j DROP',
      'iptables -A INPUT -p tcp --dport 0:65535 -j DROP',
      'iptables -A INPUT -p tcp --sport :100 --dport 100: -j DROP',
      'iptables -A INPUT -p udp --sport 53 -j ACCEPT',
      'iptables -A INPUT -p udp ! --sport 53 ! --dport 5:6 -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type echo-request -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type 8 -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type 3/4 -j ACCEPT',
      'iptables -A INPUT -p icmp ! --icmp-type any -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type port-unreachable -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type 3 -j ACCEPT',
      'iptables -A INPUT -p icmp --icmp-type 250 -j ACCEPT',
      'iptables -A INPUT -m mark --mark 0x10 -j ACCEPT',
      'iptables -A INPUT -m mark --mark 16/0xff -j ACCEPT',
      'iptables -A INPUT -m mark ! --mark 0x0/0x10000 -j ACCEPT',
      'iptables -A INPUT -m statistic --mode nth --every 3 --packet 1 -j ACCEPT',
      'iptables -A INPUT -m statistic --mode nth --every 3 -j ACCEPT',
      'iptables -A INPUT -m statistic ! --mode random --probability 0.1 -j ACCEPT',
      'iptables -A INPUT -m statistic --mode random --probability 1 -j ACCEPT',
      'iptables -A INPUT -m statistic --mode random --probability 0 -j ACCEPT',
      'iptables -A INPUT -m addrtype --src-type LOCAL,UNICAST ! --dst-type BROADCAST --limit-iface-in -j ACCEPT',
      'iptables -A INPUT -m addrtype ! --src-type LOCAL --limit-iface-out -j ACCEPT',
      'iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED,SNAT,DNAT -j ACCEPT',
      'iptables -A INPUT -m conntrack ! --ctstate NEW --ctstatus ASSURED,SEEN_REPLY --ctproto tcp -j ACCEPT',
      'iptables -A INPUT -m conntrack --ctorigsrc 10.0.0.0/8 ! --ctorigdst 1.2.3.4 --ctreplsrc 1.1.1.1/24 --ctrepldst 2.2.2.2 -j ACCEPT',
      'iptables -A INPUT -m conntrack --ctorigsrcport 10 --ctorigdstport 20:30 ! --ctreplsrcport 40 --ctrepldstport 50 --ctdir ORIGINAL -j ACCEPT',
      'iptables -A INPUT -m conntrack --ctexpire 10:20 ! --ctstatus NONE,EXPECTED,CONFIRMED -j ACCEPT',
      'iptables -A INPUT -m conntrack --ctdir REPLY --ctexpire 5 -j ACCEPT',
      'iptables -A INPUT -m state --state NEW,ESTABLISHED -j ACCEPT',
      'iptables -A INPUT -m state ! --state INVALID -j ACCEPT',
      'iptables -A INPUT -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT',
      'iptables -A INPUT -p udp -m multiport ! --sports 53 -j ACCEPT',
      'iptables -A INPUT -p tcp -m multiport --ports 22,80 -j ACCEPT',
      'iptables -A INPUT -p tcp -m multiport --destination-ports 22 -j ACCEPT',
      'iptables -A INPUT -m comment --comment \'a "quoted" \\ thing\' -j ACCEPT',
      'iptables -A INPUT -m comment --comment \'\' -j ACCEPT',
      'iptables -A INPUT -j LOG',
      'iptables -A INPUT -j LOG --log-prefix "hi there: " --log-level 6 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode',
      'iptables -A INPUT -j LOG --log-level debug',
      'iptables -A INPUT -p tcp -j REJECT --reject-with tcp-reset',
      'iptables -A INPUT -j REJECT',
      'iptables -A INPUT -j MARK --set-mark 0x10',
      'iptables -A INPUT -j MARK --set-mark 0x10/0xff',
      'iptables -A INPUT -j MARK --set-xmark 5',
      'iptables -A INPUT -j MARK --and-mark 0xff',
      'iptables -A INPUT -j MARK --or-mark 0x4000',
      'iptables -A INPUT -j MARK --xor-mark 0x4000',
      'iptables-save',
      'iptables -L INPUT',
      'iptables -L INPUT -n',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e2',
    steps: [
      'iptables -N averyveryverylongchainname12',
      'iptables -N averyveryverylongchainname123',
      'iptables -A INPUT -c 123456 98765432 -s 10.1.2.3/255.255.0.0 -d 1.2.3.4 -i eth0 -o eth1+ -j ACCEPT',
      'iptables -A INPUT -c 99999 100000 ! -s 10.0.0.0/8 ! -d 1.2.3.4/31 ! -i eth0 ! -o lo -p udp -j averyveryverylongchainname12',
      'iptables -A INPUT -c 1234567890 12345678901234 -f -j DROP',
      'iptables -A INPUT ! -f -p tcp -j DROP',
      'iptables -A INPUT ! -p tcp -j DROP',
      'iptables -A INPUT -p 47 -j DROP',
      'iptables -A INPUT -p gre -j DROP',
      'iptables -A INPUT -p ipencap -j DROP',
      'iptables -A INPUT -p 4 -j DROP',
      'iptables -A INPUT -p TCP -j DROP',
      'iptables -A INPUT -p sctp -j DROP',
      'iptables -A INPUT -p 250 -j DROP',
      'iptables -A INPUT -p all -j DROP',
      'iptables -A INPUT -p 0 -j DROP',
      'iptables -A INPUT -p icmp -j DROP',
      'iptables -A INPUT -g averyveryverylongchainname12',
      'iptables -A INPUT -s 10.0.0.1',
      'iptables -A INPUT -i eth+ -j RETURN',
      'iptables -A FORWARD -c 5 6 -j ACCEPT',
      'iptables -A averyveryverylongchainname12 -c 2000000000 3000000000000 -j ACCEPT',
      'iptables -P FORWARD DROP',
      'iptables -A INPUT -s 0.0.0.0/0 -d 0/0 -j ACCEPT',
      'iptables -A INPUT -s 1.2.3.4/0 -j ACCEPT',
      'iptables -A INPUT -s 1.2.3.4/32 -j ACCEPT',
      'iptables-save -c',
      'iptables -L -v',
      'iptables -L -v -x -n --line-numbers',
      'iptables -L -v -n',
      'iptables -S -v',
      'iptables -S INPUT 2',
      'iptables -L INPUT 2',
      'iptables -L INPUT 2 -v -n',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e3',
    steps: [
      'iptables -A INPUT --bogus',
      'iptables -A INPUT -m foo',
      'iptables -A INPUT -j FOO',
      'iptables -A NOCHAIN -j ACCEPT',
      'iptables -D INPUT -j ACCEPT',
      'iptables -D INPUT 5',
      'iptables -N X',
      'iptables -N X',
      'iptables -X NOPE',
      'iptables -A X -j ACCEPT',
      'iptables -A INPUT -j X',
      'iptables -X X',
      'iptables -F X',
      'iptables -X X',
      'iptables -D INPUT -j X',
      'iptables -X X',
      'iptables -t bogus -L',
      'iptables -A INPUT -p tcp --dport 99999 -j ACCEPT',
      'iptables -A INPUT --dport 80 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport',
      'iptables -A INPUT -s foo.example -j ACCEPT',
      'iptables -A INPUT -s 1.2.3.4/33 -j ACCEPT',
      'iptables -A INPUT -s 300.1.1.1 -j ACCEPT',
      'iptables -A INPUT -p bogusproto',
      'iptables -A INPUT ! -p all',
      'iptables -A INPUT ! ! -s 1.2.3.4',
      'iptables -P X ACCEPT',
      'iptables -P INPUT FOO',
      'iptables -P INPUT RETURN',
      'iptables -P INPUT',
      'iptables -I INPUT 5 -j ACCEPT',
      'iptables -I INPUT 0 -j ACCEPT',
      'iptables -I INPUT 1 -j ACCEPT',
      'iptables -I INPUT 3 -j ACCEPT',
      'iptables -I INPUT 2 -j DROP',
      'iptables -R INPUT 9 -j ACCEPT',
      'iptables -R INPUT -j ACCEPT',
      'iptables -D INPUT 0',
      'iptables -D INPUT foo',
      'iptables -L NOPE',
      'iptables -S NOPE',
      'iptables -F NOPE',
      'iptables -Z NOPE',
      'iptables -E NOPE Y',
      'iptables -N Y',
      'iptables -E Y INPUT',
      'iptables -E Y ACCEPT',
      'iptables -E Y Z',
      'iptables -E Z Z2 extra',
      'iptables -N ACCEPT',
      'iptables -N -foo',
      'iptables -N \'a b\'',
      'iptables -A INPUT',
      'iptables -L -A INPUT',
      'iptables -A INPUT -n -j ACCEPT',
      'iptables -L INPUT -j ACCEPT',
      'iptables -A INPUT -j DNAT --to-destination 1.2.3.4',
      'iptables -t nat -A INPUT -j DNAT --to-destination 1.2.3.4',
      'iptables -t nat -A PREROUTING -j DNAT',
      'iptables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4 --bogus',
      'iptables -t nat -A PREROUTING -j SNAT --to-source 1.2.3.4',
      'iptables -A INPUT -j REJECT --reject-with tcp-reset',
      'iptables -t nat -A POSTROUTING -j REJECT',
      'iptables -C INPUT -j ACCEPT',
      'iptables -C INPUT -j REJECT',
      'iptables -A INPUT -j',
      'iptables -A INPUT -m',
      'iptables -A INPUT -p tcp -m tcp --dport 80 --dport 81',
      'iptables -A INPUT -s 1.1.1.1 -s 2.2.2.2',
      'iptables -A INPUT extra',
      'iptables -A INPUT -p tcp ! --syn --dport 80 -j ACCEPT',
      'iptables -A INPUT -m comment',
      'iptables -A INPUT -c 1',
      'iptables -A INPUT -c a b',
      'iptables -X INPUT',
      'iptables -F',
      'iptables -X',
      'iptables -Z',
      'iptables --version',
      'iptables -V',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e4',
    steps: [
      'iptables -A INPUT -m tcp --dport 80 -j ACCEPT',
      'iptables -A INPUT -p udp -m tcp --dport 80 -j ACCEPT',
      'iptables -A INPUT -m multiport --dports 80 -j ACCEPT',
      'iptables -A INPUT -p icmp -m multiport --dports 80 -j ACCEPT',
      'iptables -A INPUT -p tcp --dp 80 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport=81 -j ACCEPT',
      'iptables -A INPUT -p tcp --d 80 -j ACCEPT',
      'iptables -A INPUT --destination 1.2.3.4 -j ACCEPT',
      'iptables -A INPUT --dst 1.2.3.5 -j ACCEPT',
      'iptables -A INPUT --src 1.2.3.5 --protocol tcp --jump ACCEPT',
      'iptables -A INPUT -p tcp --destination-port 82 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport ! 83 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport http -j ACCEPT',
      'iptables -A INPUT -p tcp --dport 80:70 -j ACCEPT',
      'iptables -A INPUT -p tcp -m tcp -m tcp --dport 84 -j ACCEPT',
      'iptables -A INPUT -p tcp -m multiport --dports 85 --dport 86 -j ACCEPT',
      'iptables -A INPUT -p tcp --dport 87 -m multiport --dports 88 -j ACCEPT',
      'iptables -A INPUT -p tcp -m udp --dport 89 -j ACCEPT',
      'iptables -A INPUT -sport 1',
      'iptables -A INPUT -m comment --comment x -m comment --comment y -j ACCEPT',
      'iptables -A INPUT -j ACCEPT -m comment --comment after',
      'iptables -A INPUT -j MARK --set-mark 1 -m comment --comment after2',
      'iptables -A INPUT -j MARK --set-mark 1 --set-mark 2',
      'iptables -A INPUT -j MARK',
      'iptables -A INPUT -j MARK --set-mark 1 --or-mark 2',
      'iptables -A INPUT -j ACCEPT -j DROP',
      'iptables -A INPUT -p tcp -p udp',
      'iptables -A INPUT -s 10.1.1.1/8 -d 10.0.0.1/24',
      'iptables -A INPUT -i eth0 -i eth1',
      'iptables -A INPUT -i averyveryverylongname0',
      'iptables -A INPUT -i \'a b\'',
      'iptables -A INPUT -m state --state FOO',
      'iptables -A INPUT -m conntrack --ctstate new',
      'iptables -A INPUT -m addrtype --src-type local',
      'iptables -A INPUT -m statistic --mode random --probability 1.5',
      'iptables -A INPUT -m statistic --mode random',
      'iptables -A INPUT -m statistic --mode bogus',
      'iptables -A INPUT -m statistic --probability 0.5',
      'iptables -A INPUT -m mark --mark zz',
      'iptables -A INPUT -m mark --mark 0x100000000',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90',
      'iptables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4:80',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4-1.2.3.9 --random --persistent',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination :80',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to 5.6.7.8',
      'iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:1000-2000 --random-fully --random --persistent',
      'iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random',
      'iptables -t nat -A POSTROUTING -j MASQUERADE --to-ports 1000',
      'iptables -t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000',
      'iptables -t nat -A OUTPUT -p udp -j DNAT --to-destination 9.9.9.9:53',
      'iptables -t nat -S',
      'iptables -t nat -L -n',
      'iptables -t nat -L',
      'iptables -S INPUT',
      'iptables -L INPUT',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e5',
    steps: [
      'iptables -D INPUT -j ACCEPT; s; echo "[tables after -D on fresh]"',
      'iptables -C INPUT -j ACCEPT; s',
      'iptables -S; s',
      'iptables -X',
      'iptables -E A B; s',
      'iptables -t raw -R PREROUTING 1 -j ACCEPT; s',
      'iptables -N X',
      'iptables -A X -j ACCEPT',
      'iptables -X X; s',
      'iptables -N A',
      'iptables -N B',
      'iptables -A A -j B',
      'iptables -A B -j A; s',
      'iptables -A B -j B; s',
      'iptables -A INPUT -j A',
      'iptables -N C',
      'iptables -A C -j DNAT --to-destination 1.2.3.4',
      'iptables -A INPUT -j C; s',
      'iptables -t nat -N D',
      'iptables -t nat -A D -j DNAT --to-destination 1.2.3.4',
      'iptables -t nat -A POSTROUTING -j D',
      'iptables -t nat -A PREROUTING -j D',
      'iptables -t nat -A INPUT -g D; s',
      'iptables -N E',
      'iptables -A E -j REJECT --reject-with tcp-reset',
      'iptables -t mangle -A INPUT -j REJECT',
      'iptables -A X2 -j ACCEPT',
      'iptables -N F',
      'iptables -A F -j ACCEPT',
      'iptables -A INPUT -j F',
      'iptables -X',
      'iptables -A INPUT ! -j ACCEPT',
      'iptables -A INPUT ! -m comment --comment x',
      'iptables -A INPUT -j ACCEPT !',
      'iptables -A INPUT ! -i eth0 -j ACCEPT',
      'iptables -A INPUT -p tcp --tcp-flags SYN',
      'iptables -A INPUT -p tcp --tcp-flags SYN,FOO SYN',
      'iptables -A INPUT -p tcp --sport 1 --source-port 2',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e10',
    steps: [
      'iptables -A NOCHAIN -j NOPE',
      'iptables -A NOCHAIN --bogus',
      'iptables -N A',
      'iptables -X INPUT',
      'iptables -E INPUT FOO',
      'iptables -E A INPUT2',
      'iptables -P A DROP',
      'iptables -t nat -P PREROUTING DROP',
      'iptables -t nat -A PREROUTING -j DROP',
      'iptables -A INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j ACCEPT',
      'iptables -A INPUT ! -s 1.1.1.1,2.2.2.2 -j ACCEPT',
      'iptables -D INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT',
      'iptables -C INPUT -s 1.1.1.1,2.2.2.2 -d 4.4.4.4 -j ACCEPT',
      'iptables -C INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT',
      'iptables -R INPUT 1 -s 1.1.1.1,2.2.2.2 -j ACCEPT',
      'iptables -A INPUT -s localhost -j ACCEPT',
      'iptables -A INPUT -s 10.1 -j ACCEPT',
      'iptables -A INPUT -s 0x0a.010.0.1 -j ACCEPT',
      'iptables -A INPUT -j LOG --log-level 9',
      'iptables -A INPUT -j LOG --log-level emerg',
      'iptables -D INPUT 20',
      'iptables -Z INPUT 30',
      'iptables -Z INPUT 1',
      'iptables -L INPUT 30',
      'iptables -S INPUT 30',
      'iptables -L -Z',
      'iptables -Z -L INPUT',
      'iptables -I INPUT 1 -j DNAT --to-destination 2.2.2.2',
      'iptables -R INPUT 1 -j DNAT --to-destination 2.2.2.2',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e12',
    steps: [
      'iptables -A INPUT -m statistic --mode nth --every 3 --packet 3',
      'iptables -A INPUT -m statistic --mode nth --every 3 --packet 2',
      'iptables -A INPUT -m statistic --mode nth ! --every 3 --packet 2',
      'iptables -A INPUT -m statistic --mode nth --packet 2',
      'iptables -A INPUT -m statistic --mode random ! --probability 0.25',
      'iptables -A INPUT -m statistic --mode random --probability 0.5 --every 2',
      'iptables -A INPUT -m statistic --mode nth --every 0 --packet 0',
      'iptables -A INPUT -m statistic --mode random --probability abc',
      'iptables -A INPUT -m statistic --mode random --probability 0.1234567890123',
      'iptables -A INPUT -m addrtype',
      'iptables -A INPUT -m addrtype --src-type FOO',
      'iptables -A INPUT -m addrtype --src-type LOCAL --src-type UNICAST',
      'iptables -A INPUT -m addrtype --src-type LOCAL --limit-iface-in --limit-iface-out',
      'iptables -A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-in',
      'iptables -N U',
      'iptables -A U -m addrtype --dst-type LOCAL --limit-iface-out',
      'iptables -A INPUT -j U',
      'iptables -A INPUT -m addrtype --src-type blackhole,unreachable,prohibit,throw,nat,xresolve,unspec,anycast,multicast',
      'iptables -A INPUT -m conntrack',
      'iptables -A INPUT -m conntrack --ctstate FOO',
      'iptables -A INPUT -m conntrack --ctstatus FOO',
      'iptables -A INPUT -m conntrack --ctproto udp --ctorigsrc 1.2.3.4/16',
      'iptables -A INPUT -m conntrack --ctproto bogus',
      'iptables -A INPUT -m conntrack --ctexpire 20:10',
      'iptables -A INPUT -m conntrack --ctexpire x',
      'iptables -A INPUT -m conntrack --ctdir FOO',
      'iptables -A INPUT -m conntrack --ctorigsrcport 10:5',
      'iptables -A INPUT -m conntrack --ctorigsrc foo.bar',
      'iptables -A INPUT -m conntrack --ctstate NEW --ctstate NEW',
      'iptables -A INPUT -m conntrack ! --ctproto 17 ! --ctexpire 3 ! --ctdir ORIGINAL',
      'iptables -A INPUT -m conntrack --ctorigsrcport http',
      'iptables -A INPUT -m state',
      'iptables -A INPUT -m state --state new,untracked',
      'iptables -A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15',
      'iptables -A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16',
      'iptables -A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15',
      'iptables -A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16',
      'iptables -A INPUT -p tcp -m multiport --dports 5:3',
      'iptables -A INPUT -p tcp -m multiport --dports foo',
      'iptables -A INPUT -p tcp -m multiport',
      'iptables -A INPUT -p tcp -m multiport --sports 1 --dports 2',
      'iptables -A INPUT ! -p tcp -m multiport --dports 2',
      'iptables -A INPUT -p udp -m multiport --ports 53,http',
      'iptables -A INPUT -p tcp -m multiport --dports 80,80',
      'iptables -A INPUT -p icmp --icmp-type echo',
      'iptables -A INPUT -p icmp --icmp-type foo',
      'iptables -A INPUT -p icmp --icmp-type 300',
      'iptables -A INPUT -p icmp --icmp-type 3/300',
      'iptables -A INPUT -p icmp --icmp-type Echo-Request',
      'iptables -A INPUT -p icmp --icmp-type ping',
      'iptables -A INPUT -p icmp --icmp-type 0',
      'iptables -A INPUT -p icmp --icmp-type 3/0',
      'iptables -A INPUT -p icmp --icmp-type 11',
      'iptables -A INPUT -m icmp --icmp-type 8',
      'iptables -A INPUT -p icmp',
      'iptables -A INPUT -p icmp -m icmp',
      'iptables -A INPUT -p udp --sport 5 --dport 6 --sport 7',
      'iptables -A INPUT -p tcp --tcp-option 5',
      'iptables -A INPUT -p tcp ! --tcp-option 5 --syn',
      'iptables -A INPUT -p tcp --sport 0 --dport 65535',
      'iptables -L INPUT',
      'iptables -L INPUT -n',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e13',
    steps: [
      'iptables -A INPUT -p udp --dport 99999',
      'iptables -A INPUT -p udp --dport 5:3',
      'iptables -A INPUT -p udp --dport foo',
      'iptables -A INPUT -p udp --dport 5:',
      'iptables -A INPUT -p udp --dport :5',
      'iptables -A INPUT -p udp ! --dport 1:65535',
      'iptables -A INPUT -m udp --dport 53',
      'iptables -A INPUT -p tcp --dport 0x50',
      'iptables -A INPUT -p udp --sport 0x35',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4 --to-destination 5.6.7.8',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination foo',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:foo',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:90-80',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.9-1.2.3.4',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/100',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination ""',
      'iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4 --random-fully',
      'iptables -t nat -A POSTROUTING -j MASQUERADE --to-ports 1000-500',
      'iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports foo',
      'iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random-fully',
      'iptables -t nat -A POSTROUTING -j MASQUERADE --random',
      'iptables -t nat -A POSTROUTING -j SNAT',
      'iptables -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4 --to-source 1.2.3.5',
      'iptables -A INPUT -j REJECT --reject-with foo',
      'iptables -A INPUT -j REJECT --reject-with net-unreach',
      'iptables -A INPUT -j REJECT --reject-with icmp',
      'iptables -A INPUT -j REJECT --reject-with ADMIN-prohib',
      'iptables -A INPUT -p tcp -j REJECT --reject-with tcp-rst',
      'iptables -A INPUT -j REJECT --reject-with echo-reply',
      'iptables -A INPUT -j LOG --log-prefix ""',
      'iptables -A INPUT -j LOG --log-prefix \'a"b\' --log-level warning --log-uid --log-uid',
      'iptables -A INPUT -j LOG --log-level error',
      'iptables -A INPUT -j LOG --log-level 3',
      'iptables -A INPUT -j LOG --log-level panic',
      'iptables -A INPUT -j LOG --log-level Info',
      'iptables -t nat -L -n',
      'iptables -L INPUT',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e14',
    steps: [
      'iptables -X; s',
      'iptables -E A B; s',
      'iptables -F; s',
      'iptables -Z; s',
      'iptables -R INPUT 1 -j ACCEPT; s',
      'iptables -C INPUT -j ACCEPT; s',
      'iptables -D INPUT 1; s;  t -L -Z; s',
      'iptables -N X; s',
      'iptables -D INPUT 5',
      'iptables -R INPUT 1 -j ACCEPT',
      'iptables -I INPUT 2 -j ACCEPT',
      'iptables -A INPUT -j ACCEPT',
      'iptables -D INPUT 1',
      'iptables -D INPUT 5',
      'iptables -t nat -P FOO DROP',
      'iptables -t nat -P FOO ACCEPT',
      'iptables -P X FOO',
      'iptables -P INPUT FOO',
      'iptables -S -n',
      'iptables -L -c 1 2',
      'iptables -P INPUT ACCEPT -c 5 6',
      'iptables -P INPUT DROP extra',
      'iptables -N Y',
      'iptables -A X -j Y',
      'iptables -E Y Z; iptables -S',
      'iptables -L X 1 -n --line-numbers',
      'iptables -X Z',
      'iptables -F X',
      'iptables -X Z',
      'iptables -X',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's2/e15',
    steps: [
      'iptables -N X',
      'iptables -Z INPUT',
      'iptables -Z',
      'iptables -F INPUT',
      'iptables -L -Z',
      'iptables -Z INPUT 1',
      'iptables -X INPUT',
      'iptables -P INPUT DROP',
      'iptables -Z INPUT',
      'iptables -L INPUT -Z',
      'iptables -X INPUT',
      'iptables -P INPUT ACCEPT',
      'iptables -X INPUT',
      'iptables -S',
      'iptables -A FORWARD -j ACCEPT',
      'iptables -F FORWARD',
      'iptables -X FORWARD; iptables -S; iptables-save',
      'iptables -Z FORWARD',
      'iptables -t nat -N Q',
      'iptables -t nat -Z PREROUTING ',
      'iptables-save',
      'iptables -L -n -v',
      'iptables -t nat -L',
      'iptables -S',
    ],
  },
  {
    name: 's9/nft-merges-tcp-udp',
    steps: [
      'iptables -A INPUT -p tcp -m tcp -m tcp --dport 84',
      'iptables -A INPUT -p udp ! --sport 68 -m udp ! --dport 67',
      'iptables -A INPUT -p tcp --sport 1 -m tcp --dport 2',
      'iptables -A INPUT -p tcp -m tcp --sport 1 -m comment --comment x -m tcp --dport 2',
      'iptables -A INPUT -p tcp -m tcp --dport 2 -m tcp',
      'iptables -A INPUT -p tcp -m tcp --sport 1 -m tcp --sport 2',
      'iptables -A INPUT -p tcp -m tcp --syn -m tcp --dport 2',
      'iptables -A INPUT -p tcp -m tcp --dport 1 -m multiport --dports 2 -m tcp --sport 3',
      'iptables -A INPUT -p tcp -m tcp --dport 1 -m tcp --tcp-flags SYN SYN',
      'iptables -A INPUT -p tcp -m tcp --tcp-flags SYN SYN -m tcp --dport 1',
      'iptables -A INPUT -p tcp -m tcp --tcp-option 2 -m tcp --dport 1',
      'iptables -A INPUT -p tcp -m tcp -m comment --comment y',
      'iptables -A INPUT -p tcp -m tcp --dport 5 -m tcp --dport 6',
      'iptables -A INPUT -p udp -m udp --dport 5 -m udp --sport 6 -m udp',
      'iptables -A INPUT -p tcp -m comment --comment a -m tcp -m comment --comment b -m tcp --dport 9',
      'iptables-save',
      'iptables -L -n',
    ],
  },
  {
    name: 's11/save-and-restore-options',
    steps: [
      'iptables-save',
      'iptables-save -t security',
      'iptables-save -t bogus',
      'iptables-save extra',
      'iptables-save --bogus',
      'iptables-save -z',
      'iptables-save -V',
      'iptables -t raw -N X',
      'iptables-save --table=raw --counters',
      'iptables-save -tnat',
      'iptables-save -c -t raw',
      'iptables-restore -V',
      'iptables-restore --bogus',
      'iptables-restore -z',
      'iptables-restore nofile',
      'iptables -V',
      'iptables --version',
      'iptables -h',
      'iptables',
      'iptables -t raw -L -Z',
      'iptables -t mangle -L -Z',
      'iptables -t mangle -Z',
      'iptables-save',
    ],
  },
];

export interface Ruleset {
  name: string;
  /** ipsets to create first ([name, type]), for `-m set`. */
  ipsets?: [string, string][];
  /** iptables-restore input. */
  text: string;
  /** Big: check the save text and one listing only. */
  brief?: boolean;
}

/** kube-proxy's current layout (≈ v1.26+) as restore input: ClusterIP, externalIP, LB with
 *  source ranges, NodePort, eTP=Local, session affinity, two endpoints, no-endpoint REJECT. */
const KUBE_CURRENT = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-PROXY-CANARY - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3006 -j REJECT
-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-PROXY-CANARY - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
:KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --set --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255.255.255.255 --rsource -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:KUBE-PROXY-CANARY - [0:0]
COMMIT
`;

/** kube-proxy v1.19 (the article's minikube node) with kubelet's chains, as restore input. */
const KUBE_LEGACY = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-MARK-DROP - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-2IRACUALRELARSND - [0:0]
:KUBE-SEP-AO6KYGU752IZFEZ4 - [0:0]
:KUBE-SEP-PJFBSHHDX4VZAOXM - [0:0]
:KUBE-XLB-2IRACUALRELARSND - [0:0]
:KUBE-SEP-5T4S2ILYSXWY3R2J - [0:0]
:KUBE-FW-2IRACUALRELARSND - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
:KUBE-SEP-X3P2623AGDH6CDF3 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.103.46.104/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 10.103.46.104/32 -p tcp -m comment --comment "default/webapp cluster IP" -m tcp --dport 80 -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-SERVICES -d 192.168.99.200/32 -p tcp -m comment --comment "default/webapp external IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 192.168.99.200/32 -p tcp -m comment --comment "default/webapp external IP" -m tcp --dport 80 -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-SERVICES -d 192.168.99.200/32 -p tcp -m comment --comment "default/webapp external IP" -m tcp --dport 80 -m addrtype --dst-type LOCAL -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-SERVICES -d 203.0.113.10/32 -p tcp -m comment --comment "default/webapp loadbalancer IP" -m tcp --dport 80 -j KUBE-FW-2IRACUALRELARSND
-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -s 127.0.0.0/8 -p tcp -m comment --comment "default/webapp" -m tcp --dport 30080 -j KUBE-MARK-MASQ
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/webapp" -m tcp --dport 30080 -j KUBE-XLB-2IRACUALRELARSND
-A KUBE-FW-2IRACUALRELARSND -m comment --comment "default/webapp loadbalancer IP" -s 203.0.113.0/24 -j KUBE-XLB-2IRACUALRELARSND
-A KUBE-FW-2IRACUALRELARSND -m comment --comment "default/webapp loadbalancer IP" -j KUBE-MARK-DROP
-A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AO6KYGU752IZFEZ4
-A KUBE-SVC-2IRACUALRELARSND -m comment --comment "default/webapp" -j KUBE-SEP-PJFBSHHDX4VZAOXM
-A KUBE-SEP-AO6KYGU752IZFEZ4 -s 10.244.120.102/32 -m comment --comment "default/webapp" -j KUBE-MARK-MASQ
-A KUBE-SEP-AO6KYGU752IZFEZ4 -p tcp -m comment --comment "default/webapp" -m tcp -j DNAT --to-destination 10.244.120.102:80
-A KUBE-SEP-PJFBSHHDX4VZAOXM -s 10.244.120.103/32 -m comment --comment "default/webapp" -j KUBE-MARK-MASQ
-A KUBE-SEP-PJFBSHHDX4VZAOXM -p tcp -m comment --comment "default/webapp" -m tcp -j DNAT --to-destination 10.244.120.103:80
-A KUBE-XLB-2IRACUALRELARSND -s 10.244.0.0/16 -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "masquerade LOCAL traffic for default/webapp LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "route LOCAL traffic for default/webapp LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-2IRACUALRELARSND
-A KUBE-XLB-2IRACUALRELARSND -m comment --comment "Balancing rule 0 for default/webapp" -j KUBE-SEP-5T4S2ILYSXWY3R2J
-A KUBE-SEP-5T4S2ILYSXWY3R2J -s 10.244.120.111/32 -m comment --comment "default/webapp" -j KUBE-MARK-MASQ
-A KUBE-SEP-5T4S2ILYSXWY3R2J -p tcp -m comment --comment "default/webapp" -m tcp -j DNAT --to-destination 10.244.120.111:80
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -j KUBE-SEP-X3P2623AGDH6CDF3
-A KUBE-SEP-X3P2623AGDH6CDF3 -s 10.244.0.2/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-X3P2623AGDH6CDF3 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.2:53
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -s 10.244.0.0/16 -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-FORWARD -d 10.244.0.0/16 -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-SERVICES -d 10.105.0.5/32 -p tcp -m comment --comment "default/auth has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/auth has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 31999 -j REJECT --reject-with icmp-port-unreachable
COMMIT
`;

const CALICO = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:cali-PREROUTING - [0:0]
:cali-OUTPUT - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000
-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000
-A cali-PREROUTING -m comment --comment "cali:Ha9Yo3N8NUYdAb4m" -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP
-A cali-OUTPUT -m comment --comment "cali:njdnLwYeGqBJyh_E" -j MARK --set-xmark 0x0/0xf0000
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:cali-PREROUTING - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
-A cali-PREROUTING -m comment --comment "cali:6BJqBjBC7crtA-7-" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-PREROUTING -m comment --comment "cali:KX7AGNd6rMcDUai6" -m mark --mark 0x10000/0x10000 -j ACCEPT
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:cali-FORWARD - [0:0]
:cali-INPUT - [0:0]
:cali-OUTPUT - [0:0]
:cali-from-hep-forward - [0:0]
:cali-from-wl-dispatch - [0:0]
:cali-to-wl-dispatch - [0:0]
:cali-to-hep-forward - [0:0]
:cali-cidr-block - [0:0]
:cali-wl-to-host - [0:0]
:cali-tw-cali95aa86cbb2a - [0:0]
:cali-fw-cali95aa86cbb2a - [0:0]
:cali-pi-_tTE-E7yY40ogArNVgKt - [0:0]
:cali-pri-kns.default - [0:0]
:cali-pri-ksa.default.default - [0:0]
:cali-pro-kns.default - [0:0]
:cali-pro-ksa.default.default - [0:0]
-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT
-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000
-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000
-A cali-FORWARD -m comment --comment "cali:A_sPAO0mcxbT9mOV" -m mark --mark 0x0/0x10000 -j cali-from-hep-forward
-A cali-FORWARD -i cali+ -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch
-A cali-FORWARD -o cali+ -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch
-A cali-FORWARD -m comment --comment "cali:12bc6HljsMKsmfr-" -j cali-to-hep-forward
-A cali-FORWARD -m comment --comment "cali:NOSxoaGx8OIstr1z" -j cali-cidr-block
-A cali-INPUT -i cali+ -m comment --comment "cali:FewJpBykm9iJ-YNH" -g cali-wl-to-host
-A cali-INPUT -m comment --comment "cali:hder3ARWznqqv8Va" -m mark --mark 0x10000/0x10000 -j ACCEPT
-A cali-OUTPUT -o cali+ -m comment --comment "cali:Mq1_rAdXXH3YkrzW" -j RETURN
-A cali-from-wl-dispatch -i cali95aa86cbb2a -m comment --comment "cali:GRcxhnQnRAbRsGmG" -g cali-fw-cali95aa86cbb2a
-A cali-from-wl-dispatch -m comment --comment "cali:zTj6P0TIgYvgz-md" -m comment --comment "Unknown interface" -j DROP
-A cali-to-wl-dispatch -o cali95aa86cbb2a -m comment --comment "cali:eU0wt1d8oOqP7TwZ" -g cali-tw-cali95aa86cbb2a
-A cali-to-wl-dispatch -m comment --comment "cali:7KNphB1nNHw80nIO" -m comment --comment "Unknown interface" -j DROP
-A cali-wl-to-host -m comment --comment "cali:Ee9Sbo10IpVujdIY" -j cali-from-wl-dispatch
-A cali-wl-to-host -m comment --comment "cali:nSZbcOoG1xPONxb8" -m comment --comment "Configured DefaultEndpointToHostAction" -j ACCEPT
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:eCrqwxNk3cKw9Eq6" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:_krp5nzavhAu5avJ" -m conntrack --ctstate INVALID -j DROP
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:Cu-tVtfKKu413YTT" -j MARK --set-xmark 0x0/0x30000
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:leBL64hpAXM9y4nk" -m comment --comment "Start of tier default" -j MARK --set-xmark 0x0/0x20000
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:pm-LK-c1ra31tRwz" -m mark --mark 0x0/0x20000 -j cali-pi-_tTE-E7yY40ogArNVgKt
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:q_zG8dAujKUIBe0Q" -m comment --comment "Return if policy accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:FUDVBYh1Yr6tVRgq" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:Dj7cpVMqWvVoURSU" -j cali-pri-kns.default
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:SgD4eoAhzWkyIz7N" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:7JM7m1IoZrpXFI8d" -j cali-pri-ksa.default.default
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:fE0TCNsQQdNO6wCm" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali95aa86cbb2a -m comment --comment "cali:PpTy-6kxlJpTRCnO" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:qOz_r81nxc8lQQUb" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:LYQmFjbEUnoCDM2t" -m conntrack --ctstate INVALID -j DROP
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:3HHG8rNpQD1qNp2n" -j MARK --set-xmark 0x0/0x30000
-A cali-fw-cali95aa86cbb2a -p udp -m comment --comment "cali:sOFCaA0fhYlnRk9S" -m comment --comment "Drop VXLAN encapped packets originating in workloads" -m multiport --dports 4789 -j DROP
-A cali-fw-cali95aa86cbb2a -p ipencap -m comment --comment "cali:6ywGWbNxkIaGmOnh" -m comment --comment "Drop IPinIP encapped packets originating in workloads" -j DROP
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:ctbuEzlxNrBmdQVJ" -j cali-pro-kns.default
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:0mc2uwCn9QWX7Xhd" -m comment --comment "Return if profile accepted" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali95aa86cbb2a -m comment --comment "cali:uMMMVo3CUEfmzLsX" -m comment --comment "Drop if no profiles matched" -j DROP
-A cali-pi-_tTE-E7yY40ogArNVgKt -m comment --comment "cali:M4Und37HGrw6jUk8" -m comment --comment "Policy default/knp.default.allow-db-access ingress" -m set --match-set cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge src -j MARK --set-xmark 0x10000/0x10000
-A cali-pi-_tTE-E7yY40ogArNVgKt -p tcp -m comment --comment "cali:m7XuJzRSPHDuXcBh" -m set --match-set cali40n:ix7GIeORsoX2Tlw7HKdBYhz dst,dst -j MARK --set-xmark 0x10000/0x10000
-A cali-pi-_tTE-E7yY40ogArNVgKt -p tcp -m comment --comment "cali:Xrc3J2h66rEWzXOP" -m set --match-set cali40s:sgrnArs0Gn6pf2glwLBmNCs src -m multiport --dports 81,443,8000:8080 -j MARK --set-xmark 0x10000/0x10000
-A cali-pri-kns.default -m comment --comment "cali:7Fnh7Pv3_98FtLW7" -m comment --comment "Profile kns.default ingress" -j MARK --set-xmark 0x10000/0x10000
-A cali-pri-ksa.default.default -m comment --comment "cali:zKdiyMQoq_rCQVqJ" -m comment --comment "Profile ksa.default.default ingress"
-A cali-pro-kns.default -m comment --comment "cali:oLzzje5WExbgfib5" -m comment --comment "Profile kns.default egress" -j MARK --set-xmark 0x10000/0x10000
-A cali-pro-ksa.default.default -m comment --comment "cali:4wvVcZDsrDQAPi0Z" -m comment --comment "Profile ksa.default.default egress"
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:cali-PREROUTING - [0:0]
:cali-OUTPUT - [0:0]
:cali-POSTROUTING - [0:0]
:cali-fip-dnat - [0:0]
:cali-fip-snat - [0:0]
:cali-nat-outgoing - [0:0]
-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING
-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat
-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat
-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing
-A cali-POSTROUTING -o tunl0 -m comment --comment "cali:SXWvdsbh4Mw7wOln" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully
-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat
-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully
COMMIT
`;

const CALICO_SETS: [string, string][] = [
  ['cali40s:LrVD8vMIGQDyv8Y7sPFB1Ge', 'hash:net'],
  ['cali40s:sgrnArs0Gn6pf2glwLBmNCs', 'hash:net'],
  ['cali40n:ix7GIeORsoX2Tlw7HKdBYhz', 'hash:ip,port'],
  ['cali40masq-ipam-pools', 'hash:net'],
  ['cali40all-ipam-pools', 'hash:net'],
];

/** A kube-proxy nat table of `n` single-endpoint services (as kube-proxy writes it). */
function kubeServices(n: number): string {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules = ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'];
  for (let i = 0; i < n; i++) {
    const svc = `KUBE-SVC-${String(i).padStart(16, 'A')}`;
    const sep = `KUBE-SEP-${String(i).padStart(16, 'B')}`;
    const vip = `10.96.${i >> 8}.${i & 255}`;
    const ep = `10.244.${i >> 8}.${i & 255}`;
    lines.push(`:${svc} - [0:0]`, `:${sep} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -m comment --comment "ns/svc${i}:http cluster IP" -m tcp -p tcp -d ${vip} --dport ${80 + (i % 50)} -j ${svc}`,
      `-A ${svc} -m comment --comment "ns/svc${i}:http cluster IP" -m tcp -p tcp -d ${vip} --dport ${80 + (i % 50)} ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
      `-A ${svc} -m comment --comment "ns/svc${i}:http -> ${ep}:8080" -j ${sep}`,
      `-A ${sep} -m comment --comment ns/svc${i}:http -s ${ep} -j KUBE-MARK-MASQ`,
      `-A ${sep} -m comment --comment ns/svc${i}:http -m tcp -p tcp -j DNAT --to-destination ${ep}:8080`,
    );
  }
  return [...lines, ...rules, 'COMMIT', ''].join('\n');
}

/** kube-proxy's load balancing over n endpoints: probabilities 1/n ... 1/2. */
function kubeProbabilities(n: number): string {
  const lines = ['*nat', ':KUBE-SVC-PROB - [0:0]'];
  const rules: string[] = [];
  for (let e = 0; e < n; e++) {
    lines.push(`:KUBE-SEP-PROB${e} - [0:0]`);
    const left = n - e;
    const prob = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
    rules.push(`-A KUBE-SVC-PROB -m comment --comment "ns/svc -> 10.0.0.${e + 1}:80"${prob} -j KUBE-SEP-PROB${e}`);
    rules.push(`-A KUBE-SEP-PROB${e} -m tcp -p tcp -j DNAT --to-destination 10.0.0.${e + 1}:80`);
  }
  return [...lines, ...rules, 'COMMIT', ''].join('\n');
}

export const RULESETS: Ruleset[] = [
  { name: 'kube-proxy current layout (nat+filter+mangle)', text: KUBE_CURRENT, ipsets: [] },
  { name: 'kube-proxy v1.19 layout with kubelet chains', text: KUBE_LEGACY },
  { name: 'Calico v3.28 (raw, mangle, filter, nat) with ipsets', text: CALICO, ipsets: CALICO_SETS },
  { name: 'kube-proxy, 40 services', text: kubeServices(40), brief: true },
  { name: 'kube-proxy probabilities over 10 endpoints', text: kubeProbabilities(10) },
  {
    name: 'host firewall: conntrack, multiport, icmp, REJECT, LOG',
    text: `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j LOGDROP
-A INPUT -p icmp --icmp-type echo-request -m comment --comment ping -j ACCEPT
-A INPUT -p icmp --icmp-type 3/4 -j ACCEPT
-A INPUT -p icmp ! --icmp-type time-exceeded -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,80,443,8000:8080 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p udp -m multiport --sports 53,123 -j ACCEPT
-A INPUT -p udp ! --dport 137:139 -j ACCEPT
-A INPUT -s 192.168.0.0/16 ! -d 192.168.1.1 -p tcp --syn -j REJECT --reject-with tcp-reset
-A INPUT -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-admin-prohibited
-A LOGDROP -m limit --limit 5/min -j LOG --log-prefix "iptables dropped: " --log-level 4
-A LOGDROP -j LOG --log-prefix 'x' --log-level debug --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid
-A LOGDROP -j DROP
COMMIT
`,
  },
  {
    name: 'mangle marks',
    text: `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MARKS - [0:0]
-A PREROUTING -j MARKS
-A MARKS -j MARK --set-mark 0x1
-A MARKS -j MARK --set-mark 16/0xff
-A MARKS -j MARK --set-xmark 0x10/0x10
-A MARKS -j MARK --and-mark 0xffff
-A MARKS -j MARK --or-mark 0x4000
-A MARKS -j MARK --xor-mark 4
-A MARKS -j MARK --set-mark 0
-A MARKS -m mark --mark 0x1 -j RETURN
-A MARKS -m mark ! --mark 0x2/0x3 -j RETURN
-A OUTPUT -p tcp --sport 1024:65535 -j MARK --set-mark 0x100
COMMIT
`,
  },
  {
    name: 'nat targets: DNAT, SNAT, MASQUERADE with ranges',
    text: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080
-A PREROUTING -d 203.0.113.2 -p udp --dport 53 -j DNAT --to-destination 10.0.0.2-10.0.0.9 --random
-A PREROUTING -p tcp --dport 1000:2000 -j DNAT --to-destination :3000-4000 --persistent
-A PREROUTING -p sctp -j DNAT --to-destination 10.0.0.3
-A OUTPUT -d 10.96.0.1 -p tcp -j DNAT --to-destination 10.0.0.4:443
-A INPUT -p tcp -j SNAT --to-source 10.0.0.10
-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -o eth0 -j MASQUERADE
-A POSTROUTING -p tcp -o eth1 -j MASQUERADE --to-ports 10000-20000 --random
-A POSTROUTING -p udp -o eth1 -j MASQUERADE --to-ports 5000 --random-fully
-A POSTROUTING -o eth2 -j SNAT --to-source 192.0.2.1-192.0.2.5 --random-fully --persistent
-A POSTROUTING -p tcp -o eth3 -j SNAT --to-source 192.0.2.9:1024-65535
COMMIT
`,
  },
  {
    name: 'raw and security tables',
    text: `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp --dport 53 -j ACCEPT
-A OUTPUT -p udp --sport 53 -j ACCEPT
COMMIT
*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
-A OUTPUT -j ACCEPT
COMMIT
`,
  },
  {
    name: 'interfaces, fragments and negations',
    text: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i eth0 -j ACCEPT
-A INPUT ! -i eth+ -j ACCEPT
-A INPUT -i veth1234567890a -j ACCEPT
-A FORWARD -i cali+ -o tunl0 -j ACCEPT
-A FORWARD ! -i docker0 ! -o docker0 -j DROP
-A FORWARD -f -j DROP
-A FORWARD ! -f -p tcp -j ACCEPT
-A OUTPUT ! -o lo ! -s 127.0.0.0/8 ! -d 10.0.0.0/255.0.0.0 -j ACCEPT
-A OUTPUT -s 10.1.2.3/16 -d 0.0.0.0/0 -j ACCEPT
-A OUTPUT -s 1.2.3.4/0 -j ACCEPT
COMMIT
`,
  },
  {
    name: 'protocols by name and number',
    text: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -j ACCEPT
-A INPUT -p 6 -j ACCEPT
-A INPUT -p TCP -j ACCEPT
-A INPUT -p udp -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p gre -j ACCEPT
-A INPUT -p 47 -j ACCEPT
-A INPUT -p esp -j ACCEPT
-A INPUT -p ah -j ACCEPT
-A INPUT -p sctp -j ACCEPT
-A INPUT -p ipencap -j ACCEPT
-A INPUT -p 4 -j ACCEPT
-A INPUT -p 250 -j ACCEPT
-A INPUT -p all -j ACCEPT
-A INPUT ! -p udp -j ACCEPT
-A INPUT -p vrrp -j ACCEPT
COMMIT
`,
  },
  {
    name: 'statistic random and nth',
    text: `*nat
:PREROUTING ACCEPT [0:0]
:S - [0:0]
-A PREROUTING -j S
-A S -m statistic --mode random --probability 0.5 -j RETURN
-A S -m statistic --mode random --probability 0.3333333333 -j RETURN
-A S -m statistic --mode random --probability 0.1428571429 -j RETURN
-A S -m statistic --mode random ! --probability 0.01 -j RETURN
-A S -m statistic --mode random --probability 1 -j RETURN
-A S -m statistic --mode random --probability 0.000244140625 -j RETURN
-A S -m statistic --mode nth --every 2 --packet 0 -j RETURN
-A S -m statistic --mode nth --every 5 --packet 4 -j RETURN
-A S -m statistic --mode nth ! --every 3 --packet 1 -j RETURN
COMMIT
`,
  },
  {
    name: 'comments that need quoting',
    text: `*filter
:INPUT ACCEPT [0:0]
-A INPUT -m comment --comment plain -j ACCEPT
-A INPUT -m comment --comment "two words" -j ACCEPT
-A INPUT -m comment --comment "slash/and:colon" -j ACCEPT
-A INPUT -m comment --comment "quote \\" inside" -j ACCEPT
-A INPUT -m comment --comment "back\\\\slash" -j ACCEPT
-A INPUT -m comment --comment "it's" -j ACCEPT
-A INPUT -m comment --comment "" -j ACCEPT
-A INPUT -m comment --comment "under_score-and-dash123" -j ACCEPT
-A INPUT -m comment --comment "ünïcode ✓" -j ACCEPT
-A INPUT -m comment --comment "a" -m comment --comment "b c" -j ACCEPT
COMMIT
`,
  },
  {
    name: 'many user chains sort by name',
    text: `*filter
:INPUT ACCEPT [0:0]
:zeta - [0:0]
:Alpha - [0:0]
:alpha - [0:0]
:_under - [0:0]
:a-very-long-chain-name-28chr - [0:0]
:KUBE-SVC-B - [0:0]
:KUBE-SVC-A - [0:0]
:cali-x - [0:0]
:0digit - [0:0]
-A INPUT -j zeta
-A zeta -j alpha
-A alpha -j Alpha
-A Alpha -j _under
-A _under -j a-very-long-chain-name-28chr
-A a-very-long-chain-name-28chr -j KUBE-SVC-B
-A KUBE-SVC-B -j KUBE-SVC-A
-A KUBE-SVC-A -g cali-x
-A cali-x -j 0digit
-A 0digit -j RETURN
COMMIT
`,
  },
  {
    name: 'addrtype forms',
    text: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j RETURN
-A PREROUTING -m addrtype --src-type LOCAL,UNICAST ! --dst-type BROADCAST --limit-iface-in -j RETURN
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j RETURN
-A POSTROUTING -m addrtype ! --src-type LOCAL --limit-iface-out -j RETURN
-A POSTROUTING -m addrtype --src-type unspec,anycast,multicast,blackhole,unreachable,prohibit,throw,nat,xresolve -j RETURN
COMMIT
`,
  },
  {
    name: 'tcp flags, options and ports',
    text: `*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp --sport 1:1024 --dport 80 -j ACCEPT
-A INPUT -p tcp ! --dport 80:90 --tcp-flags SYN,ACK SYN -j ACCEPT
-A INPUT -p tcp --syn -j DROP
-A INPUT -p tcp ! --syn -j DROP
-A INPUT -p tcp --tcp-flags ALL NONE -j DROP
-A INPUT -p tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG FIN,PSH,URG -j DROP
-A INPUT -p tcp --dport 0:65535 -j DROP
-A INPUT -p tcp --sport :100 --dport 100: -j DROP
-A INPUT -p tcp --tcp-option 5 -j DROP
-A INPUT -p tcp ! --tcp-option 2 --dport https -j DROP
-A INPUT -p tcp -m tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p udp --sport 53 --dport 1024: -j ACCEPT
-A INPUT -p udp ! --sport 68 -m udp ! --dport 67 -j ACCEPT
COMMIT
`,
  },
  {
    name: 'conntrack options',
    text: `*filter
:INPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED,SNAT,DNAT -j ACCEPT
-A INPUT -m conntrack ! --ctstate NEW --ctstatus ASSURED,SEEN_REPLY --ctproto tcp -j ACCEPT
-A INPUT -m conntrack --ctorigsrc 10.0.0.0/8 ! --ctorigdst 1.2.3.4 --ctreplsrc 1.1.1.1/24 --ctrepldst 2.2.2.2 -j ACCEPT
-A INPUT -m conntrack --ctorigsrcport 10 --ctorigdstport 20:30 ! --ctreplsrcport 40 --ctrepldstport 50 --ctdir ORIGINAL -j ACCEPT
-A INPUT -m conntrack --ctexpire 10:20 ! --ctstatus NONE,EXPECTED,CONFIRMED -j ACCEPT
-A INPUT -m conntrack --ctdir REPLY --ctexpire 5 -j ACCEPT
-A INPUT -m conntrack --ctstate new,est -j ACCEPT
-A INPUT -m conntrack --ctproto udp --ctorigsrc 10.1.2.3/255.255.0.0 -j ACCEPT
COMMIT
`,
  },
  {
    name: 'policies and counters',
    text: `*filter
:INPUT DROP [10:600]
:FORWARD ACCEPT [20:1200]
:OUTPUT DROP [0:0]
:USER - [5:5]
[1:60] -A INPUT -j USER
[2:120] -A USER -p tcp -j ACCEPT
-A OUTPUT -c 3 180 -j ACCEPT
COMMIT
`,
  },
  {
    name: 'goto and jumps between user chains',
    text: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:dispatch - [0:0]
:wl-a - [0:0]
:wl-b - [0:0]
-A FORWARD -i cali+ -j dispatch
-A dispatch -i cali1 -g wl-a
-A dispatch -i cali2 -g wl-b
-A dispatch -j DROP
-A wl-a -p tcp --dport 80 -j ACCEPT
-A wl-a -j RETURN
-A wl-b -m mark --mark 0x10000/0x10000 -g wl-a
COMMIT
`,
  },
  {
    name: 'all five tables in one file, mixed orders',
    text: `*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.9.9.9:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
-A INPUT -s 10.9.0.0/16 -j ACCEPT
COMMIT
*security
:OUTPUT ACCEPT [0:0]
-A OUTPUT -j ACCEPT
COMMIT
*raw
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.9.9.9 -j ACCEPT
COMMIT
*mangle
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MARK --set-mark 7
COMMIT
`,
  },
  {
    name: 'commands inside a restore file',
    text: `*filter
:INPUT ACCEPT [0:0]
:A - [0:0]
-N B
-A A -j ACCEPT
-I A -j DROP
-I A 2 -p udp -j ACCEPT
-A B -j RETURN
-A INPUT -j A
-D A 1
-P FORWARD DROP
-E B C
-A INPUT -s 1.1.1.1,2.2.2.2 -j A
-Z
COMMIT
`,
  },
];

const TABLES = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** A ruleset as a session: make its ipsets, restore it, then save and list every table. */
export function rulesetSession(r: Ruleset): Session {
  const steps: Step[] = (r.ipsets ?? []).map(([n, type]) => `ipset create ${n} ${type}`);
  steps.push({ cmd: 'iptables-restore', stdin: r.text }, 'iptables-save', 'iptables-save -c');
  if (r.brief) {
    steps.push('iptables -t nat -L -n -v --line-numbers');
    return { name: `ruleset: ${r.name}`, steps };
  }
  // Every table the ruleset has, and one it lacks (listed with its empty built-in chains).
  const has = TABLES.filter((t) => r.text.includes(`*${t}\n`));
  const lacks = TABLES.find((t) => !has.includes(t));
  for (const t of has) steps.push(`iptables -t ${t} -L`, `iptables -t ${t} -L -n -v --line-numbers`, `iptables -t ${t} -S -v`);
  if (lacks) steps.push(`iptables -t ${lacks} -L -v -x`, `iptables -t ${lacks} -S`);
  return { name: `ruleset: ${r.name}`, steps };
}

/** Every session: the command sessions and one per ruleset. */
export function allSessions(): Session[] {
  return [...SESSIONS, ...RULESETS.map(rulesetSession)];
}

/** Runs one step on the engine; ipset steps only declare sets (they print nothing). */
export function engineStep(nf: Netfilter, sets: Set<string>, st: Step): CommandResult | undefined {
  const argv = words(typeof st === 'string' ? st : st.cmd);
  const stdin = typeof st === 'string' ? '' : st.stdin;
  switch (argv[0]) {
    case 'iptables': return iptables(argv, stdin, nf);
    case 'iptables-save': return iptablesSave(argv, stdin, nf, 0);
    case 'iptables-restore': return iptablesRestore(argv, stdin, nf);
    case 'ipset':
      if (argv[1] === 'create') sets.add(argv[2]);
      return undefined;
    default:
      throw new Error(`no such command in a session: ${argv[0]}`);
  }
}

