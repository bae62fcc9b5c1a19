// What the controllers (deployments, pods, endpoints) see of the store: typed lists of the live
// objects, and writes that go through the store's bookkeeping (uid, resourceVersion, events).

import type { Rng } from '../../random.ts';
import type { Kind, KubeObject, Pod, Service } from './types.ts';

export type ObjectOf<K extends Kind> = Extract<KubeObject, { kind: K }>;

export interface ControllerHost {
  readonly minor: number;
  readonly rng: Rng;
  /** Live objects (callers must not mutate them in place: use update). Sorted by namespace, name. */
  list<K extends Kind>(kind: K, namespace?: string): ObjectOf<K>[];
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): ObjectOf<K> | undefined;
  /** The live EndpointSlices of a namespace labelled with a Service's name, sorted by name. */
  slicesOf(namespace: string, service: string): ObjectOf<'EndpointSlice'>[];
  /** Stores a new object, filling uid, resourceVersion and creationTimestamp; returns the live object. */
  create<T extends KubeObject>(obj: T): T;
  /** Stores a changed object (a new resourceVersion). */
  update<T extends KubeObject>(obj: T): T;
  remove(kind: Kind, namespace: string | undefined, name: string): void;
  /** The lab clock as an RFC 3339 timestamp. */
  timestamp(): string;
  /** Order in which objects were created (for "newest first" decisions). */
  seqOf(obj: KubeObject): number;
}

export interface KubeHooks {
  /** The pod's IP once it runs on its node (the network engine's IPAM), or null for "not yet". */
  assignIp?(pod: Pod): string | null;
  /** Called when a pod that had an IP goes away. */
  releaseIp?(pod: Pod): void;
  /** Placement; return null to leave the pod Pending. Defaults to the lab's simple scheduler. */
  schedule?(pod: Pod): string | null;
  /** The cloud's address for a LoadBalancer Service without one, or null (no cloud: stays <pending>). */
  loadBalancerIP?(svc: Service): string | null;
}
