// What the kubectl command needs from its surroundings: the cluster (a KubeStore, which also
// carries the cluster version, service CIDR, node-port range and the lab clock) and the files
// `-f FILE` may name (reading them is the caller's business; `-f -` reads stdin).

import type { KubeStore } from '../../kube/objects/store.ts';

export interface KubectlEnv {
  store: KubeStore;
  /** Contents of files by the path as typed after `-f`. */
  files?: Record<string, string>;
  /** The kubeconfig context's namespace (`default` unless set). */
  namespace?: string;
}
