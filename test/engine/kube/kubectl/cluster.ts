// Test fixture: a minikube-like cluster in a KubeStore, with a lab clock the test moves, an IP
// hook that honours pinned addresses and otherwise counts up in 10.244.0.0/16, and a helper that
// runs kubectl with stdin.

import { KubeStore, type ClusterConfig } from '../../../../main/engine/kube/objects/store.ts';
import { makeNode } from '../../../../main/engine/kube/objects/node.ts';
import { Rng } from '../../../../main/engine/random.ts';
import { kubectl } from '../../../../main/engine/shell/kubectl/index.ts';
import type { CommandResult } from '../../../../main/engine/shell/types.ts';
import { ANN_POD_IP } from '../../../../main/engine/kube/objects/types.ts';

export interface Lab {
  store: KubeStore;
  clock: { t: number };
  run: (line: string | string[], stdin?: string, files?: Record<string, string>) => CommandResult;
}

export function makeLab(opts: { version?: string; nodes?: string[]; seed?: number; bootstrap?: boolean; config?: Partial<ClusterConfig> } = {}): Lab {
  const clock = { t: 0 };
  let next = 2;
  const store = new KubeStore(
    { version: opts.version ?? 'v1.19.2', ...(opts.config ?? {}) },
    {
      rng: new Rng(opts.seed ?? 42),
      clock: () => clock.t,
      hooks: { assignIp: (pod) => pod.metadata.annotations?.[ANN_POD_IP] ?? `10.244.0.${next++}` },
    },
  );
  if (opts.bootstrap !== false) store.bootstrap({ apiServer: '192.168.49.2' });
  (opts.nodes ?? []).forEach((name, i) =>
    store.apply(makeNode({ name, internalIP: `192.168.49.${i + 2}`, version: opts.version ?? 'v1.19.2', controlPlane: i === 0 })),
  );
  const run = (line: string | string[], stdin = '', files?: Record<string, string>) => {
    const argv = Array.isArray(line) ? line : line.split(' ');
    return kubectl(argv, stdin, { store, files });
  };
  return { store, clock, run };
}

/** The article's console blocks lose kubectl's third padding space; compare cell by cell. */
export function cells(text: string): string[][] {
  return text.trimEnd().split('\n').map((l) => l.trim().split(/ {2,}/));
}
