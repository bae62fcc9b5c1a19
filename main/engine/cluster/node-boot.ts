// What a minikube node holds before kube-proxy and Calico write anything: forwarding on, and
// the rules Docker (the node's container runtime, 19.03 in the v1.19 profile) installs at
// start — which is why the article's `iptables -t nat -L PREROUTING` ends with DOCKER.
// kube-proxy and Calico insert their jumps above these later.

export const DOCKER_RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
`;

/** Console commands that bring up a node's network (run once, when the node appears). */
export function nodeBootCommands(opts: { ip: string; prefixLen: number; gateway: string; tunnel: boolean }): { argv: string[]; stdin?: string }[] {
  const cmds: { argv: string[]; stdin?: string }[] = [
    { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] },
    { argv: ['ip', 'route', 'add', 'default', 'via', opts.gateway, 'dev', 'eth0'] },
    { argv: ['ip', 'link', 'add', 'docker0', 'type', 'dummy'] },
    { argv: ['ip', 'addr', 'add', '172.17.0.1/16', 'dev', 'docker0'] },
    { argv: ['iptables-restore', '--noflush'], stdin: DOCKER_RULES },
  ];
  if (opts.tunnel) {
    // The ipip module's fallback device, which Calico gives an address and brings up.
    cmds.push({ argv: ['ip', 'link', 'add', 'tunl0', 'type', 'ipip'] });
  }
  return cmds;
}
