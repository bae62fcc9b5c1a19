// The JSON of a trace (`kpl trace --json`, the app's stepper, saved traces): a public shape
// (the field names are an interface users' scripts read), shared by the engine that writes it
// and the renderer that shows it.

export type TraceOutcome = 'delivered' | 'refused' | 'dropped' | 'rejected' | 'unroutable';

export interface StepJson {
  host: string;
  hook?: string;
  table: string;
  chain: string;
  rule?: number | null;
  rule_spec?: string | null;
  matched?: boolean;
  verdict?: string | null;
  /** For a rule that did not match: the first test that failed, in words. */
  why?: string;
  /** For a rule that did not match: which test failed — -1 a core field (-s -d -i -o -p -f),
   *  else the index of its `-m` match (those before it passed, those after were not tested). */
  miss?: number;
  skipped?: number;
  from?: number;
  /** Why the rule exists, when a node agent (kube-proxy, Calico's Felix) wrote it. */
  origin?: StepOrigin;
}

/** The object behind a rule: which agent wrote it and for what. */
export type StepOrigin =
  | ({ agent: 'calico' } & CalicoOrigin)
  /** `service`: kube-proxy's service port name (`ns/name` or `ns/name:port`). */
  | { agent: 'kube-proxy'; kind: 'service'; service: string; role: string; address?: string }
  | { agent: 'kube-proxy'; kind: 'endpoint'; service: string; endpoint: string; role: string }
  | { agent: 'kube-proxy'; kind: 'node'; role: string; setting?: string };

/**
 * Why a rule of Felix's exists. `policy` is Calico's id (`ns/knp.default.NAME` for a Kubernetes
 * NetworkPolicy), `rule` its 0-based rule index (-1: none), `pod` namespace/name.
 */
export type CalicoOrigin =
  | { kind: 'static'; what: string }
  | { kind: 'dispatch'; pod: string; iface: string }
  | { kind: 'endpoint'; pod: string; iface: string; direction: 'ingress' | 'egress'; role: string; policy?: string; profile?: string }
  | { kind: 'policy'; policy: string; direction: 'ingress' | 'egress'; rule: number; peer?: number; role: string; selector?: string }
  | { kind: 'profile'; profile: string; direction: 'ingress' | 'egress' }
  | { kind: 'group'; policies: string[]; direction: 'ingress' | 'egress' }
  | { kind: 'pool'; pools: string[]; what: string };

export interface PacketJson {
  src: string;
  dst: string;
  proto: string;
  sport: number | null;
  dport: number | null;
  /** ICMP only. */
  icmp?: { type: number; code: number };
  /** TCP only: the flags set, as iptables names them, in its order (`SYN`, `SYN,ACK`, `RST`). */
  flags?: string;
}

export interface WalkJson {
  outcome: TraceOutcome;
  delivered: { host: string; ip: string; port: number | null } | null;
  dnat: string | null;
  snat: string | null;
  masquerade: boolean;
  reason: string;
  /** The packet as it was sent, and as it was when the walk ended (what the receiver saw). */
  packet: PacketJson;
  final: PacketJson;
  steps: StepJson[];
  /** `entry`: a conntrack or confirm event's entry as `conntrack -L` lists it then. */
  events: { host: string; kind: string; hook?: string; text: string; at: number; entry?: string }[];
}

export interface TraceJson extends WalkJson {
  seed: number;
  /** Only for a later packet of the connection (`later` in the request): which packet it is (2 =
   *  the first after the handshake or first exchange), and whether the connection opened at all
   *  (if not, the walks shown are the first packet's). */
  later?: { packet: number; opened: boolean };
  /** Only for a forked replay (what if): the walk was the base lab's until phase `phase`'s walk
   *  entered its host number `hop` (0: where it started), and the changed lab's from there on;
   *  `switched` false: the walks ended before that host. */
  fork?: { phase: 'packet' | 'reply' | 'ack'; hop: number; switched: boolean };
  reply: WalkJson | null;
  ack: WalkJson | null;
  outcomes: (WalkJson & { probability: number; reply: WalkJson | null })[];
}
