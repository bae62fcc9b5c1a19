// A clock of counter writes, shared by every lab in the process: each path that may give a
// rule or a chain a count other than zero ticks it (a packet counted, `-c`, restore's
// `[p:b]`, policy counters, counters put back after a trace or from a saved lab). A pass that
// sets counters back to zero (kube-proxy rewriting its chains) notes the time of its last run
// on a host and skips looking at tens of thousands of rules when nothing was counted since.
// Ticks elsewhere only make such a pass look again: they never change what it does.

// `moves` ticks when counts may have gone to another chain's name (a chain renamed).

export const counterClock = { ticks: 0, moves: 0 };
